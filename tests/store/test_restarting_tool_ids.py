"""Tool ids that restart per export: COCO image ids and a CVAT task's image ids name another
image in every delivery. A key matched on another item is a new annotation, never an update,
and the stored one there stays current; on the same item an edit is still an update."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

BIG, SMALL = "circle_big.png", "circle_small.png"  # two of the shapes scenes (128x128)


def coco(path: Path, file_name: str, box: list[float]) -> Path:
    """A one-image COCO export whose image is id 1, as every delivery of the tool numbers it."""
    path.write_text(
        json.dumps(
            {
                "images": [{"id": 1, "file_name": file_name, "width": 128, "height": 128}],
                "categories": [{"id": 1, "name": "circle"}],
                "annotations": [
                    {
                        "id": 1,
                        "image_id": 1,
                        "category_id": 1,
                        "bbox": box,
                        "attributes": {"occluded": False},
                    }
                ],
            }
        )
    )
    return path


def cvat(path: Path, task: int, file_name: str, boxes: list[tuple[int, int, int, int]]) -> Path:
    """A CVAT task export: the task's first image is id 0 in every task."""
    shapes = "".join(
        f'<box label="circle" occluded="0" xtl="{x}" ytl="{y}" xbr="{x2}" ybr="{y2}"/>'
        for x, y, x2, y2 in boxes
    )
    path.write_text(
        f"<annotations><version>1.1</version><meta><task><id>{task}</id></task></meta>"
        f'<image id="0" name="{file_name}" width="128" height="128">{shapes}</image>'
        "</annotations>"
    )
    return path


def deliver(run, root: Path, path: Path, fmt: str) -> dict:
    args = ["labels", "import", "shapes", str(path), "--format", fmt, "--guideline"]
    args += ["shapes@1.0.0", "--source", "vend", "--labeler", "vA-01", "--json"]
    return json.loads(run(*args, cwd=root).stdout)


def counts(result: dict) -> tuple[int, int, int]:
    return result["new"], result["updated"], result["unchanged"]


def show(run, root: Path) -> tuple[int, int]:
    shown = json.loads(run("labels", "show", "shapes", "--json", cwd=root).stdout)
    return shown["labels"], shown["superseded_labels"]


def lineage(run, root: Path, item: str) -> list[tuple[float, bool]]:
    """(the first box's x, current) of each annotation on ``item``, oldest first."""
    traced = json.loads(run("trace", "item", "shapes", item, "--json", cwd=root).stdout)
    return [(a["labels"][0]["bbox"]["x"], a["current"]) for a in traced["annotations"]]


def diff(run, root: Path) -> tuple[int, int, int]:
    """(added, removed, moved boxes) from HEAD~1 to HEAD."""
    result = json.loads(
        run("labels", "diff", "shapes", "HEAD~1", "HEAD", "--json", cwd=root).stdout
    )
    return result["added"], result["removed"], result["moved_boxes"]


@pytest.fixture
def shapes_ws(make_store) -> Path:
    return make_store("shapes", "shapes")


def test_two_coco_deliveries_numbering_their_images_alike_both_stay_current(
    shapes_ws, run, tmp_path
):
    week1 = deliver(
        run, shapes_ws, coco(tmp_path / "week1.coco.json", BIG, [10, 10, 100, 50]), "coco"
    )
    week2 = deliver(
        run, shapes_ws, coco(tmp_path / "week2.coco.json", SMALL, [60, 10, 40, 40]), "coco"
    )

    assert week1["new"] == 1
    # image 1 is another file in week 2: the same tool key on another item is a new annotation
    assert counts(week2) == (1, 0, 0)
    assert show(run, shapes_ws) == (2, 0)  # one box on each image, nothing superseded
    assert diff(run, shapes_ws) == (1, 0, 0)
    assert lineage(run, shapes_ws, BIG) == [(10.0, True)]
    assert lineage(run, shapes_ws, SMALL) == [(60.0, True)]


def test_an_edit_of_the_same_image_supersedes_only_that_images_annotation(shapes_ws, run, tmp_path):
    deliver(run, shapes_ws, coco(tmp_path / "week1.coco.json", BIG, [10, 10, 100, 50]), "coco")
    deliver(run, shapes_ws, coco(tmp_path / "week2.coco.json", SMALL, [60, 10, 40, 40]), "coco")
    # week 1 re-exported unchanged, then with its box moved: key coco:1:vA-01 is stored on both
    # images; only the one on circle_big is the same annotation
    again = deliver(run, shapes_ws, tmp_path / "week1.coco.json", "coco")
    edited = deliver(
        run, shapes_ws, coco(tmp_path / "week1b.coco.json", BIG, [12, 10, 100, 50]), "coco"
    )

    assert counts(again) == (0, 0, 1)
    assert counts(edited) == (0, 1, 0)
    assert edited["labels"] == 1
    assert show(run, shapes_ws) == (2, 1)  # big's new box and small's; big's old one superseded
    assert diff(run, shapes_ws) == (0, 0, 1)
    assert lineage(run, shapes_ws, BIG) == [(10.0, False), (12.0, True)]
    assert lineage(run, shapes_ws, SMALL) == [(60.0, True)]


def test_two_cvat_task_exports_numbering_their_images_alike_both_stay_current(
    shapes_ws, run, tmp_path
):
    task7 = cvat(tmp_path / "task7.xml", 7, BIG, [(10, 10, 50, 50), (60, 60, 100, 100)])
    deliver(run, shapes_ws, task7, "cvat")
    task8 = deliver(
        run, shapes_ws, cvat(tmp_path / "task8.xml", 8, SMALL, [(70, 20, 100, 50)]), "cvat"
    )

    assert counts(task8) == (1, 0, 0)
    assert show(run, shapes_ws) == (3, 0)  # task 7's two boxes and task 8's one
    assert diff(run, shapes_ws) == (1, 0, 0)
    assert lineage(run, shapes_ws, BIG) == [(10.0, True)]  # one annotation of two boxes
    assert lineage(run, shapes_ws, SMALL) == [(70.0, True)]

    again = deliver(run, shapes_ws, task7, "cvat")
    moved = cvat(tmp_path / "task7b.xml", 7, BIG, [(10, 10, 50, 50), (64, 60, 100, 100)])
    edited = deliver(run, shapes_ws, moved, "cvat")

    assert counts(again) == (0, 0, 1)
    assert counts(edited) == (0, 1, 0)
    assert edited["labels"] == 2  # the new annotation keeps both boxes
    # its batch record: one annotation superseded, which held two labels (boxes)
    record = sorted((shapes_ws / "datasets/shapes/labels").glob("*.parquet.dvc"))[-1]
    meta = yaml.safe_load(record.read_text())["meta"]["labelspec"]
    assert (meta["supersedes"], meta["superseded_labels"]) == (1, 2)
    assert show(run, shapes_ws) == (3, 2)
    assert lineage(run, shapes_ws, BIG) == [(10.0, False), (10.0, True)]
    assert lineage(run, shapes_ws, SMALL) == [(70.0, True)]
