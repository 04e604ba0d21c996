"""Every generated page of one guideline: the pages of ``labelspec.site.pages``, a "what changed"
page per release (``labelspec.site.whatchanged``), the team's own guides, a draft notice."""

from __future__ import annotations

from labelspec.site.pages import (
    PRINT_URI,
    GuidelineSite,
    changelog_page,
    class_page,
    class_uri,
    decision_tree_page,
    home_page,
    print_page,
    rules_page,
)
from labelspec.site.safe import lit
from labelspec.site.whatchanged import changes_page


def with_draft(site: GuidelineSite, markdown: str) -> str:
    if not site.draft:
        return markdown
    title, _, rest = markdown.partition("\n")
    notice = f'!!! warning "Draft: not a release"\n    {lit(site.draft)}'
    return f"{title}\n\n{notice}\n{rest}"


def guideline_pages(site: GuidelineSite) -> dict[str, str]:
    """uri -> markdown for every generated page of one guideline (uris relative to its root)."""
    pages = {
        "index.md": home_page(site),
        "rules.md": rules_page(site),
        "changelog.md": changelog_page(site),
        PRINT_URI: print_page(site),
    }
    if site.spec.decision_tree:
        pages["decision-tree.md"] = decision_tree_page(site)
    for cls in site.spec.classes:
        pages[class_uri(cls.id)] = class_page(site, cls)
    releases = {r.version: r for r in site.releases}
    for version, change in site.diffs.items():
        pages[f"changes/{version}.md"] = changes_page(
            site, releases[version], change, site.changes.get(version)
        )
    pages = {uri: with_draft(site, markdown) for uri, markdown in pages.items()}
    for slug, _title, markdown in site.guides:
        pages[f"guide/{slug}.md"] = markdown
    return pages
