"""Generate students' feedback with nbgrader: hidden tests hidden, student markup sanitized, pages size-capped.

    python -m course_tools.feedback                   # every autograded assignment, hidden tests hidden
    python -m course_tools.feedback 01_testing --root DIR
    python -m course_tools.feedback --show-hidden     # nbgrader's default: hidden tests shown in full

nbgrader's ``generate_feedback`` renders the autograded notebook, and the
autograded notebook holds the hidden tests (autograding puts them back), so by
default students see every hidden test. ``HideHiddenTests`` is an ordinary
nbgrader preprocessor added to ``GenerateFeedback.preprocessors``: in each
test cell with a ``### BEGIN HIDDEN TESTS`` region it replaces the region by
one comment line and shortens the cell's error traceback (which would quote
the failing hidden line) to ``ErrorName: message``. Each test still shows its
points, whether it passed, and the failure message the test author wrote.

Submissions are hostile, so ``SanitizeFeedback`` (always on, also with
``--show-hidden``) makes the page show trusted results only: test cells keep
just the judge's stdout and error outputs; other outputs keep plain text and
base64 PNG/JPEG only; markdown is rendered and cleaned with ``bleach``; every
output, cell and the whole notebook are size-capped (``SanitizeFeedback.max_*``
traitlets). After rendering, every page is checked with ``unsafe_markup``
and a byte cap, and a page that fails is replaced by a short notice rather
than published (``generate`` also reports it as a failure).

The course's ``nbgrader_config.py`` puts all of it into nbgrader itself, so formgrader's "Generate
Feedback" button and the stock ``nbgrader generate_feedback`` give the same page as this module:
``GenerateFeedback.preprocessors`` (these preprocessors), the course's own ``feedback`` template
(``templates/feedback``: a strict Content-Security-Policy, no scripts, student content framed as the
student's) and ``GenerateFeedback.post_convert_hook = check_feedback_pages`` (the page check).
Student markup keeps images only as ``data:`` URLs, and no ``class`` or ``style`` attribute, so a
page loads nothing from anywhere and a student cannot dress an answer up as the grader's verdict.
"""

from __future__ import annotations

import argparse
import functools
import html
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import bleach
import jinja2
import nbformat
from bleach.css_sanitizer import CSSSanitizer
from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from traitlets import Bool, Int, List, Unicode

from ..course import course_root
from ..notebooks.cells import (
    cell_comment,
    cell_grade_id,
    cell_points,
    cell_role,
    cell_score,
    is_locked,
    is_test,
    nbgrader_flags,
    nbgrader_metadata,
)

HIDDEN_PLACEHOLDER = "# (hidden tests: their code is not shown; the outcome and message below are)"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class HideHiddenTests(Preprocessor):
    """Replace hidden-test regions by a placeholder and reduce their tracebacks to the error message."""

    begin = Unicode("BEGIN HIDDEN TESTS").tag(config=True)
    end = Unicode("END HIDDEN TESTS").tag(config=True)
    placeholder = Unicode(HIDDEN_PLACEHOLDER).tag(config=True)
    enabled = Bool(True).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or self.begin not in cell.source:
            return cell, resources
        kept, hiding = [], False
        for line in cell.source.split("\n"):
            if self.begin in line:
                hiding = True
                kept.append(line[: len(line) - len(line.lstrip())] + self.placeholder)
            elif self.end in line:
                hiding = False
            elif not hiding:
                kept.append(line)
        cell.source = "\n".join(kept)
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                message = _ANSI.sub("", f"{output.get('ename', 'Error')}: {output.get('evalue', '')}")
                output["traceback"] = [message]
        return cell, resources


# Tags the markdown renderer produces (plus a few harmless ones students write by hand).
ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "details", "div",
    "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins",
    "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strong", "sub", "summary",
    "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul", "var"})


