"""Reviews: what a reviewer found right or wrong in labels, box by box, and when.

The sample gallery (``labelspec qa sample``) saves a review file (JSON, below);
``import_review`` checks it against the history (``labelspec.store.review_checks``) and stores
it as one immutable record, ``datasets/<name>/reviews/<review id>.parquet`` with its ``.dvc``
file, in one commit. The id is a function of the file (its save time and sha256), so importing a
file twice, or in two clones, adds the same record once and histories merge with a plain
``git pull``.

A verdict is about one label (``label_id``) or, for ``missing_object``, about one annotation
(``annotation_id``: the item as one labeler labeled it):

==================  ========================================================================
``accept``          the label is right (an explicit "no objects" answer too)
``reject``          the label is wrong, the right class not given (classification)
``wrong_class``     the right class is ``correct_class``, one of the spec's classes (a
                    ``reject`` with a ``correct_class``, as files saved before these kinds say)
``misplaced``       the box (span) is on the object but badly placed ("misplaced box")
``not_an_object``   nothing there should be boxed (marked) at all ("should not be boxed")
``missing_object``  the annotation misses an object: at ``point`` [x, y] or in ``box``
                    [x, y, w, h] (image pixels) or at ``span`` [start, end) (characters); its
                    ``class`` optional; several per annotation
==================  ========================================================================

A label's verdict is its newest review (by review time, then review id): a second reviewer's
accept overrides a first reviewer's reject. A missing object stands while its annotation is
current, unless a newer review accepts that annotation's "no objects" answer.
``rejected_labels`` lists what reviews found wrong in the current labels (every verdict but
``accept``, and the missing objects), each with its reason, for ``relabel plan --from-review``.

    {"kind": "labelspec-review", "dataset": "shapes", "snapshot": "<commit>",
     "reviewer": "rev-01", "saved": "2026-03-01T10:00:00Z",
     "verdicts": [{"label_id": "l-1", "verdict": "accept"},
                  {"label_id": "l-2", "verdict": "wrong_class", "correct_class": "square"},
                  {"label_id": "l-3", "verdict": "misplaced", "note": "cuts the top off"},
                  {"label_id": "l-4", "verdict": "not_an_object"},
                  {"annotation_id": "a-1", "verdict": "missing_object", "point": [40.5, 12]},
                  {"annotation_id": "a-1", "verdict": "missing_object",
                   "box": [10, 20, 30, 15], "class": "circle"}, ...]}

Each entry may carry a ``note`` and its own ``at`` time (else the file's ``saved``). Records
written before the verdict kinds lack the ``point``, ``bbox`` and ``span`` columns and may say
``reject`` with a ``correct_class``: ``reviews_at`` reads them as the same table, with that
verdict as ``wrong_class``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from labelspec import nesting
from labelspec.errors import InputError, NotFoundError, Problem, ProblemsError
from labelspec.labelers.roster import validate_labeler_id
from labelspec.repo import Repo
from labelspec.store.batches import write_parquet_hashed
from labelspec.store.query import connect
from labelspec.store.records import Locator, records_at
from labelspec.store.review_checks import MISSING, VERDICTS, checked_rows, parse_time
from labelspec.store.schema import BBOX, SPAN
from labelspec.store.snapshots import resolve
from labelspec.store.snapshots import snapshot as snapshot_at
from labelspec.transaction import transaction

KIND = "labelspec-review"
POINT = pa.struct([("x", pa.float64()), ("y", pa.float64())])
IGNORE = "/datasets/*/reviews/*.parquet"  # the records' data: DVC keeps it, git the .dvc files
SCHEMA = pa.schema(
    [
        pa.field("review_id", pa.string(), nullable=False),
        pa.field("label_id", pa.string()),  # null for a missing_object
        pa.field("annotation_id", pa.string(), nullable=False),
        pa.field("item_id", pa.string(), nullable=False),
        pa.field("reviewer", pa.string(), nullable=False),
        pa.field("verdict", pa.string(), nullable=False),  # one of VERDICTS
        # the right class: of a wrong_class label, or of a missing object (when given)
        pa.field("correct_class", pa.string()),
        # where a missing object is: one of a point or a box (image pixels), or a span
        pa.field("point", POINT),
        pa.field("bbox", BBOX),
        pa.field("span", SPAN),
        pa.field("note", pa.string()),
        pa.field("reviewed_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("snapshot", pa.string()),  # the commit the reviewer looked at
    ]
)
SHOWN = 50  # problems listed


def reviews_dir(ws: Repo, dataset: str) -> Path:
    return ws.dataset_dir(dataset) / "reviews"


@dataclass
class ReviewResult:
    dataset: str
    review: str
    reviewer: str
    labels: int  # labels judged
    accepted: int
    rejected: int  # labels with any verdict but accept
    corrected: int  # wrong_class: rejects that name the right class
    misplaced: int
    not_an_object: int
    missing_objects: int  # objects reported missing (not labels: not in ``labels``)
    file: str
    commit: str | None
    already: bool = False  # the same file was imported before: nothing written

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


# -- reading the file --------------------------------------------------------------------------------
def _load(path: Path) -> tuple[dict[str, Any], bytes]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise NotFoundError(f"{path}: no such review file") from exc
    try:
        data = nesting.loads(raw.decode("utf-8-sig"), str(path))
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text; give the JSON file the gallery saved") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from exc
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise InputError(
            f'{path}: not a review file (it needs "kind": "{KIND}"); save one from the page '
            "`labelspec qa sample` writes"
        )
    return data, raw


def _reviewer(data: dict[str, Any], given: str | None, path: Path) -> str:

    saved = data.get("reviewer")
    if given and saved and given != saved:
        raise InputError(f"{path} was saved by reviewer {saved}, not {given}; leave out --reviewer")
    reviewer = str(given or saved or "").strip()
    if not reviewer:
        raise InputError(
            f"{path} does not say who reviewed; give --reviewer ID (files the gallery saves carry it)"
        )
    validate_labeler_id(reviewer)  # pseudonymous, like labelers
    return reviewer


# -- import --------------------------------------------------------------------------------------------
def import_review(
    ws: Repo, dataset: str | None, file: Path | str, reviewer: str | None = None
) -> ReviewResult:
    """Check a review file against the dataset's history, then record it (one commit).
    ``dataset`` None: the one the file names."""

    path = Path(file)
    data, raw = _load(path)
    if dataset is None:
        dataset = str(data.get("dataset") or "")
        if (
            not dataset
            or "/" in dataset
            or dataset.startswith(".")
            or not ws.dataset_dir(dataset).is_dir()
        ):
            raise NotFoundError(
                f"{path} reviews dataset {dataset!r}, which this workspace does not have"
            )
    if data.get("dataset") != dataset:
        raise InputError(f"{path} reviews dataset {data.get('dataset')!r}, not {dataset!r}")
    who = _reviewer(data, reviewer, path)
    problems: list[Problem] = []
    saved = parse_time(data.get("saved"), "saved", problems, path.name)
    verdicts = data.get("verdicts")
    if not isinstance(verdicts, list) or not verdicts:
        raise InputError(f"{path}: no verdicts; judge some labels in the gallery, then save")
    con = connect(ws, dataset)
    rows = checked_rows(ws, con, verdicts, path.name, problems)
    if problems:
        raise ProblemsError(
            f"{path.name}: {len(problems)} problem(s); no review was recorded",
            problems[:SHOWN],
            len(problems),
        )
    sha = hashlib.sha256(raw).hexdigest()
    review_id = f"rv-{saved:%Y%m%dT%H%M%SZ}-{sha[:8]}"
    for row in rows:
        row.update(
            review_id=review_id,
            reviewer=who,
            reviewed_at=row.pop("at") or saved,
            snapshot=str(data.get("snapshot") or "") or None,
        )
    table = pa.Table.from_pylist(rows, schema=SCHEMA).sort_by(
        [("label_id", "ascending"), ("annotation_id", "ascending")]
    )
    kinds = {kind: sum(1 for r in rows if r["verdict"] == kind) for kind in VERDICTS}
    labels = len(rows) - kinds[MISSING]
    result = ReviewResult(
        dataset,
        review_id,
        who,
        labels=labels,
        accepted=kinds["accept"],
        rejected=labels - kinds["accept"],
        corrected=kinds["wrong_class"],
        misplaced=kinds["misplaced"],
        not_an_object=kinds["not_an_object"],
        missing_objects=kinds[MISSING],
        file="",
        commit=None,
    )
    target = reviews_dir(ws, dataset) / f"{review_id}.parquet"
    result.file = ws.relpath(target)
    git = ws.git
    if git.is_tracked(target.with_name(target.name + ".dvc")):
        result.already, result.commit = True, git.head()
        return result
    result.commit = _write(ws, dataset, table, target, result, data, sha, path.name)
    return result


def _write(ws, dataset, table, target, result, data, sha, name) -> str | None:

    message = (
        f"review {result.review} of {dataset} by {result.reviewer}: {result.labels} label(s), "
        f"{result.rejected} rejected, {result.missing_objects} missing object(s)"
    )
    with transaction(ws, message) as tx:
        path = tx.new_file(target)
        hashes = write_parquet_hashed(table, path, {"labelspec.review": result.review})
        ignore = ws.root / ".gitignore"
        if IGNORE not in (ignore.read_text().splitlines() if ignore.is_file() else []):
            tx.append_line(ignore, IGNORE)  # workspaces made before reviews were recorded
        tx.track(
            path,
            {
                "kind": "review",
                "dataset": dataset,
                "reviewer": result.reviewer,
                "labels": result.labels,
                "accepted": result.accepted,
                "rejected": result.rejected,
                "corrected": result.corrected,
                "misplaced": result.misplaced,
                "not_an_object": result.not_an_object,
                "missing_objects": result.missing_objects,
                "saved": str(data.get("saved")),
                "snapshot": data.get("snapshot"),
                "file": name,
                "file_sha256": sha,
                "imported": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            },
            hashes,
        )
    return tx.commit


# -- reading the records ---------------------------------------------------------------------------------
def reviews_at(ws: Repo, dataset: str, commit: str | None = None, git=None) -> pa.Table:
    """Every review recorded at ``commit`` (HEAD), one row per verdict (``SCHEMA``; records
    made before the verdict kinds read with their new columns null, a corrected reject as
    ``wrong_class``)."""

    if git is None:
        own = ws.git
        return reviews_at(ws, dataset, commit, own)
    rev = git.rev_parse(commit or "HEAD")
    records = records_at(ws, git, rev, reviews_dir(ws, dataset)) if rev else []
    if not records:
        return SCHEMA.empty_table()
    paths = Locator(ws).paths(records, "review")
    return _as_kinds(pa.concat_tables([pq.read_table(p, schema=SCHEMA) for p in paths]))


def _as_kinds(table: pa.Table) -> pa.Table:
    """A ``reject`` naming the right class, as records made before the kinds say it, is a
    ``wrong_class``."""

    verdict = table.column("verdict")
    corrected = pc.and_(pc.equal(verdict, "reject"), pc.is_valid(table.column("correct_class")))
    return table.set_column(
        table.schema.get_field_index("verdict"),
        SCHEMA.field("verdict"),
        pc.if_else(corrected, "wrong_class", verdict),
    )


def verdicts_sql(reviews: str = "reviews") -> str:
    """SQL for each label's verdict: its newest review (review time, then review id)."""
    return f"""select * from {reviews} where verdict <> '{MISSING}'
               qualify row_number() over (partition by label_id
                                          order by reviewed_at desc, review_id desc) = 1"""


