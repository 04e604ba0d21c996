"""labelspec's own exchange format: one label per line, as JSON Lines or CSV.

Keys: ``item_id, labeler, class, bbox ([x, y, w, h] px), span ([start, end]), attributes ({}),
created_at (ISO 8601), lead_time_s, cost``, optional ``guideline_version``. A labeler's explicit
"no objects here" on an item is one line with ``"empty": true`` and no class, box or span
(CSV: an ``empty`` column holding ``true``). Parsing, type checks and conversion all run in
DuckDB, so a million lines take about a second.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import duckdb
import pyarrow as pa

from labelspec import nesting
from labelspec.errors import Problem, ProblemsError
from labelspec.formats.base import STAGED_SCHEMA, Staged
from labelspec.formats.text import require_utf8, utf8_copy
from labelspec.nesting import MAX_DEPTH, json_too_deep
from labelspec.store.engine import database, import_database, out_of_memory, unordered
from labelspec.yamlio import atomic_write_text

KEYS = (
    "item_id",
    "labeler",
    "class",
    "bbox",
    "span",
    "attributes",
    "created_at",
    "lead_time_s",
    "cost",
    "guideline_version",
    "empty",
)
MAX_LISTED = 50
NUMBER = "('UBIGINT', 'BIGINT', 'DOUBLE')"

# Typed columns from JSON values; a value of the wrong type becomes NULL here and a problem below.
# ``rowid + 1``: the record's number. The reads below keep the file's order (DuckDB preserves
# insertion order until ``unordered``), so a row's id is its place in the file, counted in
# parallel where ``row_number() over ()`` would number every row on one thread.
_CONVERT = f"""
select
  raw.rowid + 1 as rec,
  {", ".join(f'"{key}" as "raw_{key}"' for key in KEYS)},
  NULL::VARCHAR as "where",
  case when json_type(item_id) = 'VARCHAR' then item_id ->> '$' end as item_ref,
  'id' as item_ref_kind,
  case when json_type(labeler) = 'VARCHAR' then labeler ->> '$' end as labeler_ref,
  case when json_type("class") = 'VARCHAR' then "class" ->> '$' end as "class",
  {", ".join(f"case when {_ok} then (bbox ->> '$[{i}]')::DOUBLE end as bbox_{c}" for i, c, _ok in [(i, c, "json_type(bbox) = 'ARRAY' and json_array_length(bbox) = 4 and list_bool_and([json_type(bbox, '$[' || k || ']') in " + NUMBER + " for k in range(4)])") for i, c in enumerate("xywh")])},
  -- integers only: a cast would round 0.5 to 1 and read "3" as 3 (Label Studio refuses both)
  {", ".join(f"case when json_type(span) = 'ARRAY' and json_array_length(span) = 2 and json_type(span, '$[{i}]') in ('UBIGINT', 'BIGINT') then try_cast(span ->> '$[{i}]' as BIGINT) end as span_{end}" for i, end in enumerate(("start", "end")))},
  case when attributes is null or json_type(attributes) = 'NULL' then '{{}}'
       when json_type(attributes) = 'OBJECT' then attributes::VARCHAR end as attributes,
  case when json_type(created_at) = 'VARCHAR' then try_cast(created_at ->> '$' as TIMESTAMPTZ) end as created_at,
  case when json_type(lead_time_s) in {NUMBER} then lead_time_s::DOUBLE end as lead_time_s,
  case when json_type(cost) in {NUMBER} then cost::DOUBLE end as cost,
  case when json_type(guideline_version) = 'VARCHAR' then guideline_version ->> '$' end as guideline_version,
  NULL::VARCHAR as annotation_key,
  NULL::VARCHAR as source_ids,
  -- a box given but unreadable is this reader's problem, said once: not also "a box is required"
  case when bbox is not null and json_type(bbox) <> 'NULL' and not coalesce(json_type(bbox) = 'ARRAY'
       and json_array_length(bbox) = 4 and list_bool_and([json_type(bbox, '$[' || k || ']') in {NUMBER}
       for k in range(4)]), false) then 'unreadable' end as bbox_units,
  NULL::VARCHAR as tool_fields,
  case when json_type(empty) = 'BOOLEAN' then empty::BOOLEAN end as empty,
  NULL::VARCHAR as span_text, NULL::BIGINT as span_start_lf, NULL::BIGINT as span_end_lf,
  case when span is not null and json_type(span) <> 'NULL' and not coalesce(json_type(span) = 'ARRAY'
       and json_array_length(span) = 2 and list_bool_and([json_type(span, '$[' || k || ']') in ('UBIGINT', 'BIGINT')
       and try_cast(span ->> ('$[' || k || ']') as BIGINT) is not null for k in range(2)]), false)
       then true end as span_unreadable
