"""pyarrow over a manifest: the batches (or the compacted copy) as datasets in the canonical
schema, from this clone's files or a DVC remote's objects.

A batch written before a column existed is read with the column as NULL: the schema comes from
``LABEL_SCHEMA``, never from the first file opened. Remote objects are opened by their URLs (DVC
names them without a suffix, so no glob finds them); S3 through pyarrow's own S3 client, with
the endpoint and keys DVC is configured with.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from labelspec.errors import NotFoundError
from labelspec.store.engine import database
from labelspec.store.manifest import RULE_SQL, Entry, Manifest, remote_settings
from labelspec.store.schema import LABEL_SCHEMA


def s3_options(settings: dict[str, str]) -> dict[str, str]:
    """pyarrow ``S3FileSystem`` keyword arguments from a DVC remote's settings (plain strings, so
    they travel to Spark's workers)."""
    options = {}
    for dvc_key, arrow_key in (
        ("access_key_id", "access_key"),
        ("secret_access_key", "secret_key"),
        ("session_token", "session_token"),
        ("region", "region"),
        ("endpointurl", "endpoint_override"),
    ):
        if settings.get(dvc_key):
            options[arrow_key] = settings[dvc_key]
    return options


def s3_filesystem(options: dict[str, str]) -> pafs.S3FileSystem:
    return pafs.S3FileSystem(**options)


def locate(manifest: Manifest, entries: list[Entry], remote: str | None):
    """(filesystem, paths) of ``entries``: this clone's working copy or DVC cache object, or the
    objects of DVC remote ``remote``."""
    if remote is None:
        return pafs.LocalFileSystem(), [str(p) for p in local_paths(manifest, entries)]
    chosen = manifest.remote(remote)
    urls = [chosen.object_url(e.md5) for e in entries]
    if chosen.is_s3:
        options = s3_options(remote_settings(manifest.root, chosen.name))
        return s3_filesystem(options), [u.removeprefix("s3://") for u in urls]
    return pafs.LocalFileSystem(), urls


def local_paths(manifest: Manifest, entries: list[Entry]) -> list[Path]:
    """The working copy, else the DVC cache object, of each entry; one error naming the fix
    when any is in neither."""
    found, missing = [], []
    for entry in entries:
        for path in (manifest.root / entry.file, manifest.cache_path(entry.md5)):
            if path.is_file():
                found.append(path)
                break
        else:
            missing.append(entry)
    if missing:
        raise NotFoundError(
            f"{len(missing)} batch file(s) of {manifest.dataset} are neither in the workspace nor "
            f"in the DVC cache (e.g. {missing[0].file}); run `labelspec pull`, or read a remote"
        )
    return found


def compacted_here(manifest: Manifest, remote: str | None) -> bool:
    """Whether the compacted copy can be read where ``remote`` says (locally: it was pulled)."""
    if manifest.compacted is None:
        return False
    if remote is not None:
        return True  # pushed with the commit that recorded it
    return all(
        (manifest.root / p.file).is_file() or manifest.cache_path(p.md5).is_file()
        for p in manifest.compacted.parts
    )


def batches_dataset(manifest: Manifest, remote: str | None = None) -> ds.Dataset:
    """Every row of the manifest's batches, in the canonical schema."""
    filesystem, paths = locate(manifest, manifest.batches, remote)
    return ds.dataset(paths, schema=LABEL_SCHEMA, format="parquet", filesystem=filesystem)


def compacted_dataset(manifest: Manifest, remote: str | None = None) -> ds.Dataset:
    assert manifest.compacted is not None
    filesystem, paths = locate(manifest, manifest.compacted.parts, remote)
    return ds.dataset(paths, schema=LABEL_SCHEMA, format="parquet", filesystem=filesystem)


def current_labels(manifest: Manifest, remote: str | None = None) -> pa.Table:
    """The current labels in (item_id, annotation_id, label_id) order: the compacted copy when
    it is here, else DuckDB's anti join over the batches' dataset."""
    if compacted_here(manifest, remote):
        return compacted_dataset(manifest, remote).to_table()

    con = database()
    con.register("labels_all", batches_dataset(manifest, remote))
    # nothing superseded (the manifest says so): every row is current, no anti join
    rule = RULE_SQL if manifest.superseding else "select * from labels_all"
    return (
        con.sql(rule + " order by item_id, annotation_id, label_id")
        .to_arrow_table()
        .cast(LABEL_SCHEMA)
    )


def conform(table: pa.Table) -> pa.Table:
    """A batch read on its own, in the canonical schema: columns it lacks as NULL, in order."""
    columns = [
        table.column(f.name).cast(f.type)
        if f.name in table.column_names
        else pa.nulls(table.num_rows, f.type)
        for f in LABEL_SCHEMA
    ]
    return pa.Table.from_arrays(columns, schema=LABEL_SCHEMA)
