"""Label Studio: read a JSON export into staged rows; write an import JSON (tasks).

The project around the tasks (its labeling config, image URLs, relabel links) is
``labelspec.formats.labelstudio_config``.

Reading keeps one staged row per class value:

- ``rectanglelabels``: a class and a box, converted from percents of ``original_width`` and
  ``original_height`` to pixels, and that size (validation scales the box to the registered
  image's size, or refuses an image of another shape);
- ``labels`` on a ``<Text>``: a class and a character span;
- an annotation without such regions is a classification: its class control is the ``choices``
  result named ``class``, ``label``, ``labels`` or ``choice``, else the first ``choices`` result;
  each chosen value is one row.

``choices``, ``textarea``, ``number`` and ``rating`` results become attributes keyed by their
``from_name``: of the region whose ``id`` they share, or, in a classification, of the class labels
(one choice -> a string, several -> a list, textarea -> its first text, number/rating -> a number).

An annotation submitted with an empty result is the labeler's explicit "no objects here" (one
row with ``empty`` set; a cancelled one is no answer at all).

Skipped and counted in ``Staged.skipped``: cancelled annotations, predictions, and
result types labelspec does not hold (polygons, keypoints, relations ..., with their per-region
results). A result that cannot be parsed is a problem and gives no row, and so is an attribute
result beside regions that shares no region's id (it cannot be placed: never dropped); neither
does an annotation whose own fields (completed_by, created_at, lead_time) are bad give rows, nor
a task without an item.

An annotation that ``labels export`` wrote keeps its index in the task's ``meta.labelspec`` as
Label Studio's ``import_id``: reading Label Studio's export of it takes the label's own date from
there (Label Studio dates an imported annotation by the import) and keeps its labelspec
annotation id in ``tool_fields``.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import math
import re
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyarrow as pa

from labelspec import nesting
from labelspec.errors import InputError, Problem, ProblemsError
from labelspec.formats import labelstudio_min
from labelspec.formats.base import (
    RowBuilder,
    Staged,
    attributes_json,
    drawn_on,
    number,
    parse_timestamp,
)
from labelspec.formats.labelstudio_config import CONTROL, IMAGE, TEXT
from labelspec.formats.text import load_json as load
from labelspec.yamlio import atomic_write_text

CLASS_CONTROLS = ("class", "label", "labels", "choice")
REGION_TYPES = ("rectanglelabels", "labels")
ATTRIBUTE_TYPES = ("choices", "textarea", "number", "rating")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff")
TIME_EXAMPLE = "an ISO 8601 time such as 2024-05-01T10:00:00Z"
UPLOAD_PATH = re.compile(r".*/data/upload/\d+/([^/]+)")
CRLF = re.compile("\r\n")


def load_json(path: Path, tool: str, raw: bytes | None = None) -> Any:
    """The parsed document (see ``labelspec.formats.text.load_json``)."""

    return load(path, tool, raw)


# -- reading ------------------------------------------------------------------------------------


def read(path: Path) -> Staged:
    tasks = load_json(path, "Label Studio")
    if labelstudio_min.is_min(tasks):
        tasks = labelstudio_min.as_tasks(tasks)
    if not isinstance(tasks, list):
        problem = Problem(
            message="expected a list of tasks (export the project as JSON or JSON-MIN, not CSV)",
            file=str(path),
        )
        raise ProblemsError(f"{path}: not a Label Studio JSON export", [problem])
    rows = RowBuilder(path, "labelstudio")
    for index, task in enumerate(tasks, 1):
        _read_task(rows, index, task)
    return rows.build()


def _read_task(rows: RowBuilder, index: int, task: Any) -> None:
    where = f"task {index}" + (
        f" (id {task['id']})" if isinstance(task, dict) and "id" in task else ""
    )
    if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
        rows.problem(
            where, "data", "a task needs a `data` object (export the project as JSON, not JSON-MIN)"
        )
        return
    task_id = task.get("id", f"#{index}")
    where = f"task {index} (id {task_id})"
    item = item_reference(task["data"])
    if item is None:
        rows.problem(
            where, "data", "no item: `data` needs an item_id, an image path or URL, or a text"
        )
    predictions = task.get("predictions")
    for _ in predictions if isinstance(predictions, list) else []:
        rows.skip("prediction")  # model output, not a labeler's work
    annotations = task.get("annotations") or []
    if not isinstance(annotations, list):
        rows.problem(where, "annotations", "must be a list of annotations")
        return
    plan = task["data"].get("relabel_plan")  # tasks labelspec wrote for a relabel plan
    written = _written(task)
    shown = task["data"].get(TEXT)
    to_stored = _stored_offsets(shown) if isinstance(shown, str) else None
    for a_index, annotation in enumerate(annotations, 1):
        found = _read_annotation(rows, where, task_id, a_index, annotation, to_stored)
        if item is not None:
            origin = (
                _origin(rows, f"{where}, annotation {a_index}", annotation, written)
                if found
                else None
            )
            version = _origin_version(annotation, origin)
            for row in found:
                if origin and origin.get("created_at"):
                    # Label Studio dates an imported annotation by its import: labelspec's own is in meta
                    row["created_at"] = origin["created_at"]
                if version and not row.get("guideline_version"):
                    row["guideline_version"] = version
                tool = _tool_fields(annotation, plan, origin)
                rows.add(item_ref=item[0], item_ref_kind=item[1], tool_fields=tool, **row)


def _origin(rows: RowBuilder, where: str, annotation: dict, written: dict) -> dict | None:
    """The ``meta.labelspec`` entry of an annotation labelspec exported (by its ``import_id``),
    its date parsed; None for any other annotation."""
    key = annotation.get("import_id")
    if isinstance(key, bool) or not isinstance(key, int) or key not in written:
        return None
    origin = dict(written[key])
    try:
        origin["created_at"] = parse_timestamp(origin.get("created_at"))
    except (ValueError, TypeError, OverflowError, OSError):
        rows.problem(
            where,
            "meta.labelspec",
            f"created_at must be {TIME_EXAMPLE}, got {origin.get('created_at')!r}",
        )
        origin["created_at"] = None
    return origin


def _origin_version(annotation: dict, origin: dict | None) -> str | None:
    """The guideline version an exported annotation was made under, while it is unchanged in
    the tool: an answer edited there was made under the guideline the import names."""
    if not origin or not isinstance(origin.get("guideline_version"), str):
        return None
    created, updated = annotation.get("created_at"), annotation.get("updated_at")
    if created and updated and created != updated:
        try:
            edited = (parse_timestamp(updated) - parse_timestamp(created)).total_seconds() > 1
        except (ValueError, TypeError, OverflowError, OSError):
            edited = True
        if edited:
            return None
    return origin["guideline_version"]


def _written(task: dict) -> dict[int, dict]:
    """The annotations labelspec exported into this task (``labels export``), by the index
    Label Studio keeps as each imported annotation's ``import_id``."""
    meta = (task.get("meta") or {}).get("labelspec") if isinstance(task.get("meta"), dict) else None
    if not isinstance(meta, list):
        return {}
    return {i: m for i, m in enumerate(meta, 1) if isinstance(m, dict)}


