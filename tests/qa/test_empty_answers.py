"""Explicit empty answers ("no objects here") in the bake-off and ``labeler stats``, by hand.

One definition everywhere: an empty answer is one label. It is priced (in $/label) and timed (in
labels/h: labels with a lead time / their summed lead time) like a box or a span, and it is a
correct answer on a golden negative (a golden item with no objects), so it counts in $/correct
there. In both commands the one-labeler vendor vendor-e has the same labels/h.
"""

from __future__ import annotations

import json

import pytest

from tests.qa.builders import span
from tests.store.conftest import write_jsonl

# lead times 10 + 20 + 30 + 60 = 120 s for 4 labels (2 of them empty answers): 120 labels/h
# (counting only the 2 boxes or spans over the same 120 s would give 60)
LEADS = [10, 20, 30, 60]


def _priced(rows: list[dict]) -> list[dict]:
    return [
        {**row, "cost": 0.5, "lead_time_s": lead, "created_at": "2026-02-01T10:00:00Z"}
        for row, lead in zip(rows, LEADS, strict=True)
    ]


def _import(run, ws, dataset: str, guideline: str, labeler: str, rows: list[dict]) -> None:
    run("labeler", "add", labeler, "--vendor", "vendor-e", cwd=ws.root)
    path = write_jsonl(ws.root.parent / "vendor-e.jsonl", _priced(rows))
    run("labels", "import", dataset, str(path), "--format", "jsonl", "--guideline", guideline,
        "--source", "vendor-e", cwd=ws.root)  # fmt: skip


def _golden(run, ws, dataset: str, rows: list[dict]) -> None:
    path = write_jsonl(ws.root.parent / "golden.jsonl", rows)
    run("golden", "add", dataset, str(path), "--format", "jsonl", "--name", "expert", cwd=ws.root)


def _stats(run, ws, dataset: str, labeler: str) -> dict:
    rows = json.loads(run("labeler", "stats", dataset, "--golden", "expert", "--json",
                          cwd=ws.root).stdout)  # fmt: skip
    return next(r for r in rows if r["labeler"] == labeler)


def _box(item: str, cls: str, bbox: list[int], labeler: str | None = None) -> dict:
    row = {"item_id": f"{item}.png", "class": cls, "bbox": bbox, "attributes": {"occluded": False}}
    return {**row, "labeler": labeler} if labeler else row


def test_detection_empty_answers_by_hand(shapes_boxes, copy_of, run):
    """Golden: circle_big a circle, square_big a square, ellipse_wide a circle, arrow_head
    nothing (a golden negative). vendor-e (det-9, 0.5 $ a label): circle_big the right circle
    (a hit), square_big a circle on the square (a confusion), arrow_head empty (correct),
    ellipse_wide empty (misses its circle).
    $/label = 2.00 / 4 priced labels = 0.50; $/correct = 2.00 / (1 hit + 1 correct empty) = 1.00
    (2.00 if the empty answer on arrow_head were not correct). F1 = 2 x 1 / (3 golden + 2
    labeled boxes) = 0.4: empty answers add no box."""
    ws = copy_of(shapes_boxes)
    _golden(run, ws, "shapes", [
        _box("circle_big", "circle", [24, 24, 80, 80]),
        _box("square_big", "square", [30, 30, 70, 70]),
        _box("ellipse_wide", "circle", [14, 40, 100, 46]),
        {"item_id": "arrow_head.png", "empty": True},
    ])  # fmt: skip
    _import(run, ws, "shapes", "shapes@1.0.0", "det-9", [
        _box("circle_big", "circle", [24, 24, 80, 80], "det-9"),
        _box("square_big", "circle", [30, 30, 70, 70], "det-9"),
        {"item_id": "arrow_head.png", "labeler": "det-9", "empty": True},
        {"item_id": "ellipse_wide.png", "labeler": "det-9", "empty": True},
    ])  # fmt: skip
    result = json.loads(run("qa", "bakeoff", "shapes", "--golden", "expert", "--json",
                            cwd=ws.root).stdout)  # fmt: skip
    e = result["sources"]["vendor-e"]
    assert (e["annotations"], e["n"], e["correct"], e["correct_empty"]) == (4, 2, 1, 1)
    assert e["golden_empty"] == {"annotations": 1, "answered_empty": 1, "extra_boxes": 0}
    assert e["f1"] == pytest.approx(0.4)
    assert (e["priced_labels"], e["empty_answers"]) == (4, 2)
    assert e["cost_total"] == pytest.approx(2.0)
    assert e["cost_per_label"] == pytest.approx(0.5)
    assert e["cost_per_correct_label"] == pytest.approx(1.0)
    assert e["labels_per_labeler_hour"] == pytest.approx(120.0)
    assert any("counts an explicit empty answer" in n for n in result["notes"])
    stats = _stats(run, ws, "shapes", "det-9")
    assert (stats["labels"], stats["empty_answers"], stats["labels_per_hour"]) == (2, 2, 120.0)
    text = run("labeler", "stats", "shapes", "--golden", "expert", cwd=ws.root)
    assert "2 + 2 empty" in text.stdout
    assert "labels/h counts an explicit empty answer" in text.stderr


