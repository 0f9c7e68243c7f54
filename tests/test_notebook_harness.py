"""The mutant harness's bookkeeping: shares of a corpus scored in separate processes merge back in corpus order."""

import pytest

from notebook_harness import merge_shares


def _entry(name):
    return {"function": "f", "mutant": name, "failed": [], "points_lost": 1.0}


def _report(entries_by_corpus, passed=True):
    return {"reference": {"test_f_visible": {"grade_id": "test_f_visible", "passed": passed}},
            "ungraded_failures": [], "corpora": entries_by_corpus}


def test_shares_merge_back_in_corpus_order():
    # three processes: share i scored positions i, i + 3, ... of each corpus
    names = [f"m{i}" for i in range(7)]
    alternatives = ["a0", "a1"]
    reports = [_report({"MUTANTS": [_entry(n) for n in names[i::3]], "ALTERNATIVES": [_entry(n) for n in alternatives[i::3]]})
               for i in range(3)]
    merged = merge_shares(reports)
    assert [e["mutant"] for e in merged["corpora"]["MUTANTS"]] == names
    assert [e["mutant"] for e in merged["corpora"]["ALTERNATIVES"]] == alternatives
    assert merged["reference"] == reports[0]["reference"]


def test_shares_whose_references_disagree_are_refused():
    with pytest.raises(RuntimeError, match="test_f_visible"):
        merge_shares([_report({"MUTANTS": []}), _report({"MUTANTS": []}, passed=False)])
