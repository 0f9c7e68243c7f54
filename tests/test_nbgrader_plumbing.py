"""The plumbing between the course's tools and nbgrader leaves nothing behind: no logger per run, no file of
a fixed name in the shared temporary folder, no lock file after the run, no module-global result channel."""

from __future__ import annotations

import logging
import os
import stat
import tempfile
import threading
from pathlib import Path

import pytest

from course_tools.grading import gradebook, judged_autograde, nbgrader_apps, worker_imports


def _course(tmp_path: Path, db_url: str | None = None) -> Path:
    root = tmp_path / "course"
    root.mkdir()
    if db_url:
        (root / "nbgrader_config.py").write_text(f"c = get_config()\nc.CourseDirectory.db_url = {db_url!r}\n")
    return root


def _nbgrader_loggers() -> list[str]:
    return [name for name in logging.Logger.manager.loggerDict if name.startswith(nbgrader_apps.NBGRADER_LOGGER)]


def test_running_nbgrader_apps_adds_no_logger_and_leaves_no_handler(tmp_path):
    root = _course(tmp_path)
    logs = [nbgrader_apps.run_app("export", [], root, prepare=lambda app, n=n: f"refused run {n}") for n in range(3)]
    assert [ok for ok, _ in logs] == [False] * 3
    assert all(f"refused run {n}" in log for n, (_, log) in enumerate(logs))
    assert len(_nbgrader_loggers()) == 1
    assert logging.getLogger(nbgrader_apps.NBGRADER_LOGGER).handlers == []


def test_runs_in_two_threads_keep_their_logs_apart(tmp_path):
    root = _course(tmp_path)
    barrier, logs = threading.Barrier(2), {}

    def run(name):
        def prepare(app):
            barrier.wait(timeout=60)  # both runs are capturing now: each logs while the other listens
            app.log.error("this is run %s", name)
            barrier.wait(timeout=60)
            return "stop here"
        logs[name] = nbgrader_apps.run_app("export", [], root, prepare=prepare)[1]

    # run_app changes directory: one run at a time does that, but the logs are what is tested here
    threads = [threading.Thread(target=run, args=(name,)) for name in ("a", "b")]
    cwd = os.getcwd()
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        os.chdir(cwd)
    assert "this is run a" in logs["a"] and "this is run b" not in logs["a"]
    assert "this is run b" in logs["b"] and "this is run a" not in logs["b"]


def test_a_sqlite_gradebook_is_locked_beside_its_database_not_in_the_shared_temporary_folder(tmp_path):
    root = _course(tmp_path)
    lock = gradebook.gradebook_lock_path(root)
    database = Path(gradebook.db_url_for(root)[len("sqlite:///"):])
    assert lock.parent == database.parent == root.resolve()
    assert lock.name == database.name + ".lock"


def test_a_server_gradebook_is_locked_in_a_private_folder_of_the_user(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    root = _course(tmp_path, "postgresql://grader@localhost/course")
    lock = gradebook.gradebook_lock_path(root)
    folder = lock.parent
    assert folder == tmp_path / "course_tools"
    info = folder.lstat()
    assert stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) == 0o700
    (tmp_path / "other").mkdir()
    other = gradebook.gradebook_lock_path(_course(tmp_path / "other", "postgresql://grader@localhost/other"))
    assert other.parent == folder and other != lock  # one lock per gradebook


def test_a_shared_runtime_folder_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    (tmp_path / "course_tools").mkdir(mode=0o777)
    os.chmod(tmp_path / "course_tools", 0o777)
    try:
        gradebook.runtime_dir()
    except RuntimeError as error:
        assert "private" in str(error)
    else:
        raise AssertionError("a folder others can write was taken as the private runtime folder")


def test_a_removed_lock_file_is_not_held_by_a_late_comer(tmp_path):
    path = str(tmp_path / "gradebook.db.lock")
    held = gradebook._lock_file(path)
    removed = threading.Thread(target=gradebook.remove_lock_file, args=(path,))
    removed.start()                 # waits for our hold, then removes the file
    removed.join(timeout=0.5)
    assert removed.is_alive() and os.path.exists(path), "the file was removed while it was held"
    os.close(held)
    removed.join(timeout=30)
    assert not os.path.exists(path)
    fresh = gradebook._lock_file(path)  # the next session locks a file that stands at the path
    try:
        assert os.path.samestat(os.fstat(fresh), os.stat(path))
    finally:
        os.close(fresh)
        gradebook.remove_lock_file(path)


