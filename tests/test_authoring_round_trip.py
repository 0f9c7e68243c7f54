"""An instructor's round trip: edit either side of a notebook pair, sync, generate the student version.

The notebook side is edited with nbformat, as JupyterLab saves it; the text side as an editor would.
Both edits must reach the other side of the pair and then the generated student version.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from course_tools.notebooks import authoring, generate
from course_tools.notebooks.cells import cell_grade_id, is_graded

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "02_monitoring"


def _course_copy(tmp_path: Path) -> Path:
    course = tmp_path / "course"
    for name in ("source", "authoring"):
        shutil.copytree(ROOT / name, course / name)
    for name in ("course.toml", "nbgrader_config.py", "jupytext.toml"):
        shutil.copy2(ROOT / name, course / name)
    return course


def _sync(course: Path, *extra: str) -> str:
    result = subprocess.run([sys.executable, "-m", "course_tools.notebooks.authoring", "sync", "--root", str(course), *extra],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _check(course: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "course_tools.notebooks.authoring", "check", "--root", str(course)],
                          capture_output=True, text=True, timeout=120)


def _cell(nb, grade_id: str):
    return next(c for c in nb.cells if cell_grade_id(c) == grade_id)


def test_edits_on_either_side_reach_the_other_and_the_student_version(tmp_path):
    course = _course_copy(tmp_path)
    notebook = course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    text = course / "authoring" / ASSIGNMENT / f"{ASSIGNMENT}.py"
    assert _check(course).returncode == 0

    # 1. JupyterLab side: change a visible test cell's source, as saving it in the editor would.
    nb = nbformat.read(notebook, as_version=4)
    test_cell = next(c for c in nb.cells if is_graded(c) and c.cell_type == "code")
    grade_id = cell_grade_id(test_cell)
    test_cell.source = "# edited in JupyterLab: check the interval's width too\n" + test_cell.source
    nbformat.write(nb, notebook)
    later = text.stat().st_mtime + 5
    os.utime(notebook, (later, later))
    check = _check(course)
    assert check.returncode == 1 and grade_id in check.stdout, check.stdout
    assert f"{ASSIGNMENT}: wrote" in _sync(course)
    assert "# edited in JupyterLab: check the interval's width too" in text.read_text(encoding="utf-8")
    assert _check(course).returncode == 0

    # 2. Text side: change a markdown cell in an editor, then sync from the text explicitly.
    edited = text.read_text(encoding="utf-8").replace(
        "# %% [markdown]\n", "# %% [markdown]\n# *Edited in a text editor.*\n#\n", 1)
    text.write_text(edited, encoding="utf-8")
    assert _check(course).returncode == 1
    _sync(course, "--from", "text")
    first_markdown = next(c for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "markdown")
    assert first_markdown.source.startswith("*Edited in a text editor.*")
    assert _check(course).returncode == 0
    assert "in sync" in _sync(course)  # a second sync writes nothing

    # 3. Both edits reach the generated student version; the hidden part of the test cell does not.
    generate.generate([ASSIGNMENT], course / "release", course)
    student = nbformat.read(course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    assert _cell(student, grade_id).source.startswith("# edited in JupyterLab")
    assert "### BEGIN HIDDEN TESTS" not in _cell(student, grade_id).source
    assert any(c.source.startswith("*Edited in a text editor.*") for c in student.cells if c.cell_type == "markdown")


def test_jupytext_itself_keeps_the_pair_in_sync(tmp_path):
    """JupyterLab's jupytext reads the same jupytext.toml: its sync leaves a pair our check accepts."""
    course = _course_copy(tmp_path)
    notebook = course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    nb = nbformat.read(notebook, as_version=4)
    nb.cells[0].source += "\n\nA sentence added in JupyterLab."
    nbformat.write(nb, notebook)
    later = (course / "authoring" / ASSIGNMENT / f"{ASSIGNMENT}.py").stat().st_mtime + 5
    os.utime(notebook, (later, later))
    result = subprocess.run([str(Path(sys.executable).parent / "jupytext"), "--sync", str(notebook)],
                            cwd=course, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "A sentence added in JupyterLab." in (course / "authoring" / ASSIGNMENT / f"{ASSIGNMENT}.py").read_text()
    check = _check(course)
    assert check.returncode == 0, check.stdout


def test_a_notebook_without_a_twin_gets_one_and_a_changed_guard_is_reported(tmp_path):
    course = _course_copy(tmp_path)
    text = course / "authoring" / ASSIGNMENT / f"{ASSIGNMENT}.py"
    text.unlink()
    assert "is missing" in _check(course).stdout
    _sync(course)
    assert text.exists() and _check(course).returncode == 0
    edited = text.read_text(encoding="utf-8").replace("def check_close(", "def check_close_(", 1)
    assert edited != text.read_text(encoding="utf-8")
    text.write_text(edited, encoding="utf-8")
    synced = subprocess.run([sys.executable, "-m", "course_tools.notebooks.authoring", "sync", "--root", str(course),
                             "--from", "text"], capture_output=True, text=True, timeout=120)
    assert synced.returncode == 1 and "grading_guard" in synced.stdout, synced.stdout
    check = _check(course)
    assert check.returncode == 1 and "grading_guard" in check.stdout, check.stdout
