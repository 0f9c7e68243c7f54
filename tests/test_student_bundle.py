"""The student bundle (``make student-bundle``): what it holds, what it must never hold, and that it works.

The bundle is built once (module fixture). It is then unpacked into an empty folder and set up with
the command its own README gives, run by ``sh`` with only the base Python 3.11 on PATH (no venv, no
course checkout): ``jupyterlab`` in that command is swapped for ``nbclient ipykernel`` (the kernel
JupyterLab would start, without the web application), so pip installs the ``nextword`` wheel and its
dependencies into a fresh venv (from the registry, or pip's cache). A released notebook is executed
in that venv: as released, every visible test fails; with the reference solution put into the
answer cells, every cell runs clean.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from course_tools.course import available_assignments
from course_tools.demo import sample_class
from course_tools.notebooks.cells import cell_grade_id, is_test
from course_tools.publish import student_bundle

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = available_assignments(ROOT)
RUN_ASSIGNMENT = "01_testing"
TOP = student_bundle.TOP


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return student_bundle.build(tmp_path_factory.mktemp("bundle"), progress=None)


def secrets(root: Path = ROOT) -> dict:
    """What students must never get, from every notebook in source/: the lines (stripped, >= 16 characters)
    of solutions and written-answer rubrics (``solution``) and of hidden tests (``hidden``), minus lines the
    same notebooks also show students outside those regions; and each solution's runs of 3 lines (``runs``)."""
    found = {"solution": set(), "hidden": set(), "public": set(), "runs": set()}
    for path in sorted((root / "source").rglob("*.ipynb")):
        for cell in nbformat.read(str(path), as_version=4).cells:
            inside, region = None, []
            for line in cell.source.splitlines() + ["### END SOLUTION"]:
                text = line.strip()
                if text in ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS"):
                    inside, region = ("solution" if "SOLUTION" in text else "hidden"), []
                elif text in ("### END SOLUTION", "### END HIDDEN TESTS"):
                    if inside == "solution":
                        lines = [t for t in region if t]
                        found["runs"] |= {tuple(lines[i:i + 3]) for i in range(len(lines) - 2)}
                    inside = None
                else:
                    if inside:
                        region.append(text)
                    if len(text) >= 16:
                        found[inside or "public"].add(text)
    found["solution"] -= found["public"]
    found["hidden"] -= found["public"]
    return found


def leaks(archive: Path, secret: dict) -> list[str]:
    """Secret lines in the bundle's notebooks and README; hidden-test lines or 3-line runs of a solution in the wheel.

    The library is public by design and shares plain statements with solutions (``if len(examples) == 0:``),
    so in its files only a run of solution lines counts as a leak.
    """
    found = []
    for name, text in student_bundle.texts(archive).items():
        if name.endswith(".ipynb"):  # notebooks store source lines as JSON strings: read them as Jupyter does
            lines = [line.strip() for cell in json.loads(text)["cells"] for line in "".join(cell["source"]).splitlines()]
        else:
            lines = [line.strip() for line in text.splitlines()]
        if ".whl!" in name:
            found += [f"{name}: {line}" for line in sorted(set(lines) & secret["hidden"])]
            code = [line for line in lines if line]
            found += [f"{name}: {' / '.join(run)}" for run in
                      sorted({tuple(code[i:i + 3]) for i in range(len(code) - 2)} & secret["runs"])]
        else:
            found += [f"{name}: {line}" for line in sorted(set(lines) & (secret["solution"] | secret["hidden"]))]
    return found


def test_bundle_holds_the_released_notebooks_the_nextword_wheel_and_a_readme(bundle):
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        version = student_bundle.project()["version"]
        assert names == {f"{TOP}/README.md", f"{TOP}/wheels/nextword-{version}-py3-none-any.whl",
                         *(f"{TOP}/notebooks/{a}/{a}.ipynb" for a in ASSIGNMENTS)}, names
        for assignment in ASSIGNMENTS:
            assert zf.read(f"{TOP}/notebooks/{assignment}/{assignment}.ipynb") == \
                (ROOT / "release" / assignment / f"{assignment}.ipynb").read_bytes()
    print(f"\nstudent bundle: {bundle.stat().st_size // 1024} KiB")


def test_the_wheel_holds_nextword_only(bundle):
    wheel_files = [name.split("!", 1)[1] for name in student_bundle.texts(bundle) if ".whl!" in name]
    outside = [n for n in wheel_files if n.split("/")[0] != "nextword" and not re.match(r"nextword-[^/]+\.dist-info/", n)]
    assert not outside, outside
    shipped = {n.split("/", 1)[1] for n in wheel_files if n.startswith("nextword/")}
    assert shipped == {p.name for p in (ROOT / "src" / "nextword").glob("*.py")}, shipped


def test_bundle_holds_no_solution_hidden_test_or_rubric(bundle):
    assert student_bundle.check(bundle) == []
    secret = secrets()
    assert len(secret["solution"]) > 100 and len(secret["hidden"]) > 50 and len(secret["runs"]) > 100, (
        {k: len(v) for k, v in secret.items()})
    assert leaks(bundle, secret) == []


