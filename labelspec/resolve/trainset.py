"""From a resolution to the table a training set pins (``TRAINSET_SCHEMA``) and the figures its
record keeps.

Each item has one fate, decided in this order and counted once:

1. **golden** (``golden_into="eval"``, the default): every item of the golden set goes to the
   ``eval`` split with the experts' labels (method ``golden``), never to a training split, so a
   model is not evaluated on what it trained on. ``golden_into="train"``: golden items are
   resolved and split like any other (``golden-first`` then trains on the experts' labels).
2. **low confidence**: a tie, or a decision below ``min_confidence``: left out whole.
3. **suspect** under the newest guideline release (``suspect="exclude"``, the default): left
   out; ``"only"`` keeps only them, ``"include"`` keeps them with ``suspect`` true. A golden
   item is suspect when its expert labels are (``golden.golden_suspects``).
4. **golden duplicate**: an item whose content (sha256) is a golden eval item's: left out, so
   no copy of an eval image is trained on (the eval split keeps only the experts' labels).
5. the rest: into a split by the plan (``labelspec.resolve.splits``); items with the same
   content follow the split of the smallest of their ids (counted as ``duplicate_items``).

Each row then gets the item's path, width and height, class index and display name, and its
provenance (``labelspec.resolve.provenance``: every label's guideline version, the newest one,
majority attributes).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from labelspec.errors import InputError
from labelspec.guideline.releases import releases
from labelspec.labelers.roster import list_labelers
from labelspec.repo import Repo
from labelspec.resolve import IOU_THRESHOLD, splits
from labelspec.resolve.golden import expert_rows, golden_at, golden_suspects
from labelspec.resolve.provenance import provenance
from labelspec.resolve.resolution import resolve
from labelspec.resolve.result import TRAINSET_SCHEMA, Resolved
from labelspec.semver import Version
from labelspec.store.golden import load_sets
from labelspec.store.query import connect

GOLDEN_INTO = ("eval", "train")
SUSPECT = ("exclude", "include", "only")
EXAMPLES = 10  # item ids a record names per reason an item was left out


@dataclass
class Built:
    table: pa.Table  # TRAINSET_SCHEMA
    resolved: Resolved  # every decision, golden rows included
    classes: list[str]
    figures: dict[str, Any] = field(default_factory=dict)  # for the record


def build(
    ws: Repo,
    dataset: str,
    method: str = "majority",
    snapshot: str | None = None,
    min_confidence: float = 0.0,
    golden: str | None = None,
    fallback: str = "majority",
    iou: float = IOU_THRESHOLD,
    split: splits.SplitPlan | None = None,
    golden_into: str = "eval",
    suspect: str = "exclude",
) -> Built:
    """Resolve ``dataset`` and shape the result into a training set's table (nothing written)."""
    plan = split or splits.SplitPlan()
    _check(golden_into, suspect)
    resolved = resolve(ws, dataset, method, snapshot, min_confidence, golden, fallback, iou)
    con = connect(ws, dataset, resolved.commit)
    splits.check_column(plan, con.sql("select * from items limit 0").columns)
    gold, golden_ref = _golden(ws, resolved, golden, golden_into)
    classes = list(resolved.classes)
    decisions = resolved.table
    if gold is not None:
        used = pc.unique(gold.column("class").drop_null()).to_pylist()
        classes += sorted(set(used) - set(classes))
        expert = expert_rows(gold, resolved.task, classes)
        flagged = golden_suspects(con, ws, resolved.guideline, gold)
        where = expert.schema.get_field_index("suspect")
        expert = expert.set_column(
            where, expert.schema.field(where), pc.is_in(expert.column("item_id"), value_set=flagged)
        )
        ids = pc.unique(expert.column("item_id"))
        crowd = decisions.filter(pc.invert(pc.is_in(decisions.column("item_id"), value_set=ids)))
        decisions = pa.concat_tables([crowd, expert]).sort_by("item_id")
    combined = replace(resolved, table=decisions)
    con.execute(_LEADERS)
    dropped = _kept(con, combined, suspect, gold is not None)
    left_out = {reason: len(ids) for reason, ids in dropped.items()}
    examples = {reason: ids[:EXAMPLES] for reason, ids in dropped.items()}
    chosen = combined.labels
    out = pa.array(sorted({i for ids in dropped.values() for i in ids}), pa.string())
    chosen = chosen.filter(pc.invert(pc.is_in(chosen.column("item_id"), value_set=out)))
    if chosen.num_rows == 0 or _training_rows(chosen, gold) == 0:
        raise InputError(_nothing_left(combined, dropped, suspect, _golden_ids(gold)))
    table = _shaped(con, chosen, plan, classes, combined.class_names, gold)
    figures = _figures(ws, con, table, plan)
    figures.update(
        golden_into=golden_into,
        golden_set=golden_ref,
        golden_items=int(pc.count_distinct(_eval_ids(table)).as_py()),
        suspect_policy=suspect,
        suspect_release=_newest_release(ws, resolved.guideline),
        left_out=left_out,
        left_out_examples=examples,
        classes=classes,
        class_names=[combined.class_names.get(c, c) for c in classes],
        unlabeled_items=_unlabeled(con, decisions),
        duplicate_items=_duplicates(con, table),
    )
    return Built(table, combined, classes, figures)


