"""A class on JupyterHub, started by the project's own files (deploy/hub, course_tools.hub), in Chromium.

One hub on free 127.0.0.1 ports with PAM, LocalProcessSpawner, the proxy from npm, formgrader as the
service of a shared grader account and the idle culler. Accounts: an instructor, two graders, two
students (from roster CSVs) and the grader account, created here and removed at the end. The steps run
in order and share the hub (module fixtures):

1. hub_ada logs in on the hub's login page, fetches 01_testing from the Assignment List, answers
   ``normalize_context`` in the notebook, runs it, validates it and submits it;
2. hub_ben submits the blank notebook;
3. hub_gina (a grader) logs in, opens formgrader through the hub and sees both submissions (with their
   roster names); a student cannot open formgrader;
4. the grader account autogrades them with the trusted pipeline; hub_gina enters a manual grade;
5. feedback is generated and released; hub_ada fetches it and opens it: her score, no hidden tests;
6. hub_ada's own kernel cannot read hub_ben's home, the course folder or the gradebook;
7. the hub stops, and nothing it started is left running.

Screenshots of each step go to tests/artifacts/hub/ (git-ignored). Skipped, with the reason, when not
root (accounts, PAM), without Node.js/npm (the proxy), Chromium, Playwright or a system Python.
"""

from __future__ import annotations

import csv
import json
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from course_tools import hub
from course_tools.demo import sample_class
from course_tools.grading.gradebook import open_gradebook, read_grades
from course_tools.notebooks.cells import cell_grade_id
from course_tools.publish import exchange

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts" / "hub"
CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"]
ASSIGNMENT = "01_testing"
ANSWERED = "normalize_context"            # the exercise hub_ada answers in the browser
WRITTEN = "testing_across_modalities"    # the written answer hub_gina grades by hand
INSTRUCTOR, GRADERS, STUDENTS, GRADER_ACCOUNT = "hub_ivy", ("hub_gina", "hub_gus"), ("hub_ada", "hub_ben"), "hub_grader"
ROSTER = [  # nbgrader's `db student import` columns, plus the LMS's user id
    {"id": "hub_ada", "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.org", "lms_user_id": "lms-1001"},
    {"id": "hub_ben", "first_name": "Ben", "last_name": "Okri", "email": "ben@example.org", "lms_user_id": "lms-1002"},
]
LAB_SETTINGS = {  # no news prompt; every cell rendered, so every cell is in the DOM
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": '{"fetchNews": "false", "checkForUpdates": false}',
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": '{"windowingMode": "none"}',
}


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "not root: the hub test creates system accounts (useradd) that log in through PAM"
    if not (shutil.which("node") or shutil.which("nodejs")) or (not hub.PROXY.exists() and not shutil.which("npm")):
        return "no Node.js/npm: JupyterHub's configurable-http-proxy is a Node.js program (apt-get install nodejs npm)"
    if not Path(CHROMIUM).is_file():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if exchange.system_python() is None:
        return f"no system python{sys.version_info[0]}.{sys.version_info[1]} for the students' environment"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as error:
        return f"Playwright for Python is not installed ({error})"
    return None