def _tool_fields(annotation: dict, plan: Any, origin: dict | None = None) -> str | None:
    """Label Studio's own fields worth keeping with the label (never checked against a spec)."""
    kept = {
        key: annotation[key]
        for key in ("updated_at", "parent_prediction", "parent_annotation", "ground_truth")
        if annotation.get(key) not in (None, False)
    }
    if plan is not None:
        kept["relabel_plan"] = str(plan)
    if origin and origin.get("annotation_id"):
        kept["labelspec_annotation"] = str(origin["annotation_id"])
    return json.dumps(kept, sort_keys=True, default=str) if kept else None


def _read_annotation(
    rows: RowBuilder,
    where: str,
    task_id: Any,
    index: int,
    annotation: Any,
    to_stored: Callable[[int], int] | None = None,
) -> list[dict]:
    if not isinstance(annotation, dict):
        rows.problem(
            f"{where}, annotation {index}", "annotations", "an annotation must be an object"
        )
        return []
    annotation_id = annotation.get("id", f"#{index}")
    where = f"{where}, annotation {index} (id {annotation_id})"
    if annotation.get("was_cancelled"):
        rows.skip("cancelled")
        return []
    results = annotation.get("result")
    if results is not None and not isinstance(results, list):
        rows.problem(where, "result", "must be a list of results")
        return []

    common: dict[str, Any] = {"annotation_key": f"ls:{task_id}:{annotation_id}"}
    ok = True
    for name, key, parse, expected in (
        ("labeler_ref", "completed_by", _labeler, "a user id"),
        ("created_at", "created_at", parse_timestamp, TIME_EXAMPLE),
        ("lead_time_s", "lead_time", number, "a number of seconds"),
    ):
        try:
            common[name] = parse(annotation.get(key))
        except (ValueError, TypeError, OverflowError, OSError):
            rows.problem(where, key, f"must be {expected}, got {annotation.get(key)!r}")
            ok = False
    if not results:  # submitted with nothing drawn or chosen: the labeler's "no objects here"
        ids = {"ls_task": task_id, "ls_annotation": annotation_id}
        empty = {**common, "empty": True, "attributes": "{}", "where": where}
        empty["source_ids"] = json.dumps(ids, sort_keys=True, separators=(",", ":"))
        return [empty] if ok else []
    found = []
    for result_index, result_id, fields in _read_results(rows, where, results, to_stored):
        ids = {"ls_task": task_id, "ls_annotation": annotation_id, "ls_result": result_id}
        source_ids = json.dumps(ids, sort_keys=True, separators=(",", ":"))
        in_task = fields.pop("in_task", None)  # a span moved to the stored text says where from
        found.append(
            {
                **common,
                **fields,
                "where": f"{where}, result {result_index}"
                + (f", span {in_task}" if in_task else ""),
                "source_ids": source_ids,
            }
        )
    return found if ok else []


