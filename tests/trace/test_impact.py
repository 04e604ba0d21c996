"""`labelspec trace impact` on the hand-built history (tests/trace/conftest.py), whose answer is known."""

from __future__ import annotations

import json
from collections import Counter

from tests.helpers import git, state
from tests.trace.conftest import SUSPECT, SUSPECT_ITEMS, TOTAL_LABELS, add_pending, edit, split_of

CONTRACT = {
    "guideline",
    "from",
    "to",
    "affected_classes",
    "total_labels",
    "affected_labels",
    "affected_items",
    "segments",
}


def impact(run, root, *args: str) -> dict:
    out = run("trace", "impact", "digits", "--guideline", "digits", *args, "--json", cwd=root)
    return json.loads(out.stdout)


def segments(data: dict) -> dict[tuple, tuple[int, int]]:
    """(key values...) -> (labels, items), for comparing segments whatever their order."""
    return {tuple(s["key"].values()): (s["labels"], s["items"]) for s in data["segments"]}


def expected_segments(suspects, by_split: bool = False) -> dict[tuple, tuple[int, int]]:
    labels: Counter = Counter()
    items: dict[tuple, set] = {}
    for item, _labeler, source, version, cls, _why in suspects:
        key = (version, cls, source, *((split_of(item),) if by_split else ()))
        labels[key] += 1
        items.setdefault(key, set()).add(item)
    return {k: (n, len(items[k])) for k, n in labels.items()}


def test_impact_json_has_the_documented_keys_and_the_known_answer(history, run):
    data = impact(run, history)

    # the contract of the issue, plus documented extras: counts by reason, overall and per
    # segment, and the rule scopes of classes suspect only within a rule's `where` (none here)
    assert set(data) == CONTRACT | {"by_reason", "scopes"}
    assert data["scopes"] == {}
    assert all(set(s) == {"key", "labels", "items", "reasons"} for s in data["segments"])
    assert data["guideline"] == "digits"
    assert (data["from"], data["to"]) == (None, "1.1.1")
    # 1.1.0 changed seven (affects one, seven); seven is confusable with two; 1.1.1 changed nothing
    assert data["affected_classes"] == {"1.0.0": ["one", "seven", "two"]}
    assert data["total_labels"] == TOTAL_LABELS == 25
    assert data["affected_labels"] == len(SUSPECT) == 9
    assert data["affected_items"] == len(SUSPECT_ITEMS) == 8
    assert data["by_reason"] == {"affected": 3, "confusable": 2, "untrained": 4}
    assert segments(data) == {
        ("1.0.0", "one", "vendor-a"): (1, 1),
        ("1.0.0", "seven", "vendor-a"): (1, 1),
        ("1.0.0", "two", "vendor-a"): (1, 1),
        ("1.0.0", "one", "vendor-b"): (1, 1),
        ("1.0.0", "two", "vendor-b"): (1, 1),
        ("1.0.0", "three", "vendor-c"): (1, 1),
        ("1.1.0", "seven", "vendor-c"): (2, 2),
        ("1.1.0", "eight", "vendor-c"): (1, 1),
    }
    assert segments(data) == expected_segments(SUSPECT)
    assert {tuple(s["key"]) for s in data["segments"]} == {("guideline_version", "class", "source")}
    assert data["segments"][0]["key"] == {
        "guideline_version": "1.1.0",
        "class": "seven",
        "source": "vendor-c",
    }  # the biggest segment first
    by_key = {tuple(s["key"].values()): s["reasons"] for s in data["segments"]}
    assert by_key[("1.0.0", "two", "vendor-b")] == {"confusable": 1}
    assert by_key[("1.1.0", "seven", "vendor-c")] == {"untrained": 2}


def test_impact_human_output_states_the_totals_and_the_segments(history, run):
    out = run("trace", "impact", "digits", "--guideline", "digits", cwd=history).stdout

    assert out.splitlines()[0] == (
        "digits -> 1.1.1: 9 of 25 current labels (36.0%) on 8 items are suspect"
    )
    assert "made under 1.0.0: classes one, seven, two" in out
    assert "3 changed class, 2 confusable class, 4 untrained labeler" in out
    assert "vendor-c" in out and "untrained 2" in out


def test_a_class_confusable_with_a_changed_class_is_suspect_but_unrelated_classes_are_not(
    history, run
):
    data = impact(run, history)

    classes = {
        s["key"]["class"] for s in data["segments"] if s["key"]["guideline_version"] == "1.0.0"
    }
    # two lists seven in confusable_with; zero, four, five, six, eight and nine were untouched
    # (three is there only because vC-01, who was never trained, labeled d03)
    assert classes == {"one", "seven", "two", "three"}
    two = [s for s in data["segments"] if s["key"]["class"] == "two"]
    assert [s["reasons"] for s in two] == [{"confusable": 1}, {"confusable": 1}]


