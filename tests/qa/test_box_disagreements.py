"""qa disagreements on boxes: the shape scenes (``builders.BOXES``) against crafted detector
predictions, every score worked out by hand next to its assertion.

The labels (128 x 128 images): circle_big has det-1 circle [24, 24, 80, 80], det-2 circle
[26, 24, 80, 80] and det-3 square [24, 24, 80, 80]; square_big det-1 and det-2 square [30, 30,
70, 70], det-3 square [50, 50, 70, 70]; triangle_up det-1 triangle [24, 20, 80, 80] plus circle
[0, 0, 10, 10], det-2 triangle [24, 20, 80, 80]; circle_small det-1 circle [70, 20, 30, 30].
This module adds det-3's explicit "no objects here" on triangle_flat.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from labelspec.errors import LabelspecError, ProblemsError
from labelspec.qa.disagreements import disagreements
from labelspec.workspace import Workspace
from tests.qa.builders import write_jsonl

# row numbers (the line of each box) are the P numbers of the report
PREDICTIONS = [
    {"item_id": "circle_big.png", "class": "circle", "bbox": [24, 24, 80, 80], "score": 0.9},
    {
        "item_id": "square_big.png",
        "class": "square",
        "bbox": [30, 30, 70, 70],
        "score": 0.8,
        "probs": {"square": 0.8, "circle": 0.2},
    },
    {"item_id": "triangle_up.png", "class": "triangle", "bbox": [24, 20, 80, 80], "score": 0.95},
    {"item_id": "triangle_up.png", "class": "square", "bbox": [100, 100, 20, 20], "score": 0.7},
    {"item_id": "triangle_up.png", "class": "circle", "bbox": [1, 1, 10, 10], "score": 0.3},
    {"item_id": "circle_small.png", "empty": True},
    {"item_id": "triangle_flat.png", "class": "triangle", "bbox": [14, 64, 100, 40], "score": 0.8},
]


@pytest.fixture(scope="module")
def boxes(shapes_boxes, tmp_path_factory) -> Workspace:
    """The shape scenes plus det-3's empty answer on triangle_flat."""
    from labelspec.labels.ingest import import_labels

    root = tmp_path_factory.mktemp("boxes") / "ws"
    shutil.copytree(shapes_boxes.root, root, symlinks=True)
    ws = Workspace(root)
    empty = write_jsonl(
        root.parent / "empty.jsonl",
        [{"item_id": "triangle_flat.png", "labeler": "det-3", "empty": True}],
    )
    import_labels(ws, "shapes", empty, "jsonl", "shapes@1.0.0", "vendor-b")
    return ws


@pytest.fixture
def predictions(tmp_path) -> Path:
    return write_jsonl(tmp_path / "detections.jsonl", PREDICTIONS)


def scored(result: dict) -> dict[tuple, dict]:
    """(item, labeler, labeled class or None, kind) -> row, over every scored box."""
    return {
        (
            b["item_id"] if "item_id" in b else item["item_id"],
            b["labeler"],
            b["class"],
            b["kind"],
        ): b
        for item in result["items"]
        for b in item["boxes"]
    }


