"""Resolved labels as label rows (``LABEL_SCHEMA``), so every export format writes them as it
writes labels (``labels export --resolve M``), and a training set's exports, one per split.

Each item's resolved labels become one annotation by the labeler ``resolved:<method>``, under
the newest guideline version among the labels it came from, with their majority attributes
(``labelspec.resolve.provenance``); ``source_ids`` keeps the label ids and ``tool_fields`` the
confidence, the row's method, the suspect flag, the labelers and every label's guideline
version, so the lineage travels along (COCO shows them as each annotation's ``resolution``).
A resolved "no objects" row is an empty answer: a background image.

A training set exports per split (``export_trainset``): COCO, one ``<split>.json`` each
(background images listed with their empty answer); YOLO, one folder whose ``data.yaml`` names
a ``<split>.txt`` image list per split; JSONL, one ``<split>.jsonl`` of the pinned rows each.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from labelspec import formats
from labelspec.errors import InputError
from labelspec.guideline.releases import spec_at
from labelspec.loaders import workspace_trainset
from labelspec.resolve.provenance import provenance
from labelspec.resolve.result import write_table
from labelspec.semver import Version
from labelspec.store.engine import database
from labelspec.store.query import connect
from labelspec.store.schema import LABEL_SCHEMA

TRAINSET_FORMATS = ("coco", "yolo", "jsonl")

_ROWS = """
select 'rs-' || left(md5(array_to_string(c.label_ids, ',') || '|' || c.item_id), 16) as label_id,
       c.item_id, $dataset as dataset,
       'ra-' || left(md5($method || '|' || c.item_id), 16) as annotation_id,
       case when c.method = 'golden' and $golden is not null then 'golden:' || $golden
            else 'resolved:' || $method end as labeler_id, NULL::VARCHAR as training_id,
       $guideline as guideline, c.guideline_version,
       coalesce(d.guideline_digest, '') as guideline_digest, c."class", c.bbox, c.span,
       c.attributes, NULL::TIMESTAMPTZ as created_at, NULL::DOUBLE as lead_time_s,
       NULL::DOUBLE as cost,
       case when c.method = 'golden' and $golden is not null then 'golden:' || $golden
            else 'resolve:' || $method end as source, 'resolve' as format,
       to_json({'label_ids': c.label_ids})::VARCHAR as source_ids,
       'resolved' as batch_id, NULL::VARCHAR[] as supersedes,
       to_json({'confidence': c.confidence, 'method': c.method, 'suspect': c.suspect,
                'labelers': c.labelers, 'guideline_versions': c.label_versions,
                'attribute_ties': c.attribute_ties})::VARCHAR as tool_fields