def missing_sql(reviews: str = "reviews", labels: str = "labels") -> str:
    """SQL for the missing objects that stand: every one reported, but those on an annotation
    whose "no objects" answer (a label of ``labels`` without a class) a newer review accepted."""
    return f"""
        with accepted_empty as (
          select l.annotation_id, v.reviewed_at, v.review_id
          from ({verdicts_sql(reviews)}) v join {labels} l using (label_id)
          where l."class" is null and v.verdict = 'accept'
        )
        select m.* from {reviews} m
        where m.verdict = '{MISSING}' and not exists (
          select 1 from accepted_empty a
          where a.annotation_id = m.annotation_id
            and (a.reviewed_at > m.reviewed_at
                 or (a.reviewed_at = m.reviewed_at and a.review_id > m.review_id)))"""


def _xy(x: str, y: str) -> str:
    return f"'(' || round({x})::BIGINT || ', ' || round({y})::BIGINT || ')'"


# What a relabel plan says about each kind of verdict (labelspec.lineage.relabel). A label is
# named by its class and place (a box's corner, a span's characters); a classification reject
# keeps the words it had before the kinds.
_LABEL = f"""case when l."class" is null then 'the "no objects" answer'
                  when l.bbox is not null then l."class" || ' box at ' || {_xy("l.bbox.x", "l.bbox.y")}
                  when l.span is not null then l."class" || ' span at ' || l.span.start || '-' || l.span."end"
                  else 'class ' || l."class" end"""
