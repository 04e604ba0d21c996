"""Drawn shape scenes for the detection template: real images, generated the same way every time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SIZE = 128

# name -> (shape kind, box (x, y, w, h), fill gray level, seed of the background noise)
SCENES: dict[str, tuple[str, tuple[int, int, int, int], int, int]] = {
    "circle_big": ("circle", (24, 24, 80, 80), 40, 1),
    "circle_small": ("circle", (70, 20, 30, 30), 60, 2),
    "circle_partly_hidden": ("circle", (-20, 40, 60, 60), 50, 3),
    "ellipse_wide": ("ellipse", (14, 40, 100, 46), 40, 4),
    "square_big": ("square", (30, 30, 70, 70), 70, 5),
    "square_tilted": ("diamond", (28, 28, 72, 72), 70, 6),
    "rectangle_long": ("rectangle", (10, 44, 108, 36), 70, 7),
    "triangle_up": ("triangle", (24, 20, 80, 80), 30, 8),
    "triangle_flat": ("triangle", (14, 64, 100, 40), 30, 9),
    "arrow_head": ("chevron", (30, 30, 68, 60), 30, 10),
}


def draw(kind: str, box: tuple[int, int, int, int], fill: int, seed: int):

    rng = np.random.default_rng(seed)
    noise = rng.normal(215, 12, size=(SIZE, SIZE)).clip(0, 255).astype(np.uint8)
    image = Image.fromarray(noise, mode="L").convert("RGB")
    pen = ImageDraw.Draw(image)
    x, y, w, h = box
    color = (fill, fill + 40, 200 - fill)
    if kind in ("circle", "ellipse"):
        pen.ellipse((x, y, x + w, y + h), fill=color, outline=(0, 0, 0), width=2)
    elif kind in ("square", "rectangle"):
        pen.rectangle((x, y, x + w, y + h), fill=color, outline=(0, 0, 0), width=2)
    elif kind == "diamond":
        pen.polygon(
            [(x + w / 2, y), (x + w, y + h / 2), (x + w / 2, y + h), (x, y + h / 2)], fill=color
        )
    elif kind == "triangle":
        pen.polygon([(x + w / 2, y), (x + w, y + h), (x, y + h)], fill=color, outline=(0, 0, 0))
    elif kind == "chevron":
        pen.line([(x, y + h), (x + w / 2, y), (x + w, y + h)], fill=color, width=8)
    else:
        raise ValueError(f"unknown shape kind {kind!r}")
    return image


def write_examples(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (kind, box, fill, seed) in SCENES.items():
        path = folder / f"{name}.png"
        draw(kind, box, fill, seed).save(path, format="PNG", compress_level=9)
        written.append(path)
    return written
