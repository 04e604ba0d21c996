"""The staged rows every reader produces: one row per label, typed, not yet validated.

Readers only parse. Everything that needs the workspace (which item, which labeler, is the class
in the spec, is the box inside the image, is the labeler trained) is checked afterwards in one
vectorised pass (``labelspec.labels.validate``), the same for every format.

Item and labeler references are kept as the tool wrote them (``item_ref``, ``labeler_ref``);
``item_ref_kind`` says how to match the item: ``id`` (an item_id), ``path`` (a path, URL or file
name, matched by path, then file name, then a Label Studio upload name ``<hash>-name``) or
``text`` (the text itself, matched by its sha256).

An explicit empty answer ("no objects here": a Label Studio annotation with an empty result, a
YOLO label file without lines, a CVAT image without shapes, a COCO image a vendor was given and
left unannotated, a JSONL line with ``"empty": true``) is one row with ``empty`` true and no
class, box or span. It stays distinct from an item nobody labeled and from a cancelled task.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from labelspec.errors import Problem

STAGED_SCHEMA = pa.schema(
    [
        pa.field("rec", pa.int64(), nullable=False),  # 1-based record index, for messages
        pa.field("where", pa.string()),  # human location ("line 17", "task 3, annotation 1")
        pa.field("item_ref", pa.string()),
        pa.field("item_ref_kind", pa.string()),  # id | path | text
        pa.field("labeler_ref", pa.string()),
        pa.field("class", pa.string()),
        pa.field("bbox_x", pa.float64()),
        pa.field("bbox_y", pa.float64()),
        pa.field("bbox_w", pa.float64()),
        pa.field("bbox_h", pa.float64()),
        pa.field("span_start", pa.int64()),
        pa.field("span_end", pa.int64()),
        pa.field("attributes", pa.string()),  # a JSON object, keys sorted
        pa.field("created_at", pa.timestamp("us", tz="UTC")),
        pa.field("lead_time_s", pa.float64()),
        pa.field("cost", pa.float64()),
        pa.field("guideline_version", pa.string()),
        pa.field("annotation_key", pa.string()),  # labels sharing it are one annotation
        pa.field("source_ids", pa.string()),  # the tool's own ids, JSON, for provenance
        # "yolo": bbox_* are YOLO's normalised centre x, centre y, width, height (0..1), turned
        # into pixels with the item's size during validation; NULL: pixels, top-left corner;
        # "px@640x400" (``drawn_on``): pixels of the image the tool showed, that size, scaled
        # to the registered size during validation when the two differ
        pa.field("bbox_units", pa.string()),
        pa.field("tool_fields", pa.string()),  # the tool's own fields (occluded, z_order ...), JSON
        # an explicit "no objects here" answer: the labeler saw the item and found nothing to box
        # or tag (class, box and span stay NULL); NULL or false on every other row
        pa.field("empty", pa.bool_()),
        # the characters the tool says a span covers (Label Studio's value.text), compared with
        # the item's text at [span_start, span_end] during validation; never stored
        pa.field("span_text", pa.string()),
        # a span given in a text with CRLF line breaks: its offsets with each CRLF counted as one
        # LF, for an item whose stored text is that text with LF breaks (as ``items add`` stores a
        # file); validation picks these or span_start / span_end by the item's stored text
        pa.field("span_start_lf", pa.int64()),
        pa.field("span_end_lf", pa.int64()),
        # a span given but unreadable: the reader's problem, said once (not also "a span is
        # required"), as bbox_units "unreadable" is for a box
        pa.field("span_unreadable", pa.bool_()),
    ]
)
COLUMNS = STAGED_SCHEMA.names


@dataclass
class Staged:
    """What a reader returns: the rows, and problems found while parsing (file, record, field)."""

    table: pa.Table | None  # the rows, unless a DuckDB connection holds them (below)
    problems: list[Problem] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> count (cancelled, empty ...)
    format: str = ""
    line_of: Callable[[int], int] | None = None  # record -> file line, for line-based formats
    # formats DuckDB parses (JSONL, CSV) leave the rows in its temp table ``relation`` of ``con``,
    # so that validation and the batch writer stream them: memory bounded by DuckDB's limit
    con: Any = None
    relation: str | None = None
    # what frees ``relation`` and the tables behind it once validation has resolved its rows
    release: str | None = None


class RowBuilder:
    """Collects rows from Python-parsed formats (JSON documents, XML) column by column."""

    def __init__(self, path: Path, fmt: str):
        self.path = path
        self.format = fmt
        self.columns: dict[str, list[Any]] = {name: [] for name in COLUMNS}
        self.problems: list[Problem] = []
        self.skipped: dict[str, int] = {}

    def add(self, **values: Any) -> None:
        values["rec"] = len(self.columns["rec"]) + 1
        for name in COLUMNS:
            self.columns[name].append(values.get(name))

    def problem(self, where: str, field_name: str, message: str) -> None:
        self.problems.append(
            Problem(message=message, file=str(self.path), record=where, path=field_name)
        )

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def build(self) -> Staged:
        table = pa.Table.from_pydict(self.columns, schema=STAGED_SCHEMA)
        return Staged(table=table, problems=self.problems, skipped=self.skipped, format=self.format)


# Fields labeling tools write on every shape. They are the tool's bookkeeping, not answers to
# the guideline: kept with the label (``tool_fields``) and never refused as unknown attributes.
# A spec that defines one of them as an attribute (``occluded``, say) still gets its value.
TOOL_FIELDS = frozenset(
    {
        "occluded", "z_order", "rotation", "source", "keyframe", "outside", "group", "group_id",
        "track_id", "iscrowd", "origin", "score", "parent_prediction",
    }
)  # fmt: skip


def tool_fields_json(fields: dict[str, Any]) -> str | None:
    kept = {k: v for k, v in fields.items() if v is not None}
    return json.dumps(kept, sort_keys=True, default=str) if kept else None


def attributes_json(attributes: dict[str, Any] | None) -> str:
    return json.dumps(attributes or {}, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def parse_timestamp(value: Any) -> dt.datetime | None:
    """ISO 8601 (a trailing Z allowed) or epoch seconds; naive times are taken as UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    if isinstance(value, str):
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    raise ValueError(f"not a timestamp: {value!r}")


def number(value: Any) -> float | None:
    """A JSON number as float; None stays None; anything else raises ValueError."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number, got {value!r}")
    return float(value)


def drawn_on(width: Any, height: Any) -> str | None:
    """``bbox_units`` of a pixel box drawn on a ``width`` x ``height`` image, as the tool
    reported it (None when it reported no usable size: the box is then taken as it is)."""
    sizes = [width, height]
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in sizes):
        return None
    if not all(math.isfinite(v) and v > 0 for v in sizes):
        return None
    return "px@" + "x".join(str(int(v)) if float(v).is_integer() else repr(float(v)) for v in sizes)


def drawn_size(units: str) -> tuple[str, str]:
    """SQL for the width and height a ``drawn_on`` value holds (NULL for any other units)."""
    size = f"case when {units} like 'px@%' then split_part(substr({units}, 4), 'x', {{}}) end"
    return tuple(f"try_cast({size.format(n)} as DOUBLE)" for n in (1, 2))  # type: ignore[return-value]
