"""The trusted judge: runs a notebook's tests in this process and the student's code in a sandbox.

A graded notebook has four kinds of code cells, told apart by nbgrader's metadata:

============ ===================================== =====================================
cell          where it runs                         why
============ ===================================== =====================================
answer        sandbox                               the student's code (solution cells)
plain         sandbox                               demos and setup the student's code may use
locked        sandbox and judge                     provided helpers, test doubles, imports
test          judge only                            grade cells: verdicts never leave this process
============ ===================================== =====================================

In the judge, each name an answer cell defines (read from the *released* stub,
never from the submission) is a proxy: calling it sends the arguments to the
sandbox and returns plain data (``course_sandbox.wire``) or a ``Handle`` for
any other object. A test cell passes when it runs to the end without raising;
its output is what the judge printed. Nothing the sandbox prints, returns or
does can mark a test as passed: at worst it returns values, which the tests
judge with their own comparison functions.

Arguments are pickled into the sandbox (trusted to untrusted), and mutable
ones (lists, dicts, sets, arrays, plain objects) become *twins* there: the
student's code works on copies, and by default nothing it does to them comes
back. The judge's objects are snapshots the student can read, never write; a
test's ground truth (a stream's true next words, a fixture's arrays) stays
what the test made, whatever the student's code did to its twin.

Copy-back, in place, happens only where a test needs to observe a mutation,
and only for the call being made:

* the **top level of the call's own arguments** when they are plain containers
  (``list``, ``dict``, ``set``, ``ndarray``): their items after the call, so a
  test can check that a function did not mutate its input
  (``normalize_context``'s "the input is never mutated"). Never the state of
  objects nested inside them, never an argument of an earlier call;
* **observed attributes**: an argument whose class, defined in a locked cell,
  lists ``observed_attributes`` (a spy: ``FakeModel.observed_attributes =
  ("seen",)``), or on which the test set ``obj.observed_attributes = (...)``
  itself, gets those public attributes back: new plain data only (never a
  handle, never one of the judge's objects), and the contents of the lists,
  dicts, sets and arrays the attribute holds (``model.params``' arrays), so a
  test can see what a test double was asked, or that ``gradient_check`` put
  every parameter back. Private (``_``) attributes never come back.

The locked cells' own fixtures (``VOCAB``, ``BASE_MODEL``, ...) never take a
change, even as a direct argument.

A crash costs only its tests (``Judge.run``): when the sandbox ends during a
cell (``os._exit``, a signal, a limit), the next cell starts a fresh sandbox
that replays the answer and locked cells so far, and the plain cells that
define a name the answers read (not the cells that ended the sandbox or ran
out of time; replayed outputs are dropped). Restarts after a *test* cell
ended the sandbox are capped at ``MAX_RESTARTS`` per notebook, then the rest
fails saying why; a plain or answer cell is one cell of the released
notebook, so its crashes are bounded by the notebook and its time budget. A
graded function (or a student class's method) that timed out or ended the
sandbox is not called again: later calls from tests fail at once with the
reason, and in the sandbox a top-level function that timed out is replaced by
one raising ``KeyboardInterrupt`` at once (what the time limit's interrupt
would have done), so one infinite loop or one crash costs the tests that call
it, not the notebook's time budget.

Feedback never shows what the student's code saw in hidden tests: once a test
cell with hidden tests has run, the outputs of later answer, plain and locked
cells (which run in the sandbox that served those tests, and could print what
it recorded) are replaced by a short note.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import pickle
import select
import socket
import threading
import time
import types
import warnings
import weakref
from dataclasses import dataclass, field

import nbformat
import numpy as np

from course_sandbox import protocol, runner as sandbox_side, wire
from ..notebooks.cells import cell_grade_id, cell_role
from .sandbox import Limits, Sandbox, python_binds, sandbox_env, thread_wait_seconds

# Exceptions a student's code may raise that tests can expect by name; anything else is a StudentError.
# Exception itself is not among them: a test must name what it expects.
EXPECTABLE = {name: cls for name, cls in vars(builtins).items()
              if isinstance(cls, type) and issubclass(cls, Exception) and cls is not Exception
              and not issubclass(cls, Warning)}
MAX_TEST_OUTPUT = 20_000
MAX_PROCESS_OUTPUT = 200_000
MAX_RESTARTS = 3  # fresh sandboxes per notebook after a crash: a crash costs its tests, not unlimited replays
HIDDEN_TESTS_MARKER = "BEGIN HIDDEN TESTS"
OUTPUT_HIDDEN_NOTE = "(output hidden: produced after hidden tests ran)\n"
#: Time limits count the sandbox's CPU time (every process of it), so a busy grading host gives the same
#: grade as a quiet one; wall-clock time only backs them up, this many times longer, for code that waits
#: (leaving out time the sandbox was ready to run but the host's CPUs were busy elsewhere).
WALL_FACTOR = 5.0
#: Time in which neither the sandbox nor the judge ran nor waited for a CPU (the student's code sleeping or
#: blocked on something that never comes) is charged against the CPU budget at this rate: a second of
#: waiting costs what a second of computing does, so code that only waits runs out of its budget as soon
#: as code that computes would, instead of at the wall-clock backstop. Time spent waiting for a busy
#: host's CPUs is never charged, and the judge's own computing is not either: load takes no points away.
IDLE_CHARGE = 1.0


class StudentError(Exception):
    """The student's code raised an exception that is not a builtin one (or an exit/interrupt)."""


class StudentTimeout(Exception):
    """The student's code did not answer within the time the test had left."""


class SandboxError(Exception):
    """The sandbox could not do what the judge asked (a name the student's code never defined, ...)."""


