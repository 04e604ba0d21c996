"""The published site in a real headless Chromium (Debian's), fully offline."""

from __future__ import annotations

import shutil
from urllib.parse import urlparse

import pytest

from tests.site.conftest import NEW_SEVEN, OLD_SEVEN, R4, SCREENSHOTS, TOP_BAR


@pytest.fixture
def page(browser, served):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.requests = []
    page.on("request", lambda request: page.requests.append(request.url))
    yield page
    hosts = {
        urlparse(url).hostname for url in page.requests if not url.startswith(("data:", "blob:"))
    }
    context.close()
    assert hosts <= {"127.0.0.1"}, f"the site requested other hosts: {hosts - {'127.0.0.1'}}"


def test_class_page_shows_loaded_example_images(page, served):
    page.goto(f"{served}/digits/latest/classes/seven/")
    page.wait_for_load_state("networkidle")
    assert NEW_SEVEN in page.inner_text("article")
    images = page.locator("article .ls-gallery img")
    assert images.count() >= 5
    images.evaluate_all(
        "imgs => imgs.forEach(i => { i.loading = 'eager'; })"
    )  # lazy images load on scroll
    page.wait_for_function(
        "() => [...document.querySelectorAll('article .ls-gallery img')].every(i => i.complete && i.naturalWidth > 0)"
    )
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


def _switch_version(page, version: str) -> None:
    selector = page.locator(".md-version")
    selector.wait_for(timeout=10_000)
    selector.hover()
    page.locator(".md-version__link", has_text=version).click()


def test_the_version_switch_keeps_the_page(page, served):
    page.goto(f"{served}/digits/latest/classes/seven/")
    assert "1.1.0" in page.locator(".md-version").inner_text(timeout=10_000)
    _switch_version(page, "1.0.0")
    page.wait_for_url("**/digits/1.0.0/classes/seven/")
    assert OLD_SEVEN in page.inner_text("article")
    assert NEW_SEVEN not in page.inner_text("article")
    page.screenshot(path=str(SCREENSHOTS / "version-1.0.0.png"))
    _switch_version(page, "1.1.0")
    page.wait_for_url("**/digits/1.1.0/classes/seven/")
    assert NEW_SEVEN in page.inner_text("article")


def test_an_older_version_says_it_is_outdated(page, served):
    page.goto(f"{served}/digits/1.0.0/rules/")
    banner = page.locator("[data-md-component=outdated]")
    banner.wait_for(state="visible", timeout=10_000)
    assert "older version of the guideline" in banner.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "outdated-banner.png"))
    banner.locator("a").click()
    page.wait_for_url("**/digits/latest/")
    page.locator(".md-version").wait_for(timeout=10_000)  # the banner is decided with the selector
    assert page.locator("[data-md-component=outdated]").is_hidden()


def test_what_changed_shows_word_diffs_and_pictures(page, served):
    page.goto(f"{served}/digits/latest/changes/1.1.0/")
    text = page.inner_text("article")
    assert "What changed in 1.1.0" in text and "Tell ones from sevens by the top bar" in text
    assert "~~" not in text
    assert page.locator("article del", has_text="horizontal").count() == 1
    assert page.locator("article ins", has_text="at least half the digit's width").count() >= 1
    replaced = page.locator(".ls-pair", has_text="counterexample · changed (image)")
    sources = replaced.locator("img").evaluate_all("imgs => imgs.map(i => i.getAttribute('src'))")
    assert [s.split("/")[0] for s in sources] == ["before", "after"]
    page.locator(".ls-pair img").evaluate_all("imgs => imgs.forEach(i => { i.loading = 'eager'; })")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.ls-pair img')].every(i => i.complete && i.naturalWidth > 0)"
    )
    assert R4 in text and TOP_BAR in text
    page.screenshot(path=str(SCREENSHOTS / "what-changed-1.1.0.png"), full_page=True)
    page.locator("article a", has_text="Seven").first.click()
    page.wait_for_url("**/classes/seven/")


def test_alt_text_and_the_lightbox_say_what_to_label(page, served):
    page.goto(f"{served}/digits/latest/classes/one/")
    counter = page.locator(".ls-gallery.counter img").first
    assert counter.get_attribute("alt") == "Counterexample of One: label as Seven"
    caption = page.locator(".ls-gallery.counter figcaption").first.inner_text()
    assert caption.startswith("Counterexample: label as Seven.")
    page.locator(".ls-gallery.counter a.glightbox").first.click()
    page.locator(".gslide.current .gslide-title").wait_for(timeout=10_000)
    assert (
        page.inner_text(".gslide.current .gslide-title") == "Counterexample of One: label as Seven"
    )
    assert "so it is a seven" in page.inner_text(".gslide.current .gslide-desc")
    page.wait_for_function(
        "() => { const i = document.querySelector('.gslide.current img'); return i && i.naturalWidth > 0; }"
    )
    page.wait_for_timeout(800)  # let the zoom animation finish before the screenshot
    page.screenshot(path=str(SCREENSHOTS / "lightbox-counterexample.png"))


def test_the_decision_tree_is_one_tree(page, served):
    page.goto(f"{served}/digits/latest/decision-tree/")
    assert page.locator(".ls-tree > ul > li").count() == 1
    tops = page.locator(".ls-tree > ul > li > ul > li")
    assert tops.count() == 3 and TOP_BAR in tops.first.inner_text()
    assert tops.first.inner_text().startswith("One or Seven")
    page.screenshot(path=str(SCREENSHOTS / "decision-tree.png"), full_page=True)


def test_the_root_page_lists_guidelines_and_versions(page, served):
    page.goto(f"{served}/")
    card = page.locator(".card", has_text="Handwritten digits")
    assert "1.1.0" in card.inner_text() and "latest" in card.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "published-root.png"))
    card.locator("a", has_text="1.0.0").click()
    page.wait_for_url("**/digits/1.0.0/")


def test_the_review_page_shows_examples_before_and_after(
    browser, released_workspace, tmp_path, run
):
    root = tmp_path / "ws"
    shutil.copytree(released_workspace, root, symlinks=True)
    spec = root / "guidelines/digits/spec.yaml"
    spec.write_text(
        spec.read_text().replace("touching in the middle.", "touching or crossing in the middle.")
    )
    examples = root / "guidelines/digits/examples"
    (examples / "three_like_eight.png").write_bytes((examples / "eight_typical_1.png").read_bytes())
    out = tmp_path / "review"
    run("guideline", "review", "digits", "--format", "html", "--out", str(out), cwd=root)
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    try:
        page.goto((out / "review.html").as_uri())
        assert page.locator("ins", has_text="or crossing").count() == 1
        pair = page.locator(".pair", has_text="changed (image)")
        assert pair.locator("img").count() == 2
        page.wait_for_function(
            "() => [...document.images].every(i => i.complete && i.naturalWidth > 0)"
        )
        page.screenshot(path=str(SCREENSHOTS / "review.png"), full_page=True)
    finally:
        context.close()
