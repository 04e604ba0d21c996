"""A ``Review`` as Markdown (it reads well as a GitHub pull-request comment) or as a
self-contained HTML page with the example pictures side by side.

``write`` copies the pictures into ``OUT/images/base|head/<path in the guideline>`` and refers to
them relative to ``OUT``. Every string from the spec, the roster or the labels is escaped: HTML
with ``esc``, Markdown with ``md_text`` (so a spec cannot add links, images or HTML to a comment).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from labelspec.guideline.changes import KIND_WORDS, ExampleChange, ExampleSide
from labelspec.guideline.review import Review
from labelspec.guideline.wordiff import to_html, to_markdown
from labelspec.site import drawing
from labelspec.site.safe import esc, md_cell, md_code, md_text
from labelspec.yamlio import atomic_write_text

FORMATS = ("md", "html")
STATUS_WORDS = {"added": "new", "removed": "removed", "changed": "changed", "renamed": "renamed"}


@dataclass
class Written:
    path: Path | None  # None: printed
    images: int
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"path": str(self.path) if self.path else None, "images": self.images}


def write(review: Review, out: Path | None, fmt: str = "md") -> Written:
    """Render ``review``; with ``out``, into ``out/review.<fmt>`` with the pictures beside it."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}")
    images = 0
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for change in review.changes.examples:
            for name, side in (("base", change.before), ("head", change.after)):
                if side is None or side.data is None or side.image is None:
                    continue
                inside = posixpath.normpath(Path(side.image).as_posix())
                if inside.startswith(("../", "/")):
                    side.missing = "outside the guideline folder"  # `check` says so too
                    continue
                side.asset = f"images/{name}/{inside}"
                target = out / side.asset
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(side.data)
                images += 1
                images += _write_drawing(out, side)
    text = markdown(review) if fmt == "md" else html_page(review)
    path = None
    if out is not None:
        path = out / f"review.{fmt}"
        atomic_write_text(path, text)
    return Written(path, images, text)


def _write_drawing(out: Path, side: ExampleSide) -> int:
    """The picture with its drawn answer as a standalone SVG beside it (what the Markdown
    shows: a comment cannot lay boxes over a picture); 1 when written."""
    size = drawing.size_of(side.data) if side.drawn is not None and side.data else None
    if size is None:
        return 0
    found = drawing.recorded_marks(side.drawn)
    svg = drawing.standalone(found, side.data, drawing.mime(side.image), *size, side.verdict)
    side.drawing_asset = f"{side.asset}.svg"
    atomic_write_text(out / side.drawing_asset, svg)
    return 1


def _legend(review: Review, side: ExampleSide) -> list[str]:
    found = drawing.recorded_marks(side.drawn)
    return drawing.legend(found, review.changes.names, (side.drawn or {}).get("boxes") == [])


def _class(review: Review, class_id: str) -> str:
    return review.changes.names.get(class_id, class_id)


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def _hours(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.1f} h" if value >= 1 else f"{value * 60:,.1f} min"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f} s"


# -- Markdown ------------------------------------------------------------------------------------------
def markdown(review: Review) -> str:
    r = review
    lines = [f"## Guideline review: {md_text(r.title)} (`{r.guideline}`)", ""]
    base = f"{md_text(r.base.label)} (`{r.base.commit[:10]}`)"
    lines.append(f"**Compared:** {base} → {md_text(r.head)}  ")
    if r.bump_against:
        lines.append(
            f"**Release:** needs `--bump {r.bump}` from {r.bump_against}: {md_text(r.bump_why)}  "
        )
    else:
        lines.append(f"**Release:** the first one: {md_text(r.bump_why)}  ")
    if r.affects:
        lines.append(
            f"**Labels it can change:** {', '.join(md_text(_class(r, c)) for c in r.affects)}  "
        )
    if r.pending:
        p = r.pending
        affects = ", ".join(f"`{c}`" for c in p.get("affects", [])) or "nothing"
        lines.append(
            f"**Changelog entry:** {md_text(p['summary'])}; affects {affects}; relabel **{p['relabel']}**"
        )
    lines.append("")
    if r.problems:
        lines += ["> [!WARNING]", *[f"> {md_text(p)}  " for p in r.problems], ""]
    if r.changes.empty:
        lines += ["No changes to the guideline's classes, examples, rules or decision tree.", ""]
    lines += _md_texts(r)
    lines += _md_examples(r)
    lines += _md_rules_and_tree(r)
    lines += _md_impact(r)
    lines += _md_labels(r)
    lines += _md_retraining(r)
    return "\n".join(lines).rstrip() + "\n"


