"""The grading pipeline on the synthetic sample class, with the real sandbox, judge and nbgrader.

The class is built and autograded ONCE (module fixture, 2 worker processes)
in a temporary course folder, then every test reads that run. A submission with the same cells as an
earlier student's of the same assignment is not graded again (the looping and the crashing student hand
in the perfect notebook wherever their trick is not, the student who stopped early the perfect first and
the blank others); its prediction must equal its twin's, whose grade it would get:

* each student's autograded score equals the score predicted from the
  notebooks' points metadata alone (``sample_class.expected_scores``);
* a submission that ends its own process is graded, reported by name and reason, and the class goes on;
* the gradebook has exactly one row per submission and per graded cell;
* a serial (1 worker) grading of the same submissions records the same grades;
* regrading is idempotent and keeps manual grades and comments;
* feedback can hide hidden tests and still show each test's outcome and message;
* grades export to CSV with one row per submission.
"""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from course_tools.course import available_assignments
from course_tools.demo import sample_class
from course_tools.grading.batch import grade_class
from course_tools.grading.gradebook import open_gradebook, read_grades
from course_tools.grading.nbgrader_apps import ensure_venv_on_path, run_in_workers
from course_tools.notebooks.generate import release_differences
from course_tools.publish import feedback
from support.gradebook_rows import gradebook_row_counts

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = available_assignments(ROOT)
STUDENTS = sample_class.STUDENTS
# The judge's budget per cell in the graded course (the real course's is 20 s): the looping student runs it out
# once, burning a core all the while, and honest cells need under 1 s of the sandbox's CPU time.
CELL_TIMEOUT = 8.0


@pytest.fixture(scope="module")
def graded(tmp_path_factory, built_course):
    """The sample class in a temporary course, autograded once with 2 workers."""
    ensure_venv_on_path()
    course = tmp_path_factory.mktemp("pipeline") / "course"
    built_course(course, ASSIGNMENTS, cell_timeout=CELL_TIMEOUT)
    sample_class.write_class(course, ROOT, ASSIGNMENTS, progress=None)
    twins = drop_repeated_submissions(course)
    results = grade_class(course, ASSIGNMENTS, workers=2, progress=None)
    return {"course": course, "results": results, "grades": read_grades(course), "twins": twins,
            "pairs": [(a, s) for a in ASSIGNMENTS for s in STUDENTS if (a, s) not in twins],
            "expected": sample_class.expected_scores(ROOT, ASSIGNMENTS)}


def drop_repeated_submissions(course: Path) -> dict[tuple[str, str], str]:
    """Remove each submission whose cells (types and sources) equal an earlier student's of the same assignment,
    in class order; (assignment, student) -> the student whose submission it repeats."""
    twins = {}
    for assignment in ASSIGNMENTS:
        first_with = {}
        for student in STUDENTS:
            folder = course / "submitted" / student / assignment
            nb = nbformat.read(str(folder / f"{assignment}.ipynb"), as_version=4)
            cells = tuple((cell.cell_type, cell.source) for cell in nb.cells)
            if cells in first_with:
                twins[(assignment, student)] = first_with[cells]
                shutil.rmtree(folder)
            else:
                first_with[cells] = student
    return twins


def auto_scores(record: dict) -> dict[str, float | None]:
    return {name: cell.get("auto_score") for name, cell in record["cells"].items() if "max_score" in cell}


def test_generated_release_matches_the_committed_release(graded):
    problems = release_differences(graded["course"] / "release", ROOT, ASSIGNMENTS)
    assert not problems, "release/ is out of sync with source/ (run `make generate`):\n" + "\n".join(problems)


@pytest.mark.parametrize("student", STUDENTS)
def test_sample_class_scores_equal_the_prediction_from_metadata(graded, student):
    wrong = []
    for assignment in ASSIGNMENTS:
        expected = graded["expected"][(student, assignment)]
        twin = graded["twins"].get((assignment, student), student)
        if graded["expected"][(twin, assignment)] != expected:
            wrong.append(f"{assignment}: predicted {expected:g}, but {twin}'s same submission {graded['expected'][(twin, assignment)]:g}")
        record = graded["grades"].get((assignment, twin))
        if record is None:
            wrong.append(f"{assignment}: no grades recorded for {twin}")
            continue
        scores = auto_scores(record)
        actual = sum(v or 0 for v in scores.values())
        if abs(actual - expected) > 1e-9:
            lost = sorted(name for name, v in scores.items() if not v)
            wrong.append(f"{assignment}: autograded {actual:g}, predicted {expected:g} (cells scoring 0: {lost})")
    assert not wrong, f"{student}:\n" + "\n".join(wrong)


