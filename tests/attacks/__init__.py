"""An attack corpus against trusted grading (issue 9): submissions that try to score, see, damage or linger.

Every attack is one student's submission to an assignment, built from the released notebook:

* ``@answer(family)``: the function returns Python source that is written into the FIRST answer
  cell, below its released stub (so it runs after the stub's ``def`` and may replace it). Every
  other answer stays the released stub, so an honest score is 0. The source starts with
  ``_ATTACK = {...}``: the run's course folder, the repository, a unique marker, the host
  listener's ports and the honest classmates' ids (see :class:`Context`).
* ``@notebook(family)``: the function edits a copy of the released notebook (structural attacks).
* ``@folder(family)``: the function writes the submission folder itself (files, symlinks).

Each attack's docstring says what it tries. ``tests/test_attacks.py`` grades them all in one run,
with honest classmates before and after them, and checks that none of them gained anything.
Attacks on the judge's handling of arguments (rewriting a stream's ground truth through
``stream._truth``, nested state of an earlier call's argument, a spy's private attributes) and on
what a crash or a loop costs need small notebooks of their own: ``tests/test_judge.py``.

``known`` marks an attack that *does* get through today: ``{check name: reason}``; the test of
that check is then an ``xfail(strict=True)`` until the grading is fixed. ``refused`` marks an
attack that grading must refuse outright (not graded, reported with the reason, nothing recorded).
"""

from __future__ import annotations

import copy
import json
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import nbformat

from course_tools.notebooks.cells import cell_grade_id, is_answer

FAMILIES = {
    1: "IPython hooks (events, transformers, custom exceptions, run_cell)",
    2: "re-binding the guard, patching numpy/math/builtins",
    3: "objects that lie (__eq__, metaclasses, __class__)",
    4: "notebook structure (metadata, flags, ids, extra/deleted/moved cells, symlinks)",
    5: "secrets (hidden tests, solutions, gradebook, history, environment, /proc)",
    6: "damage (gradebook, classmates' notebooks, course files, installed tools)",
    7: "lingering processes, threads and kernel connection files",
    8: "network (the host's loopback, the internet, abstract unix sockets)",
    9: "resources (memory, output, forks, disk, time)",
    10: "forging the judge channel",
    11: "feedback injection (script, event handlers)",
    12: "showing hidden-test inputs (a recorder, printed by a later cell)",
}


@dataclass(frozen=True)
class Context:
    """What an attack may know about the run it attacks (a real student could guess most of it)."""
    course: Path            # the temporary course folder being graded (absolute)
    main: Path              # the repository (/work/main)
    assignment: str         # e.g. "01_testing"
    marker: str             # unique to this run: in every file an attack writes and every process it leaves
    port: int               # a TCP listener on the HOST's 127.0.0.1
    udp_port: int           # a UDP socket on the HOST's 127.0.0.1
    unix_name: str          # an abstract unix socket listening on the host ("\0" + unix_name)
    victims: tuple[str, ...]  # honest classmates' student ids
    cell_timeout: float     # the judge's budget per cell in the graded course (seconds), for attacks that wait

    def header(self) -> str:
        values = {"course": str(self.course), "main": str(self.main), "assignment": self.assignment,
                  "marker": self.marker, "port": self.port, "udp_port": self.udp_port,
                  "unix_name": self.unix_name, "victims": list(self.victims), "cell_timeout": self.cell_timeout}
        return f"_ATTACK = {values!r}\n"


@dataclass(frozen=True)
class Attack:
    student: str            # the submission's student id: att_<family>_<name>
    family: int
    doc: str                # what it tries (the function's docstring)
    build: Callable[[Path, "nbformat.NotebookNode", Context], None]  # writes submitted/<student>/<assignment>/
    known: dict = field(default_factory=dict)  # check -> reason, for attacks that get through today
    refused: bool = False   # grading must refuse the submission (links in the folder): no grade, a reason


ATTACKS: list[Attack] = []


def _register(family: int, fn, build, name: str | None, known: dict | None, refused: bool = False) -> None:
    doc = " ".join((fn.__doc__ or "").split())
    assert doc, f"attack {fn.__name__} needs a docstring saying what it tries"
    student = name or f"att_{family:02d}_{fn.__name__}"
    assert student not in {a.student for a in ATTACKS}, f"duplicate attack {student}"
    ATTACKS.append(Attack(student, family, doc, build, dict(known or {}), refused))


def answer_cells(nb) -> list:
    """The graded answer cells (the header's ungraded NAME/COLLABORATORS answer cell, ``student_name``, left out:
    an attack written there would be overwritten by the released stub that follows it)."""
    return [c for c in nb.cells if c.cell_type == "code" and is_answer(c)
            and cell_grade_id(c) != "student_name"]


def notebook_path(folder: Path, assignment: str) -> Path:
    return folder / f"{assignment}.ipynb"


def write_notebook(nb, folder: Path, ctx: Context) -> None:
    """Written as raw JSON: nbformat would refuse (or repair) the malformed notebooks some attacks make."""
    folder.mkdir(parents=True, exist_ok=True)
    notebook_path(folder, ctx.assignment).write_text(json.dumps(nb, indent=1), encoding="utf-8")


def answer(family: int, name: str | None = None, known: dict | None = None):
    """The decorated ``fn(ctx) -> source`` is written into the first answer cell, below the released stub."""
    def decorate(fn):
        def build(folder: Path, release_nb, ctx: Context) -> None:
            nb = copy.deepcopy(release_nb)
            cell = answer_cells(nb)[0]
            cell.source = cell.source + "\n\n" + ctx.header() + textwrap.dedent(fn(ctx)).strip() + "\n"
            write_notebook(nb, folder, ctx)
        _register(family, fn, build, name, known)
        return fn
    return decorate


def notebook(family: int, name: str | None = None, known: dict | None = None):
    """The decorated ``fn(nb, ctx)`` edits a copy of the released notebook in place."""
    def decorate(fn):
        def build(folder: Path, release_nb, ctx: Context) -> None:
            nb = copy.deepcopy(release_nb)
            fn(nb, ctx)
            write_notebook(nb, folder, ctx)
        _register(family, fn, build, name, known)
        return fn
    return decorate


def folder(family: int, name: str | None = None, known: dict | None = None, refused: bool = False):
    """The decorated ``fn(folder, release_nb, ctx)`` writes the submission folder itself."""
    def decorate(fn):
        _register(family, fn, fn, name, known, refused)
        return fn
    return decorate


# The corpus, one module per family (importing them registers the attacks, in this order).
from . import (channel, damage, guard, ipython_hooks, lingering, liars, markup, network,  # noqa: E402,F401
               recorder, resources, secrets, structure)

ATTACKS.sort(key=lambda attack: attack.student)
