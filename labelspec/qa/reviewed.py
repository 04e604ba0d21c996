"""Review-based error rates: of the labels reviewers judged, how many they rejected, and why.

Reviews come from ``labelspec.store.reviews`` (recorded by ``labelspec qa review import``); a
label's verdict is its newest review. A label is rejected when its verdict is anything but
``accept`` (reject, wrong_class, misplaced, not_an_object), so the rate stays rejected / reviewed
labels; ``review_verdicts`` counts each kind, and the objects reported missing from the
annotations (those are not labels: they count in neither ``reviewed`` nor ``rejected``). The
figures are over the labels of the ``scored`` view (``labelspec.qa.current.open_scored``), so a
vendor keeps the reviews of what it delivered even after a relabel superseded those labels.
"""

from __future__ import annotations

from typing import Any

from labelspec.qa.current import share
from labelspec.repo import Repo
from labelspec.store.review_checks import LABEL_VERDICTS, MISSING
from labelspec.store.reviews import missing_sql, reviews_at, verdicts_sql

KINDS = (*LABEL_VERDICTS, MISSING)


def register(ws: Repo, con, dataset: str, commit: str) -> int:
    """Register the snapshot's reviews as the ``reviews`` table of ``con``; how many rows."""

    table = reviews_at(ws, dataset, commit)
    con.register("reviews", table)
    return table.num_rows


def rates(con, keys: list[str]) -> dict[tuple, dict[str, Any]]:
    """Per value of ``keys`` (columns of ``scored``): ``reviewed`` labels, ``rejected`` ones,
    the ``review_error_rate`` (rejected / reviewed) and ``review_verdicts`` (kind -> count; a
    missing object counts for the annotation's labeler and source)."""

    columns = ", ".join(f"s.{k}" for k in keys)
    per_kind = ", ".join(f"count(*) filter (where verdict = '{kind}')" for kind in KINDS)
    rows = con.execute(
        f"""
        with judged as (
          select {columns}, v.verdict from ({verdicts_sql()}) v join scored s using (label_id)
          union all
          select {columns}, m.verdict from ({missing_sql(labels="scored")}) m
          join (select distinct annotation_id, {", ".join(keys)} from scored) s
            using (annotation_id)
        )
        select {", ".join(keys)}, {per_kind} from judged group by all order by all"""
    ).fetchall()
    found = {}
    for row in rows:
        counts = dict(zip(KINDS, row[len(keys) :], strict=True))
        reviewed = sum(counts[k] for k in LABEL_VERDICTS)
        rejected = reviewed - counts["accept"]
        found[tuple(row[: len(keys)])] = {
            "reviewed": reviewed,
            "rejected": rejected,
            "review_error_rate": share(rejected, reviewed),
            "review_verdicts": counts,
        }
    return found


EMPTY = {
    "reviewed": 0,
    "rejected": 0,
    "review_error_rate": None,
    "review_verdicts": dict.fromkeys(KINDS, 0),
}
