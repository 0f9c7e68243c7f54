"""Lessons of assignment 3 (03_continuous_training) that must hold on the course's own data, across seeds.

Each test runs the computation a demo of the notebook runs, from the notebook's own cells (the reference
solutions and the locked cells), and checks the claim its prose makes with the thresholds the prose states.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from course_tools.notebooks.cells import cell_grade_id, strip_solution_markers
from course_tools.publish.reader_edition import kernel_environment
from nextword.studies import NOT_RUN, RUN_STUDIES
from support.studies import study_cells

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "source" / "03_continuous_training" / "03_continuous_training.ipynb"
SEEDS = range(5)


def _namespace(grade_ids: list[str]) -> dict:
    """Execute the notebook's setup cell and the named cells (solutions without their markers), in notebook order."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    notebook = nbformat.read(str(NOTEBOOK), as_version=4)
    namespace: dict = {}
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell_grade_id(cell) in ["setup", *grade_ids]:
            exec(strip_solution_markers(cell.source), namespace)
    return namespace


def _prose_before(grade_id: str) -> str:
    """The markdown cell just before the code cell with this grade_id."""
    cells = nbformat.read(str(NOTEBOOK), as_version=4).cells
    index = next(i for i, c in enumerate(cells) if cell_grade_id(c) == grade_id)
    return cells[index - 1].source


@pytest.fixture(scope="module")
def drift_routing() -> dict:
    """The routing demo's computation on every seed: {seed: {router: summary}}."""
    ns = _namespace(["provided_helpers", "ThompsonRouter", "provided_drift_router"])
    arms = ns["drift_arms"]()
    return {seed: {router: ns["routing_summary"](*run) for router, run in ns["drift_routing"](seed, arms).items()}
            for seed in SEEDS}


def test_the_routing_prose_states_the_thresholds_this_test_checks():
    """The thresholds below are the prose's; if the prose changes, this test must change with it."""
    prose = re.sub(r"\s+", " ", _prose_before("provided_drift_router"))
    for claim in ("over 80 %) to the pretrained model", "the **plain** router sends under 25 % of the traffic to the retrained model",
                  "the **discounted** router sends over 60 % there", "at least 15 points more often", "five stream seeds",
                  "randomises **per request**"):
        assert claim in prose, f"the routing demo's prose no longer says {claim!r}"


def test_both_routers_favour_the_pretrained_model_before_the_drift(drift_routing):
    shares = {(seed, router): round(s["pretrained before"], 3) for seed, runs in drift_routing.items() for router, s in runs.items()}
    assert all(share > 0.8 for share in shares.values()), f"share of pre-drift traffic sent to the pretrained model: {shares}"


def test_after_the_drift_the_plain_router_lags_and_the_discounted_one_switches(drift_routing):
    plain = {seed: round(runs["plain"]["retrained after"], 3) for seed, runs in drift_routing.items()}
    discounted = {seed: round(runs["discounted"]["retrained after"], 3) for seed, runs in drift_routing.items()}
    assert all(share < 0.25 for share in plain.values()), (
        f"plain router, share of the 1000 requests after the drift sent to the retrained model: {plain}")
    assert all(share > 0.6 for share in discounted.values()), (
        f"discounted router, share of the 1000 requests after the drift sent to the retrained model: {discounted}")


def test_discounting_serves_at_least_15_points_better_after_the_drift(drift_routing):
    gains = {seed: round(runs["discounted"]["accuracy after"] - runs["plain"]["accuracy after"], 3)
             for seed, runs in drift_routing.items()}
    assert all(gain >= 0.15 for gain in gains.values()), f"served accuracy, discounted minus plain, 1000 requests after the drift: {gains}"


def test_the_plain_router_is_stuck_to_the_end_on_some_seeds(drift_routing):
    """The prose: the plain router moves, on some seeds, not before the stream ends."""
    at_the_end = {seed: round(runs["plain"]["retrained at the end"], 3) for seed, runs in drift_routing.items()}
    assert min(at_the_end.values()) < 0.25 and max(at_the_end.values()) > 0.5, (
        f"plain router, share of the last 1000 requests sent to the retrained model: {at_the_end}")


