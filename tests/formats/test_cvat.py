"""CVAT for images 1.1: annotations.xml or its zip, and the inputs it must refuse."""

from __future__ import annotations

import json
import struct
import time
import zipfile

import pytest

from labelspec.errors import ProblemsError
from labelspec.formats import cvat
from tests.formats.build import FIXTURES, problems_of, rows_of

TASK_XML = FIXTURES / "cvat_task.xml"


def test_task_export_parses_boxes_tags_and_attributes():
    staged = cvat.read(TASK_XML)
    assert staged.format == "cvat" and staged.problems == []
    rows = rows_of(staged)
    empty = rows.pop()  # image 3 has no shape: the labeler's explicit "no objects here"
    assert (empty["where"], empty["item_ref"], empty["empty"]) == (
        "image 3 (id 2, street/0003.jpg)",
        "street/0003.jpg",
        True,
    )
    assert "class" not in empty and "bbox_x" not in empty
    assert [(r["where"], r["item_ref"], r["class"]) for r in rows] == [
        ("image 1 (id 0, street/0001.jpg), shape 1 (box)", "street/0001.jpg", "car"),
        ("image 1 (id 0, street/0001.jpg), shape 3 (box)", "street/0001.jpg", "person"),
        ("image 1 (id 0, street/0001.jpg), shape 5 (tag)", "street/0001.jpg", "night"),
        ("image 2 (id 1, street/0002.jpg), shape 1 (box)", "street/0002.jpg", "car"),
    ]
    car = rows[0]
    box = (car["bbox_x"], car["bbox_y"], car["bbox_w"], car["bbox_h"])
    assert box == pytest.approx((797.33, 870.92, 965.52 - 797.33, 928.94 - 870.92))
    assert "bbox_x" not in rows[2]  # a tag is an image-level class
    # occluded="0/1" becomes a boolean attribute unless an <attribute> already gives it
    assert [json.loads(r["attributes"]) for r in rows] == [
        {"color": "blue", "occluded": False},
        {"occluded": True},
        {},
        {"color": "red", "occluded": "false"},
    ]
    assert {r["item_ref_kind"] for r in rows} == {"path"}
    assert {r["labeler_ref"] for r in rows} == {"ann"}  # the task's assignee
    assert [r["annotation_key"] for r in rows] == ["cvat:0", "cvat:0", "cvat:0", "cvat:1"]
    assert json.loads(rows[1]["source_ids"]) == {"cvat_image": 0, "cvat_shape_index": 2}
    assert staged.skipped == {
        "unsupported:polygon": 1,
        "unsupported:points": 1,
        "unsupported:skeleton": 1,
        "unsupported:ellipse": 1,
    }


def test_project_export_takes_each_images_task_assignee():
    rows = rows_of(cvat.read(FIXTURES / "cvat_project.xml"))
    assert [(r["item_ref"], r.get("labeler_ref"), r["annotation_key"]) for r in rows] == [
        ("a/0001.jpg", "ann", "cvat:7:0"),
        ("b/0001.jpg", "bob", "cvat:8:0"),
        ("c/0001.jpg", None, "cvat:9:0"),  # no assignee: --labeler fills it in
    ]
    assert json.loads(rows[0]["attributes"]) == {"confidence": "high"}


def test_job_export_takes_the_job_assignee():
    (row,) = rows_of(cvat.read(FIXTURES / "cvat_job.xml"))
    assert (row["labeler_ref"], row["item_ref"], row["annotation_key"]) == (
        "carol",
        "job/0005.png",
        "cvat:5",
    )
    assert (row["bbox_x"], row["bbox_y"], row["bbox_w"], row["bbox_h"]) == (1.5, 2.5, 10.0, 20.0)


def test_every_bad_shape_is_reported():
    staged = cvat.read(FIXTURES / "cvat_bad.xml")
    assert problems_of(staged) == [
        (
            "image 1 (id 0, x/0001.jpg), shape 1 (box)",
            "xtl",
            "must be a number of pixels, got 'abc'",
        ),
        ("image 1 (id 0, x/0001.jpg), shape 2 (box)", "label", "a <box> needs its `label`"),
        ("image 1 (id 0, x/0001.jpg), shape 3 (box)", "occluded", "must be 0 or 1, got 'maybe'"),
        (
            "image 1 (id 0, x/0001.jpg), shape 4 (box)",
            "rotation",
            "rotated by 45.00 degrees; labelspec holds axis-aligned boxes only (undo the rotation in CVAT)",
        ),
        ("image 2 (id 1)", "name", "an <image> needs its `name`, the item's file name"),
    ]
    # an unknown class is validate's business
    assert [r["class"] for r in rows_of(staged)] == ["truck"]


