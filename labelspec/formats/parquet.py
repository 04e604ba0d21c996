"""Parquet export: the current label rows with every lineage column, for training jobs."""

from __future__ import annotations

from pathlib import Path

from labelspec.store.batches import write_parquet


def write(labels, items, spec, out: Path, snapshot: str | None = None) -> int:

    write_parquet(labels, Path(out))
    return labels.num_rows
