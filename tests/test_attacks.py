"""A class of attackers, graded for real: nothing they try gains points, shows secrets, damages or lingers.

The corpus is ``tests/attacks/`` (one module per attack family of issue 9, one docstring per attack).
ONE module fixture builds a temporary course with ``01_testing`` (the fastest notebook; its demonstrations
emptied, ``support.demo_cells``: the attacks aim at the graded cells and the machinery, not at them), writes
every attack as a submission next to honest classmates whose ids sort before and after the
attackers (``aaa_perfect``; ``mmm_blank`` and ``zzz_perfect``), grades the whole class once with
2 workers through the real pipeline (rebuild from release, bubblewrap sandbox, trusted judge,
nbgrader's gradebook), and generates everyone's feedback. While it runs, the test listens on the
host's 127.0.0.1 (TCP, UDP) and on an abstract unix socket, and plants kernel connection files
pointing at that listener. Every test below reads that one run:

* every attacker scores 0 autograded points (some are also on the review list);
* honest classmates keep exactly their predicted scores, whoever was graded before them;
* no file in the course changes except the autograded copies and the gradebook, and nothing in
  the repository carries the run's marker;
* the gradebook has one submission row per student and one grade row per graded cell;
* no hidden-test line or solution line reaches an attacker's feedback folder, pages carry no live
  markup and stay under the size cap;
* the listener saw nothing, and no process of the run (marker in argv, sandbox uid) is left;
* time: each submission within the per-notebook limit (plus nbgrader's overhead).

Attacks that get through today carry ``known={check: reason}`` in the corpus and are
``xfail(strict=True)`` for that check only.

The slowest members wait rather than compute (``att_00_sleep_in_every_cell``, and
``att_10_thread_answers_every_request``, whose sandbox stops answering): waiting is charged
against the CPU budget one for one (``judge.IDLE_CHARGE``), so each stops at the notebook's budget
rather than at the wall-clock backstop (``WALL_FACTOR`` times that), and the module takes about
that long plus the rest of the class on the other worker. So the course graded here sets smaller
budgets than the real one (``CELL_TIMEOUT``, ``NOTEBOOK_TIMEOUT`` in its own ``nbgrader_config.py``):
what the attacks show about a limit does not depend on its size, and an honest 01 needs under 1 s
of the sandbox's CPU time per cell and under 3 s per notebook. ``test_time_is_bounded_per_notebook``
checks that these budgets are the ones that stopped the sleeper. The figures are printed by
``test_report_figures``.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import select
import socket
import tempfile
import threading
import time
import uuid
from pathlib import Path

import nbformat
import pytest

from attacks import ATTACKS, FAMILIES, Context, damage
from course_tools.demo import sample_class
from course_tools.grading.batch import grade_class
from course_tools.grading.cgroups import grader_pid, stale_cgroups
from course_tools.grading.gradebook import read_grades
from course_tools.grading.judge import WALL_FACTOR
from course_tools.grading.nbgrader_apps import ensure_venv_on_path
from course_tools.grading.sandbox import SANDBOX_UID_BASE, sandbox_status, tree_pids
from course_tools.notebooks.cells import is_graded
from course_tools.publish import feedback
from support.gradebook_rows import gradebook_row_counts

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "01_testing"
HONEST = {"aaa_perfect": "perfect", "mmm_blank": "blank", "zzz_perfect": "perfect"}
STUDENTS = sorted(list(HONEST) + [a.student for a in ATTACKS])
BY_STUDENT = {a.student: a for a in ATTACKS}
SUCCESS = damage.SUCCESS
OVERHEAD = 45.0  # seconds nbgrader and the sandbox may add to the per-notebook limit
# The judge's budgets in the graded course (the real course's are 20 s and 120 s): attackers that wait run
# them out, honest 01 submissions use a tenth of them.
CELL_TIMEOUT = 8.0
NOTEBOOK_TIMEOUT = 30.0

SANDBOX_OK, SANDBOX_STATUS = sandbox_status()
pytestmark = pytest.mark.skipif(
    not SANDBOX_OK, reason=f"!!! SANDBOX UNAVAILABLE: THE ATTACK SUITE DID NOT RUN, ISOLATION IS UNTESTED !!! "
                           f"{SANDBOX_STATUS}")


REFUSED = sorted(a.student for a in ATTACKS if a.refused)
GRADED = sorted(set(STUDENTS) - set(REFUSED))


def _per(check: str):
    """One pytest param per graded attacker; an attack that gets through ``check`` today is a strict xfail."""
    params = []
    for attack in ATTACKS:
        if attack.refused and check in ("graded", "score"):
            continue
        reason = attack.known.get(check)
        marks = [pytest.mark.xfail(strict=True, reason=f"KNOWN VULNERABILITY: {reason}")] if reason else []
        params.append(pytest.param(attack.student, marks=marks, id=attack.student))
    return params


# --------------------------------------------------------------------------- what the host observes

class Listener:
    """TCP and UDP on the host's 127.0.0.1 and an abstract unix socket; records everything that arrives."""

    def __init__(self, marker: str):
        self.tcp = socket.create_server(("127.0.0.1", 0))
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.unix_name = f"attack-{marker}"
        self.unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.unix.bind("\0" + self.unix_name)
        self.unix.listen()
        self.events: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def port(self) -> int:
        return self.tcp.getsockname()[1]

    @property
    def udp_port(self) -> int:
        return self.udp.getsockname()[1]

    def _serve(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.tcp, self.udp, self.unix], [], [], 0.2)
            for sock in ready:
                try:
                    if sock is self.udp:
                        data, peer = sock.recvfrom(65536)
                        self.events.append(f"udp from {peer}: {data[:80]!r}")
                        continue
                    conn, peer = sock.accept()
                    conn.settimeout(1)
                    try:
                        data = conn.recv(200)
                    except OSError:
                        data = b""
                    conn.close()
                    self.events.append(f"{'tcp' if sock is self.tcp else 'unix'} connection from {peer}: {data!r}")
                except OSError as exc:
                    self.events.append(f"listener error {exc!r}")

    def start(self) -> "Listener":
        self._thread.start()
        return self

    def stop(self) -> list[str]:
        self._stop.set()
        self._thread.join(5)
        for sock in (self.tcp, self.udp, self.unix):
            sock.close()
        return self.events


