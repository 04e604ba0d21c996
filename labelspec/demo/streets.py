"""Street scenes for the detection story: school buses and, as counterexamples, yellow pickups.

Drawn on the fly (no downloads) and the same every run: a 320 x 200 street with a long yellow
school bus (a row of windows, a black stripe, a stop arm) and / or a short yellow pickup (a cab
and an open bed), some scenes with a bus cut by the image border, some with nothing to box.
``Scene.objects`` is the truth the simulated vendors, experts and detector start from.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

WIDTH, HEIGHT = 320, 200
CLASSES = ("school_bus", "pickup_truck")
BUS = (150, 56)  # box width, height in pixels
PICKUP = (84, 40)
YELLOW = (244, 190, 22)


@dataclass
class Scene:
    item_id: str
    # each vehicle's whole box, which may reach past the image border
    vehicles: list[tuple[str, tuple[float, float, float, float]]] = field(default_factory=list)
    split: str = "train"
    city: str = ""

    @property
    def objects(self) -> list[tuple[str, tuple[float, float, float, float]]]:
        """The true boxes: each vehicle's part inside the image."""
        return [(kind, _clip(box)) for kind, box in self.vehicles]


def scenes(count: int = 40, seed: int = 0) -> list[Scene]:
    """``count`` scenes: every tenth has nothing to box, every seventh a bus cut by the border;
    the rest hold a bus, a pickup, or one of each on the two lanes."""
    rng = np.random.default_rng(seed)
    cities = ("lagos", "lima", "manila", "nairobi")
    out = []
    for index in range(count):
        scene = Scene(
            f"street-{index:03d}.png",
            split="val" if index % 5 == 4 else "train",
            city=cities[index % len(cities)],
        )
        if index % 10 == 9:
            out.append(scene)  # an empty street: "no objects here"
            continue
        kinds = ["school_bus", "pickup_truck", "both"][int(rng.integers(0, 3))]
        lanes = [118.0, 60.0]
        if kinds in ("school_bus", "both"):
            y = lanes.pop(0)
            if index % 7 == 3:  # cut by the left border: a third to two thirds visible
                x = -float(rng.integers(40, 90))
            else:
                x = float(rng.integers(8, WIDTH - BUS[0] - 8))
            scene.vehicles.append(("school_bus", (x, y, *BUS)))
        if kinds in ("pickup_truck", "both"):
            y = lanes.pop(0) + 12
            x = float(rng.integers(8, WIDTH - PICKUP[0] - 8))
            scene.vehicles.append(("pickup_truck", (x, y, *PICKUP)))
        out.append(scene)
    return out