def test_expected_scores_tell_the_students_apart(graded):
    """The prediction itself: cheats and edits earn nothing, deletions and warnings cost nothing."""
    course = sample_class.read_course(ROOT, ASSIGNMENTS)
    for assignment, info in course.items():
        score = {s: graded["expected"][(s, assignment)] for s in STUDENTS}
        full = info.auto_max_score
        assert score["perfect"] == full > 0
        assert score["blank"] == score["always_equal_cheat"] == score["edited_tests"] == 0
        assert score["deleted_tests"] == score["honest_warnings"] == full
        assert 0 < score["partial"] < full
        assert score["stopped_early"] == (full if assignment == ASSIGNMENTS[0] else 0)
    loop_assignment, _ = sample_class.loop_target(course)
    assert graded["expected"][("infinite_loop", loop_assignment)] < course[loop_assignment].auto_max_score


def test_only_repeated_submissions_go_ungraded_and_every_trick_is_graded(graded):
    course = sample_class.read_course(ROOT, ASSIGNMENTS)
    graded_pairs = set(graded["pairs"])
    assert (sample_class.loop_target(course)[0], "infinite_loop") in graded_pairs
    assert (sample_class.crash_target(course)[0], "kernel_crash") in graded_pairs
    for (assignment, student), twin in graded["twins"].items():
        assert (assignment, twin) in graded_pairs and STUDENTS.index(twin) < STUDENTS.index(student)
        assert not (graded["course"] / "submitted" / student / assignment).exists()
    every_kind_once = {(a, s) for a in ASSIGNMENTS for s in ("perfect", "partial", "blank", "always_equal_cheat",
                                                             "edited_tests", "deleted_tests", "honest_warnings")}
    assert every_kind_once <= graded_pairs, sorted(every_kind_once - graded_pairs)


def test_crashed_sandbox_is_graded_reported_and_the_class_goes_on(graded):
    """A submission whose code ends its own process is still graded (only the tests needing it score 0) and says why."""
    results = {(r.assignment, r.student): r for r in graded["results"]}
    assert sorted(results) == sorted(graded["pairs"]), "some submissions were never attempted"
    not_graded = [key for key, r in results.items() if not r.ok]
    assert not_graded == [], f"not graded: {not_graded}"
    crash_assignment, _ = sample_class.crash_target(sample_class.read_course(ROOT, ASSIGNMENTS))
    crashed = results[(crash_assignment, "kernel_crash")]
    assert any("sandbox ended during" in note and "exited with status 1" in note for note in crashed.notes), crashed.line()
    assert any("a fresh sandbox replayed" in note for note in crashed.notes), crashed.line()
    assert "os._exit" in crashed.review, crashed.line()
    for (assignment, student) in results:
        assert (assignment, student) in graded["grades"], f"{student}/{assignment} graded but not in the gradebook"


def test_infinite_loop_costs_only_the_cells_it_blocks(graded):
    course = sample_class.read_course(ROOT, ASSIGNMENTS)
    loop_assignment, function = sample_class.loop_target(course)
    result = next(r for r in graded["results"] if (r.assignment, r.student) == (loop_assignment, "infinite_loop"))
    assert result.ok and any("time limit" in note for note in result.notes), result.line()
    blocked = course[loop_assignment].cells_using(function)
    stopped = [int(m.group(1)) for note in result.notes for m in [re.search(r"(\d+) cell\(s\) stopped", note)] if m]
    assert stopped and 1 <= stopped[0] <= blocked, f"{blocked} cell(s) call {function}: {result.line()}"
    assert any(f"stopped at the time limit ({CELL_TIMEOUT:g} s of CPU" in note for note in result.notes), (
        f"the course's own budget did not stop the loop: {result.line()}")
    if stopped[0] < blocked:  # after its first timeout it is not called again: its other cells fail at once
        assert any(f"not called again after it timed out: {function}" in note for note in result.notes), result.line()
    # Budgets count CPU time, so on a busy grader too the loop costs its own cells, not the notebook's budget.
    assert not any("notebook used up its time limit" in note for note in result.notes), result.line()


