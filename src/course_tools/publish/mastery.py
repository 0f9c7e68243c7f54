"""Mastery levels from grades, as the course manifest (``course.toml``) defines them.

Every student starts at the manifest's first level (``[course] levels``). The assignments, in
course order, each build on the one before: assignment *k* unlocks its level (its ``unlocks``)
when the student reaches it and earns at least ``mastery_threshold`` of that assignment's graded
points.

"Graded points" are the autograded test cells plus any written answer a
grader has already scored; written answers still waiting for a human count
neither for nor against. A submission nbgrader could not grade (its kernel
died) scores 0 for its part.
"""

from __future__ import annotations

from ..course import Course


def graded_fraction(record: dict | None) -> float:
    """Share of the points earned among cells that have a score (auto or manual); 0 for no record."""
    if not record:
        return 0.0
    earned = possible = 0.0
    for cell in record["cells"].values():
        if "max_score" not in cell:
            continue
        if cell.get("auto_score") is None and cell.get("manual_score") is None:
            continue  # a written answer waiting for a grader
        earned += cell["score"]
        possible += cell["max_score"]
    return earned / possible if possible else 0.0


def level(fractions: dict[str, float], course: Course) -> str:
    """The highest level whose assignment (and every earlier one) reaches the course's threshold."""
    reached = course.levels[0]
    for assignment in course.assignments:
        if fractions.get(assignment.name, 0.0) < course.mastery_threshold:
            break
        reached = assignment.unlocks
    return reached


def levels(grades: dict, students: list[str], course: Course) -> dict[str, str]:
    """Mastery level per student from ``gradebook.read_grades`` output."""
    return {student: level({a.name: graded_fraction(grades.get((a.name, student))) for a in course.assignments},
                           course)
            for student in students}
