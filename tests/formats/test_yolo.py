"""YOLO: the three layouts the reader takes (Ultralytics, Label Studio, CVAT YOLO 1.1), as a
folder or a zip, every bad input it must refuse, the writer checked against the format as
Ultralytics documents and reads it, and the whole import -> export loop through the CLI."""

from __future__ import annotations

import json
import math
import re
import shutil
import struct
import tempfile
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from labelspec.errors import LabelspecError, ProblemsError
from labelspec.formats import yolo
from tests.formats.build import FIXTURES, items, labels, make_spec, rows_of
from tests.helpers import git, state
from tests.store.conftest import built, make_store  # noqa: F401  (the populated workspaces)

YOLO = FIXTURES / "yolo"


def boxes_of(staged) -> list[tuple[str, str, tuple[float, ...]]]:
    return [
        (r["item_ref"], r["class"], (r["bbox_x"], r["bbox_y"], r["bbox_w"], r["bbox_h"]))
        for r in rows_of(staged)
        if not r.get("empty")
    ]


def problems_at(error_or_staged) -> list[tuple[str, int | None, str]]:
    """(file below the fixtures, line, field) of every problem."""
    return [(p.file.rsplit("/yolo/", 1)[-1], p.line, p.path) for p in error_or_staged.problems]


def tree(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
    return root


def zipped(path: Path, files: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def folder_files(folder: Path, prefix: str = "") -> dict[str, bytes]:
    return {
        prefix + p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# -- reading the three layouts ----------------------------------------------------------------------
def test_ultralytics_dataset_stages_normalised_centre_boxes():
    staged = yolo.read(YOLO / "ultralytics")
    assert staged.format == "yolo" and staged.problems == []
    assert boxes_of(staged) == [
        ("circle_big.png", "circle", (0.5, 0.5, 0.625, 0.625)),
        ("square_big.png", "square", (0.5078125, 0.5078125, 0.546875, 0.546875)),
        ("triangle_up.png", "triangle", (0.5, 0.46875, 0.625, 0.625)),
    ]
    rows = rows_of(staged)
    # ellipse_wide.txt has no line: the labeler's explicit "no objects here" on its image
    (empty,) = [r for r in rows if r.get("empty")]
    assert (empty["item_ref"], empty["where"], empty["annotation_key"]) == (
        "ellipse_wide.png",
        "labels/val/ellipse_wide.txt",
        "yolo:labels/val/ellipse_wide.txt",
    )
    assert "class" not in empty and "bbox_x" not in empty
    rows = [r for r in rows if not r.get("empty")]
    assert {r["bbox_units"] for r in rows} == {"yolo"}
    assert {r["item_ref_kind"] for r in rows} == {"path"}
    assert all("labeler_ref" not in r for r in rows)  # YOLO names no labeler: --labeler does
    square = rows[1]
    assert square["where"] == "labels/train/square_big.txt, line 2"  # a blank first line
    assert square["annotation_key"] == "yolo:labels/train/square_big.txt"
    assert json.loads(square["source_ids"]) == {
        "yolo_file": "labels/train/square_big.txt",
        "yolo_line": 2,
    }
    assert square["attributes"] == "{}"
    assert staged.skipped == {}


def test_label_studio_export_keeps_the_upload_names():
    staged = yolo.read(YOLO / "labelstudio")
    assert staged.problems == []
    # validation matches <hash>-name to the item registered as name
    assert boxes_of(staged) == [
        ("3f2a9c1d-circle_small.png", "circle", (0.6640625, 0.2734375, 0.234375, 0.234375)),
        ("8e1b07aa-square_tilted.png", "square", (0.5, 0.5, 0.5625, 0.5625)),
    ]


def test_cvat_yolo_export_names_its_images_in_train_txt():
    staged = yolo.read(YOLO / "cvat")  # labels only: the images were not saved
    assert staged.problems == []
    assert boxes_of(staged) == [
        ("circle_partly_hidden.png", "circle", (0.15625, 0.546875, 0.3125, 0.46875)),
        ("triangle_flat.png", "triangle", (0.5, 0.65625, 0.78125, 0.3125)),
    ]
    assert rows_of(staged)[0]["annotation_key"] == "yolo:obj_train_data/circle_partly_hidden.txt"


@pytest.mark.parametrize("name", ["data.yaml", "classes.txt"])
def test_the_names_file_stands_for_its_folder(name):
    folder = YOLO / ("ultralytics" if name == "data.yaml" else "labelstudio")
    assert yolo.read(folder / name).table.equals(yolo.read(folder).table)


def test_a_zip_reads_like_its_folder_even_below_a_top_folder(tmp_path):
    files = folder_files(YOLO / "ultralytics", "project-7-at-2026-02-01/")
    files["__MACOSX/project-7-at-2026-02-01/labels/train/._circle_big.txt"] = b"\x00\x05\x16\x07"
    export = zipped(tmp_path / "export.zip", files)
    from_zip, from_folder = yolo.read(export), yolo.read(YOLO / "ultralytics")
    assert from_zip.table.equals(from_folder.table)  # keys and ids are relative to the export
    assert from_zip.skipped == {} and from_zip.table.num_rows == 4  # 3 boxes, 1 empty answer


@pytest.mark.parametrize("as_zip", [False, True], ids=["folder", "zip-with-a-top-folder"])
def test_roboflow_layout_and_absolute_image_lists(tmp_path, as_zip):
    """Roboflow writes ``train: ../train/images``; a list made on the training machine holds its
    absolute paths: both still name the images inside the export."""
    root = tree(
        tmp_path / "rf",
        {
            "data.yaml": "train: ../train/images\nval: lists/val.txt\nnc: 1\nnames: ['circle']\n",
            "train/images/a.jpg": b"",
            "train/labels/a.txt": "0 0.5 0.5 0.1 0.1\n",
            "lists/val.txt": "/content/datasets/rf/images/val/b.jpg\n./../images/val/c.jpg\n",
            "labels/val/b.txt": "0 0.5 0.5 0.2 0.2\n",
            "labels/val/c.txt": "0 0.5 0.5 0.3 0.3\n",
        },
    )
    if as_zip:
        root = zipped(tmp_path / "rf.zip", folder_files(root, "rf-export/"))
    assert [(item, w) for item, _, (_, _, w, _) in boxes_of(yolo.read(root))] == [
        ("val/b.jpg", 0.2),  # images/val is not a split folder of data.yaml: kept in the name
        ("val/c.jpg", 0.3),
        ("a.jpg", 0.1),
    ]


# -- bad input: every problem, with its file, line and field ----------------------------------------
ODD_TOKENS = ["+1", "1.0", "one", "nan", "inf", "-inf", "1e999", "1_0", "0_5", "\u0661", "0x1", "."]


def _accepted(tokens: list[str]) -> tuple[float, ...] | None:
    """What the format says a line of five values is: an index of the three classes, then four
    decimal numbers, the centre in [0, 1], the size in (0, 1]."""
    number = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    index, *coords = tokens
    if not re.fullmatch("[0-9]+", index) or int(index) > 2:
        return None
    if not all(re.fullmatch(number, t) and math.isfinite(float(t)) for t in coords):
        return None
    cx, cy, w, h = raw = tuple(float(t) for t in coords)
    slack = 1e-9  # tools write 1.0000000000000002 for 1; values that close are clipped
    if not (
        -slack <= cx <= 1 + slack
        and -slack <= cy <= 1 + slack
        and 0 < w <= 1 + slack
        and 0 < h <= 1 + slack
    ):
        return None
    return tuple(min(max(v, 0.0), 1.0) for v in raw)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(ODD_TOKENS),
            st.integers(0, 4).map(str),
            st.floats(-0.2, 1.2).map(lambda v: format(v, ".6g")),
        ),
        min_size=5,
        max_size=5,
    )
)
def test_a_line_is_a_box_exactly_when_the_format_says_so(tokens):
    with tempfile.TemporaryDirectory() as folder:
        files = {"classes.txt": "a\nb\nc\n", "images/x.png": b"", "labels/x.txt": " ".join(tokens)}
        staged = yolo.read(tree(Path(folder), files))
    expected = _accepted(tokens)
    assert [box for _, _, box in boxes_of(staged)] == ([expected] if expected else [])
    assert bool(staged.problems) == (expected is None)


