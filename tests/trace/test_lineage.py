"""`labelspec trace item` and `trace labeler` on the hand-built history."""

from __future__ import annotations

import json

from labelspec.guideline.releases import get_release
from labelspec.workspace import Workspace
from tests.helpers import commit_of, jsonl
from tests.trace.conftest import as_json


def training(root, labeler: str, version: str) -> dict:
    records = jsonl(root / "labelers/training.jsonl")
    return next(r for r in records if r["labeler"] == labeler and r["version"] == version)


def test_trace_item_lists_every_annotation_across_snapshots_with_its_lineage(history, run):
    data = as_json(run, history, "trace", "item", "digits", "d07.png")

    assert data["dataset"] == "digits"
    assert data["item"]["item_id"] == "d07.png"
    assert data["item"]["path"] == "datasets/digits/items/d07.png"
    assert data["item"]["split"] == "test"
    first, second = data["annotations"]
    assert first["delivery"].startswith(f"datasets/digits/deliveries/{first['batch']}-snap1.jsonl")
    ws = Workspace(history)
    trained = training(history, "vA-01", "1.0.0")
    assert first == {
        "annotation_id": first["annotation_id"],
        "batch": first["batch"],
        "commit": commit_of(history, "snap-1"),
        "delivery": first["delivery"],
        "source_ids": None,
        "source": "vendor-a",
        "format": "jsonl",
        "labeler": "vA-01",
        "training": {
            "id": trained["id"],
            "date": "2026-01-16",
            "method": "session",
            "score": 0.9,
        },
        "covered_by": trained["id"],
        "guideline": "digits",
        "guideline_version": "1.0.0",
        "guideline_digest": get_release(ws, "digits", "1.0.0").digest,
        "created_at": "2026-01-20T10:07:00+00:00",
        "supersedes": [],
        "superseded_by": None,
        "current": True,
        "labels": [
            {
                "label_id": first["labels"][0]["label_id"],
                "class": "seven",
                "bbox": None,
                "span": None,
                "attributes": "{}",
                "page": "digits/1.0.0/classes/seven/",
            }
        ],
    }
    # vC-01 was never trained: the label came in under `policies.training: warn`
    assert (second["commit"], second["source"], second["labeler"]) == (
        commit_of(history, "snap-4"),
        "vendor-c",
        "vC-01",
    )
    assert second["training"] is None and second["covered_by"] is None
    assert second["guideline_version"] == "1.1.0"
    assert second["guideline_digest"] == get_release(ws, "digits", "1.1.0").digest
    assert second["guideline_digest"] != first["guideline_digest"]
    assert second["labels"][0]["page"] == "digits/1.1.0/classes/seven/"
    assert first["batch"] != second["batch"]


def test_trace_item_human_output_shows_training_and_page(history, run):
    out = run("trace", "item", "digits", "d07.png", cwd=history).stdout

    assert out.splitlines()[0] == "digits / d07.png  (datasets/digits/items/d07.png)"
    assert "labeler vA-01, training tr-" in out and "(session 90%, 2026-01-16)" in out
    assert "labeler vC-01, training NO covering training" in out
    assert "page digits/1.0.0/classes/seven/" in out
    assert "page digits/1.1.0/classes/seven/" in out


def test_trace_item_of_an_unknown_item_is_an_error(history, run):
    result = run("trace", "item", "digits", "d99.png", cwd=history, expect=3)
    typo = run("trace", "item", "digits", "d07.pgn", cwd=history, expect=3)
    far = run("trace", "item", "digits", "street-42", cwd=history, expect=3)

    assert "d99.png" in result.stderr
    assert typo.stderr == ("Error: no item 'd07.pgn' in dataset 'digits' (did you mean d07.png?)\n")
    assert far.stderr == "Error: no item 'street-42' in dataset 'digits'\n"


def test_trace_labeler_splits_labels_by_training_coverage(history, run):
    data = as_json(run, history, "trace", "labeler", "digits", "vC-02")

    # vC-02 passed 1.0.0 only: its 1.0.0 label is covered, its 1.1.0 label is not
    assert data["labeler"] == "vC-02"
    assert data["covered"] == {"labels": 1, "empty": 0, "items": 1}
    assert data["uncovered"] == {"labels": 1, "empty": 0, "items": 1}
    assert data["by_version"] == [
        {
            "guideline": "digits",
            "version": "1.0.0",
            "covered": True,
            "training_ids": [training(history, "vC-02", "1.0.0")["id"]],
            "labels": 1,
            "empty": 0,
            "by_class": {"eight": 1},
        },
        {
            "guideline": "digits",
            "version": "1.1.0",
            "covered": False,
            "training_ids": [],
            "labels": 1,
            "empty": 0,
            "by_class": {"eight": 1},
        },
    ]


def test_trace_labeler_counts_a_pass_that_still_covers_a_patch(history, run):
    data = as_json(run, history, "trace", "labeler", "digits", "vA-01")

    # 1.0.0 training for the 1.0.0 labels, the 1.1.0 pass for 1.1.0 and the 1.1.1 patch
    assert data["covered"] == {"labels": 15, "empty": 0, "items": 15}
    assert data["uncovered"] == {"labels": 0, "empty": 0, "items": 0}
    by_version = {e["version"]: (e["labels"], e["training_ids"]) for e in data["by_version"]}
    passed_110 = training(history, "vA-01", "1.1.0")["id"]
    assert by_version == {
        "1.0.0": (10, [training(history, "vA-01", "1.0.0")["id"]]),
        "1.1.0": (4, [passed_110]),
        "1.1.1": (1, [passed_110]),
    }


def test_trace_labeler_never_trained_and_unknown(history, run):
    data = as_json(run, history, "trace", "labeler", "digits", "vC-01")
    assert data["covered"] == {"labels": 0, "empty": 0, "items": 0}
    assert data["uncovered"] == {"labels": 3, "empty": 0, "items": 3}
    human = run("trace", "labeler", "digits", "vC-01", cwd=history).stdout
    assert human.splitlines()[0] == "vC-01 in digits: 0 labels covered by training, 3 not covered"

    result = run("trace", "labeler", "digits", "vZ-09", cwd=history, expect=3)
    assert "vZ-09" in result.stderr
    typo = run("trace", "labeler", "digits", "vC-1", cwd=history, expect=3)
    assert typo.stderr == (
        "Error: labeler 'vC-1' has no current labels in dataset 'digits' (did you mean vC-01?)\n"
    )
    assert json.loads(run("trace", "labeler", "digits", "vB-01", "--json", cwd=history).stdout)[
        "covered"
    ] == {"labels": 5, "empty": 0, "items": 5}
