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
RESULTS = ROOT / "results"
CLASSES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
SOURCES = ["vendor-a", "vendor-b", "vendor-c"]
LABELERS = [f"v{s[-1].upper()}-{i:02d}" for s in SOURCES for i in range(10)]
SOURCE_OF = {labeler: f"vendor-{labeler[1].lower()}" for labeler in LABELERS}


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
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def fresh_workspace(path: Path) -> Path:
    """A workspace from `labelspec init` with digits released as 1.0.0 and 1.1.0 (seven changed)."""
    from labelspec import yamlio
    from labelspec.guideline.releases import release
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
    from labelspec.labelers.records import _record_id

    from labelspec import yamlio

    roster, records, ids = [], [], {}
    for labeler in LABELERS:
        vendor = f"vendor-{labeler[1].lower()}"
        roster.append(f"  - {{id: {labeler}, vendor: {vendor}, active: true, added: 2026-01-01}}")
        rid = _record_id(labeler, "digits", "1.0.0", "2026-01-02", "session", 0)
        ids[labeler] = rid
        records.append(
            f"  - {{id: {rid}, labeler: {labeler}, guideline: digits, version: 1.0.0, date: 2026-01-02, method: session, score: 0.9, passed: true}}"
        )
    yamlio.atomic_write_text(
        path / "labelers/roster.yaml", "labelers:\n" + "\n".join(roster) + "\n"
    )
    yamlio.atomic_write_text(
        path / "labelers/training.yaml", "records:\n" + "\n".join(records) + "\n"
    )
    subprocess.run(["git", "commit", "-qam", "bench: labelers"], cwd=path, check=True)
    return ids


def add_items(path: Path, n_items: int) -> None:
    """Register ``n_items`` remote items directly (registration speed is not what we measure)."""
    from labelspec.store.batches import write_parquet
    from labelspec.store.schema import ITEM_BASE_SCHEMA
    from labelspec.vcs import Dvc, Git

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
    target = path / "datasets/digits/items.parquet"
    write_parquet(table, target)
    with Dvc(path) as dvc:
        dvc.add([target])
    with Git(path) as git:
        git.commit(
            "bench: items",
            paths=[target.with_name("items.parquet.dvc"), target.parent / ".gitignore"],
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
) -> None:
    """``batches`` batches of history, one snapshot each, committed at once (building 1,000
    snapshots through 1,000 imports would only measure the setup)."""
    from labelspec.guideline.releases import releases
    from labelspec.store.batches import write_batch
    from labelspec.store.snapshots import (
        BatchInfo,
        Manifest,
        Snapshot,
        dump_manifest,
        labels_dir,
        manifest_path,
        tag_name,
    )
    from labelspec.vcs import Dvc, Git
    from labelspec.workspace import Workspace
    from labelspec.yamlio import atomic_write_text

    ws = Workspace(path)
    digest = {r.version: r.digest for r in releases(ws, "digits")}
    rng = np.random.default_rng(seed)
    manifest = Manifest("digits")
    total = 0
    for n in range(1, batches + 1):
        batch_id = f"b-20260201T{n // 3600:02d}{n // 60 % 60:02d}{n % 60:02d}Z-{n:08x}"
        version = "1.0.0" if n % 4 else "1.1.0"
        table = label_batch(
            batch_id, rows_per_batch, n_items, training, digest[version], rng, version
        )
        file = labels_dir(ws, "digits") / f"{batch_id}.parquet"
        sha = write_batch(table, file, {"labelspec.batch_id": batch_id})
        manifest.batches[batch_id] = BatchInfo(
            batch_id,
            f"labels/{file.name}",
            sha,
            rows_per_batch,
            rows_per_batch,
            rows_per_batch,
            "bench",
            "jsonl",
            [version],
        )
        total += rows_per_batch
        manifest.snapshots.append(
            Snapshot(
                n,
                tag_name("digits", n),
                "2026-02-01T10:00:00+00:00",
                "bench",
                [batch_id],
                total,
                total,
            )
        )
    with Dvc(path) as dvc:
        dvc.add([labels_dir(ws, "digits")])
    atomic_write_text(manifest_path(ws, "digits"), dump_manifest(manifest))
    with Git(path) as git:
        folder = path / "datasets/digits"
        commit = git.commit(
            f"bench: {batches} batches",
            paths=[folder / "labels.dvc", folder / ".gitignore", manifest_path(ws, "digits")],
        )
        for snapshot in manifest.snapshots:
            git.repo.git.tag(snapshot.tag, commit)


def save(name: str, result: dict) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
