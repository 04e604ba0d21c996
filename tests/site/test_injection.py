"""The site, the review and the reports cannot attack their readers: a spec, a roster and a guide
full of HTML, script and link payloads, built, published and reviewed, then read in headless
Chromium (every page, the lightbox, the search) without one dialog or one payload element."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from labelspec import yamlio
from tests.site.conftest import SCREENSHOTS, serve_folder

# Each one tries a different door: raw HTML, a script, breaking out of an attribute or of
# <title>, Markdown links and images to other schemes or hosts, an attribute list, and a lightbox
# description that GLightbox would read as a CSS selector.
PAYLOADS = (
    '<img src=x id=pwn onerror="window.__pwned=1;alert(1)">',
    "<script>window.__pwned=1;alert(1)</script>",
    '"><svg id=pwn onload="alert(1)">',
    "</title><script>window.__pwned=1</script>",
    "[click](javascript:window.__pwned=1;alert(1)) [data](data:text/html,<script>alert(1)</script>)",
    "![remote](https://evil.invalid/pixel.png)",
    "{ onclick=alert(1) #pwn }",
    '<a href="javascript:alert(1)" id=pwn>a</a>',
)
PAYLOAD = " ".join(PAYLOADS)
SELECTOR = "#pwn, [onerror], [onload], [onclick], a[href^='javascript'], a[href^='data'], img[src*='evil.invalid'], a.glightbox[href*='evil.invalid'], svg#pwn"
BAD_SOURCE = "vendor <img src=x onerror=alert(1)> | [x](javascript:alert(1))"


def inject(root: Path, summary: str) -> None:
    """Every free-text field of the digits spec, one guide and the changelog carry PAYLOAD."""
    spec = root / "guidelines/digits/spec.yaml"
    doc = yamlio.Document.load(spec)
    data = doc.data
    data["title"] = f"Digits {PAYLOAD}"
    data["description"] = PAYLOAD
    data["owners"] = [PAYLOAD]
    for rule in data["rules"]:
        rule["text"] = f"{rule['id']} {PAYLOAD}"
    for cls in data["classes"]:
        cls["name"] = f"{cls['id'].title()} {PAYLOAD}"
        cls["definition"] = f"{cls['definition']} {PAYLOAD}"
        cls["synonyms"] = [PAYLOAD]
        cls["include"] = [PAYLOAD]
        cls["exclude"] = [PAYLOAD]
        for attribute in cls.get("attributes", []):
            attribute["name"] = PAYLOAD
            attribute["description"] = PAYLOAD
        for kind in ("positive", "counter", "borderline"):
            for example in cls["examples"].get(kind, []):
                example["why"] = f".md-header {PAYLOAD}"
    for node in data["decision_tree"]:
        node["question"] = f"{node['question']} {PAYLOAD}"
    data["changelog"].append(
        {
            "version": "unreleased",
            "summary": summary,
            "details": [PAYLOAD],
            "affects": ["one"],
            "relabel": "required",
        }
    )
    doc.save()
    # a guide page with a picture from another host is refused by `check`, so by release too
    # (test_site_safety); the spec's fields still carry one
    page = " ".join(p for p in PAYLOADS if "evil.invalid" not in p)
    (root / "guidelines/digits/docs/faq.md").write_text(
        f"# FAQ {page}\n\n{page}\n\n<div onclick=alert(1) id=pwn>raw</div>\n"
    )


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, pristine) -> dict[str, Path]:
    """Built and published sites, and a review, of a guideline full of payloads."""
    from labelspec.guideline.release import release
    from labelspec.guideline.review import review
    from labelspec.guideline.review_report import write
    from labelspec.labelers.roster import add_labeler
    from labelspec.site.build import build, publish
    from labelspec.workspace import Workspace

    base = tmp_path_factory.mktemp("hostile")
    root = base / "ws"
    shutil.copytree(pristine("classification"), root, symlinks=True)
    ws = Workspace(root)
    add_labeler(ws, "vX-01", BAD_SOURCE)
    inject(root, f"Payloads {PAYLOAD}")
    subprocess.run(["git", "commit", "-qam", "payloads"], cwd=root, check=True)
    release(ws, "digits", "minor")
    published = base / "published"
    publish(ws, "digits", "1.0.0", folder=published, branch=None, labelers="all")
    publish(ws, "digits", "1.1.0", folder=published, branch=None, labelers="all")
    spec = root / "guidelines/digits/spec.yaml"
    spec.write_text(spec.read_text().replace("Seven <img", "Seven again <img", 1))
    doc = yamlio.Document.load(spec)
    doc.data["changelog"].append(
        {"version": "unreleased", "summary": f"Draft {PAYLOAD}", "affects": [], "relabel": "none"}
    )
    doc.save()
    built = base / "built"
    build(ws, built, labelers="all")
    result = review(ws, "digits", "1.0.0")
    write(result, base / "review", "html")
    write(review(ws, "digits", "1.0.0"), base / "review", "md")
    return {"published": published, "built": built, "review": base / "review"}


class Reader:
    """A browser tab that records every dialog and checks a page for payloads."""

    def __init__(self, browser):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.dialogs: list[str] = []
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def read(self, url: str) -> None:
        self.page.goto(url)
        self.page.wait_for_load_state("networkidle")
        self.check(url)

    def check(self, where: str) -> None:
        found = self.page.evaluate(
            f"() => [...document.querySelectorAll({json.dumps(SELECTOR)})].map(e => e.outerHTML.slice(0, 120))"
        )
        assert found == [], f"{where}: payload elements {found}"
        assert self.page.evaluate("() => window.__pwned") is None, where
        assert self.dialogs == [], f"{where}: dialogs {self.dialogs}"


def _pages(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("index.html"))


@pytest.mark.parametrize("which", ["published", "built"])
def test_no_page_runs_a_payload(hostile, browser, which):
    folder = hostile[which]
    server, url = serve_folder(folder)
    reader = Reader(browser)
    try:
        pages = _pages(folder)
        assert len(pages) > 15
        for page in pages:
            reader.read(f"{url}/{page}")
        site = "digits/1.1.0" if which == "published" else "digits"
        reader.read(f"{url}/{site}/classes/seven/")
        assert "<img src=x id=pwn" in reader.page.inner_text("h1")
        assert "</title><script>" in reader.page.title()  # still text, inside the title
        reader.page.locator(".ls-gallery.counter a.glightbox").first.click()
        reader.page.locator(".gslide.current .gslide-desc").wait_for(timeout=10_000)
        assert PAYLOADS[0] in reader.page.inner_text(".gslide.current .gslide-desc")
        assert ".md-header" in reader.page.inner_text(".gslide.current .gslide-desc")
        reader.check("the lightbox")
        reader.read(f"{url}/{site}/")
        reader.page.locator(".md-search__input").click()
        reader.page.keyboard.type("onerror")
        reader.page.locator(".md-search-result__item").first.wait_for(timeout=10_000)
        reader.check("the search results")
        reader.page.screenshot(path=str(SCREENSHOTS / f"injection-{which}.png"))
    finally:
        reader.context.close()
        server.shutdown()
        server.server_close()


def test_the_review_page_runs_no_payload(hostile, browser):
    reader = Reader(browser)
    try:
        reader.read((hostile["review"] / "review.html").as_uri())
        assert "Seven again <img" in reader.page.inner_text("body")
        reader.page.screenshot(path=str(SCREENSHOTS / "injection-review.png"), full_page=True)
    finally:
        reader.context.close()


def test_the_review_markdown_carries_no_markup_or_links(hostile):
    markdown = (hostile["review"] / "review.md").read_text()
    assert "<img" not in markdown and "<script" not in markdown and "<svg" not in markdown
    live = re.findall(r"(?<!\\)\]\((?:javascript|data|https://evil)", markdown)
    assert live == [], "a link or picture from the spec would be live in the comment"
    assert "&lt;img src=x id=pwn" in markdown and "\\[click\\](javascript" in markdown


def test_the_bakeoff_report_runs_no_payload(browser, tmp_path):
    from labelspec.qa.report import write_report

    result = {"accuracy": 0.9, "accuracy_ci": [0.8, 0.95], "cost_per_label": 0.02}
    bake = {
        "dataset": "digits", "quality": "accuracy", "weights": {"accuracy": 1.0},
        "golden": {"name": PAYLOAD, "version": 1, "items": 8},
        "sources": {PAYLOADS[0]: result}, "ranking": [{"source": PAYLOADS[0], "rank": 1, "score": 0.9}],
    }  # fmt: skip
    paths = write_report(bake, tmp_path)
    reader = Reader(browser)
    try:
        reader.read(Path(paths["html"]).as_uri())
        assert PAYLOADS[0] in reader.page.inner_text("table")
    finally:
        reader.context.close()
