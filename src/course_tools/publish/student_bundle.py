"""The student bundle: one archive for self-learners and for upload to a learning platform.

    python -m course_tools.publish.student_bundle                 # dist/nextword-course-student.zip
    python -m course_tools.publish.student_bundle --out DIR --root COURSE   # default: the working directory's course

The archive holds one folder, ``nextword-course-student/``, with

* ``notebooks/<assignment>/<assignment>.ipynb``: the released notebooks (``release/``, nbgrader's
  student versions: stubs, visible tests, no solution, hidden test or rubric);
* ``wheels/nextword-<version>-py3-none-any.whl``: the ``nextword`` library only. The course's
  ``pyproject.toml`` packages the instructor tooling too (``course_tools``, ``course_sandbox``), so
  the wheel is built by ``pip wheel`` from a minimal project generated in a scratch folder that
  holds nothing but ``nextword``;
* ``README.md``: what the notebooks are and the one-command setup (``student_README.md`` here).

Every entry has a fixed date and mode, in sorted order, so rebuilding unchanged inputs gives the same bytes.
``check`` lists anything in an archive that must not reach students; the build refuses to write one.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

from ..course import available_assignments, course_root

TOP = "nextword-course-student"
ARCHIVE = "nextword-course-student.zip"
README = Path(__file__).with_name("student_README.md")
FIXED_DATE = (1980, 1, 1, 0, 0, 0)
FORBIDDEN = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def project(root: Path | None = None) -> dict:
    """The ``[project]`` table of the course's ``pyproject.toml`` (course at ``root``, default the working directory's)."""
    return tomllib.loads((Path(root or course_root()) / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def nextword_pyproject(root: Path) -> str:
    """A minimal pyproject for the ``nextword`` package alone (version and dependencies from the course's)."""
    meta = project(root)
    dependencies = ", ".join(f'"{d}"' for d in meta["dependencies"])
    return ("[build-system]\nrequires = [\"setuptools>=68\"]\nbuild-backend = \"setuptools.build_meta\"\n\n"
            "[project]\nname = \"nextword\"\n"
            f"version = \"{meta['version']}\"\n"
            "description = \"The small NumPy next-word model and simulated production world of the course "
            "'Testing & Continuous Training'.\"\n"
            f"requires-python = \"{meta.get('requires-python', '>=3.11')}\"\n"
            f"dependencies = [{dependencies}]\n\n"
            "[tool.setuptools]\npackages = [\"nextword\"]\n")


def build_wheel(out_dir: Path, root: Path) -> Path:
    """``pip wheel`` of a scratch project holding only the ``nextword`` package; returns the wheel's path."""
    import nextword

    with tempfile.TemporaryDirectory(prefix="nextword-wheel-") as scratch:
        scratch = Path(scratch)
        shutil.copytree(Path(nextword.__file__).parent, scratch / "nextword",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        (scratch / "pyproject.toml").write_text(nextword_pyproject(root), encoding="utf-8")
        env = {**os.environ, "SOURCE_DATE_EPOCH": "315532800", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(scratch / "dist"),
                               str(scratch)], capture_output=True, text=True, env=env)
        wheels = sorted((scratch / "dist").glob("nextword-*.whl"))
        if done.returncode != 0 or len(wheels) != 1:
            raise RuntimeError(f"pip wheel of nextword failed:\n{done.stdout}{done.stderr}")
        out_dir.mkdir(parents=True, exist_ok=True)
        target = out_dir / wheels[0].name
        shutil.copy(wheels[0], target)
        return target


def contents(assignments: list[str], wheel: Path, root: Path) -> dict[str, bytes]:
    """Archive path -> bytes."""
    files = {f"{TOP}/README.md": README.read_bytes(), f"{TOP}/wheels/{wheel.name}": wheel.read_bytes()}
    for assignment in assignments:
        folder = root / "release" / assignment
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            if ".ipynb_checkpoints" in path.parts or "__pycache__" in path.parts:
                continue
            files[f"{TOP}/notebooks/{assignment}/{path.relative_to(folder).as_posix()}"] = path.read_bytes()
    return files


def texts(archive: Path) -> dict[str, str]:
    """Every file of the archive as text, wheels opened too (``<archive path>!<path in wheel>``)."""
    found = {}

    def walk(zf: zipfile.ZipFile, prefix: str) -> None:
        for name in zf.namelist():
            data = zf.read(name)
            if name.endswith((".whl", ".zip")):
                walk(zipfile.ZipFile(io.BytesIO(data)), f"{prefix}{name}!")
            else:
                found[prefix + name] = data.decode("utf-8", errors="replace")

    with zipfile.ZipFile(archive) as zf:
        walk(zf, "")
    return found


def check(archive: Path) -> list[str]:
    """What must not be in a student archive: solution or hidden-test markers, instructor files."""
    problems = []
    for name, text in texts(archive).items():
        problems += [f"{name}: contains {marker!r}" for marker in FORBIDDEN if marker in text]
        if re.search(r"(^|/)(source|course_tools|course_sandbox|authoring)/|gradebook|nbgrader_config", name):
            problems.append(f"{name}: an instructor file")
    return problems


def build(out_dir: Path | None = None, assignments: list[str] | None = None, progress=print,
          root: Path | None = None) -> Path:
    """Write ``<out_dir>/nextword-course-student.zip`` (default ``dist/``) for the course at ``root``."""
    say = progress or (lambda *_: None)
    root = Path(root or course_root())
    out_dir = Path(out_dir or root / "dist")
    assignments = assignments or available_assignments(root)
    with tempfile.TemporaryDirectory(prefix="student-bundle-") as scratch:
        wheel = build_wheel(Path(scratch), root)
        files = contents(assignments, wheel, root)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / ARCHIVE
    partial = target.with_suffix(".zip.partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, FIXED_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, files[name])
    problems = check(partial)
    if problems:
        partial.unlink()
        raise RuntimeError("the student bundle would leak instructor material:\n  " + "\n  ".join(problems))
    partial.replace(target)
    shown = target.relative_to(root) if target.is_relative_to(root) else target
    say(f"{shown}: {len(files)} files, {target.stat().st_size // 1024} KiB "
        f"({', '.join(assignments)}; {wheel.name}; README with the one-command setup)")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=None, help="output folder (default: dist/)")
    parser.add_argument("--root", default=None, help="the course folder (default: the working directory's course)")
    args = parser.parse_args(argv)
    build(Path(args.out) if args.out else None, root=Path(args.root).resolve() if args.root else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
