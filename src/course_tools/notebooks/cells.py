"""The one reader of nbgrader cell metadata: what kind of cell is this, its grade id, its points, its source.

A submitted notebook is hostile input: its ``metadata`` may be a list where a dict belongs, its
``grade_id`` a number, its ``points`` a string, its ``source`` a list of anything. ``nbgrader.utils``
(``is_solution``, ``is_grade``, ...) raise on such cells, so every part of the course (the rebuild, the
judge, the review, the feedback, peer review, the tests) asks this module instead. Every function is
total: it answers for any value, a cell or not, and never raises. Anything of the wrong type reads as
absent (no flag, no grade id, no points, no source).

Flags are read as nbgrader reads them (a truthy value sets the flag), so that a notebook means the
same to the course as to nbgrader.
"""

from __future__ import annotations

import math

SOLUTION_BEGIN, SOLUTION_END = "### BEGIN SOLUTION", "### END SOLUTION"
HIDDEN_TESTS_BEGIN, HIDDEN_TESTS_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def nbgrader_metadata(cell) -> dict:
    """A cell's ``metadata.nbgrader``, or {} when the cell, its metadata or that entry is not a dict."""
    metadata = cell.get("metadata") if isinstance(cell, dict) else None
    meta = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return meta if isinstance(meta, dict) else {}


def has_malformed_nbgrader_metadata(cell) -> bool:
    """Whether a cell carries a ``metadata.nbgrader`` entry that is not a dict (read as absent everywhere)."""
    metadata = cell.get("metadata") if isinstance(cell, dict) else None
    return isinstance(metadata, dict) and "nbgrader" in metadata and not isinstance(metadata["nbgrader"], dict)


def cell_type(cell) -> str:
    """``"code"``, ``"markdown"``, ``"raw"``; "" when the cell has no string type."""
    kind = cell.get("cell_type") if isinstance(cell, dict) else None
    return kind if isinstance(kind, str) else ""


def _text_field(cell, name: str) -> str:
    value = nbgrader_metadata(cell).get(name)
    return value if isinstance(value, str) else ""


def cell_grade_id(cell) -> str:
    """A cell's grade id; anything but a string (a number, a list, none) counts as none: ""."""
    return _text_field(cell, "grade_id")


def cell_source(cell) -> str:
    """A cell's source as one string (nbformat allows a list of lines); the string parts only."""
    source = cell.get("source", "") if isinstance(cell, dict) else ""
    if isinstance(source, (list, tuple)):
        return "".join(part for part in source if isinstance(part, str))
    return source if isinstance(source, str) else ""


def has_malformed_grade_id(cell) -> bool:
    """Whether a cell's nbgrader metadata names a grade id that is not a string (a number, a list; read as none)."""
    grade_id = nbgrader_metadata(cell).get("grade_id")
    return grade_id is not None and not isinstance(grade_id, str)


def _number(value) -> float | None:
    """``value`` as a finite number >= 0 (a numeric string counts); None for anything else."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) and number >= 0 else None


def cell_points(cell) -> float:
    """A cell's nbgrader points as a finite number >= 0 (a numeric string counts); 0 for anything else."""
    return _number(nbgrader_metadata(cell).get("points", 0)) or 0.0


def cell_score(cell) -> float | None:
    """The score nbgrader's ``GetGrades`` wrote into a graded cell for its feedback, as a finite number >= 0;
    None when the cell has none (not graded yet, by hand) or it is not one."""
    return _number(nbgrader_metadata(cell).get("score"))


def cell_comment(cell) -> str:
    """The grader's comment nbgrader's ``GetGrades`` wrote into a cell for its feedback; "" when none or not text."""
    return _text_field(cell, "comment")


def _flag(cell, name: str) -> bool:
    try:
        return bool(nbgrader_metadata(cell).get(name))
    except Exception:  # a truthiness that raises (an object's __bool__) is no flag
        return False


def is_answer(cell) -> bool:
    """A cell the student writes: an nbgrader solution cell (code, or a written answer in markdown)."""
    return _flag(cell, "solution")


def is_graded(cell) -> bool:
    """A cell that carries points: nbgrader's ``grade`` flag (tests and written answers)."""
    return _flag(cell, "grade")


def is_locked(cell) -> bool:
    """A cell students cannot change: nbgrader's ``locked`` flag (tests, locked set-up, the grading guard)."""
    return _flag(cell, "locked")


def is_task(cell) -> bool:
    """An nbgrader task cell (a manually graded markdown task)."""
    return _flag(cell, "task")


def nbgrader_flags(cell) -> dict[str, bool]:
    """nbgrader's four flags of a cell by their metadata names: ``solution``, ``grade``, ``locked``, ``task``."""
    return {"solution": is_answer(cell), "grade": is_graded(cell), "locked": is_locked(cell), "task": is_task(cell)}


def cell_role(cell) -> str:
    """What the course does with a cell: ``markdown`` (any non-code cell), ``test`` (graded code that is
    not an answer), ``answer`` (solution code), ``locked`` (instructor code without points) or ``plain``."""
    if cell_type(cell) != "code":
        return "markdown"
    if is_answer(cell):
        return "answer"
    if is_graded(cell):
        return "test"
    if is_locked(cell):
        return "locked"
    return "plain"


def is_test(cell) -> bool:
    """A graded test cell: an nbgrader ``grade`` code cell that is not a solution."""
    return cell_role(cell) == "test"


def is_written_answer(cell) -> bool:
    """A written answer: a graded markdown solution cell."""
    return cell_type(cell) == "markdown" and is_answer(cell) and is_graded(cell)


def strip_solution_markers(source: str) -> str:
    """The reference solution as a student would write it: the lines of the solution markers removed."""
    return "\n".join(line for line in source.splitlines() if line.strip() not in (SOLUTION_BEGIN, SOLUTION_END))


def solution_region(source: str) -> str | None:
    """The text between the solution markers (stripped), or None when the source has no ``BEGIN SOLUTION``."""
    if SOLUTION_BEGIN not in source:
        return None
    return source.split(SOLUTION_BEGIN, 1)[1].split(SOLUTION_END, 1)[0].strip()
