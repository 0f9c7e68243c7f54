"""Source notebooks and their text twins: ``source/<a>/<a>.ipynb`` paired with ``authoring/<a>/<a>.py``.

The text twin is a jupytext *percent* file: ``# %%`` starts a code cell, ``# %% [markdown]`` a
markdown cell, and nbgrader's metadata sits in the cell header
(``# %% nbgrader={"grade": true, "grade_id": "test_x", "points": 2, ...}``). ``jupytext.toml`` at
the course root declares the pairing, once: JupyterLab (with jupytext installed, as in the course's
environment) reads it to save both files together, and this module reads it (``pairing``) to find
the pairs; an instructor may equally edit the text file in any editor.

    python -m course_tools.notebooks.authoring sync            # the newer side of each pair wins
    python -m course_tools.notebooks.authoring sync --from text   (or --from notebook)
    python -m course_tools.notebooks.authoring check           # exit 1 when a pair disagrees

``sync`` also normalizes the notebook side, so that opening and saving it changes nothing:
no outputs or execution counts, cell ids ``<notebook>-<index>``, the course's kernelspec and the
kernel's ``language_info``.
"""

from __future__ import annotations

import argparse
import copy
import sys
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat

from .cells import cell_grade_id
from .grading_guard import GUARD_SOURCE

JUPYTEXT_CONFIG = "jupytext.toml"
# The installed course's: a course folder without its own jupytext.toml pairs its notebooks the same way.
_OWN_COURSE = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Pairing:
    """What jupytext.toml declares: ``<notebooks>/<a>/<a>.ipynb`` paired with ``<texts>/<a>/<a>.py``."""
    notebooks: str  # the notebooks' folder ("source")
    texts: str  # the text twins' folder ("authoring")
    text_format: str  # jupytext's short form of the text side ("py:percent")


def pairing(root: Path | None = None) -> Pairing:
    """The pairing declared by ``jupytext.toml`` in ``root``, else by the installed course's."""
    from jupytext.config import load_jupytext_configuration_file
    from jupytext.formats import long_form_multiple_formats, short_form_one_format

    candidates = [Path(root) / JUPYTEXT_CONFIG] if root else []
    path = next(p for p in [*candidates, _OWN_COURSE / JUPYTEXT_CONFIG] if p.is_file())
    config = load_jupytext_configuration_file(str(path))
    formats = config.formats[0] if isinstance(config.formats, list) else config.formats
    sides = long_form_multiple_formats(formats)
    notebook = next(f for f in sides if f["extension"] == ".ipynb")
    text = next(f for f in sides if f["extension"] != ".ipynb")
    folder = lambda side: side.get("prefix", "").strip("/")  # noqa: E731  ("source//" -> "source")
    text_format = short_form_one_format({k: v for k, v in text.items() if k != "prefix"})
    return Pairing(folder(notebook), folder(text), text_format)


TEXT_FORMAT = pairing().text_format
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def kernel_language_info() -> dict:
    """The ``language_info`` the course's kernel reports (ipykernel's, for this Python).

    JupyterLab copies the kernel's ``language_info`` into the notebook when it opens it; a notebook
    that already carries exactly that is not modified, so opening a source notebook leaves ``source/``
    clean (on a machine with another Python patch version only ``version`` would change).
    """
    try:
        from ipykernel.ipkernel import IPythonKernel
    except ImportError:  # the same keys, as ipykernel 6-7 fills them
        import platform

        return {"codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
                "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
                "pygments_lexer": "ipython3", "version": platform.python_version()}
    return dict(IPythonKernel.language_info)


@dataclass(frozen=True)
class Pair:
    notebook: Path
    text: Path
    text_format: str = TEXT_FORMAT

    @property
    def name(self) -> str:
        return self.notebook.stem


