"""The "What changed in X" page of a release: each changed class with word diffs of its text,
each changed example with its picture before and after, and the rules and decision-tree
questions before -> after (``guideline.changes`` computes them; this renders them)."""

from __future__ import annotations

from labelspec.guideline.changes import KIND_WORDS, Changes, ExampleSide
from labelspec.guideline.diff import SpecDiff
from labelspec.guideline.wordiff import to_html
from labelspec.site import drawing
from labelspec.site.pages import (
    GuidelineSite,
    Release,
    class_link,
    drawn_picture,
    picture,
    rel,
    rule_link,
)
from labelspec.site.safe import esc, lit, md_field


def _diff_cell(pieces) -> str:
    return " ".join(to_html(pieces).split())


def _pair_side(site: GuidelineSite, page: str, label: str, side: ExampleSide | None) -> str:
    if side is None:
        return f'<figure markdown="span">\n<span class="ls-side">{label}</span> <span class="ls-none">none</span>\n</figure>'
    legend = ""
    size = drawing.size_of(side.data) if side.drawing_asset and side.data else None
    if side.asset and size is not None:
        found = drawing.recorded_marks(side.drawn)
        nothing = (side.drawn or {}).get("boxes") == []
        lines = drawing.legend(found, site.names, nothing)
        media = drawn_picture(
            page, side.asset, side.drawing_asset, size, found, side.verdict, side.why, lines
        )
        legend = " " + "".join(f'<span class="ls-legend-line">{lit(line)}</span>' for line in lines)
    elif side.asset:
        media = picture(rel(page, side.asset), side.verdict, side.why)
    elif side.image is not None:
        media = f'<span class="ls-none">{lit(side.image)} is not available</span>'
    else:
        media = f'<span class="ls-text-example">{lit(side.text or "")}</span>'
    return (
        f'<figure markdown="span">\n<span class="ls-side">{label}</span> {media}\n'
        f'<figcaption markdown="span"><strong>{lit(side.verdict)}.</strong> {lit(side.why)}{legend}</figcaption>\n</figure>'
    )


def _changed_examples(site: GuidelineSite, page: str, changes: Changes) -> list[str]:
    lines = ["## Examples", ""]
    for change in changes.examples:
        what = f" ({lit(', '.join(change.what))})" if change.what else ""
        lines += [
            f'<div class="ls-pair {change.status}" markdown>',
            "",
            f'<p class="ls-pair-title"><strong>{lit(change.class_name)}</strong> · '
            f"{KIND_WORDS[change.kind]} · {change.status}{what}</p>",
            "",
            _pair_side(site, page, "before", change.before),
            "",
            _pair_side(site, page, "after", change.after),
            "",
            "</div>",
            "",
        ]
    return lines


def changes_page(
    site: GuidelineSite, release: Release, change: SpecDiff, words: Changes | None
) -> str:
    page = f"changes/{release.version}.md"
    lines = [f"# What changed in {esc(release.version)}", ""]
    lines += [
        f"**{md_field(release.summary)}** ({esc(release.date or '')}, from {esc(change.from_version)})",
        "",
    ]
    if release.relabel != "none":
        classes = ", ".join(lit(site.names.get(c, c)) for c in change.affects) or "these classes"
        lines += [
            f'!!! warning "Relabeling {esc(release.relabel)}"',
            f"    Labels of {classes} made under earlier versions are being reviewed.",
            "",
        ]
    if change.affects:
        scopes = change.scopes()

        def within(class_id: str) -> str:
            found = scopes.get(class_id)
            if not found:
                return ""
            shown = "; ".join(f"{s.where.describe()} (rule {s.rule})" for s in found)
            return f" (only labels: {lit(shown)})"

        lines += [
            "Classes whose labels this can change: "
            + ", ".join(class_link(site, page, c) + within(c) for c in change.affects),
            "",
        ]
    words = words or Changes()
    if words.meta:
        lines += ["## The guideline", ""]
        lines += [f"- **{t.field}**: {_diff_cell(t.pieces)}" for t in words.meta]
        lines.append("")
    for cls in words.classes:
        title = class_link(site, page, cls.id) if cls.status != "removed" else lit(cls.name)
        was = f", was <code>{lit(cls.renamed_from)}</code>" if cls.renamed_from else ""
        lines += [f"## {title} <small>{cls.status}{was}</small>", ""]
        lines += [f"- **{t.field}**: {_diff_cell(t.pieces)}" for t in cls.texts]
        lines += [f"- {lit(note)}" for note in cls.notes]
        lines.append("")
    if words.examples:
        lines += _changed_examples(site, page, words)
    if words.rules:
        lines += ["## Rules", "", "| Rule | Change | Text |", "| --- | --- | --- |"]
        for rule in words.rules:
            notes = "".join(f"<br>{lit(n)}" for n in rule.notes)
            text = _diff_cell(rule.text.pieces) if rule.text else "(text unchanged)"
            link = rule_link(page, rule.id) if rule.status != "removed" else lit(rule.id)
            lines.append(f"| {link} | {rule.status}{notes} | {text} |")
        lines.append("")
    if words.tree:
        lines += [
            "## Decision tree",
            "",
            # a release that removes the whole tree leaves no page to link to
            f"The [decision tree]({rel(page, 'decision-tree.md')}) changed at these questions:"
            if site.spec.decision_tree
            else "The decision tree changed at these questions (this version has none):",
            "",
            "| Question | Before | After |",
            "| --- | --- | --- |",
        ]
        for node in words.tree:
            lines.append(
                f"| <code>{lit(node.id)}</code> {node.status} | {lit(node.before or '–')} | {lit(node.after or '–')} |"
            )
        lines.append("")
    return "\n".join(lines)
