"""A multilabel "none of these classes" answer is an answer (stop 36): resolution gives the item
one ``no objects`` row (class null), by the rule detection and NER follow (``no_objects``), so
the item is counted, exported and pinned as an item with no class, never lost.

On a copy of the multilabel digits (``digit_sets``: ml-1, ml-2 of vendor-a, ml-3 of vendor-b on
d00-d03) five more items arrive; "-" is an explicit empty answer ({"empty": true}):
  d04  ml-1 -, ml-2 -, ml-3 one
  d05  ml-1 -, ml-2 one, ml-3 one
  d06  ml-1 -, ml-3 seven
  d07  ml-1 four (Feb 1), ml-3 - (Feb 2, newer)
  d08  ml-1 -
"""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from labelspec.demo import digits
from labelspec.labels.export import export
from labelspec.labels.ingest import import_labels
from labelspec.loaders import workspace_trainset
from labelspec.resolve.card import trainset_card
from labelspec.resolve.pin import create_trainset
from labelspec.resolve.resolution import resolve
from labelspec.store.items import add_items
from tests.store.conftest import write_jsonl

EARLY, LATE = "2026-02-01T10:00:00Z", "2026-02-02T10:00:00Z"
NONE = "-"
ANSWERS = {  # source -> (labeler, item, class or NONE, created_at)
    "vendor-a": [
        ("ml-1", "d04.png", NONE, EARLY), ("ml-2", "d04.png", NONE, EARLY),
        ("ml-1", "d05.png", NONE, EARLY), ("ml-2", "d05.png", "one", EARLY),
        ("ml-1", "d06.png", NONE, EARLY),
        ("ml-1", "d07.png", "four", EARLY),
        ("ml-1", "d08.png", NONE, EARLY),
    ],
    "vendor-b": [
        ("ml-3", "d04.png", "one", EARLY),
        ("ml-3", "d05.png", "one", EARLY),
        ("ml-3", "d06.png", "seven", EARLY),
        ("ml-3", "d07.png", NONE, LATE),
    ],
}  # fmt: skip


def answer(labeler: str, item: str, cls: str, when: str) -> dict:
    row = {"item_id": item, "labeler": labeler, "created_at": when}
    if cls == NONE:
        return {**row, "empty": True}
    legible = {"legible": True} if cls in ("one", "seven") else {}
    return {**row, "class": cls, "attributes": legible}


@pytest.fixture
def sets(digit_sets, copy_of):
    ws = copy_of(digit_sets)
    folder = ws.root / "datasets/digits/items/more"
    for i in range(4, 9):
        digits.save_png(i, folder / f"d{i:02d}.png")
    add_items(ws, "digits", folder)
    for source, rows in ANSWERS.items():
        path = write_jsonl(ws.root.parent / f"none-{source}.jsonl", [answer(*r) for r in rows])
        import_labels(ws, "digits", path, "jsonl", "digits@2.0.0", source)
    return ws


def rows_of(resolved, item: str) -> list[tuple]:
    return [
        (r["class"], r["confidence"], r["status"], r["labelers"])
        for r in resolved.table.to_pylist()
        if r["item_id"] == item
    ]


def test_an_empty_multilabel_answer_is_stored_as_one_row_without_class(sets):
    path = sets.root / "datasets/digits/labels"
    stored = [r for f in sorted(path.glob("*.parquet")) for r in pq.read_table(f).to_pylist()]
    empty = [(r["item_id"], r["labeler_id"]) for r in stored if r["class"] is None]
    assert sorted(empty) == [("d04.png", "ml-1"), ("d04.png", "ml-2"), ("d05.png", "ml-1"),
                             ("d06.png", "ml-1"), ("d07.png", "ml-3"), ("d08.png", "ml-1")]  # fmt: skip


def test_two_of_three_saying_none_outvote_a_class(sets):
    resolved = resolve(sets, "digits", "majority")
    # one: 1 of 3 -> rejected at 1/3; none: 1 - 1/3 = 2/3, by ml-1 and ml-2
    assert rows_of(resolved, "d04.png") == [
        ("one", pytest.approx(1 / 3), "rejected", ["ml-3"]),
        (None, pytest.approx(2 / 3), "resolved", ["ml-1", "ml-2"]),
    ]
    (row,) = [r for r in resolved.table.to_pylist() if r["item_id"] == "d04.png" and not r["class"]]
    assert (row["voters"], len(row["label_ids"])) == (3, 2)  # cites the two empty answers
    assert ("d04.png", None) in [(r["item_id"], r["class"]) for r in resolved.labels.to_pylist()]


def test_a_class_two_of_three_gave_leaves_no_empty_row(sets):
    resolved = resolve(sets, "digits", "majority")
    assert rows_of(resolved, "d05.png") == [("one", pytest.approx(2 / 3), "resolved",
                                             ["ml-2", "ml-3"])]  # fmt: skip


