"""The course's nbgrader gradebook: where it is, one writer at a time, and what it holds.

Where it is comes from nbgrader itself: the course's ``nbgrader_config.py`` loaded by traitlets and
read by ``nbgrader.coursedir.CourseDirectory``, so ``db_url`` and ``course_id`` are what every
``nbgrader`` command run in that folder uses.

The gradebook stays consistent with SQLite, the embedded default: an autograde run holds an exclusive
``flock`` on a lock file of that gradebook (``GradebookLock``) for all it does but rebuilding and judging
the student's notebook, so its gradebook sessions (reading source cells, saving a notebook's grades) never
overlap another worker's. Executing student code, the slow part, happens outside the lock, so workers run
in parallel and write one after another. Without the lock, two SQLite writers can fail with
"database is locked", which makes nbgrader abort the whole batch. A server database (PostgreSQL
through ``CourseDirectory.db_url``) needs no lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from dataclasses import dataclass
from pathlib import Path

from ..course import load

CONFIG_FILE = "nbgrader_config.py"


def _config(root: str):
    from traitlets.config import Config
    from traitlets.config.loader import ConfigFileNotFound, PyFileConfigLoader

    try:
        return PyFileConfigLoader(CONFIG_FILE, path=root).load_config()
    except ConfigFileNotFound:
        return Config()


def course_directory(root: str | Path):
    """nbgrader's ``CourseDirectory`` for the course at ``root``, configured by its ``nbgrader_config.py``."""
    from nbgrader.coursedir import CourseDirectory

    root = str(Path(root).resolve())
    return CourseDirectory(config=_config(root), root=root)


@dataclass(frozen=True)
class CourseFolder:
    """A course folder with its ``nbgrader_config.py`` read once: what grading needs of it, as plain values.

    Made once by the command (``CourseFolder.at(root)``) and passed down; plain, so it travels to worker
    processes as it is. Every function below that takes a course also takes a plain path, for callers
    outside grading.
    """

    root: Path
    db_url: str
    course_id: str
    exchange_root: str

    @classmethod
    def at(cls, root: "str | Path | CourseFolder") -> "CourseFolder":
        if isinstance(root, CourseFolder):
            return root
        from nbgrader.exchange.default.exchange import Exchange

        resolved = str(Path(root).resolve())
        config = _config(resolved)
        coursedir = course_directory(resolved)
        return cls(Path(resolved), coursedir.db_url, coursedir.course_id, Exchange(config=config).root)

    @property
    def lock_path(self) -> Path:
        """The lock file of the course's gradebook: beside a SQLite database (``gradebook.db.lock``, ignored by
        git), else in the user's runtime folder; removed at the end of a run (``remove_lock_file``)."""
        import hashlib

        if self.db_url.startswith("sqlite:///") and self.db_url != "sqlite:///:memory:":
            database = self.root / self.db_url[len("sqlite:///"):]  # an absolute path stays itself
            return database.with_name(database.name + ".lock")
        return runtime_dir() / f"gradebook-{hashlib.sha1(self.db_url.encode()).hexdigest()[:16]}.lock"

    def manifest(self):
        """The course's ``course.toml``."""
        return load(self.root)


def db_url_for(root: "str | Path | CourseFolder") -> str:
    """The gradebook URL nbgrader uses for the course at ``root`` (its config's db_url, else nbgrader's default)."""
    return CourseFolder.at(root).db_url


def course_id(root: "str | Path | CourseFolder") -> str:
    """The course id nbgrader uses for the course at ``root``."""
    return CourseFolder.at(root).course_id


def open_gradebook(root: "str | Path | CourseFolder", db_url: str | None = None):
    """``nbgrader.api.Gradebook`` of the course at ``root`` (a context manager)."""
    from nbgrader.api import Gradebook

    folder = CourseFolder.at(root)
    return Gradebook(db_url or folder.db_url, course_id=folder.course_id)


# --------------------------------------------------------------------------- one writer at a time

class GradebookLock:
    """An exclusive ``flock`` on a gradebook's lock file, taken by one autograde run for the gradebook's sake.

    ``run_app`` holds it over an autograde run, and the trusted pipeline's own steps let go of it for their
    long work that opens no gradebook (``RebuildFromRelease`` assembling and scanning the notebook,
    ``JudgedExecute`` running the student's code): every gradebook session of the run (nbgrader's
    ``Autograde.init_assignment``, ``RebuildFromRelease``'s source cells, ``SaveAutoGrades``,
    ``AssignLatePenalties``) happens under the lock, and workers rebuild and judge in parallel. Nothing outside
    the run is changed: nbgrader's ``Gradebook`` is left as it is, and a run given no lock is not locked.
    """

    def __init__(self, path: str | Path):
        self.path = str(path)
        self._fd: int | None = None

    def __copy__(self):
        # traitlets deep-copies configured values (JudgedExecute.gradebook_lock): a copy would let go of a lock
        # it does not hold, so every copy is this same lock
        return self

    def __deepcopy__(self, memo):
        return self

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        if self._fd is None:
            self._fd = _lock_file(self.path)

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    @contextlib.contextmanager
    def holding(self):
        """Hold the lock within the ``with`` block."""
        self.acquire()
        try:
            yield self
        finally:
            self.release()

    @contextlib.contextmanager
    def let_go(self):
        """Let go of the lock within the ``with`` block (taken again after it, if it was held before)."""
        was_held = self.held
        self.release()
        try:
            yield self
        finally:
            if was_held:
                self.acquire()


def _lock_file(path: str) -> int:
    """An open descriptor holding an exclusive flock on the file at ``path`` (created if need be).

    The file may be removed while we wait (``remove_lock_file``, at the end of a run): the lock then
    held is on a file no one else will open, so take the one that stands at ``path`` now.
    """
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            if os.path.samestat(os.fstat(fd), os.stat(path)):
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)


def remove_lock_file(path: str | Path) -> None:
    """Remove a gradebook lock file once no one holds it (a waiting process then takes a fresh one)."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            if os.path.samestat(os.fstat(fd), os.stat(path)):
                os.unlink(path)
        except FileNotFoundError:
            pass
    finally:
        os.close(fd)  # and with it the lock


def gradebook_lock_path(root: "str | Path | CourseFolder") -> Path:
    """The lock file of the course's gradebook (``CourseFolder.lock_path``)."""
    return CourseFolder.at(root).lock_path


def runtime_dir() -> Path:
    """This user's private folder for the tools' runtime files: ``$XDG_RUNTIME_DIR/course_tools``, else
    ``course_tools-<uid>`` in the temporary folder (mode 0700, refused when it is someone else's or a link)."""
    import stat
    import tempfile

    base = os.environ.get("XDG_RUNTIME_DIR", "")
    folder = (Path(base) / "course_tools" if base and Path(base).is_dir()
              else Path(tempfile.gettempdir()) / f"course_tools-{os.getuid()}")
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:
        pass
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise RuntimeError(f"{folder} is not a private folder of this user: remove it, or set XDG_RUNTIME_DIR")
    return folder


# --------------------------------------------------------------------------- what it holds

def read_grades(root: str | Path, db_url: str | None = None) -> dict:
    """Every recorded grade: ``{(assignment, student): {"score", "max_score", "cells": {grade_id: {...}}}}``."""
    grades = {}
    with open_gradebook(root, db_url) as gb:
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
