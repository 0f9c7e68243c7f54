"""`make demo`: the instructor's tour of the course.

0. the model story: the pretrained model, its drop after the drift, retraining;
1. regenerate the student versions from source/ and check they match the committed release/;
2. build a synthetic class, one student per persona, in ``.sample_class/`` (git-ignored, rebuilt each time);
3. autograde every assignment with 2 worker processes: each submission rebuilt from the release, its
   code run in a bubblewrap sandbox, its tests in the trusted judge; the review list; then feedback
   (hidden tests hidden, student markup sanitized);
4. export the grades with ``nbgrader export``;
5. write the reader's edition (executed reference notebooks as HTML) into ``notebooks/``;
6. print each student's score per assignment and mastery level.

The course is ``--root``, else the working directory's course (the folder holding ``course.toml``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

import nextword as nw
from ..course import course_root, load

SAMPLE_CLASS = ".sample_class"  # inside the course folder, git-ignored
# The demo class is a course of its own: its own id and its own exchange (inside .sample_class), so its
# formgrader never lists the live class's assignments, and `nbgrader list` of a student never the demo's.
DEMO_COURSE_SUFFIX = "-demo"


def demo_config(root: Path) -> str:
    """What the demo class's nbgrader_config.py adds to the course's: its course id and exchange."""
    from ..course import load

    return ("# the demo class (course_tools.demo.tour): its own course id and exchange, apart from the live class\n"
            f"c.CourseDirectory.course_id = {load(root).id + DEMO_COURSE_SUFFIX!r}\n"
            "c.Exchange.root = str(COURSE_ROOT / 'exchange')\n")


def _accuracy(model: nw.NextWordModel, examples) -> float:
    words, targets = nw.encode_examples(examples, model.vocab)
    return float(np.mean(model.predict_proba(words).argmax(axis=1) == targets))


def show_model_story() -> None:
    """Train the pretrained model, then show its accuracy before and after the drift and after retraining."""
    start = time.perf_counter()
    model = nw.pretrained_model()
    seconds = time.perf_counter() - start
    fresh_a = nw.make_examples(20_000, seed=101, regime="A")
    fresh_b = nw.make_examples(20_000, seed=102, regime="B")
    retrained = model.copy()
    retrained.fit(nw.make_examples(3000, seed=7, regime="B"), epochs=20, lr=0.1, seed=0)
    print(f"pretrained_model() trained in {seconds:.2f} s")
    print(f"{'':32}{'regime A':>10}{'regime B':>10}")
    print(f"{'best last-word predictor':32}{nw.best_last_word_accuracy(fresh_a):>10.3f}{nw.best_last_word_accuracy(fresh_b):>10.3f}")
    print(f"{'pretrained model':32}{_accuracy(model, fresh_a):>10.3f}{_accuracy(model, fresh_b):>10.3f}")
    print(f"{'retrained on regime B':32}{_accuracy(retrained, fresh_a):>10.3f}{_accuracy(retrained, fresh_b):>10.3f}")


def step(number: int, title: str) -> None:
    print(f"\n== {number}. {title} ==", flush=True)


def check_release(assignments: list[str], root: Path) -> bool:
    from ..notebooks.generate import check

    problems = check(assignments, root)
    for line in problems:
        print("  out of sync:", line)
    print("  release/ matches source/" if not problems else
          "  release/ is OUT OF SYNC with source/: run `make generate` and commit release/")
    return not problems


def grade_written_answers(course_dir: Path, student: str, assignments: list[str]) -> int:
    """What an instructor does in formgrader, through nbgrader's Gradebook API: score written answers.

    Like formgrader's save, a scored answer no longer needs manual grading, so formgrader shows
    "needs manual grading" only where a written answer still has no score.
    """
    from ..grading.gradebook import open_gradebook

    count = 0
    with open_gradebook(course_dir) as gb:
        for assignment in assignments:
            try:
                submission = gb.find_submission(assignment, student)
            except Exception:
                continue
            for notebook in submission.notebooks:
                scored = set()
                for grade in notebook.grades:
                    if grade.auto_score is None and grade.manual_score is None:
                        grade.manual_score = grade.max_score
                        grade.needs_manual_grade = False  # what formgrader's save does (its GradeHandler.put)
                        scored.add(grade.name)
                        count += 1
                for comment in notebook.comments:
                    if comment.name in scored:
                        comment.manual_comment = "Clear and well argued."
        gb.db.commit()
    return count


def summary(root: Path, course_dir: Path, assignments: list[str], results, students) -> list[list[str]]:
    from ..grading.gradebook import read_grades
    from ..publish import mastery
    from .sample_class import expected_scores

    grades = read_grades(course_dir)
    expected = expected_scores(root, assignments, students)
    failed = {(r.assignment, r.student): r for r in results if not r.ok}
    course = load(root)
    levels = mastery.levels(grades, list(students), course)
    rows = []
    mismatches = []
    for student in students:
        row = [student]
        for assignment in assignments:
            record = grades.get((assignment, student))
            if (assignment, student) in failed:
                cell = "NOT GRADED"
            elif record is None:
                cell = "-"
            else:
                cell = f"{record['score']:g}/{record['max_score']:g}"
                waiting = sum(c["max_score"] for c in record["cells"].values() if "max_score" in c
                              and c.get("auto_score") is None and c.get("manual_score") is None)
                if waiting:
                    cell += f" ({waiting:g} to grade)"
                auto = sum(c.get("auto_score") or 0 for c in record["cells"].values() if "max_score" in c)
                if expected.get((student, assignment)) is not None and abs(auto - expected[(student, assignment)]) > 1e-9:
                    mismatches.append(f"{student}/{assignment}: autograded {auto:g}, predicted {expected[(student, assignment)]:g}")
            row.append(cell)
        row.append(levels[student])
        rows.append(row)
    header = ["student"] + assignments + ["mastery"]
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    print("  " + "  ".join(h.ljust(w) for h, w in zip(header, widths)))
    for row in rows:
        print("  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths)))
    for (assignment, student), result in failed.items():
        print(f"  not graded: {student} / {assignment}: {result.reason}")
    print("  score/max: points so far out of every point of the assignment, written answers included.\n"
          "  Written answers are graded by hand (formgrader); until then each counts 0 in the score, its points\n"
          "  show as \"to grade\", and the mastery level leaves it out (it reckons only graded points).\n"
          "  This demo scores `perfect`'s written answers only; blank or untouched answers score 0 automatically.\n"
          f"  Mastery: {course.mastery_threshold:.0%} of a part's graded points unlocks its level "
          "(course.toml; see course_tools/publish/mastery.py).")
    if mismatches:
        print("  autograded scores that differ from the prediction made from the notebooks' metadata:")
        for line in mismatches:
            print("   ", line)
    else:
        print("  every autograded score equals the prediction made from the notebooks' metadata")
    return rows


def run_tour(root: Path, workers: int = 2, skip_reader: bool = False) -> int:
    from ..course import available_assignments
    from ..grading.batch import grade_class
    from ..grading.nbgrader_apps import ensure_venv_on_path, run_in_workers
    from ..grading.sandbox import sandbox_status
    from ..grading.submission import print_review_list
    from ..publish import feedback, reader_edition
    from . import sample_class

    ensure_venv_on_path()  # nbgrader runs `alembic` from the environment's bin folder
    os.environ.setdefault("MPLBACKEND", "Agg")
    assignments = available_assignments(root)
    sample = root / SAMPLE_CLASS
    ok = True
    tour_start = time.perf_counter()

    step(1, "Student versions: regenerate release/ from source/ and compare with the committed copy")
    ok &= check_release(assignments, root)

    step(2, f"A synthetic class of {len(sample_class.STUDENTS)} students, built from the notebooks in {SAMPLE_CLASS}/")
    sample_class.make_course(sample, root, assignments, extra_config=demo_config(root))
    sample_class.write_class(sample, root, assignments)
    for persona in sample_class.PERSONAS.values():
        print(f"  {persona.name:<20} {persona.does}")

    step(3, f"Autograde with {workers} worker processes (sandboxed student code, trusted judge), then feedback")
    available, how = sandbox_status()
    if not available:
        print("!" * 78)
        print("!! NO SANDBOX: this tour grades its own bundled sample class UNSANDBOXED.")
        print(f"!! {how}")
        print("!! Real submissions are refused without it (course_tools.grading.autograde exits with an error).")
        print("!" * 78)
    results = grade_class(sample, assignments, workers=workers, unsafe_no_sandbox=not available)
    print_review_list(results, say=lambda line: print("  " + line))
    scored = grade_written_answers(sample, "perfect", assignments)
    print(f"  an instructor scores {scored} written answers of `perfect` (nbgrader Gradebook API, as formgrader does)")
    feedback.generate(sample, assignments, hide_hidden_tests=True)

    step(4, "Export grades (nbgrader export)")
    grades_csv = sample / "grades.csv"
    (export_ok, log), = run_in_workers([("export", [f"--to={grades_csv}"])], sample)
    print(f"  {grades_csv.relative_to(root)}: {len(grades_csv.read_text().splitlines()) - 1} rows"
          if export_ok else f"  export FAILED:\n{log[-1500:]}")
    ok &= export_ok

    step(5, "Reader's edition: executed reference notebooks rendered to HTML in notebooks/")
    if skip_reader:
        print("  skipped (--skip-reader)")
    else:
        reader_edition.build(assignments, root)

    step(6, "Summary")
    summary(root, sample, assignments, results, sample_class.STUDENTS)
    print(f"\nTour finished in {time.perf_counter() - tour_start:.0f} s. Open the graded class in formgrader:\n"
          f"  cd {SAMPLE_CLASS} && ../.venv/bin/jupyter lab   (then Nbgrader → Formgrader)")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-j", "--workers", type=int, default=2)
    parser.add_argument("--skip-reader", action="store_true", help="do not rebuild notebooks/")
    parser.add_argument("--root", default=None, help="the course folder (default: the working directory's course)")
    args = parser.parse_args(argv)
    root = Path(args.root).resolve() if args.root else course_root()
    print("== The model and its drift ==")
    show_model_story()
    return run_tour(root, args.workers, args.skip_reader)


if __name__ == "__main__":
    sys.exit(main())
