"""``labels export``: the current labels of a snapshot, for a labeling tool or a training job."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labelspec.workspace import Workspace


def export(
    ws: Workspace,
    dataset: str,
    fmt: str,
    out: Path | str,
    snapshot: str | None = None,
    resolve_method: str | None = None,
    min_confidence: float = 0.0,
) -> dict[str, Any]:
    """Write the current labels of a snapshot for a tool or a training job; with
    ``resolve_method``, one resolved label per item (``labelspec.resolve``)."""
    from labelspec import formats
    from labelspec.guideline.releases import spec_at
    from labelspec.semver import Version
    from labelspec.store.datasets import dataset_guideline
    from labelspec.store.items import read_items
    from labelspec.store.query import current_labels
    from labelspec.store.snapshots import snapshot as snapshot_at

    writer = formats.get(fmt, writing=True)
    out = Path(out)
    chosen = snapshot_at(ws, dataset, snapshot)
    if resolve_method:
        from labelspec.resolve import resolve
        from labelspec.resolve.export import as_labels

        resolved = resolve(
            ws, dataset, resolve_method, snapshot=chosen.commit, min_confidence=min_confidence
        )
        labels = as_labels(ws, resolved)
    else:
        labels = current_labels(ws, dataset, chosen)
    versions = set(labels.column("guideline_version").to_pylist())
    latest = max(versions, key=Version.parse) if versions else None
    spec = spec_at(ws, dataset_guideline(ws, dataset), latest)
    items = read_items(ws, dataset, rev=chosen.commit)
    count = writer.write(labels, items, spec, out, snapshot=chosen.name)
    return {
        "dataset": dataset,
        "snapshot": chosen.name,
        "format": fmt,
        "out": str(out),
        "labels": labels.num_rows,
        "written": count,
        "resolved_by": resolve_method,
    }
