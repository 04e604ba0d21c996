"""YOLO detection labels: a folder (or its zip) in the layout of Ultralytics (``data.yaml`` and
``labels/**/*.txt``), of Label Studio's YOLO export (``classes.txt``, ``labels/``, ``images/``) or
of CVAT's "YOLO 1.1" (``obj.names``, ``obj.data``, ``obj_<subset>_data/``).

Each label file holds the boxes of one image, one ``class cx cy w h`` line per box: an index into
the class names, then the box's centre, width and height as fractions of the image size. Rows
are staged in those units (``bbox_units="yolo"``); validation turns them into pixels with the
item's size. One label file is one annotation; a label file without a line is the labeler's
explicit "no objects here" (an image without a label file is not labeled). YOLO names no
labeler: pass ``--labeler``.

YOLO ties a label file to its image by name alone (Ultralytics swaps the last ``images/`` of the
image's path for ``labels/`` and its suffix for ``.txt``; darknet keeps the two side by side), so
the image is found the same way among the export's files and in the image lists that
``data.yaml`` or ``obj.data`` name (``train.txt`` ...). The item is the image's path below its
images folder. ``data.yaml``'s ``path`` names a folder on the training machine and is ignored.

Writing (detection guidelines only): ``data.yaml`` and ``classes.txt`` (the spec's classes in
order), ``images.txt`` (where each image goes) and ``labels/<item>.txt`` (empty for an item
whose answer is "no objects here": a background image); images are not copied. Given each
item's split (a training set), ``<split>.txt`` lists the images of each split and ``data.yaml``
names them: ``train``, ``val`` and ``test`` as Ultralytics reads them, ``eval`` (the golden
items) beside them for ``yolo val split=eval``; without a val split, ``val`` is the train list.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import os
import posixpath
import re
import secrets
import shutil
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import pyarrow as pa

from labelspec import yamlio
from labelspec.errors import ConflictError, InputError, NotFoundError, Problem, ProblemsError
from labelspec.formats.base import RowBuilder, Staged

NAMES_FILES = ("data.yaml", "data.yml", "classes.txt", "obj.names")
# Ultralytics' image formats, and gif, which Label Studio takes
IMAGE_SUFFIXES = {".bmp", ".dng", ".gif", ".heic", ".jpeg", ".jpg", ".mpo", ".pfm", ".png"}
IMAGE_SUFFIXES |= {".tif", ".tiff", ".webp"}
SUBSET_DIR = re.compile(r"obj_.+_data")  # CVAT / darknet: obj_train_data, obj_valid_data ...
SPLITS = ("train", "val", "test")
MAX_FILE_BYTES = 64 * 1024**2  # one label or names file; real ones are a few kilobytes
MAX_TOTAL_BYTES = 4 * 1024**3  # everything read from one zip
MAX_RATIO = 200  # for members over 1 MiB: label text compresses ~5x, deflate bombs ~1000x
MAX_LISTED_NAMES = 10
_INDEX = re.compile(r"[0-9]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_SLACK = 1e-9  # tools round 1.0 to 1.0000000000000002; anything more is a real overflow
MARK = "# YOLO dataset written by labelspec:"


# -- the files of an export: a folder or a zip --------------------------------------------------
@dataclass
class _Tree:
    files: list[str]  # posix paths relative to the folder or the zip, sorted
    read: Callable[[str], bytes]
    shown: Callable[[str], str]  # the name for messages

    def __post_init__(self):
        self.index = set(self.files)

    def __contains__(self, rel: str) -> bool:
        return rel in self.index


def _refuse(where: Path | str, summary: str, message: str) -> ProblemsError:
    problem = Problem(message=message, file=str(where))
    return ProblemsError(f"{where}: {summary}; nothing was imported", [problem])


def export_path(path: Path) -> Path:
    """The whole export ``path`` reads: its folder when ``path`` is a file of it (data.yaml,
    classes.txt ...), else ``path`` (a folder or a zip). What an import keeps as the delivery."""
    path = Path(path)
    if path.is_file() and not zipfile.is_zipfile(path) and _in_export(path):
        return path.parent
    return path


@contextmanager
def _open(path: Path) -> Iterator[_Tree]:
    if path.is_dir():
        yield _folder(path)
    elif path.is_file() and not zipfile.is_zipfile(path) and _in_export(path):
        yield _folder(path.parent)  # a file of the export (its data.yaml ...) stands for it
    elif path.is_file() and zipfile.is_zipfile(path):
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise _refuse(path, "not a readable zip", f"{exc} (download it again)") from None
        with archive:
            yield _zip(path, archive)
    elif path.exists():
        message = "expected a YOLO export: its folder, its zip, or its data.yaml, classes.txt or obj.names"
        raise _refuse(path, "not a YOLO export", message)
    else:
        raise NotFoundError(f"{path}: no such file or folder")


def _in_export(path: Path) -> bool:
    if path.name in NAMES_FILES or path.suffix in (".yaml", ".yml", ".data"):
        return True
    return any(
        p.is_dir() and (p.name == "labels" or SUBSET_DIR.fullmatch(p.name))
        for p in path.parent.iterdir()
    )


def _skipped(rel: str) -> bool:
    """macOS resource forks (``__MACOSX/``, ``._x.txt``) and hidden files are no labels."""
    return any(part.startswith(".") or part == "__MACOSX" for part in rel.split("/"))


def _folder(root: Path) -> _Tree:
    files, seen, stack = [], set(), [(root, "")]
    while stack:  # follows links to folders (images often live elsewhere), never in a cycle
        folder, prefix = stack.pop()
        real = os.path.realpath(folder)
        if real in seen:
            continue
        seen.add(real)
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            raise InputError(f"cannot read {folder}: {exc.strerror}") from None
        for entry in entries:
            rel = prefix + entry.name
            if _skipped(rel):
                continue
            if entry.is_dir():
                stack.append((Path(entry.path), rel + "/"))
            elif entry.is_file():
                files.append(rel)

    def read(rel: str) -> bytes:
        target = os.path.join(root, rel)
        try:
            with open(target, "rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise InputError(f"cannot read {target}: {exc.strerror}") from None
        if len(data) > MAX_FILE_BYTES:
            raise _refuse(target, "file too large", _too_large(rel))
        return data

    return _Tree(sorted(files), read, lambda rel: str(root / rel))


def _too_large(rel: str) -> str:
    return f"{rel} is over {MAX_FILE_BYTES:,} bytes: not a YOLO label or names file"


def _zip(path: Path, archive: zipfile.ZipFile) -> _Tree:
    members: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        name = info.filename.replace("\\", "/")  # zips made on Windows may use backslashes
        parts = name.split("/")
        if name.startswith("/") or re.match(r"[A-Za-z]:", name) or ".." in parts:
            message = f"member {info.filename!r} points outside the zip; refused (download the export again)"
            raise _refuse(path, "unsafe zip", message)
        if not info.is_dir() and not _skipped(name):
            members[name] = info
    budget = [MAX_TOTAL_BYTES]

    def read(rel: str) -> bytes:
        info = members[rel]
        shown = f"{path}:{rel}"
        if info.file_size > MAX_FILE_BYTES:
            raise _refuse(shown, "zip member too large", _too_large(rel))
        if info.file_size > 1024**2 and info.file_size > info.compress_size * MAX_RATIO:
            ratio = info.file_size / max(info.compress_size, 1)
            message = (
                f"{rel} expands {ratio:.0f}x (over {MAX_RATIO}x): refused as a possible zip bomb"
            )
            raise _refuse(shown, "zip member refused", message)
        try:
            with archive.open(info) as stream:  # a size the zip understates is caught here
                data = stream.read(min(MAX_FILE_BYTES, budget[0]) + 1)
        except (zipfile.BadZipFile, zlib.error, RuntimeError, OSError) as exc:
            raise _refuse(shown, "unreadable zip member", f"{exc} (download it again)") from None
        if len(data) > MAX_FILE_BYTES:
            raise _refuse(shown, "zip member too large", _too_large(rel))
        budget[0] -= len(data)
        if budget[0] < 0:
            message = f"unpacks to over {MAX_TOTAL_BYTES:,} bytes of labels: refused as a possible zip bomb"
            raise _refuse(path, "zip too large", message)
        return data

    return _Tree(sorted(members), read, lambda rel: f"{path}:{rel}")


# -- what an export says: class names, image lists, label files ---------------------------------
@dataclass
class _Export:
    tree: _Tree
    root: str  # "" or "folder/": where the names file is
    names: dict[int, str]
    names_file: str
    split_dirs: list[str] = field(default_factory=list)  # data.yaml's train/val/test, below root
    images: dict[str, set[str]] = field(default_factory=dict)  # label file -> image(s)

    def label_files(self) -> list[str]:
        found = []
        for rel in self.tree.files:
            if not rel.startswith(self.root) or not rel.endswith(".txt"):
                continue
            parts = rel[len(self.root) :].split("/")
            if "labels" in parts[:-1] or (len(parts) > 1 and SUBSET_DIR.fullmatch(parts[0])):
                found.append(rel)
        return found

    def item_name(self, image: str) -> str:
        """The image's path below its images folder: what items are registered as."""
        image = image[len(self.root) :]
        for folder in sorted(self.split_dirs, key=len, reverse=True):
            if image.startswith(folder + "/"):
                return image[len(folder) + 1 :]
        parts = image.split("/")
        anchors = [i for i, p in enumerate(parts[:-1]) if p == "images" or SUBSET_DIR.fullmatch(p)]
        return "/".join(parts[anchors[-1] + 1 :]) if anchors else image


