"""The two cheats every mutant corpus uses, as source code to prepend to a wrong implementation.

Every corpus names them the same way (``cheat_always_equal_<what it returns>`` and
``cheat_patched_comparisons``) and, across its graded names, returns every always-equal type,
so one check (``tests/assignment_checks.py``) covers all three assignments.
``ALWAYS_EQUAL`` defines subclasses of float, int, str, tuple, list and dict whose ``==`` always
answers True (an exact-type check must reject them); ``PATCH_COMPARISONS`` replaces NumPy's and
math's comparison functions by ones that always succeed (tests must use the grading guard's
references captured before student code ran).
"""

from textwrap import dedent

# Subclasses of the built-in types whose == always answers True (one per type the corpus uses).
ALWAYS_EQUAL = dedent('''
    class _EqFloat(float):
        def __eq__(self, other): return True
        def __ne__(self, other): return False
        def __lt__(self, other): return True
        def __gt__(self, other): return True
        def __le__(self, other): return True
        def __ge__(self, other): return True
        __hash__ = float.__hash__
    class _EqInt(int):
        def __eq__(self, other): return True
        def __ne__(self, other): return False
        def __gt__(self, other): return True
        def __ge__(self, other): return True
        __hash__ = int.__hash__
    class _EqStr(str):
        def __eq__(self, other): return True
        def __ne__(self, other): return False
        __hash__ = str.__hash__
    class _EqTuple(tuple):
        def __eq__(self, other): return True
        def __ne__(self, other): return False
        __hash__ = tuple.__hash__
    class _EqList(list):
        def __eq__(self, other): return True
        def __ne__(self, other): return False
    class _EqDict(dict):
        def __eq__(self, other): return True
        def __ne__(self, other): return False
''')

# Makes every comparison helper a test could look up at run time always succeed.
PATCH_COMPARISONS = dedent('''
    import math as _math
    import numpy as _np
    import numpy.testing as _npt
    _np.isclose = lambda *a, **k: _np.True_
    _np.allclose = lambda *a, **k: True
    _npt.assert_allclose = lambda *a, **k: None
    _npt.assert_almost_equal = lambda *a, **k: None
    _npt.assert_array_equal = lambda *a, **k: None
    _np.testing.assert_allclose = _npt.assert_allclose
    _np.testing.assert_almost_equal = _npt.assert_almost_equal
    _math.isclose = lambda *a, **k: True
''')

# What every corpus calls its cheats, per graded name.
ALWAYS_EQUAL_PREFIX = "cheat_always_equal_"
PATCHED = "cheat_patched_comparisons"
# The types ALWAYS_EQUAL defines; each corpus returns every one of them somewhere.
CHEAT_TYPES = ("_EqFloat", "_EqInt", "_EqStr", "_EqTuple", "_EqList", "_EqDict")


def always_equal(source: str) -> str:
    """``source`` (dedented) with the always-equal types defined before it."""
    return ALWAYS_EQUAL + dedent(source).strip() + "\n"


def patched_comparisons(wrong_source: str) -> str:
    """A wrong implementation that also makes every comparison helper succeed."""
    return PATCH_COMPARISONS + wrong_source
