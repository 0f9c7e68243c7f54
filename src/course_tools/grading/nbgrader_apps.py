"""nbgrader's commands run in-process, in worker processes that pay nbgrader's import once.

``run_app("autograde", [...], root)`` is ``nbgrader autograde ...`` run from the course folder
``root``, with its log captured instead of printed. ``run_in_workers`` runs a list of such commands
in fresh worker processes (keeping nbgrader's imports and configuration out of the caller).
``register_missing_assignments`` records in the gradebook the assignments it lacks, as a fresh
clone needs before its first grading.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import functools
import io
import logging
import multiprocessing
import os
import sys
import threading
from pathlib import Path

from .gradebook import CourseFolder, GradebookLock, open_gradebook, remove_lock_file

APPS = {
    "autograde": ("nbgrader.apps.autogradeapp", "AutogradeApp"),
    "generate_feedback": ("nbgrader.apps.generatefeedbackapp", "GenerateFeedbackApp"),
    "generate_assignment": ("nbgrader.apps.generateassignmentapp", "GenerateAssignmentApp"),
    "export": ("nbgrader.apps.exportapp", "ExportApp"),
}
# One logger for every nbgrader app this process runs: a logger per run would never be freed (the logging
# module keeps every named logger). Each run captures the records of its own thread (see _ThreadFilter).
NBGRADER_LOGGER = "course_tools.nbgrader"


class _ThreadFilter(logging.Filter):
    """Lets through the records of one thread: runs in several threads of a process keep their logs apart."""

    def __init__(self):
        super().__init__()
        self.thread = threading.get_ident()

    def filter(self, record: logging.LogRecord) -> bool:
        return record.thread == self.thread


def run_app(command: str, argv: list[str], root: str | Path | None = None,
            config: dict | None = None, prepare=None, gradebook_lock: GradebookLock | None = None) -> tuple[bool, str]:
    """Run ``nbgrader <command> <argv>`` in this process (config from ``root``); return (success, log).

    ``config`` is traitlets configuration applied over ``nbgrader_config.py`` and the command line (e.g. the
    feedback preprocessors and template).
    ``prepare(app)``, called once the app has read its configuration and before it starts, may change the
    app's configuration and returns why the app must not run ('' when it may): then it is not started.
    ``gradebook_lock`` is held while the app runs (the trusted pipeline's rebuild and judge let go of it for
    their work, which opens no gradebook: ``judged_autograde``).

    nbgrader's own ``NbGraderAPI.autograde`` and ``utils.capture_log`` do not do this job: the API builds the
    converter from a ``Config`` its caller already has (formgrader's), so it reads neither the folder's
    ``nbgrader_config.py`` nor command-line settings such as ``--JudgedExecute.sandbox=False``, and has no
    point between configuration and start where ``prepare`` can check and enforce the trusted pipeline;
    ``capture_log`` adds its handler to the app's logger for every thread (runs in two threads would read each
    other's logs: ours lets through its own thread's records only, on one shared logger, so no logger is
    made per run) and counts any ``SystemExit`` as a failure, where nbgrader apps may exit 0.
    """
    import importlib

    from nbgrader.utils import chdir

    module_name, class_name = APPS[command]
    app_class = getattr(importlib.import_module(module_name), class_name)
    logger = logging.getLogger(NBGRADER_LOGGER)
    logger.propagate = False
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("[%(levelname)s] %(message)s"))
    handler.addFilter(_ThreadFilter())
    handler.course_capture = True
    before = list(logger.handlers)
    logger.addHandler(handler)
    ok = True
    try:
        with chdir(str(root) if root is not None else ""), contextlib.redirect_stdout(io.StringIO()):
            app = app_class(log=logger)
            app.initialize(argv)
            app.log = logger  # initialize may configure its own stderr handler; keep ours
            if config:  # after initialize: it overrides what the folder's nbgrader_config.py says
                from traitlets.config import Config
                app.update_config(Config(config))
            refusal = prepare(app) if prepare is not None else ""
            if refusal:
                buffer.write(f"[ERROR] {refusal}\n")
                ok = False
            else:
                with gradebook_lock.holding() if gradebook_lock is not None else contextlib.nullcontext():
                    app.start()
    except SystemExit as exc:
        ok = exc.code in (0, None)
    except Exception:  # report, never crash the worker
        import traceback
        buffer.write("[ERROR] " + traceback.format_exc())
        ok = False
    finally:
        logger.removeHandler(handler)
        # and what the app added to it (nbgrader's --logfile handler), which the shared logger would keep
        for added in [h for h in logger.handlers if h not in before and not getattr(h, "course_capture", False)]:
            added.close()
            logger.removeHandler(added)
    return ok, buffer.getvalue()


def ensure_venv_on_path() -> None:
    """nbgrader runs the ``alembic`` executable next to the interpreter when it creates a gradebook."""
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


def quiet_worker(log_path: str) -> None:
    """Send this process's stderr (and its kernels', which inherit it) to the run's log file, not the terminal.

    Kernels print transport warnings and nbgrader's dependencies emit deprecation warnings; nbgrader's
    own log is captured per submission instead.
    """
    import warnings

    warnings.simplefilter("ignore")
    log = open(log_path, "ab", buffering=0)
    os.dup2(log.fileno(), 2)


def prepare_worker(root: str, log_path: str | None = None, fonts: tuple[str, bytes] | None = None,
                   environ: dict[str, str] | None = None) -> None:
    """Make this process a grading worker for the course at ``root`` (pool initializer, first Dask task):
    stderr to ``log_path`` (None: kept); ``fonts``: the sandboxes' font list, built once by the caller;
    ``environ``: the caller's environment, as it is now (a forked worker starts with its server's)."""
    from .sandbox import adopt_font_list

    if environ is not None:
        os.environ.clear()
        os.environ.update(environ)
    os.environ.setdefault("MPLBACKEND", "Agg")
    ensure_venv_on_path()
    adopt_font_list(fonts)
    if log_path is not None:
        quiet_worker(log_path)
    os.chdir(root)
    from . import worker_imports  # noqa: F401  (already imported where the worker forked from the fork server)


@functools.cache  # one fork server per process, and at most one warning
def worker_context() -> multiprocessing.context.BaseContext:
    """The start method of grading workers: forked from a server (one per grading process) that imported
    ``worker_imports`` once and holds nothing of the caller (no threads, open gradebooks or configuration), so
    each worker is as fresh as a new Python, without paying its 2 s of imports."""
    from multiprocessing import forkserver

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([f"{__package__}.worker_imports"])
    try:
        forkserver.ensure_running()
    except OSError as error:  # its socket lives in TMPDIR, and a unix socket's path holds at most 107 bytes
        logging.getLogger(__name__).warning("grading workers start as new Python processes (2 s each), since "
                                            "multiprocessing's fork server cannot start: %s", error)
        return multiprocessing.get_context("spawn")
    return context


@contextlib.contextmanager
def worker_pool(folder: CourseFolder, workers: int, lock: bool = True):
    """``workers`` fresh processes (``worker_context``) prepared to run nbgrader for the course ``folder``
    (a context manager).

    The run's files are its own and go with it: the workers' stderr log in a private temporary folder,
    the gradebook lock file its autograde runs take (``lock``: ``CourseFolder.lock_path``) removed once the
    workers are gone.
    """
    import tempfile

    from .sandbox import font_list

    lock_path = str(folder.lock_path) if lock else None
    fonts = font_list()  # built here once, not in every worker
    with tempfile.TemporaryDirectory(prefix="course_tools-run-") as run_dir:
        try:
            with cf.ProcessPoolExecutor(max_workers=workers, mp_context=worker_context(), initializer=prepare_worker,
                                        initargs=(str(folder.root), os.path.join(run_dir, "workers.log"), fonts,
                                                  dict(os.environ))) as pool:
                yield pool
        finally:
            if lock_path is not None:
                remove_lock_file(lock_path)


def run_in_workers(commands: list[tuple], root: str | Path | CourseFolder, workers: int = 1) -> list[tuple[bool, str]]:
    """Run nbgrader commands ``(command, argv[, config])`` in fresh worker processes; (success, log) for each.

    With one worker they run one after another; fresh processes keep nbgrader's imports and
    configuration out of the caller, and each worker pays the import once.
    """
    return _run_in_workers(commands, CourseFolder.at(root), workers)


def _run_in_workers(commands: list[tuple], folder: CourseFolder, workers: int = 1) -> list[tuple[bool, str]]:
    with worker_pool(folder, max(1, min(workers, len(commands)))) as pool:
        futures = [pool.submit(run_app, command[0], command[1], folder.root, *command[2:]) for command in commands]
        return [future.result() for future in futures]


def register_missing_assignments(folder: CourseFolder, assignments: list[str], say=print) -> None:
    """Record in the gradebook every assignment (and its notebooks' cells) that it lacks.

    nbgrader learns an assignment's cells from ``generate_assignment``; it runs here into a scratch
    release folder, so the committed ``release/`` is never rewritten by grading.
    """
    import tempfile

    from nbgrader.api import MissingEntry

    missing = []
    with open_gradebook(folder) as gb:
        for assignment in assignments:
            try:
                if not gb.find_assignment(assignment).notebooks:
                    missing.append(assignment)
            except MissingEntry:
                missing.append(assignment)
    if not missing:
        return
    say(f"registering {', '.join(missing)} in the gradebook (nbgrader generate_assignment into a scratch folder) ...")
    # The course's header (NAME/COLLABORATORS, an answer cell) opens every released notebook, so the
    # gradebook must know its cell too, also when the folder's own nbgrader_config.py does not name it.
    header = folder.root / "source" / "header.ipynb"
    config = {"IncludeHeaderFooter": {"header": str(header)}} if header.is_file() else {}
    with tempfile.TemporaryDirectory(prefix="course-register-") as scratch:
        outcomes = _run_in_workers([("generate_assignment", [a, "--force", f"--CourseDirectory.release_directory={scratch}"],
                                     config) for a in missing], folder)
    for assignment, (ok, log) in zip(missing, outcomes):
        if not ok:
            raise RuntimeError(f"could not register {assignment} in the gradebook "
                               f"(nbgrader generate_assignment failed):\n{log[-3000:]}")
