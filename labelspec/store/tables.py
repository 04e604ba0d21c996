"""Arrow tables from Python rows, built by DuckDB.

pyarrow imports pandas (0.3-0.5 s) the first time it converts Python objects itself
(``pa.array``, ``pa.table``, ``Table.from_pylist``, even ``Schema.empty_table``); tables DuckDB
hands over, and what pyarrow does with them (filter, sort, cast, write), do not. So a command
that registers a few items does not pay for pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from labelspec.store.engine import database, unnested

if TYPE_CHECKING:
    import pyarrow as pa  # lazy: annotations only (the schema comes from the caller)

# the Arrow types of the tables built here, as DuckDB names them
SQL_TYPES = {"string": "VARCHAR", "int64": "BIGINT", "int32": "INTEGER", "double": "DOUBLE"}


def arrow_table(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    """``rows`` (dicts; a missing key is NULL) as a table of ``schema``, in their order."""
    columns = [(field.name, SQL_TYPES[str(field.type)]) for field in schema]
    select, params = unnested(columns, [[row.get(f.name) for row in rows] for f in schema])
    return database().sql(f"select {select}", params=params).to_arrow_table().cast(schema)
