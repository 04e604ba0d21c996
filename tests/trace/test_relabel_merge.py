"""`relabel merge` and `relabel status`: Label Studio round trips through a plan, on real git + DVC."""

from __future__ import annotations

import json
import re

from tests.helpers import commit_of, git, head, state
from tests.trace.conftest import (
    SUSPECT,
    as_json,
    labeler_map,
    labelstudio_export,
    make_plan,
    retrain,
    write_jsonl,
)

# every plan item answered; d07 by two labelers
ALL_ANSWERS = {
    "d01.png": [("vB-01", "one")],
    "d02.png": [("vA-01", "two")],
    "d03.png": [("vA-01", "three")],
    "d07.png": [("vA-01", "seven"), ("vB-01", "seven")],
    "d11.png": [("vB-01", "one")],
    "d12.png": [("vB-01", "two")],
    "d17.png": [("vA-01", "seven")],
    "d18.png": [("vB-01", "eight")],
}


def planned(run, root, tmp_path, *args: str) -> tuple[dict, list[dict]]:
    """A plan over every suspect item, its Label Studio tasks, and vB-01 retrained on 1.1.1."""
    plan = make_plan(run, root, tmp_path / "queue", *args)
    tasks = json.loads((tmp_path / "queue" / "tasks.labelstudio.json").read_text())
    retrain(run, root, "vB-01")
    return plan, tasks


def merge(run, root, plan_ref: str, export, users, expect: int | None = 0, fmt="labelstudio"):
    args = ["relabel", "merge", "digits", plan_ref, str(export), "--format", fmt]
    if users is not None:
        args += ["--labeler-map", str(users)]
    return as_json(run, root, *args, expect=expect)


def impact(run, root) -> dict:
    return as_json(run, root, "trace", "impact", "digits", "--guideline", "digits")


def annotations(run, root, item: str) -> list[dict]:
    return as_json(run, root, "trace", "item", "digits", item)["annotations"]


def test_label_studio_round_trip_supersedes_the_old_annotations_and_keeps_them(
    history, run, tmp_path
):
    plan, tasks = planned(run, history, tmp_path)
    before = {a["annotation_id"]: a for a in annotations(run, history, "d07.png")}
    export = labelstudio_export(tasks, ALL_ANSWERS, tmp_path / "export.json")

    merged = merge(run, history, plan["plan"], export, labeler_map(tmp_path / "users.csv"))

    assert merged == {
        "plan": plan["plan"],
        "batch": merged["batch"],
        "snapshot": head(history)[:10],
        "commit": head(history),
        "labels": 9,
        "empty_answers": 0,
        "annotations": 9,
        "items": 8,
        # the 9 planned, and vA-01's own earlier d03 and d17 (not suspect, yet vA-01 answers
        # them again): one current annotation per item and labeler
        "superseded_annotations": 11,
        "superseded_labels": 11,
        "by_labeler": {"vA-01": 4, "vB-01": 5},
        "new": 9,
        "updated": 0,
        "unchanged": 0,
        "done": 8,
        "open": 0,
        "warnings": [],
    }
    assert git(history, "log", "-1", "--format=%s").strip() == (
        f"relabel merge {plan['plan']}: 9 labels on 8 item(s) of digits"
    )
    assert git(history, "status", "--porcelain") == ""
    # nothing is suspect any more: the old labels are superseded, the new ones were made under
    # 1.1.1 by labelers whose training covers it
    after = impact(run, history)
    assert (after["affected_labels"], after["affected_items"], after["segments"]) == (0, 0, [])
    assert after["total_labels"] == 23  # vA-01's own d03 and d17 gave way to its answers

    lineage = annotations(run, history, "d07.png")
    old = [a for a in lineage if a["annotation_id"] in before]
    new = [a for a in lineage if a["annotation_id"] not in before]
    snap = {commit_of(history, f"snap-{n}"): f"snap-{n}" for n in (1, 4)} | {head(history): "merge"}
    assert [snap[a["commit"]] for a in lineage] == ["snap-1", "snap-4", "merge", "merge"]
    assert [a["current"] for a in old] == [False, False]
    assert [a["current"] for a in new] == [True, True]
    assert sorted(a["labeler"] for a in new) == ["vA-01", "vB-01"]
    for annotation in new:
        assert sorted(annotation["supersedes"]) == sorted(before)
        assert annotation["guideline_version"] == "1.1.1"
        assert annotation["format"] == "labelstudio"
        assert annotation["training"]["method"] == "quiz"
        assert annotation["labels"][0]["page"] == "digits/1.1.1/classes/seven/"
    for annotation in old:
        assert annotation["superseded_by"] in {a["annotation_id"] for a in new}
        # superseded twice (two relabelers), still one label each, as imported
        assert annotation["labels"] == before[annotation["annotation_id"]]["labels"]
    human = run("trace", "item", "digits", "d07.png", cwd=history).stdout
    assert human.count("superseded by a-") == 2
    assert "seven, seven" not in human


