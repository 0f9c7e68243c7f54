"""Assignment 3 (03_continuous_training): the reference passes every graded test, and every wrong implementation loses points.

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
NOTEBOOK = ROOT / "source" / "03_continuous_training" / "03_continuous_training.ipynb"
MUTANTS = ROOT / "tests" / "mutants" / "m03_continuous_training.py"
GRADED = ["ReservoirSampler", "TrainingBuffer", "should_retrain", "ModelRegistry", "mcnemar_test", "gate_challenger",
          "required_sample_size", "ThompsonRouter", "run_capstone"]
WRITTEN = ["written_self_retraining", "written_breaking_production"]
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


def test_every_test_cell_opens_with_a_docstring(notebook):
    checks.assert_test_cells_open_with_a_docstring(notebook)


def test_hidden_cells_hide_their_checks(notebook):
    checks.assert_hidden_cells_hide_their_checks(notebook)


def test_points(notebook):
    expected = {"ReservoirSampler": 3, "TrainingBuffer": 3, "should_retrain": 2, "ModelRegistry": 3,
                "mcnemar_test": 2, "gate_challenger": 3, "required_sample_size": 2, "ThompsonRouter": 2,
                "run_capstone": 8, "written_self_retraining": 3, "written_breaking_production": 3}
    assert checks.points_by_graded_name(notebook, GRADED) == expected


def test_no_scipy_and_normal_quantiles_from_the_standard_library(notebook):
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert "scipy" not in code
    assert "from statistics import NormalDist" in code


def test_mutant_corpus_is_complete():
    mutants = _load_mutants()
    assert sorted(mutants) == sorted(GRADED)
    everything = "\n".join(src for variants in mutants.values() for src in variants.values())
    for name, variants in mutants.items():
        plausible = [m for m in variants if not m.startswith("cheat_")]
        assert len(plausible) >= 4, f"{name}: only {len(plausible)} plausible wrong implementations"
        assert any(m.startswith("cheat_always_equal") for m in variants), f"{name}: no always-equal cheat"
        assert "cheat_patched_comparisons" in variants, f"{name}: no monkeypatching cheat"
        assert "_np.isclose" in variants["cheat_patched_comparisons"]
    for cheat_type in CHEAT_TYPES:
        assert f"{cheat_type}(" in everything.replace(f"class {cheat_type}(", ""), f"no cheat returns a {cheat_type}"


def test_every_mutant_loses_points(report):
    checks.assert_every_mutant_loses_points(report)


def test_capstone_outcome_is_the_graded_outcome(notebook):
    """The capstone's graded test checks both halves of the contract's outcome: recovery and no worse promotion."""
    source = next(c.source for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_run_capstone_visible")
    assert "gated_accuracy >= 0.55" in source
    assert "chall_right >= champ_right" in source
    assert "a gate set must never be trained on" in source


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


def _cell_namespace(notebook, grade_ids: list[str]) -> dict:
    """Execute the notebook's first code cell (imports) and the named cells, in order, in a fresh namespace."""
    import os
    os.environ.setdefault("MPLBACKEND", "Agg")
    namespace: dict = {}
    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    exec(code_cells[0].source, namespace)
    for cell in code_cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") in grade_ids:
            source = "\n".join(line for line in cell.source.splitlines()
                               if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
            exec(source, namespace)
    return namespace


def test_gate_false_promotion_rate_is_near_alpha_at_the_capstone_gate_size(notebook):
    """A challenger truly worse by the margin passes the reference gate about alpha of the time on the capstone's gate of 200."""
    import numpy as np
    ns = _cell_namespace(notebook, ["provided_helpers", "provided_capstone_tools", "mcnemar_test", "gate_challenger"])
    policy = {key: ns["CAPSTONE_POLICY"][key] for key in ("alpha", "non_inferiority", "min_gain")}
    n, margin, alpha = ns["CAPSTONE_POLICY"]["gate_size"], policy["non_inferiority"], policy["alpha"]
    rng = np.random.default_rng(7)
    rates = {}
    for disagree in (0.1, 0.15, 0.25):
        for gap in (margin, 0.03):
            promoted = 0
            draws = rng.multinomial(n, [(disagree + gap) / 2, (disagree - gap) / 2, 1 - disagree], size=1500)
            for b, c, _ in draws:
                b, c = int(b), int(c)
                champion = [True] * b + [False] * c + [False] * (n - b - c)
                challenger = [False] * b + [True] * c + [False] * (n - b - c)
                promoted += ns["gate_challenger"](champion, challenger, policy)["promote"]
            rates[(disagree, gap)] = promoted / len(draws)
    print(rates)
    for (disagree, gap), rate in rates.items():
        limit = alpha + 0.025 if gap == margin else alpha
        assert rate <= limit, f"false-promotion rate {rate:.3f} for a challenger {gap} worse (disagreement {disagree}) exceeds {limit}"
    assert max(rate for (d, g), rate in rates.items() if g == margin) >= alpha / 2, "the gate is far more conservative than alpha"


def test_live_monitor_judges_only_the_current_champion(notebook):
    """Labels of requests an earlier champion served must not count for the current champion."""
    ns = _cell_namespace(notebook, ["provided_helpers", "provided_capstone_tools"])
    policy = {**ns["CAPSTONE_POLICY"], "window": 4, "min_live": 1}
    monitor = ns["LiveMonitor"](ns["VOCAB"], policy)
    for word_id in (1, 2, 3):
        monitor.observe_request(word_id)
    for correct in (True, True, False, True):
        monitor.observe_label(correct, 1)
    assert list(monitor.live) == [True, True, False, True]
    monitor.promoted(2)
    monitor.observe_label(False, 1)          # served by the old champion: not the new champion's record
    monitor.observe_label(True, 2)
    assert list(monitor.live) == [True]


def test_rollback_check_pairs_only_requests_the_new_champion_served(notebook):
    """The reference's rollback check skips labels of requests the previous champion served."""
    source = next(c.source for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "run_capstone")
    assert "serving[event.request_id] == registry.champion_version" in source
    assert "monitor.observe_label(correct, int(serving[event.request_id]))" in source


def test_realistic_slips_lose_points_in_their_behaviours_cell(report):
    checks.assert_slips_lose_points_in_their_own_cell(report, load_mutants(MUTANTS, "SLIPS"))
