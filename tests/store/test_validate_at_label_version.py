"""A label is checked against the spec as released at its own version, not the newest release."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import git, state
from tests.store.conftest import write_jsonl

SPEC = "guidelines/shapes/spec.yaml"
ROTATION_OPTIONAL = (
    "{id: rotation, type: ordinal, values: [none, slight, diagonal], required: false}"
)


def release_without_triangles(run, root: Path) -> None:
    """shapes 2.0.0: the triangle class is removed and a square's rotation becomes required."""
    path = root / SPEC
    text = path.read_text()
    start, end = text.index("  - id: triangle\n"), text.index("changelog:")
    assert ROTATION_OPTIONAL in text
    text = text[:start] + text[end:]
    text = text.replace(ROTATION_OPTIONAL, ROTATION_OPTIONAL.replace("false", "true"))
    text += (
        "  - version: unreleased\n    summary: No triangles; every square says its rotation\n"
        "    affects: [square, triangle]\n    relabel: none\n"
    )
    path.write_text(text)
    git(root, "commit", "-q", "-am", "shapes: no triangles, rotation required")
    run("guideline", "release", "shapes", "--bump", "major", "--date", "2026-01-15", cwd=root)
    run(
        "labeler", "train", "vA-01", "--guideline", "shapes", "--version", "2.0.0",
        "--method", "session", "--score", "1", "--passed", "--date", "2026-01-20", cwd=root,
    )  # fmt: skip


ROWS = [
    {"item_id": "triangle_up.png", "labeler": "vA-01", "class": "triangle",
     "bbox": [24, 20, 80, 80], "attributes": {"occluded": False}},
    {"item_id": "square_big.png", "labeler": "vA-01", "class": "square",
     "bbox": [30, 30, 70, 70], "attributes": {"occluded": False}},  # no rotation
]  # fmt: skip


def labels_import(run, root: Path, source: Path, version: str, expect: int = 0):
    return run(
        "labels", "import", "shapes", str(source), "--format", "jsonl",
        "--guideline", f"shapes@{version}", "--source", "vendor-a", cwd=root, expect=expect,
    )  # fmt: skip


@pytest.fixture
def two_releases(make_store, run) -> Path:
    root = make_store("shapes")
    release_without_triangles(run, root)
    return root


@pytest.mark.parametrize(
    ("row", "cls"),
    [(ROWS[0], "triangle"), (ROWS[1], "square")],
    ids=["class-removed-later", "attribute-required-later"],
)
def test_a_label_is_validated_against_the_spec_released_at_its_own_version(
    two_releases, run, tmp_path, row, cls
):
    """Under 1.0.0 a triangle is a class and a square's rotation is optional, whatever 2.0.0
    says: the label goes in."""
    source = write_jsonl(tmp_path / "old.jsonl", [row])

    labels_import(run, two_releases, source, "1.0.0")

    shown = json.loads(run("labels", "show", "shapes", "--json", cwd=two_releases).stdout)
    assert shown["by_class"] == {cls: 1}
    assert shown["by_guideline_version"] == {"1.0.0": 1}


def test_the_same_labels_under_the_newer_release_are_refused(two_releases, run, tmp_path):
    source = write_jsonl(tmp_path / "new.jsonl", ROWS)
    before = state(two_releases)

    result = labels_import(run, two_releases, source, "2.0.0", expect=1)

    assert [line.strip() for line in result.stderr.splitlines()[1:]] == [
        f"{source}:1: class: unknown class triangle in shapes 2.0.0 (known: circle, square)",
        f"{source}:2: attributes: attribute 'rotation' is required for class 'square'",
    ]
    assert state(two_releases) == before
