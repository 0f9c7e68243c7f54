"""Fixtures shared by several test modules, and the tiers the suite is run in.

Every test belongs to one tier (a pytest marker, registered in pyproject.toml), assigned here by its
module's name (``TIER_OF``), so a test file needs no marker of its own:

    make check                      # the unit tier, under a minute: pytest -m unit
    make test                       # every tier
    .venv/bin/python -m pytest -m "not e2e"      # any selection of tiers

A module missing from ``TIER_OF`` is ``unit``, unless its tests use a course built or graded for the
session (``SESSION_COURSES``), which makes them ``grading``. A marker written on a test wins.
"""

import fcntl
import os
import shutil
from pathlib import Path

import nbformat
import pytest

from course_tools.notebooks.cells import is_answer

ROOT = Path(__file__).resolve().parents[1]

TIERS = ("unit", "notebooks", "grading", "e2e")
# The slower tiers by test module (or "module::test" for one test of a module); every other test is unit.
TIER_OF = {
    # notebooks: the course notebooks run in kernels (references, mutants, quoted numbers, authoring)
    "test_02_lessons": "notebooks",
    "test_03_lessons": "notebooks",
    "test_assignments": "notebooks",
    "test_course_notebooks": "notebooks",
    "test_notebook_metadata": "notebooks",
    "test_prose_numbers": "notebooks",
    "test_authoring_round_trip": "notebooks",
    # grading: a class graded by the real pipeline (rebuild, sandbox, judge, nbgrader)
    "test_attacks": "grading",
    "test_autograde_cli": "grading",
    "test_pipeline_grading": "grading",
    "test_peer_review": "grading",
    "test_scale_out": "grading",
    "test_grading_under_load": "grading",
    # the whole of 01 judged in the sandbox, a looping answer waiting out its cell's budget
    "test_judge::test_an_infinite_loop_in_normalize_context_keeps_the_points_of_what_never_calls_it": "grading",
    "test_feedback_safety::test_generate_end_to_end_sanitizes_caps_and_hides": "grading",
    # ... and the inputs and outputs of grading at the size of a class (too slow for the unit tier)
    "test_feedback_safety::test_many_small_prints_are_merged_and_capped": "grading",
    "test_sample_class::test_a_large_class_is_written_with_each_kind_s_submission": "grading",
    "test_review::test_sample_class_flags_exactly_the_cheats": "grading",
    # e2e: the course as its users meet it (a browser, OS accounts on the exchange, the students' bundle)
    "test_browser": "e2e",
    "test_exchange": "e2e",
    "test_hub": "e2e",
    "test_student_bundle": "e2e",
    # the README's nbgrader command as an instructor types it: a fresh nbgrader process creating a gradebook
    "test_hub_tools::test_nbgrader_finds_alembic_without_the_venv_on_path": "e2e",
}
# Session fixtures that build or grade a course: a test that uses one is at least ``grading``.
SESSION_COURSES = ("small_graded_class",)


def module_of(item) -> str:
    """The name of a collected test's module (``test_attacks``)."""
    return Path(str(item.fspath)).stem


def tier_of(item) -> str:
    """The tier of a collected test: its own marker, else ``TIER_OF``, else what its fixtures make it."""
    own = [mark.name for mark in item.iter_markers() if mark.name in TIERS]
    if own:
        return own[0]
    module = module_of(item)
    name = getattr(item, "originalname", None) or item.name
    tier = TIER_OF.get(f"{module}::{name}") or TIER_OF.get(module)
    if tier:
        return tier
    return "grading" if set(SESSION_COURSES) & set(getattr(item, "fixturenames", ())) else "unit"


# The slowest modules, slowest first (wall time of each module in a `make test` run): they start first, so with
# several pytest workers (`make test` runs `pytest -n 3 --dist loadfile --no-loadscope-reorder`) the short ones fill
# in around them instead of one long module running alone at the end. Only the order changes; every other module
# keeps its place after these.
SLOWEST_FIRST = (
    "test_attacks", "test_pipeline_grading", "test_hub", "test_autograde_cli", "test_exchange", "test_scale_out",
    "test_assignments", "test_student_bundle", "test_feedback_safety", "test_browser", "test_03_lessons",
    "test_prose_numbers", "test_judge", "test_course_notebooks", "test_peer_review", "test_grading_under_load",
    "test_authoring_round_trip",
)


def pytest_collection_modifyitems(config, items):
    for item in items:
        item.add_marker(getattr(pytest.mark, tier_of(item)))
    rank = {module: index for index, module in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(module_of(item), len(rank)))  # stable: a module keeps its order


