"""Rebuild a submission as the released notebook with only the student's answers put in.

A submission is a whole notebook the student could have edited anywhere. What
is graded is the *released* notebook (every locked cell, test, helper and demo
exactly as the course shipped it, with the tests' full source from nbgrader's
gradebook) into which the student's answer cells are copied, matched by
``grade_id``. Metadata edits, extra or moved cells, duplicated ids, deleted
tests and flipped flags therefore change nothing; each is reported in the notes.
"""

from __future__ import annotations

import copy
import os
import stat
from pathlib import Path

import nbformat

from ..notebooks.cells import (
    cell_grade_id,
    cell_points,
    cell_source,
    cell_type,
    has_malformed_grade_id,
    has_malformed_nbgrader_metadata,
    is_answer,
    nbgrader_flags,
)


def unsafe_entries(submitted: str | Path, student: str, assignment: str) -> list[str]:
    """What makes a submission folder unsafe to grade: links and special files, by path and reason.

    nbgrader reads a submitted notebook through a symbolic link, and copies every other file of the
    folder (following links) into the graded copy and the feedback: a link to ``source/`` would hand in
    the reference solutions, a link to the gradebook would publish it. Honest submissions, written by
    ``nbgrader collect`` or copied by hand, are plain files and folders, each with one name.
    """
    problems = []
    base = Path(submitted)
    for path in (base / student, base / student / assignment):
        if path.is_symlink():
            problems.append(f"{path.relative_to(base)} is a symbolic link")
    if problems:
        return problems
    for folder, dirs, files in os.walk(base / student / assignment, followlinks=False):
        for name in dirs + files:
            path = Path(folder) / name
            info = path.lstat()
            where = path.relative_to(base)
            if stat.S_ISLNK(info.st_mode):
                problems.append(f"{where} is a symbolic link (to {os.readlink(path)})")
            elif not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
                problems.append(f"{where} is not a regular file")
            elif stat.S_ISREG(info.st_mode) and info.st_nlink > 1:
                problems.append(f"{where} is a hard link ({info.st_nlink} names for one file)")
    return problems


def assemble(release_nb, submission_nb, trusted_sources: dict[str, str] | None = None):
    """(graded notebook, notes): ``release_nb`` with the student's answers from ``submission_nb``.

    ``trusted_sources`` maps grade ids of test and locked cells to their full instructor source (hidden
    tests included); cells not in it keep the released source.
    """
    trusted_sources = trusted_sources or {}
    notes: list[str] = []
    release_ids = [cell_grade_id(c) for c in release_nb.cells if cell_grade_id(c)]
    released_by_id = {cell_grade_id(c): c for c in release_nb.cells if cell_grade_id(c)}

    answers: dict[str, str] = {}
    seen: dict[str, int] = {}
    edited: list[str] = []
    cells = submission_nb.get("cells") if isinstance(submission_nb, dict) else None
    cells = [cell for cell in cells if isinstance(cell, dict)] if isinstance(cells, list) else []
    if any(has_malformed_grade_id(c) for c in cells):
        notes.append("cell ids of the wrong type (ignored)")
    if any(has_malformed_nbgrader_metadata(c) for c in cells):
        notes.append("nbgrader metadata that is not a dict (ignored)")
    for cell in cells:
        grade_id = cell_grade_id(cell)
        if not grade_id:
            continue
        seen[grade_id] = seen.get(grade_id, 0) + 1
        if seen[grade_id] > 1:
            continue
        released = released_by_id.get(grade_id)
        if released is None:
            notes.append(f"unknown cell id {grade_id!r} (ignored)")
            continue
        if cell_type(cell) != released.cell_type:
            notes.append(f"cell {grade_id!r} changed type to {cell.get('cell_type')!r} (ignored)")
            continue
        if is_answer(released):
            answers[grade_id] = cell_source(cell)
            if not is_answer(cell):
                notes.append(f"answer cell {grade_id!r} lost its solution flag (still graded as an answer)")
        else:
            source = cell_source(cell)
            if source != released.source:
                edited.append(grade_id)
            elif nbgrader_flags(cell) != nbgrader_flags(released) or cell_points(cell) != cell_points(released):
                notes.append(f"changed the nbgrader flags of cell {grade_id!r} (ignored)")
    if edited:
        shown = ", ".join(edited[:4]) + (f" and {len(edited) - 4} more" if len(edited) > 4 else "")
        notes.append(f"edited {len(edited)} locked cell(s), the released versions were used: {shown}")
    duplicated = sorted(k for k, n in seen.items() if n > 1)
    if duplicated:
        notes.append(f"duplicated cell id(s) {', '.join(duplicated)} (only the first of each was used)")
    deleted = [gid for gid in release_ids if gid not in seen]
    missing_answers = [gid for gid in deleted if is_answer(released_by_id[gid])]
    deleted_other = [gid for gid in deleted if not is_answer(released_by_id[gid])]
    if missing_answers:
        notes.append(f"answer cell(s) missing from the submission: {', '.join(missing_answers)} (graded as the released stub)")
    if deleted_other:
        notes.append(f"{len(deleted_other)} deleted locked or test cell(s) put back")
    released_sources = {c.source for c in release_nb.cells if not cell_grade_id(c)}
    extra = [c for c in cells if not cell_grade_id(c) and cell_source(c) not in released_sources]
    if extra:
        notes.append(f"{len(extra)} cell(s) added or edited outside the answer cells (not run: only answer cells are graded)")

    graded = copy.deepcopy(release_nb)
    for cell in graded.cells:
        grade_id = cell_grade_id(cell)
        if grade_id in answers:
            cell.source = answers[grade_id]
        elif grade_id in trusted_sources and not is_answer(cell):
            cell.source = trusted_sources[grade_id]
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.validate(graded)
    return graded, notes
