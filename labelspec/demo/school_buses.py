"""The detection story's guideline: school buses in street scenes, yellow pickups as the
counterexample. What a guideline author would write in ``guidelines/school-buses/``."""

from __future__ import annotations

from pathlib import Path

from labelspec.demo.streets import Scene, draw

NAME = "school-buses"
SPEC = """\
# School buses for a detector. The vendor's labelers have never seen one: the pictures and the
# counterexample matter more than the words.
guideline: school-buses
title: School buses in street scenes
version: 1.0.0
owners: [ml-team]
task: detection
description: Draw one tight box around every school bus and every yellow pickup in the street.

rules:
  - id: R1
    text: Draw the tightest box around the whole vehicle, wheels included.
    min_box_px: 12
  - id: R2
    text: A bus cut by the image border is boxed up to the border.
    applies_to: [school_bus]
    where: {touches_border: true}   # the labels this rule can change: a change to it is
                                    # judged on the boxes at the border, not every bus

classes:
  - id: school_bus
    name: School bus
    definition: A long yellow bus with a row of passenger windows, a black stripe along its side and a red stop arm.
    confusable_with: [pickup_truck]
    include: [Buses cut by the image border]
    exclude: [Yellow pickups, yellow taxis]
    attributes:
      - {id: occluded, type: boolean, required: false}
    examples:
      positive:
        - image: examples/bus.png
          why: "Long, yellow, a row of windows and a black stripe: one tight box, wheels included."
          boxes: [{class: school_bus, x: 80, y: 118, w: 150, h: 56}]
          wrong_boxes: [{class: school_bus, x: 64, y: 100, w: 190, h: 90}]   # too loose (R1)
      borderline:
        - image: examples/bus_cut.png
          decision: school_bus
          rule: R2
          why: "Cut by the border: still a bus, boxed up to the border."
          boxes: [{class: school_bus, x: 0, y: 118, w: 80, h: 56}]
          wrong_boxes: [{class: school_bus, x: 14, y: 118, w: 66, h: 56}]   # stops short of the border

  - id: pickup_truck
    name: Pickup truck
    definition: A short truck with a cab and an open bed behind it, of any colour.
    confusable_with: [school_bus]
    attributes:
      - {id: occluded, type: boolean, required: false}
    examples:
      positive:
        - image: examples/pickup.png
          why: "A cab and an open bed: a pickup, even when yellow."
          boxes: [{class: pickup_truck, x: 120, y: 112, w: 84, h: 40}]
          wrong_boxes: [{class: school_bus, x: 120, y: 112, w: 84, h: 40}]   # yellow, but no bus

changelog:
  - version: 1.0.0
    date: 2026-01-15
    summary: First release
    affects: []
    relabel: none
"""

DOCS = """\
# School buses

Box every **school bus** and every **yellow pickup** in the street. A school bus is long, with a
row of passenger windows and a black stripe; a pickup is short, with a cab and an open bed.
When there is nothing to box, submit the image empty: that is an answer too ("no objects here").
"""

# The scenes the example pictures are drawn from; the boxes in SPEC are their ``objects``.
EXAMPLES = {
    "bus.png": Scene("ex-000.png", [("school_bus", (80.0, 118.0, 150.0, 56.0))]),
    "bus_cut.png": Scene("ex-001.png", [("school_bus", (-70.0, 118.0, 150.0, 56.0))]),
    "pickup.png": Scene("ex-002.png", [("pickup_truck", (120.0, 112.0, 84.0, 40.0))]),
}


def write(folder: Path) -> Path:
    """The guideline folder: spec.yaml, docs/index.md and the drawn examples."""
    (folder / "examples").mkdir(parents=True, exist_ok=True)
    (folder / "docs").mkdir(exist_ok=True)
    (folder / "spec.yaml").write_text(SPEC)
    (folder / "docs" / "index.md").write_text(DOCS)
    for name, scene in EXAMPLES.items():
        draw(scene).save(folder / "examples" / name, format="PNG", optimize=True)
    return folder
