"""Validate staged labels against the workspace, in one vectorised DuckDB pass.

Checks every row against the spec *as released at its version* (class exists, attributes,
box inside the image and big enough, span inside the text, long enough and over the characters
the tool says it covers), the item manifest (the item is registered), the roster (the labeler
exists) and the training records (a passing record covers the version; policy ``error`` |
``warn`` | ``off``). Work that depends on values rather than rows (versions, attribute sets,
labeler/version pairs) runs once per distinct value.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from labelspec.errors import Problem, ProblemsError
from labelspec.formats.base import TOOL_FIELDS, Staged, drawn_size
from labelspec.guideline.releases import releases, spec_at
from labelspec.guideline.spec import Spec
from labelspec.labelers.coverage import COVER_COLUMNS, cover_rows
from labelspec.labelers.roster import list_labelers
from labelspec.labelers.training import training_records
from labelspec.labels.checks import RESIZED_COPY, flagging, found_by
from labelspec.nesting import MAX_DEPTH, json_too_deep
from labelspec.repo import Repo
from labelspec.store.engine import Rows, database, small_table
from labelspec.store.schema import LABEL_SCHEMA


@dataclass
class ImportRequest:
    dataset: str
    guideline: str
    version: str
    source: str
    file: str  # for messages
    labeler: str | None = None
    labeler_map: dict[str, str] | None = None
    labeler_map_file: str | None = None
    training_policy: str = "error"
    check_roster: bool = True  # golden sets come from experts outside the roster
    plan_id: str | None = None  # a relabel merge: only the plan's items, only its version
    namespace: str | None = None  # what annotation keys are unique within [default: source]
    class_map: dict[str, str] | None = None  # the tool's class names -> class ids
    attribute_map: dict[str, str] | None = None  # the tool's attribute names -> attribute ids
    item_labelers: dict[str, str] | None = None  # item (delivery name or id) -> labeler id
    item_labelers_file: str | None = None
    history: bool = False  # labels made before their labeler's first training are adopted as such
    plan_items: list[str] | None = None
    cost_per_label: float | None = None  # the cost of labels whose export carries none


@dataclass
class Validated:
    rows: Rows | None  # the batch's rows, held by DuckDB (None when there were problems)
    problems: list[Problem]
    total_problems: int
    problem_counts: dict[str, int]
    problem_groups: int = 0  # distinct (field, message): one listed line each
    warnings: list[str] = field(default_factory=list)

    @property
    def table(self) -> pa.Table | None:
        """The rows as one Arrow table in batch order (golden sets, merges: small deliveries)."""
        if self.rows is None:
            return None
        return self.rows.arrow(LABEL_SCHEMA, "item_id, annotation_id, label_id")


SHOWN_RECORDS = 5  # rows named in a grouped problem


def _where(staged: Staged, where: str | None, first: int, n: int, recs: list[int]) -> str:
    if n == 1:
        return where or ("" if staged.line_of else f"record {first}")
    if staged.line_of:
        shown = ", ".join(str(staged.line_of(r)) for r in recs)
        return f"{n} rows, lines {shown}{' ...' if n > len(recs) else ''}"
    return f"{n} records{f', first {where}' if where else ''}"


class Hints:
    """Turns a raw problem into what a colleague would say: did you mean, and the fix that fits
    the cause (a class map for display names, a labeler map line for a tool user id)."""

    CLASS = re.compile(r"^unknown class (.+) in \S+ \S+ \(known: (.*)\)$")
    LABELER = re.compile(r"^unknown labeler (\S+) ")

    def __init__(self, ws: Repo, request: ImportRequest, specs: dict[str, Spec]):
        self.request, self.specs = request, specs
        self._roster: list[str] | None = None
        self.ws = ws

    def roster(self) -> list[str]:
        if self._roster is None:
            self._roster = [lab.id for lab in list_labelers(self.ws)]
        return self._roster

    def improve(self, field: str, message: str, n: int) -> str:
        found = self.CLASS.match(message)
        if field == "class" and found:
            return self._class(found.group(1), found.group(2).split(", "), message)
        found = self.LABELER.match(message)
        if field == "labeler" and found:
            return self._labeler(found.group(1), message)
        return message

    def _class(self, given: str, known: list[str], message: str) -> str:
        names = {c.name.lower(): c.id for spec in self.specs.values() for c in spec.classes}
        by_name = names.get(given.lower())
        close = difflib.get_close_matches(given.lower(), known, n=1, cutoff=0.6)
        guess = by_name or (close[0] if close else None)
        if guess is None:
            return message
        return f"{message}; did you mean {guess}? (map the tool's names to class ids with --class-map FILE)"

    def _labeler(self, labeler: str, message: str) -> str:
        close = difflib.get_close_matches(labeler, self.roster(), n=1, cutoff=0.6)
        mapped = self.request.labeler_map is not None
        if mapped:
            tool = next((k for k, v in self.request.labeler_map.items() if v == labeler), "?")
            where = f"the labeler map {self.request.labeler_map_file} maps tool user {tool} to {labeler}"
            fix = f"did you mean {close[0]}? fix that line" if close else "fix that line"
            return f"{where}, which is not on the roster: {fix}, or `labelspec labeler add {labeler} --vendor VENDOR`"
        if labeler.isdigit() and self.request.labeler is None:
            return (
                f"{labeler} looks like a tool's user id, not a labeler: pass --labeler-map FILE "
                f"with a line `{labeler},<labeler id>` (a JSON object or two-column CSV)"
            )
        if close:
            return f"{message.split(' (')[0]}: did you mean {close[0]}? (or `labelspec labeler add {labeler} --vendor VENDOR`)"
        return message


def _versions_table(
    ws: Repo, guideline: str, versions: list[str]
) -> tuple[list[dict[str, Any]], dict[str, Spec]]:
    released = {r.version: r for r in releases(ws, guideline)}
    rows, specs = [], {}
    for version in versions:
        release = released.get(version)
        if release is None:
            rows.append(
                {
                    "version": version,
                    "digest": None,
                    "task": None,
                    "known": ", ".join(released) or "none",
                }
            )
            continue
        spec = spec_at(ws, guideline, version)
        specs[version] = spec
        rows.append(
            {
                "version": version,
                "digest": release.digest,
                "task": spec.task,
                "known": ", ".join(spec.class_ids),
            }
        )
    return rows, specs


def _attribute_problem(spec: Spec, class_id: str, attributes: dict[str, Any]) -> str | None:
    cls = spec.get_class(class_id)
    if cls is None:
        return None  # reported as an unknown class
    defined = {a.id: a for a in cls.attributes}
    unknown = sorted(set(attributes) - set(defined))
    if unknown:
        allowed = ", ".join(defined) or "none"
        return (
            f"unknown attribute(s) {', '.join(unknown)} for class {class_id!r} (allowed: {allowed})"
        )
    for attr in cls.attributes:
        if attr.id not in attributes or attributes[attr.id] is None:
            if attr.required:
                return f"attribute {attr.id!r} is required for class {class_id!r}"
            continue
        value = attributes[attr.id]
        if attr.type == "boolean" and not isinstance(value, bool):
            return f"attribute {attr.id!r} must be true or false, got {value!r}"
        if attr.type in ("nominal", "ordinal") and value not in attr.values:
            return f"attribute {attr.id!r} must be one of {', '.join(attr.values)}, got {value!r}"
        if attr.type == "text" and not isinstance(value, str):
            return f"attribute {attr.id!r} must be text, got {value!r}"
    return None


def _coerce_attributes(
    spec: Spec | None, class_id: str, attributes: dict[str, Any]
) -> dict[str, Any]:
    """Tools write booleans as "true"/"1"/"yes"; store real booleans."""
    cls = spec.get_class(class_id) if spec else None
    if cls is None:
        return attributes
    for attr in cls.attributes:
        value = attributes.get(attr.id)
        if (
            attr.type == "boolean"
            and isinstance(value, str)
            and value.lower() in ("true", "false", "1", "0", "yes", "no")
        ):
            attributes[attr.id] = value.lower() in ("true", "1", "yes")
    return attributes


def _without_tool_fields(spec: Spec | None, class_id: str, attributes: dict[str, Any]) -> dict:
    """A tool's bookkeeping field (occluded, z_order ...) is an attribute only when the class
    defines it; otherwise it lives in ``tool_fields`` and is no attribute problem."""

    cls = spec.get_class(class_id) if spec else None
    defined = {a.id for a in cls.attributes} if cls else set()
    return {k: v for k, v in attributes.items() if k in defined or k not in TOOL_FIELDS}


def _attributes_table(con, specs: dict[str, Spec], renamed: dict[str, str]) -> None:
    """The table ``attrs``: each distinct (version, class, attributes) checked once: the tool's names renamed
    (``renamed``, the attribute map), tool fields dropped, values coerced, then validated."""
    combos = con.execute(
        'select distinct version, "class", attributes from r where attributes is not null and "class" is not null'
    ).fetchall()
    out = []
    for version, class_id, raw in combos:
        spec = specs.get(version)
        deep = json_too_deep(raw)
        try:
            parsed = None if deep else json.loads(raw)
        except json.JSONDecodeError:
            parsed = None
        if deep:
            canonical = None
            problem = f"attributes nested deeper than {MAX_DEPTH} levels: give a flat JSON object"
        elif not isinstance(parsed, dict):
            canonical, problem = None, "attributes must be a JSON object"
        else:
            parsed = {renamed.get(key, key): value for key, value in parsed.items()}
            parsed = _without_tool_fields(spec, class_id, parsed)
            parsed = _coerce_attributes(spec, class_id, parsed)
            canonical = json.dumps(
                parsed, sort_keys=True, ensure_ascii=False, separators=(",", ":")
            )
            problem = _attribute_problem(spec, class_id, parsed) if spec else None
        out.append((version, class_id, raw, canonical, problem))
    columns = ("version", "class", "attributes", "canonical", "problem")
    small_table(con, "attrs", [(c, "VARCHAR") for c in columns], out)


def _adoption_table(con, ws: Repo, request: ImportRequest) -> None:
    """The table ``adopted``: labeler -> the date of their first passing training on the
    guideline (any version): with ``--history``, labels made before it (or by a labeler never
    trained) are adopted untrained."""
    first: dict[str, dt.date] = {}
    if request.history:
        for record in training_records(ws):
            if record.guideline == request.guideline and record.passed:
                first[record.labeler] = min(first.get(record.labeler, record.date), record.date)
    small_table(con, "adopted", [("labeler_id", "VARCHAR"), ("first_date", "DATE")], first.items())


# A record covers the labels made on or after its date (a label without a time: the import day).
# Coverage depends on (labeler, version, day) only: a few thousand keys, not a row per label.
# {made_on}: the label's day, or the import's (a literal: ``j`` is a view, read more than once,
# and every read must see the same day, even across midnight).
_COVERAGE_BY_DAY = """
create temp table cov as
select r.labeler_id, r.version, r.made_on,
       arg_min(c.training_id, c.rank) filter (where c.date <= r.made_on) as training_id,
       min(c.date) filter (where c.date > r.made_on) as later_date