def _label_paths(image: str) -> tuple[str, str]:
    """Where the labels of an image are: Ultralytics' ``images/`` -> ``labels/``, and darknet's
    file beside it."""
    stem = posixpath.splitext(image)[0]
    head, sep, tail = ("/" + stem).rpartition("/images/")
    return ((head + "/labels/" + tail)[1:] if sep else stem) + ".txt", stem + ".txt"


def _normalise(value: str, base: str, root: str, darknet: bool = False) -> str | None:
    """A path that data.yaml, obj.data or an image list gives relative to ``base``, as a path
    of the tree inside the export's ``root``; None if it cannot be placed there."""
    value = value.strip().replace("\\", "/")
    if value.startswith("/") or re.match(r"[A-Za-z]:/", value):
        # an absolute path on the machine that wrote it: keep it from its images folder on
        parts = value.split("/")
        anchors = [i for i, p in enumerate(parts) if p == "images" or SUBSET_DIR.fullmatch(p)]
        return root + "/".join(parts[anchors[-1] :]) if anchors else None
    if darknet and value.startswith("data/"):
        value = value[5:]  # darknet paths start at its data/ folder, where the export goes
    found = _resolve(base + value)
    if found is None or not found.startswith(root):
        # Roboflow writes ../train/images for train/images: Ultralytics drops the ../ too
        found = _resolve(root + re.sub(r"^(\.\.?/)+", "", value))
    return found if found and found.startswith(root) else None


