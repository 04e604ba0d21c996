"""The label store: immutable Parquet batches under ``datasets/<name>/labels/`` (one DVC-tracked
folder), the item manifest, and DuckDB views over them."""
