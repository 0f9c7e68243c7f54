# %% [markdown]
# # Assignment 2 — Monitoring, drift and alerts
#
# In assignment 1 you tested the next-word model *before* it shipped. Now it is in production, and the
# question changes: **is it still working, and how would we know?**
#
# The original exercise this course grows out of answered that question badly:
#
# * it raised an alert for a **15-point accuracy drop (its "15%") measured on 10 examples** — a drop that pure chance produces
#   all the time;
# * it compared **mean** response times, which hide the slow requests users actually notice;
# * it "monitored" by **sleeping 30 seconds in a loop**, so a day of traffic took a day to test.
#
# This notebook replaces each of those with something you can trust:
#
# 1. **Sampling noise, seen with your own eyes** — Wilson confidence intervals (`wilson_interval`).
# 2. **Degradation you can trust** — a significance test plus a minimum effect, an explicit "not enough
#    data" state, and latency judged by its p95 against an SLO (`two_proportion_z_test`, `detect_degradation`).
# 3. **Input drift** — the population stability index over last-word frequencies (`population_stability_index`).
# 4. **A rolling health monitor** over a bounded window (`RollingMonitor`).
# 5. **An alert manager** that raises one alert per incident (`AlertManager`).
# 6. **Production, simulated** — the library's `ProductionStream` runs through a drift on a *simulated* clock:
#    nothing sleeps, and 50 simulated minutes run in a fraction of a second. You will measure how fast your monitor
#    notices the drift and how often it cries wolf, and explore that trade-off with sliders.
#
# **Time: about 115 minutes**, one lab session: the core path (sections 1 – 7), part by part (reading, running
# the demos, writing and testing each function). The *Going further* section after the written answer
# (sequential tests, a change detector, drift on this stream) is ungraded and outside that time.
#
# | part | minutes |
# |---|---|
# | introduction, and 1. sampling noise (`wilson_interval`) | 16 |
# | 2. degradation you can trust (`two_proportion_z_test`, `detect_degradation`) | 30 |
# | 3. input drift (`population_stability_index`) | 12 |
# | 4. a rolling health monitor (`RollingMonitor`) | 13 |
# | 5. an alert manager (`AlertManager`) | 15 |
# | 6. production, simulated (read and run; nothing to write) | 17 |
# | 7. written answer, summary | 12 |
#
# **Points.** Every notebook of the course is scored out of 100 points, so grades and the mastery threshold
# read the same way in each.
#
# | exercise | points |
# |---|---|
# | `wilson_interval` | 10 |
# | `two_proportion_z_test` | 10 |
# | `detect_degradation` | 20 |
# | `population_stability_index` | 10 |
# | `RollingMonitor` | 15 |
# | `AlertManager` | 20 |
# | written answer: when a drop is evidence | 15 |
# | **total** | **100** |
#
# Each graded exercise has **visible tests** you can run now and **hidden tests** that run only when your work is
# graded, one cell per behaviour, so your grade says which behaviour is wrong. Passing the visible tests does not
# prove your answer is right: the hidden tests check edge cases and exact types too, so read each statement
# carefully. Do not redefine the names the locked cells provide (`VOCAB`, `BASE_MODEL`, `check_equal`,
# `expect_raises`, ...): the demos and the tests use them.
#
# **Rules.** Use only the standard library, NumPy, Matplotlib and ipywidgets. The normal distribution comes from
# the standard library (`statistics.NormalDist` or `math.erf`) — no SciPy. Return plain Python `float`s, `int`s,
# `str`s, `list`s, `tuple`s and `dict`s where the statement says so (`float(x)` turns a NumPy number into one).

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import math
from collections import Counter, deque
from statistics import NormalDist

import numpy as np
import matplotlib.pyplot as plt
import ipywidgets as widgets
from IPython.display import display

from nextword import Feedback, ProductionStream, default_vocabulary, encode_examples, make_examples, pretrained_model

# The fixtures the demos share (UPPER_CASE, the same names in every notebook of the course).
VOCAB = default_vocabulary()
print("loading the pretrained model (trained on regime A; its weights ship with nextword) ...", flush=True)
BASE_MODEL = pretrained_model(seed=0)  # the deployed model: trained on regime A, deterministic
print(f"vocabulary: {len(VOCAB)} words; model: {BASE_MODEL}")


# %% nbgrader={"grade": false, "grade_id": "grading_guard", "locked": true, "schema_version": 3, "solution": false, "task": false}
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


# %% nbgrader={"grade": false, "grade_id": "provided_helpers", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Provided helpers (locked): used by the tests.
def expect_raises(exc_type, func, *args, what="the call", hint="", **kwargs):
    """Call func(*args, **kwargs); fail with a clear message unless it raises exc_type."""
    try:
        result = func(*args, **kwargs)
    except exc_type:
        return
    except Exception as exc:
        raise AssertionError(f"{what} should raise {exc_type.__name__}, but it raised {type(exc).__name__}: {exc}. {hint}") from None
    raise AssertionError(f"{what} should raise {exc_type.__name__}, but it returned {result!r}. {hint}")


def check_alert_sequence(steps, cooldown=None, consecutive=None, manager=None):
    """Feed (t, firing, expected, rule) steps to an AlertManager; fail naming its parameters and the updates so far.

    A new AlertManager(cooldown=..., consecutive=...) is made unless `manager` is given (None keeps a default).
    Returns the manager, for checks of its `active` set.
    """
    settings = {name: value for name, value in (("cooldown", cooldown), ("consecutive", consecutive)) if value is not None}
    made = "AlertManager(" + ", ".join(f"{name}={value}" for name, value in settings.items()) + ")"
    if manager is None:
        manager = AlertManager(**settings)
    history = []
    for t, firing, expected, rule in steps:
        call = f"update({t}, {sorted(firing)})"
        before = "no update before" if not history else "after " + ", ".join(history)
        try:
            raised = manager.update(t, set(firing))
        except Exception as exc:
            raise AssertionError(f"{made}, {before}: {call} raised {type(exc).__name__}: {exc}; expected it to return "
                                 f"{expected} ({rule})") from None
        if type(raised) is not list or any(type(name) is not str for name in raised) or raised != expected:
            raise AssertionError(f"{made}, {before}: {call} returned {raised!r}; expected {expected} ({rule})")
        history.append(f"{call} -> {raised}")
    return manager


# %% [markdown]
# ## 1. Sampling noise, seen with your own eyes
#
# An accuracy measured on `n` examples is itself a random number. If the model's true accuracy is `p`, the
# number of correct answers `k` is binomial, and `k / n` scatters around `p` with a standard deviation of
# `sqrt(p (1 - p) / n)`. For `p = 0.62` and `n = 10` that is **0.15**: a 15-point drop (0.62 → 0.47, what the original called "15%") is a one-standard-deviation
# wobble.
#
# A **confidence interval** makes that visible. The textbook interval `p̂ ± z·sqrt(p̂(1-p̂)/n)` (Wald) breaks
# down for small `n` and for `p̂` near 0 or 1 (for 0 out of 10 it claims the interval `[0, 0]`!). The
# **Wilson score interval** is the set of `p` for which `k` successes are not surprising, and behaves well
# everywhere. With `p̂ = k / n`:
#
# $$\text{centre} = \frac{\hat p + \frac{z^2}{2n}}{1 + \frac{z^2}{n}}, \qquad
#   \text{half-width} = \frac{z}{1 + \frac{z^2}{n}} \sqrt{\frac{\hat p (1-\hat p)}{n} + \frac{z^2}{4n^2}}$$
#
# ### Exercise 1 (10 points): `wilson_interval(k, n, z=1.96)`
#
# Return the Wilson interval `(lower, upper)` for `k` successes in `n` trials, as a `tuple` of two Python
# `float`s clipped to `[0, 1]`.
#
# * `n == 0` (no data at all) gives `(0.0, 1.0)`: we know nothing.
# * `k < 0`, `n < 0` or `k > n` raise `ValueError`. Check this first: `wilson_interval(1, 0)` (one success in no
#   trials) is invalid input and raises, it is not "no data".
# * `z` is the normal quantile of the confidence level (1.96 for 95%); use the argument, not a constant.

# %% nbgrader={"grade": false, "grade_id": "wilson_interval", "locked": false, "schema_version": 3, "solution": true, "task": false}
def wilson_interval(k, n, z=1.96):
    """Wilson score interval for k successes in n trials, as (lower, upper) floats clipped to [0, 1].

    n == 0 gives (0.0, 1.0); k < 0, n < 0 or k > n raise ValueError.
    """
    ### BEGIN SOLUTION
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k!r}, n={n!r}")
    if n == 0:
        return (0.0, 1.0)
    p_hat = k / n
    denominator = 1.0 + z * z / n
    centre = (p_hat + z * z / (2.0 * n)) / denominator
    half_width = z / denominator * math.sqrt(p_hat * (1.0 - p_hat) / n + z * z / (4.0 * n * n))
    return (float(max(0.0, centre - half_width)), float(min(1.0, centre + half_width)))
    ### END SOLUTION


# %% [markdown]
# Try it. For 5 correct out of 10 you should see about `(0.237, 0.763)`: half a point either side. For 500
# out of 1000 the interval shrinks to about `(0.469, 0.531)`. For 0 out of 10 the lower bound is `0.0` and the
# upper bound about `0.278` — not `[0, 0]`.

# %%
for k, n in [(5, 10), (500, 1000), (0, 10), (10, 10)]:
    low, high = wilson_interval(k, n)
    print(f"{k:>4} / {n:<5} -> ({low:.3f}, {high:.3f})")

