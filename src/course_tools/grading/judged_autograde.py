"""nbgrader's autograde pipeline with a trusted judge instead of a kernel.

nbgrader stays the system of record: its gradebook, ``SaveAutoGrades``,
formgrader, manual grading, feedback and export are unchanged. Two
preprocessors replace what ran the student's notebook (``nbgrader_config.py``
puts them in ``Autograde.sanitize_preprocessors`` and
``Autograde.autograde_preprocessors``):

``RebuildFromRelease``  (sanitizing) the released notebook with only the
    student's answer cells put in (``course_tools.grading.rebuild``), the tests' full
    source from the gradebook, and a review scan of the answers.
``JudgedExecute``  (autograding) runs it with ``course_tools.grading.judge``: the
    answers in a bubblewrap sandbox, the tests here. A test cell's outputs are
    written by the judge only, so ``SaveAutoGrades`` scores what the judge saw.

Where no sandbox can start, ``JudgedExecute`` refuses to run student code
unless ``JudgedExecute.sandbox`` is set to False (``--UNSAFE-no-sandbox`` on
``course_tools.grading.autograde``).

The pipeline is applied by code, not only by configuration: ``enforce_trusted_pipeline`` (called by
``course_tools.grading.submission.grade_one``, so by ``course_tools.grading.autograde``, batch and cluster grading) sets
both preprocessor lists itself, whatever the course folder's ``nbgrader_config.py`` says, so an
ordinary three-line nbgrader config still grades in the judge. A configuration that asks for
anything that would run student code outside the judge (nbgrader's ``Execute``, nbconvert's
``ExecutePreprocessor``, an unknown preprocessor in either list, ``JudgedExecute.sandbox = False``
without the explicit opt-out, another exporter class) is refused, with the setting named.
"""

from __future__ import annotations

import contextlib
import os

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Callable, Float, Instance

# .cells, not nbgrader.utils: a submission's cell metadata may be a list or string, where they raise
from ..notebooks.cells import cell_grade_id, is_answer, is_test
from .gradebook import GradebookLock
from .judge import Judge, answer_names
from .output_budget import apply_output_budget
from .rebuild import assemble, unsafe_entries
from .review import scan_notebook, summarize