def test_every_bad_line_is_reported_with_its_file_line_and_field():
    staged = yolo.read(YOLO / "bad")
    assert problems_at(staged) == [
        ("bad/labels/errors.txt", 2, "class"),
        ("bad/labels/errors.txt", 3, "class"),
        ("bad/labels/errors.txt", 4, "cx"),
        ("bad/labels/errors.txt", 5, "cy"),
        *[("bad/labels/errors.txt", 6, field) for field in ("cx", "cy", "w", "h")],
        ("bad/labels/errors.txt", 7, "w"),
        ("bad/labels/errors.txt", 8, "h"),
        ("bad/labels/errors.txt", 9, "fields"),
        ("bad/labels/errors.txt", 10, "fields"),
        ("bad/labels/errors.txt", 11, "cx"),
        ("bad/labels/latin1.txt", 2, "text"),
        ("bad/labels/orphan.txt", None, "image"),
        ("bad/labels/pose.txt", 1, "shape"),
        ("bad/labels/shapes.txt", 1, "shape"),
    ]
    messages = [p.message for p in staged.problems]
    assert messages[0] == (
        "class index 3 is out of range: data.yaml names 3 class(es): 0 circle, 1 square, 2 triangle"
    )
    assert messages[1] == "must be a class index (0, 1, 2 ...), got 'one'"
    assert messages[2] == "must be a number from 0 to 1, got 'nan'"
    assert messages[4] == (
        "64 is outside [0, 1]: YOLO gives fractions of the image size (were pixels written?)"
    )
    assert messages[8] == "must be positive, got 0"
    assert messages[10] == "expected 5 values (class cx cy w h), got 4"
    assert "a sixth value is a model's confidence score" in messages[11]
    assert messages[12] == "must be a number from 0 to 1, got '1e999'"  # overflows to inf
    assert messages[13] == "not UTF-8 text: byte 0xe9 on line 2 (save the file as UTF-8)"
    assert messages[14].startswith("no image named orphan.* for this label file")
    # a file of polygons or keypoints: one message with the count, not one per line
    assert messages[16] == (
        "2 line(s) hold a polygon, an oriented box or keypoints (9 values), which a detection "
        "guideline cannot hold: export plain YOLO boxes (class cx cy w h)"
    )
    # the good lines still parse, so a fixed export is one re-run away
    assert [r["where"] for r in rows_of(staged)] == [
        "labels/errors.txt, line 1",
        "labels/shapes.txt, line 2",
    ]