pytestmark = pytest.mark.skipif(_missing() is not None, reason=f"HUB TEST SKIPPED: {_missing()}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def write_csv(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(hub.ROSTER_COLUMNS))
        writer.writeheader()
        writer.writerows(rows)
    return path


def live_processes() -> list[tuple[str, str, str, str]]:
    """(uid, pid, session id, command line) of every process that has not ended. A zombie (state Z) has ended: it
    waits only for its parent to collect its exit status, which for an orphan is the machine's init, and an init
    such as a container's may collect it seconds later."""
    listing = subprocess.run(["ps", "-eo", "uid=,pid=,sid=,stat=,args="], capture_output=True, text=True).stdout
    rows = [line.split(None, 4) for line in listing.splitlines()]
    return [(uid, pid, sid, args) for uid, pid, sid, stat, *rest in rows if not stat.startswith("Z")
            for args in [rest[0] if rest else ""]]


def processes_of(users) -> list[str]:
    uids = {str(pwd.getpwnam(u).pw_uid) for u in users if hub.account_exists(u)}
    return [f"{uid} {pid} {args}" for uid, pid, _, args in live_processes() if uid in uids]


def as_student(user: str, *command: str) -> subprocess.CompletedProcess:
    account = pwd.getpwnam(user)
    env = {"HOME": account.pw_dir, "USER": user, "LOGNAME": user, "LANG": "C.UTF-8",
           "PATH": f"{Path(command[0]).parent}:/usr/bin:/bin"}
    done = subprocess.run(list(command), cwd=account.pw_dir, env=env, user=account.pw_uid, group=account.pw_gid,
                          extra_groups=[], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


class Class:
    seconds: dict[str, float]


@pytest.fixture(scope="module")
def klass():
    """The hub set up, the roster added, the hub started; stopped and every account removed at the end."""
    from course_tools.grading.gradebook import course_id

    start = time.perf_counter()
    everybody = (INSTRUCTOR, *GRADERS, *STUDENTS, GRADER_ACCOUNT)
    for user in everybody:  # left by an interrupted run
        hub.remove_account(user)
    base = Path(tempfile.mkdtemp(prefix="course-hub-"))
    os.chmod(base, 0o755)
    k = Class()
    k.seconds = {}
    k.base = base
    k.passwords = {user: secrets.token_urlsafe(12) for user in everybody}
    k.settings = hub.HubSettings(
        state=str(base / "state"), exchange=str(base / "exchange"), environment=str(base / "python"),
        course=str(base / "course"), course_id=course_id(ROOT), instructor=INSTRUCTOR, grader_account=GRADER_ACCOUNT,
        port=free_port(), hub_port=free_port(), proxy_api_port=free_port(), formgrader_port=free_port(),
        cull_idle_seconds=600)
    process = None
    try:
        t = time.perf_counter()
        hub.create_account(INSTRUCTOR, k.passwords[INSTRUCTOR])
        hub.setup(k.settings, [ASSIGNMENT], ROOT)
        k.seconds["setup"] = time.perf_counter() - t
        hub.add_roster(k.settings, write_csv(base / "students.csv", ROSTER), passwords=k.passwords)
        hub.add_roster(k.settings, write_csv(base / "graders.csv", [{"id": g} for g in GRADERS]), graders=True,
                       passwords=k.passwords)
        for user in (*STUDENTS, *GRADERS):
            home = Path(pwd.getpwnam(user).pw_dir)
            for name, text in LAB_SETTINGS.items():
                path = home / ".jupyter" / "lab" / "user-settings" / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
            hub._chown_tree(home / ".jupyter", pwd.getpwnam(user))
        hub.course_command(k.settings, "release", ASSIGNMENT, capture=True)
        t = time.perf_counter()
        process = hub.start(k.settings, log=base / "hub.log")
        k.process = process
        hub.wait_until_up(k.settings, process)
        k.seconds["hub start"] = time.perf_counter() - t
        yield k
    finally:
        if process is not None:
            hub.stop(process)
            k.left_running = processes_of(everybody)
            k.hub_group_left = subprocess.run(["pgrep", "-s", str(process.pid)], capture_output=True, text=True).stdout
        k.seconds["total"] = time.perf_counter() - start
        print("\nhub test timings: " + ", ".join(f"{name} {s:.0f} s" for name, s in k.seconds.items()))
        if (base / "hub.log").exists():
            shutil.copy(base / "hub.log", ARTIFACTS / "hub.log") if ARTIFACTS.is_dir() else None
        for user in everybody:
            for line in processes_of([user]):
                os.kill(int(line.split()[1]), 9)
            hub.remove_account(user)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield chromium
        chromium.close()


def log_in(browser, klass, user: str, next_url: str = ""):
    """A fresh browser context, logged in as ``user`` through the hub's login page."""
    context = browser.new_context(viewport={"width": 1400, "height": 950})
    context.set_default_timeout(90_000)
    page = context.new_page()
    page.goto(f"{klass.settings.url}/hub/login" + (f"?next={next_url}" if next_url else ""))
    page.fill("#username_input", user)
    page.fill("#password_input", klass.passwords[user])
    shot(page, f"login_{user}")
    page.click("#login_submit")
    return page


@pytest.fixture(scope="module")
def ada(browser, klass):
    t = time.perf_counter()
    page = log_in(browser, klass, "hub_ada")
    page.wait_for_url(re.compile(r"/user/hub_ada/lab"), timeout=180_000)
    page.wait_for_selector("#jp-main-dock-panel")
    page.wait_for_selector(".jp-DirListing-item, .jp-DirListing-content")
    klass.seconds["student login + spawn"] = time.perf_counter() - t
    yield page
    page.context.close()


def menu(page, top: str, item: str):
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{top}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).first.click()


def wait_idle(page, timeout: float = 180_000):
    """Every code cell of the visible notebook has run or was skipped (no [*]) and the kernel is idle."""
    page.wait_for_function("""() => {
        const prompts = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-InputPrompt')];
        const bar = document.querySelector('#jp-main-statusbar');
        return prompts.every(p => !p.textContent.includes('*')) && bar && /Idle/i.test(bar.textContent);
    }""", timeout=timeout)


def reference_answer(name: str) -> str:
    source = nbformat.read(str(ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), as_version=4)
    cell, = [c for c in source.cells if cell_grade_id(c) == name]
    return re.sub(r"\n?\s*### (BEGIN|END) SOLUTION", "", cell.source)


def cell_index(nb, name: str) -> int:
    return [i for i, c in enumerate(nb.cells) if cell_grade_id(c) == name][0]


def answer_cell_index(path: Path, name: str) -> int:
    return cell_index(nbformat.read(str(path), as_version=4), name)


def saved_answer(path: Path, name: str) -> bool:
    """The notebook on disk holds an answer (not the stub) in ``name``'s cell."""
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception:  # being written
        return False
    # One read only: the file may be rewritten between two (it was, under load, and read as '').
    source = nb.cells[cell_index(nb, name)].source
    return f"def {name}" in source and "NotImplementedError" not in source


# --------------------------------------------------------------------------- 1. a student works and submits

def test_a_student_fetches_answers_validates_and_submits_in_the_browser(klass, ada):
    from playwright.sync_api import expect

    t = time.perf_counter()
    page = ada
    shot(page, "01_student_lab")
    menu(page, "Nbgrader", "Assignment List")
    released = page.locator("#released_assignments_list")
    expect(released).to_contain_text(ASSIGNMENT, timeout=90_000)
    shot(page, "02_assignment_list")
    released.get_by_role("button", name="Fetch").click()
    expect(page.locator("#fetched_assignments_list")).to_contain_text(ASSIGNMENT, timeout=90_000)
    notebook = Path(pwd.getpwnam("hub_ada").pw_dir) / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert notebook.stat().st_uid == pwd.getpwnam("hub_ada").pw_uid, "the fetched notebook is not hers"

    page.goto(f"{klass.settings.url}/user/hub_ada/lab/tree/{ASSIGNMENT}/{ASSIGNMENT}.ipynb")
    page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell")
    wait_idle(page)
    cell = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").nth(
        answer_cell_index(notebook, ANSWERED))
    editor = cell.locator(".cm-content")
    editor.scroll_into_view_if_needed()
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(reference_answer(ANSWERED))
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + 60
    while not saved_answer(notebook, ANSWERED):
        assert time.monotonic() < deadline, "the answer was not saved"
        time.sleep(0.5)
    menu(page, "Run", "Run All Cells")
    wait_idle(page)
    cell.scroll_into_view_if_needed()
    shot(page, "03_student_answered_and_ran")
    # her answer ran: its visible test cell (the next test of normalize_context) shows no error
    test = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").nth(
        answer_cell_index(notebook, f"test_{ANSWERED}_visible"))
    assert re.search(r"\[\d+\]", test.locator(".jp-InputPrompt").inner_text()), "the visible test did not run"
    assert test.locator('[data-mime-type="application/vnd.jupyter.error"]').count() == 0, test.inner_text()[:2000]

    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Toolbar").get_by_role(
        "button", name=re.compile("Validate")).click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Validation Results", timeout=240_000)
    shot(page, "04_student_validated")
    # nbgrader shows the first failing test cell: a later exercise's (left blank), never her answer's
    expect(dialog).to_contain_text("The following cell failed")
    assert f"Check {ANSWERED}" not in dialog.inner_text(), dialog.inner_text()[:2000]
    dialog.get_by_role("button", name=re.compile("Ok", re.I)).click()

    menu(page, "Nbgrader", "Assignment List")
    fetched = page.locator("#fetched_assignments_list")
    expect(fetched).to_contain_text(ASSIGNMENT)
    fetched.get_by_role("button", name="Submit").first.click()
    inbound = Path(klass.settings.exchange) / klass.settings.course_id / "inbound"
    deadline = time.monotonic() + 90
    while not list(inbound.glob(f"hub_ada+{ASSIGNMENT}+*")):
        assert time.monotonic() < deadline, "no submission of hub_ada arrived in the exchange"
        time.sleep(0.5)
    page.wait_for_timeout(1000)
    shot(page, "05_student_submitted")
    submitted, = inbound.glob(f"hub_ada+{ASSIGNMENT}+*")
    handed_in = nbformat.read(str(submitted / f"{ASSIGNMENT}.ipynb"), as_version=4)
    assert f"def {ANSWERED}" in handed_in.cells[answer_cell_index(notebook, ANSWERED)].source
    klass.seconds["student works in the browser"] = time.perf_counter() - t


