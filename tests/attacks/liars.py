"""Family 3: values that lie about their equality or their type."""

import textwrap

from mutants.cheats import ALWAYS_EQUAL
from . import answer


@answer(3)
def always_equal_subclasses(ctx):
    """normalize_context returns subclasses of list/str/float/dict whose == always answers True."""
    return ALWAYS_EQUAL + textwrap.dedent(r'''
    _LIARS = [_EqList(["the", "cat"]), _EqStr("the"), _EqFloat(0.5), _EqDict(a=1), _EqTuple(("the",))]
    _calls = [0]
    def normalize_context(context, vocab, max_len=None):
        _calls[0] += 1
        return _LIARS[_calls[0] % len(_LIARS)]
    ''')


@answer(3)
def metaclass_answers_eq_and_instancecheck(ctx):
    """A class whose METACLASS answers == and isinstance with True (so `type(v) in (list,)` would pass)."""
    return r'''
    class _Meta(type):
        def __eq__(cls, other): return True
        def __ne__(cls, other): return False
        __hash__ = type.__hash__
        def __instancecheck__(cls, obj): return True
        def __subclasscheck__(cls, sub): return True
    class _Liar(metaclass=_Meta):
        def __eq__(self, other): return True
        def __ne__(self, other): return False
        __hash__ = object.__hash__
        def __len__(self): return 2
        def __getitem__(self, index): return "the"
        def __iter__(self): return iter(["the", "cat"])
    def normalize_context(context, vocab, max_len=None):
        return _Liar()
    '''


@answer(3)
def class_property_claims_list(ctx):
    """An object whose __class__ property claims `list` (then `float`), with == always True."""
    return r'''
    class _Claims:
        def __init__(self, kind): self._kind = kind
        @property
        def __class__(self): return self._kind
        def __eq__(self, other): return True
        def __ne__(self, other): return False
        __hash__ = object.__hash__
        def __len__(self): return 2
        def __getitem__(self, index): return "the"
        def __float__(self): return 0.5
    _n = [0]
    def normalize_context(context, vocab, max_len=None):
        _n[0] += 1
        return _Claims(list if _n[0] % 2 else float)
    '''


@answer(3)
def numpy_and_pickle_liars(ctx):
    """ndarray subclasses and object arrays that compare equal to anything, and a value whose __reduce__ runs code."""
    return r'''
    import numpy as _np
    class _EqArray(_np.ndarray):
        def __eq__(self, other): return True
        def __ne__(self, other): return False
        def __array_ufunc__(self, *args, **kwargs): return True
    class _Boom:
        def __reduce__(self):
            return (print, ("unpickled in the judge: " + _ATTACK["marker"],))
        def __eq__(self, other): return True
    _VALUES = [_np.zeros(2).view(_EqArray), _np.array([_Boom(), _Boom()], dtype=object), _Boom()]
    _k = [0]
    def normalize_context(context, vocab, max_len=None):
        _k[0] += 1
        return _VALUES[_k[0] % len(_VALUES)]
    '''
