"""The reader's edition is self-contained and labelled: pinned local scripts only, and an instructors' banner.

These checks read the committed pages and need no browser; tests/test_browser.py opens a page
from file:// with the network cut and checks that its math and widgets really render.
"""

import re
from pathlib import Path

import pytest

from course_tools.course import available_assignments
from course_tools.publish import reader_edition, vendored_assets

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
ASSIGNMENTS = available_assignments(ROOT)


def test_vendored_assets_match_their_recorded_pinned_versions():
    found = vendored_assets.problems(NOTEBOOKS / vendored_assets.STATIC)
    assert not found, "notebooks/_static/ drifted from its pins: " + "; ".join(found) + \
        " (run `.venv/bin/python -m course_tools.publish.vendored_assets`)"
    for asset in vendored_assets.ASSETS:
        assert re.fullmatch(r"\d+\.\d+\.\d+", asset.version), f"{asset.name} is not pinned to one version"
        assert asset.integrity.startswith("sha512-")


def test_a_tampered_asset_is_caught(tmp_path):
    import shutil

    static = tmp_path / vendored_assets.STATIC
    shutil.copytree(NOTEBOOKS / vendored_assets.STATIC, static)
    entry = static / vendored_assets.MATHJAX.folder / vendored_assets.MATHJAX.entry
    entry.write_bytes(entry.read_bytes() + b"\n// changed")
    (static / vendored_assets.WIDGETS.folder / "extra.js").write_text("1")
    found = " ".join(vendored_assets.problems(static))
    assert "tex-svg-full.js differs" in found and "unrecorded files" in found, found


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reader_edition_loads_nothing_from_the_network(assignment):
    html = (NOTEBOOKS / f"{assignment}.html").read_text(encoding="utf-8")
    sources = re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"", html)
    links = re.findall(r"<link[^>]*\bhref=\"([^\"]+)\"", html)
    imports = re.findall(r"import\(\s*[\"']([^\"']+)", html)
    assert sources, "the page loads no script at all: is it built with the reader_edition template?"
    remote = [u for u in sources + links + imports if re.match(r"(https?:)?//", u)]
    assert not remote, f"notebooks/{assignment}.html loads from the network: {remote}"
    expected = {vendored_assets.MATHJAX.url, vendored_assets.WIDGETS.url}
    assert set(sources) == expected, f"unexpected scripts {set(sources) - expected}, missing {expected - set(sources)}"
    for url in sources:
        assert (NOTEBOOKS / url).is_file(), f"{url} is not beside the page"
    assert "require.min.js" not in html and "cdnjs" not in html and "jsdelivr" not in html and "unpkg" not in html


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reader_edition_says_it_is_the_instructors_edition(assignment):
    html = (NOTEBOOKS / f"{assignment}.html").read_text(encoding="utf-8")
    assert f'<meta name="{reader_edition.EDITION_META}" content="instructors">' in html[:4000]
    assert 'id="reader-edition-banner"' in html and "Never give it to students" in html
    assert "<title>" + f"{assignment} (instructors&#39; edition)" in html or \
        f"<title>{assignment} (instructors' edition)" in html, re.search(r"<title>.*?</title>", html).group(0)
