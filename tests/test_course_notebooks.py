"""Every assignment notebook: paired with its text twin, clean, released in sync, solvable and unsolved.

The release/source sync is checked by tests/test_pipeline_grading.py on the
release it builds anyway. The reference (source) notebook must pass all its tests and the released
stub must fail every graded test, as nbgrader's docs prescribe; both run in
real kernels through ``nbgrader validate``.
"""

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course_tools import course
from course_tools.notebooks import authoring
from course_tools.notebooks.cells import cell_grade_id, is_answer, is_graded
from course_tools.notebooks.generate import nbgrader_environment

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = course.available_assignments(ROOT)


def _notebook(kind: str, name: str) -> Path:
    return ROOT / kind / name / f"{name}.ipynb"


def test_every_contract_assignment_exists():
    names = course.load(ROOT).names
    assert ASSIGNMENTS == list(names), f"missing source folders: {set(names) - set(ASSIGNMENTS)}"


@pytest.mark.parametrize("pair", authoring.pairs(ROOT), ids=lambda p: p.name)
def test_source_notebook_agrees_with_its_text_twin(pair):
    problem = authoring.disagreement(pair)
    assert problem is None, f"{problem}: run `make sync` (the side saved last wins) and commit both files"


def test_every_grading_guard_is_the_shared_text():
    assert not authoring.guard_differences(ROOT), (
        "these notebooks' grading_guard cell differs from course_tools.notebooks.grading_guard.GUARD_SOURCE: "
        f"{authoring.guard_differences(ROOT)}")


@pytest.mark.parametrize("path", sorted((ROOT / "source").rglob("*.ipynb")), ids=lambda p: p.name)
def test_source_notebooks_carry_no_outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    dirty = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not dirty, f"{path.name}: cells {dirty} have outputs or execution counts"


def _validate(path: Path, *extra: str) -> str:
    result = subprocess.run([sys.executable, "-m", "nbgrader", "validate", str(path), *extra],
                            cwd=ROOT, capture_output=True, text=True, timeout=600,
                            env=nbgrader_environment())
    return result.stdout + result.stderr


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_reference_solution_passes_every_test(name):
    output = _validate(_notebook("source", name))
    assert "Success! Your notebook passes all the tests." in output, output[-3000:]


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_released_stub_fails_every_graded_test(name):
    output = _validate(_notebook("release", name), "--invert")
    assert "Success! The notebook does not pass any tests." in output, output[-3000:]


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_graded_cells_follow_the_naming_convention(name):
    nb = nbformat.read(_notebook("source", name), as_version=4)
    solutions = [cell_grade_id(c) for c in nb.cells if is_answer(c) and c.cell_type == "code"]
    tests = [cell_grade_id(c) for c in nb.cells if is_graded(c) and c.cell_type == "code"]
    assert solutions and tests
    sources = {cell_grade_id(c): c.source for c in nb.cells if is_graded(c)}
    for solution_id in solutions:
        guarding = [t for t in tests if t.startswith(f"test_{solution_id}")]
        assert guarding, f"no test cell guards {solution_id}"
        assert any("### BEGIN HIDDEN TESTS" in sources[t] for t in guarding), f"{solution_id} has no hidden tests"
    guard = [i for i, c in enumerate(nb.cells) if cell_grade_id(c) == "grading_guard"]
    first_solution = min(i for i, c in enumerate(nb.cells) if is_answer(c))
    assert guard and guard[0] < first_solution, "the grading guard must run before any student code"