from raw
"""


def _present(col: str) -> str:
    return f"(s.raw_{col} is not null and json_type(s.raw_{col}) <> 'NULL')"


class _Sql(str):
    """A message that is an SQL expression over the row ``s`` (it shows the value given)."""


# (field, condition for a problem, message): every check runs over all rows at once.
# ``s.raw_*`` are the JSON values as read, the other columns their typed conversions.
_CHECKS = [
    (
        "item_id",
        "json_type(s.raw_item_id) is distinct from 'VARCHAR'",
        "required: the item's id (a string)",
    ),
    (
        "class",
        "json_type(s.raw_class) is distinct from 'VARCHAR' and s.empty is not true",
        'required: a class id (a string), or {"empty": true} for a labeler\'s "no objects here"',
    ),
    (
        "empty",
        f"{_present('empty')} and s.empty is null",
        "must be true (an explicit empty answer) or false",
    ),
    (
        "labeler",
        f"{_present('labeler')} and json_type(s.raw_labeler) <> 'VARCHAR'",
        "must be a labeler id (a string)",
    ),
    (
        "bbox",
        f"{_present('bbox')} and s.bbox_x is null",
        "must be [x, y, w, h]: four numbers in pixels",
    ),
    (
        "span",
        f"{_present('span')} and (s.span_start is null or s.span_end is null)",
        _Sql(
            "'must be [start, end]: two integers (character offsets), got ' || "
            "case when length(s.raw_span::VARCHAR) > 40 "
            "then left(s.raw_span::VARCHAR, 37) || '...' else s.raw_span::VARCHAR end"
        ),
    ),
    ("attributes", "s.attributes is null", 'must be a JSON object such as {"legible": true}'),
    (
        "created_at",
        f"{_present('created_at')} and s.created_at is null",
        "must be an ISO 8601 time such as 2026-01-31T12:00:00Z",
    ),
    (
        "lead_time_s",
        f"{_present('lead_time_s')} and s.lead_time_s is null",
        "must be a number of seconds",
    ),
    ("cost", f"{_present('cost')} and s.cost is null", "must be a number"),
    (
        "guideline_version",
        f"{_present('guideline_version')} and s.guideline_version is null",
        "must be a version string such as 1.1.0",
    ),
]


def _problems_sql() -> str:
    parts = [
        f"select s.rec, '{field}' as field, {_message(message)} as message "
        f"from staged s where {condition}"
        for field, condition, message in _CHECKS
    ]
    return " union all ".join(parts) + " order by rec, field"


def _message(message: str) -> str:
    return message if isinstance(message, _Sql) else f"'{message.replace(chr(39), chr(39) * 2)}'"


def _stage(con: duckdb.DuckDBPyConnection, path: Path, line_of, fmt: str) -> Staged:
    con.execute(f"create or replace temp table staged as {_CONVERT}")
    found = con.execute(_problems_sql()).fetchall()
    problems = [
        Problem(message=message, file=str(path), line=line_of(rec), path=field)
        for rec, field, message in found
    ]
    columns = ", ".join(f'"{name}"' for name in STAGED_SCHEMA.names)
    con.execute(f"create temp table staged_rows as select {columns} from staged")
    con.execute("drop table staged; drop table raw")
    return Staged(
        table=None,
        problems=problems,
        format=fmt,
        line_of=line_of,
        con=con,
        relation="staged_rows",
    )


_TYPED = {
    "item_id": "VARCHAR",
    "labeler": "VARCHAR",
    "class": "VARCHAR",
    "bbox": "JSON",  # JSON, so that a malformed box is seen rather than read as missing
    "span": "JSON",
    "attributes": "JSON",
    "created_at": "VARCHAR",
    "lead_time_s": "JSON",  # JSON, so that "0.02" (a string) is seen rather than cast
    "cost": "JSON",
    "guideline_version": "VARCHAR",
    "empty": "JSON",  # JSON, so that "yes" (a string) is seen rather than cast to true
}

# The fast path: a well-formed file parses straight into typed columns. Any row it cannot vouch
# for sends the whole file down the slow path, which names every problem precisely.
_FAST = """
select typed.rowid + 1 as rec, NULL::VARCHAR as "where", item_id as item_ref, 'id' as item_ref_kind, labeler as labeler_ref,
  "class", (bbox ->> '$[0]')::DOUBLE as bbox_x, (bbox ->> '$[1]')::DOUBLE as bbox_y,
  (bbox ->> '$[2]')::DOUBLE as bbox_w, (bbox ->> '$[3]')::DOUBLE as bbox_h,
  (span ->> '$[0]')::BIGINT as span_start, (span ->> '$[1]')::BIGINT as span_end,
  case when attributes is null or json_type(attributes) = 'NULL' then '{}' else attributes::VARCHAR end as attributes,
  try_cast(created_at as TIMESTAMPTZ) as created_at, lead_time_s::DOUBLE as lead_time_s,
  cost::DOUBLE as cost, guideline_version,
  NULL::VARCHAR as annotation_key, NULL::VARCHAR as source_ids,
  NULL::VARCHAR as bbox_units, NULL::VARCHAR as tool_fields,
  case when json_type(empty) = 'BOOLEAN' then empty::BOOLEAN end as empty,
  NULL::VARCHAR as span_text, NULL::BIGINT as span_start_lf, NULL::BIGINT as span_end_lf,
  NULL::BOOLEAN as span_unreadable