def _check(golden_into: str, suspect: str) -> None:
    if golden_into not in GOLDEN_INTO:
        raise InputError(
            f"--golden-into {golden_into}: choose eval (golden items evaluate, never train) or train"
        )
    if suspect not in SUSPECT:
        raise InputError(f"--suspect {suspect}: choose one of {', '.join(SUSPECT)}")


def _golden(ws: Repo, resolved: Resolved, golden: str | None, golden_into: str):
    """The golden set's labels for the eval split, and its exact version (none: no eval)."""
    if golden_into != "eval" or not load_sets(ws, resolved.dataset, rev=resolved.commit):
        return None, None
    return golden_at(
        ws, resolved.dataset, golden, resolved.commit, "the eval split (--golden-into eval)"
    )


def _kept(con, combined: Resolved, suspect: str, eval_: bool) -> dict[str, list[str]]:
    """The items each rule leaves out (sorted ids), in the order the rules apply."""
    chosen = combined.labels
    dropped = {"low_confidence": combined.low_confidence}
    flagged = chosen.column("suspect")
    if suspect != "include":
        drop = flagged if suspect == "exclude" else pc.invert(flagged)
        reason = "suspect" if suspect == "exclude" else "not_suspect"
        dropped[reason] = sorted(pc.unique(chosen.filter(drop).column("item_id")).to_pylist())
        chosen = chosen.filter(pc.invert(drop))
    if eval_:
        con.register("t_kept", chosen.select(["item_id", "method"]))
        copies = [r[0] for r in con.execute(_GOLDEN_COPIES).fetchall()]
        if copies:  # recorded only when it happens: older records have no such reason
            dropped["golden_duplicate"] = copies
    return dropped


# every item's leader: the smallest id with its content (itself without a sha256)
_LEADERS = """
create or replace temp table t_leaders as
select item_id,
       case when sha256 is null then item_id else min(item_id) over (partition by sha256) end
         as leader
from items
"""
# --split-by's value of every item: for items with one content, the value of the smallest id
# of them that has one
_GROUP_VALUES = """
create or replace temp table t_group_values as
with firsts as (
  select sha256, arg_min({column}, item_id) as segment from items
  where sha256 is not null and {column} is not null group by sha256
)
select i.item_id, case when i.sha256 is null then i.{column} else f.segment end as segment
from items i left join firsts f using (sha256)
"""
# the kept crowd items whose content a kept golden (eval) item has
_GOLDEN_COPIES = """
select distinct c.item_id
from t_kept c join items i using (item_id) join items g on g.sha256 = i.sha256
where c.method <> 'golden' and g.item_id <> c.item_id
  and g.item_id in (select item_id from t_kept where method = 'golden')
order by 1
"""


def _golden_ids(gold: pa.Table | None) -> set[str]:
    return set() if gold is None else set(pc.unique(gold.column("item_id")).to_pylist())


def _training_rows(chosen: pa.Table, gold: pa.Table | None) -> int:
    if gold is None:
        return chosen.num_rows
    return chosen.filter(pc.not_equal(chosen.column("method"), "golden")).num_rows


