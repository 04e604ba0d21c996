"""`trace impact` reads `confusable_with` in the new release too, not only at the label's version."""

from __future__ import annotations

import json

from tests.helpers import git
from tests.trace.conftest import add_pending, edit


def test_a_confusable_pair_only_the_new_release_adds_makes_labels_suspect(history, run):
    # 1.2.0 adds four to seven's confusable list; no release before it pairs four with seven
    edit(history, "confusable_with: [one, two]", "confusable_with: [one, two, four]")
    add_pending(history, "Fours with a closed top pass for sevens", [], "none")
    git(history, "commit", "-q", "-am", "digits: four is confusable with seven")
    run("guideline", "release", "digits", "--bump", "minor", cwd=history)

    out = run("trace", "impact", "digits", "--guideline", "digits", "--json", cwd=history)
    data = json.loads(out.stdout)

    assert data["to"] == "1.2.0"
    # four's labels are d04 (vA-01) and d14 (vB-01), both made under 1.0.0; four itself did
    # not change, so they are suspect only through the pair the new release adds
    fours = {tuple(s["key"].values()): s for s in data["segments"] if s["key"]["class"] == "four"}
    assert {k: (s["labels"], s["reasons"]) for k, s in fours.items()} == {
        ("1.0.0", "four", "vendor-a"): (1, {"confusable": 1}),
        ("1.0.0", "four", "vendor-b"): (1, {"confusable": 1}),
    }
    # by reason, against 1.2.0 (seven changed in 1.1.0 and again in 1.2.0, its list):
    # affected: one + seven under 1.0.0 (d01, d07, d11: 3) and seven under 1.1.0 (d07 and d17
    # by vC-01, d17 by vA-01: 3) = 6; confusable: two (d02, d12) + four (d04, d14) = 4;
    # untrained: vC-01's d03, d07, d17 and vC-02's d18 = 4
    assert data["by_reason"] == {"affected": 6, "confusable": 4, "untrained": 4}
    assert data["affected_classes"]["1.0.0"] == ["four", "one", "seven", "two"]
