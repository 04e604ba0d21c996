"""Shared setup for the benchmarks: synthetic workspaces at reference scale, and timing of a
command in a child process (wall time and peak RSS, each beside its baseline)."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parent
# Workspaces live outside this repository (a workspace inside it would join its git repo).
OUT = Path(os.environ.get("LABELSPEC_BENCH_DIR", Path(tempfile.gettempdir()) / "labelspec-bench"))
RESULTS = Path(os.environ.get("LABELSPEC_BENCH_RESULTS", ROOT / "results"))
# Every size is multiplied by this (``LABELSPEC_BENCH_SCALE``, default 1: reference scale); the
# test suite runs the whole harness at a tiny scale so it cannot rot (tests/engines/test_bench_smoke.py).
SCALE = float(os.environ.get("LABELSPEC_BENCH_SCALE", "1"))
CLASSES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
SOURCES = ["vendor-a", "vendor-b", "vendor-c"]
LABELERS = [f"v{s[-1].upper()}-{i:02d}" for s in SOURCES for i in range(10)]
SOURCE_OF = {labeler: f"vendor-{labeler[1].lower()}" for labeler in LABELERS}


def scaled(n: int, least: int = 1) -> int:
    """``n`` at ``SCALE``, never below ``least`` (a benchmark's smallest meaningful size)."""
    return max(least, int(n * SCALE))


def repeats(n: int) -> int:
    """Best of ``n`` runs at reference scale; one run below it (only checking that it runs)."""
    return n if SCALE >= 1 else 1


@dataclass
class Measure:
    seconds: float
    peak_rss_mb: float


def run_child(code: str, cwd: Path | None = None) -> Measure:
    """Run Python code in a fresh interpreter: its wall time and peak RSS.

    Peak RSS comes from GNU time (``/usr/bin/time -v``): ``getrusage(RUSAGE_CHILDREN)`` would
    count the parent's pages the child shares between fork and exec.
    """
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "DVC_NO_ANALYTICS": "1"}
    timer = shutil.which("time") or "/usr/bin/time"
    command = [sys.executable, "-c", code]
    if Path(timer).exists():
        command = [timer, "-v", *command]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode:
        raise RuntimeError(f"benchmark child failed:\n{done.stderr[-3000:]}")
    peak_kb = next(
        (
            int(line.split(":")[1])
            for line in done.stderr.splitlines()
            if "Maximum resident set size" in line
        ),
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    return Measure(elapsed, peak_kb / 1024)


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeats(repeat)):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def fresh_workspace(path: Path) -> Path:
    """A workspace from `labelspec init` with digits released as 1.0.0 and 1.1.0 (seven changed)."""
    from labelspec import yamlio
    from labelspec.guideline.release import release
    from labelspec.init import init
    from labelspec.workspace import Workspace

    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        shutil.rmtree(path)
    remote = path.with_name(path.name + ".dvc-storage")
    if remote.exists():
        shutil.rmtree(remote)
    init(path)
    spec = path / "guidelines/digits/spec.yaml"
    doc = yamlio.Document.load(spec)
    seven = next(c for c in doc.data["classes"] if c["id"] == "seven")
    seven["definition"] = "A top bar at least half the digit's width, joined to a diagonal stroke."
    doc.data["changelog"].append(
        {
            "version": "unreleased",
            "summary": "1 vs 7",
            "affects": ["one", "seven"],
            "relabel": "required",
        }
    )
    doc.save()
    subprocess.run(["git", "commit", "-qam", "1 vs 7"], cwd=path, check=True)
    release(Workspace(path), "digits", "minor")
    return path


