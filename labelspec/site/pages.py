"""Markdown for every page of a guideline's site, rendered from the spec (pure functions).

Every string taken from a spec, a changelog or the roster is HTML-escaped before it lands in the
page: authors and labelers' ids are data, not markup.
"""

from __future__ import annotations

import html
import posixpath
from dataclasses import dataclass, field
from typing import Any

from labelspec.guideline.spec import BorderlineExample, CounterExample, Example, LabelClass, Spec
from labelspec.guideline.diff import SpecDiff

KIND_TITLES = {
    "positive": ("Typical examples", "Label these as {name}."),
    "counter": ("Counterexamples", "These are *not* {name}."),
    "borderline": ("Borderline cases", "Hard calls, with the decision and the rule behind it."),
}


def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


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
    guides: list[tuple[str, str, str]] = field(default_factory=list)  # (slug, title, markdown)
    images: dict[str, str] = field(default_factory=dict)  # spec image path -> uri inside the site


def class_uri(class_id: str) -> str:
    return f"classes/{class_id}.md"


def rel(from_page: str, target: str) -> str:
    """A relative link from one page (uri) to another uri in the same guideline site."""
    return posixpath.relpath(target, posixpath.dirname(from_page) or ".")


def _class_link(site: GuidelineSite, from_page: str, class_id: str) -> str:
    cls = site.spec.get_class(class_id)
    name = esc(cls.name) if cls else esc(class_id)
    if cls is None:
        return f"`{esc(class_id)}`"
    return f"[{name}]({rel(from_page, class_uri(class_id))})"


def _attr(text: str) -> str:
    """A value for an attr_list attribute: escaped, without quotes or braces that would end it."""
    return esc(text).replace("&quot;", "'").replace("{", "(").replace("}", ")")


def _figure(site: GuidelineSite, page: str, example: Example, caption: str, alt: str) -> str:
    if example.image is not None:
        src = rel(page, site.images[example.image])
        media = (
            f'![{_attr(alt)}]({src}){{ loading=lazy data-title="{_attr(alt)}" '
            f'data-description="{_attr(example.why)}" }}'
        )
    else:
        text = example.text or ""
        pieces, cursor = [], 0
        for span in sorted(example.spans, key=lambda s: s.start):
            pieces.append(esc(text[cursor : span.start]))
            pieces.append(
                f'<mark title="{esc(span.label)}">{esc(text[span.start : span.end])}</mark>'
            )
            cursor = span.end
        pieces.append(esc(text[cursor:]))
        media = f'<span class="ls-text-example">{"".join(pieces)}</span>'
    return f'<figure markdown="span">\n{media}\n<figcaption markdown="span">{caption}</figcaption>\n</figure>'


