"""Family 4: the notebook's structure: nbgrader metadata, flags, ids, extra, deleted or moved cells, symlinks.

Grading rebuilds every submission as the released notebook with only the student's answer cells
(matched by grade_id), so none of these should change a score; each should be reported.
"""

from __future__ import annotations

import copy
import os
import shutil

import nbformat

from course_tools.demo.sample_class import GUARD_EDIT
from course_tools.notebooks.cells import cell_grade_id, is_test, nbgrader_metadata
from . import answer_cells, folder, notebook, notebook_path, write_notebook

ONE_LINER = "get_ipython().events.register('pre_run_cell', lambda info: get_ipython().displayhook('ok'))\n"


def _meta(cell) -> dict:
    """The cell's own nbgrader metadata, to change in place (the attacks write it; they read cells through ``cells``)."""
    return nbgrader_metadata(cell)


def _tests(nb) -> list:
    return [c for c in nb.cells if is_test(c)]


def _guard(nb):
    return next(c for c in nb.cells if cell_grade_id(c) == "grading_guard")


@notebook(4)
def strip_guard_metadata(nb, ctx):
    """The grading guard loses its nbgrader metadata and becomes no-op check_* functions (never restored before)."""
    guard = _guard(nb)
    guard.metadata.pop("nbgrader")
    guard.source = GUARD_EDIT


@notebook(4)
def flip_flags(nb, ctx):
    """Test cells become solution cells worth 100 points with `pass`; the guard becomes a solution cell too."""
    for cell in _tests(nb):
        _meta(cell).update(solution=True, grade=True, locked=False, points=100)
        cell.source = "pass"
    _meta(_guard(nb)).update(solution=True, locked=False)
    _guard(nb).source = GUARD_EDIT


@notebook(4)
def duplicate_test_ids(nb, ctx):
    """Before every test cell, a copy with the same grade_id whose source is `pass` (and 100 points)."""
    cells = []
    for cell in nb.cells:
        if cell in _tests(nb):
            twin = copy.deepcopy(cell)
            twin.source = "pass"
            _meta(twin)["points"] = 100
            cells.append(twin)
        cells.append(cell)
    nb.cells = cells


@notebook(4)
def extra_cells_redefine_guard(nb, ctx):
    """Extra cells before every test (plain, and flagged as new solution cells) re-define check_* as no-ops."""
    cells = []
    for index, cell in enumerate(nb.cells):
        if cell in _tests(nb):
            cells.append(nbformat.v4.new_code_cell(GUARD_EDIT + ONE_LINER))
            extra = nbformat.v4.new_code_cell(GUARD_EDIT)
            extra.metadata["nbgrader"] = {"grade_id": f"extra_{index}", "solution": True, "grade": False,
                                          "locked": False, "schema_version": 3}
            cells.append(extra)
        cells.append(cell)
    nb.cells = cells


@notebook(4)
def delete_tests_and_guard(nb, ctx):
    """Every test cell, the grading guard and the provided helpers are deleted."""
    nb.cells = [c for c in nb.cells if c not in _tests(nb) and cell_grade_id(c) not in
                ("grading_guard", "provided_helpers")]


@notebook(4)
def answer_moved_to_plain_cells(nb, ctx):
    """The attack lives outside the answer cells: in the header cell, a demo cell and a new markdown-turned-code cell."""
    first = answer_cells(nb)[0]
    index = nb.cells.index(first)
    nb.cells[1].source = GUARD_EDIT + ONE_LINER  # the NAME/COLLABORATORS header cell
    nb.cells.insert(index + 1, nbformat.v4.new_code_cell(GUARD_EDIT + ONE_LINER))
    demo = next(c for c in nb.cells[index + 1:] if c.cell_type == "code" and not nbgrader_metadata(c))
    demo.source = ONE_LINER + demo.source