# %% nbgrader={"grade": true, "grade_id": "test_wilson_interval_visible", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
"""Check wilson_interval on hand-worked cases: 5/10, 0/10, 10/10 and n == 0."""
# 5/10: centre 0.5, half-width 1.96 * sqrt(0.025 + 0.009604) / 1.38416 = 0.26341...
_result = wilson_interval(5, 10)
check_type(_result, tuple, "wilson_interval(5, 10)")
check_equal(len(_result), 2, "number of items returned by wilson_interval(5, 10)")
check_type(_result[0], float, "lower bound of wilson_interval(5, 10)")
check_type(_result[1], float, "upper bound of wilson_interval(5, 10)")
check_close(_result[0], 0.5 - 1.96 * math.sqrt(0.034604) / 1.38416, "lower bound of wilson_interval(5, 10) (is the denominator 1 + z^2/n?)", rel=1e-6)
check_close(_result[1], 0.5 + 1.96 * math.sqrt(0.034604) / 1.38416, "upper bound of wilson_interval(5, 10)", rel=1e-6)
# 0/10: lower 0, upper z^2 / (n + z^2) = 3.8416 / 13.8416 (a Wald interval would give (0, 0) here).
_low, _high = wilson_interval(0, 10)
check_close(_low, 0.0, "lower bound of wilson_interval(0, 10)")
check_close(_high, 3.8416 / 13.8416, "upper bound of wilson_interval(0, 10) (a Wald interval gives 0 here)", rel=1e-6)
_low, _high = wilson_interval(10, 10)
check_close(_low, 1 - 3.8416 / 13.8416, "lower bound of wilson_interval(10, 10)", rel=1e-6)
check_close(_high, 1.0, "upper bound of wilson_interval(10, 10)")
check_equal(wilson_interval(0, 0), (0.0, 1.0), "wilson_interval(0, 0): no data means we know nothing")
print("wilson_interval: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "test_wilson_interval_hidden_formula", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of wilson_interval's values: the quadratic it solves for many k, n and z, symmetry, clipping."""
_wilson_interval = expecting(wilson_interval, "a (lower, upper) tuple of floats in [0, 1] (wilson_interval's values: the quadratic it solves for many k, n and z, symmetry, clipping)")
def _roots(k, n, z):
    # The Wilson bounds are the roots p of (k/n - p)^2 = z^2 p (1 - p) / n, i.e.
    # (n + z^2) p^2 - (2k + z^2) p + k^2 / n = 0.
    a, b, c = n + z * z, 2.0 * k + z * z, k * k / n
    root = math.sqrt(max(0.0, b * b - 4.0 * a * c))
    return (max(0.0, (b - root) / (2.0 * a)), min(1.0, (b + root) / (2.0 * a)))

check_type(_wilson_interval(1, 2), tuple, "wilson_interval(1, 2)")
### BEGIN HIDDEN TESTS
with explain_failures("wilson_interval's values: the quadratic it solves for many k, n and z, symmetry, clipping",
                      'a (lower, upper) tuple of floats in [0, 1]'):
    for _k, _n, _z in [(0, 1, 1.96), (1, 1, 1.96), (3, 7, 1.96), (1, 1000, 1.96), (999, 1000, 1.96),
                       (617, 1000, 1.96), (4, 10, 2.576), (3, 20, 1.0), (50, 60, 3.0), (2, 5, 1.645)]:
        _result = _wilson_interval(_k, _n, _z)
        check_type(_result, tuple, f"wilson_interval({_k}, {_n}, z={_z})")
        check_equal(len(_result), 2, f"number of items returned by wilson_interval({_k}, {_n}, z={_z})")
        _low, _high = _result
        _exp_low, _exp_high = _roots(_k, _n, _z)
        _hint = " (use the z argument, not 1.96)" if _z != 1.96 else ""
        check_close(_low, _exp_low, f"lower bound of wilson_interval({_k}, {_n}, z={_z}){_hint}", rel=1e-7, abs_tol=1e-9)
        check_close(_high, _exp_high, f"upper bound of wilson_interval({_k}, {_n}, z={_z}){_hint}", rel=1e-7, abs_tol=1e-9)
        if not (0.0 <= _low <= _k / _n <= _high <= 1.0):
            raise AssertionError(f"wilson_interval({_k}, {_n}, z={_z}) = {_result} should contain k/n and stay in [0, 1]")
    # Symmetry: the interval for failures mirrors the interval for successes.
    _low, _high = _wilson_interval(3, 17)
    _mirror_low, _mirror_high = _wilson_interval(14, 17)
    check_close(_low, 1.0 - _mirror_high, "lower bound of wilson_interval(3, 17) should be 1 - upper bound of (14, 17)")
    check_close(_high, 1.0 - _mirror_low, "upper bound of wilson_interval(3, 17) should be 1 - lower bound of (14, 17)")
    for _n in (1, 3, 10, 37, 1000):
        _low, _high = _wilson_interval(_n, _n)
        if not (0.0 <= _low <= _high <= 1.0):
            raise AssertionError(f"wilson_interval({_n}, {_n}) = {(_low, _high)} must be clipped to [0, 1]")
print("wilson_interval: hidden tests of its values passed")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_wilson_interval_hidden_errors", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of wilson_interval's edge cases: no data, and invalid counts raising ValueError (k > n even when n == 0)."""
_wilson_interval = expecting(wilson_interval, "a (lower, upper) tuple of floats in [0, 1] (wilson_interval's edge cases: no data, and invalid counts raising ValueError (k > n even when n == 0))")
check_type(_wilson_interval(0, 0), tuple, "wilson_interval(0, 0)")
### BEGIN HIDDEN TESTS
with explain_failures("wilson_interval's edge cases: no data, and invalid counts raising ValueError (k > n even when n == 0)",
                      'a (lower, upper) tuple of floats in [0, 1]'):
    check_equal(_wilson_interval(0, 0, z=2.5), (0.0, 1.0), "wilson_interval(0, 0, z=2.5): no data means we know nothing")
    for _bad in [(11, 10), (-1, 10), (0, -1), (-2, -1), (1, 0), (5, 0)]:
        expect_raises(ValueError, wilson_interval, *_bad, what=f"wilson_interval{_bad}",
                      hint="Need 0 <= k <= n: check the counts before the n == 0 case (1 success in 0 trials is invalid, not 'no data').")
print("wilson_interval: hidden tests of its edge cases passed")
### END HIDDEN TESTS

# %% [markdown]
# ### Seeing the noise
#
# Below, the **same fixed model** is scored on 40 random samples of 10 examples and 40 random samples of
# 1000 examples, all drawn from the same regime-A world. Nothing changes between samples except luck. Each
# dot is one measured accuracy with its 95% Wilson interval; the solid line is the model's accuracy on all
# 10,000 examples, the dashed line is a "15 points worse" threshold like the original exercise's.
#
# Expect the 10-example dots to spread over roughly 0.3 – 0.9, with intervals as wide as the spread, while the
# 1000-example dots stay within about ±0.03 of the truth. The numbers printed below count, over many more random
# samples, how often chance alone looks "15 points worse": about one 10-example sample in eight, never a
# 1000-example one.

# %%
def correctness(model, examples):
    """A bool array: did the model's top word equal the target, example by example?"""
    word_ids, target_ids = encode_examples(examples, model.vocab)
    return model.predict_proba(word_ids).argmax(axis=1) == target_ids

POOL = correctness(BASE_MODEL, make_examples(10_000, seed=2024, regime="A"))
TRUE_ACCURACY = float(POOL.mean())
rng = np.random.default_rng(7)
fig, ax = plt.subplots(figsize=(10, 4))
below = {}
for offset, size, colour in [(0, 10, "tab:red"), (50, 1000, "tab:blue")]:
    samples = [POOL[rng.integers(0, len(POOL), size)] for _ in range(40)]
    k = np.array([int(s.sum()) for s in samples])
    intervals = np.array([wilson_interval(int(ki), size) for ki in k])
    acc = k / size
    x = offset + np.arange(len(k))
    ax.errorbar(x, acc, yerr=[acc - intervals[:, 0], intervals[:, 1] - acc], fmt="o", color=colour,
                ecolor=colour, alpha=0.7, capsize=2, label=f"samples of {size} examples (95% Wilson)")
    below[size] = int(np.sum(acc <= TRUE_ACCURACY - 0.15))
ax.axhline(TRUE_ACCURACY, color="black", label=f"true accuracy {TRUE_ACCURACY:.3f}")
ax.axhline(TRUE_ACCURACY - 0.15, color="black", linestyle="--", label="15 points worse")
ax.set_xticks([19.5, 69.5], ["40 samples of n = 10", "40 samples of n = 1000"])
ax.set_ylabel("measured accuracy")
ax.set_ylim(0, 1)
ax.set_title("One unchanged model, many measurements")
ax.legend(loc="lower right", fontsize=8)
plt.show()
plt.close(fig)
print(f"plotted samples that look '15 points worse' by chance alone: {below[10]}/40 of n=10, {below[1000]}/40 of n=1000")
for size, count in [(10, 10_000), (1000, 2_000)]:
    accuracies = POOL[rng.integers(0, len(POOL), (count, size))].mean(axis=1)
    share = float(np.mean(accuracies <= TRUE_ACCURACY - 0.15))
    print(f"{count:,} more random samples of n={size}: {share:.1%} look 15 points worse, "
          f"standard deviation of the measured accuracy {accuracies.std():.3f}")


# %% [markdown]
# ## 2. Degradation you can trust
#
# An interval tells us how unsure one number is. To decide whether the model *got worse* we compare two
# proportions: the baseline accuracy `k1 / n1` (measured when the model shipped) and the current accuracy
# `k2 / n2`. Under the null hypothesis "nothing changed" both come from one accuracy `p = (k1 + k2) / (n1 + n2)`
# (the *pooled* estimate), and
#
# $$ z = \frac{p_2 - p_1}{\sqrt{p (1-p) (1/n_1 + 1/n_2)}} $$
#
# is approximately standard normal. The p-value is how often chance alone gives a `z` at least this extreme.
# With `Φ` the standard normal CDF (`NormalDist().cdf(x)`, or `0.5 * math.erfc(-x / math.sqrt(2))`):
#
# | `alternative` | H1 | p-value |
# |---|---|---|
# | `"less"` | current is worse, `p2 < p1` | `Φ(z)` |
# | `"greater"` | current is better, `p2 > p1` | `1 - Φ(z)` |
# | `"two-sided"` | they differ | `2 · (1 - Φ(abs(z)))` |
#
# ### Exercise 2 (10 points): `two_proportion_z_test(k1, n1, k2, n2, alternative="two-sided")`
#
# Return `(z, p_value)` as two Python `float`s for group 2 (current) against group 1 (baseline). When the pooled
# variance is zero (everything right, or everything wrong, in both groups) there is no evidence of anything:
# return `(0.0, 1.0)`. An unknown `alternative` raises `ValueError`, whatever the counts (check it first, before
# the zero-variance case). A group with no trials (`n1 == 0` or
# `n2 == 0`) has no proportion at all; the reference raises `ValueError` there, but no test calls it that way,
# so any clear error is fine.

# %% nbgrader={"grade": false, "grade_id": "two_proportion_z_test", "locked": false, "schema_version": 3, "solution": true, "task": false}
def two_proportion_z_test(k1, n1, k2, n2, alternative="two-sided"):
    """Pooled two-proportion z-test of group 2 (current) against group 1 (baseline).

    Returns (z, p_value) as floats; zero pooled variance gives (0.0, 1.0).
    alternative: "two-sided", "less" (H1: p2 < p1) or "greater" (H1: p2 > p1).
    """
    ### BEGIN SOLUTION
    if alternative not in ("two-sided", "less", "greater"):
        raise ValueError(f"alternative must be 'two-sided', 'less' or 'greater', got {alternative!r}")
    if n1 <= 0 or n2 <= 0:
        raise ValueError(f"both groups need at least one trial, got n1={n1!r}, n2={n2!r}")
    p1, p2 = k1 / n1, k2 / n2
    pooled = (k1 + k2) / (n1 + n2)
    variance = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)
    if variance <= 0.0:
        return (0.0, 1.0)
    z = (p2 - p1) / math.sqrt(variance)
    normal = NormalDist()
    if alternative == "less":
        p_value = normal.cdf(z)
    elif alternative == "greater":
        p_value = normal.cdf(-z)
    else:
        p_value = 2.0 * normal.cdf(-abs(z))
    return (float(z), float(min(1.0, p_value)))
    ### END SOLUTION


# %% [markdown]
# Try it. A baseline of 62 correct out of 100 against 47 out of 100 (a 15-point drop) gives `z ≈ -2.13` and a
# one-sided p-value of about `0.017`. A baseline of 617/1000 against 5 out of 10 (a 12-point drop, the kind the
# original exercise alerted on) gives `z ≈ -0.76` and `p ≈ 0.22`: nowhere near significant. The third line
# (0/50 against 0/80) has zero variance: `(0.0, 1.0)`.
#
# **A caveat at n = 10.** The z-test rests on a normal approximation, which is rough for 10 trials. Fisher's
# exact test (the last line, computed from the hypergeometric distribution: how likely are 5 or fewer right
# among 10 requests drawn from the 1010, of which 622 were right?) gives a one-sided p-value of about `0.33`,
# not `0.22`. Both say "no evidence", but a z-test's p-value at n = 10 is not worth two digits: that is one more
# reason for `detect_degradation` below to refuse to judge accuracy under `min_samples` labels.

# %%
for args, alternative in [((62, 100, 47, 100), "less"), ((617, 1000, 5, 10), "less"), ((0, 50, 0, 80), "two-sided")]:
    z, p = two_proportion_z_test(*args, alternative=alternative)
    print(f"{args[0]}/{args[1]} vs {args[2]}/{args[3]} ({alternative}): z = {z:.2f}, p = {p:.3f}")

def fisher_exact_less(k1, n1, k2, n2):
    """One-sided (group 2 worse) p-value of Fisher's exact test: P(at most k2 right in group 2 | k1 + k2 right)."""
    right = k1 + k2
    return sum(math.comb(right, x) * math.comb(n1 + n2 - right, n2 - x) for x in range(k2 + 1)) / math.comb(n1 + n2, n2)

print(f"617/1000 vs 5/10: z-test p {two_proportion_z_test(617, 1000, 5, 10, alternative='less')[1]:.2f}, "
      f"Fisher's exact p {fisher_exact_less(617, 1000, 5, 10):.2f}")

# %% nbgrader={"grade": true, "grade_id": "test_two_proportion_z_test_visible", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
"""Check two_proportion_z_test on 50/100 vs 40/100 (all three alternatives) and on zero variance."""
def _phi(x):  # standard normal CDF from the error function
    return 0.5 * math.erfc(-x / math.sqrt(2.0))

