"""COCO instances JSON: the reader, and the writer checked against pycocotools."""

from __future__ import annotations

import datetime as dt
import json
import zipfile

import pytest
from pycocotools.coco import COCO

from labelspec.errors import LabelspecError, ProblemsError
from labelspec.formats import coco
from tests.formats.build import FIXTURES, T0, items, labels, make_spec, problems_of, rows_of


def test_instances_file_parses_to_rows():
    staged = coco.read(FIXTURES / "coco_instances.json")
    assert staged.format == "coco"
    assert staged.problems == []
    rows = rows_of(staged)
    assert [(r["where"], r["item_ref"], r["item_ref_kind"], r["class"]) for r in rows] == [
        ("annotation 1 (id 10)", "street/0001.jpg", "path", "car"),
        ("annotation 2 (id 11)", "street/0001.jpg", "path", "person"),
        ("annotation 4 (id 13)", "0003.jpg", "path", "night"),
        ("annotation 5 (id 14)", "street/0002.jpg", "path", "car"),
    ]
    car = rows[0]
    assert (car["bbox_x"], car["bbox_y"], car["bbox_w"], car["bbox_h"]) == (
        10.5,
        20.0,
        100.0,
        50.25,
    )
    assert json.loads(car["attributes"]) == {"occluded": False, "color": "red"}
    assert "labeler_ref" not in car  # the CLI's --labeler fills it in
    assert car["annotation_key"] == "coco:1:"
    assert json.loads(car["source_ids"]) == {"coco_image": 1, "coco_annotation": 10}
    night = rows[2]
    assert "bbox_x" not in night  # image_level: a class for the whole image
    assert night["labeler_ref"] == "ann"
    assert night["annotation_key"] == "coco:3:ann"
    assert night["created_at"] == dt.datetime(2024, 9, 25, 10, 0, tzinfo=dt.UTC)
    assert (night["lead_time_s"], night["cost"], night["guideline_version"]) == (2.5, 0.04, "1.2.0")
    assert rows[3]["labeler_ref"] == "42"
    assert staged.skipped == {"crowd": 1}


def test_every_bad_entry_is_reported():
    staged = coco.read(FIXTURES / "coco_bad.json")
    found = problems_of(staged)
    assert [(where, field) for where, field, _ in found] == [
        ("category 2 (id 2)", "name"),
        ("image 2 (id 2)", "file_name"),
        ("image 3 (id 1)", "id"),
        ("annotation 1 (id 1)", "image_id"),
        ("annotation 2 (id 2)", "category_id"),
        ("annotation 3 (id 3)", "bbox"),
        ("annotation 4 (id 4)", "bbox"),
        ("annotation 5 (id 5)", "bbox"),
        ("annotation 8 (id 8)", "attributes"),
        ("annotation 8 (id 8)", "labeler"),
        ("annotation 8 (id 8)", "created_at"),
        ("annotation 8 (id 8)", "lead_time_s"),
    ]
    messages = {(where, field): message for where, field, message in found}
    assert (
        messages[("annotation 1 (id 1)", "image_id")]
        == "unknown image_id 99 (no such entry in `images`)"
    )
    assert messages[("annotation 2 (id 2)", "category_id")] == "unknown category_id 7 (known: 1, 2)"
    assert (
        messages[("annotation 3 (id 3)", "bbox")]
        == "must be [x, y, width, height], four numbers in pixels; got [1, 2, 3]"
    )
    assert "got [1, '2', 3, 4]" in messages[("annotation 4 (id 4)", "bbox")]
    assert messages[("image 3 (id 1)", "id")] == "duplicate image id 1"
    # annotations 6 and 7 point at the broken image/category entries: reported once, there
    assert [(r["where"], r["labeler_ref"]) for r in rows_of(staged)] == [
        ("annotation 9 (id 9)", "bob")
    ]


def test_truncated_json_points_at_the_line_and_column():
    with pytest.raises(ProblemsError, match="not valid JSON") as caught:
        coco.read(FIXTURES / "coco_truncated.json")
    (problem,) = caught.value.problems
    assert (problem.line, problem.col) == (3, 75)
    assert problem.message.startswith("truncated or invalid JSON at line 3 col 75:")


