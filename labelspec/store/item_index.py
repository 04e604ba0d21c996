"""Which batches hold an item: a per-clone index, so ``trace item`` reads a handful of batch files
instead of the footers of every batch in the history.

Batches are immutable and named by id, so an index entry never goes stale. The index lives in
``.labelspec/item-index/`` (git-ignored, rebuilt by any clone): segments of ``(item_id,
batch_id)`` sorted by item id (DuckDB prunes row groups by their statistics), each named with
the batch ids it covers in its ``batches`` metadata. A query indexes the snapshot's batches
that no segment covers yet, as one new segment (work proportional to what was imported since);
past ``MAX_SEGMENTS`` the segments are merged into one. Two processes indexing at once write
separate segments; an item listed twice is read once. DuckDB alone reads and writes them (their
key-value metadata too): ``trace item`` loads no pyarrow.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

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


def _covered(con, segments: list[Path]) -> set[str]:
    """The batch ids the ``segments`` cover, from their ``batches`` metadata."""
    if not segments:
        return set()
    found = con.execute(
        f"select value from parquet_kv_metadata({_sql_list(segments)}) where key = ?",
        [BATCHES_KEY],
    ).fetchall()
    return {batch for (value,) in found for batch in value.decode().split(",")} - {""}


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _write_segment(folder: Path, con, select: str, batch_ids: list[str]) -> None:
    """One segment from ``select`` (item_id, batch_id), written to a temporary name first."""
    name = f"seg-{secrets.token_hex(6)}.parquet"
    tmp = folder / f".{name}.tmp"
    covered = _quoted(",".join(sorted(batch_ids)))
    con.execute(
        f"copy (select distinct item_id, batch_id from ({select}) order by 1, 2) "
        f"to {_quoted(str(tmp))} (format parquet, compression zstd, row_group_size {64 * 1024}, "
        f"kv_metadata {{{_quoted(BATCHES_KEY.decode())}: {covered}}})"
    )
    os.replace(tmp, folder / name)


def batches_of_item(ws: Repo, dataset: str, snap, item_id: str, con=None) -> list:
    """The snapshot's batches that hold labels of ``item_id`` (``con``: the caller's DuckDB
    connection to use)."""

    if not snap.batches:
        return []
    folder = index_dir(ws, dataset)
    segments = sorted(folder.glob("seg-*.parquet"))
    con = database() if con is None else con
    covered = _covered(con, segments)
    missing = [b for b in snap.batches if b.id not in covered]
    if missing:
        paths = _sql_list(batch_paths(ws, snap, missing))
        select = f"select item_id, batch_id from read_parquet({paths}, union_by_name = true)"
        _write_segment(folder, con, select, [b.id for b in missing])
        segments = sorted(folder.glob("seg-*.parquet"))
    if len(segments) > MAX_SEGMENTS:
        ids = sorted(_covered(con, segments))
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