# The trusted pipeline. nbgrader_config.py uses these lists too, so the stock `nbgrader autograde` is trusted.
TRUSTED_SANITIZE_PREPROCESSORS = [
    "nbgrader.preprocessors.ClearOutput",
    "course_tools.grading.judged_autograde.RebuildFromRelease",
]
TRUSTED_AUTOGRADE_PREPROCESSORS = [
    "course_tools.grading.judged_autograde.JudgedExecute",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# nbgrader preprocessors that never run code: a folder's config may list them, they are replaced anyway.
_INERT_PREPROCESSORS = {"ClearOutput", "DeduplicateIds", "OverwriteKernelspec", "OverwriteCells", "CheckCellMetadata",
                        "IgnorePattern", "ClearMetadataPreprocessor", "LimitOutput", "SaveAutoGrades",
                        "AssignLatePenalties", "RebuildFromRelease", "JudgedExecute", "ClearSolutions",
                        "ClearHiddenTests", "ClearMarkScheme", "LockCells", "ComputeChecksums", "SaveCells",
                        "IncludeHeaderFooter", "CheckCellMetadata"}


def _preprocessor_name(entry) -> str:
    name = entry if isinstance(entry, str) else getattr(entry, "__name__", repr(entry))
    return name.rsplit(".", 1)[-1]


def _listed(value) -> list:
    """A configured list, also when the config file changed it in place (``c.X.y.append(...)``: a LazyConfigValue)."""
    if hasattr(value, "get_value"):
        value = value.get_value([])
    return list(value) if isinstance(value, (list, tuple)) else [value]


def untrusted_settings(config, allow_unsandboxed: bool = False) -> list[str]:
    """Why ``config`` (an nbgrader app's effective traitlets config) would run student code outside the judge."""
    reasons = []
    autograde = config["Autograde"] if "Autograde" in config else {}
    for key in ("sanitize_preprocessors", "autograde_preprocessors", "preprocessors"):
        for entry in _listed(autograde[key]) if key in autograde else []:
            if _preprocessor_name(entry) not in _INERT_PREPROCESSORS:
                reasons.append(f"Autograde.{key} lists {entry!r}, which runs (or may run) student code outside "
                               f"the judge")
    for section in ("Exporter", "NotebookExporter", "TemplateExporter", "HTMLExporter"):
        listed = _listed(config[section]["preprocessors"]) if section in config and "preprocessors" in config[section] else []
        if listed:
            reasons.append(f"{section}.preprocessors = {list(listed)!r}: grading runs only the trusted preprocessors")
    if "Autograde" in config and "exporter_class" in autograde:
        reasons.append(f"Autograde.exporter_class = {autograde['exporter_class']!r}: grading uses nbgrader's own")
    for section in ("ExecutePreprocessor", "Execute"):
        if section in config and config[section].get("enabled", False) is True:
            reasons.append(f"{section}.enabled = True would run the notebook in an ordinary kernel")
    judged = config["JudgedExecute"] if "JudgedExecute" in config else {}
    if "sandbox" in judged and not judged["sandbox"] and not allow_unsandboxed:
        reasons.append("JudgedExecute.sandbox = False runs student code unisolated: only the explicit "
                       "--UNSAFE-no-sandbox opt-out of course_tools.grading.autograde may turn the sandbox off")
    return reasons


def enforce_trusted_pipeline(app, allow_unsandboxed: bool = False, report_to=None,
                             gradebook_lock: GradebookLock | None = None) -> str:
    """Put the trusted pipeline into an initialized ``AutogradeApp``; why it must not grade ('' when it may).

    ``report_to(assignment, student, notebook, grading)`` receives what grading found in each notebook
    (``JudgedExecute.report_to``): the caller's own channel back from nbgrader. ``gradebook_lock``, the lock
    the caller holds over the run, is let go of while the notebook is rebuilt and judged (``gradebook_lock`` of
    ``RebuildFromRelease`` and ``JudgedExecute``).
    """
    from traitlets.config import Config

    reasons = untrusted_settings(app.config, allow_unsandboxed)
    if reasons:
        return ("refused to grade with this configuration (nbgrader_config.py or the command line): "
                + "; ".join(reasons))
    trusted = Config()
    trusted.Autograde.sanitize_preprocessors = list(TRUSTED_SANITIZE_PREPROCESSORS)
    trusted.Autograde.autograde_preprocessors = list(TRUSTED_AUTOGRADE_PREPROCESSORS)
    trusted.Autograde.preprocessors = []
    if not allow_unsandboxed:
        trusted.JudgedExecute.sandbox = True
    if report_to is not None:
        trusted.JudgedExecute.report_to = report_to
    if gradebook_lock is not None:
        trusted.RebuildFromRelease.gradebook_lock = gradebook_lock
        trusted.JudgedExecute.gradebook_lock = gradebook_lock
    app.update_config(trusted)
    return ""


def _paths(preprocessor, resources) -> tuple[CourseDirectory, str, str, str]:
    info = resources["nbgrader"]
    return CourseDirectory(config=preprocessor.config), info["assignment"], info["student"], info["notebook"]


def released_notebook(coursedir: CourseDirectory, assignment: str, notebook: str):
    path = os.path.join(coursedir.format_path(coursedir.release_directory, ".", assignment), f"{notebook}.ipynb")
    if not os.path.exists(path):
        raise FileNotFoundError(f"no released notebook {path}: run `nbgrader generate_assignment {assignment}` first")
    return nbformat.read(path, as_version=4)


def trusted_sources(db_url: str, course_id: str, assignment: str, notebook: str) -> dict[str, str]:
    """Full source (hidden tests included) of every test and locked cell, as nbgrader recorded it."""
    with Gradebook(db_url, course_id) as gb:
        try:
            return {cell.name: cell.source for cell in gb.find_notebook(notebook, assignment).source_cells}
        except MissingEntry:
            return {}


class _GradingStep(NbGraderPreprocessor):
    """A step of the trusted pipeline that does long work opening no gradebook: it lets go of the run's lock then."""

    gradebook_lock = Instance(GradebookLock, allow_none=True,
                              help="The gradebook lock held over this autograde run (``run_app``): let go of while "
                                   "this step does work that opens no gradebook, so other workers can record "
                                   "their grades meanwhile.").tag(config=True)

    def outside_gradebook_lock(self):
        return self.gradebook_lock.let_go() if self.gradebook_lock is not None else contextlib.nullcontext()


class RebuildFromRelease(_GradingStep):
    """Replace the submission by the released notebook with the student's answers (see ``course_tools.grading.rebuild``)."""

    def preprocess(self, nb, resources):
        coursedir, assignment, student, notebook = _paths(self, resources)
        submitted = coursedir.format_path(coursedir.submitted_directory, ".", ".")
        unsafe = unsafe_entries(submitted, student, assignment)
        if unsafe:  # nbgrader removes the graded copy of a submission that fails here
            raise ValueError(f"refused to grade {student}/{assignment}: " + "; ".join(unsafe))
        release = released_notebook(coursedir, assignment, notebook)
        sources = trusted_sources(resources["nbgrader"]["db_url"], coursedir.course_id, assignment, notebook)
        with self.outside_gradebook_lock():  # assembling and scanning the notebook opens no gradebook
            return self._rebuild(nb, resources, release, sources, assignment, student)

    def _rebuild(self, nb, resources, release, sources, assignment: str, student: str):
        graded, notes = assemble(release, nb, sources)
        findings = scan_notebook(graded, release=release)
        review = [summarize(findings)] if findings else []
        marked = [cell_grade_id(c) for c in graded.cells if is_answer(c) and any(
            marker in c.source for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "END SOLUTION"))]
        if marked:  # answers carrying the instructor's markers were copied from source/, not written
            review.append(f"the instructor's solution markers in answer cell(s) {', '.join(marked)}")
        graded.metadata["course_grading"] = {"notes": notes, "review": "; ".join(review)}
        for note in notes:
            self.log.warning("%s/%s: %s", student, assignment, note)
        return graded, resources


