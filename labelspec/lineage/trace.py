"""Lineage and impact: which labels a guideline change makes suspect, and where each came from.

``item``     every annotation an item has had, with its batch, snapshot, labeler, training
             record, guideline version and digest, and what superseded what.
``impact``   the current labels a release makes suspect (their class, or a class confusable with
             it, changed since the version they were made under; or their labeler's training did
             not cover that version), grouped into segments.
``labeler``  one labeler's labels, split by whether their training covered the version used.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass
from typing import Any

from labelspec import nesting
from labelspec.errors import InputError, NotFoundError
from labelspec.guideline.releases import releases
from labelspec.labelers.training import TrainingRecord, training_records, training_records_at
from labelspec.lineage import coverage, suspicion
from labelspec.repo import Repo
from labelspec.semver import Version
from labelspec.store.item_index import item_labels
from labelspec.store.query import connect
from labelspec.store.schema import NO_OBJECTS
from labelspec.store.snapshots import labels_dir
from labelspec.store.snapshots import snapshot as snapshot_at
from labelspec.store.trainsets import trainsets_of_item

SEGMENT_BASE = ("guideline_version", "class", "source")


def site_page(guideline: str, version: str, class_id: str) -> str:
    """The class's page in the published instruction site (relative to the site root)."""
    return f"{guideline}/{version}/classes/{class_id}/"


def register_training(con, ws: Repo) -> None:
    """The training records as the ``training`` table of ``con``, inserted by DuckDB itself:
    building an Arrow table from Python objects imports pandas (a second on a CLI call)."""

    con.execute(
        "create temp table training (id VARCHAR, date VARCHAR, method VARCHAR, score DOUBLE, "
        "passed BOOLEAN, version VARCHAR)"
    )
    rows = [
        (r.id, str(r.date), r.method, r.score, r.passed, r.version) for r in training_records(ws)
    ]
    if rows:
        con.executemany("insert into training values (?, ?, ?, ?, ?, ?)", rows)


# -- trace item ---------------------------------------------------------------------------------------
def _dicts(relation) -> list[dict[str, Any]]:
    columns = relation.columns
    return [dict(zip(columns, row, strict=True)) for row in relation.fetchall()]


def _closest_item(con, item_id: str) -> str:
    """ " (did you mean X?)" for the registered item id nearest a mistyped one, else "": in
    DuckDB, as a dataset may hold millions of items."""
    found = con.execute(
        """select item_id from items where jaro_winkler_similarity(item_id, $id) >= 0.85
           order by jaro_winkler_similarity(item_id, $id) desc, item_id limit 1""",
        {"id": item_id},
    ).fetchall()
    return f" (did you mean {found[0][0]}?)" if found else ""


