"""One current answer per item and labeler from relabel merges: a retraction that would break
it is refused, an older answer leaves a newer one current (with a warning), and `verify` warns
when a plain `git pull` of two clones' merges makes two current. Real git + DVC."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.helpers import git, state
from tests.trace.conftest import (
    as_json,
    labeler_map,
    labelstudio_export,
    make_plan,
    retrain,
)
from tests.trace.test_relabel_merge import annotations, merge, planned


def current(run, root, item: str) -> list[tuple[str, str]]:
    return sorted(
        (a["labeler"], a["labels"][0]["class"])
        for a in annotations(run, root, item)
        if a["current"]
    )


def labels_shown(run, root) -> int:
    return as_json(run, root, "labels", "show", "digits")["labels"]


def retract(run, root, batch: str, expect: int = 0):
    return as_json(run, root, "labels", "retract", batch, "--reason", "edited", expect=expect)


def test_retracting_a_merge_a_later_merge_superseded_is_refused_until_that_one_goes(
    history, run, tmp_path
):
    users = labeler_map(tmp_path / "users.csv")
    # vendor-c's plan: d07's planned annotation is vC-01's; vA-01's vendor-a d07 is not planned
    make_plan(run, history, tmp_path / "c", "--segment", "source=vendor-c")
    plan = json.loads((tmp_path / "c" / "plan.json").read_text())
    tasks = json.loads((tmp_path / "c" / "tasks.labelstudio.json").read_text())
    retrain(run, history, "vA-01")
    assert current(run, history, "d07.png") == [("vA-01", "seven"), ("vC-01", "seven")]
    assert labels_shown(run, history) == 25

    # B1: vA-01's answer supersedes vC-01's (planned) and vA-01's own delivery (same labeler)
    b1 = merge(run, history, plan["plan"],
               labelstudio_export(tasks, {"d07.png": [("vA-01", "one")]}, tmp_path / "1.json"),
               users)  # fmt: skip
    assert b1["superseded_annotations"] == 2
    # B2: the answer edited in the tool (same annotation id) supersedes B1's only
    b2 = merge(run, history, plan["plan"],
               labelstudio_export(tasks, {"d07.png": [("vA-01", "two")]}, tmp_path / "2.json"),
               users)  # fmt: skip
    assert (b2["updated"], b2["superseded_annotations"]) == (1, 1)
    assert current(run, history, "d07.png") == [("vA-01", "two")]
    assert labels_shown(run, history) == 24  # 25 - 2 + 1, then - 1 + 1
    before = state(history)

    refused = retract(run, history, b1["batch"], expect=4)

    # taking B1 out alone would bring back vA-01's delivery and vC-01's answer (B2 superseded
    # neither: they were no longer current) beside B2's answer
    assert f"batch {b1['batch']}: later batch(es) {b2['batch']} supersede" in refused.stderr
    assert "make the 2 annotation(s) it superseded current again" in refused.stderr
    assert f"`labelspec labels retract {b2['batch']} --reason ...`" in refused.stderr
    assert state(history) == before

    retract(run, history, b2["batch"])  # nothing supersedes B2: no refusal
    assert current(run, history, "d07.png") == [("vA-01", "one")]
    retract(run, history, b1["batch"])
    assert current(run, history, "d07.png") == [("vA-01", "seven"), ("vC-01", "seven")]
    assert labels_shown(run, history) == 25


def newer_kept(batch: str) -> str:
    """The warning of a merge that leaves vB-01's newer d07 answer (in ``batch``) current."""
    return (
        "1 answer(s) are older than a current answer by the same labeler on the item, so both "
        f"stay current: d07.png (vB-01, batch {batch}). `labelspec verify` lists them; to keep "
        "one, have the labeler answer again in a new plan (a newer answer supersedes both) or "
        "retract the batch that should not count (`labelspec labels retract BATCH --reason ...`)"
    )


def newer_merged_first(run, history, tmp_path) -> tuple[dict, dict, Path, Path]:
    """vB-01 answers d07 in a vendor-a plan (2026-03-02) and in a vendor-c plan (2026-03-05);
    the newer answer is merged. The older plan, the newer's merge, the labeler map, and the
    older answer's export."""
    users = labeler_map(tmp_path / "users.csv")
    older, tasks1 = planned(run, history, tmp_path, "--segment", "source=vendor-a")
    # d07 is open in the vendor-a plan; the vendor-c plan takes it too
    newer = make_plan(run, history, tmp_path / "c", "--segment", "source=vendor-c",
                      "--planned", "include")  # fmt: skip
    tasks2 = json.loads((tmp_path / "c" / "tasks.labelstudio.json").read_text())
    later = labelstudio_export(tasks2, {"d07.png": [("vB-01", "one")]}, tmp_path / "2.json")
    export = json.loads(later.read_text())
    export[0]["annotations"][0]["created_at"] = "2026-03-05T10:00:00Z"  # after the first's
    later.write_text(json.dumps(export))
    two = merge(run, history, newer["plan"], later, users)
    # answered 2026-03-02 (labelstudio_export's time)
    first = labelstudio_export(tasks1, {"d07.png": [("vB-01", "seven")]}, tmp_path / "1.json")
    return older, two, users, first


