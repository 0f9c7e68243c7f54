"""Opening a course notebook in JupyterLab leaves it unmodified.

When JupyterLab opens a notebook it starts the kernel named in ``kernelspec`` and copies the
kernel's ``language_info`` (from its ``kernel_info_reply``) and kernel spec into the notebook's
metadata; when those differ from what the file holds, the notebook becomes dirty and is saved with
the new values. The server saves through ``nbformat``. So a committed notebook stays clean when its
metadata already equal what the real kernel reports and nbformat writes it back byte for byte.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import start_new_kernel

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "source").rglob("*.ipynb")) + sorted((ROOT / "release").rglob("*.ipynb"))


@pytest.fixture(scope="module")
def kernel_reports():
    """The ``language_info`` of a real ``python3`` kernel, and that kernel's spec."""
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        reply = client.kernel_info(reply=True, timeout=60)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    spec = KernelSpecManager().get_kernel_spec("python3")
    return reply["content"]["language_info"], {"display_name": spec.display_name, "language": spec.language,
                                               "name": "python3"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_metadata_is_what_jupyterlab_writes(path, kernel_reports):
    language_info, kernelspec = kernel_reports
    nb = nbformat.read(str(path), as_version=4)
    assert nb.metadata.get("language_info") == language_info, (
        f"{path.relative_to(ROOT)}: JupyterLab would rewrite language_info to {language_info} "
        "(authoring.kernel_language_info; run `make sync` and `make generate`)")
    assert nb.metadata.get("kernelspec") == kernelspec


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_saving_through_nbformat_gives_the_same_bytes(path):
    text = path.read_text(encoding="utf-8")
    again = nbformat.writes(nbformat.reads(text, as_version=nbformat.NO_CONVERT), version=nbformat.NO_CONVERT)
    assert again + "\n" == text
