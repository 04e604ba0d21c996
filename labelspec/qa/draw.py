"""Golden and labeled boxes drawn on an item, for the drill-down pages of detection reports.

Golden boxes are dashed (white over black, visible on any picture) and numbered G1, G2 ...;
labeled boxes are solid, numbered 1, 2 ..., and coloured by their outcome (``qa.objects``). The
legend under the picture says every box's number, class and outcome in words, so nothing
depends on colour alone. The picture is embedded as a PNG data URI: the page stays offline.
"""

from __future__ import annotations

import base64
import io
from html import escape
from typing import Any

from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from labelspec.errors import LabelspecError
from labelspec.repo import Repo

THUMB_PX = 256  # small images are scaled up to this (nearest: crisp pixels)
MAX_PX = 384  # large ones down to this
OUTCOME_COLOURS = {
    "hit": (26, 127, 55),
    "confused": (214, 120, 0),
    "mislocated": (123, 51, 168),
    "extra": (190, 0, 32),
}
GOLDEN_DASH = 6  # px on, px off


def boxes_image(
    ws: Repo, path: str | None, golden: list[dict], labeled: list[dict], item_id: str
) -> tuple[str, str]:
    """(an <img> with both box sets drawn, or a placeholder saying why not; the legend)."""
    legend = _legend(golden, labeled)
    image = _load(ws, path)
    if isinstance(image, str):
        return f'<div class="placeholder">{escape(image)}</div>', legend

    image, scale = _scaled(image)
    pen = ImageDraw.Draw(image)
    for number, box in enumerate(golden, 1):
        _dashed(pen, _corners(box["bbox"], scale))
        _tag(pen, _corners(box["bbox"], scale), f"G{number}", (0, 0, 0))
    for number, box in enumerate(labeled, 1):
        colour = OUTCOME_COLOURS.get(str(box.get("outcome")), (0, 90, 200))
        corners = _corners(box["bbox"], scale)
        pen.rectangle(corners, outline=colour, width=2)
        _tag(pen, corners, str(number), colour, below=True)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    img = (
        f'<img src="data:image/png;base64,{data}" width="{image.width}" height="{image.height}" '
        f'alt="{escape(item_id)}: dashed boxes are golden, solid ones labeled">'
    )
    return img, legend


def _legend(golden: list[dict], labeled: list[dict]) -> str:
    items = [
        f"<li>G{n} (dashed): golden {escape(str(b['class']))} — {escape(str(b.get('outcome', '')))}</li>"
        for n, b in enumerate(golden, 1)
    ] + [
        f"<li>{n} (solid): labeled {escape(str(b['class']))} — {escape(str(b.get('outcome', '')))}</li>"
        for n, b in enumerate(labeled, 1)
    ]
    if not items:
        return '<p class="legend">No boxes: golden and labeler both said "no objects here".</p>'
    return f'<ul class="legend">{"".join(items)}</ul>'


def _load(ws: Repo, path: str | None):

    if not path:
        return "image not in the workspace (labelspec pull)"
    try:
        file = ws.inside(path)
    except LabelspecError:
        return "the item's path leaves the workspace"
    if not file.is_file():
        return "image not in the workspace (labelspec pull)"
    try:
        with Image.open(file) as opened:
            return opened.convert("RGB")
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError):
        return "the image cannot be read"


def _scaled(image):

    longest = max(image.size)
    if THUMB_PX <= longest <= MAX_PX:
        return image, 1.0
    scale = (THUMB_PX if longest < THUMB_PX else MAX_PX) / longest
    method = Image.Resampling.NEAREST if scale > 1 else Image.Resampling.BICUBIC
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, method), scale


def _corners(bbox: dict[str, Any], scale: float) -> tuple[float, float, float, float]:
    x0, y0 = bbox["x"] * scale, bbox["y"] * scale
    return x0, y0, x0 + max(bbox["w"], 0) * scale, y0 + max(bbox["h"], 0) * scale


def _dashed(pen, corners: tuple[float, float, float, float]) -> None:
    x0, y0, x1, y1 = corners
    pen.rectangle(corners, outline=(0, 0, 0), width=3)
    for a, b in (
        ((x0, y0), (x1, y0)),
        ((x1, y0), (x1, y1)),
        ((x1, y1), (x0, y1)),
        ((x0, y1), (x0, y0)),
    ):
        length = max(abs(b[0] - a[0]), abs(b[1] - a[1]))
        steps = int(length // (2 * GOLDEN_DASH)) + 1
        for i in range(steps):
            t0, t1 = (
                (2 * i * GOLDEN_DASH) / max(length, 1),
                ((2 * i + 1) * GOLDEN_DASH) / max(length, 1),
            )
            if t0 >= 1:
                break
            t1 = min(t1, 1.0)
            start = (a[0] + (b[0] - a[0]) * t0, a[1] + (b[1] - a[1]) * t0)
            end = (a[0] + (b[0] - a[0]) * t1, a[1] + (b[1] - a[1]) * t1)
            pen.line([start, end], fill=(255, 255, 255), width=1)


def _tag(pen, corners, text: str, colour, below: bool = False) -> None:

    font = ImageFont.load_default()
    x0, y0, _, y1 = corners
    at = (x0 + 2, y1 - 12) if below else (x0 + 2, y0 + 1)
    left, top, right, bottom = pen.textbbox(at, text, font=font)
    pen.rectangle((left - 1, top - 1, right + 1, bottom + 1), fill=colour)
    pen.text(at, text, fill=(255, 255, 255), font=font)
