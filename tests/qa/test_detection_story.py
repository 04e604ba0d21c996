"""The founding story, as a test: school buses in boxes, yellow pickups as counterexamples.

Eight street scenes, written out by hand so every figure below is worked out on paper:

    scene  truth                          northside (COCO)  westside (JSONL)  southbound (Label Studio)
    s0     bus                             bus               bus               bus
    s1     pickup                          pickup            pickup            bus (confusion)
    s2     bus, pickup                     both              both              bus, bus (one confusion)
    s3     nothing (golden negative)       nothing           nothing           an extra bus box
    s4     pickup                          pickup            pickup            bus (confusion)
    s5     nothing (golden negative)       nothing           nothing           nothing
    s6     bus cut by the border           bus               bus               nothing (a miss)
    s7     pickup, bus                     both              both              both

Each vendor has one labeler (nA-01, wC-01, sB-01), so a vendor's bake-off figures and its
labeler's `labeler stats` are the same judgement of the same labels.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from labelspec.cli import cli as main
from labelspec.demo import school_buses, streets
from tests.conftest import copy_workspace
from tests.store.conftest import set_training_policy, write_jsonl

BUS, PICKUP = "school_bus", "pickup_truck"
TRUTH = {
    "s0": [(BUS, (40.0, 118.0, 150.0, 56.0))],
    "s1": [(PICKUP, (100.0, 112.0, 84.0, 40.0))],
    "s2": [(BUS, (10.0, 118.0, 150.0, 56.0)), (PICKUP, (200.0, 72.0, 84.0, 40.0))],
    "s3": [],
    "s4": [(PICKUP, (30.0, 112.0, 84.0, 40.0))],
    "s5": [],
    "s6": [(BUS, (0.0, 118.0, 100.0, 56.0))],
    "s7": [(PICKUP, (150.0, 72.0, 84.0, 40.0)), (BUS, (60.0, 118.0, 150.0, 56.0))],
}
SCENES = [streets.Scene(f"{name}.png", boxes) for name, boxes in TRUTH.items()]


def southbound(name: str) -> list[tuple[str, tuple]]:
    """sB-01's answer: every pickup but s7's boxed as a bus, s6's bus missed, a box on s3."""
    if name == "s3":
        return [(BUS, (120.0, 110.0, 90.0, 40.0))]
    if name == "s6":
        return []
    return [(BUS if cls == PICKUP and name != "s7" else cls, box) for cls, box in TRUTH[name]]