@pytest.mark.parametrize("name", ["", "class.txt"])  # the folder, or a file in it
def test_a_missing_names_file_suggests_the_near_name(name):
    with pytest.raises(ProblemsError, match="no class names") as caught:
        yolo.read(YOLO / "misnamed" / name)
    assert caught.value.problems[0].message.endswith(
        "or obj.names (CVAT YOLO 1.1); found class.txt: did you mean classes.txt? (rename it)"
    )


@pytest.mark.parametrize(
    ("files", "where", "message"),
    [
        (
            {"data.yaml": "nc: 3\nnames: [circle, square]\n"},
            ("data.yaml", 1, "nc"),
            "nc is 3 but `names` has 2 classes: make them agree",
        ),
        (
            {"data.yaml": "names:\n  0: circle\n  2: triangle\n"},
            ("data.yaml", 1, "names"),
            "the class indices must be 0..1, got 0, 2",
        ),
        (
            {"data.yaml": "train: images\nnc: 2\n"},
            ("data.yaml", None, "names"),
            "needs `names`: the class names, a list or a map index -> name",
        ),
        (
            {"data.yaml": "names: {first: circle}\n"},
            ("data.yaml", 1, "names"),
            "a map of names needs integer keys (0: person, 1: car ...)",
        ),
        (
            {"classes.txt": "circle\n\nsquare\n"},
            ("classes.txt", 2, ""),
            "an empty line: each line names the class of its index (line 1 is class 0)",
        ),
        (
            {"data.yaml": "names: [circle, square]\n", "classes.txt": "square\ncircle\n"},
            ("data.yaml", None, "names"),
            "data.yaml and classes.txt name different classes: keep one, or make them agree",
        ),
    ],
    ids=["nc", "gap", "no-names", "keys", "empty-line", "disagree"],
)
def test_class_names_that_cannot_be_read_are_refused(tmp_path, files, where, message):
    root = tree(tmp_path / "x", {**files, "images/a.png": b"", "labels/a.txt": "0 .5 .5 .1 .1\n"})
    with pytest.raises(ProblemsError, match="the class names cannot be read") as caught:
        yolo.read(root)
    (problem,) = caught.value.problems
    assert (Path(problem.file).name, problem.line, problem.path) == where
    assert problem.message == message


def test_invalid_yaml_points_at_its_line(tmp_path):
    root = tree(tmp_path / "x", {"data.yaml": "names: [circle\ntrain: images\n"})
    with pytest.raises(LabelspecError, match=r"data\.yaml:\d+:\d+: invalid YAML"):
        yolo.read(root)


def test_labels_without_any_image_are_refused_as_a_whole(tmp_path):
    """Label Studio's plain YOLO export has no images: the label files cannot name their items."""
    root = shutil.copytree(YOLO / "labelstudio", tmp_path / "ls")
    shutil.rmtree(root / "images")
    with pytest.raises(ProblemsError, match="no images to pair the labels with") as caught:
        yolo.read(root)
    assert "export with the images (Label Studio: YOLO with Images" in str(caught.value.problems[0])


@pytest.mark.parametrize(
    ("files", "summary", "message"),
    [
        ({"classes.txt": "circle\n", "notes.json": "{}"}, "no YOLO labels", "no label files"),
        (
            {"a/classes.txt": "circle\n", "b/obj.names": "circle\n"},
            "several exports",
            "holds several YOLO exports (a/, b/): import them one at a time",
        ),
    ],
    ids=["no-labels", "two-exports"],
)
def test_folders_that_are_not_one_export_are_refused(tmp_path, files, summary, message):
    with pytest.raises(ProblemsError, match=summary) as caught:
        yolo.read(tree(tmp_path / "x", files))
    assert caught.value.problems[0].message.startswith(message)


