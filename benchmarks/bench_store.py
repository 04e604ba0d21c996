"""Label store benchmarks (issue 4), each beside a baseline measured in the same run.

- import of a 1M-label JSONL vs ``pyarrow.json.read_json`` of the same file (<= 3x, < 2 GB RSS)
- ``labels show`` and ``labels diff`` on 10M labels in 1,000 batches vs hand-written DuckDB (<= 1.5x)
- one more snapshot with 1,000 batches of history vs with 10 (< 2x)
"""

from __future__ import annotations

import subprocess

import duckdb

from benchmarks.common import (
    OUT,
    add_items,
    add_labelers,
    best_of,
    fresh_workspace,
    history,
    repeats,
    run_child,
    save,
    scaled,
    write_jsonl,
)

SHOW_BASELINE = """
create or replace temp view cur as
  with l as (select * from read_parquet({files})),
       s as (select distinct unnest(supersedes) as annotation_id from l where supersedes is not null)
  select * from l anti join s using (annotation_id);
select "class", labeler_id, guideline_version, source, count(*) from cur
group by grouping sets (("class"), (labeler_id), (guideline_version), (source), ());
"""
SHOW_BASELINE_DISTINCT = "select count(distinct annotation_id), count(distinct item_id) from cur"


def show_baseline(files: str) -> None:
    con = duckdb.connect()
    con.execute(SHOW_BASELINE.format(files=files)).fetchall()
    con.execute(SHOW_BASELINE_DISTINCT).fetchall()


DIFF_BASELINE = """
with a as (select label_id, "class" from read_parquet({a})), b as (select label_id, "class" from read_parquet({b}))
select 'added', "class", count(*) from b anti join a using (label_id) group by all
union all select 'removed', "class", count(*) from a anti join b using (label_id) group by all
"""


def run() -> dict:
    from labelspec.labels.history import diff, show
    from labelspec.store.query import _sql_list
    from labelspec.store.snapshots import batch_paths, snapshot
    from labelspec.workspace import Workspace

    n_import = scaled(1_000_000)
    batches, per_batch, n_items = scaled(1000, 10), scaled(10_000, 10), scaled(100_000, 100)
    results: dict = {}

    # -- import ----------------------------------------------------------------------------------
    small = fresh_workspace(OUT / "ws-small")
    training = add_labelers(small)
    add_items(small, n_items)
    history(small, 10, per_batch, n_items, training)
    jsonl = write_jsonl(OUT / "labels-1m.jsonl", n_import, n_items)
    baseline = run_child(
        f"import pyarrow.json as j; t = j.read_json({str(jsonl)!r}); assert t.num_rows == {n_import}"
    )
    ours = run_child(
        "from labelspec.labels.ingest import import_labels; from labelspec.workspace import Workspace; "
        f"r = import_labels(Workspace({str(small)!r}), 'digits', {str(jsonl)!r}, 'jsonl', 'digits@1.0.0', 'bench'); "
        f"assert r.labels == {n_import}"
    )
    results["import"] = {
        "labels": n_import,
        "labelspec_s": round(ours.seconds, 2),
        "pyarrow_read_json_s": round(baseline.seconds, 2),
        "ratio": round(ours.seconds / baseline.seconds, 2),
        "target_ratio": 3.0,
        "labelspec_peak_rss_mb": round(ours.peak_rss_mb),
        "target_rss_mb": 2048,
    }

    # -- snapshot cost with 1,000 vs 10 batches of history ------------------------------------------
    big = fresh_workspace(OUT / "ws-big")
    training = add_labelers(big)
    add_items(big, n_items)
    history(big, 10, per_batch, n_items, training)
    subprocess.run(["git", "tag", "bench-10"], cwd=big, check=True)
    history(big, batches - 10, per_batch, n_items, training, seed=3, first=11)
    subprocess.run(["git", "tag", "bench-all"], cwd=big, check=True)
    small_jsonl = write_jsonl(OUT / "labels-10k.jsonl", scaled(10_000, 10), n_items, seed=5)
    code = (
        "from labelspec.labels.ingest import import_labels; from labelspec.workspace import Workspace; "
        "import_labels(Workspace({ws!r}), 'digits', "
        + repr(str(small_jsonl))
        + ", 'jsonl', 'digits@1.0.0', 'bench')"
    )
    one_more = {}
    for name, ws in (("10_batches", small), (f"{batches}_batches", big)):
        one_more[name] = round(
            min(run_child(code.format(ws=str(ws))).seconds for _ in range(repeats(3))), 2
        )
    results["snapshot_cost"] = {
        **one_more,
        "ratio": round(one_more[f"{batches}_batches"] / one_more["10_batches"], 2),
        "target_ratio": 2.0,
    }

    # -- show and diff over 10M labels in 1,000 batches ----------------------------------------------
    ws = Workspace(big)
    head = snapshot(ws, "digits", "bench-all")  # the 1,000-batch history
    files = _sql_list(batch_paths(ws, head))
    ours_show = best_of(lambda: show(ws, "digits", "bench-all"))
    base_show = best_of(lambda: show_baseline(files))
    # a diff across 990 batches: the 10-batch revision against the 1,000-batch one
    older = snapshot(ws, "digits", "bench-10")
    files_old = _sql_list(batch_paths(ws, older))
    ours_diff = best_of(lambda: diff(ws, "digits", "bench-10", "bench-all"))
    base_diff = best_of(
        lambda: duckdb.connect().execute(DIFF_BASELINE.format(a=files_old, b=files)).fetchall()
    )
    labels = show(ws, "digits", "bench-all")["labels"]
    results["show"] = {
        "labels": labels,
        "batches": len(head.batches),
        "labelspec_s": round(ours_show, 3),
        "duckdb_s": round(base_show, 3),
        "ratio": round(ours_show / base_show, 2),
        "target_ratio": 1.5,
    }
    results["diff"] = {
        "labelspec_s": round(ours_diff, 3),
        "duckdb_s": round(base_diff, 3),
        "ratio": round(ours_diff / base_diff, 2),
        "target_ratio": 1.5,
    }
    save("store", results)
    return results


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
