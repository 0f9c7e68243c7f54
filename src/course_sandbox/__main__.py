"""``python -m course_sandbox FD``: serve the judge on the inherited socket FD (see ``runner``)."""

import sys

from course_sandbox.runner import main

sys.exit(main(sys.argv))
