"""The last lineage edges (issue 27 item 2), each pinned by a small hand-computed history.

- training coverage is judged from every record present at the revision asked: a record's date,
  not when it was recorded, decides which labels it covers (``trace impact``, ``trace labeler``,
  ``relabel plan``, ``labeler status``, import);
- ``labels diff B A`` is the mirror of ``labels diff A B`` across diverged branches;
- after a ``git revert`` of a batch commit, added - removed is the change in current labels;
- one answer replacing several labels pairs maximally.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import git
from tests.store.conftest import digit_rows, set_training_policy
from tests.store.test_lineage_rules import impact, import_rows, status, train


def head(root: Path) -> str:
    return git(root, "rev-parse", "HEAD").strip()


def trace_labeler(run, root: Path, labeler: str) -> dict:
    out = run("trace", "labeler", "digits", labeler, "--json", cwd=root).stdout
    return json.loads(out)


def test_a_training_recorded_after_the_labels_but_dated_before_covers_them(
    digits_ws, run, tmp_path
):
    set_training_policy(digits_ws, "warn")
    # vB-01 (never trained): d00 and d01 made 2026-02-01, d02 made 2026-01-10
    import_rows(run, digits_ws, digit_rows([0, 1], labeler="vB-01"), "1.0.0")
    early = digit_rows([2], labeler="vB-01", created_at="2026-01-10T09:00:00Z")
    import_rows(run, digits_ws, early, "1.0.0")
    imported = head(digits_ws)
    assert impact(run, digits_ws)["by_reason"]["untrained"] == 3

    # recorded now, dated 2026-01-20: covers the two labels made after it, not d02
    train(run, digits_ws, "vB-01", "1.0.0", "2026-01-20")
    record = status(run, digits_ws)["vB-01"]["record"]

    found = impact(run, digits_ws)
    assert (found["affected_labels"], found["by_reason"]["untrained"]) == (1, 1)
    traced = trace_labeler(run, digits_ws, "vB-01")
    assert (traced["covered"]["labels"], traced["uncovered"]["labels"]) == (2, 1)
    covered = [e for e in traced["by_version"] if e["covered"]]
    assert [e["training_ids"] for e in covered] == [[record]]
    row = status(run, digits_ws)["vB-01"]
    assert (row["covered"], row["action"], row["certified"]) == (True, "ok", "1.0.0")
    out = tmp_path / "plan"
    args = ["relabel", "plan", "digits", "--guideline", "digits", "--out", str(out)]
    run(*args, cwd=digits_ws)
    planned = json.loads((out / "plan.json").read_text())
    assert [e["item_id"] for e in planned["items"]] == ["d02.png"]  # made before the training

    # the revision asked decides which records count: at the import commit there were none
    at_import = ["trace", "impact", "digits", "--guideline", "digits", "--json"]
    old = json.loads(run(*at_import, "--snapshot", imported, cwd=digits_ws).stdout)
    assert old["by_reason"]["untrained"] == 3
    # what import stored stays the record of what was known then
    item = json.loads(run("trace", "item", "digits", "d00.png", "--json", cwd=digits_ws).stdout)
    assert [a["training"] for a in item["annotations"]] == [None]


def test_import_takes_a_late_recorded_training_dated_before_the_labels(digits_ws, run):
    rows = digit_rows([4], labeler="vB-01")  # made 2026-02-01
    refused = import_rows(run, digits_ws, rows, "1.0.0", expect=1)
    assert "vB-01" in refused.stderr
    train(run, digits_ws, "vB-01", "1.0.0", "2026-01-20")

    import_rows(run, digits_ws, rows, "1.0.0")  # training policy: error

    assert impact(run, digits_ws)["by_reason"]["untrained"] == 0
