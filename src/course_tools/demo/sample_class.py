"""Build a synthetic class of student submissions from the source notebooks, and predict their scores.

    python -m course_tools.demo.sample_class .sample_class           # a course folder with release/, gradebook, submitted/
    python -m course_tools.demo.sample_class --students 300          # a large class, every persona in LARGE_CLASS_MIX shares

Nothing here is committed: the class is built on the fly in a throwaway (or
git-ignored) course folder. Each student starts from the released notebook,
exactly what a student receives, and answers it as one of the ``PERSONAS``
(one row each: name, what the submission does, which graded names it breaks
and what it writes instead), driven only by nbgrader metadata, so it follows
the notebooks as they change.

Each student has a first and last name in the gradebook, and each submission a
``timestamp.txt`` as ``nbgrader collect`` leaves it (fixed times on a course
calendar), so formgrader lists the class as it lists a real one.

``expected_scores`` predicts every student's score from the notebooks' points
metadata and which graded names each submission breaks (a test cell fails when
its ``test_<name>`` prefix or the code it runs refers to a broken name; a
solution that uses a broken name is broken too). It never runs a notebook, so
the prediction is independent of the grading run it is compared with.
"""

from __future__ import annotations

import argparse
import ast
import re
import shutil
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import nbformat

from ..course import MANIFEST, available_assignments, course_root
from ..notebooks.cells import (
    cell_grade_id,
    cell_points,
    cell_role,
    is_locked,
    is_written_answer,
    nbgrader_metadata,
    solution_region,
    strip_solution_markers,
)


@dataclass(frozen=True)
class Persona:
    """One kind of student: what the submission does, and how it answers each kind of cell.

    ``breaks``: which graded names the submission breaks, in every assignment handed in
        ("nothing", "everything", "every_other", "loop_target", "crash_target");
    ``broken_answer``: what a broken solution cell holds ("stub": the released stub; "always_equal",
        "infinite_loop", "os_exit": the cheat or the reference with the fault put in);
    ``working_answer``: what an unbroken solution cell holds ("reference", or "noisy": with warnings);
    ``written``: the written answers ("answer": the reference answer, "stub": untouched, "hedged": only
        the first, hedged);
    ``tests``: the test cells ("kept", "deleted", "edited": locked cells and guard rewritten to pass);
    ``hands_in``: "all" assignments answered, or "first" (the later ones handed in as released);
    ``share``: its share of a large class (``roster``).
    """
    name: str
    first_name: str
    last_name: str  # says what the submission does, as formgrader lists it
    does: str
    breaks: str = "nothing"
    broken_answer: str = "stub"
    working_answer: str = "reference"
    written: str = "answer"
    tests: str = "kept"
    hands_in: str = "all"
    share: float = 0.0

    def __post_init__(self):
        for name, allowed in PERSONA_CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"persona {self.name}: {name}={getattr(self, name)!r} is not one of {allowed}")


PERSONA_CHOICES = {
    "breaks": ("nothing", "everything", "every_other", "loop_target", "crash_target"),
    "broken_answer": ("stub", "always_equal", "infinite_loop", "os_exit"),
    "working_answer": ("reference", "noisy"),
    "written": ("answer", "stub", "hedged"),
    "tests": ("kept", "deleted", "edited"),
    "hands_in": ("all", "first"),
}

PERSONAS = {p.name: p for p in (
    Persona("perfect", "Ada", "Perfect", "reference solution everywhere", share=0.30),
    Persona("partial", "Parker", "Partial", "every other name no other answer builds on left as the stub, the rest solved",
            breaks="every_other", written="hedged", share=0.25),
    Persona("blank", "Blair", "Blank", "the released notebook, untouched",
            breaks="everything", written="stub", share=0.08),
    Persona("always_equal_cheat", "Chase", "Alwaysequal", "returns objects whose __eq__ always answers True",
            breaks="everything", broken_answer="always_equal", written="stub", share=0.05),
    Persona("infinite_loop", "Lou", "Loop", "one function never returns (per-cell timeout)",
            breaks="loop_target", broken_answer="infinite_loop", share=0.01),
    Persona("kernel_crash", "Cass", "Crash", "one function calls os._exit (the sandbox ends; a fresh one replays "
            "the answers: only the tests that need that function score 0)",
            breaks="crash_target", broken_answer="os_exit", share=0.02),
    Persona("edited_tests", "Eddie", "Edits", "no solutions; locked tests and guard rewritten to pass",
            breaks="everything", written="stub", tests="edited", share=0.04),
    Persona("deleted_tests", "Dee", "Deletes", "reference solutions; every test cell deleted",
            tests="deleted", share=0.05),
    Persona("honest_warnings", "Warren", "Warnings", "reference solutions that write warnings to stderr",
            working_answer="noisy", share=0.10),
    Persona("stopped_early", "Stella", "Stops", "the first assignment solved, the others handed in blank",
            hands_in="first", share=0.10),
)}

