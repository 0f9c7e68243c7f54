"""The trusted judge on small hand-made notebooks, in the real sandbox: what comes back, what is shown, what a crash costs.

Each test builds a notebook of a few nbgrader cells (answer, plain, locked, test) and runs it with
``course_tools.grading.judge``. The attacks here are the ones a whole assignment hides in noise (issue 17,
items 3, 4 and 10): rewriting the judge's ground truth through an argument, reading back state the
judge never asked for, printing what hidden tests sent, and a crash or a loop costing more than the
tests that call it. The whole-notebook versions run in ``tests/test_attacks.py``.
"""

from __future__ import annotations

import json
import time

import nbformat
import pytest

from course_tools.grading.judge import MAX_RESTARTS, OUTPUT_HIDDEN_NOTE, Judge, Remote, answer_names
from course_tools.grading.sandbox import sandbox_status
from course_tools.notebooks.cells import cell_grade_id

OK, STATUS = sandbox_status()
pytestmark = pytest.mark.skipif(not OK, reason=f"!!! SANDBOX UNAVAILABLE, THE JUDGE IS UNTESTED !!! {STATUS}")

HIDDEN = "### BEGIN HIDDEN TESTS\n{}\n### END HIDDEN TESTS"


def cell(role: str, source: str, grade_id: str):
    meta = {"grade_id": grade_id, "schema_version": 3, "task": False,
            "grade": role == "test", "solution": role == "answer", "locked": role in ("locked", "test")}
    if role == "test":
        meta["points"] = 1
    return nbformat.v4.new_code_cell(source, metadata={"nbgrader": meta})


def notebook(*cells):
    return nbformat.v4.new_notebook(cells=list(cells))


def judge(cell_timeout: float = 20.0, notebook_timeout: float = 300.0) -> Judge:
    return Judge(sandboxed=True, cell_timeout=cell_timeout, notebook_timeout=notebook_timeout)


def run(nb, **kwargs):
    report = judge(**kwargs).run(nb, answer_names(nb))
    return {v.grade_id: v for v in report.verdicts}, report


def run_keeping_namespace(nb, **kwargs):
    """Run ``nb`` cell by cell in one session; the verdicts and the judge's namespace afterwards."""
    verdicts = {}
    with judge(**kwargs).session(answer_names(nb)) as session:
        for code in nb.cells:
            verdict = session.run_cell(code)
            if verdict is not None:
                verdicts[verdict.grade_id] = verdict
        return verdicts, dict(session.namespace)


# --------------------------------------------------------------------------- item 3: snapshots, copy-back on request

STREAM_SETUP = "from nextword.stream import ProductionStream\n"
CAPSTONE_TEST = """
_stream = ProductionStream(n_requests=60, seed=3)
_truth_before = list(_stream._truth)
_predictions = run_capstone(_stream)
_right = sum(p == _stream.true_next_word(r.request_id) for p, r in zip(_predictions, _stream.requests))
assert _right == len(_stream.requests), f"{_right} of {len(_stream.requests)} next words right"
"""


def test_rewriting_a_stream_s_truth_through_the_argument_scores_nothing_and_changes_nothing():
    """A fake run_capstone predicts one word everywhere and rewrites ``stream._truth`` to match (issue 17, item 3)."""
    cheat = ("def run_capstone(stream):\n"
             "    word = 'the'\n"
             "    stream._truth[:] = [word] * len(stream._truth)\n"
             "    stream.__dict__['_truth'] = [word] * len(stream._truth)\n"
             "    return [word] * len(stream.requests)\n")
    nb = notebook(cell("locked", STREAM_SETUP, "setup"), cell("answer", cheat, "run_capstone"),
                  cell("test", CAPSTONE_TEST, "test_capstone"))
    verdicts, namespace = run_keeping_namespace(nb)
    assert not verdicts["test_capstone"].passed
    assert namespace["_stream"]._truth == namespace["_truth_before"]
    assert len(set(namespace["_truth_before"])) > 1  # the fake's constant predictions cannot all be right


