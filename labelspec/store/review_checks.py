"""Checking a review file's verdicts against the dataset's history (``labelspec.store.reviews``).

Every bad field is a problem of its own, located as ``verdicts[N].field``, so a reviewer fixes
the whole file in one go; a file with any problem records nothing. The look-ups (labels,
annotations, their items' sizes, the spec's classes) are gathered in one query each, then the
verdicts are checked one by one: a review file holds hundreds of entries, not millions.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from labelspec.errors import Problem
from labelspec.guideline.releases import spec_at
from labelspec.repo import Repo

# A verdict on one label, then the one on an annotation (the image as one labeler labeled it).
LABEL_VERDICTS = ("accept", "reject", "wrong_class", "misplaced", "not_an_object")
MISSING = "missing_object"
VERDICTS = (*LABEL_VERDICTS, MISSING)
PLACED = ("misplaced", "not_an_object")  # about where a box or span is: it needs one
CLASS_ONLY = ("classification", "multilabel")  # tasks where an object has no place to report


@dataclass
class _Lookups:
    """What the entries refer to, fetched once."""

    # label_id -> annotation_id, item_id, class, bbox, span, guideline, guideline_version
    labels: dict[str, dict[str, Any]]
    # annotation_id -> item_id, guideline, guideline_version, media, width, height, text_length
    annotations: dict[str, dict[str, Any]]
    # (guideline, version) -> (task, class ids), read when first needed
    classes: dict[tuple[str, str], tuple[str, set[str]]] = field(default_factory=dict)


def checked_rows(
    ws: Repo, con, verdicts: list, file: str, problems: list[Problem]
) -> list[dict[str, Any]]:
    """One record row per verdict (``labelspec.store.reviews.SCHEMA`` without the review's own
    columns, plus ``at``); every bad field appended to ``problems``."""
    look = _lookups(con, verdicts)
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    empties_accepted: dict[str, str] = {}  # annotation -> where its "no objects" was accepted
    missing_on: dict[str, str] = {}  # annotation -> where the first missing object was reported
    for n, entry in enumerate(verdicts):
        where = f"verdicts[{n}]"
        if not isinstance(entry, dict):
            problems.append(
                Problem(
                    "a verdict is an object with label_id (or annotation_id) and verdict",
                    file,
                    path=where,
                )
            )
            continue
        verdict = entry.get("verdict")
        if verdict not in VERDICTS:
            problems.append(
                Problem(
                    f"verdict {verdict!r}: use one of {', '.join(VERDICTS)}",
                    file,
                    path=f"{where}.verdict",
                )
            )
            continue
        if verdict == MISSING:
            row = _missing(ws, look, entry, where, file, problems)
            if row is not None:
                missing_on.setdefault(row["annotation_id"], where)
        else:
            row = _label_verdict(ws, look, entry, verdict, where, file, problems, seen)
            if row is not None and row.pop("empty") and row["verdict"] == "accept":
                empties_accepted[row["annotation_id"]] = where
        if row is None:
            continue
        at = entry.get("at")
        row["note"] = str(entry["note"]) if entry.get("note") else None
        row["at"] = parse_time(at, f"{where}.at", problems, file) if at else None
        rows.append(row)
    for annotation in sorted(empties_accepted.keys() & missing_on.keys()):
        problems.append(
            Problem(
                f'annotation {annotation}\'s "no objects" answer is accepted ({empties_accepted[annotation]}), '
                f"yet a missing object is reported on it ({missing_on[annotation]}): keep one",
                file,
                path=missing_on[annotation],
            )
        )
    return rows


def parse_time(value: Any, where: str, problems: list[Problem], file: str) -> dt.datetime | None:
    """An ISO 8601 time in UTC (a time without a zone is UTC), or None with a problem."""
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        problems.append(Problem(f"{value!r} is not an ISO 8601 time", file, path=where))
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    if parsed > dt.datetime.now(dt.UTC) + dt.timedelta(days=1):
        problems.append(Problem(f"{value} is in the future", file, path=where))
    return parsed.astimezone(dt.UTC)


def _lookups(con, verdicts: list) -> _Lookups:
    entries = [v for v in verdicts if isinstance(v, dict)]
    label_ids = [str(v.get("label_id")) for v in entries if v.get("label_id") is not None]
    annotation_ids = [
        str(v.get("annotation_id")) for v in entries if v.get("annotation_id") is not None
    ]
    con.register("wanted_labels", pa.table({"label_id": pa.array(label_ids, pa.string())}))
    con.register(
        "wanted_annotations", pa.table({"annotation_id": pa.array(annotation_ids, pa.string())})
    )
    labels = (
        con.sql(
            """select label_id, annotation_id, item_id, "class", bbox, span, guideline,
                      guideline_version
               from labels_all semi join wanted_labels using (label_id)"""
        )
        .to_arrow_table()
        .to_pylist()
    )
    annotations = (
        con.sql(
            """select a.*, i.media, i.width, i.height, length(i.text) as text_length
               from (select annotation_id, any_value(item_id) as item_id,
                            any_value(guideline) as guideline,
                            any_value(guideline_version) as guideline_version
                     from labels_all semi join wanted_annotations using (annotation_id)
                     group by annotation_id) a
               left join items i using (item_id)"""
        )
        .to_arrow_table()
        .to_pylist()
    )
    return _Lookups(
        {r["label_id"]: r for r in labels}, {r["annotation_id"]: r for r in annotations}
    )


def _spec_classes(ws: Repo, look: _Lookups, guideline: str, version: str):
    """(task, class ids) of the guideline as released at ``version``, read once."""

    key = (guideline, version)
    if key not in look.classes:
        spec = spec_at(ws, guideline, version)
        look.classes[key] = (spec.task, set(spec.class_ids))
    return look.classes[key]


def _known_class(
    ws, look, value, guideline, version, where: str, file: str, problems: list[Problem]
) -> bool:
    _task, classes = _spec_classes(ws, look, guideline, version)
    if value in classes:
        return True
    problems.append(
        Problem(
            f"class {value!r} is not in {guideline} {version} (classes: {', '.join(sorted(classes))})",
            file,
            path=where,
        )
    )
    return False


def _label_verdict(ws, look, entry, verdict, where, file, problems, seen) -> dict | None:
    label = str(entry.get("label_id") or "")
    if not label:
        problems.append(
            Problem(f"a {verdict} verdict names the label it judges (label_id)", file, path=where)
        )
        return None
    if label in seen:
        problems.append(Problem(f"label {label} is reviewed twice in one file", file, path=where))
    seen.add(label)
    known = look.labels.get(label)
    if known is None:
        problems.append(Problem(f"no label {label!r} in the dataset's history", file, path=where))
        return None
    cls, guideline, version = known["class"], known["guideline"], known["guideline_version"]
    right = entry.get("correct_class") or None
    if verdict == "reject" and right is not None:
        verdict = "wrong_class"  # review files saved before the verdict kinds
    ok = True
    task, _classes = _spec_classes(ws, look, guideline, version)
    if cls is None and verdict != "accept" and (task not in CLASS_ONLY or verdict in PLACED):
        # boxes and spans: what contradicts "no objects" is the object that is there
        problems.append(
            Problem(
                f'label {label} is an explicit "no objects" answer: accept it, or report a '
                f"missing_object on annotation {known['annotation_id']}",
                file,
                path=f"{where}.verdict",
            )
        )
        ok = False
    elif verdict in PLACED and known["bbox"] is None and known["span"] is None:
        problems.append(
            Problem(
                f"label {label} ({cls}) has no box or span to be {verdict}: use reject or wrong_class",
                file,
                path=f"{where}.verdict",
            )
        )
        ok = False
    if verdict == "wrong_class" and right is None:
        problems.append(
            Problem(
                f"a wrong_class verdict needs the right class (correct_class) for label {label}",
                file,
                path=f"{where}.correct_class",
            )
        )
    elif right is not None:
        if not _known_class(
            ws, look, right, guideline, version, f"{where}.correct_class", file, problems
        ):
            ok = False
        elif verdict == "accept" and right != cls:
            problems.append(
                Problem(
                    f"accepted as {cls} but corrected to {right}: make it wrong_class, or drop the class",
                    file,
                    path=where,
                )
            )
        elif verdict == "wrong_class" and right == cls:
            problems.append(
                Problem(
                    f"wrong_class, yet the right class is the label's own ({cls}): accept it, or pick another class",
                    file,
                    path=where,
                )
            )
        elif verdict in PLACED:
            problems.append(
                Problem(
                    f"a {verdict} verdict takes no correct_class: drop it (one verdict per label)",
                    file,
                    path=f"{where}.correct_class",
                )
            )
    if not ok:
        return None
    return {
        "label_id": label,
        "annotation_id": known["annotation_id"],
        "item_id": known["item_id"],
        "verdict": verdict,
        "correct_class": right if verdict == "wrong_class" else None,
        "empty": cls is None,
    }


def _missing(ws, look, entry, where, file, problems) -> dict | None:
    """A missing object reported on an annotation: a point or box on its image, a span of its
    text, with an optional class."""
    if entry.get("label_id") is not None:
        problems.append(
            Problem(
                "a missing_object names the annotation it is missing from (annotation_id), not a label",
                file,
                path=f"{where}.label_id",
            )
        )
        return None
    annotation = str(entry.get("annotation_id") or "")
    known = look.annotations.get(annotation)
    if known is None:
        problems.append(
            Problem(
                f"no annotation {annotation!r} in the dataset's history"
                if annotation
                else "a missing_object needs the annotation_id it is missing from",
                file,
                path=f"{where}.annotation_id",
            )
        )
        return None
    guideline, version = known["guideline"], known["guideline_version"]
    task, _classes = _spec_classes(ws, look, guideline, version)
    if task in CLASS_ONLY:
        problems.append(
            Problem(
                f"annotation {annotation} is a {task} answer: a missing object needs boxes or spans; "
                "reject the label (or name the right class) instead",
                file,
                path=f"{where}.verdict",
            )
        )
        return None
    if entry.get("correct_class") is not None:
        problems.append(
            Problem(
                "a missing_object gives its (optional) class as class, not correct_class",
                file,
                path=f"{where}.correct_class",
            )
        )
        return None
    cls = entry.get("class") or None
    if cls is not None and not _known_class(
        ws, look, cls, guideline, version, f"{where}.class", file, problems
    ):
        return None
    places = [key for key in ("point", "box", "span") if entry.get(key) is not None]
    if len(places) != 1:
        problems.append(
            Problem(
                "a missing_object needs one place: a point [x, y] or a box [x, y, w, h] on the "
                f"image, or a span [start, end] of the text (given: {', '.join(places) or 'none'})",
                file,
                path=where,
            )
        )
        return None
    [place] = places
    text_item = known["media"] == "text" or task == "ner"
    if text_item != (place == "span"):
        wanted = "a span [start, end]" if text_item else "a point [x, y] or a box [x, y, w, h]"
        problems.append(
            Problem(
                f"item {known['item_id']} is {'a text' if text_item else 'an image'}: give {wanted}",
                file,
                path=f"{where}.{place}",
            )
        )
        return None
    value = _numbers(entry[place], place, f"{where}.{place}", file, problems)
    if value is None or not _inside(value, place, known, f"{where}.{place}", file, problems):
        return None
    row = {
        "label_id": None,
        "annotation_id": annotation,
        "item_id": known["item_id"],
        "verdict": MISSING,
        "correct_class": cls,
    }
    if place == "point":
        row["point"] = {"x": value[0], "y": value[1]}
    elif place == "box":
        row["bbox"] = dict(zip("xywh", value, strict=True))
    else:
        row["span"] = {"start": int(value[0]), "end": int(value[1])}
    return row


SHAPES = {"point": "[x, y]", "box": "[x, y, w, h]", "span": "[start, end]"}


def _numbers(value, place: str, where: str, file: str, problems: list[Problem]):
    """The place's numbers, or None with a problem: the right count of finite numbers (whole
    ones for a span)."""
    size = len(SHAPES[place].split(","))
    if (
        not isinstance(value, list)
        or len(value) != size
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        problems.append(
            Problem(f"{value!r}: a {place} is {size} numbers {SHAPES[place]}", file, path=where)
        )
        return None
    if not all(math.isfinite(v) for v in value):
        problems.append(Problem(f"{value!r}: every number must be finite", file, path=where))
        return None
    if place == "span" and not all(float(v).is_integer() for v in value):
        problems.append(
            Problem(f"{value!r}: a span is whole character offsets [start, end)", file, path=where)
        )
        return None
    return [float(v) for v in value]


def _inside(value, place, known, where, file, problems) -> bool:
    """A point or box within the item's image (when its size is known), a span within its text;
    a box or span that is not empty."""
    if place == "span":
        start, end = value
        length = known["text_length"]
        if start < 0 or end <= start or (length is not None and end > length):
            bound = f" <= {length}, the text's length" if length is not None else ""
            problems.append(
                Problem(f"span {_shown(value)}: needs 0 <= start < end{bound}", file, path=where)
            )
            return False
        return True
    if place == "box" and (value[2] <= 0 or value[3] <= 0):
        problems.append(
            Problem(f"box {_shown(value)}: width and height must be above 0", file, path=where)
        )
        return False
    width, height = known["width"], known["height"]
    x, y = value[0], value[1]
    right, bottom = (x + value[2], y + value[3]) if place == "box" else (x, y)
    if (
        x < 0
        or y < 0
        or (width is not None and right > width)
        or (height is not None and bottom > height)
    ):
        size = f"the {width}x{height} image" if width is not None else "the image"
        problems.append(
            Problem(
                f"{place} {_shown(value)} lies outside {size} of item {known['item_id']}",
                file,
                path=where,
            )
        )
        return False
    return True


def _shown(value: list[float]) -> str:
    return "[" + ", ".join(f"{v:g}" for v in value) + "]"