def test_a_one_to_one_draw_is_a_tie_and_not_none(sets):
    resolved = resolve(sets, "digits", "majority")
    # seven by one labeler of two: a tie, so the item is not "none" either; it is relabeled
    # the none row's confidence: the share of the item's labelers that marked nothing, 1 of 2
    assert [(c, conf, s) for c, conf, s, _ in rows_of(resolved, "d06.png")] == [
        ("seven", 0.5, "tie"), (None, 0.5, "tie"),
    ]  # fmt: skip
    assert "d06.png" in resolved.low_confidence
    assert "d06.png" not in resolved.labels.column("item_id").to_pylist()


@pytest.mark.parametrize("method", ["majority", "dawid-skene", "latest"])
def test_an_item_only_answered_none_resolves_to_no_class(sets, method):
    resolved = resolve(sets, "digits", method)
    # nobody gave a class: certain
    assert rows_of(resolved, "d08.png") == [(None, 1.0, "resolved", ["ml-1"])]


def test_latest_takes_a_newer_none_answer(sets):
    latest = resolve(sets, "digits", "latest")
    # ml-3's "none" (Feb 2) replaces ml-1's four (Feb 1): four rejected at 1/2
    assert rows_of(latest, "d07.png") == [
        ("four", 0.5, "rejected", ["ml-1"]),
        (None, 0.5, "resolved", ["ml-3"]),
    ]
    # majority: four by one of two, a tie
    assert [s for *_, s, _ in rows_of(resolve(sets, "digits", "majority"), "d07.png")] == [
        "tie", "tie",
    ]  # fmt: skip


def test_none_items_are_counted_exported_and_pinned(sets, tmp_path):
    resolved = resolve(sets, "digits", "majority")
    # d00-d08; none resolved on d04 and d08 (d06, d07 are draws; d03 a draw between classes)
    counts = resolved.counts()
    assert (counts["items"], counts["no_objects_items"], counts["ties"]) == (9, 2, 3)
    out = tmp_path / "resolved.jsonl"
    export(sets, "digits", "jsonl", out, resolve_method="majority")
    exported = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["item_id"] for r in exported if r.get("empty")} == {"d04.png", "d08.png"}
    assert not [r for r in exported if r.get("empty") and r.get("class")]
    coco = tmp_path / "resolved.json"
    export(sets, "digits", "coco", coco, resolve_method="majority")
    doc = json.loads(coco.read_text())
    background = {i["file_name"].rsplit("/", 1)[-1] for i in doc["images"] if "empty_answers" in i}
    assert background == {"d04.png", "d08.png"}
    names = {c["id"]: c["name"] for c in doc["categories"]}  # no class named null
    assert sorted(names[a["category_id"]] for a in doc["annotations"]) == [
        "four", "four", "one", "one", "seven",
    ]  # d00 one, d01 seven and four, d02 four, d05 one  # fmt: skip
    studio = tmp_path / "resolved-ls.json"
    export(sets, "digits", "labelstudio", studio, resolve_method="majority")
    tasks = {t["data"]["item_id"]: t for t in json.loads(studio.read_text())}
    assert [a["result"] for a in tasks["d08.png"]["annotations"]] == [[]]
    parquet = tmp_path / "resolved.parquet"
    export(sets, "digits", "parquet", parquet, resolve_method="majority")
    table = pq.read_table(parquet).to_pylist()
    assert sorted(r["item_id"] for r in table if r["class"] is None) == ["d04.png", "d08.png"]


def test_a_training_set_keeps_none_items_with_an_all_zero_target(sets):
    made = create_trainset(sets, "digits-v1", "digits", suspect="include")
    # in: d00, d01, d02, d05 with classes, d04 and d08 with none; out: the draws d03, d06, d07
    assert made.splits["train"]["items"] == 6 and made.splits["train"]["background"] == 2
    assert made.left_out == {"low_confidence": 3}
    # the card names them for the task (not "background images", a detection word)
    card = trainset_card(sets, "digits-v1")
    assert "| split | items | items with no class | labels |" in card
    assert "| `train` | 6 | 2 |" in card
    training = workspace_trainset(sets, "digits-v1")
    split = training.torch_dataset("train")
    targets = {item: split.target(i).tolist() for i, item in enumerate(split.item_ids)}
    classes = training.classes
    assert targets["d04.png"] == targets["d08.png"] == [0.0] * len(classes)
    one = [1.0 if c == "one" else 0.0 for c in classes]
    assert targets["d05.png"] == one
    train = training.to_hf(["train"])["train"]
    hf = {row["item_id"]: row["labels"] for row in train}
    assert hf["d04.png"] == hf["d08.png"] == [] and hf["d05.png"] == [classes.index("one")]