def trace_item(ws: Repo, dataset: str, item_id: str, snapshot: str | None = None) -> dict[str, Any]:

    git = ws.git
    snap = snapshot_at(ws, dataset, snapshot, git)
    added = git.commits_adding(labels_dir(ws, dataset), ".parquet.dvc")
    # only the batches holding the item: a supersedes names an annotation of the same item
    # labels_all: the item's rows, from the item index (the views bound over one batch first)
    con = connect(ws, dataset, dataclasses.replace(snap, batches=snap.batches[:1]))
    item_labels(ws, dataset, snap, item_id, con)
    # rows as dicts through DuckDB itself: Arrow's to_pylist imports pandas (a second per call)
    con.execute("set TimeZone = 'UTC'")
    item = _dicts(con.sql("select * from items where item_id = $id", params={"id": item_id}))
    if not item:
        raise NotFoundError(
            f"no item {item_id!r} in dataset {dataset!r}{_closest_item(con, item_id)}"
        )
    register_training(con, ws)
    # the record stored at import, and the one covering the label at the revision read
    guidelines = con.execute(
        "select distinct guideline from labels_all where item_id = ?", [item_id]
    ).fetchall()
    records = training_records_at(ws, snapshot and snap.commit)
    coverage.register(con, ws, [g for (g,) in guidelines], records)
    rows = _dicts(
        con.sql(
            f"""
        with mine as materialized (select * from labels_all where item_id = $id),
        replaced as (select annotation_id, min(by_annotation) as by_annotation from (
                       select m.annotation_id as by_annotation, unnest(m.supersedes) as annotation_id
                       from mine m where m.supersedes is not null) group by 1)
        select l.*, t.date as training_date, t.method as training_method, t.score as training_score,
               r.by_annotation as superseded_by, {coverage.covering_id_sql()} as covered_by
        from mine l left join training t on t.id = l.training_id
        left join replaced r on r.annotation_id = l.annotation_id
        order by l.batch_id, l.annotation_id, l.label_id
        """,
            params={"id": item_id},
        )
    )
    commit_of = {b.id: added.get(f"{b.id}.parquet.dvc", (None, None))[0] for b in snap.batches}
    delivery_of = {b.id: (b.extra.get("delivery") or {}).get("file") for b in snap.batches}
    adopted = {b.id for b in snap.batches if b.extra.get("history")}
    annotations: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = annotations.setdefault(
            row["annotation_id"],
            {
                "annotation_id": row["annotation_id"],
                "batch": row["batch_id"],
                "commit": commit_of.get(row["batch_id"]),
                "delivery": delivery_of.get(row["batch_id"]),
                "source_ids": nesting.label_json(row, "source_ids") if row["source_ids"] else None,
                "source": row["source"],
                "format": row["format"],
                "labeler": row["labeler_id"],
                "training": {
                    "id": row["training_id"],
                    "date": row["training_date"],
                    "method": row["training_method"],
                    "score": row["training_score"],
                }
                if row["training_id"]
                else None,
                # the best record covering it now (lineage rule 4): a later-recorded pass counts
                "covered_by": row["covered_by"],
                # imported with --history before the labeler's first training: said, not hidden
                **(
                    {"before_adoption": True}
                    if not row["training_id"] and row["batch_id"] in adopted
                    else {}
                ),
                "guideline": row["guideline"],
                "guideline_version": row["guideline_version"],
                "guideline_digest": row["guideline_digest"],
                "created_at": row["created_at"].isoformat() if row["created_at"] else None,
                "supersedes": row["supersedes"] or [],
                "superseded_by": row["superseded_by"],
                "current": row["superseded_by"] is None,
                "labels": [],
            },
        )
        entry["labels"].append(
            {
                "label_id": row["label_id"],
                "class": row["class"],
                "bbox": row["bbox"],
                "span": row["span"],
                "attributes": row["attributes"],
                "page": site_page(row["guideline"], row["guideline_version"], row["class"])
                if row["class"] is not None
                else None,  # an empty answer ("no objects here") has no class page
            }
        )
    ordered = sorted(annotations.values(), key=lambda a: (a["batch"], a["annotation_id"]))
    meta = {k: v for k, v in item[0].items() if k not in ("text",)}

    return {
        "dataset": dataset,
        "snapshot": snap.name,
        "item": meta,
        "annotations": ordered,
        "trainsets": trainsets_of_item(ws, dataset, item_id),
    }


# -- trace impact ---------------------------------------------------------------------------------------
@dataclass
class Impact:
    guideline: str
    from_version: str | None
    to_version: str
    affected_classes: dict[str, list[str]]  # version -> classes suspect for labels made under it
    # version -> class -> the rule scopes its suspect labels are in, for classes suspect only
    # within a rule's `where` (lineage rule 7)
    scopes: dict[str, dict[str, list[dict[str, Any]]]]
    total_labels: int
    affected_labels: int
    affected_items: int
    segments: list[dict[str, Any]]
    by_reason: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {
            "guideline": self.guideline,
            "from": self.from_version,
            "to": self.to_version,
            "affected_classes": self.affected_classes,
            "scopes": self.scopes,
            "total_labels": self.total_labels,
            "affected_labels": self.affected_labels,
            "affected_items": self.affected_items,
            "by_reason": self.by_reason,
            "segments": self.segments,
        }


def suspect_classes(
    ws: Repo, guideline: str, versions: list[str], to: str | None
) -> dict[str, dict[str, str]]:
    """version -> {class: why} for labels made under that version, judged against ``to``; a
    class suspect only within a rule's ``where`` is listed too (``suspicion.suspicions`` says
    which of its labels)."""
    return suspicion.class_kinds(suspicion.suspicions(ws, guideline, versions, to))


def versions_between(
    ws: Repo, guideline: str, present: list[str], from_: str | None, to: str | None
) -> list[str]:

    released = {r.version for r in releases(ws, guideline)}
    upper = Version.parse(to) if to else None
    lower = Version.parse(from_) if from_ else None
    chosen = []
    for version in present:
        if version not in released:
            continue
        v = Version.parse(version)
        if (upper is None or v < upper) and (lower is None or v >= lower):
            chosen.append(version)
    return chosen