STUDENTS = tuple(PERSONAS)

# Kinds of students in a large synthetic class (benchmarks, scale-out): mostly honest work, a few of each trick.
LARGE_CLASS_MIX = {name: persona.share for name, persona in PERSONAS.items()}

FIRST_DEADLINE = datetime(2025, 3, 3, 17, 0)


def submission_time(student: str, assignment_index: int, order: int | None = None) -> datetime:
    """When the sample student handed in assignment number ``assignment_index`` (UTC): a week apart, minutes
    apart (``order``, default the student's place in ``STUDENTS``), all before 17:00 on the due day."""
    order = (STUDENTS.index(student) if student in STUDENTS else 0) if order is None else order
    return FIRST_DEADLINE + timedelta(weeks=assignment_index, hours=-2, minutes=7 * order, seconds=order)


def timestamp_text(when: datetime) -> str:
    """``when`` (UTC) as nbgrader's ``submit`` writes ``timestamp.txt`` (its default ``Exchange.timestamp_format``)."""
    return when.strftime("%Y-%m-%d %H:%M:%S.%f") + " UTC"


# --------------------------------------------------------------------------- reading the source notebooks

def top_level_definitions(source: str) -> set[str]:
    """Names of the functions and classes a piece of code defines at its top level (empty if it does not parse)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}


def names_used(source: str) -> set[str]:
    """Identifiers a piece of code refers to (ignores comments and strings; empty set if it does not parse)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set(re.findall(r"\b[A-Za-z_]\w*\b", source))
    used = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            used.add(node.id)
        elif isinstance(node, ast.Attribute):
            used.add(node.attr)
    return used


def defines_function(source: str, name: str) -> bool:
    """True when ``source`` defines ``name`` as a top-level function (not a class)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    return any(isinstance(node, ast.FunctionDef) and node.name == name for node in tree.body)


@dataclass
class NotebookInfo:
    """What the grading of one assignment notebook depends on, read from nbgrader metadata."""
    assignment: str
    notebook: str
    solutions: dict[str, str]           # graded name -> reference source (markers removed)
    tests: dict[str, dict]              # test grade_id -> {"points", "source"}
    written: dict[str, dict]            # written answer grade_id -> {"points", "answer"}
    code_cells: list[str] = field(default_factory=list)   # every code cell source, in order
    # top-level name -> its definition's source, for the provided (non-answer, non-test) code cells: a graded
    # name used only inside provided code (a locked class that calls the student's registry) is still used
    provided: dict[str, str] = field(default_factory=dict)

    @property
    def max_score(self) -> float:
        return sum(t["points"] for t in self.tests.values()) + sum(w["points"] for w in self.written.values())

    @property
    def auto_max_score(self) -> float:
        return sum(t["points"] for t in self.tests.values())

    def dependents(self, broken: set[str]) -> set[str]:
        """``broken`` plus every graded name whose reference solution uses a broken name (transitively).

        A solution cell may define more than its graded name (e.g. ``safe_predict`` and its companion
        ``safe_predict_with_reason``): every name a broken cell defines is broken too.
        """
        result = set(broken)
        changed = True
        while changed:
            changed = False
            for name, source in self.solutions.items():
                if name in result:
                    extra = top_level_definitions(source) - result
                    if extra:
                        result |= extra
                        changed = True
                elif self.uses(source) & result:
                    result.add(name)
                    changed = True
        return result

    def uses(self, source: str) -> set[str]:
        """The names ``source`` uses, directly or through the provided definitions it uses (transitively)."""
        seen: set[str] = set()
        todo = list(names_used(source))
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                if name in self.provided:
                    todo.extend(names_used(self.provided[name]))
        return seen

    def failing_tests(self, broken: set[str]) -> set[str]:
        """Test cells that cannot pass when the graded names in ``broken`` do not work."""
        broken = self.dependents(broken)
        failing = set()
        for grade_id, test in self.tests.items():
            if any(grade_id.startswith(f"test_{name}") for name in broken) or self.uses(test["source"]) & broken:
                failing.add(grade_id)
        return failing

    def cells_using(self, name: str) -> int:
        return sum(1 for source in self.code_cells if name in names_used(source))


def read_source(root: Path, assignment: str) -> NotebookInfo:
    """Read ``source/<assignment>/<assignment>.ipynb``."""
    path = root / "source" / assignment / f"{assignment}.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    info = NotebookInfo(assignment, path.stem, {}, {}, {})
    for cell in nb.cells:
        if cell.cell_type == "code":
            info.code_cells.append(cell.source)
        grade_id = cell_grade_id(cell)
        if cell_role(cell) == "answer":
            info.solutions[grade_id] = strip_solution_markers(cell.source)
        elif cell_role(cell) == "test":
            info.tests[grade_id] = {"points": cell_points(cell), "source": cell.source}
        elif is_written_answer(cell):
            answer = solution_region(cell.source)
            info.written[grade_id] = {"points": cell_points(cell), "answer": "An answer." if answer is None else answer}
        elif cell.cell_type == "code" and cell_role(cell) in ("locked", "plain"):
            info.provided.update(provided_definitions(cell.source))
    for name in info.solutions:
        info.provided.pop(name, None)
    return info


def provided_definitions(source: str) -> dict[str, str]:
    """Top-level name -> the source of the statement that defines it (functions, classes, assignments)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    found = {}
    for node in tree.body:
        segment = ast.get_source_segment(source, node) or ""
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found[node.name] = segment
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                if isinstance(target, ast.Name):
                    found[target.id] = segment
    return found


