"""Drill-down pages: the items behind one figure (a confusion cell, a gap pair, a disagreement).

Each page is one self-contained HTML file: a card per label with the item's image (embedded as
a PNG data URI, ``labelspec.qa.gallery``), the golden class, the class the label says, the
labeler, the source and the guideline version, so a guideline author can pick new borderline
examples. Every string is escaped; the page loads nothing from anywhere.
"""

from __future__ import annotations

from html import escape
from typing import Any

from labelspec.qa.draw import boxes_image
from labelspec.qa.gallery import _image
from labelspec.repo import Repo

PAGE_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #222; background: #f4f4f4; }
header { padding: 12px 20px; background: #fff; border-bottom: 1px solid #ddd; }
h1 { font-size: 18px; margin: 0 0 4px; }
main { display: flex; flex-wrap: wrap; gap: 12px; padding: 16px 20px; }
.card { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 8px; min-width: 200px; max-width: 400px; }
.card img { display: block; max-width: 384px; margin-bottom: 6px; }
.placeholder { display: flex; align-items: center; justify-content: center; height: 120px;
  background: #eee; color: #666; border: 1px dashed #aaa; margin-bottom: 6px; text-align: center; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0 8px; margin: 0; }
dt { color: #777; } dd { margin: 0; overflow-wrap: anywhere; }
.wrong { color: #b00020; font-weight: 600; }
.legend { margin: 0 0 6px; padding-left: 18px; font-size: 13px; }
"""

FIELDS = (
    ("item", "item_id"),
    ("golden", "golden"),
    ("labeled", "labeled"),
    ("what", "outcome"),
    ("model says", "predicted"),
    ("labeler", "labeler_id"),
    ("source", "source"),
    ("guideline", "guideline_version"),
    ("label", "label_id"),
)


NO_IMAGE = "no workspace to read the image from"


def card(ws: Repo | None, row: dict[str, Any]) -> str:
    """One label on its item: image (or placeholder), then the fields of ``row`` it has."""

    legend = ""
    if ws is None:
        media = f'<div class="placeholder">{escape(NO_IMAGE)}</div>'
    elif row.get("golden_boxes") is not None or row.get("outcome"):
        # detection: golden and labeled boxes both drawn, each numbered, with a legend
        media, legend = boxes_image(
            ws, row.get("path"), row.get("golden_boxes") or [], row.get("boxes") or [],
            str(row.get("item_id")),
        )  # fmt: skip
    else:
        boxes = [
            {"class": box["class"], "bbox": box["bbox"], "code": i}
            for i, box in enumerate(row.get("boxes") or [])
            if box.get("bbox")
        ]
        media, _lacking = _image(ws, row.get("path"), boxes, str(row.get("item_id")))
    rows = []
    for name, key in FIELDS:
        if row.get(key) is None:
            continue
        mark = (
            ' class="wrong"'
            if key == "labeled" and row.get("golden") not in (None, row[key])
            else ""
        )
        rows.append(f"<dt>{escape(name)}</dt><dd{mark}>{escape(str(row[key]))}</dd>")
    return f'<article class="card">{media}{legend}<dl>{"".join(rows)}</dl></article>\n'


def page(
    ws: Repo | None,
    title: str,
    about: str,
    rows: list[dict[str, Any]],
    back: str | None = None,
) -> str:
    """A gallery page of ``rows`` (dicts with item_id, path and the ``FIELDS`` keys)."""
    link = f'<p><a href="{escape(back)}">&larr; back to the report</a></p>' if back else ""
    cards = "".join(card(ws, row) for row in rows) or "<p>No items.</p>"
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{PAGE_STYLE}</style></head><body>\n"
        f"<header><h1>{escape(title)}</h1><div>{escape(about)}</div>{link}</header>\n"
        f"<main>\n{cards}</main>\n</body></html>\n"
    )
