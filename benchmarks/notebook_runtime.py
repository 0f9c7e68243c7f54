"""Figures: how long each reference notebook takes top to bottom in a fresh kernel (nbclient).

    .venv/bin/python benchmarks/notebook_runtime.py [assignment ...]
    .venv/bin/python benchmarks/notebook_runtime.py --root ../main --root . [assignment ...]
    .venv/bin/python benchmarks/notebook_runtime.py --studies [assignment ...]

By default a notebook runs as a student's Run All does: its *Going further* studies
(``nextword.opt_in_study``) only offer their button. ``--studies`` runs them too
(``COURSE_RUN_STUDIES=1``), as the reader's edition and the prose-number tests do.

With several ``--root`` checkouts (before and after a change), each notebook is
run in each checkout in turn, so the figures share one machine state; the
kernel imports the ``nextword`` of the checkout it runs (``<root>/src`` first
on ``PYTHONPATH``).

Prints, per notebook, the wall time including kernel start, the time spent
inside cells, the kernel's CPU seconds (steadier than wall time on a busy
machine) and the slowest cells, then every cell over 1 s with what it
printed first (a cell that long must show progress), and the slowest cell of each notebook. Asserts nothing: the
course aims for every notebook under 5 s top to bottom on 2 cores (issue 13)
and every cell well under 1 s or showing progress. Run it on a quiet machine
(the load average is printed first) and quote figures from one run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
from course_tools.course import available_assignments
from course_tools.notebooks.cells import cell_grade_id
from course_tools.publish.reader_edition import kernel_environment
from nextword.studies import RUN_STUDIES


def cell_seconds(cell) -> float:
    timing = cell.get("metadata", {}).get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not start or not end:
        return 0.0
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def first_output(cell) -> str:
    """The first line the cell printed, shortened: a long cell should say what it is doing before it does it."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream" and output.get("text", "").strip():
            return output["text"].strip().splitlines()[0][:70]
    return ""


def run(path: Path, root: Path):
    """Execute the notebook at ``path`` in a fresh kernel importing ``root``'s nextword: (notebook, wall s, kernel CPU s)."""
    nb = nbformat.read(str(path), as_version=4)
    # The kernel's own CPU seconds (start-up, imports and every cell) are much less sensitive to a busy
    # machine than wall time: a last cell, dropped again after the run, reads them.
    nb.cells.append(nbformat.v4.new_code_cell(
        "import resource as _r; _u = _r.getrusage(_r.RUSAGE_SELF); print(_u.ru_utime + _u.ru_stime)"))
    client = NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}}, record_timing=True)
    saved = os.environ.get("PYTHONPATH")
    with kernel_environment(PYTHONPATH=os.pathsep.join([str(root / "src"), *([saved] if saved else [])])):
        start = time.perf_counter()
        client.execute(stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - start
    probe = nb.cells.pop()
    return nb, wall, float("".join(o.get("text", "") for o in probe.outputs if o.get("output_type") == "stream"))


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignments", nargs="*")
    parser.add_argument("--root", action="append", type=Path, help="a course checkout (repeatable; default: this one)")
    parser.add_argument("--studies", action="store_true",
                        help="run the Going-further studies too (COURSE_RUN_STUDIES=1), as the reader's edition does")
    args = parser.parse_args(argv)
    if args.studies:
        os.environ[RUN_STUDIES] = "1"
    else:
        os.environ.pop(RUN_STUDIES, None)
    roots = [root.resolve() for root in args.root] if args.root else [ROOT]
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; "
          f"Going-further studies {'run (--studies)' if args.studies else 'offered, not run'}")
    long_cells: list[tuple[str, str, float, str]] = []
    totals: list[float] = []
    slowest_cells: list[tuple[str, float, str, str]] = []
    print(f"{'notebook':<36}{'wall s':>8}{'in cells s':>12}{'kernel CPU s':>14}{'cells':>7}   slowest cells")
    for assignment, root in [(a, r) for a in args.assignments or available_assignments(ROOT) for r in roots]:
        nb, wall, cpu = run(root / "source" / assignment / f"{assignment}.ipynb", root)
        label = assignment if len(roots) == 1 else f"{assignment} ({root.name})"
        timed = []
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                name = cell_grade_id(cell) or f"cell {index}"
                timed.append((cell_seconds(cell), name, first_output(cell)))
        inside = sum(t for t, _, _ in timed)
        slowest = ", ".join(f"{name} {t:.2f}s" for t, name, _ in sorted(timed, reverse=True)[:3])
        print(f"{label:<36}{wall:>8.1f}{inside:>12.1f}{cpu:>14.1f}{len(timed):>7}   {slowest}")
        long_cells.extend((label, name, t, shown) for t, name, shown in timed if t > 1.0)
        slowest_cells.append((label, *max(timed)))
        totals.append(wall)
    print(f"slowest notebook run {max(totals):.1f} s (target: under 5 s each)")
    for label, seconds, name, shown in slowest_cells:
        print(f"  slowest cell of {label}: {name} {seconds:.2f}s, "
              f"{'shows progress first: ' + shown if shown else 'no progress shown'}")
    for assignment, name, seconds, shown in long_cells:
        print(f"  over 1 s: {assignment} {name} {seconds:.2f}s, first output: {shown or '(none: no progress shown)'}")


if __name__ == "__main__":
    main(sys.argv[1:])