class JudgedExecute(_GradingStep):
    """Run the rebuilt notebook: the student's cells in a sandbox, the tests in this process."""

    sandbox = Bool(True, help="Run student code in a bubblewrap sandbox. False runs it UNISOLATED "
                              "with the grader's permissions: only for code you trust.").tag(config=True)
    cell_timeout = Float(20.0, help="Seconds a cell (or a test cell's calls into student code) may take.").tag(config=True)
    notebook_timeout = Float(300.0, help="Seconds a whole notebook may take.").tag(config=True)
    report_to = Callable(None, allow_none=True,
                         help="Called as report_to(assignment, student, notebook, grading) with what grading "
                              "found (tests passed, notes, review); the graded notebook carries it too.").tag(config=True)

    def preprocess(self, nb, resources):
        coursedir, assignment, student, notebook = _paths(self, resources)
        names = answer_names(released_notebook(coursedir, assignment, notebook))
        judge = Judge(sandboxed=self.sandbox, cell_timeout=self.cell_timeout, notebook_timeout=self.notebook_timeout)
        with self.outside_gradebook_lock():  # the slow part, student code in the sandbox
            report = judge.run(nb, names)
        grading = nb.metadata.setdefault("course_grading", {"notes": [], "review": ""})
        grading["notes"] = list(grading.get("notes", [])) + report.notes
        # a per-notebook output budget, images validated (course_tools.grading.output_budget); test cells are never cut
        budget = apply_output_budget(nb, is_test)
        if budget:
            grading["notes"] += budget
            grading["review"] = "; ".join(filter(None, [grading.get("review", ""), "output budget: " + "; ".join(budget)]))
        grading["sandboxed"] = bool(self.sandbox)
        grading["passed"] = sum(v.passed for v in report.verdicts)
        grading["tests"] = len(report.verdicts)
        if self.report_to is not None:
            self.report_to(assignment, student, notebook, dict(grading))
        for note in report.notes:
            self.log.warning("%s/%s: %s", student, assignment, note)
        return nb, resources
