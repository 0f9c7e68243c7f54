"""The one reader of nbgrader cell metadata answers for any cell a submission can hold and never raises."""

from __future__ import annotations

import math

import nbformat
import pytest

from course_tools.notebooks import cells


class _Exploding:
    """A value whose truthiness, comparison and string form raise: what a hostile object would do."""

    def __bool__(self):
        raise RuntimeError("no truth")

    def __eq__(self, other):
        raise RuntimeError("no equality")

    __hash__ = object.__hash__

    def __str__(self):
        raise RuntimeError("no text")


HOSTILE_CELLS = [
    None, 3, "a cell", ["cell"], {},
    {"cell_type": "code"},
    {"cell_type": ["code"], "metadata": {"nbgrader": {"solution": True}}},
    {"cell_type": "code", "metadata": ["nbgrader"]},
    {"cell_type": "code", "metadata": "nbgrader"},
    {"cell_type": "code", "metadata": {"nbgrader": ["grade_id", "f"]}},
    {"cell_type": "code", "metadata": {"nbgrader": "solution"}},
    {"cell_type": "code", "metadata": {"nbgrader": None}},
    {"cell_type": "code", "metadata": {"nbgrader": {"grade_id": 7, "points": "lots"}}},
    {"cell_type": "code", "metadata": {"nbgrader": {"grade_id": ["f"], "points": float("nan")}}},
    {"cell_type": "code", "metadata": {"nbgrader": {"grade_id": {"id": "f"}, "points": float("inf")}}},
    {"cell_type": "code", "metadata": {"nbgrader": {"grade": _Exploding(), "solution": _Exploding(),
                                                    "locked": _Exploding(), "points": _Exploding()}}},
    {"cell_type": "code", "metadata": {"nbgrader": {"points": 10 ** 400}}},
    {"cell_type": "code", "source": ["x = 1\n", 2, None, "y = 2"]},
    {"cell_type": "code", "source": 42},
]


@pytest.mark.parametrize("cell", HOSTILE_CELLS, ids=lambda cell: repr(cell)[:60])
def test_every_reader_answers_for_hostile_cells_with_the_value_of_absent(cell):
    assert isinstance(cells.nbgrader_metadata(cell), dict)
    assert cells.cell_grade_id(cell) == ""
    assert cells.cell_points(cell) == 0.0
    assert isinstance(cells.cell_source(cell), str)
    assert cells.cell_role(cell) in ("markdown", "plain")
    assert not cells.is_test(cell) and not cells.is_written_answer(cell)
    assert isinstance(cells.is_answer(cell), bool) and isinstance(cells.is_locked(cell), bool)
    assert isinstance(cells.has_malformed_nbgrader_metadata(cell), bool)
    assert isinstance(cells.has_malformed_grade_id(cell), bool)
    assert cells.cell_score(cell) is None and cells.cell_comment(cell) == ""
    flags = cells.nbgrader_flags(cell)
    assert all(isinstance(value, bool) for value in flags.values())
    assert flags["solution"] is cells.is_answer(cell) and flags["locked"] is cells.is_locked(cell)


@pytest.mark.parametrize("cell, malformed", [
    ({"cell_type": "code", "metadata": {"nbgrader": "solution"}}, True),
    ({"cell_type": "code", "metadata": {"nbgrader": ["grade_id", "f"]}}, True),
    ({"cell_type": "code", "metadata": {"nbgrader": None}}, True),
    ({"cell_type": "code", "metadata": {"nbgrader": {"grade_id": 7}}}, False),  # a dict: its fields are read one by one
    ({"cell_type": "code", "metadata": {}}, False),
    ({"cell_type": "code", "metadata": ["nbgrader"]}, False),                   # no nbgrader entry at all
    ("not a cell", False),
])
def test_an_nbgrader_entry_that_is_not_a_dict_is_told_apart(cell, malformed):
    assert cells.has_malformed_nbgrader_metadata(cell) is malformed


def test_a_source_of_mixed_parts_reads_as_its_string_parts():
    assert cells.cell_source({"cell_type": "code", "source": ["x = 1\n", 2, None, "y = 2"]}) == "x = 1\ny = 2"
    assert cells.cell_source({"cell_type": "code", "source": 42}) == ""


def _cell(kind: str, **meta):
    cell = nbformat.v4.new_code_cell("pass") if kind == "code" else nbformat.v4.new_markdown_cell("text")
    cell.metadata["nbgrader"] = meta
    return cell


