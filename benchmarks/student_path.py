"""Figures: how long a student's core path through each notebook is, part by part (a guide, not a grade).

    .venv/bin/python benchmarks/student_path.py [assignment ...]
    .venv/bin/python benchmarks/student_path.py --root ../before --root . [assignment ...]

Reads each instructor notebook ``<root>/source/<a>/<a>.ipynb`` (solutions included, never executed) and
prints, per notebook and per part of its core path:

- ``words``: words of markdown prose a student reads (a written answer's model answer and rubric, between
  ``### BEGIN SOLUTION`` and ``### END SOLUTION``, are left out: students never see them);
- ``code``: lines of released code a student reads (locked helpers, demos, visible tests, and the visible
  part of hidden test cells; the grading guard, blank lines and hidden regions are left out);
- ``graded``: graded names whose solution cell sits in the part, ``written``: written answers in the part;
- ``solution``: lines of the reference solution the student writes (inside ``### BEGIN/END SOLUTION`` of
  code cells, blank lines and comments left out);
- ``min``: the estimate from the rates below.

**Parts and the core path (the heading convention, also in STYLE_GUIDE.md).** A part starts at each
level-2 markdown heading (``## ...``); what comes before the first one is the introduction. A markdown
heading of any level whose text starts with ``Going further`` starts a *Going further* section: ungraded,
outside the core path, until the next level-2 heading that does not itself start with ``Going further``.
Going further sections are counted apart and never in the core estimate.

**Rates (stated, so the estimate can be argued with).** Technical prose at 150 words per minute; code read
at 40 lines per minute (skimming locked helpers, demos and visible tests); the reference solution's lines
written at 3 lines per minute (a capable student typing, looking up and running the demo: the reference is
compact, a student's version is longer), plus 4 minutes per graded name (reading its visible tests, fixing
what they find); 8 minutes per written answer. The lab this course aims at is 100–120 minutes per notebook (issue 19).
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course_tools.course import available_assignments
from course_tools.notebooks.cells import cell_grade_id, is_answer, is_written_answer

ROOT = Path(__file__).resolve().parents[1]

WORDS_PER_MINUTE = 150
CODE_LINES_READ_PER_MINUTE = 40
SOLUTION_LINES_PER_MINUTE = 3.0
MINUTES_PER_GRADED_NAME = 4
MINUTES_PER_WRITTEN_ANSWER = 8
GOING_FURTHER = "going further"

_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")


@dataclass
class Part:
    title: str
    core: bool = True
    words: int = 0
    code_lines: int = 0
    graded: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    solution_lines: int = 0

    @property
    def minutes(self) -> float:
        return (self.words / WORDS_PER_MINUTE + self.code_lines / CODE_LINES_READ_PER_MINUTE
                + self.solution_lines / SOLUTION_LINES_PER_MINUTE + MINUTES_PER_GRADED_NAME * len(self.graded)
                + MINUTES_PER_WRITTEN_ANSWER * len(self.written))


def _outside(lines: list[str], begin: str, end: str) -> tuple[list[str], list[str]]:
    """Split lines into (outside, inside) the regions between marker lines ``begin`` and ``end``."""
    outside, inside, within = [], [], False
    for line in lines:
        marker = line.strip().lstrip("#").strip()
        if marker == begin.lstrip("#").strip():
            within = True
        elif marker == end.lstrip("#").strip():
            within = False
        elif within:
            inside.append(line)
        else:
            outside.append(line)
    return outside, inside


def _code_lines(lines: list[str]) -> int:
    return sum(1 for line in lines if line.strip() and not line.strip().startswith("#"))


def parts_of(path: Path) -> list[Part]:
    """The notebook's parts in order, each with its figures (see the module docstring for the convention)."""
    nb = nbformat.read(str(path), as_version=4)
    parts = [Part("introduction")]
    in_going_further = False
    for cell in nb.cells:
        lines = cell.source.splitlines()
        if cell.cell_type == "markdown":
            shown, _ = _outside(lines, "### BEGIN SOLUTION", "### END SOLUTION")
            for line in shown:                     # one cell may hold several headings: count words line by line
                match = _HEADING.match(line)
                if match:
                    level, text = len(match.group(1)), match.group(2).strip()
                    going_further = text.lower().startswith(GOING_FURTHER)
                    if level == 2 or going_further:
                        in_going_further = going_further or (in_going_further and level > 2)
                        parts.append(Part(text, core=not in_going_further))
                parts[-1].words += len(re.findall(r"[A-Za-z0-9][\w'’-]*", line))
            if is_written_answer(cell):
                parts[-1].written.append(cell_grade_id(cell))
            continue
        part = parts[-1]
        if cell_grade_id(cell) == "grading_guard":
            continue
        if is_answer(cell):
            _, solution = _outside(lines, "### BEGIN SOLUTION", "### END SOLUTION")
            part.solution_lines += _code_lines(solution)
            part.graded.append(cell_grade_id(cell))
            continue
        shown, _ = _outside(lines, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
        part.code_lines += _code_lines(shown)
    return [p for p in parts if p.words or p.code_lines or p.graded or p.written or p.title != "introduction"]


def report(path: Path, label: str) -> tuple[float, float]:
    parts = parts_of(path)
    print(f"\n{label}")
    print(f"  {'part':<58}{'words':>7}{'code':>6}{'graded':>8}{'written':>8}{'solution':>10}{'min':>7}")
    for part in parts:
        title = ("[going further] " if not part.core else "") + part.title
        title = title if len(title) <= 56 else title[:53] + "..."
        print(f"  {title:<58}{part.words:>7}{part.code_lines:>6}{len(part.graded):>8}{len(part.written):>8}"
              f"{part.solution_lines:>10}{part.minutes:>7.0f}")
    core = [p for p in parts if p.core]
    extra = [p for p in parts if not p.core]
    core_minutes = sum(p.minutes for p in core)
    print(f"  {'core path':<58}{sum(p.words for p in core):>7}{sum(p.code_lines for p in core):>6}"
          f"{sum(len(p.graded) for p in core):>8}{sum(len(p.written) for p in core):>8}"
          f"{sum(p.solution_lines for p in core):>10}{core_minutes:>7.0f}")
    extra_minutes = sum(p.minutes for p in extra)
    if extra:
        print(f"  {'going further (not in the core path)':<58}{sum(p.words for p in extra):>7}"
              f"{sum(p.code_lines for p in extra):>6}{sum(len(p.graded) for p in extra):>8}"
              f"{sum(len(p.written) for p in extra):>8}{sum(p.solution_lines for p in extra):>10}{extra_minutes:>7.0f}")
    return core_minutes, extra_minutes


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignments", nargs="*")
    parser.add_argument("--root", action="append", type=Path, help="a course checkout (repeatable; default: this one)")
    args = parser.parse_args(argv)
    roots = [root.resolve() for root in args.root] if args.root else [ROOT]
    print(f"rates: prose {WORDS_PER_MINUTE} words/min, code read {CODE_LINES_READ_PER_MINUTE} lines/min, solution "
          f"{SOLUTION_LINES_PER_MINUTE:g} lines/min + {MINUTES_PER_GRADED_NAME} min per graded name, "
          f"{MINUTES_PER_WRITTEN_ANSWER} min per written answer; target 100-120 min per notebook")
    summary = []
    for assignment in args.assignments or available_assignments(ROOT):
        for root in roots:
            path = root / "source" / assignment / f"{assignment}.ipynb"
            if not path.exists():
                continue
            label = assignment if len(roots) == 1 else f"{assignment} ({root})"
            summary.append((label, *report(path, label)))
    print("\nsummary")
    for label, core, extra in summary:
        print(f"  {label:<58} core path {core:>4.0f} min" + (f", going further {extra:.0f} min more" if extra else ""))


if __name__ == "__main__":
    main(sys.argv[1:])
