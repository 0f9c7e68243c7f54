"""A course without its demonstrations, for the tests that grade a class to check the grading itself.

A course notebook's plain code cells (no nbgrader role) demonstrate: they print, draw figures and run the
lesson's studies on the student's functions. Grading runs them too (nbgrader keeps their outputs for the
feedback), and for 01 they are about half of the CPU time a submission costs. Tests about the grading
machinery (the attack class, scale-out, the instructor's command, the exchange, the pipeline's serial
regrade) argue from the graded cells, the sandbox, the judge and nbgrader, not from the demonstrations, so
their course can go without them:
:func:`empty_demo_cells` empties each plain cell whose names no later code cell uses, and keeps every
cell in its place (ids, order, metadata), so an attack that edits a demonstration still finds one.
:func:`drop_unused_imports` then removes the imports of plain and locked cells that nothing reads any more
(01's setup cell imports Matplotlib and ipywidgets only for its demonstrations), so a sandbox grading
this course never loads them: the runner loads Matplotlib only when the notebook imports it.

The graded outcome does not change (each kind of the sample class scores the same on 01 with and without
them, and the pipeline's serial regrade of 03 records the real course's grades); the course's own tests,
the pipeline, the hub and ``make demo`` grade the real notebooks.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat

from course_tools.demo.sample_class import names_used
from course_tools.notebooks.cells import cell_role

EMPTIED = "# A demonstration, emptied for a test of the grading itself (tests/support/demo_cells.py).\n"


def imported_names(node: ast.Import | ast.ImportFrom) -> list[str]:
    """The names an import statement binds (``import os.path`` binds ``os``)."""
    return [(alias.asname or alias.name).split(".")[0] for alias in node.names]


def bound_names(source: str) -> set[str] | None:
    """Every name a cell binds at its top level (assignments, imports, definitions, loop and ``with`` targets),
    or None when it does not parse (then it cannot be shown to be unused)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    names: set[str] = set()

    def visit(node) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            return  # what its body binds is its own
        if isinstance(node, ast.Lambda):
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update(imported_names(node))
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return names


def empty_demo_cells(nb) -> int:
    """Empty, in place, each plain code cell that binds no name a later code cell reads; returns how many."""
    later_reads: set[str] = set()
    emptied = 0
    for cell in reversed(nb.cells):
        if cell.cell_type != "code":
            continue
        if cell_role(cell) == "plain":
            bound = bound_names(cell.source)
            if bound is not None and not (bound & later_reads):
                cell.source = EMPTIED
                cell.outputs, cell.execution_count = [], None
                emptied += 1
                continue
        later_reads |= names_used(cell.source)
    return emptied


def _unused_import_lines(source: str, reads: set[str]) -> set[int]:
    """Line numbers (1-based) of the top-level import statements of ``source`` that bind only names in no
    way read by ``reads`` or by the rest of the cell; an import that also binds a read name is kept whole."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    reads = reads | names_used(source)
    lines: set[int] = set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)) and not reads.intersection(imported_names(node)):
            lines.update(range(node.lineno, node.end_lineno + 1))
    return lines


def drop_unused_imports(nb) -> list[str]:
    """Remove, in place, the imports of plain and locked cells that no code cell reads (with the
    demonstrations gone, Matplotlib and ipywidgets often are: a sandbox then never loads them); returns
    the removed lines. Answer and test cells are never edited."""
    later_reads: set[str] = set()
    removed: list[str] = []
    for cell in reversed(nb.cells):
        if cell.cell_type != "code":
            continue
        if cell_role(cell) in ("plain", "locked"):
            drop = _unused_import_lines(cell.source, later_reads)
            if drop:
                lines = cell.source.splitlines(keepends=True)
                removed += [lines[n - 1].rstrip() for n in sorted(drop)]
                cell.source = "".join(line for n, line in enumerate(lines, 1) if n not in drop)
        later_reads |= names_used(cell.source)
    return removed


def without_demos(path: Path) -> None:
    """Empty the demonstrations of the source notebook at ``path`` in place (``sample_class.make_course``'s
    ``edit_source``, so the release is generated from it)."""
    nb = nbformat.read(str(path), as_version=4)
    if not empty_demo_cells(nb):
        raise ValueError(f"{path.name} has no demonstration to empty")
    drop_unused_imports(nb)
    nbformat.write(nb, str(path))
