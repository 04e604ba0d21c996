"""Trace benchmarks (issue 5) on the 10M-label, 1,000-batch workspace of ``bench_store``:

- ``trace impact`` vs a hand-written DuckDB query giving the same numbers (<= 1.5x; peak RSS < 2 GB)
- ``trace item`` under a second
"""

from __future__ import annotations

import time

import duckdb

from benchmarks.common import OUT, best_of, run_child, save

# Coverage by the training records present, by their dates (lineage rule 4): the bench's records
# are all passing 1.0.0 trainings and 1.1.0 changes classes, so a record covers a label of its
# own version only, made on or after its date.
IMPACT_BASELINE = """
create or replace temp view cur as
  with l as (select * from read_parquet({files})),
       s as (select distinct unnest(supersedes) as annotation_id from l where supersedes is not null)
  select * from l anti join s using (annotation_id);
create or replace temp table cov as
  select labeler, version, min(cast(date as date)) as since
  from read_json('{training}') where passed group by all;
create or replace temp table suspect as
  select c.guideline_version, c."class", c.source, c.item_id, a.kind,
         (t.since is null or t.since > cast(c.created_at as date)) as untrained
  from cur c left join (values ('1.0.0', 'one', 'affected'), ('1.0.0', 'seven', 'affected'), ('1.0.0', 'two', 'confusable'))
    a(version, "class", kind) on a.version = c.guideline_version and a."class" = c."class"
  left join cov t on t.labeler = c.labeler_id and t.version = c.guideline_version
  where c.guideline = 'digits'
    and (a.kind is not null or t.since is null or t.since > cast(c.created_at as date));
"""
IMPACT_BASELINE_READ = [
    "select count(*) from cur where guideline = 'digits'",
    "select count(*), count(distinct item_id) from suspect",
    """select guideline_version, "class", source, count(*), count(distinct item_id),
              count(*) filter (where kind = 'affected'), count(*) filter (where kind = 'confusable'),
              count(*) filter (where untrained) from suspect group by all order by 4 desc""",
]


def impact_baseline(files: str, training: str) -> tuple:
    con = duckdb.connect()
    con.execute(IMPACT_BASELINE.format(files=files, training=training))
    return tuple(con.execute(q).fetchall() for q in IMPACT_BASELINE_READ)


def run() -> dict:
    from labelspec.lineage.trace import impact, trace_item
    from labelspec.store.query import _sql_list
    from labelspec.store.snapshots import batch_paths, snapshot
    from labelspec.workspace import Workspace

    root = OUT / "ws-big"
    ws = Workspace(root)
    head = snapshot(ws, "digits", "bench-all")
    files = _sql_list(batch_paths(ws, head))
    ours = impact(ws, "digits", "digits", to="1.1.0", snapshot="bench-all")
    training = str(root / "labelers/training.jsonl")
    total, ((affected, items),), segments = impact_baseline(files, training)
    assert (ours.total_labels, ours.affected_labels, ours.affected_items) == (
        total[0][0],
        affected,
        items,
    ), "numbers differ"
    assert len(ours.segments) == len(segments)
    t_ours = best_of(lambda: impact(ws, "digits", "digits", to="1.1.0", snapshot="bench-all"))
    t_base = best_of(lambda: impact_baseline(files, training))
    child = run_child(
        "from labelspec.lineage.trace import impact; from labelspec.workspace import Workspace; "
        f"impact(Workspace({str(root)!r}), 'digits', 'digits', to='1.1.0', snapshot='bench-all')"
    )
    start = time.perf_counter()
    lineage = trace_item(ws, "digits", "item-0000042")
    t_item = time.perf_counter() - start
    cli = run_child(
        "from labelspec.cli import main\nimport sys\nsys.argv = ['labelspec']\n"
        "try:\n    main(['trace', 'item', 'digits', 'item-0000042', '--json'])\nexcept SystemExit:\n    pass",
        cwd=root,
    )
    result = {
        "impact": {
            "labels": ours.total_labels,
            "affected_labels": ours.affected_labels,
            "batches": len(head.batches),
            "labelspec_s": round(t_ours, 3),
            "duckdb_s": round(t_base, 3),
            "ratio": round(t_ours / t_base, 2),
            "target_ratio": 1.5,
            "peak_rss_mb": round(child.peak_rss_mb),
            "target_rss_mb": 2048,
        },
        "trace_item": {
            "annotations": len(lineage["annotations"]),
            "function_s": round(t_item, 3),
            "whole_cli_process_s": round(cli.seconds, 3),
            "target_s": 1.0,
        },
    }
    save("trace", result)
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