class SanitizeFeedback(Preprocessor):
    """Make the autograded notebook safe to show to its student: plain trusted results, sanitized markup, capped size.

    * Graded test cells keep only ``stream`` stdout and ``error`` outputs, as plain text (the trusted judge
      writes those); anything else there came from student code and is dropped.
    * Other code cells keep ``text/plain`` and base64 ``image/png``/``image/jpeg`` outputs. HTML, JavaScript,
      SVG (which can carry script), Markdown, LaTeX, JSON and widget views are replaced by a one-line note.
    * Markdown (every markdown cell, and graders' comments) is rendered here with nbconvert's own renderer,
      then cleaned with ``bleach`` (the sanitizer nbconvert itself uses) against an allow-list of tags,
      attributes and URL schemes; the result is handed to the template as one inert HTML block.
    * Metadata the template prints without escaping (``grade_id``, image ``width``/``height``, execution
      counts, notebook widgets/title) is reduced to safe values.
    * Each output's text is truncated to ``max_output_bytes`` and each cell's source to ``max_source_bytes``;
      the whole notebook is held to ``max_notebook_bytes`` (test cells' results are kept first; outputs that
      no longer fit are replaced by a note), so a 40 MB print cannot make a 40 MB page.
    """

    enabled = Bool(True, help="nbconvert preprocessors are off by default; this one is meant to run").tag(config=True)
    max_output_bytes = Int(20_000, help="Longest text of one output (bytes); longer text is truncated").tag(config=True)
    max_source_bytes = Int(100_000, help="Longest source of one cell (bytes); longer is truncated").tag(config=True)
    max_notebook_bytes = Int(2_000_000, help="Budget for everything the notebook adds to the page (bytes)").tag(
        config=True)
    image_types = List(Unicode(), ["image/png", "image/jpeg"], help="Image outputs kept (base64 only)").tag(
        config=True)
    allowed_tags = List(Unicode(), sorted(ALLOWED_TAGS), help="HTML tags kept in rendered markdown").tag(config=True)
    collapsed_cells = List(Unicode(), ["grading_guard"], help="grade_ids of locked instructor cells shown as one line: "
                           "the same for every student, already in the released notebook").tag(config=True)

    # ------------------------------------------------------------------ notebook

    def preprocess(self, nb, resources):
        nb.metadata = _safe_notebook_metadata(nb.get("metadata", {}))
        for cell in nb.cells:
            self.sanitize_cell(cell)
        self.enforce_budget(nb)
        return nb, resources

    def sanitize_cell(self, cell) -> None:
        comment = cell_comment(cell)
        cell.metadata = _safe_cell_metadata(cell)
        if comment:
            cell.metadata.nbgrader["comment"] = self.render_markdown(comment)
        if cell.cell_type == "markdown":
            cell.source = self.render_markdown(self._cap_text(_text(cell.source), self.max_source_bytes, "cell"),
                                               cell.get("attachments") or {})
            cell.pop("attachments", None)
        elif cell_role(cell) == "locked" and cell_grade_id(cell) in self.collapsed_cells:
            # ~23 KB of highlighted code per page, identical for everyone: its name is enough here
            cell.source = (f"# {cell_grade_id(cell)} (locked): the course's own code, as in the released notebook "
                           "(not shown in feedback)")
            cell.outputs = []
        elif cell.cell_type == "code":
            cell.source = self._cap_text(_text(cell.source), self.max_source_bytes, "cell")
            cell.execution_count = _int_or_none(cell.get("execution_count"))
            if is_test(cell):
                cell.outputs = self.test_outputs(cell.get("outputs", []))
            else:
                cell.outputs = self.code_outputs(cell.get("outputs", []))
        else:  # raw (or unknown) cells: shown as escaped text, never as live HTML
            cell.cell_type = "raw"
            cell.source = html.escape(self._cap_text(_text(cell.get("source", "")), self.max_source_bytes, "cell"))
            cell.metadata.pop("raw_mimetype", None)
            cell.metadata.pop("format", None)
            cell.pop("attachments", None)

    # ------------------------------------------------------------------ outputs

    def test_outputs(self, outputs) -> list:
        """A test cell's outputs: stdout text and errors, as plain text; nothing else."""
        kept = []
        for output in _merge_streams(outputs):
            kind = output.get("output_type")
            if kind == "stream" and output.get("name") == "stdout":
                kept.append(self._stream("stdout", output.get("text", "")))
            elif kind == "error":
                kept.append(self._error(output))
        return kept

    def code_outputs(self, outputs) -> list:
        kept = []
        for output in _merge_streams(outputs):
            kind = output.get("output_type")
            if kind == "stream":
                kept.append(self._stream("stderr" if output.get("name") == "stderr" else "stdout",
                                         output.get("text", "")))
            elif kind == "error":
                kept.append(self._error(output))
            elif kind in ("display_data", "execute_result"):
                kept.append(self._data(output))
            else:
                kept.append(_note(f"[an output of type {_short(kind)} is not shown in feedback]"))
        return kept

    def _stream(self, name: str, text) -> NotebookNode:
        return nbformat.v4.new_output("stream", name=name, text=self._cap_text(_text(text), self.max_output_bytes))

    def _error(self, output) -> NotebookNode:
        traceback = output.get("traceback", [])
        traceback = "\n".join(_text(line) for line in traceback) if isinstance(traceback, list) else _text(traceback)
        return nbformat.v4.new_output(
            "error", ename=self._cap_text(_text(output.get("ename", "Error")), 200),
            evalue=self._cap_text(_text(output.get("evalue", "")), self.max_output_bytes // 4),
            traceback=[self._cap_text(traceback, self.max_output_bytes)] if traceback else [])

    def _data(self, output) -> NotebookNode:
        data = output.get("data", {}) or {}
        metadata = output.get("metadata", {}) or {}
        kept, safe_metadata, dropped = {}, {}, []
        for mimetype, value in data.items():
            if mimetype == "text/plain":
                kept[mimetype] = self._cap_text(_text(value), self.max_output_bytes)
            elif mimetype in self.image_types and isinstance(value, str) and _BASE64.fullmatch(value):
                kept[mimetype] = value
                size = {k: v for k in ("width", "height")
                        if isinstance(v := (metadata.get(mimetype) or {}).get(k, metadata.get(k)), int)
                        and not isinstance(v, bool) and 0 < v < 10_000}
                if size:
                    safe_metadata[mimetype] = size
            else:
                dropped.append(_short(mimetype))
        if not any(m in kept for m in self.image_types) and dropped:
            note = f"[{', '.join(sorted(set(dropped)))} output not shown in feedback]"
            kept["text/plain"] = f"{kept['text/plain']}\n{note}" if kept.get("text/plain") else note
        kept.setdefault("text/plain", "")
        if output.get("output_type") == "execute_result":
            return nbformat.v4.new_output("execute_result", data=kept, metadata=safe_metadata,
                                          execution_count=_int_or_none(output.get("execution_count")))
        return nbformat.v4.new_output("display_data", data=kept, metadata=safe_metadata)

    def _cap_text(self, text: str, limit: int, what: str = "output") -> str:
        encoded = text.encode("utf-8", errors="replace")
        if len(encoded) <= limit:
            return text
        return (encoded[:limit].decode("utf-8", errors="ignore")
                + f"\n... {what} truncated ({len(encoded)} bytes)")

    # ------------------------------------------------------------------ markdown

    def render_markdown(self, source: str, attachments: dict | None = None) -> str:
        """Markdown -> sanitized HTML, as one line so the template's own markdown pass passes it through untouched."""
        # without attachments (the course's own cells, the same on every page): rendered once per worker
        render = _render_markdown if attachments else _render_markdown_cached
        block, problem = render(source, tuple(self.allowed_tags), attachments or None)
        if problem:
            self.log.warning("feedback: markdown shown as plain text (%s)", problem)
        return block

    # ------------------------------------------------------------------ size

    def enforce_budget(self, nb) -> None:
        """Keep the notebook's share of the page under ``max_notebook_bytes``: instructor cells and test results
        first, then everything else in order; what does not fit is replaced by a note."""
        left = self.max_notebook_bytes
        trusted = [c for c in nb.cells if is_locked(c)]
        ordered = trusted + [c for c in nb.cells if not is_locked(c)]
        for cell in ordered:
            size = len(cell.source.encode("utf-8")) + _CELL_OVERHEAD
            if size > left:
                cell.source = _omitted_source(cell)
                size = len(cell.source.encode("utf-8")) + _CELL_OVERHEAD
            left -= size
        outputs = [(c, i) for c in ordered if c.cell_type == "code" and is_test(c) for i in range(len(c.outputs))]
        outputs += [(c, i) for c in ordered if c.cell_type == "code" and not is_test(c)
                    for i in range(len(c.outputs))]
        dropped = 0
        for cell, index in outputs:
            size = _output_size(cell.outputs[index])
            if size > left:
                dropped += 1
                cell.outputs[index] = _note(f"[output omitted: the feedback page reached its size limit "
                                            f"({self.max_notebook_bytes} bytes); {size} bytes not shown]")
                size = _output_size(cell.outputs[index])
            left -= size
        if dropped:
            self.log.warning("feedback: %d output(s) omitted to keep the page under %d bytes",
                             dropped, self.max_notebook_bytes)


_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")
_SAFE_ID = re.compile(r"[^A-Za-z0-9_.\-]")
_SAFE_WORD = re.compile(r"[^A-Za-z0-9_./+\- ]")
_CELL_OVERHEAD = 600      # bytes of template markup around a cell
_OUTPUT_OVERHEAD = 300    # ... and around an output

# No ``class`` (the template's CSS would dress student text as a grading result: a green "alert-success" box)
# and no ``style`` (CSS can load remote resources with url() and restyle the page).
_ATTRIBUTES = {"*": {"title"}, "a": {"href", "title", "id", "name"},
               "img": {"src", "alt", "title", "width", "height"}, "ol": {"start"},
               "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"},
               **{f"h{n}": {"id"} for n in range(1, 7)}}
