"""DuckDB over a snapshot's batches: the views every query in labelspec starts from.

``labels_all``   every label row of the snapshot's batches
``labels``       the current labels: annotations no later batch supersedes
``items``        the item manifest (with segment metadata columns)
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from labelspec.store.engine import database
from labelspec.store.schema import LABEL_SCHEMA
from labelspec.workspace import Workspace


def _sql_list(paths: list[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def connect(
    ws: Workspace, dataset: str, snapshot: str | int | None = None
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with ``labels_all``, ``labels`` and ``items`` views for one snapshot."""
    from labelspec.store.items import items_path
    from labelspec.store.snapshots import batch_paths, load_manifest

    manifest = load_manifest(ws, dataset)
    chosen = manifest.resolve(snapshot) if (snapshot is not None or manifest.snapshots) else None
    paths = batch_paths(ws, dataset, chosen, manifest) if chosen else []
    con = database()
    if paths:
        con.execute(f"create view labels_all as select * from read_parquet({_sql_list(paths)})")
    else:
        con.register("empty_labels", LABEL_SCHEMA.empty_table())
        con.execute("create view labels_all as select * from empty_labels")
    con.execute(
        """
        create view superseded as
          select distinct unnest(supersedes) as annotation_id from labels_all where supersedes is not null;
        create view labels as
          select * from labels_all anti join superseded using (annotation_id);
        """
    )
    items = items_path(ws, dataset)
    if items.is_file():
        con.execute(f"create view items as select * from read_parquet('{_escape(items)}')")
    else:
        from labelspec.store.schema import ITEM_BASE_SCHEMA

        con.register("empty_items", ITEM_BASE_SCHEMA.empty_table())
        con.execute("create view items as select * from empty_items")
    return con


def _escape(path: Path) -> str:
    return str(path).replace("'", "''")


def current_labels(ws: Workspace, dataset: str, snapshot: str | int | None = None) -> pa.Table:
    return (
        connect(ws, dataset, snapshot)
        .sql("select * from labels order by item_id, annotation_id, label_id")
        .to_arrow_table()
    )
