"""A pinned training set where a model trains: its table, its item files, and loaders for
Hugging Face ``datasets`` and PyTorch.

    ts = labelspec.open_trainset("git@host:team/labels.git", "streets-v1",
                                 remote_config={"url": "s3://bucket/labels", ...})
    ts.files()                       # item_id -> local path, fetched from the DVC remote once
    ts.to_hf()                       # datasets.DatasetDict by split, an Image feature
    ts.torch_dataset("train")        # map-style: (PIL image, target dict) per item

Item files are read where they are when the source is a workspace folder that holds them, else
fetched from the DVC remote (``dvc_filesystem``) at the revision the set was resolved at, into
``cache_dir`` (default ``$XDG_CACHE_HOME/labelspec/trainsets/<name>-<sha256[:12]>``), each once.

Boxes in the table are pixels, top-left x, y, width, height (COCO's convention). The HF loader
keeps that (``objects.bbox``); the PyTorch dataset gives what torchvision's detection models
take: ``boxes`` as corners x1, y1, x2, y2 clipped to the image, float32, and ``labels`` as
``class_index + 1`` (int64; torchvision keeps 0 for the background), so ``num_classes`` is
``len(ts.classes) + 1``. A background image (a resolved "no objects" item) is an item with no
boxes. Tensors when torch is installed, numpy arrays otherwise; torch is never required.
"""

from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from labelspec.errors import InputError, NotFoundError
from labelspec.loaders.rows import safe_path, starts
from labelspec.repo import Repo
from labelspec.resolve.splits import ordered
from labelspec.store.trainsets import (
    Trainset,
    get_trainset,
    load_trainset,
    read_pinned,
)
from labelspec.vcs import dvc_errors, dvc_filesystem

IMAGE_TASKS = ("classification", "multilabel", "detection")


def open_trainset(
    url_or_path: str | Path,
    name: str,
    rev: str | None = None,
    remote: str | None = None,
    remote_config: dict[str, Any] | None = None,
    cache_dir: str | Path | None = None,
) -> TrainingSet:
    """Training set ``name`` of the repository at ``url_or_path`` (a git URL or a workspace
    folder), with no clone of your own and no ``dvc pull``: the tag ``trainset/<name>`` (or
    ``rev``) names the commit and DVC reads the files from the DVC remote the repository
    names, from ``remote`` (another remote of its config) or from the one ``remote_config``
    describes (``{"url": "s3://bucket/labels", "endpointurl": ...}``, the settings of ``dvc
    remote add``)."""
    record, table = read_pinned(url_or_path, name, rev, remote, remote_config)
    folder = Path(url_or_path)
    root = folder.resolve() if folder.is_dir() and (folder / ".dvc").is_dir() else None
    source = FileSource(str(url_or_path), record.revision, remote, remote_config, root)
    return TrainingSet(record, table, source, _cache(cache_dir, record))


def workspace_trainset(ws: Repo, name: str, cache_dir: str | Path | None = None) -> TrainingSet:
    """Training set ``name`` of a workspace (``ws.trainset(name)`` as a table)."""
    record = get_trainset(ws, name)
    source = FileSource(str(ws.root), record.revision, None, None, ws.root)
    return TrainingSet(record, load_trainset(ws, name), source, _cache(cache_dir, record))


def _cache(cache_dir: str | Path | None, record: Trainset) -> Path:
    if cache_dir is not None:
        return Path(cache_dir)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "labelspec" / "trainsets" / f"{record.name}-{record.sha256[:12]}"


@dataclass
class FileSource:
    """Where a set's item files come from: a workspace folder that holds them (``root``), else
    the repository's DVC remote at the revision the set was resolved at."""

    url: str
    rev: str
    remote: str | None = None
    remote_config: dict[str, Any] | None = None
    root: Path | None = None

    def fetch(self, paths: list[str], cache: Path) -> dict[str, Path]:
        """path -> a local file for each workspace-relative ``path``; what is neither in the
        workspace nor in ``cache`` comes from the DVC remote, in one batch."""
        found: dict[str, Path] = {}
        missing = []
        for rel in paths:
            here = self.root / rel if self.root is not None else None
            if here is not None and here.is_file():
                found[rel] = here
            elif (cache / rel).is_file():
                found[rel] = cache / rel
            else:
                missing.append(rel)
        if missing:
            found.update(self._download(missing, cache))
        return found

    def _download(self, paths: list[str], cache: Path) -> dict[str, Path]:
        # into a folder of its own first: an interrupted download never looks like a file
        partial = cache / f".partial-{secrets.token_hex(4)}"
        targets = [partial / rel for rel in paths]
        for target in targets:
            target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with dvc_errors(self.url, self.rev):
                fs = dvc_filesystem(self.url, self.rev, self.remote, self.remote_config)
                try:
                    fs.get(list(paths), [str(t) for t in targets])
                except FileNotFoundError as exc:
                    raise NotFoundError(
                        f"an item file of the training set is not in {self.url} at "
                        f"{self.rev[:10]} nor in its DVC remote ({exc}); was it pushed?"
                    ) from exc
                finally:
                    fs.close()
            placed = {}
            for rel, target in zip(paths, targets, strict=True):
                final = cache / rel
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(target, final)
                placed[rel] = final
            return placed
        finally:
            shutil.rmtree(partial, ignore_errors=True)