def plant_kernel_files(marker: str, port: int) -> list[Path]:
    """Connection files of a 'kernel' (the listener) where Jupyter keeps them on this host."""
    from jupyter_core.paths import jupyter_runtime_dir

    info = {"ip": "127.0.0.1", "transport": "tcp", "key": marker, "signature_scheme": "hmac-sha256",
            **{f"{name}_port": port for name in ("shell", "iopub", "stdin", "control", "hb")}}
    paths = [Path(tempfile.gettempdir()) / f"kernel-{marker}.json", Path(jupyter_runtime_dir()) / f"kernel-{marker}.json"]
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(info), encoding="utf-8")
    return paths


def snapshot(root: Path, skip=lambda rel: False) -> dict[str, str]:
    """Relative path -> sha256 (or the target of a symlink) of every file under ``root`` (or the file itself)."""
    found = {}
    paths = [root] if root.is_file() else [Path(d) / f for d, _, files in os.walk(root) for f in files]
    for path in paths:
        rel = str(path.relative_to(root)) if path != root else path.name
        if skip(rel) or "__pycache__" in path.parts:
            continue
        try:
            found[rel] = ("link:" + os.readlink(path)) if path.is_symlink() else hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as exc:  # a file that vanished while walking (someone else's work in the repository)
            found[rel] = f"unreadable: {exc.__class__.__name__}"
    return found


def differences(before: dict, after: dict) -> list[str]:
    return sorted([f"changed {k}" for k in before if k in after and before[k] != after[k]]
                  + [f"deleted {k}" for k in before if k not in after] + [f"new {k}" for k in after if k not in before])