def test_ner_empty_answers_by_hand(news_spans, copy_of, run):
    """Golden: n01 Ada Lovelace, Charles Babbage (person); n02 United Nations (organization);
    n04 nothing (a golden negative). vendor-e (ner-9, 0.5 $ a label): n01 Ada Lovelace (a hit)
    and London as a person (wrong), n04 empty (correct), n02 empty (misses its span).
    3 annotations (one per item), 4 labels. $/correct = 2.00 / (1 hit + 1 correct empty) = 1.00
    (2.00 without the empty answer). F1 = 2 x 1 / (2 + 1 golden spans on n01 and n02 + 2
    labeled) = 0.4 (0.5 were n02's empty answer dropped: 2 x 1 / (2 + 2))."""
    ws = copy_of(news_spans)
    _golden(run, ws, "news", [
        {k: v for k, v in span("n01.txt", "x", "person", "Ada Lovelace").items() if k != "labeler"},
        {k: v for k, v in span("n01.txt", "x", "person", "Charles Babbage").items()
         if k != "labeler"},
        {k: v for k, v in span("n02.txt", "x", "organization", "United Nations").items()
         if k != "labeler"},
        {"item_id": "n04.txt", "empty": True},
    ])  # fmt: skip
    _import(run, ws, "news", "entities@1.0.0", "ner-9", [
        span("n01.txt", "ner-9", "person", "Ada Lovelace"),
        span("n01.txt", "ner-9", "person", "London"),
        {"item_id": "n04.txt", "labeler": "ner-9", "empty": True},
        {"item_id": "n02.txt", "labeler": "ner-9", "empty": True},
    ])  # fmt: skip
    result = json.loads(run("qa", "bakeoff", "news", "--golden", "expert", "--json",
                            cwd=ws.root).stdout)  # fmt: skip
    e = result["sources"]["vendor-e"]
    assert (e["annotations"], e["n"], e["correct"], e["correct_empty"]) == (3, 2, 1, 1)
    assert e["golden_empty"] == {"annotations": 1, "answered_empty": 1, "extra_spans": 0}
    assert e["f1"] == pytest.approx(0.4)
    assert e["per_class"]["organization"]["support"] == 1  # n02's, missed by the empty answer
    assert (e["priced_labels"], e["empty_answers"]) == (4, 2)
    assert e["cost_per_label"] == pytest.approx(0.5)
    assert e["cost_per_correct_label"] == pytest.approx(1.0)
    assert e["labels_per_labeler_hour"] == pytest.approx(120.0)
    stats = _stats(run, ws, "news", "ner-9")
    assert (stats["labels"], stats["empty_answers"], stats["labels_per_hour"]) == (2, 2, 120.0)
    assert stats["golden_f1"] == pytest.approx(0.4)
    text = run("qa", "bakeoff", "news", "--golden", "expert", cwd=ws.root).stdout
    assert "vendor-e: On golden items with no entities, 1 of 1 annotations said so" in text
