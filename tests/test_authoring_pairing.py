"""The notebook/text pairing is declared once, in jupytext.toml, and course_tools.notebooks.authoring follows it."""

import shutil
from pathlib import Path

import nbformat

from course_tools.notebooks import authoring

ROOT = Path(__file__).resolve().parents[1]


def test_the_course_pairs_as_its_jupytext_toml_declares():
    declared = authoring.pairing(ROOT)
    assert (declared.notebooks, declared.texts, declared.text_format) == ("source", "authoring", "py:percent")
    for pair in authoring.pairs(ROOT):
        assert pair.notebook.relative_to(ROOT).parts[0] == "source"
        assert pair.text.relative_to(ROOT).parts[0] == "authoring" and pair.text.suffix == ".py"


def test_another_declared_pairing_is_followed(tmp_path):
    """A course whose jupytext.toml pairs nb/ with light-format twins in text/: sync writes them there, in that format."""
    (tmp_path / "jupytext.toml").write_text('formats = "nb///ipynb,text///py:light"\nnotebook_metadata_filter = "-all"\n',
                                            encoding="utf-8")
    (tmp_path / "nb" / "a").mkdir(parents=True)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("A title"), nbformat.v4.new_code_cell("x = 1")])
    nbformat.write(nb, str(tmp_path / "nb" / "a" / "a.ipynb"))
    assert authoring.pairing(tmp_path).text_format == "py:light"
    (pair,) = authoring.pairs(tmp_path)
    assert pair.text == tmp_path / "text" / "a" / "a.py"
    authoring.sync_pair(pair, "notebook")
    text = pair.text.read_text(encoding="utf-8")
    assert "# A title" in text and "# %%" not in text  # light format: no percent cell markers
    assert authoring.disagreement(pair) is None


def test_a_course_folder_without_jupytext_toml_pairs_as_the_installed_course(tmp_path):
    shutil.copytree(ROOT / "source" / "01_testing", tmp_path / "source" / "01_testing")
    (pair,) = authoring.pairs(tmp_path)
    assert pair.text == tmp_path / "authoring" / "01_testing" / "01_testing.py"
    assert pair.text_format == "py:percent"
