"""Figures: how long each reference notebook takes top to bottom in a fresh kernel (nbclient).

    .venv/bin/python benchmarks/notebook_runtime.py [assignment ...]

Prints, per notebook, the wall time including kernel start, the time spent
inside cells, and the slowest cells. Asserts nothing: the course aims for a
notebook under 10 s and every cell well under 1 s (or showing progress).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from course_tools.course import available_assignments  # noqa: E402


def cell_seconds(cell) -> float:
    timing = cell.get("metadata", {}).get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not start or not end:
        return 0.0
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def main(argv: list[str]) -> None:
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"{'notebook':<28}{'wall s':>8}{'in cells s':>12}{'cells':>7}   slowest cells")
    for assignment in argv or available_assignments(ROOT):
        path = ROOT / "source" / assignment / f"{assignment}.ipynb"
        nb = nbformat.read(str(path), as_version=4)
        client = NotebookClient(nb, timeout=120, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}}, record_timing=True)
        start = time.perf_counter()
        client.execute(stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        timed = []
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                name = cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell {index}"
                timed.append((cell_seconds(cell), name))
        inside = sum(t for t, _ in timed)
        slowest = ", ".join(f"{name} {t:.2f}s" for t, name in sorted(timed, reverse=True)[:3])
        print(f"{assignment:<28}{wall:>8.1f}{inside:>12.1f}{len(timed):>7}   {slowest}")


if __name__ == "__main__":
    main(sys.argv[1:])
