"""Ratings for agreement: who said what on which item, as DuckDB tables with dense integer indices.

A *rater* is a labeler (or, for ``by='source'``, a vendor). A rater's rating of an item is its
latest current annotation of that item (latest ``created_at``, then the later batch, then the
larger annotation id), so a
labeler who labeled an item twice counts once. Only items with 2+ raters are kept.

Each ``build_*`` function makes two temp tables for a name ``t``:

``t_rated``   (item_id, rater, item_idx, rater_idx): one row per item a rater rated, dense
              0-based indices in item_id and rater order.
``t_labels``  (item_idx, rater_idx, code, "class", label_id, attributes, bbox, span): the labels
              of those ratings, ``code`` from the ``classes`` table.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np

# The latest annotation: by created_at (unknown counts as oldest), then batch, then id.
_LATEST = """
create or replace temp table {t}_latest as
select item_id, {rater} as rater,
       arg_max(annotation_id, {{'t': coalesce(epoch_us(created_at), -9223372036854775807),
                                'b': batch_id, 'a': annotation_id}}) as annotation_id
from labels group by item_id, {rater}
"""


_KEY = (
    "{'t': coalesce(epoch_us(created_at), -9223372036854775807), 'b': batch_id, 'a': annotation_id}"
)


def build_latest(con: duckdb.DuckDBPyConnection, t: str, rater: str, task: str) -> None:
    """Ratings from each rater's latest annotation per item (``rater`` a label column)."""
    if task == "classification":
        # One label per annotation (import validates it): take the latest label whole, in one
        # aggregation, instead of finding the annotation and joining back to its labels.
        con.execute(
            f"""
            create or replace temp table {t}_chosen as
              select item_id, {rater} as rater, unnest(arg_max(
                {{'class': "class", 'label_id': label_id, 'attributes': attributes, 'bbox': bbox,
                  'span': span, 'annotation_id': annotation_id}}, {_KEY}))
              from labels group by item_id, {rater};
            create or replace temp table {t}_latest as select item_id, rater, annotation_id from {t}_chosen;
            create or replace temp table {t}_raters as select item_id, rater from {t}_chosen;
            """
        )
    else:
        con.execute(_LATEST.format(t=t, rater=rater))
        con.execute(
            f"""
            create or replace temp table {t}_raters as select item_id, rater from {t}_latest;
            create or replace temp table {t}_chosen as
              select l.item_id, a.rater, l."class", l.label_id, l.attributes, l.bbox, l.span
              from labels l join {t}_latest a using (annotation_id);
            """
        )
    _index(con, t)


def build_majority(con: duckdb.DuckDBPyConnection, t: str, task: str) -> None:
    """Sources as raters: a source's label on an item is the majority of its labelers' labels.

    Classification: the class most of the source's labelers gave (ties go to the class listed
    first in the spec). Multilabel: every class more than half of them gave (possibly none).
    Labelers' ratings come from ``build_latest(con, 'labeler', 'labeler_id', task)``.
    """
    keep = (
        "qualify row_number() over (partition by item_id, rater order by votes desc, c.code) = 1"
        if task == "classification"
        else "where votes * 2 > voters"
    )
    con.execute(
        f"""
        create or replace temp table {t}_votes as
          select l.item_id, l.source as rater, l."class", count(distinct l.labeler_id) as votes
          from labels l join labeler_latest a using (annotation_id) group by all;
        create or replace temp table {t}_raters as
          select l.item_id, l.source as rater, count(distinct l.labeler_id) as voters
          from labels l join labeler_latest a using (annotation_id) group by all;
        create or replace temp table {t}_chosen as
          select v.item_id, v.rater, v."class", NULL::VARCHAR as label_id, '{{}}' as attributes,
                 NULL as bbox, NULL as span
          from {t}_votes v join {t}_raters r using (item_id, rater) join classes c using ("class")
          {keep};
        """
    )
    _index(con, t)


def _index(con: duckdb.DuckDBPyConnection, t: str) -> None:
    con.execute(
        f"""
        create or replace temp table {t}_rated as
        with shared as (select item_id from {t}_raters group by 1 having count(*) >= 2)
        select item_id, rater,
               dense_rank() over (order by item_id) - 1 as item_idx,
               dense_rank() over (order by rater) - 1 as rater_idx
        from {t}_raters semi join shared using (item_id);
        create or replace temp table {t}_labels as
        select r.item_idx, r.rater_idx, c.code, x."class", x.label_id, x.attributes, x.bbox, x.span
        from {t}_chosen x join {t}_rated r using (item_id, rater) join classes c using ("class");
        """
    )


@dataclass
class Ratings:
    """The ``t_rated`` and ``t_labels`` tables of one rater kind, as numpy arrays."""

    table: str
    raters: list[str]
    n_items: int
    k: int
    rated_item: np.ndarray  # sorted by (item, rater)
    rated_rater: np.ndarray
    label_item: np.ndarray  # sorted by (item, rater, code)
    label_rater: np.ndarray
    label_code: np.ndarray

    @property
    def per_item(self) -> np.ndarray:
        """How many raters rated each item."""
        return np.bincount(self.rated_item, minlength=self.n_items)

    @property
    def items_per_rater(self) -> np.ndarray:
        return np.bincount(self.rated_rater, minlength=len(self.raters))

    def slot(self, item: np.ndarray, rater: np.ndarray) -> np.ndarray:
        """Each (item, rater)'s position among the item's raters: the row of a packed matrix."""
        row = np.searchsorted(
            self.rated_item * len(self.raters) + self.rated_rater, item * len(self.raters) + rater
        )
        return row - np.searchsorted(self.rated_item, self.rated_item[row])


def load(con: duckdb.DuckDBPyConnection, t: str, k: int) -> Ratings:
    raters = [
        r[0]
        for r in con.execute(
            f"select rater from {t}_rated group by rater, rater_idx order by rater_idx"
        ).fetchall()
    ]
    rated = con.execute(
        f"select item_idx, rater_idx from {t}_rated order by item_idx, rater_idx"
    ).fetchnumpy()
    labels = con.execute(
        f"select item_idx, rater_idx, code from {t}_labels order by item_idx, rater_idx, code"
    ).fetchnumpy()
    return Ratings(
        table=t,
        raters=raters,
        n_items=int(rated["item_idx"].max()) + 1 if len(rated["item_idx"]) else 0,
        k=k,
        rated_item=_ints(rated["item_idx"]),
        rated_rater=_ints(rated["rater_idx"]),
        label_item=_ints(labels["item_idx"]),
        label_rater=_ints(labels["rater_idx"]),
        label_code=_ints(labels["code"]),
    )


def _ints(values) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)