@dataclass
class Suspects:
    """A DuckDB connection holding temp table ``suspect``: one row per suspect current label,
    with the segment ``keys``, item_id, label_id, annotation_id, labeler_id, created_at, ``kind``
    (affected | confusable | NULL) and ``untrained``; and ``suspect_scope``: (label_id, scope)
    of those suspect only within a rule's ``where``, scope naming the rules."""

    con: Any
    keys: list[str]
    target: str | None  # None: the working tree (preview)
    affected_classes: dict[str, dict[str, str]]
    total_labels: int
    suspicions: suspicion.Suspicions


def find_suspects(
    ws: Repo,
    dataset: str,
    guideline: str,
    from_: str | None = None,
    to: str | None = None,
    by: list[str] | None = None,
    preview: bool = False,
    snapshot: str | None = None,
    records: list[TrainingRecord] | None = None,
) -> Suspects:
    """The suspect current labels; training coverage judged from ``records`` (default: every
    training record present at the revision read)."""

    released = releases(ws, guideline)
    if not released:
        ws.spec_path(guideline)  # an unknown name: "did you mean", the known ones
        raise NotFoundError(f"guideline {guideline!r} has no release")
    if preview and to:
        raise InputError("--preview compares against the working tree; leave out --to")
    target = None if preview else (to or released[-1].version)
    snap = snapshot_at(ws, dataset, snapshot, ws.git)
    con = connect(ws, dataset, snap)
    by = list(by or [])
    item_columns = set(con.sql("select * from items limit 0").columns)
    unknown = [c for c in by if c not in item_columns | set(SEGMENT_BASE) | {"labeler_id"}]
    if unknown:
        extra = sorted(
            item_columns
            - {"item_id", "path", "uri", "sha256", "bytes", "media", "width", "height", "text"}
        )
        raise InputError(
            f"--by {', '.join(unknown)}: not a column (item metadata: {', '.join(extra) or 'none'})"
        )
    present = [
        r[0]
        for r in con.execute(
            "select distinct guideline_version from labels where guideline = ?", [guideline]
        ).fetchall()
    ]
    versions = versions_between(ws, guideline, present, from_, target)
    since = versions_between(ws, guideline, present, from_, None)  # --from bounds every reason
    found = suspicion.suspicions(ws, guideline, versions, target)
    rules = suspicion.register(con, found, item_columns)
    # coverage from the training records of the revision read, not the ids stored at import
    if records is None:
        records = training_records_at(ws, snapshot and snap.commit)
    coverage.register(con, ws, [guideline], records)
    keys = [*SEGMENT_BASE, *[c for c in by if c not in SEGMENT_BASE]]
    item_keys = [c for c in keys if c in item_columns and c not in (*SEGMENT_BASE, "labeler_id")]
    select_keys = ", ".join(f'i."{c}"' if c in item_keys else f'l."{c}"' for c in keys)
    extra = ", ".join(f"l.{c}" for c in ("labeler_id", "annotation_id") if c not in keys)
    join_items = "left join items i on i.item_id = l.item_id" if item_keys else ""
    con.execute(
        f"""
        create temp table suspect_scoped as
        select * from (
          select {select_keys}, {extra}, l.item_id, l.label_id, l.created_at,
                 {rules.kind} as kind, {rules.scope} as scope,
                 not {coverage.covered_sql()} as untrained
          from labels l
          {rules.joins}
          {join_items}
          where l.guideline = $g and l.guideline_version in (select unnest($since::VARCHAR[]))
        ) where kind is not null or untrained
        """,
        {"g": guideline, "since": since},
    )
    # ``suspect`` keeps the columns callers rebuild it from; the rule scopes sit beside it
    con.execute("create temp table suspect as select * exclude (scope) from suspect_scoped")
    con.execute(
        "create temp table suspect_scope as select label_id, scope from suspect_scoped "
        "where scope is not null"
    )
    con.execute("drop table suspect_scoped")
    total = con.execute("select count(*) from labels where guideline = ?", [guideline]).fetchall()[
        0
    ][0]
    return Suspects(con, keys, target, suspicion.class_kinds(found), total, found)


