"""pyarrow over the manifest: the canonical schema on old and new batches, from the cache, a
local remote and an S3 remote (moto), with labelspec's answers row for row."""

from __future__ import annotations

import pyarrow.compute as pc
import pytest

from labelspec.errors import LabelspecError, NotFoundError
from labelspec.store.manifest import manifest
from labelspec.store.schema import LABEL_SCHEMA
from labelspec.workspace import Workspace
from tests.conftest import use_remote


def labelspec_current(root):
    """The DuckDB path every labelspec command reads (``store.query``), in the label schema."""
    return Workspace(root).labels("digits").cast(LABEL_SCHEMA)


def test_the_batches_dataset_has_the_canonical_schema_whatever_each_file_has(history):
    dataset = manifest(Workspace(history), "digits").to_arrow_dataset()

    table = dataset.to_table()
    assert table.schema == LABEL_SCHEMA
    by_source = table.group_by("source").aggregate([("annotation_key", "count")])
    keys = dict(
        zip(
            by_source.column("source").to_pylist(),
            by_source.column("annotation_key_count").to_pylist(),
            strict=True,
        )
    )
    # the old batch's rows read the column it lacks as NULL; the import's carry their keys
    assert keys == {"vendor-a": 0, "vendor-b": 30, "relabel": 3}


def test_current_labels_equal_labelspecs_row_for_row(history):
    ours = manifest(Workspace(history), "digits").current_labels()

    assert ours.num_rows == 62  # 73 labels, 11 superseded
    assert ours.equals(labelspec_current(history))


def test_current_labels_of_an_older_revision(history):
    ours = manifest(Workspace(history), "digits", "HEAD~2").current_labels()

    assert ours.num_rows == 70  # before the relabel: nothing superseded
    assert ours.equals(Workspace(history).labels("digits", "HEAD~2").cast(LABEL_SCHEMA))


def test_read_from_a_local_remote_after_push(history, run):
    run("push", cwd=history)
    found = manifest(Workspace(history), "digits")

    assert found.current_labels(remote="storage").equals(labelspec_current(history))


def test_read_from_an_s3_remote_after_push(history, run, s3_server):
    use_remote(history, s3_server("engines"))
    run("push", cwd=history)
    found = manifest(Workspace(history), "digits")
    assert (
        found.remote("storage")
        .object_url(found.batches[0].md5)
        .startswith("s3://engines/labels/files/md5/")
    )
    for path in history.glob(".dvc/cache/files/md5/*/*"):  # nothing read locally
        path.chmod(0o644)
        path.unlink()

    assert found.current_labels(remote="storage").equals(labelspec_current(history))


def test_missing_files_are_one_error_naming_pull(history):
    for path in [
        *history.glob("datasets/digits/labels/*.parquet"),
        *history.glob(".dvc/cache/files/md5/*/*"),
    ]:
        path.chmod(0o644)
        path.unlink()

    with pytest.raises(NotFoundError) as error:
        manifest(Workspace(history), "digits").current_labels()

    assert str(error.value).startswith(
        "3 batch file(s) of digits are neither in the workspace nor in the DVC cache"
    )
    assert "run `labelspec pull`" in str(error.value)


def test_an_unknown_remote_names_the_configured_ones(history):
    with pytest.raises(LabelspecError) as error:
        manifest(Workspace(history), "digits").current_labels(remote="elsewhere")

    assert str(error.value) == (
        "no DVC remote 'elsewhere' (remotes: storage); add one with `dvc remote add -d NAME URL`"
    )


def test_duckdb_reads_the_dataset_too(history):
    from labelspec.store.engine import database

    con = database()
    con.register("labels_all", manifest(Workspace(history), "digits").to_arrow_dataset())

    keys = con.sql("select count(annotation_key) from labels_all").fetchall()
    assert keys == [(33,)]
    assert pc.sum(labelspec_current(history).column("cost")).as_py() == pytest.approx(62 * 0.02)
