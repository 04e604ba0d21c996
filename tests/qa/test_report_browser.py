"""The bake-off report, its drill-down pages and the review gallery in Debian's headless
Chromium, fully offline: the verdict reads, a confusion cell opens the items behind it, and a
review saved from the gallery is imported and feeds a relabel plan. Screenshots go to
build/screenshots/."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.qa.builders import DIGIT_ITEMS

SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"


@pytest.fixture
def page():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Debian's chromium is needed for the browser tests (apt-get install chromium)"
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(
            accept_downloads=True, viewport={"width": 1200, "height": 900}
        )
        tab = context.new_page()
        tab.requests = []
        tab.on("request", lambda request: tab.requests.append(request.url))
        yield tab
        context.close()
        browser.close()


def test_the_report_shows_the_verdict_and_drills_down_to_the_items(graded, run, tmp_path, page):
    out = tmp_path / "report"
    run("qa", "bakeoff", "digits", "--report", str(out), cwd=graded.root)
    page.goto((out / "report.html").as_uri())
    verdict = page.locator("#verdict").inner_text()
    assert "95 %" in verdict and "vendor-a" in verdict
    assert "Snapshot" in page.locator(".about").inner_text()
    assert page.locator("table.per-class").count() == 3
    for img in page.locator("img").all():  # every plot loads from beside the page
        assert img.evaluate("i => i.complete && i.naturalWidth > 0")
    page.screenshot(path=str(SCREENSHOTS / "qa-report.png"), full_page=True)
    # vendor-b called d01 (a one) seven: its cell links to the item
    page.locator('a[title="golden one labeled seven: see the items"]').first.click()
    page.wait_for_load_state()
    assert "vendor-b: golden one labeled seven (1 labels)" in page.locator("h1").inner_text()
    cards = page.locator(".card")
    assert cards.count() == 1
    text = cards.first.inner_text()
    assert DIGIT_ITEMS[1] in text and "lab-b1" in text and "1.0.0" in text
    assert cards.first.locator("img").evaluate("i => i.complete && i.naturalWidth > 0")
    page.screenshot(path=str(SCREENSHOTS / "qa-drill-down.png"), full_page=True)
    page.go_back()
    assert all(url.startswith(("file:", "data:")) for url in page.requests)


def test_a_review_saved_in_the_gallery_is_imported_and_feeds_a_plan(graded, run, tmp_path, page):
    sample = tmp_path / "sample.html"
    run("qa", "sample", "digits", "--n", "40", "--out", str(sample), cwd=graded.root)
    page.goto(sample.as_uri())
    assert page.locator("#save-review").is_disabled()
    # the card of lab-b1's label on d01 (it says seven; the item is a one)
    card = page.locator(".card", has_text="lab-b1").filter(has_text=DIGIT_ITEMS[1])
    card.locator("select").select_option("one")  # picking the right class rejects the label
    assert card.locator("input[value=reject]").is_checked()
    other = page.locator(".card", has_text="lab-a1").filter(has_text=DIGIT_ITEMS[1])
    other.locator("input[value=accept]").check()
    assert page.locator("#reviewed").inner_text().startswith("2 of ")
    page.fill("#reviewer", "rev-01")
    with page.expect_download() as caught:
        page.click("#save-review")
    saved = tmp_path / caught.value.suggested_filename
    caught.value.save_as(saved)
    page.screenshot(path=str(SCREENSHOTS / "qa-review-gallery.png"), full_page=False)
    assert saved.name.startswith("review-digits-rev-01-")
    data = json.loads(saved.read_text())
    assert sorted(v["verdict"] for v in data["verdicts"]) == ["accept", "reject"]
    assert all(url.startswith(("file:", "data:", "blob:")) for url in page.requests)

    result = json.loads(run("qa", "review", "import", str(saved), "--json", cwd=graded.root).stdout)
    assert (result["accepted"], result["rejected"], result["corrected"]) == (1, 1, 1)
    out = tmp_path / "plan"
    run("relabel", "plan", "digits", "--guideline", "digits", "--from-review", "all",
        "--out", str(out), cwd=graded.root)  # fmt: skip
    plan = json.loads((out / "plan.json").read_text())
    assert [i["item_id"] for i in plan["items"]] == [DIGIT_ITEMS[1]]
