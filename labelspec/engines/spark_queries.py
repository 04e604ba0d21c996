"""The core queries in Spark, giving the answers of their DuckDB versions (tests compare them):

``show``      ``labels show``'s counts (``labels.history.show``)
``impact``    ``trace impact``'s counts and segments (``lineage.trace.impact``), its small tables
              (the classes each version's labels are suspect for, the training records) worked
              out by labelspec from the git history and broadcast
``majority``  majority resolution of a classification dataset (``resolve.classes.majority``):
              each labeler's latest current label is one vote; a tie leaves the class NULL
``accuracy``  the bake-off's accuracy per source on a golden set (``qa.bakeoff``), on the
              labels each source delivered or on the current labels

Each takes the DataFrames of ``engines.spark`` and returns plain Python values (or, for
``majority``, a DataFrame to write or collect), so a cluster answers the same questions.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa

from labelspec.errors import InputError, NotFoundError
from labelspec.guideline.releases import releases
from labelspec.labelers.training import training_records
from labelspec.lineage import coverage
from labelspec.lineage.trace import SEGMENT_BASE, suspect_classes, versions_between
from labelspec.repo import Repo
from labelspec.store.manifest import Manifest
from labelspec.store.schema import NO_OBJECTS

EMPTY = "'" + NO_OBJECTS.replace("'", "''") + "'"  # a SQL literal: grouping sets take no parameters


def show(spark, manifest: Manifest, current) -> dict[str, Any]:
    """``labels show``: one grouping-sets pass and one distinct count, as in DuckDB."""
    grouped = spark.sql(
        f"""
        select coalesce(`class`, {EMPTY}) as cls, labeler_id, guideline_version, source,
               case when grouping(coalesce(`class`, {EMPTY})) = 0 then count(*)
                    else count(`class`) end as n
        from {{labels}}
        group by grouping sets ((coalesce(`class`, {EMPTY})), (labeler_id), (guideline_version),
                                (source), ())
        """,
        labels=current,
    ).collect()
    distinct = spark.sql(
        "select count(distinct annotation_id) as a, count(distinct item_id) as i from {labels}",
        labels=current,
    ).collect()[0]
    by: dict[str, dict[str, int]] = {
        "class": {},
        "labeler": {},
        "guideline_version": {},
        "source": {},
    }
    total = 0
    for row in grouped:
        keys = {
            "class": row["cls"],
            "labeler": row["labeler_id"],
            "guideline_version": row["guideline_version"],
            "source": row["source"],
        }
        found = [(k, v) for k, v in keys.items() if v is not None]
        if found:
            by[found[0][0]][found[0][1]] = row["n"]
        else:
            total = row["n"]
    empty = by["class"].pop(NO_OBJECTS, 0)
    return {
        "labels": total,
        "empty_answers": empty,
        "annotations": distinct["a"],
        "items": distinct["i"],
        "labelers": len(by["labeler"]),
        "superseded_labels": manifest.rows - total - empty,
        "by_class": dict(sorted(by["class"].items())),
        "by_labeler": dict(sorted(by["labeler"].items())),
        "by_guideline_version": dict(sorted(by["guideline_version"].items())),
        "by_source": dict(sorted(by["source"].items())),
    }


# -- trace impact ------------------------------------------------------------------------------------
_SUSPECT = """
select l.guideline_version, l.`class`, l.source, l.item_id,
       coalesce(a.kind, e.kind) as kind,
       t.label_id is null as untrained
from (select *, coalesce(cast(floor(unix_micros(created_at) / 86400000000) as int),
                         datediff(to_date(substr(batch_id, 3, 8), 'yyyyMMdd'), date'1970-01-01')) as day
      from {labels} where guideline = :g and guideline_version in ({since})) l
left join {aff} a on a.version = l.guideline_version and a.`class` = l.`class`
left join (select version, 'affected' as kind from {aff} where kind = 'affected' group by 1) e
       on l.`class` is null and e.version = l.guideline_version
left join (select distinct l.label_id from
             (select label_id, labeler_id, guideline_version,
                     coalesce(cast(floor(unix_micros(created_at) / 86400000000) as int),
                              datediff(to_date(substr(batch_id, 3, 8), 'yyyyMMdd'), date'1970-01-01')) as day
              from {labels} where guideline = :g) l
           join {training} c on c.labeler_id = l.labeler_id and c.version = l.guideline_version
                and c.day <= coalesce(l.day, c.day)) t on t.label_id = l.label_id
