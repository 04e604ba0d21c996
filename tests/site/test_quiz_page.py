"""The quiz page a labeler fills in, and the feedback page they get back, in headless Chromium."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.site.conftest import SCREENSHOTS


def test_a_labeler_answers_saves_their_own_file_and_reads_the_feedback(
    browser,
    pristine,
    tmp_path: Path,
    run,
):
    root = tmp_path / "ws"
    shutil.copytree(pristine("classification"), root, symlinks=True)
    run("labeler", "add", "vA-07", "--vendor", "vendor-a", cwd=root)
    run("labeler", "quiz", "digits", "--n", "5", "--out", str(tmp_path / "send"), cwd=root)
    key = json.loads((tmp_path / "send.key.json").read_text())
    context = browser.new_context(viewport={"width": 1000, "height": 900}, accept_downloads=True)
    page = context.new_page()
    try:
        page.goto((tmp_path / "send/quiz.html").as_uri())
        save = page.get_by_role("button", name="Save answers")
        assert save.is_disabled(), "no saving before the labeler says who they are"
        page.get_by_label("Your labeler id").fill("vA-07")
        assert save.is_enabled()
        for question in key["questions"][:-1]:
            group = page.get_by_role("group", name=f"Question {int(question['id'][1:])} of 5")
            group.locator(f"input[value='{question['answer']}']").check()
        assert "1 unanswered" in page.get_by_role("status").inner_text()
        page.screenshot(path=str(SCREENSHOTS / "quiz.png"), full_page=True)
        with page.expect_download() as download:
            save.click()
        saved = tmp_path / download.value.suggested_filename
        download.value.save_as(saved)
        assert saved.name == f"answers-{key['quiz']}-vA-07.json"
        data = json.loads(saved.read_text())
        assert (data["labeler"], data["complete"], len(data["answers"])) == ("vA-07", False, 4)

        refused = run("labeler", "grade", str(tmp_path / "send"), str(saved), cwd=root, expect=1)
        assert "answers 4 of 5 questions" in refused.stderr
        run("labeler", "grade", str(tmp_path / "send"), str(saved), "--incomplete", cwd=root)
        page.goto(saved.with_name(saved.stem + ".feedback.html").as_uri())
        assert (
            page.locator("fieldset.right").count() == 4
            and page.locator("fieldset.wrong").count() == 1
        )
        assert "Not answered." in page.locator("fieldset.wrong").inner_text()
        page.screenshot(path=str(SCREENSHOTS / "quiz-feedback.png"), full_page=True)
    finally:
        context.close()