def test_two_images_for_one_label_file_are_reported(tmp_path):
    root = tree(
        tmp_path / "x",
        {
            "classes.txt": "circle\n",
            "images/a.png": b"",
            "images/a.jpg": b"",
            "labels/a.txt": "0 0.5 0.5 0.1 0.1\n",
        },
    )
    (problem,) = yolo.read(root).problems
    assert (problem.path, problem.message) == (
        "image",
        "two images share this label file (images/a.jpg, images/a.png): keep one of them",
    )


def test_what_is_no_yolo_export_is_refused(tmp_path):
    other = tree(tmp_path, {"export.json": "[]"}) / "export.json"
    with pytest.raises(ProblemsError, match="not a YOLO export"):
        yolo.read(other)
    with pytest.raises(LabelspecError, match="no such file or folder"):
        yolo.read(tmp_path / "missing")


# -- zips: no escapes, no bombs ---------------------------------------------------------------------
def test_a_member_outside_the_zip_is_refused(tmp_path):
    files = folder_files(YOLO / "ultralytics")
    files["../../etc/labels/x.txt"] = b"0 0.5 0.5 0.1 0.1\n"
    with pytest.raises(ProblemsError, match="unsafe zip") as caught:
        yolo.read(zipped(tmp_path / "slip.zip", files))
    assert "points outside the zip" in caught.value.problems[0].message


def test_zip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    files = folder_files(YOLO / "ultralytics")
    files["labels/train/circle_big.txt"] += b" " * (4 * 1024 * 1024)  # ~1000x under deflate
    with pytest.raises(ProblemsError, match="zip member refused") as caught:
        yolo.read(zipped(tmp_path / "bomb.zip", files))
    assert "possible zip bomb" in caught.value.problems[0].message


def test_over_large_member_is_refused(tmp_path):
    export = zipped(
        tmp_path / "big.zip",
        {"classes.txt": b"circle\n", "images/a.png": b"", "labels/a.txt": b"0 .5 .5 .1 .1\n"},
        zipfile.ZIP_STORED,
    )
    data = bytearray(export.read_bytes())  # claim a 3 GiB label file, as a crafted zip would
    at = data.rindex(b"PK\x01\x02", 0, data.rindex(b"labels/a.txt"))  # its central entry
    data[at + 24 : at + 28] = struct.pack("<I", 3 * 1024**3)
    export.write_bytes(bytes(data))
    with pytest.raises(ProblemsError, match="zip member too large") as caught:
        yolo.read(export)
    assert caught.value.problems[0].file == f"{export}:labels/a.txt"


def test_corrupt_member_is_reported(tmp_path):
    files = {"classes.txt": b"circle\n", "images/a.png": b"", "labels/a.txt": b"0 .5 .5 .1 .1\n"}
    export = zipped(tmp_path / "bad.zip", files, zipfile.ZIP_STORED)
    export.write_bytes(export.read_bytes().replace(b"0 .5 .5 .1 .1", b"0 .5 .5 .1 .2", 1))
    with pytest.raises(ProblemsError, match="unreadable zip member") as caught:
        yolo.read(export)
    assert "Bad CRC-32" in caught.value.problems[0].message


# -- writing ----------------------------------------------------------------------------------------
def _box(x, y, w, h):
    return {"x": x, "y": y, "w": w, "h": h}


SPEC = make_spec("detection")  # classes car (0) and person (1)
IMAGES = items(
    [
        {
            "item_id": "wide.png",
            "path": "data/wide.png",
            "media": "image",
            "width": 200,
            "height": 100,
        },
        {"item_id": "street/0001.jpg", "media": "image", "width": 640, "height": 480},
        {"item_id": "i3", "uri": "s3://b/3.jpg?v=2", "media": "image", "width": 100, "height": 50},
        {"item_id": "../up.png", "media": "image", "width": 10, "height": 10},
    ]
)
DETECTIONS = [
    {"item_id": "wide.png", "annotation_id": "a1", "class": "car", "bbox": _box(20, 10, 50, 30)},
    {"item_id": "wide.png", "annotation_id": "a1", "class": "person", "bbox": _box(0, 0, 200, 100)},
    {
        "item_id": "street/0001.jpg",
        "annotation_id": "a2",
        "class": "person",
        "bbox": _box(64, 48, 32, 24),
    },
    # half a pixel past the edge, as validation allows: clipped to the image
    {"item_id": "i3", "annotation_id": "a3", "class": "car", "bbox": _box(-0.5, 10, 50.5, 40.5)},
    {"item_id": "../up.png", "annotation_id": "a4", "class": "car", "bbox": _box(1, 1, 8, 8)},
]


def _write(out: Path, rows=DETECTIONS, spec=SPEC, images=IMAGES, snapshot="snap-3") -> int:
    return yolo.write(labels([dict(r) for r in rows]), images, spec, out, snapshot=snapshot)