def test_an_honest_capstone_still_scores_on_a_stream_built_by_the_test():
    honest = ("def run_capstone(stream):\n"
              "    return [stream.true_next_word(r.request_id) for r in stream.requests]\n")
    nb = notebook(cell("locked", STREAM_SETUP, "setup"), cell("answer", honest, "run_capstone"),
                  cell("test", CAPSTONE_TEST, "test_capstone"))
    verdicts, _ = run(nb)
    assert verdicts["test_capstone"].passed, verdicts["test_capstone"].message


def test_nested_state_of_an_earlier_argument_never_comes_back_even_when_the_runner_is_patched():
    """The student keeps an earlier call's argument and, in a later call, rewrites its nested state and makes
    the runner send every twin's state back (the judge must only take what it asked for)."""
    answer = ("import course_sandbox.runner as _runner\n"
              "_kept = []\n"
              "def keep(table):\n"
              "    _kept.append(table)\n"
              "    return len(table)\n"
              "def poke(items):\n"
              "    _kept[0]['truth'][:] = ['forged']\n"
              "    _kept[0]['score'] = 100\n"
              "    items[0].append('nested')\n"
              "    _runner._sync = lambda tids: [[t, _runner.wire.encode_state(o, _runner._as_handle, _runner._judge_id)]\n"
              "                                  for t, o in list(_runner._TWINS.items())]\n"
              "    _kept[0]['truth'][:] = ['forged again']\n"
              "    return 0\n")
    test = ("_table = {'truth': ['a', 'b'], 'score': 0}\n"
            "keep(_table)\n"
            "_items = [['x'], 'y']\n"
            "poke(_items)\n"
            "poke([['z']])\n"
            "assert _table == {'truth': ['a', 'b'], 'score': 0}, _table\n"
            "assert _items == [['x'], 'y'], _items\n")
    nb = notebook(cell("answer", answer, "keep"), cell("test", test, "test_keep"))
    verdicts, namespace = run_keeping_namespace(nb)
    assert verdicts["test_keep"].passed, verdicts["test_keep"].message
    assert namespace["_table"] == {"truth": ["a", "b"], "score": 0}


SPY = """
class Spy:
    observed_attributes = ("seen", "_private")
    def __init__(self):
        self.seen, self._private, self.word = [], [], "cat"
    def predict(self, context):
        self.seen.append(list(context))
        return self.word
"""


def test_a_spy_reports_only_its_declared_public_attributes_and_a_private_write_is_dropped():
    answer = ("def ask(model, context):\n"
              "    answer = model.predict([w.lower() for w in context])\n"
              "    model._private.append('forged')\n"
              "    model.word = 'forged'\n"
              "    model.extra = 'forged'\n"
              "    return answer\n")
    test = ("_spy = Spy()\n"
            "assert ask(_spy, ['The', 'Cat']) == 'cat'\n"
            "assert _spy.seen == [['the', 'cat']], _spy.seen\n")
    nb = notebook(cell("locked", SPY, "spy"), cell("answer", answer, "ask"), cell("test", test, "test_ask"))
    verdicts, namespace = run_keeping_namespace(nb)
    assert verdicts["test_ask"].passed, verdicts["test_ask"].message
    spy = namespace["_spy"]
    assert (spy._private, spy.word, hasattr(spy, "extra")) == ([], "cat", False)


def test_a_spy_cannot_be_pointed_at_an_earlier_argument_to_write_into_it():
    """Two steps: the spy's observed list is rebound to the twin of an earlier call's nested list, then written."""
    answer = ("_kept = []\n"
              "def remember(table):\n"
              "    _kept.append(table['truth'])\n"
              "    return 0\n"
              "def ask(model, context):\n"
              "    if model.seen is _kept[0]:\n"
              "        model.seen[:] = ['forged']\n"
              "    model.seen = _kept[0]\n"
              "    return 'cat'\n")
    test = ("_table = {'truth': ['a', 'b']}\n"
            "remember(_table)\n"
            "_spy = Spy()\n"
            "ask(_spy, ['x'])\n"
            "ask(_spy, ['x'])\n"
            "assert _table == {'truth': ['a', 'b']}, _table\n")
    nb = notebook(cell("locked", SPY, "spy"), cell("answer", answer, "remember"), cell("test", test, "test_ask"))
    verdicts, namespace = run_keeping_namespace(nb)
    assert verdicts["test_ask"].passed, verdicts["test_ask"].message
    assert namespace["_table"] == {"truth": ["a", "b"]} and namespace["_spy"].seen == []


