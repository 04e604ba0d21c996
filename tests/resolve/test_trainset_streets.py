"""Training sets of a detection dataset (the street scenes of ``conftest.TRUTH``): the eval split
of golden items, suspect and low-confidence items kept out and counted, splits by column and by
ratio that hold when items arrive, versions and attributes of resolved boxes, background
images, and every refusal leaving the workspace as it was."""

from __future__ import annotations

import json

import pytest

from labelspec.errors import LabelspecError
from labelspec.resolve.pin import create_trainset
from labelspec.store.trainsets import diff_trainsets, load_trainset
from tests.helpers import state

BUS, PICKUP = "school_bus", "pickup_truck"
# training items once n10 (a three-way draw) and o0..o3 (suspect) are out: n00..n09, n11
TRAIN = [f"n{i:02d}.png" for i in range(12) if i != 10]


def by_item(table) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for row in table.to_pylist():
        found.setdefault(row["item_id"], []).append(row)
    return found


def test_golden_items_evaluate_and_suspect_items_stay_out_by_default(streets):
    made = create_trainset(streets, "streets-v1", "streets")
    assert (made.golden_into, made.golden_items, made.suspect_policy) == ("eval", 4, "exclude")
    assert made.golden_set.startswith("expert@b-")
    # n10 is a draw (low confidence); o0..o3 carry labels made under 1.0.0, and 1.1.0 changed
    # the school bus (o1's pickup is confusable with it, o2's empty answer follows any change)
    assert made.left_out == {"low_confidence": 1, "suspect": 4}
    assert made.left_out_examples == {
        "low_confidence": ["n10.png"], "suspect": ["o0.png", "o1.png", "o2.png", "o3.png"],
    }  # fmt: skip
    assert (made.suspect_release, made.suspect_items, made.suspect_kept, made.ties) == (
        "1.1.0", 4, 0, 1,
    )  # fmt: skip
    # train: 11 items, 11 boxes (buses on n00 n02 n05 n06 n07; pickups on n01 n02 n03 n06
    # n09 n11) and the background images n04, n08; eval: the golden g0..g3 (g2 empty)
    assert made.splits == {
        "eval": {"items": 4, "labels": 4, "background": 1, "by_class": {PICKUP: 2, BUS: 2}},
        "train": {"items": 11, "labels": 11, "background": 2, "by_class": {PICKUP: 6, BUS: 5}},
    }
    assert (made.rows, made.items, made.by_class) == (15, 15, {PICKUP: 8, BUS: 7})
    table = load_trainset(streets, "streets-v1")
    items = by_item(table)
    assert sorted(i for i, rows in items.items() if rows[0]["split"] == "train") == TRAIN
    assert not {"o0.png", "o1.png", "o2.png", "o3.png", "n10.png"} & set(items)
    # the eval split holds the expert's boxes, never the crowd's
    assert {r["method"] for i in ("g0.png", "g3.png") for r in items[i]} == {"golden"}
    assert [(r["class"], r["bbox"]["x"]) for r in items["g3.png"] if r["class"] == BUS] == [
        (BUS, 10.0)
    ]
    assert items["g2.png"][0]["class"] is None  # a golden negative: a background image


def test_who_and_which_versions_are_behind_the_set(streets):
    made = create_trainset(streets, "streets-v1", "streets")
    # 11 boxes x 3 votes + 2 background images x 3 empty answers, all under 1.1.0, and the
    # expert's 5 golden labels (4 boxes, g2's empty answer), added under 1.1.0
    assert made.guideline_versions == {"1.1.0": 44}
    assert made.labelers == {"expert": 5, "nA-01": 13, "sB-01": 13, "wC-01": 13}
    # vendors by the roster (the expert is on none: the golden set's source), sources by batch
    assert made.vendors == {"golden:expert": 5, "northside": 13, "southbound": 13, "westside": 13}
    assert made.sources == made.vendors  # each vendor delivered under its own name here
    assert (made.classes, made.class_names) == ([BUS, PICKUP], ["School bus", "Pickup truck"])