def processes() -> list[tuple[int, int, str]]:
    """(pid, uid, cmdline) of every process on the host."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as handle:
                uid = int(next(line for line in handle if line.startswith("Uid:")).split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, StopIteration):
            continue
        found.append((int(entry), uid, cmdline))
    return found


def _inside_a_sandbox(pid: int) -> bool:
    """Whether ``pid`` descends from a bwrap process (a live sandbox: the lead's, or another run's)."""
    for _ in range(64):
        try:
            with open(f"/proc/{pid}/comm") as handle:
                if handle.read().strip() == "bwrap":
                    return True
            with open(f"/proc/{pid}/status") as handle:
                pid = int(next(line for line in handle if line.startswith("PPid:")).split()[1])
        except (OSError, StopIteration, ValueError):
            return False
        if pid <= 1:
            return False
    return False


class GraderWatch:
    """The pids of this process's descendants seen while it grades (its grading workers among them), so that only
    cgroups this run's graders made count: another test run on the host may kill its graders on purpose."""

    def __init__(self, every: float = 0.2):
        self.pids, self.every = {os.getpid()}, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.wait(self.every):
            self.pids |= set(tree_pids(os.getpid()))

    def __enter__(self) -> "GraderWatch":
        self.pids |= set(tree_pids(os.getpid()))
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def orphaned_sandbox_processes() -> list[tuple[int, int, str]]:
    """Processes running as a sandbox uid outside any live sandbox: they escaped the one that made them."""
    return [p for p in processes() if p[1] >= SANDBOX_UID_BASE and not _inside_a_sandbox(p[0])]


def sandbox_key_users() -> dict[int, str]:
    """Sandbox uids that own keys in the kernel's keyrings (/proc/key-users lists every uid holding one)."""
    try:
        with open("/proc/key-users") as handle:
            rows = [line.split(":", 1) for line in handle if ":" in line]
    except OSError:
        return {}
    return {int(uid): usage.strip() for uid, usage in rows if uid.strip().isdigit() and int(uid) >= SANDBOX_UID_BASE}


# --------------------------------------------------------------------------- secrets

def _lines(source: str, begin: str, end: str) -> set[str]:
    found, inside = set(), False
    for line in source.splitlines():
        if begin in line or end in line:
            inside = begin in line
        elif inside:
            found.add(" ".join(line.split()))
    return found