from typed
"""
_FAST_DOUBTS = """
select count(*) from typed where item_id is null
  or ("class" is null and (empty is null or json_type(empty) <> 'BOOLEAN' or not empty::BOOLEAN))
  or (empty is not null and json_type(empty) not in ('BOOLEAN', 'NULL'))
  or (bbox is not null and json_type(bbox) <> 'NULL' and not (json_type(bbox) = 'ARRAY'
      and json_array_length(bbox) = 4 and list_bool_and([json_type(bbox, '$[' || k || ']') in ('UBIGINT', 'BIGINT', 'DOUBLE') for k in range(4)])))
  or (span is not null and json_type(span) <> 'NULL' and not (json_type(span) = 'ARRAY'
      and json_array_length(span) = 2 and list_bool_and([json_type(span, '$[' || k || ']') in ('UBIGINT', 'BIGINT')
      and try_cast(span ->> ('$[' || k || ']') as BIGINT) is not null for k in range(2)])))
  or (attributes is not null and json_type(attributes) not in ('OBJECT', 'NULL'))
  or (created_at is not null and try_cast(created_at as TIMESTAMPTZ) is null)
  or (lead_time_s is not null and json_type(lead_time_s) not in ('UBIGINT', 'BIGINT', 'DOUBLE', 'NULL'))
  or (cost is not null and json_type(cost) not in ('UBIGINT', 'BIGINT', 'DOUBLE', 'NULL'))
"""


def _fast(con: duckdb.DuckDBPyConnection, path: Path) -> bool:
    """Whether the fast path staged the file (as ``staged_rows``)."""
    try:
        con.execute(
            "create temp table typed as select * from "
            "read_json(?, format='newline_delimited', columns=?, maximum_object_size=16777216)",
            [str(path), _TYPED],
        )
    except duckdb.OutOfMemoryException:
        raise out_of_memory(str(path)) from None
    except duckdb.Error:
        return False
    if con.execute(_FAST_DOUBTS).fetchall()[0][0]:
        con.execute("drop table typed")
        return False
    unordered(con)  # every record has its number (rowid), whatever order it is read in
    # a view: its conversions cannot fail (the doubts above), and validation reads them once
    con.execute(f"create temp view staged_rows as {_FAST}")
    return True


def read_jsonl(path: Path) -> Staged:
    return _read_utf8(_read_jsonl, path)


def _read_utf8(read: Callable[[Path], Staged], path: Path, scan: bool = False) -> Staged:
    """``read`` of ``path``, or of a UTF-8 copy of it (its BOM said UTF-16, say): problems name
    ``path``, and the copy's lines are counted before the copy goes. ``scan``: check a UTF-8
    file's bytes first."""
    copy, _note, folder = utf8_copy(path, "your tool")
    if folder is None:
        if scan:  # DuckDB's CSV sniffer skips a preamble or comment line it cannot read
            require_utf8(path, "your tool")
        return read(path)
    try:
        staged = read(copy)
        if staged.line_of is not None:
            staged.line_of(1)  # the line index reads the copy now, while it is there
        staged.problems = [_named(p, copy, path) for p in staged.problems]
        return staged
    except ProblemsError as exc:
        problems = [_named(p, copy, path) for p in exc.problems]
        summary = str(exc).replace(str(copy), str(path))
        raise ProblemsError(summary, problems, exc.total) from None
    finally:
        folder.cleanup()


