"""Golden labels for ``golden-first`` and for a training set's ``eval`` split: the chosen golden
version as it is at the snapshot, its labels as resolved rows, and which of them a newer
guideline release makes suspect."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from labelspec.errors import InputError, NotFoundError
from labelspec.guideline.releases import releases
from labelspec.lineage import suspicion
from labelspec.lineage.trace import versions_between
from labelspec.repo import Repo
from labelspec.resolve import classes
from labelspec.resolve.result import RESOLVED_SCHEMA
from labelspec.store.engine import database
from labelspec.store.golden import load_sets
from labelspec.store.records import Locator, Record


def golden_at(
    ws: Repo, dataset: str, ref: str | None, commit: str, purpose: str = "golden-first"
) -> tuple[pa.Table, str]:
    """The labels of golden set ``ref`` (``NAME``, ``NAME@vN`` or ``NAME@<batch>``; the only set
    when None) in the tree of ``commit``, and the exact version used (``NAME@<batch>``).
    ``purpose`` names what needs it in the messages."""

    sets = load_sets(ws, dataset, rev=commit)
    if not sets:
        raise NotFoundError(
            f"{purpose} needs a golden set, and dataset {dataset!r} has none at {commit[:10]} "
            "(add one with `labelspec golden add`, or pick another --method)"
        )
    if ref is None:
        if len(sets) > 1:
            raise InputError(
                f"dataset {dataset!r} has golden sets {', '.join(sets)}: say which {purpose} "
                "uses with --golden NAME"
            )
        ref = next(iter(sets))
    name, _, wanted = ref.partition("@")
    if name not in sets:
        raise NotFoundError(
            f"no golden set {name!r} in {dataset!r} at {commit[:10]} (sets: {', '.join(sets)})"
        )
    versions = sets[name].versions
    chosen = versions[-1] if not wanted else None
    for version in versions:
        if wanted and wanted in (f"v{version.version}", str(version.version), version.batch):
            chosen = version
    if chosen is None:
        listing = ", ".join(f"v{v.version} ({v.batch})" for v in versions)
        raise NotFoundError(f"golden set {name!r} has no version {wanted} (versions: {listing})")
    path = Locator(ws).path(Record(chosen.file, chosen.md5, 0, {}))
    if path is None:
        raise NotFoundError(f"{chosen.file} is not in the workspace; run `labelspec pull`")
    return pq.read_table(path), f"{name}@{chosen.batch}"


# One row per golden label (boxes and spans as drawn), one per class of an item for multilabel.
REGION_ROWS = """
with people as (select item_id, count(distinct labeler_id)::INTEGER as voters from golden group by 1)
select g.item_id, g."class", {bbox} as bbox, {span} as span, 1.0::DOUBLE as confidence,
       'resolved' as status, 'golden' as method, p.voters,
       list(distinct g.labeler_id order by g.labeler_id) as labelers,
       list(g.label_id order by g.label_id) as label_ids
from golden g join people p using (item_id)
group by g.item_id, g."class", {group}, p.voters
"""


_BOX = "STRUCT(x DOUBLE, y DOUBLE, w DOUBLE, h DOUBLE)"
_SPAN = 'STRUCT(start BIGINT, "end" BIGINT)'


def region_rows(con, golden: pa.Table, task: str) -> pa.Table:
    """RESOLVED_SCHEMA rows (without ``suspect``) for the golden labels of a set task."""
    con.register("golden", golden)
    sql = REGION_ROWS.format(
        bbox="g.bbox" if task == "detection" else f"NULL::{_BOX}",
        span="g.span" if task == "ner" else f"NULL::{_SPAN}",
        # every label its own row (even two equal boxes of one expert); multilabel: per class
        group="g.label_id, g.bbox, g.span" if task != "multilabel" else "bbox, span",
    )
    return con.sql(sql).to_arrow_table()


def expert_rows(golden: pa.Table, task: str, class_ids: list[str]) -> pa.Table:
    """RESOLVED_SCHEMA rows of a golden set's labels, method ``golden``, confidence 1: an item's
    class by the experts' majority (classification), every box, span or class as drawn (the
    rest), an empty answer as a ``no objects`` row. ``suspect`` is false: ``golden_suspects``."""
    con = database()
    if task == "classification":
        con.register("labels", golden)
        con.register("classes", pa.table({"class": class_ids, "code": range(len(class_ids))}))
        votes = classes.load_votes(con, class_ids, pc.unique(golden["batch_id"]).to_pylist())
        decided = classes.majority(votes)
        decided.method = "golden"
        return classes.table(votes, decided, np.ones(votes.n_items, bool))
    rows = region_rows(con, golden, task)
    con.register("expert", rows)
    table = con.sql(
        "select *, false as suspect from expert "
        'order by item_id, "class", bbox.x, bbox.y, bbox.w, bbox.h, span.start, span."end"'
    ).to_arrow_table()
    return table.select(RESOLVED_SCHEMA.names).cast(RESOLVED_SCHEMA)


def golden_suspects(con, ws: Repo, guideline: str, golden: pa.Table) -> pa.Array:
    """Item ids of the golden labels the newest guideline release makes suspect, by the lineage
    rules of ``trace impact`` (``labelspec.lineage.suspicion``: a changed class, one confusable
    with it, a rule's ``where``, an empty answer after a change); experts have no training
    records, so the training rule does not apply. ``con`` holds the snapshot's ``items``."""

    released = releases(ws, guideline)
    if not released:
        return pa.array([], pa.string())
    target = released[-1].version
    versions = pc.unique(golden["guideline_version"]).to_pylist()
    older = versions_between(ws, guideline, versions, None, target)
    found = suspicion.suspicions(ws, guideline, older, target)
    item_columns = set(con.sql("select * from items limit 0").columns)
    sql = suspicion.register(con, found, item_columns, prefix="g")
    con.register("g_labels", golden)
    return (
        con.sql(
            f"select distinct l.item_id from g_labels l {sql.joins} "
            f"where ({sql.kind}) is not null order by 1"
        )
        .to_arrow_table()
        .column("item_id")
        .combine_chunks()
    )
