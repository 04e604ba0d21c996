"""The HTML page of ``labelspec.qa.sample``: one self-contained file, safe to open anywhere.

Each card is one annotation: its item's image with the boxes and class ids drawn on it
(embedded as a PNG data URI; small images are scaled up to about 192 px with nearest-neighbour
so pixels stay crisp, large ones down to 384 px with bicubic), or the item's text with the
labeled spans marked; then class, labeler, source, guideline version and annotation id. Buttons
filter by group and a search box by any word on the card (inline vanilla JavaScript). Every
string that comes from labels, items or the spec is escaped; the page loads nothing from
anywhere.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
from collections import Counter
from html import escape
from typing import Any

from labelspec.errors import LabelspecError
from labelspec.qa.current import Current
from labelspec.workspace import Workspace

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

STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #222; background: #f4f4f4; }
header { padding: 12px 20px; background: #fff; border-bottom: 1px solid #ddd; position: sticky; top: 0; }
h1 { font-size: 18px; margin: 0 0 4px; }
#filters { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 8px; align-items: center; }
#filters button { border: 1px solid #bbb; background: #fafafa; border-radius: 12px; padding: 2px 10px; cursor: pointer; }
#filters button.on { background: #333; color: #fff; border-color: #333; }
#q { padding: 3px 8px; min-width: 240px; }
main { display: flex; flex-wrap: wrap; gap: 12px; padding: 16px 20px; }
.card { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 8px; min-width: 220px; max-width: 400px; }
.card img { display: block; max-width: 384px; image-rendering: auto; margin-bottom: 6px; }
.placeholder { display: flex; align-items: center; justify-content: center; height: 120px;
  background: #eee; color: #666; border: 1px dashed #aaa; margin-bottom: 6px; text-align: center; }
.text { white-space: pre-wrap; font-family: ui-monospace, monospace; font-size: 13px;
  background: #fafafa; padding: 6px; max-height: 320px; overflow: auto; margin: 0 0 6px; }
.tag { font-size: 10px; font-family: system-ui, sans-serif; color: #333; margin-left: 1px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0 8px; margin: 0; }
dt { color: #777; } dd { margin: 0; overflow-wrap: anywhere; }
[hidden] { display: none !important; }
.review { display: flex; flex-wrap: wrap; gap: 4px 8px; align-items: center; margin-top: 6px;
  padding-top: 6px; border-top: 1px dashed #ddd; font-size: 13px; }
.review.accept { background: #e8f5e9; } .review.reject { background: #fdecea; }
#reviewbar { display: flex; gap: 8px; align-items: center; margin-top: 8px; }
""" + "".join(
    f".c{i} {{ background: #{r:02x}{g:02x}{b:02x}55; }}\n" for i, (r, g, b) in enumerate(PALETTE)
)

SCRIPT = """
(function () {
  var cards = Array.prototype.slice.call(document.querySelectorAll(".card"));
  var buttons = Array.prototype.slice.call(document.querySelectorAll("#filters button"));
  var query = document.getElementById("q");
  var count = document.getElementById("count");
  var group = null;
  function apply() {
    var words = query.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var shown = 0;
    cards.forEach(function (card) {
      var ok = (group === null || card.dataset.group === group) &&
        words.every(function (w) { return card.dataset.search.indexOf(w) >= 0; });
      card.hidden = !ok;
      if (ok) { shown += 1; }
    });
    count.textContent = shown + " of " + cards.length + " annotations shown";
  }
  buttons.forEach(function (button) {
    button.addEventListener("click", function () {
      group = button.hasAttribute("data-value") ? button.dataset.value : null;
      buttons.forEach(function (b) { b.classList.toggle("on", b === button); });
      apply();
    });
  });
  query.addEventListener("input", apply);
  apply();

  // Review: accept or reject each label (a reject may name the right class), then save a
  // review file for `labelspec qa review import`. Everything stays in this page.
  var about = JSON.parse(document.getElementById("review-about").textContent);
  var reviews = Array.prototype.slice.call(document.querySelectorAll(".review"));
  var saveButton = document.getElementById("save-review");
  var reviewed = document.getElementById("reviewed");
  function verdictOf(row) {
    var picked = row.querySelector("input[type=radio]:checked");
    return picked ? picked.value : null;
  }
  function refresh() {
    var n = 0;
    reviews.forEach(function (row) {
      var v = verdictOf(row);
      row.classList.toggle("accept", v === "accept");
      row.classList.toggle("reject", v === "reject");
      if (v) { n += 1; }
    });
    reviewed.textContent = n + " of " + reviews.length + " labels reviewed";
    saveButton.disabled = n === 0;
  }
  reviews.forEach(function (row) {
    row.addEventListener("change", function (event) {
      var select = row.querySelector("select");
      if (event.target === select && select.value) {
        var wanted = select.value === row.dataset.cls ? "accept" : "reject";
        row.querySelector("input[value=" + wanted + "]").checked = true;
      }
      if (event.target.value === "accept") { select.value = ""; }
      refresh();
    });
  });
  saveButton.addEventListener("click", function () {
    var reviewer = document.getElementById("reviewer").value.trim();
    if (!reviewer) { document.getElementById("reviewer").focus(); alert("Who reviews? Fill in your reviewer id."); return; }
    var verdicts = [];
    reviews.forEach(function (row) {
      var v = verdictOf(row);
      if (!v) { return; }
      var right = row.querySelector("select").value;
      var entry = {label_id: row.dataset.label, verdict: v};
      if (v === "reject" && right) { entry.correct_class = right; }
      verdicts.push(entry);
    });
    var saved = new Date().toISOString().replace(/\\.\\d+Z$/, "Z");
    var file = {kind: "labelspec-review", dataset: about.dataset, snapshot: about.snapshot,
                reviewer: reviewer, saved: saved, verdicts: verdicts};
    var blob = new Blob([JSON.stringify(file, null, 1) + "\\n"], {type: "application/json"});
    var link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = "review-" + about.dataset + "-" + reviewer + "-" + saved.replace(/[-:]/g, "") + ".json";
    document.body.appendChild(link);
    link.click();
    link.remove();
  });
  refresh();
})();
"""


