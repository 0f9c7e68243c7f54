"""How many submissions per second a gradebook can record: SQLite behind the course's lock, and PostgreSQL.

    .venv/bin/python benchmarks/gradebook_writes.py [--assignment 01_testing] [--per-writer 40]

Grading a submission costs seconds of CPU, but recording it is a short burst of gradebook sessions.
With many grading cores, that burst is what every worker shares, so it sets the ceiling of a class's
throughput. This replays, through ``nbgrader.api.Gradebook`` itself, the sessions nbgrader 0.9's
``autograde`` opens for one submission (``Autograde.init_assignment``: student, assignment,
submission, notebooks, missing notebooks; ``OverwriteCells``: the source cells; ``SaveAutoGrades``:
one commit per graded cell and per answer cell), with 1, 2, 4 and 8 writer processes, each recording
its own students. Nothing is executed, so this measures the gradebook alone.

It prints submissions recorded per second, and how many grading cores that rate can serve at the
per-submission grading time given with ``--seconds-per-submission`` (the benchmark ``scale_out.py``
measures it). Asserts nothing.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the rigs in tests/support (course_tools itself is installed)
from course_tools.demo import sample_class  # noqa: E402
from course_tools import course  # noqa: E402
from course_tools.grading.gradebook import CourseFolder, GradebookLock  # noqa: E402
from course_tools.grading.nbgrader_apps import ensure_venv_on_path, register_missing_assignments  # noqa: E402
from support.postgres import PrivatePostgres  # noqa: E402

COURSE_ID = course.load(ROOT).id


def cells_of(url: str, assignment: str) -> tuple[str, list[str], list[str], list[str]]:
    from nbgrader.api import Gradebook

    with Gradebook(url, COURSE_ID) as gb:
        notebook = gb.find_assignment(assignment).notebooks[0]
        return (notebook.name, [c.name for c in notebook.grade_cells], [c.name for c in notebook.solution_cells],
                [c.name for c in notebook.source_cells])


def record_submission(url: str, assignment: str, student: str, cells) -> None:
    """The gradebook sessions of one ``nbgrader autograde`` of one notebook, in nbgrader's order."""
    from nbgrader.api import Gradebook

    notebook, grade_cells, solution_cells, source_cells = cells
    with Gradebook(url, COURSE_ID) as gb:
        gb.update_or_create_student(student)
    with Gradebook(url, COURSE_ID) as gb:
        gb.find_assignment(assignment)
    with Gradebook(url, COURSE_ID) as gb:
        gb.update_or_create_submission(assignment, student)
    with Gradebook(url, COURSE_ID) as gb:
        gb.find_notebook(notebook, assignment)
    with Gradebook(url, COURSE_ID) as gb:
        len(gb.find_assignment(assignment).notebooks)
    with Gradebook(url, COURSE_ID) as gb:  # OverwriteCells
        for name in source_cells:
            gb.find_source_cell(name, notebook, assignment)
        for name in grade_cells:
            gb.find_graded_cell(name, notebook, assignment)
    with Gradebook(url, COURSE_ID) as gb:  # SaveAutoGrades
        for name in grade_cells:
            grade = gb.find_grade(name, notebook, assignment, student)
            grade.auto_score, grade.needs_manual_grade = 1.0, False
            gb.db.commit()
        for name in solution_cells:
            gb.find_comment(name, notebook, assignment, student).auto_comment = None
            gb.db.commit()


def writer(url: str, lock_path: str | None, assignment: str, students: list[str], cells, start) -> None:
    start.wait()
    for student in students:
        if lock_path:  # as an autograde run holds it: over all its gradebook sessions (judging is not replayed)
            with GradebookLock(lock_path).holding():
                record_submission(url, assignment, student, cells)
        else:
            record_submission(url, assignment, student, cells)


def measure(url: str, lock_path: str | None, assignment: str, writers: int, per_writer: int, tag: str) -> float:
    cells = cells_of(url, assignment)
    ctx = multiprocessing.get_context("fork")
    start = ctx.Event()
    processes = [ctx.Process(target=writer, args=(url, lock_path, assignment,
                                                  [f"{tag}-w{w}-s{i:04d}" for i in range(per_writer)], cells, start))
                 for w in range(writers)]
    for process in processes:
        process.start()
    time.sleep(0.5)  # every writer imported nbgrader and waits
    began = time.perf_counter()
    start.set()
    for process in processes:
        process.join()
    if any(p.exitcode for p in processes):
        raise RuntimeError(f"a writer failed ({tag})")
    return writers * per_writer / (time.perf_counter() - began)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assignment", default="01_testing")
    parser.add_argument("--per-writer", type=int, default=40, help="submissions each writer records")
    parser.add_argument("--seconds-per-submission", type=float, default=None,
                        help="one core's grading time per submission (from scale_out.py), for the cores column")
    args = parser.parse_args(argv)
    ensure_venv_on_path()
    work = Path(tempfile.mkdtemp(prefix="gradebook-writes-"))
    os.chmod(work, 0o755)  # the PostgreSQL server runs as `postgres` when we are root
    course = work / "course"
    sample_class.make_course(course, ROOT, [args.assignment], progress=None)
    print(f"{args.assignment}: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; "
          f"{args.per_writer} submissions per writer")
    sqlite_url = f"sqlite:///{course / 'gradebook.db'}"
    register_missing_assignments(CourseFolder.at(course), [args.assignment], say=lambda *_: None)
    name, grade_cells, solution_cells, source_cells = cells_of(sqlite_url, args.assignment)
    print(f"one submission: {len(grade_cells)} graded cells, {len(solution_cells)} answer cells, "
          f"{len(source_cells)} source cells, 7 gradebook sessions")
    results: dict[str, dict[int, float]] = {"sqlite + lock": {}, "postgresql": {}}
    for writers in (1, 2, 4, 8):
        results["sqlite + lock"][writers] = measure(sqlite_url, str(course / ".gradebook.lock"), args.assignment,
                                                    writers, args.per_writer, f"sq{writers}")
    with PrivatePostgres(work / "pg") as server:
        pg_url = server.create_database("course")
        with open(course / "nbgrader_config.py", "a", encoding="utf-8") as config:
            config.write(f"\nc.CourseDirectory.db_url = {pg_url!r}\n")
        register_missing_assignments(CourseFolder.at(course), [args.assignment], say=lambda *_: None)
        for writers in (1, 2, 4, 8):
            results["postgresql"][writers] = measure(pg_url, None, args.assignment, writers, args.per_writer,
                                                     f"pg{writers}")
    print(f"\n{'writers':<16}" + "".join(f"{w:>10}" for w in (1, 2, 4, 8)) + "   (submissions recorded per second)")
    for backend, rates in results.items():
        print(f"{backend:<16}" + "".join(f"{rates[w]:>10.1f}" for w in (1, 2, 4, 8)))
    if args.seconds_per_submission:
        for backend, rates in results.items():
            best = max(rates.values())
            print(f"{backend}: at {args.seconds_per_submission:.2f} s of grading per submission, the gradebook keeps "
                  f"up with about {best * args.seconds_per_submission:.0f} grading cores")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
