"""Family 6: write to the gradebook, classmates' notebooks, the course's files and the installed tools.

Each attempt is wrapped so it fails silently, and prints ATTACK-SUCCEEDED if it worked. In the
temporary course the attempts are destructive; in the repository (where a broken sandbox must not
cost the developer their work) they only append a comment line with the marker, create files
named after the marker, or open a file for writing without writing.
"""

from __future__ import annotations

from . import answer

SUCCESS = "ATTACK-SUCCEEDED"


def targets(ctx) -> list[str]:
    """Paths these attacks try to change: after grading, none may contain (or be named after) the marker."""
    a, paths = ctx.assignment, []
    for root in (ctx.course, ctx.main):
        paths += [f"{root}/source/{a}/{a}.ipynb", f"{root}/nbgrader_config.py", f"{root}/release/{a}/{a}.ipynb",
                  f"{root}/src/course_tools/grading/judge.py", f"{root}/src/course_tools/grading/autograde.py",
                  f"{root}/src/nextword/__init__.py", f"{root}/source/{a}/{ctx.marker}.txt", f"{root}/{ctx.marker}.txt",
                  f"{root}/.venv/lib/python3.11/site-packages/{ctx.marker}.pth"]
        for victim in ctx.victims:
            paths += [f"{root}/submitted/{victim}/{a}/{a}.ipynb"]
    return paths


@answer(6)
def write_the_gradebook(ctx):
    """Give everyone full marks in the course's gradebook.db with sqlite3, then truncate it; probe the repo's for writing."""
    return r'''
    import sqlite3 as _sqlite3
    for _db in (f"{_ATTACK['course']}/gradebook.db", "gradebook.db", "../gradebook.db"):
        try:
            _con = _sqlite3.connect(f"file:{_db}?mode=rw", uri=True, timeout=1)
            _con.execute("UPDATE grade SET auto_score = max_score, manual_score = max_score")
            _con.execute("UPDATE grade_cells SET max_score = 0")
            _con.commit()
            print("ATTACK-SUCCEEDED gradebook", _db)
        except Exception as _e:
            print("gradebook", _db, type(_e).__name__)
        try:
            open(_db, "r+b").truncate(0)
            print("ATTACK-SUCCEEDED truncated", _db)
        except Exception as _e:
            print("gradebook file", _db, type(_e).__name__)
    try:
        open(f"{_ATTACK['main']}/gradebook.db", "xb").close()
        print("ATTACK-SUCCEEDED created", f"{_ATTACK['main']}/gradebook.db")
    except Exception as _e:
        print("repo gradebook", type(_e).__name__)
    '''


@answer(6)
def overwrite_classmates(ctx):
    """Overwrite, rename and delete every honest classmate's submitted and autograded notebook."""
    return r'''
    import os as _os
    a = _ATTACK["assignment"]
    for _root in (_ATTACK["course"], "../.."):
        for _victim in _ATTACK["victims"]:
            for _kind in ("submitted", "autograded"):
                _p = f"{_root}/{_kind}/{_victim}/{a}/{a}.ipynb"
                try:
                    open(_p, "w").write('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5} '
                                        + _ATTACK["marker"])
                    print("ATTACK-SUCCEEDED overwrote", _p)
                except Exception as _e:
                    print(_p, type(_e).__name__)
                for _op in (lambda: _os.rename(_p, _p + ".bak"), lambda: _os.remove(_p)):
                    try:
                        _op()
                        print("ATTACK-SUCCEEDED moved/removed", _p)
                    except Exception:
                        pass
    '''


@answer(6)
def edit_course_and_installed_tools(ctx):
    """Edit source/, release/, nbgrader_config.py, course_tools, nextword (host path and sandbox copy) and the venv."""
    return r'''
    import os as _os
    import site as _site
    import sys as _sys
    a, m = _ATTACK["assignment"], _ATTACK["marker"]
    _append = []
    for _root in (_ATTACK["course"], _ATTACK["main"]):
        _append += [f"{_root}/source/{a}/{a}.ipynb", f"{_root}/nbgrader_config.py", f"{_root}/release/{a}/{a}.ipynb",
                    f"{_root}/src/course_tools/grading/judge.py", f"{_root}/src/course_tools/grading/autograde.py",
                    f"{_root}/src/nextword/__init__.py", f"{_root}/source/{a}/{m}.txt", f"{_root}/{m}.txt"]
    import course_sandbox as _cs
    import nextword as _nw
    _append += [_nw.__file__, _cs.__file__, _os.path.join(_os.path.dirname(_os.__file__), f"{m}.py")]
    _append += [_os.path.join(p, f"{m}.pth") for p in _site.getsitepackages()]
    for _p in _append:
        try:
            with open(_p, "a") as _f:
                _f.write(f"\n# {m}\n")
            print("ATTACK-SUCCEEDED edited", _p)
        except Exception as _e:
            print(_p, type(_e).__name__)
    for _p in (_sys.executable, _os.__file__, _site.__file__):
        try:
            open(_p, "r+b").close()
            print("ATTACK-SUCCEEDED writable", _p)
        except Exception as _e:
            print(_p, type(_e).__name__)
    '''
