"""Runs inside the sandbox: executes a notebook's cells and answers the judge's calls.

    python -m course_sandbox FD

``FD`` is the sandbox's end of a socket pair with the judge. Requests arrive
pickled (the judge is trusted, so unpickling here is fine); replies leave as
JSON plain data (``course_sandbox.wire``), because nothing here is trusted.

Objects the judge passes as arguments become *twins*: the judge's copy and
this one are brought into line at every call they take part in (in place, so
references that student code kept see the change). The state after the call
is sent back only for the twins the request lists in ``copy_back`` (the judge
decides what a test may observe and ignores anything else this side sends).
Objects created here reach the judge only as handles.
"""

from __future__ import annotations

import io
import os
import signal
import socket
import sys
import traceback
import types

import numpy as np

from course_sandbox import protocol, wire

MAX_OUTPUT_CHARS = 50_000
MAX_OUTPUTS_PER_CELL = 20
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"

# twin id -> object, and id(object) -> twin id, for objects the judge sent
_TWINS: dict[int, object] = {}
_TWIN_OF: dict[int, int] = {}
# handle id -> object created here and shown to the judge
_HANDLES: dict[int, object] = {}
_HANDLE_OF: dict[int, int] = {}
_MAIN = types.ModuleType("__main__")


# --------------------------------------------------------------------------- twins (called while unpickling)

def _register(tid: int, obj):
    _TWINS[tid] = obj
    _TWIN_OF[id(obj)] = tid
    return obj


def _existing(tid: int, kind):
    twin = _TWINS.get(tid)
    return twin if twin is not None and type(twin) is kind else None


def adopt_list(tid, items):
    twin = _existing(tid, list)
    if twin is None:
        return _register(tid, list(items))
    twin[:] = items
    return twin


def adopt_dict(tid, items):
    twin = _existing(tid, dict)
    if twin is None:
        return _register(tid, dict(items))
    twin.clear()
    twin.update(items)
    return twin


def adopt_set(tid, items):
    twin = _existing(tid, set)
    if twin is None:
        return _register(tid, set(items))
    twin.clear()
    twin.update(items)
    return twin


def adopt_array(tid, array):
    twin = _existing(tid, np.ndarray)
    if twin is None or twin.shape != array.shape or twin.dtype != array.dtype or not twin.flags.writeable:
        return _register(tid, array)
    twin[...] = array
    return twin


def adopt_object(tid, cls, attributes):
    twin = _existing(tid, cls)
    if twin is None:
        twin = object.__new__(cls)
        twin.__dict__.update(attributes)
        return _register(tid, twin)
    twin.__dict__.clear()
    twin.__dict__.update(attributes)
    return twin


def main_global(name):
    """A class or function the judge's notebook defined: the same-named one of this notebook."""
    return _MAIN.__dict__[name]


def handle_object(hid):
    return _HANDLES[hid]


# --------------------------------------------------------------------------- replies

def _as_handle(obj) -> int:
    hid = _HANDLE_OF.get(id(obj))
    if hid is not None and _HANDLES.get(hid) is obj:
        return hid
    hid = len(_HANDLES) + 1
    while hid in _HANDLES:
        hid += 1
    _HANDLES[hid] = obj
    _HANDLE_OF[id(obj)] = hid
    return hid


def _judge_id(obj):
    tid = _TWIN_OF.get(id(obj))
    return tid if tid is not None and _TWINS.get(tid) is obj else None


def _encode(value):
    return wire.encode(value, _as_handle, _judge_id)


def _sync(tids) -> list:
    states = []
    for tid in dict.fromkeys(tid for tid in tids if type(tid) is int and tid in _TWINS):
        state = wire.encode_state(_TWINS[tid], _as_handle, _judge_id)
        if state is not None:
            states.append([tid, state])
    return states


def _error(exc: BaseException) -> dict:
    builtin = next((k.__name__ for k in type(exc).__mro__ if k.__module__ == "builtins"), "Exception")
    try:
        message = str(exc)
    except BaseException:  # a student exception whose __str__ raises
        message = "(the exception's message could not be read)"
    return {"type": builtin, "name": type(exc).__name__[:100], "message": message[:2000]}


# --------------------------------------------------------------------------- running cells

def _shell():
    from IPython.core.interactiveshell import InteractiveShell

    # Figures show inline, as in a kernel, yet Matplotlib (half a second of imports) loads only when the
    # student's code imports it: matplotlib_inline, as the backend, then hooks itself into this shell.
    os.environ["MPLBACKEND"] = INLINE_BACKEND
    shell = InteractiveShell.instance(user_module=_MAIN)
    sys.modules["__main__"] = _MAIN
    return shell