def read_course(root: Path, assignments: list[str] | None = None) -> dict[str, NotebookInfo]:
    return {a: read_source(Path(root), a) for a in (assignments or available_assignments(Path(root)))}


# --------------------------------------------------------------------------- choosing what each student breaks

def _functions(info: NotebookInfo) -> list[str]:
    return [name for name, src in info.solutions.items() if defines_function(src, name)]


def loop_target(course: dict[str, NotebookInfo]) -> tuple[str, str]:
    """(assignment, function) for the infinite loop: a function no other solution uses, called by the fewest cells.

    Every cell that calls it waits for the per-cell timeout, so fewer calling cells keep grading fast.
    """
    candidates = []
    for assignment, info in course.items():
        for name in _functions(info):
            if info.dependents({name}) == {name}:
                candidates.append((info.cells_using(name), -list(course).index(assignment), assignment, name))
    if not candidates:
        raise ValueError("no function to put an infinite loop in")
    _, _, assignment, name = min(candidates)
    return assignment, name


def crash_target(course: dict[str, NotebookInfo]) -> tuple[str, str]:
    """(assignment, function) that kills the kernel: the last assignment's first graded function."""
    for assignment, info in reversed(course.items()):
        functions = _functions(info)
        if functions:
            return assignment, functions[0]
    raise ValueError("no function to crash the kernel in")


def partial_broken(info: NotebookInfo) -> set[str]:
    """The graded names the partial student leaves as stubs: every second one that no other solution uses.

    Only names nothing else builds on: a solved name built on a stub passes the cells of its behaviours
    that never reach the stub and fails the others, which the metadata cannot predict.
    """
    names = list(info.solutions)
    leaves = [name for name in names
              if not any(name in info.uses(info.solutions[other]) for other in names if other != name)]
    return set(leaves[1::2])


# --------------------------------------------------------------------------- writing submissions

ALWAYS_EQUAL = '''\
# Everything compares equal: a cheat that hopes the tests use ==.
class _AlwaysEqual:
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    __hash__ = object.__hash__
class EqFloat(_AlwaysEqual, float): pass
class EqInt(_AlwaysEqual, int): pass
class EqStr(_AlwaysEqual, str): pass
class EqTuple(_AlwaysEqual, tuple): pass
class EqList(_AlwaysEqual, list): pass
class EqDict(_AlwaysEqual, dict): pass
'''


def cheat_source(name: str, is_function: bool) -> str:
    if is_function:
        return ALWAYS_EQUAL + f"\ndef {name}(*args, **kwargs):\n    return EqFloat(0.5)\n"
    return ALWAYS_EQUAL + (
        f"\nclass {name}:\n"
        "    def __init__(self, *args, **kwargs):\n        pass\n"
        "    def __getattr__(self, attribute):\n"
        "        return lambda *args, **kwargs: EqDict()\n"
        "    def __len__(self):\n        return EqInt(0)\n")


