"""Instructions where labelers work, generated from the spec of a release: Label Studio's
project instructions (``expert_instruction``, HTML) and the per-class hints of its labeling
config, and a CVAT task guide (Markdown). Each class links to its page in the published site,
so the tool shows the short form and the site the whole of it.

Every string from the spec is escaped for the format it lands in: these texts are shown to
labelers inside the tool's own pages.
"""

from __future__ import annotations

from labelspec import yamlio
from labelspec.guideline.spec import LabelClass, Spec
from labelspec.repo import Repo
from labelspec.site.safe import esc, md_text, safe_url

HINT_CHARS = 400  # a hint is a tooltip: longer text does not fit on screen


def published_url(ws: Repo) -> str | None:
    """The site's address, from ``site_url`` in mkdocs.yml (None when unset or not http(s))."""

    config = ws.root / "mkdocs.yml"
    if not config.is_file():
        return None
    url = str((yamlio.load_plain(config) or {}).get("site_url") or "")
    return url if url.lower().startswith(("http://", "https://")) and safe_url(url) else None


def page_url(site_url: str | None, guideline: str, version: str, page: str = "") -> str:
    """A page of one published version (``page`` like ``classes/seven/``); relative to the
    site's root when there is no ``site_url``."""
    base = site_url.rstrip("/") + "/" if site_url else ""
    return f"{base}{guideline}/{version}/{page}"


def class_url(site_url: str | None, spec: Spec, cls: LabelClass) -> str:
    return page_url(site_url, spec.guideline, spec.version, f"classes/{cls.id}/")


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _not(spec: Spec, cls: LabelClass) -> str:
    names = [spec.get_class(c).name for c in cls.confusable_with if spec.get_class(c)]
    return f" Not to confuse with {', '.join(names)}." if names else ""


# -- Label Studio -----------------------------------------------------------------------------------
def label_studio_hint(spec: Spec, cls: LabelClass, site_url: str | None = None) -> str:
    """The ``hint`` of a class's Choice / Label in the labeling config: plain text (the XML
    writer quotes it), the definition first, then where to read more."""
    more = f" More: {class_url(site_url, spec, cls)}" if site_url else ""
    return _short(f"{cls.name}: {cls.definition}{_not(spec, cls)}", HINT_CHARS - len(more)) + more


def label_studio_hints(spec: Spec, site_url: str | None = None) -> dict[str, str]:
    """class id -> hint, for every class of the spec."""
    return {cls.id: label_studio_hint(spec, cls, site_url) for cls in spec.classes}


def label_studio_instructions(spec: Spec, site_url: str | None = None) -> str:
    """The project's ``expert_instruction`` (Label Studio renders it as HTML): the version,
    each class with its definition and exclusions linked to its page, the rules."""

    def link(url: str, text: str) -> str:
        return f'<a href="{esc(url)}" target="_blank" rel="noopener">{text}</a>'

    lines = [f"<h2>{esc(spec.title)}, version {esc(spec.version)}</h2>"]
    if spec.description:
        lines.append(f"<p>{esc(spec.description)}</p>")
    items = []
    for cls in spec.classes:
        name = f"<strong>{esc(cls.name)}</strong>"
        head = link(class_url(site_url, spec, cls), name) if site_url else name
        exclude = f" <em>Not:</em> {esc('; '.join(cls.exclude))}." if cls.exclude else ""
        items.append(f"<li>{head}: {esc(cls.definition)}{exclude}{esc(_not(spec, cls))}</li>")
    lines.append(f"<ul>{''.join(items)}</ul>")
    if spec.rules:
        rules = "".join(f"<li><strong>{esc(r.id)}</strong> {esc(r.text)}</li>" for r in spec.rules)
        lines.append(f"<h3>Rules</h3><ol>{rules}</ol>")
    if site_url:
        whole = link(page_url(site_url, spec.guideline, spec.version), "the whole guideline")
        lines.append(f"<p>Examples and borderline cases: {whole}.</p>")
    return "\n".join(lines) + "\n"


# -- CVAT -------------------------------------------------------------------------------------------
def cvat_guide(spec: Spec, site_url: str | None = None) -> str:
    """A CVAT task or project guide (CVAT renders Markdown): the same content as the Label Studio
    instructions, with the decision tree as nested lists."""

    def link(text: str, url: str) -> str:
        return f"[{text}](<{url}>)" if site_url else text

    lines = [f"# {md_text(spec.title)}, version {md_text(spec.version)}", ""]
    if spec.description:
        lines += [md_text(spec.description), ""]
    lines += ["## Classes", ""]
    for cls in spec.classes:
        name = link(f"**{md_text(cls.name)}**", class_url(site_url, spec, cls))
        exclude = f" *Not:* {md_text('; '.join(cls.exclude))}." if cls.exclude else ""
        lines.append(
            f"- {name} (`{cls.id}`): {md_text(cls.definition)}{exclude}{md_text(_not(spec, cls))}"
        )
    if spec.rules:
        lines += ["", "## Rules", ""]
        lines += [f"1. **{md_text(r.id)}** {md_text(r.text)}" for r in spec.rules]
    if spec.decision_tree:
        lines += ["", "## Decision tree", ""]
        lines += _tree_lines(spec)
    if site_url:
        lines += [
            "",
            f"Examples and borderline cases: {link('the whole guideline', page_url(site_url, spec.guideline, spec.version))}.",
        ]
    return "\n".join(lines) + "\n"


def _tree_lines(spec: Spec) -> list[str]:
    nodes = {n.id: n for n in spec.decision_tree}
    targets = {n.yes for n in nodes.values()} | {n.no for n in nodes.values()}
    roots = [n for n in spec.decision_tree if n.id not in targets] or spec.decision_tree[:1]
    lines: list[str] = []

    def walk(node_id: str, depth: int, seen: frozenset[str]) -> None:
        node = nodes[node_id]
        lines.append(f"{'  ' * depth}- {md_text(node.question)}")
        for answer, target in (("Yes", node.yes), ("No", node.no)):
            if target in nodes and target not in seen:
                lines.append(f"{'  ' * (depth + 1)}- {answer}:")
                walk(target, depth + 2, seen | {target})
            else:
                cls = spec.get_class(target)
                lines.append(
                    f"{'  ' * (depth + 1)}- {answer}: **{md_text(cls.name if cls else target)}**"
                )

    for root in roots:
        walk(root.id, 0, frozenset({root.id}))
    return lines
