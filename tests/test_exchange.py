"""A class through nbgrader's exchange, end to end, with real student accounts.

Three OS accounts are created (nbgrader names a student by the account that runs ``submit``) and
removed afterwards. Students run nbgrader with a world-readable environment on the system's Python
(``course_tools.publish.exchange.student_env``, what a class server has), since their accounts cannot
enter the instructor's home where this venv's interpreter lives. The instructor's course folder
is readable by the instructor only. The cycle, run ONCE (module fixture), for ``01_testing``:

    release_assignment → fetch_assignment → submit → collect → course_tools.grading.autograde
    → course_tools.publish.feedback → release_feedback → fetch_feedback

* nbx_cleo fetches and first submits through JupyterLab's Assignment List: its server extension, in a
  Jupyter server run by her account, called over HTTP as the Assignment List calls it;
* nbx_ada submits the reference solution once, before the due date;
* nbx_ben submits the blank notebook, then (after the due date) a partial one, before collection:
  ``collect`` takes the latest;
* nbx_cleo submits a partial notebook, it is collected, then resubmits the reference solution late:
  ``collect`` keeps the collected one, ``collect --update`` replaces it by the newer one.

The course is 01 without its demonstrations (``support.demo_cells``): what travels and what is graded are the
students' answers; the hub's test takes the real notebook through the same exchange.

Needs root (useradd, switching accounts); skipped with the reason otherwise.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import nbformat
import pytest

from course_tools.demo import sample_class
from course_tools.grading import gradebook
from course_tools.grading.gradebook import open_gradebook, read_grades
from course_tools.grading.nbgrader_apps import ensure_venv_on_path
from course_tools.grading.sandbox import sandbox_status
from course_tools.notebooks.cells import cell_grade_id, is_answer
from course_tools.publish import exchange

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "01_testing"
STUDENTS = ("nbx_ada", "nbx_ben", "nbx_cleo")

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason=(
    "EXCHANGE TESTS SKIPPED: not root. They create OS accounts (useradd) and run nbgrader as them; "
    "run `make test` as root (CI does) to test the exchange."))


def _remove_account(user: str) -> None:
    try:
        pwd.getpwnam(user)
    except KeyError:
        return
    subprocess.run(["userdel", "--remove", user], capture_output=True)


class Class:
    """The exchange, the student environment, the instructor's course and the student accounts."""

    def __init__(self, base: Path):
        self.base = base
        self.exchange = base / "exchange"
        self.course = base / "course"
        self.log: list[str] = []
        self.seconds: dict[str, float] = {}

    # ------------------------------------------------------------------ running commands

    def instructor(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """``nbgrader <args>`` as the instructor (root), from the course folder, with the course's config."""
        env = {**os.environ, exchange.ENVIRONMENT_VARIABLE: str(self.exchange)}
        t = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=self.course, env=env,
                              capture_output=True, text=True, timeout=600)
        self.log.append(f"$ nbgrader {' '.join(args)} ({time.perf_counter() - t:.1f} s)\n{done.stdout}{done.stderr}")
        assert not check or done.returncode == 0, self.log[-1]
        return done

    def course_tool(self, module: str, *args: str) -> subprocess.CompletedProcess:
        t = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", f"course_tools.{module}", "--root", str(self.course), *args],
                              cwd=self.course, capture_output=True, text=True, timeout=900)
        self.log.append(f"$ python -m course_tools.{module} {' '.join(args)} ({time.perf_counter() - t:.1f} s)\n"
                        f"{done.stdout}{done.stderr}")
        assert done.returncode == 0, self.log[-1]
        return done

    def student(self, user: str, *args: str, program: tuple[str, ...] | None = None,
                check: bool = True) -> subprocess.CompletedProcess:
        """``nbgrader <args>`` (or ``program``) as ``user``, from their home, with the student environment."""
        account = pwd.getpwnam(user)
        env = {"HOME": account.pw_dir, "USER": user, "LOGNAME": user, "LANG": "C.UTF-8",
               "PATH": f"{self.python.parent}:/usr/bin:/bin"}
        command = list(program) if program else [str(self.python), "-m", "nbgrader", *args]
        t = time.perf_counter()
        done = subprocess.run(command, cwd=account.pw_dir, env=env, user=account.pw_uid, group=account.pw_gid,
                              extra_groups=[], capture_output=True, text=True, timeout=300)
        self.log.append(f"{user}$ {' '.join(command)} ({time.perf_counter() - t:.1f} s)\n{done.stdout}{done.stderr}")
        assert not check or done.returncode == 0, self.log[-1]
        return done

    def each_student(self, *args: str, students: tuple[str, ...] = STUDENTS) -> None:
        """Every student runs ``nbgrader <args>`` at the same time, as a class does."""
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(len(students)) as pool:
            list(pool.map(lambda user: self.student(user, *args), students))

    def home(self, user: str) -> Path:
        return Path(pwd.getpwnam(user).pw_dir)

    # ------------------------------------------------------------------ what students hand in

    def answer(self, user: str, kind: str) -> dict:
        """Write ``kind``'s answers (sample_class: perfect, partial, blank) into the student's fetched notebook."""
        path = self.home(user) / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        fetched = nbformat.read(str(path), as_version=4)
        info = self.info
        broken = {"perfect": set(), "partial": sample_class.partial_broken(info), "blank": set(info.solutions)}[kind]
        nb = sample_class.build_submission(fetched, info, sample_class.Plan(kind, ASSIGNMENT, broken))
        nbformat.write(nb, str(path))
        account = pwd.getpwnam(user)
        os.chown(path, account.pw_uid, account.pw_gid)
        return answer_cells(nb)

    def submit(self, user: str, kind: str) -> None:
        self.handed_in.setdefault(user, []).append(self.answer(user, kind))
        self.student(user, "submit", ASSIGNMENT)
        time.sleep(0.05)  # distinct timestamps (nbgrader's have microseconds)


