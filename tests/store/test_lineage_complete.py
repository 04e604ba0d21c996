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
from tests.store.test_lineage_rules import (
    diff,
    impact,
    import_rows,
    merge,
    relabel_plan,
    release,
    status,
    train,
)

SEVEN = "definition: A horizontal top bar joined to a diagonal stroke."


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
    # what import stored stays the record of what was known then; trace item says both
    item = json.loads(run("trace", "item", "digits", "d00.png", "--json", cwd=digits_ws).stdout)
    assert [(a["training"], a["covered_by"]) for a in item["annotations"]] == [(None, record)]
    text = run("trace", "item", "digits", "d00.png", cwd=digits_ws).stdout
    assert f"training NO covering training at import; covered now by {record}" in text
    item = json.loads(run("trace", "item", "digits", "d02.png", "--json", cwd=digits_ws).stdout)
    assert [(a["training"], a["covered_by"]) for a in item["annotations"]] == [(None, None)]


def test_import_takes_a_late_recorded_training_dated_before_the_labels(digits_ws, run):
    rows = digit_rows([4], labeler="vB-01")  # made 2026-02-01
    refused = import_rows(run, digits_ws, rows, "1.0.0", expect=1)
    assert "vB-01" in refused.stderr
    train(run, digits_ws, "vB-01", "1.0.0", "2026-01-20")

    import_rows(run, digits_ws, rows, "1.0.0")  # training policy: error

    assert impact(run, digits_ws)["by_reason"]["untrained"] == 0


# -- labels diff ------------------------------------------------------------------------------------
def seven_relabeled(run, root: Path, tmp_path: Path) -> str:
    """d07 labeled seven by vA-01 and one by vB-01 (two imports), then a release that redefines
    seven, vA-01 trained on it: returns the relabel plan that doubts both labels of d07."""
    set_training_policy(root, "warn")
    import_rows(run, root, digit_rows([7]), "1.0.0")
    import_rows(run, root, digit_rows([7], labeler="vB-01", **{"class": "one"}), "1.0.0")
    release(run, root, "Sevens", (SEVEN, SEVEN.replace("diagonal", "long diagonal")))
    train(run, root, "vA-01", "1.1.0", "2026-01-20")
    return relabel_plan(run, root, tmp_path)


def mirrored(found: dict) -> dict:
    """What ``diff B A`` must say, from ``diff A B``."""
    swap = {"added": "removed", "removed": "added", "changed_from": "changed_to"}
    swap |= {v: k for k, v in swap.items()}
    return {
        "added": found["removed"],
        "removed": found["added"],
        "changed_class": found["changed_class"],
        "moved_boxes": found["moved_boxes"],
        "relabeled_same": found["relabeled_same"],
        "by_class": {
            c: {swap.get(k, k): n for k, n in counts.items()}
            for c, counts in found["by_class"].items()
        },
        "class_changes": {
            " -> ".join(reversed(k.split(" -> "))): n for k, n in found["class_changes"].items()
        },
    }


def counts(found: dict) -> dict:
    return {k: found[k] for k in mirrored(found)}


def test_diff_between_diverged_branches_is_a_mirror(digits_ws, run, tmp_path):
    plan = seven_relabeled(run, digits_ws, tmp_path)
    base = head(digits_ws)
    # main: one answer (one) replaces both labels of d07
    merge(run, digits_ws, plan, tmp_path / "a.jsonl", [("d07.png", "one")])
    git(digits_ws, "checkout", "-q", "-b", "other", base)
    # other: the two labels of d07 stay; vA-01 labels d00 (zero) and d01 (one)
    import_rows(run, digits_ws, digit_rows([0, 1]), "1.1.0")
    git(digits_ws, "checkout", "-q", "main")

    there = diff(run, digits_ws, "main", "other")
    back = diff(run, digits_ws, "other", "main")

    # main has 1 current label (the answer), other 4: d07 seven, d07 one, d00, d01. The answer
    # pairs with vB-01's one (the same class wins over vA-01's seven, which is one more label)
    assert (there["added"], there["removed"], there["relabeled_same"]) == (3, 0, 1)
    assert there["by_class"] == {
        "one": {"added": 1, "relabeled_same": 1},
        "seven": {"added": 1},
        "zero": {"added": 1},
    }
    assert counts(back) == mirrored(there)
    assert there["added"] - there["removed"] == 4 - 1