class SandboxGone(Exception):
    """The sandboxed process ended (it exited, crashed or was killed at a limit)."""


class NotCalledAgain(Exception):
    """A function of the student's code that timed out or ended the sandbox earlier; it is not called again."""


# --------------------------------------------------------------------------- proxies for the student's objects

class Handle:
    """A student's object that stays in the sandbox; its methods and attributes are asked for remotely."""

    __slots__ = ("_remote", "_hid", "_type", "__weakref__")

    def __init__(self, remote: "Remote", hid: int, type_name: str):
        object.__setattr__(self, "_remote", remote)
        object.__setattr__(self, "_hid", hid)
        object.__setattr__(self, "_type", type_name)

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._remote.getattr(("h", self._hid), self._type, name, owner=self)

    def __setattr__(self, name, value):
        self._remote.request({"op": protocol.SETATTR, "target": ("h", self._hid), "name": name, "value": value})

    def __call__(self, *args, **kwargs):
        return self._remote.call(("h", self._hid), None, args, kwargs)

    def __getitem__(self, key):
        return self._remote.request({"op": protocol.GETITEM, "target": ("h", self._hid), "key": key})

    def __setitem__(self, key, value):
        self._remote.request({"op": protocol.SETITEM, "target": ("h", self._hid), "key": key, "value": value})

    def __len__(self):
        return _expect(self._remote.request({"op": protocol.LEN, "target": ("h", self._hid)}), int, "len()")

    def __bool__(self):
        return _expect(self._remote.request({"op": protocol.BOOL, "target": ("h", self._hid)}), bool, "bool()")

    def __contains__(self, item):
        return _expect(self._remote.request({"op": protocol.CONTAINS, "target": ("h", self._hid), "item": item}), bool, "in")

    def __iter__(self):
        return iter(_expect(self._remote.request({"op": protocol.ITER, "target": ("h", self._hid)}), list, "iter()"))

    def __repr__(self):
        return f"<{self._type} object of the student's code>"

    def __del__(self):
        remote = self._remote
        if remote is not None:
            remote.forget(self._hid)


class RemoteName:
    """A name the student's answer cells define (a function or a class), looked up in the sandbox when used."""

    __slots__ = ("_remote", "_name")

    def __init__(self, remote: "Remote", name: str):
        self._remote, self._name = remote, name

    def __call__(self, *args, **kwargs):
        return self._remote.call(("g", self._name), None, args, kwargs)

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._remote.getattr(("g", self._name), f"global {self._name}", name)

    def __repr__(self):
        return f"<student's {self._name}>"


class _BoundMethod:
    __slots__ = ("_remote", "_target", "_name", "_owner")

    def __init__(self, remote, target, name, owner=None):
        # the owner keeps the student's object alive in the sandbox until the method has been called
        self._remote, self._target, self._name, self._owner = remote, target, name, owner

    def __call__(self, *args, **kwargs):
        return self._remote.call(self._target, self._name, args, kwargs)

    def __repr__(self):
        return f"<student's method {self._name}>"


def _expect(value, kind, what):
    if type(value) is not kind:
        raise StudentError(f"{what} of a student's object gave {type(value).__name__}, not {kind.__name__}")
    return value


# --------------------------------------------------------------------------- arguments: trusted pickles with twins

class _Twin:
    """Stands for one of the judge's mutable objects in a request: unpickles as its twin in the sandbox."""

    __slots__ = ("adopt", "tid", "payload")

    def __init__(self, adopt, tid, payload=None):
        self.adopt, self.tid, self.payload = adopt, tid, payload

    def __reduce__(self):
        return self.adopt, (self.tid, *self.payload)


def _twinnable_object(obj) -> bool:
    kind = type(obj)
    return (type(getattr(obj, "__dict__", None)) is dict and kind.__reduce_ex__ is object.__reduce_ex__
            and kind.__reduce__ is object.__reduce__ and kind.__new__ is object.__new__
            and not isinstance(obj, (type, types.ModuleType, types.FunctionType, BaseException, Handle)))


def _as_twins(value, remote: "Remote", memo: dict):
    """``value`` with each mutable object of the judge replaced by a ``_Twin`` (pickle cannot intercept lists/dicts)."""
    kind = type(value)
    if value is None or kind in (bool, int, float, str, bytes, complex):
        return value
    key = id(value)
    if key in memo:
        return memo[key]
    if kind is tuple:
        memo[key] = result = tuple(_as_twins(v, remote, memo) for v in value)
        return result
    if kind is frozenset:
        return frozenset(_as_twins(v, remote, memo) for v in value)
    if kind is list:
        memo[key] = twin = _Twin(sandbox_side.adopt_list, remote.twin_id(value))
        twin.payload = ([_as_twins(v, remote, memo) for v in value],)
    elif kind is dict:
        memo[key] = twin = _Twin(sandbox_side.adopt_dict, remote.twin_id(value))
        twin.payload = ([(_as_twins(k, remote, memo), _as_twins(v, remote, memo)) for k, v in value.items()],)
    elif kind is set:
        memo[key] = twin = _Twin(sandbox_side.adopt_set, remote.twin_id(value))
        twin.payload = ([_as_twins(v, remote, memo) for v in value],)
    elif kind is np.ndarray:
        memo[key] = twin = _Twin(sandbox_side.adopt_array, remote.twin_id(value), (value.copy(),))
    elif _twinnable_object(value):
        memo[key] = twin = _Twin(sandbox_side.adopt_object, remote.twin_id(value))
        twin.payload = (kind, {name: _as_twins(v, remote, memo) for name, v in value.__dict__.items()})
    else:
        return value
    return twin


