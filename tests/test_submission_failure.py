"""Why a submission was not graded, read from nbgrader's log: one line naming the cause, not nbgrader's pointer to it.

The logs are shaped as ``nbgrader_apps.run_app`` captures them: ``[LEVEL] message`` lines around a traceback.
"""

from __future__ import annotations

from course_tools.grading.submission import explain_failure

NBGRADER_CLOSING = ("[ERROR] There was an error processing assignment: /course/submitted/ada/01\n"
                    "[ERROR] Please see the error log (.nbgrader.log) for details on the specific errors "
                    "on the above failures.\n")


def _failed_with(traceback_tail: str) -> str:
    return ("[INFO] Sanitizing /course/submitted/ada/01/01.ipynb\n"
            "Traceback (most recent call last):\n"
            '  File "/venv/lib/nbgrader/converters/base.py", line 410, in convert_single_notebook\n'
            "    output, resources = self.exporter.from_filename(notebook_filename, resources=resources)\n"
            f"{traceback_tail}\n" + NBGRADER_CLOSING)


def test_a_refused_configuration_is_the_reason_whatever_else_the_log_says():
    refusal = ("refused to grade with this configuration (nbgrader_config.py or the command line): "
               "ExecutePreprocessor.enabled = True would run the notebook in an ordinary kernel")
    log = _failed_with("RuntimeError: the app did not start") + f"[ERROR] {refusal}\n"
    assert explain_failure(log) == refusal


def test_a_missing_sandbox_is_named_with_its_own_message():
    message = "SandboxUnavailable: bwrap could not build the sandbox: permission denied"
    reason = explain_failure(_failed_with(f"course_tools.grading.sandbox.{message}"))
    assert message in reason and "Please see" not in reason


def test_a_locked_gradebook_is_named():
    reason = explain_failure(_failed_with("sqlite3.OperationalError: database is locked"))
    assert "gradebook" in reason and "locked" in reason


def test_the_exception_a_traceback_ends_with_is_the_reason_not_nbgraders_closing_lines():
    cause = "nbformat.reader.NotJSONError: Notebook does not appear to be JSON: '{ this is not a notebook'"
    assert explain_failure(_failed_with(cause)) == cause


def test_without_a_traceback_the_last_error_line_that_is_not_a_pointer_is_the_reason():
    log = ("[ERROR] No notebooks were matched by '/course/submitted/ada/01/*.ipynb'\n"
           "[ERROR] Please see the error log (.nbgrader.log) for details on the specific errors on the above failures.\n")
    reason = explain_failure(log)
    assert "No notebooks were matched" in reason and "Please see" not in reason


def test_a_log_with_no_error_at_all_still_gets_a_reason():
    assert explain_failure("[INFO] Copying files\n")

