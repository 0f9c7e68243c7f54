"""The grading guard's messages when the student's code raises inside a test (issue 19).

Not a bare ``IndexError: i`` or ``KeyError: "'k'"``: the call that raised with its inputs (abbreviated), what was
expected instead and, for an object under test, how it was made and the calls made on it so far. The notebooks'
own wrong implementations prove the same through the judge (``RAISING`` in tests/mutants/m02_monitoring.py).
"""

import pytest

from course_tools.notebooks.grading_guard import GUARD_SOURCE


@pytest.fixture()
def guard() -> dict:
    namespace: dict = {}
    exec(GUARD_SOURCE, namespace)
    return namespace


def test_a_raising_function_is_named_with_its_inputs_and_what_was_expected(guard):
    def last_of(words, count=2):
        return words[count + 10]

    checked = guard["expecting"](last_of, "the last `count` words (last_of's count)")
    with pytest.raises(AssertionError) as failure:
        checked(["the"] * 12, count=3)
    message = str(failure.value)
    assert message.startswith("last_of(['the', 'the', ")
    assert "..., count=3) raised IndexError: list index out of range" in message      # abbreviated, not 12 words
    assert message.endswith("; expected the last `count` words (last_of's count)")
    assert checked(list(range(20)), count=3) == 13                                      # values pass through


def test_a_missing_key_reads_as_the_key(guard):
    def reads(window):
        return window["accuracy"]

    def reads_as_the_judge_carries_it(window):
        raise KeyError("'accuracy'")               # the sandbox's KeyError arrives with the key as text

    for function in (reads, reads_as_the_judge_carries_it):
        with pytest.raises(AssertionError) as failure:
            guard["expecting"](function, "a float")({"n": 3})
        assert "raised KeyError: 'accuracy'; expected a float" in str(failure.value)


def test_an_object_under_test_shows_how_it_was_made_and_the_calls_so_far(guard):
    class Monitor:
        def __init__(self, window=500):
            self.window, self.records = window, []

        def record(self, value):
            self.records.append(value)

        def health(self):
            return sum(self.records) / len([r for r in self.records if r > 1])

    monitor = guard["expecting"](Monitor, "a health dict")(window=3)
    for value in range(8):
        monitor.record(value * 0.1)
    assert monitor.window == 3 and len(monitor.records) == 8                # attributes pass through
    with pytest.raises(AssertionError) as failure:
        monitor.health()
    message = str(failure.value)
    assert message.startswith("Monitor(window=3), after 2 earlier calls, then record(0.2")
    assert "record(0.7000000000000001): health() raised ZeroDivisionError: float division by zero; expected a health dict" \
        in message
    assert guard["calls_so_far"](monitor).startswith("Monitor(window=3), after 2 earlier calls")


def test_the_judges_own_signals_pass_as_they_are(guard):
    class StudentTimeout(Exception):
        pass

    def loops():
        raise StudentTimeout("interrupted")

    with pytest.raises(StudentTimeout):
        guard["expecting"](loops, "an answer")()
    with pytest.raises(StudentTimeout):
        with guard["explain_failures"]("behaviour", "an answer"):
            loops()


def test_a_test_that_trips_on_a_students_value_names_the_behaviour(guard):
    with pytest.raises(AssertionError) as failure:
        with guard["explain_failures"]("evaluate's k", "a dict with top_k_accuracy"):
            {"n": 1}["top_k_accuracy"]
    assert str(failure.value).startswith("evaluate's k: ")
    assert "raised KeyError: 'top_k_accuracy'; expected a dict with top_k_accuracy" in str(failure.value)
    with pytest.raises(AssertionError, match="^already explained$"):    # a check's own failure is not rewrapped
        with guard["explain_failures"]("evaluate's k", "a dict"):
            raise AssertionError("already explained")
