"""Figures: trusted (sandboxed, judged) grading against plain nbclient execution, and 2 workers against 1.

    .venv/bin/python benchmarks/autograde_speed.py [--assignments 01_testing ...] [--students perfect ...] [--keep DIR]

Builds the synthetic sample class once (course_tools.demo.sample_class) and, in one run:

1. ``course_tools.grading.autograde`` with 1 worker process (each submission rebuilt, run in a bubblewrap
   sandbox, its tests in the trusted judge, grades saved by nbgrader);
2. the same with 2 worker processes;
3. plain execution of the same submitted notebooks with nbclient (same per-cell timeout,
   errors allowed, one fresh kernel each, serial): no sandbox, no judge, no nbgrader.

Prints wall times, the parallel speedup (target >= 1.7x) and the trusted pipeline's overhead
over plain execution (target <= 1.5x), and whether both gradings recorded identical grades.
By default the honest students only: an infinite loop or a crash costs the same fixed time in
every method and would hide the overhead. Asserts nothing; the load average is printed too.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the rigs in tests/support (course_tools itself is installed)
from course_tools.demo import sample_class  # noqa: E402
from course_tools.grading.batch import grade_class  # noqa: E402
from course_tools.course import available_assignments  # noqa: E402
from course_tools.grading.gradebook import read_grades  # noqa: E402
from course_tools.grading.nbgrader_apps import ensure_venv_on_path  # noqa: E402
from support.gradebook_rows import gradebook_row_counts  # noqa: E402

TIMEOUT = 20  # the course's c.Execute.timeout


def clone(course: Path, name: str) -> Path:
    target = course.parent / name
    shutil.copytree(course, target)
    return target


def plain_nbclient(course: Path, assignments: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    died = 0
    for path in sorted((course / "submitted").glob("*/*/*.ipynb")):
        if path.parent.name not in assignments:
            continue
        nb = nbformat.read(str(path), as_version=4)
        client = NotebookClient(nb, timeout=TIMEOUT, interrupt_on_timeout=True, allow_errors=True,
                                kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
        try:
            client.execute(stderr=subprocess.DEVNULL)
        except DeadKernelError:
            died += 1
    return time.perf_counter() - start, died


def scores(course: Path) -> dict:
    return {key: {cell: v.get("auto_score") for cell, v in record["cells"].items()}
            for key, record in read_grades(course).items()}


HONEST = ["perfect", "partial", "blank", "deleted_tests", "honest_warnings", "stopped_early"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assignments", nargs="*", default=None)
    parser.add_argument("--students", nargs="*", default=HONEST)
    parser.add_argument("--keep", default=None, help="build the class here and keep it (default: a temporary folder)")
    args = parser.parse_args(argv)
    ensure_venv_on_path()
    os.environ.setdefault("MPLBACKEND", "Agg")
    assignments = args.assignments or available_assignments(ROOT)
    workdir = Path(args.keep or tempfile.mkdtemp(prefix="autograde-speed-"))
    base = workdir / "base"
    sample_class.make_course(base, ROOT, assignments, progress=None)
    sample_class.write_class(base, ROOT, assignments, students=tuple(args.students), progress=None)
    n = len(list((base / "submitted").glob("*/*/*.ipynb")))
    print(f"sample class: {len(args.students)} students x {len(assignments)} assignments = {n} notebooks; "
          f"per-cell timeout {TIMEOUT} s; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}")

    runs = {}
    for workers in (1, 2):
        course = clone(base, f"workers_{workers}")
        start = time.perf_counter()
        results = grade_class(course, assignments, workers=workers, progress=None)
        runs[f"course_tools.grading.autograde -j {workers}"] = (time.perf_counter() - start, course)
        assert all(r.ok for r in results), [r.line() for r in results if not r.ok]
    plain, died = plain_nbclient(clone(base, "plain"), assignments)

    print(f"\n{'run':<44}{'wall s':>9}{'s/notebook':>12}")
    for name, (seconds, _) in runs.items():
        print(f"{name:<44}{seconds:>9.1f}{seconds / n:>12.2f}")
    print(f"{'plain nbclient execution (serial, unsafe)':<44}{plain:>9.1f}{plain / n:>12.2f}   ({died} kernel death(s))")
    one, two = runs["course_tools.grading.autograde -j 1"][0], runs["course_tools.grading.autograde -j 2"][0]
    print(f"\nparallel speedup, 2 workers vs 1 worker:                 {one / two:.2f}x  (target >= 1.7x)")
    print(f"trusted grading overhead, 1 worker / plain nbclient:       {one / plain:.2f}x  (target <= 1.5x)")
    reference = scores(runs["course_tools.grading.autograde -j 1"][1])
    for name, (_, course) in runs.items():
        print(f"{name:<44} grades identical to -j 1: {scores(course) == reference}; "
              f"gradebook rows {gradebook_row_counts(course)}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
