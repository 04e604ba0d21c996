"""``verify``: one current answer per item and labeler from relabel merges.

``relabel merge`` supersedes the answering labeler's other current annotations on the item,
but it sees only its own clone: two clones that merge an answer by one labeler on one item
each pass, and a plain ``git pull`` makes both current. An older answer merged after a newer
one keeps both too. Neither is a broken record (a git merge makes it legitimately), so it is a
warning with the repair. Vendor deliveries alone are left out: a tool with its own annotation
keys may hold two answers by one labeler on one item.
"""

from __future__ import annotations

from labelspec.repo import Repo
from labelspec.store.query import connect

EXAMPLES = 5


def duplicate_answers(ws: Repo, dataset: str, snap) -> list[str]:
    """One warning for the items where one labeler has more than one current annotation, one of
    them from a relabel merge."""

    found = (
        connect(ws, dataset, snap)
        .execute(
            """
            select item_id, labeler_id, list(distinct batch_id order by batch_id) as batches
            from labels
            group by item_id, labeler_id
            having count(distinct annotation_id) > 1 and bool_or(source = 'relabel')
            order by item_id, labeler_id
            """
        )
        .fetchall()
    )
    if not found:
        return []
    shown = "; ".join(
        f"{item} ({labeler}: {', '.join(batches)})" for item, labeler, batches in found[:EXAMPLES]
    )
    more = f"; and {len(found) - EXAMPLES} more" if len(found) > EXAMPLES else ""
    return [
        f"{dataset}: {len(found)} item(s) have more than one current answer by one labeler, "
        f"from relabel merges (two clones merged answers by one labeler, or an older answer was "
        f"merged after a newer one): {shown}{more}. To keep one, retract the batch that should "
        "not count (`labelspec labels retract BATCH --reason ...`), or have the labeler answer "
        "again in a new relabel plan (its merge supersedes both)"
    ]