def _named(problem: Problem, copy: Path, path: Path) -> Problem:
    return replace(problem, file=str(path)) if problem.file == str(copy) else problem


def _read_jsonl(path: Path) -> Staged:
    con = import_database()
    lines = _LineIndex(path)
    if _fast(con, path):
        return Staged(
            table=None,
            format="jsonl",
            line_of=lines.line_of,
            con=con,
            relation="staged_rows",
            release="drop view staged_rows; drop table typed",
        )
    try:
        con.execute(
            "create temp table raw as select * from "
            "read_json(?, format='newline_delimited', columns=?, maximum_object_size=16777216)",
            [str(path), dict.fromkeys(KEYS, "JSON")],
        )
    except duckdb.OutOfMemoryException:
        raise out_of_memory(str(path)) from None
    except duckdb.Error:
        require_utf8(path, "your tool")
        raise _malformed(path) from None
    unordered(con)  # every record has its number
    return _stage(con, path, lines.line_of, "jsonl")


def read_csv(path: Path) -> Staged:
    return _read_utf8(_read_csv, path, scan=True)


def _read_csv(path: Path) -> Staged:
    con = import_database()
    try:
        names = set(
            con.sql(
                "select * from read_csv(?, all_varchar=true, header=true)", params=[str(path)]
            ).columns
        )
    except duckdb.Error as exc:
        raise _unreadable_csv(path, exc) from None
    missing = {"item_id", "class"} - names - ({"class"} if "empty" in names else set())
    if missing:
        _refuse_ragged(path)  # DuckDB's sniffer gives up on the header for one ragged row
        raise ProblemsError(
            f"{path}: missing column(s) {', '.join(sorted(missing))}",
            [
                Problem(
                    f"the header needs {', '.join(KEYS)} (item_id and class required; an "
                    "`empty` column marks rows that say 'no objects here' and need no class)",
                    str(path),
                    line=1,
                )
            ],
        )

    def as_json(key: str, kind: str) -> str:
        if key not in names:
            if key == "bbox" and {"bbox_x", "bbox_y", "bbox_w", "bbox_h"} <= names:
                parts = ", ".join(f"try_cast(nullif(bbox_{c}, '') as DOUBLE)" for c in "xywh")
                return f"case when coalesce(bbox_x, '') = '' then NULL else to_json([{parts}]) end"
            return "NULL::JSON"
        col = f'"{key}"'
        if kind == "number":
            return f"case when coalesce({col}, '') = '' then NULL else coalesce(try_cast({col} as DOUBLE)::JSON, to_json({col})) end"
        if kind == "boolean":
            return (
                f"case when coalesce({col}, '') = '' then NULL "
                f"else coalesce(try_cast(lower({col}) as BOOLEAN)::JSON, to_json({col})) end"
            )
        if kind == "json":
            return f"case when coalesce({col}, '') = '' then NULL else coalesce(try_cast({col} as JSON), to_json({col})) end"
        return f"case when coalesce({col}, '') = '' then NULL else to_json({col}) end"

    kinds = {
        "empty": "boolean",
        "bbox": "json",
        "span": "json",
        "attributes": "json",
        "lead_time_s": "number",
        "cost": "number",
    }
    select = ", ".join(f'{as_json(key, kinds.get(key, "string"))} as "{key}"' for key in KEYS)
    try:
        con.execute(
            f"create temp table raw as select {select} "
            "from read_csv(?, all_varchar=true, header=true)",
            [str(path)],
        )
    except duckdb.OutOfMemoryException:
        raise out_of_memory(str(path)) from None
    except duckdb.Error as exc:
        raise _unreadable_csv(path, exc) from None
    unordered(con)  # every record has its number
    return _stage(con, path, lambda rec: rec + 1, "csv")


