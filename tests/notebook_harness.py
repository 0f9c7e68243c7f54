"""Run a notebook's code cells in-process, the way nbgrader scores them, and score wrong implementations.

nbgrader gives a test cell its points when it runs without an error and
without writing to stderr. ``run_notebook`` executes every code cell in one
namespace and records exactly that for each graded cell, without starting a
kernel, so the suite can afford hundreds of runs. ``score_mutants`` then
replaces one solution cell at a time with a wrong implementation, re-runs
that function's test cells on the executed state, and reports which cells
failed. Real kernels and real ``nbgrader autograde`` are exercised by the
validate and sample-class tests; this harness exists for the many mutants.

Run as a script in a subprocess (``python tests/notebook_harness.py NOTEBOOK
CORPUS.py [ATTRIBUTE]``, or ``run_harness`` from a test) so that cheats which monkeypatch numpy or math cannot leak
into the test process; it prints a JSON report.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib.util
import io
import json
import math
import os
import sys
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")

import nbformat  # noqa: E402


@dataclass
class CellOutcome:
    grade_id: str
    points: float
    passed: bool
    error: str
    stderr: str


def _strip_magics(source: str) -> str:
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def test_cell_ids_for(nb, function_name: str) -> list[str]:
    """Grade ids of the test cells that guard ``function_name`` (named ``test_<function_name>...``)."""
    ids = []
    for cell in nb.cells:
        meta = _nbgrader(cell)
        if cell.cell_type == "code" and meta.get("grade") and meta.get("grade_id", "").startswith(f"test_{function_name}"):
            ids.append(meta["grade_id"])
    return ids


def exec_cell(source: str, namespace: dict, grade_id: str = "", points: float = 0.0) -> CellOutcome:
    out, err = io.StringIO(), io.StringIO()
    error = ""
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            exec(compile(_strip_magics(source), f"<cell {grade_id or 'ungraded'}>", "exec"), namespace)
        except BaseException as exc:  # a test cell fails on any exception, SystemExit included
            if isinstance(exc, KeyboardInterrupt):
                raise
            error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    stderr = err.getvalue()
    return CellOutcome(grade_id, points, not error and not stderr, error, stderr)


def run_notebook(path: str | Path, replacements: dict[str, str] | None = None) -> tuple[dict[str, CellOutcome], dict]:
    """Execute every code cell of ``path`` in order; return outcomes of graded cells and the namespace.

    ``replacements`` maps a solution cell's grade_id to the source to run instead.
    """
    nb = nbformat.read(str(path), as_version=4)
    namespace: dict = {"__name__": "__main__"}
    outcomes: dict[str, CellOutcome] = {}
    cwd = os.getcwd()
    os.chdir(Path(path).parent)
    try:
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            meta = _nbgrader(cell)
            grade_id = meta.get("grade_id", "")
            source = (replacements or {}).get(grade_id, cell.source)
            outcome = exec_cell(source, namespace, grade_id, float(meta.get("points", 0) or 0))
            if meta.get("grade") or meta.get("solution") or meta.get("locked"):
                outcomes[grade_id] = outcome
            else:
                outcomes.setdefault("_ungraded_failures", [])
                if not outcome.passed:
                    outcomes["_ungraded_failures"].append(asdict(outcome))  # type: ignore[union-attr]
    finally:
        os.chdir(cwd)
    return outcomes, namespace


class _ModuleSnapshot:
    """Restores numpy, numpy.testing, math and builtins after a cheat patched them."""

    def __init__(self) -> None:
        import numpy
        import numpy.testing
        self.modules = [numpy, numpy.testing, math, builtins]
        self.saved = [dict(vars(m)) for m in self.modules]

    def restore(self) -> None:
        for module, saved in zip(self.modules, self.saved):
            current = vars(module)
            for key in [k for k in current if k not in saved]:
                del current[key]
            current.update(saved)


def score_mutants(notebook: str | Path, mutants: dict[str, dict[str, str]]) -> dict:
    """Run the reference notebook once, then each mutant against its function's test cells.

    ``mutants`` maps a graded function's name (its solution cell's grade_id)
    to ``{mutant_name: source}``. Returns a JSON-ready report with the
    reference outcomes and, per mutant, the failed test cells and lost points.
    """
    nb = nbformat.read(str(notebook), as_version=4)
    tests_by_id = {(_nbgrader(c).get("grade_id")): c for c in nb.cells if _nbgrader(c).get("grade")}
    reference, namespace = run_notebook(notebook)
    snapshot = _ModuleSnapshot()
    report = {"reference": {k: asdict(v) for k, v in reference.items() if isinstance(v, CellOutcome)},
              "ungraded_failures": reference.get("_ungraded_failures", []), "mutants": []}
    cwd = os.getcwd()
    os.chdir(Path(notebook).parent)
    try:
        for function_name, variants in mutants.items():
            test_ids = test_cell_ids_for(nb, function_name)
            for mutant_name, source in variants.items():
                scope = dict(namespace)
                setup = exec_cell(source, scope, function_name)
                failed, lost = [], 0.0
                for test_id in test_ids:
                    cell = tests_by_id[test_id]
                    outcome = exec_cell(cell.source, scope, test_id, float(_nbgrader(cell).get("points", 0)))
                    if not outcome.passed:
                        failed.append({"grade_id": test_id, "error": outcome.error[-300:], "stderr": outcome.stderr[-300:]})
                        lost += outcome.points
                snapshot.restore()
                report["mutants"].append({"function": function_name, "mutant": mutant_name, "test_cells": test_ids,
                                          "setup_error": setup.error, "failed": failed, "points_lost": lost})
    finally:
        os.chdir(cwd)
    return report


def load_mutants(path: str | Path, attribute: str = "MUTANTS") -> dict[str, dict[str, str]]:
    """A corpus file's ``MUTANTS`` (or other ``attribute``) dict: ``{graded_name: {name: source}}``."""
    folder = str(Path(path).resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)  # a corpus imports its shared cheats from beside it
    spec = importlib.util.spec_from_file_location(Path(path).stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, attribute)


def run_harness(notebook: str | Path, corpus: str | Path, attribute: str = "MUTANTS", timeout: float = 900) -> dict:
    """Score the corpus's ``attribute`` against ``notebook`` in a fresh Python process; return the JSON report."""
    import subprocess

    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), str(notebook), str(corpus), attribute],
                          cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"the harness failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def kill_table(report: dict) -> str:
    """A table of killed/total mutants per graded name, with the survivors named, and the overall kill rate."""
    by_function: dict[str, list[dict]] = {}
    for mutant in report["mutants"]:
        by_function.setdefault(mutant["function"], []).append(mutant)
    lines = [f"{'graded name':30}{'killed':>8}{'total':>7}  survivors"]
    killed_all = total_all = 0
    for function, mutants in by_function.items():
        killed = sum(m["points_lost"] > 0 for m in mutants)
        survivors = [m["mutant"] for m in mutants if m["points_lost"] <= 0]
        lines.append(f"{function:30}{killed:>8}{len(mutants):>7}  {', '.join(survivors) or '-'}")
        killed_all += killed
        total_all += len(mutants)
    lines.append(f"{'all':30}{killed_all:>8}{total_all:>7}  kill rate {killed_all / max(total_all, 1):.0%}")
    return "\n".join(lines)


if __name__ == "__main__":
    notebook_path, mutants_path = sys.argv[1], sys.argv[2]
    corpus_attribute = sys.argv[3] if len(sys.argv) > 3 else "MUTANTS"
    print(json.dumps(score_mutants(notebook_path, load_mutants(mutants_path, corpus_attribute))))
