"""The answer drawn on an example picture, as SVG: an overlay laid over the picture (class pages,
"what changed", the review, the quiz) and a standalone file with the picture inside it (the
site's lightbox, the review's Markdown).

Boxes of the answer are solid, "not this" boxes dashed; every box carries a number (the
answer's first, in spec order, then the mistakes), and the legend says in words what each
number is: its class, attributes, and whether it is the answer or a mistake. So the drawing
reads without colour. Coordinates are the picture's pixels (the overlay's viewBox is the
picture), so boxes land where the spec says at any display size. Every string is escaped.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from labelspec.guideline.scope import text as value_text
from labelspec.guideline.spec import DrawnBox
from labelspec.site.safe import esc
from pathlib import PurePosixPath
from PIL import Image, UnidentifiedImageError

LIGHTBOX_PX = 640  # a standalone drawing is scaled up to this longest side (crisp pixels)
MIME = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
RIGHT, WRONG, CANDIDATE = "right", "wrong", "candidate"
# Used where no stylesheet is loaded (standalone files, the review, the quiz); the site's
# labelspec.css holds the same rules.
CSS = (
    ".ls-boxes{position:absolute;inset:0;width:100%;height:100%;pointer-events:none;overflow:visible}"
    ".ls-boxes rect{fill:none;vector-effect:non-scaling-stroke}"
    ".ls-boxes .ls-halo{stroke:#fff;stroke-width:4px}"
    ".ls-boxes .ls-right{stroke:#1b5e20;stroke-width:2px}"
    ".ls-boxes .ls-wrong{stroke:#b71c1c;stroke-width:2px;stroke-dasharray:6 4}"
    ".ls-boxes .ls-candidate{stroke:#0d47a1;stroke-width:2px}"
    ".ls-boxes .ls-tag-right{fill:#1b5e20;stroke:none}.ls-boxes .ls-tag-wrong{fill:#b71c1c;stroke:none}"
    ".ls-boxes .ls-tag-candidate{fill:#0d47a1;stroke:none}"
    ".ls-boxes text{fill:#fff;font-family:system-ui,sans-serif;font-weight:700}"
    ".ls-drawn{position:relative;display:inline-block;line-height:0}"
)


@dataclass(frozen=True)
class Mark:
    """One drawn box: its number, the box (``x, y, w, h, class_id, attributes``) and its
    style: the answer, a mistake ("not this"), or a quiz candidate (neither said)."""

    number: int
    box: Any
    style: str

    def describe(self, names: dict[str, str]) -> str:
        cls = names.get(self.box.class_id, self.box.class_id)
        attributes = ", ".join(
            f"{key}: {value_text(value)}" for key, value in sorted(self.box.attributes.items())
        )
        shown = f"{cls} ({attributes})" if attributes else cls
        if self.style == RIGHT:
            return f"{self.number}, solid line: {shown}. Box it like this."
        if self.style == WRONG:
            return f"{self.number}, dashed line: {shown}. Not this."
        return f"Box {self.number}: {shown}"


def marks(example: Any) -> list[Mark]:
    """The boxes drawn on an example, numbered: the answer's, then the "not this" ones."""
    right = [Mark(n, box, RIGHT) for n, box in enumerate(example.boxes or [], 1)]
    return right + [
        Mark(n, box, WRONG) for n, box in enumerate(example.wrong_boxes, len(right) + 1)
    ]


def recorded_marks(recorded: dict[str, Any] | None) -> list[Mark]:
    """``marks`` of a drawing recorded as the spec writes it (``{"boxes": [...] or None,
    "wrong_boxes": [...]}``, as ``guideline.changes`` keeps each side of an example)."""
    if recorded is None:
        return []
    right = recorded.get("boxes")
    return marks(
        SimpleNamespace(
            boxes=None if right is None else [DrawnBox.model_validate(b) for b in right],
            wrong_boxes=[DrawnBox.model_validate(b) for b in recorded.get("wrong_boxes") or []],
        )
    )


def drawn(example: Any) -> bool:
    return example.boxes is not None or bool(example.wrong_boxes)


def legend(found: list[Mark], names: dict[str, str], nothing: bool = False) -> list[str]:
    """The legend in words, one line per box (plain text: escape it for where it goes)."""
    lines = [m.describe(names) for m in found]
    if nothing:
        lines.insert(0, "Nothing to box here: submit the picture empty.")
    return lines