where a.kind is not null or e.kind is not null or t.label_id is null
"""


def impact(
    spark,
    ws: Repo,
    current,
    guideline: str,
    from_: str | None = None,
    to: str | None = None,
) -> dict[str, Any]:
    """``trace impact`` (segments by version, class and source; no preview, no --by)."""
    from pyspark.sql import functions as F  # lazy: pyspark is optional

    released = releases(ws, guideline)
    if not released:
        ws.spec_path(guideline)
        raise NotFoundError(f"guideline {guideline!r} has no release")
    target = to or released[-1].version
    mine = current.where(F.col("guideline") == guideline)
    present = [r[0] for r in mine.select("guideline_version").distinct().collect()]
    versions = versions_between(ws, guideline, present, from_, target)
    since = versions_between(ws, guideline, present, from_, None)
    suspects = suspect_classes(ws, guideline, versions, target)
    aff = spark.createDataFrame(
        pa.table(
            {
                "version": [v for v, c in suspects.items() for _ in c],
                "class": [k for c in suspects.values() for k in c],
                "kind": [w for c in suspects.values() for w in c.values()],
            },
            schema=pa.schema(
                [("version", pa.string()), ("class", pa.string()), ("kind", pa.string())]
            ),
        )
    )
    # coverage from every training record present (its date decides), as trace impact
    cover = coverage.covering(ws, [guideline], training_records(ws))
    days = pa.array(
        [(d - dt.date(1970, 1, 1)).days for d in cover.column("date").to_pylist()], pa.int32()
    )
    trained = spark.createDataFrame(
        pa.table(
            {
                "labeler_id": cover.column("labeler_id"),
                "version": cover.column("version"),
                "day": days,
            },
            schema=pa.schema(
                [("labeler_id", pa.string()), ("version", pa.string()), ("day", pa.int32())]
            ),
        )
    )
    listed = ", ".join("'" + v.replace("'", "''") + "'" for v in since) or "NULL"
    suspect = spark.sql(
        _SUSPECT.format(since=listed, labels="{labels}", aff="{aff}", training="{training}"),
        args={"g": guideline},
        labels=current,
        aff=F.broadcast(aff),
        training=F.broadcast(trained),
    ).cache()
    try:
        totals = suspect.agg(
            F.count(F.lit(1)).alias("labels"),
            F.countDistinct("item_id").alias("items"),
            F.count(F.when(F.col("kind") == "affected", 1)).alias("affected"),
            F.count(F.when(F.col("kind") == "confusable", 1)).alias("confusable"),
            F.count(F.when(F.col("untrained"), 1)).alias("untrained"),
        ).collect()[0]
        keys = list(SEGMENT_BASE)
        segments = (
            suspect.groupBy(*keys)
            .agg(
                F.count(F.lit(1)).alias("labels"),
                F.countDistinct("item_id").alias("items"),
                F.count(F.when(F.col("kind") == "affected", 1)).alias("affected"),
                F.count(F.when(F.col("kind") == "confusable", 1)).alias("confusable"),
                F.count(F.when(F.col("untrained"), 1)).alias("untrained"),
            )
            .collect()
        )
    finally:
        suspect.unpersist()
    rows = sorted(
        segments, key=lambda r: (-r["labels"], *[(r[k] is None, r[k] or "") for k in keys])
    )
    return {
        "guideline": guideline,
        "from": from_,
        "to": target,
        "affected_classes": {v: sorted(c) for v, c in suspects.items()},
        "total_labels": mine.count(),
        "affected_labels": totals["labels"],
        "affected_items": totals["items"],
        "by_reason": {k: totals[k] for k in ("affected", "confusable", "untrained")},
        "segments": [
            {
                "key": {k: row[k] for k in keys},
                "labels": row["labels"],
                "items": row["items"],
                "reasons": {k: row[k] for k in ("affected", "confusable", "untrained") if row[k]},
            }
            for row in rows
        ],
    }


# -- majority resolution -------------------------------------------------------------------------------
_MAJORITY = """
with votes as (
  select item_id, labeler_id, `class`, label_id
  from (select *, row_number() over (partition by item_id, labeler_id
                                     order by created_at desc nulls last, batch_id desc,
                                              label_id desc) as newest
        from {labels} where `class` is not null)
  where newest = 1
),
tally as (select item_id, `class`, count(*) as n from votes group by item_id, `class`),
top as (
  select item_id, max(n) as top, sum(n) as voters,
         count_if(n = max_n) as on_top, min_by(`class`, -n) as leader
  from (select *, max(n) over (partition by item_id) as max_n from tally)
  group by item_id
),
decided as (
  select item_id, case when on_top = 1 then leader end as `class`, top / voters as confidence,
         case when on_top = 1 then 'resolved' else 'tie' end as status, voters
  from top
)
select d.item_id, d.`class`, d.confidence, d.status, 'majority' as method,
       cast(d.voters as int) as voters,
       transform(sort_array(collect_list(struct(v.labeler_id, v.label_id))), x -> x.labeler_id)
         as labelers,
       transform(sort_array(collect_list(struct(v.labeler_id, v.label_id))), x -> x.label_id)
         as label_ids
