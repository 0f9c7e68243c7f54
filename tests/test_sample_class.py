"""The large synthetic class: every kind of student of the demo class, in known proportions, with known scores."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from course_tools.demo import sample_class

ROOT = Path(__file__).resolve().parents[1]


def test_a_roster_has_n_students_in_the_proportions_asked():
    ids = sample_class.roster(300)
    counts = Counter(ids.values())
    assert len(ids) == 300 and sum(counts.values()) == 300
    assert set(counts) == set(sample_class.LARGE_CLASS_MIX)
    for kind, share in sample_class.LARGE_CLASS_MIX.items():
        assert abs(counts[kind] - 300 * share) < 1, (kind, counts[kind])
    assert sorted(ids) == [f"s{i:04d}" for i in range(1, 301)]


def test_a_roster_is_reproducible_and_its_seed_matters():
    assert sample_class.roster(50, seed=3) == sample_class.roster(50, seed=3)
    assert sample_class.roster(50, seed=3) != sample_class.roster(50, seed=4)
    assert Counter(sample_class.roster(50, seed=3).values()) == Counter(sample_class.roster(50, seed=4).values())


def test_a_roster_refuses_unknown_kinds():
    with pytest.raises(ValueError, match="unknown kinds"):
        sample_class.roster(10, {"perfect": 0.5, "genius": 0.5})


def test_a_large_class_is_written_with_each_kind_s_submission(tmp_path):
    """Every id gets exactly the notebook its kind gets in the demo class (so its expected score is the kind's)."""
    import nbformat

    for folder in ("course", "demo"):  # write_class reads only release/
        shutil.copytree(ROOT / "release" / "01_testing", tmp_path / folder / "release" / "01_testing")
    ids = sample_class.roster(12, seed=1)
    sample_class.write_class(tmp_path / "course", ROOT, ["01_testing"], ids=ids, progress=None)
    sample_class.write_class(tmp_path / "demo", ROOT, ["01_testing"], progress=None)
    for student, kind in ids.items():
        written = nbformat.read(str(tmp_path / "course" / "submitted" / student / "01_testing" / "01_testing.ipynb"), 4)
        reference = nbformat.read(str(tmp_path / "demo" / "submitted" / kind / "01_testing" / "01_testing.ipynb"), 4)
        assert [c.source for c in written.cells] == [c.source for c in reference.cells], (student, kind)
