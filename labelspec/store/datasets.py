"""Datasets declared in ``labelspec.yaml``: each binds a folder under ``datasets/`` to a guideline."""

from __future__ import annotations

import re

from ruamel.yaml.comments import CommentedMap

from labelspec import yamlio
from labelspec.errors import LabelspecError, NotFoundError
from labelspec.vcs import Git
from labelspec.workspace import Workspace

DATASET_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def dataset_guideline(ws: Workspace, dataset: str) -> str:
    """The guideline a declared dataset is labeled under."""
    config = ws.config
    if dataset not in config.datasets:
        known = ", ".join(sorted(config.datasets)) or "none"
        raise NotFoundError(
            f"no dataset {dataset!r} in labelspec.yaml (known: {known}; `labelspec items add` declares one)"
        )
    return config.datasets[dataset].guideline


def ensure_dataset(
    ws: Workspace, dataset: str, guideline: str | None, git: Git, commit: bool = True
) -> str:
    """Declare ``dataset`` in labelspec.yaml if needed; returns its guideline."""
    if not DATASET_NAME.match(dataset):
        raise LabelspecError(
            f"dataset name {dataset!r}: use lower-case letters, digits, '-' and '_'"
        )
    config = ws.config
    if dataset in config.datasets:
        bound = config.datasets[dataset].guideline
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
    doc = yamlio.Document.load(ws.config_path)
    if doc.data.get("datasets") is None:
        doc.data["datasets"] = CommentedMap()
    doc.data["datasets"][dataset] = CommentedMap(guideline=guideline)
    doc.save()
    if commit:
        git.commit(f"labelspec: declare dataset {dataset} ({guideline})", paths=[ws.config_path])
    return guideline