_DATA_IMAGE = re.compile(r"data:image/(png|jpeg|gif);base64,[A-Za-z0-9+/=\s]*", re.I)


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if name not in _ATTRIBUTES.get(tag, set()) | _ATTRIBUTES["*"]:
        return False
    if tag == "img" and name == "src":  # inline images only: a remote src tells its author who opened the page
        return bool(_DATA_IMAGE.fullmatch(value.strip()))
    if name in ("width", "height"):
        return value.strip().isdigit()
    if name == "href" and value.strip().lower().startswith("data:"):
        return False
    return True


def clean_html(fragment: str, tags=ALLOWED_TAGS) -> str:
    """Sanitize an HTML fragment with bleach: allow-listed tags/attributes, links to http(s)/mailto, images as
    ``data:`` URLs only, no ``class``/``style``, disallowed markup shown as escaped text, comments removed."""
    return bleach.clean(fragment, tags=set(tags), attributes=_allowed_attribute,
                        protocols={"http", "https", "mailto", "data"}, strip=False, strip_comments=True,
                        css_sanitizer=CSSSanitizer(allowed_css_properties=[]))


def _render_markdown(source: str, tags: tuple[str, ...], attachments: dict | None = None) -> tuple[str, str]:
    """(sanitized one-line HTML block, why the text is shown as plain text or '')."""
    renderer = IPythonRenderer(escape=False, allow_harmful_protocols=False, attachments=dict(attachments or {}))
    problem = ""
    try:
        rendered = MarkdownWithMath(renderer=renderer).render(source)
    except Exception as exc:  # e.g. a missing attachment: show the text rather than lose the page
        problem = str(exc) or type(exc).__name__
        rendered = f"<pre>{html.escape(source)}</pre>"
    return _markdown_block(clean_html(rendered, tags)), problem


