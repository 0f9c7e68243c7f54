"""The reader's edition is not rebuilt for a notebook that did not change (so `make demo` leaves git clean)."""

from __future__ import annotations

from pathlib import Path

from course_tools.publish import reader_edition

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "01_testing"


def test_a_page_stamped_with_its_sources_hash_is_left_alone(tmp_path):
    source = ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    page = tmp_path / f"{ASSIGNMENT}.html"
    text = (f'<html><head>\n<meta name="{reader_edition.SOURCE_HASH_META}" '
            f'content="{reader_edition.source_hash(source)}">\n</head><body>kept</body></html>')
    page.write_text(text, encoding="utf-8")
    said = []
    assert reader_edition.build([ASSIGNMENT], ROOT, out_dir=tmp_path, progress=said.append) == []
    assert page.read_text(encoding="utf-8") == text
    assert any("up to date" in line for line in said), said