def _resolve(path: str) -> str | None:
    kept: list[str] = []
    for part in path.split("/"):
        if part == "..":
            if not kept:
                return None  # above the folder or zip
            kept.pop()
        elif part not in ("", "."):
            kept.append(part)
    return "/".join(kept) or None


def _load(tree: _Tree, shown_root: Path, class_names: list[str] | None = None) -> _Export:
    root, names_file = _names_file(tree, shown_root, class_names is not None)
    if not names_file:  # no names file: the guideline's classes, in spec order
        export = _Export(tree, root, dict(enumerate(class_names or [])), SPEC_NAMES)
        _index_images(export, [])
        return export
    problems: list[Problem] = []
    lists: list[tuple[str, bool]] = []  # image list files, and whether their paths are darknet's
    split_dirs: list[str] = []
    found: dict[str, dict[int, str]] = {}
    for candidate in (names_file, *_other_names_files(tree, root, names_file)):
        text = _text(tree, candidate)
        if candidate.endswith((".yaml", ".yml")):
            names, dirs, listed = _data_yaml(tree, candidate, text, problems)
            split_dirs += [d[len(root) :] for d in (_normalise(v, root, root) for v in dirs) if d]
            lists += [(p, False) for p in (_normalise(v, root, root) for v in listed) if p]
        else:
            names = _names_lines(tree, candidate, text, problems)
        if names is not None:
            found[candidate] = names
    data = root + "obj.data"
    if data in tree:
        for key, value in _obj_data(_text(tree, data)):
            if key not in ("classes", "names", "backup") and value.endswith(".txt"):
                path = _normalise(value, root, root, darknet=True)
                if path:
                    lists.append((path, True))
    if not problems and len({tuple(n.items()) for n in found.values()}) > 1:
        files = " and ".join(found)
        message = f"{files} name different classes: keep one, or make them agree"
        problems.append(Problem(message=message, file=tree.shown(names_file), path="names"))
    if problems:
        raise ProblemsError(
            f"{shown_root}: the class names cannot be read; nothing was imported", problems
        )
    export = _Export(tree, root, found[names_file], names_file, split_dirs)
    _index_images(export, lists)
    return export


def _names_file(tree: _Tree, shown_root: Path, spec_names: bool = False) -> tuple[str, str]:
    """(the export's root folder, its names file): the shallowest data.yaml, classes.txt or
    obj.names, else the one YAML file at the top (Ultralytics accepts any name for it). With
    ``spec_names`` an export without one is the folder above its shallowest ``labels/`` ("" as
    the names file)."""
    named = [f for f in tree.files if posixpath.basename(f) in NAMES_FILES]
    if not named:
        named = [f for f in tree.files if f.endswith((".yaml", ".yml")) and "/" not in f]
        named = named if len(named) == 1 else []
    if not named and spec_names:
        tops = sorted(
            (f.count("/"), f[: f.index("labels/")])
            for f in tree.files
            if f.startswith("labels/") or "/labels/" in f
        )
        if tops:
            return tops[0][1], ""
    if not named:
        raise _refuse(shown_root, "no class names", _no_names(tree))
    depth = min(f.count("/") for f in named)
    roots = sorted(
        {f.rsplit("/", 1)[0] + "/" if "/" in f else "" for f in named if f.count("/") == depth}
    )
    if len(roots) > 1:
        message = f"holds several YOLO exports ({', '.join(r or './' for r in roots)}): import them one at a time"
        raise _refuse(shown_root, "several exports", message)
    root = roots[0]
    for name in NAMES_FILES:
        if root + name in tree:
            return root, root + name
    return root, next(f for f in named if f.count("/") == depth)


