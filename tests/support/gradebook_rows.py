"""Gradebook consistency for the tests and benchmarks: rows per table, and rows recorded twice."""

from __future__ import annotations

from pathlib import Path

from course_tools.grading.gradebook import db_url_for


def gradebook_row_counts(root: str | Path, db_url: str | None = None) -> dict:
    """Row counts per gradebook table and duplicate (student, assignment, cell) grades, to check consistency."""
    import sqlalchemy as sa

    engine = sa.create_engine(db_url or db_url_for(root))
    counts = {}
    with engine.connect() as conn:
        for table in ("student", "submitted_assignment", "submitted_notebook", "grade", "comment"):
            counts[table] = conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar()
        counts["duplicate_grades"] = conn.execute(sa.text(
            "SELECT COUNT(*) FROM (SELECT notebook_id, cell_id FROM grade "
            "GROUP BY notebook_id, cell_id HAVING COUNT(*) > 1) AS duplicates")).scalar()
        counts["duplicate_submissions"] = conn.execute(sa.text(
            "SELECT COUNT(*) FROM (SELECT assignment_id, student_id FROM submitted_assignment "
            "GROUP BY assignment_id, student_id HAVING COUNT(*) > 1) AS duplicates")).scalar()
    engine.dispose()
    return counts
