"""One command for the course's tools: ``course <verb> [options]``, each verb one of the ``python -m course_tools.X`` modules.

    course grade [ASSIGNMENT ...] [-j 2] [--student S] [--cluster ADDRESS]   # autograde (course_tools.grading.autograde)
    course feedback [ASSIGNMENT ...] [--show-hidden]                         # feedback pages (course_tools.publish.feedback)
    course generate                          # release/ from source/, as nbgrader generate_assignment
    course sync [--from text|notebook]       # source notebooks <-> authoring/ text twins; --check only compares
    course peer-review ASSIGNMENT [-k 2]     # anonymous review packets; `course peer-review collect ASSIGNMENT`
    course exchange setup|student-config|student-env [--exchange-root /srv/nbgrader/exchange]
    course bundle [--out dist/]              # the students' zip: released notebooks, the nextword wheel, a README
    course reader-edition [ASSIGNMENT ...]   # notebooks/: the executed reader's edition
    course sample-class [COURSE_DIR] [--students N]   # a synthetic class of submissions to grade
    course demo                              # the whole tour, as `make demo`

``--root`` means one thing for every verb: the course folder, the nearest folder at or above the
given path (default: the working directory) that holds ``course.toml`` or ``nbgrader_config.py``, as
nbgrader finds its course. It may come before or after the verb (``course --root ~/c grade`` or
``course grade --root ~/c``). Where a module's own ``--root`` meant something else, the verb maps it:
``course sync`` passes the course folder to ``course_tools.notebooks.authoring`` (whose default is the working
directory itself), and ``course exchange`` takes the exchange folder as ``--exchange-root``.

Each verb hands the rest of its arguments to the module's ``main(argv)``, so ``course <verb> -h`` shows
that module's options, and ``python -m course_tools.<module>`` keeps working as before.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from dataclasses import dataclass
from pathlib import Path

from .course import course_root


@dataclass(frozen=True)
class Verb:
    name: str
    module: str  # the module (dotted name) with a main(argv) -> int
    help: str
    root_option: str | None = "--root"  # how the module takes the course folder (None: it does not)


VERBS = {verb.name: verb for verb in (
    Verb("grade", "course_tools.grading.autograde", "autograde submitted/ in the sandbox, into the gradebook"),
    Verb("feedback", "course_tools.publish.feedback", "feedback pages (feedback/) from the autograded notebooks"),
    Verb("generate", "course_tools.notebooks.generate", "the student versions (release/) from source/"),
    Verb("sync", "course_tools.notebooks.authoring", "make each source notebook and its authoring/ text twin agree (--check: only compare)"),
    Verb("peer-review", "course_tools.publish.peer_review", "anonymous peer-review packets, and `collect` to read the forms back"),
    Verb("exchange", "course_tools.publish.exchange", "the nbgrader exchange folder and the students' environment (--exchange-root)",
         root_option="--course-root"),
    Verb("bundle", "course_tools.publish.student_bundle", "the students' zip for those not on the course server"),
    Verb("demo", "course_tools.demo.tour", "the whole tour: a sample class generated, graded, given feedback (make demo)"),
    Verb("reader-edition", "course_tools.publish.reader_edition", "the executed reader's edition (notebooks/)"),
    Verb("sample-class", "course_tools.demo.sample_class", "a synthetic class of student submissions, and their expected scores"),
)}

# course_tools.publish.exchange subcommands that read the course (its id, its first assignment); `setup` does not.
EXCHANGE_COURSE_COMMANDS = ("student-config", "student-env")


def resolve_root(given: str | Path | None) -> Path:
    """The course folder for ``--root`` (default: the working directory): the nearest folder at or above
    it holding course.toml or nbgrader_config.py, else the folder itself."""
    return course_root(Path(given).expanduser() if given else None)


def take_option(args: list[str], option: str) -> tuple[str | None, list[str]]:
    """The value of ``option`` in ``args`` (``--x V`` or ``--x=V``; the last one wins) and ``args`` without it.
    Arguments after ``--`` are left alone."""
    value, rest, index = None, [], 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            rest.extend(args[index:])
            break
        if arg == option and index + 1 < len(args):
            value, index = args[index + 1], index + 2
            continue
        if arg.startswith(option + "="):
            value, index = arg[len(option) + 1:], index + 1
            continue
        rest.append(arg)
        index += 1
    return value, rest


def module_argv(verb: Verb, args: list[str], root: Path) -> list[str]:
    """What ``verb``'s module receives: the user's arguments with the course folder in the module's own terms."""
    if verb.name == "sync":
        command = "check" if "--check" in args else "sync"
        return [command, *[a for a in args if a != "--check"], "--root", str(root)]
    if verb.name == "exchange":
        exchange_root, args = take_option(args, "--exchange-root")
        argv = list(args) + (["--root", exchange_root] if exchange_root else [])
        if args and args[0] in EXCHANGE_COURSE_COMMANDS:
            argv += [verb.root_option, str(root)]
        return argv
    return [*args, verb.root_option, str(root)] if verb.root_option else list(args)


def parser() -> argparse.ArgumentParser:
    verbs = "\n".join(f"  {verb.name:<16}{verb.help}" for verb in VERBS.values())
    p = argparse.ArgumentParser(
        prog="course", formatter_class=argparse.RawDescriptionHelpFormatter,
        description=__doc__.split("\n\n")[0] + "\n\nverbs (`course <verb> -h` for each one's options):\n" + verbs,
        epilog="\n\n".join(__doc__.split("\n\n")[2:]))
    p.add_argument("--root", default=None,
                   help="the course folder: the nearest folder at or above this path with course.toml or "
                        "nbgrader_config.py (default: the working directory's)")
    p.add_argument("verb", choices=list(VERBS), metavar="VERB", help="one of: " + ", ".join(VERBS))
    p.add_argument("args", nargs=argparse.REMAINDER, help="the verb's own arguments")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    verb = VERBS[args.verb]
    given, rest = take_option(args.args, "--root")
    root = resolve_root(given or args.root)
    module = importlib.import_module(verb.module)
    program = sys.argv[0]
    sys.argv[0] = f"course {verb.name}"  # argparse's prog: the module's usage line names the verb
    try:
        return module.main(module_argv(verb, rest, root)) or 0
    finally:
        sys.argv[0] = program


if __name__ == "__main__":
    sys.exit(main())
