"""The bubblewrap sandbox that runs student code: real bwrap, real Python inside, no mocks.

Each test runs this venv's interpreter (``sys.executable``) inside a sandbox and
checks from both sides: what the code inside can see and do, and what is left on
the host afterwards.
"""

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from course_tools.sandbox import Limits, Sandbox, python_binds, sandbox_env, sandbox_status

COURSE_ROOT = Path(__file__).resolve().parent.parent
OK, STATUS = sandbox_status()
needs_bwrap = pytest.mark.skipif(
    not OK, reason=f"!!! SANDBOX UNAVAILABLE, STUDENT CODE ISOLATION IS UNTESTED !!! {STATUS}")


def run(code, *args, timeout=30, **kwargs):
    """Run ``python -c code args`` in a sandbox; (exit status, stdout, stderr)."""
    with Sandbox([sys.executable, "-c", textwrap.dedent(code), *map(str, args)], **kwargs) as box:
        try:
            out, err = box.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            box.kill()
            raise
        return box.wait(), out.decode(), err.decode()


def processes_of(uid):
    """Host pids of every process running as ``uid``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/status") as handle:
                    fields = dict(line.split(":", 1) for line in handle if ":" in line)
            except OSError:
                continue
            if int(fields["Uid"].split()[0]) == uid:
                found.append(int(entry))
    return found


def gone(pid):
    try:
        with open(f"/proc/{pid}/status") as handle:
            return "State:\tZ" in handle.read()
    except FileNotFoundError:
        return True


def read_line(box, timeout=15):
    """One line of the sandbox's stdout, without risking a hang."""
    import select
    deadline = time.monotonic() + timeout
    line = b""
    fd = box.stdout.fileno()
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        assert left > 0 and select.select([fd], [], [], left)[0], f"no output in {timeout} s (so far {line!r})"
        chunk = os.read(fd, 1)
        assert chunk, f"stdout closed (so far {line!r}); stderr: {box.stderr.read().decode()}"
        line += chunk
    return line.decode().strip()


def test_status_is_reported(capsys):
    with capsys.disabled():
        print(f"\n[sandbox] {'available' if OK else 'UNAVAILABLE'}: {STATUS}")
    assert isinstance(OK, bool) and STATUS
    if not OK:
        assert "apt-get install bubblewrap" in STATUS


def test_python_binds_expose_no_secret():
    binds = python_binds()
    hosts = [Path(host) for host, _ in binds]
    dests = [dest for _, dest in binds]
    assert Path(sys.base_prefix).resolve() in hosts
    assert "/opt/course/lib/nextword" in dests and "/opt/course/lib/course_sandbox" in dests
    for host in hosts:
        assert host not in (Path("/"), Path("/root"), COURSE_ROOT, COURSE_ROOT.parent)
        for secret in ("source", "nbgrader_config.py", "gradebook.db", "src/course_tools", ".git"):
            assert not (COURSE_ROOT / secret).resolve().is_relative_to(host), (host, secret)
            assert not host.is_relative_to((COURSE_ROOT / secret).resolve()), (host, secret)
        assert not (COURSE_ROOT / "src").resolve().is_relative_to(host), host
    env = sandbox_env({"EXTRA": 1})
    assert env["PYTHONPATH"] == "/opt/course/lib" and env["EXTRA"] == "1"
    assert env["PATH"].split(":")[0] == str(Path(sys.prefix) / "bin")
    assert "HOME=/root" not in {f"{k}={v}" for k, v in env.items()}


@needs_bwrap
@pytest.mark.parametrize("host", [COURSE_ROOT, COURSE_ROOT / "source", COURSE_ROOT / "src" / "course_tools",
                                  COURSE_ROOT / "nbgrader_config.py", COURSE_ROOT / "submitted",
                                  Path("/root"), Path(tempfile.gettempdir()), Path("/")])
def test_binding_a_secret_is_refused(host):
    with pytest.raises(ValueError, match="refusing"):
        Sandbox([sys.executable, "-c", "pass"], binds=python_binds() + [(str(host), "/tmp/work/x")]).start()


