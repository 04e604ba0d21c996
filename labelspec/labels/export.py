"""``labels export``: the current labels of a snapshot, for a labeling tool or a training job."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labelspec.errors import LabelspecError
from labelspec.workspace import Workspace

EXPORT_FORMATS = ("coco", "labelstudio", "jsonl", "parquet")


def export(
    ws: Workspace, dataset: str, fmt: str, out: Path | str, snapshot: str | None = None
) -> dict[str, Any]:
    """Write the current labels of a snapshot for a tool or a training job."""
    from labelspec.guideline.releases import spec_at
    from labelspec.store.batches import write_parquet
    from labelspec.store.datasets import dataset_guideline
    from labelspec.store.items import read_items
    from labelspec.store.query import current_labels
    from labelspec.store.snapshots import snapshot as snapshot_at

    if fmt not in EXPORT_FORMATS:
        raise LabelspecError(
            f"unknown export format {fmt!r}: choose one of {', '.join(EXPORT_FORMATS)}"
        )
    out = Path(out)
    chosen = snapshot_at(ws, dataset, snapshot)
    labels = current_labels(ws, dataset, chosen)
    if fmt == "parquet":
        write_parquet(labels, out)
        count = labels.num_rows
    elif fmt == "jsonl":
        from labelspec.formats.jsonl import write_jsonl

        count = write_jsonl(labels, out)
    else:
        import importlib

        guideline = dataset_guideline(ws, dataset)
        from labelspec.semver import Version

        versions = set(labels.column("guideline_version").to_pylist())
        spec = spec_at(ws, guideline, max(versions, key=Version.parse) if versions else None)
        writer = importlib.import_module(f"labelspec.formats.{fmt}").write
        count = writer(
            labels, read_items(ws, dataset, rev=chosen.commit), spec, out, snapshot=chosen.name
        )
    return {
        "dataset": dataset,
        "snapshot": chosen.name,
        "format": fmt,
        "out": str(out),
        "labels": labels.num_rows,
        "written": count,
    }
