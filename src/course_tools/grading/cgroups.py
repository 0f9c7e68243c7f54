"""One cgroup per sandbox: memory of all its processes together, a process count, a CPU quota, and its CPU time.

``RLIMIT_AS`` and ``RLIMIT_NPROC`` (set by :mod:`course_tools.grading.sandbox`) hold per process and per uid:
four children of 1.5 GB each stay under a 3 GB ``RLIMIT_AS`` while the sandbox holds 6 GB. A cgroup
counts every process of the sandbox together. The grading tool makes one for each sandbox, as a
child of its own cgroup (so whatever limits the grader itself runs under still hold), puts the
sandbox in it before any student code runs, and removes it afterwards:

* cgroup v2 (one unified hierarchy with ``cgroup.controllers``): ``memory.max`` (no swap),
  ``pids.max``, ``cpu.max``; CPU time from ``cpu.stat`` (``usage_usec``);
* cgroup v1 (one hierarchy per controller, e.g. ``/sys/fs/cgroup/memory``): ``memory.limit_in_bytes``
  (and ``memory.memsw.limit_in_bytes`` when swap is accounted), ``pids.max``,
  ``cpu.cfs_quota_us``; CPU time from ``cpuacct.usage``.

:func:`cgroup_status` says once per process whether this works here, and why not.
"""

from __future__ import annotations

import errno
import functools
import itertools
import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CgroupUnavailable", "SandboxCgroup", "cgroup_status", "stale_cgroups", "JOIN_SCRIPT"]

#: The v1 controllers a sandbox uses (cpuacct: its CPU time).
V1_CONTROLLERS = ("memory", "pids", "cpu", "cpuacct")
#: The v2 controllers a sandbox uses (CPU time comes with the core's ``cpu.stat``).
V2_CONTROLLERS = ("memory", "pids", "cpu")
#: Per-sandbox cgroups are named ``<PREFIX>.<grader pid>.<n>`` (the pid tells stale ones from live ones).
PREFIX = "course-sandbox"
CPU_PERIOD_US = 100_000

#: ``sh -c JOIN_SCRIPT sh <cgroup.procs>... -- <command>...``: the shell writes its own pid into each
#: cgroup, then becomes the command. Nothing of the sandbox exists before it is in the cgroup, and
#: every process it starts is born inside.
JOIN_SCRIPT = 'while [ "$1" != "--" ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"'


class CgroupUnavailable(RuntimeError):
    """No per-sandbox cgroup can be made here; the message says why."""


@dataclass(frozen=True)
class Hierarchy:
    version: int                 # 1 or 2
    controllers: tuple[str, ...]  # the ones this hierarchy gives a sandbox
    parent: Path                 # the grader's own cgroup in it: sandboxes' cgroups are made inside


def _mounts() -> list[tuple[str, str, str, set[str]]]:
    """(filesystem type, mount point, root inside the hierarchy, super options) of every cgroup mount."""
    found = []
    try:
        with open("/proc/self/mountinfo") as handle:
            for line in handle:
                left, _, right = line.partition(" - ")
                fields, tail = left.split(), right.split()
                if len(fields) >= 5 and len(tail) >= 3 and tail[0] in ("cgroup", "cgroup2"):
                    found.append((tail[0], fields[4].replace("\\040", " "), fields[3], set(tail[2].split(","))))
    except OSError:
        pass
    return found


def _own_cgroups() -> dict[str, str]:
    """Controller (or ``""`` for v2) -> this process's cgroup path, from /proc/self/cgroup."""
    paths = {}
    try:
        with open("/proc/self/cgroup") as handle:
            for line in handle:
                _, names, path = line.rstrip("\n").split(":", 2)
                for name in (names.split(",") if names else [""]):
                    paths[name] = path
    except (OSError, ValueError):
        pass
    return paths


def _inside(mount: str, root: str, path: str) -> Path:
    """Where cgroup ``path`` is under a mount of hierarchy root ``root``."""
    relative = os.path.relpath(path, root) if root != "/" else path.lstrip("/")
    return Path(mount) / ("" if relative == "." else relative)


