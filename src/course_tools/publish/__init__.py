"""What leaves the grader: feedback pages, peer-review packets, the reader's edition and its
assets, the students' bundle, the nbgrader exchange, exports for an LMS and mastery levels."""
