"""An item every labeler boxed, each somewhere else (QA 5): nobody says "no objects here", so the
item is undecided (a tie), never a confident background image; `labels export --resolve` and
`trainset create` leave it out and count it, as they do a classification tie.

On the street scenes (320 x 200, tests/resolve/conftest.py) n04 was empty for all three labelers
under 1.1.0; here each delivers it again with a 100 x 56 school bus at x = 10, 200 and 100:
IoUs 10 x 56 / (2 x 5600 - 560) = 0.05, 0 and 0, so three candidates, each drawn by one labeler
of three."""

from __future__ import annotations

import json

import pytest

from labelspec.demo import school_buses
from labelspec.labels.export import export
from labelspec.labels.ingest import import_labels
from labelspec.resolve.pin import create_trainset
from labelspec.resolve.resolution import resolve
from labelspec.store.trainsets import load_trainset
from tests.resolve.conftest import LABELERS

BUS = "school_bus"
PLACES = {"nA-01": 10.0, "wC-01": 200.0, "sB-01": 100.0}


def scatter(ws, tmp_path) -> None:
    for labeler, x in PLACES.items():
        row = {"item_id": "n04.png", "labeler": labeler, "class": BUS,
               "bbox": [x, 118.0, 100.0, 56.0], "created_at": "2026-03-03T10:00:00Z"}  # fmt: skip
        path = tmp_path / f"{labeler}.jsonl"
        path.write_text(json.dumps(row) + "\n")
        import_labels(ws, "streets", path, "jsonl", f"{school_buses.NAME}@1.1.0", LABELERS[labeler])


@pytest.mark.parametrize("method", ["majority", "dawid-skene"])
def test_boxes_nobody_agrees_on_leave_the_item_undecided(streets, tmp_path, method):
    scatter(streets, tmp_path)
    resolved = resolve(streets, "streets", method)
    rows = [r for r in resolved.table.to_pylist() if r["item_id"] == "n04.png"]
    # each candidate: 1 vote for a bus, 2 for background -> rejected (kept for a reviewer)
    assert [(r["class"], r["bbox"]["x"], r["status"]) for r in rows if r["class"]] == [
        (BUS, 10.0, "rejected"), (BUS, 100.0, "rejected"), (BUS, 200.0, "rejected"),
    ]  # fmt: skip
    # the item's "no objects" row: 0 of 3 labelers drew nothing, so not a background image
    (nothing,) = [r for r in rows if r["class"] is None]
    assert (nothing["status"], nothing["confidence"], nothing["voters"]) == ("tie", 0.0, 3)
    assert nothing["labelers"] == [] and nothing["label_ids"] == []
    assert "n04.png" in resolved.low_confidence
    assert "n04.png" not in resolved.labels.column("item_id").to_pylist()


@pytest.mark.parametrize("method", ["majority", "dawid-skene"])
def test_export_resolve_leaves_the_undecided_item_out(streets, tmp_path, method):
    scatter(streets, tmp_path)
    out = tmp_path / "t.json"
    export(streets, "streets", "coco", out, resolve_method=method)
    doc = json.loads(out.read_text())
    images = {i["file_name"].rsplit("/", 1)[-1] for i in doc["images"]}
    assert "n04.png" not in images
    # n08, still empty for all three, stays a background image
    assert "n08.png" in images


def test_trainset_leaves_the_undecided_item_out_and_counts_it(streets, tmp_path):
    scatter(streets, tmp_path)
    made = create_trainset(streets, "streets-v1", "streets")
    # n10 (a three-way draw) as before, and now n04
    assert made.left_out["low_confidence"] == 2
    assert made.left_out_examples["low_confidence"] == ["n04.png", "n10.png"]
    assert made.ties == 2
    # train: n08 is the one background image left (n04 was the other)
    assert made.splits["train"]["background"] == 1
    items = set(load_trainset(streets, "streets-v1").column("item_id").to_pylist())
    assert "n04.png" not in items and "n08.png" in items


def test_a_tied_box_makes_the_no_objects_row_a_tie_with_the_share_that_drew_nothing(
    streets, tmp_path
):
    # n04 again: nA-01 boxes a bus, wC-01 a pickup at the same place (IoU 1), sB-01 keeps its
    # "no objects": the candidate's votes are bus 1, pickup 1, background 1, a tie; so is the
    # item's "no objects" row, whose confidence is the share that drew nothing: 1 of 3
    drawn = {"nA-01": BUS, "wC-01": "pickup_truck"}
    for labeler, cls in drawn.items():
        row = {"item_id": "n04.png", "labeler": labeler, "class": cls,
               "bbox": [10.0, 118.0, 100.0, 56.0], "created_at": "2026-03-03T10:00:00Z"}  # fmt: skip
        path = tmp_path / f"{labeler}.jsonl"
        path.write_text(json.dumps(row) + "\n")
        import_labels(
            streets, "streets", path, "jsonl", f"{school_buses.NAME}@1.1.0", LABELERS[labeler]
        )
    rows = [r for r in resolve(streets, "streets", "majority").table.to_pylist()
            if r["item_id"] == "n04.png"]  # fmt: skip
    assert [(r["class"], r["status"]) for r in rows if r["class"]] == [(BUS, "tie")]
    (nothing,) = [r for r in rows if r["class"] is None]
    assert (nothing["status"], nothing["voters"]) == ("tie", 3)
    assert nothing["confidence"] == pytest.approx(1 / 3)
    assert nothing["labelers"] == ["sB-01"]
