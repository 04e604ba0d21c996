"""One place that opens DuckDB, with bounded memory.

DuckDB would otherwise take up to 80 % of RAM and spill next to the current directory (inside a
workspace). ``LABELSPEC_MEMORY_LIMIT`` (default 1GB) caps it; larger joins spill to the system's
temporary folder instead.
"""

from __future__ import annotations

import os
import tempfile

import duckdb

DEFAULT_MEMORY_LIMIT = "1GB"


def database() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    limit = os.environ.get("LABELSPEC_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)
    spill = os.path.join(tempfile.gettempdir(), "labelspec-duckdb")
    con.execute(f"set memory_limit = '{limit}'; set temp_directory = '{spill}'")
    return con
