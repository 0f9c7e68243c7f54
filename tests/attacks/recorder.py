"""Family 12: record what hidden tests send the student's code, and print it where the feedback shows it."""

from . import answer_cells, notebook

RECORDED = "RECORDED-CALLS"


@notebook(12)
def print_hidden_inputs_later(nb, ctx):
    """Wrap normalize_context in a recorder of every call (returning a wrong list, so no test passes) and print
    the recorded hidden-test inputs in every later answer cell, on stdout, stderr, display() and an exception."""
    first, *later = answer_cells(nb)
    first.source += "\n\n" + ctx.header() + (
        "_RECORDED = []\n"
        "def normalize_context(context, *args, **kwargs):\n"
        "    _RECORDED.append((repr(context) + repr(args) + repr(kwargs))[:120])\n"
        "    context.append('x')  # a wrong answer that also mutates its input: no hidden test can pass\n"
        "    return list(context)\n")
    for cell in later:
        cell.source += "\n\n" + (
            "import sys as _sys\n"
            "from IPython.display import display as _display\n"
            "if _RECORDED:\n"
            f"    print('ATTACK-SUCCEEDED {RECORDED}', _RECORDED)\n"
            f"    print('ATTACK-SUCCEEDED {RECORDED}', _RECORDED, file=_sys.stderr)\n"
            f"    _display({{'text/plain': 'ATTACK-SUCCEEDED {RECORDED} ' + repr(_RECORDED)}}, raw=True)\n"
            f"    raise ValueError('ATTACK-SUCCEEDED {RECORDED} ' + repr(_RECORDED))\n")
