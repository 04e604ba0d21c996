"""COCO instances JSON: ``images``, ``annotations`` (``bbox`` [x, y, w, h] in pixels) and
``categories``.

Reading: the class is the category's name, the item is the image's ``file_name``. An annotation
with ``"image_level": true`` (what ``write`` emits for classification) is a class without a box.
Crowd annotations (``iscrowd: 1``) mark a group of objects, not one, and are skipped and counted.
The keys ``write`` adds to each annotation (``labeler``, ``created_at``, ``lead_time_s``, ``cost``,
``guideline_version``, ``attributes``) are read when present, so an export round-trips.

Empty answers ("no objects here"). COCO lists every image of a dataset, annotated or not, so an
image without annotations says nothing by itself: it may be a background image or one nobody
looked at. ``images_were="all"`` (``labels import --images-were all``) declares that the vendor
was given, and labeled, every image of the file: each image without annotations becomes an empty
answer (its labeler from ``--labeler``, or the image's own ``labeler`` key). An image entry may
also carry ``empty_answers``, a list of ``{labeler, created_at, lead_time_s, cost,
guideline_version}`` objects: what ``write`` emits for the empty answers it exports, so an
export round-trips whatever ``images_were`` says.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import zipfile
from pathlib import Path
from typing import Any

import pyarrow as pa

from labelspec import nesting
from labelspec.errors import InputError, Problem, ProblemsError
from labelspec.formats.base import (
    TOOL_FIELDS,
    RowBuilder,
    Staged,
    attributes_json,
    drawn_on,
    number,
    parse_timestamp,
    tool_fields_json,
)
from labelspec.formats.labelstudio import TIME_EXAMPLE, load_json
from labelspec.yamlio import atomic_write_text

SECTIONS = ("images", "annotations", "categories")
IMAGES_WERE = ("annotated", "all")  # which images the vendor was given: see the docstring


def read(path: Path, images_were: str = "annotated") -> Staged:
    doc = _document(Path(path))
    missing = [
        key for key in SECTIONS if not isinstance(doc, dict) or not isinstance(doc.get(key), list)
    ]
    if missing:
        message = f"not COCO instances JSON: needs the lists {', '.join(SECTIONS)} (missing: {', '.join(missing)})"
        raise ProblemsError(f"{path}: not a COCO file", [Problem(message=message, file=str(path))])
    if images_were not in IMAGES_WERE:
        raise InputError(f"--images-were must be one of {', '.join(IMAGES_WERE)}")
    rows = RowBuilder(path, "coco")
    categories = _index(rows, doc["categories"], "category", "name")
    images = _index(rows, doc["images"], "image", "file_name")
    sizes = _sizes(doc["images"])
    annotated = set()
    for index, annotation in enumerate(doc["annotations"], 1):
        _read_annotation(rows, index, annotation, images, categories, sizes)
        if isinstance(annotation, dict):
            annotated.add(_key(annotation.get("image_id")))
    _read_empty_answers(rows, doc["images"], images, annotated, images_were == "all")
    return rows.build()


MAX_JSON_BYTES = 4 * 1024**3  # one instances file inside a zip; a bomb stops here


def _document(path: Path) -> Any:
    """The COCO document: the file, or the one instances JSON of a zip (what CVAT, Datumaro
    and Label Studio download), read without unpacking it."""
    if not zipfile.is_zipfile(path):
        return load_json(path, "the labeling tool")
    with zipfile.ZipFile(path) as archive:
        found = [
            m
            for m in archive.infolist()
            if m.filename.lower().endswith(".json")
            and not m.is_dir()
            and not m.filename.startswith("__MACOSX/")
        ]
        instances = [m for m in found if "instances" in m.filename.rsplit("/", 1)[-1]]
        chosen = instances if len(instances) == 1 else found
        if len(chosen) != 1:
            listed = ", ".join(m.filename for m in found[:10]) or "none"
            raise ProblemsError(
                f"{path}: a COCO zip holds one annotations JSON",
                [Problem(
                    message=f"found {len(found)} JSON file(s) ({listed}): keep one instances "
                    "file in the zip, or import the JSON itself",
                    file=str(path),
                )],
            )  # fmt: skip
        member = chosen[0]
        if member.file_size > MAX_JSON_BYTES:
            raise InputError(f"{path}: {member.filename} is over {MAX_JSON_BYTES:,} bytes")
        raw = archive.read(member)
    return load_json(Path(f"{path}!{member.filename}"), "the labeling tool", raw)


def _read_empty_answers(
    rows: RowBuilder, entries: list, images: dict, annotated: set, all_given: bool
) -> None:
    """The empty answers an image entry carries (``empty_answers``), and, when every image was
    given to the vendor, one for each image without annotations."""
    for index, entry in enumerate(entries, 1):
        image_id = _key(entry.get("id")) if isinstance(entry, dict) else None
        if image_id is None or images.get(image_id) is None:
            continue  # reported by _index
        where = f"image {index} (id {image_id})"
        answers = entry.get("empty_answers")
        if answers is None and all_given and image_id not in annotated:
            answers = [{"labeler": entry.get("labeler")}]
        if answers is None:
            continue
        if not isinstance(answers, list) or not all(isinstance(a, dict) for a in answers):
            rows.problem(where, "empty_answers", "must be a list of objects {labeler, created_at}")
            continue
        for answer in answers:
            _read_empty_answer(rows, where, image_id, images[image_id], answer)


def _read_empty_answer(
    rows: RowBuilder, where: str, image_id, file_name: str, answer: dict
) -> None:
    fields: dict[str, Any] = {}
    ok = True
    for name, parse, expected in (
        ("created_at", parse_timestamp, TIME_EXAMPLE),
        ("lead_time_s", number, "a number of seconds"),
        ("cost", number, "a number"),
    ):
        try:
            fields[name] = parse(answer.get(name))
        except (ValueError, TypeError, OverflowError, OSError):
            rows.problem(where, name, f"must be {expected}, got {answer.get(name)!r}")
            ok = False
    labeler = answer.get("labeler")
    if labeler is not None and (isinstance(labeler, bool) or not isinstance(labeler, (int, str))):
        rows.problem(where, "labeler", f"must be a labeler id, got {labeler!r}")
        ok = False
    version = answer.get("guideline_version")
    if version is not None and not isinstance(version, str):
        rows.problem(where, "guideline_version", f"must be a version string, got {version!r}")
        ok = False
    if not ok:
        return
    labeler_ref = None if labeler is None else str(labeler)
    rows.add(
        where=where,
        item_ref=file_name,
        item_ref_kind="path",
        labeler_ref=labeler_ref,
        empty=True,
        attributes="{}",
        guideline_version=version,
        annotation_key=f"coco:{image_id}:{labeler_ref or ''}",
        source_ids=json.dumps({"coco_image": image_id}, separators=(",", ":")),
        **fields,
    )


def _key(value: Any) -> int | str | None:
    """An id usable as a dict key; COCO ids are integers, some tools write strings."""
    return value if isinstance(value, (int, str)) and not isinstance(value, bool) else None


def _index(rows: RowBuilder, entries: list, kind: str, name_key: str) -> dict[Any, str | None]:
    """id -> name (category name, image file name); a malformed entry maps to None, so its
    annotations are not reported again as pointing at an unknown id."""
    found: dict[Any, str | None] = {}
    for index, entry in enumerate(entries, 1):
        entry_id = _key(entry.get("id")) if isinstance(entry, dict) else None
        where = f"{kind} {index}" + (f" (id {entry_id})" if entry_id is not None else "")
        if entry_id is None:
            rows.problem(where, "id", f"each {kind} needs an integer `id`")
            continue
        if entry_id in found:
            rows.problem(where, "id", f"duplicate {kind} id {entry_id}")
            continue
        name = entry.get(name_key)
        if not isinstance(name, str) or not name:
            rows.problem(where, name_key, f"each {kind} needs its `{name_key}`")
            name = None
        found[entry_id] = name
    return found


def _sizes(entries: list) -> dict[Any, str | None]:
    """image id -> the ``bbox_units`` of boxes drawn on it: the entry's width and height."""
    return {
        _key(e.get("id")): drawn_on(e.get("width"), e.get("height"))
        for e in entries
        if isinstance(e, dict)
    }


