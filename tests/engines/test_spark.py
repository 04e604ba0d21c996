"""Spark (local[2]) over the manifest gives labelspec's answers: current labels, `labels show`,
`trace impact`, majority resolution and bake-off accuracy, read from this clone's DVC cache and
from an S3 remote (moto) after `labelspec push`. One Spark session serves every test."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from labelspec.engines import spark as engine
from labelspec.engines import spark_queries as queries
from labelspec.store.manifest import Manifest, manifest
from labelspec.store.schema import LABEL_SCHEMA
from labelspec.workspace import Workspace
from tests.conftest import use_remote

# pyspark's collect / toArrow (``pyspark.util._load_from_socket``) leave their socket to the
# garbage collector, which warns when it closes it, inside the call that read the results.
pytestmark = pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning")

ORDER = [("item_id", "ascending"), ("annotation_id", "ascending"), ("label_id", "ascending")]


@dataclass
class Read:
    ws: Workspace
    manifest: Manifest
    rows: Any  # every batch row (Spark)
    current: Any  # the current labels (Spark)


@pytest.fixture(params=["cache", "s3"])
def read(request, history: Path, run, spark) -> Read:
    """The history read by Spark from the DVC cache, or from S3 with nothing local."""
    ws = Workspace(history)
    remote = None
    if request.param == "s3":
        use_remote(history, request.getfixturevalue("s3_server")("engines"))
        run("push", cwd=history)
        remote = "storage"
    found = manifest(ws, "digits")
    rows = engine.batches(found, spark, remote)
    return Read(ws, found, rows, engine.current(found, spark, remote))


def arrow(frame) -> pa.Table:
    return frame.toArrow()


def test_current_labels_equal_labelspecs_row_for_row(read):
    ours = arrow(read.current).cast(LABEL_SCHEMA).sort_by(ORDER)

    assert ours.num_rows == 62
    assert ours.equals(read.ws.labels("digits").cast(LABEL_SCHEMA))


def test_the_old_batch_reads_its_missing_columns_as_null(read):
    from pyspark.sql import functions as F

    keys = {
        r["source"]: r["keys"]
        for r in read.rows.groupBy("source").agg(F.count("annotation_key").alias("keys")).collect()
    }

    assert keys == {"vendor-a": 0, "vendor-b": 30, "relabel": 3}


def test_labels_show_counts(read, spark):
    from labelspec.labels.history import show

    expected = show(read.ws, "digits")
    for key in ("dataset", "snapshot", "commit", "batches"):
        expected.pop(key)

    assert queries.show(spark, read.manifest, read.current) == expected
    # superseded on d01, d02, d07: every suspect label (one, seven, two, and vB-02's); vA-02's
    # wrong "three" on d02 was not suspect, so it stays; vA-01's three answers replace its own
    assert expected["by_labeler"] == {"vA-01": 20, "vA-02": 18, "vB-01": 17, "vB-02": 7}


def test_trace_impact_counts(read, spark):
    from labelspec.lineage.trace import impact

    expected = impact(read.ws, "digits", "digits").to_json()
    ours = queries.impact(spark, read.ws, read.current, "digits")

    assert ours == {key: expected[key] for key in ours}
    assert (
        expected["by_reason"]["untrained"] == 7
    )  # vB-02's current labels: d00, d03..d06, d08, d09


def test_trace_impact_counts_a_late_recorded_training_by_its_date(history, spark):
    import datetime as dt

    from labelspec.labelers.training import record_training
    from labelspec.lineage.trace import impact

    ws = Workspace(history)
    # recorded after the imports, dated before vB-02's labels (2026-01-25): they are covered
    record_training(ws, "vB-02", "digits", "1.0.0", "session", 0.9, True, dt.date(2026, 1, 20))
    found = manifest(ws, "digits")
    expected = impact(ws, "digits", "digits").to_json()
    ours = queries.impact(spark, ws, engine.current(found, spark, None), "digits")

    assert ours == {key: expected[key] for key in ours}
    assert expected["by_reason"]["untrained"] == 0  # was 7 (see test_trace_impact_counts)


def test_majority_resolution(read, spark):
    from labelspec.resolve.resolution import resolve

    columns = [
        "item_id",
        "class",
        "confidence",
        "status",
        "method",
        "voters",
        "labelers",
        "label_ids",
    ]
    expected = resolve(read.ws, "digits", "majority").table.select(columns).to_pylist()
    ours = arrow(queries.majority(spark, read.current)).sort_by("item_id").to_pylist()

    assert ours == expected
    ties = [r["item_id"] for r in ours if r["status"] == "tie"]
    # d02: the relabel's vA-01 (two) against vA-02's three, the only votes the relabel left;
    # d03, d04: vA-02 and vB-02 against vA-01 and vB-01
    assert ties == ["d02.png", "d03.png", "d04.png"]
    assert [r["class"] for r in ours if r["status"] == "tie"] == [None, None, None]


@pytest.mark.parametrize("labels", ["delivered", "current"])
def test_bakeoff_accuracy_per_source(read, spark, labels):
    from labelspec.guideline.releases import spec_at
    from labelspec.qa.bakeoff import bakeoff
    from labelspec.qa.current import golden_at

    report = bakeoff(read.ws, "digits", boot=0, labels=labels)
    gold, version = golden_at(read.ws, "digits", "golden", read.manifest.commit)
    classes = spec_at(read.ws, "digits", version.guideline_version).class_ids

    ours = queries.accuracy(spark, read.manifest, read.rows, read.current, gold, classes, labels)

    for source, figures in report["sources"].items():
        assert ours[source] == {k: figures[k] for k in ("n", "correct", "accuracy", "items")}
    if labels == "delivered":  # vendor-a: vA-02 wrong on d00..d04 of 20 golden labels
        assert ours["vendor-a"] == {"n": 20, "correct": 15, "accuracy": 0.75, "items": 10}


def test_a_small_superseded_set_is_broadcast(history, spark):
    found = manifest(Workspace(history), "digits")

    plan = engine.plan_of(engine.current(found, spark))

    assert "BroadcastHashJoin" in plan
    assert "LeftAnti" in plan


def test_a_large_superseded_set_is_shuffled_by_item(history, spark):
    found = manifest(Workspace(history), "digits")

    frame = engine.current(found, spark, broadcast_max=10)  # 11 superseded: "large"

    plan = engine.plan_of(frame)
    assert "SortMergeJoin [item_id" in plan
    exchanges = re.findall(r"Exchange hashpartitioning\(([^)]*)\)", plan)
    assert exchanges and all(re.fullmatch(r"item_id#\d+, \d+", e) for e in exchanges)
    ours = arrow(frame).cast(LABEL_SCHEMA).sort_by(ORDER)
    assert ours.equals(Workspace(history).labels("digits").cast(LABEL_SCHEMA))


def test_nothing_superseded_means_no_join(history, spark):
    found = manifest(Workspace(history), "digits", "HEAD~2")  # before the relabel

    plan = engine.plan_of(engine.current(found, spark))

    assert "Join" not in plan
    assert engine.current(found, spark).count() == 70
