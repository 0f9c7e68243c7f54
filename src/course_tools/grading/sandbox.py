"""A throwaway bubblewrap sandbox for running untrusted student code.

One :class:`Sandbox` runs one command (normally this interpreter, ``sys.executable``)
in a fresh set of Linux namespaces built by bubblewrap (``bwrap``):

* its own pid namespace (bwrap's reaper is pid 1, the command is pid 2); when the
  command exits, or :meth:`Sandbox.kill` kills the reaper, the kernel kills every
  process left inside, including double-forked ``setsid`` daemons;
* its own network namespace with nothing but a private loopback, so no connection
  leaves it (not to the internet, not to a port on the host's 127.0.0.1);
* its own IPC, UTS and cgroup namespaces, a new session (no TIOCSTI into a terminal)
  and a private ``/proc`` and minimal ``/dev``;
* a filesystem made of nothing but: read-only ``/usr`` (and the ``/bin``, ``/lib*``,
  ``/sbin`` links into it), a few files of ``/etc`` (the loader cache, the time zone, fontconfig,
  and generated ``passwd``/``group``/``hosts``/``nsswitch.conf``), the read-only binds
  of :func:`python_binds` (the interpreter, the venv, the student-side packages
  ``nextword`` and ``course_sandbox`` under ``/opt/course/lib``), and a private,
  size-limited, writable tmpfs on ``/tmp`` (the working directory is ``/tmp/work``).
  The host's ``/home``, ``/root``, ``/work``, ``/var``, ``/run`` and ``/tmp`` are not
  there; directories above a bind (``/root``, ``/work/main``) exist but are empty;
* an unprivileged identity: as root, bwrap runs without a user namespace (so it can
  bind root-only paths such as ``/root/.pyenv`` read-only) and ``setpriv`` switches to
  a uid of its own (a fresh one for every sandbox, never reused: see :func:`_take_uid`) with no
  capabilities, no supplementary groups and ``no_new_privs``; as any other user,
  bwrap's user namespace maps the caller to uid 65534;
* a seccomp filter (:mod:`course_tools.grading.seccomp_filter`, loaded by bwrap) that refuses kernel
  keyrings, ptrace, bpf, perf, userfaultfd, io_uring, mounts and new namespaces with EPERM;
* a cgroup of its own (:mod:`course_tools.grading.cgroups`), made before anything runs and removed after:
  memory of all its processes together, a number of tasks, a CPU quota, and its CPU time
  (:meth:`Sandbox.cpu_seconds`); where no cgroup can be made, :func:`sandbox_status` says so;
* resource limits (``prlimit``) that hold for every process inside: address space,
  processes, CPU seconds, file size, open files, no core dumps (per process: a second line).

``unsafe_no_sandbox=True`` gives the same interface with no isolation at all (a plain
subprocess in a new session), for an instructor's explicit opt-out and for trusted
test code.
"""

from __future__ import annotations

import errno
import fcntl
import functools
import json
import logging
import math
import os
import re
import resource
import select
import shutil
import signal
import site
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..course import course_root
from .cgroups import JOIN_SCRIPT, CgroupUnavailable, SandboxCgroup, cgroup_status

__all__ = [
    "SANDBOX_UID_BASE", "Limits", "Sandbox", "SandboxUnavailable",
    "python_binds", "sandbox_env", "sandbox_status",
]

INSTALL_HINT = (
    "Install bubblewrap (Debian/Ubuntu: `sudo apt-get install bubblewrap`; Fedora: "
    "`sudo dnf install bubblewrap`) and run as root or with unprivileged user "
    "namespaces enabled (sysctl kernel.unprivileged_userns_clone=1 / "
    "user.max_user_namespaces > 0; on Ubuntu 24.04+ AppArmor must allow bwrap). "
    "Only if you accept running student code unisolated: unsafe_no_sandbox=True."
)

#: First uid handed to sandboxes when running as root. Every sandbox on the host takes the next
#: uid of one counter shared by all grading processes (:func:`_take_uid`), up to
#: ``SANDBOX_UID_BASE + SANDBOX_UID_COUNT`` and then around again: no two sandboxes share a uid,
#: at the same time or one after the other, so nothing one leaves under its uid (a key in a
#: keyring, a file in a shared place, a process) reaches the next one, and each has its own
#: RLIMIT_NPROC count.
SANDBOX_UID_BASE = 200_000
# A CPU-time reading this recent (seconds) is reused: a test calls into the sandbox thousands of times a second and
# one reading costs dozens of /proc files, while a budget is only checked every quarter second of a call.
FRESH_READING = 0.01
SANDBOX_UID_COUNT = 1 << 30
#: Where the counter lives (root only: a sandbox sees neither /run nor /var).
UID_COUNTER_DIRS = ("/run/course-sandbox", "/var/lib/course-sandbox")
_USERNS_UID = 65534  # the identity inside bwrap's user namespace when not root

#: Where the student-side packages appear inside the sandbox (``PYTHONPATH``).
COURSE_LIB = "/opt/course/lib"
WORKDIR = "/tmp/work"

