"""`make bench` keeps running: its helpers and the engines, qa and site benchmarks, at a tiny
size. The benchmarks build workspaces with their own shortcuts (batches written without an
import, a guideline replaced wholesale); a change to the label schema, the store or the checks
that breaks them fails here, not in an hour-long run."""

from __future__ import annotations

import json

import pytest

from benchmarks import bench_engines, bench_qa, bench_site, common
from labelspec.store.schema import LABEL_SCHEMA
from labelspec.workspace import Workspace

# see tests/engines/test_spark.py: pyspark leaves its result socket to the garbage collector
pytestmark = pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning")


@pytest.fixture
def bench_dir(tmp_path, monkeypatch):
    """The benchmarks' workspaces and results in ``tmp_path`` (never benchmarks/results)."""
    for module in (common, bench_engines, bench_qa, bench_site):
        monkeypatch.setattr(module, "OUT", tmp_path / "bench")
    monkeypatch.setattr(common, "RESULTS", tmp_path / "results")
    return tmp_path / "bench"


def test_a_label_batch_has_the_label_schema():
    import numpy as np

    table = common.label_batch(
        "b-20260201T000001Z-00000001", 5, 20, {}, "d" * 64, np.random.default_rng(0)
    )

    assert table.schema == LABEL_SCHEMA
    assert table.column("annotation_key").null_count == 0


def test_a_small_history_is_a_workspace_labelspec_reads_and_verifies(bench_dir, run):
    root = common.fresh_workspace(bench_dir / "ws")
    training = common.add_labelers(root)
    common.add_items(root, 200)
    common.history(root, 3, 50, 200, training)

    shown = json.loads(run("labels", "show", "digits", "--json", cwd=root).stdout)
    assert (shown["batches"], shown["labels"]) == (3, 150)
    assert json.loads(run("verify", "--json", cwd=root).stdout)["ok"] is True


def test_the_manifest_benchmark_at_50_batches(bench_dir):
    result = bench_engines.manifest_bench(50)

    assert result["batches"] == 50
    assert result["labelspec_warm_s"] > 0 and result["git_records_floor_s"] > 0


def test_the_engines_benchmark_at_3_batches(bench_dir, spark):
    result = bench_engines.engines_bench(3, superseded=500, n_items=20_000, spark=spark)

    assert (result["labels"], result["superseded"]) == (30_500, 500)
    assert result["current_labels"]["rows"] == 30_000  # 500 answers replace 500 labels
    assert Workspace(bench_dir / "ws-engines-3").labels("digits").num_rows == 30_000


def test_the_qa_benchmark_at_3_batches(bench_dir, monkeypatch):
    monkeypatch.setattr(bench_qa, "N_ITEMS", 300)
    monkeypatch.setattr(bench_qa, "BATCHES", 3)
    monkeypatch.setattr(bench_qa, "PER_BATCH", 100)

    result = bench_qa.run()  # asserts labelspec's figures equal the baseline's

    assert result["agreement"]["items"] > 0


def test_the_site_benchmarks_guideline_is_released_and_builds(bench_dir, monkeypatch, run):
    monkeypatch.setattr(bench_site, "CLASSES", 2)
    root = bench_dir / "ws-site"

    bench_site._guideline(root)

    assert run("check", cwd=root).stdout.startswith("ok: 0 error(s)")
    run("site", "build", "--out", str(bench_dir / "site"), cwd=root)
    assert (bench_dir / "site/index.html").is_file()
