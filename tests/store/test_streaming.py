"""Streaming imports: a delivery crosses from DuckDB into Python in chunks of
``LABELSPEC_CHUNK_ROWS`` rows and DuckDB spills past ``LABELSPEC_IMPORT_MEMORY_LIMIT``, so memory is
bounded by settings, not by the delivery. The chunking must not show in what is stored."""

from __future__ import annotations

import pyarrow.parquet as pq

from labelspec.labels.ingest import import_labels
from labelspec.workspace import Workspace
from tests.store.conftest import DIGITS, digit_class, item_id, write_jsonl

# Everything a label is, minus what names the batch (its id, and label ids derived from it).
BATCH_NAMED = {"batch_id", "label_id"}


def _stored(root, result):
    table = pq.read_table(root / f"datasets/digits/labels/{result.batch_id}.parquet")
    return table.drop_columns(sorted(BATCH_NAMED)).to_pylist(), table.schema.metadata


def test_a_delivery_read_in_many_chunks_gives_the_batch_one_chunk_gives(
    make_store, tmp_path, monkeypatch
):
    import labelspec.store.batches as batches

    rows = [
        {
            "item_id": item_id(i),
            "labeler": "vA-01",
            "class": digit_class(i),
            "created_at": "2026-02-01T10:00:00Z",
            "lead_time_s": 2.5 + i,
            "cost": 0.02,
        }
        for i in reversed(range(DIGITS))  # out of batch order: the sort must run out of core
    ]
    delivery = write_jsonl(tmp_path / "labels.jsonl", rows)
    one, many = make_store(name="one"), make_store(name="many")
    # row groups of 6 rows, so chunks of 7 cut across them and the writer has to re-cut
    monkeypatch.setattr(batches, "ROW_GROUP_SIZE", 6)

    monkeypatch.setenv("LABELSPEC_CHUNK_ROWS", "1000000")
    whole = import_labels(Workspace(one), "digits", delivery, "jsonl", "digits@1.0.0", "vendor-a")
    monkeypatch.setenv("LABELSPEC_CHUNK_ROWS", "7")
    monkeypatch.setenv("LABELSPEC_IMPORT_MEMORY_LIMIT", "96MB")
    chunked = import_labels(
        Workspace(many), "digits", delivery, "jsonl", "digits@1.0.0", "vendor-a"
    )

    assert (whole.labels, chunked.labels) == (DIGITS, DIGITS)
    whole_rows, whole_meta = _stored(one, whole)
    chunked_rows, chunked_meta = _stored(many, chunked)
    assert chunked_rows == whole_rows
    assert [r["item_id"] for r in chunked_rows] == sorted(item_id(i) for i in range(DIGITS))
    assert chunked_meta[b"labelspec.dataset"] == whole_meta[b"labelspec.dataset"] == b"digits"
    for root, result in ((one, whole), (many, chunked)):
        meta = pq.ParquetFile(root / f"datasets/digits/labels/{result.batch_id}.parquet").metadata
        assert [meta.row_group(g).num_rows for g in range(meta.num_row_groups)] == [6, 6, 6, 2]


def test_an_import_out_of_memory_names_the_setting_and_writes_nothing(
    make_store, tmp_path, monkeypatch, run
):
    from tests.helpers import state

    root = make_store()
    delivery = write_jsonl(
        tmp_path / "labels.jsonl",
        [{"item_id": item_id(0), "labeler": "vA-01", "class": digit_class(0)}],
    )
    before = state(root)
    monkeypatch.setenv("LABELSPEC_IMPORT_MEMORY_LIMIT", "8MB")
    result = run(
        "labels", "import", "digits", str(delivery), "--format", "jsonl",
        "--guideline", "digits@1.0.0", "--source", "vendor-a", cwd=root, expect=None,
    )  # fmt: skip
    assert result.exit_code != 0
    assert "LABELSPEC_IMPORT_MEMORY_LIMIT=8MB" in result.stderr
    assert "Traceback" not in result.stderr
    assert state(root) == before


def test_a_delivery_under_a_tiny_memory_limit_imports_the_batch_the_default_does(
    tmp_path, monkeypatch
):
    """200,000 labels (30 MB of JSONL) under 96MB, a third of the default: two or more DuckDB
    threads run out of it (measured on 2 cores), so the import runs again on one thread and
    spills, instead of refusing; 64MB is too little even for one thread."""
    from benchmarks import common
    from tests.conftest import copy_workspace

    base = common.fresh_workspace(tmp_path / "base")
    common.add_labelers(base)
    common.add_items(base, 20_000)
    delivery = common.write_jsonl(tmp_path / "labels.jsonl", 200_000, 20_000)
    default, tiny = (
        copy_workspace(base, tmp_path / "default"),
        copy_workspace(base, tmp_path / "tiny"),
    )

    monkeypatch.delenv("LABELSPEC_IMPORT_MEMORY_LIMIT", raising=False)
    whole = import_labels(Workspace(default), "digits", delivery, "jsonl", "digits@1.0.0", "bench")
    monkeypatch.setenv("LABELSPEC_IMPORT_MEMORY_LIMIT", "96MB")
    spilled = import_labels(Workspace(tiny), "digits", delivery, "jsonl", "digits@1.0.0", "bench")

    assert (whole.labels, spilled.labels) == (200_000, 200_000)
    stored = [
        pq.read_table(root / f"datasets/digits/labels/{r.batch_id}.parquet")
        for root, r in ((default, whole), (tiny, spilled))
    ]
    ids = [t.column("label_id").to_pylist() for t in stored]
    # the same rows in the same order; label ids differ only by the batch id they start with
    assert [i.removeprefix(whole.batch_id) for i in ids[0]] == [
        i.removeprefix(spilled.batch_id) for i in ids[1]
    ]
    assert (
        stored[0]
        .drop_columns(sorted(BATCH_NAMED))
        .equals(stored[1].drop_columns(sorted(BATCH_NAMED)))
    )


def test_the_default_import_memory_limit_is_a_sixteenth_of_memory_within_floor_and_cap(
    monkeypatch,
):
    from labelspec.store import engine

    for gib, expected in ((1, "256MB"), (4, "256MB"), (5, "320MB"), (24, "320MB"), (256, "320MB")):
        monkeypatch.setattr(engine, "machine_memory", lambda gib=gib: gib * 2**30)
        assert engine.default_import_memory_limit() == expected  # 4 GiB / 16 = 256MB; 5 GiB: 320
    monkeypatch.setenv("LABELSPEC_IMPORT_MEMORY_LIMIT", "2GB")
    assert engine.import_memory_limit() == "2GB"
