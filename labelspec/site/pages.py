"""Markdown for every page of a guideline's site, rendered from the spec (pure functions).

Spec fields are Markdown: ``md_field`` escapes their HTML (and attribute lists), so emphasis and
links work and markup does not; ``lit`` shows a string exactly as written; our own structure is
raw HTML around them. The plugin then passes every rendered page through ``safe.clean_html``.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from labelspec.guideline.changes import Changes, verdict
from labelspec.guideline.diff import SpecDiff
from labelspec.guideline.spec import BorderlineExample, CounterExample, Example, LabelClass, Spec
from labelspec.site import drawing
from labelspec.site.safe import esc, lit, md_field

KIND_TITLES = {
    "positive": ("Typical examples", "Label these as {name}."),
    "counter": ("Counterexamples", "These are *not* {name}."),
    "borderline": ("Borderline cases", "Hard calls, with the decision and the rule behind it."),
}
PRINT_URI = "print.md"


@dataclass
class Release:
    version: str
    date: str | None
    summary: str
    relabel: str
    affects: list[str]
    digest: str | None = None


@dataclass
class GuidelineSite:
    """Everything the pages of one guideline need."""

    spec: Spec
    releases: list[Release] = field(default_factory=list)  # oldest first
    diffs: dict[str, SpecDiff] = field(default_factory=dict)  # version -> diff from the one before
    changes: dict[str, Changes] = field(default_factory=dict)  # version -> words and pictures
    guides: list[tuple[str, str, str]] = field(default_factory=list)  # (slug, title, markdown)
    images: dict[str, str] = field(default_factory=dict)  # spec image path -> uri inside the site
    # (class, kind, index) of an example with a drawn answer -> (uri of the standalone drawing
    # the lightbox shows, picture width, height)
    drawings: dict[tuple[str, str, int], tuple[str, int, int]] = field(default_factory=dict)
    draft: str | None = None  # why these pages are not a release, when they are not

    @property
    def names(self) -> dict[str, str]:
        return {c.id: c.name for c in self.spec.classes}


def class_uri(class_id: str) -> str:
    return f"classes/{class_id}.md"


def rule_anchor(rule_id: str) -> str:
    return "rule-" + re.sub(r"[^a-z0-9_-]", "-", rule_id.lower())


def rel(from_page: str, target: str) -> str:
    """A relative link from one page (uri) to another uri in the same guideline site."""
    return posixpath.relpath(target, posixpath.dirname(from_page) or ".")


def class_link(site: GuidelineSite, page: str, class_id: str) -> str:
    cls = site.spec.get_class(class_id)
    if cls is None:
        return f"`{lit(class_id)}`"
    return f"[{lit(cls.name)}]({rel(page, class_uri(class_id))})"


def rule_link(page: str, rule_id: str) -> str:
    return f"[{lit(rule_id)}]({rel(page, 'rules.md')}#{rule_anchor(rule_id)})"


# -- examples ----------------------------------------------------------------------------------------
def picture(src: str, alt: str, why: str, eager: bool = False, css: str = "") -> str:
    """Markdown image syntax, so mkdocs rewrites ``src`` for the page's URL. GLightbox shows
    ``data-title`` and ``data-description``; ``clean_html`` escapes them once more for it."""
    loading = "eager" if eager else "lazy"
    klass = f".{css} " if css else ""
    return (
        f"![{lit(_one_line(alt))}](<{quote(src, safe='/._-~')}>)"
        f'{{ {klass}loading={loading} data-title="{_attr(alt)}" data-description="{_attr(why)}" }}'
    )


def _one_line(value: str) -> str:
    return " ".join(value.split())


def _attr(value: str) -> str:
    """A value inside an attribute list. Markdown reads the paragraph, attribute list included,
    before the list becomes attributes: so one line, and every character Markdown or the list
    could take as syntax written as an entity."""
    return lit(_one_line(value))


def drawn_picture(
    page: str,
    src: str,
    lightbox: str,
    size: tuple[int, int],
    found: list[drawing.Mark],
    alt: str,
    why: str,
    lines: list[str],
    eager: bool = False,
) -> str:
    """The picture with its drawn boxes: an SVG over it, and a link to the standalone drawing
    for the lightbox (the picture alone would lose the boxes there), whose caption carries the
    legend in words."""
    width, height = size
    loading = "eager" if eager else "lazy"
    image = (
        f"![{lit(_one_line(alt))}](<{quote(rel(page, src), safe='/._-~')}>)"
        f"{{ loading={loading} width={width} height={height} }}"
    )
    described = " ".join([why, *lines])
    link = (
        f"[{image}](<{quote(rel(page, lightbox), safe='/._-~')}>)"
        f'{{ .glightbox data-type="image" data-title="{_attr(alt)}" '
        f'data-description="{_attr(described)}" }}'
    )
    label = f"{alt}. " + " ".join(lines)
    return f'<span class="ls-drawn">{link}{drawing.overlay(found, width, height, label)}</span>'


def _media(
    site: GuidelineSite,
    page: str,
    example: Example,
    alt: str,
    eager: bool,
    where: tuple[str, str, int] | None = None,
) -> str:
    if example.image is not None and where in site.drawings:
        lightbox, width, height = site.drawings[where]
        found = drawing.marks(example)
        lines = drawing.legend(found, site.names, nothing=example.boxes == [])
        return drawn_picture(
            page, site.images[example.image], lightbox, (width, height), found, alt,
            example.why, lines, eager,
        )  # fmt: skip
    if example.image is not None:
        return picture(rel(page, site.images[example.image]), alt, example.why, eager)
    text = example.text or ""
    pieces, cursor = [], 0
    for span in sorted(example.spans, key=lambda s: s.start):
        pieces.append(lit(text[cursor : span.start]))
        pieces.append(f'<mark title="{esc(span.label)}">{lit(text[span.start : span.end])}</mark>')
        cursor = span.end
    pieces.append(lit(text[cursor:]))
    return f'<span class="ls-text-example">{"".join(pieces)}</span>'


def _caption(site: GuidelineSite, page: str, example: Example) -> str:
    """The decision first, linked to its class, then why: "Counterexample: label as One. ..."."""
    why = md_field(example.why)
    if isinstance(example, CounterExample):
        label = class_link(site, page, example.label) if example.label else "none of the classes"
        return f"**Counterexample: label as {label}.** {why}"
    if isinstance(example, BorderlineExample):
        rule = f" (rule {rule_link(page, example.rule)})" if example.rule else ""
        return f"**Borderline: label as {class_link(site, page, example.decision)}{rule}.** {why}"
    return why


def _figure(
    site: GuidelineSite,
    page: str,
    cls: LabelClass,
    example: Example,
    eager: bool,
    where: tuple[str, str, int] | None = None,
) -> str:
    alt = verdict(example, cls.name, site.names)
    caption = _caption(site, page, example)
    if where in site.drawings:
        lines = drawing.legend(drawing.marks(example), site.names, nothing=example.boxes == [])
        caption += " " + "".join(
            f'<span class="ls-legend-line">{lit(line)}</span>' for line in lines
        )
    return (
        f'<figure markdown="span">\n{_media(site, page, example, alt, eager, where)}\n'
        f'<figcaption markdown="span">{caption}</figcaption>\n</figure>'
    )


# -- pages --------------------------------------------------------------------------------------------
def _rules_for(spec: Spec, cls: LabelClass) -> tuple[list, list]:
    """(rules about this class: scoped to it or cited by its examples, the general ones)."""
    cited = {
        ex.rule
        for _k, _i, ex in cls.examples.all()
        if isinstance(ex, BorderlineExample) and ex.rule
    }
    own = [r for r in spec.rules if cls.id in r.applies_to or r.id in cited]
    general = [r for r in spec.rules if not r.applies_to and r not in own]
    return own, general


def class_page(site: GuidelineSite, cls: LabelClass, page: str | None = None) -> str:
    spec, page = site.spec, page or class_uri(cls.id)
    eager = page == PRINT_URI  # a printer does not scroll: lazy pictures would stay blank
    lines = [f"# {lit(cls.name)}", "", f'<span class="ls-badge">{lit(cls.id)}</span>', ""]
    lines += [f"**Definition.** {md_field(cls.definition)}", ""]
    if cls.synonyms:
        lines += [f"**Also called:** {', '.join(lit(s) for s in cls.synonyms)}", ""]
    if cls.confusable_with:
        links = ", ".join(class_link(site, page, other) for other in cls.confusable_with)
        lines += [f"**Often confused with:** {links}", ""]
    lines += ['<div class="ls-columns" markdown>', "", "<div markdown>", "", "## Include", ""]
    lines += [f"- {md_field(x)}" for x in cls.include] or ["- (nothing listed)"]
    lines += ["", "</div>", "", "<div markdown>", "", "## Exclude", ""]
    lines += [f"- {md_field(x)}" for x in cls.exclude] or ["- (nothing listed)"]
    lines += ["", "</div>", "", "</div>", ""]
    own, general = _rules_for(spec, cls)
    thresholds = []
    min_box = spec.min_box_px(cls.id)
    if min_box:
        thresholds.append(f"Boxes at least **{min_box} px** on their shorter side.")
    for rule in spec.rules:
        if rule.min_span_chars and (not rule.applies_to or cls.id in rule.applies_to):
            thresholds.append(
                f"Spans at least **{rule.min_span_chars} characters** (rule {rule_link(page, rule.id)})."
            )
    if thresholds:
        lines += ["## Thresholds", "", *[f"- {t}" for t in thresholds], ""]
    if cls.attributes:
        lines += [
            "## Attributes",
            "",
            "| Attribute | Type | Values | Required |",
            "| --- | --- | --- | --- |",
        ]
        for attr in cls.attributes:
            values = ", ".join(f"<code>{lit(v)}</code>" for v in attr.values) or (
                "true / false" if attr.type == "boolean" else "free text"
            )
            required = (
                '<span class="ls-badge required">required</span>' if attr.required else "optional"
            )
            name = f" {md_field(attr.name, table=True)}" if attr.name else ""
            about = f"<br>{md_field(attr.description, table=True)}" if attr.description else ""
            lines.append(
                f"| <code>{lit(attr.id)}</code>{name}{about} | {attr.type} | {values} | {required} |"
            )
        lines.append("")
    lines += ["## Examples", ""]
    for kind in ("positive", "counter", "borderline"):
        examples = getattr(cls.examples, kind)
        if not examples:
            continue
        title, intro = KIND_TITLES[kind]
        lines += [f"### {title}", "", intro.format(name=lit(cls.name)), ""]
        lines += [f'<div class="ls-gallery {kind}" markdown>', ""]
        for i, example in enumerate(examples):
            lines += [_figure(site, page, cls, example, eager, (cls.id, kind, i)), ""]
        lines += ["</div>", ""]
    if own:
        lines += [f"## Rules for {lit(cls.name)}", ""]
        lines += [
            f"- **{rule_link(page, r.id)}** {md_field(r.text)}"
            + (f" *(only for: {lit(r.where.describe())})*" if r.where is not None else "")
            for r in own
        ]
        lines.append("")
    if general:
        links = ", ".join(rule_link(page, r.id) for r in general)
        lines += [f"*General rules, for every class:* {links}.", ""]
    changed = [v for v, d in site.diffs.items() if cls.id in d.affects]
    if changed:
        links = ", ".join(f"[{lit(v)}]({rel(page, f'changes/{v}.md')})" for v in changed)
        lines += [f"*Changed in:* {links}", ""]
    return "\n".join(lines)


def _thumbnail(site: GuidelineSite, page: str, cls: LabelClass) -> str:
    example = next((e for _k, _i, e in cls.examples.all() if e.image is not None), None)
    if example is None:
        return " "
    src = rel(page, site.images[example.image])
    alt = verdict(example, cls.name, site.names)
    image = picture(src, alt, example.why, eager=page == PRINT_URI, css="ls-thumb")
    return f"[{image}]({rel(page, class_uri(cls.id))})"


def _version_badge(site: GuidelineSite) -> str:
    if site.draft:
        return f'<span class="ls-badge draft">draft after {esc(site.spec.version)}</span>'
    return f'<span class="ls-badge">version {esc(site.spec.version)}</span>'


def home_page(site: GuidelineSite, page: str = "index.md") -> str:
    spec = site.spec
    lines = [f"# {lit(spec.title)}", ""]
    lines += [
        f"{_version_badge(site)} "
        f'<span class="ls-badge">{esc(spec.task)}</span> '
        f'<span class="ls-badge">owners: {esc(", ".join(spec.owners) or "-")}</span>',
        "",
    ]
    if spec.description:
        lines += [md_field(spec.description), ""]
    latest = site.releases[-1] if site.releases else None
    if latest and latest.version in site.diffs and not site.draft:
        lines += [
            f'!!! info "What changed in {esc(latest.version)}"',
            f"    {md_field(latest.summary)} [Read what changed]({rel(page, f'changes/{latest.version}.md')}).",
            "",
        ]
    lines += [
        "## Classes",
        "",
        "| Example | Class | Definition | Often confused with |",
        "| --- | --- | --- | --- |",
    ]
    for cls in spec.classes:
        confused = ", ".join(class_link(site, page, c) for c in cls.confusable_with) or "-"
        lines.append(
            f"| {_thumbnail(site, page, cls)} | {class_link(site, page, cls.id)} "
            f"| {md_field(cls.definition, table=True)} | {confused} |"
        )
    if page == PRINT_URI:
        return "\n".join(lines) + "\n"
    lines += ["", "## Read next", "", f"- [Rules]({rel(page, 'rules.md')})"]
    if spec.decision_tree:
        lines.append(f"- [Decision tree]({rel(page, 'decision-tree.md')})")
    lines += [
        f"- [{lit(title)}]({rel(page, f'guide/{slug}.md')})" for slug, title, _ in site.guides
    ]
    lines += [
        f"- [Changelog]({rel(page, 'changelog.md')})",
        f"- [The whole guideline on one page, to print or save as PDF]({rel(page, PRINT_URI)})",
        "",
    ]
    return "\n".join(lines)


def rules_page(site: GuidelineSite, page: str = "rules.md") -> str:
    lines = ["# Rules", "", "These apply to every item unless a rule names its classes.", ""]
    for rule in site.spec.rules:
        lines += [f"## {lit(rule.id)} {{ #{rule_anchor(rule.id)} }}", "", md_field(rule.text), ""]
        if rule.applies_to:
            lines += [
                "Applies to: " + ", ".join(class_link(site, page, c) for c in rule.applies_to),
                "",
            ]
        if rule.where is not None:
            lines += [f"Only for: {lit(rule.where.describe())}.", ""]
        if rule.min_box_px:
            lines += [f"Minimum box size: **{rule.min_box_px} px**.", ""]
        if rule.min_span_chars:
            lines += [f"Minimum span length: **{rule.min_span_chars} characters**.", ""]
    return "\n".join(lines)


def decision_tree_page(site: GuidelineSite, page: str = "decision-tree.md") -> str:
    """One tree, drawn with nested lists: readable without any script, printable, searchable.
    Questions that no other question leads to hang under one start, each labeled with the
    classes it decides between, so a labeler knows where to begin."""
    nodes = {n.id: n for n in site.spec.decision_tree}
    targets = {n.yes for n in nodes.values()} | {n.no for n in nodes.values()}
    roots = [n for n in site.spec.decision_tree if n.id not in targets] or site.spec.decision_tree[
        :1
    ]

    def reaches(node_id: str, seen: set[str]) -> list[str]:
        if node_id not in nodes:
            return [node_id]
        if node_id in seen:
            return []
        seen.add(node_id)
        node = nodes[node_id]
        found = reaches(node.yes, seen) + reaches(node.no, seen)
        return list(dict.fromkeys(found))

    def render(node_id: str, depth: int, lines: list[str], seen: set[str]) -> None:
        seen = seen | {node_id}  # check refuses loops; this keeps a broken draft from recursing
        node = nodes[node_id]
        for answer, target in (("Yes", node.yes), ("No", node.no)):
            pad = "    " * depth
            if target in nodes and target not in seen:
                lines.append(f"{pad}- *{answer}* → **{lit(nodes[target].question)}**")
                render(target, depth + 1, lines, seen)
            else:
                lines.append(f"{pad}- *{answer}* → label as {class_link(site, page, target)}")

    lines = ["# Decision tree", "", "Start at the top and follow your answers to a class.", ""]
    lines += ['<div class="ls-tree" markdown>', ""]
    if len(roots) == 1:
        lines.append(f"- **{lit(roots[0].question)}**")
        render(roots[0].id, 1, lines, set())
    else:
        lines.append("- **Which classes could it be?** Take the branch that names them.")
        for root in roots:
            order = {c: i for i, c in enumerate(site.names)}
            found = sorted(reaches(root.id, set()), key=lambda c: order.get(c, len(order)))
            names = " or ".join(lit(site.names.get(c, c)) for c in found)
            lines.append(f"    - *{names}* → **{lit(root.question)}**")
            render(root.id, 2, lines, set())
    lines += ["", "</div>", ""]
    return "\n".join(lines)


def changelog_page(site: GuidelineSite, page: str = "changelog.md") -> str:
    lines = [
        "# Changelog",
        "",
        "| Version | Date | Summary | Classes affected | Relabel |",
        "| --- | --- | --- | --- | --- |",
    ]
    for release in reversed(site.releases):
        version = (
            f"[{esc(release.version)}]({rel(page, f'changes/{release.version}.md')})"
            if release.version in site.diffs
            else esc(release.version)
        )
        affects = ", ".join(class_link(site, page, c) for c in release.affects) or "-"
        lines.append(
            f"| {version} | {esc(release.date or '-')} | {md_field(release.summary, table=True)} "
            f"| {affects} | {esc(release.relabel)} |"
        )
    return "\n".join(lines) + "\n"


# -- labelers, print, all pages -----------------------------------------------------------------------
def labelers_page(rows: list[dict[str, Any]], vendor: str | None = None) -> str:
    title = f"Labelers of {lit(vendor)}" if vendor else "Labelers"
    lines = [
        f"# {title}",
        "",
        "Pseudonymous ids only. *Certified* is the newest guideline version the labeler passed; a pass still counts "
        "after releases that changed no class.",
        "",
        "| Labeler | Vendor | Guideline | Certified on | Current release | Status |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        action = re.sub(r"[^a-z-]", "-", str(row["action"]))
        badge = f'<span class="ls-badge {action}">{lit(row["action"])}</span>'
        lines.append(
            f"| <code>{lit(row['labeler'])}</code> | {lit(row['vendor'])} | {lit(row['guideline'])} "
            f"| {lit(row['certified'] or '-')} | {lit(row['current'] or '-')} | {badge} |"
        )
    if not rows:
        lines.append("| - | - | - | - | - | - |")
    return "\n".join(lines) + "\n"


def _demote(markdown: str) -> str:
    """Every heading one level down, so whole pages become sections of the print page."""
    return re.sub(r"^(#{1,5}) ", r"#\1 ", markdown, flags=re.MULTILINE)


def print_page(site: GuidelineSite) -> str:
    """The release on one page, for a printer or a PDF: overview, rules, tree, every class,
    changelog. Links still point at the site's pages."""
    spec = site.spec
    parts = [_demote(home_page(site, PRINT_URI)).replace("## ", "# ", 1)]
    parts.append(_demote(rules_page(site, PRINT_URI)))
    if spec.decision_tree:
        parts.append(_demote(decision_tree_page(site, PRINT_URI)))
    parts += [_demote(class_page(site, cls, PRINT_URI)) for cls in spec.classes]
    parts.append(_demote(changelog_page(site, PRINT_URI)))
    return "\n\n".join(parts)
