"""CVAT for images 1.1: ``annotations.xml``, or the export zip that holds it.

Each ``<image name=...>`` is an item; its ``<box>`` children are boxes (``xtl ytl xbr ybr`` in
pixels) and its ``<tag>`` children image-level classes, both with ``<attribute name=...>`` values.
A video ``<track>`` (CVAT for video 1.1) becomes one box per frame where the object is visible,
on the item ``frame_NNNNNN`` (how CVAT names exported frames), keyed by its track id. CVAT's own
fields (occluded, z_order, source, keyframe, outside, group_id, track_id) are kept as the
label's ``tool_fields``, never refused. Shapes a box guideline cannot hold (polygon, polyline,
points, mask, ellipse, cuboid, skeleton) are counted and reported once per kind. CVAT 1.1 names
no annotator per shape: the labeler is the job's or the task's assignee from ``<meta>`` when
there is one, else left for ``--labeler``. An ``<image>`` without any shape is the labeler's
explicit "no objects here" (export finished jobs: CVAT lists every image of the task).

The XML is parsed as a stream with defusedxml and refuses any DTD: CVAT never writes one, and
entity declarations can expand to gigabytes (billion laughs) or read local files.
"""

from __future__ import annotations

import json
import math
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import IO, Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as SafeET

from labelspec.errors import Problem, ProblemsError
from labelspec.formats.base import (
    RowBuilder,
    Staged,
    attributes_json,
    drawn_on,
    tool_fields_json,
)
from labelspec.formats.text import unreadable

MEMBER = "annotations.xml"
MAX_MEMBER_BYTES = 2 * 1024**3
MAX_RATIO = 200  # annotation XML compresses ~10-50x; deflate bombs reach ~1000x
REEXPORT = 'export the task as "CVAT for images 1.1"'


def read(path: Path) -> Staged:
    rows = RowBuilder(path, "cvat")
    with _open(path) as (stream, shown):
        _parse(rows, stream, shown)
    return rows.build()


def _refuse(path: Path | str, summary: str, message: str, **where: Any) -> ProblemsError:
    problem = Problem(message=message, file=str(path), **where)
    return ProblemsError(f"{path}: {summary}; nothing was imported", [problem])


@contextmanager
def _open(path: Path) -> Iterator[tuple[IO[bytes], str]]:
    """The XML stream and the name to show in messages (``x.zip:annotations.xml`` in a zip)."""
    try:
        is_zip = zipfile.is_zipfile(path)
    except OSError as exc:
        raise unreadable(path, exc) from None
    if not is_zip:
        try:
            with path.open("rb") as stream:
                yield stream, str(path)
        except OSError as exc:
            raise unreadable(path, exc) from None
        return
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise _refuse(path, "not a readable zip", f"{exc} (download the export again)") from None
    with archive:
        found = [
            i
            for i in archive.infolist()
            if not i.is_dir() and PurePosixPath(i.filename).name == MEMBER
        ]
        if not found:
            raise _refuse(
                path,
                f"no {MEMBER}",
                f"the zip holds no {MEMBER} ({REEXPORT}, or pass the XML itself)",
            )
        member = min(found, key=lambda i: i.filename.count("/"))  # the top-level one first
        if member.file_size > MAX_MEMBER_BYTES:
            message = f"{member.filename} unpacks to {member.file_size:,} bytes, over the {MAX_MEMBER_BYTES:,} limit (split the export into smaller tasks)"
            raise _refuse(path, "zip member too large", message)
        if member.file_size > member.compress_size * MAX_RATIO:
            ratio = member.file_size / max(member.compress_size, 1)
            message = f"{member.filename} expands {ratio:.0f}x (over {MAX_RATIO}x): refused as a possible zip bomb ({REEXPORT})"
            raise _refuse(path, "zip member refused", message)
        shown = f"{path}:{member.filename}"
        try:
            with archive.open(member) as stream:
                yield stream, shown
        except (zipfile.BadZipFile, zlib.error, RuntimeError) as exc:  # bad CRC or data, encrypted
            raise _refuse(
                shown, "unreadable zip member", f"{exc} (download the export again)"
            ) from None