def _clip(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    x, y, w, h = box
    x0, y0 = max(x, 0.0), max(y, 0.0)
    x1, y1 = min(x + w, WIDTH), min(y + h, HEIGHT)
    return (x0, y0, x1 - x0, y1 - y0)


def draw(scene: Scene, seed: int = 0):
    """The scene as an RGB image (Pillow)."""

    # the buildings behind the street differ per scene, the same on every run
    rng = np.random.default_rng([seed, *scene.item_id.encode()])
    image = Image.new("RGB", (WIDTH, HEIGHT), (168, 200, 232))
    pen = ImageDraw.Draw(image)
    for x in range(0, WIDTH, 46):  # buildings behind the street
        top = int(rng.integers(12, 50))
        shade = int(rng.integers(110, 170))
        pen.rectangle((x, top, x + 40, 100), fill=(shade, shade - 10, shade - 20))
    pen.rectangle((0, 100, WIDTH, HEIGHT), fill=(92, 92, 96))
    pen.line((0, 150, WIDTH, 150), fill=(235, 235, 235), width=2)
    for kind, box in scene.vehicles:
        (_bus if kind == "school_bus" else _pickup)(pen, box)
    return image


def _bus(pen, box) -> None:
    x, y, w, h = box
    pen.rectangle((x, y, x + w, y + h - 8), fill=YELLOW, outline=(40, 40, 40))
    pen.rectangle((x, y + 30, x + w, y + 34), fill=(20, 20, 20))  # the black stripe
    for wx in range(int(x) + 10, int(x + w) - 14, 16):
        pen.rectangle((wx, y + 8, wx + 11, y + 22), fill=(70, 90, 110))
    pen.rectangle((x + w - 6, y + 20, x + w + 2, y + 28), fill=(200, 20, 20))  # the stop arm
    for wx in (x + 22, x + w - 30):
        pen.ellipse((wx, y + h - 16, wx + 16, y + h), fill=(20, 20, 20))


def _pickup(pen, box) -> None:
    x, y, w, h = box
    pen.rectangle((x, y + 14, x + w, y + h - 8), fill=YELLOW, outline=(40, 40, 40))  # the bed
    pen.rectangle((x + w * 0.55, y, x + w, y + h - 8), fill=YELLOW, outline=(40, 40, 40))
    pen.rectangle((x + w * 0.62, y + 4, x + w - 6, y + 14), fill=(70, 90, 110))
    for wx in (x + 8, x + w - 22):
        pen.ellipse((wx, y + h - 14, wx + 14, y + h), fill=(20, 20, 20))


def write_items(folder: Path, found: list[Scene], manifest: Path) -> Path:
    """The scenes as PNGs in ``folder`` and a CSV manifest (item_id, path relative to the
    manifest, split, city) for ``labelspec items add``."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with manifest.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["item_id", "path", "split", "city"])
        for scene in found:
            path = folder / scene.item_id
            draw(scene).save(path, format="PNG", optimize=True)
            rel = Path(_relative(path, manifest.parent))
            out.writerow([scene.item_id, rel.as_posix(), scene.split, scene.city])
    return manifest


def _relative(path: Path, start: Path) -> str:

    return os.path.relpath(path, start)


@dataclass(frozen=True)
class Crew:
    """A vendor's labelers and habits: how often a pickup becomes a school bus (the vendor's
    country has no school buses), how often an object is missed, how often a box lands on an
    empty street, and how far boxes wander."""

    name: str
    labelers: tuple[str, ...]
    pickup_as_bus: float
    miss: float
    extra_on_empty: float
    jitter_px: float
    lead_time_s: float
    cost: float


CREWS = (
    Crew("northside", ("nA-01", "nA-02"), 0.0, 0.03, 0.0, 1.5, 14.0, 0.09),
    Crew("southbound", ("sB-01", "sB-02"), 0.85, 0.10, 0.5, 3.0, 8.0, 0.05),
)
# northside's pilot, boxed before the team kept any training record (one labeler per scene)
PILOT = Crew("northside", ("nP-01", "nP-02"), 0.0, 0.05, 0.0, 2.0, 15.0, 0.09)


def crew_labels(crew: Crew, found: list[Scene], seed: int) -> list[dict]:
    """What each of the crew's labelers answers on every scene: boxes, or an explicit empty
    answer. Every scene is labeled by both of the crew's labelers (agreement needs pairs)."""
    rng = np.random.default_rng(seed)
    answers = []
    for scene in found:
        for labeler in crew.labelers:
            boxes = []
            for kind, box in scene.objects:
                if rng.random() < crew.miss:
                    continue
                cls = kind
                if kind == "pickup_truck" and rng.random() < crew.pickup_as_bus:
                    cls = "school_bus"
                boxes.append((cls, _jitter(box, crew.jitter_px, rng)))
            if not scene.objects and rng.random() < crew.extra_on_empty:
                boxes.append(("school_bus", (float(rng.integers(20, 160)), 110.0, 90.0, 40.0)))
            answers.append({"item_id": scene.item_id, "labeler": labeler, "boxes": boxes})
    return answers


def _jitter(box, px: float, rng) -> tuple[float, float, float, float]:
    x, y, w, h = box
    dx, dy, dw, dh = rng.normal(0, px, 4)
    x0, y0 = max(0.0, x + dx), max(0.0, y + dy)
    x1, y1 = min(float(WIDTH), x + w + dx + dw), min(float(HEIGHT), y + h + dy + dh)
    return (round(x0, 1), round(y0, 1), round(x1 - x0, 1), round(y1 - y0, 1))


def write_yolo(answers: list[dict], folder: Path) -> tuple[Path, Path]:
    """A YOLO export as Label Studio downloads it without images (``classes.txt`` and one
    ``labels/<scene>.txt`` per answer, an empty file for "no objects here"), and the vendor's
    timesheet naming who boxed each scene: YOLO files carry no annotator."""
    labels = folder / "labels"
    labels.mkdir(parents=True, exist_ok=True)
    (folder / "classes.txt").write_text("".join(f"{c}\n" for c in CLASSES))
    timesheet = folder / "timesheet.csv"
    with timesheet.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["item", "labeler"])
        for answer in answers:
            lines = [
                f"{CLASSES.index(cls)} {(x + w / 2) / WIDTH:.6f} {(y + h / 2) / HEIGHT:.6f} "
                f"{w / WIDTH:.6f} {h / HEIGHT:.6f}\n"
                for cls, (x, y, w, h) in answer["boxes"]
            ]
            (labels / f"{Path(answer['item_id']).stem}.txt").write_text("".join(lines))
            out.writerow([answer["item_id"], answer["labeler"]])
    return folder / "classes.txt", timesheet