def ultralytics_view(data_yaml: Path) -> dict[str, list[list[float]]]:
    """The labels Ultralytics trains on, found and checked the way it documents and does it
    (``check_det_dataset``, ``img2label_paths``, ``verify_image_label`` in
    ``ultralytics/data/utils.py``, mirrored: the package needs torch): YAML 1.1, ``train`` and
    ``val`` required, ``names`` matching ``nc``, image lists whose ``./`` is the list's folder,
    labels at the image path with its last ``/images/`` made ``/labels/`` and suffix ``.txt``,
    each line five columns, normalised, with a class below ``nc``."""
    data = yaml.safe_load(data_yaml.read_text())
    assert {"train", "val"} <= set(data)
    names = data["names"]
    names = dict(enumerate(names)) if isinstance(names, list) else names
    assert len(names) == data["nc"] and sorted(names) == list(range(len(names)))
    assert all(isinstance(name, str) for name in names.values())
    listed = data_yaml.parent / data["train"]
    images = [
        line.replace("./", str(listed.parent) + "/", 1) if line.startswith("./") else line
        for line in listed.read_text().splitlines()
    ]
    found = {}
    for image in images:
        label = "/labels/".join(image.rsplit("/images/", 1)).rsplit(".", 1)[0] + ".txt"
        rows = [[float(v) for v in line.split()] for line in Path(label).read_text().splitlines()]
        for row in rows:
            assert len(row) == 5 and min(row[1:]) >= 0 and max(row[1:]) <= 1
            assert row[0] == int(row[0]) < len(names)
        found[image.rsplit("/images/", 1)[1]] = rows
    return found


def test_written_boxes_are_what_ultralytics_reads(tmp_path):
    out = tmp_path / "yolo"
    assert _write(out) == 5
    assert ultralytics_view(out / "data.yaml") == {
        # 200x100 px, box x=20 y=10 w=50 h=30: centre (45, 25) -> 0.225 0.25, size 0.25 0.3
        "wide.png": [[0, 0.225, 0.25, 0.25, 0.3], [1, 0.5, 0.5, 1, 1]],
        "street/0001.jpg": [[1, 0.125, 0.125, 0.05, 0.05]],
        "i3.jpg": [[0, 0.25, 0.6, 0.5, 0.8]],  # clipped to x 0..50, y 10..50
        "_/up.png": [[0, 0.5, 0.5, 0.8, 0.8]],  # an id cannot climb out of images/
    }
    assert (out / "labels/wide.txt").read_text() == "0 0.225 0.25 0.25 0.3\n1 0.5 0.5 1 1\n"
    assert (out / "classes.txt").read_text() == "car\nperson\n"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "README.txt",
        "classes.txt",
        "data.yaml",
        "images.txt",
        "labels/_/up.txt",
        "labels/i3.txt",
        "labels/street/0001.txt",
        "labels/wide.txt",
    ]
    data = (out / "data.yaml").read_text()
    assert data.startswith("# YOLO dataset written by labelspec: streets 1.2.0, snapshot snap-3\n")
    assert yaml.safe_load(data)["names"] == {0: "car", 1: "person"}


def test_write_then_read_gives_the_items_and_boxes_back(tmp_path):
    out = tmp_path / "yolo"
    _write(out)
    staged = yolo.read(out)  # the images are not there: images.txt names them
    assert staged.problems == []
    assert [(item, cls) for item, cls, _ in boxes_of(staged)] == [
        ("_/up.png", "car"),
        ("i3.jpg", "car"),
        ("street/0001.jpg", "person"),
        ("wide.png", "car"),
        ("wide.png", "person"),
    ]
    assert boxes_of(staged)[3][2] == (0.225, 0.25, 0.25, 0.3)


