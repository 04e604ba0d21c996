"""Exchange formats of labeling tools behind one interface and one registry.

Every format module offers ``read(path) -> Staged`` (parse only: validation is shared) and, if
labels can be written in it, ``write(labels, items, spec, out, snapshot=None) -> int``. Imports
and exports dispatch through ``get(name)``; modules load when first used.

| format      | read                                  | write (``labels export``)       |
| ----------- | ------------------------------------- | ------------------------------- |
| labelstudio | Label Studio JSON export              | Label Studio import JSON        |
| coco        | COCO instances JSON                   | COCO instances JSON             |
| cvat        | CVAT for images 1.1 XML, or its zip   | -                               |
| jsonl, csv  | labelspec's own one-label-per-line    | jsonl                           |
| yolo        | Ultralytics, Label Studio or CVAT YOLO 1.1 (a folder or its zip) | data.yaml, classes.txt, images.txt, labels/ |
| parquet     | -                                     | the label rows, every column    |
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from labelspec.errors import InputError


class Format(Protocol):
    """What a format module provides (either function may be missing)."""

    def read(self, path: Path) -> Any: ...

    def write(self, labels, items, spec, out: Path, snapshot: str | None = None) -> int: ...


@dataclass(frozen=True)
class Entry:
    module: str
    reads: bool = True
    writes: bool = False

    def load(self) -> Format:
        return importlib.import_module(self.module)


REGISTRY = {
    "labelstudio": Entry("labelspec.formats.labelstudio", writes=True),
    "coco": Entry("labelspec.formats.coco", writes=True),
    "cvat": Entry("labelspec.formats.cvat"),
    "jsonl": Entry("labelspec.formats.jsonl", writes=True),
    "csv": Entry("labelspec.formats.csv"),
    "yolo": Entry("labelspec.formats.yolo", writes=True),
    "parquet": Entry("labelspec.formats.parquet", reads=False, writes=True),
}
FORMATS = tuple(name for name, entry in REGISTRY.items() if entry.reads)
EXPORT_FORMATS = tuple(name for name, entry in REGISTRY.items() if entry.writes)


def get(name: str, writing: bool = False) -> Format:
    """The format ``name``; a clear error when it does not exist (or cannot be written)."""

    choices = EXPORT_FORMATS if writing else FORMATS
    if name not in choices:
        raise InputError(f"unknown format {name!r}: choose one of {', '.join(choices)}")
    return REGISTRY[name].load()


def reader(name: str):
    return get(name).read


def delivery_of(name: str, path: Path) -> Path:
    """What an import of ``path`` keeps as its raw delivery: the export as a whole (a YOLO
    names file stands for its folder, labels and all)."""
    return get(name).export_path(path) if name == "yolo" else Path(path)


def read(
    name: str, path: Path, images_were: str | None = None, class_names: list[str] | None = None
) -> Any:
    """Stage ``path`` in format ``name`` for an import, whose items are registered.
    ``images_were="all"``: the delivery lists every image the vendor was given, so an image
    without annotations is an explicit empty answer (COCO). ``class_names``: the guideline's
    classes, for a YOLO export that names none. A YOLO export without its images (Label
    Studio's plain YOLO download) pairs each label file with the registered item of its name."""

    if name == "yolo" and images_were is None:
        return reader(name)(path, class_names, pair_by_name=True)
    if images_were is None:
        return reader(name)(path)
    if name != "coco":
        raise InputError(
            f"--images-were applies to COCO files, which list images nobody annotated; {name} "
            "deliveries say "
            + {
                "labelstudio": "no objects with an empty result",
                "cvat": "no objects with an image without shapes",
                "yolo": "no objects with an empty label file",
            }.get(name, 'no objects with {"empty": true}')
        )
    return reader(name)(path, images_were=images_were)
