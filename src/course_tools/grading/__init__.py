"""Grading a class: one submission rebuilt from the release (``rebuild``), run by the judge
(``judge``, ``sandbox``) inside nbgrader (``judged_autograde``, ``nbgrader_apps``), into the
gradebook (``gradebook``); a class by local workers or a cluster (``batch``, ``cluster``);
the command (``autograde``)."""