def test_a_second_student_submits_the_blank_notebook(klass):
    python = Path(klass.settings.environment) / "bin" / "python"
    as_student("hub_ben", str(python), "-m", "nbgrader", "fetch_assignment", ASSIGNMENT)
    as_student("hub_ben", str(python), "-m", "nbgrader", "submit", ASSIGNMENT)
    inbound = Path(klass.settings.exchange) / klass.settings.course_id / "inbound"
    assert len(list(inbound.glob(f"hub_ben+{ASSIGNMENT}+*"))) == 1


# --------------------------------------------------------------------------- 2. graders

@pytest.fixture(scope="module")
def gina(browser, klass):
    hub.course_command(klass.settings, "collect", ASSIGNMENT, capture=True)
    page = log_in(browser, klass, "hub_gina", next_url=f"/services/{klass.settings.course_id}/formgrader")
    page.wait_for_url(re.compile(rf"/services/{klass.settings.course_id}/formgrader"), timeout=180_000)
    yield page
    page.context.close()


def test_a_grader_opens_formgrader_through_the_hub_and_sees_both_submissions(klass, gina):
    from playwright.sync_api import expect

    page = gina
    expect(page.locator("body")).to_contain_text("Manage Assignments")
    expect(page.locator("body")).to_contain_text(ASSIGNMENT)
    shot(page, "06_grader_formgrader")
    page.goto(f"{klass.settings.url}/services/{klass.settings.course_id}/formgrader/manage_students")
    for row in ROSTER:  # the roster's names, not "None, None"
        expect(page.locator("body")).to_contain_text(f"{row['last_name']}, {row['first_name']}")
    shot(page, "07_grader_students_from_roster")
    page.goto(f"{klass.settings.url}/services/{klass.settings.course_id}/formgrader/manage_submissions/{ASSIGNMENT}")
    for student in STUDENTS:
        expect(page.locator("body")).to_contain_text(student)
    shot(page, "08_grader_sees_both_submissions")


