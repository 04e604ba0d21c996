"""Box-level review in the sample gallery, in Debian's headless Chromium, fully offline: a row
outlines its box when hovered or focused, one box is marked misplaced and a missing object is
dragged on the picture, and the saved review file is imported and feeds a relabel plan.
Screenshots go to build/screenshots/."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

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
        tab.errors = []
        tab.on("request", lambda request: tab.requests.append(request.url))
        tab.on("pageerror", lambda error: tab.errors.append(str(error)))
        yield tab
        context.close()
        browser.close()


def on_picture(svg, x: float, y: float) -> tuple[float, float]:
    """The screen point of image pixel (x, y) of a 128 px scene."""
    box = svg.bounding_box()
    return box["x"] + x / 128 * box["width"], box["y"] + y / 128 * box["height"]


def test_a_box_review_made_in_the_gallery_is_imported_and_planned(
    shapes_boxes, copy_of, run, tmp_path, page
):
    ws = copy_of(shapes_boxes)
    sample = tmp_path / "sample.html"
    run("qa", "sample", "shapes", "--n", "100", "--by", "labeler", "--out", str(sample),
        cwd=ws.root)  # fmt: skip
    page.goto(sample.as_uri())
    # det-1 on triangle_up: 1 circle [0, 0, 10, 10], 2 triangle [24, 20, 80, 80]
    card = page.locator(".card", has_text="det-1").filter(has_text="triangle_up.png")
    card.scroll_into_view_if_needed()
    circle, triangle = card.locator('.review[data-n="1"]'), card.locator('.review[data-n="2"]')
    boxes = card.locator("g.box")
    assert boxes.evaluate_all("gs => gs.map(g => g.textContent)") == ["1 circle1", "2 triangle2"]

    # hovering a row outlines its box (thicker) and dims the other
    triangle.hover()
    assert "hl" in card.locator('g.box[data-n="2"]').get_attribute("class")
    assert "hl" not in card.locator('g.box[data-n="1"]').get_attribute("class")
    edge = card.locator('g.box[data-n="2"] rect.edge')
    assert edge.evaluate("e => getComputedStyle(e).strokeWidth") == "4px"
    assert card.locator('g.box[data-n="1"]').evaluate("g => getComputedStyle(g).opacity") == "0.3"
    page.screenshot(path=str(SCREENSHOTS / "qa-box-review-hover.png"), clip=card.bounding_box())
    page.mouse.move(5, 5)  # off the row: the outline goes
    assert "hl" not in card.locator('g.box[data-n="2"]').get_attribute("class")
    # keyboard focus does the same
    circle.focus()
    assert "hl" in card.locator('g.box[data-n="1"]').get_attribute("class")
    page.keyboard.press("Tab")  # into the circle row's first button: still the circle
    assert "hl" in card.locator('g.box[data-n="1"]').get_attribute("class")
    circle.locator("input[value=accept]").blur()
    assert "hl" not in card.locator('g.box[data-n="1"]').get_attribute("class")

    triangle.locator("input[value=misplaced]").check()
    assert page.locator("#reviewed").inner_text().startswith("1 of ")
    # det-2 on triangle_up missed det-1's tiny circle: drag a box over it on det-2's card
    other = page.locator(".card", has_text="det-2").filter(has_text="triangle_up.png")
    other.scroll_into_view_if_needed()
    svg = other.locator("svg.overlay")
    page.mouse.move(*on_picture(svg, 1, 1))
    page.mouse.down()
    page.mouse.move(*on_picture(svg, 11, 12), steps=6)
    page.mouse.up()
    entry = other.locator(".missing-entry")
    assert entry.count() == 1 and entry.locator(".num").inner_text() == "M1"
    x, y, w, h = (float(v) for v in entry.locator("input").evaluate_all("i => i.map(e => e.value)"))
    assert abs(x - 1) <= 0.7 and abs(y - 1) <= 0.7 and abs(w - 10) <= 1.4 and abs(h - 11) <= 1.4
    entry.locator("select").select_option("circle")
    assert other.locator("g.missing-mark").count() == 1
    assert page.locator("#reviewed").inner_text().endswith(", 1 missing object")
    page.screenshot(path=str(SCREENSHOTS / "qa-box-review-missing.png"), clip=other.bounding_box())

    page.fill("#reviewer", "rev-01")
    with page.expect_download() as caught:
        page.click("#save-review")
    saved = tmp_path / caught.value.suggested_filename
    caught.value.save_as(saved)
    verdicts = json.loads(saved.read_text())["verdicts"]
    assert [v["verdict"] for v in verdicts] == ["misplaced", "missing_object"]
    assert verdicts[0]["label_id"] == triangle.get_attribute("data-label")
    assert verdicts[1]["annotation_id"] == other.locator(".missing").get_attribute(
        "data-annotation"
    )
    assert verdicts[1]["class"] == "circle" and len(verdicts[1]["box"]) == 4
    assert not page.errors
    assert all(url.startswith(("file:", "data:", "blob:")) for url in page.requests)

    result = json.loads(run("qa", "review", "import", str(saved), "--json", cwd=ws.root).stdout)
    assert (result["labels"], result["misplaced"], result["missing_objects"]) == (1, 1, 1)
    out = tmp_path / "plan"
    run("relabel", "plan", "shapes", "--guideline", "shapes", "--from-review", "all",
        "--out", str(out), cwd=ws.root)  # fmt: skip
    [item] = json.loads((out / "plan.json").read_text())["items"]
    assert item["item_id"] == "triangle_up.png"
    missing, misplaced = item["reasons"]  # sorted
    assert misplaced == "triangle box at (24, 20) misplaced in review"
    assert missing.startswith("missing circle reported at (1, 1)-(")
