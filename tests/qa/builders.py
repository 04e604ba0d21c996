"""Labeled workspaces with a known pattern of agreement, for the QA report tests.

Every label below is written out by hand, so each expected figure can be worked out on paper
(the tests do, next to the assertion) or with a reference implementation.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from labelspec.demo import digits, shapes

# -- classification: ten digit items, four labelers from three vendors ------------------------------
DIGIT_ITEMS = [f"d{i:02d}.png" for i in range(10)]
TRUTH = ["one", "one", "one", "seven", "seven", "seven", "four", "four", "one", "seven"]


def _with(changes: dict[int, str], keep: range | list[int] = range(10)) -> dict[int, str]:
    return {i: changes.get(i, TRUTH[i]) for i in keep}


# labeler -> (source, {item index: class}); imported in this order, one snapshot each
VOTES: dict[str, tuple[str, dict[int, str]]] = {
    "lab-a1": ("vendor-a", _with({})),
    "lab-a2": ("vendor-a", _with({}, range(8))),
    "lab-b1": ("vendor-b", _with({1: "seven", 4: "one", 6: "nine"})),
    "lab-c1": ("vendor-c", _with({4: "one", 9: "one"}, [0, 1, 2, 3, 4, 5, 8, 9])),
}
# items each labeler marked not legible (only classes one and seven have the attribute)
ILLEGIBLE = {"lab-a1": {3}, "lab-a2": {3, 5}, "lab-b1": set(), "lab-c1": {0}}
# imports, tagged snap-N: snap-1 lab-a1 alone, snap-2 + lab-a2 (perfect agreement), snap-3 + lab-b1,
# snap-4 + lab-c1


def vote_rows(labeler: str) -> list[dict]:
    _, votes = VOTES[labeler]
    rows = []
    for index, cls in votes.items():
        row = {
            "item_id": DIGIT_ITEMS[index],
            "labeler": labeler,
            "class": cls,
            "created_at": "2026-02-01T10:00:00Z",
        }
        if cls in ("one", "seven"):
            row["attributes"] = {"legible": index not in ILLEGIBLE[labeler]}
        rows.append(row)
    return rows


# -- multilabel: the digits guideline re-released (2.0.0) as multilabel ---------------------------
# labeler -> (source, {item index: classes}); one import per source
SETS: dict[str, tuple[str, dict[int, list[str]]]] = {
    "ml-1": ("vendor-a", {0: ["one"], 1: ["seven", "four"], 2: ["four"], 3: ["one"]}),
    "ml-2": ("vendor-a", {0: ["one"], 1: ["seven"], 2: ["four"], 3: ["seven"]}),
    "ml-3": ("vendor-b", {0: ["one", "seven"], 1: ["seven", "four"], 2: ["four"]}),
}
MULTILABEL_CHANGE = """
  - version: unreleased
    summary: An image may show several digits; give every digit you see.
    affects: []
    relabel: none