def built_once_per_run(tmp_path_factory, name: str, build) -> Path:
    """The folder ``build(folder)`` makes, made once for the whole test run: with ``pytest -n``, the first worker
    to ask builds it while the others wait, and every worker reads the same one (copy it before changing it)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # xdist: <run>/popen-gwN
    folder, built = shared / f"run-{name}", shared / f"run-{name}.built"
    with open(shared / f"run-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not built.exists():
            if folder.exists():
                shutil.rmtree(folder)  # a build that failed half-way, in another worker
            build(folder)
            built.touch()
    return folder


@pytest.fixture(scope="session")
def built_course(tmp_path_factory):
    """``built_course(dest, assignments)``: a fresh course folder at ``dest``, as ``sample_class.make_course``
    leaves it (course.toml, nbgrader_config.py, source/, release/ and the gradebook generated there).

    ``nbgrader generate_assignment`` runs once per set of assignments in the test run (``built_once_per_run``);
    every call copies that folder. Returns the assignments, as ``make_course`` does.

    ``cell_timeout`` / ``notebook_timeout``: the judge's time limits for this copy (seconds), written at the end
    of its ``nbgrader_config.py``. A test that waits out a limit sets a small one: what it proves about a
    limit does not depend on its size, as long as every honest submission it grades fits with a wide margin
    (01 and 03 need under 1 s of the sandbox's CPU time per cell, and under 6 s per notebook).

    ``demos=False``: the notebooks' demonstrations are emptied (``support.demo_cells``), for a test of the grading
    itself: an 01 submission then costs about half the CPU time, and grades the same.
    """
    from course_tools.demo import sample_class
    from support.demo_cells import without_demos

    built: dict[tuple[tuple[str, ...], bool], Path] = {}

    def build(dest: Path, assignments: list[str], cell_timeout: float | None = None,
              notebook_timeout: float | None = None, demos: bool = True) -> list[str]:
        key = tuple(assignments)
        if (key, demos) not in built:
            built[(key, demos)] = built_once_per_run(
                tmp_path_factory, "course-" + "-".join(key) + ("" if demos else "-without-demos"),
                lambda folder: sample_class.make_course(folder, ROOT, list(key), progress=None,
                                                        edit_source=None if demos else without_demos))
        dest = Path(dest)
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(built[(key, demos)], dest, symlinks=True)
        limits = {"cell_timeout": cell_timeout, "notebook_timeout": notebook_timeout}
        lines = [f"c.JudgedExecute.{name} = {float(value)!r}" for name, value in limits.items() if value is not None]
        if lines:  # a later assignment in the file wins over the course's own
            with open(dest / "nbgrader_config.py", "a", encoding="utf-8") as handle:
                handle.write("\n# This test's time limits (tests/conftest.py, built_course)\n" + "\n".join(lines) + "\n")
        return list(key)

    return build


SMALL_CLASS = ("perfect", "partial", "blank")
# A real-looking identity for the partial student: the gradebook, the NAME line and a written answer carry it,
# so the peer-review packets must remove it.
IDENTITY = {"student": "partial", "first_name": "Ada", "last_name": "Lovelace", "email": "ada.lovelace@example.org"}


@pytest.fixture(scope="session")
def small_graded_class(tmp_path_factory, built_course):
    """A tiny course (01_testing, three students of the sample class) autograded with the real pipeline.

    Graded once per test run; each pytest worker gets its own copy of it. Shared by the browser tests (formgrader)
    and the peer-review tests; nothing may change its submissions.
    """
    from course_tools.grading.nbgrader_apps import ensure_venv_on_path

    ensure_venv_on_path()
    graded = built_once_per_run(tmp_path_factory, "small-graded-class",
                                lambda folder: _grade_small_class(folder, built_course))
    course = tmp_path_factory.mktemp("small_class") / "course"
    shutil.copytree(graded, course, symlinks=True)
    return course


def _grade_small_class(course: Path, built_course) -> None:
    from nbgrader.api import Gradebook

    from course_tools.demo import sample_class
    from course_tools.grading.batch import grade_class
    from course_tools.grading.sandbox import sandbox_status

    built_course(course, ["01_testing"])
    sample_class.write_class(course, ROOT, ["01_testing"], students=SMALL_CLASS, progress=None)
    name = f"{IDENTITY['first_name']} {IDENTITY['last_name']}"
    path = course / "submitted" / IDENTITY["student"] / "01_testing" / "01_testing.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith("NAME = "):
            cell.source = f'NAME = "{name}"\nCOLLABORATORS = "perfect"'
        if cell.cell_type == "markdown" and is_answer(cell):
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
