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
    _getattr, _setattr, _iter, _str = builtins.getattr, builtins.setattr, builtins.iter, builtins.str
    _get, _set_own = builtins.object.__getattribute__, builtins.object.__setattr__
    _BaseException, _Exception, _KeyError = builtins.BaseException, builtins.Exception, builtins.KeyError
    _issubclass = builtins.issubclass
    from traceback import extract_tb as _extract_tb

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

    # The judge's own signals (a time limit, a sandbox that ended) are not the student's exception: they pass as they are.
    _not_the_students = ("StudentTimeout", "SandboxGone", "NotCalledAgain", "SandboxError", "WireError")
    # A method of a student's object, here or (under the judge) in the sandbox.
    _method_types = ("method", "builtin_function_or_method", "method-wrapper", "_BoundMethod")

    def brief(value, width=60):
        text = _repr(value)
        return text if _len(text) <= width else text[:width - 3] + "..."

    def _call_text(name, args, kwargs):
        shown = [brief(a) for a in args] + [f"{k}={brief(v)}" for k, v in kwargs.items()]
        return f"{name}({', '.join(shown)})"

    def _detail(exc):
        """An exception's message, abbreviated; a KeyError's key as written (`'k'`, not `"'k'"`, also when the
        judge has carried it over from the sandbox as the text of the key)."""
        detail = _str(exc)
        if _type(exc) is _KeyError and exc.args:
            key = exc.args[0]
            quoted = _type(key) is str and _len(key) >= 2 and key[0] == key[-1] and key[0] in ("'", '"')
            detail = key if quoted else _repr(key)
        return detail if _len(detail) <= 200 else detail[:197] + "..."

    def _raised(exc, call, expected, before=""):
        if _type(exc).__name__ in _not_the_students or not _isinstance(exc, _Exception):
            return None
        return AssertionError(f"{before}{call} raised {_type(exc).__name__}: {_detail(exc)}; expected {expected}")

    class _Checked:
        """A student's object under test: each method call that raises names the object's making and the calls so far."""

        def __init__(self, target, made, expected):
            _set_own(self, "_target", target)
            _set_own(self, "_made", made)
            _set_own(self, "_expected", expected)
            _set_own(self, "_calls", [])

        def __getattr__(self, name):
            value = _getattr(_get(self, "_target"), name)
            if _type(value).__name__ not in _method_types:
                return value
            calls, made = _get(self, "_calls"), _get(self, "_made")
            expected = _get(self, "_expected")

            def method(*args, **kwargs):
                call = _call_text(name, args, kwargs)
                try:
                    result = value(*args, **kwargs)
                except _BaseException as exc:
                    problem = _raised(exc, call, expected, f"{history(made, calls)}: ")
                    if problem is None:
                        raise
                    raise problem from None
                calls.append(call)
                return result
            return method

        def __setattr__(self, name, value):
            _setattr(_get(self, "_target"), name, value)

        def __len__(self):
            return _len(_get(self, "_target"))

        def __contains__(self, item):
            return item in _get(self, "_target")

        def __iter__(self):
            return _iter(_get(self, "_target"))

        def __getitem__(self, key):
            return _get(self, "_target")[key]

        def __repr__(self):
            return f"<{_get(self, '_made')}>"

    def history(made, calls):
        """'X(window=3), after record(...), record(...)': how an object under test got where it is (the last 6 calls)."""
        if not calls:
            return f"{made}, before any other call"
        recent = calls[-6:]
        skipped = f"{_len(calls) - _len(recent)} earlier calls, then " if _len(calls) > _len(recent) else ""
        return f"{made}, after {skipped}{', '.join(recent)}"

    def calls_so_far(checked):
        """The making and the calls made so far of an object from a class wrapped by `expecting`, for a message."""
        return history(_get(checked, "_made"), _get(checked, "_calls"))

    def expecting(target, expected):
        """`target` (a student's function or class) for use in a test: a call that raises fails naming the call
        with its inputs (abbreviated) and what was expected instead, not a bare "IndexError: i". The objects a
        wrapped class makes are checked the same way, and their messages list the calls made on them so far."""
        # a function's own name, or the name the judge's stand-in for it carries
        name = _getattr(target, "__name__", None) or _getattr(target, "_name", None) or "the call"

        def call(*args, **kwargs):
            text = _call_text(name, args, kwargs)
            try:
                result = target(*args, **kwargs)
            except _BaseException as exc:
                problem = _raised(exc, text, expected)
                if problem is None:
                    raise
                raise problem from None
            # an object the student's class made (here, or its handle under the judge) is checked the same way
            made_an_object = _isinstance(target, type) or _type(result).__name__ == "Handle"
            return _Checked(result, text, expected) if made_an_object else result
        return call

    class explain_failures:
        """A `with` block around a hidden test: when the test trips on a student's value (a missing key, a tuple
        that does not unpack, ...), fail naming the behaviour, the line of the test and what was expected instead.
        A call through `expecting` that raised has already said so: its failure passes as it is."""

        def __init__(self, behaviour, expected):
            self.behaviour, self.expected = behaviour, expected

        def __enter__(self):
            return None

        def __exit__(self, exc_type, exc, tb):
            if exc_type is None or not _issubclass(exc_type, _Exception) or _issubclass(exc_type, AssertionError):
                return False
            if exc_type.__name__ in _not_the_students:
                return False
            frames = _extract_tb(tb)
            line = (frames[0].line or "").strip() if frames else ""
            where = f"`{line}` raised" if line else "the code under test raised"
            raise AssertionError(f"{self.behaviour}: {where} {exc_type.__name__}: {_detail(exc)}; "
                                 f"expected {self.expected}") from None

    return check_type, check_close, check_equal, check_array_close, expecting, calls_so_far, explain_failures

(check_type, check_close, check_equal, check_array_close, expecting, calls_so_far,
 explain_failures) = _make_grading_guard()
del _make_grading_guard
'''
