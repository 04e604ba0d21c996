"""A detection quiz with box questions, taken in headless Chromium and graded: the candidate
boxes are drawn where the answer key says, alike; the labeler picks, saves and passes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from labelspec.demo import school_buses
from tests.site.conftest import SCREENSHOTS

CANDIDATES = """svg => [...svg.querySelectorAll('rect.ls-candidate')].map(r => {
  const b = r.getBoundingClientRect(), frame = svg.getBoundingClientRect();
  const [, , w, h] = svg.getAttribute('viewBox').split(' ').map(Number);
  const scale = Math.min(frame.width / w, frame.height / h);
  const left = frame.x + (frame.width - w * scale) / 2, top = frame.y + (frame.height - h * scale) / 2;
  return {spec: ['x', 'y', 'width', 'height'].map(a => Number(r.getAttribute(a))),
          // where it is on screen, in the picture's pixels
          shown: [(b.x - left) / scale, (b.y - top) / scale, b.width / scale, b.height / scale],
          dash: getComputedStyle(r).strokeDasharray};
})"""


def test_a_labeler_picks_the_right_boxes_and_passes(browser, buses_workspace, tmp_path: Path, run):
    root = tmp_path / "ws"
    shutil.copytree(buses_workspace, root, symlinks=True)
    run("labeler", "add", "sB-01", "--vendor", "southbound", cwd=root)
    run("labeler", "quiz", school_buses.NAME, "--n", "3", "--out", str(tmp_path / "send"), cwd=root)
    key = json.loads((tmp_path / "send.key.json").read_text())
    context = browser.new_context(viewport={"width": 1000, "height": 900}, accept_downloads=True)
    page = context.new_page()
    try:
        page.goto((tmp_path / "send/quiz.html").as_uri())
        page.get_by_label("Your labeler id").fill("sB-01")
        for number, question in enumerate(key["questions"], 1):
            group = page.get_by_role("group", name=f"Question {number} of 3")
            drawn = group.locator("svg.ls-boxes").evaluate(CANDIDATES)
            assert [d["spec"] for d in drawn] == [
                [c["box"][k] for k in ("x", "y", "w", "h")] for c in question["candidates"]
            ]
            for box in drawn:  # on screen where the key says, and all alike (solid)
                assert box["shown"] == pytest.approx(box["spec"], abs=1.0)
                assert box["dash"] == "none"
            group.locator(f"input[value='{question['answer']}']").check()
        assert "3 of 3 answered" in page.get_by_role("status").inner_text()
        page.screenshot(path=str(SCREENSHOTS / "box-quiz.png"), full_page=True)
        with page.expect_download() as download:
            page.get_by_role("button", name="Save answers").click()
        saved = tmp_path / download.value.suggested_filename
        download.value.save_as(saved)

        graded = json.loads(
            run("labeler", "grade", str(tmp_path / "send"), str(saved), "--json", cwd=root).stdout
        )

        assert (graded["correct"], graded["total"], graded["passed"]) == (3, 3, True)
        page.goto(saved.with_name(saved.stem + ".feedback.html").as_uri())
        assert page.locator("fieldset.right").count() == 3
        assert page.locator("svg rect.ls-right").count() == 3  # the answer drawn solid
        assert page.locator("svg rect.ls-wrong").count() == 3  # the mistakes dashed
        page.screenshot(path=str(SCREENSHOTS / "box-quiz-feedback.png"), full_page=True)
    finally:
        context.close()
