"""Save the sandbox's module state and put it back: for scoring many wrong implementations in one sandbox.

The course's own tests (``tests/notebook_harness.py``) run the reference notebook once, then each mutant in
the same sandbox; whatever a mutant patched (numpy, math, builtins, the notebook's globals, ``nextword``)
must be put back before the next. Grading never does this (one submission, one sandbox), so the production
runner (``course_sandbox.runner``) knows nothing of it: the saving and restoring run inside the sandbox as
an ordinary cell (``protocol.EXEC``), keeping their copy in a module of their own in ``sys.modules``, which
is itself never saved nor restored.
"""

from __future__ import annotations

_STATE_MODULE = "_course_tests_checkpoint"

# Runs inside the sandbox as one expression statement, so the cell binds no name of its own in the notebook's
# globals; ``ACTION`` is "save" or "restore".
_CODE = '''
import builtins, math, sys, types
import numpy, numpy.linalg, numpy.random, numpy.testing

def _modules():
    modules = [sys.modules["__main__"], builtins, math, numpy, numpy.testing, numpy.random, numpy.linalg]
    return modules + [m for name, m in sorted(sys.modules.items()) if name.startswith("nextword") and m is not None]

state = sys.modules.get(STATE_MODULE)
if state is None:
    state = sys.modules[STATE_MODULE] = types.ModuleType(STATE_MODULE)
if ACTION == "save":
    state.saved = [(module, dict(vars(module))) for module in _modules()]
else:
    for module, saved in state.saved:
        current = vars(module)
        for key in [k for k in current if k not in saved]:
            del current[key]
        current.update(saved)
'''


def _run(remote, action: str, timeout: float) -> None:
    source = f"exec({_CODE!r}, {{'STATE_MODULE': {_STATE_MODULE!r}, 'ACTION': {action!r}}})"
    outputs, failed = remote.exec_cell(source, timeout)
    if failed:
        raise RuntimeError(f"could not {action} the sandbox's state: {outputs}")


def checkpoint(remote, timeout: float = 60.0) -> None:
    """Save the state of the sandbox behind ``remote`` (a started ``course_tools.grading.judge.Remote``)."""
    _run(remote, "save", timeout)


def restore(remote, timeout: float = 60.0) -> None:
    """Put back the state ``checkpoint`` saved."""
    _run(remote, "restore", timeout)
