"""environment.yml (for conda users) lists exactly the packages of pyproject.toml, with the same lower bounds."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# PyPI name -> conda-forge name, where they differ (psycopg2-binary is a pip-only build of psycopg2).
CONDA_NAME = {"psycopg2-binary": "psycopg2"}
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*?)\s*$")


def requirement(text: str) -> tuple[str, str]:
    """("name", "spec") of a requirement line, the name lower-cased with _ as -."""
    name, spec = REQUIREMENT.match(text).groups()
    return name.lower().replace("_", "-"), spec.replace(" ", "")


def pyproject_packages() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["course"]]
    packages = {"python": project["requires-python"].replace(" ", "")}
    for line in wanted:
        name, spec = requirement(line)
        packages[CONDA_NAME.get(name, name)] = spec
    return packages


def environment_packages() -> tuple[dict[str, str], list[str]]:
    """The conda packages of environment.yml, and its pip section (a YAML list read line by line)."""
    conda, pip, section = {}, [], None
    for line in (ROOT / "environment.yml").read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("#") or not line.strip():
            continue
        if not line.startswith(" "):
            section = line.split(":")[0]
            continue
        item = line.strip()
        if section != "dependencies" or not item.startswith("- "):
            continue
        item = item[2:].strip()
        if line.startswith("      "):  # under "- pip:"
            pip.append(item)
        elif item not in ("pip", "pip:"):
            name, spec = requirement(item)
            conda[name] = spec
    return conda, pip


def test_environment_yml_lists_the_packages_of_pyproject():
    conda, _ = environment_packages()
    expected = pyproject_packages()
    missing = {name: spec for name, spec in expected.items() if name not in conda}
    extra = sorted(set(conda) - set(expected))
    different = {name: (conda[name], spec) for name, spec in expected.items() if name in conda and conda[name] != spec}
    assert not (missing or extra or different), (
        f"environment.yml disagrees with pyproject.toml: missing {missing}, not in pyproject {extra}, "
        f"other bounds (yml, pyproject) {different}")


def test_environment_yml_installs_the_course_itself():
    _, pip = environment_packages()
    assert pip == ["-e ."]
