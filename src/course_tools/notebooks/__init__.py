"""The course notebooks as files: the one reader of nbgrader cell metadata (``cells``), the
authoring twins (``authoring``), the student versions (``generate``) and the grading guard cell."""
