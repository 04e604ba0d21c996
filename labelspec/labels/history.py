"""The history of a dataset's labels as users read it: ``labels log``, ``show`` and ``diff``.

Every revision is a snapshot (``labelspec.store.snapshots``). ``diff A B`` compares the current
labels of two revisions, on one branch or two: ``added`` and ``removed`` count labels without a
counterpart, and a label that replaced another (through any chain of ``supersedes``, across
merges) is one change (``changed_class``, ``moved_boxes`` or ``relabeled_same``) instead of a
removal plus an addition. So ``added - removed`` is always the change in current labels.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from labelspec.repo import Repo
from labelspec.store import schema
from labelspec.store.engine import database
from labelspec.store.query import _sql_list, connect
from labelspec.store.retractions import retractions_at
from labelspec.store.schema import NO_OBJECTS
from labelspec.store.snapshots import batch_paths, labels_dir
from labelspec.store.snapshots import snapshot as snapshot_at


# -- log ---------------------------------------------------------------------------------------------
def _empty_answers(ws: Repo, batches) -> dict[str, int]:
    """Batch id -> its empty answers ("no objects here": no label): from its record, else
    (recorded before they were counted) from its file's footer when the file is here."""
    found = {b.id: b.empty for b in batches if b.empty is not None}
    unrecorded = {str(ws.root / b.file): b.id for b in batches if b.empty is None}
    present = [path for path in unrecorded if Path(path).is_file()]
    if present:  # null counts of the class column: footers only, no row is read
        for path, nulls in (
            database()
            .execute(
                f"""select file_name, sum(stats_null_count)::BIGINT from parquet_metadata({_sql_list(present)})
                where path_in_schema = 'class' group by 1"""
            )
            .fetchall()
        ):
            found[unrecorded[path]] = nulls or 0
    return found


def log(ws: Repo, dataset: str, snapshot: str | None = None) -> list[dict[str, Any]]:
    """Every batch at the revision (HEAD), newest first, with the commit that added it; and
    every retraction recorded there (``event`` says which), in its place by date."""

    git = ws.git
    snap = snapshot_at(ws, dataset, snapshot, git)
    added = git.commits_adding(labels_dir(ws, dataset), ".parquet.dvc")
    legacy = {t.commit: name for name, t in git.tags(f"dataset/{dataset}/snap-").items()}
    rows = []
    empty = _empty_answers(ws, snap.batches)
    for batch in sorted(snap.batches, key=lambda b: (b.created, b.id), reverse=True):
        commit, date = added.get(f"{batch.id}.parquet.dvc", (None, None))
        rows.append(
            {
                "event": "batch",
                "batch": batch.id,
                "commit": commit,
                "date": date or batch.created,
                "snapshot_tag": legacy.get(commit) if commit else None,
                "source": batch.source,
                "format": batch.format,
                "rows": batch.rows,
                # unknown (None) when neither the record nor a file here says how many rows are
                # empty answers, which are no labels
                "labels": None if batch.id not in empty else batch.rows - empty[batch.id],
                "empty": empty.get(batch.id),
                "annotations": batch.annotations,
                "items": batch.items,
                "supersedes": batch.supersedes,
                "plan": batch.plan,
                "versions": batch.versions,
                "message": batch.message,
                "_when": _when(batch.created) or _when(date),
            }
        )
    retracted = (
        [
            {
                "event": "retraction",
                "batch": r.get("batch"),
                "commit": r["commit"],
                "date": r.get("date"),
                "snapshot_tag": None,
                "source": r.get("source"),
                "labels": r.get("labels"),
                "reason": r.get("reason"),
                "by": r["by"],
                "added_in": r.get("added_in"),
                "_when": _when(r.get("date")),
            }
            for r in retractions_at(ws, dataset, snap.commit)
        ]
        if snap.commit
        else []
    )
    retracted.sort(key=lambda r: r["_when"], reverse=True)
    merged = _merge_newest_first(git, rows, retracted)
    for row in merged:
        del row["_when"]
    return merged


def _when(text: str | None) -> dt.datetime:
    """A batch's ``created`` (20260201T100000Z), a commit's or a retraction's ISO date, in UTC;
    the oldest time when it is neither."""
    for parse in (
        lambda t: dt.datetime.strptime(t, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC),
        dt.datetime.fromisoformat,
    ):
        try:
            when = parse(text or "")
        except ValueError:
            continue
        return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    return dt.datetime.min.replace(tzinfo=dt.UTC)


