"""Autograde a whole class with N worker processes, with progress and a per-submission report.

    python -m course_tools.autograde                     # every assignment, 2 workers
    python -m course_tools.autograde 01_testing -j 1     # one assignment, serially
    python -m course_tools.autograde --root .sample_class

nbgrader grades submissions one after another (jupyter/nbgrader#174) and prints
no progress (#1456). This module runs nbgrader's own ``Autograde`` converter,
with the course's ``nbgrader_config.py``, for one submission at a time inside N
long-lived worker processes (importing nbgrader costs seconds, so a worker pays
it once, not once per submission). Each submission is graded exactly as
``nbgrader autograde <assignment> --student=<id> --force`` would grade it, so
the grades are the serial grades. The course's config makes that pipeline a
trusted one (``course_tools.judged_autograde``): student code runs only in a
bubblewrap sandbox, and only the judge decides what passed. Without a working
sandbox this command refuses to grade, unless given ``--UNSAFE-no-sandbox``.

On a fresh clone the gradebook does not exist yet: the assignments it lacks are
registered first (``nbgrader generate_assignment`` into a scratch folder, so the
committed ``release/`` is left alone).

The gradebook stays consistent with SQLite, the embedded default: every
``nbgrader.api.Gradebook`` session a worker opens (from its constructor to
``close()``) holds an exclusive ``flock`` on ``<gradebook>.lock``. Sessions
are short (reading source cells, saving a notebook's grades); executing
student code, the slow part, happens outside them, so workers run in parallel
and write one after another. Without the lock, two SQLite writers can fail
with "database is locked", which makes nbgrader abort the whole batch.
With a server database (PostgreSQL via ``CourseDirectory.db_url``) the lock is
not needed; pass ``--no-lock``.

A submission that kills its kernel (``os._exit``, a segfault) is reported by
name with the reason, and every other submission is still graded.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import contextlib
import fcntl
import io
import logging
import multiprocessing
import os
import re
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

COURSE_ROOT = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------- gradebook lock

_LOCK = {"path": None, "fd": None, "depth": 0}


def _acquire() -> None:
    if _LOCK["path"] is None:
        return
    if _LOCK["depth"] == 0:
        fd = os.open(_LOCK["path"], os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        _LOCK["fd"] = fd
    _LOCK["depth"] += 1


def _release(force: bool = False) -> None:
    if _LOCK["fd"] is None:
        _LOCK["depth"] = 0
        return
    _LOCK["depth"] = 0 if force else max(0, _LOCK["depth"] - 1)
    if _LOCK["depth"] == 0:
        fd, _LOCK["fd"] = _LOCK["fd"], None
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def install_gradebook_lock(lock_path: str | Path) -> None:
    """Make every ``nbgrader.api.Gradebook`` session in this process hold an exclusive file lock."""
    import nbgrader.api as api

    _LOCK["path"] = str(lock_path)
    gradebook = api.Gradebook
    if getattr(gradebook, "_course_tools_locked", False):
        return
    original_init, original_close = gradebook.__init__, gradebook.close

    def locked_init(self, *args, **kwargs):
        _acquire()
        self._holds_lock = True
        try:
            original_init(self, *args, **kwargs)
        except BaseException:
            self._holds_lock = False
            _release()
            raise

    def locked_close(self):
        try:
            original_close(self)
        finally:
            if getattr(self, "_holds_lock", False):
                self._holds_lock = False
                _release()

    gradebook.__init__ = locked_init
    gradebook.close = locked_close
    gradebook._course_tools_locked = True


# --------------------------------------------------------------------------- running nbgrader apps in-process

APPS = {
    "autograde": ("nbgrader.apps.autogradeapp", "AutogradeApp"),
    "generate_feedback": ("nbgrader.apps.generatefeedbackapp", "GenerateFeedbackApp"),
    "generate_assignment": ("nbgrader.apps.generateassignmentapp", "GenerateAssignmentApp"),
    "export": ("nbgrader.apps.exportapp", "ExportApp"),
}
_RUN_COUNT = [0]


def run_app(command: str, argv: list[str], root: str | Path | None = None,
            config: dict | None = None) -> tuple[bool, str]:
    """Run ``nbgrader <command> <argv>`` in this process (config from ``root``); return (success, log).

    ``config`` adds traitlets configuration on top of ``nbgrader_config.py`` (e.g. feedback preprocessors).
    """
    import importlib

    module_name, class_name = APPS[command]
    app_class = getattr(importlib.import_module(module_name), class_name)
    _RUN_COUNT[0] += 1
    logger = logging.getLogger(f"course_tools.nbgrader.{_RUN_COUNT[0]}")
    logger.propagate = False
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("[%(levelname)s] %(message)s"))
    logger.addHandler(handler)
    cwd = os.getcwd()
    ok = True
    try:
        if root is not None:
            os.chdir(root)
        with contextlib.redirect_stdout(io.StringIO()):
            app = app_class(log=logger)
            if config:
                from traitlets.config import Config
                app.update_config(Config(config))
            app.initialize(argv)
            app.log = logger  # initialize may configure its own stderr handler; keep ours
            app.start()
    except SystemExit as exc:
        ok = exc.code in (0, None)
    except Exception:  # report, never crash the worker
        import traceback
        buffer.write("[ERROR] " + traceback.format_exc())
        ok = False
    finally:
        os.chdir(cwd)
        _release(force=True)
        logger.removeHandler(handler)
    return ok, buffer.getvalue()


# --------------------------------------------------------------------------- one submission

@dataclass
class Result:
    """What happened to one submission."""
    assignment: str
    student: str
    ok: bool
    seconds: float
    reason: str = ""
    notes: list[str] = field(default_factory=list)
    log: str = ""
    review: str = ""          # why the submission needs a human look (empty: nothing suspicious found)
    tests_passed: int = 0
    tests: int = 0

    def line(self) -> str:
        status = "graded" if self.ok else "NOT GRADED"
        counts = [f"{self.tests_passed}/{self.tests} test cells passed"] if self.ok and self.tests else []
        notes = [note if len(note) <= 110 else note[:107] + "..." for note in self.notes]
        review = [f"REVIEW: {self.review[:100]}{'...' if len(self.review) > 100 else ''}"] if self.review else []
        extra = "; ".join(counts + ([self.reason] if self.reason else []) + notes + review)
        return f"{self.assignment:<24} {self.student:<20} {status:<10} {self.seconds:6.1f} s  {extra}"


def explain_failure(log: str) -> str:
    """A one-line reason for a submission nbgrader could not grade, from its log."""
    if "DeadKernelError" in log or "Kernel died" in log:
        return ("the kernel died while running the notebook (the code exited the interpreter, "
                "e.g. os._exit, or crashed it), so nbgrader recorded no grades for it")
    if "UnresponsiveKernelError" in log or "kernel became unresponsive" in log:
        return "the kernel stopped responding and could not be interrupted (an infinite loop that ignores interrupts?)"
    if "SandboxUnavailable" in log:
        lines = [line for line in log.splitlines() if "SandboxUnavailable" in line]
        return (lines[-1] if lines else "no sandbox could start").strip()[:400]
    if "database is locked" in log:
        return "the gradebook database was locked by another writer"
    # the exception a traceback ends with is the real cause; nbgrader's own closing lines only point at it
    causes = re.findall(r"^\s*((?:[\w.]+)(?:Error|Exception|Unavailable|Gone|Entry)\b:?.*)$", log, re.M)
    if causes:
        return causes[-1].strip()[:400]
    errors = [line for line in log.splitlines() if line.startswith("[ERROR]") and "see the" not in line]
    return (errors[-1] if errors else "nbgrader failed (see its log above)").strip()[:400]


def grade_one(assignment: str, student: str, root: str, extra: tuple[str, ...] = ()) -> Result:
    """``nbgrader autograde <assignment> --student=<student> --force``, in this process."""
    from . import judged_autograde
    from .rebuild import unsafe_entries

    start = time.perf_counter()
    unsafe = unsafe_entries(Path(root) / "submitted", student, assignment)
    if unsafe:
        return Result(assignment, student, False, time.perf_counter() - start,
                      reason="refused: " + "; ".join(unsafe[:3]) + (f" and {len(unsafe) - 3} more" if len(unsafe) > 3 else "")
                      + " (a submission holds plain files only: look at it by hand)")
    judged_autograde.REPORTS.clear()
    ok, log = run_app("autograde", [assignment, f"--student={student}", "--force", *extra], root)
    seconds = time.perf_counter() - start
    # nbgrader logs errors but may still exit 0 when a student folder is skipped; trust the log too
    if "There was an error processing assignment" in log:
        ok = False
    result = Result(assignment, student, ok, seconds, log=log)
    if not ok:
        result.reason = explain_failure(log)
    for (graded_assignment, graded_student, _), report in sorted(judged_autograde.REPORTS.items()):
        if (graded_assignment, graded_student) != (assignment, student):
            continue
        result.notes += [note for note in report.get("notes", []) if note not in result.notes]
        result.review = "; ".join(filter(None, [result.review, report.get("review", "")]))
        result.tests_passed += report.get("passed", 0)
        result.tests += report.get("tests", 0)
    return result


def ensure_venv_on_path() -> None:
    """nbgrader runs the ``alembic`` executable next to the interpreter when it creates a gradebook."""
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


def quiet_worker() -> None:
    """Send this process's stderr (and its kernels', which inherit it) to a log file, not the terminal.

    Kernels print transport warnings and nbgrader's dependencies emit deprecation warnings; nbgrader's
    own log is captured per submission instead.
    """
    import tempfile
    import warnings

    warnings.simplefilter("ignore")
    log = open(Path(tempfile.gettempdir()) / "course_tools-workers.log", "ab", buffering=0)
    os.dup2(log.fileno(), 2)


def _worker_init(root: str, lock: bool, quiet: bool = True) -> None:
    os.environ.setdefault("MPLBACKEND", "Agg")
    ensure_venv_on_path()
    if quiet:
        quiet_worker()
    os.chdir(root)
    if lock:
        install_gradebook_lock(gradebook_lock_path(root))
    import nbgrader.apps.autogradeapp  # noqa: F401  (pay the import once per worker)


def gradebook_lock_path(root: str | Path) -> Path:
    """One lock file per gradebook, outside the course folder (so it never shows up in git)."""
    import hashlib
    import tempfile

    key = hashlib.sha1(db_url_for(root).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"nbgrader-gradebook-{key}.lock"


# --------------------------------------------------------------------------- the class

def submissions(root: str | Path, assignments: list[str] | None = None,
                students: list[str] | None = None) -> list[tuple[str, str]]:
    """(assignment, student) pairs found under ``<root>/submitted/<student>/<assignment>/``."""
    found = []
    submitted = Path(root) / "submitted"
    for student_dir in sorted(p for p in submitted.iterdir() if p.is_dir()) if submitted.is_dir() else []:
        if students and student_dir.name not in students:
            continue
        for assignment_dir in sorted(p for p in student_dir.iterdir() if p.is_dir()):
            if assignments is None or assignment_dir.name in assignments:
                found.append((assignment_dir.name, student_dir.name))
    order = {name: i for i, name in enumerate(assignments or [])}
    return sorted(found, key=lambda pair: (order.get(pair[0], 0), pair[0], pair[1]))


UNSAFE_FLAG = "--UNSAFE-no-sandbox"


class NoSandbox(RuntimeError):
    """Grading refused: student code would run unisolated."""


def grade_class(root: str | Path = COURSE_ROOT, assignments: list[str] | None = None,
                students: list[str] | None = None, workers: int = 2, lock: bool | None = None,
                progress=print, unsafe_no_sandbox: bool = False, force: bool = True,
                cluster: str | None = None) -> list[Result]:
    """Autograde every submission under ``root/submitted``; return one Result each, in class order.

    Grades go to the gradebook named by ``nbgrader_config.py`` in ``root`` (SQLite by default).
    ``workers`` local processes grade in parallel, or, with ``cluster`` (a Dask scheduler's address),
    the cluster's workers do. ``force=False`` skips submissions already graded since they were
    submitted (an interrupted run resumes). ``lock`` (default: only for SQLite) serializes gradebook
    sessions on this host. ``progress`` receives one line per finished submission (``None``: quiet).
    Raises ``NoSandbox`` when no sandbox can start, unless ``unsafe_no_sandbox`` says to run student
    code unisolated.
    """
    from .sandbox import sandbox_status

    root = str(Path(root).resolve())
    todo = submissions(root, assignments, students)
    say = progress or (lambda *_: None)
    if not todo:
        say("nothing to grade: no submissions under submitted/")
        return []
    available, how = sandbox_status()
    if unsafe_no_sandbox:
        say("!" * 78 + f"\n!! {UNSAFE_FLAG}: student code runs UNISOLATED, with your permissions, and can read\n"
            "!! hidden tests, change the gradebook and reach the network. Only for code you trust.\n" + "!" * 78)
    elif not available and cluster is None:
        raise NoSandbox(f"no sandbox for student code: {how}\nGrading refused. Install the sandbox, or pass "
                        f"{UNSAFE_FLAG} to run student code unisolated (only for code you trust).")
    elif cluster is None:
        say(f"student code runs sandboxed ({how})")
    if lock is None:
        lock = db_url_for(root).startswith("sqlite")
    register_missing_assignments(root, sorted({a for a, _ in todo}), say)
    extra = ("--JudgedExecute.sandbox=False",) if unsafe_no_sandbox else ()
    results: list[Result] = []
    if not force:
        done = [pair for pair in todo if already_graded(root, *pair)]
        for assignment, student in done:
            results.append(Result(assignment, student, True, 0.0, notes=["already graded (--force regrades)"]))
            say(f"  [{len(results):>3}/{len(todo)}] {results[-1].line()}")
        todo = [pair for pair in todo if pair not in done]
        if done:
            say(f"{len(done)} submission(s) already graded since they were submitted: skipped (--force regrades)")
    total = len(todo) + len(results)
    start = time.perf_counter()
    if todo:
        if cluster is not None:
            from .cluster import grade_on_cluster
            finished = grade_on_cluster(cluster, todo, root, extra, lock, say)
        else:
            finished = _grade_locally(todo, root, extra, lock, workers, say)
        for result in finished:
            results.append(result)
            say(f"  [{len(results):>3}/{total}] {result.line()}")
    failed = [r for r in results if not r.ok]
    say(f"graded {len(results) - len(failed)}/{len(results)} submissions in {time.perf_counter() - start:.1f} s"
        + (f"; not graded: {', '.join(f'{r.student} ({r.assignment})' for r in failed)}" if failed else ""))
    order = {pair: i for i, pair in enumerate(submissions(root, assignments, students))}
    return sorted(results, key=lambda r: order[(r.assignment, r.student)])


def _grade_locally(todo, root: str, extra: tuple[str, ...], lock: bool, workers: int, say):
    """Grade ``todo`` with a pool of local worker processes; yield each Result as it finishes."""
    workers = max(1, min(workers, len(todo)))
    say(f"autograding {len(todo)} submissions with {workers} worker process{'es' if workers > 1 else ''} ...")
    with cf.ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                initializer=_worker_init, initargs=(root, lock)) as pool:
        futures = {pool.submit(grade_one, a, s, root, extra): (a, s) for a, s in todo}
        for future in cf.as_completed(futures):
            assignment, student = futures[future]
            try:
                yield future.result()
            except Exception as exc:  # a worker process died: report it, keep going
                yield Result(assignment, student, False, 0.0, reason=f"grading worker failed: {exc!r}")


def already_graded(root: str | Path, assignment: str, student: str) -> bool:
    """True when every submitted notebook has a graded copy written after it, with the judge's verdicts.

    nbgrader writes an intermediate copy before it runs the tests; only the final copy carries the
    judge's test count, so a run killed half-way never counts as done.
    """
    import json

    submitted = sorted((Path(root) / "submitted" / student / assignment).glob("*.ipynb"))
    if not submitted:
        return False
    for path in submitted:
        graded = Path(root) / "autograded" / student / assignment / path.name
        if not graded.exists() or graded.stat().st_mtime < path.stat().st_mtime:
            return False
        try:
            grading = json.loads(graded.read_text(encoding="utf-8")).get("metadata", {}).get("course_grading", {})
        except (OSError, ValueError):
            return False
        if "tests" not in grading:
            return False
    return True


def register_missing_assignments(root: str | Path, assignments: list[str], say=print) -> None:
    """Record in the gradebook every assignment (and its notebooks' cells) that it lacks.

    nbgrader learns an assignment's cells from ``generate_assignment``; it runs here into a scratch
    release folder, so the committed ``release/`` is never rewritten by grading.
    """
    import tempfile

    from nbgrader.api import Gradebook, MissingEntry

    missing = []
    with Gradebook(db_url_for(root), course_id=_course_id(root)) as gb:
        for assignment in assignments:
            try:
                if not gb.find_assignment(assignment).notebooks:
                    missing.append(assignment)
            except MissingEntry:
                missing.append(assignment)
    if not missing:
        return
    say(f"registering {', '.join(missing)} in the gradebook (nbgrader generate_assignment into a scratch folder) ...")
    with tempfile.TemporaryDirectory(prefix="course-register-") as scratch:
        outcomes = run_in_worker_many([("generate_assignment", [a, "--force", f"--CourseDirectory.release_directory={scratch}"])
                                       for a in missing], root)
    for assignment, (ok, log) in zip(missing, outcomes):
        if not ok:
            raise RuntimeError(f"could not register {assignment} in the gradebook "
                               f"(nbgrader generate_assignment failed):\n{log[-3000:]}")


def run_in_worker_many(commands: list[tuple], root: str | Path, workers: int = 1) -> list[tuple[bool, str]]:
    """Run nbgrader commands ``(command, argv[, config])`` in fresh worker processes; (success, log) for each.

    With one worker they run one after another; fresh processes keep nbgrader's imports and
    configuration out of the caller, and each worker pays the import once.
    """
    root = str(Path(root).resolve())
    workers = max(1, min(workers, len(commands)))
    with cf.ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                initializer=_worker_init, initargs=(root, True)) as pool:
        futures = [pool.submit(run_app, command[0], command[1], root, *command[2:]) for command in commands]
        return [future.result() for future in futures]


# --------------------------------------------------------------------------- reading the gradebook

def db_url_for(root: str | Path) -> str:
    """The gradebook URL nbgrader uses for the course at ``root`` (its config's db_url, else the default)."""
    config = Path(root) / "nbgrader_config.py"
    text = config.read_text(encoding="utf-8") if config.exists() else ""
    match = re.search(r"^c\.CourseDirectory\.db_url\s*=\s*['\"](.+?)['\"]", text, re.M)
    return match.group(1) if match else f"sqlite:///{Path(root).resolve() / 'gradebook.db'}"


def read_grades(root: str | Path, db_url: str | None = None) -> dict:
    """Every recorded grade: ``{(assignment, student): {"score", "max_score", "cells": {grade_id: {...}}}}``."""
    from nbgrader.api import Gradebook

    grades = {}
    with Gradebook(db_url or db_url_for(root), course_id=_course_id(root)) as gb:
        for assignment in gb.assignments:
            for submission in assignment.submissions:
                cells = {}
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        cells[grade.name] = {"notebook": notebook.name, "auto_score": grade.auto_score,
                                             "manual_score": grade.manual_score, "score": grade.score,
                                             "max_score": grade.max_score}
                    for comment in notebook.comments:
                        cells.setdefault(comment.name, {})["manual_comment"] = comment.manual_comment
                grades[(assignment.name, submission.student_id)] = {
                    "score": submission.score, "max_score": submission.max_score, "cells": cells}
    return grades


def _course_id(root: str | Path) -> str:
    config = Path(root) / "nbgrader_config.py"
    text = config.read_text(encoding="utf-8") if config.exists() else ""
    match = re.search(r"^c\.CourseDirectory\.course_id\s*=\s*['\"](.+?)['\"]", text, re.M)
    return match.group(1) if match else "default_course"


def gradebook_row_counts(root: str | Path, db_url: str | None = None) -> dict:
    """Row counts per gradebook table and duplicate (student, assignment, cell) grades, to check consistency."""
    import sqlalchemy as sa

    engine = sa.create_engine(db_url or db_url_for(root))
    counts = {}
    with engine.connect() as conn:
        for table in ("student", "submitted_assignment", "submitted_notebook", "grade", "comment"):
            counts[table] = conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar()
        counts["duplicate_grades"] = conn.execute(sa.text(
            "SELECT COUNT(*) FROM (SELECT notebook_id, cell_id FROM grade "
            "GROUP BY notebook_id, cell_id HAVING COUNT(*) > 1) AS duplicates")).scalar()
        counts["duplicate_submissions"] = conn.execute(sa.text(
            "SELECT COUNT(*) FROM (SELECT assignment_id, student_id FROM submitted_assignment "
            "GROUP BY assignment_id, student_id HAVING COUNT(*) > 1) AS duplicates")).scalar()
    engine.dispose()
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignments", nargs="*", help="assignments to grade (default: every submitted one)")
    parser.add_argument("-j", "--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--root", default=str(COURSE_ROOT), help="course folder holding nbgrader_config.py")
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
        results = grade_class(args.root, args.assignments or None, args.student, args.workers,
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


def print_review_list(results: list[Result], say=print) -> None:
    """Submissions a human should look at, by name and reason (their scores are what the judge saw)."""
    flagged = [r for r in results if r.review]
    if not flagged:
        say("review list: empty (no answer cell uses IPython internals, frames, threads, files, sockets or processes)")
        return
    say(f"review list: {len(flagged)} submission(s) flagged for a human look")
    for result in flagged:
        review = result.review if len(result.review) <= 400 else result.review[:397] + "..."
        say(f"  {result.student:<20} {result.assignment:<24} {review}")


if __name__ == "__main__":
    sys.exit(main())