def test_a_student_cannot_open_formgrader_or_another_students_server(klass, ada):
    reply = ada.context.request.get(f"{klass.settings.url}/services/{klass.settings.course_id}/formgrader",
                                    max_redirects=5)
    assert reply.status == 403 and "Manage Assignments" not in reply.text(), (reply.status, reply.url)
    other = ada.context.request.get(f"{klass.settings.url}/user/hub_ben/api/contents/{ASSIGNMENT}", max_redirects=5)
    assert other.status in (403, 404) and '"content"' not in other.text(), (other.status, other.url)


def test_the_grader_account_autogrades_and_a_grader_enters_a_manual_grade(klass, gina):
    from playwright.sync_api import expect

    t = time.perf_counter()
    graded = hub.course_command(klass.settings, "grade", ASSIGNMENT, capture=True)
    klass.seconds["autograde (trusted pipeline, grader account)"] = time.perf_counter() - t
    log = "".join(d.stdout + d.stderr for d in graded)
    assert "UNSAFE" not in log, log
    course = Path(klass.settings.course)
    for student in STUDENTS:
        graded_copy = course / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        assert graded_copy.stat().st_uid == pwd.getpwnam(GRADER_ACCOUNT).pw_uid, graded_copy
    grades = read_grades(course)
    ada, ben = grades[(ASSIGNMENT, "hub_ada")], grades[(ASSIGNMENT, "hub_ben")]
    answered = {cell: record for cell, record in ada["cells"].items() if cell.startswith(f"test_{ANSWERED}_")}
    assert answered and all(r["auto_score"] == r["max_score"] for r in answered.values()), answered
    assert ada["score"] == sum(r["max_score"] for r in answered.values()) > 0, ada["score"]
    assert ben["score"] == 0, ben["score"]

    page = gina
    with open_gradebook(course) as gb:
        submission_id = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, "hub_ada").id
    page.goto(f"{klass.settings.url}/services/{klass.settings.course_id}/formgrader/submissions/{submission_id}/")
    score = page.locator(f"input.score#{WRITTEN}")
    expect(score).to_be_visible()
    page.wait_for_load_state("networkidle")
    score.click()
    score.press_sequentially("1")
    with page.expect_response(lambda r: "/formgrader/api/grade/" in r.url and r.request.method == "PUT") as put:
        score.press("Tab")
    assert put.value.ok, f"saving the grade failed: {put.value.status} {put.value.text()[:500]}"
    score.scroll_into_view_if_needed()
    shot(page, "09_grader_manual_grade")
    with open_gradebook(course) as gb:
        assert gb.find_grade(WRITTEN, ASSIGNMENT, ASSIGNMENT, "hub_ada").manual_score == 1
    klass.ada_score = read_grades(course)[(ASSIGNMENT, "hub_ada")]


