"""The PyTorch side of a training set: a map-style dataset of one split, item by item
(``labelspec.loaders`` says what the image and the target are). torch is imported only when
it is installed; without it the targets are numpy arrays."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow.compute as pc
from PIL import Image

from labelspec.loaders.rows import safe_path, starts

if TYPE_CHECKING:
    from labelspec.loaders import TrainingSet  # the loaders package imports this module


def _torch():
    """torch, when it is installed (never imported otherwise)."""
    if importlib.util.find_spec("torch") is None:
        return None
    import torch  # lazy: optional dependency

    return torch


class ItemDataset:
    """One split of a training set, item by item: ``(image, target)`` with ``image`` a PIL RGB
    image and ``target`` what the task's torchvision models take (module doc). The arrays are
    computed once, here; ``__getitem__`` reads one image."""

    def __init__(self, trainset: TrainingSet, split: str, transform=None):
        rows = trainset.split(split).sort_by("item_id")
        self.trainset, self.split, self.transform = trainset, split, transform
        self.task = trainset.task
        self.n_classes = len(trainset.classes)
        first = np.flatnonzero(starts(rows.column("item_id")))
        self._bounds = np.r_[first, rows.num_rows]
        items = rows.take(first)
        self.item_ids: list[str] = items.column("item_id").to_pylist()
        self._paths = [safe_path(p) for p in items.column("path").to_pylist()]
        self._size = np.column_stack(
            [items.column(c).to_numpy(zero_copy_only=False) for c in ("width", "height")]
        ).astype(np.float64)
        self._code = rows.column("class_index").fill_null(-1).to_numpy().astype(np.int64)
        bbox = rows.column("bbox")
        self._box = np.column_stack(
            [pc.struct_field(bbox, c).fill_null(0.0).to_numpy() for c in "xywh"]
        ).astype(np.float64)
        self._files: dict[str, Path] = {}

    def __len__(self) -> int:
        return len(self.item_ids)

    def __getitem__(self, index: int):
        if not -len(self) <= index < len(self):
            raise IndexError(f"item {index} of {len(self)}")
        index %= len(self)
        image = self._image(index)
        target = self.target(index)
        if self.transform is not None:
            return self.transform(image, target)
        return image, target

    def target(self, index: int) -> Any:
        """The target of item ``index`` alone (no image read)."""
        lo, hi = self._bounds[index], self._bounds[index + 1]
        code = self._code[lo:hi]
        code = code[code >= 0]
        torch = _torch()
        if self.task == "classification":
            return int(code[0]) if len(code) else -1
        if self.task == "multilabel":
            hot = np.zeros(self.n_classes, np.float32)
            hot[code] = 1.0
            return torch.from_numpy(hot) if torch else hot
        width, height = self._size[index]
        box = self._box[lo:hi][self._code[lo:hi] >= 0]
        corners = (
            np.column_stack(
                [
                    np.clip(box[:, 0], 0, width),
                    np.clip(box[:, 1], 0, height),
                    np.clip(box[:, 0] + box[:, 2], 0, width),
                    np.clip(box[:, 1] + box[:, 3], 0, height),
                ]
            )
            .astype(np.float32)
            .reshape(-1, 4)
        )
        target = {
            "boxes": corners,
            "labels": (code + 1).astype(np.int64),
            "image_id": np.int64(index),
            "area": ((corners[:, 2] - corners[:, 0]) * (corners[:, 3] - corners[:, 1])),
            "iscrowd": np.zeros(len(code), np.int64),
        }
        if torch:
            target = {k: torch.as_tensor(v) for k, v in target.items()}
        return target

    def _image(self, index: int):

        rel = self._paths[index]
        if rel not in self._files:
            self._files.update(self.trainset.source.fetch([rel], self.trainset.cache_dir))
        with Image.open(self._files[rel]) as image:
            return image.convert("RGB")

    @staticmethod
    def collate(batch: list) -> tuple:
        """Detection batches: a tuple of images and a tuple of targets (images differ in size)."""
        return tuple(zip(*batch, strict=True))
