"""The batch writer keeps columns that hold one value out of DuckDB's sort and fills them in
after: whatever is constant or not, the file must be byte for byte what pyarrow's writer makes
of the same rows."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from labelspec.guideline.releases import releases
from labelspec.store.batches import _constant_columns, write_batch, write_batch_rows
from labelspec.store.engine import Rows, database
from labelspec.store.schema import LABEL_SCHEMA
from labelspec.workspace import Workspace
from tests.store.conftest import digit_rows, item_id
from tests.store.test_lineage_rules import import_rows, release, train

META = {"labelspec.batch_id": "b-1", "labelspec.dataset": "digits", "labelspec.source": "v"}


def _label(n: int, **changes) -> dict:
    row = {
        "label_id": f"b-1-{n:08d}",
        "item_id": f"item-{n % 3}",
        "dataset": "digits",
        "annotation_id": f"a-{n:04d}",
        "labeler_id": "vA-01",
        "training_id": "t-1",
        "guideline": "digits",
        "guideline_version": "1.0.0",
        "guideline_digest": "d1",
        "class": "three",
        "bbox": None,
        "span": None,
        "attributes": "{}",
        "created_at": dt.datetime(2026, 2, 1, 10, n, tzinfo=dt.UTC),
        "lead_time_s": 2.5,
        "cost": 0.02,
        "source": "vendor-a",
        "format": "jsonl",
        "source_ids": None,
        "batch_id": "b-1",
        "supersedes": None,
        "tool_fields": None,
        "annotation_key": f"vendor-a:{n}",
    }
    return {**row, **changes}


CASES = {
    "all constant": ([_label(n) for n in range(7)], {"supersedes": None, "dataset": "digits"}),
    "every row superseding the same annotation": (
        [_label(n, supersedes=["a-0100"]) for n in range(5)],  # a relabel answer, compacted
        {"supersedes": "varies", "dataset": "digits"},  # a list: never filled in as a string
    ),
    "two releases, one superseding": (
        [_label(n) for n in range(5)]
        + [_label(5, guideline_version="1.1.0", guideline_digest="d2", supersedes=["a-0001"])],
        {"supersedes": "varies", "guideline_version": "varies", "dataset": "digits"},
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_rows_writer_makes_the_bytes_of_pyarrows_writer(name, tmp_path, monkeypatch):
    import labelspec.store.batches as batches

    monkeypatch.setattr(batches, "ROW_GROUP_SIZE", 4)  # row groups cut across the chunks
    monkeypatch.setenv("LABELSPEC_CHUNK_ROWS", "3")
    rows, expected = CASES[name]
    table = pa.Table.from_pylist(rows, schema=LABEL_SCHEMA)
    con = database()
    con.register("given", table)
    con.execute("create temp table t as select * from given")

    constants = _constant_columns(Rows(con, "t"))
    for column, value in expected.items():
        if value == "varies":
            assert column not in constants
        else:
            assert constants[column] == value
    write_batch_rows(Rows(con, "t"), tmp_path / "rows.parquet", META)
    write_batch(table.sort_by([("item_id", "ascending")]), tmp_path / "table.parquet", META)

    assert (tmp_path / "rows.parquet").read_bytes() == (tmp_path / "table.parquet").read_bytes()


def test_a_delivery_under_two_releases_keeps_each_rows_version_and_digest(digits_ws, run):
    release(run, digits_ws, "Threes may be open at the top")  # digits 1.1.0
    train(run, digits_ws, "vA-01", "1.1.0", "2026-01-15")
    rows = digit_rows((3, 13))
    rows[1]["guideline_version"] = "1.1.0"  # the other row takes --guideline's 1.0.0

    import_rows(run, digits_ws, rows, "1.0.0")

    (batch,) = (digits_ws / "datasets/digits/labels").glob("*.parquet")
    stored = pq.read_table(batch, columns=["item_id", "guideline_version", "guideline_digest"])
    digest = {r.version: r.digest for r in releases(Workspace(digits_ws), "digits")}
    assert sorted(stored.to_pylist(), key=lambda r: r["item_id"]) == [
        {"item_id": item_id(3), "guideline_version": "1.0.0", "guideline_digest": digest["1.0.0"]},
        {"item_id": item_id(13), "guideline_version": "1.1.0", "guideline_digest": digest["1.1.0"]},
    ]
    assert digest["1.0.0"] != digest["1.1.0"]
