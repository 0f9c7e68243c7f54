"""Checks the assignment suite (``tests/test_assignments.py``) makes on each harness report and source notebook.

A report holds the reference outcomes and, under ``corpora``, the scored ``MUTANTS`` (wrong implementations)
and ``ALTERNATIVES`` (correct ones) of the assignment's corpus file ``tests/mutants/m<assignment>.py``.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

from notebook_harness import kill_table

CORPORA = Path(__file__).resolve().parent / "mutants"
if str(CORPORA) not in sys.path:
    sys.path.insert(0, str(CORPORA))  # the same module the corpora import their cheats from
import cheats  # noqa: E402
from course_tools.notebooks.cells import cell_grade_id, cell_points, is_graded

# Every comparison helper a test could look up at run time: the monkeypatching cheat must replace them all.
PATCHED_TARGETS = ("_np.isclose", "_np.allclose", "_npt.assert_allclose", "_npt.assert_almost_equal",
                   "_npt.assert_array_equal", "_math.isclose")
# Plausible wrong implementations (not cheats) every graded name needs at least.
MIN_PLAUSIBLE_MUTANTS = 4


def _graded_code_cells(notebook):
    return [cell for cell in notebook.cells if is_graded(cell) and cell.cell_type == "code"]


def assert_reference_passes(report: dict) -> None:
    """Every graded or locked cell of the reference passes and nothing writes to stderr."""
    failing = {gid: (o["error"] or o["stderr"])[-400:] for gid, o in report["reference"].items() if not o["passed"]}
    assert not failing, f"graded or locked cells of the reference fail: {failing}"
    stderr = {gid: o["stderr"] for gid, o in report["reference"].items() if o["stderr"]}
    assert not stderr, f"cells write to stderr (nbgrader would score them 0): {stderr}"


def assert_no_ungraded_failures(report: dict) -> None:
    assert report["ungraded_failures"] == [], f"ungraded cells fail: {report['ungraded_failures']}"


def assert_visible_and_hidden_tests(report: dict, notebook, graded: list[str]) -> None:
    """Each graded name has a solution cell, a passing ``test_<name>_visible`` cell and passing hidden cells.

    Hidden cells are ``test_<name>_hidden`` or, split by behaviour, ``test_<name>_hidden_<behaviour>``.
    """
    ids = {cell_grade_id(c) for c in notebook.cells}
    for name in graded:
        assert name in ids, f"no solution cell with grade_id {name!r}"
        visible = f"test_{name}_visible"
        assert visible in ids, f"missing test cell {visible}"
        hidden = [gid for gid in ids if gid and (gid == f"test_{name}_hidden" or gid.startswith(f"test_{name}_hidden_"))]
        assert hidden, f"no hidden test cell for {name}"
        for gid in [visible, *hidden]:
            assert report["reference"][gid]["passed"], f"{gid} fails on the reference"


def assert_test_cells_open_with_a_docstring(notebook) -> None:
    for cell in _graded_code_cells(notebook):
        assert cell.source.lstrip().startswith('"""'), f"test cell {cell_grade_id(cell)} has no docstring"


def assert_hidden_cells_hide_their_checks(notebook) -> None:
    for cell in _graded_code_cells(notebook):
        if "_hidden" in cell_grade_id(cell):
            assert "### BEGIN HIDDEN TESTS" in cell.source and "### END HIDDEN TESTS" in cell.source, cell_grade_id(cell)


def points_by_graded_name(notebook, graded: list[str]) -> dict[str, float]:
    """Points of every graded cell, summed per graded name (written answers under their own grade_id)."""
    points: dict[str, float] = defaultdict(float)
    for cell in filter(is_graded, notebook.cells):
        gid = cell_grade_id(cell)
        owner = next((name for name in graded if gid.startswith(f"test_{name}")), gid)
        points[owner] += cell_points(cell)
    return dict(points)


def assert_written_answers_have_a_model_answer_and_a_rubric(notebook, written: list[str]) -> None:
    """Each written answer is one markdown cell holding a model answer and a rubric for the grader."""
    for name in written:
        cells = [c for c in notebook.cells if cell_grade_id(c) == name]
        assert len(cells) == 1 and cells[0].cell_type == "markdown", f"{name}: expected one markdown answer cell"
        source = cells[0].source
        assert "### BEGIN SOLUTION" in source and "Rubric" in source, f"{name}: the answer needs a model answer and a rubric"