def test_a_resolved_box_keeps_each_votes_version_and_the_majority_attribute(streets):
    create_trainset(streets, "all", "streets", suspect="include")
    items = by_item(load_trainset(streets, "all"))
    (o0,) = items["o0.png"]
    # nA-01 and wC-01 boxed o0's bus under 1.0.0, sB-01 under 1.1.0: the newest of the votes
    assert sorted(o0["label_versions"]) == ["1.0.0", "1.0.0", "1.1.0"]
    assert (o0["guideline_version"], o0["suspect"], o0["split"]) == ("1.1.0", True, "train")
    assert len(o0["label_ids"]) == len(o0["label_versions"]) == 3
    (o1,) = items["o1.png"]  # two votes, both 1.0.0: stays 1.0.0
    assert (o1["label_versions"], o1["guideline_version"]) == (["1.0.0", "1.0.0"], "1.0.0")
    # n00: nA-01 and wC-01 say occluded, sB-01 not: occluded by two to one
    (n00,) = items["n00.png"]
    assert (json.loads(n00["attributes"]), n00["attribute_ties"]) == ({"occluded": True}, [])
    # n01: nA-01 occluded, wC-01 not, sB-01 silent: a draw, left out and named
    (n01,) = items["n01.png"]
    assert (n01["attributes"], n01["attribute_ties"]) == ("{}", ["occluded"])
    (n03,) = items["n03.png"]
    assert json.loads(n03["attributes"]) == {"occluded": False}
    shown = json.loads(
        json.dumps(create_trainset(streets, "again", "streets", suspect="include").to_json())
    )
    assert (shown["suspect_kept"], shown["left_out"]) == (4, {"low_confidence": 1})
    assert shown["attribute_ties"] == 1 and shown["guideline_versions"] == {
        "1.0.0": 8,  # o0's two, o1's two, o2's two empty answers, o3's two
        "1.1.0": 45,  # the 44 above and sB-01's o0 box
    }


def test_everything_a_loader_needs_is_in_one_table(streets):
    create_trainset(streets, "streets-v1", "streets")
    items = by_item(load_trainset(streets, "streets-v1"))
    bus, pickup = items["n02.png"]
    assert bus["path"].startswith("datasets/streets/files/") and bus["path"].endswith("/n02.png")
    assert (bus["width"], bus["height"]) == (320, 200)
    assert (bus["class"], bus["class_index"], bus["class_name"]) == (BUS, 0, "School bus")
    assert (pickup["class"], pickup["class_index"], pickup["class_name"]) == (
        PICKUP, 1, "Pickup truck",
    )  # fmt: skip
    assert bus["bbox"] == {"x": 10.0, "y": 118.0, "w": 150.0, "h": 56.0}  # top-left, px
    (n04,) = items["n04.png"]  # three empty answers: a background image, with its lineage
    assert (n04["class"], n04["bbox"], n04["class_index"], n04["confidence"]) == (
        None, None, None, 1.0,
    )  # fmt: skip
    assert (n04["labelers"], len(n04["label_ids"])) == (["nA-01", "sB-01", "wC-01"], 3)
    assert n04["width"] == 320


def test_a_floor_leaves_out_the_doubtful_box_image_whole(streets):
    made = create_trainset(streets, "strict", "streets", min_confidence=0.8)
    # n11: sB-01's extra bus is rejected with 2/3 certainty only, below 0.8
    assert made.left_out == {"low_confidence": 2, "suspect": 4}
    assert made.left_out_examples["low_confidence"] == ["n10.png", "n11.png"]
    assert made.splits["train"]["items"] == 10


def test_golden_items_can_be_trained_on_when_asked(streets):
    made = create_trainset(
        streets, "with-golden", "streets", golden_into="train", suspect="include"
    )
    assert (made.golden_into, made.golden_set, made.golden_items) == ("train", None, 0)
    assert list(made.splits) == ["train"]
    items = by_item(load_trainset(streets, "with-golden"))
    # resolved from the crowd like any item; labeled under 1.0.0, so suspect
    assert {r["method"] for r in items["g0.png"]} == {"majority"} and items["g0.png"][0]["suspect"]


def test_only_the_suspect_items(streets):
    made = create_trainset(streets, "to-check", "streets", suspect="only")
    assert made.left_out == {"low_confidence": 1, "not_suspect": 15}  # 11 new, 4 golden
    assert made.splits == {
        "train": {"items": 4, "labels": 3, "background": 1, "by_class": {PICKUP: 1, BUS: 2}}
    }


def test_a_split_by_column_holds_when_items_arrive(streets, more_streets):
    first = create_trainset(streets, "by-column", "streets", split_by="split")
    # the manifest says val for n03, n07, n09 (and g1, which is golden: eval)
    assert first.split == {"by": "column", "column": "split"}
    assert {k: v["items"] for k, v in first.splits.items()} == {"eval": 4, "train": 8, "val": 3}
    more_streets(streets)
    second = create_trainset(streets, "by-column-2", "streets", split_by="split")
    assert {k: v["items"] for k, v in second.splits.items()} == {"eval": 4, "train": 10, "val": 3}
    result = diff_trainsets(streets, "by-column", "by-column-2")
    assert (result["moved_split"], result["only_b"], result["same"]) == (0, 2, 15)


