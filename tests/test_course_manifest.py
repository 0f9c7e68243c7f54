"""course.toml is the one list of the course: it agrees with the source notebooks, and nothing else repeats it.

For each assignment of the manifest, its source notebook has

* for each graded name, exactly one code solution cell with that grade_id, whose manifest points are the
  sum of the points of the test cells named ``test_<name>_...``;
* for each written answer, exactly one markdown cell that is both graded and a solution, with those points;
* no graded cell the manifest does not account for.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import nbformat
import pytest
from course_tools.course import course_root, load
from course_tools.notebooks.cells import cell_grade_id, cell_points, cell_role, is_answer, is_graded, is_written_answer

ROOT = Path(__file__).resolve().parents[1]
COURSE = load(ROOT)


def graded_cells(assignment: str) -> dict[str, list]:
    """The notebook's graded and solution cells by kind: "solutions" (code), "tests" (code), "written" (markdown)."""
    nb = nbformat.read(str(ROOT / "source" / assignment / f"{assignment}.ipynb"), as_version=4)
    kinds = {"solutions": [], "tests": [], "written": [], "other": []}
    for cell in nb.cells:
        if not (is_graded(cell) or is_answer(cell)):
            continue
        kind = {"answer": "solutions", "test": "tests"}.get(cell_role(cell)) or (
            "written" if is_written_answer(cell) else "other")
        kinds[kind].append(cell)
    return kinds


def owner(test_id: str, names) -> str | None:
    """The graded name a test cell belongs to: the longest name ``n`` with ``test_id`` starting ``test_n_``."""
    owners = [name for name in names if test_id.startswith(f"test_{name}_")]
    return max(owners, key=len) if owners else None


@pytest.mark.parametrize("assignment", COURSE.assignments, ids=lambda a: a.name)
def test_each_graded_name_has_one_solution_cell_and_the_points_of_its_tests(assignment):
    cells = graded_cells(assignment.name)
    solutions = [cell_grade_id(cell) for cell in cells["solutions"]]
    points: dict[str, float] = {}
    for cell in cells["tests"]:
        name = owner(cell_grade_id(cell), assignment.graded)
        points[name] = points.get(name, 0.0) + cell_points(cell)
    problems = [f"{name}: {solutions.count(name)} solution cells (one expected)"
                for name in assignment.graded if solutions.count(name) != 1]
    problems += [f"{name}: course.toml says {expected:g} points, its test cells (test_{name}_*) add up to "
                 f"{points.get(name, 0.0):g}" for name, expected in assignment.graded.items()
                 if abs(points.get(name, 0.0) - expected) > 1e-9]
    assert not problems, f"{assignment.name}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("assignment", COURSE.assignments, ids=lambda a: a.name)
def test_each_written_answer_is_a_graded_markdown_solution_cell_with_its_points(assignment):
    written = {}
    for cell in graded_cells(assignment.name)["written"]:
        written.setdefault(cell_grade_id(cell), []).append(cell_points(cell))
    problems = [f"{name}: {len(written.get(name, []))} graded markdown solution cells (one expected)"
                for name in assignment.written if len(written.get(name, [])) != 1]
    problems += [f"{name}: course.toml says {points:g} points, the cell {written[name][0]:g}"
                 for name, points in assignment.written.items()
                 if len(written.get(name, [])) == 1 and abs(written[name][0] - points) > 1e-9]
    assert not problems, f"{assignment.name}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("assignment", COURSE.assignments, ids=lambda a: a.name)
def test_nothing_graded_is_missing_from_the_manifest(assignment):
    ids = {kind: [cell_grade_id(cell) for cell in found] for kind, found in graded_cells(assignment.name).items()}
    missing = [f"solution cell {gid}" for gid in ids["solutions"] if gid not in assignment.graded]
    missing += [f"test cell {gid} (named after no graded name)" for gid in ids["tests"]
                if owner(gid, assignment.graded) is None]
    missing += [f"written answer {gid}" for gid in ids["written"] if gid not in assignment.written]
    missing += [f"graded cell {gid} of an unknown kind" for gid in ids["other"]]
    assert not missing, f"{assignment.name}: not in course.toml:\n  " + "\n  ".join(missing)


def test_the_manifest_is_found_from_the_working_directory_and_below():
    assert course_root(ROOT) == ROOT
    assert course_root(ROOT / "source" / COURSE.names[0]) == ROOT


# Where the assignment list must not be written again: everything that runs or configures the course.
NOT_AGAIN = ("src", "tests", "benchmarks", "Makefile", "nbgrader_config.py")
ASSIGNMENT_NAME = re.compile("|".join(re.escape(name) for name in COURSE.names))


def assignments_named(line: str) -> set[str]:
    return set(ASSIGNMENT_NAME.findall(line))


def test_no_other_file_lists_the_assignments():
    """A line naming two different assignments is a copy of the list (one name alone is a path or an example)."""
    offenders = []
    for top in NOT_AGAIN:
        paths = [ROOT / top] if (ROOT / top).is_file() else sorted((ROOT / top).rglob("*"))
        for path in paths:
            if not path.is_file() or "__pycache__" in path.parts or path.suffix in (".pyc", ".ipynb", ".html"):
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
            offenders += [f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}"
                          for number, line in enumerate(text.splitlines(), 1)
                          if len(assignments_named(line)) >= 2]
    assert not offenders, "the assignments are listed in course.toml only:\n  " + "\n  ".join(offenders)


def test_the_list_check_would_see_a_copy():
    """The pattern the check above uses does find a line that lists two assignments."""
    for first, second in itertools.combinations(COURSE.names, 2):
        assert assignments_named(f'ASSIGNMENTS = ("{first}", "{second}")') == {first, second}
    assert assignments_named(f"source/{first}/{first}.ipynb") == {first}
