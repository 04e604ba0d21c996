"""A model's predictions read for a relabel plan: class probabilities per item (``--priority
model``, ``--predictions model``) or a detector's boxes scored per item."""

from __future__ import annotations

import difflib
from pathlib import Path

import duckdb
import pyarrow as pa

from labelspec.errors import InputError, Problem, ProblemsError
from labelspec.qa import box_issues
from labelspec.qa.predictions import guess_class, line_index, load_box_predictions
from labelspec.store.engine import database

SHOWN = 5  # rows named in a grouped problem
LISTED = 50  # distinct problems listed


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
        _refuse_misspelled_columns(con, source, path, columns, class_ids, present)
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


def _refuse_misspelled_columns(con, source, path: Path, columns, class_ids, present) -> None:
    """A column of probabilities that reads like a class without a column of its own (``sevn``
    beside no ``seven``) is a typo, not metadata: ignored, that class's probability would be
    missing and the model's top class wrong. Other extra columns (a model name, a `height` in
    pixels: no probabilities) stay allowed."""
    missing = [c for c in class_ids if c not in present]
    typos = {}
    for column in columns:
        if column == "item_id" or column in class_ids:
            continue
        # swapped letters (zreo) or one letter off (sevn); 0.8, not guess_class's 0.6, which
        # reads a `source` column as `four`
        swapped = [c for c in missing if sorted(c.lower()) == sorted(column.lower())]
        close = swapped or difflib.get_close_matches(column.lower(), missing, n=1, cutoff=0.8)
        if close and _probabilities(con, source, path, column):
            typos[column] = close[0]
    if typos:
        named = "; ".join(f"{column!r}: did you mean {guess}?" for column, guess in typos.items())
        raise InputError(
            f"{path}: {len(typos)} column(s) of probabilities read like a class the guideline "
            f"has, under another name ({named}): rename each to its class id (known: "
            f"{', '.join(class_ids)}); nothing was done"
        )


def _probabilities(con, source: str, path: Path, column: str) -> bool:
    """Whether every value of ``column`` is a number from 0 to 1 (and one is there)."""
    quoted = '"' + column.replace('"', '""') + '"'
    value = f"try_cast({quoted}::VARCHAR as DOUBLE)"
    odd, least, most = con.sql(
        f"select count({quoted}) - count({value}), min({value}), max({value}) from {source}",
        params=[str(path)],
    ).fetchall()[0]
    return odd == 0 and least is not None and least >= 0 and most <= 1


def check_predictions(con, path: Path, spec, outcome: str) -> None:
    """Refuse the predictions ``pred`` (``load_predictions``) naming items ``items`` lacks or
    classes ``spec`` lacks, duplicate or out-of-range probabilities: every problem once, with
    its rows (``ProblemsError``, ``outcome`` saying what did not happen). A typo read as p = 0
    would rank right labels as the model's disagreements."""
    found = con.execute(
        f"""
        with known as (select unnest($known::VARCHAR[]) as "class"),
        found as (
          select rec, 'item_id' as field,
                 'unknown item ' || item_id || ' (not an item of the dataset: register it with '
                 || '`labelspec items add`, or fix the id)' as message, NULL as typo
          from pred where item_id not in (select item_id from items)
          union all
          select rec, 'item_id', 'required: the item''s id', NULL from pred where item_id is null
          union all
          select rec, 'probs', 'probs name class ' || class || ', which {spec.guideline} does not '
                 || 'have (known: {", ".join(spec.class_ids)})', class
          from pred where class not in (select "class" from known) and p is not null
          union all
          select rec, 'probs', 'probability ' || p || ' of ' || class || ' is not between 0 and 1 '
                 || '(give probabilities, not logits)', NULL
          from pred where p < 0 or p > 1 or isnan(p)
          union all
          select rec, 'item_id', 'item ' || item_id || ' has more than one probability of '
                 || class || ': give each item once', NULL
          from (select *, count(*) over (partition by item_id, class) as n from pred) where n > 1
        )
        select field, message, any_value(typo), count(distinct rec),
               list(distinct rec order by rec)
        from found group by 1, 2 order by min(rec), 1, 2
        """,
        {"known": list(spec.class_ids)},
    ).fetchall()
    if not found:
        if not con.execute("select count(*) from pred where p is not null").fetchall()[0][0]:
            raise InputError(f"{path}: no prediction gives a probability of a class")
        return
    fmt = path.suffix.lower()
    line_of = line_index(path) if fmt not in (".csv", ".parquet") else None
    problems = []
    for field, message, typo, n, recs in found[:LISTED]:
        guess = guess_class(typo, spec) if typo else None
        if guess:
            message += f"; did you mean {guess}?"
        shown = recs[:SHOWN]
        if line_of is not None:
            where = f"lines {', '.join(str(line_of[r - 1]) for r in shown)}"
            line = line_of[recs[0] - 1]
        elif fmt == ".csv":
            where = f"lines {', '.join(str(r + 1) for r in shown)}"  # line 1 is the header
            line = recs[0] + 1
        else:
            where, line = f"rows {', '.join(map(str, shown))}", None
        record = "" if n == 1 and line is not None else f"{n} row(s), {where}"
        more = " ..." if n > len(shown) else ""
        problems.append(
            Problem(message=message, file=str(path), line=line, record=record + more, path=field)
        )
    counts: dict[str, int] = {}
    for field, _, _, n, _ in found:
        counts[field] = counts.get(field, 0) + n
    breakdown = ", ".join(f"{n} {field}" for field, n in counts.items())
    raise ProblemsError(
        f"{path}: {sum(counts.values())} problem(s) ({breakdown}); {outcome}",
        problems,
        len(found),
    )