def test_labels_by_labelers_whose_training_did_not_cover_their_version_are_suspect(history, run):
    data = impact(run, history)

    untrained = {
        tuple(s["key"].values()): s["reasons"].get("untrained", 0) for s in data["segments"]
    }
    # vC-01 was never trained; vC-02 was trained on 1.0.0 only, which does not cover 1.1.0
    assert untrained[("1.0.0", "three", "vendor-c")] == 1
    assert untrained[("1.1.0", "seven", "vendor-c")] == 2
    assert untrained[("1.1.0", "eight", "vendor-c")] == 1
    # vC-02's 1.0.0 label on d08 is covered by its 1.0.0 training, and eight did not change
    assert ("1.0.0", "eight", "vendor-c") not in untrained
    # vA-01's labels under 1.1.0 and 1.1.1 are covered by its 1.1.0 training
    assert not any(
        s["key"]["source"] == "vendor-a" and s["key"]["guideline_version"] != "1.0.0"
        for s in data["segments"]
    )


def test_by_an_item_metadata_column_splits_the_segments(history, run):
    data = impact(run, history, "--by", "split")

    assert list(data["segments"][0]["key"]) == ["guideline_version", "class", "source", "split"]
    assert segments(data) == expected_segments(SUSPECT, by_split=True)
    # d07 (test) and d17 (train) were one segment; now two
    assert segments(data)[("1.1.0", "seven", "vendor-c", "test")] == (1, 1)
    assert segments(data)[("1.1.0", "seven", "vendor-c", "train")] == (1, 1)
    assert (data["affected_labels"], data["affected_items"]) == (9, 8)


def test_by_an_unknown_column_names_the_metadata_columns(history, run):
    result = run(
        "trace",
        "impact",
        "digits",
        "--guideline",
        "digits",
        "--by",
        "camera",
        cwd=history,
        expect=1,
    )

    assert "camera" in result.stderr
    assert "split" in result.stderr


def test_from_keeps_only_labels_made_under_that_version_or_later(history, run):
    data = impact(run, history, "--from", "1.1.0")

    assert data["from"] == "1.1.0"
    later = [s for s in SUSPECT if s[3] != "1.0.0"]
    assert segments(data) == expected_segments(later)
    assert (data["affected_labels"], data["affected_items"]) == (3, 3)
    assert data["affected_classes"] == {}  # nothing changed between 1.1.0 and 1.1.1


def test_to_an_older_release_judges_against_it_and_a_patch_changes_nothing(history, run):
    at_110 = impact(run, history, "--to", "1.1.0")
    at_111 = impact(run, history, "--to", "1.1.1")

    assert (at_110["to"], at_111["to"]) == ("1.1.0", "1.1.1")
    # the 1.1.1 patch only reworded an example: the same labels are suspect either way
    assert (
        at_110["affected_classes"]
        == at_111["affected_classes"]
        == {"1.0.0": ["one", "seven", "two"]}
    )
    assert segments(at_110) == segments(at_111) == expected_segments(SUSPECT)
    assert at_111 == impact(run, history)  # the newest release is the default


def test_preview_judges_an_uncommitted_edit_and_leaves_the_workspace_alone(history, run):
    edit(
        history,
        "definition: A vertical stroke crossed by a horizontal bar, with an open or sharp-cornered top.",
        "definition: A vertical stroke crossed by a bar; the top never closes into a loop.",
    )
    add_pending(history, "Fours never close at the top", ["four"], "required")
    before = state(history)

    data = impact(run, history, "--preview")

    assert state(history) == before
    assert "guidelines/digits/spec.yaml" in git(history, "status", "--porcelain")
    assert data["to"] == "working tree"
    assert data["affected_classes"] == {
        "1.0.0": ["four", "nine", "one", "seven", "two"],
        "1.1.0": ["four", "nine"],
        "1.1.1": ["four", "nine"],
    }
    # four (d04 by vA-01, d14 by vB-01) and nine, confusable with four (d09 under 1.0.0 and d19 under
    # 1.1.1), on top of what 1.1.1 already made suspect
    extra = [
        ("d04.png", "vA-01", "vendor-a", "1.0.0", "four", "affected"),
        ("d14.png", "vB-01", "vendor-b", "1.0.0", "four", "affected"),
        ("d09.png", "vA-01", "vendor-a", "1.0.0", "nine", "confusable"),
        ("d19.png", "vA-01", "vendor-a", "1.1.1", "nine", "confusable"),
    ]
    assert segments(data) == expected_segments(SUSPECT + extra)
    assert (data["affected_labels"], data["affected_items"]) == (13, 12)
    # without --preview the committed releases still decide
    assert impact(run, history)["affected_labels"] == 9


def test_preview_with_to_is_refused(history, run):
    result = run(
        "trace",
        "impact",
        "digits",
        "--guideline",
        "digits",
        "--preview",
        "--to",
        "1.1.0",
        cwd=history,
        expect=1,
    )

    assert "--preview" in result.stderr and "--to" in result.stderr


def test_snapshot_judges_the_labels_of_an_earlier_snapshot(history, run):
    data = impact(run, history, "--snapshot", "snap-2")

    earlier = [s for s in SUSPECT if s[2] in ("vendor-a", "vendor-b") and s[3] == "1.0.0"]
    assert segments(data) == expected_segments(earlier)
    assert (data["total_labels"], data["affected_labels"], data["affected_items"]) == (15, 5, 5)


def test_to_an_unknown_release_names_the_known_ones(history, run):
    result = run(
        "trace", "impact", "digits", "--guideline", "digits", "--to", "2.0.0", cwd=history, expect=3
    )

    assert "2.0.0" in result.stderr and "1.1.1" in result.stderr