# --------------------------------------------------------------------------- 3. feedback

def test_the_student_fetches_and_reads_her_feedback(klass, ada):
    from playwright.sync_api import expect

    hub.course_command(klass.settings, "feedback", ASSIGNMENT, capture=True)
    page = ada
    page.goto(f"{klass.settings.url}/user/hub_ada/lab")
    page.wait_for_selector("#jp-main-dock-panel")
    menu(page, "Nbgrader", "Assignment List")
    submitted = page.locator("#submitted_assignments_list")
    expect(submitted).to_contain_text(ASSIGNMENT, timeout=90_000)
    submitted.get_by_role("button", name=re.compile("Fetch Feedback")).first.click()
    home = Path(pwd.getpwnam("hub_ada").pw_dir)
    deadline = time.monotonic() + 90
    while not list((home / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html")):
        assert time.monotonic() < deadline, "no feedback arrived in hub_ada's home"
        time.sleep(0.5)
    shot(page, "10_student_fetched_feedback")
    html, = (home / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html")
    page.goto(f"{klass.settings.url}/user/hub_ada/files/{html.relative_to(home)}")
    record = klass.ada_score
    expect(page.locator("body")).to_contain_text("Score:")
    shot(page, "11_student_reads_feedback")
    shown = re.search(r"\(Score: ([0-9.]+) / ([0-9.]+)\)", page.inner_text("body"))
    assert shown and (float(shown[1]), float(shown[2])) == (record["score"], record["max_score"]), (
        f"her feedback does not show her score {record['score']:g} / {record['max_score']:g}")
    text = page.content()
    assert "BEGIN HIDDEN TESTS" not in text
    hidden = nbformat.read(str(ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), as_version=4)
    secret = [c.source.split("### BEGIN HIDDEN TESTS", 1)[1].split("### END HIDDEN TESTS")[0].strip().splitlines()[0]
              for c in hidden.cells if "### BEGIN HIDDEN TESTS" in c.source]
    assert secret and not any(line in html.read_text(encoding="utf-8") for line in secret if len(line) > 25), \
        "a hidden test's code is in the feedback"


# --------------------------------------------------------------------------- 4. isolation

def test_a_students_kernel_cannot_read_another_student_or_the_course(klass, ada):
    from playwright.sync_api import expect

    home = Path(pwd.getpwnam("hub_ada").pw_dir)
    targets = {
        "ben's home": pwd.getpwnam("hub_ben").pw_dir,
        "ben's notebook": f"{pwd.getpwnam('hub_ben').pw_dir}/{ASSIGNMENT}/{ASSIGNMENT}.ipynb",
        "the course folder": klass.settings.course,
        "the source notebook": f"{klass.settings.course}/source/{ASSIGNMENT}/{ASSIGNMENT}.ipynb",
        "the gradebook": f"{klass.settings.course}/gradebook.db",
        "the exchange's inbound": f"{klass.settings.exchange}/{klass.settings.course_id}/inbound",
    }
    probe = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os\n"
        f"targets = {targets!r}\n"
        "for what, path in targets.items():\n"
        "    try:\n"
        "        os.listdir(path) if os.path.isdir(path) or not os.path.exists(path) else open(path, 'rb').read(1)\n"
        "        print(what, 'READABLE')\n"
        "    except PermissionError as error:\n"
        "        print(what, 'PermissionError')\n"
        "    except Exception as error:\n"
        "        print(what, type(error).__name__)")])
    probe.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.write(probe, str(home / "peek.ipynb"))
    os.chown(home / "peek.ipynb", pwd.getpwnam("hub_ada").pw_uid, pwd.getpwnam("hub_ada").pw_gid)
    page = ada
    page.goto(f"{klass.settings.url}/user/hub_ada/lab/tree/peek.ipynb")
    page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell")
    wait_idle(page)
    menu(page, "Run", "Run All Cells")
    output = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output").first
    expect(output).to_contain_text("the exchange's inbound", timeout=90_000)
    shot(page, "12_student_kernel_permission_errors")
    lines = dict(line.rsplit(" ", 1) for line in output.inner_text().strip().splitlines())
    assert lines == {what: "PermissionError" for what in targets}, lines


