"""What every QA report starts from: a snapshot's current labels, and the spec they were made under.

``open_current`` returns a DuckDB connection with the ``labels`` and ``items`` views of
``labelspec.store.query.connect`` plus a ``classes`` table ``(class, code)``: the spec's class ids
in spec order, then any class the labels use that the spec no longer has (sorted), so reports can
turn classes into the integer codes ``labelspec.qa.metrics`` expects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from labelspec.errors import LabelspecError
from labelspec.guideline.spec import Spec
from labelspec.workspace import Workspace


@dataclass
class Current:
    con: duckdb.DuckDBPyConnection
    dataset: str
    snapshot: str  # the revision as asked for, or its short commit
    guideline: str
    spec: Spec  # as released at the newest guideline version the current labels use
    class_ids: list[str]  # code -> class id

    @property
    def task(self) -> str:
        return self.spec.task


def open_current(ws: Workspace, dataset: str, snapshot: str | int | None = None) -> Current:
    """The current labels of ``snapshot`` (the latest when None); refuses a snapshot without labels."""
    from labelspec.guideline.releases import spec_at
    from labelspec.semver import Version
    from labelspec.store.datasets import dataset_guideline
    from labelspec.store.query import connect
    from labelspec.store.snapshots import snapshot as snapshot_at

    guideline = dataset_guideline(ws, dataset)
    chosen = snapshot_at(ws, dataset, snapshot)
    con = connect(ws, dataset, chosen)
    versions = [
        r[0] for r in con.execute("select distinct guideline_version from labels").fetchall()
    ]
    if not versions:
        raise LabelspecError(
            f"dataset {dataset!r} has no current labels in {chosen.name} (import labels first)"
        )
    spec = spec_at(ws, guideline, str(max(Version.parse(v) for v in versions)))
    used = [r[0] for r in con.execute('select distinct "class" from labels order by 1').fetchall()]
    class_ids = spec.class_ids + [c for c in used if c not in spec.class_ids]
    con.register(
        "classes_arrow",
        pa.table({"class": class_ids, "code": list(range(len(class_ids)))}),
    )
    con.execute("create temp table classes as select * from classes_arrow")
    con.unregister("classes_arrow")
    return Current(con, dataset, chosen.name, guideline, spec, class_ids)


def number(value: Any) -> float | None:
    """A float for JSON: None for nan (an undefined coefficient), else the value."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def share(part: float, whole: float) -> float | None:
    """part / whole, or None when there is nothing to divide by."""
    return float(part) / float(whole) if whole else None