def test_each_kind_of_issue_is_scored_by_hand(boxes, predictions):
    result = disagreements(boxes, "shapes", predictions, top=50)
    rows = scored(result)
    # wrong class: det-3's square on circle_big is covered (IoU 1) by circle 0.9: 1 - (0.9 - 0)
    wrong = rows[("circle_big.png", "det-3", "square", "wrong_class")]
    assert wrong["score"] == pytest.approx(0.1)
    assert wrong["predicted_row"] == 1 and wrong["iou"] == pytest.approx(1.0)
    # det-2's circle is 2 px off: IoU 78*80 / (2*6400 - 78*80) = 6240/6560, scored
    # 1 - 0.9 * 320/6560 = 0.956, at or above 0.5: no issue, not "badly placed"
    shifted = rows[("circle_big.png", "det-2", "circle", "no_issue")]
    assert shifted["score"] == pytest.approx(1 - 0.9 * (1 - 6240 / 6560))
    # det-3's square on square_big overlaps the predicted one 50x50: IoU 2500/7300 (< 0.5)
    placed = rows[("square_big.png", "det-3", "square", "badly_placed")]
    assert placed["score"] == pytest.approx(1 - 0.8 * (1 - 2500 / 7300))
    assert placed["iou"] == pytest.approx(2500 / 7300)
    # a perfect box: nothing to doubt, and no kind of issue
    assert rows[("circle_big.png", "det-1", "circle", "no_issue")]["score"] == 1.0
    assert not any(k[3] == "badly_placed" and r["score"] >= 0.5 for k, r in rows.items())
    # extra: det-1's circle [0, 0, 10, 10] has only the 0.3 circle near it (IoU 81/119 >= 0.1)
    assert rows[("triangle_up.png", "det-1", "circle", "extra_box")]["score"] == pytest.approx(0.3)
    # the detector found nothing on circle_small (an empty line): det-1's circle is extra, 0
    assert rows[("circle_small.png", "det-1", "circle", "extra_box")]["score"] == 0.0
    # missing: the square 0.7 on triangle_up, missed by det-1 and det-2: 1 - 0.7 (IoU 0)
    for labeler in ("det-1", "det-2"):
        missing = rows[("triangle_up.png", labeler, None, "missing_box")]
        assert missing["score"] == pytest.approx(0.3) and missing["predicted_row"] == 4
    # an explicit "no objects here" with a confident triangle: missing, 1 - 0.8
    empty = rows[("triangle_flat.png", "det-3", None, "missing_box")]
    assert empty["score"] == pytest.approx(0.2)
    # the 0.3 circle is below --min-score 0.5: never a missing box
    assert not any(b["predicted_row"] == 5 and b["kind"] == "missing_box" for b in rows.values())


def test_issues_are_ranked_and_counted(boxes, predictions):
    result = disagreements(boxes, "shapes", predictions, top=4)
    top = [(r["item_id"], r["labeler"], r["kind"]) for r in result["top"]]
    assert top == [
        ("circle_small.png", "det-1", "extra_box"),  # 0.0
        ("circle_big.png", "det-3", "wrong_class"),  # 0.1
        ("triangle_flat.png", "det-3", "missing_box"),  # 0.2
        ("triangle_up.png", "det-1", "extra_box"),  # 0.3, before the missing boxes by id
    ]
    first = result["top"][0]
    assert first["bbox"] == [70.0, 20.0, 30.0, 30.0] and first["class"] == "circle"
    assert first["label_id"] and first["source"] == "vendor-a"
    assert first["guideline_version"] == "1.0.0"
    assert first["path"] == "datasets/shapes/items/circle_small.png"
    # issues: scores below 0.5: 2 extra, 1 wrong class, 3 missing, 1 badly placed
    assert result["issues"] == 7
    assert result["by_kind"] == {
        "missing_box": 3,
        "extra_box": 2,
        "wrong_class": 1,
        "badly_placed": 1,
    }
    assert result["by_labeler"]["det-3"] == {
        "boxes": 2,
        "issues": 3,
        "missing_box": 1,
        "extra_box": 0,
        "wrong_class": 1,
        "badly_placed": 1,
    }
    assert result["by_labeler"]["det-1"]["issues"] == 3  # two extra circles, one missing square
    # a missing box counts under the predicted class
    assert result["by_class"]["square"]["missing_box"] == 2
    assert result["by_class"]["triangle"]["missing_box"] == 1
    assert result["by_class"]["circle"] == {
        "boxes": 4,
        "issues": 2,
        "missing_box": 0,
        "extra_box": 2,
        "wrong_class": 0,
        "badly_placed": 0,
    }
    assert result["items_scored"] == 5
    assert result["boxes_scored"] == 10
    assert result["confident_predictions"] == 5  # at score >= 0.5, on items with labels
    json.dumps(result, allow_nan=False)


