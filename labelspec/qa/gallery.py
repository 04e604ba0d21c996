"""The HTML page of ``labelspec.qa.sample``: one self-contained file, safe to open anywhere.

Each card is one annotation: its item's image (embedded as a PNG data URI; small images are
scaled up to about 192 px with nearest-neighbour so pixels stay crisp, large ones down to 384 px
with bicubic) with its boxes in an SVG layer over it, each numbered at its top-left corner, or
the item's text with the spans marked and numbered; then class, labeler, source, guideline
version and annotation id; then a review row per label, headed by the same number and the class
("1 school_bus"). Hovering or focusing a row outlines its box (span) and dims the others.

A row's verdicts: a box or span is accepted, of the wrong class (the right one picked from the
spec's classes), misplaced, or not to be boxed (marked) at all; a classification label is
accepted or rejected, a reject naming the right class if the reviewer knows it; an explicit "no
objects" answer is accepted, or contradicted by a missing object. Missing objects are added per
card by a click (a point) or a drag (a box) on the picture, or by selecting words of the text,
each with an optional class. *Save review file* downloads the verdicts as the JSON file
``labelspec qa review import`` reads (format: ``labelspec.store.reviews``).

Buttons filter by group and a search box by any word on the card. The script and style are
``labelspec/data/sample-gallery.{js,css}``, inlined. Every string that comes from labels, items
or the spec is escaped (the script only sets text and attributes); the page loads nothing from
anywhere.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
from collections import Counter
from html import escape
from importlib import resources
from typing import Any

from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from labelspec.errors import LabelspecError
from labelspec.qa.current import Current
from labelspec.repo import Repo
from labelspec.store.schema import NO_OBJECTS  # what an explicit empty answer shows

THUMB_PX = 192  # smaller images are scaled up to this
MAX_PX = 384  # larger images are scaled down to this
MAX_TEXT = 10_000  # characters of an item's text shown
NOT_PULLED = "image not in the workspace (labelspec pull)"
PALETTE = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
]

VERDICTS = {  # a label's kind -> its verdict buttons (value, words); values as the review file has them
    "box": [
        ("accept", "accept"),
        ("wrong_class", "wrong class"),
        ("misplaced", "misplaced box"),
        ("not_an_object", "should not be boxed"),
    ],
    "span": [
        ("accept", "accept"),
        ("wrong_class", "wrong class"),
        ("misplaced", "misplaced span"),
        ("not_an_object", "should not be marked"),
    ],
    "class": [("accept", "accept"), ("reject", "reject")],  # a reject may name the right class
    # an explicit "no objects": boxes and spans are contradicted by the missing object; a
    # multilabel set by a reject naming a class that is there
    "empty": [("accept", "accept: nothing to label")],
    "empty-set": [("accept", "accept: no class applies"), ("reject", "reject")],
}


def _asset(name: str) -> str:
    return (resources.files("labelspec") / "data" / name).read_text(encoding="utf-8")


def _hex(color: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*color)


def _ink(color: tuple[int, int, int]) -> str:
    """Black or white, whichever reads better on ``color`` (relative luminance)."""
    r, g, b = color
    return "#000" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 150 else "#fff"


STYLE = _asset("sample-gallery.css") + "".join(
    f".c{i} {{ background: {_hex(color)}55; }} .num.c{i} {{ background: {_hex(color)}; color: {_ink(color)}; }}\n"
    for i, color in enumerate(PALETTE)
)
SCRIPT = _asset("sample-gallery.js")


def render(
    ws: Repo, current: Current, cards: list[dict[str, Any]], by: str | None, seed: int
) -> tuple[str, int]:
    """The page for the drawn annotations, and how many cards lack their image or text."""
    bodies = [_card(ws, current, card, by) for card in cards]
    review_about = json.dumps(
        {"dataset": current.dataset, "snapshot": current.commit, "task": current.task}
    ).replace("<", "\\u003c")
    missing = sum(1 for _, lacking in bodies if lacking)
    groups = Counter(card["grp"] for card in cards)
    buttons = ""
    if by:
        buttons = f'<button class="on">all ({len(cards)})</button>' + "".join(
            f'<button data-value="{escape(value)}">{escape(value)} ({count})</button>'
            for value, count in sorted(groups.items())
        )
    title = f"Sample of {current.dataset} ({current.snapshot})"
    about = f"{len(cards)} annotations of {current.guideline} ({current.task}), seed {seed}" + (
        f", stratified by {by}" if by else ""
    )
    class_options = "".join(
        f'<option value="{escape(c)}">{escape(c)}</option>' for c in current.spec.class_ids
    )
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>\n"
        f"<header><h1>{escape(title)}</h1><div>{escape(about)}</div>"
        f'<div id="filters">{buttons}'
        '<input id="q" type="search" placeholder="filter: class, labeler, item ..." '
        'aria-label="filter cards"></div><div id="count"></div>'
        '<div id="reviewbar"><label>reviewer <input id="reviewer" placeholder="your id, e.g. rev-01" '
        'aria-label="reviewer id"></label><button id="save-review" disabled>Save review file</button>'
        '<span id="reviewed"></span></div></header>\n'
        f'<script type="application/json" id="review-about">{review_about}</script>\n'
        f'<template id="class-options">{class_options}</template>\n'
        f'<main id="cards">\n{"".join(body for body, _ in bodies)}</main>\n'
        f"<script>{SCRIPT}</script>\n</body></html>\n"
    ), missing


def _kind(label: dict[str, Any]) -> str:
    """What a label is, for its review row: a box, a span, a class, or "no objects"."""
    if label["class"] is None:
        return "empty"
    if label["bbox"]:
        return "box"
    return "span" if label["span"] else "class"


def _numbered(labels: list[dict[str, Any]]) -> list[tuple[int | None, dict[str, Any]]]:
    """Each label with its number on the card (1, 2, ... over its boxes and spans, in the
    order the sample gives them: reading order); classes and "no objects" have none."""
    counter = itertools.count(1)
    return [(next(counter) if _kind(label) in ("box", "span") else None, label) for label in labels]


def _card(ws: Repo, current: Current, card: dict[str, Any], by: str | None):
    labels = _numbered(card["labels"])
    placed = current.task in ("detection", "ner")
    size = None
    if current.task == "ner" or card["media"] == "text":
        media, lacking = _text(card["text"], labels if current.task == "ner" else [])
    elif current.task == "detection":
        media, lacking, size = _picture(ws, card["path"], labels, card["item_id"])
    else:
        media, lacking = _image(ws, card["path"], [], card["item_id"])
    classes = Counter(label["class"] or NO_OBJECTS for _, label in labels)
    shown_classes = ", ".join(
        f"{name} ×{count}" if count > 1 else name for name, count in classes.items()
    )
    attributes = [
        f"{label['class']}: {label['attributes']}"
        for _, label in labels
        if label["attributes"] not in (None, "{}")
        and current.task in ("classification", "multilabel")
    ]
    fields = [
        ("item", card["item_id"]),
        ("class", shown_classes),
        *([("attributes", "; ".join(attributes))] if attributes else []),
        ("labeler", card["labeler_id"]),
        ("source", card["source"]),
        ("guideline", f"{current.guideline} {card['guideline_version']}"),
        ("annotation", card["annotation_id"]),
    ]
    search = " ".join(str(value) for _, value in fields).lower()
    rows = "".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in fields)
    group = f' data-group="{escape(card["grp"])}"' if by else ""
    missing = placed and not lacking
    review = "".join(
        _review(n, label, current.spec.class_ids, placed, missing) for n, label in labels
    )
    if missing:
        review += _missing(card, size, text=current.task == "ner" or card["media"] == "text")
    return (
        f'<article class="card"{group} data-search="{escape(search)}">{media}<dl>{rows}</dl>'
        f"{review}</article>\n",
        lacking,
    )


def _review(
    n: int | None, label: dict[str, Any], classes: list[str], placed: bool, missing: bool
) -> str:
    """One label's review row: its number and class, its verdict buttons, and the right class
    to pick (a wrong class). ``placed``: the task has boxes or spans; ``missing``: the card
    takes missing objects."""
    kind = _kind(label)
    if kind == "empty" and not placed:
        kind = "empty-set"
    ident, cls = escape(str(label.get("label_id"))), label["class"]
    what = {"box": f"box {n}", "span": f"span {n}"}.get(kind, "label")
    number = ""
    if n is not None:
        number = f'<span class="num c{label["code"] % len(PALETTE)}">{n}</span>'
    buttons = "".join(
        f'<label><input type="radio" name="v-{ident}" value="{value}"> {escape(words)}</label>'
        for value, words in VERDICTS[kind]
    )
    if kind == "empty":
        right = '<span class="hint">or mark a missing object below</span>' if missing else ""
    else:
        options = "".join(
            f'<option value="{escape(c)}">{escape(c)}</option>' for c in classes if c != cls
        )
        right = (
            f'<select aria-label="right class of {what}"><option value="">right class…</option>'
            f"{options}</select>"
        )
    shown = escape(cls) if cls is not None else NO_OBJECTS
    numbered = f' data-n="{n}"' if n else ""
    return (
        f'<div class="review" data-label="{ident}" data-cls="{escape(cls or "")}" '
        f'data-kind="{kind}"{numbered} tabindex="0" aria-label="{what} {shown}">'
        f'{number}<span class="what">{shown}</span>{buttons}{right}</div>'
    )


def _missing(card: dict[str, Any], size: tuple[int, int] | None, text: bool) -> str:
    """Where the reviewer adds the objects the annotation misses."""
    annotation = escape(str(card["annotation_id"]))
    if text:
        place = 'data-place="text"'
        hint = "Missing a span? Select its words in the text, then"
        button = "+ missing object: the selected text"
    else:
        width, height = size  # the image's own pixels, as the boxes are
        place = f'data-place="image" data-width="{width}" data-height="{height}"'
        hint = "Missing an object? Click (a point) or drag (a box) on the picture, or"
        button = "+ missing object"
    return (
        f'<div class="missing" data-annotation="{annotation}" {place}>'
        f'<span class="hint">{escape(hint)}</span> '
        f'<button type="button" class="add-missing">{escape(button)}</button>'
        '<ol class="missing-list"></ol></div>'
    )


def _placeholder(message: str) -> str:
    return f'<div class="placeholder">{escape(message)}</div>'


def _opened(ws: Repo, path: str | None):
    """The item's image as RGB, or (None, why there is none)."""

    if not path:
        return None, NOT_PULLED
    try:
        file = ws.inside(path)
    except LabelspecError:
        return None, "the item's path leaves the workspace"
    if not file.is_file():
        return None, NOT_PULLED
    try:
        with Image.open(file) as opened:
            return opened.convert("RGB"), ""
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError):
        return None, "the image cannot be read"