# pooled p = 0.45, variance 0.45 * 0.55 * (1/100 + 1/100) = 0.00495, z = -0.1 / sqrt(0.00495)
_z_expected = -0.1 / math.sqrt(0.00495)
_result = two_proportion_z_test(50, 100, 40, 100)
check_type(_result, tuple, "two_proportion_z_test(50, 100, 40, 100)")
check_equal(len(_result), 2, "number of items returned")
_z, _p = _result
check_type(_z, float, "z")
check_type(_p, float, "p_value")
check_close(_z, _z_expected, "z for 50/100 vs 40/100 (is it (p2 - p1) over the POOLED standard error?)", rel=1e-9)
check_close(_p, 2.0 * _phi(_z_expected), "two-sided p-value for 50/100 vs 40/100 (doubled tail)", rel=1e-7)
_z, _p = two_proportion_z_test(50, 100, 40, 100, alternative="less")
check_close(_p, _phi(_z_expected), "'less' p-value for 50/100 vs 40/100: Phi(z)", rel=1e-7)
_z, _p = two_proportion_z_test(50, 100, 40, 100, alternative="greater")
check_close(_p, 1.0 - _phi(_z_expected), "'greater' p-value for 50/100 vs 40/100: 1 - Phi(z)", rel=1e-7)
check_equal(two_proportion_z_test(0, 50, 0, 80), (0.0, 1.0), "zero pooled variance (0/50 vs 0/80)")
print("two_proportion_z_test: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "test_two_proportion_z_test_hidden_values", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of two_proportion_z_test's values: unequal groups, the direction of z, more zero-variance cases."""
_two_proportion_z_test = expecting(two_proportion_z_test, "a (z, p_value) tuple of floats (two_proportion_z_test's values: unequal groups, the direction of z, more zero-variance cases)")
def _phi(x):
    return 0.5 * math.erfc(-x / math.sqrt(2.0))

check_type(_two_proportion_z_test(1, 2, 1, 2), tuple, "two_proportion_z_test(1, 2, 1, 2)")
### BEGIN HIDDEN TESTS
with explain_failures("two_proportion_z_test's values: unequal groups, the direction of z, more zero-variance cases",
                      'a (z, p_value) tuple of floats'):
    # Unequal sizes: 30/50 vs 45/150. Pooled p = 75/200 = 0.375; the unpooled standard error differs.
    _z_expected = (45 / 150 - 30 / 50) / math.sqrt(0.375 * 0.625 * (1 / 50 + 1 / 150))
    for _alternative, _p_expected in [("two-sided", 2.0 * _phi(-abs(_z_expected))), ("less", _phi(_z_expected)),
                                      ("greater", _phi(-_z_expected))]:
        _result = _two_proportion_z_test(30, 50, 45, 150, alternative=_alternative)
        check_type(_result, tuple, f"two_proportion_z_test(30, 50, 45, 150, {_alternative!r})")
        _z, _p = _result
        check_type(_z, float, "z")
        check_type(_p, float, "p_value")
        check_close(_z, _z_expected, f"z for 30/50 vs 45/150 ({_alternative}); pooled, not unpooled, variance", rel=1e-9)
        check_close(_p, _p_expected, f"p-value for 30/50 vs 45/150 ({_alternative})", rel=1e-6, abs_tol=1e-12)
    # Current better than baseline: z > 0, 'less' p-value large, 'greater' small.
    _z, _p_less = _two_proportion_z_test(40, 100, 60, 100, alternative="less")
    if not _z > 0:
        raise AssertionError(f"z for 40/100 -> 60/100 should be positive (group 2 minus group 1), got {_z}")
    _z2, _p_greater = _two_proportion_z_test(40, 100, 60, 100, alternative="greater")
    check_close(_p_less + _p_greater, 1.0, "'less' + 'greater' p-values should sum to 1")
    check_close(_p_greater, _phi(-(0.2 / math.sqrt(0.5 * 0.5 * 0.02))), "'greater' p-value for 40/100 -> 60/100", rel=1e-6)
    _z, _p = _two_proportion_z_test(60, 100, 40, 100, alternative="two-sided")
    _zz, _pp = _two_proportion_z_test(40, 100, 60, 100, alternative="two-sided")
    check_close(_z, -_zz, "swapping the groups should flip the sign of z")
    check_close(_p, _pp, "the two-sided p-value does not depend on the order of the groups")
    # A huge effect: p-value tiny but within [0, 1].
    _z, _p = _two_proportion_z_test(900, 1000, 100, 1000, alternative="two-sided")
    if not (0.0 <= _p < 1e-12):
        raise AssertionError(f"p-value for 900/1000 vs 100/1000 should be tiny and >= 0, got {_p}")
    for _args in [(10, 10, 5, 5), (0, 3, 0, 7), (7, 7, 9, 9)]:
        for _alternative in ("two-sided", "less", "greater"):
            check_equal(_two_proportion_z_test(*_args, alternative=_alternative), (0.0, 1.0),
                        f"zero pooled variance {_args} ({_alternative})")
print("two_proportion_z_test: hidden tests of its values passed")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_two_proportion_z_test_hidden_alternative", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of two_proportion_z_test's alternative argument: anything but the three names raises ValueError."""
_two_proportion_z_test = expecting(two_proportion_z_test, "a (z, p_value) tuple of floats (two_proportion_z_test's alternative argument: anything but the three names raises ValueError)")
check_type(_two_proportion_z_test(5, 10, 4, 10, alternative="less"), tuple, "two_proportion_z_test(5, 10, 4, 10, 'less')")
### BEGIN HIDDEN TESTS
with explain_failures("two_proportion_z_test's alternative argument: anything but the three names raises ValueError",
                      'a (z, p_value) tuple of floats'):
    for _bad in ("two_sided", "Less", "lower", "", "smaller"):
        expect_raises(ValueError, two_proportion_z_test, 50, 100, 40, 100, alternative=_bad,
                      what=f"two_proportion_z_test(50, 100, 40, 100, alternative={_bad!r})",
                      hint="An unknown alternative must raise ValueError, never run silently as another test.")
    expect_raises(ValueError, two_proportion_z_test, 0, 50, 0, 80, alternative="both",
                  what="two_proportion_z_test(0, 50, 0, 80, alternative='both') (check the argument before the zero-variance case)")
print("two_proportion_z_test: hidden tests of `alternative` passed")
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 3 (20 points): `detect_degradation(baseline, current, policy)`
#
# A significant difference is not always an important one: with 100,000 examples a 0.5-point drop is
# "significant" but nobody should be woken up for it. And a big drop on a handful of examples is not evidence.
# A trustworthy rule needs **both** a minimum effect and significance, and it must say so explicitly when it
# does not have enough data to judge.
#
# `baseline` and `current` are dicts with keys `n` (number of labelled predictions), `correct` (how many were
# right), `mean_confidence` and `p95_latency_ms`. `policy` has `alpha`, `min_drop`, `min_samples`,
# `max_confidence_drop` and `latency_slo_ms`. Return a `list` of alerts; each alert is a `dict` with the keys
# `metric`, `severity` and `message` (all `str`; the message is for humans, say what you saw):
#
# | condition | `metric` | `severity` |
# |---|---|---|
# | `current["n"] < min_samples` — then **no** accuracy alert, whatever the numbers | `"data"` | `"info"` |
# | otherwise: accuracy dropped by **at least** `min_drop` (absolute: baseline accuracy − current accuracy) **and** the one-sided (`"less"`) z-test p-value is **below** `alpha` | `"accuracy"` | `"critical"` |
# | mean confidence fell by **at least** `max_confidence_drop` (absolute: baseline − current mean confidence, not a relative change) | `"confidence"` | `"warning"` |
# | current p95 latency **exceeds** `latency_slo_ms` | `"latency"` | `"warning"` |
#
# The confidence and latency checks run whether or not there is enough labelled data (they do not need labels).
# An empty list means healthy. Do not modify the input dicts. Use your `two_proportion_z_test`.
#
# Compare the floats directly (`drop >= policy["min_drop"]`), with no tolerance. Floating point cannot write most
# decimals exactly (`0.6 - 0.5` is `0.09999999999999998`, just below `0.1`), so the tests put boundaries only
# where the arithmetic is exact in binary (`0.75 - 0.5 == 0.25`), and a boundary case checks `>=` against `>`,
# nothing else.

# %% nbgrader={"grade": false, "grade_id": "detect_degradation", "locked": false, "schema_version": 3, "solution": true, "task": false}
def detect_degradation(baseline, current, policy):
    """Compare current metrics with the baseline; return a list of alert dicts (metric, severity, message)."""
    ### BEGIN SOLUTION
    alerts = []
    if current["n"] < policy["min_samples"]:
        alerts.append({"metric": "data", "severity": "info",
                       "message": f"not enough data: {current['n']} labelled predictions, "
                                  f"need {policy['min_samples']} to judge accuracy"})
    else:
        base_acc = baseline["correct"] / baseline["n"]
        cur_acc = current["correct"] / current["n"]
        drop = base_acc - cur_acc
        _, p_value = two_proportion_z_test(baseline["correct"], baseline["n"], current["correct"], current["n"],
                                           alternative="less")
        if drop >= policy["min_drop"] and p_value < policy["alpha"]:
            alerts.append({"metric": "accuracy", "severity": "critical",
                           "message": f"accuracy fell from {base_acc:.3f} to {cur_acc:.3f} "
                                      f"(n={current['n']}, one-sided p={p_value:.2g})"})
    confidence_drop = baseline["mean_confidence"] - current["mean_confidence"]
    if confidence_drop >= policy["max_confidence_drop"]:
        alerts.append({"metric": "confidence", "severity": "warning",
                       "message": f"mean confidence fell by {confidence_drop:.3f}"})
    if current["p95_latency_ms"] > policy["latency_slo_ms"]:
        alerts.append({"metric": "latency", "severity": "warning",
                       "message": f"p95 latency {current['p95_latency_ms']:.0f} ms exceeds the "
                                  f"{policy['latency_slo_ms']:.0f} ms SLO"})
    return alerts
    ### END SOLUTION


# %% [markdown]
# Try it on the original exercise's situation. With the policy below, 10 examples give **only** a `data`/`info`
# alert ("not enough data"); 500 examples at 30% accuracy give an `accuracy`/`critical` alert; 500 examples at
# 61% give no alert at all.

# %%
POLICY = {"alpha": 0.01, "min_drop": 0.05, "min_samples": 100, "max_confidence_drop": 0.10, "latency_slo_ms": 150.0}
BASELINE = {"n": 1000, "correct": 617, "mean_confidence": 0.59, "p95_latency_ms": 63.0}
for current in [{"n": 10, "correct": 4, "mean_confidence": 0.58, "p95_latency_ms": 60.0},
                {"n": 500, "correct": 150, "mean_confidence": 0.58, "p95_latency_ms": 60.0},
                {"n": 500, "correct": 305, "mean_confidence": 0.58, "p95_latency_ms": 60.0}]:
    print(f"{current['correct']:>3}/{current['n']:<4} ->", detect_degradation(BASELINE, current, POLICY))

# %% nbgrader={"grade": true, "grade_id": "test_detect_degradation_visible", "locked": true, "points": 8, "schema_version": 3, "solution": false, "task": false}
"""Check detect_degradation: not enough data, a clear drop, a healthy window and a latency breach."""
_policy = {"alpha": 0.01, "min_drop": 0.05, "min_samples": 100, "max_confidence_drop": 0.10, "latency_slo_ms": 150.0}
_baseline = {"n": 1000, "correct": 617, "mean_confidence": 0.59, "p95_latency_ms": 63.0}

def _by_metric(alerts, what):
    check_type(alerts, list, what)
    _found = {}
    for alert in alerts:
        check_type(alert, dict, f"an alert in {what}")
        for key in ("metric", "severity", "message"):
            if key not in alert:
                raise AssertionError(f"an alert in {what} has no {key!r} key: {alert}")
            check_type(alert[key], str, f"alert[{key!r}] in {what}")
        _found[alert["metric"]] = alert["severity"]
    return _found

_few = {"n": 10, "correct": 1, "mean_confidence": 0.58, "p95_latency_ms": 60.0}
_found = _by_metric(detect_degradation(_baseline, _few, _policy), "alerts for 1/10")
check_equal(_found, {"data": "info"}, "alerts for 10 examples (n < min_samples: only a 'data'/'info' alert)")
_bad = {"n": 500, "correct": 150, "mean_confidence": 0.58, "p95_latency_ms": 60.0}
_found = _by_metric(detect_degradation(_baseline, _bad, _policy), "alerts for 150/500")
check_equal(_found, {"accuracy": "critical"}, "alerts for 150/500 against 617/1000 (a large, significant drop)")
_fine = {"n": 500, "correct": 305, "mean_confidence": 0.58, "p95_latency_ms": 60.0}
check_equal(detect_degradation(_baseline, _fine, _policy), [], "alerts for a healthy window (305/500)")
_slow = {"n": 500, "correct": 305, "mean_confidence": 0.58, "p95_latency_ms": 250.0}
_found = _by_metric(detect_degradation(_baseline, _slow, _policy), "alerts for p95 250 ms")
check_equal(_found, {"latency": "warning"}, "alerts when p95 latency (250 ms) exceeds the 150 ms SLO")
print("detect_degradation: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "test_detect_degradation_hidden_accuracy", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of detect_degradation's accuracy rule: min_drop (absolute, at least), alpha, the one-sided test."""
_detect_degradation = expecting(detect_degradation, "a list of alert dicts (detect_degradation's accuracy rule: min_drop (absolute, at least), alpha, the one-sided test)")
def _by_metric(alerts, what):
    check_type(alerts, list, what)
    found = {}
    for alert in alerts:
        check_type(alert, dict, f"an alert in {what}")
        for key in ("metric", "severity", "message"):
            if key not in alert:
                raise AssertionError(f"an alert in {what} has no {key!r} key: {alert}")
            check_type(alert[key], str, f"alert[{key!r}] in {what}")
        if alert["metric"] in found:
            raise AssertionError(f"{what}: metric {alert['metric']!r} appears twice")
        found[alert["metric"]] = alert["severity"]
    return found

def _policy(**changes):
    policy = {"alpha": 0.05, "min_drop": 0.05, "min_samples": 50, "max_confidence_drop": 0.10,
              "latency_slo_ms": 150.0}
    policy.update(changes)
    return policy

def _window(n, correct, confidence=0.6, p95=60.0):
    return {"n": n, "correct": correct, "mean_confidence": confidence, "p95_latency_ms": p95}

check_type(_detect_degradation(_window(100, 60), _window(100, 60), _policy()), list, "detect_degradation(...)")
### BEGIN HIDDEN TESTS
with explain_failures("detect_degradation's accuracy rule: min_drop (absolute, at least), alpha, the one-sided test",
                      'a list of alert dicts'):
    # Significant but too small: 0.60 -> 0.58 on 100,000 each (z about -9) is below min_drop 0.05.
    _found = _by_metric(_detect_degradation(_window(100_000, 60_000), _window(100_000, 58_000), _policy()), "tiny drop")
    check_equal(_found, {}, "alerts for a 2-point drop on 100,000 examples (below min_drop: significance is not enough)")
    # min_drop is absolute: 0.30 -> 0.27 is 3 points (10% relative), below min_drop 0.05.
    _found = _by_metric(_detect_degradation(_window(100_000, 30_000), _window(100_000, 27_000), _policy()), "0.30 -> 0.27")
    check_equal(_found, {}, "alerts for 0.30 -> 0.27 (a 0.03 drop in absolute terms, below min_drop 0.05; not a relative drop)")
    # Big but not significant: 62/100 -> 30/60 is a 12-point drop, z about -1.49, one-sided p about 0.07 > alpha.
    # (60 labels, not min_samples = 50 exactly: the boundary of min_samples is graded in its own cell.)
    _found = _by_metric(_detect_degradation(_window(100, 62), _window(60, 30), _policy()), "62/100 -> 30/60")
    check_equal(_found, {}, "alerts for 62/100 -> 30/60 (12-point drop but one-sided p about 0.07 >= alpha 0.05: not evidence)")
    # One-sided, not two-sided: 600/1000 -> 163/300, z about -1.75: one-sided p about 0.040, two-sided about 0.080.
    _found = _by_metric(_detect_degradation(_window(1000, 600), _window(300, 163), _policy(min_drop=0.04)), "600/1000 -> 163/300")
    check_equal(_found, {"accuracy": "critical"},
                "alerts for 600/1000 -> 163/300 (one-sided 'less' p about 0.04 < 0.05; a two-sided test misses it)")
    # A drop of exactly min_drop counts ("at least"): 0.75 -> 0.5 with min_drop 0.25 (exact in binary).
    _found = _by_metric(_detect_degradation(_window(1000, 750), _window(1000, 500), _policy(min_drop=0.25)), "drop == min_drop")
    check_equal(_found, {"accuracy": "critical"}, "alerts when the drop equals min_drop exactly (use >=)")
    # An improvement never raises an accuracy alert.
    _found = _by_metric(_detect_degradation(_window(1000, 500), _window(1000, 750), _policy()), "improvement")
    check_equal(_found, {}, "alerts when accuracy improved from 0.5 to 0.75")
print("detect_degradation: hidden tests of the accuracy rule passed")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_detect_degradation_hidden_min_samples", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of detect_degradation's "not enough data" rule: n == min_samples is enough, one fewer is not."""
_detect_degradation = expecting(detect_degradation, 'a list of alert dicts (detect_degradation\'s "not enough data" rule: n == min_samples is enough, one fewer is not)')
check_type(_detect_degradation(_window(100, 60), _window(10, 6), _policy()), list, "detect_degradation(...)")
### BEGIN HIDDEN TESTS
with explain_failures('detect_degradation\'s "not enough data" rule: n == min_samples is enough, one fewer is not',
                      'a list of alert dicts'):
    _found = _by_metric(_detect_degradation(_window(1000, 900), _window(50, 5), _policy()), "n == min_samples")
    check_equal(_found, {"accuracy": "critical"}, "alerts for n == min_samples (50) and a huge drop (use n < min_samples)")
    _found = _by_metric(_detect_degradation(_window(1000, 900), _window(49, 0), _policy()), "n == min_samples - 1")
    check_equal(_found, {"data": "info"}, "alerts for n = 49 < min_samples = 50 (no accuracy alert without enough data)")
    # Not enough labels, yet confidence and latency are still judged.
    _found = _by_metric(_detect_degradation(_window(1000, 900, 0.75), _window(5, 0, 0.40, 400.0), _policy()), "few + slow")
    check_equal(_found, {"data": "info", "confidence": "warning", "latency": "warning"},
                "alerts for 5 labels, confidence 0.75 -> 0.40 and p95 400 ms (confidence and latency need no labels)")
print("detect_degradation: hidden tests of min_samples passed")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_detect_degradation_hidden_confidence_latency", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of detect_degradation's confidence (absolute drop, at least) and latency (strictly over) rules; inputs untouched."""
_detect_degradation = expecting(detect_degradation, "a list of alert dicts (detect_degradation's confidence (absolute drop, at least) and latency (strictly over) rules; inputs untouched)")
check_type(_detect_degradation(_window(100, 60), _window(100, 60, 0.3), _policy()), list, "detect_degradation(...)")
### BEGIN HIDDEN TESTS
with explain_failures("detect_degradation's confidence (absolute drop, at least) and latency (strictly over) rules; inputs untouched",
                      'a list of alert dicts'):
    _found = _by_metric(_detect_degradation(_window(1000, 600, 0.75), _window(1000, 600, 0.5), _policy(max_confidence_drop=0.25)), "conf == max")
    check_equal(_found, {"confidence": "warning"}, "alerts when confidence fell by exactly max_confidence_drop (use >=)")
    _found = _by_metric(_detect_degradation(_window(1000, 600, 0.75), _window(1000, 600, 0.70), _policy()), "small conf drop")
    check_equal(_found, {}, "alerts when confidence fell by 0.05 < max_confidence_drop 0.10")
    _found = _by_metric(_detect_degradation(_window(1000, 600, 0.30), _window(1000, 600, 0.25), _policy()), "0.30 -> 0.25")
    check_equal(_found, {}, "alerts when confidence fell from 0.30 to 0.25 (0.05 absolute, below 0.10; a relative drop of 17% is not the rule)")
    # Latency: exactly at the SLO is fine ("exceeds" means >).
    _found = _by_metric(_detect_degradation(_window(1000, 600), _window(1000, 600, p95=150.0), _policy()), "p95 == SLO")
    check_equal(_found, {}, "alerts when p95 latency equals the SLO exactly (only > SLO is a breach)")
    # The inputs are left alone.
    _base, _cur, _pol = _window(1000, 700), _window(200, 100, 0.3, 300.0), _policy()
    _copies = (dict(_base), dict(_cur), dict(_pol))
    _detect_degradation(_base, _cur, _pol)
    check_equal((_base, _cur, _pol), _copies, "detect_degradation must not modify its inputs")
print("detect_degradation: hidden tests of confidence and latency passed")
### END HIDDEN TESTS

# %% [markdown]
# ### Latency: the mean hides what users feel
#
# The original exercise compared **mean** response times. Here is why that is not enough. Below, a "new version"
# serves 91% of requests from a cache (faster than before) and 9% from a slow path. Its **mean is lower than the
# old version's**, so a mean-based check stays green, yet one request in eleven now takes about 200 ms. The 95th
# percentile (p95) sees it at once. That is why `detect_degradation` compares p95 — not the mean — with the
# service-level objective (SLO).

# %%
rng = np.random.default_rng(11)
before = 50.0 * rng.lognormal(0.0, 0.5, 5000)
fast = rng.random(5000) >= 0.09
after = np.where(fast, 35.0 * rng.lognormal(0.0, 0.15, 5000), 200.0 * rng.lognormal(0.0, 0.1, 5000))
SLO_MS = POLICY["latency_slo_ms"]
fig, ax = plt.subplots(figsize=(9, 3.5))
bins = np.linspace(0, 300, 61)
for values, name, colour in [(before, "old version", "tab:blue"), (after, "new version", "tab:orange")]:
    mean, p95 = float(values.mean()), float(np.percentile(values, 95))
    ax.hist(np.clip(values, 0, 300), bins=bins, alpha=0.5, color=colour, label=f"{name}: mean {mean:.0f} ms, p95 {p95:.0f} ms")
    ax.axvline(p95, color=colour, linestyle="--")
    print(f"{name:12}: mean {mean:6.1f} ms   p95 {p95:6.1f} ms   p95 over the {SLO_MS:.0f} ms SLO: {p95 > SLO_MS}")
ax.axvline(SLO_MS, color="red", label=f"SLO {SLO_MS:.0f} ms (on p95)")
ax.set_xlabel("latency (ms); dashed lines: p95")
ax.set_ylabel("requests")
ax.legend(fontsize=8)
plt.show()
plt.close(fig)


# %% [markdown]
# ## 3. Input drift: the population stability index
#
# Labels arrive late (the user has to type the next word first), but inputs arrive at once. If the
# *distribution of inputs* moves away from what the model was trained on (**covariate drift**), that can be
# an early warning, before any accuracy is measured. In next-word prediction the inputs see more than that: each
# label becomes the next input (the word typed next is the last word of the next request), so when the share of
# each next word changes (**label drift**), the inputs move with it. What inputs can never show is **concept
# drift**: the same inputs now followed by different words. Input drift says the world changed, not that the
# model got worse. Regime B changes both the word frequencies and the word-to-next-word habits, so input PSI
# does see it; but on this stream it is not faster than the labelled accuracy check (labels arrive after
# about a minute, and PSI on overlapping windows of correlated requests, the prefixes of one sentence arriving one
# after another, has a noise floor of its own), so PSI is not part of the alerting in section 6: there it would
# add false alarms and no speed. (*Going further* measures input, label and prediction drift between the regimes,
# and when a label-free accuracy estimate works.) Our model only looks at the **last word** of the context, so we
# compare how often each word is the last word in a *reference* window against a *live* window.
#
# The **population stability index** sums, over the categories (here: words), how much each share moved,
# weighted by the log of the ratio:
#
# $$ \text{PSI} = \sum_i (a_i - e_i) \ln \frac{a_i}{e_i} $$
#
# with `e` the reference (expected) proportions and `a` the live (actual) proportions. Every term is `>= 0`, and
# PSI is 0 only when the distributions are equal. A word that never appears on one side would give `ln 0`, so
# each proportion is floored at a small `eps` first. The usual reading (a convention from credit scoring, not a
# law of nature):
#
# | PSI | reading |
# |---|---|
# | < 0.1 | no significant shift |
# | 0.1 – 0.25 | moderate shift: look into it |
# | > 0.25 | major shift: the model is seeing a different world |
#
# ### Exercise 4 (10 points): `population_stability_index(expected, actual, eps=1e-4)`
#
# `expected` and `actual` are counts (lists or NumPy arrays of the same length). Turn each into proportions
# (divide by its sum), floor every proportion at `eps` (`max(p, eps)`, no re-normalising afterwards), and return
# the PSI as a Python `float`. Different lengths, or a side whose counts are all zero, raise `ValueError`.
# Counts are never negative in this course and no test passes a negative one: you need not check for them.

# %% nbgrader={"grade": false, "grade_id": "population_stability_index", "locked": false, "schema_version": 3, "solution": true, "task": false}
def population_stability_index(expected, actual, eps=1e-4):
    """PSI between two count vectors: proportions floored at eps, sum of (a - e) * ln(a / e)."""
    ### BEGIN SOLUTION
    e = np.asarray(expected, dtype=float)
    a = np.asarray(actual, dtype=float)
    if e.ndim != 1 or a.ndim != 1 or e.shape != a.shape:
        raise ValueError(f"expected and actual must be 1-D and of the same length, got {e.shape} and {a.shape}")
    if e.sum() <= 0 or a.sum() <= 0:
        raise ValueError("each side needs at least one non-zero count")
    e = np.maximum(e / e.sum(), eps)
    a = np.maximum(a / a.sum(), eps)
    return float(np.sum((a - e) * np.log(a / e)))
    ### END SOLUTION


# %% [markdown]
# Try it. Identical shares give `0.0`; `[50, 50]` against `[80, 20]` gives about `0.416` (a major shift); counts
# and proportions give the same answer, because only the shares matter.

# %%
for expected, actual in [([50, 50], [50, 50]), ([50, 50], [80, 20]), ([0.5, 0.5], [0.8, 0.2])]:
    print(f"PSI({expected}, {actual}) = {population_stability_index(expected, actual):.3f}")

# %% nbgrader={"grade": true, "grade_id": "test_population_stability_index_visible", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
"""Check population_stability_index on identical counts, [50, 50] vs [80, 20], and a length mismatch."""
_value = population_stability_index([50, 50], [50, 50])
check_type(_value, float, "population_stability_index([50, 50], [50, 50])")
check_close(_value, 0.0, "PSI of identical counts")
# e = (0.5, 0.5), a = (0.8, 0.2): 0.3 * ln(1.6) + (-0.3) * ln(0.4)
_expected = 0.3 * math.log(1.6) - 0.3 * math.log(0.4)
check_close(population_stability_index([50, 50], [80, 20]), _expected,
            "PSI of [50, 50] vs [80, 20] (did you turn counts into proportions first?)", rel=1e-9)
try:
    population_stability_index([1, 2, 3], [1, 2])
except ValueError:
    pass
else:
    raise AssertionError("population_stability_index([1, 2, 3], [1, 2]) should raise ValueError (lengths differ)")
print("population_stability_index: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "test_population_stability_index_hidden_values", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of population_stability_index's values: the eps floor, the eps argument, scale invariance, symmetry."""
_population_stability_index = expecting(population_stability_index, "a float (population_stability_index's values: the eps floor, the eps argument, scale invariance, symmetry)")
check_type(_population_stability_index([1, 1], [1, 1]), float, "population_stability_index([1, 1], [1, 1])")
### BEGIN HIDDEN TESTS
with explain_failures("population_stability_index's values: the eps floor, the eps argument, scale invariance, symmetry",
                      'a float'):
    # A zero count: e = (1, 0) -> (1, 1e-4) after the floor; a = (0.5, 0.5).
    _expected = (0.5 - 1.0) * math.log(0.5 / 1.0) + (0.5 - 1e-4) * math.log(0.5 / 1e-4)
    _value = _population_stability_index([10, 0], [5, 5])
    check_type(_value, float, "population_stability_index([10, 0], [5, 5])")
    check_close(_value, _expected, "PSI of [10, 0] vs [5, 5] (floor each PROPORTION at eps, after dividing by the sum)", rel=1e-9)
    _expected = (0.5 - 1.0) * math.log(0.5) + (0.5 - 0.01) * math.log(0.5 / 0.01)
    check_close(_population_stability_index([10, 0], [5, 5], eps=0.01), _expected, "PSI of [10, 0] vs [5, 5] with eps=0.01", rel=1e-9)
    _e, _a = [0.2, 0.3, 0.5], [0.4, 0.4, 0.2]
    _expected = sum((ai - ei) * math.log(ai / ei) for ei, ai in zip(_e, _a))
    _value = _population_stability_index(np.array([20, 30, 50]), np.array([200, 200, 100]))
    check_type(_value, float, "population_stability_index of NumPy arrays (return float(...))")
    check_close(_value, _expected, "PSI of [20, 30, 50] vs [200, 200, 100]", rel=1e-9)
    check_close(_population_stability_index([200, 200, 100], [20, 30, 50]), _expected,
                "PSI is symmetric: swapping expected and actual gives the same value", rel=1e-9)
    check_close(_population_stability_index([2, 3, 5], [40, 40, 20]), _expected,
                "PSI depends only on proportions: scaled counts give the same value", rel=1e-9)
    if not _population_stability_index([1, 1, 1, 1], [1, 2, 3, 4]) > 0.0:
        raise AssertionError("PSI of different distributions must be positive (check the sign of (a - e) * ln(a / e))")
print("population_stability_index: hidden tests of its values passed")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_population_stability_index_hidden_errors", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of population_stability_index's errors: an all-zero side or different lengths raise ValueError."""
_population_stability_index = expecting(population_stability_index, "a float (population_stability_index's errors: an all-zero side or different lengths raise ValueError)")
check_type(_population_stability_index([1, 2], [2, 1]), float, "population_stability_index([1, 2], [2, 1])")
### BEGIN HIDDEN TESTS
with explain_failures("population_stability_index's errors: an all-zero side or different lengths raise ValueError",
                      'ValueError for an all-zero side or for different lengths'):
    for _bad in [([0, 0], [1, 1]), ([1, 1], [0, 0]), ([1, 2], [1, 2, 3])]:
        expect_raises(ValueError, population_stability_index, *_bad, what=f"population_stability_index{_bad}")
print("population_stability_index: hidden tests of its errors passed")
### END HIDDEN TESTS

# %% [markdown]
# ### PSI on the production stream
#
# `ProductionStream` (from `nextword`) simulates 50 minutes of traffic: 6000 requests, about two per second, and at
# request 3000 the world drifts from regime A to regime B. We take the last words of the first 1500 requests as
# the reference and slide a live window of 1000 requests along the stream.
#
# Expect PSI around 0.05 – 0.1 before the drift (the noise floor: two samples of the same world never match
# exactly) and well above 0.25 once the live window is mostly after the drift. Note that a window much smaller
# than 1000 would push the noise floor itself over 0.1: like accuracy, PSI needs enough data.

# %%
def last_word_counts(contexts, vocab):
    """Counts of the last word of each context, as an int array aligned with vocab.words."""
    counts = Counter(vocab.encode(context[-1]) for context in contexts)
    return np.array([counts.get(i, 0) for i in range(len(vocab))], dtype=int)

STREAM = ProductionStream(seed=0)  # 6000 requests, drift at request 3000
REQUESTS = STREAM.requests
reference = last_word_counts([r.context for r in REQUESTS[:1500]], VOCAB)
psi_t, psi_values = [], []
for start in range(1500, len(REQUESTS) - 999, 250):
    live = REQUESTS[start:start + 1000]
    psi_t.append(live[-1].t)
    psi_values.append(population_stability_index(reference, last_word_counts([r.context for r in live], VOCAB)))
fig, ax = plt.subplots(figsize=(9, 3.5))
ax.plot(psi_t, psi_values, "o-", label="PSI(reference, live window of 1000 requests)")
ax.axhline(0.1, color="orange", linestyle="--", label="0.1: moderate shift")
ax.axhline(0.25, color="red", linestyle="--", label="0.25: major shift")
ax.axvline(STREAM.drift_time, color="black", linestyle=":", label="true drift")
ax.set_xlabel("simulated time (s) at the end of the live window")
ax.set_ylabel("PSI of last-word frequencies")
ax.legend(fontsize=8)
plt.show()
plt.close(fig)
print(f"max PSI before the drift: {max(v for t, v in zip(psi_t, psi_values) if t < STREAM.drift_time):.3f}; "
      f"PSI at the end: {psi_values[-1]:.3f}")


# %% [markdown]
# ## 4. A rolling health monitor
#
# A monitor that keeps every request forever grows without bound and, worse, averages today's problem away
# with last month's good days. A **rolling window** keeps only the most recent `window` records
# (`collections.deque(maxlen=window)` does exactly that).
#
# ### Exercise 5 (15 points): `RollingMonitor(window=500)`
#
# * `record(confidence, latency_ms, correct=None, error=False)` stores one request. `correct` is `True`/`False`
#   when its label is known, `None` when it is not; `error` says the request failed.
# * `health()` returns a `dict` over the **last `window` records only**:
#
# | key | value |
# |---|---|
# | `n` | number of records in the window (`int`) |
# | `accuracy` | share of `correct == True` among the records **that have a label** (`float`); `None` when none has one |
# | `mean_confidence` | mean confidence (`float`) |
# | `p95_latency_ms` | `float(np.percentile(latencies, 95))` — NumPy's default (linear) percentile |
# | `error_rate` | share of records with `error=True` (`float`) |
# | `status` | `"no data"` when empty; `"degraded"` when `error_rate > 0.05`; else `"healthy"` |
#
# When the monitor is empty, `n` is `0`, `status` is `"no data"` and every other value is `None`.
# Each monitor keeps its own records (two monitors never share state). `window` is a positive `int`; the
# reference raises `ValueError` for a smaller one, but no test passes one (the smallest tested is `window=1`).

# %% nbgrader={"grade": false, "grade_id": "RollingMonitor", "locked": false, "schema_version": 3, "solution": true, "task": false}
class RollingMonitor:
    """Health of the last `window` requests: accuracy, confidence, p95 latency, error rate, status."""

    def __init__(self, window=500):
        ### BEGIN SOLUTION
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            raise ValueError(f"window must be a positive int, got {window!r}")
        self.window = window
        self._records = deque(maxlen=window)
        ### END SOLUTION

    def record(self, confidence, latency_ms, correct=None, error=False):
        """Store one request: its confidence, latency, correctness (None when unlabelled) and error flag."""
        ### BEGIN SOLUTION
        self._records.append((float(confidence), float(latency_ms), correct, bool(error)))
        ### END SOLUTION

    def health(self):
        """A dict with n, accuracy, mean_confidence, p95_latency_ms, error_rate and status."""
        ### BEGIN SOLUTION
        n = len(self._records)
        if n == 0:
            return {"n": 0, "accuracy": None, "mean_confidence": None, "p95_latency_ms": None,
                    "error_rate": None, "status": "no data"}
        labels = [r[2] for r in self._records if r[2] is not None]
        accuracy = float(sum(1 for c in labels if c) / len(labels)) if labels else None
        error_rate = float(sum(1 for r in self._records if r[3]) / n)
        return {
            "n": n,
            "accuracy": accuracy,
            "mean_confidence": float(np.mean([r[0] for r in self._records])),
            "p95_latency_ms": float(np.percentile([r[1] for r in self._records], 95)),
            "error_rate": error_rate,
            "status": "degraded" if error_rate > 0.05 else "healthy",
        }
        ### END SOLUTION


# %% [markdown]
# Try it. After the four records below you should see `n` 4, `accuracy` 0.5 (one right, one wrong, two
# unlabelled), `mean_confidence` 0.55, `p95_latency_ms` 38.5 (linear interpolation between 30 and 40),
# `error_rate` 0.25 and `status` `"degraded"`.

# %%
demo_monitor = RollingMonitor(window=3)
print(demo_monitor.health())
demo_monitor = RollingMonitor(window=100)
def rounded(health):
    """health() with its floats rounded for reading (0.55, not 0.5499999999999999)."""
    return {key: round(value, 4) if isinstance(value, float) else value for key, value in health.items()}
for confidence, latency, correct, error in [(0.9, 10.0, True, False), (0.4, 20.0, False, False),
                                            (0.6, 30.0, None, False), (0.3, 40.0, None, True)]:
    demo_monitor.record(confidence, latency, correct=correct, error=error)
print(rounded(demo_monitor.health()))

# %% nbgrader={"grade": true, "grade_id": "test_RollingMonitor_visible", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
"""Check RollingMonitor on an empty monitor, four hand-worked records, and a full window."""
_monitor = RollingMonitor(window=100)
_health = _monitor.health()
check_type(_health, dict, "health() of an empty monitor")
check_equal(_health.get("n"), 0, "health()['n'] when empty")
check_equal(_health.get("status"), "no data", "health()['status'] when empty")
check_equal(_health.get("accuracy"), None, "health()['accuracy'] when empty")
for _confidence, _latency, _correct, _error in [(0.9, 10.0, True, False), (0.4, 20.0, False, False),
                                            (0.6, 30.0, None, False), (0.3, 40.0, None, True)]:
    _monitor.record(_confidence, _latency, correct=_correct, error=_error)
_health = _monitor.health()
check_equal(sorted(_health), sorted(["n", "accuracy", "mean_confidence", "p95_latency_ms", "error_rate", "status"]),
            "the keys of health()")
check_equal(_health["n"], 4, "health()['n'] after 4 records")
check_equal(_health["accuracy"], 0.5, "health()['accuracy'] (count only records that HAVE a label: 1 of 2)")
check_equal(_health["mean_confidence"], 0.55, "health()['mean_confidence']")
check_equal(_health["p95_latency_ms"], 38.5, "health()['p95_latency_ms'] (np.percentile's default: 30 + 0.85 * 10)")
check_equal(_health["error_rate"], 0.25, "health()['error_rate']")
check_equal(_health["status"], "degraded", "health()['status'] with error_rate 0.25 > 0.05")
# Only the last `window` records count.
_monitor = RollingMonitor(window=500)
for _i in range(600):
    _monitor.record(0.5, 10.0, correct=(_i >= 100), error=False)
_health = _monitor.health()
check_equal(_health["n"], 500, "health()['n'] after 600 records with window=500")
check_equal(_health["accuracy"], 1.0, "accuracy over the last 500 records (the 100 wrong ones fell out of the window)")
check_equal(_health["status"], "healthy", "status with no errors")
print("RollingMonitor: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "test_RollingMonitor_hidden_window", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of RollingMonitor's window: exactly the last `window` records, types, window=1."""
_RollingMonitor = expecting(RollingMonitor, "a monitor whose health() describes its last window records (RollingMonitor's window: exactly the last `window` records, types, window=1)")
check_type(_RollingMonitor(window=2).health(), dict, "health() of a fresh monitor")
### BEGIN HIDDEN TESTS
with explain_failures("RollingMonitor's window: exactly the last `window` records, types, window=1",
                      'a monitor whose health() describes its last window records'):
    _monitor = _RollingMonitor(window=3)
    for _conf, _lat, _correct in [(0.1, 100.0, False), (0.2, 200.0, False), (0.3, 1.0, True), (0.5, 2.0, True), (0.7, 3.0, False)]:
        _monitor.record(_conf, _lat, correct=_correct)
    _health = _monitor.health()
    check_type(_health, dict, f"{calls_so_far(_monitor)}: health()")
    check_equal(_health["n"], 3, f"{calls_so_far(_monitor)}: health()['n'] after 5 records with window=3 (keep exactly the last `window`)")
    check_close(_health["accuracy"], 2 / 3, f"{calls_so_far(_monitor)}: accuracy over the last 3 records (True, True, False)")
    check_close(_health["mean_confidence"], 0.5, f"{calls_so_far(_monitor)}: mean confidence over the last 3 records (0.3, 0.5, 0.7)")
    check_close(_health["p95_latency_ms"], 2.9, f"{calls_so_far(_monitor)}: p95 of latencies (1, 2, 3): 2 + 0.9 * 1 (linear)")
    check_type(_health["p95_latency_ms"], float, f"{calls_so_far(_monitor)}: health()['p95_latency_ms']")
    check_type(_health["mean_confidence"], float, f"{calls_so_far(_monitor)}: health()['mean_confidence']")
    check_type(_health["error_rate"], float, f"{calls_so_far(_monitor)}: health()['error_rate']")
    check_type(_health["n"], int, f"{calls_so_far(_monitor)}: health()['n']")
    check_equal(_health["error_rate"], 0.0, f"{calls_so_far(_monitor)}: error_rate without errors")
    _one = _RollingMonitor(window=1)
    _one.record(0.2, 5.0, correct=False)
    _one.record(0.9, 7.0, correct=True)
    check_equal(_one.health(), {"n": 1, "accuracy": 1.0, "mean_confidence": 0.9, "p95_latency_ms": 7.0,
                                "error_rate": 0.0, "status": "healthy"}, f"{calls_so_far(_one)}: health() with window=1")
print("RollingMonitor: hidden tests of the window passed")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_RollingMonitor_hidden_labels_errors", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of RollingMonitor's accuracy without labels and its error-rate status at the 5% boundary."""
_RollingMonitor = expecting(RollingMonitor, "a monitor whose health() describes its last window records (RollingMonitor's accuracy without labels and its error-rate status at the 5% boundary)")
check_type(_RollingMonitor(window=2).health(), dict, "health() of a fresh monitor")
### BEGIN HIDDEN TESTS
with explain_failures("RollingMonitor's accuracy without labels and its error-rate status at the 5% boundary",
                      'a monitor whose health() describes its last window records'):
    _monitor = _RollingMonitor(window=10)
    for _i in range(4):
        _monitor.record(0.5, 10.0 * (_i + 1))
    _health = _monitor.health()
    check_equal(_health["accuracy"], None, f"{calls_so_far(_monitor)}: accuracy when no record has a label (None, not 0.0)")
    check_equal(_health["n"], 4, f"{calls_so_far(_monitor)}: n counts unlabelled records too")
    check_close(_health["p95_latency_ms"], 38.5, f"{calls_so_far(_monitor)}: p95 of latencies (10, 20, 30, 40)")
    _monitor = _RollingMonitor(window=10)
    _monitor.record(0.5, 10.0, correct=False)
    check_equal(_monitor.health()["accuracy"], 0.0, f"{calls_so_far(_monitor)}: accuracy when the only label is False")
    # The 5% boundary: 1 error in 20 is healthy, 2 in 20 degraded; errors leave with the window.
    _monitor = _RollingMonitor(window=20)
    for _i in range(20):
        _monitor.record(0.8, 10.0, correct=True, error=(_i == 0))
    check_equal(_monitor.health()["status"], "healthy", f"{calls_so_far(_monitor)}: status with error_rate exactly 0.05 (degraded only when > 0.05)")
    _monitor.record(0.8, 10.0, correct=True, error=True)
    check_equal(_monitor.health()["status"], "healthy", f"{calls_so_far(_monitor)}: status after the first error left the window (1 error in 20)")
    _monitor.record(0.8, 10.0, correct=True, error=True)
    check_close(_monitor.health()["error_rate"], 0.1, f"{calls_so_far(_monitor)}: error_rate with 2 errors in the last 20")
    check_equal(_monitor.health()["status"], "degraded", f"{calls_so_far(_monitor)}: status with error_rate 0.1 > 0.05")
print("RollingMonitor: hidden tests of labels and errors passed")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_RollingMonitor_hidden_independence", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of RollingMonitor's default window (500) and of monitors keeping their own records."""
_RollingMonitor = expecting(RollingMonitor, "a monitor whose health() describes its last window records (RollingMonitor's default window (500) and of monitors keeping their own records)")
check_type(_RollingMonitor().health(), dict, "RollingMonitor().health()")
### BEGIN HIDDEN TESTS
with explain_failures("RollingMonitor's default window (500) and of monitors keeping their own records",
                      'a monitor whose health() describes its last window records'):
    _first, _second = _RollingMonitor(), _RollingMonitor()
    for _i in range(501):
        _first.record(0.5, 10.0, correct=True)
    check_equal(_first.health()["n"], 500, f"{calls_so_far(_first)}: n after 501 records with the default window (500)")
    check_equal(_second.health()["n"], 0, f"{calls_so_far(_second)}: a second monitor must not see the first one's records (no shared class-level list)")
    check_equal(_second.health()["status"], "no data", f"{calls_so_far(_second)}: status of a fresh monitor")
print("RollingMonitor: hidden tests of defaults and independence passed")
### END HIDDEN TESTS

# %% [markdown]
# ## 5. An alert manager: one incident, one alert
#
# A detector checked every 30 seconds fires every 30 seconds for as long as the problem lasts. Paging someone
# each time teaches them to ignore the pager. And a single check that fires by bad luck should not page anyone
# at all. An **alert manager** sits between the detector and the humans:
#
# * **consecutive firing**: a name must fire in `consecutive` updates in a row before it is raised (one noisy
#   check is not an incident);
# * **one alert per incident**: once raised, a name is *active* and is not raised again while it keeps firing;
#   it stops being active when it stops firing;
# * **cooldown**: a name is not raised again until `cooldown` time units after it was last raised, so a
#   flapping problem does not page every few minutes.
#
# ### Exercise 6 (20 points): `AlertManager(cooldown=50, consecutive=3)`
#
# `update(t, firing)` is called with a time `t` (increasing) and `firing`, the `set` of alert names firing at
# `t`. It returns the `list` of names **raised** at `t`, in sorted order. Per name:
#
# * its *streak* grows by one in each update where it fires, and resets to 0 in an update where it does not — and
#   then the name also leaves `active`;
# * it is raised (returned, and added to `active`) when its streak is **at least** `consecutive`, it is not
#   already active, **and** it was never raised before or was last raised **at least** `cooldown` ago
#   (`t - last_raised >= cooldown`).
#
# So a name held back by the cooldown is raised as soon as the cooldown has passed, if it is still firing.
# Keep the currently active names in an attribute `active` (a `set`). Each manager keeps its own streaks,
# active names and alert times (two managers never share state).

# %% nbgrader={"grade": false, "grade_id": "AlertManager", "locked": false, "schema_version": 3, "solution": true, "task": false}
class AlertManager:
    """Turns per-check firing sets into alerts: consecutive firing, one alert per incident, cooldown."""

    def __init__(self, cooldown=50, consecutive=3):
        ### BEGIN SOLUTION
        if consecutive < 1:
            raise ValueError(f"consecutive must be at least 1, got {consecutive!r}")
        self.cooldown = cooldown
        self.consecutive = consecutive
        self.active = set()
        self._streak = {}
        self._last_raised = {}
        ### END SOLUTION

    def update(self, t, firing):
        """Record which names fire at time t; return the names raised now, sorted."""
        ### BEGIN SOLUTION
        firing = set(firing)
        for name in set(self._streak) | firing:
            if name in firing:
                self._streak[name] = self._streak.get(name, 0) + 1
            else:
                self._streak[name] = 0
                self.active.discard(name)
        raised = []
        for name in sorted(firing):
            last = self._last_raised.get(name)
            if (self._streak[name] >= self.consecutive and name not in self.active
                    and (last is None or t - last >= self.cooldown)):
                raised.append(name)
                self.active.add(name)
                self._last_raised[name] = t
        return raised
        ### END SOLUTION


# %% [markdown]
# Try it. With `consecutive=3` and `cooldown=50`, `"accuracy"` firing at t = 0, 10, 20, 30 is raised once, at
# t = 20. It stops at t = 40 and fires again from t = 50: that second incident reaches its streak at t = 70, only
# 50 after the first alert, so it is raised at t = 70 exactly. You should see `[]` everywhere except at 20 and 70.

# %%
manager = AlertManager(cooldown=50, consecutive=3)
for t, firing in [(0, {"accuracy"}), (10, {"accuracy"}), (20, {"accuracy"}), (30, {"accuracy"}), (40, set()),
                  (50, {"accuracy"}), (60, {"accuracy"}), (70, {"accuracy"}), (80, {"accuracy"})]:
    print(t, sorted(firing), "->", manager.update(t, firing), "active:", sorted(manager.active))

# %% nbgrader={"grade": true, "grade_id": "test_AlertManager_visible", "locked": true, "points": 8, "schema_version": 3, "solution": false, "task": false}
"""Check AlertManager: consecutive firing, one alert per incident, cooldown, and the active set."""
_manager = check_alert_sequence([
    (0, {"accuracy"}, [], "first firing: streak 1 < consecutive 3 raises nothing"),
    (1, {"accuracy"}, [], "streak 2 < 3 raises nothing"),
    (2, {"accuracy"}, ["accuracy"], "third firing in a row raises 'accuracy'"),
], cooldown=50, consecutive=3)
check_type(_manager.active, set, "manager.active")
check_equal(sorted(_manager.active), ["accuracy"], "sorted(manager.active) after 'accuracy' was raised at t=2")
check_alert_sequence([
    (3, {"accuracy"}, [], "still firing and already active: one incident, one alert"),
    (4, set(), [], "nothing fires"),
], manager=_manager)
check_equal(sorted(_manager.active), [], "sorted(manager.active) after 'accuracy' stopped firing at t=4")
check_alert_sequence([(_t, {"accuracy"}, [], "a new incident inside the cooldown (last raised at t=2, cooldown 50)")
                      for _t in (5, 6, 7)], manager=_manager)
# Names are independent.
check_alert_sequence([
    (0, {"latency"}, [], "latency streak 1 < consecutive 2"),
    (1, {"latency", "accuracy"}, ["latency"], "latency streak 2, accuracy streak 1: names have their own streaks"),
    (2, {"latency", "accuracy"}, ["accuracy"], "accuracy reaches its streak; latency is already active"),
], cooldown=50, consecutive=2)
print("AlertManager: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "test_AlertManager_hidden_streak", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of AlertManager's streaks: a gap resets them, the default consecutive is 3, managers do not share them."""
_AlertManager = expecting(AlertManager, "update() to return the names raised, sorted (AlertManager's streaks: a gap resets them, the default consecutive is 3, managers do not share them)")
check_type(_AlertManager().update(0, set()), list, "AlertManager().update(0, set())")
### BEGIN HIDDEN TESTS
with explain_failures("AlertManager's streaks: a gap resets them, the default consecutive is 3, managers do not share them",
                      'update() to return the names raised, sorted'):
    check_alert_sequence([
        (0, {"a"}, [], "streak 1"), (1, {"a"}, [], "streak 2"), (2, set(), [], "a gap: the streak goes back to 0"),
        (3, {"a"}, [], "streak 1 since the gap (a gap must reset the streak to 0)"),
        (4, {"a"}, [], "streak 2 since the gap (a gap must reset the streak to 0)"),
        (5, {"a"}, ["a"], "three firings in a row since the gap"),
    ], cooldown=10, consecutive=3)
    _first = check_alert_sequence([(0, {"q"}, [], "default consecutive 3: streak 1"), (1, {"q"}, [], "streak 2")])
    check_alert_sequence([(2, {"q"}, [], "a fresh manager has its own streaks (no shared class-level dict): streak 1 here")])
    check_alert_sequence([(2, {"q"}, ["q"], "default consecutive is 3: the third firing in a row raises")], manager=_first)
    check_alert_sequence([(0, set(), [], "an empty firing set raises nothing")])
print("AlertManager: hidden tests of streaks passed")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_AlertManager_hidden_cooldown", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of AlertManager's cooldown: its boundary, a name held back and raised when it passes, the default 50, cooldown 0."""
_AlertManager = expecting(AlertManager, "update() to return the names raised, sorted (AlertManager's cooldown: its boundary, a name held back and raised when it passes, the default 50, cooldown 0)")
check_type(_AlertManager(cooldown=10, consecutive=1).update(0, {"x"}), list, "update(0, {'x'})")
### BEGIN HIDDEN TESTS
with explain_failures("AlertManager's cooldown: its boundary, a name held back and raised when it passes, the default 50, cooldown 0",
                      'update() to return the names raised, sorted'):
    check_alert_sequence([
        (0, {"x"}, ["x"], "consecutive=1: raised at the first firing"),
        (1, set(), [], "nothing fires"),
        (9, {"x"}, [], "9 - 0 = 9 < cooldown 10 since the last alert"),
        (10, {"x"}, ["x"], "10 - 0 = 10 >= cooldown 10 and still firing: raise (t - last_raised >= cooldown)"),
        (11, {"x"}, [], "still the same incident (active)"),
    ], cooldown=10, consecutive=1)
    check_alert_sequence([
        (0, {"p"}, [], "streak 1"), (10, {"p"}, ["p"], "streak 2"), (20, set(), [], "a gap"),
        *[(_t, {"p"}, [], f"inside the cooldown: {_t} - 10 < 100") for _t in (30, 40, 50, 60, 70, 80, 90)],
        (110, {"p"}, ["p"], "110 - 10 = 100 >= cooldown 100, streak >= consecutive, not active: raise the held-back name"),
    ], cooldown=100, consecutive=2)
    check_alert_sequence([
        (0, {"q"}, [], "streak 1"), (1, {"q"}, [], "streak 2"), (2, {"q"}, ["q"], "streak 3"), (3, set(), [], "a gap"),
        (4, {"q"}, [], "inside the cooldown"), (5, {"q"}, [], "inside the cooldown"), (6, {"q"}, [], "inside the cooldown"),
        (51, {"q"}, [], "default cooldown 50: 51 - 2 = 49 < 50"),
        (52, {"q"}, ["q"], "default cooldown 50: 52 - 2 = 50 >= 50"),
    ])
    check_alert_sequence([
        (0, {"r"}, ["r"], "raised at the first firing"), (1, {"r"}, [], "still firing and active, so not raised again"),
        (2, set(), [], "a gap ends the incident"), (3, {"r"}, ["r"], "cooldown=0: a new incident after a gap is raised again"),
    ], cooldown=0, consecutive=1)
print("AlertManager: hidden tests of the cooldown passed")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_AlertManager_hidden_names", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of AlertManager with several names: sorted output, str names, the active set."""
_AlertManager = expecting(AlertManager, 'update() to return the names raised, sorted (AlertManager with several names: sorted output, str names, the active set)')
check_type(_AlertManager().update(0, {"a", "b"}), list, "AlertManager().update(0, {'a', 'b'})")
### BEGIN HIDDEN TESTS
with explain_failures('AlertManager with several names: sorted output, str names, the active set',
                      'update() to return the names raised, sorted'):
    _names = ["zeta", "alpha", "mid", "beta", "omega", "kappa"]
    _manager = _AlertManager(cooldown=5, consecutive=2)
    _manager.update(0, set(_names))
    _raised = _manager.update(1, set(_names))
    check_type(_raised, list, "update(...)'s return value")
    check_equal(_raised, sorted(_names), "names raised together, in sorted order")
    for _name in _raised:
        check_type(_name, str, "a raised name")
    check_type(_manager.active, set, "manager.active")
    check_equal(sorted(_manager.active), sorted(_names), "active names")
    check_equal(_manager.update(2, {"alpha"}), [], "t=2: alpha still active; the others stopped")
    check_equal(sorted(_manager.active), ["alpha"], "only names still firing stay active")
print("AlertManager: hidden tests of several names passed")
### END HIDDEN TESTS

# %% [markdown]
# ## 6. Production, simulated
#
# Now everything runs together on `ProductionStream`. Its `events()` yields `Request`s (a context, a latency)
# and, about a minute later (exponential delay), `Feedback` with the word the user really typed next. Time is a
# number on a **simulated clock**: the 50-minute stream below runs in a fraction of a second, and nothing ever
# sleeps. The model sees regime A until request 3000, then regime B. Feedback is as imperfect as in
# assignment 3: only 80% of requests ever get a label, and 10% of the labels that arrive are wrong (a random
# word), so *measured* accuracy sits below the true accuracy.
#
# The loop (provided, read it):
#
# 1. read the stream once (`replay`) and serve every request in one batch (the model only needs the last word).
#    A request whose answer is a fallback (the model failed, or gave a non-finite confidence: assignment 1's
#    `safe_predict` rule) is an **error**: it is counted, never scored as an answer;
# 2. **at request time**, record the label-free signals (confidence, latency, error) in a `RollingMonitor` of
#    served requests: they need no label, so they are current at once;
# 3. **the baseline comes from the champion's own first live labels**: the first 600 labels of the stream are
#    the baseline's `n` and `correct`, and the confidence of those requests its `mean_confidence`. Comparing
#    live labels (noisy, delayed, from live traffic) with a clean offline test set compares two different
#    measurements: assignment 3 forbids it, and you will see below what it costs;
# 4. after the baseline, when a request's feedback arrives, record whether the prediction was right in a second
#    `RollingMonitor`: its window is the last `window` **labelled** predictions;
# 5. every `check_every` simulated seconds, build `current` from both monitors (labels for `n` and `correct`,
#    served requests for confidence and p95 latency), run `detect_degradation` against the baseline, add an
#    `"errors"` alert when the served-requests monitor's status is `"degraded"` (more than 5% fallbacks), and
#    give the names of the non-`info` alerts to an `AlertManager`.
#
# We score the monitor with the truth a real system never has: the **detection delay** is the time from the true
# drift to the first accuracy alert raised after it, and a **false alarm** is an alert (of any kind) raised
# before the drift. A stream *without* drift (another seed) counts false alarms over a whole run. One stream is an
# anecdote: after it, 20 streams score the monitor with stricter rules.

# %%
STREAM_SETTINGS = {"feedback_rate": 0.8, "label_noise": 0.1}  # as in assignment 3: some labels never come, some are wrong

def replay(stream, model, outage=None):
    """Serve every request of the stream; keep the stream, its feedback and the served answers for re-runs.

    The model only needs each request's last word, so every request is predicted in one batch, from the
    stream's arrays (`stream.arrays()`: the same values as its events, without reading them one by one). During
    `outage` = (start, end) in simulated seconds the model server fails: those requests get the fallback
    (unk, 0.0) and are errors. A non-finite confidence is a fallback and an error too.
    """
    day = stream.arrays()
    ids = np.array([model.vocab.encode(word) for word in day["last_word"].tolist()])
    proba = model.predict_proba(ids)
    best = proba.argmax(axis=1)
    confidence = proba[np.arange(len(ids)), best]
    error = ~np.isfinite(confidence)
    if outage is not None:
        error |= (outage[0] <= day["request_t"]) & (day["request_t"] < outage[1])
    words_by_id = model.vocab.words  # id -> word, unk first
    words = [model.vocab.unk if failed else words_by_id[i] for i, failed in zip(best.tolist(), error.tolist())]
    feedback = {name: day[name] for name in ("feedback_request_id", "feedback_t", "feedback_target")}
    return {"stream": stream, "feedback": feedback, "latency": day["latency_ms"].tolist(), "word": words,
            "confidence": np.where(error, 0.0, confidence).tolist(), "error": error.tolist(),
            "request_t": day["request_t"].tolist(), "drift_time": stream.drift_time}

def offline_baseline(model, n=2000, seed=99):
    """Accuracy and confidence of `model` on n clean held-out regime-A examples: the WRONG baseline for live labels."""
    examples = make_examples(n, seed=seed, regime="A")
    word_ids, target_ids = encode_examples(examples, model.vocab)
    proba = model.predict_proba(word_ids)
    return {"n": n, "correct": int((proba.argmax(axis=1) == target_ids).sum()),
            "mean_confidence": float(proba.max(axis=1).mean()), "p95_latency_ms": 63.0}  # not compared

def run_monitoring(run, policy, window=300, check_every=30.0, cooldown=600.0, consecutive=3,
                   baseline_labels=600, baseline=None):
    """Replay a stream (from `replay`) through two RollingMonitors, detect_degradation and an AlertManager.

    The baseline is the first `baseline_labels` live labels, unless a fixed `baseline` dict is given.
    Returns (timeline, raised, baseline): timeline is a dict of lists (t, accuracy, n, error_rate, and the
    sorted names firing) with one entry per check; raised is the list of (t, name) alerts.
    """
    words, confidences, latency, errors = run["word"], run["confidence"], run["latency"], run["error"]
    served = RollingMonitor(window=window)    # every request, at request time: no label needed
    labelled = RollingMonitor(window=window)  # labelled predictions, when their feedback arrives
    manager = AlertManager(cooldown=cooldown, consecutive=consecutive)
    timeline = {"t": [], "accuracy": [], "n": [], "error_rate": [], "firing": []}
    raised, first_labels = [], []
    next_check = check_every

    def check(t):
        if baseline is None:
            return  # still collecting the baseline
        now, judged = served.health(), labelled.health()
        if now["n"] == 0:
            return
        correct = 0 if judged["n"] == 0 else int(round(judged["accuracy"] * judged["n"]))
        current = {"n": judged["n"], "correct": correct, "mean_confidence": now["mean_confidence"],
                   "p95_latency_ms": now["p95_latency_ms"]}
        firing = {a["metric"] for a in detect_degradation(baseline, current, policy) if a["severity"] != "info"}
        if now["status"] == "degraded":
            firing.add("errors")
        raised.extend((t, name) for name in manager.update(t, firing))
        for key, value in (("t", t), ("accuracy", judged["accuracy"]), ("n", judged["n"]),
                           ("error_rate", now["error_rate"]), ("firing", sorted(firing))):
            timeline[key].append(value)

    for event in run["stream"].events():  # simulated time moves with the events: nothing sleeps
        while event.t >= next_check:
            check(next_check)
            next_check += check_every
        i = event.request_id
        if not isinstance(event, Feedback):
            served.record(confidences[i], latency[i], error=errors[i])
        elif errors[i]:
            continue  # a fallback is not an answer: nothing to score
        elif baseline is None:
            first_labels.append((words[i] == event.target, confidences[i], latency[i]))
            if len(first_labels) == baseline_labels:
                right, conf, lat = zip(*first_labels)
                baseline = {"n": baseline_labels, "correct": int(sum(right)), "mean_confidence": float(np.mean(conf)),
                            "p95_latency_ms": float(np.percentile(lat, 95))}  # latency is judged against the SLO
        else:
            labelled.record(confidences[i], latency[i], correct=(words[i] == event.target))
    return timeline, raised, baseline

def score_alerts(raised, drift_time):
    """(detection delay, false alarms): seconds from drift_time to the first accuracy alert after it (None if
    never), and the number of alerts of any kind raised before drift_time (all of them when there is no drift).
    """
    if drift_time is None:
        return None, len(raised)
    after = [t for t, name in raised if t >= drift_time and name == "accuracy"]
    return (after[0] - drift_time if after else None), sum(1 for t, _ in raised if t < drift_time)


# %% [markdown]
# The reference policy: window of 300, a check every 30 s, `alpha = 0.01`, `min_drop = 0.05`, at least 100
# labels, 3 consecutive firings, a 10-minute cooldown, and a 150 ms p95 SLO. Expect the accuracy alert a few
# minutes after the drift (the labels themselves arrive about a minute late, and the window must fill with
# post-drift labels), no false alarm, and, on the drift-free stream, no alert at all. Expect also the detector to
# fire at every check after the drift (dozens of times) and the alert manager to turn all of that into **one**
# alert: one incident, one page.
#
# Look at the confidence line printed below: after this drift mean confidence does not fall, it *rises* a
# little, while accuracy falls by about half. The model is just as sure of itself while it is wrong. Regime B
# is largely **concept drift** (the same last words are now followed by other words): a confidence-based
# estimate of accuracy cannot see it, and input PSI sees that the world changed but not what it costs. Only
# labels measure the damage (*Going further* shows where a confidence-based estimate does work).

# %%
REFERENCE = {"window": 300, "alpha": 0.01, "min_drop": 0.05, "consecutive": 3}
DRIFT_STREAM = ProductionStream(seed=0, **STREAM_SETTINGS)
DRIFT_RUN = replay(DRIFT_STREAM, BASE_MODEL)
QUIET_RUN = replay(ProductionStream(seed=1, drift_at=None, **STREAM_SETTINGS), BASE_MODEL)  # never drifting

def evaluate_policy(window, alpha, min_drop, consecutive):
    """Run the drifting and the drift-free stream; return timelines, alerts and the scores."""
    policy = dict(POLICY, alpha=alpha, min_drop=min_drop)
    timeline, raised, baseline = run_monitoring(DRIFT_RUN, policy, window=window, consecutive=consecutive)
    _, quiet_raised, _ = run_monitoring(QUIET_RUN, policy, window=window, consecutive=consecutive)
    delay, false_alarms = score_alerts(raised, DRIFT_RUN["drift_time"])
    return {"timeline": timeline, "raised": raised, "baseline": baseline, "delay": delay,
            "false_alarms": false_alarms, "quiet_false_alarms": len(quiet_raised)}

def plot_timeline(result, title, ax):
    timeline = result["timeline"]
    ax.plot(timeline["t"], timeline["accuracy"], color="tab:blue", label="rolling accuracy (labelled window)")
    ax.axhline(result["baseline"]["correct"] / result["baseline"]["n"], color="grey", linestyle="--",
               label="baseline (first 600 live labels)")
    ax.axvline(DRIFT_RUN["drift_time"], color="black", linestyle=":", label="true drift")
    for t, name in result["raised"]:
        ax.axvline(t, color="red" if name == "accuracy" else "orange", alpha=0.8)
        ax.annotate(name, (t, 0.05), rotation=90, fontsize=8, color="red")
    ax.set_ylim(0, 1)
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("measured accuracy")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper right", fontsize=8)

def describe(result):
    delay = "not detected" if result["delay"] is None else f"{result['delay']:.0f} s"
    return (f"detection delay {delay}; false alarms before the drift: {result['false_alarms']}; "
            f"alerts on the drift-free stream: {result['quiet_false_alarms']}")

print("replaying the drifting and the drift-free stream ...", flush=True)
reference_result = evaluate_policy(**REFERENCE)
fig, ax = plt.subplots(figsize=(10, 3.8))
plot_timeline(reference_result, f"reference policy {REFERENCE}", ax)
plt.show()
plt.close(fig)
checks_firing = sum(1 for names in reference_result["timeline"]["firing"] if names)
print(f"the detector fired at {checks_firing} of {len(reference_result['timeline']['t'])} checks; "
      f"the alert manager raised {len(reference_result['raised'])} alert(s):",
      [(round(t), name) for t, name in reference_result["raised"]])
print(describe(reference_result))
_before = np.array([r.regime == "A" for r in DRIFT_STREAM.requests])
_right = np.array([word == DRIFT_STREAM.true_next_word(i) for i, word in enumerate(DRIFT_RUN["word"])])
_conf = np.array(DRIFT_RUN["confidence"])
print(f"before the drift: true accuracy {_right[_before].mean():.2f}, mean confidence {_conf[_before].mean():.3f}; "
      f"after: true accuracy {_right[~_before].mean():.2f}, mean confidence {_conf[~_before].mean():.3f}")


# %% [markdown]
# ### Scoring a monitor honestly: 20 streams, false alarms per 24 h
#
# One stream is one anecdote, and it is short: 6000 requests at about two per second are **50 simulated
# minutes**, not a day. To say how the monitor behaves we replay **20 drifting streams** (seeds 0 – 19) and
# report rates per **24 hours of monitored time**, with three rules that keep the score honest:
#
# * **A detection needs post-drift evidence.** An accuracy alert counts as a detection only when the labelled
#   window it judged holds mostly (at least half) labels of requests served *after* the drift. An alert on a
#   mostly pre-drift window is a **false alarm**, even when it happens to come a few seconds after the drift
#   time: its evidence is the old world's. (Scored by drift *time* alone, a chance alarm 10 s after the drift
#   would look like a brilliant 10 s detection.)
# * **Drift-free time is measured, not assumed.** False alarms are counted over the checks whose window is
#   mostly pre-drift (about 20 minutes per stream, after the 600 baseline labels), and divided by that time.
# * **Cooldown masking is named.** A false alarm shortly before the drift starts a 10-minute cooldown, and
#   while the detector keeps firing the name stays active: the real incident is then paged late, or never. We
#   count the streams where the detector had already fired `consecutive` times on post-drift evidence but the
#   alert manager raised nothing: the incident was **masked**.
#
# The cell below replays the 20 streams once (under a second on a quiet machine; it prints before it starts). To keep the sweep fast,
# `accuracy_checks` computes, at every check, the labelled window's `n` and `correct` directly from the
# feedback, then your `detect_degradation` and `AlertManager` decide, as in `run_monitoring` (the cell checks
# that both give the same alerts on stream 0). Only the accuracy alert is scored here.

# %%
SEEDS = range(20)  # the drifting streams that score a policy (stream 0 is DRIFT_STREAM)

def label_arrivals(run):
    """The run's labels in arrival order (fallbacks are never scored): arrival times, right or wrong, post-drift or not."""
    feedback = run["feedback"]                      # in arrival order, as the events deliver it
    scored = ~np.array(run["error"])[feedback["feedback_request_id"]]
    request_id = feedback["feedback_request_id"][scored]
    drift_time = np.inf if run["drift_time"] is None else run["drift_time"]
    return {"arrived": feedback["feedback_t"][scored],
            "right": np.array(run["word"])[request_id] == feedback["feedback_target"][scored],
            "post": np.array(run["request_t"])[request_id] >= drift_time,
            "drift_time": run["drift_time"]}

def accuracy_checks(labels, window, baseline_labels=600, check_every=30.0):
    """At each check of run_monitoring: the labelled window's n and correct, and its share of post-drift labels.

    A check at time t sees the labels that arrived before t; checks start once the first `baseline_labels`
    labels (the baseline) are in.
    """
    arrived = labels["arrived"]
    total_right = np.concatenate([[0], np.cumsum(labels["right"])])
    total_post = np.concatenate([[0], np.cumsum(labels["post"])])
    t = np.arange(check_every, arrived[-1] + check_every, check_every)
    seen = np.searchsorted(arrived, t, side="left")
    t, seen = t[seen >= baseline_labels], seen[seen >= baseline_labels]
    first = np.maximum(baseline_labels, seen - window)
    n = seen - first
    return {"t": t, "n": n, "correct": total_right[seen] - total_right[first],
            "post_share": (total_post[seen] - total_post[first]) / np.maximum(n, 1),
            "baseline": {"n": baseline_labels, "correct": int(total_right[baseline_labels])},
            "drift_time": labels["drift_time"], "check_every": check_every}

def accuracy_alerts(checks, alpha, min_drop, consecutive, cooldown=600.0, baseline=None):
    """Your detect_degradation (accuracy rule only) and AlertManager over the checks: (times raised, fired per check)."""
    policy = dict(POLICY, alpha=alpha, min_drop=min_drop)
    base = dict(baseline or checks["baseline"], mean_confidence=0.0, p95_latency_ms=0.0)
    manager = AlertManager(cooldown=cooldown, consecutive=consecutive)
    raised, fired = [], []
    for t, n, correct in zip(checks["t"].tolist(), checks["n"].tolist(), checks["correct"].tolist()):
        current = {"n": n, "correct": correct, "mean_confidence": 0.0, "p95_latency_ms": 0.0}
        firing = {a["metric"] for a in detect_degradation(base, current, policy) if a["metric"] == "accuracy"}
        fired.append(bool(firing))
        raised.extend(t for _ in manager.update(t, firing))
    return raised, fired

def score_checks(checks, raised, fired, consecutive):
    """Delay (None if no detection), false alarms, monitored drift-free seconds, and whether the incident was masked."""
    post = checks["post_share"] >= 0.5
    post_at = dict(zip(checks["t"].tolist(), post.tolist()))
    detections = [t for t in raised if post_at[t]]
    streak, ready = 0, None   # ready: the detector has fired `consecutive` times in a row on post-drift evidence
    for t, fire, is_post in zip(checks["t"].tolist(), fired, post.tolist()):
        streak = streak + 1 if fire else 0
        if ready is None and is_post and streak >= consecutive:
            ready = t
    masked = ready is not None and (not detections or detections[0] > ready)
    return {"delay": detections[0] - checks["drift_time"] if detections else None,
            "false_alarms": sum(1 for t in raised if not post_at[t]),
            "quiet_seconds": float((~post).sum()) * checks["check_every"], "masked": masked}

def score_policy(window, alpha, min_drop, consecutive, baseline=None):
    """The policy's figures over the 20 streams: mean delay, false alarms per 24 h, masked incidents."""
    scores = []
    for seed in SEEDS:
        if (seed, window) not in SEED_CHECKS:
            SEED_CHECKS[seed, window] = accuracy_checks(SEED_LABELS[seed], window)
        checks = SEED_CHECKS[seed, window]
        scores.append(score_checks(checks, *accuracy_alerts(checks, alpha, min_drop, consecutive, baseline=baseline),
                                   consecutive))
    delays = [s["delay"] for s in scores if s["delay"] is not None]
    hours = sum(s["quiet_seconds"] for s in scores) / 3600
    false_alarms = sum(s["false_alarms"] for s in scores)
    return {"mean_delay": float(np.mean(delays)) if delays else float("nan"), "detected": len(delays),
            "false_alarms": false_alarms, "hours": hours, "per_24h": false_alarms / hours * 24,
            "masked": sum(s["masked"] for s in scores)}

print(f"replaying {len(SEEDS)} drifting streams (50 simulated minutes each) ...", flush=True)
SEED_LABELS = {seed: label_arrivals(replay(ProductionStream(seed=seed, **STREAM_SETTINGS), BASE_MODEL)) for seed in SEEDS}
SEED_CHECKS = {}  # (seed, window) -> accuracy_checks: computed once, judged under many policies
_raised, _ = accuracy_alerts(accuracy_checks(label_arrivals(DRIFT_RUN), REFERENCE["window"]), REFERENCE["alpha"], REFERENCE["min_drop"],
                             REFERENCE["consecutive"])
assert _raised == [t for t, name in reference_result["raised"] if name == "accuracy"], (_raised, reference_result["raised"])
REFERENCE_SCORE = score_policy(**REFERENCE)
print(f"reference policy over {len(SEEDS)} streams: detected on {REFERENCE_SCORE['detected']} of {len(SEEDS)}, "
      f"mean delay {REFERENCE_SCORE['mean_delay']:.0f} s; {REFERENCE_SCORE['false_alarms']} false alarm(s) in "
      f"{REFERENCE_SCORE['hours']:.1f} h of drift-free monitoring = {REFERENCE_SCORE['per_24h']:.1f} per 24 h; "
      f"masked incidents: {REFERENCE_SCORE['masked']}")

# %% [markdown]
# Read those numbers with the units in mind: about 4 false accuracy pages per 24 hours is the price of this
# policy on these streams, not "none" (on stream 0 alone it raised no false alarm). And it is a rough figure: the
# 20 streams hold less than 7 drift-free hours, so each false alarm moves the rate by about 3.6 per 24 h, and 20
# other streams can give several times more. Knowing a false-alarm rate well takes days of drift-free data.
#
# ### Which baseline? Measure it across streams
#
# Why not take the baseline from the clean offline test set, as the model's launch report would? Because live
# labels are a different measurement: 10% of them are wrong, which lowers measured accuracy by about
# `0.1 · (accuracy − 1/42)` ≈ 6 points. Compared with a clean offline baseline, a perfectly healthy model then
# looks about 6 points worse, more than `min_drop`, and with hundreds of labels that gap is "significant".
#
# The cell below scores the same 20 streams with each baseline (drift-free time only: windows of mostly
# pre-drift labels, where nothing has changed). Every alert there is a false alarm. Expect more than 50 false
# accuracy pages per 24 h with the offline baseline, and several times fewer with the live one.
#
# This is also why false alarms must be measured. The monitor runs a test every 30 s on overlapping windows:
# that is **peeking**, the mistake assignment 3 warns about in A/B tests, so `alpha = 0.01` is *not* the chance
# of a false alarm per 24 hours (a check every 30 s is 2,880 correlated tests in 24 hours). What keeps false alarms rare is
# `min_drop`, the three consecutive firings and the cooldown, and the only way to know the rate is to measure
# it on drift-free data, as here.

# %%
_offline = offline_baseline(BASE_MODEL)
print(f"offline baseline (2000 clean examples): accuracy {_offline['correct'] / _offline['n']:.3f}")
for name, fixed in (("offline (clean test set)", _offline), ("live (first 600 labels)", None)):
    _score = score_policy(**REFERENCE, baseline=fixed)
    print(f"{name:25}: {_score['false_alarms']} false accuracy alerts in {_score['hours']:.1f} h of drift-free "
          f"monitoring = {_score['per_24h']:.1f} per 24 h")

# %% [markdown]
# ### A fallback is an error, not an answer
#
# Assignment 1's `safe_predict` never raises: when the model fails it answers `unk` with confidence 0. That keeps
# the service up, and it must not hide the failure. Here the model server fails for two minutes of the
# drift-free stream (an outage from t = 600 s to 720 s): every request in it is a fallback, recorded with
# `error=True` at request time. Expect the served-requests monitor's error rate to jump, its status to turn
# `"degraded"`, and one `errors` alert about 90 s into the outage (three consecutive checks), long before any
# label could say anything. A `confidence` alert comes with it: a fallback answers with confidence 0.

# %%
print("replaying the drift-free stream with a two-minute outage ...", flush=True)
OUTAGE_RUN = replay(ProductionStream(seed=1, drift_at=None, **STREAM_SETTINGS), BASE_MODEL, outage=(600.0, 720.0))
_timeline, _raised, _ = run_monitoring(OUTAGE_RUN, dict(POLICY, alpha=0.01, min_drop=0.05))
print(f"fallbacks served: {sum(OUTAGE_RUN['error'])} of {len(OUTAGE_RUN['error'])} requests")
print(f"highest error rate in the served window: {max(_timeline['error_rate']):.2f}")
print("alerts raised:", [(round(t), name) for t, name in _raised])


# %% [markdown]
# ### Explore the trade-off
#
# A smaller window reacts faster but is noisier; a larger `alpha`, a smaller `min_drop` or fewer consecutive
# checks make the detector more eager. Move the sliders: the simulation re-runs stream 0 and the drift-free
# stream (about a tenth of a second) and shows one anecdote. Try window 100, alpha 0.1, min_drop 0 and
# consecutive 1 to watch false alarms appear. (The window cannot go below `min_samples = 100`: a smaller window
# would only ever say "not enough data".)

# %%
def explore(window=REFERENCE["window"], alpha=REFERENCE["alpha"], min_drop=REFERENCE["min_drop"],
            consecutive=REFERENCE["consecutive"]):
    """Re-run both streams with these settings; draw the timeline and print delay and false alarms."""
    result = evaluate_policy(window=int(window), alpha=float(alpha), min_drop=float(min_drop),
                             consecutive=int(consecutive))
    fig, ax = plt.subplots(figsize=(10, 3.5))
    plot_timeline(result, f"window {int(window)}, alpha {alpha:.3g}, min_drop {min_drop:.2f}, consecutive {int(consecutive)}", ax)
    plt.show()
    plt.close(fig)
    print(describe(result))

sliders = {
    "window": widgets.IntSlider(value=REFERENCE["window"], min=100, max=1000, step=50, description="window"),
    "alpha": widgets.FloatLogSlider(value=REFERENCE["alpha"], base=10, min=-4, max=-0.7, step=0.1, description="alpha"),
    "min_drop": widgets.FloatSlider(value=REFERENCE["min_drop"], min=0.0, max=0.3, step=0.01, description="min_drop"),
    "consecutive": widgets.IntSlider(value=REFERENCE["consecutive"], min=1, max=6, description="consecutive"),
}
explorer_output = widgets.Output()

def on_change(change=None):
    explorer_output.clear_output(wait=True)
    with explorer_output:
        explore(**{name: slider.value for name, slider in sliders.items()})

for slider in sliders.values():
    slider.observe(on_change, names="value")
with explorer_output:  # the default view is the reference run drawn above: no need to compute it twice
    print("reference settings:", describe(reference_result), "- move a slider to re-run.")
display(widgets.VBox([widgets.HBox(list(sliders.values())[:2]), widgets.HBox(list(sliders.values())[2:]),
                      explorer_output]))

# %% [markdown]
# ### The trade-off, measured over 20 streams
#
# The cell below sweeps `alpha` for the reference settings and for a deliberately eager policy (window 100,
# `min_drop` 0, one firing), scored as above over the 20 streams. What to look for:
#
# * **False alarms per 24 h grow with `alpha`**, steeply for the eager policy: that is the cost side.
# * **The delay hardly improves.** This drift is large, so once half the window holds post-drift labels every
#   `alpha` fires; the delay is set by the label delay (about a minute) and by how fast the window fills, not by
#   `alpha`. A smaller window is faster for that reason, not because of `alpha`.
# * **The delay can even grow with `alpha`**, and detections go missing: with more false alarms, more incidents
#   are **masked** (a false alarm just before the drift holds the page back by its cooldown, or is still active
#   when the real drop comes). That is why a curve scored on one stream, or without this bookkeeping, zigzags.
#
# There is no free lunch, only a choice of where to sit; here a small `alpha` costs almost nothing in delay.

# %%
alphas = [0.001, 0.01, 0.05, 0.2]
print(f"sweeping alpha over {alphas} for two policies on the {len(SEEDS)} streams ...", flush=True)
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
for settings, style in [(dict(window=300, min_drop=0.05, consecutive=3), "o-"),
                        (dict(window=100, min_drop=0.0, consecutive=1), "s--")]:
    scores = [score_policy(alpha=a, **settings) for a in alphas]
    label = f"window {settings['window']}, min_drop {settings['min_drop']}, consecutive {settings['consecutive']}"
    axes[0].plot(alphas, [s["mean_delay"] for s in scores], style, label=label)
    axes[1].plot(alphas, [s["per_24h"] for s in scores], style, label=label)
    print(label)
    for a, s in zip(alphas, scores):
        print(f"   alpha {a:<6}: mean delay {s['mean_delay']:4.0f} s (detected {s['detected']:2d}/{len(SEEDS)}), "
              f"false alarms {s['per_24h']:5.1f} per 24 h, masked incidents {s['masked']}")
for ax, ylabel in zip(axes, ["mean detection delay (s)", "false accuracy alarms per 24 h"]):
    ax.set_xscale("log")
    ax.set_xticks(alphas, [f"{a:g}" for a in alphas])  # one tick per swept alpha
    ax.minorticks_off()
    ax.set_xlabel("alpha")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7)
plt.show()
plt.close(fig)

# %% [markdown]
# ## 7. Written answer
#
# ### Written answer 1 (15 points, graded by hand): when a drop is evidence
#
# A team runs a spam filter whose accuracy, measured on 5000 labelled emails at
# launch, is **0.90**. Their dashboard pages the on-call engineer when accuracy on the **last 20** labelled
# emails is **10 points or more** below launch (16 right out of 20, or fewer). Last night it paged: 16 out of 20.
#
# 1. Is 16 out of 20 evidence that the filter degraded? Answer **with numbers you compute yourself** with the
#    tools of this notebook: the standard deviation of an accuracy measured on 20 emails, a Wilson interval, a
#    one-sided z-test (and say whether you trust its p-value at n = 20).
# 2. Roughly how often would this rule page on a filter that never changed? How many labels would a window
#    need before a real 10-point drop stands out clearly from the noise? (A Wilson interval or a z-test at a few
#    window sizes is enough: no sample-size formula is needed.)
# 3. Connect it to the original exercise (a 15-point drop on 10 examples), and say what the team's monitor
#    should do instead, using what you built in sections 2 – 6.
#
# Numbers computed in a scratch code cell of your own are welcome (they are not graded; only this answer is).
# Write your answer in the next cell (double-click it to edit). Aim for one or two paragraphs.

# %% [markdown] nbgrader={"grade": true, "grade_id": "why_ten_examples_are_not_evidence", "locked": false, "points": 15, "schema_version": 3, "solution": true, "task": false}
# ### BEGIN SOLUTION
# **Model answer.** (1) On 20 emails the measured accuracy of a filter whose true accuracy is 0.90 has a
# standard deviation of `sqrt(0.9 · 0.1 / 20) ≈ 0.067`, so a 10-point drop is only 1.5 standard deviations.
# The 95% Wilson interval for 16/20 is about (0.58, 0.92): it contains 0.90. A one-sided pooled z-test of 16/20
# against 4500/5000 gives z ≈ -1.49, p ≈ 0.07: not significant even at 5%. At n = 20 with p near 0.9 the normal
# approximation is rough (only about 2 errors are expected); Fisher's exact test gives p ≈ 0.13, even weaker.
# (2) A filter that never changed gets 16 or fewer right out of 20 with probability about 0.13 (binomial), so
# this rule pages on roughly one window in eight; checked on every new label, it pages many times a day.
# With 100 labels the Wilson interval for 80/100 is about (0.71, 0.87), which excludes 0.90, and the z-test
# gives z ≈ -3.3 (p ≈ 0.0005); with 200 labels about (0.74, 0.85). So a window of a few hundred labels separates
# a real 10-point drop from noise. (3) The original exercise's 15-point drop on 10 examples is the same mistake,
# worse: its standard deviation is about 0.15 at p = 0.62, so the drop is a one-standard-deviation wobble
# (z ≈ -0.76, p ≈ 0.22 for 5/10 against 617/1000). The monitor should say "not enough data" below a minimum number
# of labels, keep a rolling window of a few hundred labels, alert only on a drop that is both at least a minimum
# effect and significant, require several consecutive firings and a cooldown, take its baseline from live labels
# of the same pipeline (launch accuracy on clean labels is a different measurement), and measure its false-alarm
# rate on drift-free data, because testing at every check is peeking.
#
# *Rubric (15 points).* Wrong statements (e.g. "the drop is significant", "20 examples are enough if the drop is
# big") cost up to 3 points in all, taken from the criterion they contradict. A caveat on the z-test at small n
# is welcome, not required.
# - 4 points: quantifies the noise at n = 20 (standard deviation ≈ 0.067, or P(≤ 16/20 | 0.9) ≈ 0.13), with the
#   conclusion that 10 points is about 1.5 standard deviations. 2 points if only qualitative.
# - 4 points: a correct Wilson interval for 16/20 (≈ 0.58 – 0.92, contains 0.9) **or** z-test (z ≈ -1.5,
#   one-sided p ≈ 0.07), with the conclusion "not evidence". At most 2 of these 4 for numbers copied from the
#   notebook's 10-example case instead of computed for 16/20, or for the right method with wrong numbers.
# - 3 points: how often the rule pages a healthy filter (≈ one window in 7 – 8) and how many labels are needed
#   (order of 100 – 300, shown with an interval or a test at larger n).
# - 2 points: connects to the original 15-point drop on 10 examples: the same mistake, worse (standard deviation
#   ≈ 0.15 at n = 10, so the drop is about one standard deviation; or z ≈ -0.76, p ≈ 0.22).
# - 2 points: what to do instead: "not enough data" state, rolling window, minimum effect plus significance,
#   consecutive firings / cooldown; full marks need one of: a live baseline, or a measured false-alarm rate
#   (peeking).
# ### END SOLUTION

# %% [markdown]
# ## Going further (ungraded)
#
# Nothing below is graded and nothing below needs code from you: read, run, and change the numbers if you like.
# Each cell runs in well under a second. Three questions the core path left open:
#
# * **Peeking has a remedy.** Section 6 measured its false alarms because a test every 30 s is peeking. When you
#   must look often *and* want a guaranteed false-positive rate, use a boundary built for many looks.
# * **A window waits; a change detector does not.** The windowed test needs half its window to be post-drift
#   before it can speak. A CUSUM detector accumulates evidence label by label.
# * **What can the inputs tell us, on this stream?** Section 3 promised worked examples.
#
# ### A. Peeking, and a sequential boundary (Pocock)
#
# An **A/A test** compares two groups served by the same model: any "significant" difference is a false positive.
# Below, 4000 simulated A/A tests each take 50 looks (20 more requests per group between looks, accuracy 0.6 in
# both) and run your `two_proportion_z_test`'s statistic at every look. Stopping at the first `|z| > 1.96` is the
# peeking mistake. **Pocock's boundary** keeps one constant threshold `c` for all looks, chosen so that under "no
# difference" `|z|` crosses it at *any* of the 50 looks only 5% of the time. At equally spaced looks, `z` under no
# difference behaves like a Gaussian random walk divided by the square root of its length, so `c` is computed by
# simulating such walks; it is then checked on the fresh binomial A/A tests, which it was not computed from.
#
# Expect about 5% false positives with one look at the end, about 32% when peeking at all 50 looks with 1.96, and
# about 5% again with Pocock's boundary, which is about 2.8 instead of 1.96. The price: each look must clear a
# higher bar, so a real difference needs somewhat more data to be declared. (O'Brien–Fleming's boundary is the
# other classic: very strict early, close to 1.96 at the last look.)

# %%
LOOKS, PER_LOOK, AA_ALPHA = 50, 20, 0.05
walks = np.cumsum(np.random.default_rng(1).standard_normal((20_000, LOOKS)), axis=1) / np.sqrt(np.arange(1, LOOKS + 1))
POCOCK_C = float(np.quantile(np.abs(walks).max(axis=1), 1 - AA_ALPHA))

def aa_z_statistics(n_tests, seed, accuracy=0.6):
    """z of two identical groups (pooled, as in two_proportion_z_test) at each of LOOKS looks: shape (n_tests, LOOKS)."""
    rng = np.random.default_rng(seed)
    first = np.cumsum(rng.binomial(PER_LOOK, accuracy, (n_tests, LOOKS)), axis=1)
    second = np.cumsum(rng.binomial(PER_LOOK, accuracy, (n_tests, LOOKS)), axis=1)
    n = PER_LOOK * np.arange(1, LOOKS + 1)
    pooled = (first + second) / (2 * n)
    return (second - first) / n / np.sqrt(pooled * (1 - pooled) * 2 / n)

aa_z = aa_z_statistics(4000, seed=2)
print(f"Pocock's constant for {LOOKS} looks at alpha {AA_ALPHA}: c = {POCOCK_C:.2f}")
print(f"false-positive rate, one look at the end (|z| > 1.96): {np.mean(np.abs(aa_z[:, -1]) > 1.96):.1%}")
print(f"false-positive rate, peeking at all {LOOKS} looks with 1.96: {np.mean((np.abs(aa_z) > 1.96).any(axis=1)):.1%}")
print(f"false-positive rate, all {LOOKS} looks with Pocock's c: {np.mean((np.abs(aa_z) > POCOCK_C).any(axis=1)):.1%}")

# %% [markdown]
# ### B. A change detector on the error stream: CUSUM
#
# The **CUSUM** (cumulative sum) detector reads the labels one by one, as a sequence of errors (1) and hits (0). With
# `p0` the baseline error rate (the first 600 labels) and `p1 = p0 + 0.2` the error rate it should catch quickly,
# each label adds its log-likelihood ratio `ln(p1/p0)` (an error) or `ln((1 - p1)/(1 - p0))` (a hit) to a score that
# never goes below 0: `S = max(0, S + llr)`. An alarm is raised when `S >= h`, and `S` restarts at 0. It is a
# sequential probability ratio test restarted after every "no change" verdict, and `h` plays the part `alpha`
# played for the window: a larger `h`, fewer false alarms and later detections.
#
# It is scored with the same rules as the windowed test, on the same 20 streams: an alarm is a detection only if
# most labels since `S` last stood at 0 are post-drift, otherwise it is a false alarm; rates are per 24 h of
# drift-free time. Expect the CUSUM to detect more than a minute sooner than the window for the same false-alarm
# rate (a window must be half full of post-drift labels before it can speak), and `h` to trade delay for false
# alarms. With only about 7 hours of drift-free time in these streams, a single false alarm is about 3.6 per 24 h:
# these rates are rough, and a real calibration needs days of drift-free data.

# %%
def cusum_alarms(labels, threshold, gap=0.2, baseline_labels=600):
    """Bernoulli CUSUM on the errors after the baseline: a list of (alarm time, post-drift share of its evidence)."""
    wrong = ~labels["right"]
    p0 = float(wrong[:baseline_labels].mean())
    p1 = min(p0 + gap, 0.99)
    on_error, on_hit = math.log(p1 / p0), math.log((1 - p1) / (1 - p0))
    steps = np.where(wrong, on_error, on_hit).tolist()   # each label's log-likelihood ratio
    score, start, alarms = 0.0, baseline_labels, []
    for i in range(baseline_labels, len(wrong)):
        score = max(0.0, score + steps[i])
        if score == 0.0:
            start = i + 1   # the evidence of the next alarm starts after the last time the score stood at 0
        elif score >= threshold:
            alarms.append((float(labels["arrived"][i]), float(labels["post"][start:i + 1].mean())))
            score, start = 0.0, i + 1
    return alarms

def score_cusum(threshold):
    """Mean delay, detections and false alarms per 24 h of the CUSUM over the 20 streams."""
    delays, false_alarms, quiet_seconds = [], 0, 0.0
    for seed in SEEDS:
        labels = SEED_LABELS[seed]
        alarms = cusum_alarms(labels, threshold)
        detections = [t for t, share in alarms if share >= 0.5]
        false_alarms += sum(1 for _, share in alarms if share < 0.5)
        quiet_seconds += labels["arrived"][np.argmax(labels["post"])] - labels["arrived"][599]
        if detections:
            delays.append(detections[0] - labels["drift_time"])
    return {"mean_delay": float(np.mean(delays)), "detected": len(delays), "per_24h": false_alarms / quiet_seconds * 86400}

print("scoring the CUSUM at 5 thresholds and the window at 3 alphas on the 20 streams ...", flush=True)
fig, ax = plt.subplots(figsize=(7, 3.5))
cusum_scores = {h: score_cusum(h) for h in (8, 10, 12, 15, 20)}
window_scores = {a: score_policy(window=300, alpha=a, min_drop=0.05, consecutive=3) for a in (0.001, 0.01, 0.05)}
for name, scores, style in (("CUSUM, h =", cusum_scores, "o-"), ("window 300, alpha =", window_scores, "s--")):
    for setting, s in scores.items():
        print(f"{name} {setting:<6}: mean delay {s['mean_delay']:4.0f} s (detected {s['detected']:2d}/{len(SEEDS)}), "
              f"false alarms {s['per_24h']:5.1f} per 24 h")
    ax.plot([s["per_24h"] for s in scores.values()], [s["mean_delay"] for s in scores.values()], style, label=name[:-4])
ax.set_xlabel("false alarms per 24 h")
ax.set_ylabel("mean detection delay (s)")
ax.legend(fontsize=8)
plt.show()
plt.close(fig)

# %% [markdown]
# ### C. Drift on this stream: what the inputs, the predictions and the confidence can tell
#
# **Label drift is visible in the inputs here.** In next-word prediction each label becomes the next input: the
# word a user types next is the last word of the next request's context. So when the share of next words changes,
# the share of last words changes with it, and input PSI moves almost as much as label PSI. Expect, between
# 20,000 examples of each regime, an input PSI of about 0.81 and a label PSI of about 0.89.
#
# **Prediction drift** is the usual label-free proxy: the distribution of the model's *answers* needs no label
# either. Here it moves too (PSI about 0.47), less than the inputs, because many last words keep their answer.
#
# **Confidence-based performance estimation (CBPE)** estimates accuracy without labels as the mean top confidence.
# That is right exactly when the model is calibrated (assignment 1's ECE near 0), and calibration on new inputs
# holds only if `P(next word | last word)` did not change. Two worked examples:
#
# * a **covariate-only shift**: regime-A examples, resampled so that last words the model is unsure about come 5
#   times as often. The inputs move, `P(y | x)` does not, and the estimate follows the true accuracy down
#   (expect about 0.62 → 0.51 true, 0.59 → 0.46 estimated);
# * **concept drift** (regime B): the same last words are now followed by other words. The estimate stays near
#   0.6 while the true accuracy halves: the assumption is broken, and only labels can tell.

# %%
def counts(ids):
    return np.bincount(ids, minlength=len(VOCAB))

print("drawing 20,000 examples of each regime ...", flush=True)
x_a, y_a = encode_examples(make_examples(20_000, seed=100, regime="A"), VOCAB)
x_b, y_b = encode_examples(make_examples(20_000, seed=200, regime="B"), VOCAB)
proba_a, proba_b = BASE_MODEL.predict_proba(x_a), BASE_MODEL.predict_proba(x_b)
print(f"regime A -> B: input PSI {population_stability_index(counts(x_a), counts(x_b)):.2f}, "
      f"label PSI {population_stability_index(counts(y_a), counts(y_b)):.2f}, "
      f"prediction PSI {population_stability_index(counts(proba_a.argmax(1)), counts(proba_b.argmax(1))):.2f}")

unsure = BASE_MODEL.predict_proba(np.arange(len(VOCAB))).max(axis=1) < 0.5   # last words the model is unsure about
weights = np.where(unsure[x_a], 5.0, 1.0)
shifted = np.random.default_rng(3).choice(len(x_a), 5000, p=weights / weights.sum())
for name, proba, targets in (("regime A", proba_a, y_a), ("covariate-only shift", proba_a[shifted], y_a[shifted]),
                             ("concept drift (B)", proba_b, y_b)):
    print(f"{name:21}: true accuracy {np.mean(proba.argmax(1) == targets):.2f}, "
          f"CBPE estimate (mean confidence) {proba.max(1).mean():.2f}")

# %% [markdown]
# ## Summary
#
# * An accuracy is a measurement with an error bar: on 10 examples that error bar is ±0.3.
# * Alert on a drop that is **both** significant and large enough to matter — and say "not enough data" when
#   that is the truth.
# * Judge latency by a high percentile against an SLO; the mean hides the tail.
# * Watch inputs too, knowing what they can see: PSI catches covariate drift without labels (and, in next-word
#   prediction, label drift: each label is the next input), never concept drift (same inputs, new next words), and
#   has a noise floor of its own. A confidence-based accuracy estimate works only while `P(y | x)` holds.
# * Take the baseline from the same measurement you monitor (the champion's first live labels), never from a
#   clean offline test set: label noise alone made the offline baseline raise dozens of false alerts per 24 h.
# * A fallback is an error, not an answer: count it at request time, where it needs no label.
# * Checking every 30 s is peeking: measure the false-alarm rate on drift-free streams, per 24 h of monitored time,
#   instead of trusting alpha; count a detection only when the evidence is post-drift, and watch for cooldown masking.
# * Keep windows bounded, and let an alert manager turn a stream of firings into one alert per incident.
# * Simulate production on a simulated clock so that you can measure detection delay and false alarms — and
#   choose your trade-off with your eyes open.
