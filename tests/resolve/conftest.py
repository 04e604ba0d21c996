"""Workspaces for the resolution tests: the QA workspaces (several labelers' votes, boxes and
spans, written out by hand in ``tests/qa/builders.py``), shared read-only for the session, and a
detection workspace of street scenes for the training sets (``streets``, below)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from labelspec.demo import school_buses
from labelspec.demo import streets as drawn
from labelspec.workspace import Workspace
from tests.conftest import copy_workspace
from tests.qa.conftest import (  # noqa: F401 (fixtures)
    copy_of,
    digit_sets,
    digits_votes,
    news_spans,
    qa_built,
    shapes_boxes,
)
from tests.store.conftest import built, labeled_ws, make_store, write_jsonl  # noqa: F401

BUS, PICKUP = "school_bus", "pickup_truck"
# The street scenes (320 x 200), each written out so every figure is worked out by hand:
#   g*  the golden set (the expert's boxes; nA-01 and wC-01 labeled them under 1.0.0)
#   o*  labeled by nA-01 and wC-01 under 1.0.0 (suspect once 1.1.0 redefines the school bus);
#       sB-01 labels o0 again under 1.1.0
#   n*  labeled by nA-01, wC-01 and sB-01 under 1.1.0; n10 is a three-way draw (a bus, a
#       pickup, nothing), on n11 sB-01 adds a bus nobody else sees
TRUTH: dict[str, list[tuple[str, tuple[float, float, float, float]]]] = {
    "g0": [(BUS, (40.0, 118.0, 150.0, 56.0))],
    "g1": [(PICKUP, (100.0, 72.0, 84.0, 40.0))],
    "g2": [],
    "g3": [(BUS, (10.0, 118.0, 150.0, 56.0)), (PICKUP, (200.0, 72.0, 84.0, 40.0))],
    "o0": [(BUS, (60.0, 118.0, 150.0, 56.0))],
    "o1": [(PICKUP, (30.0, 72.0, 84.0, 40.0))],
    "o2": [],
    "o3": [(BUS, (120.0, 118.0, 150.0, 56.0))],
    "n00": [(BUS, (40.0, 118.0, 150.0, 56.0))],
    "n01": [(PICKUP, (100.0, 72.0, 84.0, 40.0))],
    "n02": [(BUS, (10.0, 118.0, 150.0, 56.0)), (PICKUP, (200.0, 72.0, 84.0, 40.0))],
    "n03": [(PICKUP, (150.0, 72.0, 84.0, 40.0))],
    "n04": [],
    "n05": [(BUS, (80.0, 118.0, 150.0, 56.0))],
    "n06": [(PICKUP, (20.0, 72.0, 84.0, 40.0)), (BUS, (160.0, 118.0, 150.0, 56.0))],
    "n07": [(BUS, (0.0, 118.0, 100.0, 56.0))],
    "n08": [],
    "n09": [(PICKUP, (220.0, 72.0, 84.0, 40.0))],
    "n10": [(BUS, (90.0, 118.0, 150.0, 56.0))],
    "n11": [(PICKUP, (60.0, 72.0, 84.0, 40.0))],
}
# 10 % more: two scenes that arrive after the first training sets
LATER = {
    "n12": [(BUS, (30.0, 118.0, 150.0, 56.0))],
    "n13": [(PICKUP, (130.0, 72.0, 84.0, 40.0))],
}
VAL = {"n03", "n07", "n09", "g1"}  # the manifest's split column; every other scene: train
EXTRA_BOX = (200.0, 118.0, 110.0, 40.0)  # sB-01's bus on n11
OLD, NEW = "2026-02-01T10:00:00Z", "2026-03-02T10:00:00Z"
LABELERS = {"nA-01": "northside", "wC-01": "westside", "sB-01": "southbound"}


def scene_id(name: str) -> str:
    return f"{name}.png"


def occluded(labeler: str, name: str, cls: str) -> dict | None:
    """n00's bus: occluded for nA-01 and wC-01, not for sB-01 (a majority); n01's pickup:
    occluded for nA-01, not for wC-01, unsaid by sB-01 (a draw); every other box: not occluded."""
    if name == "n00":
        return {"occluded": labeler != "sB-01"}
    if name == "n01":
        return {"nA-01": {"occluded": True}, "wC-01": {"occluded": False}}.get(labeler)
    return {"occluded": False}


def answer(labeler: str, name: str, boxes: list) -> list[dict]:
    """What ``labeler`` delivers for scene ``name`` (created ``when``): its boxes, or an empty
    answer; the draw on n10 and sB-01's extra bus on n11 written in."""
    if name == "n10":
        boxes = {"nA-01": boxes, "wC-01": [(PICKUP, boxes[0][1])], "sB-01": []}[labeler]
    if name == "n11" and labeler == "sB-01":
        boxes = [*boxes, (BUS, EXTRA_BOX)]
    if not boxes:
        return [{"item_id": scene_id(name), "labeler": labeler, "empty": True}]
    rows = []
    for cls, box in boxes:
        row = {"item_id": scene_id(name), "labeler": labeler, "class": cls, "bbox": list(box)}
        attributes = occluded(labeler, name, cls)
        if attributes is not None:
            row["attributes"] = attributes
        rows.append(row)
    return rows