def inject_into_body(source: str, name: str, statement: str) -> str:
    """Insert ``statement`` as the first statement of function ``name``'s body (after its docstring)."""
    tree = ast.parse(source)
    node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
    body = node.body
    first = body[1] if len(body) > 1 and isinstance(body[0], ast.Expr) and isinstance(
        getattr(body[0], "value", None), ast.Constant) and isinstance(body[0].value.value, str) else body[0]
    lines = source.splitlines()
    indent = " " * first.col_offset
    insert_at = (body[0].end_lineno if first is not body[0] else first.lineno - 1)
    new = [indent + line for line in statement.splitlines()]
    return "\n".join(lines[:insert_at] + new + lines[insert_at:])


def warning_source(name: str, reference: str, is_function: bool) -> str:
    header = ("import warnings\nimport numpy as _np_w\n"
              "warnings.simplefilter('always')  # show every warning, every time\n")
    noisy = (f"warnings.warn('{name} is running (an honest warning)', UserWarning)\n"
             "_np_w.log(_np_w.zeros(1))  # RuntimeWarning: divide by zero encountered in log\n")
    if is_function:
        return header + inject_into_body(reference, name, noisy)
    body = "\n".join("        " + line for line in noisy.splitlines())
    return (header + reference + f"\n\n_{name}_quiet = {name}\nclass {name}(_{name}_quiet):\n"
            "    def __init__(self, *args, **kwargs):\n" + body + "\n        super().__init__(*args, **kwargs)\n")


GUARD_EDIT = ('# The student replaced the grading guard.\n'
              'def check_type(*args, **kwargs): pass\n'
              'def check_close(*args, **kwargs): pass\n'
              'def check_equal(*args, **kwargs): pass\n'
              'def check_array_close(*args, **kwargs): pass\n')


LOOP_FOREVER = "while True:  # the loop condition never changes\n    pass"
EXIT_INTERPRETER = "import os\nos._exit(1)  # kills the kernel"


@dataclass
class Plan:
    """How one student answers one assignment, and what that breaks."""
    student: str
    assignment: str
    broken: set[str]
    crashes: bool = False
    looped: str | None = None
    blank: bool = False  # handed in as released


def plans(course: dict[str, NotebookInfo]) -> dict[tuple[str, str], Plan]:
    """Every persona's plan for every assignment of ``course``."""
    loop_at, crash_at = loop_target(course), crash_target(course)
    first = next(iter(course))
    result = {}
    for assignment, info in course.items():
        for persona in PERSONAS.values():
            plan = Plan(persona.name, assignment, set())
            if persona.hands_in == "first" and assignment != first:
                plan.broken, plan.blank = set(info.solutions), True
            elif persona.breaks == "everything":
                plan.broken = set(info.solutions)
            elif persona.breaks == "every_other":
                plan.broken = partial_broken(info)
            elif persona.breaks == "loop_target" and loop_at[0] == assignment:
                plan.broken, plan.looped = {loop_at[1]}, loop_at[1]
            elif persona.breaks == "crash_target" and crash_at[0] == assignment:
                plan.broken, plan.crashes = {crash_at[1]}, True
            result[(persona.name, assignment)] = plan
    return result


def answer_source(persona: Persona, name: str, reference: str, broken: bool) -> str | None:
    """What ``persona`` writes in the solution cell of graded name ``name`` (None: the released stub stays)."""
    is_function = defines_function(reference, name)
    if not broken:
        return warning_source(name, reference, is_function) if persona.working_answer == "noisy" else reference
    if persona.broken_answer == "always_equal":
        return cheat_source(name, is_function)
    if persona.broken_answer == "infinite_loop":
        return inject_into_body(reference, name, LOOP_FOREVER)
    if persona.broken_answer == "os_exit":
        return inject_into_body(reference, name, EXIT_INTERPRETER)
    return None