def test_a_test_can_observe_nested_parameters_it_declared_and_only_those():
    """``model.observed_attributes = ("params",)`` set by the test: the arrays inside ``params`` come back (a
    gradient check that does not restore them is caught); an undeclared model's arrays never change."""
    answer = ("def perturb(model):\n"
              "    model.params['w'][0] += 1.0\n"
              "    model.other['w'][0] += 1.0\n"
              "    return None\n")
    test = ("from nextword import NextWordModel, default_vocabulary\n"
            "_watched = NextWordModel(default_vocabulary(), seed=0)\n"
            "_watched.params, _watched.other = {'w': np.zeros(2)}, {'w': np.zeros(2)}\n"
            "_watched.observed_attributes = ('params',)\n"
            "_plain = NextWordModel(default_vocabulary(), seed=0)\n"
            "_plain.params = {'w': np.zeros(2)}\n"
            "_plain.other = {'w': np.zeros(2)}\n"
            "perturb(_watched)\n"
            "perturb(_plain)\n")
    nb = notebook(cell("locked", "import numpy as np\n", "imports"), cell("answer", answer, "perturb"),
                  cell("test", test, "test_perturb"))
    verdicts, namespace = run_keeping_namespace(nb)
    assert verdicts["test_perturb"].passed, verdicts["test_perturb"].message
    watched, plain = namespace["_watched"], namespace["_plain"]
    assert list(watched.params["w"]) == [1.0, 0.0] and list(watched.other["w"]) == [0.0, 0.0]
    assert list(plain.params["w"]) == [0.0, 0.0] and list(plain.other["w"]) == [0.0, 0.0]


def test_a_function_that_mutates_its_input_is_still_caught():
    """Copy-back of the call's own top-level containers keeps 'the input is never mutated' checks honest."""
    test = ("_context = ['The', 'Cat']\n"
            "normalize(_context)\n"
            "assert _context == ['The', 'Cat'], f'the input was mutated: {_context}'\n")
    mutating = "def normalize(context):\n    context[:] = [w.lower() for w in context]\n    return context\n"
    honest = "def normalize(context):\n    return [w.lower() for w in context]\n"
    verdicts, _ = run(notebook(cell("answer", mutating, "normalize"), cell("test", test, "test_normalize")))
    assert not verdicts["test_normalize"].passed
    assert "mutated" in verdicts["test_normalize"].message
    verdicts, _ = run(notebook(cell("answer", honest, "normalize"), cell("test", test, "test_normalize")))
    assert verdicts["test_normalize"].passed, verdicts["test_normalize"].message


def test_a_locked_fixture_passed_directly_never_takes_a_change():
    answer = "def spoil(vocab):\n    vocab[:] = ['forged']\n    return None\n"
    test = "spoil(WORDS)\nassert WORDS == ['a', 'b'], WORDS\n"
    nb = notebook(cell("locked", "WORDS = ['a', 'b']\n", "fixtures"), cell("answer", answer, "spoil"),
                  cell("test", test, "test_spoil"))
    verdicts, namespace = run_keeping_namespace(nb)
    assert verdicts["test_spoil"].passed and namespace["WORDS"] == ["a", "b"]


# --------------------------------------------------------------------------- item 4: no hidden input on the page

RECORDER = ("def score(text):\n"
            "    return len(text)\n"
            "_calls = []\n"
            "_real = score\n"
            "def score(text):\n"
            "    _calls.append(text)\n"
            "    return _real(text)\n")