def test_re_export_replaces_the_labels_and_keeps_the_copied_images(tmp_path):
    out = tmp_path / "yolo"
    _write(out)
    (out / "images").mkdir()
    (out / "images/wide.png").write_bytes(b"png")
    _write(out, DETECTIONS[:2])
    assert (out / "images/wide.png").read_bytes() == b"png"
    assert sorted(p.name for p in (out / "labels").rglob("*.txt")) == ["wide.txt"]
    assert (out / "images.txt").read_text() == "./images/wide.png\n"
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []  # no leftovers


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"spec": make_spec("classification")},
            "streets is a classification guideline: YOLO holds the boxes",
        ),
        (  # not COCO either: it holds no text spans
            {"spec": make_spec("ner")},
            r"streets is a ner guideline: YOLO holds the boxes of a detection guideline "
            r"\(export as labelstudio or jsonl\)",
        ),
        ({"rows": [{**DETECTIONS[0], "class": "truck"}]}, "does not have: truck"),
        (
            {
                "rows": DETECTIONS[:1],
                "images": items([{"item_id": "wide.png", "path": "wide.png", "media": "image"}]),
            },
            r"1 labeled item\(s\) have no width and height \(wide.png\)",
        ),
        (
            {"rows": DETECTIONS[:1], "images": items([])},
            "item wide.png has labels but is not in the item manifest",
        ),
        (
            {
                "rows": [DETECTIONS[0], {**DETECTIONS[0], "item_id": "wide.jpg"}],
                "images": items(
                    [
                        {"item_id": n, "media": "image", "width": 200, "height": 100}
                        for n in ("wide.png", "wide.jpg")
                    ]
                ),
            },
            "items wide.jpg and wide.png would share labels/wide.txt",
        ),
        (  # two labelers' answers would stack into one label file, naming neither
            {
                "rows": [
                    {**DETECTIONS[0], "labeler_id": "vA-01"},
                    {**DETECTIONS[1], "labeler_id": "vA-01"},  # one answer of two boxes
                    {**DETECTIONS[0], "annotation_id": "a9", "labeler_id": "vB-01"},
                    {**DETECTIONS[2], "labeler_id": "vB-01"},
                ]
            },
            r"one answer per image, and 1 item\(s\) have several \(first: wide.png, 2 answers "
            r"by vA-01, vB-01\): export one resolved answer per item with --resolve",
        ),
    ],
    ids=["classification", "ner", "unknown-class", "no-size", "no-item", "same-stem", "several"],
)
def test_write_refuses_what_yolo_cannot_hold_and_writes_nothing(tmp_path, change, message):
    with pytest.raises(LabelspecError, match=message):
        _write(tmp_path / "yolo", **change)
    assert list(tmp_path.iterdir()) == []


def test_write_refuses_a_folder_it_did_not_write(tmp_path):
    foreign = tree(tmp_path / "theirs", {"data.yaml": "names: [cat]\n"})
    with pytest.raises(LabelspecError, match="not empty and holds no labelspec YOLO export"):
        _write(foreign)
    assert (foreign / "data.yaml").read_text() == "names: [cat]\n"
    with pytest.raises(LabelspecError, match="is a file"):
        _write(foreign / "data.yaml")


@settings(max_examples=200, deadline=None)
@given(
    width=st.integers(1, 20000),
    height=st.integers(1, 20000),
    fractions=st.tuples(*[st.floats(0, 1, allow_nan=False)] * 2, *[st.floats(0.001, 1)] * 2),
)
def test_pixel_boxes_round_trip_through_yolo(width, height, fractions):
    fx, fy, fw, fh = fractions
    x, y = fx * width * 0.99, fy * height * 0.99
    box = (x, y, fw * (width - x), fh * (height - y))
    image = items([{"item_id": "a.png", "media": "image", "width": width, "height": height}])
    row = {"item_id": "a.png", "annotation_id": "a", "class": "car", "bbox": _box(*box)}
    with tempfile.TemporaryDirectory() as folder:
        _write(Path(folder) / "out", [row], images=image)
        ((_, _, (cx, cy, w, h)),) = boxes_of(yolo.read(Path(folder) / "out"))
    # what validation does with the item's size (labelspec.labels.validate)
    back = ((cx - w / 2) * width, (cy - h / 2) * height, w * width, h * height)
    assert back == pytest.approx(box, abs=1e-6 * max(width, height), rel=0)


# -- the command line, on a real workspace ----------------------------------------------------------
def _occlusion_optional(root: Path) -> None:
    """Release shapes 1.1.0 without required attributes: YOLO carries none (and train vA-01)."""
    from labelspec.guideline.release import release
    from labelspec.labelers.training import record_training
    from labelspec.workspace import Workspace

    spec = root / "guidelines/shapes/spec.yaml"
    text = spec.read_text().replace(
        "type: boolean, required: true", "type: boolean, required: false"
    )
    spec.write_text(
        text
        + "  - version: unreleased\n    summary: Occlusion is optional\n"
        + "    affects: []\n    relabel: none\n"
    )
    git(root, "commit", "-q", "-am", "shapes: occlusion optional")
    release(Workspace(root), "shapes", "minor")
    record_training(Workspace(root), "vA-01", "shapes", "1.1.0", "session", 0.9, True)


def _import(run, root: Path, source: Path, version: str, expect: int = 0):
    return run(
        *("labels", "import", "shapes", str(source), "--format", "yolo"),
        *("--guideline", f"shapes@{version}", "--source", "vendor-a", "--labeler", "vA-01"),
        cwd=root,
        expect=expect,
    )


