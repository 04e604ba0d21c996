"""Answers drawn on example pictures, on the published school-bus site in Debian's Chromium: the
SVG boxes land where spec.yaml puts them, on the class page, in the lightbox and on the "what
changed" page, with a legend in words; the sanitizer keeps nothing else of an SVG."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest

from labelspec.site.safe import clean_html
from tests.site.conftest import SCREENSHOTS

# (x, y, w, h) of the boxes school-buses 1.1.0 draws, in the pictures' pixels
BUS = {"right": [(80, 118, 150, 56)], "wrong": [(64, 100, 190, 90)]}
BUS_CUT = {"right": [(0, 118, 82, 56)], "wrong": [(14, 118, 66, 56)]}
BUS_CUT_BEFORE = {"right": [(0, 118, 80, 56)], "wrong": [(14, 118, 66, 56)]}

# Where each drawn box is on screen, and where the spec's box lands on the picture as shown
# (object-fit: contain inside the picture's element; the SVG's viewBox is the picture).
MEASURE = """drawn => drawn.map(d => {
  const svg = d.querySelector('svg.ls-boxes'), img = d.querySelector('img');
  const [, , nw, nh] = svg.getAttribute('viewBox').split(' ').map(Number);
  const frame = img.getBoundingClientRect();
  const scale = Math.min(frame.width / nw, frame.height / nh);
  const left = frame.x + (frame.width - nw * scale) / 2, top = frame.y + (frame.height - nh * scale) / 2;
  const boxes = kind => [...svg.querySelectorAll('rect.ls-' + kind)].map(r => {
    const b = r.getBoundingClientRect();
    return {screen: [b.x, b.y, b.width, b.height],
            spec: ['x', 'y', 'width', 'height'].map(a => Number(r.getAttribute(a))),
            dash: getComputedStyle(r).strokeDasharray};
  });
  return {image: [nw, nh], left, top, scale, right: boxes('right'), wrong: boxes('wrong'),
          natural: [img.naturalWidth, img.naturalHeight]};
})"""


@pytest.fixture
def page(browser, buses_served):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    yield page
    hosts = {urlparse(u).hostname for u in requests if not u.startswith(("data:", "blob:"))}
    context.close()
    assert hosts <= {"127.0.0.1"}, f"the site requested other hosts: {hosts - {'127.0.0.1'}}"


def loaded(page, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.locator("img").evaluate_all("imgs => imgs.forEach(i => { i.loading = 'eager'; })")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.ls-drawn img')].every(i => i.complete && i.naturalWidth > 0)"
    )


def assert_where_the_spec_says(found: dict, expected: dict) -> None:
    """Each drawn box on screen is the spec's box, scaled and placed as the picture is."""
    assert found["natural"] == found["image"] == [320, 200]  # the viewBox is the picture
    for kind in ("right", "wrong"):
        assert [tuple(b["spec"]) for b in found[kind]] == expected[kind]
        for box in found[kind]:
            x, y, w, h = box["spec"]
            want = [
                found["left"] + x * found["scale"],
                found["top"] + y * found["scale"],
                w * found["scale"],
                h * found["scale"],
            ]
            assert box["screen"] == pytest.approx(want, abs=1.0), (kind, box, want)
            # the answer solid, "not this" dashed: readable without colour
            assert (box["dash"] != "none") is (kind == "wrong"), box["dash"]


def test_the_class_page_draws_each_box_where_the_spec_says(page, buses_served):
    loaded(page, f"{buses_served}/classes/school_bus/")
    figures = page.locator("article .ls-gallery figure:has(.ls-drawn)")
    assert figures.count() == 2  # the typical bus and the borderline cut-off bus
    found = page.locator("article .ls-gallery .ls-drawn").evaluate_all(MEASURE)
    assert_where_the_spec_says(found[0], BUS)
    assert_where_the_spec_says(found[1], BUS_CUT)
    legend = figures.nth(0).locator("figcaption").inner_text()
    assert "1, solid line: School bus. Box it like this." in legend
    assert "2, dashed line: School bus. Not this." in legend
    tags = page.locator("article .ls-gallery .ls-drawn").first.locator("svg text")
    assert tags.all_text_contents() == ["1", "2"]  # each box carries its number
    page.locator("article .ls-gallery").first.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "drawn-class-page.png"))


