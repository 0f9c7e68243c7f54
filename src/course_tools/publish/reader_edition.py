"""The reader's edition: each reference notebook executed top to bottom and rendered to HTML in ``notebooks/``.

    python -m course_tools.publish.reader_edition            # every assignment
    python -m course_tools.publish.reader_edition 01_testing
    python -m course_tools.publish.reader_edition --force    # rebuild pages that are up to date too

Reviewers read the course without running it: prose, solutions, plots and
widgets (their state is stored with nbclient, so the HTML renders the
default view of every widget), and the output of every *Going further*
study, which a student's notebook runs only at the press of a button
(``COURSE_RUN_STUDIES=1``, ``nextword.studies``). The files are rebuilt from ``source/`` by
this command and by ``make demo``, and are written as reproducibly as
execution allows (widget ids numbered in order, no execution timestamps). Each page carries the
SHA-256 of the source notebook it was built from, so a test can tell a
stale page without running anything, and a page whose stamp matches its
source is not rebuilt (execution repeats last-digit float noise from the
BLAS, so an unchanged notebook would otherwise give new bytes). After
changing what a page depends on besides its notebook (``nextword``, the
template, the vendored assets), pass ``--force``.

This is the **instructors' edition**: it shows the reference solutions and the
hidden tests, says so in a banner on every page and in its
``<meta name="course-edition" content="instructors">``, and never goes to
students (their peer review uses ``course_tools.publish.peer_review``'s packets).
The pages work offline, from ``file://``: MathJax and the widget manager are
loaded from pinned copies in ``notebooks/_static/`` (``course_tools.publish.vendored_assets``),
never from a CDN.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat

from nextword.studies import RUN_STUDIES

from ..course import available_assignments, course_root
from . import vendored_assets


@contextlib.contextmanager
def kernel_environment(**values: str):
    """Set these environment variables while kernels start inside the block (a kernel inherits ours), then restore them."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def execute(path: Path, timeout: int = 120):
    """Run the notebook in a fresh kernel from its own folder, every *Going further* study included; return it executed."""
    from nbclient import NotebookClient

    nb = nbformat.read(str(path), as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}},
                            record_timing=False, store_widget_state=True)
    # A headless MPLBACKEND (Agg, as under pytest) would silently drop every figure from the page, so the
    # inline backend is forced for the kernel. Reviewers read every study's output, so the study cells run
    # their studies instead of offering a button (nextword.studies).
    with kernel_environment(MPLBACKEND="module://matplotlib_inline.backend_inline", **{RUN_STUDIES: "1"}):
        client.execute(stderr=subprocess.DEVNULL)  # the kernel's own start-up chatter, not the notebook's stderr
    return nb