def _labeler(value: Any) -> str | None:
    """``completed_by`` is a user id, or (older exports) a user object with an ``id``."""
    if isinstance(value, dict):
        value = value.get("id")
        if value is None:
            raise ValueError("a user object without `id`")
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"expected a user id, got {value!r}")
    return str(value)


def _result_id(result: dict) -> str | int | None:
    """A result's region id; anything but text or a number ties it to no region."""
    value = result.get("id")
    return value if isinstance(value, str | int) and not isinstance(value, bool) else None


def _read_results(
    rows: RowBuilder,
    where: str,
    results: list,
    to_stored: Callable[[int], int] | None = None,
) -> list[tuple[int, Any, dict]]:
    """(result index, result id, row fields) for every class value in one annotation;
    ``to_stored`` maps a span's offsets in the task's text to the stored text's."""
    # Per-region results share their region's id; anything that is not an attribute type is a region.
    region_ids = {
        _result_id(r)
        for r in results
        if isinstance(r, dict)
        and r.get("type") not in ATTRIBUTE_TYPES
        and _result_id(r) is not None
    }
    regions: list[tuple[int, dict]] = []
    region_attributes: dict[Any, dict[str, Any]] = defaultdict(dict)
    broken = set()  # regions with a bad attribute give no row either
    task_level: list[tuple[int, dict]] = []
    for index, result in enumerate(results, 1):
        rwhere = f"{where}, result {index}"
        if not isinstance(result, dict):
            rows.problem(rwhere, "result", "a result must be an object")
            continue
        kind = result.get("type")
        if kind in REGION_TYPES:
            regions.append((index, result))
        elif kind not in ATTRIBUTE_TYPES:
            rows.skip(f"unsupported:{kind}")
        elif _result_id(result) in region_ids:
            try:
                name, value = _attribute(result)
                region_attributes[_result_id(result)][name] = value
            except ValueError as exc:
                rows.problem(rwhere, "value", str(exc))
                broken.add(_result_id(result))
        else:
            task_level.append((index, result))

    if regions:
        for index, result in task_level:
            # beside regions, an attribute belongs to a region: one tied to none cannot be placed
            rows.problem(
                f"{where}, result {index}",
                "id",
                f"{result.get('type')} result {result.get('from_name')!r} (id {result.get('id')!r}) "
                "is tied to no region of this annotation, so it cannot become a label's attribute "
                '(make its control perRegion="true", or remove the control)',
            )
        found = []
        for index, result in regions:
            region = _result_id(result)
            if region is not None and region in broken:
                continue
            attributes = region_attributes.get(region, {}) if region is not None else {}
            try:
                for fields in _region(result, to_stored):
                    found.append(
                        (
                            index,
                            region,
                            {**fields, "attributes": attributes_json(attributes)},
                        )
                    )
            except _Bad as exc:
                rows.problem(f"{where}, result {index}", exc.field, str(exc))
        return found
    return _classification(rows, where, task_level)


