"""Fixtures shared by several test modules."""

from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
SMALL_CLASS = ("perfect", "partial", "blank")
# A real-looking identity for the partial student: the gradebook, the NAME line and a written answer carry it,
# so the peer-review packets must remove it.
IDENTITY = {"student": "partial", "first_name": "Ada", "last_name": "Lovelace", "email": "ada.lovelace@example.org"}


@pytest.fixture(scope="session")
def small_graded_class(tmp_path_factory):
    """A tiny course (01_testing, three students of the sample class) autograded with the real pipeline.

    Shared by the browser tests (formgrader) and the peer-review tests; nothing may change its submissions.
    """
    from nbgrader.api import Gradebook

    from course_tools import sample_class
    from course_tools.batch import grade_class
    from course_tools.nbgrader_apps import ensure_venv_on_path
    from course_tools.sandbox import sandbox_status

    ensure_venv_on_path()
    course = tmp_path_factory.mktemp("small_class") / "course"
    sample_class.make_course(course, ROOT, ["01_testing"], progress=None)
    sample_class.write_class(course, ROOT, ["01_testing"], students=SMALL_CLASS, progress=None)
    name = f"{IDENTITY['first_name']} {IDENTITY['last_name']}"
    path = course / "submitted" / IDENTITY["student"] / "01_testing" / "01_testing.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith("NAME = "):
            cell.source = f'NAME = "{name}"\nCOLLABORATORS = "perfect"'
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "markdown" and meta.get("solution"):
            cell.source = f"My answer ({name}, {IDENTITY['email']}, id {IDENTITY['student']}): " \
                          "test edge cases per modality."
    nbformat.write(nb, str(path))
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in SMALL_CLASS:
            gradebook.update_or_create_student(student, first_name=student.title(), last_name="Sample")
        gradebook.update_or_create_student(IDENTITY["student"], first_name=IDENTITY["first_name"],
                                           last_name=IDENTITY["last_name"], email=IDENTITY["email"])
    sandboxed, _ = sandbox_status()
    results = grade_class(course, ["01_testing"], workers=2, progress=None, unsafe_no_sandbox=not sandboxed)
    assert all(r.ok for r in results), [r.line() for r in results]
    return course