def test_another_json_document_is_refused():
    with pytest.raises(ProblemsError, match="not a COCO file") as caught:
        coco.read(FIXTURES / "ls_ner.json")
    assert "needs the lists images, annotations, categories" in caught.value.problems[0].message


# -- writing ----------------------------------------------------------------------------------------

IMAGES = items(
    [
        {"item_id": "i2", "path": "street/0002.jpg", "media": "image", "width": 320, "height": 240},
        {"item_id": "i1", "path": "street/0001.jpg", "media": "image", "width": 640, "height": 480},
        {"item_id": "i3", "uri": "s3://b/3.jpg", "media": "image", "width": 100, "height": 50},
        {"item_id": "i4", "path": "unlabeled.jpg", "media": "image", "width": 1, "height": 1},
    ]
)


def _box(x, y, w, h):
    return {"x": x, "y": y, "w": w, "h": h}


DETECTIONS = [
    {
        "item_id": "i2",
        "annotation_id": "a2",
        "class": "person",
        "bbox": _box(5, 6, 7, 8),
        "labeler_id": "bob",
    },
    {
        "item_id": "i1",
        "annotation_id": "a1",
        "class": "car",
        "bbox": _box(10.5, 20, 100, 50.25),
        "attributes": {"color": "red"},
        "created_at": T0,
        "lead_time_s": 3.0,
        "cost": 0.02,
    },
    {"item_id": "i1", "annotation_id": "a1", "class": "person", "bbox": _box(0, 0, 640, 480)},
    {
        "item_id": "i3",
        "annotation_id": "a3",
        "class": "car",
        "bbox": _box(1, 1, 2, 2),
        "guideline_version": "1.1.0",
    },
]


def test_detection_output_loads_in_pycocotools(tmp_path):
    out = tmp_path / "instances.json"
    assert (
        coco.write(
            labels([dict(r) for r in DETECTIONS]),
            IMAGES,
            make_spec("detection"),
            out,
            snapshot="snap-3",
        )
        == 4
    )
    api = COCO(str(out))
    assert (len(api.imgs), len(api.anns), len(api.cats)) == (3, 4, 2)
    assert [api.cats[i]["name"] for i in sorted(api.cats)] == ["car", "person"]
    assert {c["supercategory"] for c in api.cats.values()} == {"streets"}
    # images in item_id order; the item without a path is named by its id
    assert [api.imgs[i]["file_name"] for i in sorted(api.imgs)] == [
        "street/0001.jpg",
        "street/0002.jpg",
        "i3",
    ]
    assert (api.imgs[1]["width"], api.imgs[1]["height"]) == (640, 480)
    (car_id,) = api.getCatIds(catNms=["car"])
    ann_ids = api.getAnnIds(imgIds=[1])
    assert ann_ids == [1, 2]
    first, second = api.loadAnns(ann_ids)
    assert (first["category_id"], first["bbox"], first["area"], first["iscrowd"]) == (
        car_id,
        [10.5, 20, 100, 50.25],
        100 * 50.25,
        0,
    )
    assert (
        first["labeler"],
        first["label_id"],
        first["annotation_id"],
        first["guideline_version"],
    ) == ("ann", "L002", "a1", "1.2.0")
    assert (first["attributes"], first["created_at"], first["lead_time_s"], first["cost"]) == (
        {"color": "red"},
        "2024-05-01T10:00:00Z",
        3.0,
        0.02,
    )
    assert second["bbox"] == [0, 0, 640, 480]
    assert api.getAnnIds(catIds=[car_id]) == [1, 4]
    doc = json.loads(out.read_text())
    assert doc["info"]["version"] == "snap-3"
    assert "Street scenes" in doc["info"]["description"]