def _md_texts(r: Review) -> list[str]:
    lines: list[str] = []
    if r.changes.meta:
        lines += ["### Guideline", ""]
        lines += [f"- **{t.field}:** {to_markdown(t.pieces)}" for t in r.changes.meta]
        lines.append("")
    if r.changes.classes:
        lines += ["### Classes", ""]
        for cls in r.changes.classes:
            was = f", was `{cls.renamed_from}`" if cls.renamed_from else ""
            lines.append(f"- **{md_text(cls.name)}** (`{cls.id}`{was}): {STATUS_WORDS[cls.status]}")
            lines += [f"  - **{t.field}:** {to_markdown(t.pieces)}" for t in cls.texts]
            lines += [f"  - {md_text(note)}" for note in cls.notes]
        lines.append("")
    return lines


def _md_side(side: ExampleSide | None, review: Review | None = None) -> str:
    if side is None:
        return "–"
    legend = ""
    if side.drawn is not None and review is not None:
        legend = "".join(f"<br>{md_cell(line)}" for line in _legend(review, side))
    if side.image is not None:
        if side.drawing_asset:
            media = f"![{md_text(side.verdict)}]({quote(side.drawing_asset)})"
        elif side.asset:
            media = f"![{md_text(side.verdict)}]({quote(side.asset)})"
        else:
            media = md_code(side.image) + (" (not available)" if side.missing else "")
    else:
        media = md_code(side.text or "")
    return f"{media}<br>**{md_cell(side.verdict)}.** {md_cell(side.why)}{legend}"


def _md_examples(r: Review) -> list[str]:
    if not r.changes.examples:
        return []
    lines = ["### Examples", "", "| Example | Before | After |", "| --- | --- | --- |"]
    for change in r.changes.examples:
        lines.append(
            f"| {_md_example_title(change)} | {_md_side(change.before, r)} | {_md_side(change.after, r)} |"
        )
    return [*lines, ""]


def _md_example_title(change: ExampleChange) -> str:
    what = f" ({', '.join(change.what)})" if change.what else ""
    return f"**{md_cell(change.class_name)}** · {KIND_WORDS[change.kind]} · {STATUS_WORDS[change.status]}{what}"


def _md_rules_and_tree(r: Review) -> list[str]:
    lines: list[str] = []
    if r.changes.rules:
        lines += ["### Rules", "", "| Rule | Change | Text |", "| --- | --- | --- |"]
        for rule in r.changes.rules:
            notes = "".join(f"<br>{md_cell(n)}" for n in rule.notes)
            text = to_markdown(rule.text.pieces) if rule.text else "(text unchanged)"
            lines.append(f"| {md_code(rule.id)} | {STATUS_WORDS[rule.status]}{notes} | {text} |")
        lines.append("")
    if r.changes.tree:
        lines += ["### Decision tree", "", "| Node | Before | After |", "| --- | --- | --- |"]
        for node in r.changes.tree:
            lines.append(
                f"| `{node.id}` ({STATUS_WORDS[node.status]}) | {md_cell(node.before or '–')} | {md_cell(node.after or '–')} |"
            )
        lines.append("")
    return lines


