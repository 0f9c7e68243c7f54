"""What a grading worker imports before its first submission: imported once, by the server its workers fork from.

``nbgrader_apps.worker_context`` preloads this module in multiprocessing's fork server, so every worker of
every pool starts with nbgrader, the trusted pipeline and what the course's locked cells import in the judge
(NumPy, pyplot, ipywidgets, nextword) already loaded: 2 s of CPU per worker that a new Python would spend
importing them. (Feedback workers import the course's preprocessors themselves: ``grading`` imports nothing
from ``publish``, which sits above it.)
"""

import ipywidgets  # noqa: F401
import matplotlib

# The judge draws nothing and must never open a window; a worker cannot choose once pyplot is imported.
matplotlib.use("Agg")

import matplotlib.pyplot  # noqa: E402,F401
import nbgrader.apps.autogradeapp  # noqa: E402,F401
import nbgrader.apps.exportapp  # noqa: E402,F401
import nbgrader.apps.generateassignmentapp  # noqa: E402,F401
import nbgrader.apps.generatefeedbackapp  # noqa: E402,F401
import numpy  # noqa: E402,F401

import nextword  # noqa: E402,F401

from . import submission  # noqa: E402,F401

#: Checked by the tests: each is in ``sys.modules`` of a worker before its first job.
MODULES = ("nbgrader.apps.autogradeapp", "nbgrader.apps.generatefeedbackapp", "nbgrader.apps.generateassignmentapp",
           "nbgrader.apps.exportapp", "course_tools.grading.submission", "numpy",
           "matplotlib.pyplot", "ipywidgets", "nextword")
