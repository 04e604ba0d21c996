"""Workspaces for the resolution tests: the QA workspaces (several labelers' votes, boxes and
spans, written out by hand in ``tests/qa/builders.py``), shared read-only for the session."""

from __future__ import annotations

from tests.qa.conftest import (  # noqa: F401 (fixtures)
    copy_of,
    digit_sets,
    digits_votes,
    news_spans,
    qa_built,
    shapes_boxes,
)
from tests.store.conftest import built, labeled_ws, make_store  # noqa: F401 (fixtures)
