"""`labelspec check` on answers drawn on examples and on rule scopes (``where``): one message per
mistake, at the file:line:col of the key that holds it, and the fix."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from labelspec.demo import school_buses

SPEC = f"guidelines/{school_buses.NAME}/spec.yaml"
BUS_BOX = "boxes: [{class: school_bus, x: 80, y: 118, w: 150, h: 56}]"
PICKUP_BOX = "boxes: [{class: pickup_truck, x: 120, y: 112, w: 84, h: 40}]"
BUS_WRONG = "wrong_boxes: [{class: school_bus, x: 64, y: 100, w: 190, h: 90}]"
R2_WHERE = "where: {touches_border: true}"
BUS = "classes[0].examples.positive[0]"


@pytest.fixture
def buses(make_workspace) -> Path:
    root = make_workspace("detection")
    school_buses.write(root / "guidelines" / school_buses.NAME)
    subprocess.run(["git", "add", "guidelines"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-qm", "school-buses"], cwd=root, check=True)
    return root


def check(run, root: Path, *pairs: tuple[str, str], expect: int = 1) -> dict:
    spec = root / SPEC
    text = spec.read_text()
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    spec.write_text(text)
    return json.loads(run("check", "--json", cwd=root, expect=expect).stdout)


def found(report: dict, kind: str = "errors") -> set[tuple[str, str]]:
    return {(p["path"], p["message"]) for p in report[kind]}


def test_the_school_bus_guideline_checks_clean(buses, run):
    assert check(run, buses, expect=0)["errors"] == []


def test_a_box_outside_the_picture_is_named_at_its_line(buses, run):
    report = check(run, buses, (BUS_BOX, BUS_BOX.replace("x: 80", "x: 200")))

    (problem,) = report["errors"]
    assert (problem["path"], problem["message"]) == (
        f"{BUS}.boxes[0]",
        "box [200, 118, 150, 56] (x, y, w, h) is outside the 320x200 image examples/bus.png",
    )
    lines = (buses / SPEC).read_text().splitlines()
    assert "x: 200" in lines[problem["line"] - 1]
    assert lines[problem["line"] - 1][problem["col"] - 1 :].startswith("{class: school_bus")


@pytest.mark.parametrize(
    ("x", "inside"), [("170.5", True), ("170.6", False), ("-0.5", True), ("-0.6", False)]
)
def test_half_a_pixel_past_the_edge_is_inside_as_for_imports(buses, run, x, inside):
    report = check(
        run, buses, (BUS_BOX, BUS_BOX.replace("x: 80", f"x: {x}")), expect=0 if inside else 1
    )
    assert (report["errors"] == []) is inside


def test_each_drawing_mistake_has_its_message(buses, run):
    counter = (
        "      counter:\n"
        "        - image: examples/pickup.png\n"
        "          label: pickup_truck\n"
        "          why: A pickup.\n"
        "          boxes: [{class: school_bus, x: 120, y: 112, w: 84, h: 40}]\n"
    )
    report = check(
        run,
        buses,
        (BUS_BOX, "boxes: [{class: bus, x: 80, y: 118, w: 150, h: 56, attributes: {colour: red}}]"),
        (
            BUS_WRONG,
            "wrong_boxes: [{class: school_bus, x: 64, y: 100, w: 5, h: 5}]",
        ),  # small is fine
        (
            PICKUP_BOX,
            "boxes: [{class: pickup_truck, x: 120, y: 112, w: 10, h: 40, attributes: {occluded: yes}}]",
        ),
        ("      borderline:\n", counter + "      borderline:\n"),
    )

    assert found(report) == {
        (f"{BUS}.boxes[0].class", "box class 'bus' is not a class id (known: school_bus, pickup_truck)"),
        (f"{BUS}.boxes", "the answer must box the 'school_bus' the example is about"),
        ("classes[1].examples.positive[0].boxes[0]",
         "box is 10x40 px, smaller than the 12 px minimum for pickup_truck (a labeler could not submit it)"),
        ("classes[1].examples.positive[0].boxes[0].attributes.occluded",
         "attribute 'occluded' is true or false, not 'yes'"),
        ("classes[0].examples.counter[0].boxes",
         "a counterexample of 'school_bus' boxes no 'school_bus' in its answer (draw that box under `wrong_boxes`)"),
        ("classes[0].examples.counter[0].boxes", "the answer must box the 'pickup_truck' the example is about"),
    }  # fmt: skip


def test_a_box_drawn_both_right_and_wrong_is_refused(buses, run):
    report = check(
        run,
        buses,
        (
            BUS_WRONG,
            BUS_WRONG.replace("x: 64, y: 100, w: 190, h: 90", "x: 80, y: 118, w: 150, h: 56"),
        ),
    )
    assert found(report) == {
        (f"{BUS}.wrong_boxes[0]", "this box is drawn as right (in `boxes`) and as wrong")
    }


def test_an_unknown_attribute_on_a_drawn_box_names_the_allowed_ones(buses, run):
    report = check(
        run, buses, (BUS_BOX, BUS_BOX.replace("h: 56}", "h: 56, attributes: {colour: red}}"))
    )
    assert found(report) == {
        (
            f"{BUS}.boxes[0].attributes.colour",
            "unknown attribute 'colour' for class 'school_bus' (allowed: occluded)",
        )
    }


def test_boxes_need_a_detection_guideline(workspace, run):
    spec = workspace / "guidelines/digits/spec.yaml"
    text = spec.read_text()
    typical = '{image: examples/zero_typical_1.png, why: "A clean closed oval."}'
    assert typical in text
    spec.write_text(
        text.replace(typical, typical[:-1] + ", boxes: [{class: zero, x: 0, y: 0, w: 4, h: 4}]}")
    )

    report = json.loads(run("check", "--json", cwd=workspace, expect=1).stdout)

    assert found(report) == {
        (
            "classes[0].examples.positive[0].boxes",
            "boxes are drawn on detection examples; this is a classification guideline",
        )
    }


@pytest.mark.parametrize(
    ("where", "path", "message"),
    [
        ("where: {}", "rules[1].where", "`where` needs at least one condition (or leave it out)"),
        ("where: {area_px: {min: 900, max: 400}}", "rules[1].where.area_px", "`min` 900 is above `max` 400"),
        ("where: {relative_area: {max: 1.5}}", "rules[1].where",
         "relative_area (box area over image area) must be between 0 and 1, got 1.5"),
        ("where: {aspect_ratio: {}}", "rules[1].where.aspect_ratio", "a range needs `min`, `max` or both"),
        ("where: {attributes: {colour: red}}", "rules[1].where.attributes.colour",
         "no class the rule applies to (school_bus) has an attribute 'colour'"),
        ("where: {attributes: {occluded: yes}}", "rules[1].where.attributes.occluded",
         "attribute 'occluded' is true or false, not 'yes'"),
        ("where: {span_chars: {min: 3}}", "rules[1].where.span_chars",
         "span_chars selects spans; this is a detection guideline"),
        ("where: {touches_border: true}\n    min_box_px: 20", "rules[1]",
         "a rule with `where` cannot set min_box_px or min_span_chars (thresholds hold for whole "
         "classes): put the threshold in a rule without `where`"),
        ("where: {touches: true}", "rules[1].where.touches", "unknown key 'touches' (did you mean 'touches_border'?)"),
    ],
)  # fmt: skip
def test_each_scope_mistake_has_its_message(buses, run, where, path, message):
    report = check(run, buses, (R2_WHERE, where))
    assert found(report) == {(path, message)}


def test_box_geometry_needs_a_detection_guideline(workspace, run):
    spec = workspace / "guidelines/digits/spec.yaml"
    text = spec.read_text()
    rule = "    text: Label the digit the writer intended, not the closest shape.\n"
    spec.write_text(
        text.replace(rule, rule + "    where: {touches_border: true, items: {split: test}}\n")
    )

    report = json.loads(run("check", "--json", cwd=workspace, expect=1).stdout)

    assert found(report) == {
        (
            "rules[0].where.touches_border",
            "touches_border selects boxes; this is a classification guideline",
        )
    }


def test_an_attribute_only_some_classes_have_is_a_warning(workspace, run):
    spec = workspace / "guidelines/digits/spec.yaml"
    text = spec.read_text()
    rule = "    text: Label the digit the writer intended, not the closest shape.\n"
    spec.write_text(
        text.replace(
            rule, rule + "    applies_to: [one, two]\n    where: {attributes: {legible: false}}\n"
        )
    )

    report = json.loads(run("check", "--json", cwd=workspace).stdout)

    assert ("rules[0].where.attributes.legible",
            "two has no attribute 'legible': the rule never selects its labels") in found(report, "warnings")  # fmt: skip
