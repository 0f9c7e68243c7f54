# %% [markdown]
# # Testing & Continuous Training: building self-improving AI systems
#
# Before you turn this notebook in, make sure everything runs as expected:
#
# 1. **Restart the kernel and run all cells** (JupyterLab: *Kernel → Restart Kernel and Run All Cells…*).
# 2. Check that every visible test passes. Visible tests teach; **hidden tests** also run when your
#    work is graded, so a passing visible test does not prove that an answer is right.
# 3. Leave the locked cells (tests and the grading guard) as they are: grading restores them.
#
# Fill in your name and your collaborators below.

# %% nbgrader={"grade": false, "grade_id": "student_name", "locked": false, "schema_version": 3, "solution": true, "task": false}
NAME = ""
COLLABORATORS = ""
