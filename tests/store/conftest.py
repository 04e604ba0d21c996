"""Populated workspaces for the label store tests.

Each kind is built once per session with the library (items registered, labelers trained, for
``digits-labeled`` one import as snap-1) and copied for every test, with its own DVC remote, the
same way ``make_workspace`` copies a pristine workspace.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from labelspec.demo import digits
from tests.conftest import copy_workspace
from tests.helpers import git

DIGITS = 20  # items d00.png .. d19.png, the first 20 digits of the UCI test set (0..9 twice)
NEWS = {
    "n01.txt": "Ada Lovelace met Charles Babbage in London.",
    "n02.txt": "The United Nations met in Geneva on Monday.",
    "n03.txt": "Paris Saint-Germain beat Marseille.",
}


def item_id(index: int) -> str:
    return f"d{index:02d}.png"


def digit_class(index: int) -> str:
    return digits.CLASS_IDS[int(digits.load()[1][index])]


def digit_rows(indices=range(DIGITS), labeler: str = "vA-01", **extra) -> list[dict]:
    """One correct classification label per digit item."""
    return [
        {
            "item_id": item_id(i),
            "labeler": labeler,
            "class": digit_class(i),
            "created_at": "2026-02-01T10:00:00Z",
            "lead_time_s": 2.5,
            "cost": 0.02,
            **extra,
        }
        for i in indices
    ]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def set_training_policy(root: Path, policy: str) -> None:
    config = root / "labelspec.yaml"
    text = config.read_text()
    assert "training: error" in text
    config.write_text(text.replace("training: error", f"training: {policy}"))
    git(root, "commit", "-q", "-m", f"training policy {policy}", "--", "labelspec.yaml")


def _build(root: Path, kind: str) -> None:
    from labelspec.demo import shapes
    from labelspec.labelers.roster import add_labeler
    from labelspec.labelers.training import record_training
    from labelspec.store.items import add_items
    from labelspec.workspace import Workspace

    ws = Workspace(root)
    if kind == "digits":
        folder = root / "datasets/digits/items"
        for i in range(DIGITS):
            digits.save_png(i, folder / item_id(i))
        guideline, dataset = "digits", "digits"
    elif kind == "shapes":
        folder = root / "datasets/shapes/items"
        folder.mkdir(parents=True)
        for name, (shape, box, fill, seed) in shapes.SCENES.items():
            shapes.draw(shape, box, fill, seed).save(folder / f"{name}.png", format="PNG")
        guideline, dataset = "shapes", "shapes"
    else:
        folder = root / "datasets/news/items"
        folder.mkdir(parents=True)
        for name, text in NEWS.items():
            (folder / name).write_text(text)
        guideline, dataset = "entities", "news"
    add_items(ws, dataset, folder)
    add_labeler(ws, "vA-01", "vendor-a")
    add_labeler(ws, "vB-01", "vendor-b")  # on the roster, never trained
    record_training(
        ws, "vA-01", guideline, "1.0.0", "session", 0.9, True, dt.date(2026, 1, 15)
    )  # before the labels the tests import (2026-02-01)


@pytest.fixture(scope="session")
def built(pristine, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Populated workspaces by kind: digits, digits-labeled, shapes, news (built once)."""
    from labelspec.labels.ingest import import_labels
    from labelspec.workspace import Workspace

    templates = {"digits": "classification", "shapes": "detection", "news": "ner"}
    made: dict[str, Path] = {}

    def get(kind: str) -> Path:
        if kind in made:
            return made[kind]
        root = tmp_path_factory.mktemp(f"built-{kind}") / "ws"
        if kind == "digits-labeled":
            shutil.copytree(get("digits"), root, symlinks=True)
            source = write_jsonl(root.parent / "snap1.jsonl", digit_rows())
            import_labels(Workspace(root), "digits", source, "jsonl", "digits@1.0.0", "vendor-a")
        else:
            shutil.copytree(pristine(templates[kind]), root, symlinks=True)
            _build(root, kind)
        assert git(root, "status", "--porcelain") == ""
        made[kind] = root
        return root

    return get


@pytest.fixture
def make_store(tmp_path: Path, built) -> Callable[..., Path]:
    """A copy of a populated workspace in ``tmp_path`` with its own DVC remote."""

    def make(kind: str = "digits", name: str = "ws") -> Path:
        return copy_workspace(built(kind), tmp_path / name)

    return make


@pytest.fixture
def digits_ws(make_store) -> Path:
    """20 digit items, labelers vA-01 (trained on digits 1.0.0) and vB-01 (untrained), no labels."""
    return make_store("digits")


@pytest.fixture
def labeled_ws(make_store) -> Path:
    """``digits_ws`` plus snap-1: one correct label per item by vA-01."""
    return make_store("digits-labeled")
