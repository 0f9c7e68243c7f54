"""The tour of the course (``tour``, ``course demo``) and the synthetic class it grades (``sample_class``)."""