def _read_annotation(
    rows: RowBuilder,
    index: int,
    annotation: Any,
    images: dict,
    categories: dict,
    sizes: dict | None = None,
) -> None:
    if not isinstance(annotation, dict):
        rows.problem(f"annotation {index}", "annotations", "an annotation must be an object")
        return
    ann_id = annotation.get("id")
    where = f"annotation {index}" + (f" (id {ann_id})" if ann_id is not None else "")
    if annotation.get("iscrowd") in (1, True):
        rows.skip("crowd")
        return
    ok = True

    def bad(field: str, message: str) -> None:
        nonlocal ok
        rows.problem(where, field, message)
        ok = False

    image_id = _key(annotation.get("image_id"))
    if image_id not in images:
        bad(
            "image_id",
            f"unknown image_id {annotation.get('image_id')!r} (no such entry in `images`)",
        )
    category_id = _key(annotation.get("category_id"))
    if category_id not in categories:
        known = ", ".join(str(k) for k in categories) or "none"
        bad(
            "category_id", f"unknown category_id {annotation.get('category_id')!r} (known: {known})"
        )
    fields: dict[str, Any] = {}
    if annotation.get("image_level") is not True:
        box = annotation.get("bbox")
        if not (isinstance(box, list) and len(box) == 4 and all(_finite(v) for v in box)):
            bad("bbox", f"must be [x, y, width, height], four numbers in pixels; got {box!r}")
        else:
            fields.update(
                zip(("bbox_x", "bbox_y", "bbox_w", "bbox_h"), map(float, box), strict=True)
            )
            fields["bbox_units"] = (sizes or {}).get(image_id)  # scaled if the item's size differs
    attributes = annotation.get("attributes")
    if attributes is not None and not isinstance(attributes, dict):
        bad("attributes", f'must be an object such as {{"occluded": false}}, got {attributes!r}')
    labeler = annotation.get("labeler")
    if labeler is not None and (isinstance(labeler, bool) or not isinstance(labeler, (int, str))):
        bad("labeler", f"must be a labeler id, got {labeler!r}")
    version = annotation.get("guideline_version")
    if version is not None and not isinstance(version, str):
        bad("guideline_version", f"must be a version string such as 1.1.0, got {version!r}")
    for name, parse, expected in (
        ("created_at", parse_timestamp, TIME_EXAMPLE),
        ("lead_time_s", number, "a number of seconds"),
        ("cost", number, "a number"),
    ):
        try:
            fields[name] = parse(annotation.get(name))
        except (ValueError, TypeError, OverflowError, OSError):
            bad(name, f"must be {expected}, got {annotation.get(name)!r}")
    if not ok or images[image_id] is None or categories[category_id] is None:
        return  # a malformed image or category entry is reported once, where it is
    labeler_ref = None if labeler is None else str(labeler)
    ids = {"coco_image": image_id, "coco_annotation": ann_id}
    rows.add(
        where=where,
        item_ref=images[image_id],
        item_ref_kind="path",
        labeler_ref=labeler_ref,
        **{"class": categories[category_id]},
        **fields,
        attributes=attributes_json(attributes),
        guideline_version=version,
        annotation_key=f"coco:{image_id}:{labeler_ref or ''}",
        tool_fields=tool_fields_json(
            {k: v for k, v in {**(attributes or {}), **annotation}.items() if k in TOOL_FIELDS}
        ),
        source_ids=json.dumps(ids, sort_keys=True, separators=(",", ":")),
    )


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def write(labels: pa.Table, items: pa.Table, spec, out: Path, snapshot: str | None = None) -> int:
    """COCO instances JSON of image labels; returns the number of annotations.

    Categories are the spec's classes in spec order (ids 1..n); images are the labeled items in
    item_id order. Classification labels get a whole-image box and ``"image_level": true``; an
    empty answer puts its image in ``images`` with an ``empty_answers`` entry and no annotation
    (a background image for a detector). Resolved labels (``labels export --resolve``, training
    sets) carry a ``resolution``: confidence, method, suspect, labelers and the guideline
    version of every label they came from (``guideline_version`` is the newest of those).
    """

    if spec.task == "ner":
        raise InputError(
            f"{spec.guideline} is an ner guideline: COCO holds image labels (export as labelstudio or jsonl)"
        )
    category_ids = {cls.id: n for n, cls in enumerate(spec.classes, 1)}
    rows = sorted(
        labels.to_pylist(), key=lambda r: (r["item_id"], r["annotation_id"], r["label_id"])
    )
    unknown = sorted({r["class"] for r in rows if r["class"] is not None} - set(category_ids))
    if unknown:
        raise InputError(
            f"labels use classes that {spec.guideline} {spec.version} does not have: {', '.join(unknown)} "
            "(export with the guideline version they were made under)"
        )
    known = {row["item_id"]: row for row in items.to_pylist()}
    image_ids: dict[str, int] = {}
    images, annotations = [], []
    for label in rows:
        item = known.get(label["item_id"])
        if item is None:
            raise InputError(f"item {label['item_id']} has labels but is not in the item manifest")
        if label["item_id"] not in image_ids:
            image_ids[label["item_id"]] = len(image_ids) + 1
            images.append(
                {
                    "id": image_ids[label["item_id"]],
                    "file_name": item.get("path") or item["item_id"],
                    "width": item.get("width"),
                    "height": item.get("height"),
                }
            )
        if label["class"] is None:  # "no objects here": a background image, said on its entry
            images[-1].setdefault("empty_answers", []).append(_empty_answer(label))
            continue
        annotations.append(
            _annotation(len(annotations) + 1, label, item, image_ids, category_ids, spec)
        )
    doc = {
        "info": {
            "description": f"{spec.title} ({spec.guideline}), exported by labelspec",
            "version": snapshot or "",
            "date_created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        },
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": [
            {"id": n, "name": cls_id, "supercategory": spec.guideline}
            for cls_id, n in category_ids.items()
        ],
    }
    atomic_write_text(out, json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
    return len(annotations)


def _empty_answer(label: dict) -> dict[str, Any]:
    created = label.get("created_at")
    return {
        "labeler": label["labeler_id"],
        "guideline_version": label["guideline_version"],
        "created_at": created.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
        if created
        else None,
        "lead_time_s": label.get("lead_time_s"),
        "cost": label.get("cost"),
        "annotation_id": label["annotation_id"],
        **_resolution(label),
    }


def _resolution(label: dict) -> dict[str, Any]:
    """A resolved label's lineage (``labelspec.resolve.export``), kept on its annotation."""
    if label.get("format") != "resolve" or not label.get("tool_fields"):
        return {}
    return {"resolution": nesting.label_json(label, "tool_fields")}


def _annotation(
    ann_id: int, label: dict, item: dict, image_ids: dict, category_ids: dict, spec
) -> dict:
    found: dict[str, Any] = {
        "id": ann_id,
        "image_id": image_ids[label["item_id"]],
        "category_id": category_ids[label["class"]],
    }
    if spec.task == "detection":
        box = label["bbox"]
        if box is None:
            raise InputError(f"label {label['label_id']} of a detection guideline has no box")
        found.update(
            bbox=[box["x"], box["y"], box["w"], box["h"]], area=box["w"] * box["h"], iscrowd=0
        )
    else:
        width, height = item.get("width") or 0, item.get("height") or 0
        found.update(bbox=[0, 0, width, height], area=width * height, iscrowd=0, image_level=True)
    created = label.get("created_at")
    found.update(
        labeler=label["labeler_id"],
        label_id=label["label_id"],
        annotation_id=label["annotation_id"],
        guideline_version=label["guideline_version"],
        attributes=nesting.label_json(label, "attributes"),
        created_at=created.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
        if created
        else None,
        lead_time_s=label.get("lead_time_s"),
        cost=label.get("cost"),
        **_resolution(label),
    )
    return found
