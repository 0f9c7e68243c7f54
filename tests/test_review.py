"""The review scan flags tricks in answer cells and leaves honest solutions alone.

* a corpus of attack snippets, each flagged with the reason that names it;
* a corpus of honest snippets (numpy, math, collections, dataclasses, copy, itertools,
  isinstance/type checks, ordinary dunders), none flagged;
* the three reference notebooks and the honest sample-class students: no flags;
  the sample class's cheats (always-equal objects, os._exit): flagged.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from course_tools.course import load
from course_tools.demo import sample_class
from course_tools.grading import review
from course_tools.notebooks.cells import cell_grade_id, cell_role, is_locked

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = load(ROOT).names

# (snippet, substrings every one of which must appear among the reasons)
ATTACKS = [
    ("get_ipython().events.register('pre_run_cell', lambda info: get_ipython().displayhook('ok'))",
     ["get_ipython (IPython internals)", "events.register", ".displayhook"]),
    ("ip = get_ipython()\nip.input_transformers_post.append(lambda lines: ['pass\\n'])",
     ["get_ipython", ".input_transformers_post (IPython internals)"]),
    ("get_ipython().ast_transformers.append(Rewrite())", [".ast_transformers (IPython internals)"]),
    ("get_ipython().set_custom_exc((Exception,), lambda *a, **k: None)", [".set_custom_exc (IPython internals)"]),
    ("from IPython import get_ipython\nshell = get_ipython()", ["imports IPython (IPython internals)"]),
    ("get_ipython().user_ns['check_equal'] = lambda *a: None", [".user_ns (IPython internals)"]),
    ("import sys\nsys.displayhook = lambda value: None", ["sys.displayhook (IPython internals)"]),
    ("import sys\nframe = sys._getframe(1)\nframe.f_globals['check_equal'] = print",
     ["sys._getframe (frame/introspection tricks)", ".f_globals (frame/introspection tricks)"]),
    ("import inspect\ncaller = inspect.currentframe().f_back", ["imports inspect", ".f_back"]),
    ("import gc\nguards = [o for o in gc.get_referrers(len)]", ["imports gc (frame/introspection tricks)"]),
    ("import sys\nsys.settrace(lambda frame, event, arg: None)", ["sys.settrace (frame/introspection tricks)"]),
    ("import sys\nsys.modules['numpy'].isclose = lambda *a, **k: True",
     ["sys.modules (frame/introspection tricks)", "assigns sys.modules['numpy'].isclose (monkeypatching)"]),
    ("import ctypes\nctypes.memmove(0, 0, 0)", ["imports ctypes (frame/introspection tricks)"]),
    ("import builtins\nbuiltins.isinstance = lambda *a: True",
     ["imports builtins (builtins/dunder tricks)", "assigns builtins.isinstance (monkeypatching)"]),
    ("__builtins__.__dict__['type'] = lambda x: float", ["__builtins__ (builtins/dunder tricks)"]),
    ("def answer():\n    value = 0.5\n    value.__class__ = float\n    return value",
     ["assigns __class__ (builtins/dunder tricks)"]),
    ("class Meta(type):\n    def __eq__(cls, other):\n        return True\n    __hash__ = type.__hash__\n"
     "class Fake(metaclass=Meta):\n    pass",
     ["on Meta, a metaclass", "uses metaclass Meta that defines comparisons", "__eq__ that always returns True"]),
    ("class Close(float):\n    def __eq__(self, other):\n        return abs(float(self) - 0) < 1e9",
     ["defines __eq__ on Close, a subclass of float (builtins/dunder tricks)"]),
    ("import numpy as np\nclass Arr(np.ndarray):\n    def __bool__(self):\n        return True",
     ["a subclass of numpy.ndarray"]),
    ("class Anything:\n    @classmethod\n    def __subclasshook__(cls, C):\n        return True",
     ["defines __subclasshook__ in Anything (builtins/dunder tricks: fakes issubclass/isinstance)"]),
    ("class Liar(type):\n    def __instancecheck__(cls, obj):\n        return True", ["defines __instancecheck__"]),
    ("class Everything:\n    def __array_ufunc__(self, *args, **kwargs):\n        return True",
     ["defines __array_ufunc__ in Everything (builtins/dunder tricks: overrides NumPy functions)"]),
    ("class E:\n    __eq__ = lambda self, other: True", ["__eq__ that always returns True"]),
    ("exec('import os')", ["exec() (builtins/dunder tricks)"]),
    ("f = eval('lambda: 1')", ["eval() (builtins/dunder tricks)"]),
    ("code = compile('1', 'x', 'eval')", ["compile() (builtins/dunder tricks)"]),
    ("os_module = __import__('os')", ["__import__ (builtins/dunder tricks)"]),
    ("globals()['check_equal'] = lambda *a: None", ["globals() (builtins/dunder tricks)"]),
    ("fn = getattr(check_equal, '__globals__')", ["getattr(..., '__globals__') (frame/introspection tricks)"]),
    ("import threading\nthreading.Thread(target=print).start()", ["imports threading (threads/processes)"]),
    ("from multiprocessing import Process", ["imports multiprocessing (threads/processes)"]),
    ("import subprocess\nsubprocess.run(['cat', '/etc/passwd'])", ["imports subprocess (threads/processes)"]),
    ("import os\nif os.fork() == 0:\n    pass", ["os.fork (threads/processes)"]),
    ("import os\nos.system('cat ../source/*/*.ipynb')", ["os.system (threads/processes)"]),
    ("import os\nos.execv('/bin/sh', ['sh'])", ["os.execv (threads/processes)"]),
    ("def f(x):\n    import os\n    os._exit(1)", ["os._exit (threads/processes)"]),
    ("from os import system as s\ns('ls')", ["os.system"]),
    ("import signal\nsignal.signal(signal.SIGALRM, print)", ["imports signal (threads/processes)"]),
    ("with open('../source/01_testing/01_testing.ipynb') as f:\n    print(f.read())", ["open() (file access)"]),
    ("from pathlib import Path\nprint(Path('gradebook.db').read_bytes())",
     ["imports pathlib (file access)", ".read_bytes (file access)"]),
    ("import os\nos.remove('gradebook.db')", ["os.remove (file access)"]),
    ("import os as o\ntoken = o.environ['HOME']", ["os.environ (file access)"]),
    ("import shutil\nshutil.rmtree('../submitted')", ["imports shutil (file access)"]),
    ("import numpy as np\nsecret = np.load('answers.npy')", ["np.load (file access)"]),
    ("import socket\nsocket.create_connection(('example.com', 80))", ["imports socket (network access)"]),
    ("from urllib.request import urlopen\nurlopen('http://example.com')", ["imports urllib.request (network access)"]),
    ("import http.client", ["imports http.client (network access)"]),
    ("import requests\nrequests.get('http://example.com')", ["imports requests (network access)"]),
    ("np.isclose = lambda *a, **k: True", ["assigns np.isclose (monkeypatching)"]),
    ("import math\nmath.isclose = lambda *a, **k: True", ["assigns math.isclose (monkeypatching)"]),
    ("np.testing.assert_allclose = lambda *a, **k: None", ["assigns np.testing.assert_allclose (monkeypatching)"]),
    ("import numpy as n2\ndel n2.allclose", ["deletes n2.allclose (monkeypatching)"]),
    ("import nextword\nnextword.model.BigramModel.predict = lambda self, *a: 'the'",
     ["assigns nextword.model.BigramModel.predict (monkeypatching)"]),
    ("from nextword.model import BigramModel\nBigramModel.predict = lambda self, *a: 'the'",
     ["assigns BigramModel.predict (monkeypatching)"]),
    ("setattr(np, 'allclose', lambda *a, **k: True)", ["calls setattr(np, ...) (monkeypatching)"]),
    ("vars(math)['isclose'] = lambda *a, **k: True", ["vars(math) (monkeypatching)"]),
    ("import sys, os\nsys.stdout = open(os.devnull, 'w')", ["assigns sys.stdout (monkeypatching)"]),
    ("from unittest import mock\nmock.patch('numpy.isclose', return_value=True).start()",
     ["imports unittest (monkeypatching)"]),
    ("!cat ../source/*/*.ipynb", ["a ! shell command (threads/processes)"]),
    ("%%bash\ncat /etc/passwd", ["the %%bash magic (IPython internals)"]),
    ("%run ../source/01_testing/solution.py", ["the %run magic (IPython internals)"]),
    ("%time leaked = open('/etc/passwd').read()", ["open() (file access)"]),
    ("exit()", ["exit() (ends the kernel)"]),
    ("EqFloat = type('EqFloat', (float,), {'__eq__': lambda self, other: True})",
     ["type(name, bases, namespace)"]),
    ("class Plain(float):\n    pass\nPlain.__eq__ = lambda self, other: True", ["assigns __eq__ (builtins/dunder tricks)"]),
    ("import os\nrun = getattr(os, 'system')", ["os.system (threads/processes)"]),
    ("import numpy as np\nnp.__dict__['isclose'] = print", ["np.__dict__ (monkeypatching)"]),
    ("leak = ().__class__.__base__.__subclasses__()", [".__subclasses__ (frame/introspection tricks)"]),
    # issue 17.9: what a name-based scan missed
    ("import os\npid = getattr(os, 'fo' + 'rk')()", ["os.fork (threads/processes)"]),
    ("import os\ngetattr(os, '_ex' 'it')(0)", ["os._exit (threads/processes)"]),
    ("import os\nname = ''.join(['fo', 'rk'])\ngetattr(os, name)()",
     ["getattr(os, name) (an attribute chosen at run time)"]),
    ("import numpy as np\nsetattr(np, chr(105) + 'sclose', lambda *a, **k: True)",
     ["an attribute chosen at run time"]),
    ("display({'image/png': 'A' * 2_000_000, 'text/plain': 'x'}, raw=True)",
     ["display() of a raw MIME bundle (raw output bundles)"]),
    ("from IPython.display import publish_display_data\npublish_display_data({'text/html': '<b>ok</b>'})",
     ["publish_display_data() of a raw MIME bundle"]),
    ("display(dict(data='x'), raw=1)", ["display() of a raw MIME bundle"]),
    ("def normalize_context(context, max_len):\n    return list(context)[-max_len:]\n"
     "def recorder(f):\n    def wrapper(*args):\n        print(args)\n        return f(*args)\n    return wrapper\n"
     "normalize_context = recorder(normalize_context)",
     ["rebinds the graded name normalize_context after its definition (a wrapper of a graded name)"]),
    ("import functools\n@functools.lru_cache(maxsize=None)\ndef evaluate(model, cases):\n    return 1.0",
     ["decorates the graded name evaluate with @functools.lru_cache(maxsize=None) (a wrapper of a graded name)"]),
    ("def run_capstone(stream, registry):\n    stream._truth[:] = ['the'] * len(stream._truth)\n    return []",
     ["assigns stream._truth[:], private state of an argument (writes into an argument)"]),
    ("def run_capstone(stream, registry):\n    registry._versions = {}\n    return []",
     ["assigns registry._versions, private state of an argument (writes into an argument)"]),
    ("def tamper(stream):\n    setattr(stream, 'truth', [])", ["calls setattr(stream, ...) on an argument"]),
]

HONEST = [
    "import numpy as np\n\ndef fraction_close(x, y):\n    return float(np.mean(np.isclose(x, y)))",
    "import math\n\ndef entropy(p):\n    return -sum(q * math.log(q) for q in p if q > 0)",
    "from collections import Counter, defaultdict, deque\n\ndef counts(tokens):\n    c = Counter(tokens)\n"
    "    last = deque(maxlen=3)\n    by_len = defaultdict(list)\n    for t in tokens:\n        by_len[len(t)].append(t)\n"
    "        last.append(t)\n    return c, dict(by_len), list(last)",
    "from dataclasses import dataclass, field\n\n@dataclass\nclass Config:\n    lr: float = 0.1\n"
    "    tags: list = field(default_factory=list)",
    "import copy\n\ndef snapshot(model):\n    return copy.deepcopy(model)\n\ndef shallow(d):\n    return copy.copy(d)",
    "import itertools\n\npairs = list(itertools.combinations(range(4), 2))\n"
    "chunks = [list(g) for _, g in itertools.groupby('aabbc')]",
    "class Window:\n    def __init__(self, size):\n        self.size = size\n        self.items = []\n\n"
    "    def __len__(self):\n        return len(self.items)\n\n    def __repr__(self):\n"
    "        return f'Window(size={self.size}, items={self.items!r})'\n\n    def __iter__(self):\n"
    "        return iter(self.items)",
    "def check(x):\n    if not isinstance(x, (int, float)) or type(x) is bool:\n"
    "        raise TypeError(f'x must be a number, got {type(x).__name__}')\n    return x",
    "class Point:\n    def __init__(self, x, y):\n        self.x, self.y = x, y\n\n    def __eq__(self, other):\n"
    "        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)\n\n"
    "    def __hash__(self):\n        return hash((self.x, self.y))",
    "import re\n\nWORD = re.compile(r'\\w+')\n\ndef words(text):\n    return WORD.findall(text.lower())",
    "class Log:\n    def __init__(self):\n        self.events = []\n        self.open = True\n\n"
    "    def record(self, event):\n        self.events.append(event)",
    "import numpy as np\n\ndef sample(n, rng=None):\n    rng = rng if rng is not None else np.random.default_rng(0)\n"
    "    return rng.choice(n, size=3, replace=False)",
    "import warnings\n\ndef slow():\n    warnings.warn('this is slow', UserWarning)\n    return 1",
    "from enum import Enum\n\nclass Level(Enum):\n    LOW = 1\n    HIGH = 2",
    "def top(d, k):\n    return sorted(d.items(), key=lambda kv: (-kv[1], kv[0]))[:k]",
    "%timeit sum(range(10))",
    "def rolled(model, history):\n    model.history = list(history)\n    state = {'open': 1, 'exec': 2}\n"
    "    return model, state['open']",
    "import numpy as np\n\ndef normalise(v):\n    v = np.asarray(v, dtype=float)\n    total = v.sum()\n"
    "    return v / total if total else np.full_like(v, 1 / len(v))",
    "class Stats:\n    __slots__ = ('n', 'mean')\n\n    def __init__(self):\n        self.n, self.mean = 0, 0.0\n\n"
    "    def __contains__(self, x):\n        return False\n\n    def __getitem__(self, i):\n        return (self.n, self.mean)[i]",
    "def broken(:\n    pass",  # a syntax error: reported by the grader, not here
    # near the issue 17.9 rules, and honest
    "def summary(stats, keys):\n    return {k: getattr(stats, k) for k in keys}",  # a computed name, not on a module
    "from dataclasses import dataclass\n\n@dataclass\nclass Gate:\n    margin: float = 0.0\n\n"
    "    def decide(self, a, b):\n        return a - b >= self.margin",
    "class Registry:\n    def __init__(self):\n        self._versions = {}\n\n    def add(self, name, model):\n"
    "        self._versions[name] = model\n        return self",
    "import functools\n\n@functools.lru_cache(maxsize=None)\ndef _helper(n):\n    return n * 2\n\n"
    "def graded(n):\n    return _helper(n)",
    "def fill(buffer, value):\n    buffer[:] = [value] * len(buffer)\n    return buffer",
    "print({'a': 1})\ndisplay('plain text')",
]


@pytest.mark.parametrize("source,expected", ATTACKS, ids=[f"attack{i:02d}" for i in range(len(ATTACKS))])
def test_attack_is_flagged_with_its_reason(source, expected):
    findings = review.scan_source(source, "cell_x")
    reasons = [f.reason for f in findings]
    assert findings, f"not flagged:\n{source}"
    for text in expected:
        assert any(text in reason for reason in reasons), (text, reasons)
    assert all(f.grade_id == "cell_x" and 1 <= f.line <= source.count("\n") + 1 for f in findings)


def test_attack_corpus_is_broad():
    assert len(ATTACKS) >= 15 and len(HONEST) >= 10
    families = {reason.rsplit("(", 1)[1].split(")")[0].split(":")[0]
                for _, expected in ATTACKS for reason in expected if reason.endswith(")")}
    assert {review.IPY, review.FRAME, review.DUNDER, review.PROC, review.FILES, review.NET, review.PATCH} <= families


@pytest.mark.parametrize("source", HONEST, ids=[f"honest{i:02d}" for i in range(len(HONEST))])
def test_honest_code_is_not_flagged(source):
    assert review.scan_source(source, "cell_y") == []


def test_lines_point_at_the_trick():
    source = "import numpy as np\n\n\ndef f(x):\n    return np.mean(x)\n\nnp.isclose = f\n"
    assert review.scan_source(source, "f") == [review.Finding("f", 7, "assigns np.isclose (monkeypatching)")]


def test_summary_is_one_line_with_cells_and_lines():
    findings = [review.Finding("x", 3, "uses get_ipython (IPython internals)"),
                review.Finding("y", 1, "uses open() (file access)")]
    assert review.summarize(findings) == "flagged for review: get_ipython (cell x, line 3); open() (cell y, line 1)"
    assert review.summarize([]) == ""
    many = [review.Finding("z", n, "uses eval() (builtins/dunder tricks)") for n in range(1, 12)]
    summary = review.summarize(many)
    assert "\n" not in summary and summary.endswith("; and 3 more")


# --------------------------------------------------------------------------- notebooks

def _release(assignment: str):
    return nbformat.read(str(ROOT / "release" / assignment / f"{assignment}.ipynb"), as_version=4)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reference_solutions_are_not_flagged(assignment):
    nb = nbformat.read(str(ROOT / "source" / assignment / f"{assignment}.ipynb"), as_version=4)
    assert any(cell_role(c) == "answer" for c in nb.cells)
    assert review.scan_notebook(nb) == []
    assert review.scan_notebook(nb, release=_release(assignment)) == []


def test_only_answer_cells_are_scanned_and_course_helpers_are_protected():
    nb = _release(ASSIGNMENTS[0])
    guard = next(c for c in nb.cells if "check_equal" in c.source and is_locked(c))
    assert "import builtins" in guard.source and review.scan_notebook(nb) == []  # locked cells are not answers
    answer = next(c for c in nb.cells if cell_role(c) == "answer")
    answer.source = "def check_equal(*args, **kwargs):\n    pass\n"
    findings = review.scan_notebook(nb)
    assert [f.reason for f in findings] == ["redefines check_equal (monkeypatching of the course's own helpers)"]
    assert findings[0].grade_id == cell_grade_id(answer)
    # a submission that clears its answer cell's solution flag is still scanned against the release
    answer.metadata.nbgrader["solution"] = False
    assert review.scan_notebook(nb) == []
    assert review.scan_notebook(nb, release=_release(ASSIGNMENTS[0])) == findings


@pytest.fixture(scope="module")
def sample_submissions(tmp_path_factory):
    course = tmp_path_factory.mktemp("sample_class")
    shutil.copytree(ROOT / "release", course / "release")
    sample_class.write_class(course, ROOT, list(ASSIGNMENTS), progress=None)
    return {(student, assignment): nbformat.read(
        str(course / "submitted" / student / assignment / f"{assignment}.ipynb"), as_version=4)
        for student in sample_class.STUDENTS for assignment in ASSIGNMENTS}


def test_sample_class_flags_exactly_the_cheats(sample_submissions):
    crash_assignment, crash_name = sample_class.crash_target(sample_class.read_course(ROOT, list(ASSIGNMENTS)))
    flagged = {}
    for (student, assignment), nb in sample_submissions.items():
        findings = review.scan_notebook(nb, release=_release(assignment))
        assert findings == review.scan_notebook(nb)  # the sample class does not flip flags
        if findings:
            flagged[(student, assignment)] = review.summarize(findings)
    for student in ("perfect", "partial", "blank", "honest_warnings", "stopped_early", "deleted_tests"):
        assert not [key for key in flagged if key[0] == student], flagged
    for assignment in ASSIGNMENTS:
        assert "always returns True" in flagged[("always_equal_cheat", assignment)]
        assert "subclass of float" in flagged[("always_equal_cheat", assignment)]
    assert f"os._exit (cell {crash_name}" in flagged[("kernel_crash", crash_assignment)]
    assert set(flagged) == {("always_equal_cheat", a) for a in ASSIGNMENTS} | {("kernel_crash", crash_assignment)}
