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


def test_boxes_are_drawn_on_the_image(shapes_boxes, tmp_path):
    out = tmp_path / "shapes.html"
    sample(shapes_boxes, "shapes", out, n=100, by="labeler")
    [card] = [
        c
        for c in cards(out)
        if field(c, "labeler") == "det-1" and field(c, "item") == "circle_big.png"
    ]
    assert field(card, "class") == "circle"
    image = png(IMAGE.search(card).group(1)).convert("RGB")
    assert image.size == (192, 192)  # 128 px scenes, scaled by 1.5
    # the box [24, 24, 80, 80] -> bottom edge at y = 104 * 1.5 = 156, in the circle's colour
    assert image.getpixel((96, 155)) == PALETTE[0]
    [triangle] = [
        c
        for c in cards(out)
        if field(c, "labeler") == "det-1" and field(c, "item") == "triangle_up.png"
    ]
    assert set(field(triangle, "class").split(", ")) == {"triangle", "circle"}


def test_text_is_escaped_and_spans_marked(news_spans, tmp_path):
    out = tmp_path / "news.html"
    result = sample(news_spans, "news", out, n=100)
    html = out.read_text()
    assert result["annotations"] == 6  # ner-1, ner-2 on n01 and n02; ner-3 on n01; ner-1 on n04
    assert "<script>alert(1)</script>" not in html
    assert html.count("<script>") == 1  # the page's own filter script
    [card] = [c for c in cards(out) if field(c, "item") == "n04.txt"]
    assert '<mark class="c0" title="person">Eve</mark>' in card
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in card
    assert '<mark class="c1" title="organization">Bob &amp; Co</mark>' in card
    assert "http://" not in html and "https://" not in html


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
