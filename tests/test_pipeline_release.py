"""The student versions leak nothing: no solution, hidden test or rubric, through cells, outputs, metadata or files.

Static checks (no kernel). A "secret" line is a line inside a solution,
hidden-test or written-answer region of a source notebook that does not
also appear in the notebook's public part (so scaffold lines such as a
function signature, which every student sees, are not secrets). No secret
line may appear anywhere in any file of ``release/<assignment>/``, and the
helper library that ships to students defines no graded name.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from course_tools.course import available_assignments
from course_tools.notebooks.cells import cell_grade_id, is_answer

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = available_assignments(ROOT)
REGIONS = (("### BEGIN SOLUTION", "### END SOLUTION"), ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"))
MIN_LENGTH = 16  # shorter lines (`return x`, `pass`) are too generic to identify a solution


def split_regions(source: str) -> tuple[list[str], list[str]]:
    """(public lines, secret lines) of one cell."""
    public, secret, inside = [], [], None
    for line in source.splitlines():
        stripped = line.strip()
        if inside is None:
            opened = [end for begin, end in REGIONS if stripped.startswith(begin)]
            if opened:
                inside = opened[0]
            else:
                public.append(stripped)
        elif stripped.startswith(inside):
            inside = None
        else:
            secret.append(stripped)
    return public, secret


def secrets(assignment: str) -> set[str]:
    nb = nbformat.read(str(ROOT / "source" / assignment / f"{assignment}.ipynb"), as_version=4)
    public, secret = set(), set()
    for cell in nb.cells:
        p, s = split_regions(cell.source)
        public.update(p)
        secret.update(s)
    return {line for line in secret - public if len(line) >= MIN_LENGTH and not line.startswith("#")}


def release_lines(assignment: str) -> dict[str, set[str]]:
    """Every stripped line of every file in release/<assignment>/: for notebooks, each cell's source,
    outputs and metadata (decoded from JSON), so a secret is found wherever it hides."""
    found = {}
    for path in sorted((ROOT / "release" / assignment).rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        lines = set(text.splitlines())
        if path.suffix == ".ipynb":
            nb = json.loads(text)
            pieces = [json.dumps(nb.get("metadata", {}), indent=1)]
            for cell in nb["cells"]:
                pieces.append("".join(cell.get("source", "")))
                pieces.append(json.dumps(cell.get("metadata", {}), indent=1))
                for output in cell.get("outputs", []):
                    pieces.append(json.dumps(output, indent=1))
                    pieces.append("".join(output.get("text", "")))
                    for value in output.get("data", {}).values():
                        pieces.append("".join(value) if isinstance(value, list) else str(value))
            for piece in pieces:
                lines.update(piece.splitlines())
        found[str(path.relative_to(ROOT))] = {line.strip() for line in lines}
    return found


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_exists_with_only_the_notebook_and_source_files(assignment):
    folder = ROOT / "release" / assignment
    assert folder.is_dir(), f"release/{assignment} is missing: run `make generate`"
    released = {p.relative_to(folder) for p in folder.rglob("*") if p.is_file()}
    sources = {p.relative_to(ROOT / "source" / assignment) for p in (ROOT / "source" / assignment).rglob("*")
               if p.is_file() and ".ipynb_checkpoints" not in p.parts}
    assert released == sources, f"release/{assignment} files {sorted(map(str, released))} != source files {sorted(map(str, sources))}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_solution_or_hidden_test_line_reaches_the_release(assignment):
    secret = secrets(assignment)
    assert secret, f"found no solution or hidden-test lines in source/{assignment}: is the notebook empty?"
    leaks = []
    for name, lines in release_lines(assignment).items():
        leaks += [f"{name}: {line}" for line in sorted(secret & lines)]
    assert not leaks, "secret lines found in the release:\n" + "\n".join(leaks[:20])


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_has_no_markers_outputs_or_extra_metadata(assignment):
    path = ROOT / "release" / assignment / f"{assignment}.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    problems = []
    for index, cell in enumerate(nb.cells):
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
            if marker in cell.source:
                problems.append(f"cell {index} contains {marker!r}")
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count):
            problems.append(f"cell {index} carries outputs")
        extra = set(cell.metadata) - {"nbgrader", "deletable", "editable", "tags", "trusted"}
        if extra:
            problems.append(f"cell {index} has metadata {sorted(extra)}")
    extra = set(nb.metadata) - {"kernelspec", "language_info"}
    if extra:
        problems.append(f"notebook metadata has {sorted(extra)} (widget state or other outputs?)")
    assert not problems, "\n".join(problems)


def test_helper_library_defines_no_graded_name():
    graded = set()
    for assignment in ASSIGNMENTS:
        nb = nbformat.read(str(ROOT / "source" / assignment / f"{assignment}.ipynb"), as_version=4)
        graded |= {cell_grade_id(c) for c in nb.cells if c.cell_type == "code" and is_answer(c)}
    defined = {}
    for path in sorted((ROOT / "src" / "nextword").rglob("*.py")):
        for name in re.findall(r"^\s*(?:def|class)\s+(\w+)", path.read_text(encoding="utf-8"), re.M):
            defined.setdefault(name, path.name)
    clashes = {name: defined[name] for name in graded if name in defined}
    assert not clashes, f"the student library defines graded names (a solution ships to students): {clashes}"


def test_student_data_is_ignored_by_git():
    import subprocess

    paths = ["submitted/alice/01_testing/01_testing.ipynb", "autograded/alice/01_testing/01_testing.ipynb",
             "feedback/alice/01_testing/01_testing.html", "gradebook.db", ".sample_class/gradebook.db"]
    result = subprocess.run(["git", "check-ignore", *paths], cwd=ROOT, capture_output=True, text=True)
    ignored = set(result.stdout.split())
    assert ignored == set(paths), f"not git-ignored: {sorted(set(paths) - ignored)}"
    tracked = subprocess.run(["git", "ls-files", "submitted", "autograded", "feedback", ".sample_class"],
                             cwd=ROOT, capture_output=True, text=True).stdout.split()
    assert all(Path(p).name == "README.md" for p in tracked), f"student data tracked by git: {tracked}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reader_edition_is_built_from_the_current_source(assignment):
    from course_tools.publish import reader_edition

    page = ROOT / "notebooks" / f"{assignment}.html"
    fix = "run `.venv/bin/python -m course_tools.publish.reader_edition` (or `make demo`) and commit notebooks/"
    assert page.exists(), f"notebooks/{assignment}.html is missing: {fix}"
    stamp = reader_edition.stamped_hash(page)
    assert stamp == reader_edition.source_hash(ROOT / "source" / assignment / f"{assignment}.ipynb"), (
        f"notebooks/{assignment}.html was built from another version of source/{assignment}: {fix}")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reader_edition_shows_every_figure_the_notebook_draws(assignment):
    """Each figure-drawing cell of the source must appear as a PNG on the page (a headless backend drops them)."""
    source = nbformat.read(ROOT / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    drawing_cells = sum(1 for c in source.cells if c.cell_type == "code" and ("plt." in c.source or ".plot(" in c.source))
    page = (ROOT / "notebooks" / f"{assignment}.html").read_text(encoding="utf-8")
    pngs = page.count('src="data:image/png;base64,')
    assert drawing_cells > 0
    assert pngs >= 1, f"notebooks/{assignment}.html shows no figure although {drawing_cells} cells draw: rebuild it"