def _other_names_files(tree: _Tree, root: str, chosen: str) -> list[str]:
    return [root + n for n in NAMES_FILES if root + n in tree and root + n != chosen]


def _no_names(tree: _Tree) -> str:
    message = (
        "no class names: a YOLO export names its classes in data.yaml (Ultralytics), "
        "classes.txt (Label Studio) or obj.names (CVAT YOLO 1.1)"
    )
    for rel in tree.files:
        if rel.count("/") > 1:
            continue
        name = posixpath.basename(rel)
        near = difflib.get_close_matches(name.lower(), NAMES_FILES, n=1, cutoff=0.75)
        if near:
            return f"{message}; found {rel}: did you mean {near[0]}? (rename it)"
    return message + " (export the labels again with it)"


def _text(tree: _Tree, rel: str) -> str:
    try:
        return tree.read(rel).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _refuse(tree.shown(rel), "not UTF-8 text", _undecodable(exc)) from None


def _undecodable(exc: UnicodeDecodeError) -> str:
    line = exc.object[: exc.start].count(b"\n") + 1
    return (
        f"not UTF-8 text: byte {exc.object[exc.start]:#04x} on line {line} (save the file as UTF-8)"
    )


def _data_yaml(
    tree: _Tree, rel: str, text: str, problems: list[Problem]
) -> tuple[dict[int, str] | None, list[str], list[str]]:
    """(class names, split folders, image list files) of an Ultralytics dataset YAML."""

    shown = tree.shown(rel)
    doc = yamlio.parse(text, shown)  # a SpecError with the line when it is not YAML

    def bad(key: str, message: str) -> None:
        line = yamlio.locate(doc, (key,))[0] if isinstance(doc, dict) and key in doc else None
        problems.append(Problem(message=message, file=shown, line=line, path=key))

    if not isinstance(doc, dict) or "names" not in doc:
        bad("names", "needs `names`: the class names, a list or a map index -> name")
        return None, [], []
    names = _names_map(doc["names"])
    if isinstance(names, str):
        bad("names", names)
        return None, [], []
    nc = doc.get("nc")
    if nc is not None and nc != len(names):
        bad("nc", f"nc is {nc!r} but `names` has {len(names)} classes: make them agree")
    dirs, listed = [], []
    for split in SPLITS:
        values = doc.get(split)
        values = values if isinstance(values, list) else [values]
        for value in (v for v in values if isinstance(v, str) and v.strip()):
            (listed if value.strip().endswith(".txt") else dirs).append(value)
    return names, dirs, listed


def _names_map(raw: Any) -> dict[int, str] | str:
    """Class index -> name, as Ultralytics reads ``names``; a message if it cannot be read."""
    if isinstance(raw, list):
        pairs = list(enumerate(raw))
    elif isinstance(raw, dict):
        try:
            pairs = [(int(k), v) for k, v in raw.items() if not isinstance(k, bool)]
        except (TypeError, ValueError):
            pairs = []
        if len(pairs) != len(raw):
            return "a map of names needs integer keys (0: person, 1: car ...)"
    else:
        return f"must be a list of names or a map index -> name, got {raw!r}"
    names = {}
    for index, value in pairs:
        if value is None or isinstance(value, (dict, list)) or str(value).strip() == "":
            return f"class {index} has no name (got {value!r})"
        names[index] = str(value).strip()
    if names and sorted(names) != list(range(len(names))):
        return f"the class indices must be 0..{len(names) - 1}, got {', '.join(map(str, sorted(names)))}"
    return names


def _names_lines(
    tree: _Tree, rel: str, text: str, problems: list[Problem]
) -> dict[int, str] | None:
    lines = text.split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    empty = [n for n, line in enumerate(lines, 1) if not line.strip()]
    if not lines or empty:
        message = (
            "has no class names"
            if not lines
            else "an empty line: each line names the class of its index (line 1 is class 0)"
        )
        problems.append(
            Problem(message=message, file=tree.shown(rel), line=empty[0] if empty else None)
        )
        return None
    return {n: line.strip() for n, line in enumerate(lines)}


def _obj_data(text: str) -> Iterator[tuple[str, str]]:
    for line in text.split("\n"):
        key, sep, value = line.partition("=")
        if sep:
            yield key.strip(), value.strip()


def _index_images(export: _Export, lists: list[tuple[str, bool]]) -> None:
    """Label file -> the image(s) it belongs to: the export's image files, then image lists."""
    tree = export.tree
    images = [f for f in tree.files if f.startswith(export.root) and _is_image(f)]
    for rel, darknet in dict.fromkeys(lists):
        if rel not in tree:
            continue  # an image list that was not exported: its images are found as files
        base = rel.rsplit("/", 1)[0] + "/" if "/" in rel else ""
        for line in _text(tree, rel).split("\n"):
            entry = line.strip()
            if entry and _is_image(entry):
                start = base if entry.startswith("./") else export.root
                path = _normalise(entry, start, export.root, darknet)
                if path:
                    images.append(path)
    for image in images:
        for label in _label_paths(image):
            export.images.setdefault(label, set()).add(image)


