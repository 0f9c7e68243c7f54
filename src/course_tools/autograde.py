"""``python -m course_tools.autograde``, the documented instructor command (``course grade``):
an alias of ``course_tools.grading.autograde``, where the code lives."""

import sys

from course_tools.grading.autograde import *  # noqa: F401,F403  (what `from course_tools.autograde import X` found)
from course_tools.grading.autograde import main

if __name__ == "__main__":
    sys.exit(main())