def impact(
    ws: Repo,
    dataset: str,
    guideline: str,
    from_: str | None = None,
    to: str | None = None,
    by: list[str] | None = None,
    preview: bool = False,
    snapshot: str | None = None,
    records: list[TrainingRecord] | None = None,
) -> Impact:
    """The current labels a guideline change makes suspect, grouped into segments."""
    found = find_suspects(ws, dataset, guideline, from_, to, by, preview, snapshot, records)
    con, keys = found.con, found.keys
    affected_labels, affected_items = con.execute(
        "select count(*), count(distinct item_id) from suspect"
    ).fetchall()[0]
    quoted = ", ".join(f'"{c}"' for c in keys)
    segment_rows = (
        con.sql(
            f"""
        select {quoted}, count(*) as labels, count(distinct item_id) as items,
               count(*) filter (where kind = 'affected') as affected,
               count(*) filter (where kind = 'confusable') as confusable,
               count(*) filter (where untrained) as untrained
        from suspect group by all order by labels desc, {quoted}
        """
        )
        .to_arrow_table()
        .to_pylist()
    )
    segments = [
        {
            "key": {k: row[k] for k in keys},
            "labels": row["labels"],
            "items": row["items"],
            "reasons": {k: row[k] for k in ("affected", "confusable", "untrained") if row[k]},
        }
        for row in segment_rows
    ]
    reasons = con.execute(
        "select count(*) filter (where kind = 'affected'), count(*) filter (where kind = 'confusable'), "
        "count(*) filter (where untrained) from suspect"
    ).fetchall()[0]
    return Impact(
        guideline=guideline,
        from_version=from_,
        to_version=found.target or "working tree",
        affected_classes={v: sorted(c) for v, c in found.affected_classes.items()},
        scopes=suspicion.scoped_only(found.suspicions),
        total_labels=found.total_labels,
        affected_labels=affected_labels,
        affected_items=affected_items,
        segments=segments,
        by_reason=dict(zip(("affected", "confusable", "untrained"), reasons, strict=True)),
    )


# -- trace labeler --------------------------------------------------------------------------------------
def trace_labeler(
    ws: Repo, dataset: str, labeler: str, snapshot: str | None = None
) -> dict[str, Any]:

    snap = snapshot_at(ws, dataset, snapshot, ws.git)
    con = connect(ws, dataset, snap)
    guidelines = [
        r[0]
        for r in con.execute(
            "select distinct guideline from labels where labeler_id = ?", [labeler]
        ).fetchall()
    ]
    # coverage from the training records of the revision read, not the ids stored at import
    records = training_records_at(ws, snapshot and snap.commit)
    coverage.register(con, ws, guidelines, [r for r in records if r.labeler == labeler])
    con.execute(
        f"""
        create temp table mine as
        select l.*, {coverage.covering_id_sql()} as covering_id
        from labels l where l.labeler_id = $labeler
        """,
        {"labeler": labeler},
    )
    rows = con.execute(
        """
        select l.guideline, l.guideline_version, l.covering_id is not null as covered,
               l.covering_id, coalesce(l."class", $empty) as "class", count(*) as labels,
               count(distinct l.item_id) as items
        from mine l
        group by all order by 1, 2, 3 desc, 5
        """,
        {"empty": NO_OBJECTS},
    ).fetchall()
    if not rows:
        labelers = [r for (r,) in con.execute("select distinct labeler_id from labels").fetchall()]
        close = difflib.get_close_matches(labeler, [str(r) for r in labelers if r], n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise NotFoundError(
            f"labeler {labeler!r} has no current labels in dataset {dataset!r}{hint}"
        )
    out: dict[str, Any] = {
        "dataset": dataset,
        "labeler": labeler,
        # an empty answer ("no objects here") is no label: counted apart, as `labels show` does
        "covered": {"labels": 0, "empty": 0, "items": 0},
        "uncovered": {"labels": 0, "empty": 0, "items": 0},
        "by_version": [],
    }
    grouped: dict[tuple, dict[str, Any]] = {}
    for guideline, version, covered, training_id, cls, labels, _items in rows:
        side = "covered" if covered else "uncovered"
        kind = "empty" if cls == NO_OBJECTS else "labels"
        out[side][kind] += labels
        entry = grouped.setdefault(
            (guideline, version, covered),
            {
                "guideline": guideline,
                "version": version,
                "covered": covered,
                "training_ids": set(),
                "labels": 0,
                "empty": 0,
                "by_class": {},
            },
        )
        if training_id:
            entry["training_ids"].add(training_id)
        entry[kind] += labels
        entry["by_class"][cls] = entry["by_class"].get(cls, 0) + labels
    for covered in (True, False):
        out["covered" if covered else "uncovered"]["items"] = con.execute(
            "select count(distinct item_id) from mine where (covering_id is not null) = ?",
            [covered],
        ).fetchall()[0][0]
    out["by_version"] = [{**e, "training_ids": sorted(e["training_ids"])} for e in grouped.values()]
    return out
