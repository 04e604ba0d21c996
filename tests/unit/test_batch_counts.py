"""The counts of a batch's record, tallied from its chunks as they are written: an item or an
annotation split across two chunks counts once, empty answers count apart, and a labeler who
gave only empty answers still appears (with 0 labels)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from labelspec.labels.batch_counts import BatchCounts
from labelspec.labels.ingest import _summary_counts
from labelspec.store.engine import database
from labelspec.store.schema import NO_OBJECTS

# in the batch's sort order: item, annotation
ROWS = [
    ("i1", "a1", "cat", "A"),
    ("i1", "a1", "dog", "A"),
    ("i1", "a2", None, "B"),  # an empty answer: B gave no label
    ("i2", "a3", "cat", "A"),
    ("i2", "a3", "cat", "A"),
    ("i3", "a4", None, "C"),
]
SCHEMA = pa.schema(
    [("item_id", pa.string()), ("annotation_id", pa.string()), ("class", pa.string()),
     ("labeler_id", pa.string())]
)  # fmt: skip


def table() -> pa.Table:
    return pa.Table.from_pylist([dict(zip(SCHEMA.names, r, strict=True)) for r in ROWS], SCHEMA)


@pytest.mark.parametrize("chunk", [1, 2, 3, 4, 6])
def test_counts_by_hand_whatever_the_chunks(chunk):
    counts = BatchCounts()
    for batch in table().to_batches(max_chunksize=chunk):
        counts.add(batch)

    assert (counts.rows, counts.items, counts.annotations) == (6, 3, 4)
    assert counts.by_class == {NO_OBJECTS: 2, "cat": 3, "dog": 1}
    assert counts.by_labeler == {"A": 4, "B": 0, "C": 0}


def test_the_tally_agrees_with_the_sql_counts():
    con = database()
    con.register("batch", table())
    counts = BatchCounts()
    for batch in table().to_batches(max_chunksize=2):
        counts.add(batch)

    rows, annotations, items, by_class, by_labeler = _summary_counts(con)

    assert (counts.rows, counts.annotations, counts.items) == (rows, annotations, items)
    assert (counts.by_class, counts.by_labeler) == (by_class, by_labeler)
    assert list(counts.by_class) == list(by_class)  # the same order, as shown to the user
