"""An annotation's id is a promise: re-importing an export (this release's labelspec or a later
one) must make the ids earlier imports wrote, or every unchanged label would come back as new.
These cases compute the ids by hand from the documented formula, with hashlib, so a change to
what is hashed, in what order or how a value is rendered fails here."""

from __future__ import annotations

import hashlib
import json

import duckdb
import pyarrow.parquet as pq

from labelspec.labels.validate import RECORD_NUMBER
from tests.store.conftest import digit_rows, write_jsonl


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def annotation_id(ns: str, item: str, labeler: str, said: str) -> str:
    """Formats without a tool key (JSONL, CSV): one annotation per item and labeler."""
    key = "item:" + md5(json.dumps([item, labeler], separators=(",", ":")))
    return "a-" + md5(f"{ns}|{key}|{item}|{labeler}|{said}")[:16]


def said(cls, box=(None,) * 4, attributes="{}", version="1.0.0", at=None) -> str:
    """What the labeler said, as DuckDB's to_json renders it."""
    x, y, w, h = (json.dumps(v) for v in box)
    return (
        f'{{"c":{json.dumps(cls)},"x":{x},"y":{y},"w":{w},"h":{h},"s":null,"e":null,'
        f'"a":{json.dumps(attributes)},"v":"{version}","t":{json.dumps(at)}}}'
    )


def batch_rows(root) -> list[dict]:
    (path,) = sorted(root.glob("datasets/*/labels/*.parquet"))
    return pq.read_table(path).to_pylist()


def test_a_classification_label_has_the_id_of_its_item_labeler_and_answer(digits_ws, run, tmp_path):
    rows = digit_rows([3, 13])
    source = write_jsonl(tmp_path / "threes.jsonl", rows)
    args = ["labels", "import", "digits", str(source), "--format", "jsonl"]
    run(*args, "--guideline", "digits@1.0.0", "--source", "vendor-a", cwd=digits_ws)

    got = {r["item_id"]: r for r in batch_rows(digits_ws)}

    for n, row in enumerate(rows, 1):
        label = got[row["item_id"]]
        answer = said(row["class"], at="2026-02-01 10:00:00+00")
        expected = annotation_id("vendor-a", row["item_id"], "vA-01", md5(answer))
        assert label["annotation_id"] == expected
        assert label["label_id"] == f"{label['batch_id']}-{n:08d}"
        assert label["annotation_key"] is None or label["annotation_key"].startswith("vendor-a:")


def test_an_annotation_of_several_boxes_digests_them_in_order(make_store, run, tmp_path):
    root = make_store("shapes")
    boxes = [[70.0, 20.0, 30.0, 30.0], [24.0, 24.0, 80.0, 80.0]]  # the larger x first in the file
    rows = [
        {"item_id": "circle_big.png", "labeler": "vA-01", "class": "circle", "bbox": box,
         "attributes": {"occluded": False}}
        for box in boxes
    ]  # fmt: skip
    source = write_jsonl(tmp_path / "boxes.jsonl", rows)
    args = ["labels", "import", "shapes", str(source), "--format", "jsonl"]
    run(*args, "--guideline", "shapes@1.0.0", "--source", "vendor-a", cwd=root)

    labels = batch_rows(root)

    answers = [said("circle", box, '{"occluded":false}') for box in sorted(boxes)]  # by x
    expected = annotation_id("vendor-a", "circle_big.png", "vA-01", md5(";".join(answers)))
    assert [label["annotation_id"] for label in labels] == [expected, expected]


def test_record_numbers_stay_distinct_past_eight_digits():
    # lpad alone cuts 123456789 to 12345678: two labels of one batch would share an id
    recs = [1, 12345678, 99999999, 100000000, 123456789]
    expr = RECORD_NUMBER.replace("r.rec", "rec")
    numbers = duckdb.sql(f"select {expr} from unnest({recs}::BIGINT[]) t(rec)").fetchall()

    assert [n for (n,) in numbers] == ["00000001", "12345678", "99999999", "100000000", "123456789"]
