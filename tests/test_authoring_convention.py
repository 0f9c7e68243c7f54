"""The house convention for notebooks (STYLE_GUIDE.md), checked mechanically on every source notebook.

Each rule of the style guide is one function below that returns the problems it finds in a notebook,
as sentences an author can act on; ``test_rule`` runs every rule on every assignment of
``course.toml``, so a failure names the notebook *and* the rule. ``test_the_checker_catches`` breaks
a copy of a conforming notebook in one way at a time and requires the matching rule to notice:
a checker that cannot fail would prove nothing.
"""

from __future__ import annotations

import ast
import builtins
import copy
import re
from pathlib import Path

import nbformat
import pytest

from course_tools import course
from course_tools.notebooks.cells import (
    HIDDEN_TESTS_BEGIN,
    HIDDEN_TESTS_END,
    SOLUTION_BEGIN,
    SOLUTION_END,
    cell_grade_id,
    cell_points,
    cell_role,
    is_answer,
    is_graded,
    is_locked,
    is_test,
    is_written_answer,
)

ROOT = Path(__file__).resolve().parents[1]
COURSE = course.load(ROOT)
ASSIGNMENTS = [a.name for a in COURSE.assignments]

# The fixtures every notebook shares, by the call that makes them: one name in every notebook.
FIXTURE_NAMES = {"default_vocabulary": "VOCAB", "pretrained_model": "BASE_MODEL"}
# Lower-case names that may only be parameters or locals, never module-level globals.
RESERVED_LOWER = {"vocab", "model"}
BEGIN_HIDDEN, END_HIDDEN = HIDDEN_TESTS_BEGIN, HIDDEN_TESTS_END
BEGIN_SOLUTION, END_SOLUTION = SOLUTION_BEGIN, SOLUTION_END
EXERCISE = re.compile(r"^### Exercise (?P<n>\d+) \((?P<points>[\d.]+) points?\): `(?P<signature>[^`]+)`\s*$")
WRITTEN = re.compile(r"^### Written answer (?P<n>\d+) \((?P<points>[\d.]+) points?, graded by hand\): (?P<title>\S.*?)\s*$")
ANY_EXERCISE_HEADING = re.compile(r"^#+ .*\b(Exercise|Written answer|Question)\b.*\bpoints?\b", re.IGNORECASE)


# --------------------------------------------------------------------------- reading a notebook

def _is_locked(cell) -> bool:
    return is_locked(cell) and not is_answer(cell) and not is_graded(cell)


def _owner(grade_id: str, graded: dict) -> str | None:
    """The graded name a test cell belongs to: the longest name with ``test_<name>_`` as prefix."""
    owners = [name for name in graded if grade_id.startswith(f"test_{name}_")]
    return max(owners, key=len) if owners else None


def _format_points(points: float) -> str:
    return str(int(points)) if float(points).is_integer() else str(points)


def _parse(source: str, where: str) -> ast.Module:
    try:
        return ast.parse(source)
    except SyntaxError as exc:  # the checker reports it rather than crashing on it
        raise AssertionError(f"{where} does not parse: {exc}") from None


def _module_bindings(tree: ast.Module) -> list[tuple[str, int]]:
    """Names a cell binds in the notebook's namespace, with their line: not inside functions or classes."""
    found: list[tuple[str, int]] = []

    def targets(node):
        if isinstance(node, ast.Name):
            found.append((node.id, node.lineno))
        elif isinstance(node, (ast.Tuple, ast.List)):
            for element in node.elts:
                targets(element)
        elif isinstance(node, ast.Starred):
            targets(node.value)

    def visit(node):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.append((node.name, node.lineno))
            return  # their bodies bind locals; default values and decorators bind nothing here
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                found.append(((alias.asname or alias.name).split(".")[0], node.lineno))
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                targets(target)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets(node.target)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            targets(node.target)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    targets(item.optional_vars)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            found.append((node.name, node.lineno))
        elif isinstance(node, ast.NamedExpr):
            targets(node.target)
        elif isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            # their variables are their own (a walrus inside one still leaks, but we use none)
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    for statement in tree.body:
        visit(statement)
    return found


def _calls(tree: ast.AST, name: str) -> list[ast.Call]:
    return [node for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name]