def test_item_scores_pool_boxes_with_a_softmin(boxes, predictions):
    result = disagreements(boxes, "shapes", predictions, top=50)
    items = {i["item_id"]: i for i in result["items"]}
    # circle_big: box scores 1, 1 - 0.9 * 320/6560 and 0.1, pooled at temperature 0.1
    xs = [1.0, 1 - 0.9 * 320 / 6560, 0.1]
    weights = [math.exp(-(x - 0.1) / 0.1) for x in xs]
    expected = sum(w * x for w, x in zip(weights, xs, strict=True)) / sum(weights)
    assert items["circle_big.png"]["score"] == pytest.approx(expected)
    assert items["circle_big.png"]["worst_kind"] == "wrong_class"
    assert items["circle_big.png"]["issues"] == 1
    assert items["circle_small.png"]["score"] == 0.0  # one box, scored 0
    assert result["items"][0]["item_id"] == "circle_small.png"
    assert [i["score"] for i in result["items"]] == sorted(i["score"] for i in result["items"])


def test_probs_and_a_rival_class_decide_wrong_class(boxes, tmp_path):
    rows = [
        # the detector sees circle_big as a circle 0.6 and as a square 0.9 (per-class NMS)
        {"item_id": "circle_big.png", "class": "circle", "bbox": [24, 24, 80, 80], "score": 0.6},
        {"item_id": "circle_big.png", "class": "square", "bbox": [24, 24, 80, 80], "score": 0.9},
        # the square's probs say circle: det-1/2's squares are doubted, 1 - (0.7 - 0.3)
        {
            "item_id": "square_big.png",
            "class": "square",
            "bbox": [30, 30, 70, 70],
            "score": 0.9,
            "probs": {"square": 0.3, "circle": 0.7},
        },
    ]
    result = disagreements(boxes, "shapes", write_jsonl(tmp_path / "p.jsonl", rows), top=50)
    found = scored(result)
    # det-1's circle pairs with the circle 0.6, but a square 0.9 covers it: 1 - (0.9 - 0.6),
    # the square (row 2) behind the score; 0.7 is at or above 0.5: doubted, yet no issue
    doubted = found[("circle_big.png", "det-1", "circle", "no_issue")]
    assert doubted["score"] == pytest.approx(0.7)
    assert doubted["predicted_row"] == 2
    # det-3's square: the square 0.9 beats the circle 0.6, no doubt on its class; well placed
    assert found[("circle_big.png", "det-3", "square", "no_issue")]["score"] == 1.0
    assert found[("square_big.png", "det-1", "square", "no_issue")]["score"] == pytest.approx(0.6)
    # items the file never names are not judged
    assert result["items_without_prediction"] == 3  # triangle_up, circle_small, triangle_flat
    assert result["boxes_without_prediction"] == 4


def test_a_higher_min_score_ignores_less_confident_boxes(boxes, predictions):
    result = disagreements(boxes, "shapes", predictions, top=50, min_score=0.85)
    found = scored(result)
    # the 0.8 square no longer pairs with det-3's square: nothing confident left, extra;
    # the 0.8 square, now low-confidence, backs it (IoU 2500/7300 >= 0.1): score 0.8, no issue
    assert found[("square_big.png", "det-3", "square", "no_issue")]["score"] == pytest.approx(0.8)
    assert ("triangle_up.png", "det-1", None, "missing_box") not in found  # the 0.7 square
    assert result["min_score"] == 0.85