def _parse(rows: RowBuilder, stream: IO[bytes], shown: str) -> None:
    depth, images = 0, 0
    root: Element | None = None
    labelers: tuple[str | None, dict[str, str]] = (None, {})
    try:
        for event, elem in SafeET.iterparse(stream, events=("start", "end"), forbid_dtd=True):
            if event == "start":
                depth += 1
                if root is None:
                    root = elem
                    if elem.tag != "annotations":
                        message = (
                            f"the root element is <{elem.tag}>, not <annotations> ({REEXPORT})"
                        )
                        raise _refuse(shown, "not CVAT XML", message)
                continue
            depth -= 1
            if depth != 1:
                continue  # only the root's children are whole records
            if elem.tag == "meta":
                labelers = _labelers(elem)
            elif elem.tag == "image":
                images += 1
                _read_image(rows, images, elem, labelers)
            elif elem.tag == "track":
                _read_track(rows, elem, labelers)
            root.clear()  # keep memory flat on large exports
    except ParseError as exc:
        line, col = exc.position
        reason = str(exc).rsplit(": line", 1)[0]  # expat appends the position we give separately
        message = (
            f"malformed or truncated XML at line {line} col {col + 1}: {reason} ({REEXPORT} again)"
        )
        raise _refuse(shown, "not well-formed XML", message, line=line, col=col + 1) from None
    except defusedxml.DefusedXmlException:
        message = (
            "refused: the XML carries a <!DOCTYPE> with entity declarations, which can expand to "
            "gigabytes (billion laughs) or read local files; CVAT never writes one "
            f"({REEXPORT} again, and do not edit the XML by hand)"
        )
        raise _refuse(shown, "unsafe XML refused", message) from None


def _labelers(meta: Element) -> tuple[str | None, dict[str, str]]:
    """(the job's assignee, task id -> the task's assignee); project exports list many tasks."""
    job = (meta.findtext("job/assignee/username") or "").strip() or None
    tasks = {}
    for task in meta.iter("task"):
        user = (task.findtext("assignee/username") or "").strip()
        if user:
            tasks[(task.findtext("id") or "").strip()] = user
    return job, tasks


def _read_image(
    rows: RowBuilder, index: int, image: Element, labelers: tuple[str | None, dict[str, str]]
) -> None:
    image_id, name, task_id = image.get("id"), image.get("name"), image.get("task_id")
    where = f"image {index} (id {image_id}" + (f", {name})" if name else ")")
    if not name:
        rows.problem(where, "name", "an <image> needs its `name`, the item's file name")
        return
    job, tasks = labelers
    if task_id is not None:
        labeler = job or tasks.get(task_id)
    else:
        labeler = job or (next(iter(tasks.values())) if len(tasks) == 1 else None)
    # image ids restart per task in a project export, so the task joins the key there
    key = f"cvat:{image_id}" if task_id is None else f"cvat:{task_id}:{image_id}"
    source_image = int(image_id) if image_id and image_id.isdigit() else image_id
    if len(image) == 0:  # an image of the job with no shape: the labeler's "no objects here"
        rows.add(
            where=where,
            item_ref=name,
            item_ref_kind="path",
            labeler_ref=labeler,
            annotation_key=key,
            source_ids=json.dumps({"cvat_image": source_image}, separators=(",", ":")),
            empty=True,
            attributes="{}",
        )
        return
    for shape_index, shape in enumerate(image):
        swhere = f"{where}, shape {shape_index + 1} ({shape.tag})"
        if shape.tag not in ("box", "tag"):
            rows.skip(f"unsupported:{shape.tag}")
            continue
        try:
            fields = _shape(shape)
        except _Bad as exc:
            rows.problem(swhere, exc.field, str(exc))
            continue
        if "bbox_x" in fields:  # scaled in validation if the registered size differs
            fields["bbox_units"] = drawn_on(_size(image.get("width")), _size(image.get("height")))
        ids = {"cvat_image": source_image, "cvat_shape_index": shape_index}
        rows.add(
            where=swhere,
            item_ref=name,
            item_ref_kind="path",
            labeler_ref=labeler,
            annotation_key=key,
            source_ids=json.dumps(ids, sort_keys=True, separators=(",", ":")),
            tool_fields=_tool_fields(shape),
            **fields,
        )


