"""The per-notebook output budget (course_tools.grading.output_budget): images validated and counted, tests never cut.

Issue 17.6: ``display()`` of raw 2 MB ``image/png`` strings, 15 per answer cell, made a 179 MB autograded
notebook that still scored full marks, unflagged. The end-to-end attack is in tests/attacks/resources.py.
"""

from __future__ import annotations

import base64
import json
import struct
import zlib

import nbformat

from course_tools.grading import output_budget
from course_tools.notebooks.cells import is_test


def png(width: int, height: int) -> str:
    """A real (tiny, grey) PNG of the given size, base64."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    raw = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    return base64.b64encode(raw).decode()


def jpeg_header(width: int, height: int) -> str:
    raw = b"\xff\xd8" + b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00" + b"\x00" * 9 \
        + b"\xff\xc0" + struct.pack(">HBHH", 17, 8, height, width) + b"\x03" + b"\x00" * 9 + b"\xff\xd9"
    return base64.b64encode(raw).decode()


def graded_notebook(answer_outputs: list, test_passes: bool = True):
    nb = nbformat.v4.new_notebook()
    answer = nbformat.v4.new_code_cell("def f():\n    return 1")
    answer.metadata["nbgrader"] = {"grade_id": "f", "solution": True, "grade": False, "locked": False}
    answer.outputs = [nbformat.from_dict(o) for o in answer_outputs]
    test = nbformat.v4.new_code_cell("assert f() == 1")
    test.metadata["nbgrader"] = {"grade_id": "test_f", "solution": False, "grade": True, "locked": True, "points": 1}
    test.outputs = [nbformat.v4.new_output("stream", name="stdout", text="judge: f passed\n")]
    if not test_passes:
        test.outputs.append(nbformat.v4.new_output("error", ename="AssertionError", evalue="f() gave 2",
                                                   traceback=["AssertionError: f() gave 2"]))
    nb.cells = [answer, test]
    return nb


def display(data: dict) -> dict:
    return {"output_type": "display_data", "data": data, "metadata": {}}


def apply(nb, budget=output_budget.MAX_NOTEBOOK_OUTPUT_BYTES):
    return output_budget.apply_output_budget(nb, is_test, budget)


def test_real_images_pass_and_fakes_are_named():
    assert output_budget.image_problem("image/png", png(40, 30)) == ""
    assert output_budget.image_problem("image/jpeg", jpeg_header(640, 480)) == ""
    assert "not a valid PNG" in output_budget.image_problem("image/png", base64.b64encode(b"A" * 300).decode())
    assert "not valid base64" in output_budget.image_problem("image/png", "\"><script>alert(1)</script>")
    assert "not a valid JPEG" in output_budget.image_problem("image/jpeg", png(4, 4))
    huge = base64.b64decode(png(2, 2))
    huge = huge[:16] + struct.pack(">II", 100_000, 100_000) + huge[24:]
    assert "pixel limit" in output_budget.image_problem("image/png", base64.b64encode(huge).decode())
    assert "byte limit" in output_budget.image_problem("image/png", "A" * (output_budget.MAX_IMAGE_BYTES + 4))


def test_many_large_raw_images_stay_under_the_cap_tests_untouched_and_flagged():
    """The attack of issue 17.6, as the judge hands it over: 15 raw 2 MB 'image/png' strings per answer cell."""
    fake = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 1_500_000).decode()  # ~2 MB, a PNG signature only
    nb = graded_notebook([display({"image/png": fake, "text/plain": "<Figure>"})] * 15)
    for number in range(3):
        copy = nbformat.from_dict(json.loads(json.dumps(nb.cells[0])))
        copy["id"] = f"answer-copy-{number}"
        nb.cells.append(copy)
    test_outputs = json.dumps(nb.cells[1].outputs)
    before = len(nbformat.writes(nb).encode())
    findings = apply(nb)
    after = len(nbformat.writes(nb).encode())
    assert before > 50_000_000 and after < output_budget.MAX_AUTOGRADED_NOTEBOOK_BYTES, (before, after)
    assert json.dumps(nb.cells[1].outputs) == test_outputs, "a test cell's outputs changed: its score could"
    assert findings and "image output(s) removed" in findings[0]
    assert "removed by grading" in nb.cells[0].outputs[0]["data"]["text/plain"]


def test_valid_images_count_toward_the_budget_and_the_cut_is_noted():
    image = png(300, 200)
    nb = graded_notebook([display({"image/png": image, "text/plain": "<Figure>"})] * 40, test_passes=False)
    budget = 12 * len(image)
    findings = apply(nb, budget)
    outputs = nb.cells[0].outputs
    kept = [o for o in outputs if o.get("output_type") == "display_data"]
    notes = [o for o in outputs if o.get("output_type") == "stream" and "output cut by grading" in o["text"]]
    assert 5 <= len(kept) < 12 and len(kept) + len(notes) == 40, (len(kept), len(notes))
    assert all(o["data"]["image/png"] == image for o in kept), "a valid image was changed"
    assert any("output budget" in f for f in findings)
    assert nb.cells[1].outputs[-1]["ename"] == "AssertionError", "the failing test's error is kept"


def test_an_honest_notebook_is_untouched():
    nb = graded_notebook([display({"image/png": png(640, 480), "text/plain": "<Figure>"}),
                          {"output_type": "stream", "name": "stdout", "text": "accuracy 0.71\n"}])
    before = nbformat.writes(nb)
    assert apply(nb) == [] and nbformat.writes(nb) == before