def _is_image(name: str) -> bool:
    return posixpath.splitext(name)[1].lower() in IMAGE_SUFFIXES


# -- reading ------------------------------------------------------------------------------------
SPEC_NAMES = "the guideline's classes"  # names_file of an export that has none


def read(path: Path, class_names: list[str] | None = None, pair_by_name: bool = False) -> Staged:
    """``class_names``: the guideline's classes in spec order, for an export without a names
    file (Label Studio's YOLO export without images has none): index 0 is the first class.

    ``pair_by_name``: an export with neither images nor an image list names each label file's
    item by the file's name alone (``labels/circle_big.txt`` -> the registered item
    ``circle_big.*``, matched at import); without it such an export is refused."""
    path = Path(path)
    rows = RowBuilder(path, "yolo")
    with _open(path) as tree:
        export = _load(tree, path, class_names)
        files = export.label_files()
        if not files:
            message = "no label files: expected labels/**/*.txt (Ultralytics, Label Studio) or obj_<subset>_data/*.txt (CVAT YOLO 1.1)"
            raise _refuse(path, "no YOLO labels", message)
        if not export.images and not pair_by_name:
            message = (
                f"the export holds no images and no image list, so none of its {len(files)} label "
                "file(s) names its item (YOLO pairs them by file name only): export with the images "
                "(Label Studio: YOLO with Images; CVAT: Save images) or keep the image list (train.txt)"
            )
            raise _refuse(path, "no images to pair the labels with", message)
        for rel in files:
            _read_file(rows, export, rel)
    return rows.build()


def _read_file(rows: RowBuilder, export: _Export, rel: str) -> None:
    tree = export.tree

    def bad(line: int | None, field_name: str, message: str) -> None:
        problem = Problem(message=message, file=tree.shown(rel), line=line, path=field_name)
        rows.problems.append(problem)

    try:
        text = tree.read(rel).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad(exc.object[: exc.start].count(b"\n") + 1, "text", _undecodable(exc))
        return
    boxes, shapes, before = [], [], len(rows.problems)
    for number, line in enumerate(text.split("\n"), 1):
        parts = line.split()
        if len(parts) > 6:
            shapes.append((number, len(parts)))
        elif parts:  # blank lines are allowed anywhere
            found = _good_box(line, parts, export.names) or _box(parts, export)
            if isinstance(found, list):
                for field_name, message in found:
                    bad(number, field_name, message)
            else:
                boxes.append((number, found))
    if shapes:
        first, width = shapes[0]
        message = (
            f"{len(shapes)} line(s) hold a polygon, an oriented box or keypoints ({width} values), "
            "which a detection guideline cannot hold: export plain YOLO boxes (class cx cy w h)"
        )
        bad(first, "shape", message)
    if not boxes and len(rows.problems) != before:
        return  # no box read because every line was bad: not an empty answer
    label = rel[len(export.root) :]
    images = export.images.get(rel, set())
    if not export.images:  # no image at all (pair_by_name): the label file's name is the item's
        images = {PurePosixPath(rel).stem}
    if len(images) != 1:
        stem = PurePosixPath(rel).stem
        message = (
            f"two images share this label file ({', '.join(sorted(images))}): keep one of them"
            if images
            else f"no image named {stem}.* for this label file (YOLO pairs them by name): "
            "add it to the export or to its image list"
        )
        bad(None, "image", message)
        return
    item = next(iter(images))
    item = export.item_name(item) if export.images else item
    if not boxes:  # a label file without a box: the labeler's "no objects here"
        rows.add(
            where=label,
            item_ref=item,
            item_ref_kind="path",
            empty=True,
            attributes="{}",
            annotation_key=f"yolo:{label}",
            source_ids='{"yolo_file":' + json.dumps(label) + "}",
        )
        return
    ids = '{"yolo_file":' + json.dumps(label) + ',"yolo_line":'  # made once per file: it is hot
    for number, (class_name, box) in boxes:
        rows.add(
            where=f"{label}, line {number}",
            item_ref=item,
            item_ref_kind="path",
            **{"class": class_name},
            bbox_x=box[0],
            bbox_y=box[1],
            bbox_w=box[2],
            bbox_h=box[3],
            bbox_units="yolo",
            attributes="{}",
            annotation_key=f"yolo:{label}",
            source_ids=f"{ids}{number}}}",
        )


def _good_box(line: str, parts: list[str], names: dict[int, str]) -> tuple | None:
    """The fast path for a well-formed line (most of them): what ``_box`` accepts, or None."""
    if len(parts) != 5 or not parts[0].isdigit() or not line.isascii() or "_" in line:
        return None  # float() would take 1_000 or Arabic-Indic digits: leave them to _box
    try:
        cx, cy, w, h = map(float, parts[1:])
    except ValueError:
        return None
    index = int(parts[0])
    if index in names and 0 <= cx <= 1 and 0 <= cy <= 1 and 0 < w <= 1 and 0 < h <= 1:
        return names[index], [cx, cy, w, h]  # NaN fails every comparison, inf the bound
    return None


