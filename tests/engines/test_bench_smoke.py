"""`make bench` keeps running: every benchmark through its real entry point (``python -m
benchmarks.run``) at a tiny scale (``LABELSPEC_BENCH_SCALE``), in a child process as ``make bench``
runs it. Only that it runs and what it counts are checked, never a timing. ``engines`` is left to
test_bench_helpers.py, which runs it with the session's one Spark session (a JVM of its own here
would cost more than every other benchmark together)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from benchmarks.run import PARTS
from labelspec.store.golden import add_golden
from labelspec.workspace import Workspace
from tests.conftest import REPO_ROOT
from tests.engines.conftest import item_id, true_class, write_jsonl

SCALE = "0.0001"  # 100 labels where the reference imports 1M; every size has a floor of its own


def _demo_like(history, tmp_path):
    """The engines' history with the demo's ``expert`` golden set: what bench_gitcalls runs its
    commands on, instead of building the demo (a minute)."""
    golden = write_jsonl(
        tmp_path / "expert.jsonl",
        [{"item_id": item_id(i), "class": true_class(i)} for i in range(10)],
    )
    add_golden(Workspace(history), "digits", golden, "jsonl", "expert")
    return history


def test_make_bench_runs_every_benchmark_at_a_tiny_scale(history, tmp_path):
    parts = [p for p in PARTS if p != "engines"]
    committed = {p: p.read_bytes() for p in (REPO_ROOT / "benchmarks/results").glob("*.json")}
    out, results = tmp_path / "bench", tmp_path / "results"
    env = {
        **os.environ,
        "LABELSPEC_BENCH_SCALE": SCALE,
        "LABELSPEC_BENCH_DIR": str(out),
        "LABELSPEC_BENCH_RESULTS": str(results),
        "LABELSPEC_BENCH_DEMO": str(_demo_like(history, tmp_path)),
    }
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", *parts],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr[-4000:]
    assert sorted(p.stem for p in results.glob("*.json")) == sorted(
        [
            "store",
            "trace",
            "import",
            "site",
            "qa",
            "resolve",
            "boxes",
            "gitcalls",
            "verify",
            "items",
        ]
    )
    figures = {p.stem: json.loads(p.read_text()) for p in results.glob("*.json")}
    # store: 10 batches of 10 labels (each size's floor), a 100-label import (1M x 0.0001)
    assert figures["store"]["show"]["labels"] == 10 * 10
    assert figures["store"]["import"]["labels"] == 100
    # import: 1M and 5M scaled to 100 and 500 labels
    assert [figures["import"][k]["labels"] for k in ("import_100", "import_500")] == [100, 500]
    # the same-output floor makes the import's annotation ids, label for label
    assert [figures["import"][k]["same_ids"] for k in ("import_100", "import_500")] == [True] * 2
    # ... also within the import's memory limit (its bound is part of the target)
    assert all(
        figures["import"][k]["same_output_bounded_s"] > 0 for k in ("import_100", "import_500")
    )
    assert figures["import"]["items_add"]["items"] == 10
    # trace reads the store benchmark's workspace: all 100 labels
    assert figures["trace"]["impact"]["labels"] == 100
    # qa: 3 batches of 50; site: 2 classes of 20 examples; resolve: 100 items, 10 votes each + 10
    assert figures["qa"]["labels"] == 150
    assert figures["site"]["images"] == 2 * 20
    assert figures["resolve"]["votes"] == 100 * 10 + 10
    assert set(figures["gitcalls"]["commands"]) >= {"verify", "labeler status", "qa bakeoff"}
    # items: 10 files (100,000 x 0.0001, floored at 10), added by labelspec and by dvc add
    assert figures["items"]["files"] == 10
    # verify: 24 commits of 10 labels, 4 of them on a merged side branch
    assert (figures["verify"]["batches"], figures["verify"]["labels"]) == (24, 240)
    # the reference figures in benchmarks/results are left alone
    assert {
        p: p.read_bytes() for p in (REPO_ROOT / "benchmarks/results").glob("*.json")
    } == committed