def secret_lines(course: Path) -> set[str]:
    """Hidden-test and solution lines of the source notebook that appear nowhere in the released notebook."""
    source = nbformat.read(str(course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), as_version=4)
    release = nbformat.read(str(course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), as_version=4)
    public = "\n".join(" ".join(line.split()) for cell in release.cells for line in cell.source.splitlines())
    secret = set()
    for cell in source.cells:
        secret |= _lines(cell.source, "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
        secret |= _lines(cell.source, "BEGIN SOLUTION", "END SOLUTION")
    return {line for line in secret if len(line) >= 16 and not line.startswith("#") and line not in public}


def visible_text(page: str) -> str:
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    return "\n".join(" ".join(line.split()) for line in text.splitlines())


def readable_text(path: Path) -> str:
    """What a student reads in a file of their feedback folder: a page's text, a notebook's sources, or raw text."""
    raw = path.read_bytes().decode("utf-8", errors="replace")
    if path.suffix == ".html":
        return visible_text(raw)
    try:
        data = json.loads(raw)
        if isinstance(data, dict) and isinstance(data.get("cells"), list):
            raw = "\n".join("".join(c.get("source", "")) for c in data["cells"] if isinstance(c, dict))
    except ValueError:
        pass
    return "\n".join(" ".join(line.split()) for line in raw.splitlines())


# --------------------------------------------------------------------------- the one graded run

@pytest.fixture(scope="module")
def run(tmp_path_factory, built_course):
    ensure_venv_on_path()
    started = time.monotonic()
    course = (tmp_path_factory.mktemp("attacks") / "course").resolve()
    built_course(course, [ASSIGNMENT], cell_timeout=CELL_TIMEOUT, notebook_timeout=NOTEBOOK_TIMEOUT, demos=False)
    marker = uuid.uuid4().hex[:16]
    listener = Listener(marker).start()
    ctx = Context(course=course, main=ROOT, assignment=ASSIGNMENT, marker=marker, port=listener.port,
                  udp_port=listener.udp_port, unix_name=listener.unix_name, victims=tuple(HONEST),
                  cell_timeout=judge_limits(course).cell_timeout)

    release_nb = nbformat.read(str(course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), as_version=4)
    info = sample_class.read_course(course, [ASSIGNMENT])[ASSIGNMENT]
    plans = sample_class.plans({ASSIGNMENT: info})
    for student, kind in HONEST.items():
        nb = sample_class.build_submission(release_nb, info, plans[(kind, ASSIGNMENT)])
        target = course / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(nb, str(target))
    for attack in ATTACKS:
        attack.build(course / "submitted" / attack.student / ASSIGNMENT, release_nb, ctx)

    course_before = snapshot(course)
    main_parts = [ROOT / "src", ROOT / "source", ROOT / "release", ROOT / "nbgrader_config.py"]
    main_before = {part: snapshot(part) for part in main_parts}
    kernel_files = plant_kernel_files(marker, listener.port)
    setup_seconds = time.monotonic() - started

    key_users_before = sandbox_key_users()
    graded_at = time.monotonic()
    try:
        with GraderWatch() as graders:
            results = grade_class(course, [ASSIGNMENT], workers=2, progress=None)
    finally:
        grading_seconds = time.monotonic() - graded_at
        left_behind = [p for p in processes() if marker in p[2]]
        orphans = orphaned_sandbox_processes()
        new_key_users = {uid: usage for uid, usage in sandbox_key_users().items() if uid not in key_users_before}
        cgroups_left = [path for path in stale_cgroups() if grader_pid(path) in graders.pids]
        events = listener.stop()
        for path in kernel_files:
            path.unlink(missing_ok=True)
    course_after = snapshot(course)
    main_after = {part: snapshot(part) for part in main_parts}
    grades = read_grades(course)
    counts = gradebook_row_counts(course)

    feedback_at = time.monotonic()
    feedback_done = feedback.generate(course, [ASSIGNMENT], progress=None)
    feedback_seconds = time.monotonic() - feedback_at
    return {
        "course": course, "ctx": ctx, "info": info, "results": {r.student: r for r in results}, "grades": grades,
        "counts": counts, "course_before": course_before, "course_after": course_after, "main_before": main_before,
        "main_after": main_after, "events": events, "left_behind": left_behind, "orphans": orphans,
        "key_users": new_key_users, "cgroups_left": cgroups_left,
        "feedback_done": feedback_done, "expected": sample_class.expected_scores(course, [ASSIGNMENT], ("perfect", "blank")),
        "seconds": {"setup": setup_seconds, "grading": grading_seconds, "feedback": feedback_seconds,
                    "total": time.monotonic() - started},
    }


def auto_points(run, student: str) -> float:
    record = run["grades"].get((ASSIGNMENT, student))
    assert record is not None, f"{student}: no grades recorded"
    return sum(cell.get("auto_score") or 0 for cell in record["cells"].values() if "max_score" in cell)


def judge_limits(course: Path):
    """The judge's settings (``JudgedExecute``: cell_timeout, notebook_timeout) as nbgrader reads them in ``course``."""
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config().JudgedExecute


# --------------------------------------------------------------------------- the corpus itself

def test_corpus_covers_every_family():
    families = {a.family for a in ATTACKS}
    assert families == set(FAMILIES), f"families without an attack: {sorted(set(FAMILIES) - families)}"
    assert all(a.doc and a.student.startswith("att_") for a in ATTACKS)
    assert sorted(HONEST)[0] < min(a.student for a in ATTACKS) < max(a.student for a in ATTACKS) < sorted(HONEST)[1], \
        "honest classmates must be graded both before and after the attackers"


# --------------------------------------------------------------------------- scores

def test_the_grader_watch_counts_only_cgroups_of_this_run_s_graders():
    import subprocess
    import sys

    with GraderWatch(every=0.05) as graders:
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.5)"])
        child.wait()
    assert child.pid in graders.pids
    assert grader_pid(Path(f"/sys/fs/cgroup/pids/course-sandbox.{child.pid}.3")) in graders.pids
    assert grader_pid(Path(f"/sys/fs/cgroup/pids/course-sandbox.{max(graders.pids) + 1}.3")) not in graders.pids
    assert grader_pid(Path(f"/sys/fs/cgroup/pids/other.{child.pid}.3")) not in graders.pids


def test_every_submission_is_attempted(run):
    assert sorted(run["results"]) == STUDENTS, "some submissions were never attempted"
    for student in HONEST:
        assert run["results"][student].ok, run["results"][student].line()