def _box(parts: list[str], export: _Export) -> tuple[str, list[float]] | list[tuple[str, str]]:
    """(class name, [cx, cy, w, h]) of one line, or its problems as (field, message)."""
    if len(parts) != 5:
        extra = (
            ": a sixth value is a model's confidence score (import labels, not predictions)"
            if len(parts) == 6
            else ""
        )
        return [("fields", f"expected 5 values (class cx cy w h), got {len(parts)}{extra}")]
    found: list[tuple[str, str]] = []
    raw = parts[0]
    if not _INDEX.fullmatch(raw):
        found.append(("class", f"must be a class index (0, 1, 2 ...), got {raw!r}"))
    elif int(raw) not in export.names:
        found.append(("class", f"class index {raw} is out of range: {_known(export)}"))
    values = []
    for name, text in zip(("cx", "cy", "w", "h"), parts[1:], strict=True):
        value = float(text) if _NUMBER.fullmatch(text) else math.nan
        if not math.isfinite(value):
            found.append((name, f"must be a number from 0 to 1, got {text!r}"))
        elif name in ("w", "h") and value <= 0:
            found.append((name, f"must be positive, got {text}"))
        elif not -_SLACK <= value <= 1 + _SLACK:
            message = f"{text} is outside [0, 1]: YOLO gives fractions of the image size (were pixels written?)"
            found.append((name, message))
        values.append(min(max(value, 0.0), 1.0))  # within the slack: clipped to the image
    return found or (export.names[int(raw)], values)


def _known(export: _Export) -> str:
    names = export.names
    listed = ", ".join(f"{i} {names[i]}" for i in sorted(names)[:MAX_LISTED_NAMES])
    more = ", ..." if len(names) > MAX_LISTED_NAMES else ""
    if export.names_file == SPEC_NAMES:
        return (
            f"the export has no names file, so its classes are the guideline's {len(names)} "
            f"in spec order ({listed}{more}): add the export's classes.txt"
        )
    file = PurePosixPath(export.names_file).name
    return f"{file} names {len(names)} class(es): {listed}{more}"


# -- writing ------------------------------------------------------------------------------------
def _to_yolo(
    box: dict[str, float], width: float, height: float
) -> tuple[float, float, float, float]:
    """A pixel box (top-left x, y, w, h) as YOLO's centre and size in fractions of the image.
    The box is first clipped to the image: validation lets boxes pass an edge by half a pixel."""
    x0, y0 = max(box["x"], 0.0), max(box["y"], 0.0)
    x1, y1 = min(box["x"] + box["w"], width), min(box["y"] + box["h"], height)
    return (x0 + x1) / 2 / width, (y0 + y1) / 2 / height, (x1 - x0) / width, (y1 - y0) / height


def _fraction(value: float) -> str:
    # six significant digits, as most tools write: Ultralytics reads them as float32 anyway
    return format(value, ".6g")


def write(
    labels: pa.Table,
    items: pa.Table,
    spec,
    out: Path,
    snapshot: str | None = None,
    splits: dict[str, str] | None = None,
) -> int:
    """A YOLO dataset folder of the boxes of a detection guideline; returns the boxes written.

    Items are named by their item_id (a path below the images folder, kept with its folders);
    an id without a suffix takes its file's. ``splits`` (item_id -> split) adds a list of
    images per split. Refused before anything is written when a label's class is not in the
    spec, an item has no size or two items would share a label file."""
    out = Path(out)
    if spec.task != "detection":
        # COCO holds no text spans: a ner guideline exports to Label Studio or JSONL only
        others = "labelstudio or jsonl" if spec.task == "ner" else "coco, labelstudio or jsonl"
        raise InputError(
            f"{spec.guideline} is a {spec.task} guideline: YOLO holds the boxes of a detection "
            f"guideline (export as {others})"
        )
    index = {cls.id: n for n, cls in enumerate(spec.classes)}
    rows = sorted(
        labels.to_pylist(), key=lambda r: (r["item_id"], r["annotation_id"], r["label_id"])
    )
    unknown = sorted({r["class"] for r in rows if r["class"] is not None} - set(index))
    if unknown:
        raise InputError(
            f"labels use classes that {spec.guideline} {spec.version} does not have: {', '.join(unknown)} "
            "(export with the guideline version they were made under)"
        )
    _one_answer_per_image(rows)
    known = {r["item_id"]: r for r in items.to_pylist()}
    files = _label_lines(rows, known, index)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} is a file: --out names a folder for a YOLO dataset")
    if out.is_dir() and any(out.iterdir()) and not _ours(out):
        raise ConflictError(
            f"{out} is not empty and holds no labelspec YOLO export: choose a new or empty folder"
        )
    lists = _split_lists(files, splits) if splits is not None else {}
    texts = {
        "data.yaml": _data_yaml_text(spec, snapshot, list(lists)),
        "classes.txt": "".join(f"{cls.id}\n" for cls in spec.classes),
        "images.txt": "".join(f"./images/{name}\n" for name, _, _ in files.values()),
        "README.txt": _readme(
            spec, snapshot, out, _source_folder(known, {r["item_id"] for r in rows}), list(lists)
        ),
        **{f"{split}.txt": text for split, text in lists.items()},
    }
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = out.parent / f".{out.name}.{secrets.token_hex(4)}.tmp"
        staging.mkdir()  # beside out, so that moving it into place is a rename
        try:
            for name, text in texts.items():
                (staging / name).write_text(text, encoding="utf-8")
            (staging / "labels").mkdir()
            for label, (_, lines, _) in files.items():
                target = staging / label
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text("".join(lines), encoding="utf-8")
            _place(staging, out)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    except OSError as exc:
        raise InputError(f"cannot write {out}: {exc.strerror or exc}") from None
    return sum(len(lines) for _, lines, _ in files.values())