"""


# (labeler, item index, class) marked not legible; every other one and seven is legible
SETS_ILLEGIBLE = {("ml-3", 0, "one")}


def set_rows(source: str) -> list[dict]:
    return [
        {
            "item_id": DIGIT_ITEMS[index],
            "labeler": labeler,
            "class": cls,
            "attributes": {"legible": (labeler, index, cls) not in SETS_ILLEGIBLE}
            if cls in ("one", "seven")
            else {},
        }
        for labeler, (vendor, sets) in SETS.items()
        if vendor == source
        for index, classes in sets.items()
        for cls in classes
    ]


# -- detection: the shape scenes, three labelers ---------------------------------------------------
def box(item: str, labeler: str, cls: str, bbox: list[float], occluded=False, **more) -> dict:
    return {
        "item_id": f"{item}.png",
        "labeler": labeler,
        "class": cls,
        "bbox": bbox,
        "attributes": {"occluded": occluded, **more},
    }


BOXES = {
    "vendor-a": [
        box("circle_big", "det-1", "circle", [24, 24, 80, 80]),
        box("circle_big", "det-2", "circle", [26, 24, 80, 80]),  # IoU 6240/6560 with det-1
        box("square_big", "det-1", "square", [30, 30, 70, 70], rotation="none"),
        box("square_big", "det-2", "square", [30, 30, 70, 70], occluded=True, rotation="slight"),
        box("triangle_up", "det-1", "triangle", [24, 20, 80, 80]),
        box("triangle_up", "det-1", "circle", [0, 0, 10, 10]),  # only det-1 sees it
        box("triangle_up", "det-2", "triangle", [24, 20, 80, 80]),
        box("circle_small", "det-1", "circle", [70, 20, 30, 30]),  # one labeler only
    ],
    "vendor-b": [
        box("circle_big", "det-3", "square", [24, 24, 80, 80]),  # same box, other class
        box("square_big", "det-3", "square", [50, 50, 70, 70]),  # IoU 2500/7300 < 0.5
    ],
}


# -- ner: the news texts plus one that tries to inject markup --------------------------------------
NEWS = {
    "n01.txt": "Ada Lovelace met Charles Babbage in London.",
    "n02.txt": "The United Nations met in Geneva on Monday.",
    "n04.txt": "Eve <script>alert(1)</script> met Bob & Co in Oslo.",
}


def span(item: str, labeler: str, cls: str, words: str, occurrence: int = 0) -> dict:
    text = NEWS[item]
    start = [m.start() for m in re.finditer(re.escape(words), text)][occurrence]
    return {"item_id": item, "labeler": labeler, "class": cls, "span": [start, start + len(words)]}


SPANS = {
    "vendor-a": [
        span("n01.txt", "ner-1", "person", "Ada Lovelace"),
        span("n01.txt", "ner-1", "person", "Charles Babbage"),
        span("n01.txt", "ner-1", "location", "London"),
        span("n01.txt", "ner-2", "person", "Ada Lovelace"),
        span("n01.txt", "ner-2", "person", "Charles Babbage"),
        span("n01.txt", "ner-2", "organization", "London"),
        span("n02.txt", "ner-1", "organization", "United Nations"),
        span("n02.txt", "ner-1", "location", "Geneva"),
        span("n02.txt", "ner-2", "organization", "The United Nations"),
        span("n02.txt", "ner-2", "location", "Geneva"),
        span("n04.txt", "ner-1", "person", "Eve"),
        span("n04.txt", "ner-1", "organization", "Bob & Co"),
    ],
    "vendor-b": [
        span("n01.txt", "ner-3", "person", "Ada"),
        span("n01.txt", "ner-3", "person", "Charles Babbage"),
        span("n01.txt", "ner-3", "location", "London"),
    ],
}


# -- building -------------------------------------------------------------------------------------
def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def build(root: Path, kind: str) -> None:
    """Items, labelers (training not enforced) and labels for ``kind`` in a pristine workspace."""
    from labelspec.labelers.roster import add_labeler
    from labelspec.labels.ingest import import_labels
    from labelspec.store.items import add_items
    from labelspec.workspace import Workspace
    from tests.helpers import git
    from tests.store.conftest import set_training_policy

    ws = Workspace(root)
    set_training_policy(root, "off")
    if kind == "digits":
        folder = root / "datasets/digits/items"
        for i, name in enumerate(DIGIT_ITEMS):
            digits.save_png(i, folder / name)
        add_items(ws, "digits", folder)
        for labeler, (source, _) in VOTES.items():
            add_labeler(ws, labeler, source)
        for n, (labeler, (source, _)) in enumerate(VOTES.items(), 1):
            rows = vote_rows(labeler)
            path = write_jsonl(root.parent / f"{labeler}.jsonl", rows)
            import_labels(ws, "digits", path, "jsonl", "digits@1.0.0", source)
            git(root, "tag", f"snap-{n}")  # a snapshot is a commit; tags name them here
    elif kind == "multilabel":
        from labelspec.guideline.release import release

        spec = ws.spec_path("digits")
        text = spec.read_text().replace("task: classification", "task: multilabel")
        spec.write_text(text.replace("\n\nquality:", MULTILABEL_CHANGE + "\nquality:", 1))
        git(root, "commit", "-q", "-m", "digits: multilabel", "--", str(spec))
        release(ws, "digits", "major")
        folder = root / "datasets/digits/items"
        for i, name in enumerate(DIGIT_ITEMS[:4]):
            digits.save_png(i, folder / name)
        add_items(ws, "digits", folder)
        by_source = {source: set_rows(source) for source in ("vendor-a", "vendor-b")}
        _import_by_source(ws, root, "digits", "digits@2.0.0", by_source)
    elif kind == "shapes":
        folder = root / "datasets/shapes/items"
        folder.mkdir(parents=True)
        for name, (shape, where, fill, seed) in shapes.SCENES.items():
            shapes.draw(shape, where, fill, seed).save(folder / f"{name}.png", format="PNG")
        add_items(ws, "shapes", folder)
        _import_by_source(ws, root, "shapes", "shapes@1.0.0", BOXES)
    else:
        folder = root / "datasets/news/items"
        folder.mkdir(parents=True)
        for name, text in NEWS.items():
            (folder / name).write_text(text)
        add_items(ws, "news", folder)
        _import_by_source(ws, root, "news", "entities@1.0.0", SPANS)


def _import_by_source(ws, root: Path, dataset: str, guideline: str, by_source: dict) -> None:
    from labelspec.labelers.roster import add_labeler
    from labelspec.labels.ingest import import_labels

    for source, rows in by_source.items():
        for labeler in sorted({row["labeler"] for row in rows}):
            add_labeler(ws, labeler, source)
    for source, rows in by_source.items():
        path = write_jsonl(root.parent / f"{dataset}-{source}.jsonl", rows)
        import_labels(ws, dataset, path, "jsonl", guideline, source)
