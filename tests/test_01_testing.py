"""Assignment 1 (01_testing): the reference passes every graded test, and every wrong implementation loses points.

The notebook runs in-process through ``tests/notebook_harness.py`` (in a subprocess, so cheats that
monkeypatch NumPy or math cannot leak into pytest), once per session. Real kernels and nbgrader
itself are exercised by the generic notebook tests.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
import assignment_checks as checks
from notebook_harness import load_mutants, run_harness

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "source" / "01_testing" / "01_testing.ipynb"
MUTANTS = ROOT / "tests" / "mutants" / "m01_testing.py"
GRADED = ["normalize_context", "safe_predict", "run_test_suite", "gradient_check", "evaluate",
          "expected_calibration_error"]
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


def test_every_graded_function_has_visible_and_hidden_tests(report, notebook):
    checks.assert_visible_and_hidden_tests(report, notebook, GRADED)


def test_every_test_cell_opens_with_a_docstring(notebook):
    checks.assert_test_cells_open_with_a_docstring(notebook)


def test_points(notebook):
    expected = {"normalize_context": 3, "safe_predict": 3, "run_test_suite": 6, "gradient_check": 3,
                "evaluate": 3, "expected_calibration_error": 3,
                "testing_across_modalities": 3, "metrics_for_this_model": 3}
    assert checks.points_by_graded_name(notebook, GRADED) == expected


def test_mutant_corpus_is_complete():
    mutants = _load_mutants()
    assert sorted(mutants) == sorted(GRADED)
    everything = "\n".join(src for variants in mutants.values() for src in variants.values())
    for name, variants in mutants.items():
        plausible = [m for m in variants if not m.startswith("cheat_")]
        assert len(plausible) >= 4, f"{name}: only {len(plausible)} plausible wrong implementations"
        assert any(m.startswith("cheat_always_equal") for m in variants), f"{name}: no always-equal cheat"
        assert "cheat_patched_comparisons" in variants, f"{name}: no monkeypatching cheat"
        assert "np.isclose" in variants["cheat_patched_comparisons"] or "_np.isclose" in variants["cheat_patched_comparisons"]
    for cheat_type in CHEAT_TYPES:
        assert f"{cheat_type}(" in everything.replace(f"class {cheat_type}(", ""), f"no cheat returns a {cheat_type}"


def test_every_mutant_loses_points(report):
    checks.assert_every_mutant_loses_points(report)


@pytest.fixture(scope="module")
def alternatives_report() -> dict:
    return run_harness(NOTEBOOK, MUTANTS, attribute="ALTERNATIVES")


def test_other_correct_implementations_keep_every_point(alternatives_report):
    """Hidden tests must judge the contract, not the reference's way of meeting it."""
    functions = {m["function"] for m in alternatives_report["mutants"]}
    assert functions == set(GRADED), f"alternatives missing for {set(GRADED) - functions}"
    losing = {f"{m['function']}.{m['mutant']}": [f["error"][-300:] for f in m["failed"]] or m["setup_error"]
              for m in alternatives_report["mutants"] if m["points_lost"] > 0 or m["setup_error"]}
    assert not losing, f"correct alternative implementations lose points: {losing}"


def test_realistic_slips_lose_points_in_their_behaviours_cell(report):
    checks.assert_slips_lose_points_in_their_own_cell(report, load_mutants(MUTANTS, "SLIPS"))
