"""Pinned local copies of the scripts the reader's edition needs: MathJax and the Jupyter widget manager.

    python -m course_tools.publish.vendored_assets            # fetch (npm pack), check and write notebooks/_static/
    python -m course_tools.publish.vendored_assets --check    # only check the committed copies

nbconvert's pages load require.js, MathJax 2.7.7 and an unpinned
``@jupyter-widgets/html-manager@*`` from CDNs, so offline their widgets are
empty and their math is raw TeX. The reader's edition loads these instead, from
``notebooks/_static/`` next to the pages, so a page works from ``file://``:

- ``mathjax@3.2.2``, only ``es5/tex-svg-full.js``: one self-contained file (all TeX
  extensions, SVG output with its glyphs inside, so no web fonts that a ``file://``
  page could not load);
- ``@jupyter-widgets/html-manager@1.0.15`` (the widget manager of ipywidgets 8.1,
  widget protocol 2), ``dist/embed.js``: the standalone build that needs no
  require.js, with its bundled-licence file and Font Awesome's woff2 fonts.

Each package is fetched from the npm registry with ``npm pack NAME@VERSION``, its
tarball is checked against the sha512 integrity the registry published for that
version (pinned below), and only the listed files and the licence are kept.
``_static/ASSETS.json`` records name, version, integrity, licence and the SHA-256
of every kept file; a test checks the committed files against it, so a copy
cannot drift from its recorded version unnoticed. Bump a version here, with its
integrity from ``npm view NAME@VERSION dist.integrity``, and rerun this command.
"""

from __future__ import annotations

import argparse
import base64
import fnmatch
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..course import course_root

STATIC = "_static"
MANIFEST = "ASSETS.json"


@dataclass(frozen=True)
class Asset:
    name: str          # npm package name
    version: str       # exact version: nothing unpinned
    integrity: str     # the registry's sha512 of the tarball of that version
    licence: str       # SPDX id from the package's package.json
    files: tuple[str, ...]  # glob patterns inside the package to keep
    licence_files: tuple[str, ...]
    entry: str         # the script a page loads

    @property
    def folder(self) -> str:
        return f"{self.name.lstrip('@').replace('/', '-')}-{self.version}"

    @property
    def url(self) -> str:
        """The entry script's path relative to a page in the folder that holds ``_static/``."""
        return f"{STATIC}/{self.folder}/{self.entry}"


MATHJAX = Asset(
    name="mathjax", version="3.2.2",
    integrity="sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
    licence="Apache-2.0", files=("es5/tex-svg-full.js",), licence_files=("LICENSE",),
    entry="es5/tex-svg-full.js")

WIDGETS = Asset(
    name="@jupyter-widgets/html-manager", version="1.0.15",
    integrity="sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
    licence="BSD-3-Clause", files=("dist/embed.js", "dist/*.woff2"),
    licence_files=("dist/embed.js.LICENSE.txt", "package.json"), entry="dist/embed.js")

