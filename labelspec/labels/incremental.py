"""Cumulative deliveries: what an export adds to the history, and what it only repeats.

Labeling tools export everything each time. An annotation's id is a function of what it is
(``labels.validate``): the namespace it came from (the source, or a relabel plan), the tool's
own key for it, its item, labeler and content. Against every batch in HEAD's tree:

- an annotation whose id is known is **unchanged** and left out (a re-export adds nothing);
- one whose key is known under another id was **updated** in the tool: it is stored and
  supersedes the current versions of that key (the old ones stay in their batches);
- anything else is **new**.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from labelspec.store.engine import database
from labelspec.workspace import Workspace


@dataclass
class Incremental:
    table: pa.Table  # the rows to store, with key-based supersedes filled in
    new: int  # annotations
    updated: int
    unchanged: int
    superseded: int  # earlier versions the updates replace

    def counts(self) -> dict[str, int]:
        return {"new": self.new, "updated": self.updated, "unchanged": self.unchanged}


_SPLIT = """
create temp table incoming_keys as select distinct annotation_key from incoming;
create temp table incoming_ids as select distinct annotation_id from incoming;
create temp table known as
  select annotation_id, annotation_key from history
  where annotation_key in (select annotation_key from incoming_keys)
     or annotation_id in (select annotation_id from incoming_ids);
create temp table gone as
  select distinct unnest(supersedes) as annotation_id from history where supersedes is not null;
create temp table current_by_key as
  select annotation_key, list(distinct annotation_id order by annotation_id) as ids from known
  where annotation_id not in (select annotation_id from gone)
    and annotation_id not in (select annotation_id from incoming_ids)
  group by 1;
create temp table kept as
  select i.* replace (
      case when c.ids is null then i.supersedes
           else list_distinct(list_concat(coalesce(i.supersedes, []), c.ids)) end as supersedes)
  from incoming i left join current_by_key c using (annotation_key)
  where i.annotation_id not in (select annotation_id from known);
"""


def against_history(ws: Workspace, dataset: str, table: pa.Table, git) -> Incremental:
    """Split ``table`` (a validated batch) into what the history already holds and the rest."""
    from labelspec.store.query import _sql_list
    from labelspec.store.snapshots import batch_paths, snapshot

    snap = snapshot(ws, dataset, None, git)
    con = database()
    con.register("incoming", table)
    if snap.batches:
        paths = _sql_list(batch_paths(ws, snap))
        con.execute(
            "create view history as select annotation_id, annotation_key, supersedes "
            f"from read_parquet({paths}, union_by_name = true)"
        )
    else:
        con.register(
            "history", table.select(["annotation_id", "annotation_key", "supersedes"]).slice(0, 0)
        )
    con.execute(_SPLIT)
    (unchanged,) = con.execute(
        "select count(distinct annotation_id) from incoming where annotation_id in (select annotation_id from known)"
    ).fetchall()[0]
    updated, superseded = con.execute(
        """select count(distinct k.annotation_id), coalesce(sum(len(c.ids)), 0) from
           (select distinct annotation_id, annotation_key from kept) k
           join current_by_key c using (annotation_key)"""
    ).fetchall()[0]
    (total,) = con.execute("select count(distinct annotation_id) from kept").fetchall()[0]
    kept = con.sql("select * from kept order by item_id, annotation_id, label_id").to_arrow_table()
    return Incremental(kept.cast(table.schema), total - updated, updated, unchanged, superseded)
