"""Assignment 2 (02_monitoring): the reference passes every graded test, and every wrong implementation loses points.

The notebook runs in-process through ``tests/notebook_harness.py`` (in a subprocess, so cheats that
monkeypatch NumPy or math cannot leak into pytest), once per module. Real kernels and nbgrader itself
are exercised by the generic notebook tests.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import nbformat
import pytest
from notebook_harness import kill_table, load_mutants, run_harness

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
    failing = {gid: (o["error"] or o["stderr"])[-400:] for gid, o in report["reference"].items() if not o["passed"]}
    assert not failing, f"graded or locked cells of the reference fail: {failing}"
    stderr = {gid: o["stderr"] for gid, o in report["reference"].items() if o["stderr"]}
    assert not stderr, f"cells write to stderr (nbgrader would score them 0): {stderr}"


def test_no_ungraded_cell_fails(report):
    assert report["ungraded_failures"] == [], f"ungraded cells fail: {report['ungraded_failures']}"


def test_every_graded_name_has_visible_and_hidden_tests(report, notebook):
    ids = {c.metadata.get("nbgrader", {}).get("grade_id") for c in notebook.cells}
    for name in GRADED:
        assert name in ids, f"no solution cell with grade_id {name!r}"
        for kind in ("visible", "hidden"):
            gid = f"test_{name}_{kind}"
            assert gid in ids, f"missing test cell {gid}"
            assert report["reference"][gid]["passed"], f"{gid} fails on the reference"


def test_hidden_tests_are_hidden_and_test_cells_open_with_a_docstring(notebook):
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            assert cell.source.lstrip().startswith('"""'), f"test cell {meta['grade_id']} has no docstring"
            if meta["grade_id"].endswith("_hidden"):
                assert "### BEGIN HIDDEN TESTS" in cell.source and "### END HIDDEN TESTS" in cell.source


def test_points(notebook):
    points: dict[str, float] = defaultdict(float)
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            gid = meta["grade_id"]
            owner = next((name for name in GRADED if gid.startswith(f"test_{name}")), gid)
            points[owner] += meta["points"]
    assert dict(points) == POINTS


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
    table = kill_table(report)
    print("\n" + table)
    survivors = [f"{m['function']}.{m['mutant']}" for m in report["mutants"] if m["points_lost"] <= 0]
    assert not survivors, f"mutants that lose no points: {survivors}\n{table}"
    setup_errors = [f"{m['function']}.{m['mutant']}: {m['setup_error']}" for m in report["mutants"] if m["setup_error"]]
    assert not setup_errors, f"mutant sources that do not even run (they would be killed for the wrong reason): {setup_errors}"
