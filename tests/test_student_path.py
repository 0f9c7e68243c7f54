"""Each notebook states the time of its core path, part by part, and its Going further sections hold no points.

The convention (STYLE_GUIDE.md, "Parts, time and Going further"): parts are level-2 headings; a heading that
starts with "Going further" opens a section outside the core path until the next level-2 heading that does
not. ``benchmarks/student_path.py`` measures the parts; the introduction's ``| part | minutes |`` table is the
product. Notebooks that have no time table yet are skipped with the reason.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import nbformat
import pytest

from course_tools import course
from course_tools.notebooks.cells import cell_grade_id, is_graded

ROOT = Path(__file__).resolve().parents[1]
COURSE = course.load(ROOT)
_spec = importlib.util.spec_from_file_location("student_path", ROOT / "benchmarks" / "student_path.py")
student_path = importlib.util.module_from_spec(_spec)
sys.modules["student_path"] = student_path          # dataclasses look their module up while it loads
_spec.loader.exec_module(student_path)


def _path(name: str) -> Path:
    return ROOT / "source" / name / f"{name}.ipynb"


def _intro(name: str) -> str:
    nb = nbformat.read(str(_path(name)), as_version=4)
    return nb.cells[0].source


def time_table(intro: str) -> list[tuple[str, int]]:
    lines = [line.strip() for line in intro.splitlines()]
    if "| part | minutes |" not in lines:
        return []
    rows = []
    for line in lines[lines.index("| part | minutes |") + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows.append((cells[0], int(cells[1])))
    return rows


@pytest.mark.parametrize("name", COURSE.names)
def test_the_introduction_states_a_lab_sized_core_path(name):
    intro = _intro(name)
    rows = time_table(intro)
    if not rows:
        pytest.skip(f"{name}: no `| part | minutes |` table in the introduction yet")
    total = re.search(r"\*\*Time: about (\d+) minutes\*\*", intro)
    assert total, f"{name}: the introduction should say **Time: about N minutes**"
    assert sum(m for _, m in rows) == int(total.group(1)), f"{name}: the parts' minutes {rows} do not add up to {total.group(1)}"
    assert 100 <= int(total.group(1)) <= 120, f"{name}: the core path should fit a 100-120 minute lab, not {total.group(1)}"
    core_parts = [p for p in student_path.parts_of(_path(name)) if p.core and p.title != "introduction"
                  and not p.title.lower().startswith("summary")]
    assert len(rows) == len(core_parts), (f"{name}: the time table has {len(rows)} rows but the notebook has "
                                          f"{len(core_parts)} core parts: {[p.title for p in core_parts]}")


@pytest.mark.parametrize("name", COURSE.names)
def test_going_further_sections_hold_no_points(name):
    for part in student_path.parts_of(_path(name)):
        if not part.core:
            assert not part.graded and not part.written, f"{name}: Going further section {part.title!r} holds graded cells"
    nb = nbformat.read(str(_path(name)), as_version=4)
    in_going_further = False
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                match = re.match(r"^(#{1,6})\s+(.*)$", line)
                if match and (len(match.group(1)) == 2 or match.group(2).lower().startswith("going further")):
                    in_going_further = match.group(2).lower().startswith("going further") or (
                        in_going_further and len(match.group(1)) > 2)
        assert not (in_going_further and is_graded(cell)), \
            f"{name}: graded cell {cell_grade_id(cell)} in a Going further section"


def test_the_convention_is_read_as_stated():
    """A level-3 Going further heading ends at the next level-2 heading; a level-2 one is a whole part."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Title\n\nintro words here"),
                nbformat.v4.new_markdown_cell("## 1. Core part\n\none two three"),
                nbformat.v4.new_markdown_cell("### Going further: extra\n\nfour five"),
                nbformat.v4.new_code_cell("print(1)\nprint(2)"),
                nbformat.v4.new_markdown_cell("## 2. Next core part\n\nsix"),
                nbformat.v4.new_markdown_cell("## Going further: the whole part\n\nseven"),
                nbformat.v4.new_markdown_cell("### a subsection\n\neight")]
    import tempfile
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.ipynb"
        nbformat.write(nb, str(path))
        parts = student_path.parts_of(path)
    assert [(p.title, p.core) for p in parts] == [
        ("introduction", True), ("1. Core part", True), ("Going further: extra", False), ("2. Next core part", True),
        ("Going further: the whole part", False)]
    assert parts[2].code_lines == 2


@pytest.mark.parametrize("name", COURSE.names)
def test_the_measured_core_path_fits_the_lab_and_matches_the_stated_time(name):
    """benchmarks/student_path.py's estimate of the core path is 100-120 minutes, and each part's stated minutes
    are within 3 of its estimate (the table is the product; the estimate keeps it honest when prose grows)."""
    rows = time_table(_intro(name))
    if not rows:
        pytest.skip(f"{name}: no `| part | minutes |` table in the introduction yet")
    parts = [p for p in student_path.parts_of(_path(name)) if p.core]
    measured = sum(p.minutes for p in parts)
    assert 100 <= round(measured) <= 120, f"{name}: the core path is estimated at {measured:.1f} minutes, not 100-120"
    stated = sum(m for _, m in rows)
    assert abs(stated - measured) <= 5, f"{name}: the table states {stated} minutes, the estimate is {measured:.1f}"