def test_a_ratio_split_holds_when_items_arrive(streets, more_streets):
    first = create_trainset(streets, "by-ratio", "streets", split="train=0.6,val=0.2,test=0.2",
                            seed=5)  # fmt: skip
    assert first.split == {"by": "ratio", "ratios": [["train", 0.6], ["val", 0.2], ["test", 0.2]],
                           "seed": 5}  # fmt: skip
    assert {k: v["items"] for k, v in first.splits.items()} == {
        "eval": 4, "test": 2, "train": 7, "val": 2,
    }  # fmt: skip
    placed = {r["item_id"]: r["split"] for r in load_trainset(streets, "by-ratio").to_pylist()}
    # test_splits pins these draws: n00 0.319 train, n01 0.949 test, n02 0.432 train
    assert (placed["n00.png"], placed["n01.png"], placed["n02.png"]) == ("train", "test", "train")
    more_streets(streets)  # n12 draws 0.965 (test), n13 0.447 (train)
    create_trainset(streets, "by-ratio-2", "streets", split="train=0.6,val=0.2,test=0.2", seed=5)
    again = {r["item_id"]: r["split"] for r in load_trainset(streets, "by-ratio-2").to_pylist()}
    assert {i: again[i] for i in placed} == placed
    assert (again["n12.png"], again["n13.png"]) == ("test", "train")
    result = diff_trainsets(streets, "by-ratio", "by-ratio-2")
    assert (result["moved_split"], result["split_changes"], result["only_b"]) == (0, {}, 2)


def test_another_seed_moves_items_and_diff_says_which(streets):
    create_trainset(streets, "seed-5", "streets", split="train=0.6,val=0.2,test=0.2", seed=5)
    create_trainset(streets, "seed-0", "streets", split="train=0.6,val=0.2,test=0.2", seed=0)
    result = diff_trainsets(streets, "seed-5", "seed-0")
    assert result["moved_split"] == sum(result["split_changes"].values()) > 0
    assert "test -> train" in result["split_changes"]  # n01: 0.949 at seed 5, 0.236 at seed 0
    assert result["same"] == 15 and result["changed"] == 0  # the labels are the same


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"split_by": "fold"}, r"no such item segment column \(the items have: city, split\)"),
        ({"split": "train=0.8,val=0.3"}, "the shares sum to 1.1, not 1"),
        ({"split": "train=0.6,val=0.2,test=0.2", "seed": 1}, "split test got no item of the 11"),
        ({"split": "train=1", "split_by": "split"}, "not both"),
        ({"suspect": "some"}, "--suspect some: choose one of exclude, include, only"),
        ({"golden_into": "val"}, "--golden-into val: choose eval"),
    ],
)
def test_bad_split_options_pin_nothing(streets, options, message):
    before = state(streets.root)
    with pytest.raises(LabelspecError, match=message):
        create_trainset(streets, "bad", "streets", **options)
    assert state(streets.root) == before


def test_golden_labels_made_before_a_change_are_suspect_too(streets):
    import subprocess

    from labelspec.guideline.release import release

    create_trainset(streets, "before", "streets")
    assert not any(r["suspect"] for r in load_trainset(streets, "before").to_pylist())
    # 1.2.0 redefines the pickup: the expert's labels, made under 1.1.0, are suspect now (the
    # pickups affected, the buses confusable with them, g2's empty answer after a change)
    spec = streets.root / "guidelines" / "school-buses" / "spec.yaml"
    spec.write_text(
        spec.read_text().replace("an open bed behind it, of any colour.", "an open bed behind it.")
        + "  - version: unreleased\n    summary: Pickups of one colour\n"
        "    affects: [pickup_truck]\n    relabel: required\n"
    )
    subprocess.run(["git", "commit", "-qam", "pickups"], cwd=streets.root, check=True)
    release(streets, "school-buses", "minor")
    made = create_trainset(streets, "after", "streets", suspect="include")
    assert (made.suspect_release, made.suspect_kept) == ("1.2.0", 19)  # every item in the set
    rows = load_trainset(streets, "after").to_pylist()
    assert {r["item_id"] for r in rows if r["split"] == "eval" and r["suspect"]} == {
        "g0.png", "g1.png", "g2.png", "g3.png",
    }  # fmt: skip