def widget_order(nb, state: dict) -> list[str]:
    """Widget model ids in a canonical order: the displayed widgets cell by cell, then what each refers to.

    The kernel reports widget state in whatever order its comm messages arrived, so
    numbering in that order gave different bytes on every build.
    """
    import json

    roots = [output["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
             for cell in nb.cells if cell.cell_type == "code" for output in cell.get("outputs", [])
             if "application/vnd.jupyter.widget-view+json" in output.get("data", {})]
    order: list[str] = []
    queue = [model_id for model_id in roots if model_id in state]
    while queue:
        model_id = queue.pop(0)
        if model_id in order:
            continue
        order.append(model_id)
        text = json.dumps(state[model_id], sort_keys=True)
        queue.extend(ref for ref in re.findall(r"IPY_MODEL_([0-9a-f]{32})", text) if ref in state)
    leftovers = sorted((m for m in state if m not in order), key=lambda m: json.dumps(state[m], sort_keys=True))
    return order + leftovers


def make_reproducible(nb):
    """Number widget model ids in a canonical order and drop volatile metadata."""
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    order = widget_order(nb, state)
    text = nbformat.writes(nb)
    for index, model_id in enumerate(order):
        text = text.replace(model_id, f"reader-edition-widget-{index:04d}")
    nb = nbformat.reads(text, as_version=4)
    # nbformat.writes sorted the state by the old random ids: sort it again by the new names.
    renamed = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    if renamed.get("state"):
        renamed["state"] = dict(sorted(renamed["state"].items()))
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        merged = []
        for output in cell.get("outputs", []):  # stream chunks split wherever the kernel flushed: join them
            if (output.get("output_type") == "stream" and merged and merged[-1].get("output_type") == "stream"
                    and merged[-1].get("name") == output.get("name")):
                merged[-1]["text"] += output["text"]
            else:
                merged.append(output)
        if cell.cell_type == "code":
            cell.outputs = merged
    return nb


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def stable_ids(html: str) -> str:
    """Replace the random element ids nbconvert gives widget views by ids numbered in order."""
    mapping: dict[str, str] = {}
    return _UUID.sub(lambda m: mapping.setdefault(m.group(0), f"reader-edition-view-{len(mapping):04d}"), html)


SOURCE_HASH_META = "reader-edition-source-sha256"


def source_hash(path: Path) -> str:
    """The SHA-256 of a source notebook, stamped into its HTML so a test can spot a stale reader's edition."""
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def stamped_hash(html_path: Path) -> str | None:
    match = re.search(rf'<meta name="{SOURCE_HASH_META}" content="([0-9a-f]+)"',
                      html_path.read_text(encoding="utf-8")[:4000]) if html_path.exists() else None
    return match.group(1) if match else None


TEMPLATES = Path(__file__).resolve().parent / "templates"
EDITION_META = "course-edition"
INSTRUCTORS_BANNER = ("Instructors' edition: the reference solutions and the hidden tests are on this page. "
                      "Never give it to students (students review each other with course_tools.publish.peer_review's packets).")


def render(nb, title: str, digest: str = "", static_url: str = vendored_assets.STATIC,
           banner: str = INSTRUCTORS_BANNER, edition: str = "instructors") -> str:
    """The notebook as one HTML page whose scripts are the pinned copies under ``static_url`` (relative to the page)."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="reader_edition", extra_template_basedirs=[str(TEMPLATES)])
    assets = {"mathjax_url": f"{static_url}/{vendored_assets.MATHJAX.folder}/{vendored_assets.MATHJAX.entry}",
              "widgets_url": f"{static_url}/{vendored_assets.WIDGETS.folder}/{vendored_assets.WIDGETS.entry}",
              "banner": banner}
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}, "reader_edition": assets})
    body = body.replace("<head>", f'<head>\n<meta name="{SOURCE_HASH_META}" content="{digest}">'
                                  f'\n<meta name="{EDITION_META}" content="{edition}">', 1)
    return stable_ids(body)


def build(assignments: list[str] | None, root: Path, out_dir: Path | None = None,
          progress=print, force: bool = False) -> list[tuple[str, float, Path]]:
    """Execute and render each assignment's reference notebook; return (assignment, seconds, html path).

    A page already stamped with its source notebook's hash is left as it is, unless ``force``.
    """
    say = progress or (lambda *_: None)
    out_dir = Path(out_dir or root / "notebooks")
    out_dir.mkdir(parents=True, exist_ok=True)
    vendored_assets.ensure(out_dir / vendored_assets.STATIC, root, say)  # the pages' scripts, pinned, beside them
    done = []
    for assignment in assignments or available_assignments(root):
        source = root / "source" / assignment / f"{assignment}.ipynb"
        target = out_dir / f"{assignment}.html"
        if not force and stamped_hash(target) == source_hash(source):
            shown = target.relative_to(root) if target.is_relative_to(root) else target
            say(f"  {assignment}: {shown} is up to date with source/{assignment}/{source.name} (not rebuilt)")
            continue
        say(f"  executing source/{assignment}/{source.name} in a fresh kernel ...")
        start = time.perf_counter()
        nb = make_reproducible(execute(source))
        seconds = time.perf_counter() - start
        target = out_dir / f"{assignment}.html"
        target.write_text(render(nb, f"{assignment} (instructors' edition)", source_hash(source)), encoding="utf-8")
        done.append((assignment, seconds, target))
        shown = target.relative_to(root) if target.is_relative_to(root) else target
        say(f"  {assignment}: ran in {seconds:.1f} s, {target.stat().st_size // 1024} KiB -> {shown}")
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignments", nargs="*")
    parser.add_argument("--out", default=None, help="output folder (default: notebooks/)")
    parser.add_argument("--force", action="store_true", help="rebuild pages whose stamp matches their source too")
    parser.add_argument("--root", default=None, help="the course folder (default: the working directory's course)")
    args = parser.parse_args(argv)
    build(args.assignments or None, Path(args.root).resolve() if args.root else course_root(), out_dir=Path(args.out) if args.out else None, force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
