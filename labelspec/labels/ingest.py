"""Label import, snapshots as users see them (log, show, diff), and export."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labelspec.errors import LabelspecError, NotFoundError, Problem, ProblemsError
from labelspec.store.engine import database
from labelspec.workspace import Workspace

EXPORT_FORMATS = ("coco", "labelstudio", "jsonl", "parquet")


@dataclass
class ImportResult:
    dataset: str
    batch_id: str
    snapshot: str
    tag: str
    commit: str
    labels: int
    annotations: int
    items: int
    by_class: dict[str, int]
    by_labeler: dict[str, int]
    skipped: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "batch": self.batch_id,
            "snapshot": self.snapshot,
            "tag": self.tag,
            "commit": self.commit,
            "labels": self.labels,
            "annotations": self.annotations,
            "items": self.items,
            "by_class": self.by_class,
            "by_labeler": self.by_labeler,
            "skipped": self.skipped,
            "warnings": self.warnings,
        }


def load_labeler_map(path: Path) -> dict[str, str]:
    """A JSON object or a two-column CSV: the tool's user id -> labeler id."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise NotFoundError(f"{path}: labeler map not found") from exc
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise LabelspecError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from exc
        if not isinstance(data, dict):
            raise LabelspecError(
                f'{path}: a labeler map is a JSON object {{"tool user id": "labeler id"}}'
            )
        return {str(k): str(v) for k, v in data.items()}
    rows = [r for r in csv.reader(text.splitlines()) if r and any(c.strip() for c in r)]
    if (
        rows
        and len(rows[0]) == 2
        and not rows[0][0].strip().isdigit()
        and rows[0][1].strip() in ("labeler", "labeler_id")
    ):
        rows = rows[1:]  # a header row
    bad = [i for i, r in enumerate(rows, 1) if len(r) != 2]
    if bad:
        raise LabelspecError(
            f"{path}: line {bad[0]}: a labeler map CSV has two columns: tool user id, labeler id"
        )
    return {r[0].strip(): r[1].strip() for r in rows}


def _summary_counts(con) -> tuple[int, int, int, dict[str, int], dict[str, int]]:
    totals = con.execute(
        "select count(*), count(distinct annotation_id), count(distinct item_id) from batch"
    ).fetchall()[0]
    by_class = dict(
        con.execute('select "class", count(*) from batch group by 1 order by 1').fetchall()
    )
    by_labeler = dict(
        con.execute("select labeler_id, count(*) from batch group by 1 order by 1").fetchall()
    )
    return (*totals, by_class, by_labeler)


def write_labels(
    ws: Workspace,
    dataset: str,
    table,
    message: str,
    source: str,
    fmt: str,
    superseded: int = 0,
    superseded_labels: int = 0,
    plan: str | None = None,
    presorted: bool = False,
):
    """Write one batch and commit it as a new snapshot (the caller holds the workspace lock)."""

    from labelspec.store.batches import write_batch
    from labelspec.store.snapshots import BatchInfo, commit_snapshot, labels_dir, recover
    from labelspec.vcs import Git

    batch_id = table.column("batch_id")[0].as_py()
    con = database()
    con.register("batch", table)
    rows, annotations, items, by_class, by_labeler = _summary_counts(con)
    versions = [
        r[0]
        for r in con.execute("select distinct guideline_version from batch order by 1").fetchall()
    ]
    with Git(ws.root) as git:
        recover(ws, dataset, git)
        path = labels_dir(ws, dataset) / f"{batch_id}.parquet"
        try:
            sha = write_batch(
                table,
                path,
                {
                    "labelspec.batch_id": batch_id,
                    "labelspec.dataset": dataset,
                    "labelspec.source": source,
                },
                presorted=presorted,
            )
            info = BatchInfo(
                id=batch_id,
                file=f"labels/{path.name}",
                sha256=sha,
                rows=rows,
                annotations=annotations,
                items=items,
                source=source,
                format=fmt,
                versions=versions,
                supersedes=superseded,
                plan=plan,
                created=table.column("batch_id")[0].as_py().split("-")[1],
            )
            snapshot = commit_snapshot(ws, dataset, git, [info], message, superseded_labels)
        except BaseException:
            recover(ws, dataset, git)
            raise
    return snapshot, rows, annotations, items, by_class, by_labeler