@notebook(4)
def answer_cell_takes_a_test_id(nb, ctx):
    """Swap grade_ids: the first answer cell claims the hidden test's id and the hidden test cell claims the answer's."""
    first = answer_cells(nb)[0]
    hidden = next(c for c in _tests(nb) if "_hidden" in cell_grade_id(c))  # the first hidden cell
    answer_id, test_id = cell_grade_id(first), cell_grade_id(hidden)
    first.source, hidden.source = "pass", GUARD_EDIT + ONE_LINER
    _meta(first)["grade_id"], _meta(hidden)["grade_id"] = test_id, answer_id
    _meta(hidden).update(solution=True, grade=False, locked=False)
    _meta(first).update(solution=False, grade=True, points=100)


@notebook(4)
def malformed_metadata(nb, ctx):
    """nbgrader metadata of the wrong JSON types: a string, a list, a numeric grade_id, a dict as points."""
    tests = _tests(nb)
    tests[0].metadata["nbgrader"] = "grade me"
    tests[1].metadata["nbgrader"] = ["grade", True]
    _meta(tests[2])["grade_id"] = 12345
    _meta(tests[3])["points"] = {"$gt": 0}
    _meta(tests[4])["grade_id"] = {"id": "x"}
    _meta(tests[5]).update(grade="yes", solution=None, locked=[], points="100")


@notebook(4)
def cell_types_changed(nb, ctx):
    """Test cells become markdown or raw cells; the guard becomes a raw cell; the first answer becomes markdown."""
    tests = _tests(nb)
    for index, cell in enumerate(tests):
        cell.cell_type = "markdown" if index % 2 else "raw"
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
    guard = _guard(nb)
    guard.cell_type = "raw"
    guard.pop("outputs", None)
    guard.pop("execution_count", None)
    first = answer_cells(nb)[0]
    first.cell_type = "markdown"
    first.source = ONE_LINER
    first.pop("outputs", None)
    first.pop("execution_count", None)


@folder(4, refused=True)
def symlink_notebook_to_source(target, release_nb, ctx):
    """The submitted notebook is a relative symlink to ../../../source/<a>/<a>.ipynb (the reference solutions)."""
    target.mkdir(parents=True, exist_ok=True)
    os.symlink(f"../../../source/{ctx.assignment}/{ctx.assignment}.ipynb", notebook_path(target, ctx.assignment))


@folder(4, refused=True)
def symlinked_secret_files(target, release_nb, ctx):
    """Next to a released notebook, extra files that are symlinks to the source notebook, gradebook.db and the config."""
    write_notebook(release_nb, target, ctx)
    links = {
        "notes.txt": f"../../../source/{ctx.assignment}/{ctx.assignment}.ipynb",
        "solutions.txt": str(ctx.course / "source" / ctx.assignment / f"{ctx.assignment}.ipynb"),
        "repo_solutions.txt": str(ctx.main / "source" / ctx.assignment / f"{ctx.assignment}.ipynb"),
        "grades.bin": "../../../gradebook.db",
        "config.txt": "../../../nbgrader_config.py",
        "classmate.txt": f"../../{ctx.victims[0]}/{ctx.assignment}/{ctx.assignment}.ipynb",
    }
    for name, link in links.items():
        os.symlink(link, target / name)


@folder(4)
def extra_files_in_the_folder(target, release_nb, ctx):
    """Extra files next to the notebook: a second notebook, a sitecustomize.py and a fake nbgrader_config.py."""
    write_notebook(release_nb, target, ctx)
    extra = copy.deepcopy(release_nb)
    answer_cells(extra)[0].source += "\n" + ONE_LINER
    nbformat.write(extra, str(target / "another.ipynb"))
    for name in ("sitecustomize.py", "nbgrader_config.py", "conftest.py"):
        (target / name).write_text(f"open('/tmp/{ctx.marker}-{name}', 'w').write('ran')\n", encoding="utf-8")
    (target / "sub").mkdir()
    shutil.copy(target / "nbgrader_config.py", target / "sub" / "nbgrader_config.py")
