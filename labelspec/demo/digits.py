"""The 8x8 handwritten digits (UCI optdigits, as shipped by scikit-learn) rendered as images.

They feed the example guideline and the demo dataset, so both work offline with real
handwriting. Source: E. Alpaydin and C. Kaynak, "Optical Recognition of Handwritten Digits",
UCI Machine Learning Repository (CC BY 4.0), the 1,797-image test set bundled with scikit-learn.
"""

from __future__ import annotations

import gzip
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

CLASS_IDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
IMAGE_PX = 96


@cache
def load() -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 [n, 8, 8] in 0..16, targets int [n])."""
    data = resources.files("labelspec") / "data" / "digits.csv.gz"
    with data.open("rb") as raw, gzip.open(raw, "rt") as handle:
        table = np.loadtxt(handle, delimiter=",", dtype=np.int64)
    return table[:, :64].reshape(-1, 8, 8).astype(np.uint8), table[:, 64]


def render(pixels: np.ndarray, size: int = IMAGE_PX):
    """Dark ink on white paper, smoothly upscaled from 8x8 (a Pillow image)."""

    ink = (255 - pixels.astype(np.float64) * (255 / 16)).clip(0, 255).astype(np.uint8)
    small = Image.fromarray(ink, mode="L")
    big = small.resize((size, size), Image.Resampling.BICUBIC)
    return big.filter(ImageFilter.GaussianBlur(radius=size / 64))


def save_png(index: int, path: Path, size: int = IMAGE_PX) -> None:
    images, _ = load()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Fixed PNG settings so the same digit always gives the same bytes (stable digests).
    render(images[index], size).save(path, format="PNG", optimize=False, compress_level=9)