def test_the_leak_checks_catch_a_leak(bundle, tmp_path):
    """The checks fail on a bundle that also carries a source notebook, or a solution inside the library."""
    import io

    source = ROOT / "source" / RUN_ASSIGNMENT / f"{RUN_ASSIGNMENT}.ipynb"
    solution = sample_class.read_source(ROOT, RUN_ASSIGNMENT).solutions
    longest = max(solution.values(), key=lambda s: len(s.splitlines()))
    leaky = tmp_path / "leaky.zip"
    with zipfile.ZipFile(bundle) as zf, zipfile.ZipFile(leaky, "w") as out:
        for name in zf.namelist():
            data = zf.read(name)
            if name.endswith(".whl"):
                wheel, buffer = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
                with zipfile.ZipFile(buffer, "w") as doctored:
                    for inner in wheel.namelist():
                        doctored.writestr(inner, wheel.read(inner))
                    doctored.writestr("nextword/answers.py", longest)
                data = buffer.getvalue()
            out.writestr(name, data)
        out.write(source, f"{TOP}/extra/{RUN_ASSIGNMENT}.ipynb")
    assert any("BEGIN HIDDEN TESTS" in p for p in student_bundle.check(leaky))
    found = leaks(leaky, secrets())
    assert len([f for f in found if "/extra/" in f]) > 50
    assert any("nextword/answers.py" in f for f in found), found[:5]


def setup_command(readme: str) -> str:
    """The README's one setup command (the line that makes the venv)."""
    commands = [line.strip() for line in readme.splitlines() if line.strip().startswith("python3 -m venv .venv")]
    assert len(commands) == 1, commands
    return commands[0]


RUN_NOTEBOOK = r'''
import json, sys
import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

path = sys.argv[1]
spec = KernelSpecManager().get_kernel_spec("python3")
# the venv's own kernel ("python" is replaced by this interpreter when the kernel starts)
assert spec.resource_dir.startswith(sys.prefix) and spec.argv[0] in ("python", sys.executable), spec.to_dict()
nb = nbformat.read(path, as_version=4)
NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
               resources={"metadata": {"path": str(__import__("pathlib").Path(path).parent)}}).execute()
# the errors of each code cell, in order (the bundle's venv has no course_tools: the test reads the cells' kinds)
print(json.dumps([[o.get("ename") for o in cell.outputs if o.get("output_type") == "error"]
                  for cell in nb.cells if cell.cell_type == "code"]))
'''


def test_unpacked_bundle_sets_up_with_its_own_command_and_behaves_as_released(bundle, tmp_path):
    folder = tmp_path / "student"
    folder.mkdir()
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(folder)
    home = folder / TOP
    command = setup_command((home / "README.md").read_text(encoding="utf-8"))
    assert command.endswith(" jupyterlab"), command
    command = command[: -len("jupyterlab")] + "nbclient ipykernel"
    base_python = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    env = {"PATH": f"{base_python.parent}:/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8",
           "PIP_DISABLE_PIP_VERSION_CHECK": "1", "MPLBACKEND": "Agg"}
    env.update({k: v for k, v in os.environ.items() if k.startswith(("PIP_", "SSL_", "REQUESTS_CA", "HTTP", "NO_PROXY"))
                or k.lower() in ("http_proxy", "https_proxy", "no_proxy")})
    env["PIP_CACHE_DIR"] = os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip"))
    # pip compiles every module it installs (thousands, for Matplotlib, NumPy and Jupyter); Python compiles the
    # few that the notebooks import when they import them. The command itself is the README's, unchanged.
    env["PIP_COMPILE"] = "0"  # pip install --no-compile (PIP_NO_COMPILE=1 would mean the opposite)
    setup = subprocess.run(["sh", "-c", command], cwd=home, env=env, capture_output=True, text=True, timeout=900)
    assert setup.returncode == 0, f"$ {command}\n{setup.stdout[-3000:]}{setup.stderr[-3000:]}"
    python = home / ".venv" / "bin" / "python"
    assert python.exists()

    released = home / "notebooks" / RUN_ASSIGNMENT / f"{RUN_ASSIGNMENT}.ipynb"
    info = sample_class.read_source(ROOT, RUN_ASSIGNMENT)
    solved_nb = sample_class.build_submission(nbformat.read(str(released), as_version=4), info,
                                              sample_class.Plan("perfect", RUN_ASSIGNMENT, set()))
    solved = released.with_name("solved.ipynb")
    nbformat.write(solved_nb, str(solved))
    script = tmp_path / "run_notebook.py"
    script.write_text(RUN_NOTEBOOK, encoding="utf-8")

    def run(path: Path) -> list[dict]:
        done = subprocess.run([str(python), str(script), str(path)], cwd=home, env=env, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
        errors = json.loads(done.stdout.strip().splitlines()[-1])
        code = [cell for cell in nbformat.read(str(path), as_version=4).cells if cell.cell_type == "code"]
        assert len(errors) == len(code), (len(errors), len(code))
        return [{"grade_id": cell_grade_id(cell), "test": is_test(cell), "errors": cell_errors}
                for cell, cell_errors in zip(code, errors)]

    as_released = run(released)
    tests = [c for c in as_released if c["test"]]
    assert tests and all(c["errors"] for c in tests), [c["grade_id"] for c in tests if not c["errors"]]
    with_reference = run(solved)
    assert [c["grade_id"] for c in with_reference if c["test"]] == [c["grade_id"] for c in tests]
    failing = [(c["grade_id"], c["errors"]) for c in with_reference if c["errors"]]
    assert not failing, f"with the reference solution these cells fail in the bundle's environment: {failing}"
