"""Reviews recorded: a review file (as the sample gallery saves it) is imported once, feeds
`relabel plan --from-review`, and shows as review-based error rates in `labeler stats` and the
bake-off; a bad file is refused whole, naming every problem."""

from __future__ import annotations

import json
from pathlib import Path

from labelspec.store.query import connect
from labelspec.store.reviews import reviews_at
from labelspec.workspace import Workspace
from tests.helpers import git, state
from tests.qa.builders import DIGIT_ITEMS


def label_of(ws: Workspace, labeler: str, item: str) -> str:
    con = connect(ws, "digits")
    [(label,)] = con.execute(
        "select label_id from labels where labeler_id = ? and item_id = ?", [labeler, item]
    ).fetchall()
    return label


def review_file(path: Path, verdicts: list[dict], **extra) -> Path:
    data = {
        "kind": "labelspec-review",
        "dataset": "digits",
        "snapshot": "",
        "reviewer": "rev-01",
        "saved": "2026-03-01T10:00:00Z",
        "verdicts": verdicts,
        **extra,
    }
    path.write_text(json.dumps(data))
    return path


def test_a_review_is_recorded_once_and_feeds_a_relabel_plan(graded: Workspace, run, tmp_path):
    wrong = label_of(graded, "lab-b1", DIGIT_ITEMS[1])  # lab-b1 called d01 (a one) seven
    right = label_of(graded, "lab-b1", DIGIT_ITEMS[0])
    file = review_file(
        tmp_path / "review.json",
        [
            {"label_id": wrong, "verdict": "reject", "correct_class": "one", "note": "no flag"},
            {"label_id": right, "verdict": "accept"},
        ],
    )
    result = json.loads(run("qa", "review", "import", str(file), "--json", cwd=graded.root).stdout)
    assert (result["labels"], result["accepted"], result["rejected"], result["corrected"]) == (
        2,
        1,
        1,
        1,
    )
    assert result["reviewer"] == "rev-01" and not result["already"]
    assert (result["misplaced"], result["not_an_object"], result["missing_objects"]) == (0, 0, 0)
    # a file saved before the verdict kinds: its reject naming the right class is a wrong_class
    recorded = {r["label_id"]: r for r in reviews_at(graded, "digits").to_pylist()}
    assert (recorded[wrong]["verdict"], recorded[wrong]["correct_class"]) == ("wrong_class", "one")
    assert recorded[wrong]["note"] == "no flag" and recorded[right]["verdict"] == "accept"
    assert git(graded.root, "status", "--porcelain") == ""
    assert result["review"] in git(graded.root, "log", "-1", "--format=%s")
    again = json.loads(run("qa", "review", "import", str(file), "--json", cwd=graded.root).stdout)
    assert again["already"] and again["review"] == result["review"]
    listed = json.loads(run("qa", "review", "list", "digits", "--json", cwd=graded.root).stdout)
    assert [(r["review"], r["rejected"]) for r in listed] == [(result["review"], 1)]

    stats = json.loads(
        run("labeler", "stats", "digits", "--golden", "golden", "--json", cwd=graded.root).stdout
    )
    b1 = next(r for r in stats if r["labeler"] == "lab-b1")
    assert (b1["reviewed"], b1["rejected"], b1["review_error_rate"]) == (2, 1, 0.5)
    assert (b1["review_verdicts"]["accept"], b1["review_verdicts"]["wrong_class"]) == (1, 1)
    a1 = next(r for r in stats if r["labeler"] == "lab-a1")
    assert (a1["reviewed"], a1["review_error_rate"]) == (0, None)
    bake = json.loads(run("qa", "bakeoff", "digits", "--json", cwd=graded.root).stdout)
    assert bake["reviews"] == 2
    assert bake["sources"]["vendor-b"]["review_error_rate"] == 0.5
    assert bake["sources"]["vendor-a"]["reviewed"] == 0

    out = tmp_path / "plan"
    run("relabel", "plan", "digits", "--guideline", "digits", "--from-review", result["review"],
        "--out", str(out), cwd=graded.root)  # fmt: skip
    plan = json.loads((out / "plan.json").read_text())
    assert [(i["item_id"], i["reasons"]) for i in plan["items"]] == [
        (DIGIT_ITEMS[1], ["class seven rejected in review"])
    ]
    assert [c["labeler"] for c in plan["items"][0]["current"]] == ["lab-b1"]


