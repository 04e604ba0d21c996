"""A detector's predictions, read and checked like a delivery.

Two formats:

- **JSONL**, one predicted box per line: ``item_id``, ``class`` (a class id), ``bbox`` [x, y, w,
  h] in pixels, ``score`` (the detector's confidence, 0..1) and optionally ``probs`` {class: p},
  the box's class probabilities. ``{"item_id": ..., "empty": true}`` says the detector ran on the
  item and found nothing.
- **COCO results** (a JSON list of ``{image_id, category_id, bbox, score}``, what detectors and
  pycocotools write), read with the COCO file that names its image and category ids
  (``coco_images``: the file ``labels export --format coco`` writes, or the tool's ground truth).
  An image is the item whose id, path or file name is the image's ``file_name``; a category is
  the class its ``name`` is.

Which items the detector ran on: in JSONL, every item that appears on a line (a box or an empty
line); an item on no line was not predicted on, and its labels are not judged. In COCO, every
image of the ``coco_images`` file that is an item (the results of a run over that image set; an
image without results is an image the detector found nothing on).

Every problem is listed once per distinct message with the rows it hit: unknown items, images,
categories and classes (with "did you mean"), scores that are not finite numbers in 0..1, boxes
that are not 4 finite numbers, have no positive size, or leave the item's registered width and
height by more than half a pixel (``labels.checks.BOX_TOLERANCE_PX``).
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from labelspec import nesting
from labelspec.errors import InputError, NotFoundError, Problem, ProblemsError
from labelspec.labels.checks import BOX_TOLERANCE_PX

SHOWN_ROWS = 5  # rows named in a grouped problem
LISTED = 50  # distinct problems listed
NUMBER = "('UBIGINT', 'BIGINT', 'DOUBLE')"
COLUMNS = {"item_id": "JSON", "class": "JSON", "bbox": "JSON", "score": "JSON", "probs": "JSON",
           "empty": "JSON"}  # fmt: skip
COCO_COLUMNS = {"image_id": "JSON", "category_id": "JSON", "bbox": "JSON", "score": "JSON"}
FORMATS = ("jsonl", "coco-results")

BOXES_SCHEMA = pa.schema(
    [
        ("pid", pa.int64()),  # the box's row in the file (1-based)
        ("item_id", pa.string()),
        ("class", pa.string()),
        ("x", pa.float64()),
        ("y", pa.float64()),
        ("w", pa.float64()),
        ("h", pa.float64()),
        ("score", pa.float64()),
        ("probs", pa.map_(pa.string(), pa.float64())),
    ]
)


@dataclass
class BoxPredictions:
    """Checked predicted boxes and the items the detector ran on."""

    boxes: pa.Table  # BOXES_SCHEMA
    items: pa.Table  # item_id: every item predicted on, boxes or not
    file: str
    format: str  # jsonl | coco-results
    coco_images: str | None = None

    @property
    def has_probs(self) -> bool:
        return self.boxes.column("probs").null_count < self.boxes.num_rows


def file_format(path: Path) -> str:
    """``coco-results`` for a JSON list, else ``jsonl``."""
    with path.open("rb") as handle:
        head = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return "coco-results" if head.startswith(b"[") else "jsonl"


def load_box_predictions(
    con,
    path: Path | str,
    spec,
    dataset: str,
    coco_images: Path | str | None = None,
    outcome: str = "nothing was written",
) -> BoxPredictions:
    """Read and check ``path`` against the ``items`` view of ``con`` and the classes of ``spec``;
    raise one ProblemsError listing every problem (``outcome`` says what did not happen)."""
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"{path}: no such predictions file")
    fmt = file_format(path)
    if fmt == "coco-results":
        if coco_images is None:
            raise InputError(
                f"{path} is a COCO results list: its image_id and category_id are numbers that "
                "only a COCO file names; pass --coco-images FILE (the file `labelspec labels "
                "export --format coco` writes, or the ground truth the ids come from)"
            )
        _stage_coco(con, path, Path(coco_images))
    else:
        if coco_images is not None:
            raise InputError(
                f"--coco-images goes with a COCO results file (a JSON list), but {path} is "
                "JSON Lines, which names items and classes itself: leave --coco-images out"
            )
        _stage_jsonl(con, path)
        _refuse_class_probabilities(con, path, spec)
    _resolve(con, spec)
    problems, total, groups, counts = _problems(con, path, fmt, spec)
    if total:
        _drop(con)
        breakdown = ", ".join(f"{n} {field}" for field, n in counts)
        raise ProblemsError(
            f"{path}: {total} problem(s) ({breakdown}); {outcome}", problems, groups
        )
    boxes = con.sql(
        """select rec as pid, item_id, "class", x, y, w, h, score, probs_map as probs
           from bp_rows where not empty order by rec"""
    ).to_arrow_table()
    items = con.sql("select item_id from bp_items order by item_id").to_arrow_table()
    _drop(con)
    if items.num_rows == 0:
        raise InputError(f"{path}: no predictions (the file names no item)")
    return BoxPredictions(
        boxes.cast(BOXES_SCHEMA), items, str(path), fmt, str(coco_images) if coco_images else None
    )


def _refuse_class_probabilities(con, path: Path, spec) -> None:
    """A file of class probabilities per item (``probs`` and no box on any line) is the other
    kind of predictions: say so once rather than list every line."""
    boxes, probs = con.execute(
        "select count(bbox_raw), count(probs_raw) from bp_rows where not empty"
    ).fetchall()[0]
    if boxes == 0 and probs > 0:
        _drop(con)
        raise InputError(
            f"{path} holds class probabilities per item (no line has a bbox), but "
            f"{spec.guideline} is a detection guideline: give a detector's boxes, one per line: "
            'item_id, class, bbox [x, y, w, h] in pixels, score ({"item_id": ..., "empty": true} '
            "for an item it found nothing on)"
        )


def _drop(con) -> None:
    for name in ("bp_raw", "bp_rows", "bp_items", "bp_found", "bp_coco_images", "bp_coco_cats"):
        con.execute(f"drop table if exists {name}")


# -- staging: every row with its item and class as given ----------------------------------------------
def _stage_jsonl(con, path: Path) -> None:

    try:
        con.execute(
            "create temp table bp_raw as select row_number() over () as rec, * from "
            "read_json(?, format='newline_delimited', columns=?, maximum_object_size=16777216)",
            [str(path), COLUMNS],
        )
    except duckdb.Error:
        raise _malformed(path) from None
    con.execute(
        """
        create temp table bp_rows as
        select rec, NULL::VARCHAR as "where",
          case when json_type(item_id) = 'VARCHAR' then item_id ->> '$' end as item_given,
          json_type(item_id) as item_type,
          NULL::VARCHAR as image_problem,
          case when json_type("class") = 'VARCHAR' then "class" ->> '$' end as class_given,
          json_type("class") as class_type, NULL::VARCHAR as category_problem,
          json_type(empty) as empty_type,
          coalesce(json_type(empty) = 'BOOLEAN' and empty::BOOLEAN, false) as empty,
          bbox as bbox_raw, score as score_raw, probs as probs_raw
        from bp_raw
        """
    )
    con.execute(
        "create temp table bp_items as select distinct item_given as item_id from bp_rows "
        "where item_given is not null"
    )


def _stage_coco(con, results: Path, coco: Path) -> None:

    images, categories = _coco_names(coco)
    con.register("bp_images_arrow", images)
    con.register("bp_cats_arrow", categories)
    con.execute(
        """
        create temp table bp_coco_cats as select * from bp_cats_arrow;
        create temp table bp_coco_images as
        with keys as (
          select key, prio, min(item_id) as item_id, count(distinct item_id) as n from (
            select item_id as key, 1 as prio, item_id from items
            union all select path, 2, item_id from items where path is not null
            union all select uri, 2, item_id from items where uri is not null
            union all select regexp_extract(coalesce(path, uri, item_id), '[^/]+$'), 3, item_id
              from items) group by all),
        found as (
          select c.image_id, arg_min(k.item_id, k.prio) as item_id, arg_min(k.n, k.prio) as n
          from bp_images_arrow c join keys k
            on (k.prio < 3 and k.key = ltrim(c.file_name, '/'))
            or (k.prio < 3 and k.key = c.file_name)
            or (k.prio = 3 and k.key = regexp_extract(c.file_name, '[^/]+$'))
          group by 1)
        select c.*, case when f.n = 1 then f.item_id end as item_id, coalesce(f.n, 0) as matches
        from bp_images_arrow c left join found f using (image_id);
        """
    )
    con.unregister("bp_images_arrow")
    con.unregister("bp_cats_arrow")
    try:
        con.execute(
            "create temp table bp_raw as select row_number() over () as rec, * from "
            "read_json(?, format='array', columns=?, maximum_object_size=16777216)",
            [str(results), COCO_COLUMNS],
        )
    except duckdb.Error as exc:
        raise InputError(
            f"{results}: not a COCO results list of {{image_id, category_id, bbox, score}} "
            f"objects ({str(exc).splitlines()[0]})"
        ) from None
    con.execute(
        """
        create temp table bp_rows as
        select r.rec, 'result ' || r.rec as "where",
          i.item_id as item_given,
          case when i.item_id is not null then 'VARCHAR' end as item_type,
          case when json_type(r.image_id) not in ('UBIGINT', 'BIGINT')
                 then 'required: image_id, an integer id of an image in ' || $coco
               when i.image_id is null
                 then 'image_id ' || (r.image_id ->> '$') || ' is not an image of ' || $coco
               when i.matches = 0
                 then 'image ' || i.file_name || ' (image_id ' || i.image_id || ') is not an item of the dataset (register it with `labelspec items add`, or fix its file_name)'
               when i.matches > 1
                 then 'image ' || i.file_name || ' (image_id ' || i.image_id || ') matches ' || i.matches || ' items by file name; give the item''s path or id as file_name'
          end as image_problem,
          c.name as class_given,
          case when c.name is not null then 'VARCHAR' end as class_type,
          case when json_type(r.category_id) not in ('UBIGINT', 'BIGINT')
                 then 'required: category_id, an integer id of a category in ' || $coco
               when c.category_id is null
                 then 'category_id ' || (r.category_id ->> '$') || ' is not a category of ' || $coco
          end as category_problem,
          NULL::VARCHAR as empty_type, false as empty,
          r.bbox as bbox_raw, r.score as score_raw, NULL::JSON as probs_raw
        from bp_raw r
        left join bp_coco_images i
          on json_type(r.image_id) in ('UBIGINT', 'BIGINT') and i.image_id = r.image_id::BIGINT
        left join bp_coco_cats c
          on json_type(r.category_id) in ('UBIGINT', 'BIGINT') and c.category_id = r.category_id::BIGINT
        """,
        {"coco": coco.name},
    )
    con.execute(
        "create temp table bp_items as select distinct item_id from bp_coco_images "
        "where item_id is not null"
    )


def _coco_names(coco: Path) -> tuple[pa.Table, pa.Table]:
    """(image_id, file_name) and (category_id, name) of a COCO file."""
    if not coco.is_file():
        raise NotFoundError(f"{coco}: no such COCO file (--coco-images)")
    try:
        doc = nesting.loads(coco.read_text(encoding="utf-8"), str(coco))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{coco}: not a COCO JSON file ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("images"), list):
        raise InputError(
            f"{coco}: a COCO file needs an `images` list (id, file_name) and a `categories` "
            "list (id, name); is this the results file?"
        )
    if not isinstance(doc.get("categories"), list):
        raise InputError(f"{coco}: a COCO file needs a `categories` list (id, name)")
    bad = [
        f"{section}[{n}]"
        for section, key in (("images", "file_name"), ("categories", "name"))
        for n, entry in enumerate(doc[section])
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("id"), int)
            and isinstance(entry.get(key), str)
        )
    ]
    if bad:
        raise InputError(
            f"{coco}: {len(bad)} entries lack an integer id or their "
            f"file_name / name ({', '.join(bad[:SHOWN_ROWS])}{' ...' if len(bad) > SHOWN_ROWS else ''})"
        )
    images = pa.table(
        {
            "image_id": [e["id"] for e in doc["images"]],
            "file_name": [e["file_name"] for e in doc["images"]],
        },
        schema=pa.schema([("image_id", pa.int64()), ("file_name", pa.string())]),
    )
    categories = pa.table(
        {
            "category_id": [e["id"] for e in doc["categories"]],
            "name": [e["name"] for e in doc["categories"]],
        },
        schema=pa.schema([("category_id", pa.int64()), ("name", pa.string())]),
    )
    return images, categories


# -- checks ---------------------------------------------------------------------------------------------
def _resolve(con, spec) -> None:
    """Give ``bp_rows`` the registered item, its size, the class and typed box, score and probs."""
    con.register(
        "bp_classes_arrow",
        pa.table({"class": spec.class_ids}, schema=pa.schema([("class", pa.string())])),
    )
    con.execute(
        f"""
        create or replace temp table bp_rows as
        select r.*,
          i.item_id, i.width, i.height,
          c."class",
          json_type(r.bbox_raw) = 'ARRAY' and json_array_length(r.bbox_raw) = 4
            and list_bool_and([json_type(r.bbox_raw, '$[' || k || ']') in {NUMBER} for k in range(4)])
            as bbox_numbers,
          case when json_type(r.bbox_raw) = 'ARRAY' and json_array_length(r.bbox_raw) = 4 then
            [try_cast(r.bbox_raw ->> ('$[' || k || ']') as DOUBLE) for k in range(4)] end as b,
          case when json_type(r.score_raw) in {NUMBER} then r.score_raw::DOUBLE end as score,
          case when json_type(r.probs_raw) = 'OBJECT'
            then json_transform(r.probs_raw, '"MAP(VARCHAR, JSON)"') end as probs_json
        from bp_rows r
        left join items i on i.item_id = r.item_given
        left join bp_classes_arrow c on c."class" = r.class_given
        """
    )
    con.execute(
        """
        create or replace temp table bp_rows as
        select * exclude (b),
          b[1] as x, b[2] as y, b[3] as w, b[4] as h,
          bbox_numbers and list_bool_and([isfinite(v) for v in b]) as bbox_ok,
          case when probs_json is not null then map_from_entries(
            [{'k': k, 'v': case when json_type(probs_json[k]) in ('UBIGINT', 'BIGINT', 'DOUBLE')
                                then probs_json[k]::DOUBLE end}
             for k in map_keys(probs_json)]) end as probs_map
        from bp_rows
        """
    )
    con.unregister("bp_classes_arrow")
    con.execute("delete from bp_items where item_id not in (select item_id from items)")


def _checks(known: str, spec_name: str) -> list[tuple[str, str, str]]:
    """(field, condition, message): one set-based query each over ``bp_rows r``."""
    tol = BOX_TOLERANCE_PX
    box = "'[' || r.x || ', ' || r.y || ', ' || r.w || ', ' || r.h || ']'"
    return [
        ("image_id", "r.image_problem is not null", "r.image_problem"),
        (
            "item_id",
            "r.image_problem is null and r.item_type is distinct from 'VARCHAR'",
            "'required: the item''s id (a string)'",
        ),
        (
            "item_id",
            "r.image_problem is null and r.item_given is not null and r.item_id is null",
            "'unknown item ' || r.item_given || ' (not an item of the dataset: register it with `labelspec items add`, or fix the id)'",
        ),
        (
            "empty",
            "r.empty_type is not null and r.empty_type not in ('BOOLEAN', 'NULL')",
            "'empty must be true (the detector found nothing on the item) or false'",
        ),
        (
            "empty",
            "r.empty and (r.class_type is not null or r.bbox_raw is not null or r.score_raw is not null)",
            "'an empty line says the detector found nothing: give no class, bbox or score on it'",
        ),
        (
            "empty",
            "r.empty and r.item_id in (select item_id from bp_rows where not empty and item_id is not null)",
            "'item ' || r.item_id || ' has predicted boxes and an empty line: drop the empty line'",
        ),
        ("category_id", "r.category_problem is not null", "r.category_problem"),
        (
            "class",
            "not r.empty and r.category_problem is null and r.class_type is distinct from 'VARCHAR'",
            "'required: a class id (a string), or {\"empty\": true} for an item the detector found nothing on'",
        ),
        (
            "class",
            'not r.empty and r.class_given is not null and r."class" is null',
            f"'unknown class ' || r.class_given || ' in {spec_name} (known: {known})'",
        ),
        (
            "score",
            "not r.empty and r.score is null",
            "'required: score, the detector''s confidence, a number between 0 and 1'",
        ),
        (
            "score",
            "not r.empty and r.score is not null and not (isfinite(r.score) and r.score between 0 and 1)",
            "'score ' || r.score || ' is not between 0 and 1 (give the detector''s confidence, not a logit)'",
        ),
        (
            "bbox",
            "not r.empty and not coalesce(r.bbox_ok, false)",
            "'bbox must be [x, y, w, h]: 4 finite numbers in pixels'",
        ),
        (
            "bbox",
            "not r.empty and r.bbox_ok and (r.w <= 0 or r.h <= 0)",
            "'box width and height must be positive (got ' || r.w || ' x ' || r.h || ')'",
        ),
        (
            "bbox",
            "not r.empty and r.bbox_ok and r.w > 0 and r.h > 0 and r.item_id is not null "
            "and (r.width is null or r.height is null)",
            "'item ' || r.item_id || ' has no registered width and height to check the box against (register its size with `labelspec items add`)'",
        ),
        (
            "bbox",
            f"not r.empty and r.bbox_ok and r.w > 0 and r.h > 0 and (r.x < -{tol} or r.y < -{tol} "
            f"or r.x + r.w > r.width + {tol} or r.y + r.h > r.height + {tol})",
            f"'box ' || {box} || ' is outside the ' || r.width || 'x' || r.height || ' image'",
        ),
        (
            "probs",
            "r.probs_raw is not null and json_type(r.probs_raw) not in ('OBJECT', 'NULL')",
            "'probs must be an object {class: p}'",
        ),
        (
            "probs",
            "r.probs_map is not null and list_bool_or([v is null for v in map_values(r.probs_map)])",
            "'probs values must be numbers'",
        ),
        (
            "probs",
            "r.probs_map is not null and list_bool_or([not (isfinite(v) and v between 0 and 1) "
            "for v in map_values(r.probs_map) if v is not null])",
            "'probs must be probabilities between 0 and 1, not logits'",
        ),
    ]


def _problems(con, path: Path, fmt: str, spec) -> tuple[list[Problem], int, int, list]:
    known = ", ".join(spec.class_ids)
    con.register(
        "bp_known_arrow",
        pa.table({"class": spec.class_ids}, schema=pa.schema([("class", pa.string())])),
    )
    con.execute("create or replace temp table bp_known as select * from bp_known_arrow")
    con.unregister("bp_known_arrow")
    quoted = known.replace("'", "''")
    checks = " union all ".join(
        f"select r.rec, '{field}' as field, {message} as message from bp_rows r where {condition}"
        for field, condition, message in _checks(quoted, spec.guideline)
    )
    # a class the probs name that the guideline lacks: one line per class
    checks += f""" union all
        select rec, 'probs' as field, 'probs name class ' || k || ', which {spec.guideline} does not have (known: {quoted})'
        from (select rec, unnest(map_keys(probs_map)) as k from bp_rows where probs_map is not null)
        where k not in (select "class" from bp_known)"""
    con.execute(f"create or replace temp table bp_found as {checks}")
    total = con.execute("select count(*) from bp_found").fetchall()[0][0]
    counts = con.execute(
        "select field, count(*) from bp_found group by 1 order by 2 desc, 1"
    ).fetchall()
    groups = con.execute(
        "select count(*) from (select distinct field, message from bp_found)"
    ).fetchall()[0][0]
    listed = con.execute(
        f"""select min(rec), field, message, count(*), list(rec order by rec)[1:{SHOWN_ROWS}]
            from bp_found group by field, message order by 1, 2 limit {LISTED}"""
    ).fetchall()
    con.execute("drop table bp_known")
    line_of = line_index(path) if fmt == "jsonl" else None
    problems = []
    for first, field, message, n, recs in listed:
        if field == "class":
            message = _did_you_mean(message, spec)
        if line_of is not None:
            where = (
                "" if n == 1 else f"{n} rows, lines {', '.join(str(line_of[r - 1]) for r in recs)}"
            )
            line = line_of[first - 1]
        else:
            where = f"result {first}" if n == 1 else f"{n} results, {', '.join(map(str, recs))}"
            line = None
        more = " ..." if n > len(recs) else ""
        problems.append(
            Problem(
                message=message,
                file=str(path),
                line=line,
                record=where + (more if where else ""),
                path=field,
            )
        )
    return problems, total, groups, counts


def _did_you_mean(message: str, spec) -> str:
    """'unknown class X ...' with the class a colleague would guess."""
    if not message.startswith("unknown class "):
        return message
    guess = guess_class(message.removeprefix("unknown class ").split(" in ", 1)[0], spec)
    return f"{message}; did you mean {guess}?" if guess else message


def guess_class(given: str, spec) -> str | None:
    """The class id a colleague would guess ``given`` means: by display name, or the closest id."""
    by_name = {c.name.lower(): c.id for c in spec.classes}.get(given.lower())
    close = difflib.get_close_matches(given.lower(), spec.class_ids, n=1, cutoff=0.6)
    return by_name or (close[0] if close else None)


def line_index(path: Path) -> list[int]:
    """The file line of each record (DuckDB numbers the non-blank lines)."""
    with path.open("rb") as handle:
        return [n for n, raw in enumerate(handle, 1) if raw.strip()]


def _malformed(path: Path) -> ProblemsError:
    """Every line that is not a JSON object, with its line number."""
    problems = []
    total = 0
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, 1):
            if not raw.strip():
                continue
            try:
                value = nesting.loads(raw, f"{path}:{number}", parse_constant=_not_json)
                message = (
                    None if isinstance(value, dict) else "each line must be a JSON object {...}"
                )
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                message = f"invalid JSON ({getattr(exc, 'msg', exc)}); is the file truncated?"
            except ValueError as exc:
                message = str(exc)
            if message:
                total += 1
                if len(problems) < LISTED:
                    problems.append(Problem(message=message, file=str(path), line=number))
    if not problems:
        problems.append(Problem(message="the file cannot be read as JSON Lines", file=str(path)))
    return ProblemsError(
        f"{path}: {max(total, 1)} malformed line(s); nothing was written", problems, max(total, 1)
    )


def _not_json(constant: str):
    raise ValueError(
        f"{constant} is not JSON: give finite numbers (a box or score the detector could not compute is a bug to fix, not a value)"
    )
