"""Resolution benchmarks (issue 16): 10M labels over 1M items, ten labelers' votes per item.

- ``labels resolve --method majority`` (library call, whole) vs a hand-written DuckDB query that
  gives the same table: each labeler's newest vote, the tally, ties, the supporting label ids and
  labelers, and the suspect flag (<= 1.5x); beside it, for scale, the bare DuckDB majority vote
  (class and share per item, nothing else)
- ``dawid-skene`` on the same votes (vectorised EM), with its iterations

labelspec runs with its memory cap (``LABELSPEC_MEMORY_LIMIT``, 1 GB), the bare vote too; the
same-table query runs out of memory at 1 GB on 10M labels, so it gets 4 GB. Scale with
``LABELSPEC_BENCH_RESOLVE_ITEMS`` (default 1,000,000; ten labels each).
"""

from __future__ import annotations

import os
import subprocess
import time

import numpy as np
import pyarrow as pa

from benchmarks.common import (
    CLASSES,
    LABELERS,
    OUT,
    SOURCE_OF,
    add_items,
    add_labelers,
    best_of,
    fresh_workspace,
    save,
    scaled,
)

PER_ITEM = 10
ACCURACY = np.linspace(0.55, 0.95, len(LABELERS))  # planted: labeler j answers right this often
EFFECTIVE = ACCURACY + (1 - ACCURACY) / len(CLASSES)  # ... and a random answer hits it 1 in 10
SAME_TABLE_MEMORY = "4GB"  # at 1 GB (labelspec's cap) the hand-written query runs out of memory
REDELIVERED = scaled(
    10_000, 10
)  # votes given twice (a newer delivery by the same labeler): the dedupe runs


def build(root, n_items: int) -> None:
    """Items, 30 trained labelers and ``PER_ITEM`` batches: batch b gives every item one vote,
    by a labeler no other batch uses for that item; then one batch of re-deliveries."""
    from labelspec.guideline.releases import releases
    from labelspec.store.batches import write_batch
    from labelspec.store.snapshots import labels_dir
    from labelspec.transaction import transaction
    from labelspec.workspace import Workspace

    fresh_workspace(root)
    training = add_labelers(root)
    add_items(root, n_items)
    ws = Workspace(root)
    digest = {r.version: r.digest for r in releases(ws, "digits")}["1.0.0"]
    rng = np.random.default_rng(16)
    truth = rng.integers(0, len(CLASSES), n_items)
    with transaction(ws, f"bench: {PER_ITEM} votes on {n_items} items") as tx:
        for b in range(PER_ITEM + 1):
            batch_id = f"b-20260301T0000{b:02d}Z-{b:08x}"
            if b < PER_ITEM:
                items = np.arange(n_items)
                labeler = (items * 7 + b * 3) % len(LABELERS)
            else:  # the labelers of batch 0 again, on a few items, at a later time
                items = np.sort(rng.choice(n_items, REDELIVERED, replace=False))
                labeler = (items * 7) % len(LABELERS)
            right = rng.random(len(items)) < ACCURACY[labeler]
            code = np.where(right, truth[items], rng.integers(0, len(CLASSES), len(items)))
            table = batch(batch_id, items, labeler, code, training, digest, b)
            path = tx.new_file(labels_dir(ws, "digits") / f"{batch_id}.parquet")
            hashes = write_batch(table, path, {"labelspec.batch_id": batch_id})
            meta = {
                "kind": "labels", "dataset": "digits", "rows": table.num_rows,
                "annotations": table.num_rows, "items": len(items), "source": "bench",
                "format": "jsonl", "versions": ["1.0.0"], "supersedes": 0,
                "superseded_labels": 0, "plan": None, "created": batch_id.split("-")[1],
                "message": "bench",
            }  # fmt: skip
            tx.track(path, meta, hashes)
    subprocess.run(["git", "tag", "-f", "bench-resolve"], cwd=root, check=True)


def batch(batch_id, items, labeler, code, training, digest, b) -> pa.Table:
    from labelspec.store.schema import LABEL_SCHEMA

    rows = len(items)
    seq = np.char.zfill(np.arange(1, rows + 1).astype(str), 8)
    names = np.array(LABELERS)[labeler]
    return pa.table(
        {
            "label_id": np.char.add(f"{batch_id}-", seq),
            "item_id": np.char.add("item-", np.char.zfill(items.astype(str), 7)),
            "dataset": np.full(rows, "digits"),
            "annotation_id": np.char.add(f"a-{b:02d}-", seq),
            "labeler_id": names,
            "training_id": np.vectorize(training.get)(names),
            "guideline": np.full(rows, "digits"),
            "guideline_version": np.full(rows, "1.0.0"),
            "guideline_digest": np.full(rows, digest),
            "class": np.array(CLASSES)[code],
            "bbox": pa.nulls(rows, LABEL_SCHEMA.field("bbox").type),
            "span": pa.nulls(rows, LABEL_SCHEMA.field("span").type),
            "attributes": np.full(rows, "{}"),
            "created_at": pa.array(
                np.full(rows, np.datetime64("2026-03-01T10:00:00", "us") + np.timedelta64(b, "s")),
                pa.timestamp("us", tz="UTC"),
            ),
            "lead_time_s": np.full(rows, 3.0),
            "cost": np.full(rows, 0.03),
            "source": np.vectorize(SOURCE_OF.get)(names),
            "format": np.full(rows, "jsonl"),
            "source_ids": pa.nulls(rows, pa.string()),
            "batch_id": np.full(rows, batch_id),
            "supersedes": pa.nulls(rows, LABEL_SCHEMA.field("supersedes").type),
            "tool_fields": pa.nulls(rows, pa.string()),
            "annotation_key": np.char.add(f"bench:a-{b:02d}-", seq),
        },
        schema=LABEL_SCHEMA,
    )