@pytest.fixture(scope="module")
def capstone_namespace() -> dict:
    """The notebook's reference loop and everything it uses (provided cells and solutions, up to run_capstone)."""
    return _namespace(["provided_helpers", "ReservoirSampler", "TrainingBuffer", "should_retrain", "ModelRegistry",
                       "mcnemar_test", "provided_gate_bound", "gate_challenger", "provided_capstone_tools", "run_capstone"])


def test_the_psi_trigger_is_left_out_for_the_reason_the_prose_gives(capstone_namespace):
    """Issue 18: at the old threshold 0.3 input PSI retrains on 18 of 20 drift-free streams; without it the
    recovery after a drift is the same over 10 seeds, and the capstone's policy has no drift trigger."""
    ns = capstone_namespace
    source = re.sub(r"\s+", " ", "\n".join(c.source for c in nbformat.read(str(NOTEBOOK), as_version=4).cells))
    for claim in ("with a threshold of 0.3 it retrained on 18 of 20 drift-free streams",
                  "the recovery over 10 seeds was the same without it"):
        assert claim in source, f"the capstone's prose no longer says {claim!r}"
    assert ns["CAPSTONE_POLICY"]["psi_threshold"] == float("inf")

    def drift_free(seed):
        return ns["ProductionStream"](n_requests=4000, drift_at=None, seed=seed, feedback_delay_s=60.0, feedback_rate=0.8,
                                      label_noise=0.1)

    run, base = ns["run_capstone"], ns["BASE_MODEL"]
    retrained = sum(any(e["kind"] == "retrain" for e in run(drift_free(seed), base, "gated", {"psi_threshold": 0.3})["events"])
                    for seed in range(100, 120))
    assert retrained == 18, f"with psi_threshold 0.3, {retrained} of 20 drift-free streams retrained (the prose says 18)"
    recovery = {threshold: np.mean([ns["served_accuracy"](run(stream, base, "gated", {"psi_threshold": threshold}), stream, 3000)
                                    for stream in (ns["make_capstone_stream"](seed=seed) for seed in range(10))])
                for threshold in (0.3, float("inf"))}
    assert abs(recovery[0.3] - recovery[float("inf")]) < 0.005, f"served accuracy on the last 1000 requests, 10 seeds: {recovery}"


def _prose_of_section(title: str) -> str:
    """The markdown cell whose heading contains title, whitespace collapsed."""
    cells = nbformat.read(str(NOTEBOOK), as_version=4).cells
    return re.sub(r"\s+", " ", next(c.source for c in cells if c.cell_type == "markdown" and title in c.source))


def test_an_slo_baseline_recovers_where_a_per_champion_baseline_stalls(capstone_namespace):
    """Issue 18: the baseline is an SLO (v1's first 200 live labels, kept for every champion); re-baselining each champion
    on its own first labels stalls the loop. The prose quotes both means over 10 clean seeds and the seeds under 0.35."""
    ns = capstone_namespace
    prose = _prose_of_section("which baseline, and which split?")
    slo_monitor = ns["LiveMonitor"]

    class PerChampionMonitor(slo_monitor):
        def promoted(self, version):
            super().promoted(version)
            self.baseline = None

    streams = [ns["make_capstone_stream"](seed=seed) for seed in range(10)]
    slo = [ns["served_accuracy"](ns["run_capstone"](s, ns["BASE_MODEL"]), s, 3000) for s in streams]
    ns["LiveMonitor"] = PerChampionMonitor
    try:
        per_champion = [ns["served_accuracy"](ns["run_capstone"](s, ns["BASE_MODEL"]), s, 3000) for s in streams]
    finally:
        ns["LiveMonitor"] = slo_monitor
    stalled = sum(a < 0.35 for a in per_champion)
    claim = (f"then serves {np.mean(per_champion):.3f} on the last 1000 requests instead of {np.mean(slo):.3f}, "
             f"under 0.35 on {stalled} seeds")
    assert claim in prose, f"the prose should say {claim!r} (computed over 10 seeds)"
    assert np.mean(slo) - np.mean(per_champion) > 0.1, f"SLO {slo}, per-champion {per_champion}"