@needs_bwrap
def test_numpy_matplotlib_and_nextword_work_inside():
    code, out, err = run("""
        import numpy as np, matplotlib, matplotlib.pyplot as plt, nextword
        model = nextword.pretrained_model()
        fig, ax = plt.subplots()
        ax.plot(np.arange(10) ** 2)
        fig.savefig("plot.png")
        import os
        print(matplotlib.get_backend(), type(model).__name__, os.path.getsize("plot.png") > 1000, os.getcwd())
    """)
    assert code == 0 and err == "", err
    assert out.split() == ["Agg", "NextWordModel", "True", "/tmp/work"], (out, err)


@needs_bwrap
def test_student_code_sees_nothing_of_the_host_and_writes_nothing():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    with tempfile.NamedTemporaryFile(prefix="host-marker-") as marker:
        secrets = [COURSE_ROOT / "source", COURSE_ROOT / "nbgrader_config.py", COURSE_ROOT / "gradebook.db",
                   COURSE_ROOT / "src" / "course_tools", COURSE_ROOT / ".git", Path("/root/.bashrc"),
                   Path("/root/.gitconfig"), Path(marker.name), Path("/home"), Path("/var"), Path("/run")]
        for must_exist in secrets[:2] + secrets[3:5] + [Path(marker.name)]:
            assert must_exist.exists(), f"the test needs {must_exist} on the host to prove it is hidden"
        writable = [dest for _, dest in python_binds()] + ["/", "/usr", "/etc", "/root", str(COURSE_ROOT), "/opt"]
        code, out, err = run("""
            import errno, json, os, socket, sys
            port, secrets, writable, marker = int(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4]
            root = sys.argv[5]  # the course folder (its .venv is bound in), wherever the checkout lives
            report = {"uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(), "groups": os.getgroups()}
            report["visible"] = [p for p in secrets if os.path.lexists(p)]
            report["listings"] = {d: sorted(os.listdir(d)) for d in ["/", "/root", os.path.dirname(root), root, "/opt/course/lib"]}
            report["tmp"] = sorted(os.listdir("/tmp"))
            report["marker_in_tmp"] = os.path.basename(marker) in os.listdir("/tmp")
            try:
                import course_tools
                report["course_tools"] = course_tools.__file__
            except ImportError:
                report["course_tools"] = None
            written = []
            for folder in writable:
                for target in (os.path.join(folder, "planted.txt"),):
                    try:
                        with open(target, "w") as handle:
                            handle.write("x")
                        written.append(target)
                    except OSError:
                        pass
            try:
                with open("/opt/course/lib/nextword/__init__.py", "a") as handle:
                    handle.write("# patched")
                written.append("nextword/__init__.py")
            except OSError:
                pass
            report["written"] = written
            connections = {}
            for address in [("127.0.0.1", port), ("1.1.1.1", 443), ("8.8.8.8", 53)]:
                s = socket.socket()
                s.settimeout(3)
                try:
                    s.connect(address)
                    connections[str(address)] = "CONNECTED"
                except OSError as error:
                    connections[str(address)] = errno.errorcode.get(error.errno, str(error))
                s.close()
            report["connections"] = connections
            report["caps"] = [l.split()[1] for l in open("/proc/self/status") if l.startswith(("CapEff", "CapPrm", "CapBnd"))]
            report["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
            report["fds"] = sorted(int(fd) for fd in os.listdir("/proc/self/fd"))
            print(json.dumps(report))
        """, port, json.dumps([str(p) for p in secrets]), json.dumps(writable), marker.name, COURSE_ROOT)
    listener.setblocking(False)
    with pytest.raises(BlockingIOError):
        listener.accept()  # nothing from the sandbox ever reached the host's loopback
    listener.close()
    assert code == 0, err
    report = json.loads(out)
    assert report["uid"] != 0 and report["euid"] != 0 and report["gid"] != 0 and 0 not in report["groups"]
    assert report["caps"] == ["0000000000000000"] * 3
    assert report["visible"] == []
    assert report["listings"]["/root"] == [".pyenv"] or not str(Path(sys.base_prefix).resolve()).startswith("/root")
    assert report["listings"][str(COURSE_ROOT)] == [".venv"]
    assert report["listings"][str(COURSE_ROOT.parent)] == [COURSE_ROOT.name]
    assert report["listings"]["/opt/course/lib"] == ["course_sandbox", "nextword"]
    assert not {"home", "var", "run", "srv", "mnt", "media", "boot", "sys"} & set(report["listings"]["/"])
    assert report["tmp"] == ["home", "work"] and not report["marker_in_tmp"]
    assert report["course_tools"] is None
    assert report["written"] == []
    assert all(result != "CONNECTED" for result in report["connections"].values()), report["connections"]
    assert report["pids"] == [1, 2], "the sandbox sees only its own reaper and itself"
    assert report["fds"][:3] == [0, 1, 2] and len(report["fds"]) <= 4, "no descriptor of the host leaks in"