def test_diff_reconciles_after_a_git_revert_of_a_batch_commit(digits_ws, run, tmp_path):
    plan = seven_relabeled(run, digits_ws, tmp_path)
    first_import = git(digits_ws, "log", "--format=%H", "--grep", "import").split()[-1]
    merge(run, digits_ws, plan, tmp_path / "a.jsonl", [("d07.png", "seven")])
    answered = head(digits_ws)
    assert labels(run, digits_ws) == 1  # the answer superseded both

    # reverting the first import: its label was superseded already, so nothing current changes
    git(digits_ws, "revert", "--no-edit", first_import)
    assert labels(run, digits_ws) == 1
    found = diff(run, digits_ws, answered, "HEAD")
    assert (found["added"], found["removed"], found["relabeled_same"]) == (0, 0, 0)
    assert counts(diff(run, digits_ws, "HEAD", answered)) == mirrored(found)

    # reverting the merge too: d07's one (vB-01) is current again, in place of the answer
    git(digits_ws, "revert", "--no-edit", answered)
    assert labels(run, digits_ws) == 1
    found = diff(run, digits_ws, answered, "HEAD")
    assert (found["added"], found["removed"], found["changed_class"]) == (0, 0, 1)
    assert found["class_changes"] == {"seven -> one": 1}
    assert counts(diff(run, digits_ws, "HEAD", answered)) == mirrored(found)


def labels(run, root: Path) -> int:
    return json.loads(run("labels", "show", "digits", "--json", cwd=root).stdout)["labels"]


# -- pairing: as many pairs as possible, the same class first ---------------------------------------
def box(x: float) -> dict:
    return {"x": x, "y": 0.0, "w": 5.0, "h": 5.0}


def row(label: str, annotation: str, item: str, cls: str, x: float, supersedes=None) -> dict:
    return {
        "label_id": label,
        "annotation_id": annotation,
        "item_id": item,
        "class": cls,
        "bbox": box(x),
        "supersedes": supersedes,
    }


PAIRING_OLD = [
    # i1: one annotation of two squares, at x 0 and 10
    row("r1", "A1", "i1", "square", 0),
    row("r2", "A1", "i1", "square", 10),
    # i2: a circle at 0 and a square at 50
    row("r3", "B1", "i2", "circle", 0),
    row("r4", "B1", "i2", "square", 50),
    # i3: a circle and a square in two annotations
    row("r5", "C1", "i3", "circle", 0),
    row("r6", "C2", "i3", "square", 0),
]
PAIRING_NEW = [
    # i1: one answer of two squares, at x 1 and 100, replaces both
    row("n1", "N1", "i1", "square", 1, ["A1"]),
    row("n2", "N1", "i1", "square", 100, ["A1"]),
    # i2: one square at 0 replaces the circle and the square
    row("m1", "M1", "i2", "square", 0, ["B1"]),
    # i3: a square replacing both annotations, a circle replacing the square's
    row("p1", "P1", "i3", "square", 0, ["C1", "C2"]),
    row("p2", "P2", "i3", "circle", 0, ["C2"]),
]


def pairing_counts(old: list[dict], new: list[dict]) -> list[tuple]:
    import pyarrow as pa

    from labelspec.labels.history import _DIFF_SQL, _counts
    from labelspec.store.engine import database
    from labelspec.store.schema import LABEL_SCHEMA

    schema = pa.schema(
        [LABEL_SCHEMA.field(c) for c in ("label_id", "annotation_id", "item_id", "class")]
        + [LABEL_SCHEMA.field("bbox"), LABEL_SCHEMA.field("supersedes")]
    )
    con = database()
    con.register("old", pa.Table.from_pylist(old, schema=schema))
    con.register("new", pa.Table.from_pylist(new, schema=schema))
    con.execute(_DIFF_SQL.format(edge_rows="select * from old union all select * from new"))
    return sorted(_counts(con))


def test_one_answer_replacing_several_labels_pairs_as_many_as_it_can(tmp_path):
    from labelspec.labels.history import _reverse

    found = pairing_counts(PAIRING_OLD, PAIRING_NEW)

    assert found == [
        # i3: two changes (circle -> square, square -> circle) rather than the one square kept
        # and a circle removed and added: as many pairs as possible comes first
        ("changed_class", "circle -> square", 1),
        ("changed_class", "square -> circle", 1),
        # i1: both squares moved (2 disjoint pairs: x 0 -> 1, 10 -> 100), not 1 pair, 1 added
        # and 1 removed; i2: the square at 0 pairs with the square (same class wins), though
        # the circle was nearer, and the circle is removed
        ("moved_box", "square", 3),
        ("removed", "circle", 1),
    ]
    # 6 current labels before, 5 after: added - removed = -1
    assert sorted(_reverse(pairing_counts(PAIRING_NEW, PAIRING_OLD))) == found


def test_maximum_pairs_augments_a_greedy_choice():
    from labelspec.labels.history import maximum_pairs

    # best first: the greedy matching takes (r2, n1) and stops at 1 pair
    edges = [("r2", "n1"), ("r1", "n1"), ("r2", "n2")]

    assert maximum_pairs(edges) == [("r1", "n1"), ("r2", "n2")]
    assert maximum_pairs([("r1", "n1"), ("r2", "n1")]) == [("r1", "n1")]  # 1 is all there is