def _classification(
    rows: RowBuilder, where: str, task_level: list[tuple[int, dict]]
) -> list[tuple[int, Any, dict]]:
    choices = [(i, r) for i, r in task_level if r.get("type") == "choices"]
    if not choices:
        rows.skip("no class")
        return []
    named = [(i, r) for i, r in choices if r.get("from_name") in CLASS_CONTROLS]
    class_index, class_result = (named or choices)[0]
    attributes, ok = {}, True
    for index, result in task_level:
        if result is class_result:
            continue
        try:
            name, value = _attribute(result)
            attributes[name] = value
        except ValueError as exc:
            rows.problem(f"{where}, result {index}", "value", str(exc))
            ok = False
    value = class_result.get("value")
    if not isinstance(value, dict):
        rows.problem(
            f"{where}, result {class_index}",
            "value",
            f'must be an object such as {{"choices": ["cat"]}}, got {value!r:.80}',
        )
        return []
    values = value.get("choices")
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        rows.problem(
            f"{where}, result {class_index}",
            "value.choices",
            "must be a non-empty list of class ids",
        )
        return []
    fields = {"attributes": attributes_json(attributes)}
    return (
        [(class_index, _result_id(class_result), {**fields, "class": v}) for v in values]
        if ok
        else []
    )


def _stored_offsets(text: str) -> Callable[[int], int] | None:
    """Offsets into a task's text as offsets into the text labelspec stores, for a text with
    CRLF line breaks: Label Studio counts CR and LF as two characters, and ``items add`` stores
    each CRLF as one LF, so every CRLF before an offset makes it one less. None: no CRLF."""
    breaks = [found.start() for found in CRLF.finditer(text)]
    if not breaks:
        return None
    # a CRLF at p lies wholly before offset k when p + 2 <= k
    return lambda offset: offset - bisect.bisect_right(breaks, offset - 2)


