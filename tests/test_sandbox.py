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

from course_tools.grading.sandbox import Limits, Sandbox, font_list, python_binds, sandbox_env, sandbox_status

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


def test_the_sandbox_environment_leaves_out_the_graders_course_variables(monkeypatch):
    """The student's kernel gets sandbox_env() and nothing of the grader's environment: COURSE_RUN_STUDIES=1 (which makes
    every Going-further study run, for the reader's edition) set where grading runs must not make grading slow."""
    from nextword.studies import RUN_STUDIES

    monkeypatch.setenv(RUN_STUDIES, "1")
    monkeypatch.setenv("COURSE_SECRET_FOR_THE_TEST", "x")
    assert not [name for name in sandbox_env() if name.startswith("COURSE")], sandbox_env()


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
def test_matplotlib_starts_from_the_font_list_built_once_and_finds_its_fonts():
    """Each sandbox gets a copy of the font list a sandbox of its own built (``font_list``): matplotlib reads it rather
    than scanning the system's fonts again, and every font it lists is one the sandbox can open."""
    name, text = font_list()
    assert json.loads(text)["ttflist"], "an empty font list"
    code, out, err = run(f"""
        import json, os, time
        path = "/tmp/mpl/{name}"
        before = open(path, "rb").read(), os.stat(path).st_mtime_ns
        import matplotlib.pyplot as plt
        from matplotlib import font_manager
        fig, ax = plt.subplots()
        ax.set_title("a title")
        fig.savefig("plot.png")
        after = open(path, "rb").read(), os.stat(path).st_mtime_ns
        listed = [font.fname for font in font_manager.fontManager.ttflist]
        print(json.dumps({{"untouched": before == after, "fonts": len(listed),
                          "missing": [f for f in listed if not os.path.isfile(f)],
                          "found": os.path.isfile(font_manager.findfont("DejaVu Sans"))}}))
    """)
    assert code == 0 and err == "", err
    seen = json.loads(out)
    assert seen["untouched"] and seen["fonts"] > 0 and seen["missing"] == [] and seen["found"], seen


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
            report = {"uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(), "groups": os.getgroups()}
            report["visible"] = [p for p in secrets if os.path.lexists(p)]
            course_root = sys.argv[5]
            listed = ["/", "/root", os.path.dirname(course_root), course_root, "/opt/course/lib"]
            report["listings"] = {d: sorted(os.listdir(d)) if os.path.isdir(d) else None for d in listed}
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
        """, port, json.dumps([str(p) for p in secrets]), json.dumps(writable), marker.name, str(COURSE_ROOT))
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
    # above the venv's bind, the course folder and its parent exist but show nothing else
    venv_inside = Path(sys.prefix).resolve().is_relative_to(COURSE_ROOT)
    assert report["listings"][str(COURSE_ROOT)] == ([Path(sys.prefix).resolve().relative_to(COURSE_ROOT).parts[0]]
                                                    if venv_inside else None)
    own_tmp = {"home", "work", "mpl"} if str(COURSE_ROOT.parent) == "/tmp" else set()  # the sandbox's private /tmp
    assert set(report["listings"][str(COURSE_ROOT.parent)] or []) - own_tmp <= {COURSE_ROOT.name}
    assert report["listings"]["/opt/course/lib"] == ["course_sandbox", "nextword"]
    assert not {"home", "var", "run", "srv", "mnt", "media", "boot", "sys"} & set(report["listings"]["/"])
    # the sandbox's own /tmp: its home, work and matplotlib folders (and the folders above the venv, when the course
    # is in /tmp)
    above_venv = {Path(sys.prefix).resolve().relative_to("/tmp").parts[0]} if str(Path(sys.prefix).resolve()).startswith("/tmp/") else set()
    assert set(report["tmp"]) == {"home", "work", "mpl"} | above_venv and not report["marker_in_tmp"]
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
        from course_tools.grading.sandbox import Sandbox
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


# --------------------------------------------------------------------------- cgroup, seccomp, uids

from course_tools.grading.cgroups import cgroup_status  # noqa: E402

CGROUP_OK, CGROUP_STATUS = cgroup_status()
needs_cgroup = pytest.mark.skipif(
    not (OK and CGROUP_OK), reason=f"!!! NO CGROUP PER SANDBOX HERE, SANDBOX-WIDE LIMITS ARE UNTESTED !!! {CGROUP_STATUS}")

@needs_cgroup
def test_memory_is_capped_for_all_the_sandboxs_processes_together():
    """Four children of half the cap each stay under its RLIMIT_AS each; the sandbox's cgroup kills at the cap in all.

    (1 GB rather than the course's 3 GB: the same limits at a third of the pages to write. The children hold
    their memory until every one has either written all of it or been killed, then the parent lets them go:
    no sleep to outlast a loaded machine.)"""
    cap, child = 1024**3, 1024**3 // 2
    code = """
        import os, select, sys, time
        children, size = int(sys.argv[1]), int(sys.argv[2])
        ready_r, ready_w = os.pipe()
        release_r, release_w = os.pipe()
        index_of = {}
        for index in range(children):
            pid = os.fork()
            if pid == 0:
                os.close(ready_r)
                os.close(release_w)
                block = b"\\1" * size  # every page written: resident, not only reserved
                os.write(ready_w, bytes([index]))
                os.read(release_r, 1)  # hold it until the parent has seen every child ready or dead
                os._exit(0)
            index_of[pid] = index
        os.close(ready_w)
        os.close(release_r)
        ready, statuses = set(), {}
        while ready | {index_of[pid] for pid in statuses} != set(index_of.values()):
            if select.select([ready_r], [], [], 0.05)[0]:
                ready.update(os.read(ready_r, children))
            for pid in index_of:
                if pid not in statuses:
                    done, status = os.waitpid(pid, os.WNOHANG)
                    if done:
                        statuses[pid] = os.waitstatus_to_exitcode(status)
        os.close(release_w)  # every child has written all its pages or is dead: the survivors may go
        for pid in index_of:
            if pid not in statuses:
                statuses[pid] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        print(" ".join(map(str, sorted(statuses.values()))), flush=True)
        time.sleep(60)  # stay, so the cgroup's figures can be read
    """
    box = Sandbox([sys.executable, "-c", textwrap.dedent(code), 4, child], limits=Limits(memory_bytes=cap)).start()
    paths = [path for _, path in box.cgroup.dirs]
    try:
        statuses = [int(s) for s in read_line(box, timeout=180).split()]
        peak, kills = box.cgroup.memory_peak(), box.cgroup.oom_kills()
    finally:
        box.kill()
    print(f"\n[sandbox] memory hog, 4 x {child / 1024**3:g} GB under a {cap / 1024**3:g} GB sandbox cap: "
          f"children ended {statuses}, peak {peak / 1024**3:.2f} GB, {kills} kill(s) by the cgroup")
    killed = statuses.count(-signal.SIGKILL)
    assert killed >= 2 and statuses.count(0) + killed == 4, f"at most one child of half the cap fits beside another: {statuses}"
    assert kills in (None, killed)
    assert peak is not None and peak <= cap, f"the sandbox held {peak / 1024**3:.2f} GB"
    assert not any(path.exists() for path in paths), "the sandbox's cgroup is removed with it"


@needs_cgroup
def test_a_fork_bomb_is_bounded_by_the_cgroup_and_its_cgroup_removed():
    code = """
        import os, time
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
    # RLIMIT_NPROC far above the cgroup's task limit: only the cgroup can stop it.
    box = Sandbox([sys.executable, "-c", textwrap.dedent(code)], limits=Limits(processes=20)).start()
    paths = [path for _, path in box.cgroup.dirs]
    pids_max = next(path / "pids.max" for path in paths if (path / "pids.max").exists())
    try:
        assert int(pids_max.read_text()) == 22, "the sandbox's tasks: its processes, bwrap and bwrap's reaper"
        children, error = read_line(box).split()
        assert error == "BlockingIOError" and int(children) < 20
        assert len(box.cgroup.pids()) <= 22
        assert set(processes_of(box.uid)) <= set(box.cgroup.pids()), "every process of the sandbox is in its cgroup"
    finally:
        box.kill()
    assert processes_of(box.uid) == []
    assert not any(path.exists() for path in paths), "the sandbox's cgroup is removed with it"


@pytest.mark.parametrize("sandboxed", [pytest.param(True, marks=needs_bwrap), False], ids=["sandbox", "unsafe"])
def test_cpu_seconds_count_every_process_of_the_sandbox(sandboxed):
    """Three children each burn 0.4 s of CPU and exit: the sandbox's CPU time counts them all (cgroup or /proc)."""
    code = """
        import os, time
        for _ in range(3):
            if os.fork() == 0:
                start = time.process_time()
                while time.process_time() - start < 0.4:
                    pass
                os._exit(0)
        for _ in range(3):
            os.wait()
        print("done", flush=True)
        time.sleep(60)
    """
    box = Sandbox([sys.executable, "-c", textwrap.dedent(code)], unsafe_no_sandbox=not sandboxed).start()
    try:
        assert read_line(box, timeout=60) == "done"
        used = box.cpu_seconds()
    finally:
        box.kill()
    # /proc counts whole clock ticks (10 ms): each of the four processes may lose up to one in rounding
    assert used >= 1.2 - 4 * 0.01, f"{used:.2f} CPU s counted for 3 x 0.4 s"
    assert box.cpu_seconds() >= used, "the last figure stays once the sandbox is gone"


@needs_cgroup
def test_a_sandbox_takes_at_most_its_cpu_quota():
    """Three busy processes for 2 s of wall time: the sandbox gets at most one CPU (load only lowers it)."""
    code = """
        import os, time
        start = time.monotonic()
        for _ in range(2):
            if os.fork() == 0:
                while time.monotonic() - start < 2:
                    pass
                os._exit(0)
        while time.monotonic() - start < 2:
            pass
        os.wait(); os.wait()
        print(time.monotonic() - start, flush=True)
        time.sleep(60)
    """
    box = Sandbox([sys.executable, "-c", textwrap.dedent(code)], limits=Limits(cpus=1.0)).start()
    try:
        wall = float(read_line(box, timeout=60))
        used = box.cpu_seconds()
    finally:
        box.kill()
    print(f"\n[sandbox] 3 busy processes for {wall:.1f} s of wall time used {used:.2f} CPU s (quota: 1 CPU)")
    assert used <= 1.15 * wall + 0.3, f"{used:.2f} CPU s in {wall:.2f} s: over one CPU"


SYSCALLS = {  # (x86_64, aarch64) numbers; arguments chosen so that, unfiltered, none answers EPERM as root
    "add_key": ((248, 217), (0, 0, 0, 0, 0)),          # NULL type: EFAULT
    "keyctl": ((250, 219), (9999, 0, 0, 0, 0)),        # no such operation: EOPNOTSUPP
    "request_key": ((249, 218), (0, 0, 0, 0, 0)),      # NULL type: EFAULT
    "unshare": ((272, 97), (0, 0, 0, 0, 0)),           # nothing to unshare: succeeds
    "setns": ((308, 268), (-1, 0, 0, 0, 0)),           # bad descriptor: EBADF
    "ptrace": ((101, 117), (0, 0, 0, 0, 0)),           # PTRACE_TRACEME: succeeds
    "perf_event_open": ((298, 241), (0, 0, -1, -1, 0)),  # NULL attributes: EFAULT
    "bpf": ((321, 280), (9999, 0, 0, 0, 0)),           # no such command: EINVAL
    "userfaultfd": ((323, 282), (-1, 0, 0, 0, 0)),     # bad flags: EINVAL
    "io_uring_setup": ((425, 425), (0, 0, 0, 0, 0)),   # no entries: EINVAL/EFAULT
    "mount": ((165, 40), (0, 0, 0, 0, 0)),
    "umount2": ((166, 39), (0, 0, 0, 0, 0)),
    "pivot_root": ((155, 41), (0, 0, 0, 0, 0)),
    "fsopen": ((430, 430), (0, 0, 0, 0, 0)),
    "open_tree": ((428, 428), (-1, 0, 0, 0, 0)),
}
PROBE = """
    import ctypes, errno, json, os, sys
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    arch = 0 if os.uname().machine == "x86_64" else 1
    result = {}
    for name, (numbers, args) in json.loads(sys.argv[1]).items():
        if os.fork() == 0:  # one child per call: PTRACE_TRACEME or unshare must not change the prober
            ctypes.set_errno(0)
            code = libc.syscall(ctypes.c_long(numbers[arch]), *[ctypes.c_long(a) for a in args])
            os.write(1, (name + " " + ("ok" if code >= 0 else errno.errorcode[ctypes.get_errno()]) + "\\n").encode())
            os._exit(0)
        os.wait()
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    print("fork", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), flush=True)
"""


def probe_syscalls(**kwargs) -> dict[str, str]:
    code, out, err = run(PROBE, json.dumps(SYSCALLS), **kwargs)
    assert code == 0, err
    return dict(line.split() for line in out.splitlines())


@needs_bwrap
@pytest.mark.skipif(os.uname().machine not in ("x86_64", "aarch64"), reason="system call numbers for x86_64 and aarch64")
def test_seccomp_refuses_keyrings_tracing_io_uring_mounts_and_namespaces(capsys):
    from course_tools.grading.sandbox import _seccomp_program

    assert _seccomp_program()[0] is not None, _seccomp_program()[1]
    inside = probe_syscalls()
    with capsys.disabled():
        print(f"\n[sandbox] seccomp inside: {inside}")
    assert inside.pop("fork") == "7", "ordinary process creation still works"
    assert inside == {name: "EPERM" for name in SYSCALLS}
    # The same calls in an unfiltered process as root: the filter, not a missing privilege, refused them.
    outside = probe_syscalls(unsafe_no_sandbox=True) if os.geteuid() == 0 else {}
    for name in ("add_key", "keyctl", "request_key", "unshare", "setns", "ptrace", "bpf", "io_uring_setup"):
        assert outside.get(name, "not root") != "EPERM", (name, outside)


@needs_bwrap
def test_successive_sandboxes_never_share_a_uid():
    uids = []
    for _ in range(4):
        box = Sandbox([sys.executable, "-c", "import os; print(os.getuid())"]).start()
        out, _ = box.process.communicate(timeout=30)
        box.wait()
        assert int(out) == box.uid
        uids.append(box.uid)
    print(f"\n[sandbox] uids of 4 successive sandboxes in one process: {uids}")
    assert len(set(uids)) == 4, uids
    if os.geteuid() == 0:
        assert uids == sorted(uids), "a fresh uid each time, from one counter"


KEY_STORE = """
    import ctypes, errno, sys
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    ADD_KEY, KEYCTL = (248, 250) if __import__("os").uname().machine == "x86_64" else (217, 219)
    KEY_SPEC_USER_KEYRING, KEYCTL_SEARCH = -4, 10
    description = sys.argv[1].encode()
    if sys.argv[2] == "store":
        key = libc.syscall(ADD_KEY, b"user", description, b"the secret", 10, KEY_SPEC_USER_KEYRING)
    else:
        key = libc.syscall(KEYCTL, KEYCTL_SEARCH, KEY_SPEC_USER_KEYRING, b"user", description, 0)
    print(sys.argv[2], key if key >= 0 else errno.errorcode[ctypes.get_errno()])
"""


@needs_bwrap
@pytest.mark.skipif(os.uname().machine not in ("x86_64", "aarch64"), reason="system call numbers for x86_64 and aarch64")
def test_a_key_stored_by_one_sandbox_never_reaches_the_next():
    description = f"course-attack-{os.getpid()}-{time.time_ns()}"
    first = run(KEY_STORE, description, "store")
    second = run(KEY_STORE, description, "find")
    assert first[:2] == (0, "store EPERM\n") and second[:2] == (0, "find EPERM\n"), (first, second)
    with open("/proc/keys") as handle:
        assert description not in handle.read()
