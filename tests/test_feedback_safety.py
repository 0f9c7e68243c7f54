"""Feedback pages show trusted results only: no hidden tests, no live student markup, a bounded size.

Unit tests render crafted notebooks with nbgrader's feedback template and the course's
preprocessors (``course_tools.publish.feedback.feedback_preprocessors``), as ``generate_feedback`` does;
one end-to-end test goes through ``course_tools.publish.feedback.generate`` on a throwaway course.
Every payload calls ``alert(`` so "is any of it live?" is one question about the parsed page.
"""

from __future__ import annotations

import base64
import os
import re
import textwrap
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import nbgrader
import pytest
from bs4 import BeautifulSoup
from nbconvert.exporters import HTMLExporter
from traitlets.config import Config

from course_tools.notebooks.cells import cell_grade_id
from course_tools.publish import feedback

TEMPLATES = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64).decode()
HIDDEN_LINE = "assert secret_reference_answer() == 42, 'the hidden check'"
BIG = 40_000_000


def render(nb, config: dict | None = None, hide_hidden_tests: bool = True, exporter_class=None) -> str:
    """The feedback page for ``nb``: the course's exporter (``feedback.FEEDBACK_EXPORTER``, or ``exporter_class``),
    nbgrader's template and the course's preprocessors (minus GetGrades)."""
    c = Config(config or {})
    c.Exporter.default_preprocessors = []  # as nbgrader's converters set it
    c.HTMLExporter.template_name = "feedback"
    c.HTMLExporter.extra_template_basedirs = list(feedback.FEEDBACK_TEMPLATE_BASEDIRS)  # as nbgrader_config.py
    c.HTMLExporter.extra_template_paths = [str(TEMPLATES / "static" / "node_modules" / "bootstrap" / "dist" / "css")]
    if exporter_class is None:
        module, _, name = feedback.FEEDBACK_EXPORTER.rpartition(".")
        exporter_class = getattr(__import__(module, fromlist=[name]), name)
    exporter = exporter_class(config=c)
    for name in feedback.feedback_preprocessors(hide_hidden_tests):
        if not name.endswith("GetGrades"):  # needs a gradebook; the end-to-end test covers it
            exporter.register_preprocessor(name)  # as nbgrader registers them: each one's own `enabled`
    resources = {"nbgrader": {"notebook": "ps", "score": 1.0, "max_score": 3.0, "late_penalty": 0}}
    page, _ = exporter.from_notebook_node(nb, resources=resources)
    return page


def _cell(kind: str, source: str, grade_id: str | None = None, **flags):
    cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
    if grade_id is not None:
        cell.metadata["nbgrader"] = {"grade_id": grade_id, "solution": False, "grade": False, "locked": False,
                                     "schema_version": 3, **flags}
    return cell


def _display(data: dict, metadata: dict | None = None, kind: str = "display_data"):
    if kind == "execute_result":
        return nbformat.v4.new_output(kind, data=data, metadata=metadata or {}, execution_count=3)
    return nbformat.v4.new_output(kind, data=data, metadata=metadata or {})


MARKDOWN_ATTACKS = textwrap.dedent("""\
    My answer <script>alert('md-script')</script> and <img src=x onerror=alert('md-img')>.
    A <a href="javascript:alert('md-href')">link</a>, a [markdown link](javascript:alert('md-link')),
    <a href="JaVaScRiPt&colon;alert('md-entity')">entity</a>, <a href=" java&#09;script:alert('md-tab')">tab</a>,
    <iframe src="javascript:alert('md-iframe')"></iframe><object data="x.swf"></object><embed src="x.swf">
    <svg onload="alert('md-svg')"><circle r="1"/></svg><style>body {background: url(javascript:alert('md-css'))}</style>
    <div style="background-image: url(javascript:alert('md-style'))" onclick="alert('md-click')">click</div>
    <form action="javascript:alert('md-form')"><button formaction="javascript:alert('md-button')">go</button></form>
    <meta http-equiv="refresh" content="0;url=javascript:alert('md-meta')">
    <img src="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">
    <math><mtext><table><mglyph><style><img src=x onerror=alert('md-mxss')></style></mglyph></table></mtext></math>
    <!-- <script>alert('md-comment')</script> -->
    """)