def build_submission(release_nb, info: NotebookInfo, plan: Plan):
    """The student's notebook: the released notebook with solution cells (and maybe tests) changed."""
    nb = nbformat.from_dict(release_nb)
    if plan.blank:
        return nb
    persona = PERSONAS[plan.student]
    keep = []
    for cell in nb.cells:
        meta = nbgrader_metadata(cell)  # the cell's own dict (a released notebook's is one): changed in place below
        grade_id = cell_grade_id(cell)
        code = cell.cell_type == "code"
        if persona.tests == "deleted" and cell_role(cell) == "test":
            continue
        if cell_role(cell) == "answer" and grade_id in info.solutions:
            source = answer_source(persona, grade_id, info.solutions[grade_id], grade_id in plan.broken)
            cell.source = cell.source if source is None else source
        elif is_written_answer(cell) and grade_id in info.written:
            answer = info.written[grade_id]["answer"]
            if persona.written == "answer":
                cell.source = answer
            elif persona.written == "hedged" and grade_id == next(iter(info.written)):
                cell.source = "I am not sure, but: " + answer[:200]
        elif persona.tests == "edited" and code and is_locked(cell):
            cell.source = GUARD_EDIT if grade_id == "grading_guard" else "# the student removed these tests\npass"
            if "points" in meta:
                meta["points"] = 100.0
        keep.append(cell)
    nb.cells = keep
    return nb


def roster(n: int, mix: dict[str, float] | None = None, seed: int = 0) -> dict[str, str]:
    """``n`` student ids (``s0001`` ...) mapped to a kind of student, in the proportions of ``mix``.

    The counts are the proportions rounded by largest remainder, so they add up to ``n``; which id gets
    which kind is shuffled with ``seed``.
    """
    import random

    mix = mix or LARGE_CLASS_MIX
    unknown = set(mix) - set(STUDENTS)
    if unknown or n < 0:
        raise ValueError(f"unknown kinds {sorted(unknown)} (known: {', '.join(STUDENTS)})" if unknown else "n must be >= 0")
    total = sum(mix.values())
    exact = {kind: n * share / total for kind, share in mix.items()}
    counts = {kind: int(value) for kind, value in exact.items()}
    for kind in sorted(exact, key=lambda k: exact[k] - counts[k], reverse=True)[: n - sum(counts.values())]:
        counts[kind] += 1
    kinds = [kind for kind, count in counts.items() for _ in range(count)]
    random.Random(seed).shuffle(kinds)
    width = max(4, len(str(n)))
    return {f"s{i + 1:0{width}d}": kind for i, kind in enumerate(kinds)}


def write_class(course_dir: Path, root: Path, assignments: list[str] | None = None,
                students: tuple[str, ...] = STUDENTS, progress=print,
                ids: dict[str, str] | None = None) -> dict[tuple[str, str], Plan]:
    """Write ``course_dir/submitted/<student>/<assignment>/<notebook>.ipynb`` from ``course_dir/release``.

    ``ids`` (student id -> kind, see ``roster``) writes a class of many students; by default each kind
    in ``students`` is one student named after it.
    """
    named = ids is None  # the demo class: one student of each kind, registered with a name
    ids = ids or {student: student for student in students}
    course = read_course(root, assignments)
    all_plans = plans(course)
    (loop_assignment, loop_name), (crash_assignment, crash_name) = loop_target(course), crash_target(course)
    say = progress or (lambda *_: None)
    for index, (assignment, info) in enumerate(course.items()):
        release_path = Path(course_dir) / "release" / assignment / f"{info.notebook}.ipynb"
        release_nb = nbformat.read(str(release_path), as_version=4)
        built = {}
        for position, (student, kind) in enumerate(ids.items()):
            if kind not in built:
                built[kind] = build_submission(release_nb, info, all_plans[(kind, assignment)])
            target = Path(course_dir) / "submitted" / student / assignment / f"{info.notebook}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(built[kind], str(target))
            (target.parent / "timestamp.txt").write_text(
                timestamp_text(submission_time(student, index, order=position % 17)), encoding="utf-8")
    if named:
        register_students(course_dir, tuple(ids))
    say(f"wrote {len(ids)} students x {len(course)} assignments under {Path(course_dir) / 'submitted'}"
        f" (infinite loop in {loop_name} of {loop_assignment}; os._exit in {crash_name} of {crash_assignment})")
    return all_plans


def register_students(course_dir: Path, students: tuple[str, ...] = STUDENTS) -> None:
    """Give each student their name in the course's gradebook (``nbgrader db student add`` does the same)."""
    from ..grading.gradebook import open_gradebook
    from ..grading.nbgrader_apps import ensure_venv_on_path

    ensure_venv_on_path()  # a new gradebook is created with alembic, from the venv's bin
    with open_gradebook(course_dir) as gb:
        for student in students:
            persona = PERSONAS.get(student)
            first, last = (persona.first_name, persona.last_name) if persona else (student, "")
            gb.update_or_create_student(student, first_name=first, last_name=last)


