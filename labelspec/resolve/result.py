"""What a resolution returns: one decision per item (classes) or per region (boxes, spans).

``status`` says what became of a decision: ``resolved`` (it is the item's label), ``tie`` (the
votes do not decide between classes, or a region was drawn by exactly half the weight; never
guessed) or ``rejected`` (a box, span or class of a set that fewer than half drew: kept in the
table so a reviewer sees it, never in a training set). An item is *low-confidence* when it has a
tie, a resolved decision below the floor, or a rejection less certain than the floor (a box one
labeler of two drew); its labels stay out of ``labels`` (a training set) as a whole, since half an
image's boxes would teach a detector that the other objects are background.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from labelspec.store.engine import database
from labelspec.store.schema import BBOX, SPAN

RESOLVED_SCHEMA = pa.schema(
    [
        pa.field("item_id", pa.string(), nullable=False),
        pa.field("class", pa.string()),  # null on a tie between classes
        pa.field("bbox", BBOX),  # detection: the fused box, pixels
        pa.field("span", SPAN),  # ner
        pa.field("confidence", pa.float64(), nullable=False),
        pa.field("status", pa.string(), nullable=False),  # resolved | tie | rejected
        pa.field("method", pa.string(), nullable=False),  # the rule that decided this row
        pa.field("voters", pa.int32(), nullable=False),  # labelers whose annotation counted
        pa.field("labelers", pa.list_(pa.string()), nullable=False),  # who supports it
        pa.field("label_ids", pa.list_(pa.string()), nullable=False),  # the labels it came from
        pa.field("suspect", pa.bool_(), nullable=False),  # under the newest guideline release
    ]
)
# The resolved rows of ``Resolved.labels`` (what goes into a training set) do without ``status``.
LABELS_SCHEMA = pa.schema([f for f in RESOLVED_SCHEMA if f.name != "status"])

# A pinned training set: everything a loader needs, one row per item (classification), per
# object (detection; one row with a null class for a background image) or per span / class.
TRAINSET_SCHEMA = pa.schema(
    [
        pa.field("item_id", pa.string(), nullable=False),
        pa.field(
            "split", pa.string(), nullable=False
        ),  # train | val | test | eval | a column's value
        pa.field("path", pa.string()),  # the item's file, relative to the workspace (git or DVC)
        pa.field("width", pa.int32()),  # pixels (images)
        pa.field("height", pa.int32()),
        pa.field("class", pa.string()),  # the class id; null: "no objects" (a background image)
        pa.field("class_index", pa.int32()),  # 0-based, in the record's ``classes`` order
        pa.field("class_name", pa.string()),  # the spec's display name
        pa.field("bbox", BBOX),  # pixels: top-left x, y, width, height (COCO's convention)
        pa.field("span", SPAN),  # characters, end exclusive
        pa.field("attributes", pa.string(), nullable=False),  # JSON: the majority per attribute
        pa.field("attribute_ties", pa.list_(pa.string()), nullable=False),  # no majority: left out
        pa.field("confidence", pa.float64(), nullable=False),
        pa.field("method", pa.string(), nullable=False),  # golden on the eval split's rows
        pa.field("voters", pa.int32(), nullable=False),
        pa.field("labelers", pa.list_(pa.string()), nullable=False),
        pa.field("label_ids", pa.list_(pa.string()), nullable=False),
        pa.field("label_versions", pa.list_(pa.string()), nullable=False),  # per label id
        pa.field("guideline_version", pa.string()),  # the newest of ``label_versions``
        pa.field("suspect", pa.bool_(), nullable=False),
    ]
)


@dataclass
class Resolved:
    dataset: str
    snapshot: str  # the revision as asked for, or its short commit
    commit: str
    guideline: str
    task: str
    method: str
    parameters: dict[str, Any]
    table: pa.Table  # RESOLVED_SCHEMA, sorted by item, class, region
    min_confidence: float = 0.0
    labeler_quality: dict[str, float] = field(default_factory=dict)  # dawid-skene estimates
    diagnostics: dict[str, Any] = field(default_factory=dict)  # dawid-skene: iterations, converged
    classes: list[str] = field(default_factory=list)  # class ids, spec order, then others used
    class_names: dict[str, str] = field(default_factory=dict)  # id -> the spec's display name

    def _low_mask(self) -> pa.ChunkedArray:
        status, confidence = self.table.column("status"), self.table.column("confidence")
        floor = self.min_confidence
        return pc.or_(
            pc.equal(status, "tie"),
            pc.or_(
                pc.and_(pc.equal(status, "resolved"), pc.less(confidence, floor)),
                pc.and_(
                    pc.equal(status, "rejected"),
                    pc.less(pc.subtract(1.0, confidence), floor),
                ),
            ),
        )

    @cached_property
    def low_confidence(self) -> list[str]:
        """Items to relabel: a tie, or a decision less certain than ``min_confidence``."""
        low = self.table.filter(self._low_mask()).column("item_id")
        return sorted(pc.unique(low).to_pylist())

    @property
    def labels(self) -> pa.Table:
        """The resolved labels of every item that is not low-confidence: a training set."""
        low = pa.array(self.low_confidence, pa.string())
        keep = pc.and_(
            pc.equal(self.table.column("status"), "resolved"),
            pc.invert(pc.is_in(self.table.column("item_id"), value_set=low)),
        )
        return self.table.filter(keep).select(LABELS_SCHEMA.names)

    def counts(self) -> dict[str, Any]:

        con = database()
        con.register("decisions", self.table)
        con.register("chosen", self.labels)
        items, ties, suspect = con.execute(
            "select count(distinct item_id), count(distinct item_id) filter (where status = 'tie'), "
            "count(distinct item_id) filter (where suspect) from decisions"
        ).fetchall()[0]
        # a resolved "no objects here" (class null: a background image) is an item, not a label
        labels, labeled, empty = con.execute(
            'select count("class"), count(distinct item_id), '
            'count(distinct item_id) filter (where "class" is null) from chosen'
        ).fetchall()[0]
        by_class = dict(
            con.execute(
                'select "class", count(*) from chosen where "class" is not null group by 1 order by 1'
            ).fetchall()
        )
        return {
            "items": items,
            "labels": labels,
            "resolved_items": labeled,
            "no_objects_items": empty,
            "ties": ties,
            "low_confidence": len(self.low_confidence),
            "suspect_items": suspect,
            "by_class": by_class,
        }

    def to_json(self) -> dict[str, Any]:
        """The summary a command prints (the table itself goes to ``--out``)."""
        return {
            "dataset": self.dataset,
            "snapshot": self.snapshot,
            "commit": self.commit,
            "guideline": self.guideline,
            "task": self.task,
            "method": self.method,
            "parameters": self.parameters,
            "min_confidence": self.min_confidence,
            **self.counts(),
            "low_confidence_items": self.low_confidence,
            "labeler_quality": self.labeler_quality,
            "diagnostics": self.diagnostics,
        }


def write_table(table: pa.Table, path, json_columns: tuple[str, ...] = ()) -> str:
    """Write a resolution or training set to ``path``: JSON lines for ``.jsonl``, else Parquet.
    ``json_columns`` hold JSON texts, written into the lines as the values they encode (a
    training set's ``attributes``: an object, not a string to parse again). Returns the format
    written."""

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".jsonl":
        with path.open("w", encoding="utf-8") as handle:
            for row in table.to_pylist():
                for name in json_columns:
                    row[name] = json.loads(row[name])
                handle.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
        return "jsonl"
    pq.write_table(table, path, compression="zstd")
    return "parquet"
