"""``relabel merge``: a relabel plan's answers back as a snapshot that supersedes the old
annotations without deleting them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from labelspec.errors import InputError
from labelspec.formats import read
from labelspec.guideline.releases import spec_at
from labelspec.labels.incremental import against_history
from labelspec.labels.ingest import (
    item_labelers_of,
    load_class_map,
    load_labeler_map,
    rows_word,
    write_labels,
)
from labelspec.labels.validate import ImportRequest, refuse_problems, validate
from labelspec.lineage.plans import done_items, load_plan, refuse_closed
from labelspec.repo import Repo
from labelspec.store.batches import new_batch_id
from labelspec.store.items import read_items
from labelspec.store.query import connect
from labelspec.store.snapshots import snapshot as snapshot_at
from labelspec.transaction import transaction


# -- merge --------------------------------------------------------------------------------------------
def merge(
    ws: Repo,
    dataset: str,
    plan_ref: str | Path,
    results: Path | str,
    fmt: str,
    labeler_map: Path | str | None = None,
    labeler: str | None = None,
    dry_run: bool = False,
    class_map: Path | str | None = None,
    images_were: str | None = None,
    labelers_per_item: Path | str | None = None,
) -> dict[str, Any]:
    """Import relabel results for a plan; each new annotation supersedes the item's old ones.

    ``images_were`` and ``labelers_per_item`` as in ``labels import``: a COCO file's image
    without annotations is an empty answer with ``"all"``; each item's labeler, for files
    without annotators.

    Cumulative exports merge incrementally: answers already merged are left out, an answer
    edited in the tool supersedes its earlier version (``labels.incremental``)."""

    record = load_plan(ws, dataset, plan_ref)
    refuse_closed(record)
    plan_id = record["plan"]
    path = Path(results)
    request = ImportRequest(
        dataset=dataset,
        guideline=record["guideline"],
        version=record["version"],
        source="relabel",
        file=str(results),
        labeler=labeler,
        labeler_map=load_labeler_map(Path(labeler_map)) if labeler_map else None,
        labeler_map_file=str(labeler_map) if labeler_map else None,
        training_policy="error",  # relabelers must be trained on the plan's version, always
        plan_id=plan_id,
        namespace=f"relabel:{plan_id}",
        plan_items=[e["item_id"] for e in record["items"]],
        class_map=load_class_map(Path(class_map)) if class_map else None,
        item_labelers=item_labelers_of(labelers_per_item, labeler, labeler_map),
        item_labelers_file=str(labelers_per_item) if labelers_per_item else None,
    )
    classes = [c.id for c in spec_at(ws, record["guideline"], record["version"]).classes]
    staged = read(fmt, path, images_were, classes)
    batch_id = new_batch_id()
    checked = validate(ws, request, staged, batch_id, read_items(ws, dataset))
    refuse_problems(path.name, staged, checked, "nothing was merged")
    answers = checked.table  # the rows are a view: computed once, here
    if answers.num_rows == 0:
        raise InputError(f"{path.name}: no labels to merge")
    if dry_run:  # counted, and the warnings the merge would print, with nothing written
        fresh = against_history(ws, dataset, answers, ws.git)
        warnings = []
        if fresh.table.num_rows:
            con = _replaced(ws, dataset, snapshot_at(ws, dataset), record, fresh.table)
            warnings = _newer_kept(con)
        return {"plan": plan_id, "dry_run": True, **fresh.counts(), "warnings": warnings}
    message = f"relabel merge {plan_id}: {rows_word(answers.num_rows)} into {dataset}"
    with transaction(ws, message) as tx:
        fresh = against_history(ws, dataset, answers, tx.git)
        if fresh.table.num_rows == 0:
            done = done_items(ws, dataset, plan_id)
            return {"plan": plan_id, "batch": None, "commit": None, **fresh.counts(),
                    "labels": 0, "done": len(done), "open": len(record["items"]) - len(done), "warnings": []}  # fmt: skip
        snap = snapshot_at(ws, dataset, None, tx.git)
        con = _replaced(ws, dataset, snap, record, fresh.table)
        warnings = _newer_kept(con)
        # The answers keep source "relabel", as their batch record says: a relabel is its own work,
        # never credited to the relabelers' vendors (a bake-off judges vendors on their deliveries).
        table = (
            con.sql(
                """
            select n.* replace (case when r.old is null then n.supersedes
                                     else list_distinct(list_concat(coalesce(n.supersedes, []), r.old)) end
                                  as supersedes)
            from new n
            left join (select item_id, list(annotation_id order by annotation_id) as old from replaced group by 1) r
              on r.item_id = n.item_id
            """
            )
            .to_arrow_table()
            .cast(answers.schema)
        )
        # the plan's annotations, earlier answers, and earlier versions of edited answers
        con.register("merged", table)
        superseded_annotations, superseded_labels = con.execute(
            """with gone as (select distinct unnest(supersedes) as annotation_id from merged)
               select (select count(*) from gone),
                      (select count(*) from labels_all where annotation_id in (select annotation_id from gone))"""
        ).fetchall()[0]
        on_items = len(table.column("item_id").unique())

        def describe(labels: int, empty: int, _annotations: int) -> str:
            # counted as `labels import` counts them: an empty answer is no label
            what = rows_word(labels) + (f" and {empty} empty answer(s)" if empty else "")
            return f"relabel merge {plan_id}: {what} on {on_items} item(s) of {dataset}"

        written = write_labels(
            tx,
            ws,
            dataset,
            table,
            "relabel",
            fmt,
            superseded=superseded_annotations,
            superseded_labels=superseded_labels,
            plan=plan_id,
            delivery=path,
            describe=describe,
        )
    batch = written.batch
    done = done_items(ws, dataset, plan_id)
    return {
        "plan": plan_id,
        "batch": batch.id,
        "snapshot": (tx.commit or "")[:10],
        "commit": tx.commit,
        "labels": batch.rows - batch.empty,
        "empty_answers": batch.empty,
        "annotations": batch.annotations,
        "items": batch.items,
        "superseded_annotations": superseded_annotations,
        "superseded_labels": superseded_labels,
        "by_labeler": written.by_labeler,
        **fresh.counts(),
        "done": len(done),
        "open": len(record["items"]) - len(done),
        "warnings": warnings,
    }


# the current annotation l was made after the answer n by its labeler: the answer leaves it current
_LATER = "l.created_at is not null and n.created_at is not null and l.created_at > n.created_at"


def _replaced(ws: Repo, dataset: str, snap, record: dict[str, Any], new: pa.Table):
    """A connection to ``snap`` with the answers to merge (``new``) and the temp table
    ``replaced``: the current annotations they supersede (the merge and its dry run share it)."""
    earlier = [b.id for b in snap.batches if b.plan == record["plan"]]  # answers to this plan
    con = connect(ws, dataset, snap)
    con.register("new", new)
    con.register(
        "plan_old",
        pa.Table.from_pylist(
            [
                {"item_id": e["item_id"], "annotation_id": a}
                for e in record["items"]
                for a in e["annotations"]
            ],
            schema=pa.schema([("item_id", pa.string()), ("annotation_id", pa.string())]),
        ),
    )
    con.register(
        "earlier", pa.table({"batch_id": earlier}, schema=pa.schema([("batch_id", pa.string())]))
    )
    # Supersede the item's planned annotations, any earlier answer to this plan, and any other
    # current annotation of the answering labeler on the item (another plan's answer, their own
    # delivery) made no later than the answer: one current annotation per item and labeler, the
    # newest by when it was made, not by when it was merged (an unknown time: the merge wins).
    con.execute(
        f"""
        create temp table replaced as
        select l.item_id, l.annotation_id, count(*) as labels from labels l
        where l.item_id in (select item_id from new)
          and (l.annotation_id in (select annotation_id from plan_old where plan_old.item_id = l.item_id)
               or l.batch_id in (select batch_id from earlier)
               or exists (select 1 from new n
                          where n.item_id = l.item_id and n.labeler_id = l.labeler_id
                            and not ({_LATER})))
        group by all
        """
    )
    return con


def _newer_kept(con) -> list[str]:
    """One warning for the answers that leave a newer annotation by their labeler current
    (an edited export of an older plan merged after a newer plan's answer)."""

    kept = con.execute(
        f"""
        select distinct n.item_id, n.labeler_id, l.batch_id from new n
        join labels l on l.item_id = n.item_id and l.labeler_id = n.labeler_id
        where {_LATER}
          and l.annotation_id not in (select annotation_id from replaced)
          and not list_contains(coalesce(n.supersedes, []), l.annotation_id)
        order by all
        """
    ).fetchall()
    if not kept:
        return []
    shown = ", ".join(f"{item} ({labeler}, batch {batch})" for item, labeler, batch in kept[:5])
    more = f" and {len(kept) - 5} more" if len(kept) > 5 else ""
    return [
        f"{len(kept)} answer(s) are older than a current answer by the same labeler on the item, "
        f"so both stay current: {shown}{more}. `labelspec verify` lists them; to keep one, have "
        "the labeler answer again in a new plan (a newer answer supersedes both) or retract the "
        "batch that should not count (`labelspec labels retract BATCH --reason ...`)"
    ]
