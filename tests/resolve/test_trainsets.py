"""Pinned training sets: create, show, list, diff, lineage, and that a name is never reused.

The digits votes were made by labelers without training records, so every item is suspect
under the newest release: these sets keep them (``suspect="include"``), the default refuses."""

from __future__ import annotations

import hashlib
import json

import pyarrow.parquet as pq
import pytest

from labelspec.demo import digits
from labelspec.errors import LabelspecError, NotFoundError
from labelspec.labels.verify import verify
from labelspec.resolve.pin import create_trainset
from labelspec.resolve.resolution import resolve
from labelspec.resolve.result import TRAINSET_SCHEMA
from labelspec.store.trainsets import (
    diff_trainsets,
    get_trainset,
    list_trainsets,
    load_trainset,
    trainsets_of_item,
)
from tests.helpers import git, head, state


@pytest.fixture
def ws(digits_votes, copy_of):
    return copy_of(digits_votes)


def test_a_training_set_is_one_file_one_commit_and_a_tag(ws):
    before = head(ws.root)
    made = create_trainset(
        ws, "digits-v1", "digits", "majority", min_confidence=0.7, suspect="include"
    )
    # builders.VOTES at 0.7: d04 ties, d06 and d09 have 2/3; the other seven items go in
    assert (made.rows, made.items, made.decided_items, made.ties, made.low_confidence) == (
        7, 7, 10, 1, 3,
    )  # fmt: skip
    assert made.by_class == {"four": 1, "one": 4, "seven": 2}
    assert (made.revision, made.snapshot) == (before, before[:10])
    assert git(ws.root, "rev-parse", "HEAD~1").strip() == before  # one commit
    assert git(ws.root, "status", "--porcelain") == ""  # the data is git-ignored
    files = git(ws.root, "show", "--name-only", "--format=", "HEAD").split()
    assert files == ["trainsets/.gitignore", made.file + ".dvc"]
    data = (ws.root / made.file).read_bytes()
    assert hashlib.sha256(data).hexdigest() == made.sha256
    # the tag carries the record
    message = git(ws.root, "tag", "-l", "--format=%(contents)", "trainset/digits-v1")
    record = json.loads(message.strip().splitlines()[-1])
    assert (record["sha256"], record["revision"], record["method"]) == (
        made.sha256, before, "majority",
    )  # fmt: skip
    assert git(ws.root, "rev-parse", "trainset/digits-v1^{commit}").strip() == head(ws.root)
    # the table is the resolution's training rows, with what a loader needs
    table = load_trainset(ws, "digits-v1")
    assert table.schema == TRAINSET_SCHEMA
    resolved = resolve(ws, "digits", "majority", snapshot=before, min_confidence=0.7).labels
    for column in ("item_id", "class", "confidence", "labelers", "label_ids", "suspect"):
        assert table.column(column).equals(resolved.column(column)), column
    first = table.to_pylist()[0]
    assert (first["item_id"], first["split"], first["path"], first["width"]) == (
        "d00.png", "train", "datasets/digits/items/d00.png", digits.IMAGE_PX,
    )  # fmt: skip
    assert (first["class"], first["class_index"], first["class_name"]) == ("one", 1, "One")
    assert (first["label_versions"], first["guideline_version"]) == (["1.0.0"] * 4, "1.0.0")
    assert pq.read_metadata(ws.root / made.file).metadata[b"labelspec.trainset"] == b"digits-v1"
    assert verify(ws).ok


def test_a_name_is_never_reused(ws):
    create_trainset(ws, "digits-v1", "digits", suspect="include")
    before = state(ws.root)
    with pytest.raises(LabelspecError, match=r"exists already.*pick a new name, e.g. digits-v1-2"):
        create_trainset(ws, "digits-v1", "digits", "dawid-skene", suspect="include")
    assert state(ws.root) == before
    with pytest.raises(LabelspecError, match="lower-case letters"):
        create_trainset(ws, "Digits/v1", "digits")


def test_show_list_and_diff(ws):
    create_trainset(ws, "by-majority", "digits", "majority", suspect="include")
    create_trainset(ws, "by-ds", "digits", "dawid-skene", snapshot="snap-4", suspect="include")
    assert [t.name for t in list_trainsets(ws)] == ["by-majority", "by-ds"]
    assert list_trainsets(ws, "other") == []
    shown = get_trainset(ws, "by-ds")
    assert (shown.method, shown.snapshot, shown.parameters) == (
        "dawid-skene", "snap-4", {"max_iter": 200, "tol": 1e-6},
    )  # fmt: skip
    assert shown.tagged and set(shown.labeler_quality) == {"lab-a1", "lab-a2", "lab-b1", "lab-c1"}
    # majority leaves out the d04 tie, which dawid-skene resolves (seven); the rest agree
    result = diff_trainsets(ws, "by-majority", "by-ds")
    assert (result["same"], result["changed"], result["only_a"], result["only_b"]) == (9, 0, 0, 1)
    assert (result["a"]["method"], result["b"]["method"]) == ("majority", "dawid-skene")
    with pytest.raises(
        NotFoundError, match=r"no training set 'nope' \(training sets: by-majority, by-ds"
    ):
        get_trainset(ws, "nope")