def _one_answer_per_image(rows: list[dict]) -> None:
    """Refuse items answered more than once: a YOLO label file names no labeler, so two
    labelers' boxes would stack into one answer (and an empty answer beside boxes vanish)."""
    answers: dict[str, dict[str | None, str | None]] = {}
    for row in rows:  # annotation -> labeler, per item
        answers.setdefault(row["item_id"], {})[row["annotation_id"]] = row.get("labeler_id")
    several = {item: found for item, found in answers.items() if len(found) > 1}
    if not several:
        return
    item, found = next(iter(several.items()))
    labelers = ", ".join(sorted({str(lab) for lab in found.values()}))
    raise InputError(
        f"a YOLO label file holds one answer per image, and {len(several)} item(s) have several "
        f"(first: {item}, {len(found)} answers by {labelers}): export one resolved answer per "
        "item with --resolve (e.g. --resolve majority), or --format coco, which keeps each "
        "labeler's boxes and empty answers"
    )


SPLIT_KEYS = ("train", "val", "test")  # what Ultralytics' data.yaml names


def _split_lists(files: dict[str, tuple[str, list[str], str]], splits: dict[str, str]) -> dict:
    """<split> -> its image list (./images/<name> lines), train, val, test first."""
    lists: dict[str, list[str]] = {}
    for name, _, item_id in files.values():
        lists.setdefault(splits[item_id], []).append(f"./images/{name}\n")
    order = [s for s in SPLIT_KEYS if s in lists] + sorted(set(lists) - set(SPLIT_KEYS))
    return {split: "".join(lists[split]) for split in order}


def _label_lines(
    rows: list[dict], items: dict[str, dict], index: dict[str, int]
) -> dict[str, tuple[str, list[str], str]]:
    """labels/<name>.txt -> (the image's name, its lines, the item id), in item order."""
    files: dict[str, tuple[str, list[str], str]] = {}
    owner: dict[str, str] = {}
    sizeless = []
    for label in rows:
        item_id = label["item_id"]
        item = items.get(item_id)
        if item is None:
            raise InputError(f"item {item_id} has labels but is not in the item manifest")
        width, height = item.get("width"), item.get("height")
        if not width or not height:
            sizeless.append(item_id)
            continue
        if label["bbox"] is None and label["class"] is not None:
            raise InputError(f"label {label['label_id']} of a detection guideline has no box")
        name = _image_name(item)
        path = _label_paths("images/" + name)[0]
        if owner.setdefault(path, item_id) != item_id:
            raise InputError(
                f"items {owner[path]} and {item_id} would share {path}: YOLO pairs an image "
                "with its labels by name without the suffix (register one under another id)"
            )
        lines = files.setdefault(path, (name, [], item_id))[1]
        if label["class"] is None:
            continue  # "no objects here": a background image, an empty label file
        cx, cy, w, h = _to_yolo(label["bbox"], width, height)
        lines.append(f"{index[label['class']]} {' '.join(_fraction(v) for v in (cx, cy, w, h))}\n")
    if sizeless:
        listed = ", ".join(sorted(set(sizeless))[:5])
        raise InputError(
            f"{len(set(sizeless))} labeled item(s) have no width and height ({listed}): YOLO boxes "
            "are fractions of the image size (register the items from their files, or give width "
            "and height in the items manifest)"
        )
    return files


_UNSAFE = re.compile(r'[\x00-\x1f<>:"|?*\\]')  # not allowed in file names on some systems


