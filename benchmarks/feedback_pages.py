"""Figures: CPU time to render one feedback page, nbconvert's HTMLExporter against the course's exporter.

    .venv/bin/python benchmarks/feedback_pages.py [--assignments 01_testing ...] [--repeat 3]

Each assignment's source notebook stands in for a graded one (every test cell passed, with one line
of the judge's output; hidden tests are then hidden by the course's preprocessors). It is rendered
with the course's feedback template and preprocessors (GetGrades aside: it needs a gradebook) by
``nbconvert.exporters.HTMLExporter`` and by ``course_tools.publish.feedback.FeedbackHTMLExporter`` (the same
page without nbconvert's BeautifulSoup pass; ``tests/test_feedback_safety.py`` checks that they
agree), after one warm-up page. Prints the CPU seconds per page (this process's CPU time, so
a busy host changes them little), the page sizes and the load average. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import nbformat
import nbgrader
from nbconvert.exporters import HTMLExporter
from traitlets.config import Config

from course_tools.notebooks.cells import cell_points, is_graded, is_test, nbgrader_metadata
from course_tools.publish import feedback
from course_tools.course import course_root

BOOTSTRAP = (Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "static" / "node_modules"
             / "bootstrap" / "dist" / "css")


def graded_stand_in(path: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        if is_graded(cell):
            nbgrader_metadata(cell)["score"] = cell_points(cell)  # full marks, as GetGrades would write them
        if is_test(cell):
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="checked\n")]
    return nb


def render(exporter_class, nb) -> str:
    c = Config()
    c.Exporter.default_preprocessors = []
    c.HTMLExporter.template_name = "feedback"
    c.HTMLExporter.extra_template_basedirs = list(feedback.FEEDBACK_TEMPLATE_BASEDIRS)
    c.HTMLExporter.extra_template_paths = [str(BOOTSTRAP)]
    exporter = exporter_class(config=c)
    for name in feedback.feedback_preprocessors():
        if not name.endswith("GetGrades"):
            exporter.register_preprocessor(name)
    resources = {"nbgrader": {"notebook": "stand-in", "score": 1.0, "max_score": 1.0, "late_penalty": 0}}
    return exporter.from_notebook_node(nb, resources=resources)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assignments", nargs="*", default=None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    root = course_root()
    assignments = args.assignments or sorted(p.name for p in (root / "source").iterdir()
                                             if (p / f"{p.name}.ipynb").is_file())
    print(f"load average {os.getloadavg()[0]:.1f}; CPU seconds per page (best of {args.repeat}), page size")
    for assignment in assignments:
        nb = graded_stand_in(root / "source" / assignment / f"{assignment}.ipynb")
        row = [f"  {assignment:<24}"]
        for exporter_class in (HTMLExporter, feedback.FeedbackHTMLExporter):
            render(exporter_class, nb.copy())  # warm-up: imports, lexers, the template's first compile
            best, size = float("inf"), 0
            for _ in range(args.repeat):
                started = time.process_time()
                size = len(render(exporter_class, nb.copy()).encode())
                best = min(best, time.process_time() - started)
            row.append(f"{exporter_class.__name__} {best:5.2f} s {size / 1000:5.0f} KB")
        print("   ".join(row))


if __name__ == "__main__":
    main()
