"""`labelspec guideline review` on real branches of real workspaces: the change in words and
pictures, the bump, the impact (equal to `trace impact --preview`) with cost and hours, and who
must be retrained."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from labelspec import yamlio
from tests.helpers import git, head, state
from tests.store.conftest import write_jsonl
from tests.trace.conftest import history, history_template, make_history  # noqa: F401 (fixtures)

SPEC = "guidelines/digits/spec.yaml"
EXAMPLES = "guidelines/digits/examples"
NEW_ONE = "A single vertical stroke; a top flag shorter than half the width is still a one."
COST, LEAD = 0.25, 18.0  # vendor-d's recorded cost per label and lead time


def review(run, root: Path, *args: str) -> dict:
    return json.loads(run("guideline", "review", "digits", *args, "--json", cwd=root).stdout)


def priced_delivery(root: Path, run) -> None:
    """vendor-d, trained on 1.1.1, labels five items under 1.1.1 with a cost and a lead time."""
    run("labeler", "add", "vD-01", "--vendor", "vendor-d", cwd=root)
    run("labeler", "train", "vD-01", "--guideline", "digits", "--version", "1.1.1", "--method", "session",
        "--score", "0.9", "--passed", "--date", "2026-02-09", cwd=root)  # fmt: skip
    rows = [
        {"item_id": f"d0{i}.png", "labeler": "vD-01", "class": cls, "created_at": f"2026-02-20T10:0{i}:00Z",
         "lead_time_s": LEAD, "cost": COST}
        for i, cls in enumerate(["zero", "one", "two", "three", "four"])
    ]  # fmt: skip
    path = write_jsonl(root.parent / "vendor-d.jsonl", rows)
    run("labels", "import", "digits", str(path), "--format", "jsonl", "--guideline", "digits@1.1.1",
        "--source", "vendor-d", cwd=root)  # fmt: skip


def edit_on_a_branch(root: Path) -> None:
    """A pull request's worth of change: one's definition, a rule and a tree question for ones
    and sevens, a replaced picture, an added and a removed example."""
    git(root, "checkout", "-q", "-b", "clarify-one")
    doc = yamlio.Document.load(root / SPEC)
    classes = {c["id"]: c for c in doc.data["classes"]}
    classes["one"]["definition"] = NEW_ONE
    classes["seven"]["examples"]["positive"].append(
        {"image": "examples/seven_typical_3.png", "why": "A long bar, a short stem."}
    )
    del classes["three"]["examples"]["counter"][0]
    doc.data["rules"].append(
        {"id": "R4", "text": "Measure the top bar.", "applies_to": ["one", "seven"]}
    )
    doc.data["decision_tree"].insert(
        0, {"id": "top-bar", "question": "Is the top bar long?", "yes": "seven", "no": "one"}
    )
    doc.data["decision_tree"][1]["question"] = "Is the top a closed round loop?"
    doc.data["changelog"].append(
        {
            "version": "unreleased",
            "summary": "Ones by the flag",
            "affects": ["one"],
            "relabel": "required",
        }
    )
    doc.save()
    examples = root / EXAMPLES
    shutil.copy(examples / "seven_typical_1.png", examples / "seven_typical_3.png")
    (examples / "seven_like_one.png").write_bytes((examples / "seven_typical_2.png").read_bytes())
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "digits: ones by the flag")


@pytest.fixture
def branch(history: Path, run) -> Path:  # noqa: F811 (the fixture imported above)
    """The trace history with a priced delivery, a branch with an edit, and main moved on."""
    priced_delivery(history, run)
    fork = head(history)
    edit_on_a_branch(history)
    git(history, "checkout", "-q", "main")
    run("labeler", "add", "vE-01", "--vendor", "vendor-e", cwd=history)  # main moves on
    git(history, "checkout", "-q", "clarify-one")
    assert git(history, "merge-base", "HEAD", "main").strip() == fork != head(history)
    return history


def test_review_of_a_branch_shows_the_change_its_cost_and_who_to_retrain(
    branch: Path, run, tmp_path: Path
):
    out = tmp_path / "review"
    before = state(branch)
    data = review(run, branch, "--out", str(out))
    assert state(branch) == before, "a review writes nothing in the workspace"

    fork = git(branch, "merge-base", "HEAD", "main").strip()
    assert data["base"] == {"label": "merge base with main", "commit": fork, "version": "1.1.1"}
    assert data["head"] == f"working tree on clarify-one ({head(branch)[:10]})"
    assert (data["bump"], data["bump_against"]) == ("minor", "1.1.1")
    assert (
        data["bump_why"] == "definitions changed for: one, three"
    )  # a counterexample of three went
    assert data["affects"] == ["one", "seven", "three"]  # seven: the new rule R4 is scoped to it
    assert data["pending"]["summary"] == "Ones by the flag" and data["problems"] == []

    changes = data["changes"]
    [one] = changes["classes"]
    assert (one["id"], one["status"], one["texts"][0]["field"]) == ("one", "changed", "definition")
    assert one["texts"][0]["after"] == NEW_ONE
    pieces = one["texts"][0]["pieces"]
    assert "".join(t for op, t in pieces if op != "+") == one["texts"][0]["before"]
    assert "".join(t for op, t in pieces if op != "-") == NEW_ONE
    shown = {(e["class_id"], e["kind"], e["status"]): e for e in changes["examples"]}
    assert set(shown) == {
        ("one", "counter", "changed"),
        ("seven", "positive", "added"),
        ("three", "counter", "removed"),
    }
    replaced = shown["one", "counter", "changed"]
    assert replaced["what"] == ["image"]
    assert (
        replaced["before"]["verdict"]
        == replaced["after"]["verdict"]
        == "Counterexample of One: label as Seven"
    )
    base_picture = git_bytes(branch, f"{fork}:{EXAMPLES}/seven_like_one.png")
    assert (out / replaced["before"]["asset"]).read_bytes() == base_picture
    assert (out / replaced["after"]["asset"]).read_bytes() == (
        branch / EXAMPLES / "seven_like_one.png"
    ).read_bytes()
    assert shown["seven", "positive", "added"]["before"] is None
    assert shown["three", "counter", "removed"]["after"] is None
    assert (out / shown["three", "counter", "removed"]["before"]["asset"]).is_file()
    assert [(r["id"], r["status"]) for r in changes["rules"]] == [("R4", "added")]
    assert {(n["id"], n["status"]) for n in changes["tree"]} == {
        ("top-bar", "added"),
        ("loop-top", "changed"),
    }

    preview = json.loads(
        run(
            "trace", "impact", "digits", "--guideline", "digits", "--preview", "--json", cwd=branch
        ).stdout
    )
    [found] = data["impacts"]
    assert found["dataset"] == "digits" and found["impact"] == preview
    suspects_d = sum(s["labels"] for s in preview["segments"] if s["key"]["source"] == "vendor-d")
    assert suspects_d >= 2, "vendor-d's one and three are suspect: both changed since 1.1.1"
    by_source = {s["source"]: s for s in found["sources"]}
    assert by_source["vendor-d"] == {
        "source": "vendor-d", "labels": suspects_d, "cost_per_label": COST, "lead_time_s": LEAD,
        "cost": suspects_d * COST, "hours": pytest.approx(suspects_d * LEAD / 3600),
    }  # fmt: skip
    assert by_source["vendor-a"]["cost"] is None, "vendor-a recorded no cost"
    assert found["cost"] == suspects_d * COST
    assert found["unpriced_labels"] == preview["affected_labels"] - suspects_d

    retrain = {r["labeler"]: r["why"] for r in data["retraining"]}
    assert retrain["vD-01"] == "this change affects one, seven, three"  # covered today, not after
    assert retrain["vC-01"] == "never passed a training on this guideline"
    assert "vE-01" not in retrain, "main's newer labeler is not on this branch"

    markdown = (out / "review.md").read_text()
    assert markdown.startswith("## Guideline review: Handwritten digits (`digits`)\n")
    assert "needs `--bump minor` from 1.1.1" in markdown
    assert f"<ins>{NEW_ONE.split()[3]}" in markdown or "<ins>" in markdown
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown)
    assert len(images) == 4 and all((out / image).is_file() for image in images)
    n = suspects_d
    assert (
        f"| digits | vendor-d | {n} | {COST:.2f} | {n * COST:.2f} | {LEAD:.1f} s | {n * LEAD / 60:.1f} min |"
        in markdown
    )
    assert "| `vD-01` | vendor-d | 1.1.1 | this change affects one, seven, three |" in markdown


def git_bytes(root: Path, spec: str) -> bytes:
    import subprocess

    return subprocess.run(["git", "show", spec], cwd=root, check=True, capture_output=True).stdout


def test_the_html_review_has_the_pictures_side_by_side(branch: Path, run, tmp_path: Path):
    out = tmp_path / "review"
    run("guideline", "review", "digits", "--format", "html", "--out", str(out), cwd=branch)
    page = (out / "review.html").read_text()
    assert page.startswith("<!doctype html>")
    pairs = re.findall(r'<section class="pair">(.*?)</section>', page, re.S)
    assert len(pairs) == 3
    sources = re.findall(r'<img src="([^"]+)"', page)
    assert sources and all((out / s).is_file() for s in sources)
    assert not re.search(r"(?:src|href)=\"(?:https?:)?//", page), "the page is self-contained"
    assert "<del>" in page and "<ins>" in page


def test_on_main_the_review_compares_with_the_newest_release(workspace: Path, run):
    (workspace / SPEC).write_text((workspace / SPEC).read_text().replace(
        "definition: Two closed loops stacked, touching in the middle.",
        "definition: Two closed loops stacked, touching in the middle, or crossing.",
    ))  # fmt: skip
    data = review(run, workspace)
    assert data["base"]["label"] == "release 1.0.0"
    assert data["head"].endswith(", with uncommitted edits)")
    assert data["bump"] == "minor" and data["impacts"][0]["impact"]["affected_labels"] == 0
    assert any("no `unreleased` changelog entry" in p for p in data["problems"])
    text = run("guideline", "review", "digits", cwd=workspace).stdout
    assert "**eight**" not in text and "<ins>, or crossing</ins>" in text.replace("\\", "")


def test_base_can_be_a_version_or_any_revision(workspace: Path, run):
    for base, label in (("1.0.0", "release 1.0.0"), ("v1.0.0", "release 1.0.0"), ("HEAD", "HEAD")):
        data = review(run, workspace, "--base", base)
        assert data["base"]["label"] == label and data["changes"]["classes"] == []
    text = run("guideline", "review", "digits", "--base", "HEAD", cwd=workspace).stdout
    assert "No changes to the guideline's classes, examples, rules or decision tree." in text
    missing = run("guideline", "review", "digits", "--base", "nowhere", cwd=workspace, expect=3)
    assert (
        "--base nowhere: no such revision" in missing.stderr and "released: 1.0.0" in missing.stderr
    )
    html = run("guideline", "review", "digits", "--format", "html", cwd=workspace, expect=1)
    assert "--format html needs --out DIR" in html.stderr


def test_a_new_guideline_is_all_additions(workspace: Path, run):
    new = workspace / "guidelines/letters"
    shutil.copytree(workspace / "guidelines/digits", new)
    spec = new / "spec.yaml"
    spec.write_text(spec.read_text().replace("guideline: digits", "guideline: letters"))
    data = json.loads(
        run("guideline", "review", "letters", "--base", "HEAD", "--json", cwd=workspace).stdout
    )
    assert data["base"]["version"] is None and data["bump"] == "first release"
    assert {c["status"] for c in data["changes"]["classes"]} == {"added"}
    assert len(data["changes"]["classes"]) == 10 and data["impacts"] == []
    assert {e["status"] for e in data["changes"]["examples"]} == {"added"}


WORKFLOW = (
    Path(__file__).resolve().parents[2]
    / "labelspec/templates/common/github-workflow-guidelines.yml"
)


def test_the_pull_request_workflow_reviews_each_changed_guideline(
    workspace: Path, run, tmp_path: Path
):
    """The workflow's own review step, run as GitHub would on a pull request's checkout."""
    import os
    import subprocess
    import sys

    steps = yamlio.load_plain(WORKFLOW)["jobs"]["review"]["steps"]
    assert any(s.get("run") == "labelspec check" for s in steps)
    [step] = [s for s in steps if s.get("name") == "Review each changed guideline"]
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    git(workspace, "remote", "add", "origin", str(origin))
    git(workspace, "push", "-q", "origin", "main", "--tags")
    git(workspace, "checkout", "-q", "-b", "pr")
    (workspace / SPEC).write_text(
        (workspace / SPEC)
        .read_text()
        .replace("touching in the middle.", "touching or crossing in the middle.")
    )
    git(workspace, "commit", "-qam", "eights may cross")
    git(workspace, "fetch", "-q", "origin")
    env = {
        **os.environ,
        "BASE": "origin/main",
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    done = subprocess.run(
        ["bash", "-e", "-c", step["run"]], cwd=workspace, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    comment = (workspace / "review/comment.md").read_text()
    assert comment.startswith("## Guideline review: Handwritten digits (`digits`)")
    assert "origin/main" in comment and "<ins>or crossing </ins>" in comment
    assert (workspace / "review/digits/review.html").is_file()


def test_a_clone_without_the_label_data_still_gets_a_review(history: Path, run, tmp_path: Path):  # noqa: F811
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(history), str(clone))
    (clone / SPEC).write_text(
        (clone / SPEC)
        .read_text()
        .replace("touching in the middle.", "touching or crossing in the middle.")
    )
    data = review(run, clone)
    [found] = data["impacts"]
    assert found["impact"] is None and "pull" in found["unavailable"]
    assert data["changes"]["classes"][0]["id"] == "eight"
    text = run("guideline", "review", "digits", cwd=clone).stdout
    assert "| digits | not available: " in text


def test_a_review_warns_of_a_global_rule_changed_with_nothing_declared(workspace: Path, run):
    # QA 36 L10: R1 of digits has neither applies_to nor where; nothing is declared
    (workspace / SPEC).write_text((workspace / SPEC).read_text().replace(
        "Label the digit the writer intended, not the closest shape.",
        "Label the digit the writer intended.",
    ))  # fmt: skip
    data = review(run, workspace)
    assert data["warnings"][0].startswith(
        "global rule R1 changed and `affects` is empty: no labeler will be retrained"
    )