def test_a_later_accept_overrides_an_earlier_reject(graded: Workspace, run, tmp_path):
    wrong = label_of(graded, "lab-b1", DIGIT_ITEMS[1])
    first = review_file(
        tmp_path / "r1.json", [{"label_id": wrong, "verdict": "reject", "correct_class": "one"}]
    )
    second = review_file(
        tmp_path / "r2.json",
        [{"label_id": wrong, "verdict": "accept"}],
        reviewer="rev-02",
        saved="2026-03-02T10:00:00Z",
    )
    run("qa", "review", "import", str(first), cwd=graded.root)
    run("qa", "review", "import", str(second), cwd=graded.root)
    result = run("relabel", "plan", "digits", "--guideline", "digits", "--from-review", "all",
                 "--out", str(tmp_path / "plan"), cwd=graded.root, expect=1)  # fmt: skip
    assert "no current label is rejected and no missing object reported" in result.stderr


def test_a_bad_review_file_is_refused_whole(graded: Workspace, run, tmp_path):
    before = state(graded.root)
    label = label_of(graded, "lab-a1", DIGIT_ITEMS[0])
    file = review_file(
        tmp_path / "bad.json",
        [
            {"label_id": "l-nope", "verdict": "reject"},
            {"label_id": label, "verdict": "maybe"},
            {"label_id": label_of(graded, "lab-a2", DIGIT_ITEMS[0]), "verdict": "reject",
             "correct_class": "uno"},
        ],
    )  # fmt: skip
    result = run("qa", "review", "import", str(file), cwd=graded.root, expect=1)
    assert "no label 'l-nope'" in result.stderr
    assert "verdict 'maybe'" in result.stderr
    assert "class 'uno' is not in digits 1.0.0" in result.stderr
    assert state(graded.root) == before
    not_review = tmp_path / "other.json"
    not_review.write_text('{"kind": "something"}')
    result = run("qa", "review", "import", str(not_review), cwd=graded.root, expect=1)
    assert "not a review file" in result.stderr


def test_a_plain_reject_stays_a_reject(graded: Workspace, run, tmp_path):
    wrong = label_of(graded, "lab-b1", DIGIT_ITEMS[1])
    file = review_file(tmp_path / "r.json", [{"label_id": wrong, "verdict": "reject"}])
    result = json.loads(run("qa", "review", "import", str(file), "--json", cwd=graded.root).stdout)
    assert (result["rejected"], result["corrected"]) == (1, 0)
    [row] = reviews_at(graded, "digits").to_pylist()
    assert (row["verdict"], row["correct_class"]) == ("reject", None)


def test_the_relabel_hint_names_the_dataset_guideline(graded: Workspace, run, tmp_path):
    wrong = label_of(graded, "lab-b1", DIGIT_ITEMS[1])
    file = review_file(
        tmp_path / "r.json", [{"label_id": wrong, "verdict": "reject", "correct_class": "one"}]
    )
    result = run("qa", "review", "import", str(file), cwd=graded.root)
    listed = json.loads(run("qa", "review", "list", "digits", "--json", cwd=graded.root).stdout)
    [review] = [r["review"] for r in listed]
    assert "GUIDELINE" not in result.stderr
    assert (
        f"Relabel what it found: labelspec relabel plan digits --guideline digits "
        f"--from-review {review} --out relabel/{review}"
    ) in result.stderr