def test_a_recorder_cannot_print_what_hidden_tests_sent():
    secret = "zebra-quartz-hidden-input"
    nb = notebook(
        cell("answer", RECORDER, "score"),
        cell("plain", "print('demo before any test:', score('visible demo'), _calls)", "demo_before"),
        cell("test", "assert score('abc') == 3\n" + HIDDEN.format(f"assert score({secret!r}) == {len(secret)}"),
             "test_score"),
        cell("answer", "print('recorded:', _calls)\nraise ValueError(repr(_calls))", "leak_answer"),
        cell("plain", "print(_calls)", "demo_after"))
    verdicts, report = run(nb)
    assert verdicts["test_score"].passed
    by_id = {cell_grade_id(c): c for c in nb.cells}
    assert "visible demo" in by_id["demo_before"].outputs[0]["text"]  # honest output before hidden tests shows
    shown = json.dumps([code.outputs for code in nb.cells])
    assert secret not in shown and "abc" not in shown.replace("visible demo", "")
    for grade_id in ("leak_answer", "demo_after"):
        assert [o.get("text") for o in by_id[grade_id].outputs] == [OUTPUT_HIDDEN_NOTE], by_id[grade_id].outputs


# --------------------------------------------------------------------------- item 10: a crash or a loop costs its tests

CRASHY = ("import os\n"
          "def crash(x):\n"
          "    os._exit(1)\n"
          "def double(x):\n"
          "    return 2 * x\n")


def test_a_crash_costs_only_the_tests_that_call_the_crashing_function():
    nb = notebook(
        cell("locked", "BASE = 21\n", "fixtures"),
        cell("answer", CRASHY, "crash"),
        cell("test", "assert double(BASE) == 42", "test_double_1"),
        cell("test", "crash(1)", "test_crash_1"),
        cell("test", "assert double(BASE) == 42", "test_double_2"),
        cell("test", "crash(2)", "test_crash_2"),
        cell("test", "assert double(4) == 8", "test_double_3"))
    started = time.monotonic()
    verdicts, report = run(nb)
    seconds = time.monotonic() - started
    assert {g: v.passed for g, v in verdicts.items()} == {
        "test_double_1": True, "test_crash_1": False, "test_double_2": True, "test_crash_2": False,
        "test_double_3": True}, report.notes
    assert "not called again" in verdicts["test_crash_2"].message  # no second restart for the same function
    assert any("ended during test test_crash_1" in note and "exited with status 1" in note for note in report.notes)
    assert any("restart 1 of" in note for note in report.notes), report.notes
    print(f"crash notebook graded in {seconds:.1f} s; notes: {report.notes}")


def test_a_crashing_demo_costs_nothing_and_test_crashes_get_capped_restarts():
    """A demo that ends the sandbox is replayed around (the plain cell the answers need is replayed, the demo not);
    test cells that end it get at most MAX_RESTARTS fresh sandboxes, then the rest fails saying why."""
    answer = "import os\n" + "".join(f"def crash_{i}():\n    os._exit(1)\n" for i in range(MAX_RESTARTS + 1)) \
        + "def double(x):\n    return SCALE * x\n"
    cells = [cell("plain", "SCALE = 2\n", "setup"), cell("answer", answer, "crash"),
             cell("plain", "print(double(1))\ncrash_0()", "demo_crash"),
             cell("test", "assert double(4) == 8", "test_double_early")]
    cells += [cell("test", f"crash_{i}()", f"test_crash_{i}") for i in range(MAX_RESTARTS + 1)]
    cells += [cell("test", "assert double(4) == 8", "test_double_late")]
    verdicts, report = run(notebook(*cells))
    assert verdicts["test_double_early"].passed, (verdicts["test_double_early"].message, report.notes)
    assert not verdicts["test_double_late"].passed
    assert f"restarted {MAX_RESTARTS} times already" in verdicts["test_double_late"].message, verdicts["test_double_late"].message
    assert sum(f"of at most {MAX_RESTARTS}" in note for note in report.notes) == MAX_RESTARTS, report.notes
    assert any("replayed 2 cell(s)" in note for note in report.notes), report.notes  # setup and the answer


