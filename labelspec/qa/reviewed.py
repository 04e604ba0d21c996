"""Review-based error rates: of the labels reviewers judged, how many they rejected.

Reviews come from ``labelspec.store.reviews`` (recorded by ``labelspec qa review import``); a
label's verdict is its newest review. The rate is over the labels of the ``scored`` view
(``labelspec.qa.current.open_scored``), so a vendor keeps the reviews of what it delivered even
after a relabel superseded those labels.
"""

from __future__ import annotations

from typing import Any

from labelspec.qa.current import share
from labelspec.workspace import Workspace


def register(ws: Workspace, con, dataset: str, commit: str) -> int:
    """Register the snapshot's reviews as the ``reviews`` table of ``con``; how many rows."""
    from labelspec.store.reviews import reviews_at

    table = reviews_at(ws, dataset, commit)
    con.register("reviews", table)
    return table.num_rows


def rates(con, keys: list[str]) -> dict[tuple, dict[str, Any]]:
    """Per value of ``keys`` (columns of ``scored``): ``reviewed`` labels, ``rejected`` ones and
    the ``review_error_rate`` (rejected / reviewed)."""
    from labelspec.store.reviews import verdicts_sql

    columns = ", ".join(f"s.{k}" for k in keys)
    rows = con.execute(
        f"""select {columns}, count(*), count(*) filter (where v.verdict = 'reject')
            from ({verdicts_sql()}) v join scored s using (label_id)
            group by all order by all"""
    ).fetchall()
    return {
        tuple(row[: len(keys)]): {
            "reviewed": row[-2],
            "rejected": row[-1],
            "review_error_rate": share(row[-1], row[-2]),
        }
        for row in rows
    }


EMPTY = {"reviewed": 0, "rejected": 0, "review_error_rate": None}