class TrainingSet:
    """A pinned training set: its record, its table (``TRAINSET_SCHEMA``) and its loaders."""

    def __init__(self, record: Trainset, table: pa.Table, source: FileSource, cache: Path):
        self.record = record
        self.table = table
        self.source = source
        self.cache_dir = cache

    def __repr__(self) -> str:
        counts = ", ".join(
            f"{s} {self.record.splits.get(s, {}).get('items', '?')}" for s in self.splits
        )
        return f"TrainingSet({self.name!r}, {self.record.task}, items: {counts})"

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def task(self) -> str:
        return self.record.task

    @property
    def classes(self) -> list[str]:
        """Class ids by ``class_index``."""
        return list(self.record.classes)

    @property
    def splits(self) -> list[str]:
        """The splits the set has: train, val, test, eval first, then others by name."""
        return ordered(pc.unique(self._column("split")).to_pylist())

    def split(self, name: str) -> pa.Table:
        """The rows of one split, items in order."""
        if name not in self.splits:
            raise NotFoundError(
                f"training set {self.name!r} has no split {name!r} (splits: {', '.join(self.splits)})"
            )
        return self.table.filter(pc.equal(self._column("split"), name))

    def items(self, split: str | None = None) -> pa.Table:
        """One row per item (item_id, split, path, width, height), in the table's order."""
        rows = self.table if split is None else self.split(split)
        self._column("path")
        first = np.flatnonzero(starts(rows.column("item_id")))
        return rows.select(["item_id", "split", "path", "width", "height"]).take(first)

    def files(self, split: str | None = None) -> dict[str, Path]:
        """item_id -> a local path of its file, for every item (of ``split``); what is not
        here yet is fetched from the DVC remote once, in one batch."""
        items = self.items(split)
        paths = items.column("path")
        if paths.null_count:
            lacking = items.filter(pc.is_null(paths)).column("item_id").to_pylist()
            raise InputError(
                f"{len(lacking)} item(s) of {self.name!r} have no file in the workspace, only a "
                f"uri (e.g. {lacking[0]}): fetch those from their uri"
            )
        rels = [safe_path(p) for p in paths.to_pylist()]
        local = self.source.fetch(sorted(set(rels)), self.cache_dir)
        return dict(zip(items.column("item_id").to_pylist(), (local[r] for r in rels), strict=True))

    def to_hf(self, splits: list[str] | None = None):
        """A ``datasets.DatasetDict`` with one ``Dataset`` per split (an ``Image`` feature
        ``image``, ``item_id``, ``width``, ``height``, and ``objects`` {bbox [x, y, w, h] px,
        category, area} for detection, ``label`` for classification, ``labels`` for
        multilabel). Needs the optional ``datasets`` package."""
        try:
            import datasets  # lazy: optional dependency
        except ImportError:
            raise InputError(
                "to_hf() needs Hugging Face datasets, an optional dependency: pip install datasets"
            ) from None
        from labelspec.loaders.hf import split_dataset  # lazy: needs the optional datasets

        self._image_task("to_hf()")
        chosen = splits or self.splits
        files = self.files()
        return datasets.DatasetDict({name: split_dataset(self, name, files) for name in chosen})

    def torch_dataset(self, split: str = "train", transform=None):
        """A map-style dataset of one split for ``torch.utils.data.DataLoader``: ``len()`` items,
        ``ds[i]`` = ``(image, target)`` (see the module doc; ``transform(image, target)``, the
        torchvision.transforms.v2 convention, is applied when given). Detection batches need
        ``collate_fn=ItemDataset.collate``."""
        from labelspec.loaders.pytorch import ItemDataset  # lazy: imports torch when installed

        self._image_task("torch_dataset()")
        return ItemDataset(self, split, transform)

    def _image_task(self, what: str) -> None:
        if self.task not in IMAGE_TASKS:
            raise InputError(
                f"{what} loads images; {self.name!r} is a {self.task} set: read its table "
                "(spans in characters of each item's text)"
            )

    def _column(self, name: str) -> pa.ChunkedArray:
        if name not in self.table.column_names:
            raise InputError(
                f"training set {self.name!r} was pinned by an earlier labelspec, without the "
                f"{name!r} column the loaders need: pin it again (`labelspec trainset create`)"
            )
        return self.table.column(name)