def _plain_outputs(captured, result) -> list[dict]:
    outputs = []
    for name, text in (("stdout", captured.stdout), ("stderr", captured.stderr)):
        if text:
            if len(text) > MAX_OUTPUT_CHARS:
                text = text[:MAX_OUTPUT_CHARS] + f"\n... output truncated ({len(text)} characters)\n"
            outputs.append({"output_type": "stream", "name": name, "text": text})
    for output in captured.outputs[:MAX_OUTPUTS_PER_CELL]:
        data = {}
        if isinstance(output.data.get("image/png"), str):
            data["image/png"] = output.data["image/png"][:2_000_000]
        if isinstance(output.data.get("text/plain"), str):
            data["text/plain"] = output.data["text/plain"][:MAX_OUTPUT_CHARS]
        if data:
            outputs.append({"output_type": "display_data", "data": data, "metadata": {}})
    error = result.error_in_exec or result.error_before_exec
    if error is not None:
        lines = traceback.format_exception_only(type(error), error)
        outputs.append({"output_type": "error", "ename": type(error).__name__[:100],
                        "evalue": str(error)[:MAX_OUTPUT_CHARS], "traceback": [l.rstrip() for l in lines]})
    return outputs


def run_cell(shell, source: str) -> dict:
    from IPython.utils.capture import capture_output

    with capture_output() as captured:
        result = shell.run_cell(source, store_history=False, silent=False)
    return {"outputs": _plain_outputs(captured, result),
            "failed": result.error_in_exec is not None or result.error_before_exec is not None}


# --------------------------------------------------------------------------- requests

class StudentRaised(Exception):
    """Wraps what the student's code raised, to tell it apart from a failure of this runner's own machinery."""

    def __init__(self, error: BaseException):
        super().__init__()
        self.error = error


def _student(operation, *args, **kwargs):
    """Run one step of the student's code; whatever it raises is the student's answer, not a runner failure."""
    try:
        return operation(*args, **kwargs)
    except BaseException as exc:  # KeyboardInterrupt and SystemExit included: the judge reports them
        raise StudentRaised(exc) from None


def _target(request):
    kind, key = request["target"]
    return _MAIN.__dict__[key] if kind == "g" else _HANDLES[key]


def _iterate(target) -> list:
    items = []
    for item in target:
        items.append(item)
        if len(items) > wire.MAX_ITEMS:
            raise OverflowError("iterating this object never ends")
    return items


def handle(shell, request: dict) -> dict:
    op = request["op"]
    for hid in request.get("release", ()):
        obj = _HANDLES.pop(hid, None)
        if obj is not None:
            _HANDLE_OF.pop(id(obj), None)
    if op == protocol.EXEC:
        return run_cell(shell, request["source"])
    if op == protocol.CALL:
        target = _target(request)
        if request.get("attr") is not None:
            target = _student(getattr, target, request["attr"])
        value = _student(target, *request.get("args", ()), **request.get("kwargs", {}))
        return {"value": _encode(value)}
    if op == protocol.GETATTR:
        target = _target(request)
        value = _student(getattr, target, request["name"])
        if isinstance(value, types.MethodType) and value.__self__ is target:
            return {"method": True}
        return {"value": _encode(value)}
    if op == protocol.SETATTR:
        _student(setattr, _target(request), request["name"], request["value"])
        return {"value": None}
    if op == protocol.GETITEM:
        return {"value": _encode(_student(lambda t: t[request["key"]], _target(request)))}
    if op == protocol.SETITEM:
        _student(lambda t: t.__setitem__(request["key"], request["value"]), _target(request))
        return {"value": None}
    if op == protocol.LEN:
        return {"value": _encode(_student(len, _target(request)))}
    if op == protocol.BOOL:
        return {"value": _encode(_student(bool, _target(request)))}
    if op == protocol.CONTAINS:
        return {"value": _encode(_student(lambda t: request["item"] in t, _target(request)))}
    if op == protocol.ITER:
        return {"value": _encode(_student(_iterate, _target(request)))}
    if op == protocol.PING:
        return {"value": "pong"}
    raise ValueError(f"unknown request {op!r}")


def serve(sock) -> None:
    import pickle

    shell = _shell()
    while True:
        try:
            payload = wire.recv_frame(sock)
        except KeyboardInterrupt:
            continue
        except EOFError:
            return
        seq, copy_back = None, ()
        try:
            (seq,) = wire.SEQ.unpack_from(payload)
            request = pickle.loads(payload[wire.SEQ.size:])
            copy_back = request.get("copy_back", ())
            reply = handle(shell, request)
        except StudentRaised as raised:
            reply = {"error": {**_error(raised.error), "origin": "student"}}
        except BaseException as exc:  # the runner's own failure (a missing name, a released handle, ...)
            reply = {"error": {**_error(exc), "origin": "runner"}}
        try:
            if copy_back:
                reply["sync"] = _sync(copy_back)
            reply["seq"] = seq
            message = wire.dumps(reply)
        except BaseException as exc:
            message = wire.dumps({"seq": seq, "error": _error(exc)})
        while True:
            try:
                wire.send_frame(sock, message)
                break
            except KeyboardInterrupt:  # a late interrupt must not lose the reply
                continue


def main(argv: list[str]) -> int:
    fd = int(argv[1])
    sock = socket.socket(fileno=fd)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.stdin = io.StringIO()
    serve(sock)
    return 0


