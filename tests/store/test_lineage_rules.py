"""The lineage rules the README states, each pinned by a small hand-computed history.

- a rule added or removed with ``applies_to`` affects those classes (as editing one does);
- coverage counts every release step: a release that reverts an earlier change is a change;
- a training record covers only the labels made on or after its date;
- ``confusable_with`` is read from both sides;
- ``labels diff``: added - removed is the change in current labels, and replacements are followed
  through any chain of supersedes.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import edit, git
from tests.store.conftest import digit_rows, set_training_policy, write_jsonl

THREE = "definition: Two open bumps stacked on the right, joined in the middle, open on the left."


def pending(root: Path, summary: str, affects: str = "[]") -> None:
    edit(
        root,
        (
            "\n\nquality:",
            f"\n  - version: unreleased\n    summary: {summary}\n    affects: {affects}\n"
            "    relabel: none\n\nquality:",
        ),
    )


def release(run, root: Path, summary: str, *pairs: tuple[str, str], bump: str = "minor") -> None:
    if pairs:
        edit(root, *pairs)
    pending(root, summary)
    git(root, "commit", "-q", "-am", summary)
    # dated as 1.0.0: the trainings below are dated from 2026-01-16
    run("guideline", "release", "digits", "--bump", bump, "--date", "2026-01-15", cwd=root)


def spec_text(root: Path) -> str:
    return (root / "guidelines/digits/spec.yaml").read_text()


def train(run, root: Path, labeler: str, version: str, date: str) -> None:
    args = ["--guideline", "digits", "--version", version, "--method", "session", "--score", "1"]
    run("labeler", "train", labeler, *args, "--passed", "--date", date, cwd=root)


def import_rows(run, root: Path, rows: list[dict], version: str, expect: int = 0):
    path = write_jsonl(root.parent / f"rows-{len(rows)}-{version}.jsonl", rows)
    args = ["labels", "import", "digits", str(path), "--format", "jsonl"]
    return run(
        *args, "--guideline", f"digits@{version}", "--source", "vendor-a", cwd=root, expect=expect
    )


def impact(run, root: Path) -> dict:
    args = ["trace", "impact", "digits", "--guideline", "digits", "--json"]
    return json.loads(run(*args, cwd=root).stdout)


def status(run, root: Path) -> dict[str, dict]:
    out = run("labeler", "status", "--guideline", "digits", "--json", cwd=root).stdout
    return {row["labeler"]: row for row in json.loads(out)}


def threes(indices=(3, 13)) -> list[dict]:
    """Labels of the digit items that are threes (d03 and d13), by vA-01."""
    return digit_rows(indices)


def test_an_added_scoped_rule_affects_its_classes(digits_ws, run):
    import_rows(run, digits_ws, threes(), "1.0.0")
    rule = "\n  - id: R9\n    text: A three never closes on the left.\n    applies_to: [three]\n"
    release(run, digits_ws, "A rule for threes", ("\n\nclasses:", f"{rule}\nclasses:"))

    found = impact(run, digits_ws)

    assert found["affected_classes"] == {"1.0.0": ["eight", "three"]}  # eight: confusable
    assert (found["affected_labels"], found["by_reason"]["affected"]) == (2, 2)
    row = status(run, digits_ws)["vA-01"]
    assert (row["covered"], row["changed_since"], row["action"]) == (False, ["three"], "retrain")


def test_a_removed_scoped_rule_affects_its_classes(digits_ws, run):
    rule = "  - id: R9\n    text: A three never closes on the left.\n    applies_to: [three]\n"
    release(run, digits_ws, "A rule for threes", ("\n\nclasses:", f"\n{rule}\nclasses:"))
    train(run, digits_ws, "vA-01", "1.1.0", "2026-01-16")
    import_rows(run, digits_ws, threes(), "1.1.0")
    edit(digits_ws, (rule, ""))
    release(run, digits_ws, "No rule for threes after all")

    found = impact(run, digits_ws)

    assert found["affected_classes"] == {"1.1.0": ["eight", "three"]}
    assert found["by_reason"]["affected"] == 2


def test_a_revert_is_a_change_for_coverage(digits_ws, run):
    old = "definition: A single closed oval or circle, taller than it is wide."
    assert old in spec_text(digits_ws)
    new = "definition: A single closed oval or circle, of any width."
    release(run, digits_ws, "Zeros may be round", (old, new))  # 1.1.0
    train(run, digits_ws, "vB-01", "1.1.0", "2026-01-20")
    release(run, digits_ws, "Zeros are taller again", (new, old))  # 1.2.0: back to 1.0.0's text

    rows = status(run, digits_ws)

    # vA-01 passed 1.0.0 only: 1.1.0 and 1.2.0 both changed zero, though 1.2.0 equals 1.0.0
    assert (rows["vA-01"]["covered"], rows["vA-01"]["changed_since"]) == (False, ["zero"])
    assert rows["vA-01"]["action"] == "retrain"
    assert (rows["vB-01"]["covered"], rows["vB-01"]["changed_since"]) == (False, ["zero"])
    assert rows["vB-01"]["action"] == "retrain"


def test_a_training_dated_after_the_labels_does_not_cover_them(digits_ws, run):
    late = digit_rows(range(2), labeler="vB-01")  # made 2026-02-01
    train(run, digits_ws, "vB-01", "1.0.0", "2026-03-01")

    refused = import_rows(run, digits_ws, late, "1.0.0", expect=1)

    assert (
        "training: labeler vB-01 was trained on digits 1.0.0 only on 2026-03-01, after this label "
        "(2026-02-01): a training covers the labels made on or after its date"
    ) in refused.stderr
    set_training_policy(digits_ws, "warn")
    import_rows(run, digits_ws, late, "1.0.0")
    assert impact(run, digits_ws)["by_reason"]["untrained"] == 2
    # the same labeler's labels made after the training are covered
    import_rows(
        run, digits_ws, digit_rows([5], labeler="vB-01", created_at="2026-03-02T10:00:00Z"), "1.0.0"
    )
    assert impact(run, digits_ws)["by_reason"]["untrained"] == 2


def test_confusable_with_is_read_from_both_sides(digits_ws, run):
    # 1.1.0: three no longer lists eight (eight still lists three)
    release(
        run, digits_ws, "Three stands alone", ("confusable_with: [eight]", "confusable_with: []")
    )
    train(run, digits_ws, "vA-01", "1.1.0", "2026-01-16")
    eights = [r for r in digit_rows(range(20)) if r["class"] == "eight"]
    import_rows(run, digits_ws, eights, "1.1.0")
    release(run, digits_ws, "Threes, sharper", (THREE, THREE.replace("bumps", "curves")))

    found = impact(run, digits_ws)

    # 1.2.0 changed three; eight lists three, so eights made under 1.1.0 are suspect
    assert found["affected_classes"] == {"1.1.0": ["eight", "three"]}
    assert (found["by_reason"]["confusable"], found["affected_labels"]) == (
        len(eights),
        len(eights),
    )


def test_diff_reconciles_with_show_when_one_answer_replaces_two_labels(digits_ws, run, tmp_path):
    set_training_policy(digits_ws, "warn")
    import_rows(run, digits_ws, digit_rows([7]), "1.0.0")  # vA-01: seven
    import_rows(run, digits_ws, digit_rows([7], labeler="vB-01", **{"class": "one"}), "1.0.0")
    before = json.loads(run("labels", "show", "digits", "--json", cwd=digits_ws).stdout)
    release(
        run,
        digits_ws,
        "Sevens",
        (
            "definition: A horizontal top bar joined to a diagonal stroke.",
            "definition: A horizontal top bar joined to a long diagonal stroke.",
        ),
    )
    train(run, digits_ws, "vA-01", "1.1.0", "2026-01-20")
    plan = relabel_plan(run, digits_ws, tmp_path)
    merge(run, digits_ws, plan, tmp_path / "m1.jsonl", [("d07.png", "one")])
    middle = git(digits_ws, "rev-parse", "HEAD").strip()
    merge(run, digits_ws, plan, tmp_path / "m2.jsonl", [("d07.png", "seven")])
    after = json.loads(run("labels", "show", "digits", "--json", cwd=digits_ws).stdout)

    one = diff(run, digits_ws, before["commit"], middle)
    chain = diff(run, digits_ws, before["commit"], "HEAD")

    # one answer replaced two labels: one change, one removal; current labels went 2 -> 1
    assert (one["added"], one["removed"]) == (0, 1)
    assert one["changed_class"] + one["relabeled_same"] == 1
    assert after["labels"] - before["labels"] == chain["added"] - chain["removed"] == -1
    # seven -> one -> seven across two merges is one change from each old label's point of view
    assert chain["removed"] == 1 and chain["changed_class"] + chain["relabeled_same"] == 1


def relabel_plan(run, root: Path, tmp_path: Path) -> str:
    out = tmp_path / "plan"
    run("relabel", "plan", "digits", "--guideline", "digits", "--out", str(out), cwd=root)
    return json.loads((out / "plan.json").read_text())["plan"]


def merge(run, root: Path, plan: str, path: Path, answers: list[tuple[str, str]]) -> None:
    rows = [
        {"item_id": item, "labeler": "vA-01", "class": cls, "guideline_version": "1.1.0"}
        for item, cls in answers
    ]
    write_jsonl(path, rows)
    run("relabel", "merge", "digits", plan, str(path), "--format", "jsonl", cwd=root)


def diff(run, root: Path, a: str, b: str) -> dict:
    return json.loads(run("labels", "diff", "digits", a, b, "--json", cwd=root).stdout)
