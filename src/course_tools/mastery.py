"""Mastery levels from grades: Beginner, Intermediate, Advanced, Expert.

The levels follow the course's three parts, each building on the one before:

============== ===============================================================
level          reached when
============== ===============================================================
Beginner       every student starts here
Intermediate   at least 80 % of the graded points of ``01_testing``
               (testing a model: normalization, safe prediction, a test suite,
               gradient check, evaluation, calibration)
Advanced       Intermediate, and at least 80 % of ``02_monitoring``
               (confidence intervals, z-test, degradation alerts, PSI,
               rolling monitor, alert manager)
Expert         Advanced, and at least 80 % of ``03_continuous_training``
               (buffers, retraining policy, registry, McNemar gate, sample
               size, bandit routing, the capstone loop)
============== ===============================================================

"Graded points" are the autograded test cells plus any written answer a
grader has already scored; written answers still waiting for a human count
neither for nor against. A submission nbgrader could not grade (its kernel
died) scores 0 for its part.
"""

from __future__ import annotations

LEVELS = ("Beginner", "Intermediate", "Advanced", "Expert")
UNLOCKS = (("01_testing", "Intermediate"), ("02_monitoring", "Advanced"), ("03_continuous_training", "Expert"))
THRESHOLD = 0.8


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


def level(fractions: dict[str, float], threshold: float = THRESHOLD) -> str:
    """The highest level whose parts (and all earlier parts) reach ``threshold``."""
    reached = LEVELS[0]
    for assignment, unlocked in UNLOCKS:
        if assignment not in fractions or fractions[assignment] < threshold:
            break
        reached = unlocked
    return reached


def levels(grades: dict, students: list[str], assignments: list[str]) -> dict[str, str]:
    """Mastery level per student from ``autograde.read_grades`` output."""
    return {student: level({a: graded_fraction(grades.get((a, student))) for a in assignments})
            for student in students}