def test_the_request_id_split_leaks_nothing_the_sentence_split_would_stop(capstone_namespace):
    """Issue 18: a leak would make the request-id split's held-out accuracy look better than fresh data and than the
    sentence split; over 10 seeds it does not. The prose quotes both gaps."""
    ns = capstone_namespace
    prose = _prose_of_section("which baseline, and which split?")
    fresh = ns["make_examples"](2000, seed=77, regime="B")
    gaps = {"request id": [], "sentence": []}
    for seed in range(10):
        stream = ns["make_capstone_stream"](seed=seed)
        requests = stream.requests
        sentence = np.cumsum([len(r.context) == 1 for r in requests])
        feedback = [e for e in stream.events() if e.kind == "feedback" and e.request_id >= stream.drift_at]
        for split, held_out in (("request id", lambda i: i % 3 == 0), ("sentence", lambda i: sentence[i] % 3 == 0)):
            model = ns["BASE_MODEL"].copy()
            model.fit([(ns["normalize_context"](requests[f.request_id].context, model.vocab), f.target.strip().lower())
                       for f in feedback if not held_out(f.request_id)], epochs=4, lr=0.1, seed=0, batch_size=32)
            truth = [(ns["normalize_context"](requests[f.request_id].context, model.vocab), stream.true_next_word(f.request_id))
                     for f in feedback if held_out(f.request_id)]
            gaps[split].append(ns["accuracy"](model, truth) - ns["accuracy"](model, fresh))
    by_request, by_sentence = np.mean(gaps["request id"]), np.mean(gaps["sentence"])
    claim = f"({by_request:.3f} by request id, {by_sentence:.3f} by sentence"
    assert claim in prose, f"the prose should say {claim!r}"
    assert by_request <= 0.0 and by_request <= by_sentence + 0.005, f"held-out minus fresh accuracy: {gaps}"


def test_the_bound_mostly_refuses_challengers_that_are_truly_better(capstone_namespace):
    """Issue 18: in the loop, after the drift, over 10 seeds with and without 20% corrupted training labels, the bound
    refuses few challengers that c >= b would promote, and most of them are truly better on fresh regime-B data."""
    ns = capstone_namespace
    prose = _prose_of_section("what does each rule buy?")
    fresh = ns["make_examples"](2000, seed=77, regime="B")
    import dataclasses

    gains = []
    for fraction in (0.0, 0.2):
        for seed in range(10):
            stream = ns["ProductionStream"](n_requests=4000, drift_at=1500, seed=seed, feedback_delay_s=60.0,
                                            feedback_rate=0.8, label_noise=0.1)
            hit = np.random.default_rng(seed + 1000).random(stream.n_requests) < fraction
            stream._feedback = [dataclasses.replace(f, target=stream._truth[(f.request_id + 50) % stream.n_requests])
                                if hit[f.request_id] and f.request_id % 3 else f for f in stream._feedback]
            result = ns["run_capstone"](stream, ns["BASE_MODEL"], "gated")
            registry = result["registry"]
            gains += [ns["accuracy"](registry.get(g["challenger"]), fresh) - ns["accuracy"](registry.get(g["champion"]), fresh)
                      for g in result["gates"]
                      if g["reason"] == "not shown non-inferior" and g["delta"] >= 0 and g["t"] > stream.drift_time]
    better = sum(g > 0 for g in gains)
    claim = (f"it refused {len(gains)} challengers that `c ≥ b` would have promoted, and {better} of the {len(gains)} "
             f"were truly *better*")
    assert claim in prose, f"the prose should say {claim!r}"
    assert f"(the other was {100 * -min(gains):.1f} points worse)" in prose or len(gains) - better != 1, gains
    assert better >= 0.75 * len(gains), f"true gains of the challengers the bound refused: {np.round(gains, 3)}"


