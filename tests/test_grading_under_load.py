"""The same submission earns the same grade on a busy grading host as on a quiet one.

Time limits count the sandbox's CPU time (every process of it), not wall-clock time, so a
CPU hog beside the grader slows grading down but takes no points away. The looping sample
student (``sample_class``'s ``infinite_loop`` persona: one function never returns) is the
submission whose grade depends most on time limits: every cell that calls the looping
function runs out its per-cell budget, and together they use most of the notebook's. It is
graded here beside two busy processes and must score exactly its predicted score.
Nothing is timed.

The course graded here gives a cell 4 s (``LOOP_CELL_TIMEOUT``) instead of the course's 20 s: the loop
waits out a cell's budget, and the honest cells need under 1 s of the sandbox's CPU time each. A smaller
budget only makes the check stricter: a budget that counted the busy host's waits would take points
from the honest cells sooner.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from course_tools.demo import sample_class
from course_tools.grading.batch import grade_class
from course_tools.grading.gradebook import read_grades
from course_tools.grading.nbgrader_apps import ensure_venv_on_path
from course_tools.grading.sandbox import sandbox_status

ROOT = Path(__file__).resolve().parents[1]
SANDBOX_OK, SANDBOX_STATUS = sandbox_status()
LOOP_CELL_TIMEOUT = 4.0


@pytest.mark.skipif(not SANDBOX_OK, reason=f"!!! SANDBOX UNAVAILABLE !!! {SANDBOX_STATUS}")
def test_the_looping_student_keeps_its_predicted_score_beside_a_cpu_hog(tmp_path, built_course):
    ensure_venv_on_path()
    assignment, function = sample_class.loop_target(sample_class.read_course(ROOT))
    expected = sample_class.expected_scores(ROOT, [assignment], ("infinite_loop",))[("infinite_loop", assignment)]
    course = tmp_path / "course"
    built_course(course, [assignment], cell_timeout=LOOP_CELL_TIMEOUT)
    sample_class.write_class(course, ROOT, [assignment], students=("infinite_loop",), progress=None)
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        [result] = grade_class(course, [assignment], workers=1, progress=None)
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    record = read_grades(course)[(assignment, "infinite_loop")]
    scores = {name: cell.get("auto_score") or 0 for name, cell in record["cells"].items() if "max_score" in cell}
    lost = sorted(name for name, score in scores.items() if not score)
    print(f"\n[load] infinite_loop on {assignment} ({function} loops) beside 2 busy processes: "
          f"{sum(scores.values()):g} points (predicted {expected:g}) in {result.seconds:.0f} s; {result.notes}")
    assert result.ok and any(f"time limit ({LOOP_CELL_TIMEOUT:g} s of CPU" in note for note in result.notes), result.line()
    assert sum(scores.values()) == expected, f"scored {sum(scores.values()):g}, predicted {expected:g}; lost {lost}"


CPU_BOUND = "while True:\n    pass"
FORKED_CPU_BOUND = "import os\nfor _ in range(3):\n    if os.fork() == 0:\n        break\nwhile True:\n    pass"
WAITING = "import time\ntime.sleep(600)"


@pytest.mark.skipif(not SANDBOX_OK, reason=f"!!! SANDBOX UNAVAILABLE !!! {SANDBOX_STATUS}")
@pytest.mark.parametrize("source, stopped_by", [(CPU_BOUND, "CPU time"), (FORKED_CPU_BOUND, "CPU time"),
                                                (WAITING, "mostly waiting")], ids=["loop", "forked-loops", "sleep"])
def test_a_cell_stops_at_its_cpu_budget_spent_computing_or_waiting(source, stopped_by):
    """Computing spends the sandbox's CPU budget (all its processes); waiting spends it too (judge.IDLE_CHARGE),
    so a sleeper stops at its budget, long before the wall-clock backstop."""
    from course_tools.grading.judge import Remote

    with Remote(sandboxed=True, cell_timeout=1.0) as remote:
        assert remote.exec_cell("pass", 60.0) == ([], False), "the sandbox starts (its start-up is not the test's)"
        before = remote.cpu_seconds()
        outputs, failed = remote.exec_cell(source, 1.0)
        used = remote.cpu_seconds() - before
    assert failed and outputs[0]["ename"] == "CellTimeoutError", outputs
    assert stopped_by in outputs[0]["evalue"], outputs[0]["evalue"]
    if stopped_by == "CPU time":
        assert used >= 1.0, f"stopped after {used:.2f} CPU s of a 1 s budget"
    else:
        assert used < 1.0 and "wall-clock" not in outputs[0]["evalue"], outputs[0]["evalue"]