# -- the predictions file, checked like a delivery ------------------------------------------------------
def test_every_problem_of_a_predictions_file_is_listed_once_with_its_rows(boxes, tmp_path):
    rows = [
        {"item_id": "circle_big.png", "class": "circel", "bbox": [1, 1, 5, 5], "score": 0.9},
        {"item_id": "nope.png", "class": "circle", "bbox": [1, 1, 5, 5], "score": 0.9},
        {"item_id": "circle_big.png", "class": "circel", "bbox": [1, 1, 5, 5], "score": 0.9},
        {"item_id": "circle_big.png", "class": "circle", "bbox": [1, 1, 5], "score": 0.9},
        {"item_id": "circle_big.png", "class": "circle", "bbox": [1, 1, 0, 5], "score": 0.9},
        {"item_id": "circle_big.png", "class": "circle", "bbox": [100, 1, 29, 5], "score": 0.9},
        {"item_id": "circle_big.png", "class": "circle", "bbox": [100, 1, 28.4, 5], "score": 1.5},
        {"item_id": "circle_big.png", "class": "circle", "bbox": [1, 1, 5, 5]},
        {"item_id": "circle_big.png", "class": "circle", "bbox": [1, 1, 5, 5], "score": 0.5,
         "probs": {"circle": 0.5, "dog": 0.5}},
        {"item_id": "square_big.png", "empty": True, "class": "square"},
    ]  # fmt: skip
    path = write_jsonl(tmp_path / "bad.jsonl", rows)
    with path.open("a") as handle:  # a number JSON holds that is not finite as a double
        handle.write('{"item_id": "circle_big.png", "class": "circle", "bbox": [1, 1, 5, 5], '
                     '"score": 1e999}\n')  # fmt: skip
    with pytest.raises(ProblemsError) as caught:
        disagreements(boxes, "shapes", path)
    error = caught.value
    lines = [str(p) for p in error.problems]
    assert str(error) == (
        f"{path}: 11 problem(s) (3 bbox, 3 score, 2 class, 1 empty, 1 item_id, 1 probs); "
        "no report was made"
    )
    assert error.total == 10  # distinct problems, one line each
    assert lines[0] == (
        f"{path}:1 [2 rows, lines 1, 3]: class: unknown class circel in shapes "
        "(known: circle, square, triangle); did you mean circle?"
    )
    expected = [
        f"{path}:2: item_id: unknown item nope.png",
        f"{path}:4: bbox: bbox must be [x, y, w, h]: 4 finite numbers in pixels",
        f"{path}:5: bbox: box width and height must be positive (got 0.0 x 5.0)",
        f"{path}:6: bbox: box [100.0, 1.0, 29.0, 5.0] is outside the 128x128 image",
        f"{path}:7: score: score 1.5 is not between 0 and 1",
        f"{path}:8: score: required: score",
        f"{path}:9: probs: probs name class dog, which shapes does not have",
        f"{path}:10: empty: an empty line says the detector found nothing",
        f"{path}:11: score: score inf is not between 0 and 1",
    ]
    for line, start in zip(lines[1:], expected, strict=True):
        assert line.startswith(start), (line, start)


def test_refused_predictions_write_no_page(boxes, run, tmp_path):
    path = write_jsonl(tmp_path / "bad.jsonl", [{"item_id": "nope.png", "empty": True}])
    out = tmp_path / "page.html"
    result = run(
        "qa", "disagreements", "shapes", "--predictions", str(path), "--html", str(out),
        cwd=boxes.root, expect=1,
    )  # fmt: skip
    assert "unknown item nope.png" in result.stderr
    assert not out.exists()


def test_class_probabilities_per_item_are_not_boxes(boxes, tmp_path):
    path = write_jsonl(
        tmp_path / "probs.jsonl", [{"item_id": "circle_big.png", "probs": {"circle": 1.0}}]
    )
    with pytest.raises(LabelspecError, match="holds class probabilities per item") as caught:
        disagreements(boxes, "shapes", path)
    assert "shapes is a detection guideline: give a detector's boxes" in str(caught.value)


# -- COCO results --------------------------------------------------------------------------------------
@pytest.fixture
def coco_export(boxes, run, tmp_path) -> dict:
    out = tmp_path / "export.coco.json"
    run("labels", "export", "shapes", "--format", "coco", "--out", str(out), cwd=boxes.root)
    return {"path": out, **json.loads(out.read_text())}


def coco_results(export: dict, rows: list[dict]) -> list[dict]:
    images = {Path(i["file_name"]).name: i["id"] for i in export["images"]}
    categories = {c["name"]: c["id"] for c in export["categories"]}
    return [
        {
            "image_id": images[r["item_id"]],
            "category_id": categories[r["class"]],
            "bbox": r["bbox"],
            "score": r["score"],
        }
        for r in rows
        if not r.get("empty") and r["item_id"] in images
    ]