# A grading process: one pool of one worker that makes and holds the gradebook's lock file, then ends.
POOL_RUN = """
import os, sys
from course_tools.grading import gradebook, nbgrader_apps

if __name__ == "__main__":
    root = sys.argv[1]
    with nbgrader_apps.worker_pool(gradebook.CourseFolder.at(root), 1, lock=True) as pool:
        lock = str(gradebook.gradebook_lock_path(root))
        assert pool.submit(gradebook._lock_file, lock).result(timeout=300) >= 0  # a worker made and held it
        assert os.path.exists(lock), "the worker's lock file is missing"
    assert not os.path.exists(lock), "the pool left its lock file"
"""


@pytest.mark.grading  # starts a worker that imports nbgrader
def test_a_worker_pool_leaves_no_lock_file_and_no_log_behind(tmp_path):
    """Nothing of a grading run stays in the temporary folder once its process has ended: the workers' log goes
    with the pool, and multiprocessing's own folder (the socket of the server the workers fork from) with the
    process. In a temporary folder too deep for a unix socket's path, workers start as new processes instead."""
    import subprocess
    import sys

    root = _course(tmp_path)
    deep = tmp_path / ("deep" * 30)  # pytest's own folders can be that deep too
    deep.mkdir()
    with tempfile.TemporaryDirectory(prefix="pool-") as short:  # this run's own: others' runs share the system's
        for scratch in (Path(short), deep):
            done = subprocess.run([sys.executable, "-c", POOL_RUN, str(root)], env={**os.environ, "TMPDIR": str(scratch)},
                                  capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stderr[-3000:]
            assert ("fork server cannot start" in done.stderr) == (scratch == deep), done.stderr[-3000:]
            assert not os.path.exists(gradebook.gradebook_lock_path(root))
            assert not list(scratch.iterdir()), f"left in the temporary folder: {list(scratch.iterdir())}"


def test_grading_reports_travel_through_the_callers_channel_not_a_module_global():
    from traitlets.config import Config

    class App:
        config = Config()

        def update_config(self, config):
            self.config.merge(config)

    reports = []

    def sink(*report):
        reports.append(report)

    app = App()
    assert judged_autograde.enforce_trusted_pipeline(app, report_to=sink) == ""
    judged_autograde.JudgedExecute(config=app.config).report_to("01", "ada", "01", {"passed": 1})
    assert reports == [("01", "ada", "01", {"passed": 1})]
    assert not [name for name, value in vars(judged_autograde).items() if isinstance(value, dict) and name.isupper()]


def test_a_course_folder_reads_its_configuration_once_and_travels_as_plain_values(tmp_path):
    import pickle

    root = _course(tmp_path, "postgresql://grader@localhost/course")
    (root / "nbgrader_config.py").write_text((root / "nbgrader_config.py").read_text()
                                             + "c.CourseDirectory.course_id = 'c-101'\nc.Exchange.root = '/srv/x'\n")
    folder = gradebook.CourseFolder.at(root)
    (root / "nbgrader_config.py").unlink()  # what was read stays read: no function below parses it again
    assert (folder.db_url, folder.course_id, folder.exchange_root) == ("postgresql://grader@localhost/course", "c-101",
                                                                        "/srv/x")
    assert gradebook.db_url_for(folder) == folder.db_url and gradebook.course_id(folder) == "c-101"
    assert gradebook.CourseFolder.at(folder) is folder
    assert pickle.loads(pickle.dumps(folder)) == folder  # to worker processes as it is


def _taken_by_another(path: str) -> bool:
    """Whether a second holder (another open file, as another worker has) could take the lock right now."""
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # and with it any lock this probe took
    return False


def test_a_gradebook_lock_keeps_other_holders_out_until_it_is_let_go(tmp_path):
    lock = gradebook.GradebookLock(tmp_path / "gradebook.db.lock")
    assert not _taken_by_another(lock.path)
    with lock.holding():
        assert lock.held and _taken_by_another(lock.path)
        with lock.let_go():
            assert not lock.held and not _taken_by_another(lock.path)
        assert lock.held and _taken_by_another(lock.path)  # taken again after the judge
    assert not lock.held and not _taken_by_another(lock.path)
    with lock.let_go():  # not held: letting go takes nothing afterwards
        pass
    assert not lock.held


def test_the_judge_runs_outside_the_gradebook_lock_and_the_run_holds_it_again_after(tmp_path, monkeypatch):
    from types import SimpleNamespace

    import nbformat

    lock = gradebook.GradebookLock(tmp_path / "gradebook.db.lock")
    seen = []

    class Judge:
        def __init__(self, **_):
            pass

        def run(self, nb, names):
            seen.append(_taken_by_another(lock.path))
            return SimpleNamespace(notes=[], verdicts=[])

    monkeypatch.setattr(judged_autograde, "Judge", Judge)
    monkeypatch.setattr(judged_autograde, "released_notebook", lambda *_: nbformat.v4.new_notebook())
    monkeypatch.setattr(judged_autograde, "answer_names", lambda _: [])
    from traitlets.config import Config

    config = Config()
    config.JudgedExecute.gradebook_lock = lock
    judged = judged_autograde.JudgedExecute(config=config)
    resources = {"nbgrader": {"assignment": "01", "student": "ada", "notebook": "01"}}
    with lock.holding():
        judged.preprocess(nbformat.v4.new_notebook(), resources)
        assert seen == [False], "the judge ran while the run kept other workers out of the gradebook"
        assert lock.held and _taken_by_another(lock.path)


def test_concurrent_runs_holding_the_lock_record_every_write_into_one_sqlite_gradebook(tmp_path):
    from nbgrader.api import Gradebook

    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url, "course") as gb:
        gb.add_assignment("01")
    students = {w: [f"w{w}-s{i}" for i in range(6)] for w in range(4)}
    errors = []

    def run(worker):
        try:
            for student in students[worker]:
                with gradebook.GradebookLock(tmp_path / "gradebook.db.lock").holding():  # one run's sessions
                    with Gradebook(url, "course") as gb:
                        gb.update_or_create_student(student)
                    with Gradebook(url, "course") as gb:
                        gb.update_or_create_submission("01", student)
        except Exception as error:  # e.g. "database is locked"
            errors.append(error)

    threads = [threading.Thread(target=run, args=(w,)) for w in students]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors
    with Gradebook(url, "course") as gb:
        recorded = sorted(s.student_id for s in gb.find_assignment("01").submissions)
    assert recorded == sorted(s for names in students.values() for s in names)


