"""Which items the newest guideline release makes suspect, decided inside resolution's own scan.

The rules are ``trace impact``'s (``labelspec.lineage.suspicion``): a current label is suspect
when its class, or a class confusable with it, changed since the version it was made under (within
a rule's ``where`` when only a scoped rule changed), or when its labeler's training does not
cover it. ``find_suspects`` answers with a table of every suspect
label, at the cost of scans of its own; resolution needs one bit per item, so it registers the
same rules as small tables and applies them as a join in the scan that reads the votes.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from labelspec.guideline.releases import releases
from labelspec.labelers.training import training_records_at
from labelspec.lineage import coverage, suspicion
from labelspec.lineage.trace import versions_between
from labelspec.repo import Repo


@dataclass
class Rule:
    """SQL over a labels alias ``l``: ``joins`` to add to its FROM clause, ``flag`` per label."""

    joins: str
    flag: str


NONE = Rule("", "false")


def register(con, ws: Repo, guideline: str, present: list[str], commit: str | None = None) -> Rule:
    """Register the rules for labels of ``guideline`` made under the versions ``present``, with
    the training records of revision ``commit`` (the working tree's when None)."""

    released = releases(ws, guideline)
    if not released:
        return NONE
    target = released[-1].version
    older = versions_between(ws, guideline, present, None, target)
    found = suspicion.suspicions(ws, guideline, older, target)
    since = versions_between(ws, guideline, present, None, None)
    item_columns = set(con.sql("select * from items limit 0").columns)
    # tables of a few rows only: cheaper joins in a 10M-row scan than IN (subquery); a rule's
    # `where` is a predicate the scan evaluates only on labels of the classes it concerns
    sql = suspicion.register(con, found, item_columns, prefix="r")
    coverage.register(con, ws, [guideline], training_records_at(ws, commit), name="r_cover")
    con.register("r_since", pa.table({"guideline": [guideline] * len(since), "version": since}))
    return Rule(
        joins=(
            f"{sql.joins} "
            "left join r_since rs on rs.guideline = l.guideline and rs.version = l.guideline_version"
        ),
        # untrained: no covering record dated on or before the label (as trace impact)
        flag=(
            f"(rs.version is not null and (({sql.kind}) is not null "
            f"or not {coverage.covered_sql('r_cover')}))"
        ),
    )