LABEL_REASON = f"""{_LABEL} || case v.verdict
      when 'wrong_class' then case when l.bbox is null and l.span is null then ' rejected'
                                   else ' has the wrong class' end
      when 'misplaced' then ' misplaced'
      when 'not_an_object' then case when l.span is not null then ' should not be marked'
                                     else ' should not be boxed' end
      else ' rejected' end || ' in review'"""
MISSING_REASON = f"""'missing ' || coalesce(m.correct_class, 'object') || ' reported at ' ||
    case when m.point is not null then {_xy("m.point.x", "m.point.y")}
         when m.bbox is not null then {_xy("m.bbox.x", "m.bbox.y")} || '-' ||
                                      {_xy("m.bbox.x + m.bbox.w", "m.bbox.y + m.bbox.h")}
         else 'characters ' || m.span.start || '-' || m.span."end" end || ' in review'"""


def rejected_labels(
    ws: Repo, dataset: str, snapshot: str | None = None, review: str | None = None
) -> pa.Table:
    """What reviews found wrong in the current labels of ``snapshot`` (only ``review``'s, if
    given), by item: each label whose verdict is not ``accept``, and each standing missing
    object of a current annotation (``label_id`` and ``class`` null; its class in
    ``correct_class``, its place in ``missing_point`` / ``missing_bbox`` / ``missing_span``).
    Columns: item_id, annotation_id, label_id, class, verdict, correct_class, missing_point,
    missing_bbox, missing_span, labeler_id, guideline_version, created_at, reviewer,
    review_id, reviewed_at, note, reason (what a relabel plan shows)."""

    git = ws.git
    snap = snapshot_at(ws, dataset, snapshot, git)
    table = reviews_at(ws, dataset, snap.commit, git)
    if review is not None and review not in set(table.column("review_id").to_pylist()):
        raise NotFoundError(
            f"no review {review!r} of dataset {dataset!r} in {snap.name} (see `labelspec qa review list {dataset}`)"
        )
    con = connect(ws, dataset, snap)
    con.register("reviews", table)
    only = "and {}.review_id = $review" if review else ""
    return con.sql(
        f"""
        with annotations as (
          select annotation_id, any_value(item_id) as item_id,
                 any_value(labeler_id) as labeler_id,
                 any_value(guideline_version) as guideline_version,
                 min(created_at) as created_at
          from labels group by annotation_id
        )
        select l.item_id, l.annotation_id, l.label_id, l."class", v.verdict, v.correct_class,
               null::{POINT_SQL} as missing_point, null::{BBOX_SQL} as missing_bbox,
               null::{SPAN_SQL} as missing_span, l.labeler_id, l.guideline_version,
               l.created_at, v.reviewer, v.review_id, v.reviewed_at, v.note,
               {LABEL_REASON} as reason
        from ({verdicts_sql()}) v join labels l using (label_id)
        where v.verdict <> 'accept' {only.format("v")}
        union all
        select a.item_id, m.annotation_id, null, null, m.verdict, m.correct_class,
               m.point, m.bbox, m.span, a.labeler_id, a.guideline_version, a.created_at,
               m.reviewer, m.review_id, m.reviewed_at, m.note, {MISSING_REASON}
        from ({missing_sql()}) m join annotations a using (annotation_id)
        where true {only.format("m")}
        order by item_id, annotation_id, label_id nulls last, reason""",
        params={"review": review} if review else None,
    ).to_arrow_table()


POINT_SQL = "STRUCT(x DOUBLE, y DOUBLE)"
BBOX_SQL = "STRUCT(x DOUBLE, y DOUBLE, w DOUBLE, h DOUBLE)"
SPAN_SQL = 'STRUCT(start BIGINT, "end" BIGINT)'
COUNTS = ("labels", "accepted", "rejected", "corrected")
KIND_COUNTS = ("misplaced", "not_an_object", "missing_objects")  # 0 in records made before them


def list_reviews(ws: Repo, dataset: str, snapshot: str | None = None) -> list[dict[str, Any]]:
    """The reviews recorded at ``snapshot`` (HEAD), oldest first, with their counts."""

    git = ws.git
    commit = resolve(ws, git, dataset, snapshot)
    records = records_at(ws, git, commit, reviews_dir(ws, dataset))
    return [
        {
            "review": r.id,
            "reviewer": r.meta.get("reviewer"),
            **{k: r.meta.get(k) for k in COUNTS},
            **{k: r.meta.get(k, 0) for k in KIND_COUNTS},
            "saved": r.meta.get("saved"),
            "file": r.meta.get("file"),
        }
        for r in records
    ]