ASSETS = (MATHJAX, WIDGETS)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _integrity(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def npm_pack(asset: Asset, workdir: Path) -> Path:
    """Download one pinned package tarball with npm and check its integrity."""
    npm = shutil.which("npm")
    if not npm:
        raise RuntimeError("npm is needed to fetch the reader's edition's scripts (apt-get install npm), "
                           "or restore notebooks/_static/ from git")
    spec = f"{asset.name}@{asset.version}"
    result = subprocess.run([npm, "pack", spec, "--silent", "--pack-destination", str(workdir)],
                            capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"npm pack {spec} failed:\n{result.stderr[-2000:]}")
    tarball = workdir / result.stdout.strip().splitlines()[-1]
    got = _integrity(tarball)
    if got != asset.integrity:
        raise RuntimeError(f"{spec}: tarball integrity {got} is not the pinned {asset.integrity}")
    return tarball


def extract(asset: Asset, tarball: Path, static_dir: Path) -> dict:
    """Keep only the asset's files and licence; return its manifest entry."""
    target = static_dir / asset.folder
    if target.exists():
        shutil.rmtree(target)
    kept: dict[str, str] = {}
    with tarfile.open(tarball) as archive:
        for member in archive.getmembers():
            inner = member.name.split("/", 1)[1] if "/" in member.name else member.name
            wanted = any(fnmatch.fnmatch(inner, p) for p in asset.files + asset.licence_files)
            if not member.isfile() or not wanted or ".." in Path(inner).parts:
                continue
            out = target / inner
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(archive.extractfile(member).read())
            kept[inner] = _sha256(out)
    missing = [p for p in asset.files + asset.licence_files if not any(fnmatch.fnmatch(k, p) for k in kept)]
    if missing:
        raise RuntimeError(f"{asset.name}@{asset.version} has no {missing}")
    return {"name": asset.name, "version": asset.version, "integrity": asset.integrity, "licence": asset.licence,
            "source": f"npm pack {asset.name}@{asset.version}", "folder": asset.folder, "entry": asset.entry,
            "files": dict(sorted(kept.items()))}


def vendor(static_dir: Path, progress=print) -> dict:
    """Fetch every pinned asset into ``static_dir`` and write its manifest."""
    say = progress or (lambda *_: None)
    static_dir.mkdir(parents=True, exist_ok=True)
    entries = []
    with tempfile.TemporaryDirectory() as tmp:
        for asset in ASSETS:
            say(f"  npm pack {asset.name}@{asset.version} ...")
            entries.append(extract(asset, npm_pack(asset, Path(tmp)), static_dir))
    expected = {a.folder for a in ASSETS}
    for stale in static_dir.iterdir():
        if stale.is_dir() and stale.name not in expected:
            shutil.rmtree(stale)  # an older version of an asset
    manifest = {"note": "Written by `python -m course_tools.publish.vendored_assets`; do not edit.", "assets": entries}
    (static_dir / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest


def problems(static_dir: Path) -> list[str]:
    """What is wrong with the vendored copies in ``static_dir`` (empty when they match the pins)."""
    manifest_path = static_dir / MANIFEST
    if not manifest_path.exists():
        return [f"{manifest_path} is missing"]
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    found = []
    recorded = {e["name"]: e for e in manifest["assets"]}
    for asset in ASSETS:
        entry = recorded.get(asset.name)
        if entry is None:
            found.append(f"{asset.name} is not vendored")
            continue
        for key in ("version", "integrity", "licence", "folder", "entry"):
            if entry[key] != getattr(asset, key):
                found.append(f"{asset.name}: recorded {key} {entry[key]!r}, pinned {getattr(asset, key)!r}")
        if asset.entry not in entry["files"]:
            found.append(f"{asset.name}: entry {asset.entry} not recorded")
        for inner, digest in entry["files"].items():
            path = static_dir / entry["folder"] / inner
            if not path.exists():
                found.append(f"{path} is missing")
            elif _sha256(path) != digest:
                found.append(f"{path} differs from the recorded {asset.name}@{asset.version}")
        on_disk = {str(p.relative_to(static_dir / entry["folder"])) for p in (static_dir / entry["folder"]).rglob("*")
                   if p.is_file()}
        extra = on_disk - set(entry["files"])
        if extra:
            found.append(f"{asset.name}: unrecorded files {sorted(extra)}")
    return found


def committed_assets(root: Path) -> Path:
    """The course's committed, checked copy of the assets (beside the reader's edition)."""
    return Path(root) / "notebooks" / STATIC


def ensure(static_dir: Path, root: Path, progress=print) -> None:
    """Make ``static_dir`` hold exactly the pinned assets: copied from the course's committed copy, or fetched."""
    committed = committed_assets(root)
    if problems(static_dir) and Path(static_dir).resolve() != committed.resolve() and not problems(committed):
        shutil.rmtree(static_dir, ignore_errors=True)
        shutil.copytree(committed, static_dir)
    if problems(static_dir):
        vendor(static_dir, progress)
    left = problems(static_dir)
    if left:
        raise RuntimeError("vendored assets still wrong: " + "; ".join(left))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=None, help="where (default: notebooks/_static of the working directory's course)")
    parser.add_argument("--check", action="store_true", help="only check the copies against the pins")
    args = parser.parse_args(argv)
    out = Path(args.out) if args.out else committed_assets(course_root())
    if not args.check:
        vendor(out)
    found = problems(out)
    for line in found:
        print(line)
    print("vendored assets: " + ("WRONG" if found else "ok, " + ", ".join(f"{a.name}@{a.version}" for a in ASSETS)))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
