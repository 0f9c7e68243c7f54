"""Figures: autograding the sample class serially vs with 2 workers, and nbgrader vs plain nbclient execution.

    .venv/bin/python benchmarks/autograde_speed.py [--assignments 01_testing ...] [--keep DIR]

Builds the synthetic sample class once (course_tools.sample_class) and grades
identical copies of it, one after another in the same run:

1. ``nbgrader autograde <assignment>`` (stock nbgrader, one process per assignment, serial);
2. ``course_tools.autograde`` with 1 worker process;
3. ``course_tools.autograde`` with 2 worker processes;
4. plain execution of the same submitted notebooks with nbclient (same per-cell
   timeout, errors allowed, one fresh kernel each), no nbgrader at all.

Prints wall times, the parallel speedup, nbgrader's overhead over plain
execution, and whether the three gradings recorded identical grades.
Asserts nothing. The machine is shared: the load average is printed too.
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
sys.path.insert(0, str(ROOT / "src"))
from course_tools import sample_class  # noqa: E402
from course_tools.autograde import ensure_venv_on_path, grade_class, read_grades, gradebook_row_counts  # noqa: E402
from course_tools.release import available_assignments  # noqa: E402

TIMEOUT = 20  # the course's c.Execute.timeout


def clone(course: Path, name: str) -> Path:
    target = course.parent / name
    shutil.copytree(course, target)
    return target


def stock_nbgrader(course: Path, assignments: list[str]) -> float:
    start = time.perf_counter()
    for assignment in assignments:
        subprocess.run([sys.executable, "-m", "nbgrader", "autograde", assignment, "--force", "--log-level=ERROR"],
                       cwd=course, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assignments", nargs="*", default=None)
    parser.add_argument("--keep", default=None, help="build the class here and keep it (default: a temporary folder)")
    args = parser.parse_args(argv)
    ensure_venv_on_path()
    os.environ.setdefault("MPLBACKEND", "Agg")
    assignments = args.assignments or available_assignments(ROOT)
    workdir = Path(args.keep or tempfile.mkdtemp(prefix="autograde-speed-"))
    base = workdir / "base"
    sample_class.make_course(base, ROOT, assignments, progress=None)
    sample_class.write_class(base, ROOT, assignments, progress=None)
    n = len(list((base / "submitted").glob("*/*/*.ipynb")))
    print(f"sample class: {len(sample_class.STUDENTS)} students x {len(assignments)} assignments = {n} notebooks; "
          f"per-cell timeout {TIMEOUT} s; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}")

    runs = {}
    course = clone(base, "stock")
    runs["nbgrader autograde (stock, serial)"] = (stock_nbgrader(course, assignments), course)
    course = clone(base, "one_worker")
    start = time.perf_counter()
    grade_class(course, assignments, workers=1, progress=None)
    runs["course_tools.autograde -j 1"] = (time.perf_counter() - start, course)
    course = clone(base, "two_workers")
    start = time.perf_counter()
    grade_class(course, assignments, workers=2, progress=None)
    runs["course_tools.autograde -j 2"] = (time.perf_counter() - start, course)
    plain, died = plain_nbclient(clone(base, "plain"), assignments)

    print(f"\n{'run':<40}{'wall s':>9}")
    for name, (seconds, _) in runs.items():
        print(f"{name:<40}{seconds:>9.1f}")
    print(f"{'plain nbclient execution (serial)':<40}{plain:>9.1f}   ({died} kernel death(s), as expected)")
    stock = runs["nbgrader autograde (stock, serial)"][0]
    one, two = runs["course_tools.autograde -j 1"][0], runs["course_tools.autograde -j 2"][0]
    print(f"\nparallel speedup, 2 workers vs stock serial nbgrader: {stock / two:.2f}x")
    print(f"parallel speedup, 2 workers vs 1 worker:              {one / two:.2f}x")
    print(f"nbgrader overhead, stock serial autograde / plain nbclient: {stock / plain:.2f}x")
    print(f"nbgrader overhead, 1-worker autograde / plain nbclient:     {one / plain:.2f}x")
    reference = scores(runs["nbgrader autograde (stock, serial)"][1])
    for name, (_, course) in runs.items():
        same = scores(course) == reference
        counts = gradebook_row_counts(course)
        print(f"{name:<40} grades identical to stock: {same}; gradebook rows {counts}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
