"""The label rows of one item: a per-clone index, so ``trace item`` reads a few small row groups
instead of decoding every batch that holds the item (87 of 1,000 batches, 0.4-0.8 s at 10M labels).

Batches are immutable and named by id, so an index entry never goes stale. The index lives in
``.labelspec/item-labels/`` (git-ignored, rebuilt by any clone): segments holding the label rows
of the batches they cover, sorted by item id in row groups of ``ROW_GROUP`` rows (DuckDB reads
only the row groups whose item-id statistics may hold the item), each naming the batch ids it
covers in its ``batches`` metadata. A query indexes the snapshot's batches that no segment covers
yet, as new segments of about ``PART_ROWS`` labels each (work proportional to what was imported
since; each part is sorted within DuckDB's memory); past ``MAX_SEGMENTS`` segments smaller than
a part, the smallest are merged, so the large ones are never rewritten. Two processes indexing
at once write separate segments; a batch covered twice is read once. The rows are a copy of
derived data: ``verify`` checks the batch files themselves. DuckDB alone reads and writes them
(their metadata too): ``trace item`` loads no pyarrow.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

from labelspec.progress import progress
from labelspec.repo import Repo
from labelspec.store.query import _sql_list
from labelspec.store.snapshots import batch_paths

MAX_SEGMENTS = 16  # segments smaller than a part before they are merged
PART_ROWS = 500_000  # labels per segment written at once (sorted within DuckDB's memory)
ROW_GROUP = 65536
BATCHES_KEY = b"labelspec.batches"


def index_dir(ws: Repo, dataset: str) -> Path:
    old = ws.state_dir / "item-index"  # the item -> batch index before rows were kept
    if old.is_dir():
        shutil.rmtree(old, ignore_errors=True)
    folder = ws.state_dir / "item-labels" / dataset
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _covered(segment: Path, con) -> set[str]:
    """The batch ids a segment holds: from the list written beside it (its footer is megabytes
    at 10M labels), else from the footer's metadata."""
    beside = segment.with_name(segment.name + ".batches")
    if beside.is_file():
        text = beside.read_text()
    else:
        found = con.execute(
            "select value from parquet_kv_metadata(?) where key = ?", [str(segment), BATCHES_KEY]
        ).fetchall()
        text = found[0][0].decode() if found else ""
    return set(text.split(",")) - {""}


def _rows(segment: Path, con) -> int:
    return con.execute("select num_rows from parquet_file_metadata(?)", [str(segment)]).fetchall()[
        0
    ][0]


def _write_segment(folder: Path, con, select: str, batch_ids: list[str]) -> None:
    """One segment of the rows of ``select``, written to a temporary name first (by DuckDB,
    which sorts and writes within its memory limit)."""
    name = f"seg-{secrets.token_hex(6)}.parquet"
    tmp = folder / f".{name}.tmp"
    covered = ",".join(sorted(batch_ids)).replace("'", "''")
    target = str(tmp).replace("'", "''")
    con.execute(
        f"""copy (select * from ({select}) order by item_id, batch_id, label_id) to '{target}'
            (format parquet, compression zstd, row_group_size {ROW_GROUP},
             kv_metadata {{'{BATCHES_KEY.decode()}': '{covered}'}})"""
    )
    (folder / f"{name}.batches").write_text(",".join(sorted(batch_ids)))
    os.replace(tmp, folder / name)


def _segments(ws: Repo, dataset: str, snap, con) -> dict[Path, set[str]]:
    """The segments (with the batch ids each covers) covering every batch of ``snap``,
    indexing what is not covered yet."""

    folder = index_dir(ws, dataset)
    segments = sorted(folder.glob("seg-*.parquet"))
    covered: set[str] = set()
    for segment in segments:
        covered |= _covered(segment, con)
    missing = [b for b in snap.batches if b.id not in covered]
    parts = _parts(missing)
    # the first trace of a clone indexes every batch (tens of seconds at 10M labels): say so
    with progress("indexing the labels by item (once per clone)", total=len(parts)) as advance:
        for part in parts:  # each sorted in memory: one sort of 10M rows spills
            paths = _sql_list(batch_paths(ws, snap, part))
            select = f"select * from read_parquet({paths}, union_by_name = true)"
            _write_segment(folder, con, select, [b.id for b in part])
            advance(1)
    segments = sorted(folder.glob("seg-*.parquet"))
    small = (
        [s for s in segments if _rows(s, con) < PART_ROWS] if len(segments) > MAX_SEGMENTS else []
    )
    if len(small) > MAX_SEGMENTS:  # merge the smallest (what imports since added) into one
        small.sort(key=lambda s: s.stat().st_size)
        merged = small[: max(2, len(small) - MAX_SEGMENTS // 2)]
        ids = sorted(set().union(*(_covered(s, con) for s in merged)))
        select = f"select * from read_parquet({_sql_list(merged)}, union_by_name = true)"
        _write_segment(
            folder, con, f"select distinct on (batch_id, label_id) * from ({select})", ids
        )
        for segment in merged:
            segment.unlink(missing_ok=True)
            segment.with_name(segment.name + ".batches").unlink(missing_ok=True)
        segments = sorted(folder.glob("seg-*.parquet"))
    return {segment: _covered(segment, con) for segment in segments}


def _parts(batches: list) -> list[list]:
    """``batches`` in runs of about ``PART_ROWS`` labels (a batch of unknown size counts as 0)."""
    parts: list[list] = []
    rows = PART_ROWS
    for batch in batches:
        if rows >= PART_ROWS:
            parts.append([])
            rows = 0
        parts[-1].append(batch)
        rows += batch.rows or 0
    return parts


def item_labels(ws: Repo, dataset: str, snap, item_id: str, con) -> None:
    """Make ``labels_all`` on ``con`` (a ``store.query.connect`` connection) the label rows of
    ``item_id`` in the batches of ``snap``."""

    if not snap.batches:
        return
    segments = _segments(ws, dataset, snap, con)
    wanted = {b.id for b in snap.batches}
    counted = [i for ids in segments.values() for i in ids]
    # a literal, not a parameter: DuckDB prunes row groups by a constant's statistics
    where = ["item_id = '" + item_id.replace("'", "''") + "'"]
    other = sorted(set(counted) - wanted)  # batches not in this revision (retracted, newer)
    if other:
        where.append("not list_contains($1, batch_id)")
    twice = len(counted) != len(set(counted))  # two processes indexed a batch at once
    con.execute(
        f"""create or replace temp table item_rows as
            select * exclude (filename)
            from read_parquet({_sql_list(list(segments))}, union_by_name = true, filename = true)
            where {" and ".join(where)}
            {"qualify row_number() over (partition by batch_id, label_id order by filename) = 1" if twice else ""}""",
        [other] if other else [],
    )
    con.execute("create or replace view labels_all as select * from item_rows")