def test_the_rebuild_reads_the_gradebook_under_the_lock_and_assembles_outside_it(tmp_path, monkeypatch):
    import nbformat
    from traitlets.config import Config

    lock = gradebook.GradebookLock(tmp_path / "gradebook.db.lock")
    seen = {}

    def sources(*_):
        seen["reading the gradebook"] = _taken_by_another(lock.path)
        return {}

    def assemble(release, nb, trusted):
        seen["assembling"] = _taken_by_another(lock.path)
        return nbformat.v4.new_notebook(), []

    monkeypatch.setattr(judged_autograde, "unsafe_entries", lambda *_: [])
    monkeypatch.setattr(judged_autograde, "released_notebook", lambda *_: nbformat.v4.new_notebook())
    monkeypatch.setattr(judged_autograde, "trusted_sources", sources)
    monkeypatch.setattr(judged_autograde, "assemble", assemble)
    config = Config()
    config.RebuildFromRelease.gradebook_lock = lock
    rebuild = judged_autograde.RebuildFromRelease(config=config)
    resources = {"nbgrader": {"assignment": "01", "student": "ada", "notebook": "01", "db_url": "sqlite://"}}
    with lock.holding():
        rebuild.preprocess(nbformat.v4.new_notebook(), resources)
        assert seen == {"reading the gradebook": True, "assembling": False}
        assert lock.held and _taken_by_another(lock.path)


def _font_list_in_this_process():
    from course_tools.grading import sandbox

    return list(sandbox._font_list)


def test_grading_workers_start_with_the_font_list_their_pool_built(tmp_path):
    """The sandboxes' font list is built once by the process that starts the workers (0.6 s each otherwise)."""
    from course_tools.grading.sandbox import font_list, sandbox_status

    if not sandbox_status()[0]:
        pytest.skip("no sandbox: no font list to hand over")
    folder = gradebook.CourseFolder.at(Path(__file__).resolve().parents[1])
    with nbgrader_apps.worker_pool(folder, 1, lock=False) as pool:
        handed = pool.submit(_font_list_in_this_process).result()
    assert font_list() is not None and handed == [font_list()]


def _environment_variable(name: str) -> str | None:
    return os.environ.get(name)


def _imported(names) -> list[str]:
    import sys

    return [name for name in names if name in sys.modules]


@pytest.mark.grading  # starts workers that import nbgrader
def test_workers_fork_ready_and_see_the_callers_environment_of_now(tmp_path, monkeypatch):
    """Workers fork from a server that imported what grading needs once; they still get the caller's environment
    as it is when their pool starts, not as it was when that server started."""
    folder = gradebook.CourseFolder.at(_course(tmp_path))
    with nbgrader_apps.worker_pool(folder, 1, lock=False) as pool:  # the server starts (if no pool has yet)
        assert pool.submit(_imported, worker_imports.MODULES).result(timeout=300) == list(worker_imports.MODULES)
    monkeypatch.setenv("COURSE_TOOLS_TEST_MARK", "set after the server started")
    with nbgrader_apps.worker_pool(folder, 1, lock=False) as pool:
        assert pool.submit(_environment_variable, "COURSE_TOOLS_TEST_MARK").result(timeout=300) == \
            "set after the server started"
