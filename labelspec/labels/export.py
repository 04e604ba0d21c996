"""``labels export``: the current labels of a snapshot, for a labeling tool or a training job."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labelspec import formats
from labelspec.errors import InputError
from labelspec.formats.labelstudio_config import image_sources, labeling_config
from labelspec.guideline.instructions import published_url
from labelspec.guideline.releases import spec_at
from labelspec.labels.ingest import load_labeler_map
from labelspec.repo import Repo
from labelspec.resolve.export import as_labels
from labelspec.resolve.resolution import resolve
from labelspec.semver import Version
from labelspec.store.datasets import dataset_guideline
from labelspec.store.items import read_items
from labelspec.store.query import current_labels
from labelspec.store.snapshots import snapshot as snapshot_at
from labelspec.yamlio import atomic_write_text


def export(
    ws: Repo,
    dataset: str,
    fmt: str,
    out: Path | str,
    snapshot: str | None = None,
    resolve_method: str | None = None,
    min_confidence: float = 0.0,
    labeler_map: Path | str | None = None,
    image_url: str | None = None,
    local_files: Path | str | None = None,
) -> dict[str, Any]:
    """Write the current labels of a snapshot for a tool or a training job; with
    ``resolve_method``, one resolved label per item (``labelspec.resolve``).

    Label Studio also gets its labeling config beside ``out`` (``<stem>.labeling-config.xml``)
    and, with ``labeler_map`` (the one imports use, tool user id -> labeler), ``completed_by``;
    ``image_url`` / ``local_files`` say where the server finds the images, as for ``relabel
    plan``."""

    writer = formats.get(fmt, writing=True)
    out = Path(out)
    if labeler_map and fmt != "labelstudio":
        raise InputError("--labeler-map is for --format labelstudio (its completed_by user ids)")
    if (image_url or local_files is not None) and fmt != "labelstudio":
        raise InputError(
            "--image-url and --labelstudio-local-files are for --format labelstudio (task image URLs)"
        )
    image_source = image_sources(ws.root, image_url, local_files)
    chosen = snapshot_at(ws, dataset, snapshot)
    if resolve_method:
        resolved = resolve(
            ws, dataset, resolve_method, snapshot=chosen.commit, min_confidence=min_confidence
        )
        labels = as_labels(ws, resolved)
    else:
        labels = current_labels(ws, dataset, chosen)
    # a resolved "no objects" row citing no label has no version
    versions = set(labels.column("guideline_version").to_pylist()) - {None}
    latest = max(versions, key=Version.parse) if versions else None
    spec = spec_at(ws, dataset_guideline(ws, dataset), latest)
    items = read_items(ws, dataset, rev=chosen.commit)
    extra: dict[str, Any] = {}
    files = [str(out)]
    if fmt == "labelstudio":
        if labeler_map:
            extra["completed_by"] = _reversed_map(Path(labeler_map))
        if image_source is not None:
            extra["image_source"] = image_source
        files.append(str(out.parent / f"{out.stem}.labeling-config.xml"))
    count = writer.write(labels, items, spec, out, snapshot=chosen.name, **extra)
    if fmt == "labelstudio":  # written once the tasks are: a refused export leaves no file
        atomic_write_text(Path(files[1]), labeling_config(spec, published_url(ws)))
    return {
        "files": files,
        "dataset": dataset,
        "snapshot": chosen.name,
        "format": fmt,
        "out": str(out),
        "labels": labels.num_rows,
        "written": count,
        "resolved_by": resolve_method,
    }


def _reversed_map(path: Path) -> dict[str, int | str]:
    """labeler id -> the tool's user id (an int when it is one: Label Studio wants ids as
    numbers), from a labeler map; a labeler with two tool ids gets the first."""

    reverse: dict[str, int | str] = {}
    for user, labeler in load_labeler_map(path).items():
        reverse.setdefault(labeler, int(user) if user.isdigit() else user)
    return reverse
