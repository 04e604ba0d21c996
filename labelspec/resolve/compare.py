"""Where two resolutions (or two training sets) disagree, item by item, in DuckDB.

An item's labels are compared as a whole: its class (classification), or the set of its
classes, boxes (corners to a millionth of a pixel) and spans. ``class_changes`` counts
"old -> new" for the items each side gives exactly one label. Two training sets also say which
items moved split (``split_changes``, "train -> val"): none, when both split the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from labelspec.store.engine import database

if TYPE_CHECKING:
    import pyarrow as pa  # lazy: annotations only (the tables come from the caller)

_SETS = """
create temp table {t}_sets as
select item_id,
       list({{'c': "class", 'x': round(bbox.x, 6), 'y': round(bbox.y, 6), 'w': round(bbox.w, 6),
              'h': round(bbox.h, 6), 's': span.start, 'e': span."end"}}
            order by "class", bbox.x, bbox.y, bbox.w, bbox.h, span.start, span."end") as labels,
       count(*) as n, min("class") as one_class
from {t} group by item_id
"""
_COUNTS = """
select count(*) filter (where b.item_id is null) as only_a,
       count(*) filter (where a.item_id is null) as only_b,
       count(*) filter (where a.item_id = b.item_id and a.labels is not distinct from b.labels) as same,
       count(*) filter (where a.item_id = b.item_id and a.labels is distinct from b.labels) as changed
from a_sets a full join b_sets b using (item_id)
"""
_MOVED = """
with a_split as (select distinct item_id, split from a_full),
     b_split as (select distinct item_id, split from b_full)
select a.split || ' -> ' || b.split as change, count(*) as n, min(item_id) as example
from a_split a join b_split b using (item_id)
where a.split <> b.split
group by 1 order by n desc, change
"""
_CHANGES = """
select a.one_class || ' -> ' || b.one_class as change, count(*) as n
from a_sets a join b_sets b using (item_id)
where a.n = 1 and b.n = 1 and a.one_class <> b.one_class
group by 1 order by n desc, change
"""


def compare(a: pa.Table, b: pa.Table, examples: int = 10) -> dict[str, Any]:
    """Counts of items only in ``a``, only in ``b``, labeled the same and labeled differently
    (tables with item_id, class, bbox and span: resolved labels or training sets)."""

    con = database()
    for name, table in (("a", a), ("b", b)):
        con.register(name, table.select(["item_id", "class", "bbox", "span"]))
        con.execute(_SETS.format(t=name))
    only_a, only_b, same, changed = con.execute(_COUNTS).fetchall()[0]
    changes = dict(con.execute(_CHANGES).fetchall())
    moved: dict[str, int] = {}
    moved_examples: list[str] = []
    if "split" in a.column_names and "split" in b.column_names:
        con.register("a_full", a.select(["item_id", "split"]))
        con.register("b_full", b.select(["item_id", "split"]))
        found = con.execute(_MOVED).fetchall()
        moved = {change: n for change, n, _ in found}
        moved_examples = sorted(example for _, _, example in found)[:examples]
    sample = [
        r[0]
        for r in con.execute(
            "select item_id from a_sets a join b_sets b using (item_id) "
            "where a.labels is distinct from b.labels order by item_id limit ?",
            [examples],
        ).fetchall()
    ]
    return {
        "only_a": only_a,
        "only_b": only_b,
        "same": same,
        "changed": changed,
        "class_changes": changes,
        "changed_examples": sample,
        "moved_split": sum(moved.values()),
        "split_changes": moved,
        "moved_examples": moved_examples,
    }
