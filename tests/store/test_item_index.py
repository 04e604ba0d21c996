"""The item -> batch index behind `trace item`: built per clone, extended by what was imported
since, merged past MAX_SEGMENTS, and never changing an answer."""

from __future__ import annotations

import shutil

from labelspec.labels.ingest import import_labels
from labelspec.lineage.trace import trace_item
from labelspec.store.item_index import index_dir
from labelspec.workspace import Workspace
from tests.store.conftest import digit_rows, item_id, write_jsonl


def _import(ws, tmp_path, name, rows):
    path = write_jsonl(tmp_path / f"{name}.jsonl", rows)
    import_labels(ws, "digits", path, "jsonl", "digits@1.0.0", "vendor-a")


def test_trace_item_answers_the_same_with_its_index_as_without(make_store, tmp_path, monkeypatch):
    import labelspec.store.item_index as item_index

    ws = Workspace(make_store())
    _import(ws, tmp_path, "first", digit_rows(range(0, 10)))
    first = trace_item(ws, "digits", item_id(3))
    assert len(first["annotations"]) == 1
    folder = index_dir(ws, "digits")
    assert len(list(folder.glob("seg-*.parquet"))) == 1
    first_commit = ws.git.head()

    # a second delivery relabels item 3 (another class): the index covers the new batch with
    # one more segment, and the trace shows both annotations, the first superseded
    _import(ws, tmp_path, "second", [
        {**row, "class": "eight" if row["class"] != "eight" else "nine"}
        for row in digit_rows(range(3, 12))
    ])  # fmt: skip
    traced = trace_item(ws, "digits", item_id(3))
    assert len(list(folder.glob("seg-*.parquet"))) == 2
    assert len(traced["annotations"]) == 2
    assert [a["current"] for a in traced["annotations"]] == [False, True]
    assert trace_item(ws, "digits", item_id(15))["annotations"] == []
    # at the first revision the index still holds the second batch's rows: they are left out
    then = trace_item(ws, "digits", item_id(3), snapshot=first_commit)
    assert then["annotations"] == first["annotations"]

    shutil.rmtree(folder)  # a fresh clone: no index yet
    assert trace_item(ws, "digits", item_id(3)) == traced

    monkeypatch.setattr(item_index, "MAX_SEGMENTS", 1)
    _import(ws, tmp_path, "third", digit_rows(range(12, 14)))
    assert len(trace_item(ws, "digits", item_id(12))["annotations"]) == 1
    assert len(list(folder.glob("seg-*.parquet"))) == 1  # merged
    assert trace_item(ws, "digits", item_id(3))["annotations"] == traced["annotations"]
