"""The *Going further* study cells of a notebook: code cells that hand a study to ``nextword.opt_in_study``.

A study cell ends with a top-level call ``opt_in_study(study, "<what it measures>", seconds=N)``; the second
argument is the text the cell prints (``Study: <measures>`` when it runs, ``Study, not run yet ...`` when it
only offers its button), so a test can find each study's output in an executed notebook or a rendered page.
"""

from __future__ import annotations

import ast


def study_measures(source: str) -> list[str]:
    """The ``measures`` text of each top-level ``opt_in_study(...)`` call in a code cell's source, in order."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found = []
    for node in tree.body:
        call = node.value if isinstance(node, ast.Expr) else None
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "opt_in_study":
            measures = call.args[1] if len(call.args) > 1 else next(k.value for k in call.keywords if k.arg == "measures")
            found.append(ast.literal_eval(measures))
    return found


def study_cells(nb) -> list[tuple[int, str]]:
    """(index, measures) of every study cell of a notebook, in order."""
    return [(index, measures) for index, cell in enumerate(nb.cells) if cell.cell_type == "code"
            for measures in study_measures(cell.source)]
