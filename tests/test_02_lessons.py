"""Lessons of assignment 2 (02_monitoring) that must hold on the course's own data, across seeds.

The notebook's code cells (reference solutions included) run once; each test then repeats a demo's computation
on stream seeds the notebook does not use (20 – 39, against the notebook's 0 – 19) and checks the claim its
prose makes. The prose's own numbers (for seeds 0 – 19) are checked by tests/test_prose_numbers.py.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "source" / "02_monitoring" / "02_monitoring.ipynb"
OTHER_SEEDS = range(20, 40)


def _prose() -> str:
    cells = nbformat.read(str(NOTEBOOK), as_version=4).cells
    return re.sub(r"\s+", " ", "\n".join(c.source for c in cells if c.cell_type == "markdown"))


@pytest.fixture(scope="module")
def notebook() -> dict:
    """The notebook's namespace after every code cell ran, then re-pointed at OTHER_SEEDS."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    namespace: dict = {"__name__": "02_monitoring"}
    with contextlib.redirect_stdout(io.StringIO()):
        for cell in nbformat.read(str(NOTEBOOK), as_version=4).cells:
            if cell.cell_type == "code":
                exec(cell.source, namespace)
    ns = namespace
    ns["SEEDS"] = OTHER_SEEDS
    ns["SEED_LABELS"] = {seed: ns["label_arrivals"](ns["replay"](ns["ProductionStream"](seed=seed, **ns["STREAM_SETTINGS"]),
                                                                 ns["BASE_MODEL"])) for seed in OTHER_SEEDS}
    ns["SEED_CHECKS"] = {}
    return ns


@pytest.fixture(scope="module")
def sweep(notebook) -> dict:
    """{(policy, alpha): score_policy(...)} for the two swept policies, on OTHER_SEEDS."""
    policies = {"reference": dict(window=300, min_drop=0.05, consecutive=3),
                "eager": dict(window=100, min_drop=0.0, consecutive=1)}
    return {(name, alpha): notebook["score_policy"](alpha=alpha, **settings)
            for name, settings in policies.items() for alpha in notebook["alphas"]}


def test_the_prose_states_the_lessons_these_tests_check():
    prose = _prose()
    for claim in ("**False alarms per 24 h grow with `alpha`**", "**The delay hardly improves.**",
                  "**The delay can even grow with `alpha`**, and detections go missing",
                  "more incidents are **masked**",
                  "Expect more than 50 false accuracy pages per 24 h with the offline baseline, and several times fewer",
                  "Expect the CUSUM to detect more than a minute sooner than the window for the same false-alarm rate",
                  "the estimate follows the true accuracy down", "The estimate stays near 0.6 while the true accuracy halves",
                  "input PSI moves almost as much as label PSI"):
        assert claim in prose, f"the prose no longer says {claim!r}: update this test with it"


def test_the_fast_scorer_raises_the_same_accuracy_alerts_as_run_monitoring(notebook):
    ns = notebook
    for seed in (20, 21, 22):
        run = ns["replay"](ns["ProductionStream"](seed=seed, **ns["STREAM_SETTINGS"]), ns["BASE_MODEL"])
        for policy in (ns["REFERENCE"], dict(window=100, alpha=0.05, min_drop=0.0, consecutive=1)):
            _, raised, _ = ns["run_monitoring"](run, dict(ns["POLICY"], alpha=policy["alpha"], min_drop=policy["min_drop"]),
                                                window=policy["window"], consecutive=policy["consecutive"])
            fast, _ = ns["accuracy_alerts"](ns["accuracy_checks"](ns["label_arrivals"](run), policy["window"]),
                                            policy["alpha"], policy["min_drop"], policy["consecutive"])
            assert fast == [t for t, name in raised if name == "accuracy"], (seed, policy)