class _ArgumentPickler(pickle.Pickler):
    """Pickles a request: handles and the notebook's shared classes go by reference (twins are ``_Twin``)."""

    def __init__(self, file, remote: "Remote"):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.remote = remote

    def reducer_override(self, obj):
        kind = type(obj)
        if kind is Handle:
            return sandbox_side.handle_object, (obj._hid,)
        if kind is RemoteName:
            return sandbox_side.main_global, (obj._name,)
        if kind is _BoundMethod:
            raise TypeError("a student's method cannot be passed back to the student's code")
        if isinstance(obj, (type, types.FunctionType)) and getattr(obj, "__module__", None) == "__main__":
            if obj.__qualname__ not in self.remote.shared_names:
                raise TypeError(f"{obj.__qualname__} is defined in a test cell, so the student's code cannot receive it: "
                                "define test doubles in a locked cell (course authoring error)")
            return sandbox_side.main_global, (obj.__qualname__,)
        return NotImplemented


# --------------------------------------------------------------------------- time budgets

class Budget:
    """Time the student's code may still use from now: ``cpu`` seconds of the sandbox's CPU time (idle time
    charged at ``IDLE_CHARGE``), and a wall-clock backstop ``WALL_FACTOR`` times longer (less the time the
    sandbox waited for a busy host's CPUs); both within the remote's ``ceiling`` (the notebook's)."""

    __slots__ = ("remote", "cpu", "wall", "cpu_start", "wall_start", "wait_start", "judge_start")

    def __init__(self, remote: "Remote", cpu: float, wall: float | None = None):
        self.remote = remote
        self.cpu_start, self.wall_start, self.wait_start = remote.cpu_seconds(), time.monotonic(), remote.wait_seconds()
        self.judge_start = time.thread_time()  # the judge's own computing (a test's code) is not the student's
        self.cpu, self.wall = cpu, cpu * remote.wall_factor if wall is None else wall  # what it is given
        ceiling = remote.ceiling
        if ceiling is not None and wall is None:
            self.cpu, self.wall = min(self.cpu, ceiling.cpu_left()), min(self.wall, ceiling.wall_left())

    def _running(self) -> float:
        """Wall-clock seconds since the start, less the time the sandbox or the judge waited for a CPU."""
        elapsed = time.monotonic() - self.wall_start
        waited = min(max(self.remote.wait_seconds() - self.wait_start, 0.0), elapsed)
        return elapsed - waited

    def cpu_used(self) -> float:
        return self.remote.cpu_seconds() - self.cpu_start

    def idle(self) -> float:
        """Seconds in which neither side computed nor waited for a CPU: the student's code sleeping or blocked."""
        judge = max(time.thread_time() - self.judge_start, 0.0)
        return max(self._running() - self.cpu_used() - judge, 0.0)

    def cpu_left(self) -> float:
        return self.cpu - self.cpu_used() - IDLE_CHARGE * self.idle()

    def wall_left(self) -> float:
        return self.wall - self._running()

    def spent(self) -> bool:
        return self.wall_left() <= 0 or self.cpu_left() <= 0

    def why_spent(self) -> str:
        """How the student's code spent its CPU budget (once ``cpu_left() <= 0``), in the student's words."""
        if IDLE_CHARGE * self.idle() > self.cpu_used():
            return (f"spent the {self.cpu:.3g} s it had mostly waiting (sleeping or blocked: a second of waiting "
                    f"counts as a second of CPU time; waits for a busy host's CPUs do not count)")
        return f"used the {self.cpu:.3g} s of CPU time it had"


# --------------------------------------------------------------------------- the channel to one sandbox