def test_labels_show_counts_the_current_labels_after_a_merge(history, run, tmp_path):
    plan, tasks = planned(run, history, tmp_path)
    export = labelstudio_export(tasks, ALL_ANSWERS, tmp_path / "export.json")

    merge(run, history, plan["plan"], export, labeler_map(tmp_path / "users.csv"))

    shown = as_json(run, history, "labels", "show", "digits")
    # 25 - 11 superseded + 9 answers (vA-01's own d03 and d17 replaced too)
    assert (shown["commit"], shown["labels"], shown["superseded_labels"]) == (head(history), 23, 11)
    assert shown["items"] == 20
    assert shown["by_labeler"] == {"vA-01": 14, "vB-01": 8, "vC-02": 1}
    # vA-01's d03 (1.0.0) and d17 (1.1.0) are no longer current
    assert shown["by_guideline_version"] == {"1.0.0": 10, "1.1.0": 3, "1.1.1": 10}
    # a relabel is its own work: the 9 merged answers keep source "relabel", never the
    # relabelers' vendors (a bake-off judges each vendor on what it delivered)
    assert shown["by_source"] == {"relabel": 9, "vendor-a": 10, "vendor-b": 3, "vendor-c": 1}
    earlier = as_json(run, history, "labels", "show", "digits", "--snapshot", "snap-4")
    assert (earlier["labels"], earlier["superseded_labels"]) == (25, 0)


def test_a_partial_merge_leaves_items_open_and_a_second_merge_completes_the_plan(
    history, run, tmp_path
):
    plan, tasks = planned(run, history, tmp_path)
    users = labeler_map(tmp_path / "users.csv")
    first = {k: ALL_ANSWERS[k] for k in ("d07.png", "d11.png", "d12.png")}

    one = merge(
        run, history, plan["plan"], labelstudio_export(tasks, first, tmp_path / "1.json"), users
    )

    assert (one["commit"], one["done"], one["open"]) == (head(history), 3, 5)
    assert one["superseded_annotations"] == 4  # d07 had two suspect annotations
    status = as_json(run, history, "relabel", "status", "digits")
    assert status == [
        {
            "plan": plan["plan"],
            "guideline": "digits",
            "version": "1.1.1",
            "created": plan["created"],
            "items": 8,
            "done": 3,
            "open": 5,
            "by_labeler": {"vA-01": 1, "vB-01": 3},  # d07 had two relabelers
            "merges": 1,
            "closed": None,
        }
    ]
    human = run("relabel", "status", "digits", cwd=history).stdout
    assert re.search(rf"{plan['plan']}\s*│ 1\.1\.1\s*│ 8\s*│ 3\s*│ 5\s*│ vA-01 1, vB-01 3", human)
    left = impact(run, history)
    assert (left["affected_labels"], left["affected_items"]) == (5, 5)
    assert sorted({s[0] for s in SUSPECT} - set(first)) == [
        "d01.png",
        "d02.png",
        "d03.png",
        "d17.png",
        "d18.png",
    ]
    d12_first = next(a for a in annotations(run, history, "d12.png") if a["current"])

    # the rest, and a second opinion on d12 that replaces the first merge's answer
    rest = {k: v for k, v in ALL_ANSWERS.items() if k not in first}
    rest["d12.png"] = [("vA-01", "two")]
    two = merge(
        run, history, plan["plan"], labelstudio_export(tasks, rest, tmp_path / "2.json"), users
    )

    assert (two["commit"], two["labels"], two["done"], two["open"]) == (head(history), 6, 8, 0)
    # 5 planned (d01, d02, d03, d17, d18), d12's first answer, vA-01's own d03 and d17
    assert two["superseded_annotations"] == 8
    status = as_json(run, history, "relabel", "status", "digits")[0]
    assert (status["done"], status["open"], status["merges"]) == (8, 0, 2)
    assert status["by_labeler"] == {"vA-01": 5, "vB-01": 5}
    done = impact(run, history)
    assert (done["affected_labels"], done["affected_items"]) == (0, 0)
    d12 = annotations(run, history, "d12.png")
    assert [(a["commit"], a["labeler"], a["current"]) for a in d12] == [
        (commit_of(history, "snap-2"), "vB-01", False),
        (one["commit"], "vB-01", False),
        (two["commit"], "vA-01", True),
    ]
    assert d12[0]["superseded_by"] == d12_first["annotation_id"] == d12[1]["annotation_id"]
    assert d12[1]["supersedes"] == [d12[0]["annotation_id"]]
    assert d12[1]["superseded_by"] == d12[2]["annotation_id"]
    assert d12[2]["supersedes"] == [d12[1]["annotation_id"]]
    shown = as_json(run, history, "labels", "show", "digits")
    assert (shown["labels"], shown["superseded_labels"]) == (23, 12)


