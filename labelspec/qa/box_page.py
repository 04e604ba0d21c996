"""The offline page of ``qa disagreements`` on boxes: the items with the worst issues, each
annotation drawn with its labeled boxes (solid lines, numbered L1, L2 ...) over the detector's
confident boxes (dashed lines, numbered P and their row in the predictions file), and a table
of every scored box: kind, score, class, what the model says, IoU.

Line style, numbers and the table carry the meaning, so the page reads without colour. Images
are embedded as PNG data URIs (a placeholder when the file is not in the workspace); every
string is escaped; the page loads nothing from anywhere.
"""

from __future__ import annotations

import base64
import io
from html import escape
from typing import Any

from PIL import Image, UnidentifiedImageError

from labelspec.errors import LabelspecError
from labelspec.repo import Repo

SHOWN_PX = 384  # the longest side of a drawn item
LABELED = "#1f4e9c"
PREDICTED = "#c2410c"
DASH = "6 4"

STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #222; background: #f4f4f4; }
header { padding: 12px 20px; background: #fff; border-bottom: 1px solid #ddd; }
h1 { font-size: 18px; margin: 0 0 4px; }
.legend { display: flex; flex-wrap: wrap; gap: 16px; align-items: center; margin-top: 6px; }
main { display: flex; flex-wrap: wrap; gap: 12px; padding: 16px 20px; }
.card { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 8px; max-width: 420px; }
.card h2 { font-size: 14px; margin: 0 0 6px; overflow-wrap: anywhere; }
figure { margin: 0 0 8px; } figcaption { color: #555; font-size: 12px; }
svg.item { display: block; background: #eee; }
table { border-collapse: collapse; font-size: 12px; width: 100%; }
th, td { text-align: left; padding: 1px 4px; border-bottom: 1px solid #eee; }
td.issue { font-weight: 600; }
"""


def render(ws: Repo | None, result: dict[str, Any]) -> str:
    """The page for a box ``qa disagreements`` result (``box_issues.box_report``)."""
    title = f"Items whose boxes a detector disagrees with most in {result['dataset']}"
    kinds = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in result["by_kind"].items())
    about = (
        f"Snapshot {result['snapshot']}; predictions {result['predictions']}; "
        f"{result['issues']} issues below {result['issue_below']} ({kinds}); "
        f"predictions drawn at score >= {result['min_score']}; lowest item score first."
    )
    cards = "".join(_card(ws, item, result["issue_below"]) for item in result["items"])
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>\n"
        f"<header><h1>{escape(title)}</h1><div>{escape(about)}</div>{_legend()}</header>\n"
        f"<main>\n{cards or '<p>No items.</p>'}</main>\n</body></html>\n"
    )


def _legend() -> str:
    def sample(color: str, dash: str, text: str) -> str:
        line = (
            f'<svg width="40" height="12" aria-hidden="true"><line x1="2" y1="6" x2="38" y2="6" '
            f'stroke="{color}" stroke-width="2" stroke-dasharray="{dash}"/></svg>'
        )
        return f"<span>{line} {escape(text)}</span>"

    return (
        '<div class="legend">'
        + sample(LABELED, "none", "labeled box, solid line, L1, L2 … (thicker: an issue)")
        + sample(
            PREDICTED,
            DASH,
            "predicted box, dashed line, P + its row in the predictions file (thicker: missing)",
        )
        + "</div>"
    )


def _card(ws: Repo | None, item: dict[str, Any], issue_below: float) -> str:
    annotations: dict[str, list[dict[str, Any]]] = {}
    for box in item["boxes"]:
        annotations.setdefault(box["annotation_id"], []).append(box)
    image = _image_uri(ws, item.get("path"))
    figures = "".join(_figure(item, image, boxes, issue_below) for boxes in annotations.values())
    head = (
        f"{item['item_id']}: score {_num(item['score'])}, worst {_kind(item['worst_kind'])}, "
        f"{item['issues']} issue(s)"
    )
    return f'<article class="card"><h2>{escape(head)}</h2>{figures}</article>\n'


def _figure(item, image: str | None, boxes: list[dict], issue_below: float) -> str:
    width, height = item.get("width") or 0, item.get("height") or 0
    labeled = [b for b in boxes if b["label_id"] is not None]
    numbers = {b["label_id"]: n for n, b in enumerate(labeled, 1)}
    first = boxes[0]
    caption = (
        f"{first['labeler']} ({first['source']}, guideline {first['guideline_version']}), "
        f"annotation {first['annotation_id']}"
    )
    missed = {
        b["predicted_row"] for b in boxes if b["label_id"] is None and b["score"] < issue_below
    }
    svg = _svg(width, height, image, labeled, numbers, item["predicted"], missed, issue_below)
    rows = "".join(_row(b, numbers, issue_below) for b in sorted(boxes, key=lambda b: b["score"]))
    table = (
        "<table><thead><tr><th>box</th><th>kind</th><th>score</th><th>labeled</th>"
        f"<th>model</th><th>IoU</th></tr></thead><tbody>{rows}</tbody></table>"
    )
    return f"<figure>{svg}<figcaption>{escape(caption)}</figcaption>{table}</figure>"


def _svg(width, height, image, labeled, numbers, predicted, missed, issue_below) -> str:
    if not width or not height:
        return '<p class="placeholder">the item has no registered width and height to draw on</p>'
    scale = SHOWN_PX / max(width, height)
    shown_w, shown_h = round(width * scale), round(height * scale)
    font = max(width, height) / 30
    parts = [
        f'<svg class="item" viewBox="0 0 {width} {height}" width="{shown_w}" height="{shown_h}" '
        f'role="img" aria-label="labeled and predicted boxes">'
    ]
    if image:
        parts.append(
            f'<image href="{image}" x="0" y="0" width="{width}" height="{height}" '
            'preserveAspectRatio="none"/>'
        )
    else:
        parts.append(
            f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" font-size="{font}" '
            'fill="#666">image not in the workspace</text>'
        )
    for box in predicted:
        thick = 4 if box["row"] in missed else 2
        parts.append(_rect(box["bbox"], PREDICTED, DASH, thick, f"P{box['row']}", font, below=True))
    for box in labeled:
        thick = 4 if box["score"] < issue_below else 2
        parts.append(
            _rect(box["bbox"], LABELED, "none", thick, f"L{numbers[box['label_id']]}", font)
        )
    parts.append("</svg>")
    return "".join(parts)


def _rect(bbox, color: str, dash: str, width: int, name: str, font: float, below=False) -> str:
    x, y, w, h = bbox
    text_y = y + h + font if below else y - 2
    if text_y < font:
        text_y = y + font
    return (
        f'<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="none" stroke="{color}" '
        f'stroke-width="{width}" stroke-dasharray="{dash}" vector-effect="non-scaling-stroke"/>'
        f'<text x="{x + 1}" y="{text_y}" font-size="{font}" fill="{color}" stroke="#fff" '
        f'stroke-width="{font / 5}" paint-order="stroke">{escape(name)}</text>'
    )


def _row(box: dict[str, Any], numbers: dict[str, int], issue_below: float) -> str:
    name = f"L{numbers[box['label_id']]}" if box["label_id"] is not None else "-"
    model = (f"P{box['predicted_row']}" if box["predicted_row"] is not None else "nothing") + (
        f" {box['predicted_class']}" if box.get("predicted_class") else ""
    )
    cells = [
        name,
        _kind(box["kind"]),
        _num(box["score"]),
        box["class"] or "-",
        model,
        _num(box["iou"]),
    ]
    mark = ' class="issue"' if box["score"] is not None and box["score"] < issue_below else ""
    return "<tr>" + "".join(f"<td{mark}>{escape(str(c))}</td>" for c in cells) + "</tr>"


def _kind(kind: str | None) -> str:
    return (kind or "-").replace("_", " ")


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def _image_uri(ws: Repo | None, path: str | None) -> str | None:
    """The item's image as a PNG data URI, at most SHOWN_PX on its longest side, or None."""

    if ws is None or not path:
        return None
    try:
        file = ws.inside(path)
    except LabelspecError:
        return None
    if not file.is_file():
        return None
    try:
        with Image.open(file) as opened:
            image = opened.convert("RGB")
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError):
        return None
    if max(image.size) > SHOWN_PX:
        image.thumbnail((SHOWN_PX, SHOWN_PX))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