def _merge_newest_first(git, batches: list[dict], retracted: list[dict]) -> list[dict]:
    """Both lists newest first, merged; a retraction dated in the same second as a batch comes
    after it (above, newest first) when the batch's commit is in the retraction's history."""
    out: list[dict] = []
    i = j = 0
    while i < len(batches) and j < len(retracted):
        batch, retraction = batches[i], retracted[j]
        if retraction["_when"] > batch["_when"] or (
            retraction["_when"] == batch["_when"]
            and batch["commit"]
            and git.is_ancestor(batch["commit"], retraction["commit"])
        ):
            out.append(retraction)
            j += 1
        else:
            out.append(batch)
            i += 1
    return out + batches[i:] + retracted[j:]


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
# ``edges``: every supersedes link among the rows read. A removed label and an added label of the
# same item are candidates for one change when either annotation reaches the other through
# supersedes links (either way: which side replaced which depends on the direction asked).
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
    where e.head in (select annotation_id from added union select annotation_id from removed)
    union
    select w.head, e.tail from walk w join edges e on e.head = w.tail
  ) select * from walk;
create temp table pairs as
  select r.label_id as old_id, n.label_id as new_id, r."class" as old_class, n."class" as new_class,
         r.bbox as old_box, n.bbox as new_box,
         (r."class" is not distinct from n."class") as same_class,
         abs(coalesce(r.bbox.x, 0) - coalesce(n.bbox.x, 0)) + abs(coalesce(r.bbox.y, 0) - coalesce(n.bbox.y, 0)) as dist
  from removed r
  join (select head as new_annotation, tail as old_annotation from reach
        union select tail, head from reach) k on k.old_annotation = r.annotation_id
  join added n on n.annotation_id = k.new_annotation and n.item_id = r.item_id;
"""
# Which candidates become changes: as many as possible (a maximum matching, each label in at
# most one pair), chosen in the order same class first (a label that kept its class pairs before
# one that changed it), then the nearest box, then label ids. Pairs with no alternative (each
# side a single candidate) are taken in SQL; only items with a choice are matched in Python.
_DIFF_CHOICE = """
create temp table pairs_ranked as
  select *, count(*) over (partition by old_id) as n_old, count(*) over (partition by new_id) as n_new
  from pairs;
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
    """What changed in the current labels from revision A to revision B, by class (in DuckDB).

    ``diff B A`` is the mirror of ``diff A B`` by construction: each pair of revisions is
    compared in one direction (along history, older to newer; across branches, by commit id)
    and the other direction reverses that answer."""

    git = ws.git
    snap_a, snap_b = snapshot_at(ws, dataset, a, git), snapshot_at(ws, dataset, b, git)
    return _diff_result(dataset, snap_a, snap_b, _diff_rows(ws, snap_a, snap_b))


def _diff_rows(ws: Repo, snap_a, snap_b) -> list[tuple]:
    ids_a, ids_b = {x.id for x in snap_a.batches}, {x.id for x in snap_b.batches}
    if ids_a == ids_b:
        return []
    if ids_a <= ids_b:
        return _along(ws, snap_a, snap_b)
    if ids_b <= ids_a:  # asked backwards (or past a revert): what was added is what goes away
        return _reverse(_along(ws, snap_b, snap_a))
    if (snap_b.commit or "") < (snap_a.commit or ""):
        return _reverse(_across(ws, snap_b, snap_a))
    return _across(ws, snap_a, snap_b)