@pytest.mark.parametrize("student", _per("graded"))
def test_every_attack_is_graded_not_crashed_on(run, student):
    """Attacks are reported, not crashed on: every submission gets a grade."""
    result = run["results"][student]
    assert result.ok, f"{student} was not graded: {result.reason}"


@pytest.mark.parametrize("student", REFUSED)
def test_links_in_a_submission_are_refused_and_reported(run, student):
    """A folder with links (to source/, the gradebook, a classmate) is not graded at all, and says why."""
    result = run["results"][student]
    assert not result.ok and result.reason.startswith("refused:") and "link" in result.reason, result.line()
    assert (ASSIGNMENT, student) not in run["grades"], "a refused submission must record no grade"
    assert not (run["course"] / "autograded" / student).exists(), "nothing of a refused submission is copied"


@pytest.mark.parametrize("student", _per("score"))
def test_attacker_scores_zero(run, student):
    points = auto_points(run, student)
    result = run["results"][student]
    assert points == 0, (f"{student} ({BY_STUDENT[student].doc}) scored {points:g} autograded points: "
                         f"{result.line()}")


@pytest.mark.parametrize("student", sorted(HONEST))
def test_honest_classmates_keep_their_scores(run, student):
    expected = run["expected"][(HONEST[student], ASSIGNMENT)]
    assert expected == (run["info"].auto_max_score if HONEST[student] == "perfect" else 0)
    record = run["grades"][(ASSIGNMENT, student)]
    lost = sorted(name for name, cell in record["cells"].items() if "max_score" in cell and not cell.get("auto_score")
                  and cell.get("max_score") and name in run["info"].tests)
    assert auto_points(run, student) == expected, f"{student}: expected {expected:g}; cells scoring 0: {lost}"
    assert not run["results"][student].review, f"honest {student} flagged: {run['results'][student].review}"


def test_review_list(run, capsys):
    """Printed for the record: who was flagged for a human look, and why."""
    flagged = {s: r.review for s, r in run["results"].items() if r.review}
    with capsys.disabled():
        print(f"\nreview list: {len(flagged)} of {len(ATTACKS)} attackers flagged")
        for student in sorted(BY_STUDENT):
            review = run["results"][student].review
            print(f"  {student:<46} {('REVIEW: ' + review[:150]) if review else '(not flagged)'}")
    assert not set(flagged) & set(HONEST)


# --------------------------------------------------------------------------- files and the gradebook

def _allowed_course_change(rel: str) -> bool:
    parts = Path(rel).parts
    return parts[0] == "autograded" or rel in ("gradebook.db", "gradebook.db-journal", "gradebook.db-wal",
                                               "gradebook.db-shm", "gradebook.db.lock")


def test_no_course_file_changes_outside_the_graded_copies(run):
    changed = [d for d in differences(run["course_before"], run["course_after"])
               if not _allowed_course_change(d.split(" ", 1)[1])]
    assert not changed, f"files changed by grading: {changed[:20]}"
    marker = run["ctx"].marker
    tainted = [p for p in (run["course"] / "autograded").rglob("*") if p.is_file() and any(
        v in p.parts for v in HONEST) and marker.encode() in p.read_bytes()]
    assert not tainted, f"an attacker wrote into a classmate's graded copy: {tainted}"


def test_repository_and_host_carry_no_trace(run):
    """No file of the repository (src/, source/, release/, the config) or the host's /tmp carries the run's marker.

    The repository may change during the run for other reasons (a developer at work), so a change
    only fails this test when it is the attack's: a changed or new file holding the marker, or a
    file an attack targets that is gone.
    """
    marker, problems, noted = run["ctx"].marker, [], []
    for part, before in run["main_before"].items():
        for diff in differences(before, run["main_after"][part]):
            kind, rel = diff.split(" ", 1)
            path = part / rel if part.is_dir() else part
            if kind != "deleted" and (marker in rel or (path.is_file() and marker.encode() in path.read_bytes())):
                problems.append(f"{diff} (carries the marker)")
            else:
                noted.append(diff)
    for target in map(Path, damage.targets(run["ctx"])):
        if target.is_file() and marker.encode() in target.read_bytes():
            problems.append(f"{target} carries the marker")
        if marker in target.name and target.exists():
            problems.append(f"{target} was created")
    problems += [f"{p} was created" for p in Path(tempfile.gettempdir()).glob(f"*{marker}*")]
    if noted:
        print(f"repository changes during the run, not from the attacks (someone else's work?): {noted[:10]}")
    assert not problems, problems


