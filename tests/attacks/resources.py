"""Family 9: memory, output, processes, disk and time."""

from __future__ import annotations

import ast

from . import answer, answer_cells, notebook


@answer(9)
def allocate_8_gb(ctx):
    """Allocate 8 GB (bytearray and NumPy, touched), in the cell and in the function (at its first call)."""
    return r'''
    import numpy as _np
    def _hog():
        for make in (lambda: bytearray(8 * 1024**3), lambda: _np.ones(1024**3, dtype=_np.float64)):
            try:
                block = make()
                print("ATTACK-SUCCEEDED allocated", len(block))
            except MemoryError:
                print("MemoryError")
        hoard = []
        try:
            while True:
                hoard.append(bytearray(256 * 1024**2))
        except MemoryError:
            print("hoarded", len(hoard) * 256, "MB before MemoryError")
        hoard.clear()
    _hog()
    _hogged_in_a_call = []
    def normalize_context(context, vocab, max_len=None):
        if not _hogged_in_a_call:  # once: the cap is the same at every call, and each try zeroes up to 3 GB
            _hogged_in_a_call.append(True)
            _hog()
        raise NotImplementedError()
    '''


@answer(9)
def memory_in_four_children(ctx):
    """Four forked children of 1.5 GB each (written, so resident): each under the 3 GB per-process cap, 6 GB together."""
    # Each child holds its block for half the cell's budget, long enough for all four to hold theirs at once;
    # success is told as soon as the fourth holds, so the cell's time limit cannot be what stops the attack.
    return r'''
    import os as _os
    import time as _time
    _ready = _os.pipe()
    _kids = []
    for _i in range(4):
        _pid = _os.fork()
        if _pid == 0:
            _block = b"1" * (3 * 1024**3 // 2)
            _os.write(_ready[1], b"+")
            _time.sleep(_ATTACK["cell_timeout"] / 2)
            _os._exit(0)
        _kids.append(_pid)
    _os.close(_ready[1])
    _holding = 0
    while _holding < 4 and _os.read(_ready[0], 1) == b"+":
        _holding += 1
    print("children holding 1.5 GB at once:", _holding)
    if _holding == 4:
        print("ATTACK-SUCCEEDED held 6 GB in one sandbox")
    _ends = [_os.waitstatus_to_exitcode(_os.waitpid(_pid, 0)[1]) for _pid in _kids]
    print("children ended:", _ends)
    '''


@answer(9)
def print_40_mb(ctx):
    """Print 40 MB in the cell (one string and 10 000 small writes), display 200 outputs, and print 40 MB in the function."""
    return r'''
    import sys as _sys
    print("<b>x</b>" * 5_000_000)
    for _i in range(10_000):
        _sys.stdout.write("y" * 4_000 + "\n")
    for _i in range(200):
        display("z" * 200_000)
    def normalize_context(context, vocab, max_len=None):
        print("w" * 40_000_000)
        raise NotImplementedError()
    '''


@answer(9)
def display_large_raw_images(ctx):
    """display() raw 2 MB 'image/png' strings (a PNG signature, then junk), 15 in the cell and 15 in the function:
    once a 179 MB autograded notebook, unflagged (issue 17.6)."""
    return r'''
    import base64 as _b64
    _fake = _b64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 1_500_000).decode()
    for _i in range(15):
        display({"image/png": _fake, "text/plain": "<Figure>"}, raw=True)
    def normalize_context(context, vocab, max_len=None):
        for _i in range(15):
            display({"image/png": _fake, "text/plain": "<Figure>"}, raw=True)
        raise NotImplementedError()
    '''


@answer(9)
def fork_bomb(ctx):
    """Fork up to 500 children that sleep 60 s each (bounded), then carry on."""
    return r'''
    import os as _os
    import time as _time
    _children = []
    for _i in range(500):
        try:
            _pid = _os.fork()
        except OSError as _e:
            print("fork stopped after", len(_children), type(_e).__name__)
            break
        if _pid == 0:
            _time.sleep(60)
            _os._exit(0)
        _children.append(_pid)
    print("forked", len(_children))
    '''


@answer(9)
def fill_the_disk(ctx):
    """Write 1 GB to the working directory and to /dev/shm in 1 MB chunks."""
    return r'''
    for _p in ("/tmp/work/fill.bin", "/dev/shm/fill.bin", "/tmp/fill2.bin"):
        _written = 0
        try:
            with open(_p, "wb") as _f:
                for _i in range(1024):
                    _f.write(b"\0" * 1024**2)
                    _written += 1
        except BaseException as _e:
            print(_p, "stopped after", _written, "MB:", type(_e).__name__)
    '''


@answer(9)
def ignore_interrupt_and_spin(ctx):
    """Ignore SIGINT (and SIGTERM), then spin forever in the cell: only a kill can stop it."""
    return r'''
    import signal as _signal
    _signal.signal(_signal.SIGINT, _signal.SIG_IGN)
    _signal.signal(_signal.SIGTERM, _signal.SIG_IGN)
    while True:
        pass
    '''


@notebook(9, name="att_00_sleep_in_every_cell")
def sleep_in_every_cell(nb, ctx):
    """Sleep just under the cell's budget (1 s less) in every answer cell and at the start of every function, so every
    test waits and only the notebook's budget stops it (graded first: it is slow)."""
    pause = f"{ctx.cell_timeout - 1:g}"
    for cell in answer_cells(nb):
        tree = ast.parse(cell.source)
        lines = cell.source.splitlines()
        for node in sorted((n for n in tree.body if isinstance(n, ast.FunctionDef)), key=lambda n: -n.lineno):
            first = node.body[1] if isinstance(node.body[0], ast.Expr) and len(node.body) > 1 else node.body[0]
            lines.insert(first.lineno - 1, " " * first.col_offset + f"import time; time.sleep({pause})")
        cell.source = f"import time\ntime.sleep({pause})\n" + "\n".join(lines)
