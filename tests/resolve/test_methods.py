"""Every resolution method on the hand-written QA workspaces (``tests/qa/builders.py``): each
figure below is worked out from the votes there, next to the assertion."""

from __future__ import annotations

import json

import pytest

from labelspec.errors import LabelspecError, NotFoundError
from labelspec.resolve.resolution import resolve
from labelspec.resolve.result import LABELS_SCHEMA, RESOLVED_SCHEMA
from labelspec.store.golden import add_golden
from tests.helpers import state
from tests.store.conftest import write_jsonl

# builders.VOTES: truth one one one seven seven seven four four one seven (d00..d09);
# lab-a1 labels all ten right; lab-a2 d00-d07 right; lab-b1 says d01 seven, d04 one, d06 nine;
# lab-c1 skips d06, d07 and says d04 one, d09 one. Each labeler is one import, in that order.


def rows(resolved, columns=("class", "confidence", "status")) -> dict:
    return {r["item_id"]: tuple(r[c] for c in columns) for r in resolved.table.to_pylist()}


def test_majority_reports_the_tie_and_every_share(digits_votes):
    resolved = resolve(digits_votes, "digits", "majority")
    assert resolved.table.schema == RESOLVED_SCHEMA
    found = rows(resolved)
    assert found["d04.png"] == (None, 0.5, "tie")  # seven (a1, a2) against one (b1, c1)
    assert found["d01.png"] == ("one", 0.75, "resolved")  # a1, a2, c1 against b1's seven
    assert found["d06.png"] == ("four", pytest.approx(2 / 3), "resolved")  # b1: nine; c1 skipped
    assert found["d09.png"] == ("seven", pytest.approx(2 / 3), "resolved")  # c1: one; a2 skipped
    assert found["d08.png"] == ("one", 1.0, "resolved")  # a1, b1, c1
    assert [found[f"d0{i}.png"][0] for i in (0, 2, 3, 5, 7)] == [
        "one", "one", "seven", "seven", "four",
    ]  # fmt: skip
    d01 = next(r for r in resolved.table.to_pylist() if r["item_id"] == "d01.png")
    assert (d01["voters"], d01["labelers"], d01["method"]) == (
        4, ["lab-a1", "lab-a2", "lab-c1"], "majority",
    )  # fmt: skip
    assert len(d01["label_ids"]) == 3
    d04 = next(r for r in resolved.table.to_pylist() if r["item_id"] == "d04.png")
    assert d04["labelers"] == ["lab-a1", "lab-a2", "lab-b1", "lab-c1"]  # a tie cites every vote
    assert resolved.low_confidence == ["d04.png"]
    assert resolved.labels.num_rows == 9 and resolved.labels.schema == LABELS_SCHEMA


def test_label_ids_lead_back_to_the_labels(digits_votes):
    resolved = resolve(digits_votes, "digits", "majority")
    labels = digits_votes.labels("digits").to_pylist()
    by_id = {r["label_id"]: r for r in labels}
    for row in resolved.labels.to_pylist():
        cited = [by_id[i] for i in row["label_ids"]]
        assert {c["item_id"] for c in cited} == {row["item_id"]}
        assert {c["class"] for c in cited} == {row["class"]}
        assert sorted(c["labeler_id"] for c in cited) == row["labelers"]


def test_a_floor_lists_the_items_to_relabel_and_keeps_them_out(digits_votes):
    resolved = resolve(digits_votes, "digits", "majority", min_confidence=0.7)
    assert resolved.low_confidence == ["d04.png", "d06.png", "d09.png"]  # the tie, two 2/3 shares
    assert sorted(resolved.labels.column("item_id").to_pylist()) == [
        f"d0{i}.png" for i in (0, 1, 2, 3, 5, 7, 8)
    ]
    counts = resolved.counts()
    assert (counts["items"], counts["labels"], counts["ties"], counts["low_confidence"]) == (
        10, 7, 1, 3,
    )  # fmt: skip


def test_latest_takes_the_newest_import(digits_votes):
    # lab-c1's import is the newest batch (all votes share one created_at), then lab-b1's
    found = rows(resolve(digits_votes, "digits", "latest"), ("class", "confidence", "method"))
    assert found["d04.png"] == ("one", 0.5, "latest")  # c1 says one; b1 agrees, a1 and a2 not
    assert found["d06.png"] == ("nine", pytest.approx(1 / 3), "latest")  # c1 skipped d06: b1's
    assert found["d09.png"] == ("one", pytest.approx(1 / 3), "latest")
    assert found["d01.png"] == ("one", 0.75, "latest")


