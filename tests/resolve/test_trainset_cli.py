"""`labelspec trainset` on the street scenes (``conftest.TRUTH``): what create, show, diff, export
and card print, and the refusals, through the real CLI."""

from __future__ import annotations

import json

from tests.helpers import state


def test_create_and_show_say_what_was_left_out_and_why(streets, run):
    made = run("trainset", "create", "streets-v1", "--dataset", "streets", "--split-by", "split",
               cwd=streets.root)  # fmt: skip
    assert "Pinned training set streets-v1: 15 label(s) on 15 item(s) of streets" in made.stdout
    assert "  splits: train 8, val 3, eval 4 item(s)\n" in made.stdout
    assert (
        "  left out: 1 item(s): low confidence (a tie, or below --min-confidence), 1 tie(s)\n"
        in (made.stdout)
    )
    assert "  left out: 4 item(s): suspect under 1.1.0\n" in made.stdout
    shown = run("trainset", "show", "streets-v1", cwd=streets.root).stdout
    assert "--split-by split" in shown
    assert "4 item(s) of expert@b-" in shown and "in eval (--golden-into eval)" in shown
    assert "4 under 1.1.0, 0 kept (--suspect exclude)" in shown
    lines = [line.replace("│", " ").split() for line in shown.splitlines()]
    assert ["train", "8", "2", "8", "4", "4"] in lines  # items, background, labels, per class
    assert ["eval", "4", "1", "4", "2", "2"] in lines
    record = json.loads(run("trainset", "show", "streets-v1", "--json", cwd=streets.root).stdout)
    assert record["left_out"] == {"low_confidence": 1, "suspect": 4}
    assert record["split"] == {"by": "column", "column": "split"}


def test_export_and_card(streets, run, tmp_path):
    run("trainset", "create", "streets-v1", "--dataset", "streets", "--split", "train=0.6,val=0.2,"
        "test=0.2", "--seed", "5", cwd=streets.root)  # fmt: skip
    out = tmp_path / "yolo"
    done = run("trainset", "export", "streets-v1", "--format", "yolo", "--out", str(out))
    # seed 5 draws (test_splits): train n00 n02 n03 n05 n06 n09 n11 (9 boxes), val n04 (empty)
    # and n07, test n01 and n08 (empty)
    assert (
        "train 7 item(s), 9 label(s), val 2 item(s), 1 label(s), test 2 item(s), 1 label(s), "
        "eval 4 item(s), 4 label(s)"
    ) in done.stdout
    assert {p.name for p in out.glob("*.txt")} == {
        "train.txt", "val.txt", "test.txt", "eval.txt", "images.txt", "classes.txt", "README.txt",
    }  # fmt: skip
    card = run("trainset", "card", "streets-v1").stdout
    assert "- **Split**: by a hash of the item id (seed 5): train 0.6, val 0.2, test 0.2" in card
    written = run("trainset", "card", "streets-v1", "--out", str(tmp_path / "card.md"))
    assert written.stdout == "" and "Wrote the card of streets-v1" in written.stderr
    assert (tmp_path / "card.md").read_text() == card


def test_diff_reports_items_that_moved_split(streets, run):
    for name, seed in (("seed-5", "5"), ("seed-0", "0")):
        run("trainset", "create", name, "--dataset", "streets", "--split",
            "train=0.6,val=0.2,test=0.2", "--seed", seed, cwd=streets.root)  # fmt: skip
    found = run("trainset", "diff", "seed-5", "seed-0").stdout
    moved = json.loads(run("trainset", "diff", "seed-5", "seed-0", "--json").stdout)
    assert f"15 item(s) the same, 0 changed, 0 only in seed-5, 0 only in seed-0; " \
           f"{moved['moved_split']} moved split" in found  # fmt: skip
    assert "test -> train" in found


def test_bad_options_exit_non_zero_and_pin_nothing(streets, run):
    before = state(streets.root)
    result = run("trainset", "create", "bad", "--dataset", "streets", "--split-by", "fold",
                 cwd=streets.root, expect=1)  # fmt: skip
    assert result.stderr.startswith("Error: --split-by fold: no such item segment column")
    result = run("trainset", "create", "bad", "--dataset", "streets", "--split",
                 "train=0.7,val=0.2", expect=1)  # fmt: skip
    assert "the shares sum to 0.9, not 1" in result.stderr
    result = run("trainset", "create", "bad", "--dataset", "streets", "--split",
                 "train=0.6,val=0.2,test=0.2", "--seed", "1", expect=1)  # fmt: skip
    assert "split test got no item of the 11 (raise its share, try another --seed" in result.stderr
    assert state(streets.root) == before
