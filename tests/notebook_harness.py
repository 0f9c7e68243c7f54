"""Run a notebook the way the course grades it, and score wrong implementations against its tests.

Grading runs a notebook through the trusted judge (``course_tools.grading.judge``):
the student's cells in a sandbox, the tests in the judge, which decides each
test cell's verdict. ``run_notebook`` does exactly that for a whole notebook
and records, for every graded, locked or answer cell, whether it passed.
``score_corpora`` runs the reference once, then replaces one solution at a
time with a wrong implementation *in the same sandbox*, re-runs that
function's test cells in the judge, and reports which failed; after each
mutant the sandbox's modules and globals are put back, so a cheat that
patches NumPy cannot change the next mutant's fate.

A corpus file holds several corpora (``MUTANTS``, which must lose points,
``ALTERNATIVES``, correct implementations which must keep them); one run scores
all of them against one reference run (per process: ``run_harness`` shares the
implementations between two). Run as a script in a subprocess
(``python tests/notebook_harness.py NOTEBOOK CORPUS.py [ATTRIBUTE ...] [--share=I/N]``, or
``run_harness`` from a test); it prints a JSON report.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")

import nbformat  # noqa: E402

from course_tools.grading.judge import Judge, answer_names  # noqa: E402
from course_tools.grading.sandbox import sandbox_status  # noqa: E402
from course_tools.notebooks.cells import cell_grade_id, cell_points, cell_role, is_graded  # noqa: E402
from support.sandbox_checkpoint import checkpoint, restore  # noqa: E402


@dataclass
class CellOutcome:
    grade_id: str
    points: float
    passed: bool
    error: str
    stderr: str = ""


def test_cell_ids_for(nb, function_name: str) -> list[str]:
    """Grade ids of the test cells that guard ``function_name`` (named ``test_<function_name>...``)."""
    ids = []
    for cell in nb.cells:
        if cell.cell_type == "code" and is_graded(cell) and cell_grade_id(cell).startswith(f"test_{function_name}"):
            ids.append(cell_grade_id(cell))
    return ids


def judge() -> Judge:
    """The grading judge, sandboxed when a sandbox can start here (the corpora are our own code either way)."""
    return Judge(sandboxed=sandbox_status()[0], cell_timeout=60, notebook_timeout=1800)


def _outcome(cell, verdict) -> CellOutcome:
    points = cell_points(cell)
    if verdict is not None:
        return CellOutcome(verdict.grade_id, points, verdict.passed, verdict.message)
    errors = [f"{o['ename']}: {o['evalue']}" for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    return CellOutcome(cell_grade_id(cell), points, not errors, "; ".join(errors))


def _run_reference(session, nb) -> dict:
    outcomes: dict = {"_ungraded_failures": []}
    for cell in nb.cells:
        verdict = session.run_cell(cell)
        if cell.cell_type != "code":
            continue
        outcome = _outcome(cell, verdict)
        if cell_role(cell) == "plain":
            if not outcome.passed:
                outcomes["_ungraded_failures"].append(asdict(outcome))
        else:
            outcomes[outcome.grade_id] = outcome
    for note in session.notes:
        outcomes["_ungraded_failures"].append({"grade_id": "judge", "points": 0, "passed": False, "error": note})
    return outcomes


def run_notebook(path: str | Path, replacements: dict[str, str] | None = None) -> dict:
    """Grade ``path`` (an instructor notebook) through the judge; outcomes of graded, locked and answer cells.

    ``replacements`` maps a solution cell's grade_id to the source to run instead.
    """
    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        if cell_grade_id(cell) in (replacements or {}):
            cell.source = replacements[cell_grade_id(cell)]
    with judge().session(answer_names(nb)) as session:
        return _run_reference(session, nb)


def score_corpora(notebook: str | Path, corpora: dict[str, dict[str, dict[str, str]]], share: tuple[int, int] = (0, 1)) -> dict:
    """Run the reference notebook once, then every implementation of every corpus against its function's test cells.

    ``corpora`` maps a corpus's name (``MUTANTS``, ``ALTERNATIVES``) to ``{graded_name: {variant_name: source}}``,
    the graded name being its solution cell's grade_id. Returns a JSON-ready report: the reference outcomes and,
    under ``corpora[<name>]``, one entry per implementation with the test cells it failed and the points it lost.
    An implementation that kills its sandbox loses every test it reached; the reference then runs again in a new one.
    ``share=(i, n)`` scores only every n-th implementation from the i-th on (one of n processes; ``run_harness``).
    """
    nb = nbformat.read(str(notebook), as_version=4)
    tests_by_id = {cell_grade_id(c): c for c in nb.cells if is_graded(c) and c.cell_type == "code"}
    names = answer_names(nb)
    report: dict = {"corpora": {}}
    with contextlib.ExitStack() as stack:
        def fresh_session():
            stack.close()
            session = stack.enter_context(judge().session(names))
            reference = _run_reference(session, nbformat.from_dict(nb))
            checkpoint(session.remote)
            return session, reference

        session, reference = fresh_session()
        report["reference"] = {k: asdict(v) for k, v in reference.items() if isinstance(v, CellOutcome)}
        report["ungraded_failures"] = reference["_ungraded_failures"]
        for corpus_name, corpus in corpora.items():
            entries = report["corpora"][corpus_name] = []
            position = -1  # in this corpus: share i scores positions i, i + n, ...
            for function_name, variants in corpus.items():
                test_ids = test_cell_ids_for(nb, function_name)
                for mutant_name, source in variants.items():
                    position += 1
                    if position % share[1] != share[0]:
                        continue
                    outputs = session.exec_student(source)
                    setup_error = "; ".join(f"{o['ename']}: {o['evalue']}" for o in outputs if o.get("output_type") == "error")
                    scope = dict(session.namespace)
                    failed, lost = [], 0.0
                    for test_id in test_ids:
                        cell = nbformat.from_dict(tests_by_id[test_id])
                        verdict = session.run_test(cell, namespace=scope)
                        if not verdict.passed:
                            failed.append({"grade_id": test_id, "error": verdict.message[-600:], "stderr": ""})
                            lost += cell_points(cell)
                    entries.append({"function": function_name, "mutant": mutant_name, "test_cells": test_ids,
                                    "setup_error": setup_error, "failed": failed, "points_lost": lost})
                    if session.remote.dead:
                        session, _ = fresh_session()
                    else:
                        restore(session.remote)
                        session.remote.given_up.clear()  # the next implementation gets called, even if this one looped
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


def run_harness(notebook: str | Path, corpus: str | Path, attributes: tuple[str, ...] = ("MUTANTS",),
                timeout: float = 2400, processes: int = min(2, os.cpu_count() or 1)) -> dict:
    """Score the corpus file's ``attributes`` against ``notebook`` in fresh Python processes; return the JSON report.

    ``processes`` share the implementations (each runs the reference once in its own sandbox, then its share):
    one sandbox is one process, so a second one uses the second core. The reports are merged in corpus order,
    and the processes' reference runs must agree.
    """
    import subprocess

    command = [sys.executable, str(Path(__file__).resolve()), str(notebook), str(corpus), *attributes]
    running = [subprocess.Popen([*command, f"--share={index}/{processes}"], cwd=Path(__file__).resolve().parents[1],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for index in range(processes)]
    reports = []
    for process in running:
        stdout, stderr = process.communicate(timeout=timeout)
        if process.returncode != 0:
            raise RuntimeError(f"the harness failed:\n{stderr[-3000:]}")
        reports.append(json.loads(stdout))
    return merge_shares(reports)


def merge_shares(reports: list[dict]) -> dict:
    """One report from the shares' reports: the first share's reference, every share's entries in corpus order."""
    first = reports[0]
    for other in reports[1:]:
        differ = sorted(grade_id for grade_id, outcome in first["reference"].items()
                        if other["reference"].get(grade_id, {}).get("passed") != outcome["passed"])
        if differ or set(other["reference"]) != set(first["reference"]):
            raise RuntimeError(f"the reference graded differently in two harness processes: {differ}")
    merged = {**first, "corpora": {}}
    for corpus_name in first["corpora"]:
        shares = [report["corpora"][corpus_name] for report in reports]
        entries = []
        for round_ in range(max(map(len, shares), default=0)):  # share i holds positions i, i + n, ...
            entries.extend(share[round_] for share in shares if round_ < len(share))
        merged["corpora"][corpus_name] = entries
    return merged


def kill_table(entries: list[dict]) -> str:
    """A table of killed/total mutants per graded name, with the survivors named, and the overall kill rate."""
    by_function: dict[str, list[dict]] = {}
    for mutant in entries:
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
    arguments = [a for a in sys.argv[1:] if not a.startswith("--share=")]
    shares = [a.removeprefix("--share=") for a in sys.argv[1:] if a.startswith("--share=")]
    index, count = map(int, (shares[-1] if shares else "0/1").split("/"))
    notebook_path, corpus_path, *attribute_names = arguments
    print(json.dumps(score_corpora(notebook_path, {attribute: load_mutants(corpus_path, attribute)
                                                   for attribute in attribute_names or ["MUTANTS"]},
                                   share=(index, count))))
