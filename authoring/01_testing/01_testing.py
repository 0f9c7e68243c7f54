# %% [markdown]
# # Assignment 1: testing an AI model
#
# This course grows out of an exercise whose code *looked* like it worked: its test runner ran **zero
# tests** and divided by zero, its "baseline" was an **untrained model**, its vocabulary ids ran **1..24 in
# arrays of size 24**, and its test targets were **not in the vocabulary** (`"to"`). Section 0 reproduces
# each bug in a few lines.
#
# Here you build, step by step, the tests that would have caught each of those bugs, for a small next-word
# model. **Time: about 120 minutes**, one lab session; the core path, part by part (reading, running the
# demos, writing and testing each function):
#
# | part | minutes |
# |---|---|
# | introduction, 0. the original's bugs, summary | 8 |
# | 1. inputs (`normalize_context`) | 10 |
# | 2. a safe prediction wrapper (`safe_predict`) | 13 |
# | 3. behavioural tests (`run_test_suite`) | 30 |
# | 4. pre-training checks (`gradient_check`) | 13 |
# | 5. evaluation: top-k, calibration, slices (`evaluate`, `expected_calibration_error`) | 29 |
# | 6. two written answers | 17 |
#
# **Going further** sections (two explorers and the ML Test Score map) are ungraded and outside that time.
#
# **Grading: 100 points** (a point is a percent of the notebook; mastery needs 80). Six exercises are
# graded automatically (exercise 2 asks for two functions, `safe_predict` and its companion
# `safe_predict_with_reason`, graded together) and two written answers by hand:
#
# | exercise | points |
# |---|---|
# | `normalize_context` | 10 |
# | `safe_predict` | 12 |
# | `run_test_suite` | 24 |
# | `gradient_check` | 10 |
# | `evaluate` | 10 |
# | `expected_calibration_error` | 10 |
# | written answer: testing across modalities | 12 |
# | written answer: metrics for this model | 12 |
# | **total** | **100** |
#
# Each function has *visible* tests you can run now and **hidden tests**, one cell per behaviour, that run
# when your work is graded. Every case a hidden test checks is stated in the exercise's text, and what no
# test checks is said too ("Not tested"): passing the visible tests does not prove an answer right. Keep the
# names and signatures exactly as given, and do not redefine the names that the locked cells provide
# (`VOCAB`, `BASE_MODEL`, `check_equal`, `FakeModel`, `table_model`, ...): the demos and the tests use them.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import math

import numpy as np
import matplotlib.pyplot as plt
import ipywidgets as widgets

from nextword import (NextWordModel, Vocabulary, best_last_word_accuracy, default_vocabulary,
                      encode_examples, make_examples, pretrained_model)

# The fixtures the demos share (UPPER_CASE, the same names in every notebook of the course).
VOCAB = default_vocabulary()
print("loading the pretrained model (trained on regime A; its weights ship with nextword) ...", flush=True)
BASE_MODEL = pretrained_model(seed=0)          # deterministic: the same seed gives the same weights


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


# %% [markdown]
# The locked cell above keeps trusted copies of the comparison functions the tests use. The next one
# provides **test doubles**, stand-ins for a model whose behaviour you know by construction: that is how you
# test the *tests*.

# %% nbgrader={"grade": false, "grade_id": "provided_helpers", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Provided helpers (locked): used by the demos and by the tests.
def expect_raises(exc_type, func, *args, what="the call", hint="", **kwargs):
    """Call func(*args, **kwargs); fail with a clear message unless it raises exc_type."""
    try:
        result = func(*args, **kwargs)
    except exc_type:
        return
    except Exception as exc:
        raise AssertionError(f"{what} should raise {exc_type.__name__}, but it raised "
                             f"{type(exc).__name__}: {exc}. {hint}") from None
    raise AssertionError(f"{what} should raise {exc_type.__name__}, but it returned {result!r}. {hint}")


def check_same(actual, expected, what, names=None):
    """check_equal, naming the item of a tuple or list that differs ("confidence differs, at element 1: ...").

    The items are named by `names`, by a leading "[a, b, c]" in `what` (e.g. "[passed, failed, errors] for ..."),
    or, for an answer tuple (word, confidence[, reason]), by those names.
    """
    if names is None and what.startswith("[") and "]" in what:
        names = [part.strip() for part in what[1:what.index("]")].split(",")]
    if names is None and type(expected) is tuple and len(expected) in (2, 3) and type(expected[0]) is str:
        names = ("word", "confidence", "reason")
    try:
        check_equal(actual, expected, what)
    except AssertionError as exc:
        rest = str(exc)[len(what) + 2:]                                  # "at element 1: expected ..., got ..."
        index = rest[len("at element "):].split(":")[0].split(" ")[0] if rest.startswith("at element ") else ""
        if names is None or not index.isdigit() or int(index) >= len(names):
            raise
        raise AssertionError(f"{what}: {names[int(index)]} differs, {rest}") from None


def report_counts(report):
    """[passed, failed, errors] of a run_test_suite report."""
    return [report["passed"], report["failed"], report["errors"]]


def check_all_errors(report, what):
    """Fail unless every case of a run_test_suite report is an error whose reason starts with 'error'."""
    check_same(report_counts(report), [0, 0, len(report["details"])], f"[passed, failed, errors] {what}")
    for detail in report["details"]:
        check_same(detail["passed"], False, f"details[...]['passed'] {what}")
        assert detail["reason"].startswith("error"), (f"the reason of an error case should start with 'error', "
                                                      f"got {detail['reason']!r} {what}")


class FakeModel:
    """A test double: `predict` returns (word, confidence) as given, or raises `error`.

    It records every context it receives in `seen`, so a test can check what the model was asked.
    Unlike the real model it does not complain about an empty context.
    """

    observed_attributes = ("seen",)  # the grader reports `seen` back from your code's run, for the tests to read

    def __init__(self, word="cat", confidence=0.9, error=None):
        self.word, self.confidence, self.error = word, confidence, error
        self.seen = []

    def predict(self, context):
        self.seen.append(list(context))
        if self.error is not None:
            raise self.error
        return self.word, self.confidence


def table_model(vocab, table):
    """A real NextWordModel whose next-word probabilities are exactly `table`.

    `table` has shape (V, V), V = len(vocab); row i (positive, summing to 1) is the distribution
    of the next word after a context whose last word has id i. With W1 = identity and W2 = log(table)
    the network reproduces the table, so every prediction is known in advance.
    """
    table = np.asarray(table, dtype=float)
    size = len(vocab)
    if table.shape != (size, size) or (table <= 0).any() or (abs(table.sum(axis=1) - 1) > 1e-9).any():
        raise ValueError(f"table must have shape ({size}, {size}) with positive rows summing to 1")
    model = NextWordModel(vocab, hidden_size=size, seed=0)
    model.params = {"W1": np.eye(size), "b1": np.zeros(size), "W2": np.log(table), "b2": np.zeros(size)}
    return model


class ForgotReluMaskModel(NextWordModel):
    """A NextWordModel with a classic backpropagation bug: its gradients forget the ReLU mask.

    Its predictions and loss are the real model's; only `gradients` is wrong. Training with it
    still lowers the loss a little, which is why the bug survives without a gradient check.
    """

    def gradients(self, word_ids, target_ids):
        words, targets = self._pair(word_ids, target_ids)
        pre, hidden, probs = self._forward(words)
        d_logits = probs.copy()
        d_logits[np.arange(words.size), targets] -= 1.0
        d_logits /= words.size
        d_hidden = d_logits @ self.params["W2"].T          # BUG: should be multiplied by (pre > 0)
        one_hot = np.zeros((words.size, len(self.vocab)))
        one_hot[np.arange(words.size), words] = 1.0
        return {"W1": one_hot.T @ d_hidden, "b1": d_hidden.sum(axis=0),
                "W2": hidden.T @ d_logits, "b2": d_logits.sum(axis=0)}


def as_model(model, params):
    """A copy of `model` with its parameters replaced by copies of `params` (a dict like model.params)."""
    twin = model.copy()
    twin.params = {name: np.array(value, dtype=float) for name, value in params.items()}
    return twin


class PolyModel:
    """A tiny hand-made "model" for gradient checks: loss = sum(w ** power) over its one parameter array `w`.

    Its `gradients` are power * w ** (power - 1) + offset, so `offset` plants a known error in each entry.
    """

    observed_attributes = ("params",)  # the grader reports `params` back from your code's run, for the tests to read

    def __init__(self, w, power, offset):
        self.params = {"w": np.array(w, dtype=float)}
        self.power, self.offset = power, np.array(offset, dtype=float)

    def loss(self, word_ids, target_ids):
        return float(np.sum(self.params["w"] ** self.power))

    def gradients(self, word_ids, target_ids):
        return {"w": self.power * self.params["w"] ** (self.power - 1) + self.offset}


class OneWrongEntryModel(NextWordModel):
    """A NextWordModel whose gradient is off by 0.01 in one single entry: params[wrong_param][wrong_index]."""

    def __init__(self, vocab, wrong_param, wrong_index, hidden_size=12, seed=0):
        super().__init__(vocab, hidden_size=hidden_size, seed=seed)
        self.wrong_param, self.wrong_index = wrong_param, wrong_index

    def gradients(self, word_ids, target_ids):
        grads = super().gradients(word_ids, target_ids)
        grads[self.wrong_param][self.wrong_index] += 0.01
        return grads


# %%
print(VOCAB, "->", len(VOCAB), "ids, 0 ..", len(VOCAB) - 1)
print("id of 'the':", VOCAB.encode("the"), "| id 0 is", repr(VOCAB.decode(0)),
      "| unknown words encode to", VOCAB.encode("teh"))
print(BASE_MODEL, "predicts after ['the']:", BASE_MODEL.predict(["the"]))


# %% [markdown]
# ## 0. What went wrong in the original exercise
#
# Reproduce the four bugs in a few lines each: each is a mistake that *no error message* pointed at.
#
# **Bug 1, the runner ran zero tests and divided by zero.** The original collected its test cases
# with a filter that matched nothing, then reported `passed / len(tests)`.

# %%
def original_runner(tests):
    passed = sum(1 for test in tests if test())
    return passed / len(tests)                    # the "pass rate"

collected = [t for t in [lambda: True, lambda: False] if getattr(t, "is_test", False)]   # matches nothing
try:
    print("pass rate:", original_runner(collected))
except ZeroDivisionError as exc:
    print(f"original runner: {len(collected)} tests collected -> ZeroDivisionError: {exc}")
print("Had it returned 0/0 as 1.0 ('nothing failed'), the report would even have looked green.")

# %% [markdown]
# **Bug 2, the baseline was an untrained model.** Beating a random model proves nothing. The honest reference
# points are the *best* any last-word model can do (the majority next word after each last word) and a
# *trivial* model (always the most frequent word).

# %%
held_out = make_examples(2000, seed=1, regime="A")          # fresh examples the model never saw

def quick_accuracy(m, examples):
    word_ids, target_ids = encode_examples(examples, VOCAB)
    return float(np.mean(m.predict_proba(word_ids).argmax(axis=1) == target_ids))

targets = [target for _, target in held_out]
most_common = max(set(targets), key=targets.count)
print(f"untrained model (the original 'baseline'): {quick_accuracy(NextWordModel(VOCAB, seed=0), held_out):.3f}")
print(f"always predict {most_common!r} (a trivial baseline): {targets.count(most_common) / len(targets):.3f}")
print(f"pretrained model:                        {quick_accuracy(BASE_MODEL, held_out):.3f}")
print(f"best possible last-word predictor:       {best_last_word_accuracy(held_out):.3f}")

# %% [markdown]
# **Bug 3, vocabulary ids were off by one.** The original numbered its 24 words 1..24 in arrays of size 24: id
# 24 falls off the end, id 0 is never used, and with NumPy a negative id silently wraps around. `Vocabulary`
# reserves id 0 for `<unk>`, so ids run 0..V-1.

# %%
original_words = [w for w in VOCAB.words[1:] if w != "to"][:24]
original_ids = {word: i + 1 for i, word in enumerate(original_words)}    # 1..24: the bug
scores = np.zeros(len(original_words))                                   # size 24
last = original_words[-1]
try:
    scores[original_ids[last]] += 1
except IndexError as exc:
    print(f"scores[{original_ids[last]}] for {last!r}: IndexError: {exc}")
print("ids used:", min(original_ids.values()), "..", max(original_ids.values()), "| valid indices: 0 ..", len(scores) - 1)
print("Vocabulary: ids 0 ..", len(VOCAB) - 1, "for", len(VOCAB), "tokens; every id is a valid row of W1.")

# %% [markdown]
# **Bug 4, test targets were not in the vocabulary.** The original's tests expected `"to"`, a word
# its vocabulary did not contain. Such a target encodes to `<unk>`: the test can never pass, or it
# passes whenever the model says `<unk>`. *Test data needs tests too*: check every target first.

# %%
original_vocab = Vocabulary(original_words)
original_tests = [(["the", "dog", "ran"], "to"), (["the", "cat"], "sat"), (["a", "bird", "flew"], "over")]
missing = sorted({target for _, target in original_tests if target not in original_vocab})
print("targets missing from the original vocabulary:", missing)
print("'to' encodes to id", original_vocab.encode("to"), "=", repr(original_vocab.decode(original_vocab.encode("to"))))
print("targets missing from the course vocabulary:  ",
      sorted({target for _, target in original_tests if target not in VOCAB}))


# %% [markdown]
# ## 1. Inputs: normalization and edge cases
#
# Users type anything. Each row below is an edge case your function must handle:
#
# | input | example | what to do |
# |---|---|---|
# | empty input | `[]` | return `[]` (what to *predict* for it is `safe_predict`'s job) |
# | empty strings, spaces | `["", "  ", "cat"]` | drop words that are empty after `strip()` |
# | case, stray spaces | `["  The", "CAT "]` | `strip()` and `lower()` every word |
# | typos, unknown words | `["teh", "kat"]` | replace by `vocab.unk` (`"<unk>"`) |
# | numbers | `["42", "3.5"]` | unknown words too: `vocab.unk` |
# | very long contexts | 10 000 words | keep only the last `max_len` words when `max_len` is given |
# | not a string | `["the", 3]`, `[None]` | raise `TypeError`: that is a caller's bug, not user input |
#
# ### Exercise 1 (10 points): `normalize_context(context, vocab, max_len=None) -> list[str]`
#
# Strip and lowercase every word, drop the words that are empty after stripping, replace words
# not in `vocab` by `vocab.unk`, then keep only the last `max_len` words when `max_len` is given
# (`max_len=0` keeps nothing: beware that `words[-0:]` is the *whole* list). Return a **new** list and
# never change the input. Any item that is not a `str` raises `TypeError`, wherever it stands (also an
# item that `max_len` would drop).
#
# Not tested, so choose freely: a bare string as `context` (`"the cat"` is not a list of words: the
# caller's bug) and a negative `max_len` (`max_len` is `None` or an `int >= 0`).

# %% nbgrader={"grade": false, "grade_id": "normalize_context", "locked": false, "schema_version": 3, "solution": true, "task": false}
def normalize_context(context, vocab, max_len=None):
    """Return the normalized words of `context` (a list of str) as a new list of str.

    Each word is stripped and lowercased; empty words are dropped; words not in `vocab` become
    `vocab.unk`; with `max_len` (an int >= 0) only the last `max_len` words are kept.
    Raises TypeError when an item is not a str. Never mutates `context`.
    """
    ### BEGIN SOLUTION
    words = []
    for item in context:
        if not isinstance(item, str):
            raise TypeError(f"every word must be a str, got {type(item).__name__}: {item!r}")
        word = item.strip().lower()
        if word:
            words.append(word if word in vocab else vocab.unk)
    if max_len is not None:
        words = words[-max_len:] if max_len > 0 else []
    return words
    ### END SOLUTION


# %% [markdown]
# Try it. You should see `['the', 'cat', '<unk>', '<unk>', 'sat']`, then `['on', 'on', 'the']`,
# then `[]`, and finally a `TypeError` caught and printed.

# %%
print(normalize_context(["  The", "CAT", "", "teh", "42", "sat"], VOCAB))
print(normalize_context(["on"] * 10_000 + ["the"], VOCAB, max_len=3))
print(normalize_context(["", "   "], VOCAB))
try:
    normalize_context(["the", 3], VOCAB)
