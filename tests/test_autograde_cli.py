"""The instructor's command, as an instructor runs it: a fresh gradebook, refusals and failures with their causes.

``python -m course_tools.autograde`` runs in a subprocess on a small course folder (assignment
01_testing without its demonstrations, ``support.demo_cells``; a perfect and a blank student), so what is
checked is what the instructor sees: the exit status and the printed lines.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from course_tools.demo import sample_class
from course_tools.grading.gradebook import read_grades
from course_tools.grading.nbgrader_apps import ensure_venv_on_path
from course_tools.grading.sandbox import sandbox_status
from course_tools.notebooks.cells import is_answer

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "01_testing"


@pytest.fixture(scope="module")
def registered(tmp_path_factory, built_course):
    """A course folder whose gradebook knows the assignment, with submissions: what every run after the first sees
    (registering costs about 4 s of CPU time per run, so only the test of a fresh clone pays it)."""
    ensure_venv_on_path()
    built = tmp_path_factory.mktemp("cli") / "built"
    built_course(built, [ASSIGNMENT], demos=False)
    sample_class.write_class(built, ROOT, [ASSIGNMENT], students=("perfect", "blank"), progress=None)
    assert (built / "gradebook.db").exists()
    return built


@pytest.fixture(scope="module")
def course(registered):
    """A course folder as a fresh clone has it: source/, release/, config and submissions, but no gradebook."""
    built = registered  # copied without its gradebook
    fresh = built.parent / "fresh"
    fresh.mkdir()
    for name in ("source", "release", "submitted"):
        shutil.copytree(built / name, fresh / name)
    for name in ("course.toml", "nbgrader_config.py"):
        shutil.copy(built / name, fresh / name)
    assert not (fresh / "gradebook.db").exists()
    return fresh


def autograde(root: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "course_tools.autograde", "--root", str(root), "-j", "1", *args],
                          capture_output=True, text=True, timeout=600, env={**os.environ, **(env or {})})


def copy_of(course: Path, tmp_path: Path) -> Path:
    target = tmp_path / "course"
    shutil.copytree(course, target)
    return target


@pytest.mark.skipif(not sandbox_status()[0], reason=f"NO SANDBOX HERE: {sandbox_status()[1]}")
def test_a_fresh_clone_registers_its_assignments_and_grades(course, tmp_path):
    root = copy_of(course, tmp_path)
    done = autograde(root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "registering 01_testing in the gradebook" in done.stdout
    assert "student code runs sandboxed" in done.stdout
    grades = read_grades(root)
    perfect, blank = grades[(ASSIGNMENT, "perfect")], grades[(ASSIGNMENT, "blank")]
    auto_max = sample_class.read_course(ROOT, [ASSIGNMENT])[ASSIGNMENT].auto_max_score
    assert sum(c["auto_score"] or 0 for c in perfect["cells"].values() if "max_score" in c) == auto_max
    assert sum(c["auto_score"] or 0 for c in blank["cells"].values() if "max_score" in c) == 0
    released = {p.relative_to(course): p.read_bytes() for p in (course / "release").rglob("*") if p.is_file()}
    assert {p.relative_to(root): p.read_bytes() for p in (root / "release").rglob("*") if p.is_file()} == released, \
        "registering the assignments changed release/"


@pytest.mark.skipif(not sandbox_status()[0], reason=f"NO SANDBOX HERE: {sandbox_status()[1]}")
def test_a_course_folder_without_a_manifest_grades_from_its_working_directory(registered, tmp_path):
    """An instructor's own nbgrader folder (config, release, submissions, no course.toml) run from inside it."""
    root = copy_of(registered, tmp_path)
    (root / "course.toml").unlink()
    done = subprocess.run([sys.executable, "-m", "course_tools.autograde", "-j", "1", "--student", "perfect"], cwd=root,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    auto_max = sample_class.read_course(ROOT, [ASSIGNMENT])[ASSIGNMENT].auto_max_score
    perfect = read_grades(root)[(ASSIGNMENT, "perfect")]
    assert sum(c["auto_score"] or 0 for c in perfect["cells"].values() if "max_score" in c) == auto_max


def test_without_a_sandbox_grading_is_refused_loudly(registered, tmp_path):
    root = copy_of(registered, tmp_path)
    done = autograde(root, env={"COURSE_BWRAP": "/nonexistent/bwrap"})
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Grading refused" in done.stderr and "bubblewrap" in done.stderr and "--UNSAFE-no-sandbox" in done.stderr
    assert not list(root.glob("autograded/*/*/*.ipynb")), "a refused run graded something"


def test_the_unsafe_opt_out_says_so_and_grades(registered, tmp_path):
    root = copy_of(registered, tmp_path)
    done = autograde(root, "--UNSAFE-no-sandbox", "--student", "perfect", env={"COURSE_BWRAP": "/nonexistent/bwrap"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "UNISOLATED" in done.stdout
    assert (ASSIGNMENT, "perfect") in read_grades(root)


@pytest.mark.skipif(not sandbox_status()[0], reason=f"NO SANDBOX HERE: {sandbox_status()[1]}")
def test_a_submission_that_cannot_be_graded_exits_non_zero_with_its_cause(registered, tmp_path):
    root = copy_of(registered, tmp_path)
    broken = root / "submitted" / "blank" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    broken.write_text("{ this is not a notebook", encoding="utf-8")
    done = autograde(root)
    assert done.returncode == 1, done.stdout + done.stderr
    line = next(l for l in done.stdout.splitlines() if l.startswith("NOT GRADED: blank"))
    assert "Please see the" not in line and ("JSON" in line or "Notebook" in line or "Error" in line), line
    assert (ASSIGNMENT, "perfect") in read_grades(root), "the rest of the class is still graded"


# ---------------------------------------------------------------- an instructor's own, ordinary nbgrader config

def ordinary_config(course_id: str, extra: str = "") -> str:
    """What an instructor writes for nbgrader by hand: no word of the course's trusted pipeline."""
    return f"# an instructor's nbgrader config\nc = get_config()\nc.CourseDirectory.course_id = {course_id!r}\n{extra}"


def with_snoop(root: Path) -> Path:
    """Add student ``snoop``: the perfect answers, plus a first answer cell that reads the instructor's source
    notebook and writes a file into the course folder and the gradebook, as student code with the
    grader's permissions could."""
    import nbformat

    perfect = root / "submitted" / "perfect" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    nb = nbformat.read(perfect, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code" and is_answer(c))
    first.source += textwrap.dedent(f"""

        try:
            print("SOURCE BYTES", len(open({str(root / 'source' / ASSIGNMENT / (ASSIGNMENT + '.ipynb'))!r}).read()))
        except OSError as exc:
            print("no source:", type(exc).__name__)
        for target in ({str(root / 'PWNED')!r}, {str(root / 'gradebook.db')!r}):
            try:
                with open(target, "a") as handle:
                    handle.write("pwned")
            except OSError as exc:
                print("no write:", type(exc).__name__)
        """)
    target = root / "submitted" / "snoop" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    target.parent.mkdir(parents=True)
    nbformat.write(nb, target)
    return target


@pytest.mark.skipif(not sandbox_status()[0], reason=f"NO SANDBOX HERE: {sandbox_status()[1]}")
def test_an_ordinary_nbgrader_config_still_grades_in_the_judge(registered, tmp_path):
    """issue 17.1: a three-line config gets the trusted pipeline anyway: rebuild, sandbox, judge, review scan."""
    from course_tools.course import load

    root = copy_of(registered, tmp_path)
    (root / "nbgrader_config.py").write_text(ordinary_config(load(ROOT).id), encoding="utf-8")
    with_snoop(root)
    done = autograde(root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "student code runs sandboxed" in done.stdout
    assert not (root / "PWNED").exists(), "student code wrote into the course folder: it ran outside the sandbox"
    import nbformat
    graded = nbformat.read(root / "autograded" / "snoop" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    assert graded.metadata["course_grading"]["sandboxed"] is True, "not graded by the judge"
    outputs = "".join(o.get("text", "") for c in graded.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "SOURCE BYTES" not in outputs and "no source:" in outputs, "the instructor's source was readable"
    grades = read_grades(root)
    auto_max = sample_class.read_course(ROOT, [ASSIGNMENT])[ASSIGNMENT].auto_max_score
    for student, expected in (("perfect", auto_max), ("blank", 0), ("snoop", auto_max)):
        got = sum(c["auto_score"] or 0 for c in grades[(ASSIGNMENT, student)]["cells"].values() if "max_score" in c)
        assert got == expected, f"{student}: {got} points, expected {expected}"
    review = done.stdout.split("review list:", 1)[1]
    flagged = [line.split()[0] for line in review.splitlines()[1:] if line.startswith("  ")]
    assert flagged == ["snoop"], done.stdout


@pytest.mark.parametrize("extra, named", [
    ("c.Autograde.autograde_preprocessors = ['nbgrader.preprocessors.Execute', "
     "'nbgrader.preprocessors.SaveAutoGrades']\n", "nbgrader.preprocessors.Execute"),
    ("c.Autograde.sanitize_preprocessors = ['nbgrader.preprocessors.ClearOutput', "
     "'nbconvert.preprocessors.ExecutePreprocessor']\n", "ExecutePreprocessor"),
    ("c.JudgedExecute.sandbox = False\n", "JudgedExecute.sandbox = False"),
])
def test_a_config_that_would_run_student_code_outside_the_judge_is_refused(registered, tmp_path, extra, named):
    from course_tools.course import load

    root = copy_of(registered, tmp_path)
    (root / "nbgrader_config.py").write_text(ordinary_config(load(ROOT).id, extra), encoding="utf-8")
    with_snoop(root)
    done = autograde(root, "--student", "snoop", "--student", "perfect")
    assert done.returncode == 1, done.stdout + done.stderr
    lines = [l for l in done.stdout.splitlines() if l.startswith("NOT GRADED:")]
    assert len(lines) == 2 and all("refused" in l and named in l for l in lines), done.stdout
    assert not (root / "PWNED").exists(), "student code ran"
    assert not list(root.glob("autograded/*/*/*.ipynb")), "a refused run graded something"


def test_the_trusted_pipeline_check_reads_every_way_a_config_can_say_it():
    """Unit check of course_tools.grading.judged_autograde.untrusted_settings on configs as nbgrader loads them."""
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    from course_tools.grading.judged_autograde import untrusted_settings

    def loaded(text: str, tmp: Path) -> Config:
        (tmp / "nbgrader_config.py").write_text("c = get_config()\n" + text, encoding="utf-8")
        return PyFileConfigLoader("nbgrader_config.py", path=str(tmp)).load_config()

    import tempfile
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        assert untrusted_settings(loaded("c.CourseDirectory.course_id = 'x'\n", tmp)) == []
        course = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
        assert untrusted_settings(course) == [], "the course's own config must pass"
        appended = untrusted_settings(loaded("c.Autograde.autograde_preprocessors.append('nbgrader.preprocessors.Execute')\n", tmp))
        assert appended and "Execute" in appended[0]
        assert untrusted_settings(loaded("c.NotebookExporter.preprocessors = ['x.Run']\n", tmp))
        assert untrusted_settings(loaded("c.ExecutePreprocessor.enabled = True\n", tmp))
        unsandboxed = loaded("c.JudgedExecute.sandbox = False\n", tmp)
        assert untrusted_settings(unsandboxed) and untrusted_settings(unsandboxed, allow_unsandboxed=True) == []
