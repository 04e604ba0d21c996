"""``verify``: one current answer per item and labeler from relabel merges, and one open relabel
plan per item.

``relabel merge`` supersedes the answering labeler's other current annotations on the item,
but it sees only its own clone: two clones that merge an answer by one labeler on one item
each pass, and a plain ``git pull`` makes both current. An older answer merged after a newer
one keeps both too. Neither is a broken record (a git merge makes it legitimately), so it is a
warning with the repair. Vendor deliveries alone are left out: a tool with its own annotation
keys may hold two answers by one labeler on one item.

``relabel plan`` leaves alone the items another open plan waits on, but it too sees only its own
clone: two clones that each plan one item, then a plain ``git pull``, leave it open in two
plans (as ``relabel plan --planned include`` does on purpose), and merging both asks the
question twice. A warning as well, with the plans to choose between.
"""

from __future__ import annotations

from labelspec.lineage.plans import open_items
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


def items_in_several_plans(ws: Repo, dataset: str) -> list[str]:
    """One warning per set of open plans that wait on the same items (each plan file read once;
    a plan already answered on an item, or closed, no longer waits on it). Closing a plan stops
    the relabeling of every item it waits on, so the repair offered is a plan whose other items
    all wait in another plan too; else merging first, with what closing would drop."""

    waiting = open_items(ws, dataset)
    alone: dict[str, int] = {}  # per plan: the items it alone waits on
    shared: dict[tuple[str, ...], list[str]] = {}
    for item, plans in sorted(waiting.items()):
        if len(plans) == 1:
            alone[plans[0]] = alone.get(plans[0], 0) + 1
        else:
            shared.setdefault(tuple(sorted(plans)), []).append(item)
    found = []
    for plans, items in sorted(shared.items()):
        shown = ", ".join(items[:EXAMPLES])
        more = f" and {len(items) - EXAMPLES} more" if len(items) > EXAMPLES else ""
        both, others = ("both", "the other") if len(plans) == 2 else ("them all", "the others")
        free = [plan for plan in plans if not alone.get(plan)]
        if free:
            fix = (
                f"close {free[-1]} (`labelspec relabel close {dataset} {free[-1]}`: every item "
                f"it waits on waits in another plan too), or merge one plan's answers and then "
                f"close {others}"
            )
        else:
            dropped = ", ".join(f"{plan}: {alone[plan]}" for plan in plans)
            fix = (
                f"merge one plan's answers and then close {others} (closing a plan now also "
                f"stops the items only it waits on: {dropped}; plan them again after)"
            )
        found.append(
            f"{dataset}: {len(items)} item(s) are open in {len(plans)} relabel plans at once, "
            f"{' and '.join(plans)}: {shown}{more} (two clones each planned them, or `relabel "
            f"plan --planned include`); each plan asks for an answer, so merging {both} brings "
            f"{len(plans)} answers to one question. Keep one plan per item: {fix}"
        )
    return found
