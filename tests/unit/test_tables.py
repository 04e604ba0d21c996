"""``arrow_table`` builds through DuckDB the table pyarrow would build from the same rows (pyarrow
itself would import pandas to convert them)."""

from __future__ import annotations

import pyarrow as pa

from labelspec.store.schema import ITEM_BASE_COLUMNS, ITEM_BASE_FIELDS, ITEM_BASE_SCHEMA
from labelspec.store.tables import arrow_table


def test_the_table_is_the_one_pyarrow_builds_from_the_rows():
    schema = pa.schema([*ITEM_BASE_FIELDS, pa.field('cam "north"', pa.string())])
    rows = [
        {"item_id": "b.png", "path": "x/b.png", "bytes": 2**40, "width": 7, 'cam "north"': "é"},
        {"item_id": "a.txt", "text": "two\nlines, 'quoted'", "media": "text"},  # the rest NULL
    ]
    built = arrow_table(rows, schema)
    assert built.schema == schema  # item_id not nullable, width int32, bytes int64
    assert built.equals(pa.Table.from_pylist(rows, schema=schema))
    assert built.column("item_id").to_pylist() == ["b.png", "a.txt"]  # in the rows' order


def test_no_rows_is_the_empty_table_of_the_schema():
    assert arrow_table([], ITEM_BASE_SCHEMA).equals(ITEM_BASE_SCHEMA.empty_table())
    assert arrow_table([], ITEM_BASE_SCHEMA).schema == ITEM_BASE_SCHEMA


def test_the_columns_named_without_pyarrow_are_the_schemas():
    assert ITEM_BASE_SCHEMA.names == ITEM_BASE_COLUMNS


def test_the_duckdb_columns_of_an_empty_revision_have_the_arrow_schemas_types():
    import pyarrow as pa

    from labelspec.store import schema
    from labelspec.store.engine import database

    con = database()
    con.execute("set TimeZone = 'UTC'")  # Arrow names the session's zone
    labels = con.sql(schema.no_rows(schema.LABEL_COLUMNS)).to_arrow_table().schema
    assert [(f.name, f.type) for f in labels] == [(f.name, f.type) for f in schema.LABEL_SCHEMA]
    columns = list(zip(schema.ITEM_BASE_COLUMNS, schema.ITEM_BASE_TYPES, strict=True))
    items = con.sql(schema.no_rows(columns)).to_arrow_table().schema
    assert [(f.name, f.type) for f in items] == [(f.name, f.type) for f in schema.ITEM_BASE_SCHEMA]
    assert pa.types.is_timestamp(labels.field("created_at").type)