def test_import_stores_pixel_boxes_and_export_gives_them_back(make_store, run, tmp_path):  # noqa: F811
    root = make_store("shapes")
    _occlusion_optional(root)
    export = zipped(tmp_path / "cvat.zip", folder_files(YOLO / "cvat"))

    result = _import(run, root, YOLO / "ultralytics" / "data.yaml", "1.1.0")
    assert result.stdout.startswith("Imported 3 label(s) in 4 annotation(s) on 4 item(s)")
    assert "  empty:      1 annotation(s) with no objects" in result.stdout.splitlines()
    _import(run, root, export, "1.1.0")
    _import(run, root, YOLO / "labelstudio" / "classes.txt", "1.1.0")  # <hash>-name uploads

    batches = sorted((root / "datasets/shapes/labels").glob("*.parquet"))
    stored = [r for b in batches for r in pq.read_table(b).to_pylist()]
    assert {r["item_id"]: (r["class"], r["bbox"]) for r in stored} == {
        "ellipse_wide.png": (None, None),  # an empty label file: "no objects here"
        "circle_big.png": ("circle", _box(24.0, 24.0, 80.0, 80.0)),
        "square_big.png": ("square", _box(30.0, 30.0, 70.0, 70.0)),
        "triangle_up.png": ("triangle", _box(24.0, 20.0, 80.0, 80.0)),
        "triangle_flat.png": ("triangle", _box(14.0, 64.0, 100.0, 40.0)),
        "circle_partly_hidden.png": ("circle", _box(0.0, 40.0, 40.0, 60.0)),
        "circle_small.png": ("circle", _box(70.0, 20.0, 30.0, 30.0)),
        "square_tilted.png": ("square", _box(28.0, 28.0, 72.0, 72.0)),
    }
    assert {(r["format"], r["labeler_id"], r["guideline_version"]) for r in stored} == {
        ("yolo", "vA-01", "1.1.0")
    }
    assert json.loads(stored[0]["source_ids"])["yolo_file"].endswith(".txt")

    out = tmp_path / "out"
    result = run("labels", "export", "shapes", "--format", "yolo", "--out", str(out), cwd=root)
    assert (out / "labels/circle_big.txt").read_text() == "0 0.5 0.5 0.625 0.625\n"
    assert (
        out / "labels/circle_partly_hidden.txt"
    ).read_text() == "0 0.15625 0.546875 0.3125 0.46875\n"
    assert set(ultralytics_view(out / "data.yaml")) == {r["item_id"] for r in stored}
    assert f"`cp -r datasets/shapes/items/. {out}/images/`" in (out / "README.txt").read_text()
    assert (out / "labels/ellipse_wide.txt").read_text() == ""  # a background image
    assert "./images/ellipse_wide.png" in (out / "images.txt").read_text().splitlines()
    exported = {item: (cls, box) for item, cls, box in boxes_of(yolo.read(out))}
    stored = [r for r in stored if r["class"] is not None]
    assert set(exported) == {r["item_id"] for r in stored}
    for r in stored:  # the 128 x 128 px boxes as fractions, to the six digits YOLO tools write
        x, y, w, h = r["bbox"].values()
        want = ((x + w / 2) / 128, (y + h / 2) / 128, w / 128, h / 128)
        assert exported[r["item_id"]][0] == r["class"]
        assert exported[r["item_id"]][1] == pytest.approx(want, abs=1e-6)
    assert git(root, "status", "--porcelain") == ""


def test_bad_yolo_input_is_refused_and_nothing_is_written(make_store, run, tmp_path):  # noqa: F811
    root = make_store("shapes")
    before = state(root)

    result = _import(run, root, YOLO / "bad" / "data.yaml", "1.0.0", expect=1)
    lines = result.stderr.splitlines()
    # the reader's problems, and validation's (shapes 1.0.0 wants `occluded`; errors.png is no item)
    assert lines[0].startswith("Error: data.yaml: 21 problem(s) (3 cx, 2 attributes, 2 class")
    bad = YOLO / "bad" / "labels"
    assert (
        f"  {bad}/errors.txt:6: w: 32 is outside [0, 1]: YOLO gives fractions of the image size (were pixels written?)"
        in lines
    )
    assert (
        f"  {bad}/orphan.txt: image: no image named orphan.* for this label file (YOLO pairs them by name): add it to the export or to its image list"
        in lines
    )

    # YOLO carries no attributes, and shapes 1.0.0 requires `occluded` on every box
    result = _import(run, root, YOLO / "cvat" / "obj.names", "1.0.0", expect=1)
    assert "attribute 'occluded' is required for class 'circle'" in result.stderr
    assert "[obj_train_data/circle_partly_hidden.txt, line 1]" in result.stderr
    assert state(root) == before


def test_an_export_without_a_names_file_takes_the_guidelines_classes_in_order(tmp_path):
    """Label Studio's export without its classes.txt (or Ultralytics' without data.yaml): with
    the guideline's classes given, index 0 is the spec's first class; an index beyond the
    spec's classes is refused saying where the names come from."""
    export = tmp_path / "export"
    shutil.copytree(YOLO / "labelstudio", export)
    (export / "classes.txt").unlink()
    with pytest.raises(ProblemsError, match="no class names"):
        yolo.read(export)  # without the spec's classes, nothing names them

    staged = yolo.read(export, ["circle", "square", "triangle"])
    assert staged.problems == []
    assert boxes_of(staged) == boxes_of(yolo.read(YOLO / "labelstudio"))

    fewer = yolo.read(export, ["circle"])  # the export's square is index 1
    [problem] = fewer.problems
    assert problem.path == "class"
    assert problem.message == (
        "class index 1 is out of range: the export has no names file, so its classes are the "
        "guideline's 1 in spec order (0 circle): add the export's classes.txt"
    )