from decided d join votes v
  on v.item_id = d.item_id and (d.`class` is null or v.`class` = d.`class`)
group by d.item_id, d.`class`, d.confidence, d.status, d.voters
"""


def majority(spark, current):
    """One row per labeled item: the most voted class (NULL on a tie), its share of the votes,
    the votes behind it (all of them on a tie), ordered by labeler."""
    return spark.sql(_MAJORITY, labels=current)


# -- bake-off accuracy -----------------------------------------------------------------------------------
def accuracy(
    spark,
    manifest: Manifest,
    rows,
    current,
    golden: pa.Table,
    class_ids: list[str],
    labels: str = "delivered",
) -> dict[str, dict[str, Any]]:
    """source -> labels and items on golden items, correct labels, accuracy. ``rows``: every
    batch row; ``labels``: ``delivered`` (a source's own later deliveries replace its earlier
    ones, nobody else's do) or ``current``."""
    from pyspark.sql import functions as F  # lazy: pyspark is optional

    if labels not in ("delivered", "current"):
        raise InputError(f"labels must be delivered or current, not {labels!r}")
    if labels == "current":
        scored = _attributed(spark, manifest, current)
    else:
        rows = _attributed(spark, manifest, rows)
        own = (
            rows.where(F.col("supersedes").isNotNull())
            .select("source", F.explode("supersedes").alias("annotation_id"))
            .distinct()
        )
        scored = rows.join(own, ["source", "annotation_id"], "left_anti")
    truth = spark.createDataFrame(golden.select(["item_id", "class"]))
    codes = spark.createDataFrame(pa.table({"class": pa.array(class_ids, pa.string())}))
    found = spark.sql(
        """
        with g as (select * from {truth}),
             s as (select * from {scored} where item_id in (select item_id from g)),
             present as (select source, count(*) as n_present, count(distinct item_id) as items
                         from s group by source),
             judged as (select s.source, count(*) as n,
                               count_if(s.`class` is not null and s.`class` = g.`class`) as correct
                        from s join g on g.item_id = s.item_id
                        where g.`class` in (select `class` from {codes})
                        group by s.source)
        select p.source, p.items, coalesce(j.n, 0) as n, coalesce(j.correct, 0) as correct
        from present p left join judged j on j.source = p.source
        """,
        truth=F.broadcast(truth),
        scored=scored,
        codes=F.broadcast(codes),
    ).collect()
    return {
        r["source"]: {
            "n": r["n"],
            "correct": r["correct"],
            "accuracy": r["correct"] / r["n"] if r["n"] else None,
            "items": r["items"],
        }
        for r in sorted(found, key=lambda r: r["source"])
    }


def _attributed(spark, manifest: Manifest, frame):
    """Labels with the source of their batch record when a relabel merge is among the batches
    (merges from before labelspec kept a merge's source stored the relabelers' vendors)."""
    from pyspark.sql import functions as F  # lazy: pyspark is optional

    if not any(b.plan for b in manifest.batches):
        return frame
    sources = spark.createDataFrame(
        pa.table(
            {
                "batch_id": pa.array([b.id for b in manifest.batches], pa.string()),
                "batch_source": pa.array([b.source for b in manifest.batches], pa.string()),
            }
        )
    )
    joined = frame.join(F.broadcast(sources), "batch_id", "left")
    return joined.withColumn("source", F.coalesce("batch_source", "source")).drop("batch_source")