class _Bad(ValueError):
    """A result that cannot become a row, and the field to blame."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


def _region(result: dict, to_stored: Callable[[int], int] | None = None) -> list[dict]:
    """Row fields for each label of a rectangle or text region."""
    value = result.get("value")
    kind = result["type"]
    if not isinstance(value, dict):
        raise _Bad("a region needs a `value` object", "value")
    classes = value.get(kind)
    if not isinstance(classes, list) or not classes or not all(isinstance(c, str) for c in classes):
        raise _Bad(f"must be a non-empty list of class ids, got {classes!r}", f"value.{kind}")
    if kind == "labels":
        start, end = value.get("start"), value.get("end")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
            message = f"a span needs integer character offsets, got {start!r}..{end!r} (label a <Text> object, not HyperText)"
            raise _Bad(message, "value.start")
        fields: dict[str, Any] = {"span_start": start, "span_end": end}
        if to_stored is not None and (to_stored(start), to_stored(end)) != (start, end):
            fields.update(span_start_lf=to_stored(start), span_end_lf=to_stored(end))
            fields["in_task"] = f"[{start}, {end}] in the task's CRLF text"  # for messages
        said = value.get("text")  # validation compares it with the item's text at the span
        fields["span_text"] = said if isinstance(said, str) else None
        return [{"class": c, **fields} for c in classes]
    width, height = result.get("original_width"), result.get("original_height")
    for key, size in (("original_width", width), ("original_height", height)):
        if isinstance(size, bool) or not isinstance(size, (int, float)) or size <= 0:
            raise _Bad(
                f"missing or invalid image size {size!r}: percents cannot become pixels (re-export with a current Label Studio)",
                key,
            )
    for key in ("rotation", "image_rotation"):
        angle = value.get(key) if key == "rotation" else result.get(key)
        if angle not in (None, 0, 0.0):
            raise _Bad(
                f"rotated by {angle} degrees; labelspec holds axis-aligned boxes only (undo the rotation in Label Studio)",
                key,
            )
    try:
        box = [number(value.get(k)) for k in ("x", "y", "width", "height")]
    except ValueError as exc:
        raise _Bad(f"box needs numbers x, y, width, height: {exc}", "value") from None
    if any(v is None or not math.isfinite(v) for v in box):
        raise _Bad(f"box needs finite numbers x, y, width and height, got {box}", "value")
    x, y, w, h = to_pixels(box, width, height)
    units = drawn_on(width, height)  # validation scales them when the registered size differs
    return [
        {"class": c, "bbox_x": x, "bbox_y": y, "bbox_w": w, "bbox_h": h, "bbox_units": units}
        for c in classes
    ]


def _attribute(result: dict) -> tuple[str, Any]:
    name = result.get("from_name")
    value = result.get("value")
    if not isinstance(name, str) or not name:
        raise ValueError("a result needs its `from_name`")
    if not isinstance(value, dict):
        raise ValueError(f"{name}: a result needs a `value` object")
    kind = result["type"]
    if kind == "choices":
        choices = value.get("choices")
        if not isinstance(choices, list) or not choices:
            raise ValueError(f"{name}: `choices` must be a non-empty list")
        return name, choices[0] if len(choices) == 1 else choices
    if kind == "textarea":
        text = value.get("text")
        text = text[0] if isinstance(text, list) and text else text
        if not isinstance(text, str):
            raise ValueError(f"{name}: `text` must be a list of strings")
        return name, text
    found = value.get(kind)  # number -> value.number, rating -> value.rating
    if isinstance(found, bool) or not isinstance(found, (int, float)) or not math.isfinite(found):
        raise ValueError(f"{name}: `{kind}` must be a number, got {found!r}")
    return name, found


def item_reference(data: dict) -> tuple[str, str] | None:
    """(item_ref, kind) for a task's ``data``: its item_id, else an image path or URL, else its text."""
    if data.get("item_id") not in (None, ""):
        return str(data["item_id"]), "id"
    image = data.get("image")
    candidates = [image] if isinstance(image, str) and image else []
    candidates += [v for v in data.values() if isinstance(v, str) and _looks_like_image(v)]
    if candidates:
        return local_name(candidates[0]), "path"
    if isinstance(data.get("text"), str):
        return data["text"], "text"
    return None


def local_name(value: str) -> str:
    """Undo Label Studio's serving URLs: local-files ``?d=x/y.png`` -> ``x/y.png``, uploads ->
    ``<hash>-name.png``. Other paths and URLs stay as they are (the resolver matches them)."""
    parts = urlsplit(value)
    if parts.scheme not in ("", "http", "https"):
        return value
    if parts.path.rstrip("/").endswith("/data/local-files"):
        found = parse_qs(parts.query).get("d")
        if found:
            return found[0]
    match = UPLOAD_PATH.fullmatch(parts.path)
    return match.group(1) if match and not parts.query else value