def _code_after(title: str) -> str:
    """The code cell just after the markdown cell whose text contains title."""
    cells = nbformat.read(str(NOTEBOOK), as_version=4).cells
    index = next(i for i, c in enumerate(cells) if c.cell_type == "markdown" and title in c.source)
    return cells[index + 1].source


def test_the_ingestion_check_catches_the_data_bug_before_its_models_reach_the_gate(capstone_namespace, capsys, monkeypatch):
    """Issue 18: the shard-agreement check, run by the notebook's own study over 10 clean and 10 data-bug streams, never
    fires on a clean stream, fires on every data-bug stream, and precedes most of naive's worse promotions; the prose
    quotes the figures the study prints."""
    ns = dict(capstone_namespace)
    monkeypatch.delenv(RUN_STUDIES, raising=False)      # the cell only offers its study; the test runs it once below
    exec(_code_after("is the new training data good?"), ns)
    ingestion, delays, worse = ns["ingestion_study"]()
    prose = _prose_of_section("is the new training data good?")
    assert "no alarm on a clean stream (0 of 10)" in prose
    assert all(ingestion["clean", seed][0] is None for seed in range(10)), ingestion
    assert len(delays) == 10, f"alarms after the bug on data-bug streams: {delays}"
    claim = f"every data-bug stream {min(delays):.0f} to {max(delays):.0f} s after the first corrupted request"
    assert claim in prose, f"the prose should say {claim!r}"
    claim = f"and {sum(worse)} of the {len(worse)} promotions of a model worse on its gate set"
    assert claim in prose, f"the prose should say {claim!r}"
    assert sum(worse) >= 0.8 * len(worse), f"naive's worse promotions after the bug, after the alarm or not: {worse}"


def _stream_text_joined(outputs):
    """The outputs with consecutive stream outputs of one stream joined: a busy kernel may send one print in two
    messages (its text, then its newline), as a notebook shows it in one piece."""
    joined = []
    for output in outputs:
        if (output.output_type == "stream" and joined and joined[-1].output_type == "stream"
                and joined[-1].name == output.name):
            joined[-1] = nbformat.from_dict({**joined[-1], "text": joined[-1].text + output.text})
        else:
            joined.append(output)
    return joined


def test_run_all_offers_every_study_and_runs_none(monkeypatch):
    """A student's Run All without COURSE_RUN_STUDIES (grading never sets it): every cell runs, and each *Going further*
    study cell prints only its one line (what the study measures, about how long it takes) and shows its button; no
    study runs, so the notebook stays quick. (tests/test_prose_numbers.py runs every study.)"""
    from nbclient import NotebookClient

    monkeypatch.delenv(RUN_STUDIES, raising=False)
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    studies = study_cells(nb)
    assert len(studies) >= 6, f"the notebook's heavy studies should each sit behind a button: {studies}"
    with kernel_environment(MPLBACKEND="Agg"):
        NotebookClient(nb, timeout=60, kernel_name="python3",  # a missed wake-up costs one timeout: test_prose_numbers
                       resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    for index, measures in studies:
        outputs = _stream_text_joined(nb.cells[index].outputs)
        kinds = [o.output_type for o in outputs]
        assert kinds == ["stream", "display_data"], f"cell {index} ({measures}): outputs {kinds}, {outputs}"
        line = outputs[0].text
        assert re.fullmatch(rf"{re.escape(NOT_RUN)} \(about \d+ s\): {re.escape(measures)}\. Press the button below "
                            r"to run it\.\n", line), f"cell {index} printed {line!r}: did its study run?"
        view = outputs[1].data
        assert "application/vnd.jupyter.widget-view+json" in view and "Run this study" in view["text/plain"], view