# The same table, hand-written: newest vote per labeler, tally, ties, label ids, labelers, and the
# labels 1.1.0 makes suspect (one and seven changed; two is confusable with seven).
SAME_TABLE = """
create or replace temp table votes as
  select item_id, labeler_id, arg_max({{'c': "class", 'l': label_id}},
         {{'t': created_at, 'b': batch_id, 'l': label_id}}) as v
  from read_parquet({files}) group by item_id, labeler_id;
create or replace temp table tally as
  select item_id, v.c as "class", count(*) as n,
         list(v.l order by labeler_id) as label_ids, list(labeler_id order by labeler_id) as labelers
  from votes group by all;
create or replace temp table suspect as
  select distinct item_id from read_parquet({files})
  where guideline_version = '1.0.0' and "class" in ('one', 'seven', 'two');
create or replace temp table resolved as
  with ranked as (select *, max(n) over (partition by item_id) as top,
                         sum(n) over (partition by item_id) as voters from tally)
  select item_id,
         case when count(*) filter (where n = top) = 1 then arg_max("class", n) end as "class",
         max(n) / any_value(voters) as confidence, any_value(voters) as voters,
         case when count(*) filter (where n = top) = 1 then arg_max(label_ids, n)
              else flatten(list(label_ids)) end as label_ids,
         case when count(*) filter (where n = top) = 1 then arg_max(labelers, n)
              else flatten(list(labelers)) end as labelers
  from ranked group by item_id;
select count(*), count(*) filter (where "class" is null), sum(confidence),
       sum(len(label_ids)), (select count(*) from suspect) from resolved
"""
BARE = """
select count(*), sum(share) from (
  select item_id, arg_max("class", n) as "class", max(n) / sum(n) as share
  from (select item_id, "class", count(*) as n from read_parquet({files}) group by all)
  group by item_id)
"""


def duckdb_query(sql: str, files: str, memory: str | None = None) -> tuple:
    from labelspec.store.engine import database

    con = database()  # labelspec's memory cap and spill folder
    if memory:  # the same-table query's list aggregates need more than 1 GB at 10M labels
        con.execute(f"set memory_limit = '{memory}'")
    *setup, last = [s for s in sql.format(files=files).split(";\n") if s.strip()]
    for statement in setup:
        con.execute(statement)
    return con.execute(last).fetchall()[0]


def run() -> dict:
    from labelspec.resolve.resolution import resolve
    from labelspec.store.query import _sql_list
    from labelspec.store.snapshots import batch_paths, snapshot
    from labelspec.workspace import Workspace

    n_items = int(os.environ.get("LABELSPEC_BENCH_RESOLVE_ITEMS", scaled(1_000_000, 100)))
    root = OUT / f"ws-resolve-{n_items}"
    if not (root / ".git").is_dir():
        build(root, n_items)
    ws = Workspace(root)
    files = _sql_list(batch_paths(ws, snapshot(ws, "digits", "bench-resolve")))

    ours = resolve(ws, "digits", "majority", snapshot="bench-resolve")
    counts = ours.counts()
    items, ties, confidence, cited, suspect = duckdb_query(SAME_TABLE, files, SAME_TABLE_MEMORY)
    table = ours.table
    assert (counts["items"], counts["ties"], counts["suspect_items"]) == (items, ties, suspect)
    assert abs(sum(table.column("confidence").to_pylist()) - confidence) < 1e-6 * items
    import pyarrow.compute as pc

    assert pc.sum(pc.list_value_length(table.column("label_ids"))).as_py() == cited
    t_ours = best_of(lambda: resolve(ws, "digits", "majority", snapshot="bench-resolve"), 2)
    t_same = best_of(lambda: duckdb_query(SAME_TABLE, files, SAME_TABLE_MEMORY), 2)
    t_bare = best_of(lambda: duckdb_query(BARE, files), 2)

    start = time.perf_counter()
    ds = resolve(ws, "digits", "dawid-skene", snapshot="bench-resolve")
    t_ds = time.perf_counter() - start
    quality = np.array([ds.labeler_quality[j] for j in LABELERS])
    result = {
        "votes": n_items * PER_ITEM + REDELIVERED,
        "items": items,
        "ties": ties,
        "majority": {
            "labelspec_s": round(t_ours, 3),
            "duckdb_same_table_s": round(t_same, 3),
            "duckdb_same_table_memory": SAME_TABLE_MEMORY,
            "ratio": round(t_ours / t_same, 2),
            "target_ratio": 1.5,
            "duckdb_bare_vote_s": round(t_bare, 3),
            "ratio_to_bare_vote": round(t_ours / t_bare, 2),
        },
        "dawid_skene": {
            "labelspec_s": round(t_ds, 3),
            "iterations": ds.diagnostics["iterations"],
            "converged": ds.diagnostics["converged"],
            # how far the estimated labeler accuracies are from the planted ones (a wrong
            # answer is drawn from all classes, so it is right one time in ten)
            "accuracy_error_max": round(float(np.abs(quality - EFFECTIVE).max()), 4),
        },
    }
    save("resolve", result)
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
