"""nbgrader configuration for the course (read by every nbgrader command run from this folder)."""

from pathlib import Path

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

COURSE_ROOT = Path(__file__).resolve().parent

c.CourseDirectory.course_id = "testing-continuous-training"
c.CourseDirectory.root = str(COURSE_ROOT)

# The three assignments are the folders source/01_testing, source/02_monitoring and
# source/03_continuous_training; nbgrader 0.9 registers each in the gradebook when
# `nbgrader generate_assignment` first runs (its old db_assignments option is gone).
ASSIGNMENTS = ("01_testing", "02_monitoring", "03_continuous_training")

# Every student notebook opens with the course header (restart & run all, NAME, COLLABORATORS).
c.IncludeHeaderFooter.header = "source/header.ipynb"

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Per-cell time limit while autograding: an infinite loop costs only the cell it blocks.
c.Execute.timeout = 20
c.Execute.interrupt_on_timeout = True

# Restore locked cells (tests, the grading guard) and re-insert deleted test cells.
c.OverwriteCells.add_missing_cells = True

# Honest warnings on stderr must not cost points: nbgrader scores a test cell with any
# stderr output as 0, so drop stderr streams that carry a Python warning
# ("file.py:12: UserWarning: ..."). Tracebacks are error outputs, not stderr, and still count.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"(?m)^.*:\d+: \w*Warning: "
