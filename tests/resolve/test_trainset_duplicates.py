"""Identical content under several ids (QA 24, item 5) and the message when nothing is left to
train on (item 10).

On a copy of the digits votes (d00-d09, ``tests/qa/builders.py``) four items arrive, labeled
"one" by lab-a1: x1.png and x2.png are the same file (digit 20 of the demo set), x3.png and
x4.png two other digits (21, 22). Every label there is by an untrained labeler, so the sets
keep suspect items (``suspect="include"``) unless a test says otherwise."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from labelspec.demo import digits
from labelspec.demo import streets as drawn
from labelspec.errors import LabelspecError
from labelspec.guideline.release import release
from labelspec.labels.ingest import import_labels
from labelspec.resolve import splits
from labelspec.resolve.pin import create_trainset
from labelspec.resolve.trainset import build
from labelspec.store.golden import add_golden
from labelspec.store.items import add_items
from tests.helpers import edit, git, state
from tests.store.conftest import write_jsonl

NEW = ("x1.png", "x2.png", "x3.png", "x4.png")
SEEDS = range(8)


@pytest.fixture
def ws(digits_votes, copy_of, tmp_path):
    ws = copy_of(digits_votes)
    folder = ws.root / "datasets/digits/items/more"
    digits.save_png(20, folder / "x1.png")
    shutil.copyfile(folder / "x1.png", folder / "x2.png")
    digits.save_png(21, folder / "x3.png")
    digits.save_png(22, folder / "x4.png")
    add_items(ws, "digits", folder)
    rows = [{"item_id": item, "labeler": "lab-a1", "class": "one"} for item in NEW]
    import_labels(ws, "digits", write_jsonl(tmp_path / "x.jsonl", rows), "jsonl",
                  "digits@1.0.0", "vendor-a")  # fmt: skip
    return ws


def draw(seed: int, item: str) -> str:
    """The documented ratio draw (``splits``) for train=0.5,val=0.5."""
    share = int(hashlib.md5(f"{seed}:{item}".encode()).hexdigest()[:13], 16) / 16**13
    return "train" if share < 0.5 else "val"


def split_of(table) -> dict[str, str]:
    return dict(
        zip(table.column("item_id").to_pylist(), table.column("split").to_pylist(), strict=True)
    )


def test_identical_items_share_the_split_of_the_smallest_id_whatever_the_seed(ws):
    # their own ids would part them under some seeds: the leak this prevents
    assert any(draw(seed, "x1.png") != draw(seed, "x2.png") for seed in SEEDS)
    for seed in SEEDS:
        plan = splits.plan("train=0.5,val=0.5", seed=seed)
        built = build(ws, "digits", split=plan, suspect="include")
        placed = split_of(built.table)
        # x2 follows x1 (the smaller id); x1, x3 and x4 keep their own draws
        assert placed["x2.png"] == placed["x1.png"] == draw(seed, "x1.png"), seed
        assert (placed["x3.png"], placed["x4.png"]) == (draw(seed, "x3.png"), draw(seed, "x4.png"))
        assert placed["d00.png"] == draw(seed, "d00.png")  # no copy: its own split, as before
        assert built.figures["duplicate_items"] == 1  # x2


def test_a_copy_of_a_golden_item_is_left_out_of_training(ws, tmp_path):
    rows = [{"item_id": "x1.png", "class": "one", "labeler": "expert"}]
    add_golden(ws, "digits", write_jsonl(tmp_path / "g.jsonl", rows), "jsonl", "expert")
    made = create_trainset(ws, "digits-v1", "digits", suspect="include")
    # x1 is golden: eval; x2, its copy, would train on an eval image: left out, and named
    assert made.left_out == {"low_confidence": 1, "golden_duplicate": 1}  # d04's tie; x2
    assert made.left_out_examples["golden_duplicate"] == ["x2.png"]
    assert made.splits["eval"]["items"] == 1 and made.duplicate_items == 0
    # 14 items: d04 and x2 out, x1 in eval, the other 11 in train
    assert made.splits["train"]["items"] == 11


def test_nothing_left_counts_only_the_training_candidates(ws, tmp_path):
    rows = [{"item_id": "x3.png", "class": "one", "labeler": "expert"}]
    add_golden(ws, "digits", write_jsonl(tmp_path / "g.jsonl", rows), "jsonl", "expert")
    # 1.1.0 redefines seven; one is confusable with it, so the expert's "one" is suspect too
    edit(
        ws.root,
        ("definition: A horizontal top bar joined to a diagonal stroke.", "definition: A top bar."),
        (
            "\n\nquality:",
            "\n  - version: unreleased\n    summary: Sevens by the bar\n"
            "    affects: [seven]\n    relabel: required\n\nquality:",
        ),
    )
    git(ws.root, "commit", "-q", "-am", "digits: sevens by the bar")
    release(ws, "digits", "minor")
    before = state(ws.root)
    # 13 candidates (x3 is golden, bound for eval whatever happens to it): d04 a tie, the other
    # 12 suspect; x3, suspect as well, is no training candidate and not counted
    with pytest.raises(LabelspecError, match=r"\(left out: 1 low-confidence, 12 suspect; the "):
        create_trainset(ws, "digits-v1", "digits")
    assert state(ws.root) == before


def test_every_item_golden_points_at_golden_into_train(digits_votes, copy_of, tmp_path):
    ws = copy_of(digits_votes)
    rows = [{"item_id": f"d0{n}.png", "class": "one", "labeler": "expert"} for n in range(10)]
    add_golden(ws, "digits", write_jsonl(tmp_path / "g.jsonl", rows), "jsonl", "expert")
    with pytest.raises(
        LabelspecError,
        match=r"\(left out: none; all 10 labeled items are golden, the eval split\): "
        r"--golden-into train trains on them",
    ):
        create_trainset(ws, "digits-v1", "digits", suspect="include")


def test_create_show_and_card_count_the_grouped_copies(ws, run):
    made = run("trainset", "create", "digits-v1", "--dataset", "digits", "--suspect", "include",
               cwd=ws.root)  # fmt: skip
    # x2 follows x1 into train (no split plan: every item is train)
    line = "1 item(s) with the content of a smaller id follow its split"
    assert f"  duplicates: {line}\n" in made.stdout
    assert line in run("trainset", "show", "digits-v1", cwd=ws.root).stdout.replace("\n", " ")
    card = run("trainset", "card", "digits-v1", cwd=ws.root).stdout
    assert f"- **Split**: none: every item in train; {line}\n" in card
    record = json.loads(run("trainset", "show", "digits-v1", "--json", cwd=ws.root).stdout)
    assert record["duplicate_items"] == 1


def copies_of_an_empty_street(streets, tmp_path, split: dict[str, str]) -> None:
    """Items with the content of one new empty street and the given split column values ("":
    none); nA-01 answers "no objects" on every one but the first (the leader, unlabeled)."""
    folder = streets.root / "copies"
    folder.mkdir()
    lines = ["item_id,path,split,city"]
    drawn.draw(drawn.Scene("street.png")).save(folder / "street.png", format="PNG")
    for item, value in split.items():
        shutil.copyfile(folder / "street.png", folder / item)
        lines.append(f"{item},{item},{value},lima")
    (folder / "copies.csv").write_text("\n".join(lines) + "\n")
    add_items(streets, "streets", folder / "copies.csv", guideline="school-buses")
    rows = [{"item_id": item, "labeler": "nA-01", "empty": True,
             "created_at": "2026-03-02T10:00:00Z"} for item in list(split)[1:]]  # fmt: skip
    import_labels(streets, "streets", write_jsonl(tmp_path / "c.jsonl", rows), "jsonl",
                  "school-buses@1.1.0", "northside")  # fmt: skip


def test_a_copy_follows_its_leader_split_column_value(streets, tmp_path):
    # c0 (the leader, unlabeled) says test; c1 says train and c2 nothing: both follow c0
    copies_of_an_empty_street(streets, tmp_path, {"c0.png": "test", "c1.png": "train",
                                                  "c2.png": ""})  # fmt: skip
    built = build(streets, "streets", split=splits.plan(split_by="split"), suspect="include")
    placed = split_of(built.table)
    assert (placed["c1.png"], placed["c2.png"]) == ("test", "test")
    assert "c0.png" not in placed and built.figures["duplicate_items"] == 2


def test_copies_follow_the_smallest_id_that_has_a_split_value(streets, tmp_path):
    # c0 (the leader, unlabeled) has no split: its copies say train and val. With their own
    # values one image would be trained on and validated on; with c0's (none) the set could
    # never be made (a registered item keeps its first columns). c1, the smallest id with a
    # value, decides: both in train.
    copies_of_an_empty_street(streets, tmp_path, {"c0.png": "", "c1.png": "train",
                                                  "c2.png": "val"})  # fmt: skip
    built = build(streets, "streets", split=splits.plan(split_by="split"), suspect="include")
    placed = split_of(built.table)
    assert (placed["c1.png"], placed["c2.png"]) == ("train", "train")


def test_copies_none_of_which_has_a_split_value_are_refused(streets, tmp_path):
    copies_of_an_empty_street(streets, tmp_path, {"c0.png": "", "c1.png": "", "c2.png": ""})
    before = state(streets.root)
    with pytest.raises(
        LabelspecError,
        match=r"--split-by split: 1 item\(s\) have no split \(c0\.png\); give every item one in "
        r"its manifest \(c1\.png, c2\.png have the content of one of them and take its split\)",
    ):
        create_trainset(streets, "streets-v1", "streets", split_by="split", suspect="include")
    assert state(streets.root) == before