class Remote:
    """The judge's end of the channel to one sandboxed runner."""

    def __init__(self, sandboxed: bool = True, limits=None, cell_timeout: float = 20.0):
        self.sandboxed, self.limits, self.cell_timeout = sandboxed, limits, cell_timeout
        self.deadline: Budget | None = None  # what the current test cell has left
        self.ceiling: Budget | None = None   # what the notebook has left: no cell gets more
        self.wall_factor = WALL_FACTOR
        self.cpu_before = 0.0         # CPU seconds of this remote's earlier sandboxes
        self.wait_before = 0.0        # and the seconds they waited for a CPU
        self.dead: str | None = None  # why the sandbox is gone
        self.seq = 0
        self.twins: dict[int, object] = {}
        self.twin_of: dict[int, int] = {}
        self.released: list[int] = []
        self.methods: set[tuple[str, str]] = set()
        self.handles: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
        self.shared_names: set[str] = set()  # classes and functions the locked cells define on both sides
        self.protected: dict[int, object] = {}  # objects the locked cells made: id -> object (kept alive)
        self.process = None
        self.output = bytearray()     # what the runner wrote to its stdout/stderr outside cells (capped)
        self.copy_back: dict[int, object] = {}  # twin id -> the judge's object that takes its state, this call only
        self.given_up: dict[str, str] = {}      # a student's function -> why it is not called again

    # ---- lifetime
    def start(self) -> "Remote":
        import sys

        self.sock, theirs = socket.socketpair()
        argv = [sys.executable, "-m", "course_sandbox", str(theirs.fileno())]
        self.process = Sandbox(argv, limits=self.limits or Limits(), binds=python_binds(), env=sandbox_env(),
                               pass_fds=(theirs.fileno(),), unsafe_no_sandbox=not self.sandboxed)
        try:
            self.process.start()
        finally:
            theirs.close()
        for stream in (self.process.stdout, self.process.stderr):
            threading.Thread(target=self._drain, args=(stream,), daemon=True).start()
        return self

    def _drain(self, stream) -> None:
        while True:
            chunk = stream.read1(65536)
            if not chunk:
                return
            room = MAX_PROCESS_OUTPUT - len(self.output)
            if room > 0:
                self.output += chunk[:room]

    def cpu_seconds(self) -> float:
        """CPU time the student's code has used, every process of every sandbox of this remote."""
        return self.cpu_before + (self.process.cpu_seconds() if self.process is not None else 0.0)

    def wait_seconds(self) -> float:
        """Time the sandboxes of this remote, and the judge's thread calling them, were ready to run but
        waited for a CPU (a busy host): a call and its reply wait for both in turn."""
        sandbox = self.wait_before + (self.process.cpu_wait_seconds() if self.process is not None else 0.0)
        return sandbox + thread_wait_seconds()

    def close(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.cpu_before += self.process.cpu_seconds()
            self.wait_before += self.process.cpu_wait_seconds()
            self.process = None
        with contextlib.suppress(OSError):
            self.sock.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    def protect(self, roots) -> None:
        """Objects reachable from ``roots`` (the locked cells' fixtures) never take the student's changes."""
        self.protected.update(_reachable(roots))

    # ---- twins
    def twin_id(self, obj) -> int:
        tid = self.twin_of.get(id(obj))
        if tid is None or self.twins.get(tid) is not obj:
            tid = len(self.twins) + 1
            self.twins[tid] = obj
            self.twin_of[id(obj)] = tid
        return tid

    def _judge_object(self, tid):
        if tid not in self.twins:
            raise wire.WireError(f"the sandbox named an object the judge never sent ({tid})")
        return self.twins[tid]

    def observed_attributes(self, obj) -> tuple[str, ...]:
        """The public attributes a test declared it observes on one of its objects (see the module's docstring).

        Declared by a locked cell's class (``observed_attributes`` in the class body) or by the test on the
        object itself (``obj.observed_attributes = (...)``, set in the judge: the student cannot change it).
        """
        kind = type(obj)
        if not _twinnable_object(obj):
            return ()
        names = obj.__dict__.get("observed_attributes")
        if names is None and kind.__module__ == "__main__" and kind.__qualname__ in self.shared_names:
            names = kind.__dict__.get("observed_attributes")
        if type(names) not in (tuple, list):
            return ()
        return tuple(name for name in names if type(name) is str and name.isidentifier()
                     and not name.startswith("_") and name != "observed_attributes")

    def _copy_back_targets(self, args, kwargs, memo: dict) -> dict[int, object]:
        """Twin id -> judge object for what may take the student's changes in this call (see the module's docstring)."""
        targets = {}

        def allow(obj) -> None:
            twin = memo.get(id(obj))
            if isinstance(twin, _Twin) and id(obj) not in self.protected:
                targets[twin.tid] = obj

        for arg in (*args, *kwargs.values()):
            if type(arg) in (list, dict, set, np.ndarray):
                allow(arg)
            for name in self.observed_attributes(arg):
                allow(arg)
                for container in _containers_within(arg.__dict__.get(name)):
                    allow(container)
        return targets

    def _apply_sync(self, states) -> None:
        for item in states if type(states) is list else ():
            if type(item) is not list or len(item) != 2:
                raise wire.WireError("bad state message")
            tid, state = item
            obj = self.copy_back.get(tid) if type(tid) is int else None
            if obj is None:
                continue  # not an argument of this call that a test may observe: the student's changes stay there
            value = self._decode(state)
            kind = type(obj)
            if kind is list and type(value) is list:
                obj[:] = value
            elif kind is dict and type(value) is dict:
                obj.clear()
                obj.update(value)
            elif kind is set and type(value) is set:
                obj.clear()
                obj.update(value)
            elif kind is np.ndarray and type(value) is np.ndarray:
                if value.shape == obj.shape and obj.flags.writeable:
                    obj[...] = value.astype(obj.dtype, copy=False)
            elif isinstance(value, wire._Attributes):
                judge_objects = {id(o) for o in self.twins.values()}
                for name in self.observed_attributes(obj):
                    # new plain data only: never one of the judge's own objects (say, an earlier call's argument),
                    # which a later call with this spy would then copy the student's changes into
                    if name in value and _plain(value[name], judge_objects):
                        setattr(obj, name, value[name])

    # ---- handles
    def _handle(self, hid: int, type_name: str) -> Handle:
        """One live proxy per sandbox object, so the object is released only when the last proxy goes."""
        existing = self.handles.get(hid)
        if existing is not None:
            return existing
        if hid in self.released:
            self.released.remove(hid)
        self.handles[hid] = proxy = Handle(self, hid, type_name)
        return proxy

    def forget(self, hid: int) -> None:
        self.released.append(hid)

    # ---- requests
    def _roundtrip(self, message: dict, timeout: float | None = None) -> dict:
        """Send one request (arguments pickled with twins), apply the twins' state sent back, raise its error."""
        if self.dead:
            raise SandboxGone(self.dead)
        self.seq += 1
        message["seq"] = self.seq
        if self.released:
            message["release"], self.released = self.released, []
        memo: dict = {}
        plain_args, plain_kwargs = message.get("args", ()), message.get("kwargs", {})
        for key in ("args", "kwargs", "value", "key", "item"):
            if key in message:
                message[key] = _as_twins(message[key], self, memo)
        self.copy_back = self._copy_back_targets(plain_args, plain_kwargs, memo) if message["op"] == protocol.CALL else {}
        message["copy_back"] = sorted(self.copy_back)
        if "kwargs" in message:
            message["kwargs"] = message["kwargs"].payload[0]  # the keyword dict itself is not the caller's object
            message["kwargs"] = dict(message["kwargs"])
        buffer = io.BytesIO()
        _ArgumentPickler(buffer, self).dump(message)
        if timeout is not None:
            budget = Budget(self, timeout)
        else:
            budget = self.deadline if self.deadline is not None else Budget(self, self.cell_timeout)
        try:
            reply = self._exchange(wire.SEQ.pack(self.seq) + buffer.getvalue(), budget)
            self._apply_sync(reply.get("sync", []))
        finally:
            self.copy_back = {}
        if "error" in reply:
            raise self._exception(reply["error"])
        return reply

    def request(self, message: dict, timeout: float | None = None):
        reply = self._roundtrip(message, timeout)
        return self._decode(reply.get("value"))

    def _decode(self, data):
        """Plain values from the sandbox's reply; anything unreadable is a WireError, never a builtin exception."""
        try:
            return wire.decode(data, self._handle, self._judge_object)
        except wire.WireError:
            raise
        except Exception as exc:  # e.g. an integer too long to convert: the student's value, refused
            raise wire.WireError(f"the student's code returned a value the judge refused ({type(exc).__name__})") from None

    def _exchange(self, payload: bytes, budget: Budget) -> dict:
        try:
            self.sock.settimeout(5.0)
            wire.send_frame(self.sock, payload)
        except OSError as exc:
            raise self._gone(f"the sandbox stopped listening ({exc})") from None
        interrupted = None  # why the student's code was interrupted, once it was
        grace = None  # the time it has to stop once interrupted (waits for a busy host's CPUs left out)
        while True:
            if interrupted is None:
                wall, cpu = budget.wall_left(), budget.cpu_left()
                if wall <= 0 or cpu <= 0:
                    interrupted = (budget.why_spent() if cpu <= 0 else
                                   f"did not finish within {budget.wall:.3g} s of wall-clock time, not counting "
                                   f"waits for a busy host's CPUs (the backstop for code that waits: "
                                   f"{self.wall_factor:g}x the CPU time it had)")
                    self.process.interrupt()
                    grace = Budget(self, float("inf"), wall=2.0)
                    continue
                # Check the CPU time every quarter second (a sandbox's quota holds it near one CPU).
                wait = min(wall, max(cpu, 0.01), 0.25)
            else:
                wait = min(grace.wall_left(), 0.25)
                if wait <= 0:
                    raise self._gone("it did not stop when interrupted after the time limit; the sandbox was killed")
            if not select.select([self.sock], [], [], wait)[0]:
                continue
            # A message has begun: read all of it (within the wall-clock backstop), never half of one.
            self.sock.settimeout(max(budget.wall_left(), grace.wall_left() if grace else 0.0, 1.0))
            try:
                raw = wire.recv_frame(self.sock)
            except socket.timeout:
                raise self._gone("it stopped in the middle of a message") from None
            except (EOFError, OSError) as exc:
                raise self._gone(self._death_reason(exc)) from None
            except wire.WireError as exc:
                raise self._gone(f"it sent a malformed message ({exc})") from None
            try:
                reply = wire.loads(raw)
            except wire.WireError as exc:
                raise self._gone(f"it sent a malformed message ({exc})") from None
            if type(reply) is not dict or reply.get("seq") != self.seq:
                continue  # a stale or forged message: only the reply to this request counts
            if interrupted is not None:
                raise StudentTimeout(f"the student's code {interrupted} and was interrupted")
            return reply

    def _death_reason(self, exc) -> str:
        code = self.process.wait(timeout=2) if self.process is not None else None
        if code is not None and code < 0:
            return f"the sandboxed process was killed by signal {-code} (a limit, or a crash)"
        if code is not None:
            return f"the sandboxed process exited with status {code} (e.g. exit(), os._exit)"
        return f"the channel to the sandbox broke ({exc})"

    def _gone(self, reason: str) -> SandboxGone:
        self.dead = reason
        if self.process is not None:
            self.process.kill()
        return SandboxGone(reason)

    def _exception(self, error) -> Exception:
        if type(error) is not dict:
            return StudentError("the student's code failed")
        if error.get("origin") != "student":  # the runner failed, e.g. the name is not defined: never expectable
            return SandboxError(f"{str(error.get('name', 'Error'))[:100]}: {str(error.get('message', ''))[:2000]}")
        name = error.get("type") if type(error.get("type")) is str else ""
        message = error.get("message") if type(error.get("message")) is str else ""
        shown = error.get("name") if type(error.get("name")) is str else name
        cls = EXPECTABLE.get(name)
        if cls is None or cls in (StopIteration, StopAsyncIteration):
            return StudentError(f"{shown}: {message}")
        try:
            return cls(message)
        except Exception:
            return StudentError(f"{shown}: {message}")

    def _function_name(self, target, attr) -> str:
        """What a call runs, as the student would name it: ``normalize_context``, ``RollingMonitor.health``."""
        kind, key = target
        if kind == "h":
            proxy = self.handles.get(key)
            owner = (proxy._type if proxy is not None else "?").rsplit(".", 1)[-1]
            return f"{owner}.{attr}" if attr else f"{owner}()"
        return f"{key}.{attr}" if attr else str(key)

    def call(self, target, attr, args, kwargs):
        function = self._function_name(target, attr)
        if function in self.given_up:
            raise NotCalledAgain(f"{function} {self.given_up[function]} earlier; not called again")
        already_dead = self.dead
        # measures what this call alone used (not clipped to what the cell had left)
        used = Budget(self, self.cell_timeout, wall=self.cell_timeout * self.wall_factor)
        try:
            return self.request({"op": protocol.CALL, "target": target, "attr": attr, "args": tuple(args),
                                 "kwargs": dict(kwargs)})
        except StudentTimeout:
            # given up only when this call alone used much of a cell's time, not when a cell's last
            # seconds ran out on it: a slow but finite function still gets its next test cell
            # (in the sandbox's CPU time, or wall-clock time less waits for a busy host's CPUs: never load)
            if used.cpu_left() <= used.cpu / 2 or used.wall_left() <= used.wall / 2:
                self.given_up.setdefault(function, "timed out")
                self.disable(function)
            raise
        except SandboxGone:
            if not already_dead:
                self.given_up.setdefault(function, "ended the sandbox")
            raise

    def disable(self, function: str) -> None:
        """In the sandbox, a function that timed out raises at once, as the time limit's interrupt would have.

        The student's other functions that call it then fail (or handle the interrupt) without waiting
        out a cell's time again. KeyboardInterrupt, like the interrupt, so ``except Exception`` does not
        turn a loop into a pass. Only top-level functions: a method cannot be replaced by name.
        """
        if function.isidentifier() and not self.dead:
            message = f"{function} timed out earlier; not called again"
            self.exec_cell(f"def {function}(*args, **kwargs):\n    raise KeyboardInterrupt({message!r})\n", 5.0)

    def getattr(self, target, type_name, name, owner=None):
        if (type_name, name) in self.methods:
            return _BoundMethod(self, target, name, owner)
        reply = self._roundtrip({"op": protocol.GETATTR, "target": target, "name": name})
        if reply.get("method") is True:
            self.methods.add((type_name, name))
            return _BoundMethod(self, target, name, owner)
        return self._decode(reply.get("value"))

    def exec_cell(self, source: str, timeout: float) -> tuple[list[dict], bool]:
        self.seq += 1
        message = {"op": protocol.EXEC, "seq": self.seq, "source": source}
        if self.released:
            message["release"], self.released = self.released, []
        try:
            reply = self._exchange(wire.SEQ.pack(self.seq) + pickle.dumps(message), Budget(self, timeout))
        except StudentTimeout as exc:
            return [_error_output("CellTimeoutError", f"the cell stopped at its time limit: {exc}")], True
        except SandboxGone as exc:
            return [_error_output("SandboxGone", str(exc))], True
        if "error" in reply:
            error = reply["error"] if type(reply["error"]) is dict else {}
            return [_error_output(str(error.get("name", "Error"))[:100], str(error.get("message", ""))[:2000])], True
        outputs = reply.get("outputs")
        return (_clean_outputs(outputs) if type(outputs) is list else []), bool(reply.get("failed"))


def _error_output(ename: str, evalue: str) -> dict:
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": [f"{ename}: {evalue}"]}


def _clean_outputs(outputs: list) -> list[dict]:
    """Only well-formed plain outputs from the sandbox (it may send anything)."""
    clean = []
    for output in outputs[:50]:
        if type(output) is not dict:
            continue
        kind = output.get("output_type")
        if kind == "stream" and output.get("name") in ("stdout", "stderr") and type(output.get("text")) is str:
            clean.append({"output_type": "stream", "name": output["name"], "text": output["text"][:100_000]})
        elif kind == "display_data" and type(output.get("data")) is dict:
            data = {k: v for k, v in output["data"].items() if k in ("text/plain", "image/png") and type(v) is str}
            if data:
                clean.append({"output_type": "display_data", "data": data, "metadata": {}})
        elif kind == "error":
            clean.append(_error_output(str(output.get("ename", "Error"))[:100], str(output.get("evalue", ""))[:5000]))
    return clean


# --------------------------------------------------------------------------- judging a whole notebook

@dataclass
class CellVerdict:
    grade_id: str
    passed: bool
    message: str = ""


@dataclass
class JudgeReport:
    verdicts: list[CellVerdict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def answer_names(release_nb) -> set[str]:
    """Top-level names the released answer cells define (the stubs keep each ``def``/``class`` line)."""
    import ast

    names = set()
    for cell in release_nb.cells:
        if cell_role(cell) != "answer":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                for target in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                    if isinstance(target, ast.Name):
                        names.add(target.id)
    return names


class JudgeSession:
    """One sandbox and one trusted namespace: run cells in notebook order, or single cells (mutant scoring)."""

    def __init__(self, remote: Remote, student_names: set[str], cell_timeout: float = 20.0, fresh_remote=None):
        self.remote, self.student_names, self.cell_timeout = remote, set(student_names), cell_timeout
        self.namespace = {"__name__": "__main__", "__builtins__": builtins}
        self.notes: list[str] = []
        self.fresh_remote = fresh_remote  # () -> a started Remote, for a restart after a crash (None: no restarts)
        self.restarts = 0                 # restarts after a test cell ended the sandbox (capped)
        self.ended_in_test = False
        self.replayable: list = []        # the sandbox's cells run so far that neither ended it nor ran out of time
        self.hidden_tests_ran = False     # from then on the sandbox's outputs may carry what hidden tests sent it

    def run_cell(self, cell, timeout: float | None = None) -> CellVerdict | None:
        """Run one code cell where its role says; fill its outputs; a test cell gives its verdict."""
        role = cell_role(cell)
        if role == "markdown":
            return None
        timeout = self.cell_timeout if timeout is None else timeout
        verdict = None
        cell.outputs = []
        if role in ("answer", "plain", "locked"):
            was_dead = self.remote.dead
            cell.outputs = self.exec_student(cell.source, timeout)
            if self.remote.dead and not was_dead:
                self.notes.append(f"the sandbox ended during cell {cell_grade_id(cell) or role}: {self.remote.dead}")
            elif not self.remote.dead and not any(o.get("ename") == "CellTimeoutError" for o in cell.outputs):
                self.replayable.append(cell)
            if self.hidden_tests_ran and cell.outputs:
                # the sandbox served hidden tests: what it prints now could be what they sent it
                cell.outputs = [{"output_type": "stream", "name": "stdout", "text": OUTPUT_HIDDEN_NOTE}]
        if role == "locked":
            self._trusted(cell)
        elif role == "test":
            verdict = self.run_test(cell, timeout)
        cell.outputs = [nbformat.from_dict(output) for output in cell.outputs]
        return verdict

    def exec_student(self, source: str, timeout: float | None = None) -> list[dict]:
        if self.remote.dead:
            return [_error_output("SandboxGone", self.remote.dead)]
        outputs, _ = self.remote.exec_cell(source, self.cell_timeout if timeout is None else timeout)
        return outputs

    def _trusted(self, cell) -> None:
        """A locked cell runs here too, from the trusted source, so tests get their helpers and doubles."""
        before = {name: id(value) for name, value in self.namespace.items()}
        try:
            with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                exec(compile(cell.source, f"<locked cell {cell_grade_id(cell)}>", "exec"), self.namespace)
        except Exception as exc:  # a course bug, never the student's: say so loudly
            self.notes.append(f"COURSE ERROR: locked cell {cell_grade_id(cell)} failed in the judge: "
                              f"{type(exc).__name__}: {exc}")
        self.remote.shared_names.update(k for k, v in self.namespace.items()
                                        if isinstance(v, (type, types.FunctionType)))
        made_here = [value for name, value in self.namespace.items()
                     if not name.startswith("__") and before.get(name) != id(value)]
        self.remote.protect(made_here)

    def run_test(self, cell, timeout: float | None = None, namespace: dict | None = None) -> CellVerdict:
        """Execute a test cell in the judge; it passes when it raises nothing. Its outputs are the judge's."""
        grade_id = cell_grade_id(cell)
        namespace = self.namespace if namespace is None else namespace
        for name in self.student_names:
            namespace[name] = RemoteName(self.remote, name)
        printed = io.StringIO()
        self.remote.deadline = Budget(self.remote, self.cell_timeout if timeout is None else timeout)
        was_dead = self.remote.dead
        error = None
        try:
            with contextlib.redirect_stdout(printed), warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                exec(compile(cell.source, f"<test {grade_id}>", "exec"), namespace)
        except Exception as exc:
            error = exc
        finally:
            self.remote.deadline = None
            self.hidden_tests_ran = self.hidden_tests_ran or HIDDEN_TESTS_MARKER in cell.source
        if self.remote.dead and not was_dead:
            self.notes.append(f"the sandbox ended during test {grade_id}: {self.remote.dead}")
            self.ended_in_test = True
        text = printed.getvalue()[:MAX_TEST_OUTPUT]
        outputs = [{"output_type": "stream", "name": "stdout", "text": text}] if text else []
        if error is None:
            cell.outputs = outputs
            return CellVerdict(grade_id, True)
        name, message = type(error).__name__, _message(error)
        cell.outputs = outputs + [_error_output(name, message)]
        return CellVerdict(grade_id, False, f"{name}: {message}")

    def revive(self, notebook: "Budget") -> bool:
        """A fresh sandbox in place of one that ended; the cells it needs are replayed (outputs dropped).

        Replayed: the answer and locked cells that ran without ending the sandbox or timing out, and the
        plain cells that define a name the answers use and nothing else defines (demos are not rerun).
        Restarts after a test cell ended the sandbox are capped at ``MAX_RESTARTS`` (then False, and the
        sandbox stays ended, saying why); a plain or answer cell is one cell of the released notebook, so
        its crashes are bounded by the notebook and the notebook's time budget.
        """
        old = self.remote
        if self.fresh_remote is None:
            return False
        counted, self.ended_in_test = self.ended_in_test, False
        if counted and self.restarts >= MAX_RESTARTS:
            old.dead = f"{old.dead}; the sandbox was restarted {MAX_RESTARTS} times already, so the rest is not run"
            self.notes.append(f"a test ended the sandbox after {MAX_RESTARTS} restarts: the remaining cells were not run")
            self.fresh_remote = None
            return False
        self.restarts += counted
        fresh = self.fresh_remote()
        # what the locked cells made, and the functions given up on, carry over to the new sandbox
        fresh.shared_names, fresh.protected, fresh.given_up = old.shared_names, old.protected, old.given_up
        old.close()
        # the notebook's budget goes on counting: the fresh sandbox's time adds to the ended one's
        fresh.cpu_before, fresh.wait_before = old.cpu_seconds(), old.wait_before
        notebook.remote, fresh.ceiling = fresh, notebook
        self.remote = fresh
        replay = _needed_for_replay(self.replayable)
        for cell in replay:
            if notebook.spent() or fresh.dead:
                break
            fresh.exec_cell(cell.source, self.cell_timeout)
        for function, reason in fresh.given_up.items():
            if reason == "timed out":
                fresh.disable(function)  # the replayed answers defined it again
        self.notes.append(f"a fresh sandbox replayed {len(replay)} cell(s) and grading went on"
                          + (f" (restart {self.restarts} of at most {MAX_RESTARTS} after a test ended it)"
                             if counted else "")
                          + (f", but it ended too: {fresh.dead}" if fresh.dead else ""))
        return not fresh.dead


def _names(source: str) -> tuple[set[str], set[str]]:
    """(top-level names a cell defines, names it reads but binds nowhere); both empty for a cell that does not parse."""
    import ast

    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set(), set()
    defined = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            defined.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.With)):
            defined.update(n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
    # names read but bound nowhere in the cell (not a parameter, local or import): what it needs from elsewhere
    bound = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    bound |= {a.arg for n in ast.walk(tree) if isinstance(n, ast.arguments)
              for a in (*n.posonlyargs, *n.args, *n.kwonlyargs, n.vararg, n.kwarg) if a is not None}
    bound |= {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    bound |= {(a.asname or a.name).split(".")[0] for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
              for a in n.names}
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - bound
    return defined, used


def _needed_for_replay(cells: list) -> list:
    """The answer and locked cells, and the plain cells defining what the answers use and no other cell defines."""
    kept = [cell for cell in cells if cell_role(cell) in ("answer", "locked")]
    defined_by_kept, used_by_answers = set(), set()
    for cell in kept:
        defined, used = _names(cell.source)
        defined_by_kept |= defined
        if cell_role(cell) == "answer":
            used_by_answers |= used
    missing = used_by_answers - defined_by_kept - set(dir(builtins))
    return [cell for cell in cells if cell_role(cell) != "plain" or _names(cell.source)[0] & missing]


class Judge:
    """Grade one assembled notebook: the student's cells in a sandbox, the tests here."""

    def __init__(self, sandboxed: bool = True, cell_timeout: float = 20.0, notebook_timeout: float = 600.0,
                 limits=None):
        self.sandboxed, self.cell_timeout, self.notebook_timeout = sandboxed, cell_timeout, notebook_timeout
        self.limits = limits

    def session(self, student_names: set[str]) -> "contextlib.AbstractContextManager[JudgeSession]":
        def fresh_remote() -> Remote:
            return Remote(self.sandboxed, self.limits, self.cell_timeout).start()

        @contextlib.contextmanager
        def opened():
            session = JudgeSession(fresh_remote(), student_names, self.cell_timeout, fresh_remote=fresh_remote)
            try:
                yield session
            finally:
                session.remote.close()  # the sandbox in use now (earlier ones were closed when replaced)
        return opened()

    def run(self, nb, student_names: set[str]) -> JudgeReport:
        """Execute ``nb`` (modified in place: outputs of every code cell) and return the verdicts."""
        report = JudgeReport()
        start = time.monotonic()
        with self.session(student_names) as session:
            # The notebook's budget, in the sandbox's CPU time (wall-clock backstop): no cell gets more.
            session.remote.ceiling = notebook = Budget(session.remote, self.notebook_timeout)
            out_of_time = False
            for index, cell in enumerate(nb.cells):
                if notebook.spent() and not out_of_time:
                    out_of_time = True
                    session.remote._gone(f"the notebook used up its time limit ({self.notebook_timeout:g} s of CPU "
                                         f"time or waiting, {self.notebook_timeout * session.remote.wall_factor:g} s wall-clock)")
                if session.remote.dead and not out_of_time and cell_role(cell) != "markdown":
                    session.revive(notebook)  # a crash costs the cells that need what crashed, not the rest
                verdict = session.run_cell(cell, self.cell_timeout)
                if cell.cell_type == "code":
                    cell.execution_count = index + 1
                if verdict is not None:
                    report.verdicts.append(verdict)
            report.notes = session.notes
            timeouts = sum(1 for cell in nb.cells for output in cell.get("outputs", [])
                           if output.get("ename") in ("CellTimeoutError", "StudentTimeout"))
            if timeouts:
                report.notes.append(f"{timeouts} cell(s) stopped at the time limit ({self.cell_timeout:g} s of CPU "
                                    f"time or waiting per cell, {self.cell_timeout * session.remote.wall_factor:g} s wall-clock)")
            if session.remote.given_up:
                report.notes.append("not called again after it " + "; ".join(
                    f"{reason}: {function}" for function, reason in sorted(session.remote.given_up.items())))
            if session.remote.dead:
                report.notes.append(f"the sandbox ended early: {session.remote.dead}")
        report.seconds = time.monotonic() - start
        return report


def _reachable(roots, limit: int = 200_000) -> dict[int, object]:
    """The containers and plain objects reachable from ``roots`` by id (modules, classes and functions excluded)."""
    seen: dict[int, object] = {}
    stack = list(roots)
    while stack and len(seen) < limit:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType,
                                               str, bytes, int, float, bool, type(None))):
            continue
        seen[id(obj)] = obj
        if type(obj) in (list, tuple, set, frozenset):
            stack.extend(obj)
        elif type(obj) is dict:
            stack.extend(obj.values())
        elif type(getattr(obj, "__dict__", None)) is dict:
            stack.extend(obj.__dict__.values())
    return seen