def test_an_older_answer_merged_later_leaves_the_labelers_newer_answer_current(
    history, run, tmp_path
):
    older, two, users, first = newer_merged_first(run, history, tmp_path)
    one = merge(run, history, older["plan"], first, users)  # merged after the newer answer

    # the older answer supersedes vA-01's d07 (planned in its plan), not vB-01's newer answer
    assert one["superseded_annotations"] == 1
    assert current(run, history, "d07.png") == [("vB-01", "one"), ("vB-01", "seven")]
    assert one["warnings"] == [newer_kept(two["batch"])]
    assert two["warnings"] == []
    report = as_json(run, history, "verify")
    batches = ", ".join(sorted([one["batch"], two["batch"]]))
    assert report["ok"] is True
    assert [w for w in report["warnings"] if "current answer" in w] == [
        "digits: 1 item(s) have more than one current answer by one labeler, from relabel "
        "merges (two clones merged answers by one labeler, or an older answer was merged after "
        f"a newer one): d07.png (vB-01: {batches}). To keep one, retract the batch that should "
        "not count (`labelspec labels retract BATCH --reason ...`), or have the labeler answer "
        "again in a new relabel plan (its merge supersedes both)"
    ]


def test_a_dry_run_prints_the_newer_answer_warning_and_writes_nothing(history, run, tmp_path):
    older, two, users, first = newer_merged_first(run, history, tmp_path)
    args = ["relabel", "merge", "digits", older["plan"], str(first), "--format", "labelstudio",
            "--labeler-map", str(users), "--dry-run"]  # fmt: skip
    before = state(history)

    dry = as_json(run, history, *args)
    shown = run(*args, cwd=history)

    assert state(history) == before  # every file, HEAD, tags and git status as they were
    # the older answer is new; vB-01's newer answer (batch two) would stay current beside it
    assert dry == {"plan": older["plan"], "dry_run": True, "new": 1, "updated": 0,
                   "unchanged": 0, "warnings": [newer_kept(two["batch"])]}  # fmt: skip
    assert (
        shown.stdout
        == f"Would merge: 1 new, 0 updated, 0 unchanged answer(s) for plan {older['plan']}\n"
    )
    assert shown.stderr == f"Warning: {newer_kept(two['batch'])}\n"
    # the merge then prints what its dry run did
    assert merge(run, history, older["plan"], first, users)["warnings"] == dry["warnings"]


def test_a_dry_run_with_no_newer_answer_has_no_warning(history, run, tmp_path):
    users = labeler_map(tmp_path / "users.csv")
    plan, tasks = planned(run, history, tmp_path, "--segment", "source=vendor-a")
    export = labelstudio_export(tasks, {"d07.png": [("vB-01", "seven")]}, tmp_path / "1.json")
    args = ["relabel", "merge", "digits", plan["plan"], str(export), "--format", "labelstudio",
            "--labeler-map", str(users), "--dry-run"]  # fmt: skip

    dry = as_json(run, history, *args)

    assert (dry["new"], dry["warnings"]) == (1, [])
    assert run(*args, cwd=history).stderr == ""


def test_verify_warns_when_two_clones_merged_one_labelers_answers_on_one_item(
    history, run, tmp_path
):
    users = labeler_map(tmp_path / "users.csv")
    plan, tasks = planned(run, history, tmp_path)  # every suspect item; d07: vA-01's and vC-01's
    a = history
    b = tmp_path / "b"
    shutil.copytree(a, b, symlinks=True)  # a second clone of the same commits, one DVC remote
    in_a = merge(run, a, plan["plan"],
                 labelstudio_export(tasks, {"d07.png": [("vB-01", "seven")]}, tmp_path / "a.json"),
                 users)  # fmt: skip
    in_b = merge(run, b, plan["plan"],
                 labelstudio_export(tasks, {"d07.png": [("vB-01", "one")]}, tmp_path / "b.json"),
                 users)  # fmt: skip
    assert [w for w in as_json(run, a, "verify")["warnings"] if "current answer" in w] == []

    run("push", cwd=b)  # the data to the shared DVC remote (no git remote)
    git(a, "pull", "-q", "--no-rebase", "--no-edit", str(b), "HEAD")  # plain git: no conflict
    assert git(a, "diff", "--name-only", "--diff-filter=U") == ""
    run("pull", "--no-git", cwd=a)

    # each merge superseded d07's two planned annotations; both answers are current
    assert current(run, a, "d07.png") == [("vB-01", "one"), ("vB-01", "seven")]
    assert labels_shown(run, a) == 25  # 25 - 2 + 1 + 1
    report = as_json(run, a, "verify")
    assert report["ok"] is True
    batches = ", ".join(sorted([in_a["batch"], in_b["batch"]]))
    warned = [w for w in report["warnings"] if "current answer" in w]
    assert len(warned) == 1
    assert warned[0].startswith(
        "digits: 1 item(s) have more than one current answer by one labeler, from relabel merges"
    )
    assert f"d07.png (vB-01: {batches})" in warned[0]
