"""Grading past one machine, for real: a Dask scheduler and two worker processes on 127.0.0.1, and a
PostgreSQL gradebook started from Debian's server binaries on a private port.

One small class (assignment 01_testing without its demonstrations, ``support.demo_cells``; four kinds of
students, one for each kind of outcome: full marks, cells lost, a cheat's zero, full marks from tests put
back) is graded serially into SQLite once; every other way of grading it must record the same grades, once
each:

* on the Dask cluster into PostgreSQL (workers write concurrently, no file lock);
* on the Dask cluster while one worker is killed mid-run (its work is redone elsewhere);
* resumed: a second run grades only what is missing; ``--force`` regrades everything.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from course_tools.demo import sample_class
from course_tools.grading.batch import grade_class
from course_tools.grading.gradebook import read_grades
from course_tools.grading.nbgrader_apps import ensure_venv_on_path
from course_tools.grading.sandbox import sandbox_status
from support.dask_cluster import LocalDaskCluster
from support.gradebook_rows import gradebook_row_counts
from support.postgres import PrivatePostgres, server_binaries

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "01_testing"
STUDENTS = ("perfect", "partial", "always_equal_cheat", "deleted_tests")
FIRST = len(STUDENTS) // 2  # graded before the interruption

pytestmark = pytest.mark.skipif(not sandbox_status()[0], reason=f"NO SANDBOX HERE: {sandbox_status()[1]}")


@pytest.fixture(scope="module")
def base(tmp_path_factory, built_course):
    """The class, and its grades from a serial SQLite run: what every other run must reproduce."""
    ensure_venv_on_path()
    folder = tmp_path_factory.mktemp("scale")
    course = folder / "serial"
    built_course(course, [ASSIGNMENT], demos=False)
    sample_class.write_class(course, ROOT, [ASSIGNMENT], students=STUDENTS, progress=None)
    fresh = folder / "fresh"  # what each run starts from: no gradebook, nothing graded
    fresh.mkdir()
    for name in ("source", "release", "submitted"):
        shutil.copytree(course / name, fresh / name)
    for name in ("course.toml", "nbgrader_config.py"):
        shutil.copy(course / name, fresh / name)
    results = grade_class(course, [ASSIGNMENT], workers=1, progress=None)
    assert all(r.ok for r in results), [r.line() for r in results]
    return {"folder": folder, "fresh": fresh, "grades": _comparable(read_grades(course)),
            "rows": gradebook_row_counts(course)}


@pytest.fixture(scope="module")
def cluster(base):
    running = LocalDaskCluster(base["folder"], workers=2)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def postgres():
    if server_binaries() is None:
        pytest.skip("NO POSTGRESQL SERVER HERE: apt-get install postgresql (.ci/run does)")
    with PrivatePostgres(tempfile.mkdtemp(prefix="course-pg-")) as server:
        yield server


def _comparable(grades: dict) -> dict:
    return {key: {"score": record["score"], "max_score": record["max_score"],
                  "cells": {name: (cell.get("auto_score"), cell.get("max_score")) for name, cell in record["cells"].items()}}
            for key, record in grades.items()}


def _course(base, name: str, db_url: str | None = None) -> Path:
    course = base["folder"] / name
    shutil.copytree(base["fresh"], course)
    if db_url:
        with open(course / "nbgrader_config.py", "a", encoding="utf-8") as config:
            config.write(f"\nc.CourseDirectory.db_url = {db_url!r}\n")
    return course


def test_dask_cluster_into_postgresql_records_the_serial_sqlite_grades(base, cluster, postgres):
    url = postgres.create_database("course_dask")
    course = _course(base, "dask_pg", url)
    lines = []
    results = grade_class(course, [ASSIGNMENT], cluster=cluster.address, progress=lines.append)
    assert all(r.ok for r in results), [r.line() for r in results]
    assert sum(1 for line in lines if line.lstrip().startswith("[")) == len(STUDENTS), lines
    assert any("Dask cluster" in line and "2 worker(s)" in line for line in lines), lines
    assert _comparable(read_grades(course, url)) == base["grades"]
    counts = gradebook_row_counts(course, url)
    assert counts == base["rows"], counts


def test_a_worker_killed_mid_run_loses_nothing_and_records_nothing_twice(base, cluster):
    course = _course(base, "worker_loss")
    cluster.wait_for_workers(2)
    with cluster.client() as client:
        victim = max(client.run(os.getpid).values())  # one worker process (a nanny keeps a new one coming)
    lines: list[str] = []

    def kill_when_grading_starts():
        deadline = time.monotonic() + 120
        while not any(line.lstrip().startswith("[") for line in lines) and time.monotonic() < deadline:
            time.sleep(0.2)
        os.kill(victim, signal.SIGKILL)  # the nanny starts a new worker process; its task goes elsewhere

    killer = threading.Thread(target=kill_when_grading_starts)
    killer.start()
    results = grade_class(course, [ASSIGNMENT], cluster=cluster.address, progress=lines.append)
    killer.join()
    assert all(r.ok for r in results), [r.line() for r in results]
    assert sorted(r.student for r in results) == sorted(STUDENTS), "a submission was lost or reported twice"
    with pytest.raises(ProcessLookupError):
        os.kill(victim, 0)
    assert _comparable(read_grades(course)) == base["grades"]
    assert gradebook_row_counts(course) == base["rows"]
    cluster.wait_for_workers(2)


def test_an_interrupted_run_resumes_with_what_is_missing_and_force_regrades_all(base, cluster):
    course = _course(base, "resume")
    first = grade_class(course, [ASSIGNMENT], students=list(STUDENTS[:FIRST]), cluster=cluster.address, progress=None)
    assert [r.ok for r in first] == [True] * FIRST
    done = subprocess.run([sys.executable, "-m", "course_tools.autograde", ASSIGNMENT, "--root", str(course),
                           "--cluster", cluster.address], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    skipped = [line for line in done.stdout.splitlines() if "already graded" in line and line.lstrip().startswith("[")]
    assert len(skipped) == FIRST, done.stdout
    graded_now = [line for line in done.stdout.splitlines() if "test cells passed" in line]
    assert sorted(line.split()[3] for line in graded_now) == sorted(STUDENTS[FIRST:]), done.stdout
    assert f"graded {len(STUDENTS) - FIRST}/{len(STUDENTS) - FIRST} submissions" in done.stdout, done.stdout
    assert _comparable(read_grades(course)) == base["grades"]
    again = subprocess.run([sys.executable, "-m", "course_tools.autograde", ASSIGNMENT, "--root", str(course),
                            "--cluster", cluster.address], capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and f"nothing left to grade: all {len(STUDENTS)} submission(s)" in again.stdout, \
        again.stdout + again.stderr
    forced = grade_class(course, [ASSIGNMENT], cluster=cluster.address, force=True, progress=None)
    assert all(r.ok and "already graded" not in " ".join(r.notes) for r in forced), [r.line() for r in forced]
    assert _comparable(read_grades(course)) == base["grades"]
    assert gradebook_row_counts(course) == base["rows"]
