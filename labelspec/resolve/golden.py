"""Golden labels for ``golden-first``: the chosen golden version as it is at the snapshot."""

from __future__ import annotations

import pyarrow as pa

from labelspec.errors import LabelspecError, NotFoundError
from labelspec.workspace import Workspace


def golden_at(ws: Workspace, dataset: str, ref: str | None, commit: str) -> tuple[pa.Table, str]:
    """The labels of golden set ``ref`` (``NAME``, ``NAME@vN`` or ``NAME@<batch>``; the only set
    when None) in the tree of ``commit``, and the exact version used (``NAME@<batch>``)."""
    import pyarrow.parquet as pq

    from labelspec.store.golden import load_sets
    from labelspec.store.records import Locator, Record

    sets = load_sets(ws, dataset, rev=commit)
    if not sets:
        raise NotFoundError(
            f"golden-first needs a golden set, and dataset {dataset!r} has none at {commit[:10]} "
            "(add one with `labelspec golden add`, or pick another --method)"
        )
    if ref is None:
        if len(sets) > 1:
            raise LabelspecError(
                f"dataset {dataset!r} has golden sets {', '.join(sets)}: say which with --golden NAME"
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
