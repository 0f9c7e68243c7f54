"""Generate students' feedback with nbgrader, optionally hiding the source of hidden tests.

    python -m course_tools.feedback                   # every autograded assignment, hidden tests hidden
    python -m course_tools.feedback --show-hidden     # nbgrader's default: hidden tests shown in full

nbgrader's ``generate_feedback`` renders the autograded notebook, and the
autograded notebook holds the hidden tests (autograding puts them back), so by
default students see every hidden test. ``HideHiddenTests`` is an ordinary
nbgrader preprocessor added to ``GenerateFeedback.preprocessors``: in each
test cell with a ``### BEGIN HIDDEN TESTS`` region it replaces the region by
one comment line and shortens the cell's error traceback (which would quote
the failing hidden line) to ``ErrorName: message``. Each test still shows its
points, whether it passed, and the failure message the test author wrote.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Unicode

COURSE_ROOT = Path(__file__).resolve().parents[2]

HIDDEN_PLACEHOLDER = "# (hidden tests: their code is not shown; the outcome and message below are)"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class HideHiddenTests(Preprocessor):
    """Replace hidden-test regions by a placeholder and reduce their tracebacks to the error message."""

    begin = Unicode("BEGIN HIDDEN TESTS").tag(config=True)
    end = Unicode("END HIDDEN TESTS").tag(config=True)
    placeholder = Unicode(HIDDEN_PLACEHOLDER).tag(config=True)
    enabled = Bool(True).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or self.begin not in cell.source:
            return cell, resources
        kept, hiding = [], False
        for line in cell.source.split("\n"):
            if self.begin in line:
                hiding = True
                kept.append(line[: len(line) - len(line.lstrip())] + self.placeholder)
            elif self.end in line:
                hiding = False
            elif not hiding:
                kept.append(line)
        cell.source = "\n".join(kept)
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                message = _ANSI.sub("", f"{output.get('ename', 'Error')}: {output.get('evalue', '')}")
                output["traceback"] = [message]
        return cell, resources


FEEDBACK_PREPROCESSORS = [
    "nbgrader.preprocessors.GetGrades",
    "course_tools.feedback.HideHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]


def generate(root: str | Path = COURSE_ROOT, assignments: list[str] | None = None, hide_hidden_tests: bool = True,
             progress=print, workers: int = 2) -> dict[str, bool]:
    """Run ``nbgrader generate_feedback <assignment> --student=<id> --force`` for every autograded submission.

    Rendering is slow-ish (about a second a page), so submissions are shared among ``workers`` processes.
    """
    from .autograde import run_in_worker_many

    root = Path(root)
    if assignments is None:
        assignments = sorted({p.name for p in (root / "autograded").glob("*/*") if p.is_dir()})
    config = {"GenerateFeedback": {"preprocessors": FEEDBACK_PREPROCESSORS}} if hide_hidden_tests else None
    say = progress or (lambda *_: None)
    say(f"generating feedback for {', '.join(assignments)} "
        f"({'hidden tests hidden' if hide_hidden_tests else 'hidden tests shown'}) ...")
    todo = [(a, p.parent.name) for a in assignments for p in sorted((root / "autograded").glob(f"*/{a}")) if p.is_dir()]
    outcomes = run_in_worker_many([("generate_feedback", [a, f"--student={s}", "--force"], config) for a, s in todo],
                                  root, workers)
    done = {a: True for a in assignments}
    for (assignment, student), (ok, log) in zip(todo, outcomes):
        if not ok:
            done[assignment] = False
            say(f"  feedback for {student} / {assignment} FAILED:\n{log[-2000:]}")
    count = len(list((root / "feedback").glob("*/*/*.html")))
    say(f"  {count} feedback pages under {root / 'feedback'}")
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignments", nargs="*")
    parser.add_argument("--root", default=str(COURSE_ROOT))
    parser.add_argument("--show-hidden", action="store_true", help="nbgrader's default: show hidden tests")
    args = parser.parse_args(argv)
    done = generate(args.root, args.assignments or None, hide_hidden_tests=not args.show_hidden)
    return 0 if all(done.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