def test_a_merge_by_an_uncertified_labeler_is_refused_and_changes_nothing(history, run, tmp_path):
    plan, tasks = planned(run, history, tmp_path)
    # vC-02 passed 1.0.0 only; vC-01 was never trained. The workspace's `training: warn` does
    # not apply: relabelers must be trained on the plan's version.
    answers = {
        "d01.png": [("vA-01", "one")],
        "d17.png": [("vC-01", "seven")],
        "d18.png": [("vC-02", "eight")],
    }
    export = labelstudio_export(tasks, answers, tmp_path / "export.json")
    users = labeler_map(tmp_path / "users.csv")
    before = state(history)

    result = merge(run, history, plan["plan"], export, users, expect=1)

    assert "nothing was merged" in result.stderr
    assert (
        "labeler vC-02 holds no passing training record that covers digits 1.1.1" in result.stderr
    )
    assert "labeler vC-01 holds no passing training record" in result.stderr
    assert state(history) == before
    assert as_json(run, history, "relabel", "status", "digits")[0]["done"] == 0
    assert impact(run, history)["affected_labels"] == len(SUSPECT)


def test_a_merge_with_an_item_outside_the_plan_is_refused(history, run, tmp_path):
    plan, tasks = planned(run, history, tmp_path, "--segment", "source=vendor-b")
    stray = {"data": {"image": "datasets/digits/items/d00.png", "item_id": "d00.png"}}
    answers = {"d11.png": [("vA-01", "one")], "d00.png": [("vA-01", "zero")]}
    export = labelstudio_export([*tasks, stray], answers, tmp_path / "export.json")
    before = state(history)

    result = merge(
        run, history, plan["plan"], export, labeler_map(tmp_path / "users.csv"), expect=1
    )

    assert f"item d00.png is not in relabel plan {plan['plan']}" in result.stderr
    assert state(history) == before


def test_merge_takes_a_plan_file_and_jsonl_results(history, run, tmp_path):
    plan, _ = planned(run, history, tmp_path, "--segment", "source=vendor-b")
    results = write_jsonl(
        tmp_path / "results.jsonl",
        [
            {"item_id": "d11.png", "labeler": "vB-01", "class": "one"},
            {"item_id": "d12.png", "labeler": "vB-01", "class": "seven"},
        ],
    )

    merged = merge(run, history, str(tmp_path / "queue" / "plan.json"), results, None, fmt="jsonl")

    assert (merged["plan"], merged["labels"], merged["done"], merged["open"]) == (
        plan["plan"],
        2,
        2,
        0,
    )
    current = [a for a in annotations(run, history, "d12.png") if a["current"]]
    assert [(a["labeler"], a["labels"][0]["class"], a["guideline_version"]) for a in current] == [
        ("vB-01", "seven", "1.1.1")
    ]


def test_merge_of_an_unknown_plan_names_the_known_ones(history, run, tmp_path):
    plan, _ = planned(run, history, tmp_path)
    results = write_jsonl(
        tmp_path / "r.jsonl", [{"item_id": "d11.png", "labeler": "vB-01", "class": "one"}]
    )

    result = merge(run, history, "rp-nope", results, None, expect=3, fmt="jsonl")

    assert "rp-nope" in result.stderr and plan["plan"] in result.stderr


