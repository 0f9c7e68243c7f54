"""Build nbgrader source notebooks from Python, so notebooks are reviewed as readable diffs.

Each ``authoring/<assignment>.py`` script lists its cells with the functions
below and calls ``write_notebook``; the ``.ipynb`` it writes under
``source/`` is what nbgrader reads. Edit the script, never the notebook, and
re-run ``make notebooks``: a test fails when the two disagree.

Cell kinds (nbgrader metadata, schema 3):

* ``markdown``/``code``: ordinary cells, not graded.
* ``solution(grade_id, src)``: the student writes here. Wrap the answer in
  ``### BEGIN SOLUTION`` / ``### END SOLUTION``; nbgrader replaces it with the
  code stub.
* ``tests(grade_id, points, src)``: locked autograder tests. Put hidden tests
  between ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``.
* ``written(grade_id, points, prompt_answer)``: a markdown answer graded by
  hand. Put the model answer and the grading rubric between
  ``### BEGIN SOLUTION`` / ``### END SOLUTION`` so only instructors see them.
* ``readonly(grade_id, src)``: locked code (provided helpers, the grading guard).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import nbformat

from .grading_guard import GUARD_SOURCE

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def kernel_language_info() -> dict:
    """The ``language_info`` the course's kernel reports (ipykernel's, for this Python).

    JupyterLab copies the kernel's ``language_info`` into the notebook when it opens it; a notebook
    that already carries exactly that is not modified, so opening a source notebook leaves ``source/``
    clean (on a machine with another Python patch version only ``version`` would change).
    """
    try:
        from ipykernel.ipkernel import IPythonKernel
    except ImportError:  # the same keys, as ipykernel 6-7 fills them
        import platform

        return {"codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
                "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
                "pygments_lexer": "ipython3", "version": platform.python_version()}
    return dict(IPythonKernel.language_info)


def _clean(src: str) -> str:
    return textwrap.dedent(src).strip("\n")


def _meta(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def markdown(src: str):
    return nbformat.v4.new_markdown_cell(_clean(src))


def code(src: str):
    return nbformat.v4.new_code_cell(_clean(src))


def solution(grade_id: str, src: str):
    if "### BEGIN SOLUTION" not in src:
        raise ValueError(f"solution cell {grade_id!r} has no ### BEGIN SOLUTION region")
    return nbformat.v4.new_code_cell(_clean(src), metadata=_meta(grade_id, grade=False, solution=True, locked=False))


def tests(grade_id: str, points: float, src: str):
    if points <= 0:
        raise ValueError(f"tests cell {grade_id!r} needs positive points")
    return nbformat.v4.new_code_cell(_clean(src), metadata=_meta(grade_id, grade=True, solution=False,
                                                                  locked=True, points=points))


def written(grade_id: str, points: float, src: str):
    if "### BEGIN SOLUTION" not in src:
        raise ValueError(f"written answer {grade_id!r} needs a ### BEGIN SOLUTION region holding the rubric")
    return nbformat.v4.new_markdown_cell(_clean(src), metadata=_meta(grade_id, grade=True, solution=True,
                                                                      locked=False, points=points))


def readonly(grade_id: str, src: str):
    return nbformat.v4.new_code_cell(_clean(src), metadata=_meta(grade_id, grade=False, solution=False, locked=True))


def grading_guard():
    """The locked cell of trusted comparison helpers; place it before the first solution cell."""
    return readonly("grading_guard", GUARD_SOURCE)


def write_notebook(cells: list, path: str | Path) -> Path:
    """Write ``cells`` as an output-free notebook at ``path`` (parents created); return the path."""
    grade_ids = [c.metadata["nbgrader"]["grade_id"] for c in cells if "nbgrader" in c.metadata]
    duplicated = sorted({g for g in grade_ids if grade_ids.count(g) > 1})
    if duplicated:
        raise ValueError(f"duplicate grade_ids: {duplicated}")
    nb = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": KERNELSPEC,
        "language_info": kernel_language_info(),
    })
    path = Path(path)
    # Ids must stay unique once nbgrader prepends the header, so they carry the notebook's name.
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"{path.stem}-{index:03d}"
    nbformat.validate(nb)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    return path