def test_diff_counts_class_changes(ws):
    create_trainset(ws, "by-majority", "digits", "majority", suspect="include")
    create_trainset(ws, "by-latest", "digits", "latest", suspect="include")
    result = diff_trainsets(ws, "by-majority", "by-latest")
    # latest takes lab-c1's (newest) vote, else lab-b1's: d06 four -> nine, d09 seven -> one;
    # d04 is a tie in majority (left out) and one in latest
    assert result["class_changes"] == {"four -> nine": 1, "seven -> one": 1}
    assert (result["changed"], result["only_b"], result["changed_examples"]) == (
        2, 1, ["d06.png", "d09.png"],
    )  # fmt: skip


def test_an_items_training_sets_and_how_it_was_resolved(ws):
    create_trainset(ws, "by-majority", "digits", "majority", suspect="include")
    create_trainset(ws, "by-ds", "digits", "dawid-skene", suspect="include")
    found = trainsets_of_item(ws, "digits", "d04.png")
    assert [f["trainset"] for f in found] == ["by-ds"]  # the tie kept it out of by-majority
    [label] = found[0]["labels"]
    assert (label["class"], label["method"], label["labelers"]) == (
        "seven", "dawid-skene", ["lab-a1", "lab-a2"],
    )  # fmt: skip
    assert len(label["label_ids"]) == 2 and found[0]["available"]
    assert [f["trainset"] for f in trainsets_of_item(ws, "digits", "d01.png")] == [
        "by-majority", "by-ds",
    ]  # fmt: skip


def test_untrained_labels_are_suspect_and_kept_out_by_default(ws):
    before = state(ws.root)
    with pytest.raises(
        LabelspecError,
        match=r"no item of digits .* is left for training by majority at confidence >= 0.0 "
        r"\(left out: 1 low-confidence, 9 suspect\): --suspect include keeps the suspect ones",
    ):
        create_trainset(ws, "digits-v1", "digits")
    assert state(ws.root) == before


def test_suspect_items_follow_the_newest_release(labeled_ws):
    from labelspec.guideline.release import release
    from labelspec.lineage.trace import find_suspects
    from labelspec.workspace import Workspace
    from tests.helpers import edit

    ws = Workspace(labeled_ws)
    # one correct label per item by vA-01, trained on 1.0.0: nothing is suspect
    assert not any(resolve(ws, "digits", "majority").table.column("suspect").to_pylist())
    edit(
        labeled_ws,
        ("definition: A horizontal top bar joined to a diagonal stroke.", "definition: A top bar."),
        (
            "\n\nquality:",
            "\n  - version: unreleased\n    summary: Sevens by the bar\n"
            "    affects: [seven]\n    relabel: required\n\nquality:",
        ),
    )
    git(labeled_ws, "commit", "-q", "-am", "digits: sevens by the bar")
    release(ws, "digits", "minor")
    table = resolve(ws, "digits", "majority").table.to_pylist()
    suspect = {r["item_id"] for r in table if r["suspect"]}
    # seven is affected; one and two are confusable with it (the spec), so suspect too
    assert suspect == {r["item_id"] for r in table if r["class"] in ("seven", "one", "two")}
    assert len(suspect) == 6  # 20 digits, 0..9 twice
    # the same items `trace impact` names
    found = find_suspects(ws, "digits", "digits")
    assert suspect == {r[0] for r in found.con.execute("select item_id from suspect").fetchall()}


def test_golden_items_of_a_classification_set_are_its_eval_split(ws, tmp_path):
    from labelspec.loaders import workspace_trainset
    from labelspec.store.golden import add_golden
    from tests.store.conftest import write_jsonl

    rows = [
        {"item_id": "d04.png", "class": "seven", "labeler": "expert"},
        {"item_id": "d06.png", "class": "nine", "labeler": "expert"},  # against the crowd's four
    ]
    add_golden(ws, "digits", write_jsonl(tmp_path / "g.jsonl", rows), "jsonl", "expert")
    made = create_trainset(ws, "digits-v1", "digits", suspect="include")
    # d04, the crowd's tie, is golden: in eval with the expert's seven, not left out
    assert (made.left_out, made.golden_items) == ({"low_confidence": 0}, 2)
    assert made.splits == {
        "eval": {"items": 2, "labels": 2, "background": 0, "by_class": {"nine": 1, "seven": 1}},
        "train": {"items": 8, "labels": 8, "background": 0,
                  "by_class": {"four": 1, "one": 4, "seven": 3}},
    }  # fmt: skip
    hf = workspace_trainset(ws, "digits-v1", cache_dir=tmp_path / "cache").to_hf()
    assert hf["eval"]["item_id"] == ["d04.png", "d06.png"]
    assert hf["eval"].features["label"].int2str(hf["eval"]["label"]) == ["seven", "nine"]
    assert "d06.png" not in hf["train"]["item_id"]
