"""`guideline review` draws the answers of changed examples before and after: boxes over the
pictures in HTML, standalone drawings in Markdown, each with its legend in words."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from labelspec.demo import school_buses

SPEC = f"guidelines/{school_buses.NAME}/spec.yaml"
OLD = "boxes: [{class: school_bus, x: 0, y: 118, w: 80, h: 56}]"
NEW = "boxes: [{class: school_bus, x: 0, y: 118, w: 82, h: 56}]"


@pytest.fixture
def edited(make_workspace, run) -> Path:
    """school-buses 1.0.0 released; in the working tree the cut-off bus is boxed 2 px wider."""
    root = make_workspace("detection")
    school_buses.write(root / "guidelines" / school_buses.NAME)
    subprocess.run(["git", "add", "guidelines"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-qm", "school-buses"], cwd=root, check=True)
    run("guideline", "release", school_buses.NAME, "--tag-current", cwd=root)
    spec = root / SPEC
    spec.write_text(
        spec.read_text().replace(OLD, NEW)
        + "  - version: unreleased\n    summary: The stop arm\n    affects: []\n    relabel: none\n"
    )
    return root


def test_the_html_review_draws_the_boxes_before_and_after(edited, run, tmp_path):
    out = tmp_path / "review"
    run("guideline", "review", school_buses.NAME, "--format", "html", "--out", str(out), cwd=edited)

    page = (out / "review.html").read_text()

    pair = page[page.index('<section class="pair">') :]
    widths = re.findall(r'<rect class="ls-right" x="0" y="118" width="(\d+)" height="56">', pair)
    assert widths == ["80", "82"]  # before, then after
    assert pair.count('<rect class="ls-wrong" x="14" y="118" width="66" height="56">') == 2
    assert "changed (boxes)" in pair
    assert pair.count("<li>1, solid line: School bus. Box it like this.</li>") == 2
    assert (out / "images/base/examples/bus_cut.png").is_file()


def test_the_markdown_review_shows_standalone_drawings(edited, run, tmp_path):
    out = tmp_path / "review"
    run("guideline", "review", school_buses.NAME, "--out", str(out), cwd=edited)

    text = (out / "review.md").read_text()

    for side in ("base", "head"):
        assert f"(images/{side}/examples/bus_cut.png.svg)" in text
        drawing = (out / f"images/{side}/examples/bus_cut.png.svg").read_text()
        assert drawing.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
        assert 'href="data:image/png;base64,' in drawing
    head = (out / "images/head/examples/bus_cut.png.svg").read_text()
    assert '<rect class="ls-right" x="0" y="118" width="82" height="56">' in head
    assert "<br>2, dashed line: School bus. Not this." in text
