"""The hub's course tools that need no hub: the LMS export, the roster, the demo's own course, PATH for alembic.

tests/test_hub.py runs the whole class on JupyterHub (as root); these run anywhere.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course_tools import hub
from course_tools.grading.gradebook import course_directory, read_grades

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "01_testing"
LMS_IDS = {"perfect": "canvas-501", "partial": "canvas-502"}  # "blank" has none: exported with an empty id


@pytest.fixture(scope="module")
def exported(small_graded_class, tmp_path_factory):
    """The small graded class with a second assignment nobody submitted, exported by the LMS plugin."""
    from nbgrader.api import Gradebook

    from course_tools.notebooks.generate import nbgrader_environment

    course = tmp_path_factory.mktemp("lms") / "course"
    shutil.copytree(small_graded_class, course)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student, lms in LMS_IDS.items():
            gradebook.update_or_create_student(student, lms_user_id=lms)
        gradebook.update_or_create_assignment("zz_not_submitted")
    dest = course / "lms.csv"
    done = subprocess.run([sys.executable, "-m", "nbgrader", "export",
                           "--exporter=course_tools.publish.lms_export.LmsExportPlugin", f"--to={dest}"],
                          cwd=course, capture_output=True, text=True, env=nbgrader_environment(), timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    with open(dest, newline="", encoding="utf-8") as handle:
        return course, list(csv.reader(handle)), done.stdout + done.stderr


def test_lms_export_has_one_row_per_student_and_one_column_per_assignment(exported):
    course, rows, _ = exported
    header, body = rows[0], rows[1:]
    grades = read_grades(course)
    max_score = next(r["max_score"] for (a, _), r in grades.items() if a == ASSIGNMENT)
    assert header == ["lms_user_id", "student_id", "last_name", "first_name", "email",
                      f"{ASSIGNMENT} ({max_score:g})", "zz_not_submitted (0)"], header
    students = sorted({s for (_, s) in grades})
    assert [row[1] for row in body] == students, "one row per student of the gradebook, sorted by id"
    for row in body:
        assert float(row[5]) == grades[(ASSIGNMENT, row[1])]["score"], row
        assert row[6] == "", "no submission is an empty cell (no grade), not a zero"


def test_lms_export_keys_rows_by_the_lms_user_id_and_warns_about_missing_ones(exported):
    _, rows, log = exported
    by_student = {row[1]: row for row in rows[1:]}
    assert {s: by_student[s][0] for s in LMS_IDS} == LMS_IDS
    assert by_student["blank"][0] == ""
    assert "No lms_user_id for blank" in log, log
    assert by_student["partial"][2:5] == ["Lovelace", "Ada", "ada.lovelace@example.org"]


def test_read_roster_takes_nbgrader_columns_and_rejects_bad_account_names(tmp_path):
    good = tmp_path / "roster.csv"
    good.write_text("id,first_name,last_name,email,lms_user_id\nada,Ada,Lovelace,ada@example.org,lms-1\n")
    assert hub.read_roster(good) == [{"id": "ada", "first_name": "Ada", "last_name": "Lovelace",
                                      "email": "ada@example.org", "lms_user_id": "lms-1"}]
    for bad in ("id,first_name\n../etc,x\n", "id,first_name\nada;rm,x\n", "login,first_name\nada,x\n"):
        path = tmp_path / "bad.csv"
        path.write_text(bad)
        with pytest.raises(SystemExit):
            hub.read_roster(path)


def test_the_demo_class_has_its_own_course_id_and_exchange(tmp_path):
    from course_tools.course import load
    from course_tools.demo.tour import demo_config

    shutil.copy(ROOT / "course.toml", tmp_path / "course.toml")
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    with open(tmp_path / "nbgrader_config.py", "a", encoding="utf-8") as handle:
        handle.write("\n" + demo_config(ROOT))
    demo = course_directory(tmp_path)
    assert demo.course_id != load(ROOT).id and demo.course_id.startswith(load(ROOT).id)
    live = course_directory(ROOT)
    assert demo.course_id != live.course_id
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(tmp_path)).load_config()
    assert config.Exchange.root == str(tmp_path / "exchange")


def test_nbgrader_finds_alembic_without_the_venv_on_path(tmp_path):
    """README's `.venv/bin/nbgrader collect 01_testing`, run with a PATH that does not hold the venv."""
    for name in ("course.toml", "nbgrader_config.py"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "exchange").mkdir(mode=0o777)
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
           "NBGRADER_EXCHANGE": str(tmp_path / "exchange")}
    assert shutil.which("alembic", path=env["PATH"]) is None, "this check needs a PATH without alembic"
    done = subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "db", "student", "list"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "alembic" not in done.stderr, done.stdout + done.stderr
    assert (tmp_path / "gradebook.db").exists()


def session_of(pid: int) -> int | None:
    try:
        return os.getsid(pid)
    except ProcessLookupError:   # gone between the listing and the question (bash's child execs setsid)
        return None


def test_stopping_the_hub_stops_what_left_its_session_but_carries_its_mark(tmp_path):
    """JupyterHub starts its proxy in a session of its own: a hub stopped under load can leave it (and a
    service) running with no parent. ``hub.stop`` kills the group and every process with the hub's mark."""
    import time

    mark = f"{hub.SETTINGS_VARIABLE}={tmp_path / 'hub.json'}"
    name, value = mark.split("=", 1)
    hub_like = subprocess.Popen(["bash", "-c", "setsid sleep 300 & sleep 300"], start_new_session=True,
                                env={**os.environ, name: value})
    hub_like.hub_mark = mark.encode()
    # bash, its sleep, and the sleep in a new session; until setsid has run, bash's child is still in the hub's
    # session, so wait for the escape itself (on a busy machine it came after 5 s)
    deadline = time.monotonic() + 60
    while True:
        escaped = [pid for pid in hub.marked_processes(hub_like.hub_mark) if session_of(pid) not in (None, hub_like.pid)]
        if escaped or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert len(escaped) == 1, "the test needs one process outside the hub's session"
    unmarked = subprocess.Popen(["sleep", "300"], start_new_session=True)   # not the hub's: must survive
    try:
        hub.stop(hub_like, timeout=1)
        time.sleep(0.3)
        assert hub.marked_processes(hub_like.hub_mark) == []
        assert unmarked.poll() is None
    finally:
        unmarked.kill()
        unmarked.wait()
