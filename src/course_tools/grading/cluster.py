"""Grading on a Dask cluster: one task per submission, on whatever workers the scheduler has.

    python -m course_tools.autograde --cluster tcp://scheduler:8786 --root /shared/course

Each task runs ``course_tools.grading.submission.grade_one`` on a worker, exactly as a local
worker process does: nbgrader's autograde with the course's trusted pipeline
(sandboxed student code, the judge, ``SaveAutoGrades``), so only the worker's
trusted side writes grades. Every host sees the course folder at the same path
on shared storage and runs the same environment (see docs/scale-out.md).

A worker that dies mid-task loses nothing: the scheduler gives its tasks to
another worker (``distributed``'s ``allowed-failures``), and nbgrader's
``--force`` autograde replaces a submission's grades rather than adding rows, so
a submission graded twice is recorded once. With SQLite the file lock still
serializes writers *on one host*; a cluster of several hosts needs a server
gradebook (PostgreSQL through ``CourseDirectory.db_url``).

``dask-jobqueue`` (Slurm, PBS, SGE) and ``dask-kubernetes`` start such workers
with the same client code: pass their scheduler's address. (The tests and benchmarks start a local
cluster with ``tests/support/dask_cluster.py``.)
"""

from __future__ import annotations

from .gradebook import CourseFolder, remove_lock_file
from .nbgrader_apps import prepare_worker
from .submission import Result, grade_one

_READY: dict[str, bool] = {}  # the course folders this worker process is prepared for


def grade_task(assignment: str, student: str, folder: CourseFolder, extra: tuple[str, ...], lock: bool):
    """One submission, on a Dask worker (the first task in a worker process prepares it, as a pool worker)."""
    key = str(folder.root)
    if not _READY.get(key):
        prepare_worker(key)
        _READY[key] = True
    return grade_one(assignment, student, folder, extra, lock)


def grade_on_cluster(address: str, todo: list[tuple[str, str]], folder: CourseFolder, extra: tuple[str, ...],
                     lock: bool, say):
    """Send every (assignment, student) of ``todo`` to the Dask scheduler at ``address``; yield Results as they finish."""
    from distributed import Client, as_completed

    lock_path = str(folder.lock_path) if lock else None
    client = Client(address, timeout="30s")
    try:
        workers = client.scheduler_info().get("workers", {})
        say(f"autograding {len(todo)} submissions on the Dask cluster at {address} ({len(workers)} worker(s)) ...")
        futures = {}
        for assignment, student in todo:
            # pure=False: a regrade is a new task even with the same arguments; retries cover a task that raised
            future = client.submit(grade_task, assignment, student, folder, extra, lock,
                                   key=f"grade-{assignment}-{student}-{len(futures)}", pure=False, retries=1)
            futures[future] = (assignment, student)
        for future in as_completed(futures):
            assignment, student = futures[future]
            try:
                yield future.result()
            except Exception as exc:  # the task failed on every worker it was given: report it, keep going
                yield Result(assignment, student, False, 0.0, reason=f"grading task failed on the cluster: {exc!r}")
    finally:
        client.close()
        if lock_path is not None:  # the run's lock file goes with it (a worker still grading takes a fresh one)
            remove_lock_file(lock_path)
