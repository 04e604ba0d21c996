"""DuckDB over a snapshot's batches: the views every query in labelspec starts from.

``labels_all``   every label row of the batches in the revision's tree
``labels``       the current labels: annotations no batch in the same tree supersedes
``items``        the items registered at that revision (with segment metadata columns)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from labelspec.repo import Repo
from labelspec.store import schema
from labelspec.store.engine import database
from labelspec.store.item_manifests import item_files, items_sql
from labelspec.store.snapshots import Snapshot, batch_paths
from labelspec.store.snapshots import snapshot as snapshot_at

if TYPE_CHECKING:
    import pyarrow as pa  # lazy: DuckDB alone reads the Parquet files; only an empty side is Arrow


def _sql_list(paths: list[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def connect(
    ws: Repo, dataset: str, snapshot=None, con: duckdb.DuckDBPyConnection | None = None
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with ``labels_all``, ``labels`` and ``items`` views for one snapshot
    (a revision, or a ``Snapshot`` already resolved; HEAD by default). ``con``: a connection of
    the caller's to add them to (each new one costs ~25 ms)."""

    git = ws.git
    snap = snapshot if isinstance(snapshot, Snapshot) else snapshot_at(ws, dataset, snapshot, git)
    # Items are append-only, so HEAD's include those of any revision older than the
    # manifests (a layout 1 tree); a revision with manifests reads its own.
    items = item_files(ws, dataset, git, snap.commit) or item_files(ws, dataset, git)
    paths = batch_paths(ws, snap) if snap.batches else []
    con = database() if con is None else con
    if paths:
        con.execute(
            f"create view labels_all as select * from read_parquet({_sql_list(paths)}, union_by_name = true)"
        )
    else:
        con.execute(f"create view labels_all as {schema.no_rows(schema.LABEL_COLUMNS)}")
    con.execute(
        """
        create view superseded as
          select distinct unnest(supersedes) as annotation_id from labels_all where supersedes is not null;
        create view labels as
          select * from labels_all anti join superseded using (annotation_id);
        """
    )
    if items:
        con.execute(f"create view items as {items_sql(items)}")
    else:
        columns = list(zip(schema.ITEM_BASE_COLUMNS, schema.ITEM_BASE_TYPES, strict=True))
        con.execute(f"create view items as {schema.no_rows(columns)}")
    return con


def current_labels(ws: Repo, dataset: str, snapshot=None) -> pa.Table:
    return (
        connect(ws, dataset, snapshot)
        .sql("select * from labels order by item_id, annotation_id, label_id")
        .to_arrow_table()
    )
