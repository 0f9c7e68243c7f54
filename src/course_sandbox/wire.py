"""Plain data on the wire between the sandbox and the judge.

The sandbox speaks JSON, and only JSON, to the judge: ``encode`` turns a value
into JSON-ready plain data, and ``decode`` (run by the judge) builds only
builtin values and NumPy arrays of plain dtypes back from it. Anything else a
student's code hands over becomes a *handle* (``{"$h": id}``): a number the
judge can use to ask the sandbox about that object later, never the object.
Objects the judge itself sent travel back as ``{"$j": id}`` so identity
survives a round trip.

Tags (a JSON object is always a tagged value, never a plain dict):
``$f`` non-finite float, ``$t`` tuple, ``$l`` list, ``$d`` dict as pairs,
``$s`` set, ``$fs`` frozenset, ``$b`` bytes, ``$nd`` ndarray, ``$ns`` NumPy
scalar, ``$h`` handle, ``$j`` judge object, ``$o`` an object's attributes
(only in state sent back for judge objects).
"""

from __future__ import annotations

import base64
import json
import math
import struct

import numpy as np

FRAME_HEADER = struct.Struct("!I")
SEQ = struct.Struct("!Q")  # the judge's request number, ahead of each request's pickle
MAX_FRAME = 32 * 1024 * 1024
MAX_DEPTH = 64
MAX_ITEMS = 2_000_000
# dtypes whose bytes are plain numbers: nothing the judge decodes can run code
PLAIN_DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                "float16", "float32", "float64", "complex64", "complex128"}


class WireError(Exception):
    """A frame or a value that is not plain data (too big, too deep, badly tagged).

    Deliberately not a ValueError: a test that expects the student's code to raise ValueError must
    never be satisfied by a reply the judge refused to read.
    """


# --------------------------------------------------------------------------- frames

def send_frame(sock, payload: bytes) -> None:
    if len(payload) > MAX_FRAME:
        raise WireError(f"message of {len(payload)} bytes is over the {MAX_FRAME}-byte limit")
    sock.sendall(FRAME_HEADER.pack(len(payload)) + payload)