def _loaded_names(tree: ast.Module) -> set[str]:
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}


def _bound_anywhere(tree: ast.Module) -> set[str]:
    """Every name the cell binds at any depth: globals, parameters, locals, comprehension variables."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


def _split_hidden(source: str) -> tuple[str, str | None]:
    """(visible part, hidden region) of a test cell; the hidden region is None when there is none."""
    if BEGIN_HIDDEN not in source:
        return source, None
    before, rest = source.split(BEGIN_HIDDEN, 1)
    hidden, after = rest.split(END_HIDDEN, 1) if END_HIDDEN in rest else (rest, "")
    return before + after, hidden


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def _headings(nb) -> list[tuple[int, str, re.Match]]:
    """(cell index, kind, match) of every exercise and written-answer heading, in notebook order."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown" or is_written_answer(cell):
            continue
        for line in cell.source.splitlines():
            for kind, pattern in (("exercise", EXERCISE), ("written", WRITTEN)):
                match = pattern.match(line)
                if match:
                    found.append((index, kind, match))
    return found


# --------------------------------------------------------------------------- the rules

def exercise_headings(nb, assignment: course.Assignment) -> list[str]:
    """a) `### Exercise <n> (<p> points): `<signature>``, numbered 1.. in order, one per graded name."""
    problems = []
    exercises = [(index, match) for index, kind, match in _headings(nb) if kind == "exercise"]
    numbers = [int(match["n"]) for _, match in exercises]
    if numbers != list(range(1, len(exercises) + 1)):
        problems.append(f"exercise headings are numbered {numbers}, not 1..{len(exercises)} in notebook order")
    names = []
    for _, match in exercises:
        name = re.match(r"[A-Za-z_]\w*", match["signature"])
        name = name.group(0) if name else match["signature"]
        names.append(name)
        if name not in assignment.graded:
            problems.append(f"heading 'Exercise {match['n']}' is about `{name}`, which course.toml does not grade")
        elif float(match["points"]) != assignment.graded[name]:
            problems.append(f"heading 'Exercise {match['n']}' gives `{name}` {match['points']} points; "
                            f"course.toml gives {_format_points(assignment.graded[name])}")
    if names != list(assignment.graded):
        problems.append(f"exercise headings cover {names}; course.toml grades {list(assignment.graded)} in this order")
    # A heading in another style (an old pattern, a typo) would escape the patterns above: name it.
    matched = {match.group(0) for _, _, match in _headings(nb)}
    for cell in nb.cells:
        if cell.cell_type == "markdown" and not is_written_answer(cell):
            for line in cell.source.splitlines():
                if ANY_EXERCISE_HEADING.match(line) and line not in matched:
                    problems.append(f"heading in another style: {line!r}")
    return problems


def written_answers(nb, assignment: course.Assignment) -> list[str]:
    """a) `### Written answer <n> (<p> points, graded by hand): <title>` with the question; the next cell
    holds only the answer (a placeholder plus the model answer and rubric inside the solution markers)."""
    problems = []
    written = [(index, match) for index, kind, match in _headings(nb) if kind == "written"]
    numbers = [int(match["n"]) for _, match in written]
    if numbers != list(range(1, len(written) + 1)):
        problems.append(f"written-answer headings are numbered {numbers}, not 1..{len(written)}")
    answered = []
    for index, match in written:
        heading_cell = nb.cells[index]
        question = heading_cell.source.split(match.group(0), 1)[1].strip()
        if not question:
            problems.append(f"'Written answer {match['n']}': the question should stand in the heading's cell")
        answer = nb.cells[index + 1] if index + 1 < len(nb.cells) else None
        if answer is None or not is_written_answer(answer):
            problems.append(f"'Written answer {match['n']}' is not followed by its answer cell")
            continue
        grade_id = cell_grade_id(answer)
        answered.append(grade_id)
        if grade_id not in assignment.written:
            problems.append(f"answer cell {grade_id!r} is not a written answer of course.toml")
        else:
            expected = assignment.written[grade_id]
            if float(match["points"]) != expected or cell_points(answer) != expected:
                problems.append(f"written answer {grade_id!r}: heading {match['points']}, cell "
                                f"{_format_points(cell_points(answer))}, course.toml {_format_points(expected)} points")
        source = answer.source.strip()
        if BEGIN_SOLUTION not in source or END_SOLUTION not in source:
            problems.append(f"answer cell {grade_id!r} has no {BEGIN_SOLUTION} / {END_SOLUTION} region")
            continue
        before, rest = source.split(BEGIN_SOLUTION, 1)
        after = rest.split(END_SOLUTION, 1)[1]
        outside = (before + after).strip()
        # Outside the solution region only a one-line placeholder may stand: the question has its own cell.
        if len(outside.splitlines()) > 1 or "?" in outside:
            problems.append(f"answer cell {grade_id!r} holds more than the answer outside the solution region: "
                            f"{outside[:80]!r}")
    cells = [cell_grade_id(c) for c in nb.cells if is_written_answer(c)]
    if sorted(cells) != sorted(assignment.written) or sorted(answered) != sorted(assignment.written):
        problems.append(f"written answers: cells {cells}, headed {answered}; course.toml has {list(assignment.written)}")
    return problems