def test_no_attack_reports_success(run):
    """Attacks print ATTACK-SUCCEEDED when a write, connection or secret read works; no graded notebook shows it."""
    found = []
    for student in BY_STUDENT:
        for path in (run["course"] / "autograded" / student).rglob("*.ipynb"):
            nb = json.loads(path.read_text(encoding="utf-8", errors="replace"))
            for cell in nb["cells"]:
                text = json.dumps(cell.get("outputs", []))
                found += [f"{student}: {m[:160]}" for m in re.findall(SUCCESS + r"[^\\]*", text)]
    assert not found, "\n".join(found[:20])


def test_gradebook_has_one_row_per_submission_and_graded_cell(run):
    counts, info = run["counts"], run["info"]
    cells = len(info.tests) + len(info.written)
    assert counts["student"] == len(GRADED)
    assert counts["submitted_assignment"] == counts["submitted_notebook"] == len(GRADED)
    assert counts["grade"] == len(GRADED) * cells, counts
    assert counts["duplicate_grades"] == counts["duplicate_submissions"] == 0, counts
    expected_cells = set(info.tests) | set(info.written)
    wrong = {s: sorted(set(r["cells"]) ^ expected_cells) for (a, s), r in run["grades"].items()
             if {n for n, c in r["cells"].items() if "max_score" in c} != expected_cells}
    assert not wrong, f"grade rows that are not the course's cells: {wrong}"
    maxima = {s: r["max_score"] for (a, s), r in run["grades"].items()}
    assert len(set(maxima.values())) == 1, f"max scores differ between students (flipped points?): {maxima}"


def test_every_autograded_notebook_is_under_its_cap_and_image_floods_are_flagged(run):
    """issue 17.6: a per-notebook output budget (course_tools.grading.output_budget), images validated."""
    from course_tools.grading.output_budget import MAX_AUTOGRADED_NOTEBOOK_BYTES

    sizes = {p.parts[-3]: p.stat().st_size for p in (run["course"] / "autograded").glob(f"*/{ASSIGNMENT}/*.ipynb")}
    over = {s: n for s, n in sizes.items() if n > MAX_AUTOGRADED_NOTEBOOK_BYTES}
    assert sizes and not over, over
    flood = run["results"]["att_09_display_large_raw_images"]
    assert "output budget" in flood.review, flood.review
    assert not any("output budget" in run["results"][s].review for s in HONEST), "an honest notebook hit the budget"


# --------------------------------------------------------------------------- feedback

def test_feedback_pages_are_safe_and_capped(run):
    assert run["feedback_done"] == {ASSIGNMENT: True}, "a feedback page failed or was withheld"
    pages = sorted((run["course"] / "feedback").glob(f"*/{ASSIGNMENT}/*.html"))
    graded = {s for s, r in run["results"].items() if r.ok}
    assert graded <= {p.parts[-3] for p in pages}, f"no feedback page for {graded - {p.parts[-3] for p in pages}}"
    problems = {}
    for page in pages:
        text = page.read_text(encoding="utf-8", errors="replace")
        unsafe = feedback.unsafe_markup(text)
        if unsafe or page.stat().st_size > feedback.MAX_PAGE_BYTES or "Feedback withheld" in text:
            problems[page.parts[-3]] = (unsafe[:3], page.stat().st_size)
    assert not problems, problems
    injected = (run["course"] / "feedback" / "att_11_script_in_outputs" / ASSIGNMENT / f"{ASSIGNMENT}.html")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in injected.read_text(encoding="utf-8"), \
        "the printed markup should be shown as text"


@pytest.mark.parametrize("student", _per("secrets"))
def test_no_secret_reaches_the_attackers_feedback(run, student):
    secrets = secret_lines(run["course"])
    assert len(secrets) > 50
    shown = {}
    for path in sorted((run["course"] / "feedback" / student).rglob("*")):
        if path.is_file():
            text = readable_text(path)
            leaked = sorted(line for line in secrets if line in text)
            if leaked:
                shown[path.name] = leaked[:3] + [f"... {len(leaked)} lines in all"]
    assert not shown, f"{student}: hidden test or solution lines in its feedback: {shown}"


