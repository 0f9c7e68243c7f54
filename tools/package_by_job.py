#!/usr/bin/env python3
"""Package ``course_tools`` by job: move its modules into subpackages and rewrite every reference to them.

    python3 tools/package_by_job.py            # from anywhere in the repository; then review `git status`
    python3 tools/package_by_job.py --check    # exit 1 if anything is left to move or rewrite (changes nothing)

The layout (``LAYOUT``) reads top to bottom: ``course_tools.cli`` and ``course_tools.course`` (the manifest)
at the top, then one subpackage per job. The script

1. ``git mv``-es each module (and the package data that goes with it) into its subpackage,
   creating the subpackages' ``__init__.py``;
2. rewrites every reference in the tracked text files of the repository (``SCOPES``): absolute and
   relative imports (``from . import a, b`` split by package), dotted names (``course_tools.judge.X``
   in code, strings, nbgrader configuration and prose), file paths (``src/course_tools/judge.py``),
   ``Path(__file__)`` climbs of the moved modules, and the package data in ``pyproject.toml``;
3. writes thin aliases for the documented ``python -m course_tools.X`` commands (``ALIASES``), so
   ``python -m course_tools.autograde`` and ``python -m course_tools.feedback`` keep working.

It is idempotent: run again, it finds nothing to move and nothing to rewrite. It was written to be run
by the lead on main after the other branches are merged: run it, run the tests, commit the result.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

# subpackage -> {old module name: new module name}, in the order the layout is read
LAYOUT: dict[str, dict[str, str]] = {
    "notebooks": {"cells": "cells", "authoring": "authoring", "generate": "generate", "grading_guard": "grading_guard"},
    "grading": {"autograde": "autograde", "batch": "batch", "grading": "submission", "rebuild": "rebuild",
                "judge": "judge", "judged_autograde": "judged_autograde", "review": "review", "sandbox": "sandbox",
                "seccomp_filter": "seccomp_filter", "cgroups": "cgroups", "output_budget": "output_budget",
                "nbgrader_apps": "nbgrader_apps", "gradebook": "gradebook", "cluster": "cluster"},
    "publish": {"feedback": "feedback", "peer_review": "peer_review", "reader_edition": "reader_edition",
                "vendored_assets": "vendored_assets", "student_bundle": "student_bundle", "exchange": "exchange",
                "lms_export": "lms_export", "mastery": "mastery"},
    "demo": {"demo": "tour", "sample_class": "sample_class"},
}
PACKAGE_DOCS = {
    "notebooks": "The course notebooks as files: the one reader of nbgrader cell metadata (``cells``), the\n"
                 "authoring twins (``authoring``), the student versions (``generate``) and the grading guard cell.",
    "grading": "Grading a class: one submission rebuilt from the release (``rebuild``), run by the judge\n"
               "(``judge``, ``sandbox``) inside nbgrader (``judged_autograde``, ``nbgrader_apps``), into the\n"
               "gradebook (``gradebook``); a class by local workers or a cluster (``batch``, ``cluster``);\n"
               "the command (``autograde``).",
    "publish": "What leaves the grader: feedback pages, peer-review packets, the reader's edition and its\n"
               "assets, the students' bundle, the nbgrader exchange, exports for an LMS and mastery levels.",
    "demo": "The tour of the course (``tour``, ``course demo``) and the synthetic class it grades (``sample_class``).",
}
# package data that moves with its modules (relative to src/course_tools)
DATA = {"templates": "publish", "student_README.md": "publish"}
# documented `python -m course_tools.X` commands that stay, as thin aliases of the moved module
ALIASES = ("autograde", "feedback")
# what is rewritten: tracked files under these paths, with these endings or names
SCOPES = ("src", "tests", "benchmarks", "docs", "deploy", "notebooks", "tools", ".ci", "Makefile", "nbgrader_config.py",
          "README.md", "STYLE_GUIDE.md", "pyproject.toml", "environment.yml", "authoring")
TEXT = (".py", ".md", ".toml", ".txt", ".yml", ".yaml", ".cfg", ".ini", ".sh", ".ipynb", ".html", ".json",
        ".service", ".j2", ".tpl", ".css", ".js")
TEXT_NAMES = ("Makefile", "run", "Dockerfile")

PKG = "course_tools"
NEW: dict[str, str] = {old: f"{package}.{new}" for package, modules in LAYOUT.items() for old, new in modules.items()}
SUBMODULES: dict[str, set[str]] = {package: set(modules.values()) for package, modules in LAYOUT.items()}
SELF = Path(__file__).resolve()


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def repository() -> Path:
    return Path(git("rev-parse", "--show-toplevel", cwd=SELF.parent).strip())


# --------------------------------------------------------------------------- names

def is_new_form(package: str, rest: list[str]) -> bool:
    """``course_tools.<package>.<rest...>`` already names a module of the new layout."""
    return package in SUBMODULES and bool(rest) and rest[0] in SUBMODULES[package]


def new_module(dotted: str) -> str:
    """The new dotted name of ``dotted`` (a module, or a name inside one): unchanged when already new."""
    parts = dotted.split(".")
    if parts[0] != PKG or len(parts) < 2 or parts[1] not in NEW or is_new_form(parts[1], parts[2:]):
        return dotted
    return ".".join([PKG, NEW[parts[1]], *parts[2:]])


def package_of(module: str) -> str:
    return module.rsplit(".", 1)[0]


# --------------------------------------------------------------------------- imports

_FROM = re.compile(r"^(?P<indent>[ \t]*)from[ \t]+(?P<source>\.+[\w.]*|course_tools(?:\.[\w.]+)?)[ \t]+import[ \t]+"
                   r"(?P<names>\([^)]*\)|[^\n#]*?)(?P<comment>[ \t]*#[^\n]*)?$", re.M)


def _split_names(text: str) -> list[str]:
    text = text.strip()
    if text.startswith("("):
        text = re.sub(r"#[^\n]*", "", text[1:-1])
    return [n.strip() for n in text.replace("\n", " ").split(",") if n.strip()]


def _resolve(source: str, base: str) -> str:
    """The absolute module of a ``from <source> import`` written in package ``base``."""
    if not source.startswith("."):
        return source
    dots = len(source) - len(source.lstrip("."))
    parts = base.split(".")
    parts = parts[:len(parts) - (dots - 1)]
    rest = source[dots:]
    return ".".join(parts + ([rest] if rest else []))


def _relative(target: str, package: str) -> str:
    """``target`` (a module or package) written relative to ``package`` (both under course_tools)."""
    here, there = package.split("."), target.split(".")
    common = 0
    while common < min(len(here), len(there)) and here[common] == there[common]:
        common += 1
    return "." * (len(here) - common + 1) + ".".join(there[common:])


def _render(indent: str, source: str, names: list[str], comment: str, multiline: bool) -> str:
    if multiline and len(names) > 1:
        body = ",\n".join(f"{indent}    {name}" for name in names)
        return f"{indent}from {source} import (\n{body},\n{indent})" + (comment or "")
    return f"{indent}from {source} import {', '.join(names)}" + (comment or "")


def rewrite_imports(text: str, written_in: str | None, now_in: str | None, done: list[str]) -> str:
    """Every ``from X import ...`` naming course_tools: resolved where it was written (``written_in``, the
    package of the file's old place; None outside the package: absolute imports only), mapped to the
    new layout, and written relative to where the file is now (``now_in``).

    Each statement rewritten is left as a placeholder, its text appended to ``done`` (``put_back``), so
    that the rewrite of dotted names does not read ``from course_tools.grading import judge`` again.
    """

    def one(match: re.Match) -> str:
        source = match["source"]
        if source.startswith(".") and written_in is None:
            return match[0]
        absolute = _resolve(source, written_in) if source.startswith(".") else source
        if absolute != PKG and not absolute.startswith(PKG + "."):
            return match[0]
        names = _split_names(match["names"])
        groups: dict[str, list[str]] = {}
        parts = absolute.split(".")
        if absolute == PKG or (len(parts) == 2 and parts[1] in SUBMODULES and all(
                n.split(" as ")[0].strip() in SUBMODULES[parts[1]] for n in names)):
            # `from course_tools[.package] import a, b`: each name a module (or something of the package)
            for name in names:
                module = name.split(" as ")[0].strip()
                alias = name.split(" as ")[1].strip() if " as " in name else None
                full = new_module(f"{absolute}.{module}")
                parent, leaf = package_of(full), full.rsplit(".", 1)[1]
                if leaf != module and alias is None:
                    alias = module  # a renamed module keeps the name its users call it by
                groups.setdefault(parent, []).append(f"{leaf} as {alias}" if alias and alias != leaf else leaf)
        else:
            groups[new_module(absolute)] = names
        relative = source.startswith(".") and now_in is not None
        lines = []
        for target, target_names in groups.items():
            written = _relative(target, now_in) if relative else target
            lines.append(_render(match["indent"], written, target_names, match["comment"] if not lines else "",
                                 match["names"].strip().startswith("(")))
        done.append("\n".join(lines))
        return f"\0IMPORT{len(done) - 1}\0"

    return _FROM.sub(one, text)


def put_back(text: str, done: list[str]) -> str:
    return re.sub(r"\0IMPORT(\d+)\0", lambda m: done[int(m[1])], text)


# --------------------------------------------------------------------------- dotted names and paths

# `-m course_tools.autograde` (and feedback): the documented commands, kept as aliases
_KEPT_COMMAND = re.compile(r"(-m[\s\"',]+)" + PKG + r"\.(" + "|".join(ALIASES) + r")\b(?!\.)")
_DOTTED = re.compile(r"(?<![\w./])" + PKG + r"((?:\.\w+)+)")
_PATH = re.compile(PKG + r"/(\w+)\.py\b")


def rewrite_names(text: str) -> str:
    kept: list[str] = []

    def keep(match: re.Match) -> str:
        kept.append(match[0])
        return f"\0KEPT{len(kept) - 1}\0"

    text = _KEPT_COMMAND.sub(keep, text)
    text = _DOTTED.sub(lambda m: new_module(PKG + m[1]), text)
    text = _PATH.sub(lambda m: f"{PKG}/{NEW[m[1]].replace('.', '/')}.py" if m[1] in NEW else m[0], text)
    for name, package in DATA.items():
        text = re.sub(rf"{PKG}/{re.escape(name)}\b", f"{PKG}/{package}/{name}", text)
    return re.sub(r"\0KEPT(\d+)\0", lambda m: kept[int(m[1])], text)


def climb_one_more(text: str) -> str:
    """A moved module's ``Path(__file__)`` climbs to the repository or ``src/`` take one step more."""
    text = re.sub(r"(Path\(__file__\)\.resolve\(\)\.parents\[)(\d+)\]", lambda m: f"{m[1]}{int(m[2]) + 1}]", text)
    return text.replace("Path(__file__).resolve().parent.parent", "Path(__file__).resolve().parents[2]")


def rewrite_pyproject(text: str) -> str:
    for name, package in DATA.items():
        text = re.sub(rf'(["\']){re.escape(name)}(/|["\'])', rf"\g<1>{package}/{name}\2", text)
    return text


# --------------------------------------------------------------------------- the move

def alias_source(old: str) -> str:
    new = NEW[old]
    return (f'"""``python -m {PKG}.{old}``, the documented instructor command (``course {"grade" if old == "autograde" else old}``):\n'
            f'an alias of ``{PKG}.{new}``, where the code lives."""\n\n'
            f"import sys\n\nfrom {PKG}.{new} import *  # noqa: F401,F403  (what `from {PKG}.{old} import X` found)\n"
            f"from {PKG}.{new} import main\n\n"
            'if __name__ == "__main__":\n    sys.exit(main())\n')


def move(repo: Path, dry: bool) -> tuple[set[str], list[str]]:
    """git mv every module and data file still at its old place; (moved new module names, actions)."""
    src = repo / "src" / PKG
    moved, actions = set(), []
    for package, modules in LAYOUT.items():
        folder = src / package
        init = folder / "__init__.py"
        if not init.exists():
            actions.append(f"create {init.relative_to(repo)}")
            if not dry:
                folder.mkdir(exist_ok=True)
                init.write_text(f'"""{PACKAGE_DOCS[package]}"""\n')
                git("add", str(init), cwd=repo)
        for old, new in modules.items():
            source, target = src / f"{old}.py", folder / f"{new}.py"
            if target.exists() or not source.exists():
                continue
            actions.append(f"git mv {source.relative_to(repo)} {target.relative_to(repo)}")
            moved.add(f"{package}.{new}")
            if not dry:
                git("mv", str(source), str(target), cwd=repo)
    for name, package in DATA.items():
        source, target = src / name, src / package / name
        if source.exists() and not target.exists():
            actions.append(f"git mv {source.relative_to(repo)} {target.relative_to(repo)}")
            if not dry:
                git("mv", str(source), str(target), cwd=repo)
    for old in ALIASES:
        alias = src / f"{old}.py"
        if not alias.exists() and ((src / f"{NEW[old].replace('.', '/')}.py").exists() or dry):
            actions.append(f"write alias {alias.relative_to(repo)}")
            if not dry:
                alias.write_text(alias_source(old))
                git("add", str(alias), cwd=repo)
    return moved, actions


def files_to_rewrite(repo: Path) -> list[Path]:
    listed = git("ls-files", "-z", "--", *SCOPES, cwd=repo).split("\0")
    paths = []
    for name in filter(None, listed):
        path = repo / name
        if path.resolve() == SELF or not path.is_file():
            continue
        if path.suffix in TEXT or path.name in TEXT_NAMES:
            paths.append(path)
    return paths


def module_package(repo: Path, path: Path) -> str | None:
    """The dotted package a file of src/course_tools sits in now (None outside the package)."""
    try:
        rel = path.relative_to(repo / "src")
    except ValueError:
        return None
    if rel.parts[0] != PKG or path.suffix != ".py":
        return None
    return ".".join(rel.parts[:-1])


def rewrite(repo: Path, moved: set[str], dry: bool) -> list[str]:
    changed = []
    aliases = {repo / "src" / PKG / f"{old}.py" for old in ALIASES}
    for path in files_to_rewrite(repo):
        if path in aliases:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        now_in = module_package(repo, path)
        module = f"{now_in}.{path.stem}".split(".", 1)[1] if now_in else ""
        written_in = PKG if module in moved else now_in  # a module moved now was written at the top
        done: list[str] = []
        new = rewrite_imports(text, written_in, now_in, done) if path.suffix in (".py", ".md") else text
        new = put_back(rewrite_names(new), done)
        if module in moved:
            new = climb_one_more(new)
        if path.name == "pyproject.toml":
            new = rewrite_pyproject(new)
        if new != text:
            changed.append(str(path.relative_to(repo)))
            if not dry:
                path.write_text(new, encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only say what is left to do; exit 1 if anything")
    args = parser.parse_args(argv)
    repo = repository()
    moved, actions = move(repo, args.check)
    changed = rewrite(repo, moved, args.check)
    for action in actions:
        print(action)
    for name in changed:
        print(f"{'would rewrite' if args.check else 'rewrote'} {name}")
    if not actions and not changed:
        print("nothing to do: course_tools is packaged by job")
        return 0
    return 1 if args.check else 0


if __name__ == "__main__":
    sys.exit(main())