def intro_points_table(nb, assignment: course.Assignment) -> list[str]:
    """b) The introduction's points table: exactly the graded names and written answers, in order, and the total."""
    intro = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            break
        intro.append(cell.source)
    lines = [line.strip() for line in "\n".join(intro).splitlines()]
    if "| exercise | points |" not in lines:
        return ["the introduction (the markdown before the first code cell) has no `| exercise | points |` table"]
    start = lines.index("| exercise | points |")
    table = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        table.append(line)
    titles = {index: match for index, kind, match in _headings(nb)}
    expected = ["| exercise | points |", "|---|---|"]
    for index, kind, match in _headings(nb):
        if kind == "exercise":
            name = re.match(r"[A-Za-z_]\w*", match["signature"]).group(0)
            expected.append(f"| `{name}` | {_format_points(assignment.graded.get(name, -1))} |")
        else:
            answer = nb.cells[index + 1] if index + 1 < len(nb.cells) else None
            points = assignment.written.get(cell_grade_id(answer) if answer is not None else "", -1)
            expected.append(f"| written answer: {titles[index]['title']} | {_format_points(points)} |")
    expected.append(f"| **total** | **{_format_points(assignment.total)}** |")
    if table != expected:
        return [f"the introduction's points table is\n  " + "\n  ".join(table) +
                "\nbut course.toml and the headings say\n  " + "\n  ".join(expected)]
    return []


def setup_and_helpers_locked(nb, assignment: course.Assignment) -> list[str]:
    """c, d) A locked `setup` cell holds the imports; a locked `provided_helpers` cell holds the helpers the
    tests use; every name a test cell takes from the notebook comes from a locked cell, a graded cell or an
    earlier test cell."""
    problems = []
    by_id = {cell_grade_id(c): c for c in nb.cells if cell_grade_id(c)}
    for required in ("setup", "provided_helpers"):
        cell = by_id.get(required)
        if cell is None or cell.cell_type != "code" or not _is_locked(cell):
            problems.append(f"no locked code cell with grade_id {required!r}")
    # Imports belong to the setup cell (test cells may import under `_` names, for their own use).
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or cell_grade_id(cell) == "setup" or is_test(cell):
            continue
        tree = _parse(cell.source, f"cell {index} ({cell_grade_id(cell) or 'demo'})")
        for statement in tree.body:
            if isinstance(statement, (ast.Import, ast.ImportFrom)):
                problems.append(f"cell {index} ({cell_grade_id(cell) or 'demo'}) imports at line {statement.lineno}: "
                                "imports belong to the locked setup cell")
    # What the tests may rely on: names from locked cells, graded (solution) cells, earlier test cells.
    locked, graded, tested = set(), set(), set()
    helpers = set()
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        tree = _parse(cell.source, f"cell {index}")
        bound = {name for name, _ in _module_bindings(tree)}
        if _is_locked(cell):
            locked |= bound
            if cell_grade_id(cell).startswith("provided_"):
                helpers |= bound
        elif cell_role(cell) == "answer":
            graded |= bound
        elif is_test(cell):
            used = _loaded_names(tree) - _bound_anywhere(tree) - set(dir(builtins))
            unlocked = sorted(used - locked - graded - tested)
            if unlocked:
                problems.append(f"test cell {cell_grade_id(cell)} uses {unlocked}, which no locked cell, graded cell or "
                                "earlier test cell defines (demo cells can be edited or skipped by a student)")
            tested |= bound
    # Functions and classes the tests use are provided helpers, except the grading guard's.
    guard = set()
    if "grading_guard" in by_id:
        guard = {name for name, _ in _module_bindings(_parse(by_id["grading_guard"].source, "grading_guard"))}
    for index, cell in enumerate(nb.cells):
        if not _is_locked(cell) or cell_grade_id(cell).startswith("provided_") or cell_grade_id(cell) == "grading_guard":
            continue
        for statement in _parse(cell.source, f"cell {index}").body:
            if isinstance(statement, (ast.FunctionDef, ast.ClassDef)) and statement.name not in guard:
                problems.append(f"`{statement.name}` is defined in locked cell {cell_grade_id(cell) or index}; "
                                "helpers belong to the `provided_helpers` cell (or a locked `provided_<topic>` cell)")
    uses_expect_raises = any(is_test(c) and "expect_raises" in c.source for c in nb.cells if c.cell_type == "code")
    if uses_expect_raises and "expect_raises" not in helpers:
        problems.append("the tests use `expect_raises`, but no locked `provided_*` cell defines it")
    return problems