from (select distinct labeler_id, version, {made_on} as made_on from r) r
join cover_all c on c.labeler_id = r.labeler_id and c.version = r.version
group by r.labeler_id, r.version, r.made_on
"""


# Most deliveries name items by id: those match with one join. Only the references left over
# pay for the keys by path, file name and stem of every registered item.
_MATCH_BY_ID = """
create temp table ref_match as
with refs as (select distinct item_ref, item_ref_kind from s
              where item_ref is not null and item_ref_kind <> 'text')
select r.item_ref, r.item_ref_kind, i.item_id, 1::BIGINT as n
from refs r join items i on i.item_id = ltrim(r.item_ref, '/');
"""
_UNMATCHED = """
select count(*) from (select distinct item_ref, item_ref_kind from s where item_ref is not null) r
where not exists (select 1 from ref_match m where m.item_ref = r.item_ref and m.item_ref_kind = r.item_ref_kind)
"""
_RESOLVE_ITEMS = """
create temp table item_keys as
  select key, prio, min(item_id) as item_id, count(distinct item_id) as n from (
    select item_id as key, 1 as prio, item_id from items
    union all select path, 2, item_id from items where path is not null
    union all select uri, 2, item_id from items where uri is not null
    union all select regexp_extract(coalesce(path, uri), '[^/]+$'), 3, item_id from items where coalesce(path, uri) is not null
    union all select regexp_replace(regexp_extract(coalesce(path, uri, item_id), '[^/]+$'), '\\.[^./]+$', ''), 4, item_id from items
  ) group by key, prio;