def mime(path: str) -> str:

    return MIME.get(PurePosixPath(path).suffix.lower(), "application/octet-stream")


def size_of(data: bytes) -> tuple[int, int] | None:
    """A picture's (width, height) from its header; None when Pillow cannot read it."""

    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (OSError, UnidentifiedImageError):
        return None


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _shapes(found: list[Mark], width: float, height: float) -> str:
    font = max(8.0, round(max(width, height) * 0.05, 1))
    placed: list[tuple[float, float, float, float]] = []
    out = []
    for mark in found:
        box = mark.box
        corners = f'x="{_number(box.x)}" y="{_number(box.y)}" width="{_number(box.w)}" height="{_number(box.h)}"'
        label = str(mark.number)
        tag_w, tag_h = font * (0.35 + 0.62 * len(label)), font * 1.2
        tag_x, tag_y = _tag_spot(box, tag_w, tag_h, width, height, mark.style, placed)
        placed.append((tag_x, tag_y, tag_w, tag_h))
        out.append(
            f'<g class="ls-mark ls-mark-{mark.style}">'
            f'<rect class="ls-halo" {corners}></rect>'
            f'<rect class="ls-{mark.style}" {corners}></rect>'
            f'<rect class="ls-tag-{mark.style}" x="{_number(tag_x)}" y="{_number(tag_y)}" '
            f'width="{_number(tag_w)}" height="{_number(tag_h)}"></rect>'
            f'<text x="{_number(tag_x + font * 0.18)}" y="{_number(tag_y + font * 0.98)}" '
            f'font-size="{_number(font)}">{esc(label)}</text></g>'
        )
    return "".join(out)


def _tag_spot(box, tag_w, tag_h, width, height, style, placed) -> tuple[float, float]:
    """Where a box's number goes: a corner inside it (the answer's top-left first, a
    mistake's bottom-left, so two boxes drawn on one spot keep both numbers readable), the
    first corner no number already covers, kept inside the picture."""
    left, right = box.x, box.x + box.w - tag_w
    top, bottom = box.y, box.y + box.h - tag_h
    corners = [(left, top), (left, bottom), (right, top), (right, bottom)]
    if style == WRONG:
        corners = [corners[1], corners[0], corners[3], corners[2]]

    def inside(spot: tuple[float, float]) -> tuple[float, float]:
        x, y = spot
        return min(max(x, 0.0), width - tag_w), min(max(y, 0.0), height - tag_h)

    def free(spot: tuple[float, float]) -> bool:
        x, y = spot
        return all(
            x + tag_w <= px or px + pw <= x or y + tag_h <= py or py + ph <= y
            for px, py, pw, ph in placed
        )

    spots = [inside(c) for c in corners]
    return next((spot for spot in spots if free(spot)), spots[0])


def overlay(found: list[Mark], width: int, height: int, label: str) -> str:
    """An ``<svg>`` to lay over the picture (both in a ``.ls-drawn`` box of the picture's
    shape): the viewBox is the picture, scaled as ``object-fit: contain`` scales it."""
    return (
        f'<svg class="ls-boxes" viewBox="0 0 {width} {height}" preserveAspectRatio="xMidYMid meet" '
        f'role="img" aria-label="{esc(label)}">{_shapes(found, width, height)}</svg>'
    )


def standalone(
    found: list[Mark], data: bytes, mime: str, width: int, height: int, label: str
) -> str:
    """A complete SVG document: the picture (embedded: an SVG shown as an image loads nothing
    else) with the boxes over it, scaled up to ``LIGHTBOX_PX`` on its longest side."""
    scale = max(1, LIGHTBOX_PX // max(width, height, 1))
    picture = base64.b64encode(data).decode("ascii")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width * scale}" height="{height * scale}" role="img" aria-label="{esc(label)}">'
        f"<title>{esc(label)}</title><style>{CSS}</style>"
        f'<image href="data:{esc(mime)};base64,{picture}" x="0" y="0" width="{width}" '
        f'height="{height}" preserveAspectRatio="none" style="image-rendering:pixelated"/>'
        f'<g class="ls-boxes">{_shapes(found, width, height)}</g></svg>\n'
    )
