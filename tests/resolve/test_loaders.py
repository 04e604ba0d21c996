"""The loaders of a training set on the street scenes (``conftest.TRUTH``), checked against three
known items: n00 (one bus), n02 (a bus and a pickup) and n04 (an empty street, a background
image). ``streets.draw`` paints buses and pickups yellow on a grey road: a pixel inside a box
says which picture was loaded."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest

from labelspec.demo.streets import YELLOW
from labelspec.errors import LabelspecError, NotFoundError
from labelspec.loaders import workspace_trainset
from labelspec.loaders.pytorch import ItemDataset
from labelspec.resolve.pin import create_trainset

ROAD = (92, 92, 96)
NO_TORCH = importlib.util.find_spec("torch") is None


@pytest.fixture
def pinned(streets, tmp_path):
    create_trainset(streets, "streets-v1", "streets")
    return workspace_trainset(streets, "streets-v1", cache_dir=tmp_path / "cache")


def test_the_set_names_its_splits_classes_and_items(pinned):
    assert (pinned.name, pinned.task, pinned.splits) == (
        "streets-v1",
        "detection",
        ["train", "eval"],
    )
    assert pinned.classes == ["school_bus", "pickup_truck"]
    items = pinned.items("train")
    assert items.column("item_id").to_pylist()[:3] == ["n00.png", "n01.png", "n02.png"]
    assert items.num_rows == 11 and set(items.column("width").to_pylist()) == {320}
    with pytest.raises(NotFoundError, match=r"no split 'test' \(splits: train, eval\)"):
        pinned.split("test")


def test_files_are_the_workspace_files_when_it_holds_them(pinned, streets):
    files = pinned.files("eval")
    assert sorted(files) == ["g0.png", "g1.png", "g2.png", "g3.png"]
    assert all(path.is_relative_to(streets.root) and path.is_file() for path in files.values())


def test_the_hugging_face_loader_gives_the_known_items(pinned):
    found = pinned.to_hf()
    assert list(found) == ["train", "eval"]
    train = found["train"]
    assert train.num_rows == 11 and train.split == "train"
    assert train.features["objects"]["category"].feature.names == ["school_bus", "pickup_truck"]
    n00, n02, n04 = train[0], train[2], train[4]
    assert [r["item_id"] for r in (n00, n02, n04)] == ["n00.png", "n02.png", "n04.png"]
    # boxes as pinned: top-left x, y, width, height in pixels; area w * h
    assert n00["objects"] == {"bbox": [[40.0, 118.0, 150.0, 56.0]], "category": [0],
                              "area": [8400.0]}  # fmt: skip
    assert n02["objects"] == {
        "bbox": [[10.0, 118.0, 150.0, 56.0], [200.0, 72.0, 84.0, 40.0]],
        "category": [0, 1],
        "area": [8400.0, 3360.0],
    }
    assert n04["objects"] == {"bbox": [], "category": [], "area": []}  # a background image
    assert (n00["width"], n00["height"], n00["image"].size) == (320, 200, (320, 200))
    # inside n00's bus (40 + 3, 118 + 3): yellow; the same pixel of the empty n04: road
    assert n00["image"].convert("RGB").getpixel((43, 121)) == YELLOW
    assert n04["image"].convert("RGB").getpixel((43, 121)) == ROAD
    assert n02["image"].convert("RGB").getpixel((203, 90)) == YELLOW  # n02's pickup bed
    assert found["eval"]["item_id"] == ["g0.png", "g1.png", "g2.png", "g3.png"]


@pytest.mark.skipif(not NO_TORCH, reason="torch installed: targets are tensors")
def test_the_torch_dataset_gives_the_known_items_without_torch(pinned):
    dataset = pinned.torch_dataset("train")
    assert len(dataset) == 11 and dataset.item_ids[:3] == ["n00.png", "n01.png", "n02.png"]
    image, target = dataset[0]
    assert image.mode == "RGB" and image.size == (320, 200)
    assert image.getpixel((43, 121)) == YELLOW
    # torchvision's detection targets: corners x1, y1, x2, y2 (float32), labels class_index + 1
    assert target["boxes"].dtype == np.float32 and target["labels"].dtype == np.int64
    assert target["boxes"].tolist() == [[40.0, 118.0, 190.0, 174.0]]
    assert target["labels"].tolist() == [1]
    assert (target["image_id"], target["area"].tolist(), target["iscrowd"].tolist()) == (
        0, [8400.0], [0],
    )  # fmt: skip
    _, n02 = dataset[2]
    assert n02["boxes"].tolist() == [[10.0, 118.0, 160.0, 174.0], [200.0, 72.0, 284.0, 112.0]]
    assert n02["labels"].tolist() == [1, 2]  # 0 is torchvision's background
    n04_image, n04 = dataset[4]
    assert n04["boxes"].shape == (0, 4) and n04["labels"].tolist() == []
    assert n04_image.getpixel((43, 121)) == ROAD
    assert "torch" not in sys.modules


def test_the_torch_dataset_is_map_style(pinned):
    dataset = pinned.torch_dataset("eval", transform=lambda image, target: (image.size, target))
    assert len(dataset) == 4
    size, target = dataset[-1]  # g3: the bus and the pickup of the expert
    assert size == (320, 200) and np.asarray(target["labels"]).tolist() == [1, 2]
    with pytest.raises(IndexError):
        dataset[4]
    batch = ItemDataset.collate([dataset[0], dataset[1]])
    assert len(batch) == 2 and len(batch[0]) == 2  # images, targets


def test_a_training_set_without_a_file_path_is_refused(pinned):
    import pyarrow as pa

    pinned.table = pinned.table.drop_columns(["path"])
    with pytest.raises(LabelspecError, match="pinned by an earlier labelspec, without the 'path'"):
        pinned.files()
    pinned.table = pinned.table.append_column("path", pa.nulls(pinned.table.num_rows, pa.string()))
    with pytest.raises(LabelspecError, match="have no file in the workspace, only a uri"):
        pinned.files()