def _img(image, item_id: str) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (
        f'<img src="data:image/png;base64,{data}" width="{image.width}" '
        f'height="{image.height}" alt="{escape(item_id)}">'
    )


def _image(ws: Repo, path: str | None, labels: list[dict], item_id: str) -> tuple[str, bool]:
    """An <img> with the labels' boxes drawn into it, or a placeholder saying why there is none
    (the drill-down pages, ``labelspec.qa.drill``)."""
    image, why = _opened(ws, path)
    if image is None:
        return _placeholder(why), True
    image, scale = _scaled(image)
    _draw_boxes(image, scale, [label for label in labels if label["bbox"]])
    return _img(image, item_id), False


def _picture(
    ws: Repo, path: str | None, labels: list[tuple[int | None, dict]], item_id: str
) -> tuple[str, bool, tuple[int, int] | None]:
    """The item's image with its numbered boxes in an SVG layer over it (in image pixels, so
    it scales with the image; the page outlines a box from its review row), or a placeholder.
    Also the image's size, for the missing objects' coordinates."""
    image, why = _opened(ws, path)
    if image is None:
        return _placeholder(why), True, None
    size = image.size
    shown, scale = _scaled(image)
    boxes = "".join(_svg_box(n, label, scale) for n, label in labels if n and label["bbox"])
    return (
        f'<div class="pic">{_img(shown, item_id)}'
        f'<svg class="overlay" viewBox="0 0 {size[0]} {size[1]}" preserveAspectRatio="none" '
        f'data-unit="{_num(1 / scale)}" role="img" aria-label="boxes on {escape(item_id)}">'
        f"{boxes}</svg></div>",
        False,
        size,
    )


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _svg_box(n: int, label: dict[str, Any], scale: float) -> str:
    """A box's outline and its number in a tag at its top-left corner, in image pixels; the
    tag keeps about 11 screen pixels high whatever the scale."""
    box, color = label["bbox"], PALETTE[label["code"] % len(PALETTE)]
    x, y, w, h = box["x"], box["y"], max(box["w"], 0), max(box["h"], 0)
    font = 11 / scale
    tag_w, tag_h = font * (0.62 * len(str(n)) + 0.5), font * 1.2
    edge = f'x="{_num(x)}" y="{_num(y)}" width="{_num(w)}" height="{_num(h)}"'
    return (
        f'<g class="box" data-n="{n}"><title>{n} {escape(label["class"])}</title>'
        f'<rect class="halo" {edge}/><rect class="edge" {edge} stroke="{_hex(color)}"/>'
        f'<rect class="tag" x="{_num(x)}" y="{_num(y)}" width="{_num(tag_w)}" '
        f'height="{_num(tag_h)}" fill="{_hex(color)}"/>'
        f'<text x="{_num(x + font * 0.25)}" y="{_num(y + font * 0.95)}" '
        f'font-size="{_num(font)}" fill="{_ink(color)}">{n}</text></g>'
    )