# --------------------------------------------------------------------------- 5. LMS export and the end

def test_grades_export_for_the_lms_from_the_hub(klass):
    hub.course_command(klass.settings, "export", None, to="lms_grades.csv", capture=True)
    with open(Path(klass.settings.course) / "lms_grades.csv", newline="", encoding="utf-8") as handle:
        rows = {row["lms_user_id"]: row for row in csv.DictReader(handle)}
    grades = read_grades(klass.settings.course)
    for row in ROSTER:
        record = grades[(ASSIGNMENT, row["id"])]
        assert float(rows[row["lms_user_id"]][f"{ASSIGNMENT} ({record['max_score']:g})"]) == record["score"]


def test_everything_stops_with_the_hub(klass):
    hub.stop(klass.process)
    time.sleep(1)
    everybody = (INSTRUCTOR, *GRADERS, *STUDENTS, GRADER_ACCOUNT)
    assert processes_of(everybody) == [], "still running after the hub stopped"
    group = [f"{pid} {args}" for _, pid, sid, args in live_processes() if sid == str(klass.process.pid)]
    assert group == [], f"processes of the hub's session left: {group}"
    for port in (klass.settings.port, klass.settings.hub_port, klass.settings.proxy_api_port,
                 klass.settings.formgrader_port):
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, f"something still listens on {port}"