def _nothing_left(
    combined: Resolved, dropped: dict[str, list[str]], suspect: str, golden: set[str]
) -> str:
    """Why no item is left to train on; the counts are of the training candidates (golden items
    go to eval whatever happens to them)."""
    candidates = set(pc.unique(combined.table.column("item_id")).to_pylist()) - golden
    counts = {k: len(set(ids) & candidates) for k, ids in dropped.items()}
    reasons = ", ".join(f"{n} {k.replace('_', '-')}" for k, n in counts.items() if n)
    hint = {
        "exclude": "--suspect include keeps the suspect ones; relabel them under the newest "
        "release, or lower --min-confidence",
        "only": "--suspect only found no suspect item",
        "include": "lower --min-confidence, or relabel the items first",
    }[suspect]
    where = "; the golden items are the eval split" if golden else ""
    if golden and not candidates:
        where = f"; all {len(golden)} labeled items are golden, the eval split"
        hint = "--golden-into train trains on them (and makes no eval split)"
    elif counts.get("golden_duplicate"):
        hint += "; a golden duplicate is a copy of an eval item and never trains"
    return (
        f"no item of {combined.dataset} at {combined.snapshot} is left for training by "
        f"{combined.method} at confidence >= {combined.min_confidence} (left out: "
        f"{reasons or 'none'}{where}): {hint}"
    )


_SHAPE = """
select c.item_id,
       case when c.item_id in (select item_id from t_eval) then 'eval' else {split} end as split,
       i.path, i.width::INTEGER as width, i.height::INTEGER as height, {segment} as segment,
       coalesce(d.leader, c.item_id) as leader,
       c."class", k.class_index::INTEGER as class_index, k.class_name, c.bbox, c.span,
       c.confidence, c.method, c.voters, c.labelers, c.label_ids, c.suspect
from t_chosen c left join items i using (item_id) left join t_classes k using ("class")
     left join t_leaders d using (item_id) {values}
order by c.item_id, k.class_index, c.bbox.x, c.bbox.y, c.bbox.w, c.bbox.h, c.span.start,
         c.span."end", c._r
"""


def _shaped(con, chosen, plan, classes, names, gold) -> pa.Table:
    """The pinned rows, by item, class index and region: split, item columns, provenance."""
    chosen = chosen.append_column("_r", pa.array(np.arange(chosen.num_rows)))
    con.register("t_chosen", chosen)
    eval_ids = (
        pc.unique(chosen.filter(pc.equal(chosen.column("method"), "golden")).column("item_id"))
        if gold is not None
        else pa.array([], pa.string())
    )
    con.register("t_eval", pa.table({"item_id": eval_ids}))
    con.register(
        "t_classes",
        pa.table(
            {
                "class": pa.array(classes, pa.string()),
                "class_index": np.arange(len(classes), dtype=np.int32),
                "class_name": pa.array([names.get(c, c) for c in classes], pa.string()),
            }
        ),
    )
    # items with one content follow one split: their leader's draw, or the column value of the
    # smallest id of them that has one (never each copy its own, which could part them; not
    # the leader's alone: an item keeps its first registration's columns, so a leader without
    # a value could never be given one)
    segment = "NULL"
    if plan.by == "column":
        column = '"{}"'.format(plan.column.replace('"', '""'))
        con.execute(_GROUP_VALUES.format(column=column))
        segment = "gv.segment"
    split = splits.assign_sql(plan, segment, key="coalesce(d.leader, c.item_id)")
    values = "left join t_group_values gv using (item_id)" if plan.by == "column" else ""
    table = con.sql(_SHAPE.format(split=split, segment=segment, values=values)).to_arrow_table()
    training = table.filter(pc.invert(pc.is_in(table.column("item_id"), value_set=eval_ids)))
    splits.check_values(
        plan, training.column("segment"), training.column("item_id"), training.column("leader")
    )
    # the labels rows cite: the snapshot's, and the golden set's for the eval split
    columns = "label_id, guideline_version, attributes, labeler_id, source"
    cited = f"select {columns} from labels_all"
    if gold is not None:
        con.register("t_golden", gold)
        cited += f" union all select {columns} from t_golden"
    con.execute(f"create or replace temp view cited_labels as {cited}")
    table = provenance(con, table.drop_columns(["segment", "leader"]))
    return table.select(TRAINSET_SCHEMA.names).cast(TRAINSET_SCHEMA)