def crafted_notebook(hidden_region: bool = True) -> nbformat.NotebookNode:
    """An autograded notebook as a hostile student could shape it, every part of it carrying a payload."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["title"] = "</title><script>alert('nb-title')</script>"
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "state": {"x": "</script><script>alert('nb-widgets')</script>"}, "version_major": 2, "version_minor": 0}}
    intro = _cell("markdown", "# Assignment\n\nThe token `<unk>` and $a < b$; in code:\n\n```python\nif a < b:\n\n    pass\n```\n")
    answer = _cell("markdown", MARKDOWN_ATTACKS, "written_answer", solution=True, grade=True, points=1, score=0)
    answer.attachments = {"evil.svg": {"image/svg+xml": base64.b64encode(b"<svg onload=alert('att')/>").decode()}}
    answer.source += "\n![attached](attachment:evil.svg)\n"
    solution = _cell("code", "def f():\n    print('x' * 40_000_000)", "f", solution=True)
    solution.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="x" * BIG),
        _display({"text/html": "<script>alert('out-html')</script>", "text/plain": "<IPython.core.display.HTML>"}),
        _display({"image/svg+xml": "<svg onload=\"alert('out-svg')\"/>"}),
        _display({"application/javascript": "alert('out-js')"}),
        _display({"text/markdown": "[m](javascript:alert('out-md'))", "text/latex": r"$\href{javascript:alert('x')}{x}$"}),
        _display({"application/vnd.jupyter.widget-view+json": {"model_id": "</script><script>alert('out-widget')"}}),
        _display({"image/png": PNG}, {"image/png": {"width": "1 onerror=alert('out-width')"}}),
        _display({"image/png": "\"><script>alert('out-b64')</script>"}),
        _display({"text/plain": "<b>plain text stays text</b>"}, kind="execute_result"),
    ]
    test_source = "from ps import f\nassert f() is None, 'f should print'\n"
    if hidden_region:
        test_source += f"### BEGIN HIDDEN TESTS\n{HIDDEN_LINE}\n### END HIDDEN TESTS\n"
    test = _cell("code", test_source, 'test_f"><script>alert(\'grade-id\')</script>', grade=True, locked=True,
                 points=2, score=0)
    test.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="judge: checking f\n"),
        nbformat.v4.new_output("stream", name="stderr", text="student stderr in a test cell\n"),
        _display({"text/plain": "'ok'", "text/html": "<b>student html</b>"}, kind="execute_result"),
        _display({"image/png": PNG}),
        nbformat.v4.new_output("error", ename="AssertionError", evalue="<script>alert('evalue')</script>",
                               traceback=["\x1b[31mTraceback\x1b[0m", f"----> 4 {HIDDEN_LINE}", "AssertionError"]),
    ]
    raw = nbformat.v4.new_raw_cell("<script>alert('raw')</script>")
    raw.metadata["raw_mimetype"] = "text/html"
    nb.cells = [intro, answer, solution, test, raw]
    return nb


def live_problems(page: str) -> list[str]:
    """Everything in the page a browser would run, found independently of ``feedback.unsafe_markup``."""
    soup = BeautifulSoup(page, "html.parser")
    problems = []
    for script in soup.find_all("script"):  # the course's template has none (its CSP forbids them)
        problems.append(f"script: {((script.string or '') + str(script.get('src', '')))[:80]}")
    policies = soup.find_all("meta", attrs={"http-equiv": True})
    if [(m.find_parent("head") is not None, m["http-equiv"].lower(), m.get("content")) for m in policies[:1]] != [
            (True, "content-security-policy", feedback.CONTENT_SECURITY_POLICY)]:
        problems.append(f"no strict Content-Security-Policy first in <head>: {policies[:1]}")
    for tag in soup.find_all(True):
        for name in ("src", "srcset", "background", "poster", "data"):
            if tag.get(name) and not str(tag[name]).strip().lower().startswith("data:"):
                problems.append(f"remote resource <{tag.name} {name}={str(tag[name])[:40]}>")
        if tag.name == "link" and tag.get("href"):
            problems.append(f"remote resource <link href={tag['href'][:40]}>")
        if re.search(r"url\s*\(", str(tag.get("style", "")), re.I):
            problems.append(f"remote resource <{tag.name} style=url(...)>")
        for name, value in tag.attrs.items():
            value = " ".join(value) if isinstance(value, list) else str(value)
            if name.lower().startswith("on"):
                problems.append(f"<{tag.name} {name}>")
            if re.sub(r"[\s\x00-\x1f]", "", value).lower().startswith(("javascript:", "vbscript:")):
                problems.append(f"<{tag.name} {name}={value[:40]}>")
            if "alert(" in value and not (name == "href" and not urlsplit(value).scheme):  # a relative link is inert
                problems.append(f"payload in <{tag.name} {name}={value[:40]}>")
        if tag.name in ("iframe", "object", "embed", "svg", "math", "form", "button", "meta", "base"):
            if not (tag.name == "meta" and ("http-equiv" not in tag.attrs or tag is policies[0])):
                problems.append(f"<{tag.name}>")
    body = soup.find("body")
    if body is not None:
        problems += [f"<{t.name}> in body" for t in body.find_all(["style", "link", "script"])]
    return problems


@pytest.fixture(scope="module")
def crafted_page() -> str:
    return render(crafted_notebook())


def test_crafted_page_carries_no_live_payload(crafted_page):
    assert live_problems(crafted_page) == []
    assert feedback.unsafe_markup(crafted_page) == []


def test_the_page_runs_no_script_and_carries_a_strict_content_security_policy(crafted_page):
    soup = BeautifulSoup(crafted_page, "html.parser")
    assert soup.find_all("script") == []
    meta = soup.find("head").find("meta", attrs={"http-equiv": "Content-Security-Policy"})
    directives = dict(d.strip().split(" ", 1) for d in meta["content"].split(";"))
    assert directives["default-src"] == "'none'" and directives["img-src"] == "data:"
    assert "script-src" not in directives and "http" not in meta["content"] and "*" not in meta["content"]
    assert feedback.unsafe_markup(crafted_page.replace(meta["content"], "default-src *")), \
        "the page check accepts a page without the strict policy"


def test_student_markup_is_shown_as_text_not_lost(crafted_page):
    text = BeautifulSoup(crafted_page, "html.parser").get_text()
    assert "<script>alert('md-script')</script>" in text  # escaped, visible to the student
    assert "<unk>" in text and "a < b" in text             # ordinary markdown still reads right
    assert "if a < b:\n\n    pass" in text               # blank lines inside code blocks survive
    assert "<b>plain text stays text</b>" in text
    assert "[text/html output not shown in feedback]" in text


def test_test_cells_show_only_judge_stdout_and_errors(crafted_page):
    soup = BeautifulSoup(crafted_page, "html.parser")
    text = soup.get_text()
    assert "judge: checking f" in text
    assert "AssertionError" in text and "<script>alert('evalue')</script>" in text  # escaped evalue
    assert "student stderr in a test cell" not in text
    assert "student html" not in text and "'ok'" not in text
    panel = soup.find("a", attrs={"name": re.compile("^test_f")}).find_parent("div", class_="cell")
    assert panel.find("img") is None, "an image output survived in a test cell"


def test_hidden_tests_are_hidden(crafted_page):
    assert HIDDEN_LINE not in crafted_page
    assert "secret_reference_answer" not in crafted_page
    assert feedback.HIDDEN_PLACEHOLDER.split("(")[1][:12] in crafted_page


def test_show_hidden_still_sanitizes():
    page = render(crafted_notebook(), hide_hidden_tests=False)
    assert "secret_reference_answer" in page          # nbgrader's default, on request
    assert live_problems(page) == [] and feedback.unsafe_markup(page) == []


def test_page_size_is_capped(crafted_page):
    assert len(crafted_page.encode()) < feedback.MAX_PAGE_BYTES
    assert f"output truncated ({BIG} bytes)" in crafted_page


def test_caps_are_configurable_and_the_notebook_budget_holds():
    nb = nbformat.v4.new_notebook()
    cell = _cell("code", "for i in range(300): show(i)", "noisy", solution=True)
    cell.outputs = [_display({"image/png": base64.b64encode(os.urandom(15_000)).decode()}) for _ in range(300)]
    test = _cell("code", "assert True", "test_after_noise", grade=True, locked=True, points=1, score=1)
    test.outputs = [nbformat.v4.new_output("stream", name="stdout", text="judge says: passed\n")]
    nb.cells = [cell, test]
    default = render(nb)
    assert len(default.encode()) < feedback.MAX_PAGE_BYTES
    assert "the feedback page reached its size limit" in default
    assert "judge says: passed" in default, "the test cell's result must be kept before student output"
    small = render(nb, {"SanitizeFeedback": {"max_notebook_bytes": 100_000, "max_output_bytes": 10}})
    assert 0 < len(small.encode()) - len(render(nbformat.v4.new_notebook()).encode()) < 250_000
    assert "judge says: passed" not in small and "judge says" in small  # truncated to 10 bytes


def test_many_small_prints_are_merged_and_capped():
    nb = nbformat.v4.new_notebook()
    cell = _cell("code", "for i in range(20_000): print(i)", "loop", solution=True)
    # Each print is far under the per-output cap; unmerged, their 20,000 output blocks would make a page of megabytes.
    # Plain nodes: new_output validates each one against the schema (the page's export validates them all).
    cell.outputs = [nbformat.from_dict({"output_type": "stream", "name": "stdout", "text": f"{i}\n"})
                    for i in range(20_000)]
    nb.cells = [cell]
    page = render(nb)
    assert page.count("output_stdout") == 1
    assert "output truncated" in page and len(page.encode()) < 500_000


def test_unsafe_markup_detects_what_it_should():
    head = (f'<html><head><meta http-equiv="Content-Security-Policy" content="{feedback.CONTENT_SECURITY_POLICY}">'
            '<style>p {color: red}</style></head>')
    assert feedback.unsafe_markup(head + f"<body><p>fine</p><img src='data:image/png;base64,{PNG}'></body></html>") == []
    for bad in ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '<a href=" javascript:alert(1)">x</a>',
                "<svg onload=alert(1)>", "<iframe srcdoc='x'></iframe>", '<a href="data:text/html,x">x</a>',
                '<meta http-equiv="refresh" content="0">', "<style>*{}</style>",
                '<img src="https://attacker.example/pixel.png">', '<img src="//attacker.example/p.png">',
                '<img src="http://127.0.0.1:8888/x">', '<img srcset="https://attacker.example/a.png 2x">',
                '<div style="background: url(https://attacker.example/b.png)">x</div>',
                '<link rel="stylesheet" href="https://attacker.example/s.css">'):
        assert feedback.unsafe_markup(head + f"<body>{bad}</body></html>"), bad
    for bad_head in ("<html><head></head>", head.replace("'none'", "*", 1),
                     '<html><head><script src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/x.js"></script>'
                     + head[len("<html><head>"):]):
        assert feedback.unsafe_markup(bad_head + "<body><p>fine</p></body></html>"), bad_head


# --------------------------------------------------------------------------- end to end, through nbgrader

SOURCE_NB = {
    "intro": "# Problem set\n\nWrite `f`.",
    "f": "def f():\n    ### BEGIN SOLUTION\n    return 42\n    ### END SOLUTION",
    "test_f": f"assert f() == 42\n### BEGIN HIDDEN TESTS\n{HIDDEN_LINE}\n### END HIDDEN TESTS",
    "written_answer": "Explain.\n\n=== BEGIN MARK SCHEME ===\nanything\n=== END MARK SCHEME ===",
}


def _source_notebook():
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        _cell("markdown", SOURCE_NB["intro"]),
        _cell("code", SOURCE_NB["f"], "f", solution=True),
        _cell("code", SOURCE_NB["test_f"].replace("secret_reference_answer()", "f()"), "test_f",
              grade=True, locked=True, points=2),
        _cell("markdown", "YOUR ANSWER HERE", "written_answer", solution=True, grade=True, points=1),
    ]
    return nb


def test_generate_end_to_end_sanitizes_caps_and_hides(tmp_path):
    from course_tools.grading.nbgrader_apps import run_in_workers

    root = tmp_path / "course"
    (root / "source" / "ps").mkdir(parents=True)
    (root / "nbgrader_config.py").write_text(
        'c = get_config()\nc.CourseDirectory.course_id = "feedback-safety"\n'
        f'c.CourseDirectory.root = {str(root)!r}\n', encoding="utf-8")
    nbformat.write(_source_notebook(), str(root / "source" / "ps" / "ps.ipynb"))
    ((ok, log),) = run_in_workers([("generate_assignment", ["ps", "--force"])], root)
    assert ok, log[-2000:]
    submitted = root / "submitted" / "mallory" / "ps" / "ps.ipynb"
    submitted.parent.mkdir(parents=True)
    submitted.write_bytes((root / "release" / "ps" / "ps.ipynb").read_bytes())
    ((ok, log),) = run_in_workers([("autograde", ["ps", "--student=mallory", "--force"])], root)
    assert ok, log[-2000:]
    # what the sandboxed grading could have left behind: the autograded copy, shaped by the attacker
    autograded = root / "autograded" / "mallory" / "ps" / "ps.ipynb"
    graded = nbformat.read(str(autograded), as_version=4)
    crafted = crafted_notebook()
    by_id = {cell_grade_id(c): c for c in graded.cells}
    by_id["f"].outputs = crafted.cells[2].outputs
    by_id["test_f"].outputs = crafted.cells[3].outputs
    by_id["written_answer"].source = crafted.cells[1].source  # its attachment left out: shown as plain text
    graded.cells.insert(1, crafted.cells[4])
    graded.metadata.update(crafted.metadata)
    nbformat.write(graded, str(autograded))

    messages = []
    assert feedback.generate(root, ["ps"], progress=messages.append, workers=1) == {"ps": True}, "\n".join(messages)
    page = (root / "feedback" / "mallory" / "ps" / "ps.html").read_text(encoding="utf-8")
    assert live_problems(page) == [] and feedback.unsafe_markup(page) == []
    assert HIDDEN_LINE not in page and "secret_reference_answer" not in page
    assert len(page.encode()) < feedback.MAX_PAGE_BYTES and f"output truncated ({BIG} bytes)" in page
    assert re.search(r"Score: 0\.0 / 2\.0", page), "the test cell's score is gone from the page"
    assert "alert('md-script')" in BeautifulSoup(page, "html.parser").get_text()

    # last line of defence: a page that fails the check after rendering is withheld, and reported
    page_path = root / "feedback" / "mallory" / "ps" / "ps.html"
    assert feedback.check_page(page_path) == ""
    page_path.write_text(page.replace("</body>", "<script>alert(1)</script></body>"), encoding="utf-8")
    assert "live markup" in feedback.check_page(page_path)
    messages.clear()
    assert feedback.generate(root, ["ps"], progress=messages.append, workers=1, max_page_bytes=1000) == {"ps": False}
    assert any("WITHHELD" in m and "mallory" in m for m in messages), messages
    withheld = page_path.read_text(encoding="utf-8")
    assert "withheld" in withheld and HIDDEN_LINE not in withheld and "alert" not in withheld


# --------------------------------------------------------------------------- every nbgrader path to feedback

FORMGRADER_BUTTON = """
import json, sys
from nbgrader.apps import NbGrader
from nbgrader.apps.api import NbGraderAPI
from nbgrader.coursedir import CourseDirectory

