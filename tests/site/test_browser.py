"""The published site in a real headless Chromium (Debian's), fully offline."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.conftest import REPO_ROOT
from tests.site.conftest import NEW_SEVEN, OLD_SEVEN

SCREENSHOTS = REPO_ROOT / "build" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "Debian's chromium is needed for the site tests (apt-get install chromium; .ci/run does it)"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, served):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.requests = []
    page.on("request", lambda request: page.requests.append(request.url))
    yield page
    hosts = {urlparse(url).hostname for url in page.requests if not url.startswith(("data:", "blob:"))}
    context.close()
    assert hosts <= {"127.0.0.1"}, f"the site requested other hosts: {hosts - {'127.0.0.1'}}"


def test_class_page_shows_loaded_example_images(page, served):
    page.goto(f"{served}/digits/latest/classes/seven/")
    page.wait_for_load_state("networkidle")
    assert NEW_SEVEN in page.inner_text("article")
    images = page.locator("article .ls-gallery img")
    assert images.count() >= 5
    images.evaluate_all("imgs => imgs.forEach(i => { i.loading = 'eager'; })")  # lazy images load on scroll
    page.wait_for_function("() => [...document.querySelectorAll('article .ls-gallery img')].every(i => i.complete && i.naturalWidth > 0)")
    widths = images.evaluate_all("imgs => imgs.map(i => i.naturalWidth)")
    assert all(w > 0 for w in widths), widths
    assert "Counterexamples" in page.inner_text("article")
    page.screenshot(path=str(SCREENSHOTS / "class-seven.png"), full_page=True)


def test_search_finds_a_class(page, served):
    page.goto(f"{served}/digits/latest/")
    page.wait_for_load_state("networkidle")
    page.locator(".md-search__input").click()
    page.keyboard.type("seven")  # Material searches on key events, not on a programmatic fill
    results = page.locator(".md-search-result__item")
    results.first.wait_for(timeout=10_000)
    assert "Seven" in page.inner_text(".md-search-result")
    page.screenshot(path=str(SCREENSHOTS / "search-seven.png"))


def test_version_selector_switches_to_the_older_definition(page, served):
    page.goto(f"{served}/digits/latest/classes/seven/")
    selector = page.locator(".md-version")
    selector.wait_for(timeout=10_000)
    assert "1.1.0" in selector.inner_text()
    selector.hover()
    page.locator(".md-version__link", has_text="1.0.0").click()
    page.wait_for_url("**/digits/1.0.0/**")
    assert OLD_SEVEN in page.inner_text("article")
    assert NEW_SEVEN not in page.inner_text("article")
    page.screenshot(path=str(SCREENSHOTS / "version-1.0.0.png"))


def test_what_changed_page_links_the_changed_classes(page, served):
    page.goto(f"{served}/digits/latest/changes/1.1.0/")
    text = page.inner_text("article")
    assert "What changed in 1.1.0" in text and "Tell ones from sevens by the top bar" in text
    page.locator("article a", has_text="Seven").first.click()
    page.wait_for_url("**/classes/seven/")


def test_an_example_opens_in_the_lightbox(page, served):
    page.goto(f"{served}/digits/latest/classes/one/")
    page.locator("article .ls-gallery a.glightbox").first.click()
    slide = page.locator(".gslide.current img")
    slide.wait_for(timeout=10_000)
    page.wait_for_function("() => { const i = document.querySelector('.gslide.current img'); return i && i.naturalWidth > 0; }")
    page.wait_for_timeout(800)  # let the zoom animation finish before the screenshot
    page.screenshot(path=str(SCREENSHOTS / "lightbox.png"))