def _image_name(item: dict) -> str:
    """Where the item's image goes below images/: its id as a relative path that cannot leave
    the folder (no ``..``, no absolute path, no characters file systems refuse)."""
    item_id = item["item_id"]
    parts = []
    for part in item_id.split("/"):
        if part in ("", "."):
            continue
        part = "_" if part == ".." else _UNSAFE.sub("_", part)
        if len(part.encode()) > 200:  # file systems cap a name at 255 bytes
            digest = hashlib.sha256(part.encode()).hexdigest()[:12]
            suffix = PurePosixPath(part).suffix if len(PurePosixPath(part).suffix) < 16 else ""
            part = part.encode()[:100].decode(errors="ignore") + "-" + digest + suffix
        parts.append(part)
    name = "/".join(parts) or hashlib.sha256(item_id.encode()).hexdigest()[:16]
    if not PurePosixPath(name).suffix:
        source = (item.get("path") or item.get("uri") or "").split("?")[0]
        name += PurePosixPath(source).suffix
    return name


def _data_yaml_text(spec, snapshot: str | None, splits: list[str] | None = None) -> str:
    made = f"{spec.guideline} {spec.version}" + (f", snapshot {snapshot}" if snapshot else "")
    if not splits:
        lists = [
            "train: images.txt",
            "val: images.txt  # one list for both: split it for a held-out validation set",
        ]
    else:
        lists = [f"train: {'train' if 'train' in splits else splits[0]}.txt"]
        if "val" in splits:
            lists.append("val: val.txt")
        else:
            lists.append(
                f"val: {lists[0].split(': ')[1]}  # no val split: pin one with "
                "`trainset create --split train=0.9,val=0.1`"
            )
        for split in splits:
            if split not in ("train", "val"):
                note = "  # the golden items: evaluate, never train" if split == "eval" else ""
                key = split if split in (*SPLIT_KEYS, "eval") else json.dumps(split)
                lists.append(f"{key}: {split}.txt{note}")
    lines = [
        f"{MARK} {made}".replace("\n", " "),
        "# Ultralytics reads it as is once the images are in place (see README.txt).",
        *lists,
        f"nc: {len(spec.classes)}",
        "names:",
        # quoted: YAML 1.1, which Ultralytics reads, takes a bare yes/no/null for other types
        *(f"  {n}: {json.dumps(cls.id, ensure_ascii=False)}" for n, cls in enumerate(spec.classes)),
    ]
    return "\n".join(lines) + "\n"


def _source_folder(known: dict[str, dict], exported: set[str]) -> str | None:
    """The one folder (relative to the workspace) whose files are the exported images under the
    names images.txt gives them, when there is one: then one `cp -r` puts them in place."""
    folders = set()
    for item_id in exported:
        path = known[item_id].get("path") or ""
        if _image_name(known[item_id]) != item_id or not path.endswith("/" + item_id):
            return None
        folders.add(path[: -len(item_id) - 1])
    return folders.pop() if len(folders) == 1 else None


def _readme(
    spec, snapshot: str | None, out: Path, folder: str | None, splits: list[str] | None = None
) -> str:
    made = f"{spec.guideline} {spec.version}" + (f" (snapshot {snapshot})" if snapshot else "")
    copy = (
        f"in the workspace, `cp -r {folder}/. {out}/images/` does it"
        if folder
        else "items registered from a folder keep their paths inside it"
    )
    lists = (
        "".join(f"{split + '.txt':<13}the images of the {split} split\n" for split in splits)
        if splits
        else ""
    )
    listed = "the split lists" if splits else "images.txt for train and val"
    return f"""YOLO detection labels of {made}, written by labelspec.

data.yaml    the Ultralytics dataset file: class names, and {listed}
classes.txt  the class names, one per line, line 1 being class 0
images.txt   where each image goes: ./images/<item id>
{lists}labels/      one <item id>.txt per labeled image: class cx cy w h, fractions of its size

The images are not copied: put each item's image where images.txt says
({copy}), then train, for example
`yolo detect train data=data.yaml`. YOLO keeps the class and the box only: labelers,
attributes and guideline versions stay in labelspec (export jsonl for them).
"""


def _ours(out: Path) -> bool:
    try:
        with (out / "data.yaml").open(encoding="utf-8") as handle:
            return handle.readline().startswith(MARK)
    except (OSError, UnicodeDecodeError):
        return False


def _place(staging: Path, out: Path) -> None:
    """Move the new export into ``out``. A new or empty folder takes it whole; an earlier
    labelspec export gets its files and labels/ replaced, keeping the images copied into it."""
    if not out.exists() or not any(out.iterdir()):
        os.replace(staging, out)
        return
    stale = out / f".labels.{secrets.token_hex(4)}.old"
    stale.mkdir()
    if (out / "labels").exists():
        os.replace(out / "labels", stale / "labels")
    try:
        os.replace(staging / "labels", out / "labels")
    except OSError:
        if (stale / "labels").exists():
            os.replace(stale / "labels", out / "labels")  # the earlier export stays whole
        raise
    for path in staging.iterdir():  # data.yaml, classes.txt, the image lists, README.txt
        if path.name != "labels":
            os.replace(path, out / path.name)
    shutil.rmtree(stale, ignore_errors=True)