def test_gradebook_has_one_row_per_submission_and_cell(graded):
    counts = gradebook_row_counts(graded["course"])
    course = sample_class.read_course(ROOT, ASSIGNMENTS)
    pairs = graded["pairs"]
    assert counts["student"] == len(STUDENTS)
    assert counts["submitted_assignment"] == len(pairs)
    assert counts["submitted_notebook"] == len(pairs)
    assert counts["grade"] == sum(len(course[a].tests) + len(course[a].written) for a, _ in pairs)
    assert counts["duplicate_grades"] == counts["duplicate_submissions"] == 0


def test_serial_grading_records_the_same_grades(graded, tmp_path, built_course):
    """One worker, one submission after another, on a copy of the same submissions: one assignment (the one
    with the crash), and one student per kind of outcome (full marks, some cells lost, a cheat scoring 0, a
    crash and a fresh sandbox, tests rebuilt from the release, warnings on stderr), each graded after a
    different kind, so a worker's state carried from one submission to the next would show. This course is
    the assignment without its demonstrations (``support.demo_cells``), as the tests of the grading machinery
    grade it: the same grades also show that emptying them changes no grade."""
    assignment, _ = sample_class.crash_target(sample_class.read_course(ROOT, ASSIGNMENTS))
    students = ["perfect", "partial", "always_equal_cheat", "kernel_crash", "deleted_tests", "honest_warnings"]
    course = tmp_path / "serial"
    built_course(course, [assignment], demos=False)  # a fresh gradebook
    shutil.copytree(graded["course"] / "submitted", course / "submitted")
    results = grade_class(course, [assignment], students=students, workers=1, progress=None)
    assert [r.student for r in results if not r.ok] == []
    serial = read_grades(course)
    for student in students:
        key = (assignment, student)
        assert auto_scores(serial[key]) == auto_scores(graded["grades"][key]), f"{student}: serial != parallel"


def test_regrading_is_idempotent_and_keeps_manual_grades(graded, tmp_path):
    course = tmp_path / "regrade"
    shutil.copytree(graded["course"], course)
    assignment = ASSIGNMENTS[0]
    before = read_grades(course)[(assignment, "perfect")]
    rows_before = gradebook_row_counts(course)
    info = sample_class.read_course(ROOT, [assignment])[assignment]
    test_cell = next(iter(info.tests))
    with open_gradebook(course) as gb:  # what a grader does in formgrader
        for grade in gb.find_submission_notebook(assignment, assignment, "perfect").grades:
            if grade.name == test_cell:
                grade.manual_score = 0.5
        for comment in gb.find_submission_notebook(assignment, assignment, "perfect").comments:
            comment.manual_comment = f"manual note on {comment.name}"
        gb.db.commit()
    results = grade_class(course, [assignment], students=["perfect", "partial"], workers=2, progress=None)
    assert all(r.ok for r in results)
    after = read_grades(course)[(assignment, "perfect")]
    assert auto_scores(after) == auto_scores(before), "regrading changed autograded scores"
    assert after["cells"][test_cell]["manual_score"] == 0.5, "regrading lost a manual grade"
    assert after["cells"][test_cell]["score"] == 0.5
    comments = {name: cell.get("manual_comment") for name, cell in after["cells"].items() if "manual_comment" in cell}
    assert comments and all(text == f"manual note on {name}" for name, text in comments.items()), comments
    assert auto_scores(read_grades(course)[(assignment, "partial")]) == auto_scores(graded["grades"][(assignment, "partial")])
    assert gradebook_row_counts(course) == rows_before, "regrading added or lost gradebook rows"


def _visible_text(page: str) -> str:
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    return "\n".join(" ".join(line.split()) for line in text.splitlines())


