"""Datasets: each binds a folder under ``datasets/`` to the guideline it is labeled under.

A dataset is declared by its own file, ``datasets/<name>/dataset.yaml`` (``guideline: NAME``), so
two clones that each create a dataset add different files. Datasets listed under ``datasets:``
in ``labelspec.yaml`` (what ``labelspec init`` writes for its example) count too.
"""

from __future__ import annotations

import difflib
import re

from labelspec.errors import LabelspecError, NotFoundError
from labelspec.workspace import DatasetConfig, Workspace

DATASET_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
DECLARATION = "dataset.yaml"


def declared(ws: Workspace) -> dict[str, DatasetConfig]:
    """Every declared dataset: labelspec.yaml's, then one per ``datasets/*/dataset.yaml``."""
    from pydantic import ValidationError

    from labelspec.yamlio import fast_load

    found = dict(ws.config.datasets)
    if ws.datasets_dir.is_dir():
        for path in sorted(ws.datasets_dir.glob(f"*/{DECLARATION}")):
            try:
                found.setdefault(
                    path.parent.name, DatasetConfig.model_validate(fast_load(path.read_text()))
                )
            except ValidationError as exc:
                raise LabelspecError(
                    f"{ws.relpath(path)}: {exc.errors()[0]['msg']} (it holds `guideline: NAME`)"
                ) from exc
    return found


def dataset_guideline(ws: Workspace, dataset: str) -> str:
    """The guideline a declared dataset is labeled under."""
    known = declared(ws)
    if dataset not in known:
        close = difflib.get_close_matches(dataset, list(known), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise NotFoundError(
            f"no dataset {dataset!r} ({hint}known: {', '.join(sorted(known)) or 'none'}; "
            "`labelspec items add DATASET SOURCE --guideline NAME` declares one)"
        )
    return known[dataset].guideline


def ensure_dataset(ws: Workspace, dataset: str, guideline: str | None, tx) -> str:
    """Declare ``dataset`` (inside the caller's transaction) if needed; returns its guideline."""
    if not DATASET_NAME.match(dataset):
        raise LabelspecError(
            f"dataset name {dataset!r}: use lower-case letters, digits, '-' and '_'"
        )
    known = declared(ws)
    if dataset in known:
        bound = known[dataset].guideline
        if guideline and guideline != bound:
            raise LabelspecError(
                f"dataset {dataset!r} is labeled under guideline {bound!r}, not {guideline!r}"
            )
        return bound
    names = ws.guideline_names()
    if guideline is None:
        if len(names) != 1:
            raise LabelspecError(
                f"say which guideline dataset {dataset!r} is labeled under: --guideline NAME"
            )
        guideline = names[0]
    ws.spec_path(guideline)
    tx.write_text(
        ws.dataset_dir(dataset) / DECLARATION,
        f"# Declared by labelspec: the guideline this dataset is labeled under.\nguideline: {guideline}\n",
    )
    return guideline