def ls_task(task_id: int, name: str, boxes: list) -> dict:
    result = [
        {"id": f"{name}-{k}", "type": "rectanglelabels", "from_name": "label", "to_name": "image",
         "original_width": streets.WIDTH, "original_height": streets.HEIGHT,
         "value": {"x": b[0] / streets.WIDTH * 100, "y": b[1] / streets.HEIGHT * 100,
                   "width": b[2] / streets.WIDTH * 100, "height": b[3] / streets.HEIGHT * 100,
                   "rectanglelabels": [cls]}}
        for k, (cls, b) in enumerate(boxes)
    ]  # fmt: skip
    return {
        "id": task_id,
        "data": {"image": f"/data/upload/1/{name}.png"},
        "annotations": [
            {"id": task_id, "completed_by": 7, "result": result, "was_cancelled": False,
             "created_at": "2026-02-02T10:00:00Z", "lead_time": 8.0}
        ],
    }  # fmt: skip


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory, pristine) -> Path:
    base = tmp_path_factory.mktemp("buses")
    root = copy_workspace(pristine("detection"), base / "ws")

    def run(*args: str) -> str:
        here = os.getcwd()
        os.chdir(root)
        try:
            result = CliRunner().invoke(main, list(args), catch_exceptions=False)
        finally:
            os.chdir(here)
        assert result.exit_code == 0, result.output
        return result.stdout

    school_buses.write(root / "guidelines" / school_buses.NAME)
    subprocess.run(["git", "add", "guidelines"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-qm", "school-buses guideline"], cwd=root, check=True)
    run("guideline", "release", school_buses.NAME, "--tag-current")
    set_training_policy(root, "off")
    streets.write_items(root / "street-photos", SCENES, root / "street-photos" / "manifest.csv")
    run("items", "add", "streets", "street-photos/manifest.csv", "--guideline", school_buses.NAME)
    for labeler, vendor in (("nA-01", "northside"), ("wC-01", "westside"), ("sB-01", "southbound")):
        run("labeler", "add", labeler, "--vendor", vendor)
    guideline = f"{school_buses.NAME}@1.0.0"
    # northside: COCO listing all eight images; the unannotated ones are its "no objects here"
    answers = [{"item_id": s.item_id, "labeler": "nA-01", "boxes": s.objects} for s in SCENES]
    coco = streets.write_coco(answers, SCENES, base / "north.coco.json", "2026-02-02T09:00:00Z")
    run("labels", "import", "streets", str(coco), "--format", "coco", "--guideline", guideline,
        "--source", "northside", "--labeler", "nA-01", "--images-were", "all")  # fmt: skip
    # westside: JSONL, {"empty": true} for the empty streets
    rows = []
    for scene in SCENES:
        if not scene.objects:
            rows.append({"item_id": scene.item_id, "labeler": "wC-01", "empty": True})
        for cls, box in scene.objects:
            rows.append({"item_id": scene.item_id, "labeler": "wC-01", "class": cls,
                         "bbox": list(box)})  # fmt: skip
    west = write_jsonl(base / "west.jsonl", rows)
    run("labels", "import", "streets", str(west), "--format", "jsonl", "--guideline", guideline,
        "--source", "westside")  # fmt: skip
    # southbound: Label Studio; an empty result is that labeler's "no objects here"
    tasks = [
        ls_task(i, s.item_id[:-4], southbound(s.item_id[:-4])) for i, s in enumerate(SCENES, 1)
    ]
    south = base / "south.json"
    south.write_text(json.dumps(tasks))
    (base / "users.csv").write_text("7,sB-01\n")
    run("labels", "import", "streets", str(south), "--format", "labelstudio", "--guideline",
        guideline, "--source", "southbound", "--labeler-map", str(base / "users.csv"))  # fmt: skip
    golden = streets.write_golden(SCENES, base / "golden.jsonl")
    run("golden", "add", "streets", str(golden), "--format", "jsonl", "--name", "expert")
    return root


def invoke(root: Path, *args: str):
    """Run labelspec in ``root``; the result, whatever its exit code."""
    here = os.getcwd()
    os.chdir(root)
    try:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(here)


def cli(root: Path, *args: str) -> dict | list:
    result = invoke(root, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_empty_answers_are_kept_and_counted(story):
    shown = cli(story, "labels", "show", "streets")
    # 8 + 8 boxes of the careful two, 8 of southbound; empty answers: 2 + 2 + 2 (s3, s5 / s5, s6)
    assert (shown["labels"], shown["empty_answers"]) == (24, 6)
    assert shown["items"] == 8  # the empty streets are labeled items too
    assert shown["annotations"] == 24  # three labelers, eight items each
    assert shown["by_class"] == {BUS: 15, PICKUP: 9}  # southbound: 7 buses, 1 pickup


def test_the_bakeoff_counts_the_confusion_and_the_empty_streets(story):
    bake = cli(story, "qa", "bakeoff", "streets", "--golden", "expert")
    south, north = bake["sources"]["southbound"], bake["sources"]["northside"]
    # golden: 8 boxes (4 buses, 4 pickups); southbound 8 boxes, 4 hits (s0, s2's bus, s7's two)
    assert (south["correct"], south["n"]) == (4, 8)
    assert (south["precision"], south["recall"], south["f1"]) == (0.5, 0.5, 0.5)
    assert south["boxes"] == {
        "golden": 8, "labeled": 8, "hit": 4, "confused": 3, "mislocated": 0, "missed": 1,
        "extra": 1, "mislocated_iou": 0.1,
    }  # fmt: skip
    # rows golden, columns labeled: school_bus, pickup_truck, (background)
    assert south["confusion"]["matrix"] == [[3, 0, 1], [3, 1, 0], [1, 0, 0]]
    assert south["golden_empty"] == {"annotations": 2, "answered_empty": 1, "extra_boxes": 1}
    assert (north["f1"], north["golden_empty"]["answered_empty"]) == (1.0, 2)
    assert [e["source"] for e in bake["ranking"]][-1] == "southbound"


def test_gaps_name_the_pickup_bus_pair(story):
    gaps = cli(story, "qa", "gaps", "streets", "--golden", "expert")
    (pair,) = gaps["pairs"]
    assert pair["classes"] == [PICKUP, BUS]
    assert pair["golden_confusions"] == {f"{PICKUP}->{BUS}": {"southbound": {"count": 3, "of": 4}}}
    # the same three pickups, boxed as buses by sB-01 and as pickups by nA-01 and by wC-01
    assert pair["labeler_disagreements"] == 6
    assert {row["item_id"] for row in pair["disagreement_examples"]} == {
        "s1.png",
        "s2.png",
        "s4.png",
    }


def test_labeler_stats_agree_with_the_bakeoff(story):
    bake = cli(story, "qa", "bakeoff", "streets", "--golden", "expert")
    stats = {row["labeler"]: row for row in cli(story, "labeler", "stats", "streets")}
    for labeler, vendor in (("nA-01", "northside"), ("wC-01", "westside"), ("sB-01", "southbound")):
        assert stats[labeler]["golden_f1"] == bake["sources"][vendor]["f1"]
        assert stats[labeler]["golden_labels"] == bake["sources"][vendor]["n"]
    assert stats["sB-01"]["golden_boxes"]["confused"] == 3


def test_agreement_counts_confusions_and_empty_answers(story):
    boxes = cli(story, "qa", "agreement", "streets")["boxes"]
    assert boxes["confusions"] == [{"classes": [PICKUP, BUS], "objects": 6}]
    # s5: three empty answers (3 pairs agree); s3: two agree, sB-01's box disagrees with both;
    # s6: sB-01's empty answer disagrees with two boxes
    assert (boxes["both_empty"], boxes["one_empty"]) == (4, 4)


def test_dawid_skene_ranks_the_careful_labelers_above_the_sloppy_one(story):
    resolved = cli(story, "labels", "resolve", "streets", "--method", "dawid-skene")
    quality = resolved["labeler_quality"]
    assert quality["nA-01"] > quality["sB-01"] and quality["wC-01"] > quality["sB-01"]
    # the pickups sB-01 called buses resolve as pickups; the empty streets as "no objects"
    assert resolved["by_class"] == {BUS: 4, PICKUP: 4}


def test_a_changed_class_makes_empty_answers_suspect(story, tmp_path):
    """1.1.0 redefines school_bus. Suspect: its 15 boxes and the 6 empty answers (an empty
    answer says no bus is there: a changed bus definition can make it wrong), declared
    "affected"; the 9 pickups as confusable with school_bus."""
    import shutil

    root = tmp_path / "ws"
    shutil.copytree(story, root, symlinks=True)
    spec = root / "guidelines" / school_buses.NAME / "spec.yaml"
    text = spec.read_text().replace(
        "definition: A long yellow bus with", "definition: A long bus, of any colour, with"
    )
    spec.write_text(
        text + "  - version: unreleased\n    summary: School buses need not be yellow\n"
        "    affects: [school_bus]\n    relabel: required\n"
    )
    subprocess.run(["git", "commit", "-qam", "any colour"], cwd=root, check=True)
    cli(root, "guideline", "release", school_buses.NAME, "--bump", "minor")
    impact = cli(root, "trace", "impact", "streets", "--guideline", school_buses.NAME)
    assert (impact["total_labels"], impact["affected_labels"]) == (30, 30)
    assert impact["by_reason"]["affected"] == 15 + 6
    assert impact["by_reason"]["confusable"] == 9


def test_a_teammates_fresh_clone_holds_every_image(story, tmp_path):
    """The scenes were added from a CSV manifest: after `labelspec push`, a fresh clone's
    `labelspec pull` brings every image back and verifies; a clone that loses one image's
    bytes fails `verify`, which names the repair."""
    import shutil

    import pyarrow.parquet as pq

    root = tmp_path / "ws"
    shutil.copytree(story, root, symlinks=True)
    (root / ".dvc/config.local").write_text(
        (story / ".dvc/config.local").read_text().replace(str(story), str(root))
    )
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    subprocess.run(["git", "remote", "add", "origin", str(origin)], cwd=root, check=True)
    cli(root, "push")
    fresh = tmp_path / "teammate"
    subprocess.run(["git", "clone", "-q", str(origin), str(fresh)], check=True)
    (fresh / ".dvc/config.local").write_text((root / ".dvc/config.local").read_text())
    cli(fresh, "pull")
    manifests = sorted((fresh / "datasets/streets/manifests").glob("*.parquet"))
    paths = [p for m in manifests for p in pq.read_table(m).column("path").to_pylist()]
    assert len(paths) == len(SCENES)
    assert all((fresh / p).read_bytes() == (root / p).read_bytes() for p in paths)
    assert invoke(fresh, "verify").exit_code == 0
    lost = fresh / paths[0]
    md5 = hashlib.md5(lost.read_bytes()).hexdigest()
    lost.unlink()
    (fresh / ".dvc/cache/files/md5" / md5[:2] / md5[2:]).unlink()
    failed = invoke(fresh, "verify")
    assert failed.exit_code != 0
    assert "labelspec pull" in failed.output and "s0.png" in failed.output


def test_a_detector_ranks_southbounds_planted_errors_first(story, tmp_path):
    """A detector that sees every true object (score 0.95): southbound's three pickups boxed as
    buses (wrong class), the bus it missed on s6 (missing box) and its box on the empty s3
    (extra box) are the five lowest-scored issues."""
    lines = [
        {"item_id": s.item_id, "class": cls, "bbox": list(box), "score": 0.95}
        for s in SCENES
        for cls, box in s.objects
    ] + [{"item_id": s.item_id, "empty": True} for s in SCENES if not s.objects]
    predictions = write_jsonl(tmp_path / "detector.jsonl", lines)
    found = cli(story, "qa", "disagreements", "streets", "--predictions", str(predictions),
                "--top", "5")  # fmt: skip
    top = {(i["item_id"], i["kind"], i["labeler"]) for i in found["top"]}
    assert top == {
        ("s1.png", "wrong_class", "sB-01"),
        ("s2.png", "wrong_class", "sB-01"),
        ("s4.png", "wrong_class", "sB-01"),
        ("s6.png", "missing_box", "sB-01"),
        ("s3.png", "extra_box", "sB-01"),
    }