def test_import_of_an_export_without_names_uses_the_guidelines_classes(make_store, run, tmp_path):  # noqa: F811
    root = make_store("shapes")
    _occlusion_optional(root)
    export = tmp_path / "export"
    shutil.copytree(YOLO / "labelstudio", export)
    (export / "classes.txt").unlink()

    result = _import(run, root, export, "1.1.0")

    assert result.stdout.startswith("Imported 2 label(s)")
    [batch] = (root / "datasets/shapes/labels").glob("*.parquet")
    stored = {r["item_id"]: r["class"] for r in pq.read_table(batch).to_pylist()}
    assert stored == {"circle_small.png": "circle", "square_tilted.png": "square"}


def test_labelers_per_item_name_who_answered_each_image(make_store, run, tmp_path):  # noqa: F811
    """YOLO carries no annotator: --labelers-per-item names each image's labeler, by the name
    the delivery gives the image or by item id; an image the file leaves out is refused, named."""
    root = make_store("shapes")
    _occlusion_optional(root)
    run("labeler", "add", "vB-07", "--vendor", "vendor-a", cwd=root)
    run(
        *("labeler", "train", "vB-07", "--guideline", "shapes", "--version", "1.1.0"),
        *("--method", "session", "--score", "0.9", "--passed"),  # today, as vA-01's
        cwd=root,
    )
    per_item = tmp_path / "labelers.csv"
    per_item.write_text(
        "item,labeler\ncircle_big.png,vA-01\nsquare_big.png,vB-07\nellipse_wide.png,vB-07\n"
    )
    before = state(root)
    args = (
        *("labels", "import", "shapes", str(YOLO / "ultralytics" / "data.yaml")),
        *("--format", "yolo", "--guideline", "shapes@1.1.0", "--source", "vendor-a"),
        *("--labelers-per-item", str(per_item)),
    )

    refused = run(
        *args,
        cwd=root,
        expect=1,
    )
    assert "has no labeler in " + str(per_item) in refused.stderr
    assert "item triangle_up.png has no labeler" in refused.stderr
    assert "circle_big.png has" not in refused.stderr
    assert state(root) == before

    per_item.write_text(per_item.read_text() + "triangle_up.png,vA-01\n")
    run(*args, cwd=root)
    (batch,) = (root / "datasets/shapes/labels").glob("*.parquet")
    got = {r["item_id"]: r["labeler_id"] for r in pq.read_table(batch).to_pylist()}
    assert got == {
        "circle_big.png": "vA-01",
        "square_big.png": "vB-07",
        "ellipse_wide.png": "vB-07",
        "triangle_up.png": "vA-01",
    }


def test_label_files_without_images_pair_with_items_by_name(make_store, run, tmp_path):  # noqa: F811
    """Label Studio's plain YOLO download: classes.txt and labels/<hash>-<name>.txt, no image.
    Read alone it names no item (refused); imported, each file pairs with the registered item
    of its name, the upload prefix dropped."""
    export = tmp_path / "ls-yolo"
    shutil.copytree(YOLO / "labelstudio", export, ignore=shutil.ignore_patterns("images"))
    with pytest.raises(ProblemsError, match="no images to pair the labels with"):
        yolo.read(export)
    staged = yolo.read(export, pair_by_name=True)
    assert staged.problems == []
    assert sorted({r["item_ref"] for r in staged.table.to_pylist()}) == [
        "3f2a9c1d-circle_small",
        "8e1b07aa-square_tilted",
    ]

    root = make_store("shapes")
    _occlusion_optional(root)
    imported = run(
        *("labels", "import", "shapes", str(export / "classes.txt"), "--format", "yolo"),
        *("--guideline", "shapes@1.1.0", "--source", "vendor-a", "--labeler", "vA-01"),
        cwd=root,
    )
    assert imported.stdout.startswith("Imported 2 label(s) in 2 annotation(s) on 2 item(s)")
    (batch,) = (root / "datasets/shapes/labels").glob("*.parquet")
    assert sorted(r["item_id"] for r in pq.read_table(batch).to_pylist()) == [
        "circle_small.png",
        "square_tilted.png",
    ]
    # the raw delivery kept is the export the names file stood for: its label files too
    (kept,) = [
        p
        for p in (root / "datasets/shapes/deliveries").glob(f"{batch.stem}-*")
        if p.suffix != ".dvc"
    ]
    assert kept.name == f"{batch.stem}-ls-yolo.zip"
    with zipfile.ZipFile(kept) as archive:
        assert sorted(archive.namelist()) == [
            "classes.txt",
            "labels/3f2a9c1d-circle_small.txt",
            "labels/8e1b07aa-square_tilted.txt",
            "notes.json",
        ]