@needs_bwrap
def test_memory_file_size_open_files_and_tmp_are_limited():
    code, out, err = run("""
        import errno, json, os
        result = {}
        try:
            block = bytearray(4 * 1024**3)
            result["4GB"] = "allocated"
        except MemoryError:
            result["4GB"] = "MemoryError"
        try:
            with open("big.bin", "wb") as handle:
                handle.write(b"x" * (2 * 1024**2))
            result["fsize"] = "written"
        except OSError as error:
            result["fsize"] = errno.errorcode[error.errno]
        handles = []
        try:
            for _ in range(100):
                handles.append(open("/dev/null"))
            result["nofile"] = "opened 100"
        except OSError as error:
            result["nofile"] = errno.errorcode[error.errno]
        for handle in handles:
            handle.close()
        try:
            for i in range(20):
                with open(f"/tmp/fill{i}", "wb") as handle:
                    handle.write(b"x" * (1024**2 - 4096))
            result["tmp"] = "filled"
        except OSError as error:
            result["tmp"] = errno.errorcode[error.errno]
        print(json.dumps(result))
    """, limits=Limits(file_bytes=1024**2, open_files=32, tmp_bytes=8 * 1024**2))
    assert code == 0, err
    assert json.loads(out) == {"4GB": "MemoryError", "fsize": "EFBIG", "nofile": "EMFILE", "tmp": "ENOSPC"}


@needs_bwrap
def test_a_fork_bomb_is_contained_and_killed():
    code = """
        import os, sys, time
        children = 0
        try:
            while True:
                if os.fork() == 0:
                    time.sleep(60)
                    os._exit(0)
                children += 1
        except OSError as error:
            print(children, type(error).__name__, flush=True)
        time.sleep(60)
    """
    box = Sandbox([sys.executable, "-c", textwrap.dedent(code)], limits=Limits(processes=12)).start()
    try:
        children, error = read_line(box).split()
        assert int(children) < 12 and error == "BlockingIOError"
        assert len(processes_of(box.uid)) == int(children) + 1
    finally:
        box.kill()
    assert processes_of(box.uid) == []


@needs_bwrap
def test_cpu_time_is_limited():
    start = time.monotonic()
    code, out, err = run("while True: pass", limits=Limits(cpu_seconds=1), timeout=15)
    assert code in (128 + signal.SIGXCPU, 128 + signal.SIGKILL), (code, err)
    assert time.monotonic() - start < 10


DAEMON = """
    import os, sys, time
    read, write = os.pipe()
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.write(write, b"x")
            time.sleep(120)
        os._exit(0)
    os.read(read, 1)
    print("daemon running", flush=True)
    if sys.argv[1] == "stay":
        time.sleep(120)
"""


@needs_bwrap
def test_kill_leaves_no_process_behind_not_even_a_daemon():
    box = Sandbox([sys.executable, "-c", textwrap.dedent(DAEMON), "stay"]).start()
    other = Sandbox([sys.executable, "-c", "import time; time.sleep(120)"]).start()
    try:
        assert box.uid != other.uid, "each live sandbox has a uid of its own"
        assert read_line(box) == "daemon running"
        inside = processes_of(box.uid)
        assert len(inside) >= 2, "the command and its double-forked, setsid grandchild (and a zombie)"
        box.kill()
        assert processes_of(box.uid) == []
        assert gone(box.pid) and gone(box.init_pid)
        assert box.wait(timeout=1) == 128 + signal.SIGKILL
        box.kill()  # idempotent
        assert len(processes_of(other.uid)) == 1, "killing one sandbox leaves the other alone"
    finally:
        box.kill()
        other.kill()
    assert processes_of(other.uid) == []


@needs_bwrap
def test_a_daemon_dies_with_the_command_that_left_it():
    box = Sandbox([sys.executable, "-c", textwrap.dedent(DAEMON), "leave"]).start()
    try:
        assert read_line(box) == "daemon running"
        assert box.wait(timeout=10) == 0
        assert processes_of(box.uid) == []
    finally:
        box.kill()