def class_page(site: GuidelineSite, cls: LabelClass) -> str:
    spec = site.spec
    page = class_uri(cls.id)
    lines = [f"# {esc(cls.name)}", "", f'<span class="ls-badge">`{esc(cls.id)}`</span>', ""]
    lines += [f"**Definition.** {esc(cls.definition)}", ""]
    if cls.synonyms:
        lines += [f"**Also called:** {', '.join(esc(s) for s in cls.synonyms)}", ""]
    if cls.confusable_with:
        links = ", ".join(_class_link(site, page, other) for other in cls.confusable_with)
        lines += [f"**Often confused with:** {links}", ""]
    lines += ['<div class="ls-columns" markdown>', "", "<div markdown>", "", "## Include", ""]
    lines += [f"- {esc(x)}" for x in cls.include] or ["- (nothing listed)"]
    lines += ["", "</div>", "", "<div markdown>", "", "## Exclude", ""]
    lines += [f"- {esc(x)}" for x in cls.exclude] or ["- (nothing listed)"]
    lines += ["", "</div>", "", "</div>", ""]
    rules = [r for r in spec.rules if not r.applies_to or cls.id in r.applies_to]
    thresholds = []
    min_box = spec.min_box_px(cls.id)
    if min_box:
        thresholds.append(f"Boxes at least **{min_box} px** on their shorter side.")
    for rule in rules:
        if rule.min_span_chars:
            thresholds.append(
                f"Spans at least **{rule.min_span_chars} characters** (rule {esc(rule.id)})."
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
            values = ", ".join(f"`{esc(v)}`" for v in attr.values) or (
                "true / false" if attr.type == "boolean" else "free text"
            )
            required = (
                '<span class="ls-badge required">required</span>' if attr.required else "optional"
            )
            label = esc(attr.name or attr.id)
            lines.append(
                f"| `{esc(attr.id)}` {label if attr.name else ''} | {attr.type} | {values} | {required} |"
            )
        lines.append("")
    lines += ["## Examples", ""]
    for kind in ("positive", "counter", "borderline"):
        examples = getattr(cls.examples, kind)
        if not examples:
            continue
        title, intro = KIND_TITLES[kind]
        lines += [
            f"### {title}",
            "",
            intro.format(name=esc(cls.name)),
            "",
            f'<div class="ls-gallery {kind}" markdown>',
            "",
        ]
        for example in examples:
            lines += [
                _figure(
                    site, page, example, _caption(site, page, kind, example), f"{cls.name}: {kind}"
                ),
                "",
            ]
        lines += ["</div>", ""]
    if rules:
        lines += ["## Rules that apply", ""]
        lines += [f"- **{esc(r.id)}** {esc(r.text)}" for r in rules]
        lines.append("")
    changed = [v for v, d in site.diffs.items() if cls.id in d.affects]
    if changed:
        links = ", ".join(f"[{esc(v)}]({rel(page, f'changes/{v}.md')})" for v in changed)
        lines += [f"*Changed in:* {links}", ""]
    return "\n".join(lines)


def _caption(site: GuidelineSite, page: str, kind: str, example: Example) -> str:
    why = esc(example.why)
    if isinstance(example, CounterExample):
        label = _class_link(site, page, example.label) if example.label else "none of the classes"
        return f"Label as {label}. {why}"
    if isinstance(example, BorderlineExample):
        rule = f" (rule {esc(example.rule)})" if example.rule else ""
        return f"Decision: {_class_link(site, page, example.decision)}{rule}. {why}"
    return why


def home_page(site: GuidelineSite) -> str:
    spec = site.spec
    page = "index.md"
    lines = [f"# {esc(spec.title)}", ""]
    lines += [
        f'<span class="ls-badge">version {esc(spec.version)}</span> '
        f'<span class="ls-badge">{esc(spec.task)}</span> '
        f'<span class="ls-badge">owners: {esc(", ".join(spec.owners) or "-")}</span>',
        "",
    ]
    if spec.description:
        lines += [esc(spec.description), ""]
    latest = site.releases[-1] if site.releases else None
    if latest and latest.version in site.diffs:
        lines += [
            f'!!! info "What changed in {esc(latest.version)}"',
            f"    {esc(latest.summary)} [Read what changed]({rel(page, f'changes/{latest.version}.md')}).",
            "",
        ]
    lines += [
        "## Classes",
        "",
        "| Class | Definition | Often confused with |",
        "| --- | --- | --- |",
    ]
    for cls in spec.classes:
        confused = ", ".join(_class_link(site, page, c) for c in cls.confusable_with) or "-"
        lines.append(f"| {_class_link(site, page, cls.id)} | {esc(cls.definition)} | {confused} |")
    lines += ["", "## Read next", ""]
    lines += (
        [
            f"- [Rules]({rel(page, 'rules.md')})",
            f"- [Decision tree]({rel(page, 'decision-tree.md')})",
        ]
        if spec.decision_tree
        else [f"- [Rules]({rel(page, 'rules.md')})"]
    )
    lines += [
        f"- [{esc(title)}]({rel(page, f'guide/{slug}.md')})" for slug, title, _ in site.guides
    ]
    lines += [f"- [Changelog]({rel(page, 'changelog.md')})", ""]
    return "\n".join(lines)


def rules_page(site: GuidelineSite) -> str:
    page = "rules.md"
    lines = ["# Rules", "", "These apply to every item unless a rule names its classes.", ""]
    for rule in site.spec.rules:
        lines += [f"## {esc(rule.id)}", "", esc(rule.text), ""]
        if rule.applies_to:
            lines += [
                "Applies to: " + ", ".join(_class_link(site, page, c) for c in rule.applies_to),
                "",
            ]
        if rule.min_box_px:
            lines += [f"Minimum box size: **{rule.min_box_px} px**.", ""]
        if rule.min_span_chars:
            lines += [f"Minimum span length: **{rule.min_span_chars} characters**.", ""]
    return "\n".join(lines)


def decision_tree_page(site: GuidelineSite) -> str:
    """The tree as nested lists: readable without any script, printable, searchable."""
    page = "decision-tree.md"
    nodes = {n.id: n for n in site.spec.decision_tree}
    targets = {n.yes for n in nodes.values()} | {n.no for n in nodes.values()}
    roots = [n for n in site.spec.decision_tree if n.id not in targets] or site.spec.decision_tree[
        :1
    ]

    def render(node_id: str, depth: int, lines: list[str]) -> None:
        node = nodes[node_id]
        for answer, target in (("Yes", node.yes), ("No", node.no)):
            pad = "    " * depth
            if target in nodes:
                lines.append(f"{pad}- *{answer}* → **{esc(nodes[target].question)}**")
                render(target, depth + 1, lines)
            else:
                lines.append(f"{pad}- *{answer}* → label as {_class_link(site, page, target)}")

    lines = [
        "# Decision tree",
        "",
        "Start at the top question and follow your answers to a class.",
        "",
    ]
    for root in roots:
        lines += ['<div class="ls-tree" markdown>', "", f"- **{esc(root.question)}**"]
        render(root.id, 1, lines)
        lines += ["", "</div>", ""]
    return "\n".join(lines)


def changelog_page(site: GuidelineSite) -> str:
    page = "changelog.md"
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
        affects = ", ".join(_class_link(site, page, c) for c in release.affects) or "-"
        lines.append(
            f"| {version} | {esc(release.date or '-')} | {esc(release.summary)} | {affects} | {esc(release.relabel)} |"
        )
    return "\n".join(lines) + "\n"


def changes_page(site: GuidelineSite, release: Release, change: SpecDiff) -> str:
    page = f"changes/{release.version}.md"
    lines = [f"# What changed in {esc(release.version)}", ""]
    lines += [
        f"**{esc(release.summary)}** ({esc(release.date or '')}, from {esc(change.from_version)})",
        "",
    ]
    if release.relabel != "none":
        lines += [
            f'!!! warning "Relabeling {esc(release.relabel)}"',
            f"    Labels of {', '.join(esc(c) for c in change.affects) or 'these classes'} made under earlier versions are being reviewed.",
            "",
        ]
    if change.affects:
        lines += [
            "Classes whose labels this can change: "
            + ", ".join(_class_link(site, page, c) for c in change.affects),
            "",
        ]
    if change.added:
        lines += [
            "## New classes",
            "",
            *[f"- {_class_link(site, page, c)}" for c in change.added],
            "",
        ]
    if change.removed:
        lines += ["## Removed classes", "", *[f"- `{esc(c)}`" for c in change.removed], ""]
    for pair in change.renamed:
        lines += [f"- `{esc(pair['from'])}` is now {_class_link(site, page, pair['to'])}", ""]
    for class_id, changes in change.changed.items():
        lines += [f"## {_class_link(site, page, class_id)}", ""]
        for item in changes:
            lines.append(f"- {_describe(item)}")
        lines.append("")
    rules = change.rules
    if rules["added"] or rules["removed"] or rules["changed"]:
        lines += ["## Rules", ""]
        lines += [
            f"- New rule **{esc(r)}**: {esc(site.spec.get_rule(r).text if site.spec.get_rule(r) else '')}"
            for r in rules["added"]
        ]
        lines += [f"- Rule **{esc(r)}** removed" for r in rules["removed"]]
        for rule_id, item in rules["changed"].items():
            for name, values in item["fields"].items():
                lines.append(
                    f"- Rule **{esc(rule_id)}** {esc(name)}: ~~{esc(values['from'])}~~ → {esc(values['to'])}"
                )
        lines.append("")
    if change.decision_tree_changed:
        lines += [f"The [decision tree]({rel(page, 'decision-tree.md')}) changed.", ""]
    return "\n".join(lines)


def _describe(item: dict[str, Any]) -> str:
    name = esc(item["field"]).replace("examples.", "examples: ")
    if "from" in item:
        return f"**{name}**: ~~{esc(item['from'])}~~ → {esc(item['to'])}"
    parts = []
    for key, word in (("added", "added"), ("removed", "removed"), ("changed", "changed")):
        values = item.get(key)
        if values:
            values = values if isinstance(values, list) else list(values)
            parts.append(f"{word} {', '.join(esc(v) for v in values)}")
    return f"**{name}**: {'; '.join(parts)}"


def labelers_page(rows: list[dict[str, Any]]) -> str:
    lines = [
        "# Labelers",
        "",
        "Pseudonymous ids only. *Certified* is the newest guideline version the labeler passed; a pass still counts "
        "after releases that changed no class.",
        "",
        "| Labeler | Vendor | Guideline | Certified on | Current release | Status |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        badge = f'<span class="ls-badge {esc(row["action"]).replace(" ", "-")}">{esc(row["action"])}</span>'
        lines.append(
            f"| `{esc(row['labeler'])}` | {esc(row['vendor'])} | {esc(row['guideline'])} | {esc(row['certified'] or '-')} "
            f"| {esc(row['current'] or '-')} | {badge} |"
        )
    if not rows:
        lines.append("| - | - | - | - | - | - |")
    return "\n".join(lines) + "\n"


def guideline_pages(site: GuidelineSite) -> dict[str, str]:
    """uri -> markdown for every generated page of one guideline (uris relative to its root)."""
    pages = {
        "index.md": home_page(site),
        "rules.md": rules_page(site),
        "changelog.md": changelog_page(site),
    }
    if site.spec.decision_tree:
        pages["decision-tree.md"] = decision_tree_page(site)
    for cls in site.spec.classes:
        pages[class_uri(cls.id)] = class_page(site, cls)
    releases = {r.version: r for r in site.releases}
    for version, change in site.diffs.items():
        pages[f"changes/{version}.md"] = changes_page(site, releases[version], change)
    for slug, _title, markdown in site.guides:
        pages[f"guide/{slug}.md"] = markdown
    return pages