def test_false_alarms_grow_with_alpha_and_the_eager_policy_masks_incidents(sweep, notebook):
    alphas = notebook["alphas"]
    for policy in ("reference", "eager"):
        rates = [sweep[policy, a]["per_24h"] for a in alphas]
        assert rates == sorted(rates), (policy, rates)
        assert rates[-1] > rates[0], (policy, rates)
    eager = [sweep["eager", a] for a in alphas]
    assert eager[-1]["masked"] > eager[0]["masked"] and eager[-1]["detected"] < eager[0]["detected"], eager
    assert eager[-1]["mean_delay"] > eager[0]["mean_delay"], eager   # the delay grows with alpha: masking


def test_alpha_hardly_changes_the_reference_delay(sweep, notebook):
    delays = [sweep["reference", a]["mean_delay"] for a in notebook["alphas"]]
    assert max(delays) - min(delays) < 40, delays


def test_the_offline_baseline_pages_dozens_of_times_a_day_and_the_live_one_several_times_less(notebook):
    offline = notebook["score_policy"](**notebook["REFERENCE"], baseline=notebook["offline_baseline"](notebook["BASE_MODEL"]))
    live = notebook["score_policy"](**notebook["REFERENCE"])
    assert offline["per_24h"] > 50, offline
    assert offline["per_24h"] > 3 * live["per_24h"] and live["detected"] >= 15, (offline, live)


def test_cusum_detects_more_than_a_minute_sooner_at_no_more_false_alarms(notebook):
    window = notebook["score_policy"](window=300, alpha=0.01, min_drop=0.05, consecutive=3)
    best = min((notebook["score_cusum"](h) for h in (12, 15, 20)),
               key=lambda s: s["mean_delay"] if s["per_24h"] <= window["per_24h"] else np.inf)
    assert best["per_24h"] <= window["per_24h"] and best["detected"] == len(OTHER_SEEDS), (best, window)
    assert window["mean_delay"] - best["mean_delay"] > 60, (best, window)


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_pocock_brings_the_peeking_false_positive_rate_back_to_alpha(notebook, seed):
    z = notebook["aa_z_statistics"](4000, seed=seed)
    naive = np.mean((np.abs(z) > 1.96).any(axis=1))
    pocock = np.mean((np.abs(z) > notebook["POCOCK_C"]).any(axis=1))
    assert naive > 0.25, naive
    assert abs(pocock - 0.05) < 0.015, pocock


@pytest.mark.parametrize("seed", [1, 2])
def test_confidence_estimates_track_covariate_shift_but_not_concept_drift(notebook, seed):
    ns = notebook
    model, vocab = ns["BASE_MODEL"], ns["VOCAB"]
    x_a, y_a = ns["encode_examples"](ns["make_examples"](20_000, seed=300 + seed, regime="A"), vocab)
    x_b, y_b = ns["encode_examples"](ns["make_examples"](20_000, seed=400 + seed, regime="B"), vocab)
    proba_a, proba_b = model.predict_proba(x_a), model.predict_proba(x_b)
    psi, counts = ns["population_stability_index"], ns["counts"]
    input_psi, label_psi = psi(counts(x_a), counts(x_b)), psi(counts(y_a), counts(y_b))
    assert input_psi > 0.7 and abs(input_psi - label_psi) < 0.15, (input_psi, label_psi)
    weights = np.where(ns["unsure"][x_a], 5.0, 1.0)
    shifted = np.random.default_rng(seed).choice(len(x_a), 5000, p=weights / weights.sum())

    def true_and_estimate(proba, targets):
        return float(np.mean(proba.argmax(1) == targets)), float(proba.max(1).mean())

    acc_a, est_a = true_and_estimate(proba_a, y_a)
    acc_s, est_s = true_and_estimate(proba_a[shifted], y_a[shifted])
    acc_b, est_b = true_and_estimate(proba_b, y_b)
    assert acc_a - acc_s > 0.08 and abs((acc_a - acc_s) - (est_a - est_s)) < 0.04, (acc_a, acc_s, est_a, est_s)
    assert est_b - acc_b > 0.25 and abs(est_b - est_a) < 0.05, (acc_b, est_b, est_a)
