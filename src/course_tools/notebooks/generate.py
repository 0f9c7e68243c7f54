"""Generate the student versions (``release/``) from ``source/`` with nbgrader, or check they are in sync.

    python -m course_tools.notebooks.generate            # regenerate release/ for every assignment (`make generate`)
    python -m course_tools.notebooks.generate 01_testing # one assignment
    python -m course_tools.notebooks.generate --check    # regenerate into a temporary folder and compare

This is nbgrader's ``generate_assignment``; nbgrader's *release* is handing the generated versions to
students (``nbgrader release_assignment``, see docs/exchange.md). The course folder is
``--root``, else the working directory's course. The gradebook nbgrader needs while generating is a
throwaway one, so this never touches an instructor's gradebook.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from nbgrader.preprocessors import ClearSolutions
from traitlets import List, Unicode

from ..course import available_assignments, course_root
from .cells import cell_grade_id


class ClearSolutionsKeepingNameCell(ClearSolutions):
    """nbgrader's ``ClearSolutions``, except for the header's NAME/COLLABORATORS cell (``source/header.ipynb``).

    That cell is an ungraded answer cell (``solution: true``, no points), so grading keeps what the student
    wrote there (it is not "edited outside the answer cells") and formgrader and feedback show it. Having
    no solution region, ``ClearSolutions`` would replace its whole text by the code stub; it has nothing to
    clear, so it is left as written. ``nbgrader_config.py`` puts this class in place of ``ClearSolutions``.
    """

    kept_grade_ids = List(Unicode(), ["student_name"], help="Answer cells released as written").tag(config=True)

    def preprocess_cell(self, cell, resources, cell_index):
        if cell_grade_id(cell) in self.kept_grade_ids:
            return cell, resources
        return super().preprocess_cell(cell, resources, cell_index)


def nbgrader_environment() -> dict[str, str]:
    """The current environment with this Python's bin folder first on PATH (nbgrader runs ``alembic`` from it)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def generate(assignments: list[str], release_dir: Path, root: Path) -> None:
    """Run ``nbgrader generate_assignment`` for each assignment, writing into ``release_dir``."""
    with tempfile.TemporaryDirectory(prefix="nbgrader-db-") as db_dir:
        for name in assignments:
            print(f"generating release/{name} from source/{name} ...", flush=True)
            subprocess.run(
                [sys.executable, "-m", "nbgrader", "generate_assignment", name, "--force", "--log-level=WARN",
                 f"--CourseDirectory.db_url=sqlite:///{db_dir}/gradebook.db",
                 f"--CourseDirectory.release_directory={release_dir}"],
                cwd=root, check=True, env=nbgrader_environment())


def differences(left: Path, right: Path) -> list[str]:
    """Relative paths that differ between two folder trees (missing on either side or different bytes)."""
    found: list[str] = []

    def walk(cmp: filecmp.dircmp, prefix: str) -> None:
        found.extend(f"{prefix}{name} (only in {cmp.left})" for name in cmp.left_only)
        found.extend(f"{prefix}{name} (only in {cmp.right})" for name in cmp.right_only)
        _, mismatch, errors = filecmp.cmpfiles(cmp.left, cmp.right, cmp.common_files, shallow=False)
        found.extend(f"{prefix}{name} (contents differ)" for name in mismatch + errors)
        for name, sub in cmp.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    walk(filecmp.dircmp(left, right, ignore=[".ipynb_checkpoints", "__pycache__"]), "")
    return found


def release_differences(fresh: Path, root: Path, assignments: list[str]) -> list[str]:
    """What differs between student versions generated into ``fresh`` and the committed ``<root>/release/``."""
    problems = []
    for name in assignments:
        committed = root / "release" / name
        if not committed.is_dir():
            problems.append(f"release/{name} is missing")
            continue
        problems.extend(f"release/{name}/{d}" for d in differences(fresh / name, committed))
    return problems


def check(assignments: list[str], root: Path) -> list[str]:
    """Regenerate into a temporary folder; return what differs from the committed ``release/``."""
    with tempfile.TemporaryDirectory(prefix="release-check-") as tmp:
        generate(assignments, Path(tmp), root)
        return release_differences(Path(tmp), root, assignments)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignments", nargs="*", help="assignment names (default: every assignment with a source)")
    parser.add_argument("--check", action="store_true", help="compare a fresh build with release/ instead of writing it")
    parser.add_argument("--root", default=None, help="the course folder (default: the working directory's course)")
    args = parser.parse_args(argv)
    root = Path(args.root).resolve() if args.root else course_root()
    assignments = args.assignments or available_assignments(root)
    if args.check:
        problems = check(assignments, root)
        for line in problems:
            print("out of sync:", line)
        print("release/ matches source/" if not problems else
              "release/ is out of sync: run `make generate` and commit release/")
        return 1 if problems else 0
    release_dir = root / "release"
    for name in assignments:
        shutil.rmtree(release_dir / name, ignore_errors=True)
    generate(assignments, release_dir, root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