# as formgrader's handlers do (server_extensions/formgrader/base.py: the `api` property), then what its
# "Generate Feedback" button's handler calls (apihandlers.py: api.generate_feedback(assignment, student))
app = NbGrader()
app.load_config_file()
api = NbGraderAPI(CourseDirectory(parent=app), parent=app)
print(json.dumps(api.generate_feedback(sys.argv[1], sys.argv[2])))
"""


def test_formgrader_button_and_stock_nbgrader_give_the_safe_page(small_graded_class, tmp_path):
    """issue 17.2: the course's nbgrader_config.py puts hiding, sanitizing, the template and the check into
    nbgrader's own GenerateFeedback, so no path to a feedback page shows a hidden test or carries live markup."""
    import json
    import shutil
    import subprocess
    import sys

    from test_peer_review import _hidden_test_lines, _page_lines

    root = tmp_path / "course"
    shutil.copytree(small_graded_class, root, ignore=shutil.ignore_patterns("feedback", "peer_review"))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    button = subprocess.run([sys.executable, "-c", FORMGRADER_BUTTON, "01_testing", "perfect"], cwd=root, env=env,
                            capture_output=True, text=True, timeout=600)
    assert button.returncode == 0 and json.loads(button.stdout.strip().splitlines()[-1])["success"], \
        button.stdout[-3000:] + button.stderr[-3000:]
    stock = subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "generate_feedback", "01_testing",
                            "--student=partial", "--force"], cwd=root, env=env, capture_output=True, text=True,
                           timeout=600)
    assert stock.returncode == 0, stock.stdout[-3000:] + stock.stderr[-3000:]
    hidden = _hidden_test_lines()
    assert len(hidden) > 20, "the source notebook's hidden tests were not found"
    for student in ("perfect", "partial"):
        page = (root / "feedback" / student / "01_testing" / "01_testing.html").read_text(encoding="utf-8")
        assert "withheld" not in page, f"{student}'s page was withheld: {page[:600]}"
        shown = sorted(hidden & _page_lines(page))
        assert not shown, f"{student}: {len(shown)} hidden-test line(s) on the page, e.g. {shown[:3]}"
        assert feedback.HIDDEN_PLACEHOLDER in html_text(page)
        assert live_problems(page) == [] and feedback.unsafe_markup(page) == []
        assert "Student's answer" in html_text(page)