def write_coco(answers: list[dict], found: list[Scene], out: Path, start: str) -> Path:
    """A COCO export listing every scene given to the vendor (an image without annotations is
    the vendor's "no objects here": import it with ``--images-were all``), one labeler per
    annotation (``labeler``)."""

    images = [
        {"id": i, "file_name": s.item_id, "width": WIDTH, "height": HEIGHT}
        for i, s in enumerate(found, 1)
    ]
    image_id = {s.item_id: i for i, s in enumerate(found, 1)}
    annotations, n = [], 0
    first = {}
    for answer in answers:  # COCO holds one answer per image: the crew's first labeler's
        first.setdefault(answer["item_id"], answer)
    for answer in first.values():
        for cls, box in answer["boxes"]:
            n += 1
            annotations.append(
                {
                    "id": n,
                    "image_id": image_id[answer["item_id"]],
                    "category_id": CLASSES.index(cls) + 1,
                    "bbox": list(box),
                    "area": box[2] * box[3],
                    "iscrowd": 0,
                    "labeler": answer["labeler"],
                    "created_at": start,
                    "attributes": {"occluded": False},
                }
            )
    doc = {
        "images": images,
        "annotations": annotations,
        "categories": [{"id": i, "name": c} for i, c in enumerate(CLASSES, 1)],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1))
    return out


def write_labelstudio(answers: list[dict], out: Path, user_ids: dict[str, int], start: str) -> Path:
    """A Label Studio JSON export: one task per scene, one annotation per labeler; an empty
    result is that labeler's "no objects here"."""

    tasks: dict[str, dict] = {}
    for n, answer in enumerate(answers, 1):
        task = tasks.setdefault(
            answer["item_id"],
            {
                "id": len(tasks) + 1,
                "data": {"image": f"/data/upload/1/{answer['item_id']}"},
                "annotations": [],
            },
        )
        result = [
            {
                "id": f"r{n}-{k}",
                "type": "rectanglelabels",
                "from_name": "label",
                "to_name": "image",
                "original_width": WIDTH,
                "original_height": HEIGHT,
                "value": {
                    "x": box[0] / WIDTH * 100,
                    "y": box[1] / HEIGHT * 100,
                    "width": box[2] / WIDTH * 100,
                    "height": box[3] / HEIGHT * 100,
                    "rectanglelabels": [cls],
                },
            }
            for k, (cls, box) in enumerate(answer["boxes"])
        ] + [
            {"id": f"r{n}-{k}", "type": "choices", "from_name": "occluded", "to_name": "image",
             "value": {"choices": ["false"]}}
            for k, _ in enumerate(answer["boxes"])
        ]  # fmt: skip
        task["annotations"].append(
            {
                "id": n,
                "completed_by": user_ids[answer["labeler"]],
                "result": result,
                "was_cancelled": False,
                "created_at": start,
                "lead_time": 9.0,
            }
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(list(tasks.values()), indent=1))
    return out


def write_golden(found: list[Scene], out: Path) -> Path:
    """The experts' answers as JSONL: every box, and ``"empty": true`` for an empty street."""

    lines = []
    for scene in found:
        if not scene.objects:
            lines.append({"item_id": scene.item_id, "empty": True})
        for cls, box in scene.objects:
            lines.append(
                {"item_id": scene.item_id, "class": cls, "bbox": list(box),
                 "attributes": {"occluded": False}}
            )  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return out


def detector_predictions(found: list[Scene], out: Path, seed: int = 5) -> Path:
    """A trained detector's output (JSONL, one box per line with a score): the true objects,
    slightly off and confidently scored, plus a few low-score false alarms."""

    rng = np.random.default_rng(seed)
    lines = []
    for scene in found:
        for cls, box in scene.objects:
            score = float(np.clip(rng.normal(0.9, 0.05), 0.5, 0.99))
            lines.append({"item_id": scene.item_id, "class": cls, "bbox": list(_jitter(box, 2.0, rng)),
                          "score": round(score, 3)})  # fmt: skip
        if rng.random() < 0.2:
            lines.append({"item_id": scene.item_id, "class": "pickup_truck",
                          "bbox": [10.0, 160.0, 40.0, 30.0], "score": 0.12})  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return out


def relabel_answers(
    tasks_file: Path, found: list[Scene], user_ids: dict[str, int], out: Path, start: str
) -> Path:
    """Answer a relabel plan's Label Studio tasks as the retrained labelers would: the true
    boxes and classes (an empty result where the street is empty), as a Label Studio export."""

    truth = {scene.item_id: scene for scene in found}
    tasks = json.loads(tasks_file.read_text())
    users = list(user_ids.items())
    answers = []
    for n, task in enumerate(tasks):
        labeler, _ = users[n % len(users)]
        scene = truth[task["data"]["item_id"]]
        answers.append({"item_id": scene.item_id, "labeler": labeler, "boxes": scene.objects})
    export = json.loads(write_labelstudio(answers, out, user_ids, start).read_text())
    for task, answered in zip(tasks, export, strict=True):
        answered["data"] = task["data"]  # the plan's task data: item id and relabel plan
    out.write_text(json.dumps(export, indent=1))
    return out