insert into ref_match
with refs as (select distinct item_ref, item_ref_kind from s r where item_ref is not null
              and not exists (select 1 from ref_match m where m.item_ref = r.item_ref
                              and m.item_ref_kind = r.item_ref_kind)),
cand as (
  select r.item_ref, r.item_ref_kind, 1 as lvl, k.item_id, k.n from refs r join item_keys k
    on k.prio = 1 and k.key = ltrim(r.item_ref, '/') where r.item_ref_kind <> 'text'
  union all select r.item_ref, r.item_ref_kind, 2, k.item_id, k.n from refs r join item_keys k
    on k.prio = 2 and k.key = r.item_ref where r.item_ref_kind <> 'text'
  union all select r.item_ref, r.item_ref_kind, 3, k.item_id, k.n from refs r join item_keys k
    on k.prio = 3 and k.key = regexp_extract(r.item_ref, '[^/]+$') where r.item_ref_kind <> 'text'
  union all select r.item_ref, r.item_ref_kind, 4, k.item_id, k.n from refs r join item_keys k
    on k.prio = 3 and k.key = regexp_replace(regexp_extract(r.item_ref, '[^/]+$'), '^[0-9a-f]{8}-', '')
    where r.item_ref_kind <> 'text'
  -- a frame or file named without its extension (CVAT video frames, YOLO label files)
  union all select r.item_ref, r.item_ref_kind, 6, k.item_id, k.n from refs r join item_keys k
    on k.prio = 4 and k.key = regexp_replace(regexp_extract(r.item_ref, '[^/]+$'), '\\.[^./]+$', '')
    where r.item_ref_kind <> 'text'
  -- and Label Studio's upload prefix on it (its YOLO export names label files <hash>-name.txt)
  union all select r.item_ref, r.item_ref_kind, 7, k.item_id, k.n from refs r join item_keys k
    on k.prio = 4 and k.key = regexp_replace(regexp_replace(regexp_extract(r.item_ref, '[^/]+$'), '\\.[^./]+$', ''), '^[0-9a-f]{8}-', '')
    where r.item_ref_kind <> 'text'
  union all select r.item_ref, r.item_ref_kind, 5, i.item_id, 1 from refs r join items i
    on i.media = 'text' and i.sha256 = sha256(r.item_ref) where r.item_ref_kind = 'text'
)
select item_ref, item_ref_kind, arg_min(item_id, lvl) as item_id, arg_min(n, lvl) as n from cand group by all;
"""


def _span_offset(end: str) -> str:
    """A span's offset in the item's stored text: given in a text with CRLF breaks (a Label
    Studio task of a file ``items add`` stored with LF breaks), the one counting each CRLF as
    one character, unless the stored text kept its CRs (a manifest's text is stored as given)."""
    lf = f"s.span_{end}_lf"
    return f"case when {lf} is not null and not contains(i.text, chr(13)) then {lf} else s.span_{end} end"


# Every lookup joined to every row as the view ``j``; the checks are filters over it. A view, not
# a table: a copy of a million wide rows costs more than the two passes that read it (the
# checks in one, the batch's rows in the other), and past the memory limit it would spill.
_JOINED = """
create temp view j as
select r.*, coalesce(gs.group_size, 1) as group_size, coalesce(gs.group_classes, 1) as group_classes,
       coalesce(rp.same_class, 1) as same_class,
       ro.id as ro_id, v.digest as v_digest, v.task as v_task, v.known as v_known,
       c.class_id as c_class_id, c.min_box_px as c_min_box_px,
       c.min_span_chars as c_min_span_chars, c.min_span_rule as c_min_span_rule,
       a.problem as a_problem, a.canonical as a_canonical, cov.training_id as cov_training_id,
       cov.later_date as cov_later_date, mx.objects as mx_objects,
       bt.n as box_twice, bt.classes as box_classes, bt.class_list as box_class_list,
       {history} and (ad.first_date is null
                      or {made_on} < ad.first_date) as before_adoption
{joins}
"""

_JOINS = """
from r
left join groups gs on gs.k = coalesce(r.annotation_key, '') and gs.item_id = r.item_id and gs.labeler_id = r.labeler_id
left join repeats rp on rp.k = coalesce(r.annotation_key, '') and rp.item_id = r.item_id
  and rp.labeler_id = r.labeler_id and rp."class" = r."class"
left join roster ro on ro.id = r.labeler_id
left join versions v on v.version = r.version
left join classes c on c.version = r.version and c.class_id = r."class"
left join attrs a on a.version = r.version and a."class" = r."class" and a.attributes = r.attributes
left join cov on cov.labeler_id = r.labeler_id and cov.version = r.version
  and cov.made_on = {made_on}
left join mixed mx on r.empty and mx.item_id = r.item_id and mx.labeler_id = r.labeler_id
left join boxes_twice bt on bt.k = coalesce(r.annotation_key, '') and bt.item_id = r.item_id
  and bt.labeler_id = r.labeler_id and bt.bbox_x = r.bbox_x and bt.bbox_y = r.bbox_y
  and bt.bbox_w = r.bbox_w and bt.bbox_h = r.bbox_h
left join adopted ad on ad.labeler_id = r.labeler_id
"""


# The batch's rows. An annotation's id is a function of what it is (its namespace, the tool's
# key for it, item, labeler and content), so re-importing an export makes the same ids and the
# import can tell new, updated and unchanged annotations apart (labels.ingest). Formats without
# a tool key (JSONL, CSV) make one annotation per item and labeler, as they always did.
_KEY = "coalesce(r.annotation_key, 'item:' || md5(to_json([r.item_id, r.labeler_id])))"
# what the labeler said (classes, shapes, attributes), under which version, and when
_SAID = """to_json({'c': r."class", 'x': r.bbox_x, 'y': r.bbox_y, 'w': r.bbox_w, 'h': r.bbox_h,
  's': r.span_start, 'e': r.span_end, 'a': r.a_canonical, 'v': r.version, 't': r.created_at})::VARCHAR"""
# annotations of more than one label digest all of them in order; the rest (most) digest
# their one label without a grouping pass over every row
_SEVERAL = f"""
  select {_KEY} as k, r.item_id, r.labeler_id, md5(string_agg({_SAID}, ';'
      order by r."class", r.bbox_x, r.bbox_y, r.bbox_w, r.bbox_h, r.span_start, r.span_end,
               r.a_canonical, r.created_at, {_SAID})) as digest
  from j r where r.group_size > 1 group by all
"""
# no annotation has several labels (most classification deliveries): ``j``, a view of every
# lookup, is not evaluated a second time only to find that out
_NONE_SEVERAL = """
  select NULL::VARCHAR as k, NULL::VARCHAR as item_id, NULL::VARCHAR as labeler_id,
         NULL::VARCHAR as digest where false
"""
# a label's number in its batch, 8 digits wide; more where a delivery has more records (lpad
# alone would cut record 123456789 to 12345678, the id of another label)
RECORD_NUMBER = (
    "case when r.rec < 100000000 then lpad(r.rec::VARCHAR, 8, '0') else r.rec::VARCHAR end"
)
# The batch's rows, as a view: computed once, by the sort that writes them (a table of them
# was a copy of every row, spilled past the memory limit, before the sort copied them again).
# A view takes no parameters: the import's are the one row of ``import_params``.
_OUTPUT = f"""
create temp view validated as
with several as ({{several}}),
keyed as (select r.*, {_KEY} as k from j r)
select
  p.batch || '-' || {RECORD_NUMBER} as label_id,
  r.item_id, p.dataset as dataset,
  -- md5, not sha256: an id, not a security boundary, and 3x cheaper per row
  'a-' || left(md5(p.ns || '|' || r.k || '|' || r.item_id || '|' || r.labeler_id || '|'
                   || coalesce(c.digest, md5({_SAID}))), 16) as annotation_id,
  r.labeler_id, r.cov_training_id as training_id, p.guideline as guideline, r.version as guideline_version,
  r.v_digest as guideline_digest, r."class",
  case when r.bbox_x is null then NULL else {{'x': r.bbox_x, 'y': r.bbox_y, 'w': r.bbox_w, 'h': r.bbox_h}} end as bbox,
  case when r.span_start is null then NULL else {{'start': r.span_start, 'end': r.span_end}} end as span,
  coalesce(r.a_canonical, '{{}}') as attributes, r.created_at, r.lead_time_s, coalesce(r.cost, p.cost_per_label) as cost,
  p.source as source, p.format as format, r.source_ids, p.batch as batch_id,
  NULL::VARCHAR[] as supersedes, r.tool_fields, p.ns || ':' || r.k as annotation_key
from keyed r cross join import_params p
left join several c on r.group_size > 1 and c.k = r.k and c.item_id = r.item_id
  and c.labeler_id = r.labeler_id
"""
_OUTPUT_PARAMS = [
    ("batch", "VARCHAR"),
    ("dataset", "VARCHAR"),
    ("guideline", "VARCHAR"),
    ("source", "VARCHAR"),
    ("format", "VARCHAR"),
    ("ns", "VARCHAR"),
    ("cost_per_label", "DOUBLE"),
]


def _resized_copies(con) -> list[str]:
    """A warning for the boxes drawn on a resized copy of their image, scaled on import."""
    n, item, dw, dh, w, h = con.execute(
        f"""select count(*), arg_min(r.item_id, r.rec), arg_min(r.drawn_w, r.rec),
                   arg_min(r.drawn_h, r.rec), arg_min(r.width, r.rec), arg_min(r.height, r.rec)
            from r where r.bbox_x is not null and {RESIZED_COPY}"""
    ).fetchall()[0]
    if not n:
        return []
    return [
        f"{n} box(es) were drawn on a resized copy of their image (first: {item}, shown at "
        f"{dw:g}x{dh:g}, registered as {w}x{h}): scaled to the registered size"
    ]


def validate(
    ws: Repo,
    request: ImportRequest,
    staged: Staged,
    batch_id: str,
    items: pa.Table,
    max_listed: int = 50,
) -> Validated:
    if staged.con is not None:  # parsed by DuckDB: the rows never leave it
        con = staged.con
        con.execute(f"create or replace temp view s as select * from {staged.relation}")
    else:
        con = database()
        con.register("s", staged.table)
    con.register(
        "items",
        items.select(
            [
                c
                for c in ("item_id", "path", "uri", "sha256", "media", "width", "height", "text")
                if c in items.column_names
            ]
        ),
    )
    con.execute(_MATCH_BY_ID)
    if con.execute(_UNMATCHED).fetchall()[0][0]:
        con.execute(_RESOLVE_ITEMS)
    roster = list_labelers(ws)
    small_table(con, "roster", [("id", "VARCHAR")], [(lab.id,) for lab in roster])
    pairs_of = [("ref", "VARCHAR"), ("labeler_id", "VARCHAR")]
    small_table(con, "lmap", pairs_of, (request.labeler_map or {}).items())
    small_table(
        con,
        "cmap",
        [("name", "VARCHAR"), ("class_id", "VARCHAR")],
        (request.class_map or {}).items(),
    )
    small_table(con, "per_item", pairs_of, (request.item_labelers or {}).items())
    labeler_expr = (
        "$labeler"
        if request.labeler
        else ("m.labeler_id" if request.labeler_map is not None else "s.labeler_ref")
    )
    if request.item_labelers is not None:  # the delivery's name for the image first, then the id
        labeler_expr = "coalesce(pn.labeler_id, pid.labeler_id)"
    params = {
        "dataset": request.dataset,
        "guideline": request.guideline,
        "default_version": request.version,
        "labeler": request.labeler,
        "map_file": request.labeler_map_file if request.labeler is None else None,
        "per_item_file": request.item_labelers_file,
        "source": request.source,
        "policy": request.training_policy,
        "batch": batch_id,
        "plan": request.plan_id,
        "roster": request.check_roster,
    }

    def run(sql: str, names: tuple[str, ...] = ()):
        used = {k: v for k, v in params.items() if f"${k}" in sql or k in names}
        return con.execute(sql, used) if used else con.execute(sql)

    start, end = _span_offset("start"), _span_offset("end")
    drawn_w, drawn_h = drawn_size("s.bbox_units")
    # a box drawn on a copy of another size: the tool's pixels scaled to the registered image
    # (a copy of another shape is refused by the box-drawn-elsewhere check)
    resized = f"({drawn_w} <> i.width or {drawn_h} <> i.height)"
    run(
        f"""
        create temp table r as
        select s.* replace (
            coalesce(cm.class_id, s."class") as "class",
            case when s.bbox_units = 'yolo' then (s.bbox_x - s.bbox_w / 2) * i.width
                 when {resized} then s.bbox_x * i.width / {drawn_w} else s.bbox_x end as bbox_x,
            case when s.bbox_units = 'yolo' then (s.bbox_y - s.bbox_h / 2) * i.height
                 when {resized} then s.bbox_y * i.height / {drawn_h} else s.bbox_y end as bbox_y,
            case when s.bbox_units = 'yolo' then s.bbox_w * i.width
                 when {resized} then s.bbox_w * i.width / {drawn_w} else s.bbox_w end as bbox_w,
            case when s.bbox_units = 'yolo' then s.bbox_h * i.height
                 when {resized} then s.bbox_h * i.height / {drawn_h} else s.bbox_h end as bbox_h,
            {start} as span_start, {end} as span_end),
          coalesce(s.guideline_version, $default_version) as version,
          m.item_id, m.n as item_matches, {labeler_expr} as labeler_id,
          i.width, i.height, length(i.text) as text_len,
          -- what the item's text holds at the span, where the tool said what it should hold
          -- (a span outside the text is its own problem: no substring, no overflow past 2^63)
          case when s.span_text is not null and {start} >= 0 and {end} > {start}
                    and {end} <= length(i.text)
               then substring(i.text, {start} + 1, {end} - {start}) end as span_found,
          {drawn_w} as drawn_w, {drawn_h} as drawn_h
        from s
        left join ref_match m on m.item_ref = s.item_ref and m.item_ref_kind = s.item_ref_kind
        left join cmap cm on cm.name = s."class"
        left join items i on i.item_id = m.item_id
        {"left join lmap m on m.ref = s.labeler_ref" if request.labeler_map is not None and not request.labeler else ""}
        {"left join per_item pn on pn.ref = s.item_ref left join per_item pid on pid.ref = m.item_id" if request.item_labelers is not None else ""}
        """
    )
    # r holds everything the staged rows did: past the memory limit, every copy kept spills
    if staged.con is not None:
        con.execute("drop view s")
        con.execute(staged.release or f"drop table {staged.relation}")
    # Annotations with more than one label (or one class twice): only the offenders are kept, so
    # the check costs one hash aggregation instead of sorting every row into window partitions.
    run(
        """
        -- sizes first: a distinct count per group over every row cost 7x the plain count
        -- (1M labels: 0.98 s of CPU, 0.13 s without); classes are counted within groups only
        create temp table group_sizes as
          select coalesce(annotation_key, '') as k, item_id, labeler_id, count(*) as group_size
          from r where item_id is not null and labeler_id is not null group by all having count(*) > 1;
        create temp table groups as
          select g.k, g.item_id, g.labeler_id, any_value(g.group_size) as group_size,
                 count(distinct r."class") as group_classes
          from group_sizes g join r on g.k = coalesce(r.annotation_key, '')
            and g.item_id = r.item_id and g.labeler_id = r.labeler_id
          group by all;
        drop table group_sizes;
        -- a class twice in one annotation is within a group: only grouped rows are counted again
        create temp table repeats as
          select coalesce(r.annotation_key, '') as k, r.item_id, r.labeler_id, r."class",
                 count(*) as same_class
          from r semi join groups g on g.k = coalesce(r.annotation_key, '')
            and g.item_id = r.item_id and g.labeler_id = r.labeler_id
          group by all having count(*) > 1;
        -- one box twice in an annotation (a duplicated row, or one region given two classes):
        -- within groups only, like repeats
        create temp table boxes_twice as
          select coalesce(r.annotation_key, '') as k, r.item_id, r.labeler_id,
                 r.bbox_x, r.bbox_y, r.bbox_w, r.bbox_h, count(*) as n,
                 count(distinct r."class") as classes,
                 string_agg(distinct r."class", ', ' order by r."class") as class_list
          from r semi join groups g on g.k = coalesce(r.annotation_key, '')
            and g.item_id = r.item_id and g.labeler_id = r.labeler_id
          where r.bbox_x is not null
          group by all having count(*) > 1;
        -- "no objects here" beside objects: only pairs with an empty answer (few) are counted
        create temp table mixed as
          select r.item_id, r.labeler_id,
                 count(*) filter (where not coalesce(r.empty, false)) as objects
          from r semi join (select distinct item_id, labeler_id from r where r.empty) e
            on e.item_id = r.item_id and e.labeler_id = r.labeler_id
          group by all
          having bool_or(coalesce(empty, false)) and bool_or(not coalesce(empty, false));
        """
    )
    versions = [
        row[0] for row in con.execute("select distinct version from r order by 1").fetchall()
    ]
    version_rows, specs = _versions_table(ws, request.guideline, versions)
    version_columns = ("version", "digest", "task", "known")
    small_table(
        con,
        "versions",
        [(c, "VARCHAR") for c in version_columns],
        [tuple(row[c] for c in version_columns) for row in version_rows],
    )
    small_table(
        con,
        "classes",
        [
            ("version", "VARCHAR"),
            ("class_id", "VARCHAR"),
            ("min_box_px", "BIGINT"),
            ("min_span_chars", "BIGINT"),
            ("min_span_rule", "VARCHAR"),
        ],
        [
            (v, c.id, spec.min_box_px(c.id), *(spec.min_span_chars(c.id) or (None, None)))
            for v, spec in specs.items()
            for c in spec.classes
        ],
    )
    _attributes_table(con, specs, request.attribute_map or {})
    pairs = con.execute(
        "select distinct $g, labeler_id, version from r where labeler_id is not null",
        {"g": request.guideline},
    ).fetchall()
    small_table(
        con,
        "cover_all",
        list(COVER_COLUMNS.items()),
        cover_rows(ws, pairs),
    )
    (today,) = con.execute("select current_date").fetchall()[0]
    made_on = f"coalesce(r.created_at::DATE, DATE '{today.isoformat()}')"
    con.execute(_COVERAGE_BY_DAY.format(made_on=made_on))
    small_table(
        con, "plan_items", [("item_id", "VARCHAR")], [(i,) for i in request.plan_items or []]
    )
    _adoption_table(con, ws, request)
    history = "true" if request.history else "false"
    joins = _JOINS.format(made_on=made_on)
    con.execute(_JOINED.format(joins=joins, history=history, made_on=made_on))
    run(f"create temp table flagged as {flagging()}")
    run(f"create temp table found as {found_by(rows='flagged')}")
    total = con.execute("select count(*) from found").fetchall()[0][0]
    counts = dict(
        con.execute(
            "select field, count(*) from found group by field order by 2 desc, 1"
        ).fetchall()
    )
    (groups,) = con.execute(
        "select count(*) from (select distinct field, message from found)"
    ).fetchall()[0]
    # One problem per distinct message: fifty rows with the same wrong class are one line, counted.
    listed = con.execute(
        f"""select min(rec) as first, arg_min("where", rec), field, message, count(*) as n,
                   list(rec order by rec)[1:{SHOWN_RECORDS}] as recs
            from found group by field, message order by first, field limit {int(max_listed)}"""
    ).fetchall()
    hints = Hints(ws, request, specs)
    problems = [
        Problem(
            message=hints.improve(field, message, n),
            file=request.file,
            line=staged.line_of(first) if staged.line_of else None,
            record=_where(staged, where, first, n, recs),
            path=field,
        )
        for first, where, field, message, n, recs in listed
    ]
    # only tools' exports report the size they showed (JSONL and CSV, parsed by DuckDB, do not)
    warnings = _resized_copies(con) if staged.con is None else []
    if request.training_policy == "warn":
        uncovered = run(
            "select count(*), string_agg(distinct r.labeler_id, ', ') from j r "
            "where r.ro_id is not null and r.v_digest is not null and r.cov_training_id is null "
            "and not r.before_adoption"
        ).fetchall()[0]
        if uncovered[0]:
            warnings.append(
                f"{uncovered[0]} label(s) by labelers without a covering training record ({uncovered[1]})"
            )
    rows = None
    if total == 0 and not staged.problems:  # parse problems refuse the file as much as these
        values = {k: params[k] for k in ("batch", "dataset", "guideline", "source")} | {
            "format": staged.format,
            "ns": request.namespace or request.source,
            "cost_per_label": request.cost_per_label,
        }
        small_table(con, "import_params", _OUTPUT_PARAMS, [[values[k] for k, _ in _OUTPUT_PARAMS]])
        (grouped,) = con.execute("select count(*) from groups").fetchall()[0]
        con.execute(_OUTPUT.replace("{several}", _SEVERAL if grouped else _NONE_SEVERAL))
        # what _OUTPUT sets from the import's parameters: one value in every row
        constants = {"dataset": request.dataset, "guideline": request.guideline}
        constants |= {"source": request.source, "format": staged.format, "batch_id": batch_id}
        if len(version_rows) == 1:  # one release for every row (most deliveries)
            constants["guideline_version"] = version_rows[0]["version"]
            constants["guideline_digest"] = version_rows[0]["digest"]
        rows = Rows(
            con,
            "validated",
            constants | {"supersedes": None},
            # once copied (against a history), the view and what it reads can go
            release="drop view validated; drop view j; drop table r",
            num_rows=con.execute("select count(*) from r").fetchall()[0][0],  # one row each
            versions=[row["version"] for row in version_rows],
        )
    return Validated(
        rows=rows,
        problems=problems,
        total_problems=total,
        problem_counts=counts,
        problem_groups=groups,
        warnings=warnings,
    )


def refuse_problems(name: str, staged: Staged, checked: Validated, outcome: str) -> None:
    """Raise one ProblemsError for everything a delivery got wrong (parse and validation), in
    file order, counted by field; ``outcome`` says what did not happen ("nothing was imported")."""

    total = len(staged.problems) + checked.total_problems
    if not total:
        return
    counts = dict(checked.problem_counts)
    for problem in staged.problems:
        counts[problem.path] = counts.get(problem.path, 0) + 1
    breakdown = ", ".join(
        f"{n} {field}" for field, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    # in file order (parse problems first on a line); line-less formats keep their order
    problems = sorted(staged.problems + checked.problems, key=lambda p: p.line or 0)
    raise ProblemsError(
        f"{name}: {total} problem(s) ({breakdown}); {outcome}",
        problems[:50],
        len(staged.problems) + checked.problem_groups,
    )
