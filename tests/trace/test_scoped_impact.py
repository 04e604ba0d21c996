"""A rule with a scope (``where``) makes suspect only the labels it can change: the cut-off-bus
story of issue 21, counted by hand.

School-buses 1.0.0 (``labelspec.demo.school_buses``): R2 "a bus cut by the image border is
boxed up to the border" applies to school_bus, ``where: {touches_border: true}``; school_bus and
pickup_truck are confusable. Nine street scenes (320 x 200):

    scene city   truth                                      touches the border?
    c0    lagos  bus (40, 118, 150, 56)                     no
    c1    lagos  bus (0, 118, 80, 56)                       yes (left)
    c2    lima   pickup (236, 112, 84, 40)                  yes (right: 236 + 84 = 320)
    c3    lima   pickup (100, 112, 84, 40)                  no
    c4    lagos  bus (10, 118, 150, 56), pickup (200, 72, 84, 40)     no, no
    c5    lima   nothing                                    -
    c6    lagos  bus (200, 118, 120, 56), pickup (20, 60, 84, 40)     yes (right), no
    c7    lima   bus (60, 144, 150, 56)                     yes (bottom: 144 + 56 = 200)
    c8    lagos  nothing                                    -

nA-01 (northside) boxes the truth; sB-01 (southbound) boxes every pickup as a bus. Both answer
c5 and c8 "no objects here". Only c6's pickup is marked occluded (by both). 22 labels: 11 each,
of them 2 empty answers each. Both labelers are trained on 1.0.0 before labeling.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from pathlib import Path

import pytest

from labelspec.demo import school_buses, streets
from tests.conftest import copy_workspace
from tests.store.conftest import write_jsonl

BUS, PICKUP = "school_bus", "pickup_truck"
SCENES = {
    "c0": ("lagos", [(BUS, (40.0, 118.0, 150.0, 56.0))]),
    "c1": ("lagos", [(BUS, (0.0, 118.0, 80.0, 56.0))]),
    "c2": ("lima", [(PICKUP, (236.0, 112.0, 84.0, 40.0))]),
    "c3": ("lima", [(PICKUP, (100.0, 112.0, 84.0, 40.0))]),
    "c4": ("lagos", [(BUS, (10.0, 118.0, 150.0, 56.0)), (PICKUP, (200.0, 72.0, 84.0, 40.0))]),
    "c5": ("lima", []),
    "c6": ("lagos", [(BUS, (200.0, 118.0, 120.0, 56.0)), (PICKUP, (20.0, 60.0, 84.0, 40.0))]),
    "c7": ("lima", [(BUS, (60.0, 144.0, 150.0, 56.0))]),
    "c8": ("lagos", []),
}
SPEC = f"guidelines/{school_buses.NAME}/spec.yaml"
R2_OLD = "text: A bus cut by the image border is boxed up to the border."
R2_NEW = "text: A bus cut by the image border is boxed only when a third of it is visible."
PICKUP_OLD = "definition: A short truck with a cab and an open bed behind it, of any colour."
PICKUP_NEW = "definition: A short truck with a cab and an open bed behind it, yellow or not."


def rows(labeler: str) -> list[dict]:
    out = []
    for name, (_city, boxes) in SCENES.items():
        item = f"{name}.png"
        if not boxes:
            out.append({"item_id": item, "labeler": labeler, "empty": True})
        for cls, box in boxes:
            given = BUS if labeler == "sB-01" else cls
            row = {"item_id": item, "labeler": labeler, "class": given, "bbox": list(box)}
            if name == "c6" and cls == PICKUP:
                row["attributes"] = {"occluded": True}
            out.append(row)
    return [{**r, "created_at": "2026-02-02T10:00:00Z"} for r in out]


def cli(root: Path, run, *args: str, expect: int = 0):
    result = run(*args, cwd=root, expect=expect)
    return json.loads(result.stdout) if "--json" in args and expect == 0 else result


@pytest.fixture(scope="module")
def labeled(tmp_path_factory, pristine) -> Path:
    from labelspec.guideline.release import tag_current
    from labelspec.labelers.roster import add_labeler
    from labelspec.labelers.training import record_training
    from labelspec.labels.ingest import import_labels
    from labelspec.store.items import add_items
    from labelspec.workspace import Workspace

    base = tmp_path_factory.mktemp("cut-off-bus")
    root = copy_workspace(pristine("detection"), base / "ws")
    ws = Workspace(root)
    school_buses.write(root / "guidelines" / school_buses.NAME)
    subprocess.run(["git", "add", "guidelines"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-qm", "school-buses"], cwd=root, check=True)
    tag_current(ws, school_buses.NAME)
    scenes = [streets.Scene(f"{n}.png", boxes, city=city) for n, (city, boxes) in SCENES.items()]
    folder = root / "street-photos"
    streets.write_items(folder, scenes, folder / "manifest.csv")
    add_items(ws, "streets", folder / "manifest.csv", guideline=school_buses.NAME)
    for labeler, vendor in (("nA-01", "northside"), ("sB-01", "southbound")):
        add_labeler(ws, labeler, vendor)
        record_training(
            ws, labeler, school_buses.NAME, "1.0.0", "session", 0.9, True, dt.date(2026, 1, 20)
        )
        path = write_jsonl(base / f"{labeler}.jsonl", rows(labeler))
        import_labels(ws, "streets", path, "jsonl", f"{school_buses.NAME}@1.0.0", vendor)
    return root


@pytest.fixture
def streets_ws(labeled: Path, tmp_path: Path) -> Path:
    return copy_workspace(labeled, tmp_path / "ws")


def release(root: Path, run, summary: str, *pairs: tuple[str, str], affects: str = "[]") -> None:
    spec = root / SPEC
    text = spec.read_text()
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    spec.write_text(
        text + f"  - version: unreleased\n    summary: {summary}\n    affects: {affects}\n"
        "    relabel: required\n"
    )
    subprocess.run(["git", "commit", "-qam", summary], cwd=root, check=True)
    run("guideline", "release", school_buses.NAME, "--bump", "minor", cwd=root)


def impact(root: Path, run, *args: str) -> dict:
    return cli(
        root, run, "trace", "impact", "streets", "--guideline", school_buses.NAME, *args, "--json"
    )


def suspects(root: Path) -> dict[tuple[str, str], tuple[str, str, str | None]]:
    """(item, labeler) -> (class, kind, scope) of every suspect label, boxes told apart by x."""
    from labelspec.lineage.trace import find_suspects
    from labelspec.workspace import Workspace

    found = find_suspects(Workspace(root), "streets", school_buses.NAME)
    listed = found.con.sql(
        """select s.item_id, s.labeler_id, l."class", l.bbox.x, s.kind, sc.scope
           from suspect s join labels l using (label_id)
           left join suspect_scope sc using (label_id) order by all"""
    ).fetchall()
    return {(item[:-4], who, x): (cls, kind, scope) for item, who, cls, x, kind, scope in listed}


def test_a_change_to_the_cut_off_bus_rule_makes_suspect_only_the_boxes_at_the_border(
    streets_ws, run
):
    """R2 reworded. Hand count: the buses touching the border, nA-01's c1, c6 and c7 and
    sB-01's c1, c2 (its pickup boxed as a bus), c6 and c7: 7 affected; the pickups touching it,
    confusable with school_bus within R2's scope: nA-01's c2, 1; the four empty answers (a
    cut-off bus may be what they missed): affected. 12 of 22, not 22 of 22."""
    release(streets_ws, run, "A third of a bus", (R2_OLD, R2_NEW))

    found = impact(streets_ws, run)

    assert (found["total_labels"], found["affected_labels"]) == (22, 12)
    assert found["by_reason"] == {"affected": 7 + 4, "confusable": 1, "untrained": 0}
    assert found["affected_items"] == 6  # c1, c2, c5, c6, c7, c8
    assert found["affected_classes"] == {"1.0.0": [PICKUP, BUS]}
    where = {"rule": "R2", "where": {"touches_border": True}}
    assert found["scopes"] == {"1.0.0": {BUS: [where], PICKUP: [where]}}
    listed = suspects(streets_ws)
    assert listed[("c2", "nA-01", 236.0)] == (PICKUP, "confusable", "R2")
    assert listed[("c2", "sB-01", 236.0)] == (BUS, "affected", "R2")
    assert listed[("c8", "nA-01", None)] == (None, "affected", "R2")
    assert ("c0", "nA-01", 40.0) not in listed and ("c6", "nA-01", 20.0) not in listed


def test_a_class_level_change_in_the_same_release_wins_for_its_class(streets_ws, run):
    """R2 reworded and the pickup redefined in one release: every pickup label is affected
    (nA-01's 4), every bus confusable with it (7 away from the border) unless R2 affects it
    (7 at the border); the 4 empty answers affected: 22 of 22."""
    release(
        streets_ws, run, "Pickups and cut-off buses", (R2_OLD, R2_NEW), (PICKUP_OLD, PICKUP_NEW)
    )

    found = impact(streets_ws, run)

    assert found["by_reason"] == {"affected": 4 + 7 + 4, "confusable": 7, "untrained": 0}
    assert found["affected_labels"] == 22
    assert found["scopes"] == {}  # each class is suspect as a whole, one way or the other


def test_scopes_of_two_release_steps_are_united(streets_ws, run):
    """1.1.0 rewords R2; 1.2.0 adds R9 for occluded pickups. Labels under 1.0.0 judged against
    1.2.0: R2's 7 buses and R9's occluded pickup (nA-01's c6) affected, with the 4 empty
    answers; confusable: nA-01's c2 pickup at the border (R2) and sB-01's occluded c6 "bus"
    (R9): 14. Judged against 1.1.0 only R2 counts: 12."""
    release(streets_ws, run, "A third of a bus", (R2_OLD, R2_NEW))
    rule = (
        "\n  - id: R9\n    text: Box an occluded pickup up to where it disappears.\n"
        "    applies_to: [pickup_truck]\n    where: {attributes: {occluded: true}}\n"
    )
    release(streets_ws, run, "Occluded pickups", ("\n\nclasses:", f"{rule}\nclasses:"))

    found = impact(streets_ws, run)

    assert found["by_reason"] == {"affected": 7 + 1 + 4, "confusable": 2, "untrained": 0}
    assert impact(streets_ws, run, "--to", "1.1.0")["affected_labels"] == 12
    listed = suspects(streets_ws)
    assert listed[("c6", "sB-01", 20.0)] == (BUS, "confusable", "R9")
    assert listed[("c6", "nA-01", 20.0)] == (PICKUP, "affected", "R9")


def test_an_item_scope_leaves_empty_answers_elsewhere_alone(streets_ws, run):
    """A new rule for every class in Lima (no applies_to, a `where` on the city column): the
    labels on c2, c3, c5 and c7, 4 each, the empty answers on c5 included; those on c8, in
    Lagos, are not suspect."""
    rule = (
        "\n  - id: R10\n    text: In Lima, minibuses painted yellow are not school buses.\n"
        "    where: {items: {city: lima}}\n"
    )
    release(streets_ws, run, "Lima", ("\n\nclasses:", f"{rule}\nclasses:"))

    found = impact(streets_ws, run, "--by", "city")

    assert found["by_reason"] == {"affected": 8, "confusable": 0, "untrained": 0}
    assert {s["key"]["city"] for s in found["segments"]} == {"lima"}
    assert ("c8", "nA-01", None) not in suspects(streets_ws)


def test_the_review_and_the_relabel_plan_count_the_same_scope(streets_ws, run, tmp_path):
    """Before the release, `guideline review` previews the same 12 labels; after it, `relabel
    plan` plans their 6 items and nothing else."""
    spec = streets_ws / SPEC
    spec.write_text(
        spec.read_text().replace(R2_OLD, R2_NEW)
        + "  - version: unreleased\n    summary: A third of a bus\n    affects: []\n"
        "    relabel: required\n"
    )
    review = cli(streets_ws, run, "guideline", "review", school_buses.NAME, "--json")
    (dataset,) = review["impacts"]
    assert (dataset["impact"]["affected_labels"], dataset["impact"]["total_labels"]) == (12, 22)
    subprocess.run(["git", "commit", "-qam", "a third"], cwd=streets_ws, check=True)
    run("guideline", "release", school_buses.NAME, "--bump", "minor", cwd=streets_ws)

    out = tmp_path / "plan"
    run(
        "relabel",
        "plan",
        "streets",
        "--guideline",
        school_buses.NAME,
        "--out",
        str(out),
        cwd=streets_ws,
    )

    plan = json.loads((out / "plan.json").read_text())
    assert sorted(i["item_id"] for i in plan["items"]) == [f"c{n}.png" for n in (1, 2, 5, 6, 7, 8)]


def test_resolution_flags_the_items_within_the_scope(streets_ws, run):
    release(streets_ws, run, "A third of a bus", (R2_OLD, R2_NEW))
    from labelspec.resolve.resolution import resolve
    from labelspec.workspace import Workspace

    resolved = resolve(Workspace(streets_ws), "streets", "majority")

    flagged = {row["item_id"] for row in resolved.table.to_pylist() if row["suspect"]}
    assert flagged == {f"c{n}.png" for n in (1, 2, 5, 6, 7, 8)}


def test_the_example_pictures_match_the_scenes_they_are_drawn_from():
    from labelspec.guideline.spec import Spec
    from labelspec.yamlio import fast_load

    spec = Spec.model_validate(fast_load(school_buses.SPEC, "spec.yaml"))
    drawn = {
        ex.image.removeprefix("examples/"): [(b.class_id, (b.x, b.y, b.w, b.h)) for b in ex.boxes]
        for cls in spec.classes
        for _k, _i, ex in cls.examples.all()
    }
    assert drawn == {name: scene.objects for name, scene in school_buses.EXAMPLES.items()}


def test_the_border_tolerance_is_the_import_tolerance():
    from labelspec.guideline.scope import BORDER_TOLERANCE_PX
    from labelspec.labels.checks import BOX_TOLERANCE_PX

    assert BORDER_TOLERANCE_PX == BOX_TOLERANCE_PX


def test_check_names_an_item_column_no_dataset_has(streets_ws, run):
    spec = streets_ws / SPEC
    where = "where: {touches_border: true}"
    spec.write_text(
        spec.read_text().replace(where, "where: {touches_border: true, items: {cty: lima}}")
    )

    report = json.loads(run("check", "--json", cwd=streets_ws, expect=1).stdout)

    (problem,) = [p for p in report["errors"] if p["path"].startswith("rules")]
    assert problem["path"] == "rules[1].where.items.cty"
    assert problem["message"].startswith("no item column 'cty' in streets (did you mean 'city'? ")


def test_declaring_a_class_a_scoped_rule_changes_is_a_warning(streets_ws, run):
    """Listed in `affects`, school_bus would be suspect as a whole (22 of 22 labels): check says
    so before the release."""
    spec = streets_ws / SPEC
    spec.write_text(
        spec.read_text().replace(R2_OLD, R2_NEW)
        + "  - version: unreleased\n    summary: A third of a bus\n    affects: [school_bus]\n"
        "    relabel: required\n"
    )

    report = cli(streets_ws, run, "check", "--json")

    assert {(w["path"], w["message"]) for w in report["warnings"]} >= {
        (
            "changelog[1].affects[0]",
            "'school_bus' changes here only where rule R2 applies (its `where`): declared, every "
            "school_bus label becomes suspect; leave it out to judge only the labels the rule selects",
        )
    }
    preview = impact(streets_ws, run, "--preview")
    assert preview["affected_labels"] == 22  # the declaration wins


def test_labelers_trained_before_a_scoped_change_are_sent_back_to_training(streets_ws, run):
    release(streets_ws, run, "A third of a bus", (R2_OLD, R2_NEW))

    rows = cli(streets_ws, run, "labeler", "status", "--guideline", school_buses.NAME, "--json")

    assert {r["labeler"]: (r["action"], r["changed_since"], r["changed_within"]) for r in rows} == {
        "nA-01": ("retrain", [BUS], {BUS: ["R2"]}),
        "sB-01": ("retrain", [BUS], {BUS: ["R2"]}),
    }


def test_trace_labeler_counts_empty_answers_apart_from_labels(streets_ws, run):
    """nA-01 boxed 9 objects (c0-c3, c7 one each, c4 and c6 two each) and said "no objects" on
    c5 and c8: 9 labels and 2 empty answers on 9 items, as `labels show` counts them."""
    traced = cli(streets_ws, run, "trace", "labeler", "streets", "nA-01", "--json")
    human = cli(streets_ws, run, "trace", "labeler", "streets", "nA-01").stdout

    assert traced["covered"] == {"labels": 9, "empty": 2, "items": 9}
    assert traced["uncovered"] == {"labels": 0, "empty": 0, "items": 0}
    assert human.splitlines()[0] == (
        "nA-01 in streets: 9 labels covered by training, 0 not covered; "
        "2 empty answer(s) (no objects)"
    )
    shown = cli(streets_ws, run, "labels", "show", "streets", "--json")
    assert shown["by_labeler"]["nA-01"] == 9
    # `labels log` too: each labeler's batch of 11 rows is 9 labels and 2 empty answers
    logged = cli(streets_ws, run, "labels", "log", "streets", "--json")
    assert [(b["source"], b["labels"], b["empty"]) for b in logged] == [
        ("southbound", 9, 2),
        ("northside", 9, 2),
    ]


def test_labels_log_reads_empty_answers_from_a_batch_footer_when_its_record_lacks_them(
    streets_ws, run
):
    """Batches recorded before their empty answers were: counted from the file's footer (2 of
    11 rows without a class); a batch not pulled says it does not know (None): at most its rows."""
    records = sorted((streets_ws / "datasets/streets/labels").glob("*.parquet.dvc"))
    for record in records:
        text = record.read_text()
        assert '"empty": 2, ' in text  # the record's meta, one JSON object
        record.write_text(text.replace('"empty": 2, ', ""))
    subprocess.run(
        ["git", "commit", "-qam", "records of an older labelspec"], cwd=streets_ws, check=True
    )
    assert [(b["labels"], b["empty"]) for b in cli(streets_ws, run, "labels", "log", "streets", "--json")] == [(9, 2), (9, 2)]  # fmt: skip

    # the older batch's file, neither here nor in the cache: as in a clone not pulled
    md5 = re.search(r"md5: ([0-9a-f]{32})", records[0].read_text()).group(1)
    (streets_ws / ".dvc/cache/files/md5" / md5[:2] / md5[2:]).unlink()
    records[0].with_suffix("").unlink()
    logged = cli(streets_ws, run, "labels", "log", "streets", "--json")
    assert [(b["rows"], b["labels"], b["empty"]) for b in logged] == [(11, 9, 2), (11, None, None)]
    assert "│ <=11   │ ?     │" in cli(streets_ws, run, "labels", "log", "streets").stdout