except TypeError as exc:
    print("TypeError:", exc)

# %% nbgrader={"grade": true, "grade_id": "test_normalize_context_visible", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
"""Check normalize_context on the edge cases of the table: case, spaces, empty strings, unknown words, max_len."""
_v = default_vocabulary()
check_same(normalize_context(["the", "cat"], _v), ["the", "cat"], "normalize_context(['the', 'cat'])")
check_same(normalize_context(["  The", "CAT "], _v), ["the", "cat"],
            "normalize_context(['  The', 'CAT ']) (did you strip() and lower() each word?)")
check_same(normalize_context(["", "  ", "dog"], _v), ["dog"],
            "normalize_context(['', '  ', 'dog']) (empty words must be dropped, not turned into <unk>)")
check_same(normalize_context(["teh", "42", "cat"], _v), ["<unk>", "<unk>", "cat"],
            "normalize_context(['teh', '42', 'cat']) (unknown words become vocab.unk, they are not dropped)")
check_same(normalize_context([], _v), [], "normalize_context([])")
check_same(normalize_context(["a", "big", "red", "car"], _v, max_len=2), ["red", "car"],
            "normalize_context(['a', 'big', 'red', 'car'], max_len=2) (keep the LAST max_len words)")
_ctx = ["The", "teh", " "]
normalize_context(_ctx, _v)
check_same(_ctx, ["The", "teh", " "], "the input list after normalize_context (it must not be changed)")
expect_raises(TypeError, normalize_context, ["the", 3], _v, what="normalize_context(['the', 3])",
              hint="Check isinstance(item, str) for every item.")