def test_a_loop_costs_only_the_tests_that_call_the_looping_function():
    answer = ("def loop(x):\n"
              "    while True:\n"
              "        pass\n"
              "def stubborn(x):\n"
              "    while True:\n"
              "        try:\n"
              "            while True:\n"
              "                pass\n"
              "        except BaseException:\n"
              "            pass\n"
              "def double(x):\n"
              "    return 2 * x\n"
              "def careful(x):\n"
              "    try:\n"
              "        return loop(x)\n"
              "    except Exception:\n"
              "        return 'fallback'\n")
    nb = notebook(
        cell("answer", answer, "loop"),
        cell("test", "loop(1)", "test_loop_1"),
        cell("test", "loop(2)", "test_loop_2"),
        cell("test", "assert careful(1) == 'fallback'", "test_careful"),  # its own call of loop fails at once
        cell("test", "assert double(2) == 4", "test_double_1"),
        cell("test", "stubborn(1)", "test_stubborn_1"),
        cell("test", "stubborn(2)", "test_stubborn_2"),
        cell("test", "assert double(3) == 6", "test_double_2"))
    started = time.monotonic()
    # every cell that should pass takes microseconds, and budgets count CPU time (a busy host's waits do not
    # count): 3 s per cell leaves them a thousandfold margin and has each loop cost 3 s, not 10
    verdicts, report = run(nb, cell_timeout=3.0, notebook_timeout=120.0)
    seconds = time.monotonic() - started
    assert {g: v.passed for g, v in verdicts.items()} == {
        "test_loop_1": False, "test_loop_2": False, "test_careful": False, "test_double_1": True,
        "test_stubborn_1": False, "test_stubborn_2": False, "test_double_2": True}, report.notes
    assert "loop timed out earlier; not called again" in verdicts["test_loop_2"].message
    assert "not called again" in verdicts["test_stubborn_2"].message
    assert "loop timed out earlier" in verdicts["test_careful"].message, verdicts["test_careful"].message
    # two loops, each waiting out one cell (and the stubborn one its interrupt grace and a restart), not four:
    # the second calls are refused without running (the messages above), which no wall clock of a shared
    # machine could show reliably
    assert "not called again" not in verdicts["test_loop_1"].message + verdicts["test_stubborn_1"].message
    print(f"loop notebook graded in {seconds:.1f} s")


def test_an_infinite_loop_in_normalize_context_keeps_the_points_of_what_never_calls_it():
    """01 with the reference answers except a ``normalize_context`` that never returns (issue 17, item 10):
    gradient_check and expected_calibration_error keep all their points, within the notebook's budget.

    The loop waits out one cell's budget, so it is 5 s here rather than the course's 20 s: the reference's
    cells each need under 1 s of the sandbox's CPU time."""
    from pathlib import Path

    from course_tools.demo import sample_class
    from course_tools.notebooks.cells import cell_grade_id, cell_role, strip_solution_markers

    root = Path(__file__).resolve().parents[1]
    nb = nbformat.read(str(root / "source" / "01_testing" / "01_testing.ipynb"), as_version=4)
    release = nbformat.read(str(root / "release" / "01_testing" / "01_testing.ipynb"), as_version=4)
    for code in nb.cells:
        if cell_role(code) == "answer":
            code.source = strip_solution_markers(code.source)
            if cell_grade_id(code) == "normalize_context":
                code.source = sample_class.inject_into_body(code.source, "normalize_context", sample_class.LOOP_FOREVER)
    started = time.monotonic()
    report = Judge(sandboxed=True, cell_timeout=5.0, notebook_timeout=300.0).run(nb, answer_names(release))
    seconds = time.monotonic() - started
    passed = {v.grade_id: v.passed for v in report.verdicts}
    kept = {g: ok for g, ok in passed.items() if g.startswith(("test_gradient_check", "test_expected_calibration_error"))}
    assert len(kept) >= 2 and all(kept.values()), (kept, report.notes)
    assert not any(ok for g, ok in passed.items() if g.startswith("test_normalize_context"))
    assert any("timed out: normalize_context" in note for note in report.notes), report.notes
    print(f"01 with a looping normalize_context: {sum(passed.values())}/{len(passed)} test cells in {seconds:.1f} s")


# --------------------------------------------------------------------------- studies behind a button stay behind it