def fixture_globals(nb, assignment: course.Assignment) -> list[str]:
    """c) Shared fixtures are UPPER_CASE and made in locked cells: VOCAB, BASE_MODEL; no global `vocab`/`model`."""
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        where = f"cell {index} ({cell_grade_id(cell) or 'demo'})"
        tree = _parse(cell.source, where)
        for name, line in _module_bindings(tree):
            if name.lower() in RESERVED_LOWER | {"base_model"} and name not in FIXTURE_NAMES.values():
                problems.append(f"{where} binds the global `{name}` at line {line}: the shared fixtures are "
                                f"{sorted(FIXTURE_NAMES.values())}; lower-case `vocab`/`model` are only "
                                "parameters and locals")
        if is_test(cell):
            continue
        for statement in tree.body:
            if not isinstance(statement, ast.Assign) or not isinstance(statement.value, ast.Call):
                continue
            function = statement.value.func
            called = function.id if isinstance(function, ast.Name) else None
            if called in FIXTURE_NAMES:
                names = [t.id for t in statement.targets if isinstance(t, ast.Name)]
                fixture = FIXTURE_NAMES[called]
                if names != [fixture]:
                    problems.append(f"{where}: `{called}()` at module level is bound to {names}; call it {fixture}")
                elif not _is_locked(cell):
                    problems.append(f"{where}: the fixture {fixture} is made in a cell that is not locked")
    return problems


def grading_cells(nb, assignment: course.Assignment) -> list[str]:
    """e) Test cells: `test_<name>_` ids, a docstring first, only `_` names bound, the prescribed prints."""
    problems = []
    for cell in nb.cells:
        if not is_test(cell):
            continue
        grade_id = cell_grade_id(cell)
        name = _owner(grade_id, assignment.graded)
        if name is None:
            problems.append(f"test cell {grade_id!r} does not start with test_<graded name>_")
            continue
        tree = _parse(cell.source, f"test cell {grade_id}")
        if not cell.source.lstrip().startswith('"""') or not (tree.body and isinstance(tree.body[0], ast.Expr) and isinstance(tree.body[0].value, ast.Constant)
                and isinstance(tree.body[0].value.value, str)):
            problems.append(f"test cell {grade_id} does not open with a docstring")
        plain = sorted({f"{bound} (line {line})" for bound, line in _module_bindings(tree) if not bound.startswith("_")})
        if plain:
            problems.append(f"test cell {grade_id} binds plain names {plain}: grading would change the student's "
                            "namespace; start them with `_`")
        visible, hidden = _split_hidden(cell.source)
        if hidden is None:
            expected = f'print("{name}: visible tests passed")'
            if _last_line(cell.source) != expected:
                problems.append(f"visible test cell {grade_id} should end with {expected}, it ends with "
                                f"{_last_line(cell.source)!r}")
            continue
        if not grade_id.startswith(f"test_{name}_hidden_"):
            problems.append(f"hidden test cell {grade_id} should be named test_{name}_hidden_<behaviour>: "
                            "one behaviour per cell")
        if not cell.source.rstrip().endswith(END_HIDDEN):
            problems.append(f"hidden test cell {grade_id}: code after {END_HIDDEN} would run visibly")
        if _calls(_parse(visible, f"visible part of {grade_id}"), "print"):
            problems.append(f"hidden test cell {grade_id} prints in its visible part: a student must not read "
                            "anything that looks like a verdict before the hidden tests ran")
        last = _last_line(hidden)
        if not re.fullmatch(rf'print\("{re.escape(name)}: hidden tests of \S.* passed"\)', last):
            problems.append(f"hidden region of {grade_id} should end with "
                            f'print("{name}: hidden tests of <behaviour> passed"), it ends with {last!r}')
    return problems


