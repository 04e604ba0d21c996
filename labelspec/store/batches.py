"""Immutable Parquet batches: one file per import or relabel merge, written once, never changed.

Fixed writer settings and a fixed sort order make a batch's bytes a function of its rows, so
DVC deduplicates and sha256 in the snapshot manifest can vouch for it.
"""

from __future__ import annotations

import array
import datetime as dt
import os
import secrets
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from labelspec.progress import progress
from labelspec.store.engine import chunk_rows
from labelspec.store.schema import LABEL_SCHEMA
from labelspec.vcs import hash_file
from labelspec.yamlio import default_mode

WRITER_SETTINGS = {
    "compression": "zstd",
    # level 1: a 1M-label batch written in 0.65 s of CPU instead of 0.89 s, and 6 % smaller
    # (33 MB vs 35 MB: most columns are dictionary pages, which level 3 does not shrink further)
    "compression_level": 1,
    "use_dictionary": True,
    "write_statistics": True,
    "version": "2.6",
    "data_page_size": 1 << 20,
}
ROW_GROUP_SIZE = 64 * 1024  # with 8k-row chunks: a 5M import peaks at 727 MB, 895 MB at 128k / 32k
LABEL_SORT = [("item_id", "ascending"), ("annotation_id", "ascending"), ("label_id", "ascending")]


def new_batch_id(now: dt.datetime | None = None) -> str:
    """Sortable by time, unique without coordination: b-20261128T042200Z-3e7c2d1a (the suffix
    starts with the millisecond in 3 hex digits, then 5 random ones)."""
    now = now or dt.datetime.now(dt.UTC)
    return f"b-{now:%Y%m%dT%H%M%SZ}-{now.microsecond // 1000:03x}{secrets.token_hex(3)[:5]}"


def write_parquet(table: pa.Table, path: Path, metadata: dict[str, str] | None = None) -> str:
    """Write ``table`` to ``path`` via a temporary file and ``os.replace``; returns the sha256."""
    return write_parquet_hashed(table, path, metadata)[0]


def write_parquet_hashed(
    table: pa.Table, path: Path, metadata: dict[str, str] | None = None
) -> tuple[str, str, int]:
    """``write_parquet`` returning (sha256, md5, size): both hashes in one read of the file."""
    if metadata:
        merged = {
            **(table.schema.metadata or {}),
            **{k.encode(): v.encode() for k, v in metadata.items()},
        }
        table = table.replace_schema_metadata(merged)
    return _written(
        path,
        lambda tmp: pq.write_table(table, tmp, row_group_size=ROW_GROUP_SIZE, **WRITER_SETTINGS),
    )


