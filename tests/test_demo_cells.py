"""The course without its demonstrations (``support.demo_cells``): only plain cells no later cell needs are emptied."""

from pathlib import Path

import nbformat
import pytest

from course_tools.notebooks.cells import cell_role
from support.demo_cells import EMPTIED, bound_names, drop_unused_imports, empty_demo_cells

ROOT = Path(__file__).resolve().parents[1]


FLAGS = {"test": {"grade": True, "locked": True, "points": 1, "solution": False},
         "answer": {"grade": False, "locked": False, "solution": True},
         "locked": {"grade": False, "locked": True, "solution": False}}


def _cell(source: str, role: str = "plain"):
    cell = nbformat.v4.new_code_cell(source)
    if role != "plain":
        cell.metadata["nbgrader"] = {**FLAGS[role], "grade_id": f"{role}_{len(source)}", "schema_version": 3,
                                     "task": False}
        assert cell_role(cell) == role
    return cell


def test_bound_names_are_the_top_level_bindings_only():
    source = ("import numpy as np\nimport os.path\nfrom math import sqrt as root\na, (b, c) = 1, (2, 3)\n"
              "for i in range(2):\n    total = i\nwith open('x') as handle:\n    pass\n"
              "def f(x):\n    inner = x\nclass K:\n    attribute = 1\nsquares = [n * n for n in range(3)]\n"
              "if (w := 4):\n    del w\n")
    assert bound_names(source) == {"np", "os", "root", "a", "b", "c", "i", "total", "handle", "f", "K", "squares",
                                   "n", "w"}
    assert bound_names("def broken(:\n") is None


def test_a_plain_cell_is_kept_when_a_later_cell_reads_what_it_binds():
    nb = nbformat.v4.new_notebook(cells=[
        _cell("data = [1, 2]"),                          # read by the test: kept
        _cell("print(data)"),                            # binds nothing: emptied
        _cell("import numpy as np"),                     # read by a later plain cell that is kept: kept
        _cell("half = np.asarray(data) / 2"),            # read by the test: kept
        _cell("figure = draw(half"),                     # does not parse: kept
        _cell("model.weights = None"),                   # binds nothing, reads names: emptied
        _cell("assert len(data) == 2 and half.sum() == 1.5", role="test"),
        _cell("unused = sorted(data)"),                  # after every test: emptied
        _cell("def spare():\n    pass", role="answer"),   # nothing reads it, but it is the student's: kept
        _cell("LIMIT = 3", role="locked"),               # nothing reads it, but it is the course's: kept
    ])
    assert empty_demo_cells(nb) == 3
    kept = [cell.source != EMPTIED for cell in nb.cells]
    assert kept == [True, False, True, True, True, False, True, False, True, True]


def test_01_keeps_every_cell_in_place_and_every_graded_answer_and_locked_cell_as_it_was():
    path = ROOT / "source" / "01_testing" / "01_testing.ipynb"
    before = nbformat.read(str(path), as_version=4)
    after = nbformat.read(str(path), as_version=4)
    emptied = empty_demo_cells(after)
    assert emptied >= 10, "01's demonstrations are what makes its grading slow"
    assert [c.get("id") for c in after.cells] == [c.get("id") for c in before.cells]
    for old, new in zip(before.cells, after.cells):
        assert new.metadata == old.metadata and new.cell_type == old.cell_type
        if new.source != old.source:
            assert cell_role(old) == "plain" and new.source == EMPTIED, old.source[:80]
    assert sum(c.source == EMPTIED for c in after.cells) == emptied


@pytest.mark.parametrize("role", ["answer", "locked", "test"])
def test_no_cell_with_an_nbgrader_role_is_ever_emptied(role):
    path = ROOT / "source" / "01_testing" / "01_testing.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    empty_demo_cells(nb)
    cells = [c for c in nb.cells if c.cell_type == "code" and cell_role(c) == role]
    assert cells and not any(c.source == EMPTIED for c in cells)


def test_imports_nothing_reads_leave_plain_and_locked_cells_and_nothing_else():
    nb = nbformat.v4.new_notebook(cells=[
        _cell("import math\nimport numpy as np\nimport matplotlib.pyplot as plt\n"
              "from os import (path,\n                sep)\nimport json, csv\nSEP = sep", role="locked"),
        _cell("import ipywidgets as widgets\nhalf = np.ones(2) / 2", role="plain"),
        _cell("import matplotlib.pyplot as plt\ndef area(r):\n    return math.pi * r * r", role="answer"),
        _cell("import statistics\nassert area(1) > 3 and json", role="test"),
    ])
    removed = drop_unused_imports(nb)
    assert removed == ["import ipywidgets as widgets", "import matplotlib.pyplot as plt"]
    assert nb.cells[0].source == ("import math\nimport numpy as np\n"
                                  "from os import (path,\n                sep)\nimport json, csv\nSEP = sep")
    assert nb.cells[1].source == "half = np.ones(2) / 2"
    assert nb.cells[2].source.startswith("import matplotlib.pyplot as plt")  # the student's: never edited
    assert nb.cells[3].source.startswith("import statistics")                 # a test: never edited


def test_01_without_demonstrations_never_loads_matplotlib_or_ipywidgets():
    path = ROOT / "source" / "01_testing" / "01_testing.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    empty_demo_cells(nb)
    removed = drop_unused_imports(nb)
    assert "import matplotlib.pyplot as plt" in removed and "import ipywidgets as widgets" in removed
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code" and cell_role(c) != "answer")
    assert "matplotlib" not in code and "ipywidgets" not in code