def solutions_and_points(nb, assignment: course.Assignment) -> list[str]:
    """f) One solution cell per graded name (grade_id = the name); its test cells' points sum to course.toml's."""
    problems = []
    solutions = [cell_grade_id(c) for c in nb.cells if cell_role(c) == "answer"]
    if sorted(solutions) != sorted(assignment.graded) or len(set(solutions)) != len(solutions):
        problems.append(f"solution cells {solutions}; course.toml grades {list(assignment.graded)}, one cell each")
    points = {name: 0.0 for name in assignment.graded}
    for cell in nb.cells:
        if is_test(cell):
            owner = _owner(cell_grade_id(cell), assignment.graded)
            if owner:
                points[owner] += cell_points(cell)
    for name, expected in assignment.graded.items():
        if points[name] != expected:
            problems.append(f"the test cells of {name} carry {_format_points(points[name])} points; "
                            f"course.toml gives {_format_points(expected)}")
        ids = [cell_grade_id(c) for c in nb.cells if is_test(c) and _owner(cell_grade_id(c), assignment.graded) == name]
        if not any(BEGIN_HIDDEN in c.source for c in nb.cells if cell_grade_id(c) in ids):
            problems.append(f"{name} has no hidden test cell")
        if not any(BEGIN_HIDDEN not in c.source for c in nb.cells if cell_grade_id(c) in ids):
            problems.append(f"{name} has no visible test cell")
    return problems


RULES = {rule.__name__: rule for rule in (exercise_headings, written_answers, intro_points_table,
                                          setup_and_helpers_locked, fixture_globals, grading_cells,
                                          solutions_and_points)}


def _source_notebook(name: str):
    return nbformat.read(ROOT / "source" / name / f"{name}.ipynb", as_version=4)


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_rule(name, rule):
    problems = RULES[rule](_source_notebook(name), COURSE.assignment(name))
    assert not problems, f"{name} breaks the convention ({rule}, see STYLE_GUIDE.md):\n- " + "\n- ".join(problems)


# --------------------------------------------------------------------------- the checker can fail

def _cell_by_id(nb, grade_id: str):
    return next(c for c in nb.cells if cell_grade_id(c) == grade_id)


def _first(nb, predicate):
    return next(c for c in nb.cells if predicate(c))


def _bind_plain_name(nb):
    cell = _first(nb, lambda c: is_test(c) and BEGIN_HIDDEN in c.source)
    cell.source = cell.source.replace(BEGIN_HIDDEN, BEGIN_HIDDEN + "\nfor result in range(2):\n    pass", 1)


def _wrong_points_heading(nb):
    cell = _first(nb, lambda c: c.cell_type == "markdown" and "### Exercise 1 (" in c.source)
    cell.source = re.sub(r"### Exercise 1 \([\d.]+ points\)", "### Exercise 1 (99 points)", cell.source)


def _old_style_heading(nb):
    cell = _first(nb, lambda c: c.cell_type == "markdown" and "### Exercise 2 (" in c.source)
    cell.source = re.sub(r"### Exercise 2 \(([\d.]+) points\): (`[^`]+`)", r"### Exercise 2 — \2 (\1 points)",
                         cell.source)


def _table_row_missing(nb):
    cell = nb.cells[0]
    lines = cell.source.splitlines()
    row = next(i for i, line in enumerate(lines) if line.startswith("| `"))
    cell.source = "\n".join(lines[:row] + lines[row + 1:])


