"""The history of a dataset's labels as users read it: ``labels log``, ``show`` and ``diff``.

Every revision is a snapshot (``labelspec.store.snapshots``). ``diff A B`` compares the current
labels of two revisions, on one branch or two: ``added`` and ``removed`` count labels without a
counterpart, and a label that replaced another (through any chain of ``supersedes``, across
merges) is one change (``changed_class``, ``moved_boxes`` or ``relabeled_same``) instead of a
removal plus an addition. So ``added - removed`` is always the change in current labels.
"""

from __future__ import annotations

from typing import Any

from labelspec.repo import Repo
from labelspec.store.engine import database
from labelspec.store.query import _sql_list, connect
from labelspec.store.schema import NO_OBJECTS
from labelspec.store.snapshots import batch_paths, labels_dir
from labelspec.store.snapshots import snapshot as snapshot_at


# -- log ---------------------------------------------------------------------------------------------
def log(ws: Repo, dataset: str, snapshot: str | None = None) -> list[dict[str, Any]]:
    """Every batch at the revision (HEAD), newest first, with the commit that added it."""

    git = ws.git
    snap = snapshot_at(ws, dataset, snapshot, git)
    added = git.commits_adding(labels_dir(ws, dataset), ".parquet.dvc")
    legacy = {t.commit: name for name, t in git.tags(f"dataset/{dataset}/snap-").items()}
    rows = []
    for batch in sorted(snap.batches, key=lambda b: (b.created, b.id), reverse=True):
        commit, date = added.get(f"{batch.id}.parquet.dvc", (None, None))
        rows.append(
            {
                "batch": batch.id,
                "commit": commit,
                "date": date or batch.created,
                "snapshot_tag": legacy.get(commit) if commit else None,
                "source": batch.source,
                "format": batch.format,
                "labels": batch.rows,
                "annotations": batch.annotations,
                "items": batch.items,
                "supersedes": batch.supersedes,
                "plan": batch.plan,
                "versions": batch.versions,
                "message": batch.message,
            }
        )
    return rows


# -- show ----------------------------------------------------------------------------------------------
def show(ws: Repo, dataset: str, snapshot: str | None = None) -> dict[str, Any]:
    """Counts of a snapshot's current labels by class, labeler, guideline version and source."""

    snap = snapshot_at(ws, dataset, snapshot)
    con = connect(ws, dataset, snap)
    # One scan for every breakdown (the empty grouping set is the total), one for distinct counts.
    # An explicit empty answer ("no objects here") is an annotation without a label: it counts
    # in annotations, items, labelers and versions, and under its own name among the classes.
    grouped = con.execute(
        """
        select coalesce("class", $empty), labeler_id, guideline_version, source,
               -- the class breakdown counts empty answers under their name; the others labels
               case when grouping(coalesce("class", $empty)) = 0 then count(*)
                    else count("class") end
        from labels
        group by grouping sets ((coalesce("class", $empty)), (labeler_id), (guideline_version),
                                (source), ())
        """,
        {"empty": NO_OBJECTS},
    ).fetchall()
    annotations, items = con.execute(
        "select count(distinct annotation_id), count(distinct item_id) from labels"
    ).fetchall()[0]
    by: dict[str, dict[str, int]] = {
        "class": {},
        "labeler": {},
        "guideline_version": {},
        "source": {},
    }
    total = 0
    for *keys, n in grouped:
        found = [(k, v) for k, v in zip(by, keys, strict=True) if v is not None]
        if found:
            by[found[0][0]][found[0][1]] = n
        else:
            total = n
    empty = by["class"].pop(NO_OBJECTS, 0)
    return {
        "dataset": dataset,
        "snapshot": snap.name,
        "commit": snap.commit,
        "batches": len(snap.batches),
        "labels": total,
        "empty_answers": empty,
        "annotations": annotations,
        "items": items,
        "labelers": len(by["labeler"]),
        "superseded_labels": snap.labels - total - empty,
        "by_class": dict(sorted(by["class"].items())),
        "by_labeler": dict(sorted(by["labeler"].items())),
        "by_guideline_version": dict(sorted(by["guideline_version"].items())),
        "by_source": dict(sorted(by["source"].items())),
    }