def import_labels(
    ws: Workspace,
    dataset: str,
    file: Path | str,
    fmt: str,
    guideline: str,
    source: str,
    labeler_map: Path | str | None = None,
    labeler: str | None = None,
    cost_per_label: float | None = None,
) -> ImportResult:
    """Validate every label of an export, then write one batch and commit a snapshot.

    ``cost_per_label`` fills the cost of labels whose export carries none (most tools don't:
    vendors bill per label by contract)."""
    from labelspec.formats import reader
    from labelspec.guideline.releases import parse_ref, releases
    from labelspec.labels.validate import ImportRequest, validate
    from labelspec.store.batches import new_batch_id
    from labelspec.store.datasets import dataset_guideline
    from labelspec.store.items import read_items

    path = Path(file)
    if not path.is_file():
        raise NotFoundError(f"{path}: no such file")
    name, version = parse_ref(guideline)
    bound = dataset_guideline(ws, dataset)
    if name != bound:
        raise LabelspecError(
            f"dataset {dataset!r} is labeled under guideline {bound!r}, not {name!r}"
        )
    if version is None:
        released = releases(ws, name)
        if not released:
            raise NotFoundError(
                f"guideline {name!r} has no release yet; release it before importing labels"
            )
        version = released[-1].version
    if not source.strip():
        raise LabelspecError("--source (the vendor or tool the labels came from) must not be empty")
    items = read_items(ws, dataset)
    if items.num_rows == 0:
        raise LabelspecError(
            f"dataset {dataset!r} has no items yet; register them with `labelspec items add {dataset} FOLDER`"
        )
    mapping = load_labeler_map(Path(labeler_map)) if labeler_map else None
    staged = reader(fmt)(path)
    request = ImportRequest(
        dataset=dataset,
        guideline=name,
        version=version,
        source=source,
        file=str(file),
        labeler=labeler,
        labeler_map=mapping,
        labeler_map_file=str(labeler_map) if labeler_map else None,
        training_policy=ws.config.policies.training,
    )
    batch_id = new_batch_id()
    checked = validate(ws, request, staged, batch_id, items)
    # in file order (parse problems first on a line); line-less formats keep their order
    problems = sorted(staged.problems + checked.problems, key=lambda p: p.line or 0)
    total = len(staged.problems) + checked.total_problems
    if total:
        counts = dict(checked.problem_counts)
        for problem in staged.problems:
            counts[problem.path] = counts.get(problem.path, 0) + 1
        breakdown = ", ".join(
            f"{n} {field}" for field, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        raise ProblemsError(
            f"{path.name}: {total} problem(s) ({breakdown}); nothing was imported",
            problems[:50],
            total,
        )
    if cost_per_label is not None:
        if cost_per_label < 0:
            raise LabelspecError("--cost-per-label must not be negative")
        import pyarrow.compute as pc

        index = checked.table.schema.get_field_index("cost")
        filled = pc.fill_null(checked.table.column("cost"), float(cost_per_label))
        checked.table = checked.table.set_column(index, checked.table.schema.field("cost"), filled)
    if checked.table.num_rows == 0:
        skipped = ", ".join(f"{n} {why}" for why, n in staged.skipped.items()) or "none"
        raise LabelspecError(f"{path.name}: no labels to import (skipped: {skipped})")
    with ws.lock():
        snapshot, rows, annotations, n_items, by_class, by_labeler = write_labels(
            ws,
            dataset,
            checked.table,
            f"import {rows_word(checked.table.num_rows)} from {source} ({fmt}, {path.name})",
            source,
            fmt,
            presorted=True,  # validate() returns rows in the batch order
        )
    return ImportResult(
        dataset=dataset,
        batch_id=batch_id,
        snapshot=snapshot.name,
        tag=snapshot.tag,
        commit=snapshot.commit or "",
        labels=rows,
        annotations=annotations,
        items=n_items,
        by_class=by_class,
        by_labeler=by_labeler,
        skipped=staged.skipped,
        warnings=checked.warnings,
    )


def rows_word(n: int) -> str:
    return f"{n} label{'s' if n != 1 else ''}"


# -- log / show / diff -------------------------------------------------------------------------------
def log(ws: Workspace, dataset: str) -> list[dict[str, Any]]:
    from labelspec.store.snapshots import snapshots_with_commits, to_dict

    manifest = snapshots_with_commits(ws, dataset)
    rows = []
    for snapshot in reversed(manifest.snapshots):
        entry = to_dict(snapshot)
        entry["sources"] = sorted({manifest.batches[b].source for b in snapshot.added})
        rows.append(entry)
    return rows


def show(ws: Workspace, dataset: str, snapshot: str | None = None) -> dict[str, Any]:
    """Counts of a snapshot's current labels by class, labeler, guideline version and source."""
    from labelspec.store.query import connect
    from labelspec.store.snapshots import load_manifest

    chosen = load_manifest(ws, dataset).resolve(snapshot)
    con = connect(ws, dataset, chosen.id)
    # One scan for every breakdown (the empty grouping set is the total), one for distinct counts.
    grouped = con.execute(
        """
        select "class", labeler_id, guideline_version, source, count(*)
        from labels group by grouping sets (("class"), (labeler_id), (guideline_version), (source), ())
        """
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
    superseded = con.execute("select count(*) from labels_all").fetchall()[0][0] - total
    totals = (total, annotations, items, len(by["labeler"]))
    return {
        "dataset": dataset,
        "snapshot": chosen.name,
        "labels": totals[0],
        "annotations": totals[1],
        "items": totals[2],
        "labelers": totals[3],
        "superseded_labels": superseded,
        "by_class": dict(sorted(by["class"].items())),
        "by_labeler": dict(sorted(by["labeler"].items())),
        "by_guideline_version": dict(sorted(by["guideline_version"].items())),
        "by_source": dict(sorted(by["source"].items())),
    }


# Batches only ever get added, so between an older and a newer snapshot the labels added are the
# newer batches' current rows, and the labels removed are older rows those batches supersede:
# the work grows with the batches in between, not with the history.
_DIFF_SQL = """
with newrows as (select label_id, annotation_id, item_id, "class", bbox, supersedes from read_parquet({new})),
     sup_new as (select distinct unnest(supersedes) as annotation_id from newrows where supersedes is not null),
     sup_old as (select distinct unnest(supersedes) as annotation_id from read_parquet({old}) where supersedes is not null),
     added as (select * from newrows anti join sup_new using (annotation_id)),
     removed as (select * from (select label_id, annotation_id, item_id, "class", bbox from read_parquet({old})
                                semi join sup_new using (annotation_id))
                 anti join sup_old using (annotation_id)),
     -- a relabel pairs an added label with the removed one it supersedes (same item, nearest box)
     pairs as (
       select r.label_id as old_id, n.label_id as new_id, r.item_id, r."class" as old_class, n."class" as new_class,
              r.bbox as old_box, n.bbox as new_box,
              row_number() over (partition by r.label_id order by
                (r."class" = n."class") desc,
                abs(coalesce(r.bbox.x, 0) - coalesce(n.bbox.x, 0)) + abs(coalesce(r.bbox.y, 0) - coalesce(n.bbox.y, 0))) as rank_old
       from removed r join added n
         on n.item_id = r.item_id and list_contains(coalesce(n.supersedes, []), r.annotation_id)
     ),
     matched as (select * from pairs where rank_old = 1),
     changes as (
       select item_id, old_class, new_class,
              case when old_class <> new_class then 'changed_class'
                   when old_box is distinct from new_box then 'moved_box' else 'same' end as kind
       from matched
     )
select 'added' as kind, "class", count(*) from added anti join (select new_id as label_id from matched) using (label_id) group by all
union all select 'removed', "class", count(*) from removed anti join (select old_id as label_id from matched) using (label_id) group by all
union all select kind, old_class || ' -> ' || new_class, count(*) from changes where kind <> 'same' group by all
union all select 'relabeled_same', old_class, count(*) from changes where kind = 'same' group by all
"""


def diff(ws: Workspace, dataset: str, a: str, b: str) -> dict[str, Any]:
    """What changed in the current labels from snapshot A to snapshot B, by class (in DuckDB)."""

    from labelspec.store.query import _sql_list
    from labelspec.store.snapshots import batch_paths, load_manifest

    manifest = load_manifest(ws, dataset)
    snap_a, snap_b = manifest.resolve(a), manifest.resolve(b)
    older, newer = sorted((snap_a, snap_b), key=lambda snap: snap.id)
    old_ids = set(manifest.batch_ids(older))
    paths = dict(
        zip(manifest.batch_ids(newer), batch_paths(ws, dataset, newer, manifest), strict=True)
    )
    new_paths = [p for batch, p in paths.items() if batch not in old_ids]
    old_paths = [p for batch, p in paths.items() if batch in old_ids]
    rows = []
    superseding = any(manifest.batches[b].supersedes for b in paths if b not in old_ids)
    if new_paths and not superseding:
        # Plain imports in between: nothing was removed, the new batches are what was added.
        sql = f"select 'added', \"class\", count(*) from read_parquet({_sql_list(new_paths)}) group by all"
        rows = database().execute(sql).fetchall()
    elif new_paths:
        sql = _DIFF_SQL.format(new=_sql_list(new_paths), old=_sql_list(old_paths))
        rows = database().execute(sql).fetchall()
    if snap_a.id > snap_b.id:  # going back in history: what was added is what goes away
        swap = {"added": "removed", "removed": "added"}
        rows = [
            (
                swap.get(kind, kind),
                " -> ".join(reversed(key.split(" -> "))) if kind == "changed_class" else key,
                n,
            )
            for kind, key, n in rows
        ]
    result: dict[str, Any] = {
        "dataset": dataset,
        "from": snap_a.name,
        "to": snap_b.name,
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
            result["class_changes"][key] = n
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


# -- export -------------------------------------------------------------------------------------------
def export(
    ws: Workspace, dataset: str, fmt: str, out: Path | str, snapshot: str | None = None
) -> dict[str, Any]:
    """Write the current labels of a snapshot for a tool or a training job."""
    from labelspec.guideline.releases import spec_at
    from labelspec.store.batches import write_parquet
    from labelspec.store.datasets import dataset_guideline
    from labelspec.store.items import read_items
    from labelspec.store.query import current_labels
    from labelspec.store.snapshots import load_manifest

    if fmt not in EXPORT_FORMATS:
        raise LabelspecError(
            f"unknown export format {fmt!r}: choose one of {', '.join(EXPORT_FORMATS)}"
        )
    out = Path(out)
    chosen = load_manifest(ws, dataset).resolve(snapshot)
    labels = current_labels(ws, dataset, chosen.id)
    if fmt == "parquet":
        write_parquet(labels, out)
        count = labels.num_rows
    elif fmt == "jsonl":
        from labelspec.formats.jsonl import write_jsonl

        count = write_jsonl(labels, out)
    else:
        import importlib

        guideline = dataset_guideline(ws, dataset)
        versions = sorted(set(labels.column("guideline_version").to_pylist()))
        spec = spec_at(ws, guideline, versions[-1] if versions else None)
        writer = importlib.import_module(f"labelspec.formats.{fmt}").write
        count = writer(labels, read_items(ws, dataset), spec, out, snapshot=chosen.name)
    return {
        "dataset": dataset,
        "snapshot": chosen.name,
        "format": fmt,
        "out": str(out),
        "labels": labels.num_rows,
        "written": count,
    }


def problems_as_dicts(problems: list[Problem]) -> list[dict[str, Any]]:
    return [p.to_dict() for p in problems]
