"""The reader's edition shows every *Going further* study's output, which a student's notebook only offers behind a button.

Reviewers read the pages without a kernel, so a button would show them nothing: the build runs each study at
once (``COURSE_RUN_STUDIES=1``, ``nextword.studies``). These checks read the committed pages.
"""

import html
import re
from pathlib import Path

import nbformat
import pytest

from course_tools.course import available_assignments
from nextword.studies import NOT_RUN
from support.studies import study_cells

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = available_assignments(ROOT)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_reader_s_edition_shows_every_study_s_output(assignment):
    studies = study_cells(nbformat.read(str(ROOT / "source" / assignment / f"{assignment}.ipynb"), as_version=4))
    page = html.unescape((ROOT / "notebooks" / f"{assignment}.html").read_text(encoding="utf-8"))
    assert NOT_RUN not in page, (f"notebooks/{assignment}.html offers a study instead of showing it: rebuild it with "
                                 "`python -m course_tools.publish.reader_edition --force`")
    for _, measures in studies:
        shown = re.search(rf"<pre>Study: {re.escape(measures)}\n(.*?)</pre>", page, re.S)
        assert shown, f"notebooks/{assignment}.html lacks the study {measures!r}: rebuild the reader's edition"
        assert shown.group(1).strip(), f"the study {measures!r} printed nothing in notebooks/{assignment}.html"