# -- diff ----------------------------------------------------------------------------------------------
# ``old`` / ``new``: rows of the two revisions' batches (only the batches that can matter);
# ``edges``: every supersedes link among the rows read. A removed label pairs with the added
# label whose annotation reaches it through supersedes links (same item), or whose annotation
# it reaches (two branches: the link recorded on the A side, where the replacement is current),
# best match first (same class, nearest box), each label in at most one pair.
_DIFF_SQL = """
create temp table sup_old as select distinct unnest(supersedes) as annotation_id from old where supersedes is not null;
create temp table sup_new as select distinct unnest(supersedes) as annotation_id from new where supersedes is not null;
create temp table cur_old as select * from old anti join sup_old using (annotation_id);
create temp table cur_new as select * from new anti join sup_new using (annotation_id);
create temp table added as select * from cur_new anti join (select label_id from cur_old) using (label_id);
create temp table removed as select * from cur_old anti join (select label_id from cur_new) using (label_id);
create temp table edges as
  select distinct annotation_id as head, unnest(supersedes) as tail from ({edge_rows}) where supersedes is not null;
create temp table reach as
  with recursive walk(head, tail) as (
    select e.head, e.tail from edges e
    where e.head in (select annotation_id from added union all select annotation_id from removed)
    union
    select w.head, e.tail from walk w join edges e on e.head = w.tail
  ) select * from walk;
create temp table pairs as
  select r.label_id as old_id, n.label_id as new_id, r."class" as old_class, n."class" as new_class,
         r.bbox as old_box, n.bbox as new_box,
         (r."class" = n."class") as same_class,
         abs(coalesce(r.bbox.x, 0) - coalesce(n.bbox.x, 0)) + abs(coalesce(r.bbox.y, 0) - coalesce(n.bbox.y, 0)) as dist
  from (select head as new_ann, tail as old_ann from reach
        union select tail, head from reach) w
  join removed r on r.annotation_id = w.old_ann
  join added n on n.annotation_id = w.new_ann and n.item_id = r.item_id;
create temp table matched as
  select * from (
    select *, row_number() over (partition by old_id order by same_class desc, dist, new_id) as rank_old,
              row_number() over (partition by new_id order by same_class desc, dist, old_id) as rank_new
    from pairs) where rank_old = 1 and rank_new = 1;
"""
_DIFF_COUNTS = f"""
select 'added' as kind, coalesce("class", '{NO_OBJECTS}'), count(*) from added anti join (select new_id as label_id from matched) using (label_id) group by all
union all select 'removed', coalesce("class", '{NO_OBJECTS}'), count(*) from removed anti join (select old_id as label_id from matched) using (label_id) group by all
union all select case when old_class is distinct from new_class then 'changed_class'
                      when old_box is distinct from new_box then 'moved_box' else 'relabeled_same' end,
                 case when old_class is distinct from new_class
                      then coalesce(old_class, '{NO_OBJECTS}') || ' -> ' || coalesce(new_class, '{NO_OBJECTS}')
                      else coalesce(old_class, '{NO_OBJECTS}') end,
                 count(*) from matched group by all
"""
_COLUMNS = 'label_id, annotation_id, item_id, "class", bbox, supersedes'