# Rendering and sanitizing is a third of a page's time, and most markdown cells are the course's, identical on
# every student's page; the result depends on the text and the allowed tags alone.
_render_markdown_cached = functools.lru_cache(maxsize=2048)(_render_markdown)


def _markdown_block(clean: str) -> str:
    # One line starting with <div>: an HTML block that Markdown renders verbatim (no second parse, so no
    # link or HTML can be made from the escaped text). &#10; keeps newlines (in <pre>) as the browser sees them.
    return '<div class="feedback-markdown">' + clean.replace("\r", "").replace("\n", "&#10;") + "</div>"


def _text(value) -> str:
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    return value if isinstance(value, str) else str(value)


def _short(value) -> str:
    return _SAFE_WORD.sub("", str(value))[:40] or "?"


def _int_or_none(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _note(text: str) -> NotebookNode:
    return nbformat.v4.new_output("stream", name="stdout", text=text + "\n")


def _omitted_source(cell) -> str:
    note = "(content omitted: the feedback page reached its size limit)"
    return f"# {note}" if cell.cell_type == "code" else f"<div><em>{note}</em></div>"


def _merge_streams(outputs) -> list:
    """Consecutive stream outputs of the same name joined (a loop of prints is one output, not thousands)."""
    merged, texts = [], []  # texts[i]: the texts merged[i] stands for, joined at the end (adding up is quadratic)
    for output in outputs if isinstance(outputs, list) else []:
        if not isinstance(output, dict):
            continue
        if (output.get("output_type") == "stream" and merged and merged[-1].get("output_type") == "stream"
                and merged[-1].get("name") == output.get("name")):
            texts[-1].append(_text(output.get("text", "")))
        else:
            merged.append(output)
            texts.append([_text(output.get("text", ""))])
    return [output if len(run) == 1 else dict(output, text="".join(run)) for output, run in zip(merged, texts)]


def _output_size(output) -> int:
    kind = output.get("output_type")
    if kind == "stream":
        body = html.escape(output.get("text", ""))
    elif kind == "error":
        body = html.escape(output.get("evalue", "") + "".join(output.get("traceback", [])))
    else:
        body = "".join(html.escape(v) if k == "text/plain" else v for k, v in output.get("data", {}).items())
    return len(body.encode("utf-8")) + _OUTPUT_OVERHEAD


def _safe_cell_metadata(cell) -> dict:
    """Only what the feedback template reads: nbgrader's fields as the course reads them (``cells``: typed, one of
    the wrong type as absent; the grader's comment is rendered by the caller) and tags (safe characters)."""
    safe = {}
    if nbgrader_metadata(cell):
        safe["nbgrader"] = NotebookNode({**nbgrader_flags(cell), "grade_id": _SAFE_ID.sub("_", cell_grade_id(cell))[:100],
                                         "points": cell_points(cell), "score": cell_score(cell)})
    metadata = cell.get("metadata")
    tags = metadata.get("tags") if isinstance(metadata, dict) else None
    if isinstance(tags, list):
        safe["tags"] = [_SAFE_ID.sub("_", str(t))[:50] for t in tags][:20]
    return NotebookNode(safe)


def _safe_notebook_metadata(metadata) -> dict:
    """Drop widget state (rendered into a <script>), title and the rest; keep the language names, made safe."""
    safe = {}
    for key in ("kernelspec", "language_info"):
        value = metadata.get(key) if isinstance(metadata, dict) else None
        if isinstance(value, dict):
            safe[key] = {k: _short(v) for k, v in value.items() if k in ("name", "display_name", "language")
                         and isinstance(v, str)}
    if "language_info" in safe and "name" not in safe["language_info"]:
        safe["language_info"]["name"] = "python"
    return NotebookNode(safe)


# --------------------------------------------------------------------------- checking a rendered page

class _PageScanner(HTMLParser):
    """Collect live-markup problems in a rendered page (see ``unsafe_markup``)."""

    URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background",
                      "srcset", "ping", "codebase", "cite"}
    FORBIDDEN = {"iframe", "object", "embed", "frame", "frameset", "applet", "base", "form", "svg", "math",
                 "portal", "template", "noscript", "input", "button", "textarea", "select", "video", "audio"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.in_body = False
        self.script = None
        self.policies: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "body":
            self.in_body = True
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...> event handler")
            elif name == "srcdoc":
                self.problems.append(f"<{tag} srcdoc>")
            elif name in self.URL_ATTRIBUTES and value:
                url = re.sub(r"[\x00-\x20]", "", value).lower()
                if url.startswith(("javascript:", "vbscript:")) or (
                        url.startswith("data:") and not (tag == "img" and _DATA_IMAGE.fullmatch(url))):
                    self.problems.append(f"<{tag} {name}={value[:40]!r}>")
                elif name in ("src", "srcset", "background", "poster", "data", "codebase") and not url.startswith("data:"):
                    self.problems.append(f"<{tag} {name}={value[:40]!r}>: a resource loaded from outside the page")
            elif name == "style" and value and _REMOTE_CSS.search(value):
                self.problems.append(f"<{tag} style=...url(...)>: a resource loaded from outside the page")
        if tag == "script":
            self.script = dict(attrs)
            self.problems.append(f"<script> ({'in the body' if self.in_body else 'in the head'}): pages run no script")
        elif tag == "meta" and any(n == "http-equiv" for n, _ in attrs):
            values = dict(attrs)
            if (str(values.get("http-equiv", "")).lower() == "content-security-policy" and not self.in_body
                    and not self.policies):
                self.policies.append(str(values.get("content", "")))
            else:
                self.problems.append("<meta http-equiv>")
        elif tag == "link" and dict(attrs).get("href"):
            self.problems.append("<link href=...>: a resource loaded from outside the page")
        elif tag in ("style", "link") and self.in_body:
            self.problems.append(f"<{tag}> in the page body")
        elif tag in self.FORBIDDEN:
            self.problems.append(f"<{tag}>")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)


