"""A training set's exports, one per split (COCO files, YOLO image lists, JSONL), its model
card, and the resolved labels of ``labels export --resolve`` keeping versions and attributes;
on the street scenes of ``conftest.TRUTH``, split by the manifest's column (val: n03, n07,
n09; eval: the golden g0..g3)."""

from __future__ import annotations

import json

import pytest
import yaml

from labelspec.errors import LabelspecError
from labelspec.resolve.card import trainset_card
from labelspec.resolve.export import write_exports
from labelspec.resolve.pin import create_trainset

VAL = ["n03.png", "n07.png", "n09.png"]
TRAIN = ["n00.png", "n01.png", "n02.png", "n04.png", "n05.png", "n06.png", "n08.png", "n11.png"]


@pytest.fixture
def pinned(streets):
    create_trainset(streets, "streets-v1", "streets", split_by="split")
    return streets


def names(doc: dict) -> list[str]:
    return [image["file_name"].rsplit("/", 1)[1] for image in doc["images"]]


def test_coco_writes_one_file_per_split_with_its_background_images(pinned, tmp_path):
    result = write_exports(pinned, "streets-v1", "coco", tmp_path / "coco")
    assert [f.rsplit("/", 1)[1] for f in result["files"]] == ["train.json", "val.json", "eval.json"]
    assert result["splits"] == {
        "train": {"items": 8, "labels": 8}, "val": {"items": 3, "labels": 3},
        "eval": {"items": 4, "labels": 4},
    }  # fmt: skip
    train = json.loads((tmp_path / "coco" / "train.json").read_text())
    assert names(train) == TRAIN and len(train["annotations"]) == 8
    # n04 and n08: empty streets, listed as images with the resolved empty answer
    background = [i for i in train["images"] if "empty_answers" in i]
    assert [i["file_name"].rsplit("/", 1)[1] for i in background] == ["n04.png", "n08.png"]
    assert background[0]["empty_answers"][0]["resolution"]["labelers"] == [
        "nA-01", "sB-01", "wC-01",
    ]  # fmt: skip
    assert {a["image_id"] for a in train["annotations"]} & {i["id"] for i in background} == set()
    val = json.loads((tmp_path / "coco" / "val.json").read_text())
    assert names(val) == VAL
    assert [(a["category_id"], a["bbox"]) for a in val["annotations"]] == [
        (2, [150.0, 72.0, 84.0, 40.0]),  # n03's pickup (category 2: pickup_truck)
        (1, [0.0, 118.0, 100.0, 56.0]),  # n07's bus, cut by the border
        (2, [220.0, 72.0, 84.0, 40.0]),
    ]
    first = val["annotations"][0]
    assert (first["guideline_version"], first["attributes"]) == ("1.1.0", {"occluded": False})
    assert first["resolution"]["guideline_versions"] == ["1.1.0"] * 3
    evaluation = json.loads((tmp_path / "coco" / "eval.json").read_text())
    assert names(evaluation) == ["g0.png", "g1.png", "g2.png", "g3.png"]
    assert {a["resolution"]["method"] for a in evaluation["annotations"]} == {"golden"}
    # the eval rows are the golden set's (expert), not the resolution's
    assert {a["labeler"] for a in evaluation["annotations"]} == {"golden:expert"}
    assert {a["labeler"] for a in val["annotations"]} == {"resolved:majority"}


def test_yolo_names_a_list_per_split_in_data_yaml(pinned, tmp_path):
    out = tmp_path / "yolo"
    write_exports(pinned, "streets-v1", "yolo", out)
    data = yaml.safe_load((out / "data.yaml").read_text())
    assert (data["train"], data["val"], data["eval"], data["nc"]) == (
        "train.txt", "val.txt", "eval.txt", 2,
    )  # fmt: skip
    assert "test" not in data
    assert (out / "val.txt").read_text() == "".join(f"./images/{n}\n" for n in VAL)
    assert (out / "train.txt").read_text() == "".join(f"./images/{n}\n" for n in TRAIN)
    # n00's bus (40, 118, 150, 56) in a 320 x 200 image: centre 115/320 = 0.359375, 146/200
    assert (out / "labels" / "n00.txt").read_text() == "0 0.359375 0.73 0.46875 0.28\n"
    assert (out / "labels" / "n04.txt").read_text() == ""  # a background image
    assert "the golden items: evaluate, never train" in (out / "data.yaml").read_text()


def test_yolo_without_a_val_split_says_how_to_make_one(streets, tmp_path):
    create_trainset(streets, "one-split", "streets")
    out = tmp_path / "yolo"
    write_exports(streets, "one-split", "yolo", out)
    text = (out / "data.yaml").read_text()
    assert "val: train.txt  # no val split: pin one with `trainset create --split" in text
    assert yaml.safe_load(text)["val"] == "train.txt"


