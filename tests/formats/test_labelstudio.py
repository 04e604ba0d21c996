"""Label Studio: the export reader, the labeling config and the import writer."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict

import defusedxml.ElementTree as SafeET
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelspec.errors import LabelspecError, ProblemsError
from labelspec.formats import labelstudio, labelstudio_config
from tests.formats.build import FIXTURES, T0, items, labels, make_spec, problems_of, rows_of

UTC = dt.UTC


def test_detection_export_gives_pixel_boxes_attributes_and_provenance():
    staged = labelstudio.read(FIXTURES / "ls_detection.json")
    rows = rows_of(staged)
    assert staged.format == "labelstudio"
    # an image-level "quality" beside the boxes belongs to no box: an error, never dropped
    (problem,) = staged.problems
    assert problem.record == "task 1 (id 17), annotation 1 (id 5), result 8"
    assert problem.file.endswith("ls_detection.json")
    assert "'quality' (id 'q1') is tied to no region" in problem.message
    # annotation 7 was submitted with nothing drawn: the labeler's "no objects here", kept
    empty = rows.pop(2)
    assert empty == {
        "rec": 3,
        "where": "task 2 (id 18), annotation 2 (id 7)",
        "item_ref": "photos/dogs park/dog.png",
        "item_ref_kind": "path",
        "labeler_ref": "3",
        "attributes": "{}",
        "lead_time_s": 2.0,
        "annotation_key": "ls:18:7",
        "source_ids": '{"ls_annotation":7,"ls_task":18}',
        "empty": True,
    }
    assert [(r["item_ref"], r["item_ref_kind"], r["labeler_ref"], r["class"]) for r in rows] == [
        ("ab12cd34-street.jpg", "path", "2", "car"),
        ("ab12cd34-street.jpg", "path", "2", "person"),
        ("photos/dogs park/dog.png", "path", "3", "car"),
        ("photos/dogs park/dog.png", "path", "3", "person"),
        ("img-0003", "id", "4", "car"),
        ("https://cdn.example.com/img/night.JPG?token=abc", "path", "4", "person"),
    ]
    boxes = [v for r in rows for v in (r["bbox_x"], r["bbox_y"], r["bbox_w"], r["bbox_h"])]
    expected = [
        (64, 96, 160, 240),
        (320, 240, 80, 48),
        (0, 0, 1000, 800),
        (0, 0, 1000, 800),
        (50, 10, 100, 80),
        (30, 30, 30, 30),
    ]
    assert boxes == pytest.approx([v for box in expected for v in box])
    first = rows[0]
    # per-region results that share the rectangle's id are its attributes; textarea -> first text
    assert json.loads(first["attributes"]) == {"color": "red", "note": "partly hidden by a tree"}
    assert json.loads(rows[1]["attributes"]) == {}
    assert first["where"] == "task 1 (id 17), annotation 1 (id 5), result 1"
    assert rows[1]["where"] == "task 1 (id 17), annotation 1 (id 5), result 4"
    assert first["annotation_key"] == "ls:17:5"
    assert json.loads(first["source_ids"]) == {
        "ls_task": 17,
        "ls_annotation": 5,
        "ls_result": "Dx_aB91ISN",
    }
    assert first["created_at"] == dt.datetime(2021, 3, 9, 22, 16, 8, 728353, tzinfo=UTC)
    assert first["lead_time_s"] == 4.288
    assert rows[4]["created_at"] == dt.datetime(2021, 3, 11, 7, 30, 0, 500000, tzinfo=UTC)
    assert "lead_time_s" not in rows[4]
    assert {r["annotation_key"] for r in rows[2:4]} == {"ls:18:9"}
    assert "guideline_version" not in first
    assert staged.skipped == {
        "prediction": 1,
        "unsupported:polygonlabels": 1,  # its per-region "color" goes with it
        "unsupported:relation": 1,
        "cancelled": 1,
    }


def test_classification_uses_the_class_control_and_the_rest_as_attributes():
    staged = labelstudio.read(FIXTURES / "ls_classification.json")
    rows = rows_of(staged)
    assert staged.problems == []
    assert [
        (r["item_ref"], r["labeler_ref"], r["class"], json.loads(r["attributes"])) for r in rows
    ] == [
        # "label" is the class control even though "quality" comes first
        (
            "digits/0001.png",
            "7",
            "seven",
            {"quality": "blurry", "comment": "crossed seven", "confidence": 4},
        ),
        ("digits/0001.png", "8", "one", {}),
        # no named control: the first choices result is the class; several choices -> a list
        ("digits/0002.png", "7", "one", {"strokes": ["thin", "smudged"], "count": 2}),
        ("digits/0002.png", "7", "seven", {"strokes": ["thin", "smudged"], "count": 2}),
    ]
    assert rows[0]["where"] == "task 1 (id 101), annotation 1 (id 201), result 2"
    assert [r["annotation_key"] for r in rows] == [
        "ls:101:201",
        "ls:101:202",
        "ls:102:203",
        "ls:102:203",
    ]
    assert staged.skipped == {"no class": 1}


def test_ner_spans_keep_character_offsets():
    staged = labelstudio.read(FIXTURES / "ls_ner.json")
    rows = rows_of(staged)
    text = "Ada Lovelace met Charles Babbage in London."
    assert [(r["class"], text[r["span_start"] : r["span_end"]]) for r in rows] == [
        ("person", "Ada Lovelace"),
        ("person", "Charles Babbage"),
        ("place", "London"),
    ]
    assert {(r["item_ref"], r["item_ref_kind"]) for r in rows} == {(text, "text")}
    assert json.loads(rows[0]["attributes"]) == {"certainty": "high"}
    assert "bbox_x" not in rows[0]


def test_spans_in_a_crlf_task_text_also_carry_their_offsets_with_crlf_as_one_character(tmp_path):
    """ "a\r\nb\r\ncd" stored with LF breaks is "a\nb\ncd": "b" is [3, 4] in the task, [2, 3]
    stored; "cd" [6, 8] -> [4, 6]; an offset between CR and LF (2) counts the CR only (2)."""
    text = "a\r\nb\r\ncd"
    spans = [(3, 4, "b"), (6, 8, "cd"), (2, 4, "\nb"), (0, 1, "a")]
    result = [
        {"id": f"r{n}", "type": "labels", "from_name": "label", "to_name": "text",
         "value": {"start": a, "end": b, "text": said, "labels": ["person"]}}
        for n, (a, b, said) in enumerate(spans)
    ]  # fmt: skip
    task = {"id": 1, "data": {"text": text}, "annotations": [{"id": 2, "result": result}]}
    path = tmp_path / "ls.json"
    path.write_text(json.dumps([task]))

    rows = rows_of(labelstudio.read(path))

    assert [
        (r["span_start"], r["span_end"], r.get("span_start_lf"), r.get("span_end_lf")) for r in rows
    ] == [(3, 4, 2, 3), (6, 8, 4, 6), (2, 4, 2, 3), (0, 1, None, None)]
    assert [r["span_text"] for r in rows] == ["b", "cd", "\nb", "a"]
    assert rows[0]["where"] == (
        "task 1 (id 1), annotation 1 (id 2), result 1, span [3, 4] in the task's CRLF text"
    )
    assert rows[3]["where"] == "task 1 (id 1), annotation 1 (id 2), result 4"


def test_every_bad_result_is_reported_and_the_good_ones_still_parse():
    staged = labelstudio.read(FIXTURES / "ls_bad.json")
    found = problems_of(staged)
    expected = [
        # a bad per-region attribute: its rectangle (result 5) gives no row either
        (
            "task 1 (id 1), annotation 1 (id 11), result 6",
            "value",
            "color: `choices` must be a non-empty list",
        ),
        (
            "task 1 (id 1), annotation 1 (id 11), result 1",
            "original_width",
            "missing or invalid image size None",
        ),
        ("task 1 (id 1), annotation 1 (id 11), result 2", "rotation", "rotated by 30 degrees"),
        ("task 1 (id 1), annotation 1 (id 11), result 3", "value", "expected a number, got '10'"),
        ("task 2 (id 2), annotation 1 (id 21)", "completed_by", "must be a user id, got [2]"),
        ("task 2 (id 2), annotation 1 (id 21)", "created_at", "must be an ISO 8601 time"),
        (
            "task 2 (id 2), annotation 1 (id 21)",
            "lead_time",
            "must be a number of seconds, got '5s'",
        ),
        ("task 3 (id 3)", "data", "a task needs a `data` object"),
        ("task 4 (id 4)", "data", "no item"),
        ("task 5 (id 5)", "data", "no item"),
        ("task 5 (id 5), annotation 1 (id 51), result 1", "value.start", "not HyperText"),
        (
            "task 6 (id 6), annotation 1 (id 61), result 1",
            "value.choices",
            "non-empty list of class ids",
        ),
    ]
    assert [(where, field) for where, field, _ in found] == [
        (where, field) for where, field, _ in expected
    ]
    for (_, _, message), (_, _, part) in zip(found, expected, strict=True):
        assert part in message
    assert all(p.file.endswith("ls_bad.json") for p in staged.problems)
    # an unknown class is not the reader's business: validate checks classes against the spec
    assert [(r["class"], r["bbox_w"]) for r in rows_of(staged)] == [("truck", 2.0)]


def test_truncated_json_points_at_the_line_and_column(tmp_path):
    with pytest.raises(ProblemsError) as caught:
        labelstudio.read(FIXTURES / "ls_truncated.json")
    (problem,) = caught.value.problems
    assert (problem.line, problem.col) == (13, 41)
    assert problem.message.startswith("truncated or invalid JSON at line 13 col 41:")
    assert problem.message.endswith("(re-export the file from Label Studio)")


def test_one_object_is_refused_as_a_whole(tmp_path):
    path = tmp_path / "one.json"
    path.write_text('{"image": "a.png", "label": "car"}')
    with pytest.raises(ProblemsError, match="not a Label Studio JSON export") as caught:
        labelstudio.read(path)
    assert "export the project as JSON or JSON-MIN" in caught.value.problems[0].message


MIN_BOX = {"x": 10, "y": 20, "width": 25, "height": 50, "rotation": 0,
           "rectanglelabels": ["circle"], "original_width": 200, "original_height": 100}  # fmt: skip
WHEN = {"created_at": "2026-02-01T10:00:00.000000Z", "updated_at": "2026-02-01T10:00:00Z"}


def test_a_json_min_export_reads_as_the_json_export_it_abbreviates(tmp_path):
    """Label Studio's JSON-MIN: one flat object per annotation. Boxes, classes, annotators,
    dates and lead times read as from the JSON export; a task answered twice is one task."""
    minimal = [
        {"image": "/data/upload/1/a.png", "id": 1, "label": [MIN_BOX], "annotator": 7,
         "annotation_id": 11, "lead_time": 4.5, **WHEN},
        {"image": "/data/upload/1/a.png", "id": 1, "label": [MIN_BOX, MIN_BOX], "annotator": 8,
         "annotation_id": 12, **WHEN},
        {"image": "/data/upload/1/b.png", "id": 2, "annotator": 7, "annotation_id": 13, **WHEN},
    ]  # fmt: skip
    box = {k: v for k, v in MIN_BOX.items() if not k.startswith("original")}
    region = {"type": "rectanglelabels", "from_name": "label", "to_name": "image",
              "original_width": 200, "original_height": 100, "value": box}  # fmt: skip
    full = [
        {"id": 1, "data": {"image": "/data/upload/1/a.png"}, "annotations": [
            {"id": 11, "completed_by": 7, "lead_time": 4.5, "created_at": WHEN["created_at"],
             "result": [{**region, "id": "label-1"}]},
            {"id": 12, "completed_by": 8, "created_at": WHEN["created_at"],
             "result": [{**region, "id": "label-1"}, {**region, "id": "label-2"}]}]},
        {"id": 2, "data": {"image": "/data/upload/1/b.png"}, "annotations": [
            {"id": 13, "completed_by": 7, "created_at": WHEN["created_at"], "result": []}]},
    ]  # fmt: skip
    (tmp_path / "min.json").write_text(json.dumps(minimal))
    (tmp_path / "full.json").write_text(json.dumps(full))

    got = labelstudio.read(tmp_path / "min.json")
    want = labelstudio.read(tmp_path / "full.json")

    assert got.problems == [] and rows_of(got) == rows_of(want)
    rows = rows_of(got)
    assert [(r["item_ref"], r.get("class"), r["labeler_ref"]) for r in rows] == [
        ("a.png", "circle", "7"), ("a.png", "circle", "8"), ("a.png", "circle", "8"),
        ("b.png", None, "7"),
    ]  # fmt: skip
    assert (rows[0]["bbox_x"], rows[0]["bbox_w"], rows[0]["lead_time_s"]) == (20.0, 50.0, 4.5)
    assert rows[3]["empty"] is True  # answered with nothing: "no objects here"


def test_json_min_classification_and_what_it_lacks(tmp_path):
    minimal = [
        {"image": "/data/upload/1/a.png", "id": 1, "label": "seven", "annotator": 7,
         "annotation_id": 11, **WHEN},
        {"image": "/data/upload/1/b.png", "id": 2, "label": "one", "annotation_id": 12, **WHEN},
        {"image": "/data/upload/1/c.png", "id": 3, "label": "two", "annotation_id": 13, **WHEN},
    ]  # fmt: skip
    path = tmp_path / "min.json"
    path.write_text(json.dumps(minimal))

    staged = labelstudio.read(path)

    assert [(r["item_ref"], r["class"]) for r in rows_of(staged)] == [
        ("a.png", "seven"), ("b.png", "one"), ("c.png", "two"),
    ]  # fmt: skip
    # no annotator: the import asks for --labeler or a map, once for every such row
    assert [r.get("labeler_ref") for r in rows_of(staged)] == ["7", None, None]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"item_id": 7, "image": "x.png"}, ("7", "id")),
        ({"image": "/data/upload/12/ab12cd34-name.png"}, ("ab12cd34-name.png", "path")),
        (
            {"image": "http://localhost:8080/data/upload/3/0a1b2c3d-x.jpg"},
            ("0a1b2c3d-x.jpg", "path"),
        ),
        ({"image": "/data/local-files/?d=x/y.png"}, ("x/y.png", "path")),
        ({"image": "/data/local-files/?d=a%20b/c.png"}, ("a b/c.png", "path")),
        ({"image": "s3://bucket/raw/img.png"}, ("s3://bucket/raw/img.png", "path")),
        ({"title": "a photo.png of", "img": "scans/p1.TIFF"}, ("scans/p1.TIFF", "path")),
        ({"img": "/data/local-files/?d=scans/p2.webp"}, ("scans/p2.webp", "path")),
        ({"text": "Hello there.png"}, ("Hello there.png", "text")),
        ({"caption": "no media here"}, None),
    ],
)
def test_item_references(data, expected):
    assert labelstudio.item_reference(data) == expected


# -- labeling config ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("task", "control", "child", "obj", "choice"),
    [
        ("classification", "Choices", "Choice", "image", "single"),
        ("multilabel", "Choices", "Choice", "image", "multiple"),
        ("detection", "RectangleLabels", "Label", "image", None),
        ("ner", "Labels", "Label", "text", None),
    ],
)
def test_labeling_config_per_task(task, control, child, obj, choice):
    spec = make_spec(task)
    view = SafeET.fromstring(labelstudio_config.labeling_config(spec))
    assert view.tag == "View"
    (source,) = [e for e in view.iter() if e.get("name") == obj]
    assert source.tag == ("Text" if obj == "text" else "Image")
    assert source.get("value") == f"${obj}"
    (found,) = view.iter(control)
    assert (found.get("name"), found.get("toName"), found.get("choice")) == ("label", obj, choice)
    assert [c.get("value") for c in found.findall(child)] == ["car", "person"]
    # hints carry the definition, escaped in the XML and intact once parsed
    assert found.find(child).get("hint") == 'Car: A car & <its> "parts".'


def test_labeling_config_adds_attribute_controls():
    attrs = [
        {"id": "color", "type": "nominal", "values": ["red", "blue"]},
        {"id": "occluded", "type": "boolean"},
        {"id": "note", "type": "text", "name": "Notes"},
    ]
    spec = make_spec("detection", {"car": attrs, "person": attrs[1:2]})
    view = SafeET.fromstring(labelstudio_config.labeling_config(spec))
    controls = {e.get("name"): e for e in view.iter() if e.tag in ("Choices", "TextArea")}
    assert [c.get("value") for c in controls["color"]] == ["red", "blue"]
    assert [c.get("value") for c in controls["occluded"]] == ["true", "false"]
    assert controls["note"].tag == "TextArea"
    assert controls["occluded"].get("perRegion") == "true"
    # each attribute's heading and control share one View, shown only for its classes: no
    # heading stands alone over a hidden control
    shown = {
        next(e.get("name") for e in box.iter() if e.tag in ("Choices", "TextArea")): box
        for box in view.iter("View")
        if box.get("visibleWhen")
    }
    assert {n: (b.get("visibleWhen"), b.get("whenLabelValue")) for n, b in shown.items()} == {
        "color": ("region-selected", "car"),
        "occluded": ("region-selected", "car,person"),
        "note": ("region-selected", "car"),
    }
    assert [h.get("value") for h in shown["note"].iter("Header")] == ["Notes"]
    assert all(len(list(box.iter("Header"))) == 1 for box in shown.values())
    assert len(list(view.iter("Header"))) == 3  # no heading outside an attribute's View

    classification = make_spec("classification", {"car": attrs[:1], "person": []})
    view = SafeET.fromstring(labelstudio_config.labeling_config(classification))
    (box,) = [b for b in view.iter("View") if b.get("visibleWhen")]
    assert (box.get("visibleWhen"), box.get("whenTagName"), box.get("whenChoiceValue")) == (
        "choice-selected",
        "label",
        "car",
    )
    assert [c.get("name") for c in box.iter("Choices")] == ["color"]


def test_the_image_is_bounded_and_the_controls_sit_beside_it():
    view = SafeET.fromstring(labelstudio_config.labeling_config(make_spec("detection")))
    (row,) = [v for v in view if v.tag == "View"]
    image_column, control_column = list(row)
    assert "display: flex" in row.get("style")
    assert image_column.find("Image").get("maxWidth") == "560px"
    assert [e.tag for e in control_column] == ["RectangleLabels"]
    # text stays full width, its labels above it
    ner = SafeET.fromstring(labelstudio_config.labeling_config(make_spec("ner")))
    assert [e.tag for e in ner] == ["Labels", "Text"]


def test_labeling_config_refuses_an_attribute_named_like_a_control():
    spec = make_spec("detection", {"car": [{"id": "image", "type": "text"}]})
    with pytest.raises(LabelspecError, match="clashes with a Label Studio control"):
        labelstudio_config.labeling_config(spec)


# -- writing ----------------------------------------------------------------------------------------

IMAGES = items(
    [
        {"item_id": "i1", "path": "street/0001.jpg", "media": "image", "width": 640, "height": 480},
        {
            "item_id": "i2",
            "uri": "s3://bucket/0002.jpg",
            "media": "image",
            "width": 333,
            "height": 777,
        },
        {"item_id": "i3", "path": "street/0003.jpg", "media": "image", "width": 10, "height": 10},
    ]
)


def _box(x, y, w, h):
    return {"x": x, "y": y, "w": w, "h": h}


def _by_annotation(rows, key):
    groups = defaultdict(set)
    for row in rows:
        box = (
            tuple(round(row[k], 6) for k in ("bbox_x", "bbox_y", "bbox_w", "bbox_h"))
            if "bbox_x" in row
            else None
        )
        span = (row["span_start"], row["span_end"]) if "span_start" in row else None
        groups[row[key]].add((row["item_ref"], row["class"], box, span, row["attributes"]))
    return sorted(groups.values(), key=sorted)


def test_detection_write_then_read_round_trips(tmp_path):
    spec = make_spec(
        "detection",
        {
            "car": [
                {"id": "color", "type": "nominal", "values": ["red"]},
                {"id": "note", "type": "text"},
            ],
            "person": [],
        },
    )
    table = labels(
        [
            {
                "item_id": "i1",
                "annotation_id": "a1",
                "class": "car",
                "bbox": _box(10.5, 20.25, 100, 50),
                "attributes": {"color": "red", "note": "dented"},
                "created_at": T0,
                "lead_time_s": 7.5,
            },
            {
                "item_id": "i1",
                "annotation_id": "a1",
                "class": "person",
                "bbox": _box(0, 0, 640, 480),
            },
            {
                "item_id": "i1",
                "annotation_id": "a2",
                "class": "car",
                "bbox": _box(11, 21, 99, 49),
                "labeler_id": "bob",
                "guideline_version": "1.1.0",
            },
            {
                "item_id": "i2",
                "annotation_id": "a3",
                "class": "person",
                "bbox": _box(1 / 3, 2 / 3, 100.125, 700),
            },
        ]
    )
    out = tmp_path / "tasks.json"
    assert labelstudio.write(table, IMAGES, spec, out) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["tasks.json"]  # the temp file was replaced

    tasks = json.loads(out.read_text())
    assert [t["data"] for t in tasks] == [
        {"image": "street/0001.jpg", "item_id": "i1"},
        {"image": "s3://bucket/0002.jpg", "item_id": "i2"},
    ]
    meta = tasks[0]["meta"]["labelspec"]
    assert [(m["annotation_id"], m["labeler_id"], m["guideline_version"]) for m in meta] == [
        ("a1", "ann", "1.2.0"),
        ("a2", "bob", "1.1.0"),
    ]
    assert meta[0]["created_at"] == "2024-05-01T10:00:00Z"
    # each annotation's id is its index in meta: Label Studio keeps it as import_id
    assert [a["id"] for a in tasks[0]["annotations"]] == [1, 2]
    assert "completed_by" not in tasks[0]["annotations"][0]  # no labeler map: the importer
    first = tasks[0]["annotations"][0]
    assert (first["lead_time"], first["created_at"]) == (7.5, "2024-05-01T10:00:00Z")
    region = first["result"][0]
    assert (region["type"], region["from_name"], region["to_name"]) == (
        "rectanglelabels",
        "label",
        "image",
    )
    assert (region["original_width"], region["original_height"]) == (640, 480)
    assert region["value"]["x"] == pytest.approx(10.5 / 640 * 100)
    attribute_types = {
        r["from_name"]: r["type"] for r in first["result"] if r["id"] == region["id"]
    }
    assert attribute_types == {"label": "rectanglelabels", "color": "choices", "note": "textarea"}

    staged = labelstudio.read(out)
    assert staged.problems == []
    rows = rows_of(staged)
    assert {r["item_ref_kind"] for r in rows} == {"id"}
    assert rows[0]["created_at"] == T0 and rows[0]["lead_time_s"] == 7.5
    expected = [
        {
            ("i1", "car", (10.5, 20.25, 100.0, 50.0), None, '{"color":"red","note":"dented"}'),
            ("i1", "person", (0.0, 0.0, 640.0, 480.0), None, "{}"),
        },
        {("i1", "car", (11.0, 21.0, 99.0, 49.0), None, "{}")},
        {("i2", "person", (round(1 / 3, 6), round(2 / 3, 6), 100.125, 700.0), None, "{}")},
    ]
    assert _by_annotation(rows, "annotation_key") == sorted(expected, key=sorted)


def test_classification_and_multilabel_round_trip(tmp_path):
    attrs = {"car": [{"id": "color", "type": "nominal", "values": ["red", "blue"]}], "person": []}
    table = labels(
        [
            {
                "item_id": "i1",
                "annotation_id": "a1",
                "class": "car",
                "attributes": {"color": "blue"},
            },
            {"item_id": "i1", "annotation_id": "a1", "class": "person"},
            {"item_id": "i3", "annotation_id": "a2", "class": "person"},
        ]
    )
    out = tmp_path / "tasks.json"
    labelstudio.write(table, IMAGES, make_spec("multilabel", attrs), out)
    tasks = json.loads(out.read_text())
    results = tasks[0]["annotations"][0]["result"]
    assert [(r["from_name"], r["value"]) for r in results] == [
        ("label", {"choices": ["car", "person"]}),
        ("color", {"choices": ["blue"]}),
    ]
    assert len({r["id"] for r in results}) == 2  # task-level results are separate regions
    rows = rows_of(labelstudio.read(out))
    # one Choices per task: an attribute of one label applies to every label of the annotation
    assert [(r["item_ref"], r["class"], json.loads(r["attributes"])) for r in rows] == [
        ("i1", "car", {"color": "blue"}),
        ("i1", "person", {"color": "blue"}),
        ("i3", "person", {}),
    ]


def test_ner_round_trips_spans_with_their_text(tmp_path):
    text = "Ada Lovelace met Charles Babbage."
    docs = items([{"item_id": "t1", "media": "text", "text": text}])
    table = labels(
        [
            {
                "item_id": "t1",
                "annotation_id": "a1",
                "class": "person",
                "span": {"start": 0, "end": 12},
                "attributes": {"sure": True},
            },
            {
                "item_id": "t1",
                "annotation_id": "a1",
                "class": "person",
                "span": {"start": 17, "end": 32},
            },
        ]
    )
    out = tmp_path / "tasks.json"
    labelstudio.write(
        table, docs, make_spec("ner", {"person": [{"id": "sure", "type": "boolean"}]}), out
    )
    task = json.loads(out.read_text())[0]
    assert task["data"] == {"text": text, "item_id": "t1"}
    values = [r["value"] for r in task["annotations"][0]["result"]]
    assert values[0] == {"start": 0, "end": 12, "text": "Ada Lovelace", "labels": ["person"]}
    assert values[1] == {
        "choices": ["true"]
    }  # booleans travel as choices; validate coerces them back
    rows = rows_of(labelstudio.read(out))
    assert [(r["span_start"], r["span_end"], json.loads(r["attributes"])) for r in rows] == [
        (0, 12, {"sure": "true"}),
        (17, 32, {}),
    ]


def test_predictions_carry_the_snapshot_and_are_skipped_on_read(tmp_path):
    table = labels(
        [{"item_id": "i1", "annotation_id": "a1", "class": "car", "bbox": _box(1, 2, 3, 4)}]
    )
    out = tmp_path / "pre.json"
    assert (
        labelstudio.write(
            table, IMAGES, make_spec("detection"), out, snapshot="snap-7", as_predictions=True
        )
        == 1
    )
    (task,) = json.loads(out.read_text())
    assert "annotations" not in task
    (prediction,) = task["predictions"]
    # a labeler's label is no model output: no made-up confidence of 1.0
    assert prediction["model_version"] == "snap-7" and "score" not in prediction
    staged = labelstudio.read(out)
    assert staged.table.num_rows == 0 and staged.skipped == {"prediction": 1}


def test_write_needs_the_item_size_for_percent_boxes(tmp_path):
    table = labels(
        [{"item_id": "i9", "annotation_id": "a1", "class": "car", "bbox": _box(1, 2, 3, 4)}]
    )
    sizeless = items([{"item_id": "i9", "path": "x.png", "media": "image"}])
    with pytest.raises(LabelspecError, match="item i9 has no width/height"):
        labelstudio.write(table, sizeless, make_spec("detection"), tmp_path / "x.json")
    with pytest.raises(LabelspecError, match="not in the item manifest"):
        labelstudio.write(table, IMAGES, make_spec("detection"), tmp_path / "x.json")
    assert not (tmp_path / "x.json").exists()


@settings(max_examples=300, deadline=None)
@given(
    width=st.integers(1, 20000),
    height=st.integers(1, 20000),
    fractions=st.tuples(*[st.floats(0, 1, allow_nan=False)] * 4),
)
def test_percent_pixel_conversion_round_trips(width, height, fractions):
    fx, fy, fw, fh = fractions
    x, y = fx * width, fy * height
    box = (x, y, fw * (width - x), fh * (height - y))
    back = labelstudio.to_pixels(
        list(labelstudio.to_percent(box, width, height).values()), width, height
    )
    assert back == pytest.approx(box, abs=1e-6, rel=0)


# -- Label Studio in the loop: what a project's export of labelspec's own tasks gives back ------
def test_completed_by_comes_from_the_reversed_labeler_map(tmp_path):
    table = labels(
        [
            {"item_id": "i1", "annotation_id": "a1", "class": "car", "bbox": _box(1, 2, 3, 4)},
            {
                "item_id": "i1",
                "annotation_id": "a2",
                "class": "car",
                "bbox": _box(1, 2, 3, 4),
                "labeler_id": "bob",
            },
        ]
    )
    out = tmp_path / "tasks.json"
    spec = make_spec("detection")
    labelstudio.write(table, IMAGES, spec, out, completed_by={"ann": 7, "bob": "bob@example.com"})
    (task,) = json.loads(out.read_text())
    assert [a["completed_by"] for a in task["annotations"]] == [7, {"email": "bob@example.com"}]
    with pytest.raises(LabelspecError, match=r"labeler bob is not in the labeler map .*,bob`"):
        labelstudio.write(table, IMAGES, spec, out, completed_by={"ann": 7})


def test_an_exported_annotation_gets_its_date_and_id_back_from_task_meta(tmp_path):
    """Label Studio re-dates imported annotations and keeps their index as ``import_id``."""
    table = labels(
        [
            {"item_id": "i1", "annotation_id": "a1", "class": "car", "created_at": T0},
            {"item_id": "i1", "annotation_id": "a2", "class": "person", "labeler_id": "bob"},
        ]
    )
    out = tmp_path / "tasks.json"
    labelstudio.write(table, IMAGES, make_spec("classification"), out)
    (task,) = json.loads(out.read_text())
    # what Label Studio exports after importing it: its own ids and dates, import_id = our index
    task["id"] = 41
    for n, annotation in enumerate(task["annotations"], 1):
        annotation.update(
            import_id=annotation.pop("id"),
            id=300 + n,
            completed_by=n,
            created_at="2026-12-02T03:04:45.580696Z",
        )
    exported = tmp_path / "export.json"
    exported.write_text(json.dumps([task]))
    rows = rows_of(labelstudio.read(exported))
    assert [(r["class"], r["labeler_ref"], r["annotation_key"]) for r in rows] == [
        ("car", "1", "ls:41:301"),
        ("person", "2", "ls:41:302"),
    ]
    assert rows[0]["created_at"] == T0  # from meta, not the import time
    assert rows[1]["created_at"] == dt.datetime(2026, 12, 2, 3, 4, 45, 580696, tzinfo=UTC)
    assert [json.loads(r["tool_fields"])["labelspec_annotation"] for r in rows] == ["a1", "a2"]


def test_a_region_attribute_tied_to_no_region_is_an_error(tmp_path):
    box = {"x": 1, "y": 1, "width": 5, "height": 5, "rectanglelabels": ["car"]}
    task = {
        "id": 3,
        "data": {"image": "street/0001.jpg"},
        "annotations": [
            {
                "id": 9,
                "completed_by": 1,
                "result": [
                    {
                        "id": "box1",
                        "type": "rectanglelabels",
                        "from_name": "label",
                        "to_name": "image",
                        "original_width": 640,
                        "original_height": 480,
                        "value": box,
                    },
                    {
                        "id": "box1",
                        "type": "choices",
                        "from_name": "uncertain",
                        "value": {"choices": ["true"]},
                    },
                    {
                        "id": "gone",
                        "type": "choices",
                        "from_name": "uncertain",
                        "value": {"choices": ["false"]},
                    },
                ],
            }
        ],
    }
    path = tmp_path / "export.json"
    path.write_text(json.dumps([task]))
    staged = labelstudio.read(path)
    (row,) = rows_of(staged)
    assert json.loads(row["attributes"]) == {"uncertain": "true"}
    ((record, field, message),) = problems_of(staged)
    assert (record, field) == ("task 1 (id 3), annotation 1 (id 9), result 3", "id")
    assert "'uncertain' (id 'gone') is tied to no region" in message
    assert staged.problems[0].file == str(path)


def test_image_sources_from_a_url_template_or_label_studio_local_files(tmp_path):
    item = {"item_id": "d 01.png", "path": "datasets/digits/items/d 01.png"}
    url = labelstudio_config.image_sources(
        tmp_path, "https://files.example.com/{path}?id={item_id}"
    )
    assert url(item) == ("https://files.example.com/datasets/digits/items/d%2001.png?id=d%2001.png")
    local = labelstudio_config.image_sources(tmp_path, local_files=tmp_path / "datasets")
    assert local(item) == "/data/local-files/?d=digits/items/d%2001.png"
    assert labelstudio.local_name(local(item)) == "digits/items/d 01.png"
    outside = labelstudio_config.image_sources(tmp_path, local_files=tmp_path / "elsewhere")
    with pytest.raises(LabelspecError, match="not under the Label Studio document root"):
        outside(item)
    with pytest.raises(LabelspecError, match=r"use \{path\}"):
        labelstudio_config.image_sources(tmp_path, "https://files.example.com/{file}")
    with pytest.raises(LabelspecError, match="not both"):
        labelstudio_config.image_sources(tmp_path, "https://x/{path}", tmp_path)
    assert labelstudio_config.image_sources(tmp_path) is None


def test_relabel_config_shows_the_reason_and_links_the_guideline():
    spec = make_spec("classification")
    view = SafeET.fromstring(
        labelstudio_config.labeling_config(spec, "https://guide.example.com/", relabel=True)
    )
    texts = {(e.tag, e.get("name"), e.get("value")) for e in view}
    assert ("Text", "relabel_reason", "$relabel_reason") in texts
    links = labelstudio_config.guideline_links(spec, "https://guide.example.com/")
    assert 'href="https://guide.example.com/streets/1.2.0/classes/car/"' in links
    # the links live in the config: the task's data (a data manager column) stays plain text
    assert ("HyperText", "guideline", links) in texts
    assert labelstudio_config.guideline_links(spec, None) == ""
    plain = SafeET.fromstring(labelstudio_config.labeling_config(spec, None, relabel=True))
    assert "HyperText" not in {e.tag for e in plain}  # no site: no links leading nowhere


def test_a_bad_date_in_task_meta_is_a_problem_and_odd_import_ids_are_ignored(tmp_path):
    result = {"type": "choices", "from_name": "label", "value": {"choices": ["car"]}}
    task = {
        "id": 5,
        "data": {"item_id": "i1"},
        "meta": {"labelspec": [{"annotation_id": "a1", "created_at": "yesterday"}]},
        "annotations": [
            {"id": 1, "import_id": 1, "completed_by": 1, "result": [result]},
            {"id": 2, "import_id": [1], "completed_by": 1, "result": [result]},
        ],
    }
    path = tmp_path / "export.json"
    path.write_text(json.dumps([task]))
    staged = labelstudio.read(path)
    assert problems_of(staged) == [
        (
            "task 1 (id 5), annotation 1",
            "meta.labelspec",
            "created_at must be an ISO 8601 time such as 2024-05-01T10:00:00Z, got 'yesterday'",
        )
    ]
    assert [r.get("tool_fields") for r in rows_of(staged)] == [
        '{"labelspec_annotation": "a1"}',
        None,
    ]