def deliver(ws: Workspace, labeler: str, names: list[str], when: str, version: str) -> None:
    from labelspec.labels.ingest import import_labels

    rows = [
        {**row, "created_at": when}
        for name in names
        for row in answer(labeler, name, {**TRUTH, **LATER}[name])
    ]
    path = write_jsonl(ws.root.parent / f"{labeler}-{version}-{names[0]}.jsonl", rows)
    import_labels(ws, "streets", path, "jsonl", f"{school_buses.NAME}@{version}", LABELERS[labeler])


def add_scenes(ws: Workspace, names: dict[str, list], manifest: str) -> None:
    from labelspec.store.items import add_items

    scenes = [
        drawn.Scene(scene_id(n), boxes, split="val" if n in VAL else "train", city="lima")
        for n, boxes in names.items()
    ]
    folder = ws.root / "street-photos"
    drawn.write_items(folder, scenes, folder / manifest)
    add_items(ws, "streets", folder / manifest, guideline=school_buses.NAME)


def redefine_the_school_bus(ws: Workspace) -> None:
    """Release 1.1.0: school buses need not be yellow (affects school_bus; pickup_truck is
    confusable with it, and empty answers follow any changed class)."""
    from labelspec.guideline.release import release

    spec = ws.root / "guidelines" / school_buses.NAME / "spec.yaml"
    text = spec.read_text().replace(
        "definition: A long yellow bus with", "definition: A long bus, of any colour, with"
    )
    spec.write_text(
        text + "  - version: unreleased\n    summary: School buses need not be yellow\n"
        "    affects: [school_bus]\n    relabel: required\n"
    )
    subprocess.run(["git", "commit", "-qam", "any colour"], cwd=ws.root, check=True)
    release(ws, school_buses.NAME, "minor", date=dt.date(2026, 2, 20))  # before its trainings


def build_streets(root: Path) -> None:
    from labelspec.guideline.release import tag_current
    from labelspec.labelers.roster import add_labeler
    from labelspec.labelers.training import record_training
    from labelspec.store.golden import add_golden

    ws = Workspace(root)
    school_buses.write(root / "guidelines" / school_buses.NAME)
    subprocess.run(["git", "add", "guidelines"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-qm", "school-buses guideline"], cwd=root, check=True)
    tag_current(ws, school_buses.NAME)
    add_scenes(ws, TRUTH, "manifest.csv")
    for labeler, vendor in LABELERS.items():
        add_labeler(ws, labeler, vendor)
    for labeler in ("nA-01", "wC-01"):
        record_training(ws, labeler, school_buses.NAME, "1.0.0", "session", 0.9, True,
                        dt.date(2026, 1, 15))  # fmt: skip
    first = [n for n in TRUTH if n[0] in "go"]
    for labeler in ("nA-01", "wC-01"):
        deliver(ws, labeler, first, OLD, "1.0.0")
    redefine_the_school_bus(ws)
    for labeler in LABELERS:
        record_training(ws, labeler, school_buses.NAME, "1.1.0", "session", 0.95, True,
                        dt.date(2026, 3, 1))  # fmt: skip
    new = [n for n in TRUTH if n[0] == "n"]
    for labeler in LABELERS:
        deliver(ws, labeler, new + (["o0"] if labeler == "sB-01" else []), NEW, "1.1.0")
    golden = [
        {"item_id": scene_id(n), "class": cls, "bbox": list(box),
         "attributes": {"occluded": False}}
        for n, boxes in TRUTH.items() if n[0] == "g" for cls, box in boxes
    ] + [{"item_id": scene_id("g2"), "empty": True}]  # fmt: skip
    add_golden(ws, "streets", write_jsonl(root.parent / "golden.jsonl", golden), "jsonl", "expert")


@pytest.fixture(scope="session")
def streets_built(pristine, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("streets") / "ws"
    shutil.copytree(pristine("detection"), root, symlinks=True)
    build_streets(root)
    return root


@pytest.fixture
def streets(streets_built, tmp_path) -> Workspace:
    """A copy of the street scenes workspace, with a DVC remote of its own."""
    return Workspace(copy_workspace(streets_built, tmp_path / "streets"))


@pytest.fixture
def more_streets() -> Callable[[Workspace], None]:
    """Two more scenes (10 %), labeled by all three under 1.1.0."""

    def arrive(ws: Workspace) -> None:
        add_scenes(ws, LATER, "later.csv")
        for labeler in LABELERS:
            deliver(ws, labeler, list(LATER), NEW, "1.1.0")

    return arrive
