"""The student side of trusted grading: what runs inside the sandbox next to the student's code.

It holds no test, no solution and no grade: ``wire`` turns values into plain
data (and back, safely, on the judge's side), and ``runner`` executes the
notebook's cells and answers the judge's calls. Everything here may be read,
patched or replaced by student code; the judge trusts none of it.
"""
