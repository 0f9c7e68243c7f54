"""Autograde a whole class with N worker processes, with progress and a per-submission report.

    python -m course_tools.autograde                     # every assignment, 2 workers
    python -m course_tools.autograde 01_testing -j 1     # one assignment, serially
    python -m course_tools.autograde --root .sample_class

The course folder is ``--root``, else the working directory's course (the nearest folder holding
``course.toml``), as nbgrader takes its course from the working directory. Each submission is
graded exactly as ``nbgrader autograde <assignment> --student=<id> --force`` would grade it, but N
at a time (``course_tools.grading.batch``), with progress. The course's config makes that pipeline a
trusted one (``course_tools.grading.judged_autograde``): student code runs only in a bubblewrap sandbox,
and only the judge decides what passed. Without a working sandbox this command refuses to grade
(exit status 2), unless given ``--UNSAFE-no-sandbox``.

On a fresh clone the gradebook does not exist yet: the assignments it lacks are registered first
(``nbgrader generate_assignment`` into a scratch folder, so the committed ``release/`` is left alone).
With SQLite, the embedded default, gradebook sessions take turns through a file lock
(``course_tools.grading.gradebook``); with a server database (PostgreSQL via ``CourseDirectory.db_url``) the
lock is not needed: pass ``--no-lock``.

A submission whose code crashes (``os._exit``, a segfault) or loops loses only the tests that need what
crashed (the judge starts a fresh sandbox). A submission nbgrader cannot grade at all (a notebook it cannot
read, no sandbox, a locked gradebook) is reported by name with the reason, and every other submission is
still graded; the exit status is then 1.
"""

from __future__ import annotations

import argparse
import sys

from ..course import course_root
from .batch import UNSAFE_FLAG, NoSandbox, grade_class
from .gradebook import CourseFolder
from .nbgrader_apps import ensure_venv_on_path
from .submission import print_review_list


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignments", nargs="*", help="assignments to grade (default: every submitted one)")
    parser.add_argument("-j", "--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--root", default=None,
                        help="course folder holding nbgrader_config.py (default: the working directory's course)")
    parser.add_argument("--student", action="append", help="grade only this student (repeatable)")
    parser.add_argument("--no-lock", action="store_true",
                        help="skip the gradebook file lock (default: locked for SQLite, not for a server database)")
    parser.add_argument(UNSAFE_FLAG, dest="unsafe", action="store_true",
                        help="run student code WITHOUT a sandbox, with your permissions (only for code you trust)")
    parser.add_argument("--cluster", metavar="ADDRESS",
                        help="grade on a running Dask cluster (e.g. tcp://scheduler:8786) instead of local processes")
    parser.add_argument("--force", action="store_true",
                        help="regrade every submission (default: skip those graded since they were submitted)")
    args = parser.parse_args(argv)
    ensure_venv_on_path()
    try:
        results = grade_class(CourseFolder.at(args.root or course_root()), args.assignments or None, args.student, args.workers,
                              lock=False if args.no_lock else None, unsafe_no_sandbox=args.unsafe,
                              force=args.force, cluster=args.cluster)
    except NoSandbox as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # say what failed, with the real cause, instead of a bare traceback pointer
        print(f"ERROR: grading could not start: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    print_review_list(results)
    failed = [r for r in results if not r.ok]
    for result in failed:
        print(f"NOT GRADED: {result.student} / {result.assignment}: {result.reason}")
        if result.log:
            print("  " + "\n  ".join(result.log.strip().splitlines()[-12:]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
