"""Which items a dataset has registered at a revision: the item manifests (one immutable Parquet
file per ``items add``, ``labelspec.store.items``) and the one DuckDB query over them.

Apart from the writer so that the read commands, which query them through DuckDB, load neither
pyarrow nor what ``items add`` needs.
"""

from __future__ import annotations

from pathlib import Path

from labelspec.repo import Repo
from labelspec.store import schema
from labelspec.store.engine import database
from labelspec.store.records import Locator, records_at
from labelspec.store.tables import arrow_table


def manifests_dir(ws: Repo, dataset: str) -> Path:
    return ws.dataset_dir(dataset) / "manifests"


def item_records(ws: Repo, dataset: str, git=None, rev: str | None = None) -> list:
    """The item manifests at ``rev`` (HEAD), oldest first: one immutable Parquet file per
    ``items add`` (a layout 1 workspace's upgraded manifest, with no date, first)."""

    if git is None:
        own = ws.git
        return item_records(ws, dataset, own, rev)
    commit = git.rev_parse(rev or "HEAD")
    records = records_at(ws, git, commit, manifests_dir(ws, dataset)) if commit else []
    return sorted(records, key=lambda r: (r.meta.get("created") or "", r.rel))


def item_files(ws: Repo, dataset: str, git=None, rev: str | None = None) -> list[Path]:
    """The manifest files at ``rev``, oldest first (working copy or DVC cache object)."""

    records = item_records(ws, dataset, git, rev)
    return Locator(ws).paths(records, "item manifest") if records else []


def items_sql(paths: list[Path]) -> str:
    """A DuckDB query over manifest files (``paths`` oldest first): one row per item id. The
    first registration of an id wins (``verify`` reports a later one with other content); a
    later registration of the same content moves the item's file only (``items add`` and
    ``upgrade`` register a copy DVC tracks so), so the path is the newest such one."""
    listing = "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"
    return f"""
        with registered as (
          select *, list_position({listing}, filename) as _order
          from read_parquet({listing}, union_by_name = true, filename = true)
        ), earliest as (
          select * from registered
          qualify row_number() over (partition by item_id order by _order) = 1
        ), newest as (
          select r.item_id, r.path from registered r
            join earliest f on r.item_id = f.item_id and r.sha256 is not distinct from f.sha256
          qualify row_number() over (partition by r.item_id order by r._order desc) = 1
        )
        select earliest.* exclude (filename, _order) replace (newest.path as path)
        from earliest join newest using (item_id)"""


def read_items(
    ws: Repo, dataset: str, columns: list[str] | None = None, git=None, rev: str | None = None
):
    """The items registered at ``rev`` (HEAD) as a pyarrow Table sorted by item_id (empty, with
    the base schema, if none yet); read once per Repo."""
    commit = (git or ws.git).rev_parse(rev or "HEAD") if rev else ws.git.head()
    key = ("items", dataset, commit, rev, tuple(columns) if columns else None)
    return ws.memo(key, lambda: _read_items(ws, dataset, columns, git, rev))


def _read_items(ws: Repo, dataset: str, columns, git, rev):

    paths = item_files(ws, dataset, git, rev)
    if not paths:
        empty = arrow_table([], schema.ITEM_BASE_SCHEMA)
        return empty.select(columns) if columns else empty
    if len(paths) == 1:
        import pyarrow.parquet as pq  # lazy: a pyarrow table is what the caller asked for

        # ParquetFile reads one known file; read_table would first discover it as a dataset.
        return pq.ParquetFile(paths[0]).read(columns=columns)
    table = database().sql(items_sql(paths) + " order by item_id").to_arrow_table()
    return table.select(columns) if columns else table