def test_coco_results_read_like_the_same_boxes_in_jsonl(boxes, coco_export, tmp_path):
    # every image of the export is predicted on: square_big gets an image with no results
    rows = [r for r in PREDICTIONS if "probs" not in r]
    results = tmp_path / "results.json"
    results.write_text(json.dumps(coco_results(coco_export, rows)))
    from_coco = disagreements(boxes, "shapes", results, top=50, coco_images=coco_export["path"])
    jsonl_rows = [*rows, {"item_id": "square_big.png", "empty": True}]
    jsonl = disagreements(boxes, "shapes", write_jsonl(tmp_path / "p.jsonl", jsonl_rows), top=50)
    assert from_coco["format"] == "coco-results" and jsonl["format"] == "jsonl"

    def kinds(result):
        return sorted(
            (r["item_id"], r["labeler"], r["kind"], round(r["score"], 9)) for r in result["top"]
        )

    assert kinds(from_coco) == kinds(jsonl)
    assert from_coco["by_kind"] == jsonl["by_kind"]


def test_coco_results_need_the_file_naming_their_ids(boxes, coco_export, tmp_path):
    results = tmp_path / "results.json"
    results.write_text(json.dumps(coco_results(coco_export, PREDICTIONS[:1])))
    with pytest.raises(LabelspecError, match="pass --coco-images FILE"):
        disagreements(boxes, "shapes", results)
    jsonl = write_jsonl(tmp_path / "p.jsonl", PREDICTIONS[:1])
    with pytest.raises(LabelspecError, match="leave --coco-images out"):
        disagreements(boxes, "shapes", jsonl, coco_images=coco_export["path"])


def test_unknown_coco_ids_are_problems(boxes, coco_export, tmp_path):
    results = tmp_path / "results.json"
    results.write_text(
        json.dumps(
            [
                {"image_id": 999, "category_id": 1, "bbox": [1, 1, 5, 5], "score": 0.9},
                {"image_id": 1, "category_id": 77, "bbox": [1, 1, 5, 5], "score": 0.9},
                {"image_id": 1, "category_id": 77, "bbox": [1, 1, 5, 5], "score": 2},
            ]
        )
    )
    with pytest.raises(ProblemsError) as caught:
        disagreements(boxes, "shapes", results, coco_images=coco_export["path"])
    lines = [str(p) for p in caught.value.problems]
    name = coco_export["path"].name
    assert lines == [
        f"{results} [result 1]: image_id: image_id 999 is not an image of {name}",
        f"{results} [2 results, 2, 3]: category_id: category_id 77 is not a category of {name}",
        f"{results} [result 3]: score: score 2.0 is not between 0 and 1 (give the detector's "
        "confidence, not a logit)",
    ]


# -- the CLI and the page -------------------------------------------------------------------------------
def test_cli_prints_issues_and_writes_an_offline_page(boxes, run, predictions, tmp_path):
    out = tmp_path / "boxes.html"
    result = run(
        "qa", "disagreements", "shapes", "--predictions", str(predictions), "--top", "3",
        "--html", str(out), cwd=boxes.root,
    )  # fmt: skip
    assert "7 issues below 0.5: 3 missing box, 2 extra box, 1 wrong class, 1 badly placed" in (
        result.stdout.replace("\n", " ")
    )
    assert "wrong class" in result.stdout and "circle 0.90" in result.stdout
    page = out.read_text()
    assert page.count('<article class="card">') == 3
    assert 'stroke-dasharray="6 4"' in page  # predicted boxes: dashed
    assert ">L1</text>" in page and ">P1</text>" in page
    assert "labeled box, solid line" in page and "predicted box, dashed line" in page
    assert '<image href="data:image/png;base64,' in page
    assert "http://" not in page and "https://" not in page and "<script" not in page
    as_json = json.loads(
        run(
            "qa", "disagreements", "shapes", "--predictions", str(predictions), "--json",
            cwd=boxes.root,
        ).stdout
    )  # fmt: skip
    assert as_json["task"] == "detection" and as_json["issues"] == 7


