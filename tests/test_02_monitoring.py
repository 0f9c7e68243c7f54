"""Assignment 2 (02_monitoring): the reference passes every graded test, and every wrong implementation loses points.

The notebook runs in-process through ``tests/notebook_harness.py`` (in a subprocess, so cheats that
monkeypatch NumPy or math cannot leak into pytest), once per module. Real kernels and nbgrader itself
are exercised by the generic notebook tests.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
import assignment_checks as checks
from notebook_harness import load_mutants, run_harness

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "source" / "02_monitoring" / "02_monitoring.ipynb"
MUTANTS = ROOT / "tests" / "mutants" / "m02_monitoring.py"
GRADED = ["wilson_interval", "two_proportion_z_test", "detect_degradation", "population_stability_index",
          "RollingMonitor", "AlertManager"]
WRITTEN = "why_ten_examples_are_not_evidence"
POINTS = {"wilson_interval": 10, "two_proportion_z_test": 10, "detect_degradation": 20,
          "population_stability_index": 10, "RollingMonitor": 15, "AlertManager": 20, WRITTEN: 15}
CHEAT_TYPES = ("_EqFloat", "_EqInt", "_EqStr", "_EqTuple", "_EqList", "_EqDict")


def _load_mutants() -> dict[str, dict[str, str]]:
    return load_mutants(MUTANTS)


@pytest.fixture(scope="module")
def report() -> dict:
    return run_harness(NOTEBOOK, MUTANTS)


@pytest.fixture(scope="module")
def notebook():
    return nbformat.read(str(NOTEBOOK), as_version=4)


def test_reference_passes_every_graded_cell(report):
    checks.assert_reference_passes(report)


def test_no_ungraded_cell_fails(report):
    checks.assert_no_ungraded_failures(report)


def test_every_graded_name_has_visible_and_hidden_tests(report, notebook):
    checks.assert_visible_and_hidden_tests(report, notebook, GRADED)


def test_hidden_tests_are_hidden_and_test_cells_open_with_a_docstring(notebook):
    checks.assert_test_cells_open_with_a_docstring(notebook)
    checks.assert_hidden_cells_hide_their_checks(notebook)


def test_points(notebook):
    assert checks.points_by_graded_name(notebook, GRADED) == POINTS


def test_written_answer_carries_a_rubric(notebook):
    cells = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == WRITTEN]
    assert len(cells) == 1 and cells[0].cell_type == "markdown"
    source = cells[0].source
    assert "### BEGIN SOLUTION" in source and "Rubric" in source, "the written answer needs a model answer and a rubric"


def test_normal_distribution_comes_from_the_standard_library(notebook):
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert "scipy" not in code, "the notebook must not use SciPy"
    assert "NormalDist" in code or "math.erf" in code
    assert "time.sleep" not in code and "sleep(" not in code, "nothing sleeps: the stream runs on a simulated clock"


def test_production_simulation_and_explorer_are_present(notebook):
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code" and "nbgrader" not in c.metadata)
    for needle in ("ProductionStream(", "AlertManager(", "RollingMonitor(", "detect_degradation(", "drift_time",
                   "widgets.", ".observe(", "score_alerts("):
        assert needle in code, f"the simulation/explorer cells should use {needle!r}"


def test_mutant_corpus_is_complete():
    mutants = _load_mutants()
    assert sorted(mutants) == sorted(GRADED)
    everything = "\n".join(src for variants in mutants.values() for src in variants.values())
    for name, variants in mutants.items():
        plausible = [m for m in variants if not m.startswith("cheat_")]
        assert len(plausible) >= 4, f"{name}: only {len(plausible)} plausible wrong implementations"
        assert any(m.startswith("cheat_always_equal") for m in variants), f"{name}: no always-equal cheat"
        patch = variants.get("cheat_patch_comparisons", "")
        for target in ("_np.isclose", "_np.allclose", "assert_allclose", "assert_almost_equal", "_math.isclose"):
            assert target in patch, f"{name}: the monkeypatching cheat does not patch {target}"
    for cheat_type in CHEAT_TYPES:
        assert f"{cheat_type}(" in everything.replace(f"class {cheat_type}(", ""), f"no cheat returns a {cheat_type}"


def test_every_mutant_loses_points(report):
    checks.assert_every_mutant_loses_points(report)


def test_realistic_slips_lose_points_in_their_behaviours_cell(report):
    checks.assert_slips_lose_points_in_their_own_cell(report, load_mutants(MUTANTS, "SLIPS"))
