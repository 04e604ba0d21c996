"""Label Studio's JSON-MIN export, read as the JSON export it abbreviates.

JSON-MIN is one flat object per annotation: the task's data fields and each control's answer
side by side, plus ``id`` (the task), ``annotation_id``, ``annotator``, ``created_at``,
``updated_at`` and ``lead_time``. Each object becomes a task with one annotation whose results
are rebuilt from the answers, so the JSON reader checks it like any export:

- a list of regions (objects with ``rectanglelabels``, or ``labels`` and ``start`` / ``end``)
  becomes one region result each;
- ``{"choices": [...]}`` or a list of strings under a control's name, or a single string under
  ``label`` (the class control of labelspec's config), becomes a ``choices`` result (the class,
  or an attribute of a classification); any other single string is data, as JSON-MIN cannot
  tell the two apart;
- the task's data is what the labelspec labeling config shows (``image``, ``text``,
  ``item_id``, the relabel fields) and any other value that is not an answer.

What JSON-MIN does not hold is not invented: per-region attributes (a region's ``choices`` are
not exported) and the task's meta (so labels that ``labels export`` wrote come back dated by
their import into Label Studio).
"""

from __future__ import annotations

from typing import Any

from labelspec.formats.labelstudio_config import CONTROL, GUIDE, IMAGE, REASON, TEXT

ANNOTATION_KEYS = ("annotation_id", "annotator", "created_at", "updated_at", "lead_time")
DATA_KEYS = {IMAGE, TEXT, "item_id", REASON, GUIDE, "relabel_plan"}
REGION_SHAPES = {"rectanglelabels": IMAGE, "labels": TEXT}


def is_min(document: Any) -> bool:
    """Whether a parsed export is JSON-MIN: flat objects that name an annotation, no ``data``."""
    return (
        isinstance(document, list)
        and bool(document)
        and all(isinstance(row, dict) and "data" not in row for row in document)
        and any("annotation_id" in row or "annotator" in row for row in document)
    )


def as_tasks(rows: list[dict]) -> list[dict]:
    """The JSON export's tasks: one per task id, an annotation per JSON-MIN object."""
    tasks: dict[Any, dict] = {}
    for index, row in enumerate(rows, 1):
        answers = {k: v for k, v in row.items() if _is_answer(k, v)}
        data = {
            k: v
            for k, v in row.items()
            if k not in answers and k not in ANNOTATION_KEYS and k != "id"
        }
        task_id = row.get("id", f"#{index}")
        annotation = {
            "id": row.get("annotation_id"),
            "completed_by": row.get("annotator"),
            "created_at": row.get("created_at"),
            "lead_time": row.get("lead_time"),
            "result": [r for name, value in answers.items() for r in _results(name, value)],
        }
        annotation = {k: v for k, v in annotation.items() if v is not None}
        task = tasks.setdefault(str(task_id), {"id": task_id, "data": data, "annotations": []})
        task["annotations"].append(annotation)
    return list(tasks.values())


def _is_answer(key: str, value: Any) -> bool:
    if key in DATA_KEYS or key in ANNOTATION_KEYS or key == "id":
        return False
    if key == CONTROL:
        return True
    if isinstance(value, dict):
        return isinstance(value.get("choices"), list)
    if isinstance(value, list):
        return bool(value) and all(
            isinstance(v, str) or (isinstance(v, dict) and _shape(v) is not None) for v in value
        )
    return False


def _shape(region: dict) -> str | None:
    return next((shape for shape in REGION_SHAPES if shape in region), None)


def _results(name: str, value: Any) -> list[dict]:
    if isinstance(value, dict):
        value = value.get("choices")  # None: the reader reports the class as missing
    values = value if isinstance(value, list) else [value]
    # a region is an object with a shape; anything else is a choice, which the reader checks
    regions = [v for v in values if isinstance(v, dict) and _shape(v) is not None]
    out = []
    for n, region in enumerate(regions, 1):
        shape = _shape(region)
        sizes = {k: region[k] for k in ("original_width", "original_height") if k in region}
        shown = {k: v for k, v in region.items() if k not in sizes}
        out.append(
            {
                "id": f"{name}-{n}",
                "type": shape,
                "from_name": name,
                "to_name": REGION_SHAPES[shape],
                "value": shown,
                **sizes,
            }
        )
    choices = [v for v in values if not (isinstance(v, dict) and _shape(v) is not None)]
    if choices:
        out.append(
            {"type": "choices", "from_name": name, "to_name": IMAGE, "value": {"choices": choices}}
        )
    return out