def _eval_ids(table: pa.Table) -> pa.Array:
    return table.filter(pc.equal(table.column("split"), splits.EVAL)).column("item_id")


_SPLITS = """
select split, count(distinct item_id) as items, count("class") as labels,
       count(distinct item_id) filter (where "class" is null) as background
from t_final group by split order by split
"""
_BY_CLASS = """
select split, "class", count(*) from t_final where "class" is not null group by all order by all
"""
_CITED = """
with cited as (select unnest(label_ids) as label_id from t_final)
select {column}, count(*) from cited join cited_labels l using (label_id)
     left join t_roster r using (labeler_id)
group by 1 order by 1
"""


def _figures(ws: Repo, con, table: pa.Table, plan: splits.SplitPlan) -> dict[str, Any]:
    """Per split: items, labels, background images, labels per class; who and which guideline
    versions the labels that went in come from."""
    con.register("t_final", table)
    roster = list_labelers(ws)
    con.register(
        "t_roster",
        pa.table(
            {
                "labeler_id": pa.array([r.id for r in roster], pa.string()),
                "vendor": pa.array([r.vendor for r in roster], pa.string()),
            }
        ),
    )
    per_split = {
        name: {"items": items, "labels": labels, "background": background, "by_class": {}}
        for name, items, labels, background in con.execute(_SPLITS).fetchall()
    }
    for name, cls, count in con.execute(_BY_CLASS).fetchall():
        per_split[name]["by_class"][cls] = count
    per_split = {name: per_split[name] for name in splits.ordered(per_split)}
    counts = {name: entry["items"] for name, entry in per_split.items()}
    splits.check_filled(plan, counts, sum(n for k, n in counts.items() if k != splits.EVAL))
    versions = dict(con.execute(_CITED.format(column="l.guideline_version")).fetchall())
    rows, items, suspect = con.execute(
        'select count("class"), count(distinct item_id), '
        "count(distinct item_id) filter (where suspect) from t_final"
    ).fetchone()
    return {
        "rows": rows,  # labels: background images have none
        "items": items,
        "suspect_kept": suspect,  # suspect items in the set (--suspect include or only)
        "by_class": dict(
            con.execute(
                'select "class", count(*) from t_final where "class" is not null group by 1 order by 1'
            ).fetchall()
        ),
        "split": plan.to_json(),
        "splits": per_split,
        "guideline_versions": {v: versions[v] for v in sorted(versions, key=Version.parse)},
        "labelers": dict(con.execute(_CITED.format(column="labeler_id")).fetchall()),
        # the labelers' vendors (the roster's; a golden set's experts: its source), and the
        # sources the labels came in from (what a bake-off ranks)
        "vendors": dict(
            con.execute(_CITED.format(column="coalesce(r.vendor, l.source)")).fetchall()
        ),
        "sources": dict(con.execute(_CITED.format(column="l.source")).fetchall()),
        "attribute_ties": int(
            pc.sum(pc.greater(pc.list_value_length(table.column("attribute_ties")), 0)).as_py() or 0
        ),
    }


def _duplicates(con, table: pa.Table) -> int:
    """Items of the training splits whose content a smaller id has: they follow its split."""
    con.register("t_set", table.select(["item_id", "split"]))
    return con.execute(
        "select count(distinct item_id) from t_set join t_leaders using (item_id) "
        f"where split <> '{splits.EVAL}' and leader <> item_id"
    ).fetchall()[0][0]


def _unlabeled(con, decisions: pa.Table) -> int:
    """Items registered at the revision that no label (nor golden label) covers."""
    con.register("t_decided", pa.table({"item_id": pc.unique(decisions.column("item_id"))}))
    found = con.execute("select count(*) from items anti join t_decided using (item_id)")
    return found.fetchall()[0][0]


def _newest_release(ws: Repo, guideline: str) -> str | None:
    released = releases(ws, guideline)
    return released[-1].version if released else None