def add_labelers(path: Path) -> dict[str, str]:
    """30 labelers across 3 vendors, trained on 1.0.0; returns labeler -> training id."""
    import json

    roster, records, ids = [], [], {}
    for n, labeler in enumerate(LABELERS):
        vendor = f"vendor-{labeler[1].lower()}"
        roster.append(
            {
                "event": "add",
                "id": labeler,
                "vendor": vendor,
                "team": None,
                "at": "2026-01-01T00:00:00+00:00",
            }
        )
        rid = f"tr-bench{n:06d}"
        ids[labeler] = rid
        records.append(
            {"id": rid, "labeler": labeler, "guideline": "digits", "version": "1.0.0",
             "date": "2026-01-02", "method": "session", "score": 0.9, "passed": True, "quiz": None}
        )  # fmt: skip
    for name, rows in (("roster", roster), ("training", records)):
        (path / f"labelers/{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    subprocess.run(["git", "commit", "-qam", "bench: labelers"], cwd=path, check=True)
    return ids


def add_items(path: Path, n_items: int) -> None:
    """Register ``n_items`` remote items directly (registration speed is not what we measure)."""
    from labelspec.store.batches import write_parquet
    from labelspec.store.schema import ITEM_BASE_SCHEMA
    from labelspec.transaction import transaction
    from labelspec.workspace import Workspace

    ids = np.char.add("item-", np.char.zfill(np.arange(n_items).astype(str), 7))
    rng = np.random.default_rng(1)
    table = pa.table(
        {
            "item_id": ids,
            "path": pa.nulls(n_items, pa.string()),
            "uri": np.char.add("s3://bench/", np.char.add(ids, ".png")),
            "sha256": pa.nulls(n_items, pa.string()),
            "bytes": pa.nulls(n_items, pa.int64()),
            "media": np.full(n_items, "image"),
            "width": np.full(n_items, 96, dtype=np.int32),
            "height": np.full(n_items, 96, dtype=np.int32),
            "text": pa.nulls(n_items, pa.string()),
        },
        schema=ITEM_BASE_SCHEMA,
    ).append_column("split", pa.array(rng.choice(["train", "val", "test"], n_items)))
    with transaction(Workspace(path), "bench: items") as tx:
        target = tx.new_file(path / "datasets/digits/manifests/i-20260101T000000Z-00000000.parquet")
        write_parquet(table, target)
        tx.track(
            target, {"kind": "items", "dataset": "digits", "items": n_items, "columns": ["split"]}
        )


def write_jsonl(out: Path, n: int, n_items: int, seed: int = 0) -> Path:
    """``n`` labels in labelspec JSONL, written in vectorised chunks."""
    rng = np.random.default_rng(seed)
    with out.open("w") as handle:
        for lo in range(0, n, 200_000):
            size = min(200_000, n - lo)
            index = np.arange(lo, lo + size)
            items = index % n_items
            # each item gets distinct labelers (one class per annotation), up to 30 per item
            labelers = (index // n_items + items) % len(LABELERS)
            lines = [
                f'{{"item_id": "item-{i:07d}", "labeler": "{LABELERS[lab]}", "class": "{CLASSES[c]}", "attributes": {{}}, '
                f'"created_at": "2026-02-0{1 + lab % 9}T10:00:00Z", "lead_time_s": {lt:.2f}, "cost": 0.03}}\n'
                for i, lab, c, lt in zip(
                    items,
                    labelers,
                    rng.integers(0, 10, size),
                    rng.lognormal(1.8, 0.4, size),
                    strict=True,
                )
            ]
            handle.writelines(lines)
    return out


def label_batch(
    batch_id: str,
    rows: int,
    n_items: int,
    training: dict[str, str],
    digest: str,
    rng,
    version: str = "1.0.0",
) -> pa.Table:
    """One synthetic batch in LABEL_SCHEMA: distinct items per batch, one label per annotation."""
    from labelspec.store.schema import LABEL_SCHEMA

    items = np.sort(rng.choice(n_items, rows, replace=False))
    item_ids = np.char.add("item-", np.char.zfill(items.astype(str), 7))
    labelers = np.array(LABELERS)[rng.integers(0, len(LABELERS), rows)]
    seq = np.char.zfill(np.arange(1, rows + 1).astype(str), 8)
    label_ids = np.char.add(f"{batch_id}-", seq)
    annotation_ids = np.char.add(f"a-{batch_id[-8:]}-", seq)
    sources = np.vectorize(SOURCE_OF.get)(labelers)
    return pa.table(
        {
            "label_id": label_ids,
            "item_id": item_ids,
            "dataset": np.full(rows, "digits"),
            "annotation_id": annotation_ids,
            "labeler_id": labelers,
            "training_id": np.vectorize(training.get)(labelers),
            "guideline": np.full(rows, "digits"),
            "guideline_version": np.full(rows, version),
            "guideline_digest": np.full(rows, digest),
            "class": np.array(CLASSES)[rng.integers(0, 10, rows)],
            "bbox": pa.nulls(rows, LABEL_SCHEMA.field("bbox").type),
            "span": pa.nulls(rows, LABEL_SCHEMA.field("span").type),
            "attributes": np.full(rows, "{}"),
            "created_at": pa.array(
                np.full(rows, np.datetime64("2026-02-01T10:00:00", "us")),
                pa.timestamp("us", tz="UTC"),
            ),
            "lead_time_s": rng.lognormal(1.8, 0.4, rows),
            "cost": np.full(rows, 0.03),
            "source": sources,
            "format": np.full(rows, "jsonl"),
            "source_ids": pa.nulls(rows, pa.string()),
            "batch_id": np.full(rows, batch_id),
            "supersedes": pa.nulls(rows, LABEL_SCHEMA.field("supersedes").type),
            "tool_fields": pa.nulls(rows, pa.string()),
            "annotation_key": np.char.add("bench:", annotation_ids),
        },
        schema=LABEL_SCHEMA,
    )


def history(
    path: Path,
    batches: int,
    rows_per_batch: int,
    n_items: int,
    training: dict[str, str],
    seed: int = 2,
    first: int = 1,
) -> None:
    """``batches`` batches of history with their records, committed at once (building 1,000 of
    them through 1,000 imports would only measure the setup)."""
    from labelspec.guideline.releases import releases
    from labelspec.store.batches import write_batch
    from labelspec.store.snapshots import labels_dir
    from labelspec.transaction import transaction
    from labelspec.workspace import Workspace

    ws = Workspace(path)
    digest = {r.version: r.digest for r in releases(ws, "digits")}
    rng = np.random.default_rng(seed)
    with transaction(ws, f"bench: {batches} batches") as tx:
        for n in range(first, first + batches):
            batch_id = f"b-20260201T{n // 3600:02d}{n // 60 % 60:02d}{n % 60:02d}Z-{n:08x}"
            version = "1.0.0" if n % 4 else "1.1.0"
            table = label_batch(
                batch_id, rows_per_batch, n_items, training, digest[version], rng, version
            )
            file = tx.new_file(labels_dir(ws, "digits") / f"{batch_id}.parquet")
            hashes = write_batch(table, file, {"labelspec.batch_id": batch_id})
            meta = {
                "kind": "labels", "dataset": "digits", "rows": rows_per_batch,
                "annotations": rows_per_batch, "items": rows_per_batch, "source": "bench",
                "format": "jsonl", "versions": [version], "supersedes": 0,
                "superseded_labels": 0, "plan": None, "created": batch_id.split("-")[1],
                "message": "bench",
            }  # fmt: skip
            tx.track(file, meta, hashes)


def save(name: str, result: dict) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
