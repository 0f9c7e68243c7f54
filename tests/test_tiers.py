"""The suite's tiers (tests/conftest.py): every tier is a registered marker, and the table names real tests."""

import ast
import tomllib
from pathlib import Path

import conftest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def test_every_tier_is_a_registered_marker():
    markers = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"]["markers"]
    assert sorted(line.split(":")[0] for line in markers) == sorted(conftest.TIERS)


def test_the_tier_table_names_existing_test_modules_and_functions():
    """A renamed module or test would silently fall back to the unit tier: the table must follow renames."""
    stale = []
    for key, tier in conftest.TIER_OF.items():
        module, _, test = key.partition("::")
        path = TESTS / f"{module}.py"
        if tier not in conftest.TIERS or not path.is_file():
            stale.append(key)
            continue
        if test:
            functions = {node.name for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                         if isinstance(node, ast.FunctionDef)}
            if test not in functions:
                stale.append(key)
    assert not stale, f"tests/conftest.py TIER_OF names tests that do not exist: {stale}"


def test_the_makefile_checks_the_unit_tier():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "pytest -m unit" in makefile


class FakeItem:
    """What ``conftest.tier_of`` reads of a collected test."""

    def __init__(self, module: str, name: str, fixturenames=(), markers=()):
        self.fspath = f"/course/tests/{module}.py"
        self.originalname = self.name = name
        self.fixturenames = list(fixturenames)
        self._markers = [type("Mark", (), {"name": m}) for m in markers]

    def iter_markers(self):
        return iter(self._markers)


def test_tiers_come_from_the_table_then_the_fixtures_then_default_to_unit():
    assert conftest.tier_of(FakeItem("test_attacks", "test_attacker_scores_zero")) == "grading"
    assert conftest.tier_of(FakeItem("test_feedback_safety", "test_generate_end_to_end_sanitizes_caps_and_hides")) == "grading"
    assert conftest.tier_of(FakeItem("test_feedback_safety", "test_unsafe_markup_detects_what_it_should")) == "unit"
    assert conftest.tier_of(FakeItem("test_someone_adds_later", "test_x")) == "unit"
    assert conftest.tier_of(FakeItem("test_someone_adds_later", "test_x", fixturenames=["small_graded_class"])) == "grading"
    assert conftest.tier_of(FakeItem("test_attacks", "test_x", markers=["unit"])) == "unit"
