"""What a grading worker imports before its first submission: imported once, by the server its workers fork from.

``nbgrader_apps.worker_context`` preloads this module in multiprocessing's fork server (a worker started as a
new Python imports it in ``prepare_worker``), so every worker of every pool starts with nbgrader, the trusted
pipeline and what the course's locked cells import in the judge (NumPy, pyplot, ipywidgets, nextword) already
loaded: 2 s of CPU per worker that a new Python would spend importing them. (Feedback workers import the
course's preprocessors themselves: ``grading`` imports nothing from ``publish``, which sits above it.)
"""

import importlib

import matplotlib

#: Imported in this order; the tests check that each is in ``sys.modules`` of a worker before its first job.
MODULES = ("ipywidgets", "matplotlib.pyplot", "numpy", "nextword", "nbgrader.apps.autogradeapp",
           "nbgrader.apps.generatefeedbackapp", "nbgrader.apps.generateassignmentapp", "nbgrader.apps.exportapp",
           "course_tools.grading.submission")

# The judge draws nothing and must never open a window; a worker cannot choose once pyplot is imported.
matplotlib.use("Agg")
for _name in MODULES:
    importlib.import_module(_name)
