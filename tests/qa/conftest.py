"""Labeled workspaces for the QA reports (``tests/qa/builders.py``), built once per session.

The reports only read a workspace, so tests share one build; a test that changes a workspace
copies it first with ``copy_of``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from labelspec.workspace import Workspace
from tests.helpers import git
from tests.qa.builders import DIGIT_ITEMS, TRUTH, build
from tests.store.conftest import write_jsonl

TEMPLATES = {
    "digits": "classification",
    "multilabel": "classification",
    "shapes": "detection",
    "news": "ner",
}


@pytest.fixture(scope="session")
def qa_built(pristine, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    made: dict[str, Path] = {}

    def get(kind: str) -> Path:
        if kind not in made:
            root = tmp_path_factory.mktemp(f"qa-{kind}") / "ws"
            shutil.copytree(pristine(TEMPLATES[kind]), root, symlinks=True)
            build(root, kind)
            assert git(root, "status", "--porcelain") == ""
            made[kind] = root
        return made[kind]

    return get


@pytest.fixture(scope="session")
def digits_votes(qa_built) -> Workspace:
    """Ten digit items labeled by lab-a1, lab-a2 (vendor-a), lab-b1 (vendor-b) and lab-c1
    (vendor-c), one snapshot per labeler (``builders.VOTES``)."""
    return Workspace(qa_built("digits"))


@pytest.fixture(scope="session")
def digit_sets(qa_built) -> Workspace:
    """The digits guideline released as multilabel (2.0.0); four items labeled with sets of
    classes by ml-1, ml-2 (vendor-a) and ml-3 (vendor-b) (``builders.SETS``)."""
    return Workspace(qa_built("multilabel"))


@pytest.fixture(scope="session")
def shapes_boxes(qa_built) -> Workspace:
    """The shape scenes with boxes by det-1, det-2 (vendor-a) and det-3 (vendor-b)."""
    return Workspace(qa_built("shapes"))


@pytest.fixture(scope="session")
def news_spans(qa_built) -> Workspace:
    """Three news texts with spans by ner-1, ner-2 (vendor-a) and ner-3 (vendor-b)."""
    return Workspace(qa_built("news"))


@pytest.fixture
def copy_of(tmp_path: Path) -> Callable[[Workspace], Workspace]:
    def copy(ws: Workspace) -> Workspace:
        root = tmp_path / "copy"
        shutil.copytree(ws.root, root, symlinks=True)
        return Workspace(root)

    return copy


@pytest.fixture
def graded(digits_votes: Workspace, copy_of, run) -> Workspace:
    """The digits votes workspace with a golden set of the true classes."""
    ws = copy_of(digits_votes)
    rows = [{"item_id": item, "class": cls} for item, cls in zip(DIGIT_ITEMS, TRUTH, strict=True)]
    golden = write_jsonl(ws.root.parent / "golden.jsonl", rows)
    run("golden", "add", "digits", str(golden), "--format", "jsonl", cwd=ws.root)
    return ws