# Every feedback page carries this policy (templates/feedback/index.html.j2 writes it): nothing loads from
# anywhere, images only as data: URLs, the template's inline CSS; no script at all.
CONTENT_SECURITY_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
_REMOTE_CSS = re.compile(r"url\s*\(|@import|expression\s*\(", re.I)


def unsafe_markup(page: str, policy: str | None = CONTENT_SECURITY_POLICY) -> list[str]:
    """Live markup a page must not carry: any script, ``on*=`` handlers, ``javascript:``/``data:`` URLs
    (except inline images), resources from outside the page (``src``/``srcset`` that are not ``data:``,
    ``<link href>``, CSS ``url()`` in attributes), frames, embeds, forms, SVG; and, unless ``policy`` is
    None, a first ``<meta http-equiv="Content-Security-Policy">`` in <head> that is not ``policy``."""
    scanner = _PageScanner()
    scanner.feed(page)
    scanner.close()
    problems = list(scanner.problems)
    if policy is not None and scanner.policies != [policy]:
        problems.append(f"Content-Security-Policy {scanner.policies[:1] or 'missing'}, expected {policy!r}")
    return problems


class FeedbackHTMLExporter(HTMLExporter):
    """nbconvert's HTML exporter without its BeautifulSoup pass over the finished page, and with its compiled
    templates and highlighted cell sources kept for the next page (``_CompiledTemplates``, ``RememberedHighlight``).

    That pass parses the whole page, searches it and writes it out again: more than half of a page's
    rendering time (0.8 of 1.45 s of CPU for a graded 01_testing), for two things. For the feedback page
    it does one of them here directly: an ``alt`` text on every image without one (the same text). The
    other, ``tabindex`` on JupyterLab-style cells, finds nothing in the classic template the feedback
    template extends. The page is otherwise the template's output as it is (the same elements,
    attributes and text, only whitespace and quoting as the template writes them), and ``check_page``
    reads that page. The first lines are nbconvert 7's ``HTMLExporter.from_notebook_node``.
    """

    def _create_environment(self):
        environment = super()._create_environment()
        environment.bytecode_cache = _COMPILED_TEMPLATES
        return environment

    def from_notebook_node(self, nb, resources=None, **kw):
        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        highlight_code = self.filters.get("highlight_code",
                                          RememberedHighlight(Highlight2HTML(pygments_lexer=lexer, parent=self)))
        resources = self._init_resources(resources)
        filter_data_type = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self, resources=resources)
        self.register_filter("highlight_code", highlight_code)
        self.register_filter("filter_data_type", filter_data_type)
        page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        return _IMG_WITHOUT_ALT.sub(rf'<img\1 alt="{IMAGE_ALT_TEXT}"\2>', page), resources