def _containers_within(value, limit: int = 10_000) -> list:
    """The lists, dicts, sets and arrays in ``value`` reachable through containers only (never an object's state)."""
    found, seen, stack = [], set(), [value]
    while stack and len(found) < limit:
        item = stack.pop()
        if id(item) in seen or type(item) not in (list, dict, set, tuple, np.ndarray):
            continue
        seen.add(id(item))
        if type(item) is not tuple:
            found.append(item)
        if type(item) in (list, set, tuple):
            stack.extend(item)
        elif type(item) is dict:
            stack.extend(item.values())
    return found


def _plain(value, judge_objects: set[int], depth: int = 0) -> bool:
    """Only new builtin data and NumPy arrays (what a spy may report back): no handles, none of the judge's objects."""
    if depth > wire.MAX_DEPTH or id(value) in judge_objects:
        return False
    if value is None or type(value) in (bool, int, float, complex, str, bytes, np.ndarray) or isinstance(value, np.generic):
        return True
    if type(value) in (list, tuple, set, frozenset):
        return all(_plain(item, judge_objects, depth + 1) for item in value)
    if type(value) is dict:
        return all(_plain(k, judge_objects, depth + 1) and _plain(v, judge_objects, depth + 1) for k, v in value.items())
    return False


def _message(error: BaseException) -> str:
    try:
        return str(error)[:5000]
    except Exception:
        return "(no message)"