def test_feedback_can_hide_hidden_tests_but_keeps_outcomes(graded):
    course, assignment = graded["course"], ASSIGNMENTS[0]
    nb = nbformat.read(str(ROOT / "source" / assignment / f"{assignment}.ipynb"), as_version=4)
    public, hidden = set(), set()
    for cell in nb.cells:  # hidden lines that appear nowhere else in the notebook
        inside = False
        for line in cell.source.splitlines():
            text = " ".join(line.split())
            if "BEGIN HIDDEN TESTS" in line or "END HIDDEN TESTS" in line:
                inside = "BEGIN" in line
            elif inside:
                hidden.add(text)
            else:
                public.add(text)
    hidden_lines = {line for line in hidden - public if len(line) >= 16 and not line.startswith("#")}
    info = sample_class.read_course(ROOT, [assignment])[assignment]
    assert hidden_lines
    # the page of the partial student only (it has passing and failing tests): rendering is per page
    assert feedback.generate(course, [assignment], hide_hidden_tests=True, progress=None,
                             students=["partial"]) == {assignment: True}
    assert {p.parent.parent.name for p in (course / "feedback").glob(f"*/{assignment}/*.html")} == {"partial"}
    page = (course / "feedback" / "partial" / assignment / f"{assignment}.html").read_text(encoding="utf-8")
    text = _visible_text(page)
    shown = sorted(hidden_lines & set(text.splitlines()))
    assert not shown, f"hidden test code in feedback: {shown[:5]}"
    assert feedback.HIDDEN_PLACEHOLDER.split("(")[1][:12] in text
    scores = re.findall(r"Score: ([\d.]+) / ([\d.]+)", text)
    assert len(scores) >= len(info.tests), "feedback no longer shows each test cell's score"
    assert any(float(s) == 0 for s, _ in scores) and any(float(s) == float(m) > 0 for s, m in scores)
    # nbgrader's default shows them, which is why the option exists
    assert feedback.generate(course, [assignment], hide_hidden_tests=False, progress=None,
                             students=["partial"]) == {assignment: True}
    text = _visible_text((course / "feedback" / "partial" / assignment / f"{assignment}.html").read_text(encoding="utf-8"))
    assert hidden_lines & set(text.splitlines())


def test_grades_export_to_csv(graded, tmp_path):
    target = tmp_path / "grades.csv"
    ((ok, log),) = run_in_workers([("export", [f"--to={target}"])], graded["course"])
    assert ok, log[-2000:]
    rows = target.read_text(encoding="utf-8").splitlines()
    assert len(rows) - 1 == len(STUDENTS) * len(ASSIGNMENTS), rows[:3]


def test_formgrader_sees_names_timestamps_and_exactly_the_written_answers_left_to_grade(graded, tmp_path):
    """What formgrader lists for the demo class: names, submission times, "needs manual grading" where due."""
    from course_tools.demo.tour import grade_written_answers

    course = tmp_path / "formgrader"
    shutil.copytree(graded["course"], course)
    scored = grade_written_answers(course, "perfect", ASSIGNMENTS)
    written = {(a, g) for a, info in sample_class.read_course(ROOT, ASSIGNMENTS).items() for g in info.written}
    assert scored == len(written), "perfect answers every written question"
    waiting = {}
    with open_gradebook(course) as gb:
        for student in STUDENTS:
            record = gb.find_student(student)
            persona = sample_class.PERSONAS[student]
            assert (record.first_name, record.last_name) == (persona.first_name, persona.last_name)
        for index, assignment in enumerate(ASSIGNMENTS):
            for student in (s for a, s in graded["pairs"] if a == assignment):
                submission = gb.find_submission(assignment, student)
                assert submission.timestamp == sample_class.submission_time(student, index), (student, assignment)
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        unscored = grade.auto_score is None and grade.manual_score is None
                        assert grade.needs_manual_grade == unscored, (student, assignment, grade.name)
                        assert not unscored or (assignment, grade.name) in written, (student, grade.name)
                waiting[(student, assignment)] = submission.needs_manual_grade
    assert not any(waiting[("perfect", a)] for a in ASSIGNMENTS), "perfect's scored answers still need grading"
    assert all(waiting[("honest_warnings", a)] for a in ASSIGNMENTS), "unscored written answers must need grading"
    assert not any(waiting[("blank", a)] for a in ASSIGNMENTS), "untouched answers score 0 and need no grader"