def test_latest_reports_newest_votes_that_disagree(shapes_boxes):
    # det-1 and det-2 came in one import at one time: on triangle_up both are the newest
    found = resolve(shapes_boxes, "shapes", "latest").table.to_pylist()
    triangle = [r for r in found if r["item_id"] == "triangle_up.png"]
    assert {r["status"] for r in triangle} == {"tie"}


def test_dawid_skene_settles_the_tie_by_labeler_quality(digits_votes):
    resolved = resolve(digits_votes, "digits", "dawid-skene")
    found = rows(resolved)
    # a1 and a2 agree with the consensus everywhere, b1 and c1 do not: their seven wins d04
    assert found["d04.png"][0] == "seven" and found["d04.png"][1] > 0.99
    assert [found[f"d0{i}.png"][0] for i in range(10)] == [
        "one",
        "one",
        "one",
        "seven",
        "seven",
        "seven",
        "four",
        "four",
        "one",
        "seven",
    ]  # fmt: skip (the truth of builders.TRUTH)
    quality = resolved.labeler_quality
    assert quality["lab-a1"] > quality["lab-b1"] and quality["lab-a2"] > quality["lab-c1"]
    assert resolved.parameters == {"max_iter": 200, "tol": 1e-6}
    # deterministic: the same votes give the same posteriors, bit for bit
    assert resolve(digits_votes, "digits", "dawid-skene").table.equals(resolved.table)


@pytest.fixture
def with_golden(digits_votes, copy_of):
    ws = copy_of(digits_votes)
    rows_ = [
        {"item_id": "d04.png", "class": "seven", "labeler": "expert"},
        {"item_id": "d06.png", "class": "nine", "labeler": "expert"},  # against the crowd
    ]
    add_golden(ws, "digits", write_jsonl(ws.root.parent / "g.jsonl", rows_), "jsonl", "expert")
    return ws


def test_golden_first_overrides_the_items_it_covers(with_golden):
    resolved = resolve(with_golden, "digits", "golden-first")
    found = rows(resolved, ("class", "confidence", "method", "labelers"))
    assert found["d04.png"] == ("seven", 1.0, "golden", ["expert"])
    assert found["d06.png"] == ("nine", 1.0, "golden", ["expert"])
    assert found["d01.png"] == ("one", 0.75, "majority", ["lab-a1", "lab-a2", "lab-c1"])
    assert resolved.table.column("item_id").to_pylist() == [f"d0{i}.png" for i in range(10)]
    assert resolved.parameters["golden"].startswith("expert@b-")
    assert resolved.parameters["fallback"] == "majority"
    assert resolved.low_confidence == []  # the tie was d04, which the golden set decides


def test_golden_first_with_dawid_skene_fixes_the_golden_items(with_golden):
    resolved = resolve(with_golden, "digits", "golden-first", fallback="dawid-skene")
    found = rows(resolved, ("class", "method"))
    assert found["d06.png"] == ("nine", "golden")
    assert found["d00.png"] == ("one", "dawid-skene")


def test_golden_first_needs_a_golden_set(digits_votes):
    with pytest.raises(NotFoundError, match="golden-first needs a golden set"):
        resolve(digits_votes, "digits", "golden-first")


def test_bad_options_say_what_to_give(digits_votes):
    with pytest.raises(LabelspecError, match=r"unknown method 'vote'.*majority"):
        resolve(digits_votes, "digits", "vote")
    with pytest.raises(LabelspecError, match="from 0 to 1"):
        resolve(digits_votes, "digits", "majority", min_confidence=1.5)
    with pytest.raises(NotFoundError, match="no dataset 'digit'"):
        resolve(digits_votes, "digit", "majority")


def test_resolving_writes_nothing(digits_votes):
    before = state(digits_votes.root)
    resolve(digits_votes, "digits", "dawid-skene")
    assert state(digits_votes.root) == before