def _recv_exactly(sock, size: int) -> bytes:
    chunks, remaining = [], size
    while remaining:
        chunk = sock.recv(min(remaining, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def recv_frame(sock, max_bytes: int = MAX_FRAME) -> bytes:
    (size,) = FRAME_HEADER.unpack(_recv_exactly(sock, FRAME_HEADER.size))
    if size > max_bytes:
        raise WireError(f"message of {size} bytes is over the {max_bytes}-byte limit")
    return _recv_exactly(sock, size)


# --------------------------------------------------------------------------- sandbox side: value -> plain data

def encode(value, as_handle, judge_id=lambda obj: None, depth: int = 0, budget: list | None = None):
    """Plain JSON data for ``value``; ``as_handle(obj) -> int`` registers anything else as a handle.

    ``judge_id(obj)`` returns the judge's id for an object the judge sent (or None).
    """
    budget = budget if budget is not None else [MAX_ITEMS]
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH:
        raise WireError("value too large or too deeply nested to send")
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return value
    if kind is int:
        return value if abs(value) < 2 ** 63 else {"$i": str(value)}
    if kind is float:
        return value if math.isfinite(value) else {"$f": repr(value)}
    known = judge_id(value)
    if known is not None:
        return {"$j": known}
    recurse = lambda item: encode(item, as_handle, judge_id, depth + 1, budget)  # noqa: E731
    if kind is tuple:
        return {"$t": [recurse(v) for v in value]}
    if kind is list:
        return {"$l": [recurse(v) for v in value]}
    if kind is dict:
        return {"$d": [[recurse(k), recurse(v)] for k, v in value.items()]}
    if kind is set:
        return {"$s": [recurse(v) for v in value]}
    if kind is frozenset:
        return {"$fs": [recurse(v) for v in value]}
    if kind is bytes:
        return {"$b": base64.b64encode(value).decode("ascii")}
    if kind is np.ndarray and value.dtype.name in PLAIN_DTYPES:
        data = np.ascontiguousarray(value)
        budget[0] -= data.size
        if budget[0] < 0:
            raise WireError("array too large to send")
        return {"$nd": data.dtype.str, "shape": list(data.shape), "data": base64.b64encode(data.tobytes()).decode("ascii")}
    if isinstance(value, np.generic) and type(value).__module__ == "numpy" and value.dtype.name in PLAIN_DTYPES:
        return {"$ns": value.dtype.str, "data": base64.b64encode(value.tobytes()).decode("ascii")}
    return {"$h": as_handle(value), "type": _type_name(value)}


def encode_state(obj, as_handle, judge_id):
    """The shallow state of a judge object after student code had it: its items, or its attributes."""
    inner = lambda v: encode(v, as_handle, judge_id, 1)  # noqa: E731
    kind = type(obj)
    if kind is list:
        return {"$l": [inner(v) for v in obj]}
    if kind is dict:
        return {"$d": [[inner(k), inner(v)] for k, v in obj.items()]}
    if kind is set:
        return {"$s": [inner(v) for v in obj]}
    if kind is np.ndarray:
        return encode(obj.copy(), as_handle)
    attributes = getattr(obj, "__dict__", None)
    if type(attributes) is dict:
        return {"$o": [[name, inner(v)] for name, v in attributes.items() if type(name) is str]}
    return None


def _type_name(value) -> str:
    kind = type(value)
    return f"{getattr(kind, '__module__', '?')}.{getattr(kind, '__qualname__', '?')}"[:200]


def dumps(message) -> bytes:
    return json.dumps(message, allow_nan=False, separators=(",", ":")).encode("utf-8")


# --------------------------------------------------------------------------- judge side: plain data -> value

def loads(payload: bytes):
    try:
        return json.loads(payload.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise WireError(f"the sandbox sent something that is not JSON: {exc}") from None


def decode(data, handle, judge_object, depth: int = 0):
    """Rebuild plain values from ``encode``'s output. Only builtin values and plain NumPy data are built.

    ``handle(id, type_name)`` makes the judge's proxy for a sandbox object; ``judge_object(id)`` returns
    the judge's own object with that id.
    """
    if depth > MAX_DEPTH + 2:
        raise WireError("value too deeply nested")
    kind = type(data)
    if data is None or kind in (bool, str, int, float):
        return data
    if kind is list:
        raise WireError("untagged list")
    if kind is not dict or len(data) == 0:
        raise WireError(f"unexpected {kind.__name__} on the wire")
    recurse = lambda item: decode(item, handle, judge_object, depth + 1)  # noqa: E731
    tag = next(iter(data))
    body = data[tag]
    if tag == "$i" and type(body) is str and len(body) < 5000:
        return int(body)
    if tag == "$f" and body in ("nan", "inf", "-inf"):
        return float(body)
    if tag in ("$t", "$l", "$s", "$fs") and type(body) is list:
        items = [recurse(v) for v in body]
        try:
            return {"$t": tuple, "$l": list, "$s": set, "$fs": frozenset}[tag](items)
        except TypeError:
            raise WireError("unhashable item in a set") from None
    if tag == "$d" and type(body) is list:
        result = {}
        for pair in body:
            if type(pair) is not list or len(pair) != 2:
                raise WireError("bad dict item")
            key = recurse(pair[0])
            try:
                result[key] = recurse(pair[1])
            except TypeError:
                raise WireError("unhashable dict key") from None
        return result
    if tag == "$b" and type(body) is str:
        return base64.b64decode(body, validate=True)
    if tag in ("$nd", "$ns") and type(body) is str:
        dtype = np.dtype(body) if len(body) < 8 else None
        if dtype is None or dtype.name not in PLAIN_DTYPES:
            raise WireError(f"array dtype {body!r} is not plain data")
        raw = base64.b64decode(data.get("data", ""), validate=True)
        if tag == "$ns":
            if len(raw) != dtype.itemsize:
                raise WireError("bad NumPy scalar")
            return np.frombuffer(raw, dtype=dtype)[0]
        shape = data.get("shape")
        if type(shape) is not list or not all(type(n) is int and n >= 0 for n in shape):
            raise WireError("bad array shape")
        count = math.prod(shape)
        if count * dtype.itemsize != len(raw):
            raise WireError("array data does not match its shape")
        return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    if tag == "$h" and type(body) is int:
        type_name = data.get("type")
        return handle(body, type_name if type(type_name) is str else "?")
    if tag == "$j" and type(body) is int:
        return judge_object(body)
    if tag == "$o" and type(body) is list:
        attributes = {}
        for pair in body:
            if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                raise WireError("bad attribute")
            attributes[pair[0]] = recurse(pair[1])
        return _Attributes(attributes)
    raise WireError(f"unknown tag {tag!r}")


class _Attributes(dict):
    """Decoded attributes of a judge object (only ever applied to that object, never returned to tests)."""