def diff(ws: Repo, dataset: str, a: str, b: str) -> dict[str, Any]:
    """What changed in the current labels from revision A to revision B, by class (in DuckDB)."""

    git = ws.git
    snap_a, snap_b = snapshot_at(ws, dataset, a, git), snapshot_at(ws, dataset, b, git)
    ids_a, ids_b = {x.id for x in snap_a.batches}, {x.id for x in snap_b.batches}
    # Read only what can differ: along one line of history the batches in between, plus the
    # older side's rows only where those batches supersede them.
    forward = ids_a <= ids_b
    older, newer = (snap_a, snap_b) if forward or not ids_b <= ids_a else (snap_b, snap_a)
    linear = {x.id for x in older.batches} <= {x.id for x in newer.batches}
    con = database()
    rows = []
    if linear:
        between = [x for x in newer.batches if x.id not in {y.id for y in older.batches}]
        if between:
            new_paths = batch_paths(ws, newer, between)
            if not any(x.supersedes for x in between):  # plain imports: all of it is added
                sql = (
                    f"select 'added', coalesce(\"class\", '{NO_OBJECTS}'), count(*) "
                    f"from read_parquet({_sql_list(new_paths)}, union_by_name = true) group by all"
                )
                rows = con.execute(sql).fetchall()
            else:
                old_paths = batch_paths(ws, older)
                # Only the older rows the new batches supersede can go away (if they were
                # current: not superseded by the older side itself).
                con.execute(
                    f"""
                    create view fresh as select {_COLUMNS} from read_parquet({_sql_list(new_paths)}, union_by_name = true);
                    create view prior as select {_COLUMNS} from read_parquet({_sql_list(old_paths)}, union_by_name = true);
                    create temp table touched as select distinct unnest(supersedes) as annotation_id
                      from fresh where supersedes is not null;
                    create temp table sup_prior as select distinct unnest(supersedes) as annotation_id
                      from prior where supersedes is not null;
                    create view old as select * from (select * from prior semi join touched using (annotation_id))
                      anti join sup_prior using (annotation_id);
                    create view new as select * from fresh;
                    """
                )
                con.execute(_DIFF_SQL.format(edge_rows="select * from fresh"))
                rows = con.execute(_DIFF_COUNTS).fetchall()
        if older is not snap_a:  # asked backwards: what was added is what goes away
            rows = _reverse(rows)
    else:  # two lines of history: compare the whole current sets
        paths_a, paths_b = batch_paths(ws, snap_a), batch_paths(ws, snap_b)
        con.execute(
            f"create view old as select {_COLUMNS} from read_parquet({_sql_list(paths_a)}, union_by_name = true)"
        )
        con.execute(
            f"create view new as select {_COLUMNS} from read_parquet({_sql_list(paths_b)}, union_by_name = true)"
        )
        con.execute(_DIFF_SQL.format(edge_rows="select * from old union all select * from new"))
        rows = con.execute(_DIFF_COUNTS).fetchall()
    return _diff_result(dataset, snap_a, snap_b, rows)


def _reverse(rows: list[tuple]) -> list[tuple]:
    swap = {"added": "removed", "removed": "added"}
    return [
        (
            swap.get(kind, kind),
            " -> ".join(reversed(key.split(" -> "))) if kind == "changed_class" else key,
            n,
        )
        for kind, key, n in rows
    ]


def _diff_result(dataset: str, snap_a, snap_b, rows: list[tuple]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "dataset": dataset,
        "from": snap_a.name,
        "to": snap_b.name,
        "from_commit": snap_a.commit,
        "to_commit": snap_b.commit,
        "added": 0,
        "removed": 0,
        "changed_class": 0,
        "moved_boxes": 0,
        "relabeled_same": 0,
        "by_class": {},
        "class_changes": {},
    }
    for kind, key, n in rows:
        if kind == "changed_class":
            result["changed_class"] += n
            result["class_changes"][key] = result["class_changes"].get(key, 0) + n
            old, new = key.split(" -> ")
            result["by_class"].setdefault(old, {}).setdefault("changed_from", 0)
            result["by_class"][old]["changed_from"] += n
            result["by_class"].setdefault(new, {}).setdefault("changed_to", 0)
            result["by_class"][new]["changed_to"] += n
            continue
        field_name = {"moved_box": "moved_boxes"}.get(kind, kind)
        cls = key.split(" -> ")[0]
        result[field_name] += n
        result["by_class"].setdefault(cls, {})[field_name] = (
            result["by_class"].get(cls, {}).get(field_name, 0) + n
        )
    result["by_class"] = dict(sorted(result["by_class"].items()))
    return result