# -- zips -------------------------------------------------------------------------------------------


def _zip(path, members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_export_zip_reads_its_annotations_xml(tmp_path):
    export = _zip(
        tmp_path / "task.zip",
        {"images/street/0001.jpg": b"\xff\xd8", "annotations.xml": TASK_XML.read_bytes()},
    )
    from_zip, from_xml = cvat.read(export), cvat.read(TASK_XML)
    assert from_zip.table.drop(["where"]).equals(from_xml.table.drop(["where"]))
    assert from_zip.skipped == from_xml.skipped


def test_zip_without_annotations_xml_is_refused(tmp_path):
    export = _zip(
        tmp_path / "yolo.zip",
        {"obj.names": b"car\n", "obj_train_data/0001.txt": b"0 0.5 0.5 0.1 0.1\n"},
    )
    with pytest.raises(ProblemsError, match=r"no annotations\.xml") as caught:
        cvat.read(export)
    assert 'export the task as "CVAT for images 1.1"' in caught.value.problems[0].message


def test_zip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    padding = b" " * (4 * 1024 * 1024)  # deflate squeezes this ~1000x
    xml = TASK_XML.read_bytes().replace(b"<version>", padding + b"<version>", 1)
    with pytest.raises(ProblemsError, match="zip member refused") as caught:
        cvat.read(_zip(tmp_path / "bomb.zip", {"annotations.xml": xml}))
    assert "possible zip bomb" in caught.value.problems[0].message


def test_over_large_member_is_refused(tmp_path):
    export = _zip(
        tmp_path / "big.zip", {"annotations.xml": TASK_XML.read_bytes()}, zipfile.ZIP_STORED
    )
    # claim a 3 GiB member in the central directory, as a crafted archive would
    data = bytearray(export.read_bytes())
    at = data.index(b"PK\x01\x02")
    data[at + 24 : at + 28] = struct.pack("<I", 3 * 1024**3)
    export.write_bytes(bytes(data))
    with pytest.raises(ProblemsError, match="too large") as caught:
        cvat.read(export)
    assert "over the 2,147,483,648 limit" in caught.value.problems[0].message


def test_corrupt_member_is_reported(tmp_path):
    export = _zip(
        tmp_path / "bad.zip", {"annotations.xml": TASK_XML.read_bytes()}, zipfile.ZIP_STORED
    )
    data = export.read_bytes().replace(
        b"street scenes", b"street scenez", 1
    )  # still XML, CRC wrong
    export.write_bytes(data)
    with pytest.raises(ProblemsError, match="unreadable zip member") as caught:
        cvat.read(export)
    assert "Bad CRC-32" in caught.value.problems[0].message
    assert caught.value.problems[0].file == f"{export}:annotations.xml"


# -- unparseable XML --------------------------------------------------------------------------------


def test_malformed_xml_points_at_the_line_and_column():
    with pytest.raises(ProblemsError, match="not well-formed XML") as caught:
        cvat.read(FIXTURES / "cvat_malformed.xml")
    (problem,) = caught.value.problems
    assert (problem.line, problem.col) == (6, 5)
    assert problem.message.startswith("malformed or truncated XML at line 6 col 5: mismatched tag")


def test_truncated_xml_is_reported(tmp_path):
    cut = tmp_path / "annotations.xml"
    whole = TASK_XML.read_bytes()
    cut.write_bytes(whole[: whole.index(b"<tag ")])  # a download that stopped mid-file
    with pytest.raises(ProblemsError, match="not well-formed XML") as caught:
        cvat.read(cut)
    (problem,) = caught.value.problems
    assert (problem.line, problem.col) == (72, 5)  # where the file ends
    assert "no element found" in problem.message


@pytest.mark.parametrize("name", ["cvat_billion_laughs.xml", "cvat_external_entity.xml"])
def test_entities_are_refused_without_expanding_them(name):
    started = time.monotonic()
    with pytest.raises(ProblemsError, match="unsafe XML refused") as caught:
        cvat.read(FIXTURES / name)
    assert time.monotonic() - started < 5
    message = caught.value.problems[0].message
    assert "<!DOCTYPE> with entity declarations" in message
    assert "billion laughs" in message and "read local files" in message


def test_another_xml_format_is_refused():
    with pytest.raises(ProblemsError, match="not CVAT XML") as caught:
        cvat.read(FIXTURES / "cvat_wrong_root.xml")
    assert "the root element is <annotation>, not <annotations>" in caught.value.problems[0].message
