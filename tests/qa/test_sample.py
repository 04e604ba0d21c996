"""qa sample: the HTML gallery of a reproducible, stratified sample of annotations."""

from __future__ import annotations

import base64
import io
import re
import shutil
from pathlib import Path

import pytest
from PIL import Image

from labelspec.errors import LabelspecError
from labelspec.qa.gallery import NOT_PULLED, PALETTE
from labelspec.qa.sample import sample

CARD = re.compile(r'<article class="card".*?</article>', re.S)
IMAGE = re.compile(r'<img src="data:image/png;base64,([^"]+)"')
BOX = re.compile(
    r'<g class="box" data-n="(\d+)"><title>([^<]*)</title><rect class="halo" [^>]*/>'
    r'<rect class="edge" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" '
    r'stroke="(#\w+)"/><rect class="tag" [^>]*/><text [^>]*>(\d+)</text></g>'
)
ROW = re.compile(
    r'<div class="review" data-label="([^"]+)" data-cls="([^"]*)" data-kind="(\w+)"'
    r'(?: data-n="(\d+)")?'
)


def cards(path: Path) -> list[str]:
    return CARD.findall(path.read_text(encoding="utf-8"))


def field(card: str, name: str) -> str:
    return re.search(rf"<dt>{name}</dt><dd>(.*?)</dd>", card).group(1)


def png(data: str) -> Image.Image:
    raw = base64.b64decode(data, validate=True)
    assert raw.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(raw))
    assert image.format == "PNG"
    return image


def test_stratified_by_labeler(digits_votes, tmp_path):
    out = tmp_path / "sample.html"
    result = sample(digits_votes, "digits", out, n=6, by="labeler", seed=3)
    # 6 over 4 labelers: 1 each, the 2 left over to the first two by name
    assert result["groups"] == {"lab-a1": 2, "lab-a2": 2, "lab-b1": 1, "lab-c1": 1}
    assert result["annotations"] == result["labels"] == 6
    assert result["out"] == str(out)
    found = cards(out)
    assert len(found) == 6
    assert sorted(field(card, "labeler") for card in found) == [
        "lab-a1",
        "lab-a1",
        "lab-a2",
        "lab-a2",
        "lab-b1",
        "lab-c1",
    ]
    html = out.read_text()
    for group in result["groups"]:
        assert f'<button data-value="{group}">' in html


def test_the_same_seed_draws_the_same_page(digits_votes, tmp_path):
    first = sample(digits_votes, "digits", tmp_path / "a.html", n=5, seed=7)
    again = sample(digits_votes, "digits", tmp_path / "b.html", n=5, seed=7)
    sample(digits_votes, "digits", tmp_path / "c.html", n=5, seed=8)
    assert first["groups"] == again["groups"] == {}
    assert (tmp_path / "a.html").read_bytes() == (tmp_path / "b.html").read_bytes()
    ids = {field(card, "annotation") for card in cards(tmp_path / "a.html")}
    assert ids != {field(card, "annotation") for card in cards(tmp_path / "c.html")}
    # a larger sample extends a smaller one with the same seed
    larger = {field(card, "annotation") for card in cards_of(digits_votes, tmp_path, 9, 7)}
    assert ids <= larger


def cards_of(ws, tmp_path: Path, n: int, seed: int) -> list[str]:
    out = tmp_path / f"n{n}-s{seed}.html"
    sample(ws, "digits", out, n=n, seed=seed)
    return cards(out)


def test_by_class_and_all_when_n_exceeds_the_labels(digits_votes, tmp_path):
    result = sample(digits_votes, "digits", tmp_path / "all.html", n=1000, by="class")
    assert result["annotations"] == 36  # every current annotation
    assert result["groups"] == {"four": 5, "nine": 1, "one": 17, "seven": 13}
    small = sample(digits_votes, "digits", tmp_path / "small.html", n=7, by="class")
    # an equal share of 2, nine has only 1; the one left over goes to the first group by name
    assert small["groups"] == {"four": 2, "nine": 1, "one": 2, "seven": 2}


