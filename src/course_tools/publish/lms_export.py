"""Grades for a learning platform's gradebook: one row per student, one column per assignment.

    nbgrader export --exporter=course_tools.publish.lms_export.LmsExportPlugin --to=lms_grades.csv

nbgrader's own ``CsvExportPlugin`` writes one row per (assignment, student), keyed by nbgrader's
student id, which is the hub's login name. An LMS gradebook import (Canvas, Moodle, Blackboard) wants
the opposite shape: one row per student, keyed by the LMS's own user id, and one column per
assignment. The LMS id comes from the gradebook's ``lms_user_id`` (set from the roster CSV's
``lms_user_id`` column by ``nbgrader db student import`` or ``python -m course_tools.hub roster``;
with jupyterhub-ltiauthenticator the LTI launch gives it).

Columns: ``lms_user_id, student_id, last_name, first_name, email``, then one per assignment (course
order of the gradebook, by due date then name) holding the final score (after any late penalty). An
assignment's column is named ``<assignment> (<max score>)``, so a reader sees the points it is out of (Canvas ignores the parenthesis when matching; rename the
columns to your LMS's assignment names if it matches by title). A student who did not submit gets an
empty cell, which LMS imports treat as "no grade" rather than a zero; ``--LmsExportPlugin.missing=0``
writes zeros instead. Students without an LMS id are exported with an empty first column and listed
in a warning, so nobody is dropped silently.
"""

from __future__ import annotations

import csv

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin
from traitlets import Unicode

IDENTITY_COLUMNS = ("lms_user_id", "student_id", "last_name", "first_name", "email")


def assignment_column(name: str, max_score: float) -> str:
    """The header of an assignment's column: its name and the points it is out of."""
    return f"{name} ({max_score:g})"


class LmsExportPlugin(ExportPlugin):
    """One row per student keyed by the LMS user id, one column per assignment (final score)."""

    missing = Unicode("", help="what a student who did not submit gets (empty: no grade)").tag(config=True)

    def export(self, gradebook: Gradebook) -> None:
        dest = self.to or "lms_grades.csv"
        wanted_students = {str(s) for s in self.student}
        wanted_assignments = {str(a) for a in self.assignment}
        assignments = [a for a in sorted(gradebook.assignments, key=lambda a: (a.duedate is None, a.duedate or 0, a.name))
                       if not wanted_assignments or a.name in wanted_assignments]
        students = [s for s in sorted(gradebook.students, key=lambda s: s.id)
                    if not wanted_students or s.id in wanted_students]
        without_lms_id = []
        with open(dest, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow([*IDENTITY_COLUMNS, *(assignment_column(a.name, a.max_score) for a in assignments)])
            for student in students:
                if not student.lms_user_id:
                    without_lms_id.append(student.id)
                row = [student.lms_user_id or "", student.id, student.last_name or "", student.first_name or "",
                       student.email or ""]
                for assignment in assignments:
                    try:
                        submission = gradebook.find_submission(assignment.name, student.id)
                    except MissingEntry:
                        row.append(self.missing)
                    else:
                        row.append(f"{submission.score:g}")
                writer.writerow(row)
        self.log.info("Exported %d students x %d assignments to %s", len(students), len(assignments), dest)
        if without_lms_id:
            self.log.warning("No lms_user_id for %s: add it to the roster (python -m course_tools.hub roster)",
                             ", ".join(without_lms_id))
