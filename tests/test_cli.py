"""The one command, ``course <verb>``: every verb reaches its module, and ``--root`` means the course folder."""

import importlib
import tomllib
from pathlib import Path

import pytest

from course_tools import cli
from course_tools.publish import exchange

ROOT = Path(__file__).resolve().parents[1]

MINIMAL_MANIFEST = """[course]
id = "a-course"
title = "A course"
levels = ["one"]
mastery_threshold = 0.8

[[assignments]]
name = "{first}"
title = "First"
unlocks = "one"

[[assignments]]
name = "zz_second"
title = "Second"
unlocks = "one"
"""


def run(argv, capsys):
    """``course <argv>``: its exit status and what it printed."""
    try:
        status = cli.main(argv)
    except SystemExit as exc:  # argparse's -h and usage errors
        status = exc.code
    out = capsys.readouterr()
    return status, out.out + out.err


@pytest.fixture
def calls(monkeypatch):
    """Every verb's module main replaced by a recorder: {verb: [argv, ...]}."""
    recorded = {}
    for verb in cli.VERBS.values():
        module = importlib.import_module(verb.module)
        monkeypatch.setattr(module, "main", lambda argv, name=verb.name: recorded.setdefault(name, []).append(argv) or 0)
    return recorded


@pytest.fixture
def nested_course(tmp_path):
    """A course folder (course.toml) with a folder two levels below it, and a folder outside any course."""
    course = tmp_path / "course"
    (course / "source" / "deep").mkdir(parents=True)
    (course / "course.toml").write_text(MINIMAL_MANIFEST.format(first="07_first"), encoding="utf-8")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    return course, course / "source" / "deep", outside


def test_the_console_script_is_the_cli():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["scripts"]["course"] == "course_tools.cli:main"


def test_help_lists_every_verb(capsys):
    status, text = run(["-h"], capsys)
    assert status == 0
    for verb in cli.VERBS:
        assert f"  {verb} " in text, verb
    assert "--root" in text


def test_an_unknown_verb_is_refused(capsys):
    status, text = run(["regrade-everything"], capsys)
    assert status == 2 and "invalid choice" in text


@pytest.mark.parametrize("verb", list(cli.VERBS))
def test_each_verb_shows_its_own_modules_help(verb, capsys):
    """The real module's argparse answers ``course <verb> -h`` (its docstring's first line), under the verb's name."""
    module = importlib.import_module(cli.VERBS[verb].module)
    status, text = run([verb, "-h"], capsys)
    assert status == 0
    assert module.__doc__.strip().splitlines()[0] in text
    assert f"course {verb}" in text


@pytest.mark.parametrize("verb", [v for v in cli.VERBS if v not in ("sync", "exchange")])
def test_each_verb_passes_its_arguments_and_the_course_folder(verb, calls, nested_course, monkeypatch):
    course, deep, _ = nested_course
    monkeypatch.chdir(deep)
    assert cli.main([verb, "x", "--flag"]) == 0
    assert calls == {verb: [["x", "--flag", "--root", str(course)]]}


@pytest.mark.parametrize("where", ["before", "after", "equals"])
def test_root_is_the_nearest_course_folder_above_the_given_path(where, calls, nested_course, monkeypatch):
    course, deep, outside = nested_course
    monkeypatch.chdir(outside)  # the working directory is not a course: only --root can find it
    argv = {"before": ["--root", str(deep), "grade", "01"], "after": ["grade", "--root", str(deep), "01"],
            "equals": ["grade", f"--root={deep}", "01"]}[where]
    cli.main(argv)
    assert calls["grade"] == [["01", "--root", str(course)]]


def test_a_folder_with_only_nbgrader_config_is_a_course_folder(calls, tmp_path, monkeypatch):
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n", encoding="utf-8")
    (tmp_path / "submitted").mkdir()
    monkeypatch.chdir(tmp_path / "submitted")
    cli.main(["feedback"])
    assert calls["feedback"] == [["--root", str(tmp_path)]]


def test_outside_any_course_the_root_is_the_working_directory(calls, nested_course, monkeypatch):
    _, _, outside = nested_course
    monkeypatch.chdir(outside)
    cli.main(["generate"])
    assert calls["generate"] == [["--root", str(outside)]]


def test_sync_gives_authoring_the_course_folder_not_the_working_directory(calls, nested_course, monkeypatch):
    course, deep, _ = nested_course
    monkeypatch.chdir(deep)
    cli.main(["sync", "--from", "text"])
    cli.main(["sync", "--check"])
    assert calls["sync"] == [["sync", "--from", "text", "--root", str(course)], ["check", "--root", str(course)]]


def test_exchange_takes_the_exchange_folder_as_exchange_root(calls, nested_course, monkeypatch):
    course, deep, _ = nested_course
    monkeypatch.chdir(deep)
    cli.main(["exchange", "setup", "--exchange-root", "/srv/ex"])
    cli.main(["exchange", "student-config", "--exchange-root=/srv/ex"])
    cli.main(["--root", str(deep), "exchange", "student-env", "/opt/py"])
    assert calls["exchange"] == [
        ["setup", "--root", "/srv/ex"],
        ["student-config", "--root", "/srv/ex", "--course-root", str(course)],
        ["student-env", "/opt/py", "--course-root", str(course)],
    ]


def test_the_exchange_modules_own_cli_keeps_root_as_the_exchange_folder(nested_course, capsys):
    course, _, _ = nested_course
    (course / "nbgrader_config.py").write_text("c = get_config()\nc.CourseDirectory.course_id = 'a-course'\n",
                                               encoding="utf-8")
    assert exchange.main(["student-config", "--root", "/srv/ex", "--course-root", str(course)]) == 0
    text = capsys.readouterr().out
    assert "c.Exchange.root = '/srv/ex'" in text and "course_id = 'a-course'" in text


def test_the_student_environment_names_the_courses_first_assignment(nested_course, monkeypatch, capsys):
    course, _, _ = nested_course
    (course / "nbgrader_config.py").write_text("c = get_config()\nc.CourseDirectory.course_id = 'a-course'\n",
                                               encoding="utf-8")
    monkeypatch.setattr(exchange, "student_env", lambda dest, root, course=None: Path(dest) / "bin" / "python")
    assert exchange.main(["student-env", "/opt/py", "--course-root", str(course)]) == 0
    assert "fetch_assignment 07_first" in capsys.readouterr().out
