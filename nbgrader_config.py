"""nbgrader configuration for the course (read by every nbgrader command run from this folder)."""

import os
import sys
from pathlib import Path

from course_tools.course import load
from course_tools.grading.judged_autograde import TRUSTED_AUTOGRADE_PREPROCESSORS, TRUSTED_SANITIZE_PREPROCESSORS

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

# nbgrader shells out to `alembic`, installed beside it: `.venv/bin/nbgrader collect ...` works without an
# activated venv (or `PATH=.venv/bin:$PATH`) when the folder of the running interpreter is on PATH.
if os.path.dirname(sys.executable) not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")

COURSE_ROOT = Path(__file__).resolve().parent

# The course id, like the assignments (the folders source/<name>), comes from the manifest course.toml.
# nbgrader 0.9 registers each assignment in the gradebook when `nbgrader generate_assignment` first
# runs (its old db_assignments option is gone), so nothing here lists them.
c.CourseDirectory.course_id = load(COURSE_ROOT).id
c.CourseDirectory.root = str(COURSE_ROOT)

# The exchange students fetch from and submit to (docs/exchange.md): on one machine
# nbgrader's default folder, created once with `sudo .venv/bin/python -m course_tools.publish.exchange setup`;
# with JupyterHub the same path on storage every user's server mounts. $NBGRADER_EXCHANGE overrides it.
c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE") or "/srv/nbgrader/exchange"

# Every student notebook opens with the course header (restart & run all, NAME, COLLABORATORS).
c.IncludeHeaderFooter.header = "source/header.ipynb"

# nbgrader's default generate_assignment pipeline, with ClearSolutions replaced by a subclass that
# releases the header's NAME/COLLABORATORS answer cell as written (course_tools.notebooks.generate).
c.GenerateAssignment.preprocessors = [
    "nbgrader.preprocessors.IncludeHeaderFooter",
    "nbgrader.preprocessors.InstantiateTests",
    "nbgrader.preprocessors.LockCells",
    "course_tools.notebooks.generate.ClearSolutionsKeepingNameCell",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.CheckCellMetadata",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.SaveCells",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbgrader.preprocessors.ClearMarkScheme",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Autograding never runs student code in nbgrader's kernel. Each submission is rebuilt as the
# released notebook with only the student's answer cells put in (so edited, deleted, duplicated or
# re-flagged cells change nothing), then a trusted judge runs it: the student's cells in a bubblewrap
# sandbox (unprivileged uid, no network, no view of this folder, memory/process/CPU/output limits),
# the tests in the judge's own process, which calls the student's functions and compares plain data.
# Test cells' outputs are written by the judge only, so SaveAutoGrades scores what the judge saw.
# See course_tools/grading/judged_autograde.py; `python -m course_tools.autograde` runs this pipeline.
# course_tools.grading.autograde (and every other course_tools grading path) sets these lists itself, whatever
# this file says, and refuses a configuration that would run student code outside the judge; they are
# here too so that the stock `nbgrader autograde` is the same trusted pipeline.
c.Autograde.sanitize_preprocessors = list(TRUSTED_SANITIZE_PREPROCESSORS)
c.Autograde.autograde_preprocessors = list(TRUSTED_AUTOGRADE_PREPROCESSORS)
# Per-cell time limit (a test cell's calls into student code share it), and a limit per notebook, in
# seconds of the sandbox's CPU time (so a busy grader gives the same grades); time the student's code
# spends sleeping or blocked counts as CPU time (course_tools.grading.judge.IDLE_CHARGE), time it waits for a
# busy host's CPUs does not; wall-clock time backs them up at course_tools.grading.judge.WALL_FACTOR (5x).
c.JudgedExecute.cell_timeout = 20
c.JudgedExecute.notebook_timeout = 120

# `nbgrader validate` (students' and the course's own check) still runs notebooks in a kernel.
c.Execute.timeout = 20
c.Execute.interrupt_on_timeout = True

# Feedback, however it is made (formgrader's "Generate Feedback" button, `nbgrader generate_feedback`,
# `python -m course_tools.feedback`): hidden tests hidden, student markup sanitized and size-capped
# (course_tools.publish.feedback), rendered with the course's own "feedback" template (a strict
# Content-Security-Policy, no scripts, student content framed as the student's; it is found first, and
# nbgrader's formgrader templates stay reachable behind it), and every written page checked, a failing
# page replaced by a notice (the post-convert hook).
from course_tools.publish.feedback import FEEDBACK_EXPORTER, FEEDBACK_PREPROCESSORS, FEEDBACK_TEMPLATE_BASEDIRS  # noqa: E402

c.GenerateFeedback.preprocessors = list(FEEDBACK_PREPROCESSORS)
c.GenerateFeedback.exporter_class = FEEDBACK_EXPORTER  # nbconvert's HTMLExporter, less a slow extra pass
c.GenerateFeedback.post_convert_hook = "course_tools.publish.feedback.check_feedback_pages"
c.HTMLExporter.extra_template_basedirs = list(FEEDBACK_TEMPLATE_BASEDIRS)