def _looks_like_image(value: str) -> bool:
    if not value or any(c.isspace() for c in value):
        return False
    return urlsplit(local_name(value)).path.lower().endswith(IMAGE_SUFFIXES)


def to_pixels(box: list[float], width: float, height: float) -> tuple[float, float, float, float]:
    """Label Studio percents (x, y, width, height in 0..100) as pixels of the original image."""
    x, y, w, h = box
    return x * width / 100, y * height / 100, w * width / 100, h * height / 100


def to_percent(
    box: tuple[float, float, float, float], width: float, height: float
) -> dict[str, float]:
    x, y, w, h = box
    return {
        "x": x * 100 / width,
        "y": y * 100 / height,
        "width": w * 100 / width,
        "height": h * 100 / height,
    }


# -- writing ------------------------------------------------------------------------------------


def write(
    labels: pa.Table,
    items: pa.Table,
    spec,
    out: Path,
    snapshot: str | None = None,
    as_predictions: bool = False,
    *,
    results: bool = True,
    image_source: Callable[[dict], str] | None = None,
    completed_by: dict[str, int | str] | None = None,
) -> int:
    """A Label Studio import JSON: one task per labeled item, one annotation (or prediction,
    ``as_predictions``; none at all without ``results``) per labelspec annotation.

    Provenance goes to the task's ``meta.labelspec``, in annotation order, and each annotation's
    ``id`` is its 1-based index there: Label Studio keeps it as ``import_id`` (and drops the
    annotation's own ``created_at``), so the reader finds the label's date and version again.
    ``completed_by`` maps labeler ids to Label Studio user ids (or emails), the labeler map
    reversed; ``image_source(item)`` gives the task's image URL (default: the item's path)."""

    by_item: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for label in labels.to_pylist():
        by_item[label["item_id"]][label["annotation_id"]].append(label)
    known = {row["item_id"]: row for row in items.to_pylist()}
    key = "predictions" if as_predictions else "annotations"
    tasks = []
    for item_id in sorted(by_item):
        item = known.get(item_id)
        if item is None:
            raise InputError(f"item {item_id} has labels but is not in the item manifest")
        task: dict[str, Any] = {
            "data": task_data(item, spec, image_source),
            "meta": {"labelspec": []},
        }
        if results:
            task[key] = []
        for index, annotation_id in enumerate(sorted(by_item[item_id]), 1):
            group = sorted(by_item[item_id][annotation_id], key=lambda label: label["label_id"])
            first = group[0]
            times = [g["created_at"] for g in group if g.get("created_at") is not None]
            if results:
                task[key].append(
                    _entry(group, item, spec, snapshot, as_predictions, index, times, completed_by)
                )
            meta = {
                "annotation_id": annotation_id,
                "labeler_id": first["labeler_id"],
                "guideline_version": first["guideline_version"],
            }
            if times:
                meta["created_at"] = _iso(min(times))
            for name in ("source", "batch_id"):
                if first.get(name) is not None:
                    meta[name] = first[name]
            task["meta"]["labelspec"].append(meta)
        tasks.append(task)
    atomic_write_text(out, json.dumps(tasks, ensure_ascii=False, indent=2) + "\n")
    return len(tasks)


def _entry(group, item, spec, snapshot, as_predictions, index, times, completed_by) -> dict:
    result = _result(group, item, spec)
    if as_predictions:
        # a labeler's label, not a model's output: no confidence score to show
        return {"model_version": snapshot or "labelspec", "result": result}
    entry: dict[str, Any] = {
        "id": index,
        "result": result,
        "was_cancelled": False,
        "ground_truth": False,
    }
    lead = next((g["lead_time_s"] for g in group if g.get("lead_time_s") is not None), None)
    if lead is not None:
        entry["lead_time"] = lead
    if times:
        entry["created_at"] = _iso(min(times))
    if completed_by is not None:
        labeler = group[0]["labeler_id"]
        if labeler not in completed_by:
            known = ", ".join(sorted(completed_by)) or "none"
            raise InputError(
                f"labeler {labeler} is not in the labeler map (mapped: {known}); add a line "
                f"`<Label Studio user id>,{labeler}` (Label Studio -> Organization lists the users)"
            )
        user = completed_by[labeler]
        entry["completed_by"] = {"email": user} if isinstance(user, str) and "@" in user else user
    return entry


