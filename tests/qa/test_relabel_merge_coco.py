"""`relabel merge` of COCO answers: `--images-were all` (an image without annotations is a "no
objects here" answer) and `--labelers-per-item`, as `labels import` offers them. The shape scenes
(``builders.BOXES``): det-1 and det-2 (vendor-a), det-3 (vendor-b), none of them trained."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labelspec.workspace import Workspace
from tests.helpers import git
from tests.trace.conftest import as_json


@pytest.fixture
def planned(shapes_boxes, copy_of, run, tmp_path) -> tuple[Workspace, dict]:
    """A plan over every labeled scene (circle_big, circle_small, square_big, triangle_up), and
    det-1 and det-2 trained on 1.0.0 so they may answer it."""
    ws = copy_of(shapes_boxes)
    run("relabel", "plan", "shapes", "--guideline", "shapes", "--out", str(tmp_path / "q"),
        cwd=ws.root)  # fmt: skip
    for labeler in ("det-1", "det-2"):
        run(
            "labeler", "train", labeler, "--guideline", "shapes", "--version", "1.0.0",
            "--method", "session", "--score", "0.9", "--passed", "--date", "2026-01-15",
            cwd=ws.root,
        )  # fmt: skip
    return ws, json.loads((tmp_path / "q" / "plan.json").read_text())


def coco_answers(path: Path) -> Path:
    """circle_big with one circle; circle_small given, nothing drawn on it."""
    path.write_text(
        json.dumps(
            {
                "images": [
                    {"id": 1, "file_name": "circle_big.png", "width": 128, "height": 128},
                    {"id": 2, "file_name": "circle_small.png", "width": 128, "height": 128},
                ],
                "annotations": [
                    {
                        "id": 1,
                        "image_id": 1,
                        "category_id": 1,
                        "bbox": [24, 24, 80, 80],
                        "attributes": {"occluded": False},
                    }
                ],
                "categories": [{"id": 1, "name": "circle"}],
            }
        )
    )
    return path


def test_images_were_all_makes_an_image_without_boxes_a_no_objects_answer(planned, run, tmp_path):
    ws, plan = planned
    answers = coco_answers(tmp_path / "answers.coco.json")
    merge = ["relabel", "merge", "shapes", plan["plan"], str(answers), "--format", "coco"]

    # without --images-were: circle_small was not annotated, so it is no answer
    plain = as_json(run, ws.root, *merge, "--labeler", "det-1", "--dry-run")
    assert (plain["new"], plain["updated"], plain["unchanged"]) == (1, 0, 0)
    told = as_json(run, ws.root, *merge, "--labeler", "det-1", "--images-were", "all", "--dry-run")
    assert (told["new"], told["updated"], told["unchanged"]) == (2, 0, 0)

    merged = as_json(run, ws.root, *merge, "--labeler", "det-1", "--images-were", "all")
    # 2 answers on 2 of the 4 planned items; circle_small's only annotation (det-1's circle) and
    # circle_big's three (det-1, det-2, det-3) superseded
    assert (merged["items"], merged["done"], merged["open"]) == (2, 2, 2)
    assert merged["superseded_annotations"] == 4
    # one circle and one "no objects" answer: 1 label and 1 empty answer, as imports count them
    assert (merged["labels"], merged["empty_answers"], merged["annotations"]) == (1, 1, 2)
    subject = git(ws.root, "log", "-1", "--format=%s").strip()
    assert (
        subject
        == f"relabel merge {plan['plan']}: 1 label and 1 empty answer(s) on 2 item(s) of shapes"
    )
    small = as_json(run, ws.root, "trace", "item", "shapes", "circle_small.png")["annotations"]
    current = [a for a in small if a["current"]]
    assert [(a["labeler"], a["source"]) for a in current] == [("det-1", "relabel")]
    assert [label["class"] for label in current[0]["labels"]] == [None]  # "no objects here"


def test_labelers_per_item_names_each_answers_relabeler(planned, run, tmp_path):
    ws, plan = planned
    answers = coco_answers(tmp_path / "answers.coco.json")
    who = tmp_path / "who.csv"
    who.write_text("circle_big.png,det-2\ncircle_small.png,det-1\n")
    merge = ["relabel", "merge", "shapes", plan["plan"], str(answers), "--format", "coco"]

    merged = as_json(run, ws.root, *merge, "--images-were", "all", "--labelers-per-item", str(who))

    assert (merged["items"], merged["done"]) == (2, 2)
    for item, labeler in (("circle_big.png", "det-2"), ("circle_small.png", "det-1")):
        trail = as_json(run, ws.root, "trace", "item", "shapes", item)["annotations"]
        assert [a["labeler"] for a in trail if a["current"]] == [labeler]
    both = run(*merge, "--labelers-per-item", str(who), "--labeler", "det-1", cwd=ws.root, expect=1)
    assert "give it without --labeler and --labeler-map" in both.stderr