def test_images_are_embedded_png_data_uris_and_nothing_is_fetched(digits_votes, tmp_path):
    out = tmp_path / "sample.html"
    sample(digits_votes, "digits", out, n=4, by="source")
    html = out.read_text()
    assert "http://" not in html and "https://" not in html
    images = IMAGE.findall(html)
    assert len(images) == 4
    for data in images:
        assert png(data).size == (192, 192)  # 96 px digits, scaled up
    assert " src=" not in IMAGE.sub("", html)  # no other source of any kind


def test_boxes_are_numbered_in_an_svg_layer_over_the_untouched_image(shapes_boxes, tmp_path):
    out = tmp_path / "shapes.html"
    sample(shapes_boxes, "shapes", out, n=100, by="labeler")
    [card] = [
        c
        for c in cards(out)
        if field(c, "labeler") == "det-1" and field(c, "item") == "triangle_up.png"
    ]
    assert set(field(card, "class").split(", ")) == {"triangle", "circle"}
    # the picture is the scene itself, scaled by 1.5 (nearest): no box is burned into it
    scene = Image.open(shapes_boxes.root / "datasets/shapes/items/triangle_up.png").convert("RGB")
    shown = png(IMAGE.search(card).group(1)).convert("RGB")
    assert shown.tobytes() == scene.resize((192, 192), Image.Resampling.NEAREST).tobytes()
    # the layer is in image pixels (128 px), so it scales with the picture; 1 screen px = 128/192
    assert (
        '<svg class="overlay" viewBox="0 0 128 128" preserveAspectRatio="none" data-unit="0.67"'
        in card
    )
    # numbered in reading order: the circle [0, 0, 10, 10] above the triangle [24, 20, 80, 80]
    assert BOX.findall(card) == [
        ("1", "1 circle", "0", "0", "10", "10", f"#{bytes(PALETTE[0]).hex()}", "1"),
        ("2", "2 triangle", "24", "20", "80", "80", f"#{bytes(PALETTE[2]).hex()}", "2"),
    ]
    # the tag's font is 11 screen px: 11 / 1.5 = 7.33 image px
    assert card.count('font-size="7.33"') == 2
    rows = ROW.findall(card)
    assert [(cls, kind, n) for _, cls, kind, n in rows] == [
        ("circle", "box", "1"),
        ("triangle", "box", "2"),
    ]
    assert '<span class="num c0">1</span><span class="what">circle</span>' in card
    assert '<span class="num c2">2</span><span class="what">triangle</span>' in card


def test_a_box_row_offers_the_box_verdicts_and_the_other_classes(shapes_boxes, tmp_path):
    out = tmp_path / "shapes.html"
    sample(shapes_boxes, "shapes", out, n=100, by="labeler")
    [card] = [
        c
        for c in cards(out)
        if field(c, "labeler") == "det-1" and field(c, "item") == "circle_big.png"
    ]
    [row] = re.findall(r'<div class="review".*?</div>', card)
    assert re.findall(r'value="(\w+)"> ([^<]+)</label>', row) == [
        ("accept", "accept"),
        ("wrong_class", "wrong class"),
        ("misplaced", "misplaced box"),
        ("not_an_object", "should not be boxed"),
    ]
    assert re.findall(r'<option value="(\w*)">', row) == ["", "square", "triangle"]
    annotation = field(card, "annotation")
    assert (
        f'<div class="missing" data-annotation="{annotation}" data-place="image" '
        'data-width="128" data-height="128">'
    ) in card


def test_classification_rows_keep_accept_and_reject(digits_votes, tmp_path):
    out = tmp_path / "digits.html"
    sample(digits_votes, "digits", out, n=3)
    for card in cards(out):
        [row] = re.findall(r'<div class="review".*?</div>', card)
        assert 'data-kind="class"' in row and "data-n=" not in row
        assert re.findall(r'type="radio" name="[^"]+" value="(\w+)"', row) == ["accept", "reject"]
        assert "<svg" not in card and 'class="missing"' not in card


