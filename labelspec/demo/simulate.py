"""Simulated labeling vendors for the demo: real digit images, labels with each vendor's own
accuracy, speed, cost and habits, written in each vendor's tool format.

Deterministic (seeded), so the demo tells the same story every run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from labelspec.demo import digits

# The classic confusions: which digit a tired or under-instructed labeler writes instead.
CONFUSIONS = {1: 7, 7: 1, 4: 9, 9: 4, 3: 8, 8: 3, 5: 6, 6: 5, 0: 6, 2: 7}


@dataclass(frozen=True)
class Vendor:
    name: str
    labelers: tuple[str, ...]
    accuracy: float  # on the easy digits
    one_seven_accuracy: float  # on ones and sevens, the case the 1.0.0 guideline left vague
    lead_time_s: float  # median seconds per item
    cost: float  # per label
    tool: str  # labelstudio | coco | jsonl


VENDORS = (
    Vendor("vendor-a", ("vA-01", "vA-02"), 0.97, 0.93, 6.0, 0.040, "labelstudio"),
    Vendor("vendor-b", ("vB-01", "vB-02"), 0.95, 0.62, 3.5, 0.020, "coco"),
    Vendor("vendor-c", ("vC-01", "vC-02"), 0.93, 0.88, 9.0, 0.030, "jsonl"),
)


def write_items(folder: Path, count: int, offset: int = 0) -> list[tuple[str, int]]:
    """Write ``count`` digit PNGs; returns (file name, true digit) pairs."""
    _, targets = digits.load()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for index in range(offset, offset + count):
        name = f"digit-{index:04d}.png"
        digits.save_png(index, folder / name)
        written.append((name, int(targets[index])))
    return written


def vendor_labels(
    vendor: Vendor,
    truth: list[tuple[str, int]],
    seed: int,
    accuracy_boost: float = 0.0,
    start: dt.datetime | None = None,
) -> list[dict]:
    """One label per item, by one of the vendor's labelers, with the vendor's mistakes, made
    from ``start`` on (now by default: after the trainings the demo just recorded)."""
    rng = np.random.default_rng(seed)
    start = start or dt.datetime.now(dt.UTC).replace(microsecond=0)
    labels, clock = [], start
    for i, (name, digit) in enumerate(truth):
        accuracy = vendor.one_seven_accuracy if digit in (1, 7) else vendor.accuracy
        accuracy = min(1.0, accuracy + accuracy_boost)
        given = digit if rng.random() < accuracy else CONFUSIONS[digit]
        lead = float(rng.lognormal(np.log(vendor.lead_time_s), 0.35))
        clock += dt.timedelta(seconds=lead)
        labels.append(
            {
                "file": name,
                "labeler": vendor.labelers[i % len(vendor.labelers)],
                "class": digits.CLASS_IDS[given],
                "legible": bool(rng.random() > 0.05),
                "created_at": clock.isoformat().replace("+00:00", "Z"),
                "lead_time_s": round(lead, 2),
                "cost": vendor.cost,
            }
        )
    return labels


def _upload_name(name: str) -> str:
    return f"{hashlib.sha1(name.encode()).hexdigest()[:8]}-{name}"


def write_labelstudio_export(labels: list[dict], out: Path, user_ids: dict[str, int]) -> None:
    """A Label Studio JSON export: tasks -> annotations -> results, as the tool writes it."""
    tasks = []
    for n, label in enumerate(labels, 1):
        result = [
            {
                "id": f"r{n}",
                "type": "choices",
                "from_name": "label",
                "to_name": "image",
                "value": {"choices": [label["class"]]},
            }
        ]
        if label["class"] in ("one", "seven"):
            result.append(
                {
                    "id": f"l{n}",
                    "type": "choices",
                    "from_name": "legible",
                    "to_name": "image",
                    "value": {"choices": ["true" if label["legible"] else "false"]},
                }
            )
        tasks.append(
            {
                "id": 1000 + n,
                "data": {"image": f"/data/upload/3/{_upload_name(label['file'])}"},
                "annotations": [
                    {
                        "id": 5000 + n,
                        "completed_by": user_ids[label["labeler"]],
                        "result": result,
                        "was_cancelled": False,
                        "ground_truth": False,
                        "created_at": label["created_at"],
                        "lead_time": label["lead_time_s"],
                    }
                ],
                "predictions": [],
            }
        )
    tasks.append(
        {
            "id": 999,
            "data": {"image": "/data/upload/3/x.png"},
            "annotations": [{"id": 4999, "completed_by": 1, "result": [], "was_cancelled": True}],
        }
    )
    out.write_text(json.dumps(tasks, indent=1))


def write_coco(labels: list[dict], out: Path) -> None:
    """COCO instances JSON with image-level annotations (the vendor's classification export)."""
    names = sorted({label["file"] for label in labels})
    image_ids = {name: i for i, name in enumerate(names, 1)}
    categories = [
        {"id": i, "name": cid, "supercategory": "digit"}
        for i, cid in enumerate(digits.CLASS_IDS, 1)
    ]
    category_ids = {c["name"]: c["id"] for c in categories}
    annotations = [
        {
            "id": n,
            "image_id": image_ids[label["file"]],
            "category_id": category_ids[label["class"]],
            "bbox": [0, 0, digits.IMAGE_PX, digits.IMAGE_PX],
            "area": digits.IMAGE_PX**2,
            "iscrowd": 0,
            "image_level": True,
            "labeler": label["labeler"],
            "created_at": label["created_at"],
            "lead_time_s": label["lead_time_s"],
            "cost": label["cost"],
        }
        for n, label in enumerate(labels, 1)
    ]
    images = [
        {"id": image_ids[n], "file_name": n, "width": digits.IMAGE_PX, "height": digits.IMAGE_PX}
        for n in names
    ]
    out.write_text(
        json.dumps(
            {
                "info": {"description": "vendor-b delivery"},
                "images": images,
                "annotations": annotations,
                "categories": categories,
            }
        )
    )


def write_jsonl(labels: list[dict], out: Path) -> None:
    with out.open("w") as handle:
        for label in labels:
            attributes = {"legible": label["legible"]} if label["class"] in ("one", "seven") else {}
            handle.write(
                json.dumps(
                    {
                        "item_id": label["file"],
                        "labeler": label["labeler"],
                        "class": label["class"],
                        "attributes": attributes,
                        "created_at": label["created_at"],
                        "lead_time_s": label["lead_time_s"],
                        "cost": label["cost"],
                    }
                )
                + "\n"
            )


def write_delivery(
    vendor: Vendor, labels: list[dict], folder: Path, user_ids: dict[str, int]
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if vendor.tool == "labelstudio":
        out = folder / f"{vendor.name}-labelstudio.json"
        write_labelstudio_export(labels, out, user_ids)
    elif vendor.tool == "coco":
        out = folder / f"{vendor.name}-coco.json"
        write_coco(labels, out)
    else:
        out = folder / f"{vendor.name}.jsonl"
        write_jsonl(labels, out)
    return out


def model_predictions(truth: list[tuple[str, int]], out: Path, seed: int = 11) -> Path:
    """Class probabilities from a simulated digit classifier (JSONL: item_id, probs)."""
    rng = np.random.default_rng(seed)
    with out.open("w") as handle:
        for name, digit in truth:
            logits = rng.normal(0, 1, 10)
            logits[digit] += 4.0
            logits[CONFUSIONS[digit]] += 1.5
            probs = np.exp(logits) / np.exp(logits).sum()
            handle.write(
                json.dumps(
                    {
                        "item_id": name,
                        "probs": {
                            c: round(float(p), 4)
                            for c, p in zip(digits.CLASS_IDS, probs, strict=True)
                        },
                    }
                )
                + "\n"
            )
    return out


def relabel_results(
    tasks_file: Path,
    truth: list[tuple[str, int]],
    labelers: dict[str, int],
    out: Path,
    skip: int = 0,
    seed: int = 5,
    last: int | None = None,
) -> Path:
    """Answer a plan's Label Studio tasks as retrained labelers would: all but the last ``skip``,
    or only the ``last`` ones (the tasks an earlier export left open)."""
    rng = np.random.default_rng(seed)
    digit_of = dict(truth)
    tasks = json.loads(tasks_file.read_text())
    start = len(tasks) - last if last else 0
    answered = tasks[start:] if last else (tasks[: len(tasks) - skip] if skip else tasks)
    users = list(labelers.values())
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    export = []
    for n, task in enumerate(answered, start + 1):
        digit = digit_of[task["data"]["item_id"]]
        given = digit if rng.random() < 0.98 else CONFUSIONS[digit]
        export.append(
            {
                "id": 20000 + n,
                "data": task["data"],
                "annotations": [
                    {
                        "id": 30000 + n,
                        "completed_by": users[n % len(users)],
                        "result": [
                            {
                                "id": f"rr{n}",
                                "type": "choices",
                                "from_name": "label",
                                "to_name": "image",
                                "value": {"choices": [digits.CLASS_IDS[given]]},
                            }
                        ],
                        "was_cancelled": False,
                        "created_at": (now + dt.timedelta(seconds=n)).isoformat(),
                        "lead_time": round(float(rng.lognormal(np.log(7.0), 0.3)), 2),
                    }
                ],
                "predictions": task.get("predictions", []),
            }
        )
    out.write_text(json.dumps(export, indent=1))
    return out


def write_golden(truth: list[tuple[str, int]], out: Path) -> Path:
    """Expert labels (the true digits) as labelspec JSONL."""
    with out.open("w") as handle:
        for name, digit in truth:
            handle.write(json.dumps({"item_id": name, "class": digits.CLASS_IDS[digit]}) + "\n")
    return out


def review_from_gallery(
    gallery: Path, truth: dict[str, int], reviewer: str, out: Path, saved: str | None = None
) -> Path:
    """The review file the sample gallery's Save button writes, for a reviewer who knows the
    true digits: accept every right label, reject the wrong ones naming the right class."""

    page = gallery.read_text()
    about = json.loads(re.search(r'id="review-about">(.*?)</script>', page, re.S).group(1))
    verdicts = []
    for card in re.findall(r'<article class="card".*?</article>', page, re.S):
        item = html.unescape(re.search(r"<dt>item</dt><dd>(.*?)</dd>", card).group(1))
        right = digits.CLASS_IDS[truth[item]]
        for label, cls in re.findall(
            r'class="review" data-label="([^"]+)" data-cls="([^"]+)"', card
        ):
            label, cls = html.unescape(label), html.unescape(cls)
            verdicts.append(
                {"label_id": label, "verdict": "accept"}
                if cls == right
                else {"label_id": label, "verdict": "reject", "correct_class": right}
            )
    stamp = saved or dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    data = {"kind": "labelspec-review", **about, "reviewer": reviewer, "saved": stamp,
            "verdicts": verdicts}  # fmt: skip
    out.write_text(json.dumps(data, indent=1) + "\n")
    return out
