"""The store owns every record: label batches, item manifests, golden versions and datasets, each
an immutable file with its own ``.dvc`` record; snapshots (the labels at a revision); remotes; and
the DuckDB views every query starts from."""