def _hierarchies() -> tuple[list[Hierarchy], list[str]]:
    """The hierarchies to use (v2 when it has the controllers, else v1's), and what is missing."""
    mounts, own = _mounts(), _own_cgroups()
    for kind, mount, root, _ in mounts:
        if kind != "cgroup2" or "" not in own:
            continue
        parent = _inside(mount, root, own[""])
        try:
            available = (parent / "cgroup.controllers").read_text().split()
        except OSError:
            continue
        if set(V2_CONTROLLERS) <= set(available):
            return [Hierarchy(2, V2_CONTROLLERS, parent)], []
    found, missing = [], []
    for controller in V1_CONTROLLERS:
        mount = next(((m, r) for kind, m, r, options in mounts if kind == "cgroup" and controller in options), None)
        if mount is None or controller not in own:
            missing.append(controller)
            continue
        parent = _inside(mount[0], mount[1], own[controller])
        same = next((h for h in found if h.parent == parent), None)
        if same is not None:  # co-mounted controllers (cpu,cpuacct) share one directory
            found[found.index(same)] = Hierarchy(1, same.controllers + (controller,), parent)
        else:
            found.append(Hierarchy(1, (controller,), parent))
    return found, missing


def _write(path: Path, value) -> None:
    with open(path, "w") as handle:
        handle.write(f"{value}\n")


_names = itertools.count(1)
_cleaned: set[Path] = set()
_lock = threading.Lock()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def grader_pid(cgroup: Path) -> int | None:
    """The pid of the grading process that made a per-sandbox cgroup (``<PREFIX>.<grader pid>.<n>``), else None."""
    parts = cgroup.name.split(".")
    return int(parts[1]) if len(parts) == 3 and parts[0] == PREFIX and parts[1].isdigit() else None


def _stale(parent: Path) -> list[Path]:
    try:
        entries = list(parent.iterdir())
    except OSError:
        return []
    return [entry for entry in entries if (pid := grader_pid(entry)) is not None and not _alive(pid)]


def stale_cgroups() -> list[Path]:
    """Sandbox cgroups left behind by grading processes that are gone (there should be none)."""
    hierarchies, _ = _hierarchies()
    return [path for hierarchy in hierarchies for path in _stale(hierarchy.parent)]


def _remove_stale(parent: Path) -> None:
    """Empty cgroups left by a grader that was killed before it could remove them (once per parent)."""
    with _lock:
        if parent in _cleaned:
            return
        _cleaned.add(parent)
    for entry in _stale(parent):
        try:
            entry.rmdir()
        except OSError:
            pass


