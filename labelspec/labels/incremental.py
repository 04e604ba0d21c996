"""Cumulative deliveries: what an export adds to the history, and what it only repeats.

Labeling tools export everything each time. An annotation's id is a function of what it is
(``labels.validate``): the namespace it came from (the source, or a relabel plan), the tool's
own key for it, its item, labeler and content. Against every batch in HEAD's tree:

- an annotation whose id is known is **unchanged** and left out (a re-export adds nothing);
- one whose key is known, for the same labeler on the same item, under another id was
  **updated** in the tool: it is stored and supersedes the current versions of that key on
  that item (the old ones stay in their batches). The labeler is part of the identity: formats
  without an annotator (COCO, YOLO) give the same tool key to every labeler's export of an
  image, told apart by ``--labeler``. So is the item: tool ids that restart per export (COCO
  image ids, a CVAT task's image ids) give two deliveries' different images the same key, and
  an annotation never replaces one on another item;
- anything else is **new**, a key already known on another item included: the stored
  annotation there stays current.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa

from labelspec.repo import Repo
from labelspec.store.engine import Rows, database
from labelspec.store.query import _sql_list
from labelspec.store.schema import LABEL_SCHEMA
from labelspec.store.snapshots import batch_paths, snapshot


@dataclass
class Incremental:
    rows: Rows  # the rows to store, with key-based supersedes filled in (held by DuckDB)
    new: int | None  # annotations (None: a first delivery's, left to the batch writer to count)
    updated: int
    unchanged: int
    superseded: int  # earlier versions (annotations) the updates replace
    superseded_labels: int = 0  # their labels (an annotation of several boxes has several)

    @property
    def table(self) -> pa.Table:

        return self.rows.arrow(LABEL_SCHEMA, "item_id, annotation_id, label_id")

    def counts(self) -> dict[str, int]:
        return {"new": self.new, "updated": self.updated, "unchanged": self.unchanged}


# Semi and anti joins, not ``in`` / ``not in`` subqueries (mark joins, which cannot spill): a
# cumulative re-export of 20M labels against a 20M-label history ran out of 320MB with those.
# A key matches on its item and labeler too: the same key on another item is another annotation.
_SPLIT = """
create or replace temp table incoming_keys as
  select distinct annotation_key, item_id, labeler_id from incoming where annotation_key is not null;
create or replace temp table incoming_ids as select distinct annotation_id from incoming;
create or replace temp table known as
  select annotation_id, annotation_key, item_id, labeler_id
  from history semi join incoming_keys using (annotation_key, item_id, labeler_id)
  union all
  select annotation_id, annotation_key, item_id, labeler_id
  from history semi join incoming_ids using (annotation_id);
create or replace temp table gone as
  select distinct unnest(supersedes) as annotation_id from history where supersedes is not null;
create or replace temp table current_by_key as
  select annotation_key, item_id, labeler_id, list(distinct annotation_id order by annotation_id) as ids
  from known anti join gone using (annotation_id) anti join incoming_ids using (annotation_id)
  group by 1, 2, 3;
create or replace temp table kept as
  select i.* replace (
      case when c.ids is null then i.supersedes
           else list_distinct(list_concat(coalesce(i.supersedes, []), c.ids)) end as supersedes)
  from (select * from incoming anti join known using (annotation_id)) i
  left join current_by_key c using (annotation_key, item_id, labeler_id);
"""


def against_history(
    ws: Repo, dataset: str, incoming: Rows | pa.Table, git, count_new: bool = True
) -> Incremental:
    """Split ``incoming`` (a validated batch) into what the history already holds and the rest;
    the rest stays in DuckDB (``Incremental.rows``), so a large delivery never enters Python.
    ``count_new=False``: a first delivery's annotations are left uncounted (``new`` None) for
    the batch writer, which counts them as it writes them."""

    if not isinstance(incoming, Rows):
        con = database()
        con.register("given", incoming)
        con.execute("create or replace temp table given_rows as select * from given")
        incoming = Rows(con, "given_rows")
    con = incoming.con
    snap = snapshot(ws, dataset, None, git)
    if not snap.batches:  # a dataset's first delivery: nothing known, nothing to split (1M: -1.4 s)
        new = None
        if count_new:
            query = f"select count(distinct annotation_id) from {incoming.name}"
            (new,) = con.execute(query).fetchall()[0]
        return Incremental(incoming, new, 0, 0, 0)
    # read several times below: computed once (the validated rows are a view)
    con.execute(f"create or replace temp table incoming as select * from {incoming.name}")
    incoming.drop()
    history = "select annotation_id, annotation_key, supersedes, item_id, labeler_id from incoming limit 0"
    if snap.batches:
        paths = _sql_list(batch_paths(ws, snap))
        history = (
            "select annotation_id, annotation_key, supersedes, item_id, labeler_id "
            f"from read_parquet({paths}, union_by_name = true)"
        )
        try:
            con.execute(f"create or replace temp view history as {history}")
        except duckdb.BinderException:  # batches from before annotation keys (no later one)
            history = history.replace("annotation_key,", "NULL::VARCHAR as annotation_key,")
    con.execute(f"create or replace temp view history as {history}")
    con.execute(_SPLIT)
    (unchanged,) = con.execute(
        "select count(distinct annotation_id) from incoming semi join known using (annotation_id)"
    ).fetchall()[0]
    updated, superseded = con.execute(
        """select count(distinct k.annotation_id), coalesce(sum(len(c.ids)), 0) from
           (select distinct annotation_id, annotation_key, item_id, labeler_id from kept) k
           join current_by_key c using (annotation_key, item_id, labeler_id)"""
    ).fetchall()[0]
    (total,) = con.execute("select count(distinct annotation_id) from kept").fetchall()[0]
    superseded_labels = 0
    if superseded:  # the history's rows of the replaced annotations (read only when there are)
        (superseded_labels,) = con.execute(
            """select count(*) from history semi join (
                 select unnest(c.ids) as annotation_id from current_by_key c
                 semi join kept k using (annotation_key, item_id, labeler_id)) s
               using (annotation_id)"""
        ).fetchall()[0]
    con.execute("drop table incoming")  # kept holds what is stored
    # kept fills supersedes in; every other column is as the incoming rows had it
    constants = {k: v for k, v in (incoming.constants or {}).items() if k != "supersedes"}
    return Incremental(
        Rows(con, "kept", constants),
        total - updated,
        updated,
        unchanged,
        superseded,
        superseded_labels,
    )
