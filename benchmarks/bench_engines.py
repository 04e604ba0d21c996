"""Engine benchmarks (issue 24), each beside a baseline measured in the same run.

- ``labels manifest`` at 100,000 batches: the library call (cold: no record parsed yet in this
  clone; warm: records cached) and the whole CLI process, beside the floor of reading the records
  at all: ``git ls-tree`` of the labels folder plus ``git cat-file --batch`` of every record
- current labels and majority resolution at 10M labels (1,000 batches of 10,000 plus a relabel
  that supersedes 100,000 annotations): Spark ``local[2]`` over the manifest beside labelspec's
  DuckDB path, both writing their result to Parquet; the compaction and Spark over it

Scale with ``LABELSPEC_BENCH_MANIFEST_BATCHES`` (default 100,000) and
``LABELSPEC_BENCH_ENGINE_BATCHES`` (default 1,000 batches of 10,000 labels).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from benchmarks.common import (
    LABELERS,
    OUT,
    SOURCE_OF,
    add_items,
    add_labelers,
    best_of,
    fresh_workspace,
    history,
    label_batch,
    run_child,
    save,
    scaled,
)

PER_BATCH = scaled(10_000, 10)
N_ITEMS = scaled(1_000_000, 1000)
SUPERSEDED = scaled(100_000, 10)


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


# -- the manifest at 100,000 batches ----------------------------------------------------------------
def records_only(root: Path, batches: int) -> None:
    """``batches`` batch records committed at once, as labelspec writes them; no batch data (the
    manifest opens none), so building 100,000 costs seconds."""
    from labelspec.store.snapshots import labels_dir
    from labelspec.vcs import dvc_file_text
    from labelspec.workspace import Workspace

    folder = labels_dir(Workspace(root), "digits")
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(batches):
        batch_id = f"b-2026{n // 86400 % 12 + 1:02d}01T{n // 3600 % 24:02d}{n // 60 % 60:02d}{n % 60:02d}Z-{n:08x}"
        md5 = f"{n:032x}"
        meta = {
            "kind": "labels", "dataset": "digits", "rows": PER_BATCH, "annotations": PER_BATCH,
            "items": PER_BATCH, "source": SOURCE_OF[LABELERS[n % len(LABELERS)]],
            "format": "jsonl", "versions": ["1.0.0"], "supersedes": 0, "superseded_labels": 0,
            "plan": None, "created": batch_id.split("-")[1], "message": "bench",
            "sha256": f"{n:064x}",
        }  # fmt: skip
        name = f"{batch_id}.parquet"
        (folder / f"{name}.dvc").write_text(dvc_file_text(name, md5, 200_000, meta))
    subprocess.run(["git", "add", "-A", "datasets"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-qm", f"bench: {batches} records"], cwd=root, check=True)


def read_records_floor(root: Path) -> None:
    """What reading every record costs at the least: list them, then stream every blob."""
    listing = subprocess.run(
        ["git", "ls-tree", "-r", "HEAD", "--", "datasets/digits/labels/"],
        cwd=root, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    shas = "".join(line.split()[2] + "\n" for line in listing.splitlines())
    subprocess.run(
        ["git", "cat-file", "--batch"], cwd=root, input=shas.encode(), check=True,
        capture_output=True,
    )  # fmt: skip


def manifest_bench(batches: int) -> dict:
    from labelspec.store.manifest import manifest
    from labelspec.workspace import Workspace

    root = OUT / f"ws-manifest-{batches}"
    if not (root / ".git").is_dir():
        fresh_workspace(root)
        records_only(root, batches)
    ws = Workspace(root)
    shutil.rmtree(root / ".labelspec/cache/records", ignore_errors=True)
    cold, found = timed(lambda: manifest(ws, "digits"))
    assert len(found.batches) == batches
    warm = best_of(lambda: manifest(ws, "digits"))
    floor = best_of(lambda: read_records_floor(root))
    cli = run_child(
        "import sys; from labelspec.cli import main; sys.argv = ['labelspec', 'labels', "
        "'manifest', 'digits', '--json']; sys.stdout = open('/dev/null', 'w'); main()",
        cwd=root,
    )
    return {
        "batches": batches,
        "labelspec_cold_s": round(cold, 3),
        "labelspec_warm_s": round(warm, 3),
        "cli_process_warm_s": round(cli.seconds, 3),
        "cli_peak_rss_mb": round(cli.peak_rss_mb),
        "git_records_floor_s": round(floor, 3),
        "warm_ratio": round(warm / floor, 2),
    }


# -- Spark and DuckDB at 10M labels ---------------------------------------------------------------------
def superseding_batch(root: Path, training: dict[str, str], n: int, n_items: int) -> None:
    """One relabel-like batch: new answers for ``n`` annotations of the first batches, each on
    the superseded annotation's item, by its labeler."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from labelspec.guideline.releases import releases
    from labelspec.store.batches import write_batch
    from labelspec.store.manifest import manifest
    from labelspec.store.schema import LABEL_SCHEMA
    from labelspec.store.snapshots import labels_dir
    from labelspec.transaction import transaction
    from labelspec.workspace import Workspace

    ws = Workspace(root)
    found = manifest(ws, "digits")
    old = pa.concat_tables(
        pq.read_table(root / b.file, columns=["item_id", "annotation_id", "labeler_id"])
        for b in found.batches[: -(-n // PER_BATCH)]
    ).slice(0, n)
    digest = {r.version: r.digest for r in releases(ws, "digits")}["1.1.0"]
    batch_id = "b-20260401T000000Z-0relabel"
    table = label_batch(batch_id, n, n_items, training, digest, np.random.default_rng(9), "1.1.0")
    labelers = old.column("labeler_id")
    table = (
        table.set_column(1, "item_id", old.column("item_id"))
        .set_column(4, "labeler_id", labelers)
        .set_column(5, "training_id", pa.array([training[x] for x in labelers.to_pylist()]))
        .set_column(16, "source", pa.array(np.full(n, "relabel")))
    )
    supersedes = pa.ListArray.from_arrays(
        pa.array(np.arange(n + 1, dtype=np.int32)), old.column("annotation_id").combine_chunks()
    )
    table = table.set_column(20, "supersedes", supersedes).cast(LABEL_SCHEMA)
    assert pc.all(pc.equal(table.column("item_id"), old.column("item_id"))).as_py()
    with transaction(ws, "bench: a relabel") as tx:
        path = tx.new_file(labels_dir(ws, "digits") / f"{batch_id}.parquet")
        hashes = write_batch(table, path, {"labelspec.batch_id": batch_id})
        meta = {
            "kind": "labels", "dataset": "digits", "rows": n, "annotations": n, "items": n,
            "source": "relabel", "format": "jsonl", "versions": ["1.1.0"], "supersedes": n,
            "superseded_labels": n, "plan": None, "created": batch_id.split("-")[1],
            "message": "bench",
        }  # fmt: skip
        tx.track(path, meta, hashes)


def spark_session():
    os.environ["PYSPARK_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "4g")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def engines_bench(
    batches: int, superseded: int = SUPERSEDED, n_items: int = N_ITEMS, spark=None
) -> dict:
    """``spark``: a session to use (and leave running); by default one of its own, stopped."""
    import pyarrow.parquet as pq

    from labelspec.engines import spark as engine
    from labelspec.engines import spark_queries as queries
    from labelspec.resolve.resolution import resolve
    from labelspec.store.compaction import compact
    from labelspec.store.manifest import manifest
    from labelspec.store.query import connect
    from labelspec.workspace import Workspace

    root = OUT / f"ws-engines-{batches}"
    if not (root / ".git").is_dir():
        fresh_workspace(root)
        training = add_labelers(root)
        add_items(root, n_items)
        history(root, batches, PER_BATCH, n_items, training)
        superseding_batch(root, training, superseded, n_items)
    ws = Workspace(root)
    found = manifest(ws, "digits")
    out = OUT / "engines-out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    results: dict = {
        "labels": found.rows,
        "batches": len(found.batches),
        "superseded": found.superseding,
        "batch_bytes_per_label": round(sum(b.bytes for b in found.batches) / found.rows, 2),
    }

    def duckdb_current() -> int:
        con = connect(ws, "digits")
        con.execute(f"copy (select * from labels) to '{out / 'duckdb-current.parquet'}'")
        return con.execute("select count(*) from labels").fetchone()[0]

    t_duck, n_duck = timed(duckdb_current)
    t_resolve, resolved = timed(lambda: resolve(ws, "digits", "majority"))
    counts = resolved.counts()

    own = spark is None
    t_start, spark = timed(spark_session) if own else (0.0, spark)
    try:

        def spark_current(compacted: bool = True):
            chosen = found if compacted else manifest(ws, "digits")
            if not compacted:
                chosen.compacted = None
            frame = engine.current(chosen, spark)
            frame.write.mode("overwrite").parquet(str(out / "spark-current"))
            return pq.ParquetDataset(out / "spark-current").read(columns=["label_id"]).num_rows

        def spark_majority():
            frame = queries.majority(spark, engine.current(found, spark))
            frame.write.mode("overwrite").parquet(str(out / "spark-majority"))
            table = pq.ParquetDataset(out / "spark-majority").read(columns=["status"])
            return table.num_rows, table.column("status").to_pylist().count("tie")

        spark_current(False)  # warm the JVM's code paths once, as the DuckDB path had its imports
        t_spark, n_spark = timed(lambda: spark_current(False))
        t_spark_majority, (items, ties) = timed(spark_majority)
        assert n_spark == n_duck, (n_spark, n_duck)
        assert (items, ties) == (counts["items"], counts["ties"]), (items, ties, counts)

        t_compact, done = timed(lambda: compact(ws, "digits"))
        found = manifest(ws, "digits")
        t_spark_compacted, n_compacted = timed(spark_current)
        assert n_compacted == n_duck
    finally:
        if own:
            spark.stop()
    results |= {
        "current_labels": {
            "rows": n_duck,
            "duckdb_s": round(t_duck, 2),
            "spark_local2_s": round(t_spark, 2),
            "ratio": round(t_spark / t_duck, 2),
            "spark_from_compacted_s": round(t_spark_compacted, 2),
        },
        "majority": {
            "items": counts["items"],
            "ties": counts["ties"],
            "labelspec_duckdb_numpy_s": round(t_resolve, 2),
            "spark_local2_s": round(t_spark_majority, 2),
            "ratio": round(t_spark_majority / t_resolve, 2),
        },
        "spark_session_start_s": round(t_start, 2),
        "compact": {
            "seconds": round(t_compact, 2),
            "parts": len(done.parts),
            "bytes_per_label": round(done.bytes / done.rows, 2),
        },
    }
    return results


def run(manifest_batches: int | None = None, engine_batches: int | None = None) -> dict:
    manifest_batches = manifest_batches or int(
        os.environ.get("LABELSPEC_BENCH_MANIFEST_BATCHES", scaled(100_000, 10))
    )
    engine_batches = engine_batches or int(
        os.environ.get("LABELSPEC_BENCH_ENGINE_BATCHES", scaled(1000, 3))
    )
    results = {
        "manifest": manifest_bench(manifest_batches),
        "engines": engines_bench(engine_batches),
    }
    save("engines", results)
    return results


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