class _LineIndex:
    """Maps record numbers to file lines; only scans the file when a message needs a line."""

    def __init__(self, path: Path):
        self.path = path
        self._lines: list[int] | None = None

    def line_of(self, rec: int) -> int:
        if self._lines is None:
            with self.path.open("rb") as handle:
                self._lines = [n for n, raw in enumerate(handle, 1) if raw.strip()]
        return self._lines[rec - 1] if rec - 1 < len(self._lines) else rec


def _refuse_ragged(path: Path) -> None:
    """Refuse the rows whose number of fields is not the header's, naming each line (the slow
    path, errors only)."""
    problems, total, width = [], 0, None
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        end = 0
        try:
            for fields in reader:
                start, end = end + 1, reader.line_num
                if not fields:
                    continue
                if width is None:
                    width = len(fields)
                elif len(fields) != width:
                    total += 1
                    if len(problems) < MAX_LISTED:
                        message = (
                            f"line {start} has {len(fields)} fields, the header {width}: quote a "
                            "value holding a comma, and give every column of the header"
                        )
                        problems.append(Problem(message, str(path), line=start))
        except csv.Error:
            return  # not the trouble this looks for: DuckDB's message stands
    if problems:
        raise ProblemsError(
            f"{path}: {total} row(s) with another number of fields than the header; "
            "nothing was imported",
            problems,
            total,
        )


def _unreadable_csv(path: Path, exc: duckdb.Error) -> ProblemsError:
    require_utf8(path, "your tool")  # DuckDB's own words for that are vaguer
    _refuse_ragged(path)
    return ProblemsError(
        f"{path}: not a readable CSV file", [Problem(str(exc).splitlines()[0], str(path))]
    )


def _malformed(path: Path) -> ProblemsError:
    """Every line that is not a JSON object, with its line number (the slow path, errors only)."""
    problems = []
    total = 0
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, 1):
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8")
                if json_too_deep(text):
                    message = f"nested deeper than {MAX_DEPTH} levels: not a label"
                elif not isinstance(json.loads(text), dict):
                    message = "each line must be a JSON object {...}"
                else:
                    message = None
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                message = f"invalid JSON ({getattr(exc, 'msg', exc)}); is the file truncated?"
            if message:
                total += 1
                if len(problems) < MAX_LISTED:
                    problems.append(Problem(message=message, file=str(path), line=number))
    if not problems:
        problems.append(Problem(message="the file cannot be read as JSON Lines", file=str(path)))
    return ProblemsError(
        f"{path}: {total or 1} malformed line(s); nothing was imported", problems, max(total, 1)
    )


def write_jsonl(labels: pa.Table, out: Path) -> int:
    """Current labels as labelspec JSONL (what ``read_jsonl`` reads back), with lineage columns."""

    con = database()
    con.register("labels", labels)
    # DuckDB would copy any depth; one labelspec cannot read back is refused (only a value
    # longer than MAX_DEPTH characters can nest deeper)
    long = "select batch_id, label_id, attributes from labels where length(attributes) > ?"
    for batch_id, label_id, text in con.execute(long, [nesting.MAX_DEPTH]).fetchall():
        nesting.label_json(
            {"batch_id": batch_id, "label_id": label_id, "attributes": text}, "attributes"
        )
    rows = con.execute(
        """
        select to_json({
          item_id: item_id, labeler: labeler_id, class: "class",
          bbox: case when bbox is null then NULL else [bbox.x, bbox.y, bbox.w, bbox.h] end,
          span: case when span is null then NULL else [span.start, span."end"] end,
          attributes: json(attributes),
          created_at: strftime(created_at at time zone 'UTC', '%Y-%m-%dT%H:%M:%S.%fZ'),
          lead_time_s: lead_time_s, cost: cost, guideline_version: guideline_version,
          label_id: label_id, annotation_id: annotation_id, training_id: training_id,
          source: source, batch_id: batch_id,
          empty: case when "class" is null then true end
        })::VARCHAR
        from labels order by item_id, annotation_id, label_id
        """
    ).fetchall()
    atomic_write_text(out, "".join(f"{row[0]}\n" for row in rows))
    return len(rows)


def read(path: Path) -> Staged:
    return read_jsonl(path)


def write(labels: pa.Table, items, spec, out: Path, snapshot: str | None = None) -> int:
    return write_jsonl(labels, out)