@pytest.mark.parametrize("sandboxed", [True, False], ids=["sandboxed", "unsandboxed demo"])
def test_grading_never_runs_a_going_further_study_even_when_the_grader_asked_for_them(monkeypatch, sandboxed):
    """COURSE_RUN_STUDIES=1 makes the reader's edition run every *Going further* study; set in the grader's own
    environment, it must still never reach the student's kernel: the sandbox builds that environment from scratch
    (sandboxed or, for ``make demo`` without bubblewrap, not), so a graded notebook only offers its studies."""
    from nextword.studies import NOT_RUN, RUN_STUDIES

    monkeypatch.setenv(RUN_STUDIES, "1")
    study = 'opt_in_study(lambda: print("THE STUDY RAN"), "a slow study", seconds=5)\n'
    nb = notebook(cell("locked", "import os\nfrom nextword import opt_in_study\n", "setup"),
                  cell("plain", "print(sorted(name for name in os.environ if name.startswith('COURSE')))\n", "environment"),
                  cell("plain", study, "study"),
                  cell("answer", "def double(x):\n    return 2 * x\n", "double"),
                  cell("test", "assert double(2) == 4", "test_double"))
    report = Judge(sandboxed=sandboxed, cell_timeout=20.0, notebook_timeout=300.0).run(nb, answer_names(nb))
    assert report.verdicts and all(v.passed for v in report.verdicts), [(v.grade_id, v.message) for v in report.verdicts]
    printed = {cell_grade_id(c): "".join(o.get("text", "") for o in c.outputs) for c in nb.cells}
    assert printed["environment"] == "[]\n", f"the student's kernel sees the grader's COURSE_* variables: {printed}"
    assert printed["study"].startswith(f"{NOT_RUN} (about 5 s): a slow study.") and "THE STUDY RAN" not in printed["study"]


def test_the_tests_checkpoint_puts_back_what_a_mutant_patched_in_the_sandbox():
    """tests/support/sandbox_checkpoint (the mutant harness's, not grading's): globals, numpy, math, builtins."""
    from support.sandbox_checkpoint import checkpoint, restore

    def value(session, expression):
        outputs = session.exec_student(f"print(repr({expression}))")
        return "".join(o.get("text", "") for o in outputs).strip()

    with judge().session(set()) as session:
        session.exec_student("import math, numpy\nkept = 1\n")
        before = [value(session, e) for e in ("kept", "math.pi", "numpy.mean([1, 3])", "abs(-2)")]
        checkpoint(session.remote)
        session.exec_student("import builtins\nkept = 2\nadded = 3\nmath.pi = 3\nnumpy.mean = lambda *a: 0\n"
                             "builtins.abs = lambda *a: -1\n")
        assert value(session, "kept") == "2" and value(session, "abs(-2)") == "-1"
        restore(session.remote)
        assert [value(session, e) for e in ("kept", "math.pi", "numpy.mean([1, 3])", "abs(-2)")] == before
        assert "NameError" in str(session.exec_student("added"))


# --------------------------------------------------------------------------- figures

def test_matplotlib_loads_when_the_notebook_imports_it_and_its_figures_show_inline():
    """A sandbox starts without Matplotlib (half a second of imports a notebook that never plots would pay);
    the notebook's own import brings it, and a figure then shows under its cell as in a kernel."""
    with Remote(sandboxed=True, cell_timeout=20.0) as remote:
        outputs, failed = remote.exec_cell("import sys\nprint(sorted(m for m in ('matplotlib', 'ipywidgets') "
                                           "if m in sys.modules))", 20.0)
        assert not failed and outputs[0]["text"] == "[]\n", outputs
        outputs, failed = remote.exec_cell("import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nprint('drawn')", 20.0)
        assert not failed, outputs
        assert [o["output_type"] for o in outputs] == ["stream", "display_data"], outputs
        assert outputs[1]["data"]["image/png"].startswith("iVBOR"), "a PNG, base64-encoded"
        outputs, failed = remote.exec_cell("figure, axes = plt.subplots()\nbars = axes.bar([0, 1], [2, 3])", 20.0)
        assert not failed and [o["output_type"] for o in outputs] == ["display_data"], outputs
