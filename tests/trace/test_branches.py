"""Two branches that each merge relabel answers for the same item, then meet in a merge."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import git, head
from tests.store.conftest import write_jsonl
from tests.trace.conftest import retrain


def test_two_branches_superseding_the_same_annotation_keep_both_answers(
    make_history, run, tmp_path
):
    root = make_history()
    run(
        "relabel", "plan", "digits", "--guideline", "digits", "--out", str(tmp_path / "p"), cwd=root
    )
    plan = json.loads((tmp_path / "p/plan.json").read_text())["plan"]
    base = head(root)
    old = {a["annotation_id"] for a in trace(run, root, "d11.png") if a["current"]}
    retrain(run, root, "vA-01")
    answer = [
        {"item_id": "d11.png", "labeler": "vA-01", "class": "one", "guideline_version": "1.1.1"}
    ]
    merge_answers(run, root, plan, tmp_path / "x.jsonl", answer)
    git(root, "checkout", "-q", "-b", "other", base)
    retrain(run, root, "vB-01")
    answer = [
        {"item_id": "d11.png", "labeler": "vB-01", "class": "seven", "guideline_version": "1.1.1"}
    ]
    merge_answers(run, root, plan, tmp_path / "y.jsonl", answer)
    git(root, "checkout", "-q", "main")

    git(root, "merge", "-q", "--no-edit", "other")

    current = [a for a in trace(run, root, "d11.png") if a["current"]]
    assert sorted((a["labeler"], a["labels"][0]["class"]) for a in current) == [
        ("vA-01", "one"),
        ("vB-01", "seven"),
    ]
    assert all(set(a["supersedes"]) == old for a in current)
    agreement = json.loads(
        run("qa", "agreement", "digits", "--by", "labeler", "--json", cwd=root).stdout
    )
    assert agreement["items"] >= 1  # d11 now has two labelers
    assert json.loads(run("verify", "--json", cwd=root).stdout)["ok"] is True


def trace(run, root: Path, item: str) -> list[dict]:
    return json.loads(run("trace", "item", "digits", item, "--json", cwd=root).stdout)[
        "annotations"
    ]


def merge_answers(run, root: Path, plan: str, path: Path, rows: list[dict]) -> None:
    write_jsonl(path, rows)
    run("relabel", "merge", "digits", plan, str(path), "--format", "jsonl", cwd=root)