def task_data(item: dict, spec, image_source: Callable[[dict], str] | None = None) -> dict:
    """A task's ``data``: the image (or text) and the item id."""
    if spec.task == "ner":
        return {TEXT: item.get("text"), "item_id": item["item_id"]}
    image = image_source(item) if image_source else None
    return {IMAGE: image or item.get("path") or item.get("uri"), "item_id": item["item_id"]}


def _result(group: list[dict], item: dict, spec) -> list[dict]:
    obj = TEXT if spec.task == "ner" else IMAGE
    base = {"from_name": CONTROL, "to_name": obj}
    if all(label["class"] is None for label in group):
        return []  # the labeler's "no objects here": Label Studio's submitted empty result
    if spec.task in ("classification", "multilabel"):
        attributes: dict[str, Any] = {}
        for label in group:
            # one Choices per task: attributes of several labels merge (the first value wins)
            for name, value in nesting.label_json(label, "attributes").items():
                attributes.setdefault(name, value)
        value = {"choices": [label["class"] for label in group]}
        result = [{"id": group[0]["label_id"], "type": "choices", **base, "value": value}]
        # task-level results each have their own id (a shared id would make them one region)
        for found in _attribute_results(group[0]["label_id"], attributes, spec, {"to_name": obj}):
            result.append({**found, "id": f"{found['id']}-{found['from_name']}"})
        return result

    results = []
    for label in group:
        region_id = label["label_id"]
        extra: dict[str, Any] = {"to_name": obj}
        shape = "span" if spec.task == "ner" else "bbox"
        if label[shape] is None:
            raise InputError(f"label {region_id} of a {spec.task} guideline has no {shape}")
        if spec.task == "ner":
            span = label["span"]
            text = (item.get("text") or "")[span["start"] : span["end"]]
            value = {
                "start": span["start"],
                "end": span["end"],
                "text": text,
                "labels": [label["class"]],
            }
            results.append({"id": region_id, "type": "labels", **base, "value": value})
        else:
            width, height = item.get("width"), item.get("height")
            if not width or not height:
                raise InputError(
                    f"item {item['item_id']} has no width/height: Label Studio boxes need them (re-register the item)"
                )
            box = label["bbox"]
            value = {
                **to_percent((box["x"], box["y"], box["w"], box["h"]), width, height),
                "rotation": 0,
            }
            extra.update(original_width=width, original_height=height, image_rotation=0)
            value["rectanglelabels"] = [label["class"]]
            results.append(
                {"id": region_id, "type": "rectanglelabels", **base, **extra, "value": value}
            )
        attributes = nesting.label_json(label, "attributes")
        results += _attribute_results(region_id, attributes, spec, extra)
    return results


def _attribute_results(result_id: str, attributes: dict, spec, extra: dict) -> list[dict]:
    types = {a.id: a.type for cls in reversed(spec.classes) for a in cls.attributes}
    results = []
    for name, value in sorted(attributes.items()):
        if value is None:
            continue
        if isinstance(value, bool):
            kind, payload = "choices", {"choices": ["true" if value else "false"]}
        elif isinstance(value, (int, float)):
            kind, payload = "number", {"number": value}
        elif isinstance(value, list):
            kind, payload = "choices", {"choices": [str(v) for v in value]}
        elif types.get(name) == "text":
            kind, payload = "textarea", {"text": [str(value)]}
        else:
            kind, payload = "choices", {"choices": [str(value)]}
        results.append(
            {"id": result_id, "type": kind, "from_name": name, **extra, "value": payload}
        )
    return results


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