# --------------------------------------------------------------------------- predictions

def expected_scores(root: Path, assignments: list[str] | None = None,
                    students: tuple[str, ...] = STUDENTS) -> dict[tuple[str, str], float]:
    """Predicted autograded score per (student, assignment).

    Written answers need a human, so they count 0 here; every test cell a
    submission cannot break counts its full points. A function that ends its
    sandboxed process costs only the tests that need it, like a stub: the judge
    starts a fresh sandbox, replays the answers and goes on, and does not call
    that function again (``course_tools.grading.judge``).
    """
    course = read_course(root, assignments)
    all_plans = plans(course)
    result = {}
    for (student, assignment), plan in all_plans.items():
        if student not in students:
            continue
        info = course[assignment]
        failing = info.failing_tests(plan.broken)
        result[(student, assignment)] = sum(t["points"] for g, t in info.tests.items() if g not in failing)
    return result


# --------------------------------------------------------------------------- a course folder for the class

def make_course(course_dir: Path, root: Path, assignments: list[str] | None = None,
                progress=print, extra_config: str = "", edit_source=None) -> list[str]:
    """A fresh course folder: course.toml, nbgrader_config.py, source/ and the pages' pinned scripts copied,
    release/ and gradebook generated there. ``extra_config`` is appended to its nbgrader_config.py first
    (e.g. the demo's own course id and exchange); ``edit_source(path)``, when given, changes each copied source
    notebook before the release is generated from it."""
    from ..grading.nbgrader_apps import run_in_workers
    from ..publish.vendored_assets import committed_assets

    course_dir = Path(course_dir)
    assignments = assignments or available_assignments(Path(root))
    if course_dir.exists():
        shutil.rmtree(course_dir)
    (course_dir / "source").mkdir(parents=True)
    for name in (MANIFEST, "nbgrader_config.py"):
        shutil.copy(Path(root) / name, course_dir / name)
    if extra_config:
        with open(course_dir / "nbgrader_config.py", "a", encoding="utf-8") as handle:
            handle.write("\n" + extra_config)
    shutil.copy(Path(root) / "source" / "header.ipynb", course_dir / "source" / "header.ipynb")
    if committed_assets(root).is_dir():  # what the reader's edition and peer-review packets load
        shutil.copytree(committed_assets(root), committed_assets(course_dir))
    for assignment in assignments:
        shutil.copytree(Path(root) / "source" / assignment, course_dir / "source" / assignment,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        if edit_source is not None:
            edit_source(course_dir / "source" / assignment / f"{assignment}.ipynb")
    say = progress or (lambda *_: None)
    say(f"generating {', '.join(assignments)} in {course_dir} (nbgrader generate_assignment) ...")
    outcomes = run_in_workers([("generate_assignment", [a, "--force"]) for a in assignments], course_dir)
    for assignment, (ok, log) in zip(assignments, outcomes):
        if not ok:
            raise RuntimeError(f"nbgrader generate_assignment {assignment} failed:\n{log}")
    return assignments


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("course_dir", nargs="?", default=None, help="where to build it (default: <root>/.sample_class)")
    parser.add_argument("--root", default=None, help="the course folder (default: the working directory's course)")
    parser.add_argument("--students", type=int, default=None, metavar="N",
                        help="a large class of N students of every kind, in LARGE_CLASS_MIX proportions")
    parser.add_argument("--seed", type=int, default=0, help="which id gets which kind (with --students)")
    parser.add_argument("--assignments", nargs="*", default=None)
    args = parser.parse_args(argv)
    root = Path(args.root).resolve() if args.root else course_root()
    course_dir = Path(args.course_dir) if args.course_dir else root / ".sample_class"
    assignments = make_course(course_dir, root, args.assignments)
    ids = roster(args.students, seed=args.seed) if args.students is not None else None
    write_class(course_dir, root, assignments, ids=ids)
    expected = expected_scores(root, assignments)
    for student, kind in sorted((ids or {s: s for s in STUDENTS}).items()):
        for assignment in assignments:
            print(f"{student:<20} {kind:<20} {assignment:<24} expected {expected[(kind, assignment)]:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