class RememberedHighlight:
    """nbconvert's ``highlight_code`` filter (``Highlight2HTML``), its results kept for the life of the process.

    Every student's page shows the same released cells (tests, hidden-test placeholders, the course's own
    code), and a feedback worker renders one page after another: highlighting them again for every page
    was a third of a page's time (Pygments' lexer). What the filter writes depends only on the source, the
    language (or the cell's ``magics_language``, for an ``ipython`` lexer) and the formatter's options,
    which make the key. Sources longer than ``MAX_SOURCE`` (a student's own cells, most likely) are not
    kept, and the store is emptied when it holds ``MAX_ENTRIES``, so a class of any size uses bounded memory.
    """

    MAX_SOURCE = 20_000
    MAX_ENTRIES = 5_000
    _kept: dict[tuple, str] = {}

    def __init__(self, highlight: Highlight2HTML):
        self.highlight = highlight

    def __call__(self, source, language=None, metadata=None):
        if len(source) > self.MAX_SOURCE:
            return self.highlight(source, language, metadata)
        magics = metadata.get("magics_language") if metadata else None
        key = (source, language or self.highlight.pygments_lexer, repr(magics),
               repr(sorted(self.highlight.extra_formatter_options.items())))
        highlighted = self._kept.get(key)
        if highlighted is None:
            highlighted = self.highlight(source, language, metadata)
            if len(self._kept) >= self.MAX_ENTRIES:
                self._kept.clear()
            self._kept[key] = highlighted
        return highlighted