def test_a_plan_to_an_older_release_takes_labels_under_that_release_only(history, run, tmp_path):
    plan, _ = planned(run, history, tmp_path, "--to", "1.1.0", "--segment", "source=vendor-a")
    assert (plan["version"], [e["item_id"] for e in plan["items"]]) == (
        "1.1.0",
        ["d01.png", "d02.png", "d07.png"],
    )
    newer = write_jsonl(
        tmp_path / "newer.jsonl",
        [{"item_id": "d01.png", "labeler": "vA-01", "class": "one", "guideline_version": "1.1.1"}],
    )
    before = state(history)

    refused = merge(run, history, plan["plan"], newer, None, expect=1, fmt="jsonl")

    assert f"relabel plan {plan['plan']} is labeled under 1.1.0, not 1.1.1" in refused.stderr
    assert state(history) == before
    results = write_jsonl(
        tmp_path / "results.jsonl",
        [
            {"item_id": "d01.png", "labeler": "vA-01", "class": "one"},
            {"item_id": "d02.png", "labeler": "vB-01", "class": "two"},  # 1.1.1 pass covers 1.1.0
            {"item_id": "d07.png", "labeler": "vA-01", "class": "seven"},
        ],
    )
    merged = merge(run, history, plan["plan"], results, None, fmt="jsonl")
    assert (merged["labels"], merged["open"]) == (3, 0)
    # vA-01's 1.0.0 labels are replaced by 1.1.0 ones, which 1.1.1 does not make suspect;
    # vC-01's untrained label on d07 was not in the vendor-a segment and stays suspect
    left = impact(run, history)
    assert (left["affected_labels"], left["affected_items"]) == (6, 6)
    versions = {
        a["labeler"]: a["guideline_version"]
        for a in annotations(run, history, "d07.png")
        if a["current"]
    }
    assert versions == {"vA-01": "1.1.0", "vC-01": "1.1.0"}


def test_a_later_cumulative_export_merges_only_the_new_answers(history, run, tmp_path):
    plan, tasks = planned(run, history, tmp_path)
    users = labeler_map(tmp_path / "users.csv")
    first = {k: ALL_ANSWERS[k] for k in ("d07.png", "d11.png", "d12.png")}
    merge(run, history, plan["plan"], labelstudio_export(tasks, first, tmp_path / "1.json"), users)
    before = as_json(run, history, "labels", "show", "digits")
    more = {**first, **{k: ALL_ANSWERS[k] for k in ("d01.png", "d02.png")}}  # everything so far

    later = merge(
        run, history, plan["plan"], labelstudio_export(tasks, more, tmp_path / "2.json"), users
    )
    again = merge(
        run, history, plan["plan"], labelstudio_export(tasks, more, tmp_path / "2.json"), users
    )

    assert (later["new"], later["updated"], later["unchanged"], later["labels"]) == (2, 0, 4, 2)
    assert (again["new"], again["unchanged"], again["batch"]) == (0, 6, None)
    after = as_json(run, history, "labels", "show", "digits")
    assert after["labels"] == before["labels"]  # two answers replaced two suspect labels
    assert after["superseded_labels"] == before["superseded_labels"] + 2


def test_an_export_of_another_plans_tasks_is_refused(history, run, tmp_path):
    plan, tasks = planned(run, history, tmp_path)
    for task in tasks:
        task["data"]["relabel_plan"] = "rp-20260101T000000Z-000000"
    export = labelstudio_export(tasks, {"d07.png": ALL_ANSWERS["d07.png"]}, tmp_path / "x.json")
    before = state(history)

    refused = merge(run, history, plan["plan"], export, labeler_map(tmp_path / "u.csv"), expect=1)

    assert "this task belongs to relabel plan rp-20260101T000000Z-000000, not " in refused.stderr
    assert state(history) == before


