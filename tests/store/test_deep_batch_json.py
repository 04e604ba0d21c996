"""JSON kept in a label batch (attributes, source_ids, tool_fields) is parsed with bounded nesting
by the exporters and `trace item`: a batch written or edited outside labelspec with a 50,000-deep
value is refused naming its batch file and label, never a RecursionError."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

DEEP = '{"a": ' * 50_000 + "1" + "}" * 50_000


@pytest.fixture
def deep_batch(labeled_ws):
    """The labeled workspace whose one batch has DEEP as the attributes and source_ids of the
    label of item d03.png (the working copy the reads use); returns (root, batch id, label id)."""
    [batch] = (labeled_ws / "datasets/digits/labels").glob("*.parquet")
    table = pq.read_table(batch)
    items = table.column("item_id").to_pylist()
    row = items.index("d03.png")
    label_id = table.column("label_id")[row].as_py()
    for column in ("attributes", "source_ids"):
        values = table.column(column).to_pylist()
        values[row] = DEEP
        table = table.set_column(
            table.schema.get_field_index(column), column, pa.array(values, pa.string())
        )
    batch.unlink()  # it may be a link to the read-only cache copy
    pq.write_table(table, batch)
    return labeled_ws, batch.name.removesuffix(".parquet"), label_id


def refusal(batch_id: str, label_id: str, column: str) -> str:
    return (
        f"batch file labels/{batch_id}.parquet, label {label_id}: `{column}` is JSON nested "
        "deeper than 64 levels, which no import writes; refused (retract the batch with "
        f"`labelspec labels retract {batch_id} --reason ...`"
    )


@pytest.mark.parametrize("fmt", ["coco", "labelstudio", "jsonl"])
def test_export_refuses_a_batch_with_deep_attributes(deep_batch, run, tmp_path, fmt):
    root, batch_id, label_id = deep_batch
    out = tmp_path / "out" / f"labels.{fmt}"
    out.parent.mkdir()
    refused = run("labels", "export", "digits", "--format", fmt, "--out", str(out), cwd=root,
                  expect=1)  # fmt: skip
    assert refusal(batch_id, label_id, "attributes") in refused.stderr
    assert list(out.parent.iterdir()) == []  # no export, no labeling config beside it


def test_trace_item_refuses_deep_source_ids_and_other_items_still_trace(deep_batch, run):
    root, batch_id, label_id = deep_batch
    refused = run("trace", "item", "digits", "d03.png", cwd=root, expect=1)
    assert refusal(batch_id, label_id, "source_ids") in refused.stderr
    traced = run("trace", "item", "digits", "d04.png", cwd=root)
    assert "d04.png" in traced.stdout