def test_no_hidden_input_reaches_the_recorder_s_page(run):
    """A recorder of normalize_context prints, in later cells, what hidden tests sent it: none of it is shown."""
    from attacks.recorder import RECORDED

    student = "att_12_print_hidden_inputs_later"
    graded = run["course"] / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    nb = nbformat.read(str(graded), as_version=4)
    tests = {c.source for c in nb.cells if is_graded(c)}
    # the first input a hidden test of 01 sends normalize_context (the released notebook never shows it)
    hidden_input = repr(["The", "Cat"])
    assert hidden_input not in readable_text(run["course"] / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    shown = json.dumps([c.get("outputs", []) for c in nb.cells if c.cell_type == "code" and c.source not in tests])
    assert RECORDED not in shown and hidden_input not in shown, shown[:2000]
    assert "output hidden: produced after hidden tests ran" in shown
    # a recorded call reads "['The', 'Cat'](Vocabulary(...),){}": only the recorder's print would put it on the page
    # (the page shows the attack's source, which names RECORDED, and the judge's messages, which name inputs)
    page = visible_text((run["course"] / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text(encoding="utf-8"))
    assert "](Vocabulary(" not in page


# --------------------------------------------------------------------------- network, processes, time

def test_no_connection_left_the_sandbox(run):
    assert run["events"] == [], f"the host's listener was reached: {run['events'][:10]}"


def test_no_process_outlives_grading(run):
    assert run["left_behind"] == [], f"attack processes still running: {run['left_behind']}"
    assert run["orphans"] == [], f"processes with a sandbox uid outlived their grader: {run['orphans']}"
    assert [p for p in processes() if run["ctx"].marker in p[2]] == []


def test_no_sandbox_cgroup_outlives_grading(run):
    """Every sandbox's cgroup is removed with it, even when its code was killed at a limit."""
    assert run["cgroups_left"] == [], f"cgroups of finished graders: {run['cgroups_left']}"


def test_no_key_is_left_in_any_keyring(run):
    """No sandbox uid of this run holds a key in the kernel after grading (keyrings would carry it to the next one)."""
    assert run["key_users"] == {}, f"sandbox uids holding kernel keys: {run['key_users']}"


def test_time_is_bounded_per_notebook(run):
    """The notebook budget counts CPU time and waiting (not waits for a busy host's CPUs); the wall-clock
    backstop bounds everything."""
    limits = judge_limits(run["course"])
    assert (limits.cell_timeout, limits.notebook_timeout) == (CELL_TIMEOUT, NOTEBOOK_TIMEOUT), limits
    limit = limits.notebook_timeout * WALL_FACTOR + OVERHEAD
    slow = {s: round(r.seconds, 1) for s, r in run["results"].items() if r.seconds > limit}
    assert not slow, f"over the per-notebook limit + {OVERHEAD:g} s: {slow}"
    # the sleeper waits just under each cell's budget, so the notebook's budget (this course's) is what stops it
    sleeper = run["results"]["att_00_sleep_in_every_cell"]
    assert any(f"used up its time limit ({NOTEBOOK_TIMEOUT:g} s" in note for note in sleeper.notes), sleeper.line()


def test_report_figures(run, capsys):
    """Per-submission seconds, notes and totals, printed for the record."""
    with capsys.disabled():
        print(f"\nattack run: {len(ATTACKS)} attackers + {len(HONEST)} honest, {ASSIGNMENT}, 2 workers; "
              + ", ".join(f"{k} {v:.0f} s" for k, v in run["seconds"].items()))
        for student in STUDENTS:
            result = run["results"][student]
            points = "refused" if student in REFUSED else f"{auto_points(run, student):4g} pts"
            print(f"  {student:<46} {result.seconds:6.1f} s  {points:>8}  "
                  f"{result.tests_passed}/{result.tests} tests  {'; '.join(result.notes or [result.reason])[:110]}")
    assert run["seconds"]["grading"] > 0