class _CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates, kept for the life of the process (Jinja checks each against its source).

    nbgrader renders each student's page with a new app, so a new exporter and Jinja environment, which
    would compile the same templates again: a sixth of a page's time in a grading worker.
    """

    def __init__(self):
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        code = self.compiled.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


_COMPILED_TEMPLATES = _CompiledTemplates()

# nbconvert's words for an image without a description (HTMLExporter's BeautifulSoup pass adds them too).
IMAGE_ALT_TEXT = "No description has been provided for this image"
# An <img> tag without an alt attribute; groups: its attributes, and the closing "/" if any. Images on the
# page are the template's (src, width, height) or bleach-cleaned markdown, whose renderer always writes alt.
_IMG_WITHOUT_ALT = re.compile(r"<img\b((?:(?!\balt=)[^>])*?)(\s*/?)>", re.I)


FEEDBACK_PREPROCESSORS = [
    "nbgrader.preprocessors.GetGrades",
    "course_tools.publish.feedback.HideHiddenTests",
    "course_tools.publish.feedback.SanitizeFeedback",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

# The course's "feedback" template first; nbgrader's formgrader templates ("formgrade", ...) behind it.
FEEDBACK_TEMPLATE_BASEDIRS = (str(Path(__file__).parent / "templates"),
                              str(Path(__import__("nbgrader").__file__).parent / "server_extensions" / "formgrader"
                                  / "templates"))

# The exporter nbgrader renders feedback with (GenerateFeedback.exporter_class): HTMLExporter, faster.
FEEDBACK_EXPORTER = "course_tools.publish.feedback.FeedbackHTMLExporter"

# What a page may weigh in all: the notebook's budget plus the template (CSS, MathJax loader, score panels),
# and HTML escaping of the text the budget counted.
MAX_PAGE_BYTES = 4_000_000

WITHHELD_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{policy}"><title>Feedback withheld</title></head>
<body><p>This feedback page was withheld because it failed the course's safety check ({reason}).
Your grade is not affected; please ask your instructor for your feedback.</p></body></html>
"""


def feedback_preprocessors(hide_hidden_tests: bool = True) -> list[str]:
    """The ``GenerateFeedback.preprocessors`` list; sanitizing is on whether or not hidden tests are shown."""
    return [p for p in FEEDBACK_PREPROCESSORS if hide_hidden_tests or not p.endswith(".HideHiddenTests")]


def feedback_config(hide_hidden_tests: bool = True) -> dict:
    """What ``nbgrader generate_feedback`` needs for the course's safe page, whatever the folder's config says
    (the course's ``nbgrader_config.py`` sets the same)."""
    return {"GenerateFeedback": {"preprocessors": feedback_preprocessors(hide_hidden_tests),
                                 "exporter_class": FEEDBACK_EXPORTER,
                                 "post_convert_hook": "course_tools.publish.feedback.check_feedback_pages"},
            "HTMLExporter": {"template_name": "feedback", "extra_template_basedirs": list(FEEDBACK_TEMPLATE_BASEDIRS)}}


def check_page(path: Path, max_bytes: int = MAX_PAGE_BYTES) -> str:
    """Why the rendered page at ``path`` must not reach its student ('' when it may)."""
    size = path.stat().st_size
    if size > max_bytes:
        return f"{size} bytes, over the {max_bytes}-byte cap"
    problems = unsafe_markup(path.read_text(encoding="utf-8", errors="replace"))
    return f"live markup: {'; '.join(problems[:3])}" if problems else ""