class AssignmentList:
    """A Jupyter server run by a student account, called as JupyterLab's Assignment List calls it."""

    def __init__(self, klass: Class, user: str):
        import secrets
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.token = secrets.token_hex(16)
        self.log = klass.base / f"jupyter-server-{user}.log"
        account = pwd.getpwnam(user)
        env = {"HOME": account.pw_dir, "USER": user, "LOGNAME": user, "LANG": "C.UTF-8",
               "PATH": f"{klass.python.parent}:/usr/bin:/bin"}
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [str(klass.python.parent / "jupyter"), "server", "--no-browser", "--ip=127.0.0.1",
                 f"--port={self.port}", f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={account.pw_dir}"],
                cwd=account.pw_dir, env=env, user=account.pw_uid, group=account.pw_gid, extra_groups=[],
                stdout=log, stderr=subprocess.STDOUT)

    def call(self, method: str, path: str):
        import urllib.request

        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"},
                                         data=b"" if method == "POST" else None)
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.loads(response.read())

    def wait(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                self.call("GET", "/api/status")
                return
            except OSError:
                time.sleep(0.5)
        raise AssertionError(f"the student's Jupyter server did not start:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def answer_cells(nb) -> dict[str, str]:
    return {cell_grade_id(c): c.source for c in nb.cells if is_answer(c)}


def set_due_date(course: Path, when: datetime) -> None:
    with open_gradebook(course) as gb:
        gb.update_or_create_assignment(ASSIGNMENT, duedate=when.replace(tzinfo=None))


def inbound(klass: Class) -> list[str]:
    return sorted(p.name for p in (klass.exchange / gradebook.course_id(klass.course) / "inbound").iterdir())


@pytest.fixture(scope="module")
def klass(built_course):
    ensure_venv_on_path()
    start = time.perf_counter()
    base = Path(tempfile.mkdtemp(prefix="course-exchange-"))
    os.chmod(base, 0o755)
    for user in STUDENTS:  # an account left by an interrupted run
        _remove_account(user)
    k = Class(base)
    k.handed_in = {}
    try:
        exchange.setup(k.exchange)
        t = time.perf_counter()
        k.python = exchange.student_env(base / "student-python", k.exchange, gradebook.course_id(ROOT))
        k.seconds["student environment"] = time.perf_counter() - t
        built_course(k.course, [ASSIGNMENT], demos=False)
        os.chmod(k.course, 0o700)  # the instructor's folder: solutions, hidden tests, gradebook
        k.info = sample_class.read_source(ROOT, ASSIGNMENT)
        for user in STUDENTS:
            subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", "--comment", user, user],
                           check=True, capture_output=True)
        cycle = time.perf_counter()
        k.instructor("release_assignment", ASSIGNMENT)
        lab = AssignmentList(k, "nbx_cleo")  # cleo works in Jupyter: the Assignment List's server side
        try:
            k.each_student("fetch_assignment", ASSIGNMENT, students=("nbx_ada", "nbx_ben"))
            lab.wait()
            k.listed = lab.call("GET", f"/assignments?course_id={gradebook.course_id(ROOT)}")
            k.fetched = lab.call("POST", f"/assignments/fetch?course_id={gradebook.course_id(ROOT)}&assignment_id={ASSIGNMENT}")
            k.submit("nbx_ada", "perfect")
            k.submit("nbx_ben", "blank")
            k.handed_in.setdefault("nbx_cleo", []).append(k.answer("nbx_cleo", "partial"))
            k.submitted = lab.call("POST", f"/assignments/submit?course_id={gradebook.course_id(ROOT)}&assignment_id={ASSIGNMENT}")
        finally:
            lab.stop()
        k.due = datetime.now(timezone.utc)
        set_due_date(k.course, k.due)
        time.sleep(0.05)
        k.submit("nbx_ben", "partial")                  # late, and a second submission before collection
        k.instructor("collect", ASSIGNMENT)
        k.cleo_first = (k.course / "submitted" / "nbx_cleo" / ASSIGNMENT / "timestamp.txt").read_text()
        k.submit("nbx_cleo", "perfect")                 # late, after collection
        k.collect_again = k.instructor("collect", ASSIGNMENT)
        k.cleo_kept = (k.course / "submitted" / "nbx_cleo" / ASSIGNMENT / "timestamp.txt").read_text()
        k.collect_update = k.instructor("collect", "--update", ASSIGNMENT)
        t = time.perf_counter()
        grade = ("-j", "2", *([] if sandbox_status()[0] else ["--UNSAFE-no-sandbox"]))
        k.course_tool("autograde", *grade)
        k.seconds["autograde"] = time.perf_counter() - t
        k.course_tool("feedback")
        k.instructor("release_feedback", ASSIGNMENT)
        k.each_student("fetch_feedback", ASSIGNMENT)
        k.seconds["exchange cycle"] = time.perf_counter() - cycle
        # the same notebooks, graded directly (no exchange, no timestamp), in the same gradebook
        for user in STUDENTS:
            direct = k.course / "submitted" / f"direct_{user}" / ASSIGNMENT
            direct.mkdir(parents=True)
            shutil.copy(k.course / "submitted" / user / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", direct)
        k.course_tool("autograde", *grade, *(f"--student=direct_{user}" for user in STUDENTS))
        k.seconds["total"] = time.perf_counter() - start
        print("\n".join(line.splitlines()[0] for line in k.log))
        print("\nexchange test timings: " + ", ".join(f"{name} {s:.0f} s" for name, s in k.seconds.items()))
        yield k
    finally:
        for user in STUDENTS:
            _remove_account(user)
        shutil.rmtree(base, ignore_errors=True)


def test_the_assignment_list_shows_fetches_and_submits_the_released_assignment(klass):
    """What JupyterLab's Assignment List shows and does for a student, through its server extension."""
    assert klass.listed["success"], klass.listed
    assert [(a["assignment_id"], a["status"]) for a in klass.listed["value"]] == [(ASSIGNMENT, "released")]
    assert klass.fetched["success"], klass.fetched
    assert [(a["assignment_id"], a["status"]) for a in klass.fetched["value"]] == [(ASSIGNMENT, "fetched")]
    assert klass.submitted["success"], klass.submitted
    submitted = [a for a in klass.submitted["value"] if a["status"] == "submitted"]
    assert [a["assignment_id"] for a in submitted] == [ASSIGNMENT], klass.submitted


def test_each_student_fetches_their_own_feedback(klass):
    grades = read_grades(klass.course)
    for user in STUDENTS:
        collected = (klass.course / "submitted" / user / ASSIGNMENT / "timestamp.txt").read_text().strip()
        pages = list((klass.home(user) / ASSIGNMENT / "feedback").glob("*/*.html"))
        assert [p.parent.name for p in pages] == [collected], (user, pages, collected)
        page = pages[0]
        assert page.stat().st_uid == pwd.getpwnam(user).pw_uid, f"{page} is not owned by {user}"
        text = page.read_text(encoding="utf-8")
        record = grades[(ASSIGNMENT, user)]
        shown = re.search(r"\(Score: ([0-9.]+) / ([0-9.]+)\)", text)
        assert shown and (float(shown[1]), float(shown[2])) == (record["score"], record["max_score"]), (
            f"{user}'s feedback does not show their score {record['score']:g}/{record['max_score']:g}")
        assert "BEGIN HIDDEN TESTS" not in text


def test_exchange_grades_equal_grading_the_same_notebooks_directly(klass):
    grades = read_grades(klass.course)
    scores = {}
    for user in STUDENTS:
        through, direct = grades[(ASSIGNMENT, user)], grades[(ASSIGNMENT, f"direct_{user}")]
        auto = {cell: record.get("auto_score") for cell, record in through["cells"].items()}
        assert auto == {cell: record.get("auto_score") for cell, record in direct["cells"].items()}, user
        scores[user] = through["score"]
    expected = sample_class.expected_scores(ROOT, [ASSIGNMENT], ("perfect", "partial"))
    assert scores["nbx_ada"] == expected[("perfect", ASSIGNMENT)] > expected[("partial", ASSIGNMENT)]
    assert scores["nbx_ben"] == expected[("partial", ASSIGNMENT)]
    assert scores["nbx_cleo"] == expected[("perfect", ASSIGNMENT)]


def test_the_latest_submission_is_collected_and_nothing_is_lost(klass):
    names = inbound(klass)
    per_student = {user: sorted(n for n in names if n.startswith(f"{user}+{ASSIGNMENT}+")) for user in STUDENTS}
    assert {u: len(v) for u, v in per_student.items()} == {"nbx_ada": 1, "nbx_ben": 2, "nbx_cleo": 2}, names
    for user in STUDENTS:
        collected = klass.course / "submitted" / user / ASSIGNMENT
        latest = max(per_student[user], key=lambda n: n.split("+")[2])
        assert (collected / "timestamp.txt").read_text() == (klass.exchange / gradebook.course_id(klass.course) / "inbound"
                                                             / latest / "timestamp.txt").read_text()
        nb = nbformat.read(str(collected / f"{ASSIGNMENT}.ipynb"), as_version=4)
        assert answer_cells(nb) == klass.handed_in[user][-1], f"{user}: the collected notebook is not their last"
        # every submission is still in the exchange and in the student's own cache
        cache = klass.home(user) / ".local/share/jupyter/nbgrader_cache" / gradebook.course_id(klass.course)
        assert len(list(cache.glob(f"{user}+{ASSIGNMENT}+*"))) == len(klass.handed_in[user])
        for name, cells in zip(sorted(per_student[user], key=lambda n: n.split("+")[2]), klass.handed_in[user]):
            kept = klass.exchange / gradebook.course_id(klass.course) / "inbound" / name / f"{ASSIGNMENT}.ipynb"
            assert answer_cells(nbformat.read(str(kept), as_version=4)) == cells


def test_collect_without_update_keeps_the_collected_submission(klass):
    assert "Submission already exists, use --update to update: nbx_cleo" in klass.collect_again.stderr
    assert klass.cleo_kept == klass.cleo_first
    assert "Updating submission: nbx_cleo" in klass.collect_update.stderr


def test_late_submissions_are_recorded_late(klass):
    with open_gradebook(klass.course) as gb:
        late = {user: gb.find_submission(ASSIGNMENT, user).total_seconds_late for user in STUDENTS}
    assert late["nbx_ada"] == 0 and late["nbx_ben"] > 0 and late["nbx_cleo"] > 0, late


def test_students_cannot_see_each_others_work_or_the_course(klass):
    course_id = gradebook.course_id(klass.course)
    listing = klass.student("nbx_ben", program=("ls", str(klass.exchange / course_id / "inbound")), check=False)
    assert listing.returncode != 0 and "Permission denied" in listing.stderr, listing
    peek = klass.student("nbx_ben", program=("ls", str(klass.course / "source")), check=False)
    assert peek.returncode != 0 and "Permission denied" in peek.stderr, peek
    python = klass.student("nbx_ben", program=(str(klass.python), "-c",
                           "import os, sys, nextword; print(sys.base_prefix, os.path.exists('/root/.pyenv'))"))
    assert not python.stdout.startswith("/root") and python.stdout.split()[-1] == "False", python.stdout
    tools = klass.student("nbx_ben", program=(str(klass.python), "-c", "import course_tools"), check=False)
    assert tools.returncode != 0 and "No module named 'course_tools'" in tools.stderr
