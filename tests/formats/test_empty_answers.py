"""Explicit empty answers ("no objects here"): read from every format, validated, stored as one
row with a null class, and exported so that they come back."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from labelspec.formats import coco
from tests.helpers import git, state
from tests.store.conftest import built, make_store, write_jsonl  # noqa: F401
from tests.store.test_import import assert_refused

SHAPES = ["labels", "import", "shapes"]
GUIDELINE = ["--guideline", "shapes@1.0.0", "--source", "vendor-a"]
CIRCLE = {
    "item_id": "circle_big.png",
    "labeler": "vA-01",
    "class": "circle",
    "bbox": [24, 24, 80, 80],
    "attributes": {"occluded": False},
    "created_at": "2026-02-01T10:00:00Z",
}


def empty(item: str, **more) -> dict:
    return {"item_id": item, "labeler": "vA-01", "empty": True,
            "created_at": "2026-02-01T10:00:00Z", **more}  # fmt: skip


def stored(root) -> list[dict]:
    files = sorted((root / "datasets/shapes/labels").glob("*.parquet"))
    return [row for f in files for row in pq.read_table(f).to_pylist()]


def test_a_jsonl_empty_answer_is_one_row_without_class_box_or_span(make_store, run, tmp_path):  # noqa: F811
    root = make_store("shapes")
    source = write_jsonl(tmp_path / "d.jsonl", [CIRCLE, empty("ellipse_wide.png")])
    result = run(*SHAPES, str(source), "--format", "jsonl", *GUIDELINE, cwd=root)
    assert result.stdout.startswith("Imported 1 label(s) in 2 annotation(s) on 2 item(s)")
    assert "  empty:      1 annotation(s) with no objects" in result.stdout.splitlines()
    # the commit counts as the import does: an empty answer is no label
    subject = git(root, "log", "-1", "--format=%s")
    assert subject.startswith("import 1 label and 1 empty answer(s) into shapes from vendor-a")
    row = next(r for r in stored(root) if r["item_id"] == "ellipse_wide.png")
    assert (row["class"], row["bbox"], row["span"], row["attributes"]) == (None, None, None, "{}")
    shown = json.loads(run("labels", "show", "shapes", "--json", cwd=root).stdout)
    assert (shown["labels"], shown["empty_answers"], shown["items"]) == (1, 1, 2)
    trace = run("trace", "item", "shapes", "ellipse_wide.png", cwd=root).stdout
    assert "(no objects)" in trace
    # no class page for an empty answer: the release's home page, never "page None"
    assert "page shapes/1.0.0/\n" in trace and "None" not in trace
    # verify counts the two apart, as the import did (read from the footer's null count)
    checked = run("verify", cwd=root).stdout.strip()
    assert checked == "ok: shapes: 1 batches, 1 labels and 1 empty answer(s)"


@pytest.mark.parametrize(
    ("rows", "field", "message"),
    [
        (
            [CIRCLE, empty("circle_big.png")],
            "empty",
            'labeler vA-01 gave item circle_big.png both an empty answer ("no objects here") '
            "and 1 object(s) in this delivery: keep one of them",
        ),
        (
            [empty("circle_big.png", **{"class": "circle"})],
            "empty",
            'an empty answer ("no objects here") has no class, box or span: give either the '
            "empty answer or the objects",
        ),
        (
            [empty("circle_big.png", attributes={"occluded": True})],
            "empty",
            'an empty answer ("no objects here") carries no attributes',
        ),
        (
            [{"item_id": "circle_big.png", "labeler": "vA-01", "empty": "yes"}],
            "empty",
            "must be true (an explicit empty answer) or false",
        ),
    ],
    ids=["beside-boxes", "with-a-class", "with-attributes", "not-a-boolean"],
)
def test_a_bad_empty_answer_is_refused(make_store, run, tmp_path, rows, field, message):  # noqa: F811
    root = make_store("shapes")
    source = write_jsonl(tmp_path / "bad.jsonl", rows)
    before = state(root)
    result = run(*SHAPES, str(source), "--format", "jsonl", *GUIDELINE, cwd=root, expect=1)
    assert f"{field}: {message}" in result.stderr
    assert state(root) == before


def test_a_classification_guideline_refuses_an_empty_answer(make_store, run, tmp_path):  # noqa: F811
    root = make_store("digits")
    row = {"item_id": "d00.png", "labeler": "vA-01", "empty": True,
           "created_at": "2026-02-01T10:00:00Z"}  # fmt: skip
    source = write_jsonl(tmp_path / "bad.jsonl", [row])
    assert_refused(
        run,
        root,
        [
            "labels",
            "import",
            "digits",
            str(source),
            "--format",
            "jsonl",
            "--guideline",
            "digits@1.0.0",
            "--source",
            "vendor-a",
        ],
        "bad.jsonl: 1 problem(s) (1 empty); nothing was imported",
        [
            f'{source}:1: empty: an empty answer ("no objects here") is no answer under digits, a '
            "classification guideline: every item gets one class (cancel or skip the task in "
            "the tool instead)"
        ],
    )


def test_coco_images_without_annotations_are_empty_answers_only_when_all_were_given(tmp_path):
    doc = {
        "images": [{"id": 1, "file_name": "a.png"}, {"id": 2, "file_name": "b.png"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5]}],
        "categories": [{"id": 1, "name": "circle"}],
    }
    path = tmp_path / "c.json"
    path.write_text(json.dumps(doc))
    assert coco.read(path).table.num_rows == 1  # b.png: given to the vendor? COCO cannot say
    rows = coco.read(path, images_were="all").table.to_pylist()
    (answer,) = [r for r in rows if r["empty"]]
    assert (answer["item_ref"], answer["class"], answer["annotation_key"]) == (
        "b.png",
        None,
        "coco:2:",
    )


def test_coco_export_and_reimport_keep_the_empty_answer(make_store, run, tmp_path):  # noqa: F811
    root = make_store("shapes")
    source = write_jsonl(tmp_path / "d.jsonl", [CIRCLE, empty("ellipse_wide.png")])
    run(*SHAPES, str(source), "--format", "jsonl", *GUIDELINE, cwd=root)
    out = tmp_path / "export.coco.json"
    run("labels", "export", "shapes", "--format", "coco", "--out", str(out), cwd=root)
    doc = json.loads(out.read_text())
    image = next(i for i in doc["images"] if i["file_name"].endswith("ellipse_wide.png"))
    assert [a["labeler"] for a in image["empty_answers"]] == ["vA-01"]
    assert not [a for a in doc["annotations"] if a["image_id"] == image["id"]]  # a background image
    staged = coco.read(out).table.to_pylist()  # no --images-were: empty_answers say it
    assert [r["labeler_ref"] for r in staged if r["empty"]] == ["vA-01"]
    # re-importing the export into the same workspace: the same annotations, nothing new
    result = run(*SHAPES, str(out), "--format", "coco", "--guideline", "shapes@1.0.0",
                 "--source", "vendor-a", "--dry-run", cwd=root)  # fmt: skip
    assert "0 updated" in result.stdout


def test_jsonl_export_writes_the_empty_answer_back(make_store, run, tmp_path):  # noqa: F811
    root = make_store("shapes")
    source = write_jsonl(tmp_path / "d.jsonl", [CIRCLE, empty("ellipse_wide.png")])
    run(*SHAPES, str(source), "--format", "jsonl", *GUIDELINE, cwd=root)
    out = tmp_path / "export.jsonl"
    run("labels", "export", "shapes", "--format", "jsonl", "--out", str(out), cwd=root)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    (line,) = [x for x in lines if x["item_id"] == "ellipse_wide.png"]
    assert (line["empty"], line["class"], line["bbox"]) == (True, None, None)


def test_two_labelers_exports_of_the_same_images_do_not_replace_each_other(
    make_store,  # noqa: F811
    run,
    tmp_path,
):
    """COCO names no annotator: each labeler's export of the same images carries the same tool
    keys, told apart by --labeler. The second is new work, not an edit of the first."""
    root = make_store("shapes")
    doc = {
        "images": [{"id": 1, "file_name": "circle_big.png"}, {"id": 2, "file_name": "ellipse_wide.png"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [24, 24, 80, 80],
                         "attributes": {"occluded": False}}],
        "categories": [{"id": 1, "name": "circle"}],
    }  # fmt: skip
    path = tmp_path / "c.json"
    path.write_text(json.dumps(doc))
    args = [*SHAPES, str(path), "--format", "coco", "--guideline", "shapes@1.0.0",
            "--images-were", "all"]  # fmt: skip
    run(*args, "--source", "vendor-a", "--labeler", "vA-01", cwd=root)
    run("labeler", "train", "vB-01", "--guideline", "shapes", "--version", "1.0.0",
        "--method", "session", "--score", "0.9", "--passed", "--date", "2026-01-15", cwd=root)  # fmt: skip
    second = run(*args, "--source", "vendor-a", "--labeler", "vB-01", "--dry-run", cwd=root)
    assert "2 new, 0 updated, 0 unchanged" in second.stdout
