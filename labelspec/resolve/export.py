"""Resolved labels as label rows (``LABEL_SCHEMA``), so every export format writes them as it
writes labels (``labels export --resolve M``).

Each item's resolved labels become one annotation by the labeler ``resolved:<method>``, under
the newest guideline version among the labels it came from; ``source_ids`` keeps the label ids
and ``tool_fields`` the confidence, method and suspect flag, so the lineage travels along.
"""

from __future__ import annotations

import pyarrow as pa

_ROWS = """
with chosen as (select row_number() over () as n, * from resolved),
cited as (select c.n, l.guideline, l.guideline_version, l.guideline_digest, r.rank
          from chosen c, unnest(c.label_ids) as u(label_id)
          join labels_all l on l.label_id = u.label_id join ranks r on r.version = l.guideline_version),
newest as (select n, arg_max({{'g': guideline, 'v': guideline_version, 'd': guideline_digest}}, rank) as v
           from cited group by n)
select 'rs-' || left(md5(array_to_string(c.label_ids, ',')), 16) as label_id, c.item_id,
       $dataset as dataset, 'ra-' || left(md5($method || '|' || c.item_id), 16) as annotation_id,
       'resolved:' || $method as labeler_id, NULL::VARCHAR as training_id,
       w.v.g as guideline, w.v.v as guideline_version, w.v.d as guideline_digest, c."class",
       c.bbox, c.span, '{{}}' as attributes, NULL::TIMESTAMPTZ as created_at,
       NULL::DOUBLE as lead_time_s, NULL::DOUBLE as cost, 'resolve:' || $method as source,
       'resolve' as format, to_json({{'label_ids': c.label_ids}})::VARCHAR as source_ids,
       'resolved' as batch_id, NULL::VARCHAR[] as supersedes,
       to_json({{'confidence': c.confidence, 'method': c.method, 'suspect': c.suspect,
                 'labelers': c.labelers}})::VARCHAR as tool_fields
from chosen c join newest w using (n)
order by c.item_id, c."class", c.bbox.x, c.bbox.y, c.span.start
"""


def as_labels(ws, resolved) -> pa.Table:
    """``resolved.labels`` (what a training set holds) as rows of ``LABEL_SCHEMA``."""
    from labelspec.semver import Version
    from labelspec.store.query import connect
    from labelspec.store.schema import LABEL_SCHEMA

    con = connect(ws, resolved.dataset, resolved.commit)
    con.register("resolved", resolved.labels)
    versions = [
        r[0] for r in con.execute("select distinct guideline_version from labels_all").fetchall()
    ]
    ordered = sorted(versions, key=Version.parse)
    con.register("ranks", pa.table({"version": ordered, "rank": list(range(len(ordered)))}))
    rows = con.sql(
        _ROWS.format(), params={"dataset": resolved.dataset, "method": resolved.method}
    ).to_arrow_table()
    # columns later layouts add (the schema grows) start out empty, as in older batches
    columns = [
        rows.column(f.name) if f.name in rows.column_names else pa.nulls(rows.num_rows, f.type)
        for f in LABEL_SCHEMA
    ]
    return pa.Table.from_arrays(columns, schema=LABEL_SCHEMA)
