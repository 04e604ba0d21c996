"""A model's predictions read for a relabel plan: class probabilities per item (``--priority
model``, ``--predictions model``) or a detector's boxes scored per item."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from labelspec.errors import InputError
from labelspec.qa import box_issues
from labelspec.qa.predictions import load_box_predictions
from labelspec.store.engine import database


# -- model predictions, for --priority model ---------------------------------------------------------
def box_item_scores(dataset, con, spec, path, coco_images, annotations: list[str]):
    """item -> (label quality score, kind of its worst box, that box's score) of the current
    labels of ``annotations`` (the plan's: a segment's labels, not every labeler's on its
    items) against a detector's boxes (``labelspec.qa.box_issues``)."""

    found = load_box_predictions(con, Path(path), spec, dataset, coco_images, "nothing was planned")
    con.execute(
        "create or replace temp table bx_planned_labels as select * from labels "
        "where annotation_id in (select unnest($1::VARCHAR[]))",
        [annotations],
    )
    box_issues.judge(con, found, spec.class_ids, labels="bx_planned_labels")
    return box_issues.item_scores(con)


def load_predictions(path: Path, class_ids: list[str]) -> pa.Table:
    """(item_id, class, p, rec) rows from JSONL/CSV/Parquet: a ``probs`` object or one column per
    class; ``rec`` is the record's number in the file (1-based), for error messages."""

    suffix = path.suffix.lower()
    source = {
        ".parquet": "read_parquet(?)",
        ".csv": "read_csv(?, header=true)",
    }.get(suffix, "read_json(?, format='newline_delimited')")
    con = database()
    try:
        rel = con.sql(f"select * from {source}", params=[str(path)])
        columns = rel.columns
    except duckdb.Error as exc:
        raise InputError(f"{path}: cannot read predictions: {str(exc).splitlines()[0]}") from exc
    if "item_id" not in columns:
        raise InputError(f"{path}: predictions need an item_id column")
    if "bbox" in columns and "probs" not in columns:
        raise InputError(
            f"{path} holds boxes, but this guideline is judged on class probabilities per item: "
            "give a `probs` object or one probability column per class"
        )
    if "probs" in columns:
        table = con.sql(
            f"select item_id::VARCHAR as item_id, unnest(map_keys(probs::MAP(VARCHAR, DOUBLE))) as class, "
            f"unnest(map_values(probs::MAP(VARCHAR, DOUBLE))) as p, rec "
            f"from (select row_number() over () as rec, * from {source})",
            params=[str(path)],
        ).to_arrow_table()
    else:
        present = [c for c in class_ids if c in columns]
        if not present:
            raise InputError(
                f"{path}: give a `probs` object or one probability column per class ({', '.join(class_ids)})"
            )
        unions = " union all ".join(
            f"select item_id::VARCHAR as item_id, '{c}' as class, \"{c}\"::DOUBLE as p, rec "
            f"from (select row_number() over () as rec, * from {source})"
            for c in present
        )
        table = con.sql(unions, params=[str(path)] * len(present)).to_arrow_table()
    return table