def _written(path: Path, write) -> tuple[str, str, int]:
    """Run ``write(tmp)`` on a temporary file beside ``path``, fsync it, hash it, then move it
    into place; (sha256, md5, size)."""

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        digest = hash_file(Path(tmp))
        os.chmod(tmp, default_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest


def write_batch(
    table: pa.Table, path: Path, metadata: dict[str, str], presorted: bool = False
) -> tuple[str, str, int]:
    """Write one label batch in its sort order; returns (sha256, md5, size). ``presorted``: the
    caller sorted it already (validation sorts in DuckDB), so the check is skipped."""
    if not presorted and not _is_sorted(table):
        table = table.sort_by(LABEL_SORT)
    return write_parquet_hashed(table, path, metadata)


# Columns most batches hold one value in (a delivery has one dataset, source, format, batch and
# usually one release): found constant, they stay out of DuckDB's sort, whose cost grows with
# the width of what it carries (1M labels: 0.97 s instead of 1.17 s), and are filled in after.
CONSTANT_CANDIDATES = (
    "dataset",
    "guideline",
    "guideline_version",
    "guideline_digest",
    "source",
    "format",
    "batch_id",
    "supersedes",
)


def write_batch_rows(
    rows,
    path: Path,
    metadata: dict[str, str],
    constants: dict[str, object] | None = None,
    on_chunk=None,
) -> tuple[str, str, int]:
    """``write_batch`` for rows DuckDB holds (``store.engine.Rows``): sorted by DuckDB (out of
    core), streamed to the file one row group at a time. Row groups are cut at exactly
    ``ROW_GROUP_SIZE`` rows whatever the chunk size, so the bytes equal ``write_batch``'s.
    ``constants``: columns known to hold one value in every row (name -> value; the import
    makes them so), else found by a scan of the rows. ``on_chunk(batch)`` sees every chunk,
    in order, with every column (to count what is written without another pass)."""

    order = ", ".join(f'"{name}"' for name, _ in LABEL_SORT)
    schema = LABEL_SCHEMA.with_metadata({k.encode(): v.encode() for k, v in metadata.items()})
    if constants is None:
        constants = _constant_columns(rows)
    # a chunk of one long value must fit string offsets (32 bits); such a column is sorted
    fits = (1 << 31) // max(1, chunk_rows())
    constants = {
        k: v
        for k, v in constants.items()
        if v is None or (pa.types.is_string(_type(k)) and len(str(v).encode()) < fits)
    }
    fetched = pa.schema([f for f in LABEL_SCHEMA if f.name not in constants])
    filled = _ConstantColumns(constants)

    def write(tmp: str) -> None:

        with (
            pq.ParquetWriter(tmp, schema, **WRITER_SETTINGS) as writer,
            progress("writing labels", total=rows.num_rows) as advance,
        ):
            pending: list[pa.RecordBatch] = []
            held = 0
            for batch in rows.batches(fetched, order):
                advance(batch.num_rows)
                batch = filled.into(batch)
                if on_chunk is not None:
                    on_chunk(batch)
                pending.append(batch)
                held += batch.num_rows
                while held >= ROW_GROUP_SIZE:
                    table = pa.Table.from_batches(pending, LABEL_SCHEMA)
                    writer.write_table(
                        table.slice(0, ROW_GROUP_SIZE).combine_chunks(), ROW_GROUP_SIZE
                    )
                    rest = table.slice(ROW_GROUP_SIZE)
                    pending, held = rest.to_batches(), rest.num_rows
            if held:
                writer.write_table(
                    pa.Table.from_batches(pending, LABEL_SCHEMA).combine_chunks(), ROW_GROUP_SIZE
                )

    return _written(path, write)


def _constant_columns(rows) -> dict[str, object]:
    """Which of CONSTANT_CANDIDATES hold one value (or only nulls) in every row: name -> value
    (min = max over every row is one value: cheaper than counting distinct values)."""
    checks = ", ".join(f'min("{n}"), max("{n}"), count("{n}")' for n in CONSTANT_CANDIDATES)
    found = rows.con.execute(f"select count(*), {checks} from {rows.name}").fetchall()[0]
    total, stats = found[0], found[1:]
    constants = {}
    for i, name in enumerate(CONSTANT_CANDIDATES):
        least, most, present = stats[3 * i : 3 * i + 3]
        if present == 0:
            constants[name] = None
        elif present == total and least == most and pa.types.is_string(_type(name)):
            constants[name] = least  # one list in every row (supersedes) is no string to repeat
    return constants


def _type(name: str) -> pa.DataType:
    return LABEL_SCHEMA.field(name).type


def _repeated(value: str, rows: int) -> pa.Array:
    """A string array of ``value`` ``rows`` times, built from its buffers: converting Python
    objects (``pa.array``) makes pyarrow import pandas, 0.3-0.5 s of an import."""
    data = value.encode()
    offsets = array.array("i", (i * len(data) for i in range(rows + 1)))
    return pa.StringArray.from_buffers(rows, pa.py_buffer(offsets), pa.py_buffer(data * rows))


class _ConstantColumns:
    """Puts the constant columns back into each sorted chunk, in LABEL_SCHEMA's order."""

    def __init__(self, constants: dict[str, object]):
        self.constants = constants
        self._made: dict[tuple[str, int], pa.Array] = {}  # chunks are mostly one size

    def _array(self, name: str, rows: int) -> pa.Array:
        key = (name, rows)
        if key not in self._made:
            value = self.constants[name]
            self._made[key] = (
                pa.nulls(rows, _type(name)) if value is None else _repeated(str(value), rows)
            )
        return self._made[key]

    def into(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        if not self.constants:
            return batch
        columns = [
            self._array(f.name, batch.num_rows)
            if f.name in self.constants
            else batch.column(f.name)
            for f in LABEL_SCHEMA
        ]
        return pa.RecordBatch.from_arrays(columns, schema=LABEL_SCHEMA)


def _is_sorted(table: pa.Table) -> bool:
    """Whether rows are already in LABEL_SORT order (validation sorts in DuckDB), checked in O(n)
    vectorised comparisons instead of paying for a second sort."""

    if table.num_rows < 2:
        return True
    keys = [table.column(name).combine_chunks() for name, _ in LABEL_SORT]
    previous = [k.slice(0, len(k) - 1) for k in keys]
    following = [k.slice(1) for k in keys]
    ordered = pc.less(previous[-1], following[-1])
    for before, after in zip(reversed(previous[:-1]), reversed(following[:-1]), strict=True):
        ordered = pc.or_(pc.less(before, after), pc.and_(pc.equal(before, after), ordered))
    return bool(pc.all(ordered).as_py())
