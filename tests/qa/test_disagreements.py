"""qa disagreements: current labels ranked against a crafted predictions file."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from labelspec.errors import InputError, LabelspecError, NotFoundError, ProblemsError
from labelspec.qa.disagreements import disagreements
from tests.helpers import git
from tests.qa.builders import DIGIT_ITEMS, VOTES

# model probabilities per item (classes left out have p = 0); d09 has no prediction
PROBS = {
    "d00.png": {"one": 0.9, "seven": 0.1},
    "d01.png": {"one": 0.6, "seven": 0.4},
    "d02.png": {"one": 0.9, "seven": 0.1},
    "d03.png": {"seven": 0.9, "one": 0.1},
    "d04.png": {"seven": 0.8, "one": 0.15, "four": 0.05},
    "d05.png": {"seven": 0.9, "one": 0.1},
    "d06.png": {"four": 0.35, "one": 0.35, "nine": 0.3},
    "d07.png": {"four": 0.3, "one": 0.3, "seven": 0.4},
    "d08.png": {"one": 0.9, "seven": 0.1},
}


def current_labels() -> list[dict]:
    """(item, labeler, class) of every current label at the latest snapshot."""
    return [
        {"item_id": DIGIT_ITEMS[i], "labeler": labeler, "class": cls}
        for labeler, (_, votes) in VOTES.items()
        for i, cls in votes.items()
    ]


@pytest.fixture
def jsonl(tmp_path: Path) -> Path:
    path = tmp_path / "predictions.jsonl"
    path.write_text(
        "".join(json.dumps({"item_id": k, "probs": v}) + "\n" for k, v in PROBS.items())
    )
    return path


def test_ranks_the_least_confident_labels_first(digits_votes, jsonl):
    result = disagreements(digits_votes, "digits", jsonl, top=9)
    assert result["labels_scored"] == 36 - 3
    assert result["labels_without_prediction"] == 3  # d09: lab-a1, lab-b1, lab-c1
    top = [(row["item_id"], row["labeler"], row["class"]) for row in result["top"]]
    # p 0.15: the two "one" labels on d04 (ties broken by label id, so compared as a set)
    assert set(top[:2]) == {("d04.png", "lab-b1", "one"), ("d04.png", "lab-c1", "one")}
    # p 0.30: d07's fours (margin 0.3 - 0.4 = -0.1) before d06's nine (0.3 - 0.35 = -0.05)
    assert set(top[2:5]) == {("d07.png", f"lab-{who}", "four") for who in ("a1", "a2", "b1")}
    assert top[5] == ("d06.png", "lab-b1", "nine")
    # p 0.35, margin 0: d06's fours; then d01's seven (p 0.4)
    assert set(top[6:8]) == {("d06.png", "lab-a1", "four"), ("d06.png", "lab-a2", "four")}
    assert top[8] == ("d01.png", "lab-b1", "seven")
    first = result["top"][0]
    assert first["predicted"] == "seven"
    assert first["p_label"] == pytest.approx(0.15)
    assert first["p_predicted"] == pytest.approx(0.8)
    assert first["margin"] == pytest.approx(0.15 - 0.8)
    assert first["source"] in ("vendor-b", "vendor-c")
    assert first["guideline_version"] == "1.0.0"
    assert first["annotation_id"].startswith("a-")
    assert first["label_id"]
    assert result["top"][5]["margin"] == pytest.approx(-0.05)
    json.dumps(result, allow_nan=False)


def test_groups_count_suspicious_labels(digits_votes, jsonl):
    result = disagreements(digits_votes, "digits", jsonl)
    labels = [row for row in current_labels() if row["item_id"] in PROBS]
    for row in labels:
        row["p"] = PROBS[row["item_id"]].get(row["class"], 0.0)
    for key, field in (("by_class", "class"), ("by_labeler", "labeler")):
        expected = {}
        for row in labels:
            group = expected.setdefault(row[field], {"labels": 0, "suspicious": 0, "sum": 0.0})
            group["labels"] += 1
            group["suspicious"] += row["p"] < 0.5
            group["sum"] += row["p"]
        got = result[key]
        assert set(got) == set(expected)
        for name, group in expected.items():
            assert got[name]["labels"] == group["labels"]
            assert got[name]["suspicious"] == group["suspicious"]
            assert got[name]["mean_self_confidence"] == pytest.approx(
                group["sum"] / group["labels"]
            )
    assert list(result["by_class"]) == ["one", "four", "seven", "nine"]  # spec order
    shares = [g["suspicious_share"] for g in result["by_labeler"].values()]
    assert shares == sorted(shares, reverse=True)
    assert next(iter(result["by_labeler"])) == "lab-b1"  # 4 of 9 scored labels suspicious


def test_one_column_per_class_reads_the_same(digits_votes, jsonl, tmp_path):
    path = tmp_path / "predictions.csv"
    columns = ["one", "seven", "four", "nine"]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["item_id", *columns])
        for item, probs in PROBS.items():
            writer.writerow([item, *(probs.get(c, "") for c in columns)])
    from_csv = disagreements(digits_votes, "digits", path)
    from_jsonl = disagreements(digits_votes, "digits", jsonl)
    assert from_csv["top"] == from_jsonl["top"]
    assert from_csv["by_labeler"] == from_jsonl["by_labeler"]


def test_a_misspelled_class_column_is_refused(digits_votes, tmp_path):
    """One column per class, two of them misspelled (sevn, nien: read as no probability of
    seven and nine, so every seven label would be the model's disagreement): refused, naming
    both. Extra columns are metadata when they read like no class (model, source: not `four`)
    or hold no probabilities (height in pixels, though it reads like `eight`)."""
    path = tmp_path / "predictions.csv"
    path.write_text(
        "item_id,one,sevn,four,nien,model,source,height\n"
        "d00.png,0.9,0.1,0,0,m1,run-3,28\nd01.png,0.2,0.8,0,0,m1,run-3,32\n"
    )
    with pytest.raises(InputError) as refused:
        disagreements(digits_votes, "digits", path)
    assert str(refused.value) == (
        f"{path}: 2 column(s) of probabilities read like a class the guideline has, under another "
        "name ('sevn': did you mean seven?; 'nien': did you mean nine?): rename each to its class "
        "id (known: zero, one, two, three, four, five, six, seven, eight, nine); nothing was done"
    )
    path.write_text(
        "item_id,one,seven,four,nine,model,source,height\n"
        "d00.png,0.9,0.1,0,0,m1,run-3,28\nd01.png,0.2,0.8,0,0,m1,run-3,32\n"
    )
    assert disagreements(digits_votes, "digits", path)["by_class"]  # metadata columns pass


def test_typos_in_predictions_are_refused_with_their_lines(digits_votes, copy_of, run, tmp_path):
    """A probs key the guideline lacks (sevn, twice) and an item the dataset lacks (nope.png):
    refused once per distinct problem with its lines, a guess for the class, nothing written.
    (Read as given, d01's seven labels would get p(seven) = 0 and read as model errors.)"""
    ws = copy_of(digits_votes)
    path = tmp_path / "predictions.jsonl"
    rows = [
        {"item_id": "d00.png", "probs": {"one": 0.9, "seven": 0.1}},
        {"item_id": "d01.png", "probs": {"sevn": 0.9}},
        {"item_id": "nope.png", "probs": {"one": 1.0}},
        {"item_id": "d02.png", "probs": {"one": 0.5, "sevn": 0.5}},
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    with pytest.raises(ProblemsError) as refused:
        disagreements(ws, "digits", path)
    assert str(refused.value) == (f"{path}: 3 problem(s) (2 probs, 1 item_id); no report was made")
    assert [str(p) for p in refused.value.problems] == [
        f"{path}:2 [2 row(s), lines 2, 4]: probs: probs name class sevn, which digits does not "
        "have (known: zero, one, two, three, four, five, six, seven, eight, nine); did you mean "
        "seven?",
        f"{path}:3: item_id: unknown item nope.png (not an item of the dataset: register it "
        "with `labelspec items add`, or fix the id)",
    ]
    html = tmp_path / "suspicious.html"
    result = run("qa", "disagreements", "digits", "--predictions", str(path), "--html",
                 str(html), cwd=ws.root, expect=1)  # fmt: skip
    assert "did you mean seven?" in result.stderr
    assert not html.exists()
    assert git(ws.root, "status", "--porcelain") == ""


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"item_id": "d00.png", "probs": {"cat": 1.0}}], "probs name class cat"),
        ([{"item_id": "d00.png", "probs": {}}], "no prediction gives a probability"),
        ([{"item_id": "d00.png", "probs": {"one": 1.5}}], "not between 0 and 1"),
        (
            [
                {"item_id": "d00.png", "probs": {"one": 0.5}},
                {"item_id": "d00.png", "probs": {"one": 0.4}},
            ],
            "more than one probability",
        ),
    ],
    ids=["unknown-class", "no-probability", "not-a-probability", "item-twice"],
)
def test_bad_predictions_are_refused(digits_votes, tmp_path, rows, message):
    path = tmp_path / "predictions.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    with pytest.raises(LabelspecError) as refused:
        disagreements(digits_votes, "digits", path)
    problems = getattr(refused.value, "problems", [])
    assert message in " ".join([str(refused.value), *(p.message for p in problems)])


def test_a_missing_predictions_file_is_not_found(digits_votes, tmp_path):
    with pytest.raises(NotFoundError, match="no such predictions file"):
        disagreements(digits_votes, "digits", tmp_path / "nope.jsonl")


def test_ner_is_refused_and_detection_wants_boxes(shapes_boxes, news_spans, jsonl):
    # detection is judged against a detector's boxes (tests/qa/test_box_disagreements.py)
    with pytest.raises(LabelspecError, match="holds class probabilities per item"):
        disagreements(shapes_boxes, "shapes", jsonl)
    with pytest.raises(LabelspecError, match="a ner guideline"):
        disagreements(news_spans, "news", jsonl)