def _scaled(image):
    """Scale up to THUMB_PX (nearest: crisp pixels) or down to MAX_PX (bicubic)."""

    longest = max(image.size)
    if longest < THUMB_PX:
        scale = THUMB_PX / longest
        method = Image.Resampling.NEAREST
    elif longest > MAX_PX:
        scale = MAX_PX / longest
        method = Image.Resampling.BICUBIC
    else:
        return image, 1.0
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, method), scale


def _draw_boxes(image, scale: float, boxes: list[dict]) -> None:

    pen = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    for label in boxes:
        box = label["bbox"]
        color = PALETTE[label["code"] % len(PALETTE)]
        x0, y0 = box["x"] * scale, box["y"] * scale
        x1, y1 = x0 + max(box["w"], 0) * scale, y0 + max(box["h"], 0) * scale
        pen.rectangle((x0, y0, x1, y1), outline=color, width=2)
        left, top, right, bottom = pen.textbbox((x0 + 2, y0 + 1), label["class"], font=font)
        pen.rectangle((left - 1, top - 1, right + 1, bottom + 1), fill=color)
        pen.text((x0 + 2, y0 + 1), label["class"], fill=(255, 255, 255), font=font)


def _text(text: str | None, labels: list[tuple[int | None, dict]]) -> tuple[str, bool]:
    """The item's text with each labeled span in a <mark> (coloured by class, its number and
    class after it); overlapping spans are split at every span edge, each piece listing the
    numbers of the spans it belongs to."""
    if text is None:
        return _placeholder("text not in the workspace (labelspec pull)"), True
    shown = text[:MAX_TEXT]
    spans = [
        (min(s["start"], len(shown)), min(s["end"], len(shown)), label["class"], label["code"], n)
        for n, label in labels
        if n and (s := label["span"]) and s["start"] < len(shown)
    ]
    cuts = sorted({0, len(shown), *(span[0] for span in spans), *(span[1] for span in spans)})
    parts = []
    for a, b in itertools.pairwise(cuts):
        covering = [span for span in spans if span[0] <= a and b <= span[1]]
        piece = escape(shown[a:b])
        if covering:
            numbers = " ".join(str(span[4]) for span in covering)
            names = escape(", ".join(f"{span[4]} {span[2]}" for span in covering))
            parts.append(
                f'<mark class="c{covering[0][3] % len(PALETTE)}" data-n="{numbers}" '
                f'title="{names}">{piece}</mark>'
            )
        else:
            parts.append(piece)
        parts.extend(
            f'<sup class="tag" data-n="{span[4]}">{span[4]} {escape(span[2])}</sup>'
            for span in spans
            if span[1] == b
        )
    if len(text) > MAX_TEXT:
        parts.append(
            f'<span class="more">{escape(f" … ({len(text) - MAX_TEXT} more characters)")}</span>'
        )
    return f'<p class="text">{"".join(parts)}</p>', False
