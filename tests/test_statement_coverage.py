"""Every hidden test checks something the statement says: a student who follows the text cannot lose a coin toss.

Two levels:

- **Reviewed** (``tests/statement_coverage/<assignment>.toml``, one per assignment): for each hidden test cell, the
  phrases of the statement that pin what it checks. Every hidden cell of the notebook must be listed (and only
  those), and every phrase must stand in the statement of the cell's graded name.
- **Generic** (every assignment without a reviewed file): the behaviour a hidden cell is named after
  (``test_<name>_hidden_<behaviour>``) should be mentioned in the statement of ``<name>``: at least one of its
  words, singular or plural. Its words come from grade_ids, so it has false alarms: it lists the cells to
  review and skips (``pytest -rs`` shows the list) until the assignment has its reviewed mapping.

The statement of a graded name is what a student reads before its tests: the markdown from the ``## `` heading
of the part that holds its exercise heading up to its visible test cell, with the released text of its solution
cell (signature and docstring). Text is compared lower-cased with whitespace collapsed.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import nbformat
import pytest

from course_tools import course
from course_tools.notebooks.cells import cell_grade_id, is_answer

ROOT = Path(__file__).resolve().parents[1]
COURSE = course.load(ROOT)
REVIEWED = ROOT / "tests" / "statement_coverage"
EXERCISE = re.compile(r"^#{2,4}\s+Exercise\s+\d+\s+\([^)]*\):\s+`(?P<name>[A-Za-z_]\w*)")
# Words of a behaviour name too generic to show that the statement talks about it.
GENERIC_WORDS = {"the", "and", "of", "a", "an", "its", "values", "value", "basics", "other", "more", "edge", "cases",
                 "case", "hidden", "test", "tests"}


def normalized(text: str) -> str:
    return " ".join(text.lower().split())


def _without(text: str, begin: str, end: str) -> str:
    return re.sub(rf"{re.escape(begin)}.*?{re.escape(end)}", " ", text, flags=re.S)


def statements(nb, graded: list[str]) -> dict[str, str]:
    """Statement text of each graded name (see the module docstring)."""
    cells = nb.cells
    texts = {}
    for name in graded:
        heading = next((i for i, c in enumerate(cells) if c.cell_type == "markdown"
                        and any((m := EXERCISE.match(line)) and m["name"] == name for line in c.source.splitlines())), None)
        visible = next((i for i, c in enumerate(cells)
                        if cell_grade_id(c) == f"test_{name}_visible"), None)
        if heading is None or visible is None:
            continue
        start = heading
        while start > 0 and not any(line.startswith("## ") for line in cells[start].source.splitlines()):
            start -= 1
        parts = []
        for cell in cells[start:visible]:
            if cell.cell_type == "markdown":
                parts.append(_without(cell.source, "### BEGIN SOLUTION", "### END SOLUTION"))
            elif is_answer(cell) and cell_grade_id(cell) == name:
                parts.append(_without(cell.source, "### BEGIN SOLUTION", "### END SOLUTION"))
        texts[name] = normalized("\n".join(parts))
    return texts


def hidden_cells(nb, graded: list[str]) -> dict[str, str]:
    """grade_id -> graded name of every hidden test cell."""
    found = {}
    for cell in nb.cells:
        gid = cell_grade_id(cell) or ""
        if cell.cell_type == "code" and "### BEGIN HIDDEN TESTS" in cell.source:
            owner = max((n for n in graded if gid.startswith(f"test_{n}_")), key=len, default=None)
            found[gid] = owner
    return found


def _notebook(name: str):
    return nbformat.read(str(ROOT / "source" / name / f"{name}.ipynb"), as_version=4)


REVIEWED_NAMES = [a for a in COURSE.names if (REVIEWED / f"{a}.toml").exists()]
GENERIC_NAMES = [a for a in COURSE.names if a not in REVIEWED_NAMES]


@pytest.mark.parametrize("name", REVIEWED_NAMES)
def test_reviewed_mapping_lists_every_hidden_cell(name):
    mapping = tomllib.loads((REVIEWED / f"{name}.toml").read_text(encoding="utf-8"))
    cells = hidden_cells(_notebook(name), list(COURSE.assignment(name).graded))
    unlisted, stale = sorted(set(cells) - set(mapping)), sorted(set(mapping) - set(cells))
    assert not unlisted, f"{name}: hidden cells with no reviewed statement phrases in {name}.toml: {unlisted}"
    assert not stale, f"{name}: {name}.toml lists cells the notebook no longer has: {stale}"


@pytest.mark.parametrize("name", REVIEWED_NAMES)
def test_every_hidden_check_is_pinned_by_the_statement(name):
    nb = _notebook(name)
    graded = list(COURSE.assignment(name).graded)
    texts = statements(nb, graded)
    mapping = tomllib.loads((REVIEWED / f"{name}.toml").read_text(encoding="utf-8"))
    missing = []
    for gid, owner in hidden_cells(nb, graded).items():
        entry = mapping.get(gid, {})
        assert entry.get("statement"), f"{gid}: no statement phrases"
        for phrase in entry["statement"]:
            if normalized(phrase) not in texts.get(owner, ""):
                missing.append(f"{gid}: {phrase!r}")
    assert not missing, ("hidden checks whose pinning phrase is not in the statement (state the case, or stop "
                         "testing it):\n  " + "\n  ".join(missing))


def _mentioned(word: str, text: str) -> bool:
    stems = {word, word.rstrip("s"), word[:-2] if word.endswith("es") else word, word + "s"}
    return any(re.search(rf"\b{re.escape(stem)}", text) for stem in stems if len(stem) >= 3)


def unmentioned_behaviours(name: str) -> list[str]:
    """The generic rule: hidden cells whose behaviour words (from the grade_id) the statement never mentions."""
    nb = _notebook(name)
    graded = list(COURSE.assignment(name).graded)
    texts = statements(nb, graded)
    unmentioned = []
    for gid, owner in hidden_cells(nb, graded).items():
        if owner is None or owner not in texts or "_hidden_" not in gid:
            continue
        words = [w for w in gid.split("_hidden_", 1)[1].split("_") if w not in GENERIC_WORDS and len(w) >= 2]
        if words and not any(_mentioned(w, texts[owner]) for w in words):
            unmentioned.append(f"{gid} ({', '.join(words)})")
    return unmentioned


@pytest.mark.parametrize("name", GENERIC_NAMES)
def test_every_hidden_cell_names_a_behaviour_the_statement_mentions(name):
    """The generic rule, for assignments without a reviewed mapping yet.

    Its words come from grade_ids, so it has false alarms ("formula" where the statement gives the formula
    itself): it lists the cells to review, and skips, until the assignment has its reviewed mapping file.
    """
    unmentioned = unmentioned_behaviours(name)
    if unmentioned:
        pytest.skip(f"{name}: no reviewed tests/statement_coverage/{name}.toml yet; review these hidden cells "
                    f"(their behaviour's words are not in the statement): {'; '.join(unmentioned)}")


def test_the_checks_can_fail():
    """A phrase the statement does not hold is reported, and a behaviour the statement never names is too."""
    nb = _notebook(COURSE.names[0])
    graded = list(COURSE.assignment(COURSE.names[0]).graded)
    texts = statements(nb, graded)
    assert texts and all(texts.values()), "statements must be found for every graded name"
    assert normalized("a phrase no statement holds: zebra") not in texts[graded[0]]
    assert not _mentioned("zebra", texts[graded[0]])
    assert _mentioned(graded[0].split("_")[0], texts[graded[0]])
    mapping = {"test_x_hidden_y": {"statement": ["zebra"]}}
    assert all(normalized(p) not in texts[graded[0]] for p in mapping["test_x_hidden_y"]["statement"])
