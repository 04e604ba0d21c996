"""Training coverage as the read paths judge it: from every record present at the revision asked.

A label's batch keeps the ``training_id`` chosen at import (the record of what was known then).
``trace impact``, ``trace labeler``, ``relabel plan`` and resolution instead recompute coverage
against the training records of the revision they read: a record's ``date``, not the commit that
recorded it, decides which labels it covers. So a pass recorded late, dated on or before a label,
covers it. One small table (``labelspec.labelers.coverage.cover_table``) joined to the labels in
SQL: never a loop over rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from labelspec.guideline.releases import releases
from labelspec.labelers.coverage import COVER_COLUMNS, cover_rows, cover_table
from labelspec.labelers.training import TrainingRecord
from labelspec.repo import Repo
from labelspec.store.engine import small_table

if TYPE_CHECKING:
    import pyarrow as pa  # lazy: only ``covering`` returns Arrow

# The day a label was made: its created_at (UTC), else the day its batch was imported (the batch
# id starts b-YYYYMMDD, UTC), as import judges it. NULL only for a batch id of another shape.
LABEL_DAY = "coalesce(l.created_at::DATE, try_strptime(substr(l.batch_id, 3, 8), '%Y%m%d')::DATE)"


def _pairs(ws: Repo, guidelines: list[str], records: list[TrainingRecord]) -> list[tuple]:
    known = set(guidelines) & set(ws.guideline_names())
    released = {g: [r.version for r in releases(ws, g)] for g in known}
    passed = {(r.guideline, r.labeler) for r in records if r.passed and r.guideline in released}
    return [(g, labeler, v) for g, labeler in sorted(passed) for v in released[g]]


def covering(ws: Repo, guidelines: list[str], records: list[TrainingRecord]) -> pa.Table:
    """Every passing record covering each (guideline, labeler, released version), best first,
    for every labeler with a pass on one of ``guidelines`` (``cover_table``'s columns)."""
    return cover_table(ws, _pairs(ws, guidelines, records), records)


def register(
    con, ws: Repo, guidelines: list[str], records: list[TrainingRecord], name: str = "cover"
) -> None:
    """``covering`` as the DuckDB table ``name`` on ``con`` (``store.engine.small_table``: not
    through Arrow, which would import pandas)."""
    small_table(
        con,
        name,
        list(COVER_COLUMNS.items()),
        cover_rows(ws, _pairs(ws, guidelines, records), records),
    )


# A record ``c`` of the cover table covers label ``l``.
MATCH = (
    "c.guideline = l.guideline and c.labeler_id = l.labeler_id "
    f"and c.version = l.guideline_version and c.date <= coalesce({LABEL_DAY}, c.date)"
)


def covered_sql(name: str = "cover") -> str:
    """SQL over a labels alias ``l``: true when a record of ``name`` covers the label (a covering
    pass dated on or before the label's day; any covering pass when the day is unknown)."""
    return f"exists (select 1 from {name} c where {MATCH})"


def covering_id_sql(name: str = "cover") -> str:
    """SQL over a labels alias ``l``: the best record of ``name`` covering the label, or NULL."""
    return f"(select arg_min(c.training_id, c.rank) from {name} c where {MATCH})"