def test_a_snapshot_resolves_the_labels_it_had(digits_votes):
    found = rows(resolve(digits_votes, "digits", "majority", snapshot="snap-3"))
    # lab-a1, a2, b1: d04 is seven 2 to 1, d06 four 2 to 1, d09 seven (a1, b1)
    assert found["d04.png"] == ("seven", pytest.approx(2 / 3), "resolved")
    assert found["d09.png"] == ("seven", 1.0, "resolved")


# -- multilabel: builders.SETS ----------------------------------------------------------------------
def test_multilabel_votes_each_class_of_an_item(digit_sets):
    table = resolve(digit_sets, "digits", "majority").table.to_pylist()
    found = {(r["item_id"], r["class"]): (r["confidence"], r["status"]) for r in table}
    assert found == {
        ("d00.png", "one"): (1.0, "resolved"),  # ml-1, ml-2, ml-3
        ("d00.png", "seven"): (pytest.approx(1 / 3), "rejected"),  # ml-3 alone
        ("d01.png", "seven"): (1.0, "resolved"),
        ("d01.png", "four"): (pytest.approx(2 / 3), "resolved"),  # ml-1, ml-3
        ("d02.png", "four"): (1.0, "resolved"),
        ("d03.png", "one"): (0.5, "tie"),  # ml-1 one, ml-2 seven, ml-3 skipped d03
        ("d03.png", "seven"): (0.5, "tie"),
        # no class resolved on d03: its "none" row is a tie too (no_objects: a candidate ties),
        # with the share that marked nothing (0 of 2): relabeled, never "none"
        ("d03.png", None): (0.0, "tie"),
    }


# -- detection: builders.BOXES ----------------------------------------------------------------------
def test_boxes_of_one_object_are_fused_and_voted(shapes_boxes):
    resolved = resolve(shapes_boxes, "shapes", "majority")
    table = resolved.table.to_pylist()
    found = {
        (r["item_id"], r["class"], tuple(r["bbox"].values())): (r["confidence"], r["status"])
        for r in table
    }
    assert found == {
        # det-1 [24,24,80,80] and det-2 [26,24,80,80] overlap at IoU 6240/6560 = 0.95, and
        # det-3's square [24,24,80,80] is the same object: one object, voted circle by 2 of 3
        # (a class disagreement, not a second object); its box the mean of the two circles
        ("circle_big.png", "circle", (25.0, 24.0, 80.0, 80.0)): (pytest.approx(2 / 3), "resolved"),
        ("square_big.png", "square", (30.0, 30.0, 70.0, 70.0)): (pytest.approx(2 / 3), "resolved"),
        # det-3's [50,50,70,70] overlaps those at IoU 2500/7300 = 0.34 < 0.55: another object
        ("square_big.png", "square", (50.0, 50.0, 70.0, 70.0)): (pytest.approx(1 / 3), "rejected"),
        ("triangle_up.png", "triangle", (24.0, 20.0, 80.0, 80.0)): (1.0, "resolved"),
        ("triangle_up.png", "circle", (0.0, 0.0, 10.0, 10.0)): (0.5, "tie"),  # det-1 of 2
        ("circle_small.png", "circle", (70.0, 20.0, 30.0, 30.0)): (1.0, "resolved"),
    }
    assert resolved.parameters == {"iou": 0.55}
    fused = next(r for r in table if r["item_id"] == "circle_big.png" and r["class"] == "circle")
    assert (fused["labelers"], len(fused["label_ids"]), fused["voters"]) == (
        ["det-1", "det-2"], 2, 3,
    )  # fmt: skip
    # an image with a disputed box stays out of a training set whole
    assert resolved.low_confidence == ["triangle_up.png"]
    assert "triangle_up.png" not in resolved.labels.column("item_id").to_pylist()
    # a floor of 0.7: the 2/3 boxes, and the boxes rejected with only 2/3 certainty, fall below
    assert resolve(shapes_boxes, "shapes", "majority", min_confidence=0.7).low_confidence == [
        "circle_big.png", "square_big.png", "triangle_up.png",
    ]  # fmt: skip


def test_a_stricter_iou_keeps_the_two_circles_apart(shapes_boxes):
    table = resolve(shapes_boxes, "shapes", "majority", iou=0.96).table.to_pylist()
    circles = [r for r in table if r["item_id"] == "circle_big.png" and r["class"] == "circle"]
    assert sorted(r["bbox"]["x"] for r in circles) == [24.0, 26.0]  # IoU 0.95 < 0.96
    assert [r["confidence"] for r in circles] == [pytest.approx(1 / 3)] * 2