def test_jsonl_writes_the_pinned_rows_per_split(pinned, tmp_path):
    write_exports(pinned, "streets-v1", "jsonl", tmp_path / "jsonl")
    rows = [
        json.loads(line) for line in (tmp_path / "jsonl" / "val.jsonl").read_text().splitlines()
    ]
    assert [r["item_id"] for r in rows] == VAL
    assert {r["split"] for r in rows} == {"val"} and rows[0]["label_versions"] == ["1.1.0"] * 3
    # attributes: an object, as in the labels (a JSON text inside the Parquet file)
    assert rows[0]["attributes"] == {"occluded": False}
    assert sorted(p.name for p in (tmp_path / "jsonl").iterdir()) == [
        "eval.jsonl", "train.jsonl", "val.jsonl",
    ]  # fmt: skip


def test_an_export_into_a_file_is_refused(pinned, tmp_path):
    (tmp_path / "taken").write_text("x")
    with pytest.raises(LabelspecError, match="is a file: --out names a folder"):
        write_exports(pinned, "streets-v1", "coco", tmp_path / "taken")
    with pytest.raises(LabelspecError, match="unknown format 'cvat' for a training set"):
        write_exports(pinned, "streets-v1", "cvat", tmp_path / "out")


def test_resolved_labels_export_keeps_attributes_versions_and_background(streets):
    from labelspec.resolve.export import as_labels
    from labelspec.resolve.resolution import resolve

    rows = {
        (r["item_id"], r["class"]): r
        for r in as_labels(streets, resolve(streets, "streets", "majority")).to_pylist()
    }
    o0 = rows[("o0.png", "school_bus")]
    assert o0["guideline_version"] == "1.1.0"  # nA-01, wC-01 under 1.0.0; sB-01 under 1.1.0
    assert sorted(json.loads(o0["tool_fields"])["guideline_versions"]) == [
        "1.0.0", "1.0.0", "1.1.0",
    ]  # fmt: skip
    assert json.loads(rows[("n00.png", "school_bus")]["attributes"]) == {"occluded": True}
    assert rows[("o1.png", "pickup_truck")]["guideline_version"] == "1.0.0"
    assert rows[("n04.png", None)]["bbox"] is None  # the empty street: a background image
    assert rows[("n04.png", None)]["guideline_digest"] != ""


def test_the_card_says_what_went_in_and_what_stayed_out(pinned):
    card = trainset_card(pinned, "streets-v1")
    assert card.startswith("# Training set `streets-v1`\n")
    assert "- **Split**: by the item column `split`\n" in card
    assert "its 4 items are the `eval` split, never trained on" in card
    assert (
        "| split | items | background images | labels | school_bus | pickup_truck |\n"
        "| --- | --- | --- | --- | --- | --- |\n"
        "| `train` | 8 | 2 | 8 | 4 | 4 |\n"
        "| `val` | 3 | 0 | 3 | 1 | 2 |\n"
        "| `eval` | 4 | 1 | 4 | 2 | 2 |\n"
    ) in card
    assert "| low confidence: a tie, or below --min-confidence 0.0 | 1 | n10.png |" in card
    assert (
        "| suspect under guideline 1.1.0 (--suspect exclude) | 4 | o0.png, o1.png, o2.png, o3.png |"
        in card
    )
    assert "| `1.1.0` | 44 | 100% |" in card
    # 13 of the 44 labels each (11 boxes, 2 empty answers), the expert's 5
    assert (
        "| `nA-01` | northside | 13 | 30% |" in card
        and "| `expert` | (golden set) | 5 | 11% |" in card
    )
    # northside and westside labeled the golden scenes as the expert did; southbound never saw them
    assert "| `northside` | 1.000 | 1.000 | 1.000 | 4 |" in card
    assert "| `westside` | 1.000 | 1.000 | 1.000 | 4 |" in card
    assert "Not judged (no delivered labels on the golden set): southbound." in card


def test_the_card_of_a_set_without_golden_items(digits_votes, copy_of, tmp_path):
    ws = copy_of(digits_votes)
    create_trainset(ws, "digits-v1", "digits", suspect="include", min_confidence=0.7)
    out = tmp_path / "cards" / "digits-v1.md"
    card = trainset_card(ws, "digits-v1", out)
    assert out.read_text() == card
    assert "- **Split**: none: every item in train\n" in card
    # classification: no empty-answer column, no geometry line (boxes are detection's)
    assert "| split | items | labels | zero | one | two | three | four |" in card
    assert "| `train` | 7 | 7 | 0 | 4 | 0 | 0 | 1 | 0 | 0 | 2 | 0 | 0 |" in card
    assert "**Boxes**" not in card and "**Spans**" not in card
    assert "no golden set at the revision: no eval split" in card
    assert "No bake-off: no golden set at the revision." in card
    # lab-* have no training records: every item is suspect, and the card says they were kept
    assert "7 item(s) suspect under guideline 1.0.0 were kept (--suspect include)" in card