@needs_bwrap
def test_an_inherited_socket_is_the_channel_in_and_out():
    judge, student = socket.socketpair()
    code = """
        import socket, sys
        channel = socket.socket(fileno=int(sys.argv[1]))
        question = channel.recv(100)
        channel.sendall(b"answer to " + question)
    """
    with Sandbox([sys.executable, "-c", textwrap.dedent(code), str(student.fileno())],
                 pass_fds=(student.fileno(),)) as box:
        student.close()
        judge.settimeout(15)
        judge.sendall(b"ping")
        assert judge.recv(100) == b"answer to ping"
        assert box.wait(timeout=10) == 0, box.stderr.read()
    judge.close()


@needs_bwrap
@pytest.mark.parametrize("grader_sigint", [signal.SIG_DFL, signal.SIG_IGN], ids=["foreground", "background-grader"])
def test_interrupt_raises_keyboard_interrupt_inside(grader_sigint):
    code = """
        import time
        try:
            print("ready", flush=True)
            time.sleep(60)
        except KeyboardInterrupt:
            print("KeyboardInterrupt", flush=True)
            raise SystemExit(3)
    """
    # A grader started as `cmd &` from a script ignores SIGINT, and its children inherit that.
    previous = signal.signal(signal.SIGINT, grader_sigint)
    try:
        box = Sandbox([sys.executable, "-c", textwrap.dedent(code)]).start()
    finally:
        signal.signal(signal.SIGINT, previous)
    with box:
        assert read_line(box) == "ready"
        box.interrupt()
        assert read_line(box) == "KeyboardInterrupt"
        assert box.wait(timeout=10) == 3


def test_unsafe_mode_has_the_same_interface_and_kill_takes_the_group():
    code = """
        import subprocess, sys, nextword
        try:
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
            print(child.pid, flush=True)
            import time; time.sleep(60)
        except KeyboardInterrupt:
            print("KeyboardInterrupt", flush=True)
            time.sleep(60)
    """
    with Sandbox([sys.executable, "-c", textwrap.dedent(code)], unsafe_no_sandbox=True) as box:
        child = int(read_line(box))
        box.interrupt()
        assert read_line(box) == "KeyboardInterrupt"
        box.kill()
        assert box.wait(timeout=1) == 128 + signal.SIGKILL
    deadline = time.monotonic() + 5
    while not gone(child) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert gone(child)


@needs_bwrap
def test_startup_overhead_is_measured(capsys):
    def timed(start):
        began = time.perf_counter()
        start()
        return time.perf_counter() - began

    def outside():
        subprocess.run([sys.executable, "-c", "pass"], check=True, env=sandbox_env({"PYTHONPATH": ""}))

    def inside():
        assert run("pass")[0] == 0

    rounds = 5
    host = [timed(outside) for _ in range(rounds)]
    boxed = [timed(inside) for _ in range(rounds)]
    with capsys.disabled():
        print(f"\n[sandbox] `python -c pass`: outside median {statistics.median(host) * 1000:.0f} ms "
              f"(min {min(host) * 1000:.0f}), inside median {statistics.median(boxed) * 1000:.0f} ms "
              f"(min {min(boxed) * 1000:.0f}); overhead ~{(statistics.median(boxed) - statistics.median(host)) * 1000:.0f} ms")


@needs_bwrap
def test_nothing_survives_a_grader_that_dies_without_cleaning_up():
    grader = """
        import sys, textwrap
        from course_tools.sandbox import Sandbox
        box = Sandbox([sys.executable, "-c", sys.argv[1], "stay"]).start()
        assert box.stdout.readline() == b"daemon running\\n"
        print(box.uid, flush=True)
        import time; time.sleep(60)
    """
    process = subprocess.Popen([sys.executable, "-c", textwrap.dedent(grader), textwrap.dedent(DAEMON)],
                               stdout=subprocess.PIPE)
    try:
        uid = int(process.stdout.readline())
        assert len(processes_of(uid)) >= 2
    finally:
        process.kill()  # SIGKILL: no finally, no atexit, no __del__ runs in the grader
        process.wait()
    deadline = time.monotonic() + 5
    while processes_of(uid) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert processes_of(uid) == [], "bwrap's --die-with-parent takes the whole sandbox down"