def _md_impact(r: Review) -> list[str]:
    if not r.impacts:
        return []
    lines = [
        "### Impact on labels",
        "",
        f"Current labels this change makes suspect: `labelspec trace impact DATASET --guideline {r.guideline} --preview`. "
        "Cost and hours are estimates from each source's recorded cost per label and lead time.",
        "",
        "| Dataset | Suspect labels | Items | Changed class | Confusable | Untrained labeler | Relabel cost | Labeler hours |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for found in r.impacts:
        if found.impact is None:
            lines.append(
                f"| {md_cell(found.dataset)} | not available: {md_cell(found.unavailable)} | | | | | | |"
            )
            continue
        i, why = found.impact, found.impact["by_reason"]
        share = i["affected_labels"] / i["total_labels"] if i["total_labels"] else 0
        lines.append(
            f"| {md_cell(found.dataset)} | {i['affected_labels']} of {i['total_labels']} ({share:.1%}) | {i['affected_items']} "
            f"| {why['affected']} | {why['confusable']} | {why['untrained']} | {_money(found.cost)} | {_hours(found.hours)} |"
        )
    rows = [(f, s) for f in r.impacts for s in f.sources]
    if rows:
        lines += [
            "",
            "| Dataset | Source | Suspect labels | Cost per label | Relabel cost | Lead time per label | Labeler hours |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for found, s in rows:
            lines.append(
                f"| {md_cell(found.dataset)} | {md_cell(s.source)} | {s.labels} | {_money(s.cost_per_label)} | {_money(s.cost)} "
                f"| {_seconds(s.lead_time_s)} | {_hours(s.hours)} |"
            )
    return [*lines, ""]


def _md_retraining(r: Review) -> list[str]:
    if not r.retraining:
        return []
    lines = [
        f"### Labelers to train after the release ({len(r.retraining)})",
        "",
        "| Labeler | Vendor | Certified on | Why |",
        "| --- | --- | --- | --- |",
    ]
    for row in r.retraining:
        lines.append(
            f"| {md_code(row.labeler)} | {md_cell(row.vendor)} | {md_cell(row.certified or '-')} | {md_cell(row.why)} |"
        )
    return [*lines, ""]


# -- HTML ------------------------------------------------------------------------------------------------
STYLE = (
    """
body{font-family:system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;color:#1f2328;line-height:1.45}
h1{font-size:1.6rem}h2{border-bottom:1px solid #d0d7de;padding-bottom:.3rem;margin-top:2rem}
del{background:#ffebe9;color:#82071e}ins{background:#dafbe1;color:#116329;text-decoration:none}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #d0d7de;padding:.35rem .6rem;vertical-align:top;text-align:left}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}.facts dt{font-weight:600}.facts dd{margin:0}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:1rem;border:1px solid #d0d7de;border-radius:6px;padding:.8rem;margin:.8rem 0}
.pair h3{grid-column:1/-1;margin:0;font-size:1rem}.pair figure{margin:0}.pair .none{color:#656d76;font-style:italic}
.pair img{width:12rem;height:12rem;object-fit:contain;image-rendering:pixelated;background:#fff;border:1px solid #d0d7de}
.pair figcaption{font-size:.85rem;margin-top:.3rem}.side{font-size:.75rem;text-transform:uppercase;color:#656d76}
.warn{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:.5rem 1rem}
.badge{font-size:.75rem;padding:.05rem .45rem;border-radius:1rem;background:#eaeef2}
.pair .legend{margin:.3rem 0 0;padding-left:1.2rem}
"""
    + drawing.CSS
)


def _li(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>" if items else ""


def html_page(review: Review) -> str:
    r = review
    facts = [
        (
            "Compared",
            f"{esc(r.base.label)} (<code>{esc(r.base.commit[:10])}</code>) → {esc(r.head)}",
        ),
        (
            "Release",
            f"needs <code>--bump {esc(r.bump)}</code> from {esc(r.bump_against)}: {esc(r.bump_why)}"
            if r.bump_against
            else f"the first one: {esc(r.bump_why)}",
        ),
    ]
    if r.affects:
        facts.append(("Labels it can change", esc(", ".join(_class(r, c) for c in r.affects))))
    if r.pending:
        p = r.pending
        facts.append(
            (
                "Changelog entry",
                f"{esc(p['summary'])}; affects {esc(', '.join(p.get('affects', [])) or 'nothing')}; "
                f"relabel <strong>{esc(p['relabel'])}</strong>",
            )
        )
    body = [
        f'<h1>Guideline review: {esc(r.title)} <span class="badge">{esc(r.guideline)}</span></h1>',
        '<dl class="facts">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>",
    ]
    if r.problems:
        body.append('<div class="warn">' + _li([esc(p) for p in r.problems]) + "</div>")
    if r.changes.empty:
        body.append(
            "<p>No changes to the guideline's classes, examples, rules or decision tree.</p>"
        )
    if r.changes.meta:
        body += [
            "<h2>Guideline</h2>",
            _li([f"<strong>{esc(t.field)}</strong>: {to_html(t.pieces)}" for t in r.changes.meta]),
        ]
    if r.changes.classes:
        body.append("<h2>Classes</h2>")
        for cls in r.changes.classes:
            was = f", was <code>{esc(cls.renamed_from)}</code>" if cls.renamed_from else ""
            items = [f"<strong>{esc(t.field)}</strong>: {to_html(t.pieces)}" for t in cls.texts]
            items += [esc(n) for n in cls.notes]
            body.append(
                f'<h3>{esc(cls.name)} <span class="badge">{esc(cls.id)}{was}</span> {STATUS_WORDS[cls.status]}</h3>{_li(items)}'
            )
    if r.changes.examples:
        body.append("<h2>Examples</h2>")
        body += [_html_pair(change, r) for change in r.changes.examples]
    body += _html_rules_and_tree(r)
    body += _html_impact(r)
    body += _html_labels(r)
    if r.retraining:
        rows = "".join(
            f"<tr><td><code>{esc(x.labeler)}</code></td><td>{esc(x.vendor)}</td><td>{esc(x.certified or '-')}</td><td>{esc(x.why)}</td></tr>"
            for x in r.retraining
        )
        body += [
            f"<h2>Labelers to train after the release ({len(r.retraining)})</h2>",
            f"<table><tr><th>Labeler</th><th>Vendor</th><th>Certified on</th><th>Why</th></tr>{rows}</table>",
        ]
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Review: {esc(r.title)}</title><style>{STYLE}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )


def _html_side(label: str, side: ExampleSide | None, review: Review | None = None) -> str:
    if side is None:
        return f'<figure><div class="side">{label}</div><p class="none">none</p></figure>'
    size = drawing.size_of(side.data) if side.drawn is not None and side.data else None
    legend = ""
    if side.image is not None and side.asset and size is not None and review is not None:
        lines = _legend(review, side)
        picture = f'<img src="{esc(quote(side.asset))}" alt="{esc(side.verdict)}">'
        found = drawing.recorded_marks(side.drawn)
        boxes = drawing.overlay(found, *size, " ".join([side.verdict, *lines]))
        media = f'<span class="ls-drawn">{picture}{boxes}</span>'
        legend = (
            '<ol class="legend">' + "".join(f"<li>{esc(line)}</li>" for line in lines) + "</ol>"
        )
    elif side.image is not None and side.asset:
        media = f'<img src="{esc(quote(side.asset))}" alt="{esc(side.verdict)}">'
    elif side.image is not None:
        media = f'<p class="none">{esc(side.image)} is not available{": " + esc(side.missing) if side.missing else ""}</p>'
    else:
        media = f"<blockquote>{esc(side.text or '')}</blockquote>"
    return (
        f'<figure><div class="side">{label}</div>{media}'
        f"<figcaption><strong>{esc(side.verdict)}.</strong> {esc(side.why)}{legend}</figcaption></figure>"
    )


def _html_pair(change: ExampleChange, review: Review | None = None) -> str:
    what = f" ({esc(', '.join(change.what))})" if change.what else ""
    return (
        f'<section class="pair"><h3>{esc(change.class_name)} · {KIND_WORDS[change.kind]} · '
        f"{STATUS_WORDS[change.status]}{what}</h3>"
        f"{_html_side('before', change.before, review)}{_html_side('after', change.after, review)}</section>"
    )


def _html_rules_and_tree(r: Review) -> list[str]:
    out = []
    if r.changes.rules:
        rows = "".join(
            f"<tr><td><code>{esc(rule.id)}</code></td><td>{STATUS_WORDS[rule.status]}"
            + "".join(f"<br>{esc(n)}" for n in rule.notes)
            + f"</td><td>{to_html(rule.text.pieces) if rule.text else '(text unchanged)'}</td></tr>"
            for rule in r.changes.rules
        )
        out += [
            "<h2>Rules</h2>",
            f"<table><tr><th>Rule</th><th>Change</th><th>Text</th></tr>{rows}</table>",
        ]
    if r.changes.tree:
        rows = "".join(
            f"<tr><td><code>{esc(n.id)}</code> {STATUS_WORDS[n.status]}</td><td>{esc(n.before or '–')}</td><td>{esc(n.after or '–')}</td></tr>"
            for n in r.changes.tree
        )
        out += [
            "<h2>Decision tree</h2>",
            f"<table><tr><th>Node</th><th>Before</th><th>After</th></tr>{rows}</table>",
        ]
    return out


def _html_impact(r: Review) -> list[str]:
    if not r.impacts:
        return []
    rows = []
    for found in r.impacts:
        if found.impact is None:
            rows.append(
                f'<tr><td>{esc(found.dataset)}</td><td colspan="7">not available: {esc(found.unavailable)}</td></tr>'
            )
            continue
        i, why = found.impact, found.impact["by_reason"]
        rows.append(
            f"<tr><td>{esc(found.dataset)}</td><td>{i['affected_labels']} of {i['total_labels']}</td><td>{i['affected_items']}</td>"
            f"<td>{why['affected']}</td><td>{why['confusable']}</td><td>{why['untrained']}</td>"
            f"<td>{_money(found.cost)}</td><td>{_hours(found.hours)}</td></tr>"
        )
    sources = "".join(
        f"<tr><td>{esc(f.dataset)}</td><td>{esc(s.source)}</td><td>{s.labels}</td><td>{_money(s.cost_per_label)}</td>"
        f"<td>{_money(s.cost)}</td><td>{_seconds(s.lead_time_s)}</td><td>{_hours(s.hours)}</td></tr>"
        for f in r.impacts
        for s in f.sources
    )
    out = [
        "<h2>Impact on labels</h2>",
        f"<p>Equal to <code>labelspec trace impact DATASET --guideline {esc(r.guideline)} --preview</code>; "
        "cost and hours are estimates from each source's recorded cost per label and lead time.</p>",
        "<table><tr><th>Dataset</th><th>Suspect labels</th><th>Items</th><th>Changed class</th><th>Confusable</th>"
        f"<th>Untrained labeler</th><th>Relabel cost</th><th>Labeler hours</th></tr>{''.join(rows)}</table>",
    ]
    if sources:
        out.append(
            "<table><tr><th>Dataset</th><th>Source</th><th>Suspect labels</th><th>Cost per label</th><th>Relabel cost</th>"
            f"<th>Lead time per label</th><th>Labeler hours</th></tr>{sources}</table>"
        )
    return out


# -- which labels the impact counts (guideline/review_labels.py) -----------------------------------
def _labels_lines(r: Review) -> list[tuple[str, str, str, str]]:
    """(dataset, revision, commit, why) of every dataset whose impact was estimated."""
    return [
        (f.dataset, f.labels_at, f.labels_commit or "", f.labels_why or "")
        for f in r.impacts
        if f.labels_at
    ]


def _md_labels(r: Review) -> list[str]:
    counted = _labels_lines(r)
    if not counted and not r.warnings:
        return []
    lines = [
        f"Labels counted in `{md_cell(d)}`: those at **{md_text(at)}** (`{commit[:10]}`), "
        f"{md_text(why)}.  "
        for d, at, commit, why in counted
    ]
    if r.warnings:
        lines += ["", "> [!WARNING]", *[f"> {md_text(w)}  " for w in r.warnings]]
    return [*lines, ""]


def _html_labels(r: Review) -> list[str]:
    counted = _labels_lines(r)
    out = [
        f"<p>Labels counted in <code>{esc(d)}</code>: those at <strong>{esc(at)}</strong> "
        f"(<code>{esc(commit[:10])}</code>), {esc(why)}.</p>"
        for d, at, commit, why in counted
    ]
    if r.warnings:
        out.append('<div class="warn">' + _li([esc(w) for w in r.warnings]) + "</div>")
    return out