def render(
    ws: Workspace, current: Current, cards: list[dict[str, Any]], by: str | None, seed: int
) -> tuple[str, int]:
    """The page for the drawn annotations, and how many cards lack their image or text."""
    bodies = [_card(ws, current, card, by) for card in cards]
    review_about = json.dumps({"dataset": current.dataset, "snapshot": current.commit}).replace(
        "<", "\\u003c"
    )
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
        f'<main id="cards">\n{"".join(body for body, _ in bodies)}</main>\n'
        f"<script>{SCRIPT}</script>\n</body></html>\n"
    ), missing


def _card(ws: Workspace, current: Current, card: dict[str, Any], by: str | None):
    labels = card["labels"]
    if current.task == "ner" or card["media"] == "text":
        media, lacking = _text(card["text"], labels if current.task == "ner" else [])
    else:
        media, lacking = _image(ws, card["path"], labels, card["item_id"])
    classes = Counter(label["class"] for label in labels)
    shown_classes = ", ".join(
        f"{name} ×{count}" if count > 1 else name for name, count in classes.items()
    )
    attributes = [
        f"{label['class']}: {label['attributes']}"
        for label in labels
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
    review = "".join(_review(label, current.class_ids) for label in labels)
    return (
        f'<article class="card"{group} data-search="{escape(search)}">{media}<dl>{rows}</dl>'
        f"{review}</article>\n",
        lacking,
    )


def _review(label: dict[str, Any], classes: list[str]) -> str:
    """Accept / reject buttons for one label, and the right class to pick on a reject."""
    ident, cls = escape(str(label.get("label_id"))), escape(str(label["class"]))
    options = "".join(
        f'<option value="{escape(c)}">{escape(c)}</option>' for c in classes if c != label["class"]
    )
    return (
        f'<div class="review" data-label="{ident}" data-cls="{cls}">'
        f"<span>{cls}:</span>"
        f'<label><input type="radio" name="v-{ident}" value="accept"> accept</label>'
        f'<label><input type="radio" name="v-{ident}" value="reject"> reject</label>'
        f'<select aria-label="right class"><option value="">right class…</option>{options}</select>'
        "</div>"
    )


def _placeholder(message: str) -> str:
    return f'<div class="placeholder">{escape(message)}</div>'


def _image(ws: Workspace, path: str | None, labels: list[dict], item_id: str) -> tuple[str, bool]:
    """An <img> with the labels' boxes drawn, or a placeholder saying why there is none."""
    from PIL import Image, UnidentifiedImageError

    if not path:
        return _placeholder(NOT_PULLED), True
    try:
        file = ws.inside(path)
    except LabelspecError:
        return _placeholder("the item's path leaves the workspace"), True
    if not file.is_file():
        return _placeholder(NOT_PULLED), True
    try:
        with Image.open(file) as opened:
            image = opened.convert("RGB")
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError):
        return _placeholder("the image cannot be read"), True
    image, scale = _scaled(image)
    _draw_boxes(image, scale, [label for label in labels if label["bbox"]])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (
        f'<img src="data:image/png;base64,{data}" width="{image.width}" '
        f'height="{image.height}" alt="{escape(item_id)}">',
        False,
    )


def _scaled(image):
    """Scale up to THUMB_PX (nearest: crisp pixels) or down to MAX_PX (bicubic)."""
    from PIL import Image

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
    from PIL import ImageDraw, ImageFont

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


def _text(text: str | None, labels: list[dict]) -> tuple[str, bool]:
    """The item's text with each labeled span in a <mark> (coloured by class, the class id
    after it); overlapping spans are split at every span edge."""
    if text is None:
        return _placeholder("text not in the workspace (labelspec pull)"), True
    shown = text[:MAX_TEXT]
    spans = [
        (min(s["start"], len(shown)), min(s["end"], len(shown)), label["class"], label["code"])
        for label in labels
        if (s := label["span"]) and s["start"] < len(shown)
    ]
    cuts = sorted({0, len(shown), *(a for a, _, _, _ in spans), *(b for _, b, _, _ in spans)})
    parts = []
    for a, b in itertools.pairwise(cuts):
        covering = [span for span in spans if span[0] <= a and b <= span[1]]
        piece = escape(shown[a:b])
        if covering:
            names = escape(", ".join(sorted({span[2] for span in covering})))
            parts.append(
                f'<mark class="c{covering[0][3] % len(PALETTE)}" title="{names}">{piece}</mark>'
            )
        else:
            parts.append(piece)
        parts.extend(f'<sup class="tag">{escape(span[2])}</sup>' for span in spans if span[1] == b)
    if len(text) > MAX_TEXT:
        parts.append(escape(f" … ({len(text) - MAX_TEXT} more characters)"))
    return f'<p class="text">{"".join(parts)}</p>', False
