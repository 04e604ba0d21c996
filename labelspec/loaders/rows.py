"""Row helpers the loaders share: where items start, and item paths that stay in the cache."""

from __future__ import annotations

from pathlib import PurePosixPath

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from labelspec.errors import InputError


def starts(item_ids: pa.ChunkedArray) -> np.ndarray:
    """True on the first row of each item (an item's rows are consecutive)."""
    if len(item_ids) == 0:
        return np.zeros(0, bool)
    changed = pc.not_equal(item_ids[1:], item_ids[:-1]).to_numpy(zero_copy_only=False)
    return np.r_[True, changed]


def safe_path(path: str | None) -> str:
    """A workspace-relative path that stays inside the cache folder."""
    if path is None:
        raise InputError(
            "an item of the training set has no file in the workspace, only a uri: fetch it "
            "from its uri"
        )
    parts = PurePosixPath(path).parts
    if not parts or PurePosixPath(path).is_absolute() or ".." in parts:
        raise InputError(f"item path {path!r} is not relative to the workspace")
    return path
