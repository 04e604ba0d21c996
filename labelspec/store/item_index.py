"""Which batches hold an item: a per-clone index, so ``trace item`` reads a handful of batch files
instead of the footers of every batch in the history.

Batches are immutable and named by id, so an index entry never goes stale. The index lives in
``.labelspec/item-index/`` (git-ignored, rebuilt by any clone): segments of ``(item_id,
batch_id)`` sorted by item id (DuckDB prunes row groups by their statistics), each named with
the batch ids it covers in its ``batches`` metadata. A query indexes the snapshot's batches
that no segment covers yet, as one new segment (work proportional to what was imported since);
past ``MAX_SEGMENTS`` the segments are merged into one. Two processes indexing at once write
separate segments; an item listed twice is read once.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pyarrow.parquet as pq

from labelspec.repo import Repo
from labelspec.store.engine import database
from labelspec.store.query import _sql_list
from labelspec.store.snapshots import batch_paths

MAX_SEGMENTS = 16
BATCHES_KEY = b"labelspec.batches"


def index_dir(ws: Repo, dataset: str) -> Path:
    folder = ws.state_dir / "item-index" / dataset
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _covered(segment: Path) -> set[str]:
    meta = pq.ParquetFile(segment).schema_arrow.metadata or {}
    return set(meta.get(BATCHES_KEY, b"").decode().split(",")) - {""}


def _write_segment(folder: Path, con, select: str, batch_ids: list[str]) -> None:
    """One segment from ``select`` (item_id, batch_id), written to a temporary name first."""
    name = f"seg-{secrets.token_hex(6)}.parquet"
    tmp = folder / f".{name}.tmp"
    table = con.sql(
        f"select distinct item_id, batch_id from ({select}) order by 1, 2"
    ).to_arrow_table()
    table = table.replace_schema_metadata({BATCHES_KEY: ",".join(sorted(batch_ids)).encode()})
    pq.write_table(table, tmp, compression="zstd", row_group_size=64 * 1024)
    os.replace(tmp, folder / name)


def batches_of_item(ws: Repo, dataset: str, snap, item_id: str) -> list:
    """The snapshot's batches that hold labels of ``item_id``."""

    if not snap.batches:
        return []
    folder = index_dir(ws, dataset)
    segments = sorted(folder.glob("seg-*.parquet"))
    covered: set[str] = set()
    for segment in segments:
        covered |= _covered(segment)
    missing = [b for b in snap.batches if b.id not in covered]
    con = database()
    if missing:
        paths = _sql_list(batch_paths(ws, snap, missing))
        select = f"select item_id, batch_id from read_parquet({paths}, union_by_name = true)"
        _write_segment(folder, con, select, [b.id for b in missing])
        segments = sorted(folder.glob("seg-*.parquet"))
    if len(segments) > MAX_SEGMENTS:
        ids = sorted(set().union(*(_covered(s) for s in segments)))
        _write_segment(folder, con, f"select * from read_parquet({_sql_list(segments)})", ids)
        for segment in segments:
            segment.unlink(missing_ok=True)
        segments = sorted(folder.glob("seg-*.parquet"))
    found = {
        row[0]
        for row in con.execute(
            f"select distinct batch_id from read_parquet({_sql_list(segments)}) where item_id = ?",
            [item_id],
        ).fetchall()
    }
    return [b for b in snap.batches if b.id in found]
