"""One place that opens DuckDB, with bounded memory.

DuckDB would otherwise take up to 80 % of RAM and spill next to the current directory (inside a
workspace). ``LABELSPEC_MEMORY_LIMIT`` (default 1GB) caps it; larger joins spill to a folder of
the connection's own in the system's temporary folder instead.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import queue
import shutil
import tempfile
import threading
from pathlib import Path

import duckdb

from labelspec.errors import InputError

DEFAULT_MEMORY_LIMIT = "1GB"


# Imports hold a whole delivery in DuckDB; past the limit DuckDB spills to disk. By default a
# sixteenth of the machine's memory, within a floor and a cap. The cap keeps the process under
# 1 GB: it holds ~680 MB besides DuckDB's limit (interpreter, imports, DuckDB's own allocations
# outside its buffer pool); a 5M-label import peaked at 993 MB with 320MB, 1.33 GB with 640MB.
IMPORT_MEMORY_FLOOR_MB = 256
IMPORT_MEMORY_CAP_MB = 320


def machine_memory() -> int:
    """Bytes of memory this process may use: the machine's, or its cgroup's limit if lower."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for limit in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            total = min(total, int(Path(limit).read_text().strip()))
        except (OSError, ValueError):  # no such cgroup file, or "max"
            continue
    return total


def default_import_memory_limit() -> str:
    share = machine_memory() // 16 // 2**20
    return f"{min(max(share, IMPORT_MEMORY_FLOOR_MB), IMPORT_MEMORY_CAP_MB)}MB"


def import_memory_limit() -> str:
    return os.environ.get("LABELSPEC_IMPORT_MEMORY_LIMIT") or default_import_memory_limit()


_spill_parent: str | None = None
# Set while an import runs again after DuckDB ran out of memory: every connection on one thread
# (DuckDB's working set that cannot spill grows with its threads).
_frugal = False


def _spill_folder() -> str:
    """A spill folder of this connection's own: DuckDB names its temporary files alike in every
    instance, so two processes (or two connections) spilling into one folder would clash."""
    global _spill_parent
    if _spill_parent is None:
        _spill_parent = tempfile.mkdtemp(prefix="labelspec-duckdb-")
        atexit.register(shutil.rmtree, _spill_parent, True)
    return tempfile.mkdtemp(dir=_spill_parent)


def import_database() -> duckdb.DuckDBPyConnection:
    """The connection an import parses, validates and writes a delivery in
    (``LABELSPEC_IMPORT_MEMORY_LIMIT``; by default ``default_import_memory_limit()``)."""
    return database(import_memory_limit())


def unordered(con: duckdb.DuckDBPyConnection) -> None:
    """From here on ``con`` need not keep rows in insertion order (less memory, more spilling):
    for a delivery once it is staged with its record numbers, as every later statement orders
    what it needs by them or by the batch's sort key."""
    con.execute("set preserve_insertion_order = false")


class OutOfMemory(InputError):
    """DuckDB ran out of its memory limit even with one thread: which setting to raise."""


def out_of_memory(what: str) -> OutOfMemory:
    return OutOfMemory(
        f"{what}: DuckDB ran out of memory within LABELSPEC_IMPORT_MEMORY_LIMIT="
        f"{import_memory_limit()}; nothing was written. Raise it (e.g. "
        "LABELSPEC_IMPORT_MEMORY_LIMIT=2GB) and run again"
    )


def names_out_of_memory(write):
    """Run ``write(ws, dataset, file, ...)`` again with DuckDB on one thread if it ran out of
    memory (the transaction has undone the first attempt by then); if that runs out too, the
    error that names the setting."""

    @functools.wraps(write)
    def guarded(ws, dataset, file, *args, **kwargs):
        global _frugal
        try:
            return write(ws, dataset, file, *args, **kwargs)
        except (duckdb.OutOfMemoryException, OutOfMemory):
            pass
        _frugal = True
        try:
            return write(ws, dataset, file, *args, **kwargs)
        except duckdb.OutOfMemoryException:
            raise out_of_memory(str(file)) from None
        finally:
            _frugal = False

    return guarded