@pytest.mark.parametrize("kind, meta, role", [
    ("code", {"grade": True, "solution": False, "locked": True}, "test"),
    ("code", {"grade": False, "solution": True, "locked": False}, "answer"),
    ("code", {"grade": True, "solution": True}, "answer"),           # an autograded answer is the student's code
    ("code", {"grade": False, "solution": False, "locked": True}, "locked"),
    ("code", {}, "plain"),
    ("markdown", {"grade": True, "solution": True}, "markdown"),
])
def test_the_role_of_a_well_formed_cell_follows_its_nbgrader_flags(kind, meta, role):
    assert cells.cell_role(_cell(kind, grade_id="x", **meta)) == role


def test_a_written_answer_is_a_graded_markdown_solution_and_nothing_else():
    assert cells.is_written_answer(_cell("markdown", grade=True, solution=True))
    assert not cells.is_written_answer(_cell("markdown", grade=False, solution=True))
    assert not cells.is_written_answer(_cell("code", grade=True, solution=True))


@pytest.mark.parametrize("points, expected", [(3, 3.0), (2.5, 2.5), ("4", 4.0), ("1.5", 1.5), (-2, 0.0), (True, 0.0),
                                              (None, 0.0), ("", 0.0), ([1], 0.0)])
def test_points_read_as_a_finite_non_negative_number(points, expected):
    value = cells.cell_points(_cell("code", grade=True, points=points))
    assert value == expected and math.isfinite(value)


def test_the_grade_id_of_a_well_formed_cell_is_its_string():
    assert cells.cell_grade_id(_cell("code", grade_id="test_f_visible")) == "test_f_visible"


def test_stripping_the_solution_markers_keeps_every_other_line():
    source = "def f():\n    ### BEGIN SOLUTION\n    return 42\n    ### END SOLUTION\n# ### BEGIN SOLUTION in a comment"
    assert cells.strip_solution_markers(source).splitlines() == [
        "def f():", "    return 42", "# ### BEGIN SOLUTION in a comment"]


def test_the_solution_region_is_the_text_between_the_markers_or_none():
    assert cells.solution_region("Q?\n### BEGIN SOLUTION\n  An answer.\n### END SOLUTION\n") == "An answer."
    assert cells.solution_region("Q? no markers") is None


@pytest.mark.parametrize("grade_id, malformed", [
    (7, True), (1.5, True), (True, True), (["f"], True), ({"id": "f"}, True),
    ("test_f_visible", False), ("", False), (None, False),
])
def test_a_grade_id_that_is_not_a_string_is_told_apart(grade_id, malformed):
    cell = _cell("code", grade_id=grade_id)
    assert cells.has_malformed_grade_id(cell) is malformed
    assert cells.cell_grade_id(cell) == (grade_id if isinstance(grade_id, str) else "")


@pytest.mark.parametrize("cell", [_cell("code"), {"cell_type": "code", "metadata": {"nbgrader": [("grade_id", 7)]}},
                                  {"cell_type": "code", "metadata": {"nbgrader": 7}}, "not a cell"])
def test_a_cell_without_an_nbgrader_dict_has_no_malformed_grade_id(cell):
    assert cells.has_malformed_grade_id(cell) is False


@pytest.mark.parametrize("score, expected", [(2.5, 2.5), (0, 0.0), ("1", 1.0), (None, None), (-1, None),
                                             (float("nan"), None), (float("inf"), None), ("x", None), (True, None),
                                             ({"$gt": 0}, None)])
def test_a_score_reads_as_a_finite_non_negative_number_or_none(score, expected):
    assert cells.cell_score(_cell("code", grade=True, points=3, score=score)) == expected


def test_a_cell_nbgrader_has_not_scored_has_no_score():
    assert cells.cell_score(_cell("code", grade=True, points=3)) is None


@pytest.mark.parametrize("comment, expected", [("Well argued.", "Well argued."), ("", ""), (None, ""), (5, ""),
                                               (["Well"], ""), ({"text": "x"}, "")])
def test_a_comment_is_text_or_nothing(comment, expected):
    assert cells.cell_comment(_cell("markdown", solution=True, comment=comment)) == expected


@pytest.mark.parametrize("flag", ["solution", "grade", "locked", "task"])
def test_each_nbgrader_flag_is_read_alone_under_its_own_name(flag):
    flags = cells.nbgrader_flags(_cell("code", **{flag: True}))
    assert flags[flag] is True and not any(value for name, value in flags.items() if name != flag)
    assert not any(cells.nbgrader_flags(_cell("code", **{flag: False})).values())


def test_flags_are_read_as_nbgrader_reads_them_truthy_or_not():
    flags = cells.nbgrader_flags(_cell("code", grade="yes", solution=None, locked=[], task=1))
    assert flags == {"grade": True, "solution": False, "locked": False, "task": True}
