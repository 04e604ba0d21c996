"""Typed access in the readers: every value of a real export replaced by a value of another type
either parses or becomes a problem (a ``LabelspecError``), never a traceback.

Exhaustive and fast: the readers run on the file alone (no workspace), once per (path, odd
value) of each fixture, where the fuzz test (``tests/store/test_fuzz.py``) samples a few
through the whole import.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labelspec.errors import LabelspecError
from labelspec.formats import read
from tests.formats.build import FIXTURES

ODD = ["text", "", 7, -1.5, True, None, [], ["a", 1], {}, {"x": {"y": "z"}}]
SEEDS = {
    "ls_classification.json": "labelstudio",
    "ls_detection.json": "labelstudio",
    "ls_ner.json": "labelstudio",
    "ls_bad.json": "labelstudio",
    "coco_instances.json": "coco",
    "ls_min.json": "labelstudio",  # JSON-MIN, written below
}
JSON_MIN = [
    {"image": "/data/upload/1/a.png", "id": 1, "annotator": 7, "annotation_id": 11,
     "lead_time": 4.5, "created_at": "2026-02-01T10:00:00Z",
     "label": [{"x": 10, "y": 20, "width": 25, "height": 50, "rectanglelabels": ["circle"],
                "original_width": 200, "original_height": 100}],
     "quality": {"choices": ["sharp"]}},
    {"text": "Ada met Charles.", "id": 2, "annotator": 8, "annotation_id": 12,
     "label": [{"start": 0, "end": 3, "labels": ["person"]}]},
]  # fmt: skip


def _document(seed: str):
    if seed == "ls_min.json":
        return JSON_MIN
    return json.loads((FIXTURES / seed).read_text())


def _paths(value, prefix=()):
    if prefix:
        yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _paths(child, (*prefix, i))


def _replaced(value, path, new):
    if not path:
        return new
    head, *rest = path
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = _replaced(value[head], rest, new)
    return copy


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_any_value_of_another_type_is_read_or_refused_cleanly(tmp_path: Path, seed):
    document = _document(seed)
    target = tmp_path / seed
    tried = 0
    for path in _paths(document):
        for odd in ODD:
            target.write_text(json.dumps(_replaced(document, path, odd)))
            try:
                read(SEEDS[seed], target)
            except LabelspecError:
                pass
            except Exception as exc:  # the assertion names what crashed
                pytest.fail(f"{seed} with {path} = {odd!r}: {type(exc).__name__}: {exc}")
            tried += 1
    assert tried >= 20 * len(ODD)


def test_a_classification_result_whose_value_is_a_string_is_a_problem_of_that_field(tmp_path):
    document = json.loads((FIXTURES / "ls_classification.json").read_text())
    result = document[0]["annotations"][0]["result"][1]
    assert result["from_name"] == "label"  # the class control
    result["value"] = "seven"
    path = tmp_path / "export.json"
    path.write_text(json.dumps(document))

    staged = read("labelstudio", path)

    [problem] = staged.problems
    assert problem.file == str(path)
    assert problem.record == "task 1 (id 101), annotation 1 (id 201), result 2"
    assert problem.path == "value"
    assert "must be an object such as" in problem.message and "'seven'" in problem.message