def database(memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    limit = memory_limit or os.environ.get("LABELSPEC_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)
    spill = _spill_folder()
    # no progress bar of DuckDB's own: it would write into --json output (labelspec.progress draws)
    con.execute(
        f"set memory_limit = '{limit}'; set temp_directory = '{spill}'; "
        "set enable_progress_bar = false"
    )
    if _frugal:
        con.execute("set threads = 1")
    return con


def unnested(columns: list[tuple[str, str]], values: list[list]) -> tuple[str, dict[str, list]]:
    """A select list of ``columns`` ((name, SQL type)) unnesting one list parameter each, side
    by side, and its parameters: DuckDB turns Python lists into columns without Arrow (which
    makes pyarrow import pandas, 0.3-0.5 s of a command) and without a statement per row."""
    quoted = ['"' + name.replace('"', '""') + '"' for name, _ in columns]
    select = ", ".join(
        f"unnest($c{i}::{sql_type}[]) as {quoted[i]}" for i, (_, sql_type) in enumerate(columns)
    )
    return select, {f"c{i}": list(column) for i, column in enumerate(values)}


def small_table(con, name: str, columns: list[tuple[str, str]], rows) -> None:
    """The temp table ``name`` (``columns``: (name, SQL type)) holding ``rows`` (tuples)."""
    select, params = unnested(columns, list(zip(*rows, strict=True)) or [[] for _ in columns])
    con.execute(f"create or replace temp table {name} as select {select}", params)


DEFAULT_CHUNK_ROWS = 8 * 1024


def chunk_rows() -> int:
    """Rows per chunk that crosses from DuckDB into Python (``LABELSPEC_CHUNK_ROWS``): what bounds
    an import's Python-side memory, whatever the delivery's size."""
    value = os.environ.get("LABELSPEC_CHUNK_ROWS", "")
    return max(1, int(value)) if value.strip().isdigit() else DEFAULT_CHUNK_ROWS


class Rows:
    """Rows held by DuckDB as the temp table ``name`` of ``con``: a delivery of any size stays in
    DuckDB's buffer manager (which spills past the memory limit), not in Python's memory."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        name: str,
        constants: dict | None = None,
        release: str | None = None,
        num_rows: int | None = None,
        versions: list[str] | None = None,
    ):
        self.con = con
        self.name = name  # a table, or a view computed by whatever reads it
        # columns that hold one value in every row by construction (name -> value), which
        # the batch writer need not carry through DuckDB's sort; None: not known
        self.constants = constants
        self.release = release  # SQL that drops them (default: the table ``name``)
        self._count = num_rows  # when known: counting a view computes its joins
        self.versions = versions  # the guideline releases the rows name, when known

    def drop(self) -> None:
        """Free the rows (and what a view of them reads) once they are copied elsewhere."""
        self.con.execute(self.release or f"drop table {self.name}")

    @property
    def num_rows(self) -> int:
        if self._count is None:
            self._count = self.con.execute(f"select count(*) from {self.name}").fetchall()[0][0]
        return self._count

    def arrow(self, schema=None, order_by: str | None = None):
        """All rows as one Arrow table (for the small tables of golden sets and merges)."""
        order = f" order by {order_by}" if order_by else ""
        table = self.con.sql(f"select * from {self.name}{order}").to_arrow_table()
        return table.cast(schema) if schema is not None else table

    def batches(self, schema, order_by: str):
        """The rows in ``order_by`` order as Arrow record batches of ``chunk_rows()`` rows with
        the columns of ``schema`` (cast to it), fetched by a thread of their own a few chunks
        ahead: DuckDB sorts and converts while the caller compresses (pyarrow's writer), so the
        two overlap on two cores."""

        columns = ", ".join('"' + name.replace('"', '""') + '"' for name in schema.names)

        def fetch():
            reader = self.con.sql(f"select {columns} from {self.name} order by {order_by}")
            for batch in reader.to_arrow_reader(chunk_rows()):
                yield batch.cast(schema) if batch.schema != schema else batch

        return ahead(fetch(), PREFETCH_CHUNKS, on_stop=self.con.interrupt)


PREFETCH_CHUNKS = 4  # chunks fetched ahead of the consumer: 4 x 8k rows, a few MB


def ahead(items, depth: int, on_stop=None):
    """Yield ``items`` while a thread produces them up to ``depth`` ahead. The producer's error
    is raised here; a consumer that stops early (an error, Ctrl-C) stops the producer at its
    next item, and ``on_stop()`` interrupts what it is in the middle of (a DuckDB query)."""

    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def produce():
        try:
            for item in items:
                if stop.is_set():
                    return
                slots.put((item, None))
        except BaseException as exc:  # handed to the consumer, which raises it
            slots.put((done, exc))
            return
        slots.put((done, None))

    worker = threading.Thread(target=produce, name="labelspec-prefetch", daemon=True)
    worker.start()
    finished = False
    try:
        while True:
            item, error = slots.get()
            if item is done:
                finished = True
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        while worker.is_alive():
            # again each time: an interrupt is not remembered by a query that has not started
            if not finished and on_stop is not None:
                on_stop()
            with contextlib.suppress(queue.Empty):  # unblock a producer waiting for a slot
                slots.get(timeout=0.05)
        worker.join()