def _along(ws: Repo, older, newer) -> list[tuple]:
    """One line of history (``older``'s batches are some of ``newer``'s): read the batches in
    between, and the older rows only where those batches supersede them."""
    con = database()
    old_ids = {y.id for y in older.batches}
    between = [x for x in newer.batches if x.id not in old_ids]
    # after a revert the "older" side can be the later commit: a batch of it may supersede
    # rows of the batches in between, which then are current on neither side
    superseding = [x for x in newer.batches if x.supersedes]
    new_paths = batch_paths(ws, newer, between)
    _rows_view(con, "fresh", new_paths)
    if superseding:
        sup_paths = batch_paths(ws, newer, superseding)
        con.execute(
            f"""create temp table sup_all as select distinct unnest(supersedes) as annotation_id
            from read_parquet({_sql_list(sup_paths)}, union_by_name = true) where supersedes is not null"""
        )
    else:
        con.execute("create temp table sup_all (annotation_id VARCHAR)")
    if not any(x.supersedes for x in between):  # plain imports: what is current of them is added
        sql = (
            f"select 'added', coalesce(\"class\", '{NO_OBJECTS}'), count(*) "
            "from fresh anti join sup_all using (annotation_id) group by all"
        )
        return con.execute(sql).fetchall()
    _rows_view(con, "prior", batch_paths(ws, older))
    con.execute(
        """
        create temp table touched as select distinct unnest(supersedes) as annotation_id
          from fresh where supersedes is not null;
        create temp table sup_prior as select distinct unnest(supersedes) as annotation_id
          from prior where supersedes is not null;
        create view old as select * from (select * from prior semi join touched using (annotation_id))
          anti join sup_prior using (annotation_id);
        create view new as select * from fresh anti join sup_all using (annotation_id);
        """
    )
    con.execute(_DIFF_SQL.format(edge_rows="select * from fresh"))
    return _counts(con)


def _across(ws: Repo, snap_a, snap_b) -> list[tuple]:
    """Two lines of history: compare the whole current sets."""
    con = database()
    _rows_view(con, "old", batch_paths(ws, snap_a))
    _rows_view(con, "new", batch_paths(ws, snap_b))
    con.execute(_DIFF_SQL.format(edge_rows="select * from old union all select * from new"))
    return _counts(con)


def _rows_view(con, name: str, paths: list[str]) -> None:
    """View ``name``: the diff's columns of the batch files ``paths`` (none: a revision without
    batches, read as no rows)."""
    if paths:
        source = f"read_parquet({_sql_list(paths)}, union_by_name = true)"
    else:
        source = f"({schema.no_rows(schema.LABEL_COLUMNS)})"
    con.execute(f"create view {name} as select {_COLUMNS} from {source}")


def _counts(con) -> list[tuple]:
    con.execute(_DIFF_CHOICE)
    con.execute(
        "create temp table matched as select * exclude (n_old, n_new) from pairs_ranked "
        "where n_old = 1 and n_new = 1"
    )
    choices = con.execute(
        "select old_id, new_id from pairs_ranked where n_old > 1 or n_new > 1 "
        "order by same_class desc, dist, old_id, new_id"
    ).fetchall()
    if choices:
        chosen = maximum_pairs(choices)
        con.execute("create temp table chosen (old_id VARCHAR, new_id VARCHAR)")
        con.executemany("insert into chosen values (?, ?)", chosen)
        con.execute(
            "insert into matched select p.* exclude (n_old, n_new) from pairs_ranked p "
            "semi join chosen c on c.old_id = p.old_id and c.new_id = p.new_id"
        )
    return con.execute(_DIFF_COUNTS).fetchall()


def maximum_pairs(edges: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A maximum matching of the bipartite graph ``edges`` (old, new), listed best first: the
    greedy matching in that order, then every augmenting path (Kuhn's algorithm) so no pair is
    lost where a disjoint pairing exists (a greedy choice alone can take 1 of 2 possible)."""
    choices: dict[str, list[str]] = {}
    to_new: dict[str, str] = {}
    to_old: dict[str, str] = {}
    for old, new in edges:
        choices.setdefault(old, []).append(new)
        if old not in to_new and new not in to_old:
            to_new[old], to_old[new] = new, old
    for start in choices:
        if start in to_new:
            continue
        came_from: dict[str, str] = {}  # new -> the old it was reached from
        queue, free = [start], None
        while queue and free is None:
            old = queue.pop(0)
            for new in choices[old]:
                if new in came_from:
                    continue
                came_from[new] = old
                if new not in to_old:
                    free = new
                    break
                queue.append(to_old[new])
        while free is not None:  # flip the path back to ``start``
            old = came_from[free]
            previous = to_new.get(old)
            to_new[old], to_old[free] = free, old
            free = None if old == start else previous
    return sorted(to_new.items())


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
