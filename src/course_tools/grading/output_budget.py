"""A per-notebook output budget for graded notebooks: images validated and counted, a note where output was cut.

The judge caps what one cell may send; a notebook of many cells could still grow without bound
(``display()`` of raw 2 MB ``image/png`` strings, 15 per cell, made a 179 MB autograded notebook), and
nbgrader's ``LimitOutput`` counts only stream text, not display data. ``apply_output_budget`` runs
in ``JudgedExecute`` after the judge, before anything is saved:

* every image output is decoded and checked: a real PNG (signature and ``IHDR``) or JPEG (``SOI`` and a
  frame header) of at most ``MAX_IMAGE_PIXELS`` pixels and ``MAX_IMAGE_BYTES`` of base64; anything else
  is removed, with a note;
* test cells' outputs (the judge's, already capped) are never cut, so scores never change; every other
  output is counted, in notebook order, against ``MAX_NOTEBOOK_OUTPUT_BYTES``, and an output that does
  not fit is replaced by a one-line note saying so;
* the submission is flagged for review when anything was removed or cut.

Stated sizes (an honest notebook's figures weigh 155-270 KB in all, the largest one 96 KB):
outputs of one graded notebook at most ``MAX_NOTEBOOK_OUTPUT_BYTES`` (2 MB), so the autograded notebook
stays under ``MAX_AUTOGRADED_NOTEBOOK_BYTES`` (3 MB: its sources and the tests' messages on top); the
feedback page is capped separately (``course_tools.publish.feedback.MAX_PAGE_BYTES``, 4 MB, of which the
notebook's share is ``SanitizeFeedback.max_notebook_bytes``, 2 MB).
"""

from __future__ import annotations

import base64
import binascii
import json
import struct

import nbformat

MAX_NOTEBOOK_OUTPUT_BYTES = 2_000_000
MAX_AUTOGRADED_NOTEBOOK_BYTES = 3_000_000
MAX_IMAGE_BYTES = 500_000           # base64 text of one image
MAX_IMAGE_PIXELS = 4_000 * 4_000
MAX_TEXT_BYTES = 100_000            # text/plain of one display output (streams are capped by the judge)
IMAGE_TYPES = ("image/png", "image/jpeg")


def image_problem(mimetype: str, value) -> str:
    """Why ``value`` (base64 text) is not an acceptable ``mimetype`` image ('' when it is)."""
    if not isinstance(value, str):
        return "not base64 text"
    if len(value) > MAX_IMAGE_BYTES:
        return f"{len(value)} bytes, over the {MAX_IMAGE_BYTES}-byte limit for one image"
    try:
        raw = base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        return "not valid base64"
    size = _png_size(raw) if mimetype == "image/png" else _jpeg_size(raw)
    if size is None:
        return f"not a valid {mimetype.split('/')[1].upper()} image"
    width, height = size
    if not (0 < width and 0 < height and width * height <= MAX_IMAGE_PIXELS):
        return f"{width}x{height} pixels, over the {MAX_IMAGE_PIXELS}-pixel limit"
    return ""


def _png_size(raw: bytes) -> tuple[int, int] | None:
    if len(raw) < 33 or raw[:8] != b"\x89PNG\r\n\x1a\n" or raw[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", raw[16:24])
    return width, height


def _jpeg_size(raw: bytes) -> tuple[int, int] | None:
    """Width and height from the first frame header (SOF0..SOF15 except DHT/JPG/DAC), or None."""
    if raw[:2] != b"\xff\xd8":
        return None
    index = 2
    while index + 9 <= len(raw):
        if raw[index] != 0xFF:
            return None
        marker = raw[index + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            index += 2
            continue
        length = struct.unpack(">H", raw[index + 2:index + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", raw[index + 5:index + 9])
            return width, height
        if length < 2:
            return None
        index += 2 + length
    return None


def _note(text: str):
    return nbformat.v4.new_output("stream", name="stdout", text=text + "\n")


def _size(output) -> int:
    return len(json.dumps(output, ensure_ascii=False).encode("utf-8"))


def _checked(output, removed: list[str]):
    """The output with invalid images removed and long text/plain cut (a note says what went)."""
    if output.get("output_type") not in ("display_data", "execute_result"):
        return output
    data = dict(output.get("data") or {})
    for mimetype in [m for m in data if m in IMAGE_TYPES]:
        problem = image_problem(mimetype, data[mimetype])
        if problem:
            del data[mimetype]
            removed.append(f"{mimetype}: {problem}")
            data["text/plain"] = (str(data.get("text/plain", "")) +
                                  f"\n[an {mimetype} output was removed by grading: {problem}]").lstrip("\n")
    text = data.get("text/plain")
    if isinstance(text, str) and len(text.encode("utf-8")) > MAX_TEXT_BYTES:
        data["text/plain"] = text.encode("utf-8")[:MAX_TEXT_BYTES].decode("utf-8", "ignore") + \
            f"\n... output truncated by grading ({len(text.encode('utf-8'))} bytes)"
    output = dict(output, data=data)
    return nbformat.from_dict(output)


def apply_output_budget(nb, is_test_cell, budget: int = MAX_NOTEBOOK_OUTPUT_BYTES) -> list[str]:
    """Validate images and hold ``nb``'s outputs to ``budget`` bytes (in place); what was done, for review.

    ``is_test_cell(cell)`` names the cells whose outputs are the judge's: counted first, never cut.
    """
    removed: list[str] = []
    cut, cut_bytes = 0, 0
    left = budget
    code_cells = [c for c in nb.cells if c.get("cell_type") == "code"]
    tests = [c for c in code_cells if is_test_cell(c)]
    for cell in tests:
        left -= sum(_size(o) for o in cell.get("outputs", []))
    for cell in (c for c in code_cells if not is_test_cell(c)):
        kept = []
        for output in cell.get("outputs", []):
            output = _checked(output, removed)
            size = _size(output)
            if size > left:
                cut += 1
                cut_bytes += size
                output = _note(f"[output cut by grading: this notebook's outputs reached their {budget}-byte budget; "
                               f"{size} bytes not kept]")
                size = _size(output)
            left -= size
            kept.append(output)
        cell["outputs"] = kept
    findings = []
    if removed:
        findings.append(f"{len(removed)} image output(s) removed ({'; '.join(sorted(set(removed))[:3])})")
    if cut:
        findings.append(f"{cut} output(s) cut ({cut_bytes} bytes) beyond the notebook's {budget}-byte output budget")
    return findings
