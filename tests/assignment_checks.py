"""Checks every assignment's suite makes on its harness report and its source notebook.

Each ``tests/test_<NN>_<name>.py`` keeps its own module-scoped harness report
(one notebook run per assignment) and calls these, so the checks are written once.
"""

from __future__ import annotations

from collections import defaultdict

from notebook_harness import kill_table


def _graded_code_cells(notebook):
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            yield cell, meta


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
    ids = {c.metadata.get("nbgrader", {}).get("grade_id") for c in notebook.cells}
    for name in graded:
        assert name in ids, f"no solution cell with grade_id {name!r}"
        visible = f"test_{name}_visible"
        assert visible in ids, f"missing test cell {visible}"
        hidden = [gid for gid in ids if gid and (gid == f"test_{name}_hidden" or gid.startswith(f"test_{name}_hidden_"))]
        assert hidden, f"no hidden test cell for {name}"
        for gid in [visible, *hidden]:
            assert report["reference"][gid]["passed"], f"{gid} fails on the reference"


def assert_test_cells_open_with_a_docstring(notebook) -> None:
    for cell, meta in _graded_code_cells(notebook):
        assert cell.source.lstrip().startswith('"""'), f"test cell {meta['grade_id']} has no docstring"


def assert_hidden_cells_hide_their_checks(notebook) -> None:
    for cell, meta in _graded_code_cells(notebook):
        if "_hidden" in meta["grade_id"]:
            assert "### BEGIN HIDDEN TESTS" in cell.source and "### END HIDDEN TESTS" in cell.source, meta["grade_id"]


def points_by_graded_name(notebook, graded: list[str]) -> dict[str, float]:
    """Points of every graded cell, summed per graded name (written answers under their own grade_id)."""
    points: dict[str, float] = defaultdict(float)
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            gid = meta["grade_id"]
            owner = next((name for name in graded if gid.startswith(f"test_{name}")), gid)
            points[owner] += meta["points"]
    return dict(points)


def assert_every_mutant_loses_points(report: dict) -> None:
    """Print the kill table; fail on a surviving mutant or on one whose source does not even run."""
    table = kill_table(report)
    print("\n" + table)
    survivors = [f"{m['function']}.{m['mutant']}" for m in report["mutants"] if m["points_lost"] <= 0]
    assert not survivors, f"mutants that lose no points: {survivors}\n{table}"
    setup_errors = [f"{m['function']}.{m['mutant']}: {m['setup_error']}" for m in report["mutants"] if m["setup_error"]]
    assert not setup_errors, f"mutant sources that do not even run (they would be killed for the wrong reason): {setup_errors}"


def assert_slips_lose_points_in_their_own_cell(report: dict, slips: dict) -> None:
    """Each realistic slip ``(graded_name, mutant) -> grade_id`` fails the hidden cell of its behaviour."""
    by_key = {(m["function"], m["mutant"]): m for m in report["mutants"]}
    missing = sorted(set(slips) - set(by_key))
    assert not missing, f"slips not in the mutant corpus: {missing}"
    wrong = {f"{f}.{m}": [c["grade_id"] for c in by_key[(f, m)]["failed"]]
             for (f, m), cell in slips.items() if cell not in {c["grade_id"] for c in by_key[(f, m)]["failed"]}}
    assert not wrong, f"slips that do not lose points in their behaviour's own cell (cells they fail): {wrong}"
