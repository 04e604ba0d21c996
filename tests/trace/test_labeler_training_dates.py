"""`trace labeler`: a training record covers the labels made on or after its date."""

from __future__ import annotations

from tests.store.conftest import write_jsonl
from tests.trace.conftest import as_json


def test_a_training_dated_the_same_day_as_a_label_covers_it_in_trace_labeler(
    history, run, tmp_path
):
    run("labeler", "add", "vD-01", "--vendor", "vendor-d", cwd=history)
    run(
        "labeler", "train", "vD-01", "--guideline", "digits", "--version", "1.1.1",
        "--method", "session", "--score", "1", "--passed", "--date", "2026-03-01", cwd=history,
    )  # fmt: skip
    rows = [
        # the day before the training: not covered (policies.training is warn in this history)
        {"item_id": "d05.png", "labeler": "vD-01", "class": "five",
         "created_at": "2026-02-28T23:30:00Z"},
        # the training's own day, hours after midnight: covered
        {"item_id": "d06.png", "labeler": "vD-01", "class": "six",
         "created_at": "2026-03-01T18:00:00Z"},
    ]  # fmt: skip
    source = write_jsonl(tmp_path / "vd.jsonl", rows)
    run(
        "labels", "import", "digits", str(source), "--format", "jsonl",
        "--guideline", "digits@1.1.1", "--source", "vendor-d", cwd=history,
    )  # fmt: skip

    data = as_json(run, history, "trace", "labeler", "digits", "vD-01")

    assert data["covered"] == {"labels": 1, "empty": 0, "items": 1}
    assert data["uncovered"] == {"labels": 1, "empty": 0, "items": 1}
    by_side = {e["covered"]: (e["labels"], e["by_class"]) for e in data["by_version"]}
    assert by_side == {True: (1, {"six": 1}), False: (1, {"five": 1})}
