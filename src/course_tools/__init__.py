"""Instructor tooling for the course: building notebooks, grading a class, rendering the reader's edition."""