def pairs(root: Path) -> list[Pair]:
    """Every source notebook (the header included) with its text twin, whether or not both exist yet,
    as jupytext.toml pairs them (``pairing``)."""
    declared = pairing(root)
    source, authoring = root / declared.notebooks, root / declared.texts
    suffix = "." + declared.text_format.split(":")[0]
    found: dict[Path, Pair] = {}
    for notebook in sorted(source.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in notebook.parts:
            continue
        relative = notebook.relative_to(source).with_suffix(suffix)
        found[notebook] = Pair(notebook, authoring / relative, declared.text_format)
    for text in sorted(authoring.rglob(f"*{suffix}")):
        notebook = (source / text.relative_to(authoring)).with_suffix(".ipynb")
        found.setdefault(notebook, Pair(notebook, text, declared.text_format))
    return sorted(found.values(), key=lambda p: str(p.notebook))


def normalized(nb: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The notebook as ``source/`` keeps it: no outputs, stable ids, the course's kernel, nbformat 4.5."""
    nb = copy.deepcopy(nb)
    nb.nbformat, nb.nbformat_minor = 4, 5
    nb.metadata = nbformat.from_dict({"kernelspec": KERNELSPEC, "language_info": kernel_language_info()})
    for index, cell in enumerate(nb.cells):
        # Ids carry the notebook's name so they stay unique once nbgrader prepends the header.
        cell["id"] = f"{name}-{index:03d}"
        # JupyterLab's view state and jupytext's layout hints (blank lines after a cell) are not content.
        for key in ("jupyter", "execution", "lines_to_next_cell", "lines_to_end_of_cell_marker", "cell_marker"):
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.validate(nb)
    return nb


def notebook_text(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb) + "\n"


def text_of(nb: nbformat.NotebookNode, fmt: str = TEXT_FORMAT) -> str:
    """The text twin of a notebook (no jupytext header: the notebook holds the metadata)."""
    nb = copy.deepcopy(nb)
    nb.metadata = nbformat.from_dict({"jupytext": {"notebook_metadata_filter": "-all"}})
    return jupytext.writes(nb, fmt=fmt)


def notebook_from_text(text: str, name: str, fmt: str = TEXT_FORMAT) -> nbformat.NotebookNode:
    return normalized(jupytext.reads(text, fmt=fmt), name)


def disagreement(pair: Pair) -> str | None:
    """Why the pair is out of sync, or None when both sides say the same."""
    if not pair.notebook.exists() or not pair.text.exists():
        missing = pair.notebook if not pair.notebook.exists() else pair.text
        return f"{missing} is missing"
    stored = pair.notebook.read_text(encoding="utf-8")
    expected = notebook_text(notebook_from_text(pair.text.read_text(encoding="utf-8"), pair.name, pair.text_format))
    if stored != expected:
        mine = nbformat.reads(stored, as_version=4)
        theirs = nbformat.reads(expected, as_version=4)
        if len(mine.cells) != len(theirs.cells):
            return f"{pair.notebook} has {len(mine.cells)} cells, {pair.text} has {len(theirs.cells)}"
        for index, (a, b) in enumerate(zip(mine.cells, theirs.cells)):
            if a != b:
                label = cell_grade_id(b) or f"cell {index}"
                return f"{pair.notebook} and {pair.text} differ at {label}"
        return f"{pair.notebook} is not normalized (ids, metadata or outputs)"
    return None


def sync_pair(pair: Pair, source_of_truth: str | None = None) -> str | None:
    """Make both sides agree; return what was written, or None when nothing changed."""
    if source_of_truth is None:
        if not pair.text.exists():
            source_of_truth = "notebook"
        elif not pair.notebook.exists():
            source_of_truth = "text"
        else:
            source_of_truth = "notebook" if pair.notebook.stat().st_mtime > pair.text.stat().st_mtime else "text"
    if source_of_truth == "notebook":
        nb = normalized(nbformat.read(pair.notebook, as_version=4), pair.name)
        text = text_of(nb, pair.text_format)
    else:
        text = pair.text.read_text(encoding="utf-8")
        nb = notebook_from_text(text, pair.name, pair.text_format)
    written = []
    for path, content in ((pair.text, text), (pair.notebook, notebook_text(nb))):
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
            written.append(str(path))
    return ", ".join(written) or None


def guard_differences(root: Path) -> list[str]:
    """Notebooks whose ``grading_guard`` cell is not exactly the shared ``GUARD_SOURCE``."""
    wrong = []
    for pair in pairs(root):
        if not pair.notebook.exists() or pair.name == "header":
            continue
        nb = nbformat.read(pair.notebook, as_version=4)
        guards = [c for c in nb.cells if cell_grade_id(c) == "grading_guard"]
        if len(guards) != 1 or guards[0].source != GUARD_SOURCE.strip("\n"):
            wrong.append(str(pair.notebook))
    return wrong


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["sync", "check"])
    parser.add_argument("--from", dest="source_of_truth", choices=["text", "notebook"],
                        help="which side wins (default: the more recently modified one)")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the course folder (default: here)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    notebooks = pairing(root).notebooks
    if not (root / notebooks).is_dir():
        parser.error(f"{root} has no {notebooks}/ folder: run this from the course folder or pass --root")
    status = 0
    for pair in pairs(root):
        if args.command == "sync":
            written = sync_pair(pair, args.source_of_truth)
            print(f"{pair.name}: {'wrote ' + written if written else 'in sync'}")
        else:
            problem = disagreement(pair)
            print(f"{pair.name}: {problem or 'in sync'}")
            status |= problem is not None
    for notebook in guard_differences(root):
        print(f"{notebook}: its grading_guard cell is not course_tools.notebooks.grading_guard.GUARD_SOURCE")
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