_SRC = Path(__file__).resolve().parents[2]  # the folder holding course_tools and the student-side packages
#: Student-side packages beside course_tools that the sandbox may import.
STUDENT_PACKAGES = ("nextword", "course_sandbox")
#: In a course folder: never visible inside, nor any folder that contains them, nor anything inside them.
_COURSE_SECRETS = ("source", "gradebook.db", "nbgrader_config.py", "course.toml", ".git")
#: In a course folder: never bound whole (nor a folder containing them); a single student's subfolder may be.
_COURSE_SHARED = ("submitted", "autograded", "feedback")


def _courses() -> set[Path]:
    """The course being graded, wherever it is: the working directory (nbgrader grades the course it runs in)
    and the course folder holding it; and the course these tools run from, if they run from one."""
    courses = {Path.cwd().resolve()}
    for start in (Path.cwd(), _SRC):
        try:
            courses.add(course_root(start))
        except FileNotFoundError:
            pass
    return courses


def _secrets() -> list[Path]:
    return [course / name for course in _courses() for name in _COURSE_SECRETS] + [_SRC / "course_tools"]


def _shared() -> list[Path]:
    return [course / name for course in _courses() for name in _COURSE_SHARED]


class SandboxUnavailable(RuntimeError):
    """bubblewrap cannot build a sandbox here; the message says why and how to fix it."""


@dataclass(frozen=True)
class Limits:
    memory_bytes: int = 3 * 1024**3  # RLIMIT_AS of each process, and all processes together (cgroup)
    processes: int = 64  # RLIMIT_NPROC (for the sandbox uid), and the cgroup's tasks (+2: bwrap and its reaper)
    cpus: float = 1.0  # the cgroup's CPU quota: one sandbox never takes more than this many cores
    cpu_seconds: int = 900  # RLIMIT_CPU
    file_bytes: int = 64 * 1024**2  # RLIMIT_FSIZE
    open_files: int = 256  # RLIMIT_NOFILE
    tmp_bytes: int = 256 * 1024**2  # size of the private /tmp tmpfs


# ------------------------------------------------------------------ environment


def _is_root() -> bool:
    return os.geteuid() == 0


@functools.lru_cache(maxsize=None)
def _bwrap() -> str | None:
    """The bwrap to use: ``$COURSE_BWRAP`` when set (a non-standard install), else the first on the usual path."""
    chosen = os.environ.get("COURSE_BWRAP")
    if chosen is not None:
        return chosen if os.access(chosen, os.X_OK) else None
    return shutil.which("bwrap", path="/usr/bin:/bin:/usr/local/bin:" + os.environ.get("PATH", ""))


@functools.lru_cache(maxsize=None)
def _bwrap_info() -> tuple[str, frozenset[str]]:
    """(version string, supported options) of the installed bwrap."""
    exe = _bwrap()
    version = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    helptext = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=10).stdout
    return version or "bubblewrap (unknown version)", frozenset(re.findall(r"^\s+(--[a-z0-9-]+)", helptext, re.M))


def _tool(name: str) -> str | None:
    """Absolute path of a util-linux tool that is also visible inside (under /usr or /bin)."""
    for folder in ("/usr/bin", "/bin", "/usr/sbin", "/sbin"):
        candidate = os.path.join(folder, name)
        if os.access(candidate, os.X_OK):
            return candidate
    return None


@functools.lru_cache(maxsize=None)
def _default_signals() -> list[str]:
    """``env --default-signal --``: the command starts with every signal at its default action.

    Ignored signals are inherited through fork and exec, and a grader started in the
    background (``cmd &`` in a script, nohup) ignores SIGINT: Python would then never
    raise KeyboardInterrupt and :meth:`Sandbox.interrupt` would do nothing. GNU env
    (coreutils >= 8.31) resets them; without it the command inherits the caller's.
    """
    env = _tool("env")
    try:
        if env and subprocess.run([env, "--default-signal", "--", "true"], capture_output=True,
                                  timeout=10).returncode == 0:
            return [env, "--default-signal", "--"]
    except (OSError, subprocess.SubprocessError):
        pass
    return []


_log = logging.getLogger(__name__)
#: libseccomp's Python bindings are installed for the system Python (Debian: python3-seccomp).
SECCOMP_PYTHONS = ("/usr/bin/python3",)
SECCOMP_HINT = "install libseccomp's Python bindings for /usr/bin/python3 (Debian/Ubuntu: apt-get install python3-seccomp)"


@functools.lru_cache(maxsize=None)
def _seccomp_program() -> tuple[bytes | None, str]:
    """(the compiled BPF filter, what it is) or (None, why there is none); built once per process."""
    script = str(Path(__file__).resolve().parent / "seccomp_filter.py")
    problems = []
    for python in (*SECCOMP_PYTHONS, sys.executable):
        if not os.access(python, os.X_OK):
            continue
        try:
            done = subprocess.run([python, "-I", script], capture_output=True, timeout=60)
        except (OSError, subprocess.SubprocessError) as error:
            problems.append(f"{python}: {error}")
            continue
        program = done.stdout
        if done.returncode == 0 and program and len(program) % 8 == 0:
            return program, f"seccomp filter ({len(program) // 8} BPF instructions, libseccomp via {python})"
        problems.append(f"{python}: " + (done.stderr.decode(errors="replace").strip().splitlines() or ["no output"])[-1])
    return None, f"no seccomp filter ({'; '.join(problems) or 'no Python found'}); {SECCOMP_HINT}"


