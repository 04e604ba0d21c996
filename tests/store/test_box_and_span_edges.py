"""The edges of a box and a span, at import: a box's bottom against the image's height (on an
image wider than tall), a box that is not finite, a span that ends at the end of the text."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from tests.helpers import state
from tests.store.conftest import write_jsonl

WIDE = (200, 100)  # width x height: no test image elsewhere is other than square


def labels_import(run, root: Path, dataset: str, source: Path, guideline: str, expect: int = 0):
    return run(
        "labels", "import", dataset, str(source), "--format", "jsonl", "--guideline", guideline,
        "--source", "vendor-a", cwd=root, expect=expect,
    )  # fmt: skip


def circle(bbox: list[float]) -> dict:
    return {
        "item_id": "wide.png",
        "labeler": "vA-01",
        "class": "circle",
        "bbox": bbox,
        "attributes": {"occluded": False},
    }


def refused(run, root: Path, dataset: str, source: Path, guideline: str) -> list[str]:
    """The problem lines of a refused import, after checking it wrote nothing."""
    before = state(root)
    result = labels_import(run, root, dataset, source, guideline, expect=1)
    assert state(root) == before
    return [line.strip() for line in result.stderr.splitlines()[1:]]


def test_a_box_bottom_edge_is_checked_against_the_image_height(make_store, run, tmp_path):
    root = make_store("shapes")
    folder = root / "scans"
    folder.mkdir()
    Image.new("RGB", WIDE, "white").save(folder / "wide.png")
    run("items", "add", "shapes", str(folder / "wide.png"), cwd=root)
    # bottom = y + h: 61 + 40 = 101 > 100 + 0.5 (the height; the width, 200, would let it pass)
    low = write_jsonl(tmp_path / "low.jsonl", [circle([10, 61, 40, 40])])
    # bottom 60 + 40 = 100 = the height; right edge 150 + 40 = 190 <= 200, past the height
    fits = write_jsonl(tmp_path / "fits.jsonl", [circle([150, 60, 40, 40])])

    assert refused(run, root, "shapes", low, "shapes@1.0.0") == [
        f"{low}:1: bbox: box [10.0, 61.0, 40.0, 40.0] is outside the 200x100 image"
    ]
    labels_import(run, root, "shapes", fits, "shapes@1.0.0")


def test_a_box_whose_width_or_height_is_not_finite_is_refused_as_not_finite(
    make_store, run, tmp_path
):
    root = make_store("shapes")
    source = tmp_path / "inf.jsonl"
    base = '"item_id": "circle_big.png", "labeler": "vA-01", "class": "circle", ' \
           '"attributes": {"occluded": false}'  # fmt: skip
    # 1e999 is a JSON number that overflows a double: infinity, which no image can hold
    source.write_text(
        f'{{{base}, "bbox": [24, 24, 1e999, 80]}}\n{{{base}, "bbox": [24, 24, 80, 1e999]}}\n'
    )

    problems = refused(run, root, "shapes", source, "shapes@1.0.0")

    assert problems == [
        f"{source}:1: bbox: box values must be finite numbers, got [24.0, 24.0, inf, 80.0]",
        f"{source}:2: bbox: box values must be finite numbers, got [24.0, 24.0, 80.0, inf]",
    ]
    assert not any("outside" in p for p in problems)


def test_a_span_ending_at_the_end_of_the_text_is_accepted_and_one_past_it_refused(
    make_store, run, tmp_path
):
    root = make_store("news")
    text = "Ada Lovelace met Charles Babbage in London."  # n01.txt
    start, end = text.index("London."), len(text)
    assert (start, end) == (36, 43)
    place = {"item_id": "n01.txt", "labeler": "vA-01", "class": "location"}
    past = write_jsonl(tmp_path / "past.jsonl", [{**place, "span": [start, end + 1]}])
    at_end = write_jsonl(tmp_path / "end.jsonl", [{**place, "span": [start, end]}])

    assert refused(run, root, "news", past, "entities@1.0.0") == [
        f"{past}:1: span: span [36, 44] is outside the item's text (43 characters)"
    ]
    labels_import(run, root, "news", at_end, "entities@1.0.0")
    shown = json.loads(run("labels", "show", "news", "--json", cwd=root).stdout)
    assert shown["by_class"] == {"location": 1}


def test_a_box_that_is_not_four_numbers_is_one_problem_not_also_a_missing_box(
    make_store, run, tmp_path
):
    """Three numbers, or a word among four: the reader says what a box must be, once; the box
    was given, so "a box is required" would mislead."""
    root = make_store("shapes")
    rows = [
        {**circle([24, 24, 80]), "item_id": "circle_big.png"},
        {**circle(["24", 24, 80, 80]), "item_id": "square_big.png"},
    ]
    source = write_jsonl(tmp_path / "odd.jsonl", rows)

    assert refused(run, root, "shapes", source, "shapes@1.0.0") == [
        f"{source}:1: bbox: must be [x, y, w, h]: four numbers in pixels",
        f"{source}:2: bbox: must be [x, y, w, h]: four numbers in pixels",
    ]


def test_a_box_twice_in_one_annotation_is_refused(make_store, run, tmp_path):
    root = make_store("shapes")
    box = {**circle([24, 24, 80, 80]), "item_id": "circle_big.png"}
    repeated = write_jsonl(tmp_path / "repeated.jsonl", [box, box])
    # one region given two classes (Label Studio's rectangle with two labels comes in so)
    square = {**box, "class": "square"}
    two_classes = write_jsonl(tmp_path / "two.jsonl", [box, square])

    assert refused(run, root, "shapes", repeated, "shapes@1.0.0") == [
        f"{repeated}:1 [2 rows, lines 1, 2]: bbox: box [24.0, 24.0, 80.0, 80.0] of circle is given "
        "2 times in one annotation (a repeated row?): keep one"
    ]
    assert refused(run, root, "shapes", two_classes, "shapes@1.0.0") == [
        f"{two_classes}:1 [2 rows, lines 1, 2]: bbox: box [24.0, 24.0, 80.0, 80.0] is given 2 "
        "classes (circle, square): a box has one class; draw one box per object"
    ]
    # the same box by two labelers is two annotations: not a box twice (vB-01 is untrained)
    other = {**box, "labeler": "vB-01"}
    two_labelers = write_jsonl(tmp_path / "ok.jsonl", [box, other])
    problems = refused(run, root, "shapes", two_labelers, "shapes@1.0.0")
    assert problems and not any("is given" in p for p in problems)


def test_a_box_on_a_remote_item_is_checked_against_the_size_the_tool_showed(
    make_store, run, tmp_path
):
    """An item registered by its uri alone has no size of its own; the CVAT export says the
    image it showed was 128x96, so a box past its right edge (100 + 40 = 140 > 128.5) is
    refused, and one inside it (80 + 40 = 120) imports."""
    root = make_store("shapes", "shapes")
    remote = tmp_path / "remote.csv"
    remote.write_text("item_id,uri\nfar.png,s3://bucket/far.png\n")
    run("items", "add", "shapes", str(remote), cwd=root)

    def cvat(name: str, xtl: int) -> Path:
        path = tmp_path / name
        path.write_text(
            '<annotations><version>1.1</version><image id="0" name="far.png" width="128" '
            f'height="96"><box label="square" source="manual" occluded="0" xtl="{xtl}" ytl="10" '
            f'xbr="{xtl + 40}" ybr="50" z_order="0"/></image></annotations>'
        )
        return path

    args = ["labels", "import", "shapes", "--format", "cvat", "--guideline", "shapes@1.0.0",
            "--source", "vendor-c", "--labeler", "vA-01"]  # fmt: skip
    past = cvat("past.xml", 100)
    before = state(root)
    result = run(*args[:3], str(past), *args[3:], cwd=root, expect=1)

    assert state(root) == before
    assert "past.xml: 1 problem(s) (1 bbox); nothing was imported" in result.stderr
    assert (
        "bbox: box [100.0, 10.0, 40.0, 40.0] is outside the 128x96 image the tool showed "
        "(item far.png has no registered size)" in result.stderr
    )
    run(*args[:3], str(cvat("inside.xml", 80)), *args[3:], cwd=root)
