"""The qa commands from the command line: human tables and JSON on the shared vote workspace."""

from __future__ import annotations

import json
from pathlib import Path

from labelspec.workspace import Workspace
from tests.qa.builders import DIGIT_ITEMS


def test_agreement_command(digits_votes: Workspace, run):
    human = run("qa", "agreement", "digits", cwd=digits_votes.root).stdout
    assert (
        "items with 2+ labelers" in human
        and "Krippendorff's alpha" in human
        and "specific agreement" in human
    )
    data = json.loads(
        run("qa", "agreement", "digits", "--by", "labeler", "--json", cwd=digits_votes.root).stdout
    )
    assert data["items"] == 10 and set(data["labelers"]) == {"lab-a1", "lab-a2", "lab-b1", "lab-c1"}
    assert set(data["by"]["groups"]) == {"lab-a1", "lab-a2", "lab-b1", "lab-c1"}
    before = run(
        "qa", "agreement", "digits", "--snapshot", "snap-1", cwd=digits_votes.root, expect=1
    )
    assert before.stderr.startswith("Error: ")


def test_disagreements_command(digits_votes: Workspace, run, tmp_path: Path):
    predictions = tmp_path / "preds.jsonl"
    predictions.write_text(
        "".join(
            json.dumps({"item_id": item, "probs": {"one": 0.9, "seven": 0.1}}) + "\n"
            for item in DIGIT_ITEMS
        )
    )
    data = json.loads(
        run(
            "qa",
            "disagreements",
            "digits",
            "--predictions",
            str(predictions),
            "--top",
            "3",
            "--json",
            cwd=digits_votes.root,
        ).stdout
    )
    assert len(data["top"]) == 3 and all(row["p_label"] <= 0.1 for row in data["top"])
    human = run(
        "qa", "disagreements", "digits", "--predictions", str(predictions), cwd=digits_votes.root
    ).stdout
    assert "top 20 suspicious labels" in human and "by labeler" in human


def test_sample_command(digits_votes: Workspace, run, tmp_path: Path):
    out = tmp_path / "sample.html"
    result = run(
        "qa",
        "sample",
        "digits",
        "--n",
        "8",
        "--by",
        "source",
        "--out",
        str(out),
        cwd=digits_votes.root,
    )
    assert "Wrote 8 sampled annotation(s)" in result.stdout
    page = out.read_text()
    assert page.count("data:image/png;base64,") >= 8 and "https://" not in page