def _passed_after_a_type_check(nb):
    cell = _first(nb, lambda c: is_test(c) and BEGIN_HIDDEN in c.source)
    cell.source = cell.source.replace(BEGIN_HIDDEN, 'print("type checked; tests passed")\n' + BEGIN_HIDDEN, 1)


def _visible_cell_without_its_print(nb):
    cell = _first(nb, lambda c: is_test(c) and BEGIN_HIDDEN not in c.source)
    cell.source = cell.source.rstrip().rsplit("\n", 1)[0]


def _hidden_cell_without_behaviour(nb):
    cell = _first(nb, lambda c: is_test(c) and BEGIN_HIDDEN in c.source)
    owner = _owner(cell_grade_id(cell), COURSE.assignment("01_testing").graded)
    cell.metadata.nbgrader["grade_id"] = f"test_{owner}_hidden"


def _lower_case_global(nb):
    cell = _cell_by_id(nb, "setup")
    cell.source += "\nvocab = VOCAB\n"


def _fixture_under_another_name(nb):
    cell = _cell_by_id(nb, "setup")
    cell.source += "\nMODEL = pretrained_model(seed=0)\n"


def _helpers_unlocked(nb):
    _cell_by_id(nb, "provided_helpers").metadata.nbgrader["locked"] = False


def _test_uses_a_demo_name(nb):
    cell = _first(nb, lambda c: is_test(c) and BEGIN_HIDDEN not in c.source)
    cell.source = cell.source.replace('"""\n', '"""\n_n = len(held_out)\n', 1)


def _no_docstring(nb):
    cell = _first(nb, is_test)
    cell.source = "# checks\n" + cell.source


def _second_solution_cell(nb):
    solution = _first(nb, lambda c: cell_role(c) == "answer")
    twin = copy.deepcopy(solution)
    twin["id"] = solution["id"] + "-twin"
    nb.cells.insert(nb.cells.index(solution) + 1, twin)


def _question_in_answer_cell(nb):
    cell = _first(nb, is_written_answer)
    cell.source = "**Question.** Why would you test a model at all?\n\n" + cell.source


def _points_moved_between_cells(nb):
    cell = _first(nb, is_test)
    cell.metadata.nbgrader["points"] = cell_points(cell) + 1


BREAKAGES = {
    "test cell binds a plain name": (_bind_plain_name, "grading_cells", "binds plain names ['result"),
    "heading with the wrong points": (_wrong_points_heading, "exercise_headings", "99 points"),
    "heading in an old style": (_old_style_heading, "exercise_headings", "another style"),
    "points table misses a row": (_table_row_missing, "intro_points_table", "points table"),
    "'passed' after a type check": (_passed_after_a_type_check, "grading_cells", "prints in its visible part"),
    "visible cell without its print": (_visible_cell_without_its_print, "grading_cells", "should end with print("),
    "hidden cell without a behaviour": (_hidden_cell_without_behaviour, "grading_cells", "hidden_<behaviour>"),
    "global named vocab": (_lower_case_global, "fixture_globals", "binds the global `vocab`"),
    "pretrained model named MODEL": (_fixture_under_another_name, "fixture_globals", "call it BASE_MODEL"),
    "provided helpers unlocked": (_helpers_unlocked, "setup_and_helpers_locked", "'provided_helpers'"),
    "test uses a name from a demo cell": (_test_uses_a_demo_name, "setup_and_helpers_locked", "['held_out']"),
    "test cell without a docstring": (_no_docstring, "grading_cells", "docstring"),
    "two solution cells for one name": (_second_solution_cell, "solutions_and_points", "one cell each"),
    "question inside the answer cell": (_question_in_answer_cell, "written_answers", "more than the answer"),
    "test points differ from course.toml": (_points_moved_between_cells, "solutions_and_points", "course.toml gives"),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_the_checker_catches(breakage):
    """Break a copy of notebook 01 (which follows the convention) in one way; the matching rule must say so."""
    nb = _source_notebook("01_testing")
    assignment = COURSE.assignment("01_testing")
    break_it, rule, message = BREAKAGES[breakage]
    assert not RULES[rule](nb, assignment), f"01_testing must follow rule {rule} before it is broken"
    break_it(nb)
    problems = RULES[rule](nb, assignment)
    assert any(message in problem for problem in problems), f"{rule} missed '{breakage}': {problems}"
