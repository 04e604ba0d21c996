"""`labels diff` between two branches that each replaced a label: every replacement is one change,
whichever side recorded the supersedes link."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import git, head
from tests.store.conftest import write_jsonl
from tests.trace.conftest import retrain


def answer(run, root: Path, plan: str, path: Path, item: str, cls: str) -> None:
    rows = [{"item_id": item, "labeler": "vA-01", "class": cls, "guideline_version": "1.1.1"}]
    write_jsonl(path, rows)
    run("relabel", "merge", "digits", plan, str(path), "--format", "jsonl", cwd=root)


def diff(run, root: Path, a: str, b: str) -> dict:
    return json.loads(run("labels", "diff", "digits", a, b, "--json", cwd=root).stdout)


def test_diff_between_diverged_branches_follows_supersedes_links_recorded_on_either_side(
    history, run, tmp_path
):
    out = tmp_path / "plan"
    run("relabel", "plan", "digits", "--guideline", "digits", "--out", str(out), cwd=history)
    plan = json.loads((out / "plan.json").read_text())["plan"]
    retrain(run, history, "vA-01")
    base = head(history)
    # main: d11's "one" (vB-01) is replaced by vA-01's "seven"
    answer(run, history, plan, tmp_path / "main.jsonl", "d11.png", "seven")
    # other, from the same base: d01's "one" (vA-01) is replaced by vA-01's "seven"
    git(history, "checkout", "-q", "-b", "other", base)
    answer(run, history, plan, tmp_path / "other.jsonl", "d01.png", "seven")
    git(history, "checkout", "-q", "main")

    forward = diff(run, history, "main", "other")
    backward = diff(run, history, "other", "main")

    # main -> other: d01 one -> seven (the link is recorded on other, the B side) and d11
    # seven -> one (the link, d11's seven superseding its one, is recorded on main, the A side):
    # two changes, nothing added or removed; the current labels stay 25 on both sides
    for found, changes in (
        (forward, {"one -> seven": 1, "seven -> one": 1}),
        (backward, {"one -> seven": 1, "seven -> one": 1}),
    ):
        assert (found["added"], found["removed"]) == (0, 0), found
        assert found["changed_class"] == 2
        assert found["class_changes"] == changes
        assert found["by_class"] == {
            "one": {"changed_from": 1, "changed_to": 1},
            "seven": {"changed_from": 1, "changed_to": 1},
        }