def html_text(page: str) -> str:
    return BeautifulSoup(page, "html.parser").get_text()


def test_the_post_convert_hook_withholds_a_failing_page(tmp_path, monkeypatch):
    folder = tmp_path / "feedback" / "mallory" / "ps"
    folder.mkdir(parents=True)
    head = f'<html><head><meta http-equiv="Content-Security-Policy" content="{feedback.CONTENT_SECURITY_POLICY}"></head>'
    (folder / "good.html").write_text(head + "<body><p>fine</p></body></html>", encoding="utf-8")
    (folder / "bad.html").write_text(head + '<body><img src="https://attacker.example/p.png"></body></html>',
                                     encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # nbgrader runs the hook from the course folder
    feedback.check_feedback_pages(assignment="ps", student="mallory", notebooks=[])
    assert "fine" in (folder / "good.html").read_text(encoding="utf-8")
    withheld = (folder / "bad.html").read_text(encoding="utf-8")
    assert "withheld" in withheld and "attacker.example" in withheld  # the reason, escaped, names it
    assert feedback.check_page(folder / "bad.html") == ""


def test_remote_images_and_a_fake_verdict_stay_inert_and_framed_as_the_students():
    """issue 17.8: remote images (https, 127.0.0.1, protocol-relative, srcset, CSS url()) and a green
    'All hidden tests passed' box, in a written answer and in an answer cell's outputs."""
    from attacks.markup import FAKE_VERDICT, REMOTE

    nb = nbformat.v4.new_notebook()
    written = _cell("markdown", f"My answer.\n\n{REMOTE}\n\n{FAKE_VERDICT}", "written", solution=True, grade=True,
                    points=1, score=0.0)
    code = _cell("code", "def f():\n    return 42", "f", solution=True)
    demo = _cell("code", "print(f())")  # a demo cell: instructor code, but its output is the student's function's
    demo.outputs = [nbformat.v4.new_output("stream", name="stdout", text="All hidden tests passed (demo)\n")]
    test = _cell("code", "assert f() == 42", "test_f", grade=True, locked=True, points=1, score=1.0)
    test.outputs = [nbformat.v4.new_output("stream", name="stdout", text="judge: f checked\n")]
    code.outputs = [_display({"text/html": REMOTE + FAKE_VERDICT, "text/plain": "All hidden tests passed (plain)"}),
                    _display({"text/markdown": "![x](https://evil.example/md.png)", "text/plain": "md"})]
    nb.cells = [written, code, demo, test]
    page = render(nb)
    assert live_problems(page) == [] and feedback.unsafe_markup(page) == []
    soup = BeautifulSoup(page, "html.parser")
    assert not [img for img in soup.find_all("img") if img.get("srcset") or (img.get("src") and not img["src"].startswith("data:"))]
    classes = {c for tag in soup.find_all(class_=True) for c in tag["class"]}
    assert not classes & {"alert", "alert-success", "label-success", "panel-success"}
    for text in ("All hidden tests passed.", "All hidden tests passed (plain)", "All hidden tests passed (demo)"):
        holder = soup.find(string=re.compile(re.escape(text)))
        assert holder is not None, text
        assert holder.find_parent(class_="student-answer") is not None, f"{text!r} is not framed as the student's"
    judge = soup.find(string=re.compile("judge: f checked"))
    assert judge is not None and judge.find_parent(class_="student-answer") is None, "the judge's output is framed"


def test_the_grading_guard_is_one_line_on_the_page():
    """issue 19: the guard's source (the same for every student) is not reprinted on each page."""
    from course_tools.notebooks.grading_guard import GUARD_SOURCE

    nb = crafted_notebook()
    guard = _cell("code", GUARD_SOURCE, "grading_guard", locked=True)
    nb.cells.insert(0, guard)
    page = render(nb)
    body = BeautifulSoup(page, "html.parser").get_text()
    assert "def _make_grading_guard" not in body and "grading_guard (locked)" in body
    assert len(page.encode()) < len(render(nb, {"SanitizeFeedback": {"collapsed_cells": []}}).encode()) - 5_000


def test_nbgrader_fields_of_the_wrong_type_reach_the_page_as_the_course_reads_them():
    """The template sees what grading saw (``course_tools.notebooks.cells``): a field of the wrong type as absent."""
    test = _cell("code", "assert f() == 1", "test_f_visible", grade=True, locked=True, points="lots",
                 score={"$gt": 0}, comment=["<script>alert(1)</script>"])
    test.metadata.nbgrader["grade_id"] = 12345
    not_a_dict = _cell("code", "print('demo')")
    not_a_dict.metadata["nbgrader"] = "grade me"
    sanitizer = feedback.SanitizeFeedback()
    sanitizer.sanitize_cell(test)
    sanitizer.sanitize_cell(not_a_dict)
    meta = test.metadata.nbgrader
    assert (meta.grade, meta.locked, meta.solution) == (True, True, False)
    assert (meta.grade_id, meta.points, meta.score) == ("", 0.0, None) and "comment" not in meta
    assert "nbgrader" not in not_a_dict.metadata
    nb = nbformat.v4.new_notebook(cells=[_cell("code", "assert f() == 1", "test_f_visible", grade=True, locked=True,
                                               points="lots", score={"$gt": 0}, comment=["<script>"])])
    assert "<script>alert" not in render(nb)


def test_markdown_rendered_once_is_reused_only_for_the_same_text_and_tags():
    """Markdown is rendered once per worker for every page that has the same cell: the result depends on the
    text and the tags allowed, so a change of either renders again."""
    source = "## Heading\n\nsome *emphasis*\n\n<script>alert(1)</script>"
    sanitizer = feedback.SanitizeFeedback()
    first = sanitizer.render_markdown(source)
    assert sanitizer.render_markdown(source) == first
    assert "<h2" in first and "<em>emphasis</em>" in first and "<script>" not in first
    without_headings = feedback.SanitizeFeedback(allowed_tags=["em", "p"]).render_markdown(source)
    assert "<h2" not in without_headings and "&lt;h2" in without_headings and "<em>emphasis</em>" in without_headings
    assert sanitizer.render_markdown(source + " changed") != first


def test_the_course_s_exporter_gives_nbconvert_s_page():
    """FeedbackHTMLExporter skips nbconvert's BeautifulSoup pass over the page: parsed, its page is the stock
    HTMLExporter's, element for element (with the same alt text on images that had none)."""
    nb = crafted_notebook()
    nb.cells[2].outputs.append(_display({"image/png": PNG}))  # an image of the student's code (no alt)
    nb.cells.append(_cell("markdown", f"![a drawing](data:image/png;base64,{PNG})"))
    ours = render(nb, exporter_class=feedback.FeedbackHTMLExporter)
    stock = render(nb, exporter_class=HTMLExporter)
    assert str(BeautifulSoup(ours, "html.parser")) == stock
    images = BeautifulSoup(ours, "html.parser").find_all("img")
    assert len(images) >= 2 and all(img.get("alt") for img in images), images
    assert feedback.IMAGE_ALT_TEXT in ours and "a drawing" in ours


def test_highlighting_kept_from_earlier_pages_changes_no_page(monkeypatch):
    """The course's exporter keeps each cell's highlighted source for the next page (``RememberedHighlight``: the
    released cells are on every student's page). A page is the same whether its cells were highlighted for it
    or kept from an earlier page, a kept source is not highlighted again, and the same sources in a notebook of
    another language are highlighted in that language."""
    import copy

    from nbconvert.filters.highlight import Highlight2HTML

    nb = crafted_notebook()
    nb.cells.append(_cell("code", "echo $HOME  # if x: pass\n"))  # bash and Python highlight it differently
    as_bash = copy.deepcopy(nb)
    as_bash.metadata["language_info"] = {"name": "bash", "pygments_lexer": "bash"}
    monkeypatch.setattr(feedback.RememberedHighlight, "_kept", {})
    monkeypatch.setattr(feedback.RememberedHighlight, "MAX_SOURCE", -1)  # nothing kept: every cell highlighted
    fresh, fresh_bash = render(nb), render(as_bash)
    assert fresh_bash != fresh
    monkeypatch.setattr(feedback.RememberedHighlight, "MAX_SOURCE", 20_000)
    calls = []
    highlight = Highlight2HTML.__call__
    monkeypatch.setattr(Highlight2HTML, "__call__", lambda self, *args, **kwargs: calls.append(args) or highlight(self, *args, **kwargs))
    first = render(nb)
    highlighted = len(calls)
    second = render(nb)
    assert first == fresh and second == fresh
    assert highlighted >= 3 and len(calls) == highlighted, f"the second page highlighted {len(calls) - highlighted} cells again"
    assert render(as_bash) == fresh_bash, "a source kept from a Python page was shown highlighted as Python"