"""Stand-ins for what the writers take: a spec, stored labels (LABEL_SCHEMA) and items."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow as pa

from labelspec.guideline.spec import Spec
from labelspec.store.schema import ITEM_BASE_SCHEMA, LABEL_SCHEMA

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "formats"
T0 = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC)


def make_spec(task: str, classes: dict[str, list[dict]] | None = None) -> Spec:
    """A minimal spec; ``classes`` maps class id -> its attribute definitions."""
    classes = classes or {"car": [], "person": []}
    return Spec.model_validate(
        {
            "guideline": "streets",
            "title": "Street scenes",
            "version": "1.2.0",
            "task": task,
            "classes": [
                {
                    "id": cid,
                    "name": cid.title(),
                    "definition": f'A {cid} & <its> "parts".',
                    "attributes": attrs,
                }
                for cid, attrs in classes.items()
            ],
        }
    )


def labels(rows: list[dict[str, Any]]) -> pa.Table:
    """LABEL_SCHEMA rows; each row gives item_id, annotation_id, class and what else it needs."""
    filled = []
    for n, row in enumerate(rows, 1):
        attributes = row.pop("attributes", {})
        filled.append(
            {
                "label_id": f"L{n:03d}",
                "dataset": "streets",
                "labeler_id": "ann",
                "guideline": "streets",
                "guideline_version": "1.2.0",
                "guideline_digest": "sha256:0",
                "attributes": json.dumps(attributes, sort_keys=True, separators=(",", ":")),
                "source": "test",
                "format": "jsonl",
                "batch_id": "b1",
                **row,
            }
        )
    return pa.Table.from_pylist(filled, schema=LABEL_SCHEMA)


def items(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=ITEM_BASE_SCHEMA)


def rows_of(staged) -> list[dict[str, Any]]:
    """Staged rows without the columns that are None, for readable comparisons."""
    return [{k: v for k, v in row.items() if v is not None} for row in staged.table.to_pylist()]


def problems_of(staged_or_error) -> list[tuple[str, str, str]]:
    """(record, field, message) of every problem."""
    return [(p.record, p.path, p.message) for p in staged_or_error.problems]
