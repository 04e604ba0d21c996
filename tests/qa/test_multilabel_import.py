"""Multilabel imports: an annotation is a set of classes, so a class given twice in one
annotation is a mistake, and the same class in two labelers' annotations is not."""

from __future__ import annotations

import json

import pytest

from labelspec.errors import ProblemsError
from labelspec.labels.ingest import import_labels
from tests.helpers import state
from tests.qa.builders import DIGIT_ITEMS


def _delivery(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def _row(item: int, labeler: str, cls: str) -> dict:
    return {"item_id": DIGIT_ITEMS[item], "labeler": labeler, "class": cls, "attributes": {}}


def test_a_class_twice_in_one_annotation_is_refused_once_with_its_rows(
    digit_sets, copy_of, tmp_path
):
    ws = copy_of(digit_sets)
    rows = [
        _row(0, "ml-1", "four"),
        _row(0, "ml-1", "two"),
        _row(0, "ml-1", "four"),  # four again, in ml-1's annotation of item 0
        _row(0, "ml-2", "four"),  # another labeler's four: fine
        _row(1, "ml-1", "two"),
    ]
    delivery = _delivery(tmp_path / "twice.jsonl", rows)
    before = state(ws.root)

    with pytest.raises(ProblemsError) as caught:
        import_labels(ws, "digits", delivery, "jsonl", "digits@2.0.0", "vendor-a")

    problems = caught.value.problems
    assert [(p.path, p.record) for p in problems] == [("class", "2 rows, lines 1, 3")]
    assert "class four is given twice in one annotation" in problems[0].message
    assert "2 problem(s) (2 class)" in str(caught.value)
    assert state(ws.root) == before


def test_two_classes_in_one_annotation_and_one_class_in_two_import(digit_sets, copy_of, tmp_path):
    ws = copy_of(digit_sets)
    rows = [_row(0, "ml-1", "four"), _row(0, "ml-1", "two"), _row(0, "ml-2", "four")]

    result = import_labels(
        ws, "digits", _delivery(tmp_path / "sets.jsonl", rows), "jsonl", "digits@2.0.0", "vendor-a"
    )

    assert result.labels == 3