def test_the_page_escapes_what_it_shows():
    from labelspec.qa.box_page import render

    hostile = "<script>alert(1)</script>"
    box = {
        "annotation_id": hostile, "labeler": hostile, "source": hostile,
        "guideline_version": "1.0.0", "label_id": "l-1", "class": hostile, "bbox": [1, 1, 5, 5],
        "kind": "extra_box", "score": 0.0, "predicted_row": None, "predicted_class": None,
        "predicted_score": None, "iou": None,
    }  # fmt: skip
    result = {
        "dataset": hostile, "snapshot": "s", "predictions": hostile, "issues": 1,
        "issue_below": 0.5, "min_score": 0.5, "by_kind": {"extra_box": 1},
        "items": [{"item_id": hostile, "score": 0.0, "worst_kind": "extra_box",
                   "worst_score": 0.0, "issues": 1, "path": None, "width": 10, "height": 10,
                   "boxes": [box], "predicted": []}],
    }  # fmt: skip
    page = render(None, result)
    assert "<script" not in page and "&lt;script&gt;" in page


def test_coco_images_are_refused_for_class_labels(digits_votes, tmp_path):
    path = write_jsonl(tmp_path / "p.jsonl", [{"item_id": "d00.png", "probs": {"one": 1.0}}])
    with pytest.raises(LabelspecError, match="--coco-images names the images"):
        disagreements(digits_votes, "digits", path, coco_images=path)


# -- relabel plan --priority model -------------------------------------------------------------------
def test_relabel_plan_ranks_detection_items_by_their_score(
    boxes, copy_of, run, predictions, tmp_path
):
    ws = copy_of(boxes)
    out = tmp_path / "queue"
    run(
        "relabel", "plan", "shapes", "--guideline", "shapes", "--priority", "model",
        "--model-predictions", str(predictions), "--out", str(out), cwd=ws.root,
    )  # fmt: skip
    plan = json.loads((out / "plan.json").read_text())
    expected = disagreements(boxes, "shapes", predictions, top=50)["items"]
    scores = {i["item_id"]: i["score"] for i in expected}
    # every labeler is untrained, so every labeled item is suspect; lowest score first, and the
    # items the predictions never name (none here) last
    assert [e["item_id"] for e in plan["items"]] == [i["item_id"] for i in expected]
    for entry in plan["items"]:
        assert entry["score"] == pytest.approx(scores[entry["item_id"]])
    first = plan["items"][0]
    assert first["item_id"] == "circle_small.png"
    assert "model: extra box (score 0.00)" in first["reasons"]
    reasons = {e["item_id"]: e["reasons"] for e in plan["items"]}
    assert "model: wrong class (score 0.10)" in reasons["circle_big.png"]
    assert "model: missing box (score 0.20)" in reasons["triangle_flat.png"]


def test_relabel_plan_puts_items_without_predictions_last(boxes, copy_of, run, tmp_path):
    ws = copy_of(boxes)
    path = write_jsonl(tmp_path / "p.jsonl", PREDICTIONS[:2])  # circle_big and square_big only
    out = tmp_path / "queue"
    run(
        "relabel", "plan", "shapes", "--guideline", "shapes", "--priority", "model",
        "--model-predictions", str(path), "--out", str(out), cwd=ws.root,
    )  # fmt: skip
    plan = json.loads((out / "plan.json").read_text())
    order = [e["item_id"] for e in plan["items"]]
    assert order[:2] == ["circle_big.png", "square_big.png"]  # 0.1... then 0.47...
    assert [e["score"] for e in plan["items"][2:]] == [None] * (len(order) - 2)
    assert order[2:] == sorted(order[2:])


def test_relabel_plan_refuses_bad_box_predictions_and_plans_nothing(boxes, copy_of, run, tmp_path):
    ws = copy_of(boxes)
    path = write_jsonl(
        tmp_path / "p.jsonl",
        [{"item_id": "circle_big.png", "class": "circle", "bbox": [1, 1, 5, 5], "score": 7}],
    )
    result = run(
        "relabel", "plan", "shapes", "--guideline", "shapes", "--priority", "model",
        "--model-predictions", str(path), "--out", str(tmp_path / "q"), cwd=ws.root, expect=1,
    )  # fmt: skip
    assert "score 7.0 is not between 0 and 1" in result.stderr
    assert "nothing was planned" in result.stderr
    assert not (tmp_path / "q" / "plan.json").exists()
    assert not list((ws.root / "datasets/shapes/relabel").glob("*.json"))


