"""What a batch's record and an import's summary count (labels, annotations, items, by class and
by labeler), tallied from the batch's chunks as they stream to its file in the batch's sort
order: no pass over the rows of its own, and no second computation of rows that are a view."""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc

from labelspec.store.schema import NO_OBJECTS


class BatchCounts:
    """Fed every chunk of a batch in its sort order (item, annotation, label): an item or an
    annotation is counted where it starts, so one that spans two chunks counts once."""

    def __init__(self) -> None:
        self.rows = 0
        self.items = 0
        self.annotations = 0
        self._by_class: Counter[str] = Counter()
        self._by_labeler: Counter[str] = Counter()
        self._last: tuple[str, str] | None = None  # (item, annotation) ending the last chunk

    def add(self, chunk: pa.RecordBatch) -> None:
        n = chunk.num_rows
        if n == 0:
            return
        item, annotation = chunk.column("item_id"), chunk.column("annotation_id")
        first = (item[0].as_py(), annotation[0].as_py())
        new_item = pc.not_equal(item.slice(1), item.slice(0, n - 1))
        new_annotation = pc.or_(
            new_item, pc.not_equal(annotation.slice(1), annotation.slice(0, n - 1))
        )
        # an annotation id names one item (it digests the item), so (item, annotation) pairs
        # are the batch's distinct annotations
        self.items += _trues(new_item) + (self._last is None or first[0] != self._last[0])
        self.annotations += _trues(new_annotation) + (self._last != first)
        self._last = (item[n - 1].as_py(), annotation[n - 1].as_py())
        self.rows += n
        classes = chunk.column("class")
        # an empty answer (a null class) counts as NO_OBJECTS; nulls mapped in Python, since
        # pc.fill_null with a Python string makes pyarrow import pandas
        self._by_class.update(
            {NO_OBJECTS if k is None else k: n for k, n in _value_counts(classes).items()}
        )
        labelers = chunk.column("labeler_id")
        # every labeler of the batch appears, with 0 when they gave only empty answers
        self._by_labeler.update(dict.fromkeys(_value_counts(labelers), 0))
        self._by_labeler.update(_value_counts(pc.filter(labelers, pc.is_valid(classes))))

    @property
    def by_class(self) -> dict[str, int]:
        return dict(sorted(self._by_class.items()))

    @property
    def by_labeler(self) -> dict[str, int]:
        """Labels (not empty answers) by labeler."""
        return dict(sorted(self._by_labeler.items()))


def _trues(mask: pa.Array) -> int:
    return pc.sum(mask).as_py() or 0


def _value_counts(values: pa.Array) -> dict[str, int]:
    counted = pc.value_counts(values)
    return dict(
        zip(
            counted.field("values").to_pylist(),
            counted.field("counts").to_pylist(),
            strict=True,
        )
    )
