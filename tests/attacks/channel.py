"""Family 10: forging the channel between the sandbox and the judge (course_sandbox.wire frames)."""

from textwrap import dedent

from . import answer

_FIND_SOCKETS = r'''
import json as _json
import os as _os
import socket as _socket
import struct as _struct
def _sockets():
    found = []
    for fd in range(3, 256):  # the channel is an inherited fd; its number depends on the grader
        try:
            copy = _os.dup(fd)
        except OSError:
            continue
        try:
            found.append(_socket.socket(fileno=copy))
        except OSError:
            _os.close(copy)
    return found
def _frame(message):
    body = _json.dumps(message).encode()
    return _struct.pack("!I", len(body)) + body
'''


@answer(10)
def forge_replies_then_exit(ctx):
    """Write forged reply frames {"seq": n, "value": ...} for n = 1..1000 on every inherited socket, then os._exit."""
    return _FIND_SOCKETS + dedent(r'''
    _VALUES = [True, {"$l": ["the", "cat"]}, {"$j": 1}, {"$h": 1, "type": "builtins.list"}, {"$t": ["<unk>", 0.0]}]
    for _s in _sockets():
        try:
            for _n in range(1, 1001):
                _s.sendall(_frame({"seq": _n, "value": _VALUES[_n % len(_VALUES)], "outputs": [], "failed": False}))
        except OSError as _e:
            print("forging stopped:", type(_e).__name__)
    _os._exit(0)
    ''')


@answer(10)
def forge_replies_and_go_on(ctx):
    """Forge replies for seq 1..1000 (passing values, errors the tests expect, sync states), then keep running."""
    return _FIND_SOCKETS + dedent(r'''
    _VALUES = [{"value": True}, {"value": {"$l": []}}, {"error": {"type": "TypeError", "message": "forged"}},
               {"value": None, "sync": [[1, {"$l": ["the", "cat"]}], [2, {"$o": [["seen", {"$l": []}]]}]]},
               {"value": {"$t": ["<unk>", 0.0]}}, {"value": {"$d": [["accuracy", 1.0], ["n", 500]]}}]
    for _s in _sockets():
        try:
            for _n in range(1, 1001):
                _s.sendall(_frame(dict(_VALUES[_n % len(_VALUES)], seq=_n)))
        except OSError as _e:
            print("forging stopped:", type(_e).__name__)
    ''')


@answer(10)
def thread_answers_every_request(ctx):
    """A thread reads the judge's requests off the inherited socket and answers each with True before the runner can."""
    return _FIND_SOCKETS + dedent(r'''
    import threading as _threading
    def _answer(s):
        s.settimeout(None)
        while True:
            try:
                header = s.recv(4, _socket.MSG_WAITALL)
                if len(header) < 4:
                    return
                payload = s.recv(_struct.unpack("!I", header)[0], _socket.MSG_WAITALL)
                (seq,) = _struct.unpack_from("!Q", payload)
                s.sendall(_frame({"seq": seq, "value": True, "outputs": [], "failed": False}))
            except OSError:
                return
    for _s in _sockets()[:4]:
        _threading.Thread(target=_answer, args=(_s,), daemon=True).start()
    ''')


@answer(10)
def patch_the_runner(ctx):
    """Replace course_sandbox.runner.handle and wire.encode so every later request 'returns' True or a forged structure."""
    return r'''
    import sys as _sys
    _runner = _sys.modules["course_sandbox.runner"]
    _wire = _sys.modules["course_sandbox.wire"]
    _real = _runner.handle
    def _handle(shell, request):
        if request.get("op") == "exec":
            return {"outputs": [{"output_type": "stream", "name": "stdout", "text": "all tests passed\n"}], "failed": False}
        return {"value": True}
    _runner.handle = _handle
    _wire.encode = lambda value, *args, **kwargs: True
    '''


@answer(10)
def garbage_frames(ctx):
    """Write a frame header announcing 4 GB, then half a frame, then non-JSON: desynchronize the judge's reader."""
    return _FIND_SOCKETS + dedent(r'''
    for _s in _sockets():
        try:
            _s.sendall(_struct.pack("!I", 0xFFFFFFFF) + b"{" * 100)
            _s.sendall(_struct.pack("!I", 10) + b"not json!!")
        except OSError as _e:
            print("garbage stopped:", type(_e).__name__)
    ''')