# -- ner: builders.SPANS ----------------------------------------------------------------------------
def test_spans_are_voted_by_exact_match(news_spans):
    table = resolve(news_spans, "news", "majority").table.to_pylist()
    found = {
        (r["item_id"], r["class"], r["span"]["start"], r["span"]["end"]): (
            r["confidence"],
            r["status"],
        )
        for r in table
    }
    third = pytest.approx(1 / 3)
    assert found == {
        ("n01.txt", "person", 0, 12): (pytest.approx(2 / 3), "resolved"),  # Ada Lovelace: ner-1, 2
        ("n01.txt", "person", 0, 3): (third, "rejected"),  # Ada: ner-3
        ("n01.txt", "person", 17, 32): (1.0, "resolved"),  # Charles Babbage: all three
        ("n01.txt", "location", 36, 42): (pytest.approx(2 / 3), "resolved"),  # London: ner-1, 3
        ("n01.txt", "organization", 36, 42): (third, "rejected"),  # ner-2
        ("n02.txt", "organization", 4, 18): (0.5, "tie"),  # United Nations: ner-1
        ("n02.txt", "organization", 0, 18): (0.5, "tie"),  # The United Nations: ner-2
        ("n02.txt", "location", 26, 32): (1.0, "resolved"),  # Geneva
        ("n04.txt", "person", 0, 3): (1.0, "resolved"),  # ner-1 alone labeled n04
        ("n04.txt", "organization", 34, 42): (1.0, "resolved"),
    }


def test_resolved_labels_export_as_label_rows(digits_votes):
    from labelspec.resolve.export import as_labels
    from labelspec.store.schema import LABEL_SCHEMA

    resolved = resolve(digits_votes, "digits", "majority")
    rows = as_labels(digits_votes, resolved)
    assert rows.schema == LABEL_SCHEMA and rows.num_rows == 9  # d04 ties: not exported
    first = rows.to_pylist()[1]
    assert (first["item_id"], first["class"], first["labeler_id"], first["guideline_version"]) == (
        "d01.png", "one", "resolved:majority", "1.0.0",
    )  # fmt: skip
    assert len(json.loads(first["source_ids"])["label_ids"]) == 3
    assert json.loads(first["tool_fields"])["confidence"] == 0.75
    # every label was made untrained (the QA workspace has no training records): all suspect
    assert all(resolved.table.column("suspect").to_pylist())


def test_golden_boxes_replace_the_crowds_on_their_images(shapes_boxes, copy_of):
    ws = copy_of(shapes_boxes)
    rows_ = [
        {"item_id": "circle_big.png", "labeler": "expert", "class": "circle",
         "bbox": [20, 20, 84, 84], "attributes": {"occluded": False}},
    ]  # fmt: skip
    add_golden(ws, "shapes", write_jsonl(ws.root.parent / "g.jsonl", rows_), "jsonl", "expert")
    table = resolve(ws, "shapes", "golden-first").table.to_pylist()
    circle_big = [r for r in table if r["item_id"] == "circle_big.png"]
    assert [(r["class"], r["bbox"], r["method"], r["confidence"]) for r in circle_big] == [
        ("circle", {"x": 20.0, "y": 20.0, "w": 84.0, "h": 84.0}, "golden", 1.0),
    ]
    others = {r["method"] for r in table if r["item_id"] != "circle_big.png"}
    assert others == {"majority"}


def test_dawid_skene_on_boxes_learns_who_draws_real_objects(shapes_boxes):
    resolved = resolve(shapes_boxes, "shapes", "dawid-skene")
    # boxes fused by estimated quality sit within a pixel of the equal-weight ones
    found = {
        (r["item_id"], r["class"], round(r["bbox"]["x"])): r["status"]
        for r in resolved.table.to_pylist()
    }
    # det-3's class swap loses the object's class vote; its misplaced square is out; the pair's
    # boxes are in
    assert found[("circle_big.png", "circle", 25)] == "resolved"
    assert ("circle_big.png", "square", 24) not in found
    assert found[("square_big.png", "square", 50)] == "rejected"
    assert resolved.labeler_quality["det-3"] < resolved.labeler_quality["det-1"]
    assert resolved.diagnostics["converged"]
