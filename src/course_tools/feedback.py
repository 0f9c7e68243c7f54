"""``python -m course_tools.feedback``, the documented instructor command (``course feedback``):
an alias of ``course_tools.publish.feedback``, where the code lives."""

import sys

from course_tools.publish.feedback import *  # noqa: F401,F403  (what `from course_tools.feedback import X` found)
from course_tools.publish.feedback import main

if __name__ == "__main__":
    sys.exit(main())
