"""A whole class graded: every submission under ``submitted/``, by local worker processes or a Dask cluster.

nbgrader grades submissions one after another (jupyter/nbgrader#174) and prints no progress (#1456).
``grade_class`` hands one submission at a time (``course_tools.grading.submission.grade_one``) to N long-lived
worker processes (importing nbgrader costs seconds, so a worker pays it once, not once per
submission), or to the workers of a Dask cluster (``course_tools.grading.cluster``), and reports each
submission as it finishes. Each is graded exactly as ``nbgrader autograde <assignment>
--student=<id> --force`` grades it, so the grades are the serial grades. Without a working sandbox
it refuses to grade, unless told to run student code unisolated.
"""

from __future__ import annotations

import concurrent.futures as cf
import time
from pathlib import Path

from .cluster import grade_on_cluster
from .gradebook import CourseFolder
from .nbgrader_apps import register_missing_assignments, worker_pool
from .sandbox import sandbox_status
from .submission import Result, already_graded, grade_one, submissions

UNSAFE_FLAG = "--UNSAFE-no-sandbox"


class NoSandbox(RuntimeError):
    """Grading refused: student code would run unisolated."""


def grade_class(root: str | Path | CourseFolder, assignments: list[str] | None = None,
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
    folder = CourseFolder.at(root)  # its nbgrader_config.py read once, here, and passed down
    todo = submissions(folder, assignments, students)
    order = {pair: i for i, pair in enumerate(todo)}  # class order, for the results
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
        lock = folder.db_url.startswith("sqlite")
    register_missing_assignments(folder, sorted({a for a, _ in todo}), say)
    extra = ("--JudgedExecute.sandbox=False",) if unsafe_no_sandbox else ()
    results: list[Result] = []
    if not force:
        done = [pair for pair in todo if already_graded(folder, *pair)]
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
            finished = grade_on_cluster(cluster, todo, folder, extra, lock, say)
        else:
            finished = _grade_locally(todo, folder, extra, lock, workers, say)
        for result in finished:
            results.append(result)
            say(f"  [{len(results):>3}/{total}] {result.line()}")
    failed = [r for r in results if not r.ok]
    skipped = total - len(todo)
    if not todo:
        say(f"nothing left to grade: all {skipped} submission(s) were graded before (--force regrades)")
    else:
        say(f"graded {len(todo) - len(failed)}/{len(todo)} submissions in {time.perf_counter() - start:.1f} s"
            + (f", {skipped} more graded before" if skipped else "")
            + (f"; not graded: {', '.join(f'{r.student} ({r.assignment})' for r in failed)}" if failed else ""))
    return sorted(results, key=lambda r: order[(r.assignment, r.student)])


def _grade_locally(todo, folder: CourseFolder, extra: tuple[str, ...], lock: bool, workers: int, say):
    """Grade ``todo`` with a pool of local worker processes; yield each Result as it finishes."""
    workers = max(1, min(workers, len(todo)))
    say(f"autograding {len(todo)} submissions with {workers} worker process{'es' if workers > 1 else ''} ...")
    with worker_pool(folder, workers, lock) as pool:
        futures = {pool.submit(grade_one, a, s, folder, extra, lock): (a, s) for a, s in todo}
        for future in cf.as_completed(futures):
            assignment, student = futures[future]
            try:
                yield future.result()
            except Exception as exc:  # a worker process died: report it, keep going
                yield Result(assignment, student, False, 0.0, reason=f"grading worker failed: {exc!r}")
