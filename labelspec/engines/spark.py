"""Spark over a manifest: a revision's labels as DataFrames in the canonical schema.

pyspark is not a labelspec dependency: install it where Spark runs (and labelspec on the
workers, which read S3 objects with it). Files are given to Spark by name from the manifest, so
DVC's suffix-less object paths are no obstacle.

Where the bytes come from (``remote``, ``reader``):

- this clone (``remote=None``): Spark's own Parquet reader over the working copies or DVC cache
  objects, with the canonical schema (a column an older batch lacks reads as NULL);
- a local-folder DVC remote: the same, over the remote's object paths;
- an S3 remote, ``reader="s3a"``: Spark's own reader over ``s3a://`` URLs, where the cluster has
  the hadoop-aws JARs and credentials configured;
- an S3 remote, ``reader="arrow"`` (what ``"auto"`` picks): the object URLs are spread over the
  cluster and each task reads its files with pyarrow's S3 client (``mapInArrow``), with the
  endpoint and keys DVC is configured with: no JARs needed.

"Current labels" is an anti join against the superseded set. The manifest knows its size before
any data is read (the supersedes counts of the records): up to ``BROADCAST_MAX`` annotations it
is broadcast; beyond, both sides are shuffled by item_id (a superseded annotation and the one
that supersedes it are on the same item: relabel merges and key-based updates both work per
item), so the join and every per-item query after it share one partitioning. Nothing superseded:
no join at all. A compacted copy (``store.compaction``), when present, is read instead.
"""

from __future__ import annotations

import pyarrow.parquet as pq

from labelspec.engines.arrow import compacted_here, conform, local_paths, s3_filesystem, s3_options
from labelspec.errors import InputError
from labelspec.store.manifest import Entry, Manifest, remote_settings
from labelspec.store.schema import LABEL_SCHEMA

BROADCAST_MAX = 1_000_000  # superseded annotations (about 60 MB of ids) a broadcast carries
READERS = ("auto", "arrow", "s3a")


def spark_schema():
    from pyspark.sql.pandas.types import from_arrow_schema  # lazy: pyspark is optional

    return from_arrow_schema(LABEL_SCHEMA)


def read(manifest: Manifest, spark, entries: list[Entry], remote=None, reader="auto"):
    """The rows of ``entries`` (batches or compacted parts) as one DataFrame."""
    if reader not in READERS:
        raise InputError(f"reader {reader!r}: choose one of {', '.join(READERS)}")
    schema = spark_schema()
    if not entries:
        return spark.createDataFrame([], schema)
    if remote is None:
        return spark.read.schema(schema).parquet(*[str(p) for p in local_paths(manifest, entries)])
    chosen = manifest.remote(remote)
    urls = [chosen.object_url(e.md5) for e in entries]
    if not chosen.is_s3:
        return spark.read.schema(schema).parquet(*urls)
    if reader == "s3a":
        return spark.read.schema(schema).parquet(*[f"s3a://{u[len('s3://') :]}" for u in urls])
    options = s3_options(remote_settings(manifest.root, chosen.name))
    parts = max(1, min(len(urls), spark.sparkContext.defaultParallelism * 4))
    paths = spark.sparkContext.parallelize([(u[len("s3://") :],) for u in urls], parts)
    return spark.createDataFrame(paths, "path string").mapInArrow(_s3_reader(options), schema)


def _s3_reader(options: dict[str, str]):
    """The task that reads its share of the object paths with pyarrow (runs on the workers)."""

    def read_files(batches):

        filesystem = s3_filesystem(options)
        for batch in batches:
            for path in batch.column("path").to_pylist():
                yield from conform(pq.read_table(path, filesystem=filesystem)).to_batches()

    return read_files


def batches(manifest: Manifest, spark, remote=None, reader="auto"):
    """Every row of the revision's batches (``labels_all``)."""
    return read(manifest, spark, manifest.batches, remote, reader)


def current(manifest: Manifest, spark, remote=None, reader="auto", broadcast_max=BROADCAST_MAX):
    """The current labels (see the module doc): the compacted copy when it is here."""
    if compacted_here(manifest, remote):
        assert manifest.compacted is not None
        return read(manifest, spark, manifest.compacted.parts, remote, reader)
    rows = batches(manifest, spark, remote, reader)
    return current_of(rows, manifest.superseding, broadcast_max)


def current_of(rows, superseding: int, broadcast_max: int = BROADCAST_MAX):
    """``rows`` less the annotations any of them supersedes; ``superseding``: the manifest's
    count of superseded annotations, which picks the join."""
    from pyspark.sql import functions as F  # lazy: pyspark is optional

    if not superseding:
        return rows
    gone = (
        rows.where(F.col("supersedes").isNotNull())
        .select("item_id", F.explode("supersedes").alias("annotation_id"))
        .distinct()
    )
    if superseding <= broadcast_max:
        kept = rows.join(F.broadcast(gone), ["item_id", "annotation_id"], "left_anti")
    else:
        # per item, the annotations superseded on it: joined on item_id alone, so both sides
        # are shuffled by item and the result stays partitioned by item for per-item queries.
        # A hint, not Spark's estimate from file sizes: the manifest counted the set already.
        by_item = gone.groupBy("item_id").agg(F.collect_set("annotation_id").alias("_gone"))
        joined = rows.join(by_item.hint("merge"), "item_id", "left")
        kept = joined.where(
            F.col("_gone").isNull() | ~F.array_contains(F.col("_gone"), F.col("annotation_id"))
        )
    return kept.select(*rows.columns)  # the schema's columns, in its order


def plan_of(frame) -> str:
    """Spark's physical plan of ``frame`` as text (what the tests read the join strategy from)."""
    return frame._jdf.queryExecution().executedPlan().toString()