# -- overlapping plans: one open plan per item, one current answer per item and labeler ----------------
def test_a_plan_over_items_open_in_another_plan_is_refused_and_changes_nothing(
    history, run, tmp_path
):
    # vendor-a's suspects: d01, d02, d07; vendor-c's: d03, d07, d17, d18 (SUSPECT)
    first = make_plan(run, history, tmp_path / "a", "--segment", "source=vendor-a")
    before = state(history)

    refused = run(
        "relabel", "plan", "digits", "--guideline", "digits", "--segment", "source=vendor-c",
        "--out", str(tmp_path / "c"), cwd=history, expect=4,
    )  # fmt: skip

    assert (
        f"1 item(s) of this plan are open in another relabel plan: {first['plan']} (1: d07.png)"
        in refused.stderr
    )
    assert f"`labelspec relabel close digits {first['plan']}`" in refused.stderr
    assert "--planned skip" in refused.stderr
    assert state(history) == before
    assert not (tmp_path / "c" / "plan.json").exists()

    skipped = make_plan(
        run, history, tmp_path / "c", "--segment", "source=vendor-c", "--planned", "skip"
    )
    assert [e["item_id"] for e in skipped["items"]] == ["d03.png", "d17.png", "d18.png"]


def test_a_closed_plan_releases_its_items_and_takes_no_more_answers(history, run, tmp_path):
    first, tasks = planned(run, history, tmp_path, "--segment", "source=vendor-a")
    closed = as_json(run, history, "relabel", "close", "digits", first["plan"])
    assert (closed["plan"], closed["released"], closed["commit"]) == (
        first["plan"], 3, head(history),
    )  # fmt: skip
    assert git(history, "log", "-1", "--format=%s").strip() == (
        f"relabel close {first['plan']}: 3 open item(s) released"
    )
    status = as_json(run, history, "relabel", "status", "digits")
    assert status[0]["closed"] == closed["closed"]

    later = make_plan(run, history, tmp_path / "c", "--segment", "source=vendor-c")
    assert [e["item_id"] for e in later["items"]] == ["d03.png", "d07.png", "d17.png", "d18.png"]
    export = labelstudio_export(tasks, {"d07.png": [("vB-01", "seven")]}, tmp_path / "x.json")
    before = state(history)
    refused = merge(run, history, first["plan"], export, labeler_map(tmp_path / "u.csv"), expect=4)
    assert f"relabel plan {first['plan']} was closed on {closed['closed']}" in refused.stderr
    assert state(history) == before


def test_an_answer_supersedes_the_labelers_answer_from_another_plan(history, run, tmp_path):
    users = labeler_map(tmp_path / "users.csv")
    first, tasks = planned(run, history, tmp_path, "--segment", "source=vendor-a")
    one = merge(
        run, history, first["plan"],
        labelstudio_export(tasks, {"d07.png": [("vB-01", "seven")]}, tmp_path / "1.json"), users,
    )  # fmt: skip
    # d07 is answered in the first plan, so a vendor-c plan may take it (its other items wait)
    second = make_plan(run, history, tmp_path / "c", "--segment", "source=vendor-c")
    tasks2 = json.loads((tmp_path / "c" / "tasks.labelstudio.json").read_text())
    later = labelstudio_export(tasks2, {"d07.png": [("vB-01", "one")]}, tmp_path / "2.json")
    export = json.loads(later.read_text())
    export[0]["annotations"][0]["created_at"] = "2026-03-05T10:00:00Z"  # answered after the first
    later.write_text(json.dumps(export))
    two = merge(run, history, second["plan"], later, users)

    # d07: vA-01's (planned in the first plan) and vC-01's (in the second) old labels, vB-01's
    # first answer (superseded by its second, the same labeler on the same item): 1 current
    assert two["superseded_annotations"] == 2  # vC-01's d07 and vB-01's first answer
    d07 = annotations(run, history, "d07.png")
    current = [(a["labeler"], a["labels"][0]["class"]) for a in d07 if a["current"]]
    assert current == [("vB-01", "one")]
    answer = next(a for a in d07 if a["commit"] == two["commit"])
    first_answer = next(a for a in d07 if a["commit"] == one["commit"])
    vc01 = next(a for a in d07 if a["labeler"] == "vC-01")
    assert sorted(answer["supersedes"]) == sorted(
        [first_answer["annotation_id"], vc01["annotation_id"]]
    )
    shown = as_json(run, history, "labels", "show", "digits")
    # 25 labels; the first merge replaces vA-01's d07 by one answer, the second replaces two
    # (vC-01's and that answer) by one: 25 - 1 + 1 - 2 + 1 (without the rule: 25)
    assert shown["labels"] == 24
