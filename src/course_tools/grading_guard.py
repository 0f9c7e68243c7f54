"""The source of the locked "grading guard" cell placed before any student code in every notebook.

Tests in a notebook must judge the student's values, not whatever the
student's code patched. This cell runs before any solution cell and keeps
its own references to the comparison tools (``math.isclose``,
``numpy.isclose``, ``type``, ...), so a solution that replaces
``np.isclose``/``np.allclose``/``np.testing.*``/``math.isclose`` changes
nothing here, and it checks exact types, so an object whose ``__eq__``
always answers True (a subclass of float, int, str, tuple, list or dict)
is rejected before any ``==`` is evaluated. nbgrader restores the cell's
source when it autogrades, because the cell is locked.
"""

GUARD_SOURCE = '''\
# Grading guard (locked): trusted comparison helpers used by the tests below.
# They keep their own references to math/numpy functions and check exact types,
# so the tests judge your values, not a patched comparison function.
def _make_grading_guard():
    import builtins, math
    import numpy
    _type, _isinstance, _len, _repr, _sorted = builtins.type, builtins.isinstance, builtins.len, builtins.repr, builtins.sorted
    _isclose, _isfinite = math.isclose, math.isfinite
    _asarray, _np_isclose, _np_all, _ndarray = numpy.asarray, numpy.isclose, numpy.all, numpy.ndarray
    _np_abs, _np_unravel = numpy.abs, numpy.unravel_index
    _scalar_types = (bool, int, float, str, type(None))

    def show(value):
        text = _repr(value)
        return text if _len(text) <= 200 else text[:200] + "..."

    def check_type(value, expected_type, what):
        """Fail unless type(value) is exactly expected_type (or one of a tuple of types)."""
        allowed = expected_type if _isinstance(expected_type, tuple) else (expected_type,)
        if _type(value) not in allowed:
            names = " or ".join(t.__name__ for t in allowed)
            raise AssertionError(f"{what} should be of type {names}, but it is {_type(value).__name__}: {show(value)}")

    def check_close(actual, expected, what, rel=1e-9, abs_tol=1e-9):
        """Fail unless actual is a plain float/int within tolerance of expected."""
        check_type(actual, (float, int), what)
        if _type(actual) is bool or not _isfinite(actual) or not _isclose(actual, expected, rel_tol=rel, abs_tol=abs_tol):
            raise AssertionError(f"{what}: expected {expected!r}, got {show(actual)}")

    def check_equal(actual, expected, what):
        """Fail unless actual equals expected with exactly the same types, recursively (floats compared closely).

        A difference inside a list, tuple or dict is named by its place ("element 1", "key 'passed'")
        and the message shows both whole values, so it reads as the behaviour, not as an index."""
        problem = _difference(actual, expected, "")
        if problem is None:
            return
        where, message = problem
        if not where:
            raise AssertionError(f"{what}{message}")
        raise AssertionError(f"{what}: at {where}{message}; the whole value: expected {show(expected)}, "
                             f"got {show(actual)}")

    def _difference(actual, expected, where):
        """(place, message) of the first difference, or None; message starts with ':' or ' should'."""
        if _type(actual) is not _type(expected):
            return where, (f" should be of type {_type(expected).__name__}, but it is "
                           f"{_type(actual).__name__}: {show(actual)}")
        if _type(expected) is float:
            if not _isfinite(actual) or not _isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-9):
                return where, f": expected {expected!r}, got {show(actual)}"
        elif _type(expected) in _scalar_types:
            if not (actual == expected):
                return where, f": expected {show(expected)}, got {show(actual)}"
        elif _type(expected) in (list, tuple):
            if _len(actual) != _len(expected):
                return where, f": expected {_len(expected)} items, got {_len(actual)}: {show(actual)}"
            for i in range(_len(expected)):
                problem = _difference(actual[i], expected[i], f"{where} → element {i}" if where else f"element {i}")
                if problem is not None:
                    return problem
        elif _type(expected) is dict:
            missing = [k for k in expected if k not in actual]
            extra = [k for k in actual if k not in expected]
            if missing or extra:
                return where, f": missing keys {missing}, unexpected keys {extra}"
            for key in expected:
                problem = _difference(actual[key], expected[key], f"{where} → key {key!r}" if where else f"key {key!r}")
                if problem is not None:
                    return problem
        else:
            raise TypeError(f"check_equal cannot compare values of type {_type(expected).__name__}")
        return None

    def check_array_close(actual, expected, what, rtol=1e-7, atol=1e-9):
        """Fail unless actual is a NumPy array of the expected shape, element-wise close to expected."""
        check_type(actual, _ndarray, what)
        expected = _asarray(expected, dtype=float)
        if actual.shape != expected.shape:
            raise AssertionError(f"{what}: expected shape {expected.shape}, got {actual.shape}")
        actual_float = _asarray(actual, dtype=float)
        close = _np_isclose(actual_float, expected, rtol=rtol, atol=atol)
        if not _np_all(close):
            gaps = _np_abs(actual_float - expected)
            where = tuple(int(i) for i in _np_unravel(int(gaps.argmax()), gaps.shape))
            raise AssertionError(f"{what}: {int(close.size - close.sum())} of {close.size} entries differ; the largest "
                                 f"difference is {gaps.max():.3g} at index {where} (expected {float(expected[where])!r}, got "
                                 f"{float(actual_float[where])!r}); expected {show(expected)}, got {show(actual)}")

    return check_type, check_close, check_equal, check_array_close

check_type, check_close, check_equal, check_array_close = _make_grading_guard()
del _make_grading_guard
'''
