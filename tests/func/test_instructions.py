"""Instructions for the labeling tools, generated from a release's spec and linked to the site."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from labelspec.guideline.instructions import (
    cvat_guide,
    label_studio_hints,
    label_studio_instructions,
    published_url,
)
from labelspec.guideline.releases import spec_at
from labelspec.workspace import Workspace

SITE = "https://guides.example.org/"


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.hrefs += [v for k, v in attrs if k == "href"]


def test_every_class_gets_a_hint_and_a_link_to_its_page(workspace: Path):
    spec = spec_at(Workspace(workspace), "digits", "1.0.0")
    hints = label_studio_hints(spec, SITE)
    assert list(hints) == spec.class_ids
    assert hints["seven"] == (
        "Seven: A horizontal top bar joined to a diagonal stroke. Not to confuse with One, Two. "
        "More: https://guides.example.org/digits/1.0.0/classes/seven/"
    )
    assert label_studio_hints(spec)["seven"].endswith("Not to confuse with One, Two.")

    page = Links()
    page.feed(label_studio_instructions(spec, SITE))
    assert (
        f"{SITE}digits/1.0.0/classes/nine/" in page.hrefs and f"{SITE}digits/1.0.0/" in page.hrefs
    )
    assert page.tags <= {"h2", "h3", "p", "ul", "ol", "li", "a", "strong", "em"}

    guide = cvat_guide(spec, SITE)
    assert guide.startswith("# Handwritten digits, version 1.0.0\n")
    assert f"- [**Seven**](<{SITE}digits/1.0.0/classes/seven/>) (`seven`): " in guide
    assert "## Decision tree" in guide and "  - Yes: **Nine**" in guide


def test_spec_strings_stay_text_in_the_tools(workspace: Path):
    spec = spec_at(Workspace(workspace), "digits", "1.0.0")
    payload = "<img src=x onerror=alert(1)> [x](javascript:alert(1))"
    hostile = spec.model_copy(
        update={
            "title": payload,
            "classes": [
                spec.classes[0].model_copy(update={"name": payload, "definition": payload})
            ],
        }
    )
    page = Links()
    page.feed(label_studio_instructions(hostile, SITE))
    assert "img" not in page.tags and all(h.startswith(SITE) for h in page.hrefs)
    guide = cvat_guide(hostile, SITE)
    assert "<img" not in guide and "[x](javascript" not in guide
    assert "&lt;img src=x" in guide and "\\[x\\](javascript" in guide  # shown, escaped


def test_the_site_address_comes_from_mkdocs_yml(workspace: Path):
    ws = Workspace(workspace)
    assert published_url(ws) is None
    config = workspace / "mkdocs.yml"
    config.write_text(f"site_url: {SITE}\n" + config.read_text())
    assert published_url(ws) == SITE
    config.write_text("site_url: javascript:alert(1)\n" + config.read_text().split("\n", 1)[1])
    assert published_url(ws) is None