def test_the_pickup_page_draws_the_bus_box_that_is_wrong(page, buses_served):
    loaded(page, f"{buses_served}/classes/pickup_truck/")
    (found,) = page.locator("article .ls-drawn").evaluate_all(MEASURE)
    same = [(120, 112, 84, 40)]  # the right pickup box and the wrong bus box share the spot
    assert_where_the_spec_says(found, {"right": same, "wrong": same})
    legend = page.locator("article figcaption").inner_text()
    assert "1, solid line: Pickup truck. Box it like this." in legend
    assert "2, dashed line: School bus. Not this." in legend


def test_the_lightbox_shows_the_picture_with_its_boxes(page, buses_served):
    loaded(page, f"{buses_served}/classes/school_bus/")
    page.locator("article .ls-drawn a.glightbox").first.click()
    shown = page.locator(".gslide.current .gslide-image img")  # GLightbox preloads the next
    shown.wait_for(timeout=10_000)
    page.wait_for_function(
        "() => { const i = document.querySelector('.gslide.current .gslide-image img'); return i && i.complete && i.naturalWidth > 0; }"
    )
    src, width, height = shown.evaluate("i => [i.src, i.naturalWidth, i.naturalHeight]")
    assert src.endswith("/drawn/school_bus/positive-0.svg")
    assert (width, height) == (640, 400)  # the 320 x 200 picture, twice as large
    description = page.locator(".gslide.current .gslide-description").inner_text()
    assert "1, solid line: School bus. Box it like this." in description
    page.screenshot(path=str(SCREENSHOTS / "drawn-lightbox.png"))
    drawing = page.request.get(src).text()
    assert '<rect class="ls-right" x="80" y="118" width="150" height="56">' in drawing
    assert '<rect class="ls-wrong" x="64" y="100" width="190" height="90">' in drawing
    assert re.search(r'<image href="data:image/png;base64,[A-Za-z0-9+/=]+"', drawing)
    assert "http://" not in drawing.replace("http://www.w3.org/2000/svg", "")


def test_what_changed_draws_the_boxes_before_and_after(page, buses_served):
    loaded(page, f"{buses_served}/changes/1.1.0/")
    pair = page.locator("article .ls-pair", has_text="changed (boxes)")
    before, after = pair.locator(".ls-drawn").evaluate_all(MEASURE)
    assert_where_the_spec_says(before, BUS_CUT_BEFORE)
    assert_where_the_spec_says(after, BUS_CUT)
    # the example illustrates R2, so the change is judged within R2's scope
    assert "School bus (only labels: touches the image border (rule R2))" in page.inner_text(
        "article"
    )
    pair.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "drawn-what-changed.png"))


def test_the_rules_page_says_what_a_rule_is_scoped_to(page, buses_served):
    loaded(page, f"{buses_served}/rules/")
    assert "Only for: touches the image border." in page.inner_text("article")


def test_the_print_page_draws_the_boxes_too(page, buses_served):
    loaded(page, f"{buses_served}/print/")
    found = page.locator("article .ls-drawn").evaluate_all(MEASURE)
    assert len(found) == 3  # bus, cut-off bus, pickup
    assert_where_the_spec_says(found[0], BUS)


def test_the_sanitizer_keeps_the_drawing_and_nothing_else_of_an_svg():
    hostile = (
        '<svg class="ls-boxes" viewBox="0 0 320 200" onload="alert(1)" style="x">'
        '<rect class="ls-right" x="1" y="2" width="3" height="4" onclick="alert(2)"/>'
        '<rect x="javascript:1" y="2" width="3e9" height="4"/>'
        '<use href="#evil"/><image href="https://tracker.example/p.png"/>'
        "<foreignObject><p>html</p></foreignObject><script>alert(3)</script>"
        '<a href="javascript:alert(4)"><text x="1" y="2" font-size="9">1</text></a>'
        '<animate attributeName="href" to="javascript:alert(5)"/></svg>'
    )
    assert clean_html(hostile) == (
        '<svg class="ls-boxes" viewbox="0 0 320 200">'
        '<rect class="ls-right" x="1" y="2" width="3" height="4"/>'
        '<rect y="2" height="4"/><text x="1" y="2" font-size="9">1</text></svg>'
    )


def test_an_svg_tag_outside_a_drawing_is_not_kept():
    assert clean_html('<p><rect x="1"></rect><text>t</text></p>') == "<p>t</p>"