def _make_cgroup(limits: "Limits"):
    """A cgroup for one sandbox, or None (said once per process) where none can be made."""
    try:
        return SandboxCgroup.create(limits.memory_bytes, limits.processes + 2, limits.cpus)
    except CgroupUnavailable as error:
        _warn_once(f"NO CGROUP PER SANDBOX ({error}): memory and processes are limited per process only "
                   "(RLIMIT_AS, RLIMIT_NPROC), with no CPU quota, and time budgets count the process tree's CPU")
        return None


@functools.lru_cache(maxsize=None)
def _warn_once(message: str) -> None:
    _log.warning("%s", message)


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _tree_cpu_seconds(root: int) -> float:
    """CPU seconds of ``root`` and every live descendant, with what each has reaped (from /proc)."""
    total = 0
    for pid in tree_pids(root):
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            total += sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime, stime, cutime, cstime
        except (OSError, IndexError, ValueError):
            continue
    return total / _CLOCK_TICKS


def _run_queue_seconds(pid: int) -> float:
    """Seconds the threads of ``pid`` have waited on a run queue (second field of schedstat, ns)."""
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0.0
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as handle:
                total += int(handle.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total / 1e9


_thread_readings = threading.local()


def thread_wait_seconds() -> float:
    """Seconds the calling thread has waited on a run queue (a busy host), from /proc/thread-self/schedstat
    (a reading of this thread's from the last ``FRESH_READING`` seconds is reused)."""
    now = time.monotonic()
    if now - getattr(_thread_readings, "at", -math.inf) < FRESH_READING:
        return _thread_readings.wait
    try:
        with open("/proc/thread-self/schedstat") as handle:
            wait = int(handle.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        wait = 0.0
    _thread_readings.at, _thread_readings.wait = now, wait
    return wait


def tree_pids(root: int) -> list[int]:
    """``root`` and its live descendants."""
    seen, stack = [], [root]
    while stack:
        pid = stack.pop()
        if pid in seen or not os.path.exists(f"/proc/{pid}"):
            continue
        seen.append(pid)
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            tasks = [str(pid)]
        for task in tasks:
            try:
                with open(f"/proc/{pid}/task/{task}/children") as handle:
                    stack.extend(int(p) for p in handle.read().split())
            except (OSError, ValueError):
                stack.extend(_children(pid) if task == str(pid) else [])
    return seen


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _check_bind(host: str, dest: str) -> None:
    """Refuse a bind that would show a secret, all submissions, or a whole host area."""
    real = Path(host).resolve()
    private = [Path(p) for p in ("/root", "/home", "/etc", "/var", "/run", "/tmp", "/proc", "/sys", "/dev")]
    private.append(Path(tempfile.gettempdir()).resolve())
    try:
        private.append(Path.home().resolve())
    except (RuntimeError, KeyError):
        pass
    if any(_inside(area, real) for area in private):
        raise ValueError(f"refusing to show {host} inside the sandbox: it is or holds a whole host area")
    for secret in _secrets():
        secret = secret.resolve()
        if _inside(real, secret) or _inside(secret, real):
            raise ValueError(f"refusing to show {host} inside the sandbox: it is or holds {secret}")
    for shared in _shared():
        if _inside(shared.resolve(), real):
            raise ValueError(f"refusing to show {host} inside the sandbox: it holds all of {shared}")
    if not dest.startswith("/") or dest in ("/", "/tmp", "/proc", "/dev", "/etc", "/usr"):
        raise ValueError(f"bad sandbox path {dest!r}")


def python_binds() -> list[tuple[str, str]]:
    """Read-only (host path, sandbox path) binds that make ``sys.executable`` runnable inside.

    The interpreter's installation (``sys.base_prefix``, resolved), the venv
    (``sys.prefix``, at the same path so its absolute shebangs and ``pyvenv.cfg`` work),
    any site-packages outside both, and the student-side packages
    (``src/nextword``, ``src/course_sandbox``) at ``/opt/course/lib/<name>``. Never the
    course root, ``source/``, the gradebook or ``course_tools``; folders above a bind
    appear empty inside.
    """
    binds: list[tuple[str, str]] = []

    def covered(path: str) -> bool:
        return path == "/usr" or path.startswith("/usr/") or any(
            path == dest or path.startswith(dest.rstrip("/") + "/") for _, dest in binds)

    def add(host: Path | str, dest: str) -> None:
        if not os.path.exists(host) or covered(dest):
            return
        binds.append((str(Path(host).resolve()), dest))

    base = str(Path(sys.base_prefix).resolve())
    add(base, base)
    exe = str(Path(sys.executable).resolve())
    if not covered(exe):
        add(os.path.dirname(exe), os.path.dirname(exe))
    if os.path.abspath(sys.prefix) != os.path.abspath(sys.base_prefix):
        add(sys.prefix, os.path.abspath(sys.prefix))
    for folder in site.getsitepackages():
        add(folder, os.path.abspath(folder))
    for name in STUDENT_PACKAGES:
        add(_SRC / name, f"{COURSE_LIB}/{name}")
    for host, dest in binds:
        _check_bind(host, dest)
    return binds


def _python_bin_dir() -> str:
    return os.path.join(os.path.abspath(sys.prefix), "bin")


def sandbox_env(extra: dict | None = None) -> dict:
    """The whole environment of a sandboxed command: nothing of the caller's leaks in."""
    env = {
        "PATH": f"{_python_bin_dir()}:/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp/home",
        "TMPDIR": "/tmp",
        "PYTHONPATH": COURSE_LIB,
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": "/tmp/mpl",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.update({str(k): str(v) for k, v in (extra or {}).items()})
    return env


# ------------------------------------------------------------------ matplotlib's font list

MPL_DIR = "/tmp/mpl"  # sandbox_env's MPLCONFIGDIR
_FONT_LIST_SCRIPT = r"""
import sys
from matplotlib import font_manager   # builds the font list in MPLCONFIGDIR, as every sandbox would
name = f"fontlist-v{font_manager.FontManager.__version__}.json"
with open(f"{sys.argv[1]}/{name}", encoding="utf-8") as handle:
    sys.stdout.write(name + "\n" + handle.read())
"""
_font_list_lock = threading.Lock()  # the builder's sandbox and sandbox_status's probe start without it
_font_list: list = []  # [] until built; then [(file name, bytes)] or [None] when it could not be


def font_list() -> tuple[str, bytes] | None:
    """matplotlib's font list as a fresh sandbox builds it (file name, contents), built once per process.

    Every sandbox that imports ``matplotlib.pyplot`` would otherwise scan the system's fonts into its empty
    ``MPLCONFIGDIR`` (0.19 s of its CPU time, on every submission graded); each new sandbox gets this copy instead.
    It is built in a sandbox of its own, by matplotlib and nothing else, so it lists only the fonts a sandbox sees.
    """
    with _font_list_lock:
        if not _font_list:
            _font_list.append(_build_font_list())
        return _font_list[0]


def adopt_font_list(fonts: tuple[str, bytes] | None) -> None:
    """Use ``fonts`` (what :func:`font_list` returned in the process that started this one) instead of building it."""
    with _font_list_lock:
        if not _font_list and fonts is not None:
            _font_list.append(fonts)


def _build_font_list() -> tuple[str, bytes] | None:
    if not sandbox_status()[0]:
        return None  # no sandbox will start either (unsafe mode has a fresh MPLCONFIGDIR of its own)
    problem = "it did not print one"
    try:
        with Sandbox([sys.executable, "-c", _FONT_LIST_SCRIPT, MPL_DIR], with_font_list=False) as box:
            out, _ = box.process.communicate(timeout=60)
            status = box.process.returncode
        name, _, text = out.partition(b"\n")
        name = name.decode("ascii")
        json.loads(text)
        if status == 0 and re.fullmatch(r"fontlist-v[\w.]+\.json", name) and len(text) < 16 * 1024**2:
            return name, text
    except (OSError, ValueError, SandboxUnavailable, subprocess.TimeoutExpired) as error:
        problem = str(error)
    _warn_once(f"matplotlib's font list could not be built once for all sandboxes ({problem}); each builds its own")
    return None


# ------------------------------------------------------------------ uids

_uid_lock = threading.Lock()


def _uid_counter() -> str:
    """The counter file: in a root-owned folder no one else can write (made 0700 if missing)."""
    for folder in UID_COUNTER_DIRS:
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
            info = os.lstat(folder)
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode) and info.st_uid == 0 and not info.st_mode & 0o022:
            return os.path.join(folder, "next-uid")
    raise SandboxUnavailable(f"no root-owned folder for the sandbox uid counter ({', '.join(UID_COUNTER_DIRS)})")


def _take_uid() -> int:
    """The next sandbox uid: one counter for every grading process on the host (a locked file)."""
    path = _uid_counter()
    with _uid_lock:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            text = os.pread(fd, 64, 0).decode(errors="replace").strip()
            offset = int(text) if text.isdigit() else 0
            offset %= SANDBOX_UID_COUNT
            following = str((offset + 1) % SANDBOX_UID_COUNT).encode()
            os.ftruncate(fd, 0)
            os.pwrite(fd, following, 0)
            return SANDBOX_UID_BASE + offset
        finally:
            os.close(fd)  # releases the lock


# ------------------------------------------------------------------ processes


def _pidfd_open(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _signal(pidfd: int | None, pid: int, sig: int) -> None:
    try:
        if pidfd is not None:
            signal.pidfd_send_signal(pidfd, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _status_fields(pid: int) -> dict[str, str]:
    try:
        with open(f"/proc/{pid}/status") as handle:
            return dict(line.rstrip("\n").split(":\t", 1) for line in handle if ":\t" in line)
    except OSError:
        return {}


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(p) for p in handle.read().split()]
    except OSError:
        pass
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and _status_fields(int(entry)).get("PPid") == str(pid):
            found.append(int(entry))
    return found


def _normalize(code: int | None) -> int | None:
    """A process ended by signal N reports 128+N, as bwrap's reaper (and a shell) does."""
    return 128 - code if code is not None and code < 0 else code


def _clamped(limit: int, value: int) -> int:
    """Never ask for more than the current hard limit (raising it would need privileges)."""
    _, hard = resource.getrlimit(limit)
    return value if hard == resource.RLIM_INFINITY else min(value, hard)


class Sandbox:
    """One throwaway sandbox running one command.

    ``binds`` (read-only, ``(host, sandbox_path)``) defaults to :func:`python_binds`;
    a list given replaces it (pass ``python_binds() + [...]`` to add to it). ``env``
    defaults to :func:`sandbox_env` and is the command's whole environment. Only
    ``pass_fds`` and stdin (``/dev/null``), stdout and stderr (pipes the caller must
    drain) are inherited.
    """

    def __init__(self, argv: list[str], *, limits: Limits = Limits(), binds: list[tuple[str, str]] | None = None,
                 env: dict | None = None, pass_fds: tuple[int, ...] = (), cwd: str = WORKDIR,
                 unsafe_no_sandbox: bool = False, with_font_list: bool = True):
        if not argv:
            raise ValueError("argv is empty")
        self.argv = [str(a) for a in argv]
        self.limits = limits
        self.binds = list(binds) if binds is not None else None
        self.env = dict(env) if env is not None else None
        self.pass_fds = tuple(pass_fds)
        self.cwd = cwd
        self.unsafe_no_sandbox = unsafe_no_sandbox
        self.with_font_list = with_font_list  # start with matplotlib's font list in its MPLCONFIGDIR (font_list())
        self.process: subprocess.Popen | None = None
        self.pid: int | None = None  # host pid of bwrap (or of the command, when unsafe)
        self.init_pid: int | None = None  # host pid of the pid namespace's reaper (pid 1 inside)
        self.uid: int | None = None  # host uid the sandboxed processes run as
        self.stdout = self.stderr = None
        self._init_pidfd: int | None = None
        self._command_pidfd: int | None = None
        self._command_pid: int | None = None
        self._unsafe_tmp: str | None = None
        self.cgroup = None  # its course_tools.grading.cgroups.SandboxCgroup, when one could be made
        self._done = False
        self._cpu_seen = 0.0  # CPU seconds last measured (kept once the sandbox is gone)
        self._wait_seen = 0.0  # seconds spent waiting for a CPU, last measured
        self._cpu_read_at = self._wait_read_at = -math.inf  # time.monotonic() of those measurements

    # ---------------------------------------------------------------- start

    def start(self) -> "Sandbox":
        if self.process is not None:
            raise RuntimeError("a Sandbox runs one command once")
        if self.unsafe_no_sandbox:
            return self._start_unsafe()
        ok, reason = sandbox_status()
        if not ok:
            raise SandboxUnavailable(reason)
        return self._start_bwrap()

    def _start_bwrap(self) -> "Sandbox":
        binds = python_binds() if self.binds is None else self.binds
        for host, dest in binds:
            _check_bind(host, dest)
        env = sandbox_env() if self.env is None else self.env
        _, options = _bwrap_info()
        root = _is_root()
        if root:
            self.uid = inner_uid = _take_uid()
        else:
            self.uid, inner_uid = os.getuid(), _USERNS_UID
        try:
            self.cgroup = _make_cgroup(self.limits)
            self._spawn(binds, env, options, root, inner_uid)
        except BaseException:
            self._release()
            raise
        return self

    def _spawn(self, binds, env, options, root: bool, inner_uid: int) -> None:
        lim = self.limits
        args = [_bwrap(), "--die-with-parent", "--new-session",
                "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
                "--hostname", "sandbox"]
        if root:
            # No user namespace: setpriv (below) needs to switch to a uid bwrap's map would not hold.
            args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
                     "--cap-add", "CAP_SETPCAP"]
        else:
            args += ["--unshare-user", "--uid", str(inner_uid), "--gid", str(inner_uid)]
            if "--disable-userns" in options:
                args += ["--disable-userns"]
        # System: /usr and the merged-/usr links; no other host directory.
        args += ["--ro-bind", "/usr", "/usr"]
        for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            host = "/" + name
            if os.path.islink(host):
                args += ["--symlink", os.readlink(host), host]
            elif os.path.isdir(host):
                args += ["--ro-bind", host, host]
        args += ["--proc", "/proc", "--dev", "/dev"]
        sized = ["--size"] if "--size" in options else []
        args += ["--perms", "1777"] + (sized + [str(lim.tmp_bytes)] if sized else []) + ["--tmpfs", "/tmp"]
        args += ["--perms", "1777"] + (sized + [str(min(lim.tmp_bytes, 64 * 1024**2))] if sized else []) + [
            "--tmpfs", "/dev/shm"]
        made = {"/", "/tmp", "/dev", "/proc", "/usr"}
        for folder in ("/tmp/work", "/tmp/home"):
            args += ["--perms", "0777", "--dir", folder]
            made.add(folder)
        # /etc: the loader cache, the time zone, and generated identity/resolver files.
        args += ["--perms", "0755", "--dir", "/etc"]
        made.add("/etc")
        args += ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]
        args += ["--ro-bind-try", "/etc/fonts", "/etc/fonts"]  # matplotlib asks fc-list for system fonts
        if os.path.islink("/etc/localtime") and os.path.realpath("/etc/localtime").startswith("/usr/"):
            args += ["--symlink", os.readlink("/etc/localtime"), "/etc/localtime"]
        else:
            args += ["--ro-bind-try", "/etc/localtime", "/etc/localtime"]
        data_fds = []
        for name, text in _etc_files(inner_uid).items():
            rfd, wfd = os.pipe()
            os.write(wfd, text.encode())
            os.close(wfd)
            data_fds.append(rfd)
            args += ["--perms", "0644", "--ro-bind-data", str(rfd), f"/etc/{name}"]
        fonts = font_list() if self.with_font_list and env.get("MPLCONFIGDIR") == MPL_DIR else None
        if fonts is not None:
            # a writable folder (matplotlib refuses a read-only one), and a copy of the list in it
            name, text = fonts
            fd = os.memfd_create("fontlist")  # not a pipe: the list may be larger than a pipe's buffer
            os.write(fd, text)
            os.lseek(fd, 0, os.SEEK_SET)
            data_fds.append(fd)
            args += ["--perms", "0777", "--dir", MPL_DIR, "--perms", "0644", "--file", str(fd), f"{MPL_DIR}/{name}"]
            made.add(MPL_DIR)
        # The read-only binds, parents first; folders above them are created empty.
        bound: list[str] = []
        for host, dest in sorted(binds, key=lambda b: b[1].count("/")):
            dest = os.path.normpath(dest)
            parts = Path(dest).parents
            for parent in reversed([str(p) for p in parts]):
                if parent in made or any(parent.startswith(b + "/") for b in bound):
                    continue
                args += ["--perms", "0755", "--dir", parent]
                made.add(parent)
            args += ["--ro-bind", host, dest]
            bound.append(dest)
        cwd = os.path.normpath(self.cwd)
        if cwd.startswith("/tmp/") and cwd not in made and not any(cwd.startswith(b + "/") or cwd == b for b in bound):
            args += ["--perms", "0777", "--dir", cwd]
        args += ["--chdir", cwd]
        info_r, info_w = os.pipe()
        args += ["--info-fd", str(info_w)]
        program = _seccomp_program()[0]
        if program is not None:
            # bwrap reads the program from the pipe and loads it last, just before the command starts.
            seccomp_r, seccomp_w = os.pipe()
            os.write(seccomp_w, program)  # a few hundred bytes: far below a pipe's buffer
            os.close(seccomp_w)
            data_fds.append(seccomp_r)
            args += ["--seccomp", str(seccomp_r)]
        args += ["--"]
        # Inside: limits for every process, then (as root) the drop to the sandbox uid.
        args += [_tool("prlimit"),
                 f"--as={_clamped(resource.RLIMIT_AS, lim.memory_bytes)}",
                 f"--nproc={_clamped(resource.RLIMIT_NPROC, lim.processes)}",
                 f"--cpu={_clamped(resource.RLIMIT_CPU, lim.cpu_seconds)}",
                 f"--fsize={_clamped(resource.RLIMIT_FSIZE, lim.file_bytes)}",
                 f"--nofile={_clamped(resource.RLIMIT_NOFILE, lim.open_files)}",
                 "--core=0", "--"]
        if root:
            args += [_tool("setpriv"), f"--reuid={inner_uid}", f"--regid={inner_uid}", "--clear-groups",
                     "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
        args += _default_signals() + self.argv
        if self.cgroup is not None:
            # A shell joins the cgroup, then becomes bwrap: the sandbox is born inside it.
            args = [_tool("sh"), "-c", JOIN_SCRIPT, "sh", *self.cgroup.procs_files, "--", *args]
        try:
            self.process = subprocess.Popen(
                args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                pass_fds=tuple(self.pass_fds) + (info_w, *data_fds), start_new_session=True)
        except BaseException:
            os.close(info_r)
            raise
        finally:
            os.close(info_w)
            for fd in data_fds:
                os.close(fd)
        self.pid = self.process.pid
        self.stdout, self.stderr = self.process.stdout, self.process.stderr
        try:
            info = _read_all(info_r, timeout=30)
        finally:
            os.close(info_r)
        try:
            self.init_pid = int(json.loads(info)["child-pid"])
        except (ValueError, KeyError, TypeError):
            # bwrap gave up before creating the sandbox: report what it said.
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            message = self.process.stderr.read().decode(errors="replace").strip()
            self._release()
            raise SandboxUnavailable(f"bwrap could not build the sandbox: {message or 'no message'}. {INSTALL_HINT}")
        pidfd = _pidfd_open(self.init_pid)
        if pidfd is not None and _status_fields(self.init_pid).get("PPid") != str(self.pid):
            os.close(pidfd)  # it is already gone and its pid reused: never signal that one
            pidfd, self.init_pid = None, None
        self._init_pidfd = pidfd

    def _start_unsafe(self) -> "Sandbox":
        """A plain subprocess in a new session, /tmp mapped onto a fresh host temp dir."""
        self._unsafe_tmp = tmp = tempfile.mkdtemp(prefix="course-unsafe-")

        def host(path: str) -> str:
            if path == "/tmp" or path.startswith("/tmp/"):
                return tmp + path[len("/tmp"):]
            return path

        env = sandbox_env() if self.env is None else dict(self.env)
        for key in ("HOME", "TMPDIR", "MPLCONFIGDIR"):
            if key in env:
                env[key] = host(env[key])
        if "PYTHONPATH" in env:
            env["PYTHONPATH"] = os.pathsep.join(
                str(_SRC) if entry == COURSE_LIB else host(entry) for entry in env["PYTHONPATH"].split(os.pathsep))
        for folder in ("/tmp/work", "/tmp/home", self.cwd):
            if folder.startswith("/tmp"):
                os.makedirs(host(folder), exist_ok=True)
        for source, dest in (self.binds or []):
            if dest.startswith("/tmp/") and not os.path.lexists(host(dest)):
                os.makedirs(os.path.dirname(host(dest)), exist_ok=True)
                os.symlink(source, host(dest))
        self.uid = os.getuid()
        self.process = subprocess.Popen(
            _default_signals() + self.argv, env=env, cwd=host(self.cwd), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, pass_fds=self.pass_fds, start_new_session=True)
        self.pid = self._command_pid = self.process.pid
        self.stdout, self.stderr = self.process.stdout, self.process.stderr
        return self

    # ---------------------------------------------------------------- control

    def _find_command(self, timeout: float = 5.0) -> None:
        """Host pid (and pidfd) of the command: the reaper's child that is pid 2 inside."""
        deadline = time.monotonic() + timeout
        while self._command_pid is None and self.init_pid is not None:
            for child in _children(self.init_pid):
                fields = _status_fields(child)
                if fields.get("PPid") == str(self.init_pid) and fields.get("NSpid", "").split()[-1:] == ["2"]:
                    pidfd = _pidfd_open(child)
                    if pidfd is not None and _status_fields(child).get("PPid") != str(self.init_pid):
                        os.close(pidfd)
                        continue
                    self._command_pid, self._command_pidfd = child, pidfd
                    return
            if self.process.poll() is not None or time.monotonic() > deadline:
                return
            time.sleep(0.002)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by every process of the sandbox together.

        From its cgroup where it has one; else the sum over its live process tree (each process's
        own time and its reaped children's) read from /proc.
        """
        if self._done or time.monotonic() - self._cpu_read_at < FRESH_READING:
            return self._cpu_seen
        self._cpu_read_at = time.monotonic()
        if self.cgroup is not None:
            used = self.cgroup.cpu_seconds()
            if used is not None:
                self._cpu_seen = max(self._cpu_seen, used)
                return self._cpu_seen
        if self.pid is not None:
            self._cpu_seen = max(self._cpu_seen, _tree_cpu_seconds(self.pid))
        return self._cpu_seen

    def cpu_wait_seconds(self) -> float:
        """Time its processes were ready to run but waited for a CPU the host gave to others.

        Read from each live process's ``/proc/<pid>/task/*/schedstat`` (never decreasing: a process
        that ends takes its figure along). Wall-clock backstops leave this time out, so a busy host
        does not stop code that would finish in time on a quiet one.
        """
        if self.pid is not None and not self._done and time.monotonic() - self._wait_read_at >= FRESH_READING:
            self._wait_read_at = time.monotonic()
            pids = self.cgroup.pids() if self.cgroup is not None else tree_pids(self.pid)
            self._wait_seen = max(self._wait_seen, sum(_run_queue_seconds(pid) for pid in pids))
        return self._wait_seen

    def interrupt(self) -> None:
        """SIGINT to the sandboxed command itself (KeyboardInterrupt in a Python inside)."""
        if self.process is None or self.process.poll() is not None:
            return
        if not self.unsafe_no_sandbox:
            self._find_command()
        if self._command_pid is not None:
            _signal(self._command_pidfd, self._command_pid, signal.SIGINT)

    def kill(self) -> None:
        """Kill everything started inside (idempotent); returns once none of it is left."""
        if self.process is None or self._done:
            return
        if self.unsafe_no_sandbox:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.process.wait()
            self._release()
            return
        # SIGKILL to the pid namespace's init: the kernel kills every process in the
        # namespace and bwrap (its parent) exits once the init is gone.
        if self._init_pidfd is not None:
            _signal(self._init_pidfd, self.init_pid, signal.SIGKILL)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        if self.process.poll() is None:
            # Backstop: bwrap's --die-with-parent makes the init die with it.
            self.process.kill()
            self.process.wait()
        self._await_empty_namespace()
        self._release()

    def _await_empty_namespace(self, timeout: float = 5.0) -> None:
        """Its init exits last: once the init is gone, nothing is left in the namespace."""
        if self._init_pidfd is not None:
            select.select([self._init_pidfd], [], [], timeout)
        elif self.init_pid is not None:
            deadline = time.monotonic() + timeout
            while _status_fields(self.init_pid).get("PPid") in (str(self.pid), "1", "0") and time.monotonic() < deadline:
                time.sleep(0.005)

    def wait(self, timeout: float | None = None) -> int | None:
        """The command's exit status (128+N if a signal N ended it), or None on timeout."""
        if self.process is None:
            raise RuntimeError("not started")
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        self._await_empty_namespace()
        self._release()
        return self.returncode

    @property
    def returncode(self) -> int | None:
        return None if self.process is None else _normalize(self.process.poll())

    def _release(self) -> None:
        if self._done:
            return
        self._cpu_read_at = -math.inf
        self.cpu_seconds()  # the last figure, while the cgroup still holds it
        self._done = True
        for fd in (self._init_pidfd, self._command_pidfd):
            if fd is not None:
                os.close(fd)
        self._init_pidfd = self._command_pidfd = None
        if self.cgroup is not None:
            self.cgroup.remove()
        if self._unsafe_tmp is not None:
            shutil.rmtree(self._unsafe_tmp, ignore_errors=True)
            self._unsafe_tmp = None

    def __enter__(self) -> "Sandbox":
        return self if self.process is not None else self.start()

    def __exit__(self, *exc) -> None:
        self.kill()
        for pipe in (self.stdout, self.stderr):
            if pipe is not None:
                pipe.close()

    def __del__(self):
        try:
            if self.process is not None and not self._done and self.process.poll() is None:
                self.kill()
        except Exception:
            pass


def _read_all(fd: int, timeout: float) -> bytes:
    chunks, deadline = [], time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        try:
            chunk = os.read(fd, 65536)
        except OSError as error:
            if error.errno == errno.EINTR:
                continue
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _etc_files(uid: int) -> dict[str, str]:
    user = "sandbox" if uid != _USERNS_UID else "nobody"
    passwd = "root:x:0:0:root:/root:/usr/sbin/nologin\n"
    group = "root:x:0:\n"
    if uid != _USERNS_UID:
        passwd += f"{user}:x:{uid}:{uid}:student code:/tmp/home:/usr/sbin/nologin\n"
        group += f"{user}:x:{uid}:\n"
    passwd += f"nobody:x:{_USERNS_UID}:{_USERNS_UID}:nobody:/tmp/home:/usr/sbin/nologin\n"
    group += f"nogroup:x:{_USERNS_UID}:\n"
    return {
        "passwd": passwd,
        "group": group,
        "hosts": "127.0.0.1\tlocalhost sandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n",
        "nsswitch.conf": "passwd: files\ngroup: files\nshadow: files\nhosts: files\n",
    }


# ------------------------------------------------------------------ status


_status_lock = threading.Lock()
_status: tuple[bool, str] | None = None


def sandbox_status() -> tuple[bool, str]:
    """(True, what kind of sandbox runs here) or (False, why not and how to fix it).

    Runs a trivial sandboxed ``true`` once per process, with every option a real
    sandbox uses; the answer is cached.
    """
    global _status
    with _status_lock:
        if _status is None:
            _status = _probe()
        return _status


def _probe() -> tuple[bool, str]:
    if not sys.platform.startswith("linux"):
        return False, f"sandboxing needs Linux (this is {sys.platform}). {INSTALL_HINT}"
    if _bwrap() is None:
        return False, f"bubblewrap (bwrap) is not installed. {INSTALL_HINT}"
    missing = [tool for tool in (("prlimit", "setpriv", "sh") if _is_root() else ("prlimit", "sh")) if _tool(tool) is None]
    if missing:
        return False, f"{', '.join(missing)} missing (Debian: apt-get install util-linux). {INSTALL_HINT}"
    try:
        version, _ = _bwrap_info()
        probe = Sandbox(["true"], binds=[], env=sandbox_env({"PATH": "/usr/bin:/bin"}), with_font_list=False)
        probe._start_bwrap()
        try:
            out, err = probe.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            probe.kill()
            return False, f"a trivial sandboxed `true` did not finish in 20 s. {INSTALL_HINT}"
        code = probe.wait()
        uid = probe.uid
    except SandboxUnavailable as error:
        return False, str(error)
    except OSError as error:
        return False, f"could not run bwrap: {error}. {INSTALL_HINT}"
    if code != 0:
        return False, (f"a trivial sandboxed `true` failed (exit {code}): "
                       f"{err.decode(errors='replace').strip() or 'no message'}. {INSTALL_HINT}")
    _, seccomp = _seccomp_program()
    has_cgroup, cgroup = cgroup_status()
    limits = Limits()
    cgroup = (f"per-sandbox {cgroup}: {limits.memory_bytes / 1024**3:g} GB for all its processes, "
              f"{limits.processes + 2} tasks, {limits.cpus:g} CPU, budgets in CPU time" if has_cgroup else
              f"!!! NO CGROUP PER SANDBOX ({cgroup}): memory and processes limited per process only, "
              "no CPU quota !!!")
    seccomp = seccomp if _seccomp_program()[0] is not None else f"!!! {seccomp} !!!"
    if _is_root():
        who = f"root: runs as uid {uid} (a fresh uid per sandbox from {SANDBOX_UID_BASE}, never reused, via setpriv)"
    else:
        who = f"user namespace: runs as uid {_USERNS_UID} inside (uid {uid} outside)"
    return True, f"{version}, {who}; {seccomp}; {cgroup}"
