"""Arrow tables from Python rows, built by DuckDB.

pyarrow imports pandas (0.3-0.5 s) the first time it converts Python objects itself
(``pa.array``, ``pa.table``, ``Table.from_pylist``, even ``Schema.empty_table``); tables DuckDB
hands over, and what pyarrow does with them (filter, sort, cast, write), do not. So a command
that registers a few items does not pay for pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from labelspec.store.engine import database

if TYPE_CHECKING:
    import pyarrow as pa  # lazy: annotations only (the schema comes from the caller)

# the Arrow types of the tables built here, as DuckDB names them
SQL_TYPES = {"string": "VARCHAR", "int64": "BIGINT", "int32": "INTEGER", "double": "DOUBLE"}


def _name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def arrow_table(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    """``rows`` (dicts; a missing key is NULL) as a table of ``schema``, in their order: one list
    per column handed to DuckDB, unnested side by side."""
    params = {f"c{i}": [row.get(field.name) for row in rows] for i, field in enumerate(schema)}
    select = ", ".join(
        f"unnest($c{i}::{SQL_TYPES[str(field.type)]}[]) as {_name(field.name)}"
        for i, field in enumerate(schema)
    )
    return database().sql(f"select {select}", params=params).to_arrow_table().cast(schema)
