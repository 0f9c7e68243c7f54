"""One submission graded: nbgrader's autograde of one student's assignment, and what happened to it.

``grade_one`` runs ``nbgrader autograde <assignment> --student=<id> --force`` in this process (a
worker's), with the trusted pipeline (``course_tools.grading.judged_autograde``) put in by code whatever the
folder's ``nbgrader_config.py`` says (a configuration that would run student code outside the judge
is refused with the reason), and returns a
``Result``: graded or not and why, the judge's test counts, notes, and why a human should look.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from .gradebook import CourseFolder, GradebookLock
from .judged_autograde import enforce_trusted_pipeline
from .nbgrader_apps import run_app
from .rebuild import unsafe_entries


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
    """A one-line reason for a submission nbgrader could not grade, from its log.

    No kernel runs a submission (the judge does, in a sandbox, and a crash or a loop there costs only the
    tests that need it), so what stops a submission is nbgrader's side: a refused configuration, no
    sandbox, a locked gradebook, a notebook nbgrader cannot read.
    """
    refused = [line for line in log.splitlines() if "refused to grade with this configuration" in line]
    if refused:
        return refused[-1].replace("[ERROR] ", "").strip()[:600]
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


def grade_one(assignment: str, student: str, folder: CourseFolder, extra: tuple[str, ...] = (),
              lock: bool = False) -> Result:
    """``nbgrader autograde <assignment> --student=<student> --force``, in this process, for the course ``folder``.

    ``lock``: the run holds the gradebook's lock (``CourseFolder.lock_path``) for all but rebuilding and judging
    the notebook, so workers grading at once record their grades one after another (an embedded SQLite
    gradebook needs it).
    """
    start = time.perf_counter()
    unsafe = unsafe_entries(folder.root / "submitted", student, assignment)
    if unsafe:
        return Result(assignment, student, False, time.perf_counter() - start,
                      reason="refused: " + "; ".join(unsafe[:3]) + (f" and {len(unsafe) - 3} more" if len(unsafe) > 3 else "")
                      + " (a submission holds plain files only: look at it by hand)")
    reports: list[tuple[str, str, str, dict]] = []  # what JudgedExecute found, notebook by notebook
    # The trusted pipeline is put in by code, whatever the folder's nbgrader_config.py says; a configuration
    # that would still run student code outside the judge is refused (the reason is the log's last error).
    allow_unsandboxed = "--JudgedExecute.sandbox=False" in extra
    gradebook_lock = GradebookLock(folder.lock_path) if lock else None
    ok, log = run_app("autograde", [assignment, f"--student={student}", "--force", *extra], folder.root,
                      prepare=lambda app: enforce_trusted_pipeline(app, allow_unsandboxed,
                                                                   report_to=lambda *report: reports.append(report),
                                                                   gradebook_lock=gradebook_lock),
                      gradebook_lock=gradebook_lock)
    seconds = time.perf_counter() - start
    # nbgrader logs errors but may still exit 0 when a student folder is skipped; trust the log too
    if "There was an error processing assignment" in log:
        ok = False
    result = Result(assignment, student, ok, seconds, log=log)
    if not ok:
        result.reason = explain_failure(log)
    for graded_assignment, graded_student, _, report in sorted(reports, key=lambda r: r[:3]):
        if (graded_assignment, graded_student) != (assignment, student):
            continue
        result.notes += [note for note in report.get("notes", []) if note not in result.notes]
        result.review = "; ".join(filter(None, [result.review, report.get("review", "")]))
        result.tests_passed += report.get("passed", 0)
        result.tests += report.get("tests", 0)
    return result


def submissions(folder: CourseFolder, assignments: list[str] | None = None,
                students: list[str] | None = None) -> list[tuple[str, str]]:
    """(assignment, student) pairs found under ``<course>/submitted/<student>/<assignment>/``."""
    found = []
    submitted = folder.root / "submitted"
    for student_dir in sorted(p for p in submitted.iterdir() if p.is_dir()) if submitted.is_dir() else []:
        if students and student_dir.name not in students:
            continue
        for assignment_dir in sorted(p for p in student_dir.iterdir() if p.is_dir()):
            if assignments is None or assignment_dir.name in assignments:
                found.append((assignment_dir.name, student_dir.name))
    order = {name: i for i, name in enumerate(assignments or [])}
    return sorted(found, key=lambda pair: (order.get(pair[0], 0), pair[0], pair[1]))


def already_graded(folder: CourseFolder, assignment: str, student: str) -> bool:
    """True when every submitted notebook has a graded copy written after it, with the judge's verdicts.

    nbgrader writes an intermediate copy before it runs the tests; only the final copy carries the
    judge's test count, so a run killed half-way never counts as done.
    """
    import json

    submitted = sorted((folder.root / "submitted" / student / assignment).glob("*.ipynb"))
    if not submitted:
        return False
    for path in submitted:
        graded = folder.root / "autograded" / student / assignment / path.name
        if not graded.exists() or graded.stat().st_mtime < path.stat().st_mtime:
            return False
        try:
            grading = json.loads(graded.read_text(encoding="utf-8")).get("metadata", {}).get("course_grading", {})
        except (OSError, ValueError):
            return False
        if "tests" not in grading:
            return False
    return True


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