from resolved_rows c left join digests d on d.guideline_version = c.guideline_version
order by c.item_id, c."class", c.bbox.x, c.bbox.y, c.span.start
"""


def label_rows(
    con,
    rows: pa.Table,
    dataset: str,
    guideline: str,
    method: str,
    digests: pa.Table | None = None,
    golden: str | None = None,
) -> pa.Table:
    """``rows`` (resolved rows with their provenance: a training set's table) as rows of
    ``LABEL_SCHEMA``; ``digests`` (guideline_version, guideline_digest) fills the digest.
    ``golden``: the golden set of a training set's eval rows, whose labeler and source are
    ``golden:<set>`` (its labels' source), not the method's."""
    con.register("resolved_rows", rows)
    empty = pa.table({"guideline_version": [], "guideline_digest": []}, schema=_DIGESTS)
    con.register("digests", digests if digests is not None else empty)
    found = con.sql(
        _ROWS,
        params={"dataset": dataset, "method": method, "guideline": guideline, "golden": golden},
    ).to_arrow_table()
    # columns later layouts add (the schema grows) start out empty, as in older batches
    columns = [
        found.column(f.name) if f.name in found.column_names else pa.nulls(found.num_rows, f.type)
        for f in LABEL_SCHEMA
    ]
    return pa.Table.from_arrays(columns, schema=LABEL_SCHEMA)


_DIGESTS = pa.schema([("guideline_version", pa.string()), ("guideline_digest", pa.string())])


def as_labels(ws, resolved) -> pa.Table:
    """``resolved.labels`` (what a training set holds) as rows of ``LABEL_SCHEMA``."""
    con = connect(ws, resolved.dataset, resolved.commit)
    con.execute(
        "create temp view cited_labels as "
        "select label_id, guideline_version, attributes from labels_all"
    )
    digests = con.sql(
        "select guideline_version, any_value(guideline_digest) as guideline_digest "
        "from labels_all group by 1"
    ).to_arrow_table()
    rows = provenance(con, resolved.labels)
    return label_rows(
        con, rows, resolved.dataset, resolved.guideline, resolved.method, digests.cast(_DIGESTS)
    )


def export_trainset(training, spec, fmt: str, out: Path | str) -> dict[str, Any]:
    """Write a training set (a ``labelspec.loaders.TrainingSet``) as ``fmt`` into the folder
    ``out``, one file (COCO, JSONL) or image list (YOLO) per split; ``spec``: the guideline
    as released at the set's newest version. Returns what was written, per split."""
    if fmt not in TRAINSET_FORMATS:
        raise InputError(
            f"unknown format {fmt!r} for a training set: choose {', '.join(TRAINSET_FORMATS)}"
        )
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} is a file: --out names a folder, one file per split in it")
    record, table = training.record, training.table
    items = training.items()
    written: dict[str, dict[str, Any]] = {}
    snapshot = record.revision[:10]
    golden = record.golden_set.partition("@")[0] if record.golden_set else None
    labels = label_rows(
        database(), table, record.dataset, record.guideline, record.method, golden=golden
    )
    if fmt == "yolo":
        splits = dict(
            zip(items.column("item_id").to_pylist(), items.column("split").to_pylist(), strict=True)
        )
        boxes = formats.get("yolo", writing=True).write(
            labels, items, spec, out, snapshot=snapshot, splits=splits
        )
        files = [str(out / "data.yaml"), *(str(out / f"{s}.txt") for s in training.splits)]
        written = {s: _counts(table, s) for s in training.splits}
        return _summary(record, fmt, out, files, written, boxes)
    out.mkdir(parents=True, exist_ok=True)
    files, total = [], 0
    for split in training.splits:
        rows = training.split(split)
        if fmt == "jsonl":
            path = out / f"{split}.jsonl"
            write_table(rows, path, json_columns=("attributes",))
            total += rows.num_rows
        else:
            path = out / f"{split}.json"
            ids = pc.unique(rows.column("item_id"))
            chosen = labels.filter(pc.is_in(labels.column("item_id"), value_set=ids))
            total += formats.get("coco", writing=True).write(
                chosen, items, spec, path, snapshot=snapshot
            )
        files.append(str(path))
        written[split] = _counts(table, split)
    return _summary(record, fmt, out, files, written, total)


def _counts(table: pa.Table, split: str) -> dict[str, int]:
    rows = table.filter(pc.equal(table.column("split"), split))
    return {
        "items": len(pc.unique(rows.column("item_id"))),
        "labels": rows.num_rows - rows.column("class").null_count,
    }


def _summary(record, fmt: str, out: Path, files: list[str], splits: dict, written: int) -> dict:
    return {
        "trainset": record.name,
        "format": fmt,
        "out": str(out),
        "files": files,
        "splits": splits,
        "written": written,
    }


def write_exports(ws, name: str, fmt: str, out: Path | str) -> dict[str, Any]:
    """``trainset export``: training set ``name`` of ``ws`` as ``fmt``, one file per split
    (``export_trainset``), with the guideline as released at the newest version of its labels."""
    training = workspace_trainset(ws, name)
    versions = (
        list(training.record.guideline_versions)
        or pc.unique(training.table.column("guideline_version").drop_null()).to_pylist()
    )
    newest = max(versions, key=Version.parse) if versions else None
    return export_trainset(training, spec_at(ws, training.record.guideline, newest), fmt, out)