def test_detection_write_then_read_round_trips(tmp_path):
    out = tmp_path / "instances.json"
    coco.write(labels([dict(r) for r in DETECTIONS]), IMAGES, make_spec("detection"), out)
    staged = coco.read(out)
    assert staged.problems == [] and staged.skipped == {}
    got = {
        (
            r["item_ref"],
            r["class"],
            (r["bbox_x"], r["bbox_y"], r["bbox_w"], r["bbox_h"]),
            r["labeler_ref"],
            r["attributes"],
            r["guideline_version"],
        )
        for r in rows_of(staged)
    }
    assert got == {
        ("street/0001.jpg", "car", (10.5, 20.0, 100.0, 50.25), "ann", '{"color":"red"}', "1.2.0"),
        ("street/0001.jpg", "person", (0.0, 0.0, 640.0, 480.0), "ann", "{}", "1.2.0"),
        ("street/0002.jpg", "person", (5.0, 6.0, 7.0, 8.0), "bob", "{}", "1.2.0"),
        ("i3", "car", (1.0, 1.0, 2.0, 2.0), "ann", "{}", "1.1.0"),
    }
    car = next(r for r in rows_of(staged) if r.get("cost"))
    assert (car["created_at"], car["lead_time_s"], car["cost"]) == (T0, 3.0, 0.02)


def test_classification_writes_image_level_annotations(tmp_path):
    table = labels(
        [
            {"item_id": "i1", "annotation_id": "a1", "class": "car"},
            {"item_id": "i3", "annotation_id": "a2", "class": "person", "labeler_id": "bob"},
        ]
    )
    out = tmp_path / "instances.json"
    coco.write(table, IMAGES, make_spec("classification"), out)
    api = COCO(str(out))
    whole = [(a["bbox"], a["area"], a["image_level"]) for a in api.loadAnns(api.getAnnIds())]
    assert whole == [([0, 0, 640, 480], 640 * 480, True), ([0, 0, 100, 50], 5000, True)]
    rows = rows_of(coco.read(out))
    assert [(r["item_ref"], r["class"], r["labeler_ref"], "bbox_x" in r) for r in rows] == [
        ("street/0001.jpg", "car", "ann", False),
        ("i3", "person", "bob", False),
    ]


def test_write_refuses_what_coco_cannot_hold(tmp_path):
    out = tmp_path / "instances.json"
    ner = labels(
        [{"item_id": "i1", "annotation_id": "a1", "class": "car", "span": {"start": 0, "end": 1}}]
    )
    with pytest.raises(LabelspecError, match="ner guideline: COCO holds image labels"):
        coco.write(ner, IMAGES, make_spec("ner"), out)
    old = labels(
        [{"item_id": "i1", "annotation_id": "a1", "class": "truck", "bbox": _box(1, 1, 1, 1)}]
    )
    with pytest.raises(LabelspecError, match="does not have: truck"):
        coco.write(old, IMAGES, make_spec("detection"), out)
    assert not out.exists()


def test_a_coco_zip_reads_as_its_instances_file(tmp_path):
    """CVAT, Datumaro and Label Studio download COCO as a zip: annotations/instances_*.json,
    maybe beside images and other JSON; it imports as it is."""
    plain = rows_of(coco.read(FIXTURES / "coco_instances.json"))
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.write(FIXTURES / "coco_instances.json", "annotations/instances_default.json")
        out.writestr("images/default/0001.jpg", b"\xff\xd8\xff")
        out.writestr("meta.json", "{}")

    assert rows_of(coco.read(archive)) == plain

    truncated = tmp_path / "truncated.zip"
    with zipfile.ZipFile(truncated, "w") as out:
        out.write(FIXTURES / "coco_truncated.json", "annotations/instances_default.json")
    with pytest.raises(ProblemsError, match="not valid JSON") as caught:
        coco.read(truncated)
    (problem,) = caught.value.problems
    assert problem.file == f"{truncated}!annotations/instances_default.json"
    assert (problem.line, problem.col) == (3, 75)

    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as out:
        out.writestr("a.json", "{}")
        out.writestr("b.json", "{}")
    with pytest.raises(ProblemsError, match="holds one annotations JSON") as caught:
        coco.read(two)
    assert "found 2 JSON file(s) (a.json, b.json)" in caught.value.problems[0].message