def test_relabel_plan_scores_only_the_segments_labels(boxes, copy_of, run, predictions, tmp_path):
    ws = copy_of(boxes)
    out = tmp_path / "queue"
    run(
        "relabel", "plan", "shapes", "--guideline", "shapes", "--segment", "source=vendor-b",
        "--priority", "model", "--model-predictions", str(predictions), "--out", str(out),
        cwd=ws.root,
    )  # fmt: skip
    plan = json.loads((out / "plan.json").read_text())
    # vendor-b is det-3 alone; det-1's and det-2's boxes on the same items are not its issues.
    # circle_big: det-3's square under the circle 0.9 (IoU 1): 1 - 0.9 = 0.1, its only box
    # (det-1's perfect circle and det-2's 0.956 one would pool it above 0.1);
    # triangle_flat: det-3's "no objects" misses the triangle 0.8: 1 - 0.8 = 0.2;
    # square_big: det-3's square overlaps the square 0.8 at IoU 2500/7300: 1 - 0.8 * 4800/7300
    scores = {e["item_id"]: e["score"] for e in plan["items"]}
    assert [e["item_id"] for e in plan["items"]] == [
        "circle_big.png", "triangle_flat.png", "square_big.png",
    ]  # fmt: skip
    assert scores["circle_big.png"] == pytest.approx(0.1, abs=1e-12)
    assert scores["triangle_flat.png"] == pytest.approx(0.2, abs=1e-12)
    assert scores["square_big.png"] == pytest.approx(1 - 0.8 * 4800 / 7300, abs=1e-12)
    reasons = {e["item_id"]: e["reasons"] for e in plan["items"]}
    assert "model: wrong class (score 0.10)" in reasons["circle_big.png"]
    assert "model: badly placed (score 0.47)" in reasons["square_big.png"]


def test_relabel_plan_gives_no_model_reason_to_boxes_without_issue(
    boxes, copy_of, run, predictions, tmp_path
):
    ws = copy_of(boxes)
    out = tmp_path / "queue"
    run(
        "relabel", "plan", "shapes", "--guideline", "shapes", "--segment", "source=vendor-a",
        "--priority", "model", "--model-predictions", str(predictions), "--out", str(out),
        cwd=ws.root,
    )  # fmt: skip
    plan = json.loads((out / "plan.json").read_text())
    entries = {e["item_id"]: e for e in plan["items"]}
    # circle_big for vendor-a: det-1's perfect circle (1.0) and det-2's, 2 px off
    # (1 - 0.9 * 320/6560 = 0.956), pooled by the softmin; neither is an issue (both >= 0.5)
    xs = [1.0, 1 - 0.9 * 320 / 6560]
    weights = [math.exp(-(x - xs[1]) / 0.1) for x in xs]
    pooled = sum(w * x for w, x in zip(weights, xs, strict=True)) / sum(weights)
    assert entries["circle_big.png"]["score"] == pytest.approx(pooled)
    assert not [r for r in entries["circle_big.png"]["reasons"] if r.startswith("model:")]
    # square_big: det-1 and det-2 both match the square 0.8 exactly: 1.0, no reason either
    assert entries["square_big.png"]["score"] == 1.0
    assert not [r for r in entries["square_big.png"]["reasons"] if r.startswith("model:")]
    assert "badly placed" not in (out / "tasks.csv").read_text()


def test_perfect_matches_are_no_box_issue_rows(boxes, run, predictions):
    result = run("qa", "disagreements", "shapes", "--predictions", str(predictions), cwd=boxes.root)
    # one box scored below 0.5 is badly placed (det-3's square on square_big, 0.474); the
    # perfect ones (det-1's circle, det-1's and det-2's squares, 1.0) are not rows of the table
    rows = [line for line in result.stdout.splitlines() if "badly placed" in line and "│" in line]
    assert len(rows) == 1 and "0.474" in rows[0]
