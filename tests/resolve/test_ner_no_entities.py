"""An explicit "no entities here" answer on a text is an answer (QA 24, item 1): NER resolution
gives the text one ``no objects`` row (class and span null), as detection gives an empty image,
under every method, so the text is counted, exported and split into training sets.

On a copy of the news workspace (``news_spans``: ner-1, ner-2 of vendor-a, ner-3 of vendor-b)
three more texts arrive:
  e1  ner-1 alone: no entities
  e2  ner-1 and ner-2: no entities; ner-3: Oslo a location
  e3  ner-1 (Feb 1): Ada a person; ner-3 (Feb 2, newer): no entities
"""

from __future__ import annotations

import json

import pytest

from labelspec.labels.export import export
from labelspec.labels.ingest import import_labels
from labelspec.resolve.pin import create_trainset
from labelspec.resolve.resolution import resolve
from labelspec.store.items import add_items
from labelspec.store.trainsets import load_trainset
from tests.store.conftest import write_jsonl

TEXTS = {"e1.txt": "It rained all day.", "e2.txt": "Rain fell on Oslo.", "e3.txt": "Ada wrote."}
EARLY, LATE = "2026-02-01T10:00:00Z", "2026-02-02T10:00:00Z"
ANSWERS = {
    "vendor-a": [
        {"item_id": "e1.txt", "labeler": "ner-1", "empty": True, "created_at": EARLY},
        {"item_id": "e2.txt", "labeler": "ner-1", "empty": True, "created_at": EARLY},
        {"item_id": "e2.txt", "labeler": "ner-2", "empty": True, "created_at": EARLY},
        {"item_id": "e3.txt", "labeler": "ner-1", "class": "person", "span": [0, 3],
         "created_at": EARLY},
    ],
    "vendor-b": [
        {"item_id": "e2.txt", "labeler": "ner-3", "class": "location", "span": [13, 17],
         "created_at": EARLY},
        {"item_id": "e3.txt", "labeler": "ner-3", "empty": True, "created_at": LATE},
    ],
}  # fmt: skip


@pytest.fixture
def news(news_spans, copy_of):
    ws = copy_of(news_spans)
    folder = ws.root / "datasets/news/items/more"
    folder.mkdir(parents=True)
    for name, text in TEXTS.items():
        (folder / name).write_text(text)
    add_items(ws, "news", folder)
    for source, rows in ANSWERS.items():
        path = write_jsonl(ws.root.parent / f"more-{source}.jsonl", rows)
        import_labels(ws, "news", path, "jsonl", "entities@1.0.0", source)
    return ws


def rows_of(resolved, item: str) -> list[tuple]:
    return [
        (r["class"], r["span"] and r["span"]["start"], r["confidence"], r["status"], r["labelers"])
        for r in resolved.table.to_pylist()
        if r["item_id"] == item
    ]


@pytest.mark.parametrize("method", ["majority", "dawid-skene", "latest"])
def test_a_text_only_answered_empty_resolves_to_no_entities(news, method):
    resolved = resolve(news, "news", method)
    # nobody marked anything: certain, and cited by ner-1's empty answer
    assert rows_of(resolved, "e1.txt") == [(None, None, 1.0, "resolved", ["ner-1"])]
    (row,) = [r for r in resolved.table.to_pylist() if r["item_id"] == "e1.txt"]
    assert len(row["label_ids"]) == 1 and row["voters"] == 1
    assert "e1.txt" in resolved.labels.column("item_id").to_pylist()


def test_two_of_three_saying_no_entities_outvote_a_span(news):
    resolved = resolve(news, "news", "majority")
    # Oslo: 1 of 3 -> rejected at 1/3; no entities: 1 - 1/3 = 2/3, by ner-1 and ner-2
    assert rows_of(resolved, "e2.txt") == [
        ("location", 13, pytest.approx(1 / 3), "rejected", ["ner-3"]),
        (None, None, pytest.approx(2 / 3), "resolved", ["ner-1", "ner-2"]),
    ]
    # items: n01, n02, n04 and e1-e3; no entities resolved on e1 and e2 (e3 is a 1-1 draw)
    counts = resolved.counts()
    assert (counts["items"], counts["no_objects_items"]) == (6, 2)


def test_latest_takes_a_newer_no_entities_answer(news):
    latest = resolve(news, "news", "latest")
    # ner-3's empty answer (Feb 2) replaces ner-1's Ada (Feb 1): Ada rejected at 1/2
    assert rows_of(latest, "e3.txt") == [
        ("person", 0, 0.5, "rejected", ["ner-1"]),
        (None, None, 0.5, "resolved", ["ner-3"]),
    ]
    chosen = [(r["item_id"], r["class"]) for r in latest.labels.to_pylist()]
    assert ("e3.txt", None) in chosen and ("e3.txt", "person") not in chosen


def test_majority_leaves_a_one_to_one_draw_undecided(news):
    majority = resolve(news, "news", "majority")
    # Ada by one labeler of two: a tie, so the text is not "no entities" either
    assert [s for *_, s, _ in rows_of(majority, "e3.txt")] == ["tie", "tie"]
    assert "e3.txt" in majority.low_confidence


def test_no_entities_texts_are_exported_and_pinned(news, tmp_path):
    out = tmp_path / "resolved.jsonl"
    export(news, "news", "jsonl", out, resolve_method="latest")
    exported = [json.loads(line) for line in out.read_text().splitlines()]
    # latest: e1 and e3 say no entities; on e2 ner-3's import is the newest vote (Oslo)
    assert {r["item_id"] for r in exported if r["empty"]} == {"e1.txt", "e3.txt"}
    made = create_trainset(news, "news-v1", "news", method="latest", suspect="include")
    # n02's newest votes are ner-1's and ner-2's, one import: a tie, left out; the other five
    # are in, e1 and e3 as texts with no entities
    assert made.splits["train"]["items"] == 5 and made.splits["train"]["background"] == 2
    pinned = load_trainset(news, "news-v1").to_pylist()
    assert sorted(r["item_id"] for r in pinned if r["class"] is None) == ["e1.txt", "e3.txt"]