class SandboxCgroup:
    """The cgroup(s) of one sandbox: limits written, nothing in it yet."""

    def __init__(self, dirs: list[tuple[Hierarchy, Path]]):
        self.dirs = dirs
        self.version = dirs[0][0].version if dirs else 0

    @classmethod
    def create(cls, memory_bytes: int, tasks: int, cpus: float) -> "SandboxCgroup":
        hierarchies, missing = _hierarchies()
        if not hierarchies:
            raise CgroupUnavailable("no cgroup hierarchy with the memory, pids or cpu controller is mounted "
                                    "(/sys/fs/cgroup)")
        if missing:
            raise CgroupUnavailable(f"cgroup v1 controller(s) {', '.join(missing)} not mounted under /sys/fs/cgroup")
        name = f"{PREFIX}.{os.getpid()}.{next(_names)}"
        made: list[tuple[Hierarchy, Path]] = []
        group = cls(made)
        try:
            for hierarchy in hierarchies:
                _remove_stale(hierarchy.parent)
                if hierarchy.version == 2:
                    _enable_v2_controllers(hierarchy.parent)
                path = hierarchy.parent / name
                path.mkdir()
                made.append((hierarchy, path))
                group.version = hierarchy.version
                _set_limits(hierarchy, path, memory_bytes, tasks, cpus)
        except OSError as error:
            group.remove()
            where = made[-1][1] if made else hierarchies[0].parent
            raise CgroupUnavailable(f"cannot make a cgroup in {where.parent if made else where}: "
                                    f"{error.strerror or error}") from None
        return group

    @property
    def procs_files(self) -> list[str]:
        return [str(path / "cgroup.procs") for _, path in self.dirs]

    def _path(self, controller: str) -> Path | None:
        return next((path for hierarchy, path in self.dirs if controller in hierarchy.controllers), None)

    def cpu_seconds(self) -> float | None:
        """CPU time (user + system) of every process that ever ran in it, in seconds."""
        try:
            if self.version == 2:
                for line in (self.dirs[0][1] / "cpu.stat").read_text().splitlines():
                    key, _, value = line.partition(" ")
                    if key == "usage_usec":
                        return int(value) / 1e6
                return None
            path = self._path("cpuacct")
            return None if path is None else int((path / "cpuacct.usage").read_text()) / 1e9
        except (OSError, ValueError, IndexError):
            return None

    def memory_peak(self) -> int | None:
        """The most memory its processes held together, in bytes (None where the kernel does not say)."""
        path = self._path("memory")
        name = "memory.peak" if self.version == 2 else "memory.max_usage_in_bytes"
        try:
            return None if path is None else int((path / name).read_text())
        except (OSError, ValueError):
            return None

    def oom_kills(self) -> int | None:
        """How many of its processes the kernel killed at the memory limit."""
        path = self._path("memory")
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        try:
            for line in (path / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        except (OSError, ValueError, TypeError):
            pass
        return None

    def pids(self) -> list[int]:
        found: set[int] = set()
        for _, path in self.dirs:
            try:
                found.update(int(p) for p in (path / "cgroup.procs").read_text().split())
            except (OSError, ValueError):
                pass
        return sorted(found)

    def kill(self, timeout: float = 5.0) -> None:
        """SIGKILL every process in it (a backstop: killing the sandbox's pid namespace kills them all)."""
        if self.version == 2 and self.dirs and (self.dirs[0][1] / "cgroup.kill").exists():
            try:
                _write(self.dirs[0][1] / "cgroup.kill", 1)
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.01)

    def remove(self, timeout: float = 5.0) -> None:
        """Kill what is left in it and remove it (idempotent)."""
        if not self.dirs:
            return
        self.kill(timeout)
        deadline = time.monotonic() + timeout
        for _, path in list(self.dirs):
            while True:
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError as error:
                    if error.errno != errno.EBUSY or time.monotonic() > deadline:
                        break
                    time.sleep(0.01)
        self.dirs = [(h, p) for h, p in self.dirs if p.exists()]

    def exists(self) -> bool:
        return any(path.exists() for _, path in self.dirs)


def _enable_v2_controllers(parent: Path) -> None:
    enabled = set((parent / "cgroup.subtree_control").read_text().split())
    wanted = [c for c in V2_CONTROLLERS if c not in enabled]
    if wanted:
        # Fails (EBUSY) when the grader's own cgroup holds processes and is not the root: v2's
        # "no internal processes" rule. Then an administrator must delegate a subtree.
        _write(parent / "cgroup.subtree_control", " ".join("+" + c for c in wanted))


def _set_limits(hierarchy: Hierarchy, path: Path, memory_bytes: int, tasks: int, cpus: float) -> None:
    quota = max(1000, int(cpus * CPU_PERIOD_US))
    if hierarchy.version == 2:
        _write(path / "memory.max", memory_bytes)
        if (path / "memory.swap.max").exists():
            _write(path / "memory.swap.max", 0)
        _write(path / "pids.max", tasks)
        _write(path / "cpu.max", f"{quota} {CPU_PERIOD_US}")
        return
    if "memory" in hierarchy.controllers:
        _write(path / "memory.limit_in_bytes", memory_bytes)
        if (path / "memory.memsw.limit_in_bytes").exists():  # swap counts too, where the kernel accounts it
            _write(path / "memory.memsw.limit_in_bytes", memory_bytes)
    if "pids" in hierarchy.controllers:
        _write(path / "pids.max", tasks)
    if "cpu" in hierarchy.controllers:
        _write(path / "cpu.cfs_period_us", CPU_PERIOD_US)
        _write(path / "cpu.cfs_quota_us", quota)


@functools.lru_cache(maxsize=None)
def cgroup_status() -> tuple[bool, str]:
    """(True, what a sandbox's cgroup is) or (False, why no cgroup can be made here); probed once per process."""
    try:
        group = SandboxCgroup.create(64 * 1024**2, 8, 1.0)
    except CgroupUnavailable as error:
        return False, str(error)
    version = group.version
    controllers = sorted({c for hierarchy, _ in group.dirs for c in hierarchy.controllers})
    where = group.dirs[0][1].parent
    group.remove()
    if group.exists():
        return False, f"a test cgroup in {where} could not be removed"
    return True, f"cgroup v{version} ({', '.join(controllers)}) under {where}"