def _size(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _tool_fields(shape: Element, **more: Any) -> str | None:
    found = {
        k: shape.get(k)
        for k in ("occluded", "z_order", "source", "keyframe", "outside", "group_id")
    }
    return tool_fields_json({**found, **more})


def _read_track(
    rows: RowBuilder, track: Element, labelers: tuple[str | None, dict[str, str]]
) -> None:
    """One box per frame where the tracked object is visible (``outside="0"``)."""
    track_id, label = track.get("id"), track.get("label")
    where = f"track {track_id}"
    job, tasks = labelers
    labeler = job or (next(iter(tasks.values())) if len(tasks) == 1 else None)
    for box in track:
        if box.tag != "box":
            rows.skip(f"unsupported:{box.tag}")
            continue
        if box.get("outside") == "1":
            rows.skip("outside")  # the object left the frame: nothing to label there
            continue
        frame = box.get("frame", "")
        if not frame.isdigit():
            rows.problem(where, "frame", f"a track's box needs its frame number, got {frame!r}")
            continue
        box.set("label", label or "")
        try:
            fields = _shape(box)
        except _Bad as exc:
            rows.problem(f"{where}, frame {frame}", exc.field, str(exc))
            continue
        ids = {"cvat_track": track_id, "cvat_frame": int(frame)}
        rows.add(
            where=f"{where}, frame {frame}",
            item_ref=f"frame_{int(frame):06d}",
            item_ref_kind="path",
            labeler_ref=labeler,
            annotation_key=f"cvat:frame:{int(frame)}",
            source_ids=json.dumps(ids, sort_keys=True, separators=(",", ":")),
            tool_fields=_tool_fields(box, track_id=track_id, group_id=track.get("group_id")),
            **fields,
        )


class _Bad(ValueError):
    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


def _shape(shape: Element) -> dict[str, Any]:
    label = shape.get("label")
    if not label:
        raise _Bad(f"a <{shape.tag}> needs its `label`", "label")
    attributes: dict[str, Any] = {}
    for attr in shape.findall("attribute"):
        attr_name = attr.get("name")
        if not attr_name:
            raise _Bad("an <attribute> needs its `name`", "attribute")
        attributes[attr_name] = attr.text or ""
    fields: dict[str, Any] = {"class": label}
    if shape.tag == "box":
        corners = {}
        for key in ("xtl", "ytl", "xbr", "ybr"):
            try:
                corners[key] = float(shape.get(key, ""))
            except ValueError:
                corners[key] = math.nan
            if not math.isfinite(corners[key]):
                raise _Bad(f"must be a number of pixels, got {shape.get(key)!r}", key)
        rotation = shape.get("rotation", "0")
        try:
            angle = float(rotation)
        except ValueError:
            raise _Bad(f"must be a number of degrees, got {rotation!r}", "rotation") from None
        if angle % 360:
            message = f"rotated by {rotation} degrees; labelspec holds axis-aligned boxes only (undo the rotation in CVAT)"
            raise _Bad(message, "rotation")
        fields.update(
            bbox_x=corners["xtl"],
            bbox_y=corners["ytl"],
            bbox_w=corners["xbr"] - corners["xtl"],
            bbox_h=corners["ybr"] - corners["ytl"],
        )
        occluded = shape.get("occluded")
        if occluded not in (None, "0", "1"):
            raise _Bad(f"must be 0 or 1, got {occluded!r}", "occluded")
        if occluded is not None and "occluded" not in attributes:
            attributes["occluded"] = occluded == "1"
    fields["attributes"] = attributes_json(attributes)
    return fields
