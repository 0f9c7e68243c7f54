"""Figures for grading past one machine: a Dask cluster of 1 and 2 workers, the local pool, SQLite and PostgreSQL.

    .venv/bin/python benchmarks/scale_out.py [--students 300] [--assignment 01_testing] [--honest]

Builds one large synthetic class (``course_tools.demo.sample_class.roster``: every kind of student of the
demo class, in ``LARGE_CLASS_MIX`` proportions; ``--honest`` keeps only kinds that neither loop nor
crash, whose fixed time-outs would hide throughput) and grades identical copies of it, in one run:

1. a local Dask cluster (scheduler + 1 worker process, started with Dask's own commands), SQLite + lock;
2. the same cluster with 2 worker processes, SQLite + lock                  -> speedup, target >= 1.7x;
3. the plain local pool (``-j 2``), SQLite + lock                           -> Dask overhead, target <= 1.1x;
4. the 2-worker Dask cluster writing to PostgreSQL (no lock)                -> SQLite + lock vs PostgreSQL.

Then it projects, from these measured figures, the wall time and cores for 1,000 and 10,000 students
(three assignments each). Every run must record the same grades; the script says so. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the rigs in tests/support (course_tools itself is installed)
from course_tools.demo import sample_class  # noqa: E402
from course_tools.grading.batch import grade_class  # noqa: E402
from course_tools.grading.gradebook import read_grades  # noqa: E402
from course_tools.grading.nbgrader_apps import ensure_venv_on_path  # noqa: E402
from support.gradebook_rows import gradebook_row_counts  # noqa: E402
from support.dask_cluster import LocalDaskCluster  # noqa: E402
from support.postgres import PrivatePostgres  # noqa: E402



def comparable(course: Path, db_url: str | None = None) -> dict:
    return {key: {name: cell.get("auto_score") for name, cell in record["cells"].items()}
            for key, record in read_grades(course, db_url).items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--assignment", default="01_testing")
    parser.add_argument("--honest", action="store_true", help="only kinds of students that neither loop nor crash")
    args = parser.parse_args(argv)
    ensure_venv_on_path()
    work = Path(tempfile.mkdtemp(prefix="scale-out-"))
    base = work / "base"
    sample_class.make_course(base, ROOT, [args.assignment], progress=None)
    mix = {k: v for k, v in sample_class.LARGE_CLASS_MIX.items()
           if not args.honest or k not in ("infinite_loop", "kernel_crash")}
    ids = sample_class.roster(args.students, mix)
    sample_class.write_class(base, ROOT, [args.assignment], ids=ids, progress=None)
    (base / "gradebook.db").unlink()  # every run registers the assignment in its own gradebook
    n = len(ids)
    print(f"{n} submissions of {args.assignment} ({'honest kinds only' if args.honest else 'every kind'}); "
          f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}")

    runs: dict[str, tuple[float, Path, str | None]] = {}

    def run(name: str, db_url: str | None = None, **kwargs) -> None:
        course = work / name.replace(" ", "_")
        shutil.copytree(base, course)
        if db_url:
            with open(course / "nbgrader_config.py", "a", encoding="utf-8") as config:
                config.write(f"\nc.CourseDirectory.db_url = {db_url!r}\n")
        start = time.perf_counter()
        results = grade_class(course, [args.assignment], progress=None, **kwargs)
        seconds = time.perf_counter() - start
        runs[name] = (seconds, course, db_url)
        failed = [r for r in results if not r.ok]
        print(f"  {name:<34}{seconds:>8.1f} s  {n / seconds * 60:>6.1f} submissions/min"
              + (f"  ({len(failed)} not graded)" if failed else ""), flush=True)

    one = LocalDaskCluster(work, 1)
    run("dask 1 worker, sqlite", cluster=one.address)
    one.stop()
    two = LocalDaskCluster(work, 2)
    address = two.address
    run("dask 2 workers, sqlite", cluster=address)
    run("local pool -j 2, sqlite", workers=2)
    pg_folder = tempfile.mkdtemp(prefix="scale-out-pg-")
    with PrivatePostgres(pg_folder) as server:
        run("dask 2 workers, postgresql", db_url=server.create_database("course"), cluster=address)
        reference = comparable(runs["dask 1 worker, sqlite"][1])
        for name, (_, course, db_url) in runs.items():
            same = comparable(course, db_url) == reference
            print(f"  {name:<34} grades identical to the 1-worker run: {same}; rows {gradebook_row_counts(course, db_url)}")
    two.stop()

    t1, t2 = runs["dask 1 worker, sqlite"][0], runs["dask 2 workers, sqlite"][0]
    pool, pg = runs["local pool -j 2, sqlite"][0], runs["dask 2 workers, postgresql"][0]
    per_core = t1 / n
    print(f"\nspeedup, Dask 2 workers vs 1:              {t1 / t2:.2f}x  (target >= 1.7x)")
    print(f"overhead, Dask 2 workers vs local pool -j 2: {t2 / pool:.2f}x  (target <= 1.1x)")
    print(f"SQLite + lock vs PostgreSQL, 2 writers:      {t2:.1f} s vs {pg:.1f} s ({t2 / pg:.2f}x)")
    print(f"one core grades a submission in {per_core:.2f} s (1-worker run, scheduler overhead included)")
    for students in (1_000, 10_000):
        submissions = students * 3
        for cores in (16, 64, 256):
            hours = submissions * per_core / cores / 3600
            print(f"  {students:>6} students x 3 assignments on {cores:>3} cores: about {hours:5.2f} h "
                  f"({submissions / (hours * 3600):.0f} gradebook writes/s)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
