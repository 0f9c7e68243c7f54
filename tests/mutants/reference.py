"""The reference solutions of an assignment, so a corpus writes each wrong implementation as an edit of one.

An edit names the text it replaces, and fails loudly when the reference no longer contains it, so a
corpus cannot silently go stale when a solution changes.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from course_tools.notebooks.cells import cell_grade_id, cell_role, strip_solution_markers

ROOT = Path(__file__).resolve().parents[2]


class Reference:
    """The solution cells of ``source/<assignment>/<assignment>.ipynb``, by grade_id, without their markers."""

    def __init__(self, assignment: str):
        nb = nbformat.read(str(ROOT / "source" / assignment / f"{assignment}.ipynb"), as_version=4)
        self.sources: dict[str, str] = {}
        for cell in nb.cells:
            if cell_role(cell) == "answer":
                self.sources[cell_grade_id(cell)] = strip_solution_markers(cell.source) + "\n"

    def __getitem__(self, name: str) -> str:
        return self.sources[name]

    def edit(self, name: str, *edits: tuple[str, str]) -> str:
        """The reference solution of ``name`` with each ``(old, new)`` edit applied in turn (``old`` must occur)."""
        source = self.sources[name]
        for old, new in edits:
            if old not in source:
                raise ValueError(f"mutant of {name}: the reference no longer contains {old!r}")
            source = source.replace(old, new)
        return source