print("normalize_context: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "test_normalize_context_hidden_words", "locked": true, "points": 1.5, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of normalize_context's words: exact types, whitespace of every kind, unknown words and numbers, another vocabulary's unk."""
_normalize_context = expecting(normalize_context, "a new list of stripped, lowercased words, unknown words (numbers too) as vocab.unk (normalize_context's words)")
_v = default_vocabulary()
check_type(_normalize_context(["cat"], _v), list, "normalize_context(['cat'])")
### BEGIN HIDDEN TESTS
with explain_failures("normalize_context's words",
                      'a new list of stripped, lowercased words, unknown words (numbers too) as vocab.unk'):
    _out = _normalize_context(["The", "Cat"], _v)
    check_type(_out, list, "normalize_context(['The', 'Cat'])")
    for _i, _w in enumerate(_out):
        check_type(_w, str, f"normalize_context(['The', 'Cat'])[{_i}]")
    check_same(_out, ["the", "cat"], "normalize_context(['The', 'Cat'])")
    # whitespace of every kind, and the unknown token itself
    check_same(_normalize_context(["\tTHE\n", "  Dog  "], _v), ["the", "dog"], "normalize_context(['\\tTHE\\n', '  Dog  '])")
    check_same(_normalize_context(["<UNK>", "<unk>"], _v), ["<unk>", "<unk>"], "normalize_context(['<UNK>', '<unk>'])")
    check_same(_normalize_context(["3", "3.5", "-1", "cat"], _v), ["<unk>", "<unk>", "<unk>", "cat"],
                "normalize_context(['3', '3.5', '-1', 'cat']) (numbers are unknown words)")
    # another vocabulary, with its own unknown token
    _w = Vocabulary(["cat", "sat"], unk="<oov>")
    check_same(_normalize_context(["Cat", "dog", "SAT"], _w), ["cat", "<oov>", "sat"],
                "normalize_context(['Cat', 'dog', 'SAT']) with unk='<oov>' (use vocab.unk, not the string '<unk>')")
print("normalize_context: hidden tests of words passed")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_normalize_context_hidden_new_list", "locked": true, "points": 1.5, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of normalize_context's result: a new list, even when nothing changes, and the input left alone."""
_normalize_context = expecting(normalize_context, "a new list every time, and the input list left as it was (normalize_context's result)")
_v = default_vocabulary()
check_type(_normalize_context(["the"], _v), list, "normalize_context(['the'])")
### BEGIN HIDDEN TESTS
with explain_failures("normalize_context's result",
                      'a new list every time, and the input list left as it was'):
    _ctx = ["the", "cat"]
    _out = _normalize_context(_ctx, _v)
    assert _out is not _ctx, "normalize_context must return a new list, not its input (even when nothing changes)"
    _out.append("sat")
    check_same(_ctx, ["the", "cat"], "the input after changing normalize_context's result (return a new list)")
    _ctx = [" The", "CAT ", "", "teh"]
    _normalize_context(_ctx, _v, max_len=1)
    check_same(_ctx, [" The", "CAT ", "", "teh"], "the input list after normalize_context(..., max_len=1) (never change it)")
print("normalize_context: hidden tests of a new list passed")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_normalize_context_hidden_max_len", "locked": true, "points": 1.5, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of normalize_context's max_len: 0 keeps nothing, larger than the context, and empty words dropped first."""
_normalize_context = expecting(normalize_context, "the last max_len words after dropping empty ones; max_len=0 gives [] (normalize_context's max_len)")
_v = default_vocabulary()
check_type(_normalize_context(["a", "dog"], _v, max_len=1), list, "normalize_context(['a', 'dog'], max_len=1)")
### BEGIN HIDDEN TESTS
with explain_failures("normalize_context's max_len",
                      'the last max_len words after dropping empty ones; max_len=0 gives []'):
    check_same(_normalize_context(["a", "dog"], _v, max_len=0), [],
                "normalize_context(['a', 'dog'], max_len=0) (keeps nothing: words[-0:] is the whole list)")
    check_same(_normalize_context(["a", "dog"], _v, max_len=5), ["a", "dog"], "normalize_context(['a', 'dog'], max_len=5)")
    check_same(_normalize_context(["a", "dog"], _v, max_len=1), ["dog"], "normalize_context(['a', 'dog'], max_len=1)")
    check_same(_normalize_context(["the", "cat", "", "  "], _v, max_len=2), ["the", "cat"],
                "normalize_context(['the', 'cat', '', '  '], max_len=2) (drop empty words BEFORE keeping the last max_len)")
    check_same(_normalize_context(["the", "CAT", "xyz"], _v, max_len=2), ["cat", "<unk>"],
                "normalize_context(['the', 'CAT', 'xyz'], max_len=2)")
    _long = ["the", "dog"] * 50_000 + ["  RAN  "]
    check_same(_normalize_context(_long, _v, max_len=3), ["the", "dog", "ran"], "normalize_context(100 001 words, max_len=3)")
    check_same(len(_normalize_context(_long, _v)), 100_001, "len(normalize_context(100 001 words)) without max_len")
print("normalize_context: hidden tests of max_len passed")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_normalize_context_hidden_type_errors", "locked": true, "points": 1.5, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of normalize_context's TypeError: every item that is not a str raises, wherever it is."""
_normalize_context = expecting(normalize_context, "a list of words (normalize_context's TypeError: every item that is not a str raises, wherever it is)")
_v = default_vocabulary()
check_type(_normalize_context(["the", "cat"], _v), list, "normalize_context(['the', 'cat'])")
### BEGIN HIDDEN TESTS
with explain_failures("normalize_context's TypeError",
                      'TypeError for any item that is not a str, and nothing else raised'):
    for _bad in (["the", 3], [None], ["the", "cat", b"dog"], [3.5, "the"], [["the"]]):
        expect_raises(TypeError, normalize_context, list(_bad), _v, what=f"normalize_context({_bad!r})",
                      hint="Every item must be checked, including items that max_len would drop.")
    expect_raises(TypeError, normalize_context, ["the", 3, "cat"], _v, max_len=1,
                  what="normalize_context(['the', 3, 'cat'], max_len=1)", hint="Check every item, not only the kept ones.")
print("normalize_context: hidden tests of TypeError passed")
### END HIDDEN TESTS

# %% [markdown]
# ## 2. A safe prediction wrapper
#
# A model can fail in many ways (an empty context, a corrupted file, NaN weights), and a request must still
# get an answer: a *safe wrapper* turns every failure into an explicit "I don't know", `(vocab.unk, 0.0)`.
#
# ### Exercise 2 (12 points): `safe_predict(model, context, vocab) -> tuple[str, float]`
#
# Never raise, whatever the context holds. Normalize the context first (with `normalize_context`)
# and give the *normalized* context to `model.predict`. Return the fallback `(vocab.unk, 0.0)` when
#
# * the context cannot be normalized (an item that is not a `str`: `normalize_context` raises `TypeError`),
# * the normalized context is empty (then do not call the model at all),
# * the model raises any `Exception`, or its confidence cannot be converted with `float(...)`,
# * the confidence is not finite (NaN or infinite).
#
# Otherwise return the model's word and its confidence as a Python `float` clipped into [0, 1]
# (a finite confidence outside [0, 1], e.g. `1.0000001` from rounding, becomes `1.0`; note that
# `np.float64` is *not* a Python `float`: convert with `float(...)`). Whatever `float(...)` converts is a
# confidence, so the string `"0.5"` gives `0.5` (not tested); whatever it cannot convert (`"high"`) falls back.
#
# A fallback hides a failure from the user, and that is its job; it must not hide it from *you*.
# So write the wrapper in two layers, in the same cell:
#
# * `safe_predict_with_reason(model, context, vocab) -> tuple[str, float, str | None]` does the work
#   and says whether it fell back: `(word, confidence, None)` for a real answer, and
#   `(vocab.unk, 0.0, reason)` for a fallback, where `reason` is a non-empty `str` that says why
#   (for example `"empty context"`, `"model error: RuntimeError: boom"`, `"non-finite confidence: nan"`),
#   also when the exception's own message is empty (`str(RuntimeError())` is `""`: name its type);
# * `safe_predict(model, context, vocab)` returns its first two entries.


# %% nbgrader={"grade": false, "grade_id": "safe_predict", "locked": false, "schema_version": 3, "solution": true, "task": false}
def safe_predict_with_reason(model, context, vocab):
    """Predict the next word after `context` without ever raising: (word, confidence, fallback reason).

    The reason is None for a real answer. An item that is not a str, an empty normalized context,
    a model that raises, or a non-finite confidence give (vocab.unk, 0.0, reason) with a non-empty
    str reason. Otherwise the model's word and its confidence as a Python float clipped into [0, 1].
    """
    ### BEGIN SOLUTION
    try:
        words = normalize_context(context, vocab)
    except TypeError as exc:
        return vocab.unk, 0.0, f"bad input: {exc}"
    if not words:
        return vocab.unk, 0.0, "empty context"
    try:
        word, confidence = model.predict(words)
        confidence = float(confidence)
    except Exception as exc:
        return vocab.unk, 0.0, f"model error: {type(exc).__name__}: {exc}"
    if not math.isfinite(confidence):
        return vocab.unk, 0.0, f"non-finite confidence: {confidence}"
    return word, min(max(confidence, 0.0), 1.0), None
    ### END SOLUTION


def safe_predict(model, context, vocab):
    """Predict the next word after `context` without ever raising; return (word, confidence).

    The first two entries of safe_predict_with_reason: (vocab.unk, 0.0) when it falls back.
    """
    ### BEGIN SOLUTION
    word, confidence, _ = safe_predict_with_reason(model, context, vocab)
    return word, confidence
    ### END SOLUTION


# %% [markdown]
# Try it. You should see the pretrained model's answer after `['the', 'cat']` twice (case and spaces do not
# matter), `('<unk>', 0.0)` for the empty context and for a model that crashes, and the context the fake
# model received: `[['the', '<unk>']]`. The last lines show what `safe_predict_with_reason` adds: the reason
# of each fallback, counted per reason, which is what a service should log and monitor (assignment 2).

# %%
print(safe_predict(BASE_MODEL, ["the", "cat"], VOCAB), safe_predict(BASE_MODEL, ["  THE", "Cat "], VOCAB))
print(safe_predict(BASE_MODEL, ["", " "], VOCAB))
print(safe_predict(FakeModel(error=RuntimeError("weights file is corrupted")), ["the", "cat"], VOCAB))
spy = FakeModel(word="sat", confidence=0.5)
safe_predict(spy, ["The", "kat"], VOCAB)
print(spy.seen)

fallbacks = {}
broken = FakeModel(error=RuntimeError("weights file is corrupted"))
for serving_model, context in [(BASE_MODEL, ["the", "cat"]), (BASE_MODEL, [" "]), (broken, ["a", "dog"]),
                               (BASE_MODEL, ["the", 3]), (FakeModel(confidence=float("nan")), ["the"])]:
    word, confidence, reason = safe_predict_with_reason(serving_model, context, VOCAB)
    print(f"{str(context):16} -> {word!r:9} {confidence:.3f}  fallback: {reason}")
    if reason is not None:
        kind = reason.split(":")[0]
        fallbacks[kind] = fallbacks.get(kind, 0) + 1
print("fallbacks by reason:", fallbacks)

# %% nbgrader={"grade": true, "grade_id": "test_safe_predict_visible", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
"""Check safe_predict: the model's answer for a normal context, (unk, 0.0) for empty contexts and crashing models."""
_v = default_vocabulary()
_m = pretrained_model(seed=0)
_word, _conf = _m.predict(["the", "cat"])
check_same(safe_predict(_m, ["the", "cat"], _v), (_word, _conf), "safe_predict(model, ['the', 'cat'])")
check_same(safe_predict(_m, [" The ", "CAT"], _v), (_word, _conf),
            "safe_predict(model, [' The ', 'CAT']) (normalize the context before predicting)")
check_same(safe_predict(_m, [], _v), ("<unk>", 0.0), "safe_predict(model, [])")
check_same(safe_predict(_m, ["", "   "], _v), ("<unk>", 0.0), "safe_predict(model, ['', '   ']) (empty after normalizing)")
check_same(safe_predict(FakeModel(error=RuntimeError("boom")), ["the"], _v), ("<unk>", 0.0),
            "safe_predict with a model that raises RuntimeError (catch the model's exceptions)")
check_same(safe_predict(FakeModel(confidence=float("nan")), ["the"], _v), ("<unk>", 0.0),
            "safe_predict with a model whose confidence is NaN")
check_same(safe_predict_with_reason(_m, ["the", "cat"], _v), (_word, _conf, None),
            "safe_predict_with_reason(model, ['the', 'cat']) (a real answer has reason None)")
_out = safe_predict_with_reason(_m, [], _v)
check_type(_out, tuple, "safe_predict_with_reason(model, [])")
check_same(_out[:2], ("<unk>", 0.0), "safe_predict_with_reason(model, [])[:2]")
check_type(_out[2], str, "the fallback reason of safe_predict_with_reason(model, [])")
print("safe_predict: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "test_safe_predict_hidden_model_input", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of what safe_predict asks the model: the normalized context, once, and nothing for an empty one."""
_safe_predict = expecting(safe_predict, "the model's answer for the normalized context; no call for an empty one; never an exception (what safe_predict asks the model)")
_normalize_context = expecting(normalize_context, "the model's answer for the normalized context; no call for an empty one; never an exception (what safe_predict asks the model)")
_v = default_vocabulary()
check_type(_safe_predict(FakeModel(), ["the"], _v), tuple, "safe_predict(FakeModel(), ['the'])")
### BEGIN HIDDEN TESTS
with explain_failures('what safe_predict asks the model',
                      "the model's answer for the normalized context; no call for an empty one; never an exception"):
    _spy = FakeModel(word="sat", confidence=0.25)
    _out = _safe_predict(_spy, ["  The", "", "KAT", "dog "], _v)
    check_same(_out, ("sat", 0.25), "safe_predict(FakeModel('sat', 0.25), ['  The', '', 'KAT', 'dog '])")
    check_same(_spy.seen, [["the", "<unk>", "dog"]], "the contexts the model received (normalize first, then predict once)")
    _spy = FakeModel(word="cat", confidence=0.9)
    check_same(_safe_predict(_spy, ["  ", ""], _v), ("<unk>", 0.0), "safe_predict(FakeModel('cat', 0.9), ['  ', ''])")
    check_same(_spy.seen, [], "contexts the model received for an empty normalized context (it must not be called)")
    check_same(_safe_predict(_spy, [], _v), ("<unk>", 0.0), "safe_predict(FakeModel('cat', 0.9), [])")
    _m = pretrained_model(seed=0)
    for _ctx in (["the"], ["a", "big"], ["xyz"], ["The", "BIRD"]):
        _expected = _m.predict(_normalize_context(_ctx, _v))
        check_same(_safe_predict(_m, _ctx, _v), _expected, f"safe_predict(model, {_ctx!r}) (the pretrained model's answer)")
print("safe_predict: hidden tests of the model's input passed")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_safe_predict_hidden_confidence", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of safe_predict's confidence: a Python float, NumPy numbers converted, finite values clipped into [0, 1]."""
_safe_predict = expecting(safe_predict, "(word, confidence) with the confidence a Python float clipped into [0, 1]; never an exception (safe_predict's confidence)")
_v = default_vocabulary()
check_type(_safe_predict(FakeModel(), ["a"], _v), tuple, "safe_predict(FakeModel(), ['a'])")
### BEGIN HIDDEN TESTS
with explain_failures("safe_predict's confidence",
                      '(word, confidence) with the confidence a Python float clipped into [0, 1]; never an exception'):
    _out = _safe_predict(FakeModel(word="dog", confidence=np.float64(0.375)), ["a"], _v)
    check_type(_out, tuple, "safe_predict result")
    check_type(_out[0], str, "safe_predict(...)[0]")
    check_type(_out[1], float, "safe_predict(...)[1] for a model returning np.float64 (convert with float())")
    check_same(_out, ("dog", 0.375), "safe_predict(FakeModel('dog', np.float64(0.375)), ['a'])")
    check_same(_safe_predict(FakeModel(word="dog", confidence=1.0), ["a"], _v), ("dog", 1.0), "confidence 1.0")
    check_same(_safe_predict(FakeModel(word="dog", confidence=0.0), ["a"], _v), ("dog", 0.0), "confidence 0.0")
    check_same(_safe_predict(FakeModel(word="dog", confidence=1.25), ["a"], _v), ("dog", 1.0),
                "safe_predict with a finite confidence 1.25 (clip finite confidences into [0, 1])")
    check_same(_safe_predict(FakeModel(word="dog", confidence=-0.5), ["a"], _v), ("dog", 0.0),
                "safe_predict with a finite confidence -0.5 (clip finite confidences into [0, 1])")
print("safe_predict: hidden tests of the confidence passed")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_safe_predict_hidden_failures", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of safe_predict's fallback: every exception, non-finite or unconvertible confidences, non-str items, NaN weights, vocab.unk."""
_safe_predict = expecting(safe_predict, "(vocab.unk, 0.0) for every failure; safe_predict never raises (safe_predict's fallback)")
_v = default_vocabulary()
check_type(_safe_predict(FakeModel(error=RuntimeError("x")), ["the"], _v), tuple, "safe_predict(a model that raises, ['the'])")
### BEGIN HIDDEN TESTS
with explain_failures("safe_predict's fallback",
                      '(vocab.unk, 0.0) for every failure; safe_predict never raises'):
    for _err in (ValueError("v"), IndexError("i"), KeyError("k"), ZeroDivisionError("z"), RuntimeError("r"),
                 TypeError("t"), AttributeError("a")):
        check_same(_safe_predict(FakeModel(error=_err), ["the", "cat"], _v), ("<unk>", 0.0),
                    f"safe_predict with a model raising {type(_err).__name__} (catch every Exception)")
    for _bad in (float("nan"), float("inf"), float("-inf"), np.float64("nan"), np.inf):
        check_same(_safe_predict(FakeModel(confidence=_bad), ["the"], _v), ("<unk>", 0.0),
                    f"safe_predict with confidence {_bad!r} (non-finite confidences give the fallback)")
    check_same(_safe_predict(FakeModel(confidence="high"), ["the"], _v), ("<unk>", 0.0),
                "safe_predict with a confidence float() cannot convert ('high')")
    for _bad in (["the", 3], [None], ["the", b"cat"]):
        check_same(_safe_predict(FakeModel(), list(_bad), _v), ("<unk>", 0.0),
                    f"safe_predict(FakeModel(), {_bad!r}) (an item that is not a str gives the fallback, it never raises)")
    _w = Vocabulary(["cat", "sat"], unk="<oov>")
    check_same(_safe_predict(FakeModel(error=RuntimeError("x")), ["cat"], _w), ("<oov>", 0.0),
                "safe_predict fallback with unk='<oov>' (return vocab.unk, not the string '<unk>')")
    check_same(_safe_predict(FakeModel(), [" "], _w), ("<oov>", 0.0), "safe_predict(FakeModel(), [' ']) with unk='<oov>'")
    _m = pretrained_model(seed=0)
    _nan_model = as_model(_m, {**_m.params, "b2": np.full(len(_v), np.nan)})
    check_same(_safe_predict(_nan_model, ["the"], _v), ("<unk>", 0.0), "safe_predict with NaN weights")
print("safe_predict: hidden tests of the fallback passed")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_safe_predict_hidden_reasons", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of safe_predict_with_reason: None for every real answer, a non-empty str reason for every fallback."""
_safe_predict_with_reason = expecting(safe_predict_with_reason, '(word, confidence, None) for a real answer, (vocab.unk, 0.0, a non-empty str) for a fallback; never an exception (safe_predict_with_reason)')
_v = default_vocabulary()
check_type(_safe_predict_with_reason(FakeModel(), ["the"], _v), tuple, "safe_predict_with_reason(FakeModel(), ['the'])")
### BEGIN HIDDEN TESTS
with explain_failures('safe_predict_with_reason',
                      '(word, confidence, None) for a real answer, (vocab.unk, 0.0, a non-empty str) for a fallback; never an exception'):
    _m = pretrained_model(seed=0)
    # confidences inside [0, 1] only: clipping has its own cell, so a clipping slip costs points there alone
    _real = [(FakeModel(word="dog", confidence=np.float64(0.375)), ["a"], ("dog", 0.375), "FakeModel('dog', np.float64(0.375))"),
             (FakeModel(word="dog", confidence=0.625), [" A "], ("dog", 0.625), "FakeModel('dog', 0.625)"),
             (FakeModel(word="dog", confidence=0.0), ["a"], ("dog", 0.0), "FakeModel('dog', 0.0)"),
             (_m, ["The", "BIRD"], _m.predict(["the", "bird"]), "the pretrained model")]
    for _model, _ctx, _expected, _label in _real:
        _what = f"safe_predict_with_reason({_label}, {_ctx!r}), a real answer"
        _out = _safe_predict_with_reason(_model, _ctx, _v)
        check_type(_out, tuple, _what)
        check_same(_out, (*_expected, None), f"{_what} (word and confidence as the model gave them, reason None)",
                   names=("word", "confidence", "reason"))
    _nan_model = as_model(_m, {**_m.params, "b2": np.full(len(_v), np.nan)})
    _fallbacks = [(_m, [], "an empty context"), (_m, ["", "  "], "a context empty after normalizing"),
                  (FakeModel(error=RuntimeError("down")), ["the"], "a model that raises"),
                  (FakeModel(error=RuntimeError()), ["the"], "a model raising RuntimeError() (an empty message: name the type)"),
                  (FakeModel(confidence=float("nan")), ["the"], "a NaN confidence"),
                  (FakeModel(confidence=float("inf")), ["the"], "an infinite confidence"),
                  (_nan_model, ["the"], "NaN weights"), (FakeModel(), ["the", 3], "a non-str item")]
    for _model, _ctx, _what in _fallbacks:
        _out = _safe_predict_with_reason(_model, _ctx, _v)
        check_type(_out, tuple, f"safe_predict_with_reason with {_what}")
        check_same(_out[:2], ("<unk>", 0.0), f"the word and confidence of safe_predict_with_reason with {_what}",
                   names=("word", "confidence"))
        check_type(_out[2], str, f"the fallback reason with {_what} (a str that says why)")
        assert _out[2].strip(), f"the fallback reason with {_what} is an empty string: say why it fell back"
    _w = Vocabulary(["cat", "sat"], unk="<oov>")
    check_same(_safe_predict_with_reason(FakeModel(error=KeyError("k")), ["cat"], _w)[:2], ("<oov>", 0.0),
                "safe_predict_with_reason fallback with unk='<oov>'")
print("safe_predict: hidden tests of the fallback reasons passed")
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Behavioural tests: MFT, INV and DIR
#
# Accuracy on a test set says *how often* a model is right, not *what* it can and cannot do.
# CheckList (Ribeiro et al., ACL 2020) tests behaviours directly, with three kinds of cases:
#
# * **MFT, minimum functionality test:** a simple input with known answers ("after *the bird* comes *flew*").
# * **INV, invariance test:** a perturbation that should *not* change the prediction (case, spaces, a typo
#   in an earlier word).
# * **DIR, directional expectation test:** a change that should move a probability one way ("after *the
#   big*, *dog* goes *up*").
#
# A case is a dict:
#
# ```python
# {"kind": "mft", "name": ..., "context": [...], "expected": [words]}      # passes if the predicted word is in expected
# {"kind": "inv", "name": ..., "context": [...], "perturbed": [...]}       # passes if both predictions are the same word
# {"kind": "dir", "name": ..., "context": [...], "changed": [...],
#  "word": "dog", "direction": "up" or "down"}                            # passes if P(word) moves strictly that way
# ```
#
# ### Exercise 3 (24 points): `run_test_suite(model, suite, vocab) -> dict`
#
# Return `{"passed": int, "failed": int, "errors": int, "details": [...]}` with one detail dict per
# case, in order: `{"name": ..., "kind": ..., "passed": bool, "reason": str}`, with `name` and `kind`
# copied from the case as given (even an unknown kind).
#
# * The kind is matched exactly: `"mft"`, `"inv"` or `"dir"` in lower case (`"MFT"` is an unknown kind).
# * **MFT** and **INV** predictions go through `safe_predict_with_reason`. Expected words are
#   compared after `strip()` and `lower()`; the predicted word, as the model returns it (not
#   normalized), must be one of them. `expected` is a list of words (a bare string is not tested).
# * **`<unk>` is a real answer when the model gives it.** A prediction of `vocab.unk` that did not
#   fall back (reason `None`) counts like any other word: it matches an MFT case that lists `<unk>`
#   beside a real word, and two such predictions make an INV case pass. Only a *fallback* is no answer.
# * **DIR** compares `model.word_probability(normalized context, word)` with the same for `changed`
#   (both contexts normalized, `word` stripped and lowercased); equal probabilities are *not* a
#   move, so the case fails.
# * **A case the model could not answer is an error, never a pass or a fail.** That is: any
#   prediction the case needs fell back (the reason is not `None`: model error, non-finite
#   confidence, empty context), a DIR context that is empty after normalizing, a DIR probability
#   that is not finite (NaN weights), or a model that raises. Two fallbacks to `<unk>` are not
#   "the same answer": a dead model, or one with NaN weights, passes **no** case.
# * **Bad test data is an error too.** An MFT case none of whose expected words is a real
#   vocabulary word (a word `in vocab` other than `vocab.unk`), or a DIR case whose `word` is not
#   one, can never pass honestly: this was bug 4.
# * So is a case that raises (a missing key, a direction other than `"up"`/`"down"`) or has an
#   unknown kind. Every error counts in `errors`, never in `passed` or `failed`; its detail has
#   `passed: False` and a reason that **starts with `"error"`** and names the problem. One bad case
#   must not stop the others.
# * **An empty suite raises `ValueError`.** A run that tested nothing must never look green.

# %% nbgrader={"grade": false, "grade_id": "run_test_suite", "locked": false, "schema_version": 3, "solution": true, "task": false}
def run_test_suite(model, suite, vocab):
    """Run CheckList-style cases (kinds "mft", "inv", "dir") against `model`.

    Returns {"passed": int, "failed": int, "errors": int, "details": list of dicts with
    "name", "kind", "passed" (bool), "reason" (str)}. A case the model could not answer (a fallback,
    a non-finite probability, a model error) or bad test data is an error. Raises ValueError for an
    empty suite.
    """
    ### BEGIN SOLUTION
    if len(suite) == 0:
        raise ValueError("the suite is empty: a run that tests nothing must not look green")

    def answer(context):
        word, confidence, fallback = safe_predict_with_reason(model, context, vocab)
        if fallback is not None:
            raise RuntimeError(f"the model could not answer {list(context)!r}: {fallback}")
        return word, confidence

    def real_word(word):
        word = word.strip().lower()
        return word if word in vocab and word != vocab.unk else None

    def probability(context, word):
        words = normalize_context(context, vocab)
        if not words:
            raise ValueError(f"context {list(context)!r} is empty after normalizing")
        value = float(model.word_probability(words, word))
        if not math.isfinite(value):
            raise ValueError(f"the probability of {word!r} after {words} is {value}")
        return value

    counts = {"passed": 0, "failed": 0, "errors": 0}
    details = []
    for index, case in enumerate(suite):
        name = case.get("name", f"case {index}") if isinstance(case, dict) else f"case {index}"
        kind = case.get("kind") if isinstance(case, dict) else None
        try:
            if kind == "mft":
                expected = [word.strip().lower() for word in case["expected"]]
                if not any(real_word(word) for word in expected):
                    raise ValueError(f"bad test data: no expected word of {list(case['expected'])} is in the vocabulary")
                word, confidence = answer(case["context"])
                ok = word in expected
                reason = f"predicted {word!r} ({confidence:.2f}), expected one of {expected}"
            elif kind == "inv":
                before, _ = answer(case["context"])
                after, _ = answer(case["perturbed"])
                ok = before == after
                reason = f"predicted {before!r} before and {after!r} after the perturbation"
            elif kind == "dir":
                case_word, direction = real_word(case["word"]), case["direction"]
                if case_word is None:
                    raise ValueError(f"bad test data: {case['word']!r} is not in the vocabulary")
                if direction not in ("up", "down"):
                    raise ValueError(f"direction must be 'up' or 'down', got {direction!r}")
                p_before = probability(case["context"], case_word)
                p_after = probability(case["changed"], case_word)
                ok = p_after > p_before if direction == "up" else p_after < p_before
                reason = f"P({case_word!r}) went from {p_before:.4f} to {p_after:.4f}, expected {direction}"
            else:
                raise ValueError(f"unknown kind {kind!r}: expected 'mft', 'inv' or 'dir'")
        except Exception as exc:
            counts["errors"] += 1
            details.append({"name": name, "kind": kind, "passed": False,
                            "reason": f"error: {type(exc).__name__}: {exc}"})
            continue
        counts["passed" if ok else "failed"] += 1
        details.append({"name": name, "kind": kind, "passed": bool(ok), "reason": reason})
    return {**counts, "details": details}
    ### END SOLUTION


# %% [markdown]
# A suite for the pretrained model, with one case it *should* fail (drift) and two broken cases: a typo in the key `"direction"`, and bug 4, an MFT case expecting `"teh"`, a word
# outside the vocabulary. You should see 7 passed, 1 failed and 2 errors, each with its reason, then the
# `ValueError` for an empty suite.

# %%
suite = [
    {"kind": "mft", "name": "the -> cat/dog", "context": ["the"], "expected": ["cat", "dog"]},
    {"kind": "mft", "name": "a bird -> flew", "context": ["a", "bird"], "expected": ["flew"]},
    {"kind": "mft", "name": "sat -> under (regime B habit)", "context": ["the", "cat", "sat"], "expected": ["under"]},
    {"kind": "inv", "name": "case and spaces", "context": ["the", "big", "dog"], "perturbed": ["The", " BIG ", "Dog"]},
    {"kind": "inv", "name": "typo in an earlier word", "context": ["a", "small", "cat"], "perturbed": ["a", "smal", "cat"]},
    {"kind": "inv", "name": "extra words before", "context": ["the", "car"], "perturbed": ["look", "at", "the", "car"]},
    {"kind": "dir", "name": "'big' makes 'dog' likelier", "context": ["the"], "changed": ["the", "big"],
     "word": "dog", "direction": "up"},
    {"kind": "dir", "name": "'red' makes 'dog' less likely", "context": ["a"], "changed": ["a", "red"],
     "word": "dog", "direction": "down"},
    {"kind": "dir", "name": "broken case (typo in a key)", "context": ["the"], "changed": ["the", "green"],
     "word": "tree", "drection": "up"},
    {"kind": "mft", "name": "bug 4: target not in vocab", "context": ["the", "cat", "sat", "on"], "expected": ["teh"]},
]
report = run_test_suite(BASE_MODEL, suite, VOCAB)
for detail in report["details"]:
    status = "PASS " if detail["passed"] else "ERROR" if detail["reason"].startswith("error") else "FAIL "
    print(f"{status} {detail['kind']:4} {detail['name']:32} {detail['reason']}")
print({key: report[key] for key in ("passed", "failed", "errors")})
try:
    run_test_suite(BASE_MODEL, [], VOCAB)
except ValueError as exc:
    print("empty suite -> ValueError:", exc)

# %% [markdown]
# Now models a runner must never call healthy: one that raises on every request (a missing weights file) and
# one with NaN weights (a diverged training run). Both fall back to `<unk>` everywhere, so a runner
# comparing fallbacks would pass every INV case. You should see 0 passed and 0 failed for both: every case
# is an error.

# %%
dead_model = FakeModel(error=RuntimeError("weights file not found"))
nan_model = as_model(BASE_MODEL, {**BASE_MODEL.params, "W2": np.full_like(BASE_MODEL.params["W2"], np.nan)})
valid_cases = [case for case in suite if case["name"] not in ("broken case (typo in a key)", "bug 4: target not in vocab")]
for label, broken_model in [("model that always raises", dead_model), ("model with NaN weights", nan_model)]:
    broken_report = run_test_suite(broken_model, valid_cases, VOCAB)
    print(f"{label:25}", {key: broken_report[key] for key in ("passed", "failed", "errors")},
          "| INV case:", broken_report["details"][3]["reason"])

# %% [markdown]
# A third broken model is harder to catch: weights loaded as **all zeros** (the file was missing and the
# code kept freshly zeroed arrays). Every probability is 1/V, so it answers `<unk>` (id 0) for every
# context: a *real* answer, not a fallback, so every INV case passes. You should see the 3 INV cases pass
# and every MFT and DIR case fail.
#
# The lesson: **an INV case needs an MFT companion.** Invariance says "the answer does not change", never
# "the answer is right"; give every INV case's context an MFT (or DIR) case too, as this suite does.

# %%
zero_model = as_model(BASE_MODEL, {name: np.zeros_like(value) for name, value in BASE_MODEL.params.items()})
zero_report = run_test_suite(zero_model, valid_cases, VOCAB)
print("all-zero weights:", {key: zero_report[key] for key in ("passed", "failed", "errors")})
for detail in zero_report["details"]:
    print(f"  {'PASS' if detail['passed'] else 'FAIL'} {detail['kind']:4} {detail['name']:32} {detail['reason']}")

# %% nbgrader={"grade": true, "grade_id": "test_run_test_suite_visible", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
"""Check run_test_suite on a model whose answers are known by construction: one case of each kind, an error, a dead model, an empty suite."""
_v = Vocabulary(["a", "b", "c"])                 # ids: <unk> 0, a 1, b 2, c 3
_m = table_model(_v, [[0.1, 0.2, 0.3, 0.4],       # after <unk>: c is most likely
                      [0.05, 0.15, 0.7, 0.1],     # after a: b
                      [0.1, 0.5, 0.15, 0.25],     # after b: a
                      [0.2, 0.3, 0.35, 0.15]])    # after c: b
_suite = [
    {"kind": "mft", "name": "a -> b", "context": ["a"], "expected": ["b"]},
    {"kind": "inv", "name": "case", "context": ["a"], "perturbed": ["A"]},
    {"kind": "dir", "name": "a->b raises P(a)", "context": ["a"], "changed": ["b"], "word": "a", "direction": "up"},
    {"kind": "mft", "name": "c -> a", "context": ["c"], "expected": ["a"]},
    {"kind": "nonsense", "name": "unknown kind", "context": ["a"]},
]
_r = run_test_suite(_m, _suite, _v)
check_type(_r, dict, "run_test_suite(...)")
for _key in ("passed", "failed", "errors"):
    check_type(_r.get(_key), int, f"run_test_suite(...)[{_key!r}]")
check_same([_r["passed"], _r["failed"], _r["errors"]], [3, 1, 1],
            "[passed, failed, errors] (an unknown kind is an error, not a failure)")
check_type(_r.get("details"), list, "run_test_suite(...)['details']")
check_same([_d["passed"] for _d in _r["details"]], [True, True, True, False, False], "the 'passed' flag of each detail")
check_same([_d["name"] for _d in _r["details"]], [c["name"] for c in _suite], "the detail names, in suite order")
_dead = run_test_suite(FakeModel(error=RuntimeError("down")),
                       [{"kind": "inv", "name": "i", "context": ["a"], "perturbed": ["b"]}], _v)
check_same([_dead["passed"], _dead["failed"], _dead["errors"]], [0, 0, 1],
            "[passed, failed, errors] for an INV case and a model that always raises "
            "(both sides fell back to <unk>: that is not the same answer, it is no answer: an error)")
expect_raises(ValueError, run_test_suite, _m, [], _v, what="run_test_suite(model, [], vocab)",
              hint="An empty suite must raise ValueError before anything is divided or reported.")
print("run_test_suite: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "test_run_test_suite_hidden_kinds", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of run_test_suite's three kinds: passing and failing, strict DIR moves, normalization, errors, types."""
_run_test_suite = expecting(run_test_suite, "a report with one detail per case; a case that raises counts in errors and the others still run (run_test_suite's three kinds)")
_v = Vocabulary(["a", "b", "c"])
_m = table_model(_v, [[0.1, 0.2, 0.3, 0.4], [0.05, 0.15, 0.7, 0.1], [0.1, 0.5, 0.15, 0.25], [0.2, 0.3, 0.35, 0.15]])
check_type(_run_test_suite(_m, [{"kind": "mft", "name": "x", "context": ["a"], "expected": ["b"]}], _v), dict,
           "run_test_suite(one mft case)")
### BEGIN HIDDEN TESTS
with explain_failures("run_test_suite's three kinds",
                      'a report with one detail per case; a case that raises counts in errors and the others still run'):
    _suite = [
        {"kind": "mft", "name": "m1", "context": ["a"], "expected": ["b"]},                    # b: pass
        {"kind": "mft", "name": "m2", "context": [" A "], "expected": ["a", "c"]},             # b: fail
        {"kind": "mft", "name": "m3", "context": ["zzz"], "expected": ["c"]},                  # <unk> row -> c: pass
        {"kind": "inv", "name": "i1", "context": ["a"], "perturbed": ["c", "A"]},              # b, b: pass
        {"kind": "inv", "name": "i2", "context": ["a"], "perturbed": ["b"]},                   # b, a: fail
        {"kind": "dir", "name": "d1", "context": ["a"], "changed": ["b"], "word": "a", "direction": "up"},     # .15 -> .5: pass
        {"kind": "dir", "name": "d2", "context": ["a"], "changed": ["b"], "word": "a", "direction": "down"},   # fail
        {"kind": "dir", "name": "d3", "context": ["b"], "changed": [" B"], "word": "c", "direction": "up"},    # equal: fail
        {"kind": "dir", "name": "d4", "context": ["c"], "changed": ["zzz"], "word": "c", "direction": "up"},   # .15 -> .4: pass
        {"kind": "metamorphic", "name": "x1", "context": ["a"]},                                              # error
        {"kind": "dir", "name": "x2", "context": ["a"], "changed": ["b"], "direction": "up"},                # no word: error
        {"kind": "dir", "name": "x3", "context": ["", " "], "changed": ["a"], "word": "a", "direction": "up"},  # empty: error
        {"kind": "dir", "name": "x4", "context": ["a"], "changed": ["b"], "word": "a", "direction": "sideways"},  # error
        {"kind": "MFT", "name": "x5", "context": ["a"], "expected": ["b"]},                   # kinds are lower case: error
    ]
    _r = _run_test_suite(_m, _suite, _v)
    check_type(_r, dict, "run_test_suite(...)")
    for _key in ("passed", "failed", "errors"):
        check_type(_r.get(_key), int, f"run_test_suite(...)[{_key!r}]")
    check_type(_r.get("details"), list, "run_test_suite(...)['details']")
    for _i, _d in enumerate(_r["details"]):
        check_type(_d, dict, f"details[{_i}]")
        check_type(_d.get("passed"), bool, f"details[{_i}]['passed']")
        check_type(_d.get("reason"), str, f"details[{_i}]['reason']")
    check_same(len(_r["details"]), len(_suite), "number of details (one per case, errors included)")
    _names = ["m1", "m2", "m3", "i1", "i2", "d1", "d2", "d3", "d4", "x1", "x2", "x3", "x4", "x5"]
    _expected_flags = [True, False, True, True, False, True, False, False, True, False, False, False, False, False]
    for _i, (_name, _flag) in enumerate(zip(_names, _expected_flags)):
        _d = _r["details"][_i]
        check_same(_d.get("name"), _name, f"details[{_i}]['name']")
        check_same(_d.get("kind"), _suite[_i]["kind"], f"details[{_i}]['kind'] of case {_name}")
        _hint = {"m3": " (normalize 'zzz' to <unk>: the model answers from its <unk> row)",
                 "d3": " (equal probabilities are not a move: use strict > and <, and normalize ' B' to 'b')",
                 "d4": " (normalize 'zzz' to <unk> before asking word_probability)",
                 "x3": " (an empty normalized context has no probability: the case is an error)",
                 "i1": " (normalize both contexts)", "m2": " (normalize ' A ' to 'a')",
                 "x5": " (the kind 'MFT' is not 'mft': match kinds exactly; an unknown kind is an error)"}.get(_name, "")
        check_same(_d.get("passed"), _flag, f"details[{_i}]['passed'] of case {_name}{_hint}")
    check_same([_r["passed"], _r["failed"], _r["errors"]], [5, 4, 5],
               "[passed, failed, errors] of 14 cases (a case that raises or has an unknown kind counts only in errors)")
print("run_test_suite: hidden tests of the three kinds passed")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_run_test_suite_hidden_empty_suites", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of run_test_suite's counts when nothing passed: a suite of only errors, and empty suites raising ValueError."""
_run_test_suite = expecting(run_test_suite, "a report counting an unknown kind as an error; ValueError only for an empty suite (run_test_suite's counts when nothing passed)")
_v = Vocabulary(["a", "b", "c"])
_m = table_model(_v, [[0.1, 0.2, 0.3, 0.4], [0.05, 0.15, 0.7, 0.1], [0.1, 0.5, 0.15, 0.25], [0.2, 0.3, 0.35, 0.15]])
check_type(_run_test_suite(_m, [{"kind": "?", "name": "q"}], _v), dict, "run_test_suite(one case of an unknown kind)")
### BEGIN HIDDEN TESTS
with explain_failures("run_test_suite's counts when nothing passed",
                      'a report counting an unknown kind as an error; ValueError only for an empty suite'):
    _r = _run_test_suite(_m, [{"kind": "?", "name": "q"}], _v)
    check_same([_r["passed"], _r["failed"], _r["errors"]], [0, 0, 1], "[passed, failed, errors] for one unknown kind")
    for _empty in ([], ()):
        expect_raises(ValueError, run_test_suite, _m, _empty, _v, what=f"run_test_suite(model, {_empty!r}, vocab)",
                      hint="An empty suite must raise ValueError (not ZeroDivisionError, not a zero report).")
print("run_test_suite: hidden tests of empty and all-error suites passed")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_run_test_suite_hidden_real_model", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of run_test_suite on the pretrained model: an MFT case and DIR cases in both directions."""
_run_test_suite = expecting(run_test_suite, "a report on the pretrained model's MFT and DIR cases (run_test_suite on the pretrained model)")
_v2 = default_vocabulary()
_pm = pretrained_model(seed=0)
check_type(_run_test_suite(_pm, [{"kind": "mft", "name": "x", "context": ["the"], "expected": ["cat"]}], _v2), dict,
           "run_test_suite(pretrained model, one mft case)")
### BEGIN HIDDEN TESTS
with explain_failures('run_test_suite on the pretrained model',
                      "a report on the pretrained model's MFT and DIR cases"):
    _r = _run_test_suite(_pm, [
        {"kind": "mft", "name": "bird", "context": ["The", "BIRD"], "expected": ["flew"]},
        {"kind": "dir", "name": "big", "context": ["the"], "changed": ["the", "big"], "word": "dog", "direction": "up"},
        {"kind": "dir", "name": "big down", "context": ["the"], "changed": ["the", "big"], "word": "dog", "direction": "down"},
    ], _v2)
    check_same([_r["passed"], _r["failed"], _r["errors"]], [2, 1, 0], "[passed, failed, errors] on the pretrained model")
print("run_test_suite: hidden tests of the pretrained model's cases passed")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_run_test_suite_hidden_no_answer", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of run_test_suite on cases the model cannot answer (dead model, NaN weights, empty contexts): errors, never a pass."""
_run_test_suite = expecting(run_test_suite, 'a report in which every case the model could not answer is an error (catch it per case) (run_test_suite on cases the model cannot answer (dead model, NaN weights, empty contexts))')
_v = Vocabulary(["a", "b", "c"])
_m = table_model(_v, [[0.1, 0.2, 0.3, 0.4], [0.05, 0.15, 0.7, 0.1], [0.1, 0.5, 0.15, 0.25], [0.2, 0.3, 0.35, 0.15]])
check_type(_run_test_suite(FakeModel(error=RuntimeError("x")), [{"kind": "inv", "name": "i", "context": ["a"],
                                                                "perturbed": ["a"]}], _v), dict, "run_test_suite(dead model)")
### BEGIN HIDDEN TESTS
with explain_failures('run_test_suite on cases the model cannot answer (dead model, NaN weights, empty contexts)',
                      'a report in which every case the model could not answer is an error (catch it per case)'):
    _suite = [
        {"kind": "mft", "name": "m", "context": ["a"], "expected": ["<unk>", "b"]},
        {"kind": "mft", "name": "m2", "context": ["a"], "expected": ["a"]},
        {"kind": "inv", "name": "i", "context": ["a"], "perturbed": ["b"]},
        {"kind": "inv", "name": "i2", "context": ["a"], "perturbed": ["A"]},
        {"kind": "dir", "name": "d", "context": ["a"], "changed": ["b"], "word": "a", "direction": "up"},
    ]
    # a dead model and a model with NaN weights pass no case, and fail none either: they never answered
    check_all_errors(_run_test_suite(FakeModel(error=RuntimeError("down")), _suite, _v),
                "for a model that always raises (a fallback is not an answer)")
    check_all_errors(_run_test_suite(as_model(_m, {**_m.params, "W2": np.full((4, 4), np.nan)}), _suite, _v),
                "for a model with NaN weights (NaN confidences fall back; NaN probabilities are not a move)")
    check_all_errors(_run_test_suite(FakeModel(word="b", confidence=float("inf")), _suite[:4], _v),
                "for a model whose confidence is infinite")
    # one side of an INV case falls back: an error, whatever the other side says
    check_all_errors(_run_test_suite(_m, [{"kind": "inv", "name": "one empty side", "context": ["a"], "perturbed": ["", " "]},
                                    {"kind": "inv", "name": "both empty", "context": [], "perturbed": [" "]}], _v),
                "for INV cases with an empty context on one or both sides")
    check_all_errors(_run_test_suite(_m, [{"kind": "mft", "name": "empty", "context": ["  "], "expected": ["c"]}], _v),
                "for an MFT case whose context is empty after normalizing")
    # errors do not stop the other cases
    _r = _run_test_suite(_m, [{"kind": "inv", "name": "dead", "context": [], "perturbed": []},
                             {"kind": "mft", "name": "ok", "context": ["a"], "expected": ["b"]}], _v)
    check_same(report_counts(_r), [1, 0, 1], "[passed, failed, errors] for an unanswerable case followed by a passing one")
print("run_test_suite: hidden tests of models that cannot answer passed")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_run_test_suite_hidden_bad_test_data", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of run_test_suite on bad test data: expected or DIR words outside the vocabulary are errors; real words are normalized."""
_run_test_suite = expecting(run_test_suite, 'a report in which bad test data is an error (catch it per case), real words normalized (run_test_suite on bad test data)')
_v = Vocabulary(["a", "b", "c"])
_m = table_model(_v, [[0.1, 0.2, 0.3, 0.4], [0.05, 0.15, 0.7, 0.1], [0.1, 0.5, 0.15, 0.25], [0.2, 0.3, 0.35, 0.15]])
check_type(_run_test_suite(_m, [{"kind": "mft", "name": "m", "context": ["a"], "expected": ["zzz"]}], _v), dict,
           "run_test_suite(an MFT case expecting 'zzz')")
### BEGIN HIDDEN TESTS
with explain_failures('run_test_suite on bad test data',
                      'a report in which bad test data is an error (catch it per case), real words normalized'):
    # expected words or the DIR word outside the vocabulary (bug 4 of the original)
    _oov = FakeModel(word="zzz", confidence=0.9)
    check_all_errors(_run_test_suite(_oov, [{"kind": "mft", "name": "oov", "context": ["a"], "expected": ["zzz"]}], _v),
                "for an MFT case expecting only 'zzz', a word not in the vocabulary, even when the model says 'zzz'")
    check_all_errors(_run_test_suite(FakeModel(word="<unk>", confidence=0.9),
                               [{"kind": "mft", "name": "unk", "context": ["a"], "expected": ["<unk>", "to"]}], _v),
                "for an MFT case expecting only '<unk>' and 'to' (not real words of this vocabulary)")
    check_all_errors(_run_test_suite(_m, [{"kind": "dir", "name": "dir oov", "context": ["a"], "changed": ["b"], "word": "zzz",
                                     "direction": "up"}], _v),
                "for a DIR case whose word 'zzz' is not in the vocabulary")
    # expected words and the DIR word are stripped and lowercased; one real expected word is enough
    _r = _run_test_suite(_m, [{"kind": "mft", "name": "m", "context": ["a"], "expected": [" B ", "zzz"]},
                             {"kind": "mft", "name": "m2", "context": ["b"], "expected": ["zzz", "C"]},
                             {"kind": "dir", "name": "d", "context": ["a"], "changed": ["b"], "word": " A", "direction": "up"}], _v)
    check_same(report_counts(_r), [2, 1, 0], "[passed, failed, errors] with expected words [' B ', 'zzz'] and ['zzz', 'C'] and "
                "DIR word ' A' (strip and lower them; one real expected word makes the case valid)")
print("run_test_suite: hidden tests of bad test data passed")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_run_test_suite_hidden_real_unk", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of run_test_suite on <unk> as a real answer: it matches an MFT case listing <unk> beside a real word, two make an INV pass."""
_run_test_suite = expecting(run_test_suite, "a report in which a real '<unk>' answer counts like any word (run_test_suite on <unk> as a real answer)")
_v = Vocabulary(["a", "b", "c"])
check_type(_run_test_suite(FakeModel(word="<unk>", confidence=0.5),
                          [{"kind": "inv", "name": "i", "context": ["a"], "perturbed": ["b"]}], _v), dict,
           "run_test_suite(a model answering <unk>, one inv case)")
### BEGIN HIDDEN TESTS
with explain_failures('run_test_suite on <unk> as a real answer',
                      "a report in which a real '<unk>' answer counts like any word"):
    _unk_model = FakeModel(word="<unk>", confidence=0.5)          # answers <unk> for real: no fallback
    _r = _run_test_suite(_unk_model, [
        {"kind": "mft", "name": "unk listed", "context": ["a"], "expected": ["<unk>", "b"]},     # pass
        {"kind": "mft", "name": "unk not listed", "context": ["a"], "expected": ["b"]},          # fail
        {"kind": "inv", "name": "same unk", "context": ["a"], "perturbed": ["b", "c"]},          # pass
    ], _v)
    check_same([_d["passed"] for _d in _r["details"]], [True, False, True],
               "the 'passed' flags for a model that really answers '<unk>' (MFT expecting ['<unk>', 'b'], MFT expecting "
               "['b'], INV) (a real <unk> answer is an answer: only a fallback is an error)",
               names=("MFT listing <unk>", "MFT not listing <unk>", "INV case"))
    check_same([_r["passed"], _r["failed"], _r["errors"]], [2, 1, 0], "[passed, failed, errors] for a model answering '<unk>'")
    # an all-zero model (a failed load) is uniform: it answers <unk> (id 0) for real, so its INV cases pass
    _zero = NextWordModel(_v, hidden_size=3, seed=0)
    _zero.params = {_k: np.zeros_like(_value) for _k, _value in _zero.params.items()}
    _r = _run_test_suite(_zero, [{"kind": "inv", "name": "i", "context": ["a"], "perturbed": ["B"]},
                                {"kind": "mft", "name": "m", "context": ["a"], "expected": ["b"]}], _v)
    check_same([_r["passed"], _r["failed"], _r["errors"]], [1, 1, 0],
               "[passed, failed, errors] for an all-zero model (INV passes: both answers are a real '<unk>'; the MFT "
               "companion fails)")
print("run_test_suite: hidden tests of <unk> as a real answer passed")
### END HIDDEN TESTS

# %% [markdown]
# ### Going further: explore perturbations (ungraded)
#
# Type a context, pick a perturbation, and watch whether the prediction
# is invariant. (The printed line below the controls is the default view; it is also printed once
# statically so that a notebook run without a live kernel shows it.)

# %%
PERTURBATIONS = {
    "UPPER CASE": lambda words: [w.upper() for w in words],
    "extra spaces and empty words": lambda words: [" " + w + "  " for w in words] + [""],
    "typo in the first word": lambda words: [words[0][:-1] + "x"] + words[1:] if words else words,
    "typo in the last word": lambda words: words[:-1] + [words[-1][:-1] + "x"] if words else words,
    "prepend filler words": lambda words: ["well", "you", "know"] + words,
    "drop the last word": lambda words: words[:-1],
}

def explore_perturbation(context="the big dog", perturbation="typo in the last word"):
    words = context.split()
    changed = PERTURBATIONS[perturbation](words)
    before, after = safe_predict(BASE_MODEL, words, VOCAB), safe_predict(BASE_MODEL, changed, VOCAB)
    verdict = "INVARIANT" if before[0] == after[0] else "CHANGED"
    print(f"{words} -> {before[0]!r} ({before[1]:.2f})   |   {changed} -> {after[0]!r} ({after[1]:.2f})   {verdict}")

explore_perturbation()
perturbation_explorer = widgets.interactive(
    explore_perturbation,
    context=widgets.Text(value="the big dog", description="context"),
    perturbation=widgets.Dropdown(options=list(PERTURBATIONS), value="typo in the last word", description="perturb"))
perturbation_explorer

# %% [markdown]
# ## 4. Pre-training checks
#
# Three cheap checks catch most bugs in the model code before any compute is spent on training.
#
# **Check 1: the initial loss is about ln V.** A freshly initialised model is nearly uniform over the V
# words, so its cross-entropy is about ln V (the original's off-by-one vocabulary would show here as an
# `IndexError` or a loss for the wrong V). You should see two numbers within 0.05.

# %%
train = make_examples(3000, seed=2, regime="A")
word_ids, target_ids = encode_examples(train, VOCAB)
fresh = NextWordModel(VOCAB, seed=0)
initial_loss = fresh.loss(word_ids, target_ids)
print(f"initial loss {initial_loss:.4f} vs ln V = ln {len(VOCAB)} = {math.log(len(VOCAB)):.4f}")
assert abs(initial_loss - math.log(len(VOCAB))) < 0.05, "the initial loss is far from ln V: check the initialisation"

# %% [markdown]
# **Check 2: one training step lowers the loss** on its batch; if not, the gradient has the wrong sign or
# the update is broken. You should see the loss fall a little.

# %%
batch_words, batch_targets = word_ids[:64], target_ids[:64]
stepped = fresh.copy()
before = stepped.loss(batch_words, batch_targets)
for name, grad in stepped.gradients(batch_words, batch_targets).items():
    stepped.params[name] -= 0.1 * grad
after = stepped.loss(batch_words, batch_targets)
print(f"loss on the batch: {before:.5f} -> {after:.5f} after one step")
assert after < before, "one gradient step did not lower the loss: check the sign of the gradient"

# %% [markdown]
# **Reproducibility.** A test that fails once in ten runs teaches people to ignore tests. Every
# random draw in this course is seeded, so the same data, model and seed give bit-for-bit the same
# weights. You should see `True`.

# %%
twin_a, twin_b = fresh.copy(), fresh.copy()
twin_a.fit(train[:300], epochs=1, lr=0.1, seed=5)
twin_b.fit(train[:300], epochs=1, lr=0.1, seed=5)
print("same data, model and seed give identical weights:",
      all(np.array_equal(twin_a.params[name], twin_b.params[name]) for name in twin_a.params))


# %% [markdown]
# **Check 3: a gradient check.** Training can lower the loss with a *wrong* gradient, silently costing
# accuracy. Compare the analytic gradient with a numerical one: for each parameter entry θ, the central
# difference is
#
# $$ n = \frac{L(\theta + \varepsilon) - L(\theta - \varepsilon)}{2\varepsilon} $$
#
# and the relative error between the analytic value `a` and `n` is
# `|a - n| / max(1e-6, |a| + |n|)`. The floor `1e-6` stops float noise on entries whose gradient is
# (nearly) zero from dominating.
#
# ### Exercise 4 (10 points): `gradient_check(model, word_ids, target_ids, eps=1e-5) -> float`
#
# Return the **largest** relative error over **every** entry of every array in `model.params`,
# between `model.gradients(word_ids, target_ids)` and central differences of
# `model.loss(word_ids, target_ids)` with step `eps`, as a Python `float`. Change each entry in place
# (`model.params[name][index]`), and put back **exactly** the value it had (store it, then assign
# it back; adding and subtracting `eps` does not give back the same float). When the function
# returns, the model's parameters are exactly as before. Correct gradients give well under `1e-4`.

# %% nbgrader={"grade": false, "grade_id": "gradient_check", "locked": false, "schema_version": 3, "solution": true, "task": false}
def gradient_check(model, word_ids, target_ids, eps=1e-5):
    """Largest relative error between model.gradients and central differences of model.loss.

    Relative error of one entry: |a - n| / max(1e-6, |a| + |n|). Every entry of every array in
    model.params is checked; each is restored exactly afterwards. Returns a Python float.
    """
    ### BEGIN SOLUTION
    analytic = model.gradients(word_ids, target_ids)
    worst = 0.0
    for name, values in model.params.items():
        grad = analytic[name]
        for index in np.ndindex(values.shape):
            original = values[index]
            values[index] = original + eps
            loss_plus = model.loss(word_ids, target_ids)
            values[index] = original - eps
            loss_minus = model.loss(word_ids, target_ids)
            values[index] = original
            numeric = (loss_plus - loss_minus) / (2 * eps)
            a = float(grad[index])
            error = abs(a - numeric) / max(1e-6, abs(a) + abs(numeric))
            worst = max(worst, error)
    return float(worst)
    ### END SOLUTION


# %% [markdown]
# Try it on 40 examples (about 2 000 loss evaluations; well under a second). You should see the
# pretrained model well under `1e-4`, and the model that forgets the ReLU mask far above it.

# %%
check_words, check_targets = encode_examples(make_examples(40, seed=3), VOCAB)
print(f"gradient checks of {sum(v.size for v in BASE_MODEL.params.values())} parameters, twice ...", flush=True)
print(f"pretrained model:           {gradient_check(BASE_MODEL, check_words, check_targets):.2e}")
buggy = as_model(ForgotReluMaskModel(VOCAB), BASE_MODEL.params)
print(f"model forgetting ReLU mask: {gradient_check(buggy, check_words, check_targets):.2e}")

# %% nbgrader={"grade": true, "grade_id": "test_gradient_check_visible", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
"""Check gradient_check: tiny for a model's real gradients, large for gradients that forget the ReLU mask."""
_v = Vocabulary(["a", "b", "c"])                 # a small model keeps this test fast
_m = NextWordModel(_v, hidden_size=5, seed=1)
_m.fit([(["a"], "b"), (["b"], "c"), (["c"], "a"), (["a"], "c")] * 5, epochs=3, lr=0.5)
_w, _t = np.array([1, 2, 3, 1, 0]), np.array([2, 3, 1, 3, 1])
_good = gradient_check(_m, _w, _t)
check_type(_good, float, "gradient_check(model, ...)")
assert 0.0 <= _good < 1e-4, (f"gradient_check on correct gradients: expected a value below 1e-4, got {_good!r}. "
                             "Use central differences (L(x+eps) - L(x-eps)) / (2 eps) and the floor max(1e-6, |a|+|n|).")
_bad = gradient_check(as_model(ForgotReluMaskModel(_v, hidden_size=5), _m.params), _w, _t)
check_type(_bad, float, "gradient_check(buggy model, ...)")
assert _bad > 1e-2, (f"gradient_check on wrong gradients (ReLU mask forgotten): expected more than 1e-2, got {_bad!r}. "
                     "Do you check every entry of W1 and b1 and return the maximum?")
print(f"gradient_check: correct gradients {_good:.1e}, ReLU mask forgotten {_bad:.1e}")
print("gradient_check: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "test_gradient_check_hidden_formula", "locked": true, "points": 1.5, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of gradient_check's formula on hand-worked values: the relative error, the 1e-6 floor, the maximum."""
_gradient_check = expecting(gradient_check, "the largest |a - n| / max(1e-6, |a| + |n|) over every entry, as a Python float (gradient_check's formula on hand-worked values)")
check_type(_gradient_check(NextWordModel(Vocabulary(["a"]), hidden_size=2), [1], [0]), float,
           "gradient_check(a tiny model, ...)")
### BEGIN HIDDEN TESTS
with explain_failures("gradient_check's formula on hand-worked values",
                      'the largest |a - n| / max(1e-6, |a| + |n|) over every entry, as a Python float'):
    # one entry, a = 2 * 1 + 1 = 3 vs n = 2: |3 - 2| / (3 + 2) = 0.2
    _r = _gradient_check(PolyModel([1.0], 2, [1.0]), [0], [0])
    check_type(_r, float, "gradient_check(...) on a hand-made model")
    check_close(_r, 0.2, "gradient_check with one entry, a=3 and n=2 (relative error |a-n| / (|a|+|n|))", rel=1e-5, abs_tol=1e-7)
    # one entry, a = 1e-8 vs n = 0: 1e-8 / max(1e-6, 1e-8) = 0.01
    _r = _gradient_check(PolyModel([0.0], 2, [1e-8]), [0], [0])
    check_close(_r, 0.01, "gradient_check with one entry, a = 1e-8 and n = 0 (the denominator is floored at 1e-6)",
                rel=1e-5, abs_tol=1e-9)
    # three entries with errors 0.2, 0.01 and 0: the maximum is 0.2
    _r = _gradient_check(PolyModel([1.0, 0.0, 2.0], 2, [1.0, 1e-8, 0.0]), [0], [0])
    check_close(_r, 0.2, "gradient_check over entries with errors 0.2, 0.01, 0 (return the MAXIMUM)", rel=1e-5, abs_tol=1e-7)
print("gradient_check: hidden tests of the formula passed")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_gradient_check_hidden_eps", "locked": true, "points": 1.5, "schema_version": 3, "solution": false, "task": false}
"""Hidden test of gradient_check's eps: central differences with the given step."""
_gradient_check = expecting(gradient_check, "central differences with the given eps, as a Python float (gradient_check's eps)")
check_type(_gradient_check(NextWordModel(Vocabulary(["a"]), hidden_size=2), [1], [0]), float,
           "gradient_check(a tiny model, ...)")
### BEGIN HIDDEN TESTS
with explain_failures("gradient_check's eps",
                      'central differences with the given eps, as a Python float'):
    # sum(w^3) at w = 1, eps = 0.1: n = ((1.1)^3 - (0.9)^3) / 0.2 = 3.01 against a = 3
    _r = _gradient_check(PolyModel([1.0], 3, [0.0]), [0], [0], eps=0.1)
    check_close(_r, 0.01 / 6.01, "gradient_check(cubic model, eps=0.1) (central difference (L(x+eps) - L(x-eps)) / (2 eps) "
                "with the given eps)", rel=1e-6, abs_tol=1e-9)
print("gradient_check: hidden tests of eps passed")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_gradient_check_hidden_every_entry", "locked": true, "points": 1.5, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of gradient_check's coverage: a wrong gradient in one single entry of any parameter array is found."""
_gradient_check = expecting(gradient_check, "a large error when any single entry of any parameter array is wrong (gradient_check's coverage)")
check_type(_gradient_check(NextWordModel(Vocabulary(["a"]), hidden_size=2), [1], [0]), float,
           "gradient_check(a tiny model, ...)")
### BEGIN HIDDEN TESTS
with explain_failures("gradient_check's coverage",
                      'a large error when any single entry of any parameter array is wrong'):
    _sv = Vocabulary(["a", "b", "c"])                # a small model keeps this fast
    _sw, _st = np.array([1, 2, 3, 0, 1]), np.array([2, 1, 1, 3, 0])
    _small = NextWordModel(_sv, hidden_size=5, seed=3)
    _small.fit([(["a"], "b"), (["b"], "a"), (["c"], "a"), (["a"], "c")] * 5, epochs=3, lr=0.5)
    _r = _gradient_check(_small, _sw, _st)
    assert _r < 1e-4, f"gradient_check on a small model with correct gradients: expected < 1e-4, got {_r!r}"
    for _name, _index in (("b2", -1), ("W2", (-1, -1)), ("W1", (-1, -1)), ("b1", 0)):
        _bad = as_model(OneWrongEntryModel(_sv, _name, _index, hidden_size=5), _small.params)
        _r = _gradient_check(_bad, _sw, _st)
        assert _r > 1e-3, (f"gradient_check missed a wrong gradient in {_name}[{_index}]: got {_r!r}, expected > 1e-3. "
                           "Check every entry of every parameter array.")
print("gradient_check: hidden tests of every entry passed")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_gradient_check_hidden_restores_params", "locked": true, "points": 1.5, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of gradient_check's side effects: every parameter is put back exactly (stored and assigned back)."""
_gradient_check = expecting(gradient_check, "every parameter put back exactly (gradient_check's side effects)")
check_type(_gradient_check(NextWordModel(Vocabulary(["a"]), hidden_size=2), [1], [0]), float,
           "gradient_check(a tiny model, ...)")
### BEGIN HIDDEN TESTS
with explain_failures("gradient_check's side effects",
                      'every parameter put back exactly'):
    _pm = PolyModel([1.0, 0.0, 2.0], 2, [1.0, 1e-8, 0.0])
    _gradient_check(_pm, [0], [0])
    check_array_close(_pm.params["w"], [1.0, 0.0, 2.0], "params after gradient_check (restore each value exactly)",
                      rtol=0, atol=0)
    _pm = PolyModel([1.0, 0.45, 0.3], 3, [0.0, 0.0, 0.0])
    _gradient_check(_pm, [0], [0], eps=0.1)
    check_array_close(_pm.params["w"], [1.0, 0.45, 0.3],
                      "params after gradient_check(eps=0.1) (store each value and assign it back; x + eps - eps != x in floats)",
                      rtol=0, atol=0)
    _v = default_vocabulary()
    _m = pretrained_model(seed=0)
    _m.observed_attributes = ("params",)  # the grader reports the parameters back from your code's run
    _w, _t = encode_examples(make_examples(12, seed=6), _v)
    _orig = {_k: _value.copy() for _k, _value in _m.params.items()}
    _gradient_check(_m, _w, _t)
    for _k in _orig:
        check_array_close(_m.params[_k], _orig[_k], f"model.params[{_k!r}] after gradient_check (restore each value exactly)",
                          rtol=0, atol=0)
print("gradient_check: hidden tests of restored parameters passed")
### END HIDDEN TESTS

# %% [markdown]
# ## 5. Evaluation beyond accuracy
#
# For a next-word model that suggests words to a user, accuracy alone hides a lot:
#
# **top-k accuracy** (is the right word among the k suggestions shown?), **confidence** (the largest
# probability), **calibration** (when it says 70%, is it right 70% of the time? section 5.2) and
# **per-slice accuracy** (where does it fail? section 5.3).
#
# ### Exercise 5 (10 points): `evaluate(model, examples, vocab, k=3) -> dict`
#
# Return `{"n": int, "accuracy": float, "top_k_accuracy": float, "mean_confidence": float}` (Python
# floats) over the examples `(context, target)`. Normalize each context with `normalize_context`
# and each target the same way (strip, lowercase, unknown words become `vocab.unk`). The prediction is
# the most probable word given the last word of the normalized context; *top-k* counts the target
# among the k most probable words; confidence is the probability of the predicted word. An empty
# list raises `ValueError`, and so does `k < 1` (a top-0 accuracy measures nothing: never report it
# as 0.0 or 1.0). Not tested, so treat them as you like: an example whose context is empty after
# normalizing (e.g. a miss with confidence 0), a target that is empty after stripping (e.g. `vocab.unk`),
# and ties between probabilities in the top-k ranking (the tests use probabilities without ties).
#
# Tip: `encode_examples` does not normalize; `model.predict_proba(word_ids)` gives every
# probability at once as an `(N, V)` array, and `np.argsort` orders each row.

# %% nbgrader={"grade": false, "grade_id": "evaluate", "locked": false, "schema_version": 3, "solution": true, "task": false}
def evaluate(model, examples, vocab, k=3):
    """Accuracy, top-k accuracy and mean confidence of `model` on `examples` (normalized first).

    Returns {"n": int, "accuracy": float, "top_k_accuracy": float, "mean_confidence": float}.
    Raises ValueError for an empty list of examples.
    """
    ### BEGIN SOLUTION
    if len(examples) == 0:
        raise ValueError("no examples: accuracy of nothing is undefined")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k!r}")
    last_ids, target_ids = [], []
    for context, target in examples:
        words = normalize_context(context, vocab)
        target_words = normalize_context([target], vocab)
        if words:                                   # an empty context counts as a miss, confidence 0
            last_ids.append(vocab.encode(words[-1]))
            target_ids.append(vocab.encode(target_words[0]) if target_words else 0)
    n = len(examples)
    if not last_ids:
        return {"n": n, "accuracy": 0.0, "top_k_accuracy": 0.0, "mean_confidence": 0.0}
    probs = model.predict_proba(np.array(last_ids))
    ranking = np.argsort(-probs, axis=1, kind="stable")
    targets = np.array(target_ids)
    hits = int(np.sum(ranking[:, 0] == targets))
    top_hits = int(np.sum(ranking[:, :k] == targets[:, None]))
    confidence = float(np.sum(probs.max(axis=1)))
    return {"n": n, "accuracy": hits / n, "top_k_accuracy": top_hits / n, "mean_confidence": confidence / n}
    ### END SOLUTION


# %% [markdown]
# Try it on 2 000 fresh regime-A examples. You should see an accuracy of about 0.6, close to the best
# possible last-word predictor, a top-3 accuracy of about 0.86, and a mean confidence close to the
# accuracy (a first hint of good calibration).

# %%
results = evaluate(BASE_MODEL, held_out, VOCAB, k=3)
print({key: round(value, 3) for key, value in results.items()})
print(f"best possible last-word accuracy on the same examples: {best_last_word_accuracy(held_out):.3f}")

# %% nbgrader={"grade": true, "grade_id": "test_evaluate_visible", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
"""Check evaluate on the pretrained model: keys and types, sensible values, top-k >= accuracy, ValueError when empty."""
_v = default_vocabulary()
_m = pretrained_model(seed=0)
_ex = make_examples(500, seed=7, regime="A")
_r = evaluate(_m, _ex, _v, k=3)
check_type(_r, dict, "evaluate(...)")
check_type(_r.get("n"), int, "evaluate(...)['n']")
check_same(_r["n"], 500, "evaluate(...)['n']")
for _key in ("accuracy", "top_k_accuracy", "mean_confidence"):
    check_type(_r.get(_key), float, f"evaluate(...)[{_key!r}] (a Python float: convert with float())")
_best = best_last_word_accuracy(_ex)
assert _best - 0.08 <= _r["accuracy"] <= _best + 0.02, (
    f"evaluate(...)['accuracy']: expected about {_best:.3f} (the best last-word accuracy), got {_r['accuracy']!r}")
assert _r["accuracy"] <= _r["top_k_accuracy"] <= 1.0, (
    f"top-3 accuracy {_r['top_k_accuracy']!r} must be between the accuracy {_r['accuracy']!r} and 1")
assert 0.0 < _r["mean_confidence"] < 1.0, f"mean_confidence should be in (0, 1), got {_r['mean_confidence']!r}"
check_close(evaluate(_m, _ex, _v, k=len(_v))["top_k_accuracy"], 1.0, "top-k accuracy with k = V (every word is shown)")
expect_raises(ValueError, evaluate, _m, [], _v, what="evaluate(model, [], vocab)")
print("evaluate: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "test_evaluate_hidden_targets_normalized", "locked": true, "points": 1.5, "schema_version": 3, "solution": false, "task": false}
"""Hidden test of evaluate's targets: they are normalized like the contexts (strip, lowercase, unknown -> unk)."""
_evaluate = expecting(evaluate, "a dict of metrics with each target normalized like the contexts (evaluate's targets)")
_v = Vocabulary(["a", "b", "c"])                 # ids: <unk> 0, a 1, b 2, c 3
_m = table_model(_v, [[0.1, 0.2, 0.3, 0.4], [0.05, 0.15, 0.7, 0.1], [0.1, 0.5, 0.15, 0.25], [0.2, 0.3, 0.35, 0.15]])
check_type(_evaluate(_m, [(["a"], "b")], _v), dict, "evaluate(model, [(['a'], 'b')])")
### BEGIN HIDDEN TESTS
with explain_failures("evaluate's targets",
                      'a dict of metrics with each target normalized like the contexts'):
    # every prediction is right once the targets are normalized: a -> b, b -> a, <unk> -> c
    _ex = [(["a"], " B"), (["b"], "A "), (["zzz"], "C"), (["a"], "b")]
    _r = _evaluate(_m, _ex, _v, k=1)
    check_type(_r, dict, "evaluate(...)")
    assert _r.get("accuracy") == 1.0, (
        f"evaluate on targets ' B', 'A ', 'C', 'b' that the model predicts right: expected accuracy 1.0, got {_r.get('accuracy')!r}. "
        "Normalize each target like the contexts (strip and lowercase) before comparing it with the prediction.")
    _r = _evaluate(_m, [(["a"], "unknownword")], _v, k=4)
    assert _r.get("top_k_accuracy") == 1.0, (
        f"evaluate with an unknown target and k = 4: expected top-4 accuracy 1.0 (the target becomes <unk>, "
        f"one of the 4 words), got {_r.get('top_k_accuracy')!r}. Unknown target words become vocab.unk.")
print("evaluate: hidden tests of normalized targets passed")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_evaluate_hidden_k", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""Hidden test of evaluate's k: k < 1 raises ValueError (a top-0 accuracy measures nothing)."""
_evaluate = expecting(evaluate, "a dict of metrics (evaluate's k: k < 1 raises ValueError (a top-0 accuracy measures nothing))")
_v = Vocabulary(["a", "b", "c"])
_m = table_model(_v, [[0.1, 0.2, 0.3, 0.4], [0.05, 0.15, 0.7, 0.1], [0.1, 0.5, 0.15, 0.25], [0.2, 0.3, 0.35, 0.15]])
check_type(_evaluate(_m, [(["a"], "b")], _v, k=1), dict, "evaluate(model, [(['a'], 'b')], vocab, k=1)")
### BEGIN HIDDEN TESTS
with explain_failures("evaluate's k",
                      'ValueError for k < 1'):
    for _k in (0, -1):
        expect_raises(ValueError, evaluate, _m, [(["a"], "b")], _v, k=_k, what=f"evaluate(model, examples, vocab, k={_k})",
                      hint="k < 1 must raise ValueError: a top-0 accuracy is not 0.0, and certainly not 1.0.")
print("evaluate: hidden tests of k < 1 passed")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_evaluate_hidden_values", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of evaluate's values on a model with known probabilities: n, accuracy, top-2 accuracy, mean confidence, types."""
_evaluate = expecting(evaluate, "{'n', 'accuracy', 'top_k_accuracy', 'mean_confidence'} computed from each context's last word (evaluate's values on a model with known probabilities)")
_v = Vocabulary(["a", "b", "c"])                 # ids: <unk> 0, a 1, b 2, c 3
_m = table_model(_v, [[0.1, 0.2, 0.3, 0.4], [0.05, 0.15, 0.7, 0.1], [0.1, 0.5, 0.15, 0.25], [0.2, 0.3, 0.35, 0.15]])
check_type(_evaluate(_m, [(["a"], "b")], _v), dict, "evaluate(model, [(['a'], 'b')])")
### BEGIN HIDDEN TESTS
with explain_failures("evaluate's values on a model with known probabilities",
                      "{'n', 'accuracy', 'top_k_accuracy', 'mean_confidence'} computed from each context's last word"):
    # targets are already normalized here: their normalization has its own cell
    _ex = [(["a"], "b"),                   # last a: ranking b .7, a .15, c .1, <unk> .05 -> top-1 hit
           (["B "], "c"),                  # last b: a .5, c .25, b .15 -> top-2 hit
           (["x", "C"], "a"),              # last c: b .35, a .3, <unk> .2 -> target a: top-2 hit
           (["c", "zzz"], "c"),            # last <unk>: c .4 -> top-1 hit
           (["b", "a"], "<unk>"),          # last a: target <unk> is 4th
           (["a", "", "  "], "a")]         # last a: target a is 2nd
    _r = _evaluate(_m, _ex, _v, k=2)
    check_type(_r, dict, "evaluate(...)")
    check_type(_r.get("n"), int, "evaluate(...)['n']")
    for _key in ("accuracy", "top_k_accuracy", "mean_confidence"):
        check_type(_r.get(_key), float, f"evaluate(...)[{_key!r}]")
    check_same(_r["n"], 6, "evaluate(...)['n']")
    check_close(_r["accuracy"], 2 / 6, "accuracy on 6 hand-worked examples whose contexts need normalizing (normalize each "
                "context with normalize_context and predict from its LAST word)", rel=1e-9, abs_tol=1e-12)
    check_close(_r["top_k_accuracy"], 5 / 6, "top-2 accuracy on 6 hand-worked examples", rel=1e-9, abs_tol=1e-12)
    check_close(_r["mean_confidence"], (0.7 + 0.5 + 0.35 + 0.4 + 0.7 + 0.7) / 6,
                "mean_confidence (the probability of the PREDICTED word, not of the target)", rel=1e-9, abs_tol=1e-12)
    check_same(_evaluate(_m, [(["b"], "a")], _v, k=1), {"n": 1, "accuracy": 1.0, "top_k_accuracy": 1.0, "mean_confidence": 0.5},
                "evaluate on [(['b'], 'a')] with k=1")
print("evaluate: hidden tests of its values passed")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_evaluate_hidden_top_k", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of evaluate's top-k accuracy for every k, and the default k=3."""
_evaluate = expecting(evaluate, "the share of targets among the k most probable words (evaluate's top-k accuracy for every k, and the default k=3)")
_v = Vocabulary(["a", "b", "c"])                 # ids: <unk> 0, a 1, b 2, c 3
_m = table_model(_v, [[0.1, 0.2, 0.3, 0.4], [0.05, 0.15, 0.7, 0.1], [0.1, 0.5, 0.15, 0.25], [0.2, 0.3, 0.35, 0.15]])
check_type(_evaluate(_m, [(["a"], "b")], _v), dict, "evaluate(model, [(['a'], 'b')])")
### BEGIN HIDDEN TESTS
with explain_failures("evaluate's top-k accuracy for every k, and the default k=3.",
                      'the share of targets among the k most probable words'):
    # targets are already normalized here: their normalization has its own cell
    _ex = [(["a"], "b"),                   # last a: ranking b .7, a .15, c .1, <unk> .05 -> top-1 hit
           (["B "], "c"),                  # last b: a .5, c .25, b .15 -> top-2 hit
           (["x", "C"], "a"),              # last c: b .35, a .3, <unk> .2 -> target a: top-2 hit
           (["c", "zzz"], "c"),            # last <unk>: c .4 -> top-1 hit
           (["b", "a"], "<unk>"),          # last a: target <unk> is 4th
           (["a", "", "  "], "a")]         # last a: target a is 2nd
    for _k, _expected in ((1, 2 / 6), (2, 5 / 6), (3, 5 / 6), (4, 1.0)):
        check_close(_evaluate(_m, _ex, _v, k=_k)["top_k_accuracy"], _expected,
                    f"top-{_k} accuracy on the hand-worked examples (the k MOST probable words)", rel=1e-9, abs_tol=1e-12)
    check_close(_evaluate(_m, _ex, _v)["top_k_accuracy"], 5 / 6, "top-k accuracy with the default k=3", rel=1e-9, abs_tol=1e-12)
print("evaluate: hidden tests of top-k passed")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_evaluate_hidden_empty", "locked": true, "points": 0.5, "schema_version": 3, "solution": false, "task": false}
"""Hidden test of evaluate on no examples: ValueError, not a division by zero."""
_evaluate = expecting(evaluate, 'a dict of metrics (evaluate on no examples: ValueError, not a division by zero)')
_v = Vocabulary(["a", "b", "c"])                 # ids: <unk> 0, a 1, b 2, c 3
_m = table_model(_v, [[0.1, 0.2, 0.3, 0.4], [0.05, 0.15, 0.7, 0.1], [0.1, 0.5, 0.15, 0.25], [0.2, 0.3, 0.35, 0.15]])
check_type(_evaluate(_m, [(["a"], "b")], _v), dict, "evaluate(model, [(['a'], 'b')])")
### BEGIN HIDDEN TESTS
with explain_failures('evaluate on no examples',
                      'ValueError for an empty list of examples'):
    for _empty in ([], ()):
        expect_raises(ValueError, evaluate, _m, _empty, _v, what=f"evaluate(model, {_empty!r}, vocab)",
                      hint="An empty list must raise ValueError, not divide by zero.")
print("evaluate: hidden tests of no examples passed")
### END HIDDEN TESTS

# %% [markdown]
# ### 5.2 Calibration
#
# A model is *calibrated* when its confidence means what it says: among answers given with confidence about
# 0.7, about 70% are right. It matters whenever someone acts on the confidence (showing a suggestion only
# when the model is sure enough, deferring to a human when it is not).
#
# Sort the predictions into `n_bins` equal-width confidence bins. Prediction `i` with confidence
# `c` goes to bin `min(floor(c * n_bins), n_bins - 1)` (so `c = 1.0` lands in the last bin). The
# **expected calibration error** weighs each non-empty bin's gap between accuracy and mean confidence
# by its share of the predictions:
#
# $$ \mathrm{ECE} = \sum_{b \text{ non-empty}} \frac{n_b}{N} \, \left| \mathrm{acc}_b - \mathrm{conf}_b \right| $$
#
# ### Exercise 6 (10 points): `expected_calibration_error(confidences, correct, n_bins=10) -> float`
#
# `confidences`: numbers in [0, 1]; `correct`: booleans (or 0/1) of the same length; both lists or
# arrays. Return the ECE as a Python `float`. Empty input or mismatched lengths raise `ValueError`.
# Worked example: confidences `[0.95, 0.95]` with correct `[True, False]` fall in one bin
# with accuracy 0.5 and confidence 0.95, so the ECE is 0.45.

# %% nbgrader={"grade": false, "grade_id": "expected_calibration_error", "locked": false, "schema_version": 3, "solution": true, "task": false}
def expected_calibration_error(confidences, correct, n_bins=10):
    """Expected calibration error over n_bins equal-width confidence bins (a Python float).

    Bin of confidence c: min(floor(c * n_bins), n_bins - 1). Raises ValueError for empty input
    or when confidences and correct have different lengths.
    """
    ### BEGIN SOLUTION
    conf = np.asarray(confidences, dtype=float).ravel()
    hits = np.asarray(correct, dtype=float).ravel()
    if conf.size == 0 or conf.size != hits.size:
        raise ValueError(f"need the same, non-zero number of confidences and outcomes, got {conf.size} and {hits.size}")
    bins = np.minimum(np.floor(conf * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        in_bin = bins == b
        count = int(in_bin.sum())
        if count:
            ece += count / conf.size * abs(hits[in_bin].mean() - conf[in_bin].mean())
    return float(ece)
    ### END SOLUTION


# %% [markdown]
# Try it. You should see `0.45` for the worked example, `0.00` for a perfectly calibrated toy
# case, and `0.75` for a model that is over-confident in one bin and under-confident in
# another (the gaps do not cancel: each is an absolute value).

# %%
for confidences, correct in [([0.95, 0.95], [True, False]), ([0.5, 0.5, 0.5, 0.5], [1, 0, 1, 0]),
                             ([0.25, 0.75], [True, False])]:
    print(f"ECE of {confidences} with {correct}: {expected_calibration_error(confidences, correct):.2f}")

# %% nbgrader={"grade": true, "grade_id": "test_expected_calibration_error_visible", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
"""Check expected_calibration_error on small hand-worked cases and its errors."""
_r = expected_calibration_error([0.95, 0.95], [True, False])
check_type(_r, float, "expected_calibration_error([0.95, 0.95], [True, False])")
check_close(_r, 0.45, "expected_calibration_error([0.95, 0.95], [True, False]) (one bin: |0.5 - 0.95|)")
check_close(expected_calibration_error([0.5, 0.5, 0.5, 0.5], [1, 0, 1, 0]), 0.0,
            "ECE of a perfectly calibrated toy case", abs_tol=1e-12)
check_close(expected_calibration_error([0.25, 0.75], [True, False]), 0.75,
            "ECE of [0.25, 0.75] with [True, False] (use the absolute gap in each bin)")
expect_raises(ValueError, expected_calibration_error, [], [], what="expected_calibration_error([], [])")
expect_raises(ValueError, expected_calibration_error, [0.5, 0.6], [True], what="expected_calibration_error([0.5, 0.6], [True])",
              hint="Mismatched lengths must raise ValueError (zip() would silently drop items).")
print("expected_calibration_error: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "test_expected_calibration_error_hidden_weighting", "locked": true, "points": 1.5, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of expected_calibration_error's weighting: each bin by its share of the predictions, on small and random cases."""
_expected_calibration_error = expecting(expected_calibration_error, "the ECE as a Python float, each bin weighted by n_bin / N (expected_calibration_error's weighting)")
check_type(_expected_calibration_error([0.5], [True]), float, "expected_calibration_error([0.5], [True])")
### BEGIN HIDDEN TESTS
with explain_failures("expected_calibration_error's weighting",
                      'the ECE as a Python float, each bin weighted by n_bin / N'):
    # bins weighted by their share: bin 1 (3 items, acc 1/3, conf .15), bin 8 (1 item, acc 1, conf .85)
    check_close(_expected_calibration_error([0.15, 0.15, 0.15, 0.85], [True, False, False, True]),
                0.75 * (1 / 3 - 0.15) + 0.25 * 0.15,
                "ECE of [.15, .15, .15, .85] with [T, F, F, T] (weight each bin by n_bin / N)", rel=1e-9, abs_tol=1e-12)
    # a larger random case against an independent computation by sorting into bins by hand
    _rng = np.random.default_rng(0)
    _conf = _rng.uniform(0, 1, 400)
    _hit = _rng.uniform(0, 1, 400) < _conf ** 2
    _total = 0.0
    for _b in range(10):
        _members = [_i for _i in range(400) if min(int(_conf[_i] * 10), 9) == _b]
        if _members:
            _acc = sum(bool(_hit[_i]) for _i in _members) / len(_members)
            _mc = sum(float(_conf[_i]) for _i in _members) / len(_members)
            _total += len(_members) / 400 * abs(_acc - _mc)
    check_close(_expected_calibration_error(_conf, _hit), _total, "ECE of 400 random predictions", rel=1e-9, abs_tol=1e-12)
print("expected_calibration_error: hidden tests of the weighting passed")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_expected_calibration_error_hidden_bin_edges", "locked": true, "points": 1.5, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of expected_calibration_error's bins: c = 1.0 in the last bin, c = 0.0 in the first, floor(c * n_bins) at the edges."""
_expected_calibration_error = expecting(expected_calibration_error, "the ECE with bin min(floor(c * n_bins), n_bins - 1) (expected_calibration_error's bins)")
check_type(_expected_calibration_error([0.5], [True]), float, "expected_calibration_error([0.5], [True])")
### BEGIN HIDDEN TESTS
with explain_failures("expected_calibration_error's bins",
                      'the ECE with bin min(floor(c * n_bins), n_bins - 1)'):
    # c = 1.0 goes to the last bin, c = 0.0 to the first: |1 - 1| * .5 + |0 - .05| * .5
    check_close(_expected_calibration_error([1.0, 0.05], [1, 0]), 0.025,
                "ECE of [1.0, 0.05] with [1, 0] (c = 1.0 belongs to the last bin)", rel=1e-9, abs_tol=1e-12)
    check_close(_expected_calibration_error([1.0, 1.0, 0.0], [True, False, False]), (2 / 3) * 0.5,
                "ECE of [1.0, 1.0, 0.0] with [T, F, F]", rel=1e-9, abs_tol=1e-12)
    # bin edges: 0.5 * 4 = 2 -> bin 2 of 4; 0.49 -> bin 1
    check_close(_expected_calibration_error([0.5, 0.49], [True, True], n_bins=4), 0.5 * 0.5 + 0.5 * 0.51,
                "ECE of [0.5, 0.49] with n_bins=4", rel=1e-9, abs_tol=1e-12)
    check_close(_expected_calibration_error([0.5, 0.45], [True, False], n_bins=4), 0.5 * 0.5 + 0.5 * 0.45,
                "ECE of [0.5, 0.45] with [T, F], n_bins=4 (floor(c * n_bins) puts 0.5 and 0.45 in different bins)",
                rel=1e-9, abs_tol=1e-12)
print("expected_calibration_error: hidden tests of the bin edges passed")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_expected_calibration_error_hidden_n_bins", "locked": true, "points": 1.5, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of expected_calibration_error's n_bins: the same predictions in 10, 2 and 1 bins."""
_expected_calibration_error = expecting(expected_calibration_error, "the ECE with n_bins equal-width bins (expected_calibration_error's n_bins)")
check_type(_expected_calibration_error([0.5], [True]), float, "expected_calibration_error([0.5], [True])")
### BEGIN HIDDEN TESTS
with explain_failures("expected_calibration_error's n_bins",
                      'the ECE with n_bins equal-width bins'):
    # n_bins matters: 4 items in 4 bins of 10, or in 2 bins of 2
    _c, _y = [0.2, 0.4, 0.6, 0.9], [False, True, True, True]
    check_close(_expected_calibration_error(_c, _y), (0.2 + 0.6 + 0.4 + 0.1) / 4, "ECE of [.2, .4, .6, .9] with 10 bins",
                rel=1e-9, abs_tol=1e-12)
    check_close(_expected_calibration_error(_c, _y, n_bins=2), 0.5 * 0.2 + 0.5 * 0.25,
                "ECE of [.2, .4, .6, .9] with n_bins=2 (bins [0, .5) and [.5, 1])", rel=1e-9, abs_tol=1e-12)
    check_close(_expected_calibration_error(_c, _y, n_bins=1), abs(0.75 - 0.525), "ECE with n_bins=1 (one bin)",
                rel=1e-9, abs_tol=1e-12)
print("expected_calibration_error: hidden tests of n_bins passed")
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_expected_calibration_error_hidden_arrays_and_errors", "locked": true, "points": 1.5, "schema_version": 3, "solution": false, "task": false}
"""Hidden tests of expected_calibration_error's inputs: NumPy arrays and 0/1 ints, a Python float back, ValueError for bad lengths."""
_expected_calibration_error = expecting(expected_calibration_error, "the same ECE for NumPy arrays and 0/1 ints; ValueError for empty or mismatched inputs (expected_calibration_error's inputs)")
check_type(_expected_calibration_error([0.5], [True]), float, "expected_calibration_error([0.5], [True])")
### BEGIN HIDDEN TESTS
with explain_failures("expected_calibration_error's inputs",
                      'the same ECE for NumPy arrays and 0/1 ints; ValueError for empty or mismatched inputs'):
    # NumPy arrays and 0/1 ints work the same as lists of bools
    check_close(_expected_calibration_error(np.array([0.95, 0.95]), np.array([1, 0])), 0.45, "ECE on NumPy arrays")
    _r = _expected_calibration_error(np.array([0.3, 0.8]), np.array([True, True]))
    check_type(_r, float, "expected_calibration_error on NumPy arrays (return a Python float)")
    check_close(_r, 0.5 * 0.7 + 0.5 * 0.2, "ECE of [0.3, 0.8] with [T, T]", rel=1e-9, abs_tol=1e-12)
    expect_raises(ValueError, expected_calibration_error, [0.5], [True, False], what="expected_calibration_error([0.5], [True, False])")
    expect_raises(ValueError, expected_calibration_error, np.array([]), np.array([]), what="expected_calibration_error on empty arrays")
print("expected_calibration_error: hidden tests of arrays and errors passed")
### END HIDDEN TESTS

# %% [markdown]
# **The reliability diagram** shows *where* the model is over- or under-confident: each bar is one confidence
# bin, its height the accuracy in the bin; the diagonal is perfect calibration, and the grey bars show how many
# predictions fall in each bin. Bars below the diagonal mean over-confidence. Below, the same model on regime A
# (its training world) and on regime B (after a drift, assignment 2's subject). You should see bars roughly
# along the diagonal for A (ECE about 0.05), bars far below it for B, and an ECE about six times larger for B:
# after the drift the model is confidently wrong.

# %%
def predictions(m, examples):
    """Per-example confidence (largest probability) and correctness, contexts and targets as given."""
    word_ids, target_ids = encode_examples(examples, VOCAB)
    probs = m.predict_proba(word_ids)
    return probs.max(axis=1), probs.argmax(axis=1) == target_ids

def reliability_diagram(ax, confidences, correct, title, n_bins=10):
    bins = np.minimum(np.floor(confidences * n_bins).astype(int), n_bins - 1)
    centers = (np.arange(n_bins) + 0.5) / n_bins
    counts = np.bincount(bins, minlength=n_bins)
    accuracy = np.array([correct[bins == b].mean() if counts[b] else 0.0 for b in range(n_bins)])
    ax.bar(centers, accuracy, width=1 / n_bins, edgecolor="black", alpha=0.75, label="accuracy in bin")
    ax.bar(centers, counts / counts.sum(), width=0.4 / n_bins, color="dimgrey", label="share of predictions")
    ax.plot([0, 1], [0, 1], "k--", label="perfect calibration")
    ece = expected_calibration_error(confidences, correct, n_bins)
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence", ylabel="accuracy", title=f"{title}\nECE = {ece:.3f}")
    ax.legend(loc="upper left", fontsize=8)

print("drawing two reliability diagrams (2 000 predictions each, regimes A and B) ...", flush=True)
drifted = make_examples(2000, seed=4, regime="B")
conf_a, correct_a = predictions(BASE_MODEL, held_out)
conf_b, correct_b = predictions(BASE_MODEL, drifted)
fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
reliability_diagram(axes[0], conf_a, correct_a, "regime A (training world)")
reliability_diagram(axes[1], conf_b, correct_b, "regime B (after the drift)")
fig.tight_layout()
plt.show()

# %% [markdown]
# **How large an ECE is noise?** On a small sample even a *perfectly* calibrated model scores above zero (with
# few examples per bin, a bin's accuracy wanders from its mean confidence by chance), so "worry above 0.05"
# means nothing without a sample size. The cell below draws windows of 300 labels from a model calibrated by
# construction (each prediction right with probability equal to its confidence) and from the pretrained
# model's own held-out predictions on regime A, its *baseline*. You should see a perfectly calibrated model
# score about 0.05 on 300 labels, the pretrained model about 0.07 with 5% of windows above about 0.1, and the
# drifted world far above both.

# %%
noise_rng = np.random.default_rng(0)
window_size, n_windows = 300, 400

def window_eces(confidences, correct=None):
    """ECE of n_windows random windows of window_size predictions (correct=None: a calibrated model)."""
    values = []
    for _ in range(n_windows):
        picks = noise_rng.integers(0, len(confidences), window_size)
        conf = confidences[picks]
        right = noise_rng.random(window_size) < conf if correct is None else correct[picks]
        values.append(expected_calibration_error(conf, right))
    return np.array(values)

print(f"computing the ECE of {3 * n_windows} windows of {window_size} labels ...", flush=True)
calibrated = window_eces(conf_a)
baseline_windows = window_eces(conf_a, correct_a)
drifted_windows = window_eces(conf_b, correct_b)
worry_threshold = float(np.percentile(baseline_windows, 95))
print(f"ECE on windows of {window_size} labels (mean, 95th percentile over {n_windows} windows):")
print(f"  perfectly calibrated model: {calibrated.mean():.3f}, {np.percentile(calibrated, 95):.3f}")
print(f"  pretrained model, regime A: {baseline_windows.mean():.3f}, {worry_threshold:.3f}   <- the baseline")
print(f"  pretrained model, regime B: {drifted_windows.mean():.3f} (5th percentile {np.percentile(drifted_windows, 5):.3f})")
print(f"a worry threshold for windows of {window_size}: the baseline's 95th percentile, {worry_threshold:.2f}; "
      f"share of regime-B windows above it: {np.mean(drifted_windows > worry_threshold):.0%}")


# %% [markdown]
# ### 5.3 Accuracy per slice
#
# One overall number can hide a slice where the model is useless. Below, the held-out examples are grouped
# by the *kind* of their last word and each group is evaluated with your `evaluate`, beside the best
# possible last-word predictor on the same slice (a low accuracy at that ceiling only says the slice is
# unpredictable), plus two slices users produce and the grammar never does: a typo in the last word, and
# long contexts. You should see most slices at their ceiling, the typo slice far below it, and one real
# weakness: after an adjective the model is clearly below what is possible (its 12 hidden units are shared
# by all 43 words).

# %%
KINDS = {
    "determiner": {"the", "a"},
    "adjective": {"big", "small", "red", "blue", "green", "brown", "tall", "happy", "friendly", "clever"},
    "noun": {"cat", "dog", "bird", "person", "car", "tree", "mat", "park", "house"},
    "verb": {"sat", "ran", "jumped", "climbed", "flew", "barked", "played", "stood", "moved", "stopped",
             "walking", "drove", "swayed"},
    "preposition": {"on", "in", "under", "over", "to"},
    "adverb": {"quickly", "slowly", "fast"},
}
slices = {kind: [ex for ex in held_out if ex[0][-1] in words] for kind, words in KINDS.items()}
slices["long context (>= 6 words)"] = [ex for ex in held_out if len(ex[0]) >= 6]
slices["typo in the last word"] = [(ctx[:-1] + [ctx[-1] + "e"], target) for ctx, target in held_out[:300]]

names, accuracies, ceilings = [], [], []
print(f"{'slice':28}{'n':>6}{'accuracy':>10}{'top-3':>8}{'ceiling':>9}")
for name, examples in slices.items():
    result = evaluate(BASE_MODEL, examples, VOCAB, k=3)
    ceiling = best_last_word_accuracy([(normalize_context(c, VOCAB), t) for c, t in examples])
    names.append(name); accuracies.append(result["accuracy"]); ceilings.append(ceiling)
    print(f"{name:28}{result['n']:>6}{result['accuracy']:>10.3f}{result['top_k_accuracy']:>8.3f}{ceiling:>9.3f}")

fig, ax = plt.subplots(figsize=(9, 3.4))
positions = np.arange(len(names))
ax.bar(positions - 0.2, accuracies, width=0.4, label="model accuracy")
ax.bar(positions + 0.2, ceilings, width=0.4, label="best last-word predictor", color="lightgrey", edgecolor="grey")
ax.set_xticks(positions, names, rotation=25, ha="right")
ax.set(ylim=(0, 1), ylabel="accuracy", title="accuracy per slice (regime A, held out)")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# Normalization maps the typo to `<unk>`, a last word the model never saw in training: far below even the
# slice's low ceiling, and hidden in the overall accuracy. A fix (spelling correction, `<unk>` noise in
# training) is a product decision, now an informed one.

# %% [markdown]
# ### Going further: explore a confidence threshold (ungraded)
#
# Suppose the app shows a suggestion only when the confidence
# is at least a threshold *t*. Higher *t* answers fewer requests (*coverage*) but is right more often
# on those it answers. The plot shows the whole trade-off; the slider moves the operating point,
# and the regime selector shows how a drift moves the curve. The figure right below the code is
# the default view (threshold 0.5, regime A); move a control and the live view appears under the
# controls.

# %%
def threshold_view(threshold=0.5, regime="A"):
    confidences, correct = (conf_a, correct_a) if regime == "A" else (conf_b, correct_b)
    grid = np.linspace(0, 0.95, 96)
    coverage = np.array([(confidences >= t).mean() for t in grid])
    answered_acc = np.array([correct[confidences >= t].mean() if (confidences >= t).any() else np.nan for t in grid])
    keep = confidences >= threshold
    cov = keep.mean()
    acc = correct[keep].mean() if keep.any() else float("nan")
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.plot(grid, coverage, label="coverage (share answered)")
    ax.plot(grid, answered_acc, label="accuracy on answered")
    ax.axvline(threshold, color="black", linestyle=":")
    ax.plot([threshold, threshold], [cov, acc], "ko")
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="confidence threshold t",
           title=f"regime {regime}, t = {threshold:.2f}: answers {cov:.0%} of requests, {acc:.0%} of them right")
    ax.legend(loc="lower left", fontsize=8)
    plt.show()

print("drawing the coverage / accuracy trade-off ...", flush=True)
threshold_view()                       # the default view, drawn statically

threshold_slider = widgets.FloatSlider(value=0.5, min=0.0, max=0.95, step=0.05, description="threshold")
regime_buttons = widgets.ToggleButtons(options=["A", "B"], value="A", description="regime")
threshold_output = widgets.Output()

def redraw_threshold_view(change=None):
    with threshold_output:
        threshold_output.clear_output(wait=True)
        threshold_view(threshold_slider.value, regime_buttons.value)

threshold_slider.observe(redraw_threshold_view, names="value")
regime_buttons.observe(redraw_threshold_view, names="value")
widgets.VBox([threshold_slider, regime_buttons, threshold_output])

# %% [markdown]
# ## Going further: what this notebook covers of the ML Test Score (ungraded)
#
# Breck et al. (Google), *The ML Test Score: A Rubric for ML Production Readiness and Technical
# Debt Reduction* (IEEE Big Data 2017), lists 28 tests in four groups: data, model, infrastructure
# and monitoring. This notebook touches these:
#
# | rubric item | where in this notebook |
# |---|---|
# | Data 1: feature expectations are captured in a schema | the vocabulary is the schema of the input; bug 4 checks test targets against it |
# | Data 7: all input feature code is tested | `normalize_context` and its edge-case tests (section 1) |
# | Model 5: a simpler model is not better | bug 2: compare with a trivial model and with the best last-word predictor, not an untrained one |
# | Model 6: model quality is sufficient on all important data slices | per-slice accuracy (section 5.3) |
# | Infra 1: training is reproducible | every draw is seeded; two training runs with one seed give identical weights (section 4) |
# | Infra 2: model specification code is unit tested | initial loss ≈ ln V, one step lowers the loss, `gradient_check` (section 4) |
# | Infra 5: the model is debuggable | behavioural tests with a reason per case (`run_test_suite`), the perturbation explorer |
# | Monitor 5: the model is numerically stable (partly) | `safe_predict_with_reason` names every NaN or infinite confidence, and `run_test_suite` counts a NaN model's cases as errors; *monitoring* those fallbacks in production is assignment 2's job |
#
# Not covered in this notebook, and where the course takes them up, honestly:
#
# * **Infra 3** (the ML pipeline is integration tested): assignment 3's capstone runs the whole loop
#   (monitor, retrain, gate, promote, roll back) end to end on a simulated stream, and its tests check it.
# * **Infra 4** (model quality is validated *before* it is served): `evaluate` measures quality, but
#   nothing here stops a bad model from being served. Assignment 3's champion/challenger gate does.
# * **Infra 6** (models are canaried before serving): only discussed in assignment 3, on paper; no share
#   of live traffic is ever routed to a new model before it serves everything.
# * **Infra 7** (serving models can be rolled back): assignment 3's registry keeps every version and can
#   roll back; its capstone completes a live rollback check after each promotion, and a fire drill shows
#   it restoring the previous champion.
# * **Model 4** (the impact of model staleness is known): assignment 3 measures it — the never-retrained
#   model falls from about 0.6 to under 0.3 after the drift.
# * **Monitor 2, 6, 7** (data invariants in serving, serving latency, prediction quality on served
#   data): assignment 2 watches the input distribution (PSI), the p95 latency and live accuracy.
#   Throughput, RAM and training speed (the rest of Monitor 6) are not monitored anywhere.
# * **Not covered by the course at all:** Model 1 (the model specification is reviewed and checked in:
#   the model is versioned code in `nextword`, but review is not taught), Model 2 (offline and online
#   metrics correlate: the course measures both, never their agreement), Model 3 (hyperparameters are
#   tuned: every size and learning rate is fixed), Model 7 (the model is tested for inclusion: slices
#   here are by context, not by groups of people), Data 2 to 6 (every feature is beneficial, no
#   feature costs too much, features meet meta-level requirements, the pipeline has privacy controls,
#   new features can be added quickly), Monitor 1 (notification of dependency changes), Monitor 3
#   (training and serving compute the same features: the course only *shares* one normalization
#   between training and serving, it never checks that they agree) and Monitor 4 (the model is not
#   too stale: assignment 3 retrains on degradation, never on age).
#
# ## 6. Written answers (graded by hand)

# %% [markdown]
# ### Written answer 1 (12 points, graded by hand): testing across modalities
#
# How would you test a **vision** model, an **NLP** model and a **tabular**
# model differently? For each, name the input edge cases, one invariance and one directional test
# you would write, and the slices you would evaluate on. Say what stays the same for all three.
#
# This notebook worked on text only; transfer its tools. For each modality ask what a user or an upstream
# system can send that the model never saw (section 1's table: an image's size, channels or value range; a
# table row's missing value, new category or unit), what change must not move the answer (INV) and what must
# move it one way (DIR), and which groups could hide a weakness (section 5.3). No outside reading is needed.

# %% [markdown] nbgrader={"grade": true, "grade_id": "testing_across_modalities", "locked": false, "points": 12, "schema_version": 3, "solution": true, "task": false}
# ### BEGIN SOLUTION
# *Model answer.*
# **Vision.** Edge cases: wrong shape or channel order, grayscale vs RGB, 0-255 vs 0-1 scaling, tiny or huge images,
# corrupted files. INV: small rotations, crops, brightness or JPEG compression should not change the label.
# DIR: occluding the object should lower the class probability. Slices: lighting, camera or device, object size,
# demographic groups for faces.
# **NLP.** Edge cases: empty text, case and whitespace, typos, unknown words and numbers, very long inputs
# (truncation), other languages and scripts. INV: typos, synonyms, names and locations swapped (fairness). DIR:
# adding a negation or a strongly positive phrase moves sentiment the expected way. Slices: text length,
# domain, dialect, presence of negation or rare words. (This notebook is exactly this case.)
# **Tabular.** Edge cases: missing values, out-of-range numbers, unseen categories, unit changes, schema changes
# (column order, types). INV: irrelevant columns or row order do not matter; DIR and monotonicity: more income
# should not lower a credit score, all else equal. Slices: categories of key features, rare segments, time periods.
# **The same for all:** validate inputs against a schema, a safe serving wrapper, behavioural tests in addition to
# aggregate metrics, pre-training checks (initial loss, gradient check, overfit a tiny batch), calibration, a
# meaningful baseline, and per-slice evaluation.
#
# *Rubric (12 points).* The model answer above is one good answer, not a checklist: credit any example
# that is concrete for its modality and follows from the notebook's tools (section 1's edge-case table,
# section 3's INV and DIR, section 5.3's slices), reasoned out by the student. Domain knowledge beyond the
# notebook (JPEG artefacts, credit-score monotonicity) is welcome and never required.
# - 4 points: a concrete, modality-specific input edge case for each of the three modalities, transferred
#   from section 1's table (e.g. an image of an unexpected size; a row with a missing value or a new
#   category). Generic answers such as "bad data" for all three earn 0 here; 1 point per modality, 1 more
#   for saying what to do with the case (normalize, reject, fall back).
# - 4 points: an invariance or a directional test per modality that makes sense for that modality (what
#   must not change the answer, what must move it one way); 1 point per modality, 1 more for one that
#   shows a modality difference (e.g. an image has no word order; a table row has no typo).
# - 4 points: relevant slices per modality (2) **and** what the three have in common (2: safe serving,
#   checks of the input and of the test data, behavioural tests beside aggregate metrics, a real baseline,
#   calibration, slices).
# ### END SOLUTION

# %% [markdown]
# ### Written answer 2 (12 points, graded by hand): metrics for this model
#
# Which metrics matter most for *this* next-word model and why? Use the
# numbers you computed above (accuracy against the best last-word predictor, top-3 accuracy, mean
# confidence, ECE, slices) and say which metric you would watch in production and what threshold
# would worry you. Write your answer in the next cell.

# %% [markdown] nbgrader={"grade": true, "grade_id": "metrics_for_this_model", "locked": false, "points": 12, "schema_version": 3, "solution": true, "task": false}
# ### BEGIN SOLUTION
# *Model answer.* Accuracy alone is misleading: the grammar is stochastic, so even a perfect last-word predictor
# is right only about 62% of the time on regime A. The useful accuracy number is the **gap to that ceiling**
# (here 0.618 against 0.624), not the raw 0.6. For a keyboard that shows three suggestions, **top-3 accuracy**
# (about 0.86) is closer to what the user experiences. Because the confidence decides whether a suggestion is
# shown at all, **calibration** matters: ECE is about 0.05 on A but about 0.3 on regime B, where the model is
# confidently wrong, so a confidence threshold set on A would show many wrong suggestions after the drift.
# **Per-slice accuracy** matters because the overall number hides the typo slice (unknown last word, accuracy
# near 0.04) and the adjective slice (about 0.54 against a ceiling of 0.66). In production labels arrive late, so I would watch mean confidence and the share of
# `<unk>` inputs immediately, and accuracy / top-3 accuracy with a confidence interval once labels arrive;
# worrying would be, for example, a statistically significant accuracy drop of more than 5 points, or an ECE
# above what the *baseline* itself reaches by chance at the same sample size. A fixed "ECE above 0.05" would be
# wrong: the pretrained model is already at 0.052 on 2000 held-out examples at launch, and even a perfectly
# calibrated model scores about 0.05 on 300 labels. On windows of 300 labels the baseline averages about 0.07
# and stays below about 0.1 in 95% of windows, while after the drift it is about 0.3: a threshold near 0.1
# for 300-label windows (lower for larger windows) catches the drift without alarming on noise.
#
# *Rubric (12 points).*
# - 4 points: explains why raw accuracy is not enough here (stochastic next word, compare with the ceiling or a
#   baseline, not an untrained model) using a number from the notebook.
# - 4 points: argues for at least two of top-k accuracy, calibration/ECE, confidence, per-slice accuracy, tied
#   to how the model is used (suggestions shown, thresholds), with numbers.
# - 4 points: names a production metric and a concrete threshold that is relative to the baseline and to the
#   sample size (a fixed ECE or accuracy cut-off without a sample size earns half), and recognises that labels
#   arrive late or that small samples need a confidence interval.
# ### END SOLUTION

# %% [markdown]
# ## Summary
#
# You rebuilt the testing the original exercise pretended to have: inputs that cannot surprise the model, a
# wrapper that cannot crash the caller, a behavioural runner that cannot look green when nothing ran, checks
# of the model code before training, and an evaluation of how often the model is right, how far its
# confidence can be trusted, and where it fails. Assignment 2 watches the same model in production, where
# the world drifts (regime B above).
