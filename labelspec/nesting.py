"""Bounded nesting for every JSON and YAML document labelspec reads.

Python's parsers recurse once per level, so a file nested a few thousand levels deep (50,000
objects in a JSONL attribute, 20,000 brackets in a YOLO ``data.yaml``) would end in a
``RecursionError`` traceback, in the parser or in any code that walks the result. No labeling
export, spec or record comes near ``MAX_DEPTH`` levels; deeper input is refused with an
``InputError`` that names the file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from labelspec.errors import InputError

MAX_DEPTH = 64


def json_too_deep(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON ``text`` nests brackets deeper than ``limit`` outside strings, scanned
    without recursion (and stopped at the first bracket past the limit)."""
    depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False


def too_deep_message(source: str, kind: str = "JSON") -> str:
    return (
        f"{source}: {kind} nested deeper than {MAX_DEPTH} levels, far deeper than any labeling "
        "export or labelspec file; refused (is it the file you meant?)"
    )


def loads(text: str | bytes, source: str, parse_constant: Callable[[str], Any] | None = None):
    """``json.loads`` with bounded nesting: an ``InputError`` naming ``source`` when ``text``
    is nested deeper than ``MAX_DEPTH``. Other JSON errors are ``json.loads``' own."""
    if isinstance(text, bytes | bytearray):
        text = text.decode("utf-8-sig")
    if json_too_deep(text):
        raise InputError(too_deep_message(source))
    try:
        return json.loads(text, parse_constant=parse_constant)
    except RecursionError:  # pragma: no cover - the check above refuses what could recurse
        raise InputError(too_deep_message(source)) from None


def read_json_file(path, fix: str, what: str = "valid JSON") -> Any:
    """The JSON document in file ``path``; one that is not UTF-8 or not JSON is an
    ``InputError`` naming the file (and line), saying it is not ``what`` and then ``fix``."""
    try:
        return loads(path.read_bytes(), str(path))
    except UnicodeDecodeError:
        raise InputError(f"{path}: not {what}: not UTF-8 text ({fix})") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: not {what}: {exc.msg} ({fix})") from None


def value_too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether a parsed document (dicts and lists) nests deeper than ``limit``, walked without
    recursion. YAML aliases can share a node or make a cycle: a node is walked again only when
    reached deeper than before, so a cycle counts as too deep and sharing costs little."""
    deepest: dict[int, int] = {}
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = list(node.keys()) + list(node.values())
        elif isinstance(node, list | tuple):
            children = list(node)
        else:
            continue
        if depth > limit:
            return True
        if deepest.get(id(node), 0) >= depth:
            continue
        deepest[id(node)] = depth
        stack.extend((child, depth + 1) for child in children)
    return False


def label_json(label: Mapping[str, Any], column: str) -> Any:
    """A stored label's JSON column (``attributes``, ``source_ids``, ``tool_fields``) parsed with
    bounded nesting. Imports refuse deep values, but a batch is only a Parquet file: one written
    or edited by hand could hold anything, and the error names its batch file and label."""
    text = label[column]
    if json_too_deep(text):
        raise InputError(deep_label_message(label["batch_id"], label["label_id"], column))
    return json.loads(text)


def deep_label_message(batch_id: str, label_id: str, column: str) -> str:
    return (
        f"batch file labels/{batch_id}.parquet, label {label_id}: `{column}` is JSON nested "
        f"deeper than {MAX_DEPTH} levels, which no import writes; refused (retract the batch with "
        f"`labelspec labels retract {batch_id} --reason ...` and import its delivery again)"
    )
