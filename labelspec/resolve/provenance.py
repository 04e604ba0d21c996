"""What a resolved row inherits from the labels it came from: their guideline versions and their
attributes.

``label_versions`` lists the guideline version of each label in ``label_ids`` (same order);
``guideline_version`` is the newest of them (semver order), so a box two labelers drew under
1.0.0 and a third under 1.1.0 says 1.1.0 and keeps all three. ``attributes`` is each attribute's
majority value among those labels (a label without the attribute does not vote on it); an
attribute whose top values draw is left out and named in ``attribute_ties``. A row citing no
label (none: every resolved row cites one) gets ``{}`` and no version.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from labelspec.semver import Version

PROVENANCE = pa.schema(
    [
        pa.field("label_versions", pa.list_(pa.string()), nullable=False),
        pa.field("guideline_version", pa.string()),
        pa.field("attributes", pa.string(), nullable=False),
        pa.field("attribute_ties", pa.list_(pa.string()), nullable=False),
    ]
)

_SQL = """
create or replace temp table p_cited as
  select c._n, c.pos, l.guideline_version as version, l.attributes
  from (select _n, unnest(label_ids) as label_id, generate_subscripts(label_ids, 1) as pos
        from p_rows) c
  left join cited_labels l using (label_id);
create or replace temp table p_votes as
  select _n, e.key, e.value::VARCHAR as value, count(*) as n
  from p_cited, json_each(p_cited.attributes) e group by all;
create or replace temp table p_winners as
  select v._n, v.key, any_value(v.value) as value, count(*) as drawn
  from p_votes v join (select _n, key, max(n) as top from p_votes group by all) t
       on v._n = t._n and v.key = t.key and v.n = t.top
  group by all;
"""
_RESULT = """
select r._n,
       coalesce(v.label_versions, []::VARCHAR[]) as label_versions,
       v.guideline_version,
       coalesce(a.attributes, '{}') as attributes,
       coalesce(a.attribute_ties, []::VARCHAR[]) as attribute_ties
from p_rows r
left join (select _n, list(version order by pos) as label_versions,
                  arg_max(version, k.rank) as guideline_version
           from p_cited left join p_ranks k using (version) group by _n) v using (_n)
left join (select _n,
                  '{' || coalesce(string_agg(to_json(key) || ':' || value, ',' order by key)
                                  filter (where drawn = 1), '') || '}' as attributes,
                  coalesce(list(key order by key) filter (where drawn > 1), []::VARCHAR[])
                    as attribute_ties
           from p_winners group by _n) a using (_n)
order by r._n
"""


def provenance(con, rows: pa.Table) -> pa.Table:
    """``rows`` (with a ``label_ids`` column) with the columns of ``PROVENANCE`` set, computed
    from ``cited_labels`` of ``con`` (label_id, guideline_version, attributes)."""
    numbered = pa.table({"_n": np.arange(rows.num_rows), "label_ids": rows.column("label_ids")})
    con.register("p_rows", numbered)
    versions = [
        r[0]
        for r in con.execute(
            "select distinct guideline_version from cited_labels where guideline_version is not null"
        ).fetchall()
    ]
    ordered = sorted(versions, key=Version.parse)
    con.register(
        "p_ranks",
        pa.table(
            {"version": pa.array(ordered, pa.string()), "rank": np.arange(len(ordered))},
        ),
    )
    con.execute(_SQL)
    found = con.sql(_RESULT).to_arrow_table()
    out = rows
    for target in PROVENANCE:
        column = found.column(target.name).cast(target.type)
        if target.name in out.column_names:
            out = out.set_column(out.column_names.index(target.name), target, column)
        else:
            out = out.append_column(target, column)
    for name in ("p_rows", "p_ranks"):
        con.unregister(name)
    return out