def assert_corpus_is_complete(mutants: dict[str, dict[str, str]], graded: list[str]) -> None:
    """Every graded name has plausible mistakes and both shared cheats; the corpus returns every always-equal type."""
    assert sorted(mutants) == sorted(graded), f"the corpus covers {sorted(mutants)}, the manifest grades {sorted(graded)}"
    for name, variants in mutants.items():
        plausible = [m for m in variants if not m.startswith("cheat_")]
        assert len(plausible) >= MIN_PLAUSIBLE_MUTANTS, f"{name}: only {len(plausible)} plausible wrong implementations"
        assert any(m.startswith(cheats.ALWAYS_EQUAL_PREFIX) for m in variants), f"{name}: no always-equal cheat"
        assert cheats.PATCH_COMPARISONS in variants.get(cheats.PATCHED, ""), f"{name}: no {cheats.PATCHED} cheat"
    everything = "\n".join(src.replace(cheats.ALWAYS_EQUAL, "") for variants in mutants.values() for src in variants.values())
    unused = [t for t in cheats.CHEAT_TYPES if f"{t}(" not in everything]
    assert not unused, f"no cheat returns {unused}"


def assert_patching_cheat_covers_every_comparison_helper() -> None:
    missing = [target for target in PATCHED_TARGETS if f"{target} = " not in cheats.PATCH_COMPARISONS]
    assert not missing, f"the monkeypatching cheat leaves {missing} alone"


def assert_every_mutant_loses_points(report: dict) -> None:
    """Print the kill table; fail on a surviving mutant or on one whose source does not even run."""
    mutants = report["corpora"]["MUTANTS"]
    table = kill_table(mutants)
    print("\n" + table)
    survivors = [f"{m['function']}.{m['mutant']}" for m in mutants if m["points_lost"] <= 0]
    assert not survivors, f"mutants that lose no points: {survivors}\n{table}"
    setup_errors = [f"{m['function']}.{m['mutant']}: {m['setup_error']}" for m in mutants if m["setup_error"]]
    assert not setup_errors, f"mutant sources that do not even run (they would be killed for the wrong reason): {setup_errors}"


def assert_slips_lose_points_in_their_own_cell(report: dict, slips: dict) -> None:
    """Each realistic slip ``(graded_name, mutant) -> grade_id`` fails the hidden cell of its behaviour."""
    by_key = {(m["function"], m["mutant"]): m for m in report["corpora"]["MUTANTS"]}
    missing = sorted(set(slips) - set(by_key))
    assert not missing, f"slips not in the mutant corpus: {missing}"
    wrong = {f"{f}.{m}": [c["grade_id"] for c in by_key[(f, m)]["failed"]]
             for (f, m), cell in slips.items() if cell not in {c["grade_id"] for c in by_key[(f, m)]["failed"]}}
    assert not wrong, f"slips that do not lose points in their behaviour's own cell (cells they fail): {wrong}"


def assert_alternatives_keep_every_point(report: dict, graded: list[str]) -> None:
    """Every graded name has a correct alternative implementation, and none loses a point."""
    alternatives = report["corpora"]["ALTERNATIVES"]
    missing = set(graded) - {m["function"] for m in alternatives}
    assert not missing, f"alternatives missing for {sorted(missing)}"
    losing = {f"{m['function']}.{m['mutant']}": [f["error"][-300:] for f in m["failed"]] or m["setup_error"]
              for m in alternatives if m["points_lost"] > 0 or m["setup_error"]}
    assert not losing, f"correct alternative implementations lose points: {losing}"


def assert_raising_code_is_named_in_the_message(report: dict, raising: dict) -> None:
    """Each wrong implementation that raises inside a hidden test ``(graded_name, mutant) -> (grade_id, words)`` fails
    that cell with a message holding every one of ``words`` (the call with its inputs, what was expected instead)."""
    by_key = {(m["function"], m["mutant"]): m for m in report["corpora"]["MUTANTS"]}
    missing = sorted(set(raising) - set(by_key))
    assert not missing, f"raising mutants not in the corpus: {missing}"
    wrong = {}
    for (function, mutant), (cell, words) in raising.items():
        errors = [c["error"] for c in by_key[(function, mutant)]["failed"] if c["grade_id"] == cell]
        if not errors:
            wrong[f"{function}.{mutant}"] = f"does not fail {cell}"
        elif any(word not in errors[0] for word in words):
            wrong[f"{function}.{mutant}"] = f"{cell} says {errors[0]!r}, without {[w for w in words if w not in errors[0]]}"
    assert not wrong, f"messages for code that raises inside a hidden test: {wrong}"
