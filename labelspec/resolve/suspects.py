"""Which items the newest guideline release makes suspect, decided inside resolution's own scan.

The rules are ``trace impact``'s (``labelspec.lineage.trace``): a current label is suspect when
its class, or a class confusable with it, changed since the version it was made under, or when
its labeler's training does not cover it. ``find_suspects`` answers with a table of every suspect
label, at the cost of scans of its own; resolution needs one bit per item, so it registers the
same rules as small tables and applies them as a join in the scan that reads the votes.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from labelspec.workspace import Workspace


@dataclass
class Rule:
    """SQL over a labels alias ``l``: ``joins`` to add to its FROM clause, ``flag`` per label."""

    joins: str
    flag: str


NONE = Rule("", "false")


def register(con, ws: Workspace, guideline: str, present: list[str]) -> Rule:
    """Register the rules for labels of ``guideline`` made under the versions ``present``."""
    from labelspec.guideline.releases import releases
    from labelspec.lineage.trace import suspect_classes, training_table, versions_between

    released = releases(ws, guideline)
    if not released:
        return NONE
    target = released[-1].version
    older = versions_between(ws, guideline, present, None, target)
    rules = suspect_classes(ws, guideline, older, target)
    since = versions_between(ws, guideline, present, None, None)
    con.register(
        "r_affected",
        pa.table(
            {
                "version": [v for v, classes in rules.items() for _ in classes],
                "class": [c for classes in rules.values() for c in classes],
            },
            schema=pa.schema([("version", pa.string()), ("class", pa.string())]),
        ),
    )
    # an empty answer ("no objects here") is suspect when any class changed (lineage rule 6)
    changed = [v for v, classes in rules.items() if "affected" in classes.values()]
    con.register(
        "r_empty", pa.table({"version": changed}, schema=pa.schema([("version", pa.string())]))
    )
    con.register("r_training", training_table(ws).select(["id", "date"]))
    con.register("r_since", pa.table({"guideline": [guideline] * len(since), "version": since}))
    # joins to tables of a few rows only: cheaper in a 10M-row scan than IN (subquery)
    return Rule(
        joins=(
            'left join r_affected ra on ra.version = l.guideline_version and ra."class" = l."class" '
            'left join r_empty re on l."class" is null and re.version = l.guideline_version '
            "left join r_training rt on rt.id = l.training_id "
            "left join r_since rs on rs.guideline = l.guideline and rs.version = l.guideline_version"
        ),
        # untrained: no covering record, or one dated after the label (trace's COVERED)
        flag=(
            "(rs.version is not null and (ra.version is not null or re.version is not null "
            "or rt.id is null "
            "or rt.date::DATE > coalesce(l.created_at::DATE, rt.date::DATE)))"
        ),
    )
