"""Pin a training set: resolve a dataset (``labelspec.resolve.trainset``), then store the table
and its record once under a name (``labelspec.store.trainsets``) in one commit and tag."""

from __future__ import annotations

import datetime as dt
import json

from labelspec import names
from labelspec.repo import Repo
from labelspec.resolve import IOU_THRESHOLD, splits
from labelspec.resolve.trainset import build
from labelspec.store.batches import new_batch_id, write_parquet_hashed
from labelspec.store.records import DATA_SUFFIX
from labelspec.store.trainsets import (
    IGNORE,
    Trainset,
    check_name,
    refuse_existing,
    tag_name,
    trainsets_dir,
)
from labelspec.transaction import transaction


def create_trainset(
    ws: Repo,
    name: str,
    dataset: str,
    method: str = "majority",
    snapshot: str | None = None,
    min_confidence: float = 0.0,
    golden: str | None = None,
    fallback: str = "majority",
    iou: float | None = None,
    message: str | None = None,
    split: str | None = None,
    seed: int = 0,
    split_by: str | None = None,
    golden_into: str = "eval",
    suspect: str = "exclude",
) -> Trainset:
    """Resolve ``dataset`` at ``snapshot`` by ``method`` and pin the result as ``name``: one file,
    its record, one commit and the tag ``trainset/<name>``. Items below ``min_confidence`` (or
    tied), and by default items suspect under the newest release, stay out and are counted;
    golden items form the ``eval`` split (``labelspec.resolve.trainset``); the rest are split
    by ``split`` (``train=0.8,val=0.2``) and ``seed``, or by the item column ``split_by``."""
    check_name(name)
    if message:
        names.note(message, "--message")
    plan = splits.plan(split, seed, split_by)
    git = ws.git
    refuse_existing(ws, git, name)
    built = build(
        ws, dataset, method, snapshot, min_confidence, golden, fallback,
        IOU_THRESHOLD if iou is None else iou, plan, golden_into, suspect,
    )  # fmt: skip
    resolved, table = built.resolved, built.table
    figures = built.figures
    counts = resolved.counts()
    record = {
        "kind": "trainset",
        "name": name,
        "dataset": dataset,
        "guideline": resolved.guideline,
        "task": resolved.task,
        "method": method,
        "parameters": resolved.parameters,
        "min_confidence": min_confidence,
        "snapshot": resolved.snapshot,
        "revision": resolved.commit,
        "decided_items": counts["items"],
        "ties": counts["ties"],
        "low_confidence": counts["low_confidence"],
        "suspect_items": counts["suspect_items"],
        "labeler_quality": resolved.labeler_quality,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        **figures,
    }
    summary = (
        f"trainset {name}: {record['rows']} labels on {record['items']} items of {dataset}, "
        f"{method} at {resolved.snapshot}"
    )
    folder = trainsets_dir(ws)
    with transaction(ws, summary + (f"\n\n{message}" if message else "")) as tx:
        refuse_existing(ws, tx.git, name)  # another writer may have taken it meanwhile
        if not (folder / ".gitignore").is_file():
            tx.write_text(folder / ".gitignore", IGNORE)
        set_id = "t" + new_batch_id()[1:]
        path = tx.new_file(folder / name / f"{set_id}{DATA_SUFFIX}")
        hashes = write_parquet_hashed(
            table, path, {"labelspec.trainset": name, "labelspec.dataset": dataset}
        )
        meta = tx.track(path, record, hashes)
        tx.tag(tag_name(name), f"{summary}\n\n{json.dumps(meta, sort_keys=True)}\n")
    return Trainset.from_meta(meta, file=ws.relpath(path), commit=tx.commit, tagged=True)