def withhold_failed_pages(folder: Path, max_bytes: int = MAX_PAGE_BYTES, say=None) -> list[tuple[Path, str]]:
    """Check every page in ``folder`` (``check_page``); replace each failing one by a short notice."""
    withheld = []
    for page in sorted(Path(folder).glob("*.html")):
        reason = check_page(page, max_bytes)
        if reason:
            page.write_text(WITHHELD_PAGE.format(reason=html.escape(reason), policy=CONTENT_SECURITY_POLICY), encoding="utf-8")
            withheld.append((page, reason))
            if say:
                say(f"{page.name} WITHHELD ({reason})")
    return withheld


def check_feedback_pages(assignment: str, student: str, notebooks) -> None:
    """``GenerateFeedback.post_convert_hook``: nbgrader calls it (from the course folder) once it has written a
    student's pages, by whatever path (formgrader's button, ``nbgrader generate_feedback``, ``generate``).
    Pages that fail ``check_page`` are replaced by the withheld notice, and the reason is logged."""
    import logging

    folder = Path.cwd() / "feedback" / student / assignment
    for page, reason in withhold_failed_pages(folder):
        logging.getLogger("course_tools.publish.feedback").error("feedback for %s / %s: %s WITHHELD (%s)",
                                                         student, assignment, page.name, reason)


def generate(root: str | Path, assignments: list[str] | None = None, hide_hidden_tests: bool = True,
             progress=print, workers: int = 2, max_page_bytes: int = MAX_PAGE_BYTES,
             students: list[str] | None = None) -> dict[str, bool]:
    """Run ``nbgrader generate_feedback <assignment> --student=<id> --force`` for every autograded submission
    (of ``students`` only, when given).

    Rendering is slow-ish (about a second a page), so submissions are shared among ``workers`` processes.
    Every page is then checked (``check_page``); one that fails is replaced by a short notice and its
    assignment reported as failed.
    """
    from ..grading.nbgrader_apps import run_in_workers

    root = Path(root)
    if assignments is None:
        assignments = sorted({p.name for p in (root / "autograded").glob("*/*") if p.is_dir()})
    config = feedback_config(hide_hidden_tests)
    say = progress or (lambda *_: None)
    say(f"generating feedback for {', '.join(assignments)} "
        f"({'hidden tests hidden' if hide_hidden_tests else 'hidden tests shown'}; student markup sanitized) ...")
    todo = [(a, p.parent.name) for a in assignments for p in sorted((root / "autograded").glob(f"*/{a}"))
            if p.is_dir() and (students is None or p.parent.name in students)]
    outcomes = run_in_workers([("generate_feedback", [a, f"--student={s}", "--force"], config) for a, s in todo],
                                  root, workers) if todo else []
    done = {a: any(t[0] == a for t in todo) for a in assignments}
    for assignment in [a for a, ok in done.items() if not ok]:
        say(f"  no autograded notebooks for {assignment} under {root / 'autograded'}: nothing to give feedback on")
    for (assignment, student), (ok, log) in zip(todo, outcomes):
        if not ok:
            done[assignment] = False
            say(f"  feedback for {student} / {assignment} FAILED:\n{log[-2000:]}")
        folder = root / "feedback" / student / assignment
        if ok and not list(folder.glob("*.html")):
            done[assignment] = False
            say(f"  feedback for {student} / {assignment}: nbgrader wrote no page\n{log[-2000:]}")
        withheld = [p for p in folder.glob("*.html") if "failed the course's safety check" in p.read_text(
            encoding="utf-8", errors="replace")]  # by the post-convert hook
        withheld += [p for p, _ in withhold_failed_pages(folder, max_page_bytes,
                                                         lambda line: say(f"  feedback for {student} / {assignment}: {line}"))]
        if withheld:
            done[assignment] = False
            for page in withheld:
                say(f"  feedback for {student} / {assignment}: {page.name} WITHHELD (see the log)")
    count = len(list((root / "feedback").glob("*/*/*.html")))
    say(f"  {count} feedback pages under {root / 'feedback'}")
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignments", nargs="*")
    parser.add_argument("--root", default=None, help="the course folder (default: the working directory's course)")
    parser.add_argument("--show-hidden", action="store_true", help="nbgrader's default: show hidden tests")
    args = parser.parse_args(argv)
    done = generate(args.root or course_root(), args.assignments or None, hide_hidden_tests=not args.show_hidden)
    return 0 if all(done.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