def test_text_is_escaped_and_spans_numbered(news_spans, tmp_path):
    out = tmp_path / "news.html"
    result = sample(news_spans, "news", out, n=100)
    html = out.read_text()
    assert result["annotations"] == 6  # ner-1, ner-2 on n01 and n02; ner-3 on n01; ner-1 on n04
    assert "<script>alert(1)</script>" not in html
    assert html.count("<script>") == 1  # the page's own script
    [card] = [c for c in cards(out) if field(c, "item") == "n04.txt"]
    assert (
        '<mark class="c0" data-n="1" title="1 person">Eve</mark>'
        '<sup class="tag" data-n="1">1 person</sup>'
    ) in card
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in card
    assert (
        '<mark class="c1" data-n="2" title="2 organization">Bob &amp; Co</mark>'
        '<sup class="tag" data-n="2">2 organization</sup>'
    ) in card
    assert [(cls, kind, n) for _, cls, kind, n in ROW.findall(card)] == [
        ("person", "span", "1"),
        ("organization", "span", "2"),
    ]
    assert "misplaced span" in card and "should not be marked" in card
    assert 'data-place="text"' in card
    assert "http://" not in html and "https://" not in html


def test_overlapping_spans_list_every_number(news_spans, tmp_path):
    out = tmp_path / "news.html"
    sample(news_spans, "news", out, n=100)
    [card] = [
        c for c in cards(out) if field(c, "item") == "n02.txt" and field(c, "labeler") == "ner-2"
    ]
    # "The United Nations" (1) then "Geneva" (2): no overlap, each piece its own number
    assert '<mark class="c1" data-n="1" title="1 organization">The United Nations</mark>' in card
    assert '<mark class="c2" data-n="2" title="2 location">Geneva</mark>' in card


def test_missing_images_get_a_placeholder(digits_votes, copy_of, tmp_path):
    ws = copy_of(digits_votes)
    shutil.rmtree(ws.root / "datasets/digits/items")  # as after a clone without `labelspec pull`
    out = tmp_path / "sample.html"
    result = sample(ws, "digits", out, n=3)
    assert result["missing_media"] == 3
    html = out.read_text()
    assert html.count(NOT_PULLED) == 3
    assert not IMAGE.search(html)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 0}, "n must be at least 1"),
        ({"by": "item"}, "by must be one of"),
        ({"out": "."}, "is a folder"),
    ],
)
def test_bad_arguments_are_refused(digits_votes, tmp_path, kwargs, message):
    arguments = {"out": tmp_path / "x.html", **kwargs}
    if arguments["out"] == ".":
        arguments["out"] = tmp_path
    with pytest.raises(LabelspecError, match=message):
        sample(digits_votes, "digits", **arguments)


def test_filters_work_in_a_browser(digits_votes, tmp_path):
    """The page's buttons and search box, in Debian's headless Chromium, fully offline."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Debian's chromium is needed for the browser tests (apt-get install chromium)"
    from playwright.sync_api import sync_playwright

    out = tmp_path / "sample.html"
    sample(digits_votes, "digits", out, n=8, by="labeler")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page()
        requests = []
        page.on("request", lambda request: requests.append(request.url))
        page.goto(out.as_uri())
        assert page.locator("#count").inner_text() == "8 of 8 annotations shown"
        page.click('button[data-value="lab-b1"]')
        assert page.locator("#count").inner_text() == "2 of 8 annotations shown"
        assert page.locator(".card:visible").count() == 2
        page.click("#filters button:not([data-value])")
        page.fill("#q", "lab-c1")
        assert page.locator("#count").inner_text() == "2 of 8 annotations shown"
        browser.close()
    assert all(url.startswith(("file:", "data:")) for url in requests)
