"""Agreement on boxes (detection) and spans (ner): every pair of raters on an item, compared.

For each item and each pair of its raters (a, b), a's regions are matched one-to-one to b's:
boxes as everywhere in labelspec (``labelspec.qa.objects``: same class at IoU >= 0.5 first,
then across classes), spans when start, end and class are all equal (duplicate spans in one
annotation count once). With M same-class matches and n_a + n_b regions, the agreement is
2M / (n_a + n_b), pooled over all comparisons: for spans this is the exact-span F1 of one rater
against the other (symmetric), for boxes the share of boxes that found a partner of their
class. Boxes two raters put on the same object with different classes are ``confusions``, by
class pair. A rater's explicit "no objects here" is a rating with no region: two such raters
agree (``both_empty``); against a rater who drew regions it is a disagreement
(``one_empty``). Every item with several raters is matched at once, keyed by (rater pair on
the item, class), with no loop over items.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np
import pyarrow as pa

from labelspec.qa import objects
from labelspec.qa.current import number, share

IOU_THRESHOLD = 0.5


@dataclass
class Comparisons:
    """Regions of both sides of every (item, rater pair) comparison, and their matches."""

    raters: list[str]
    k: int
    pair_a: np.ndarray  # rater index of side a of each comparison (a < b)
    pair_b: np.ndarray
    side_pair: np.ndarray  # comparison of each region (both sides)
    side_code: np.ndarray
    match_pair: np.ndarray  # comparison of each match
    match_code: np.ndarray
    match_iou: np.ndarray
    # boxes of one object two raters gave different classes (detection): comparison, codes
    confused_pair: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    confused_a: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    confused_b: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    one_empty: int = 0  # comparisons where one rater drew regions and the other none


def compare(con: duckdb.DuckDBPyConnection, t: str, raters: list[str], k: int, task: str):
    """Match every rater pair's regions on every item; adds a ``t_matched`` table
    (unit, slot, label_id): the two labels of each match, for attribute agreement."""
    con.execute(
        f"""
        create or replace temp table {t}_pairs as
        select a.item_idx, a.rater_idx as ra, b.rater_idx as rb,
               row_number() over (order by a.item_idx, a.rater_idx, b.rater_idx) - 1 as pair
        from {t}_rated a join {t}_rated b on a.item_idx = b.item_idx and a.rater_idx < b.rater_idx
        """
    )
    dedupe = (
        'qualify row_number() over (partition by p.pair, l.code, l.span.start, l.span."end" '
        "order by l.label_id) = 1"
        if task == "ner"
        else ""
    )
    for side, rater in (("a", "ra"), ("b", "rb")):
        con.execute(
            f"""
            create or replace temp table {t}_side_{side} as
            select p.pair, l.code, l.label_id, l.bbox.x as x, l.bbox.y as y, l.bbox.w as w,
                   l.bbox.h as h, l.span.start as s, l.span."end" as e
            from {t}_pairs p join {t}_labels l on l.item_idx = p.item_idx and l.rater_idx = p.{rater}
            {dedupe}
            order by p.pair, l.code, l.label_id
            """
        )
    pairs = con.execute(f"select ra, rb from {t}_pairs order by pair").fetchnumpy()
    a = con.execute(f"select * from {t}_side_a").fetchnumpy()
    b = con.execute(f"select * from {t}_side_b").fetchnumpy()
    confused = {}
    if task == "detection":
        boxes = ["x", "y", "w", "h"]
        m = objects.match_objects(
            _ints(a["pair"]),
            np.column_stack([np.asarray(a[c], dtype=float) for c in boxes]).reshape(-1, 4),
            _ints(a["code"]),
            _ints(b["pair"]),
            np.column_stack([np.asarray(b[c], dtype=float) for c in boxes]).reshape(-1, 4),
            _ints(b["code"]),
            IOU_THRESHOLD,
        )
        ia = np.flatnonzero(m.gt_outcome == objects.HIT)
        ib = m.gt_partner[ia]
        matched = {
            "pair": _ints(a["pair"])[ia],
            "code": _ints(a["code"])[ia],
            "iou": m.gt_iou[ia],
            "label_a": np.asarray(a["label_id"], dtype=object)[ia],
            "label_b": np.asarray(b["label_id"], dtype=object)[ib],
        }
        ca = np.flatnonzero(m.gt_outcome == objects.CONFUSED)
        confused = {
            "confused_pair": _ints(a["pair"])[ca],
            "confused_a": _ints(a["code"])[ca],
            "confused_b": _ints(b["code"])[m.gt_partner[ca]],
        }
    else:
        matched = con.execute(
            f"""select a.pair, a.code, 1.0::DOUBLE as iou, a.label_id as label_a, b.label_id as label_b
                from {t}_side_a a join {t}_side_b b using (pair, code, s, e)
                order by a.pair, a.code, a.s, a.e"""
        ).fetchnumpy()
    n_pairs = len(pairs["ra"])
    per_a = np.bincount(_ints(a["pair"]), minlength=n_pairs)
    per_b = np.bincount(_ints(b["pair"]), minlength=n_pairs)
    n = len(matched["pair"])
    unit = np.arange(n)
    con.register(
        f"{t}_matched_arrow",
        pa.table(
            {
                "unit": np.concatenate([unit, unit]),
                "slot": np.repeat([0, 1], n),
                "label_id": pa.array(
                    np.concatenate([matched["label_a"], matched["label_b"]]).tolist(), pa.string()
                ),
            }
        ),
    )
    con.execute(f"create or replace temp table {t}_matched as select * from {t}_matched_arrow")
    con.unregister(f"{t}_matched_arrow")
    return Comparisons(
        raters=raters,
        k=k,
        pair_a=_ints(pairs["ra"]),
        pair_b=_ints(pairs["rb"]),
        side_pair=np.concatenate([_ints(a["pair"]), _ints(b["pair"])]),
        side_code=np.concatenate([_ints(a["code"]), _ints(b["code"])]),
        match_pair=_ints(matched["pair"]),
        match_code=_ints(matched["code"]),
        match_iou=np.asarray(matched["iou"], dtype=float),
        one_empty=int(((per_a == 0) != (per_b == 0)).sum()),
        **confused,
    )


def summary(c: Comparisons, task: str, raters_key: str = "labelers") -> dict:
    """Pooled agreement: ``matched_agreement`` (boxes) or ``f1`` (spans) = 2M / (n_a + n_b),
    ``matches`` M, ``boxes``/``spans`` n_a + n_b, ``comparisons`` (item, rater pair) compared,
    the rater-by-rater ``pairwise`` matrix of the same figure, and for boxes the ``mean_iou``
    of the matched pairs and the IoU threshold."""
    regions = len(c.side_pair)
    matches = len(c.match_pair)
    n_pairs = len(c.pair_a)
    per_pair_regions = np.bincount(c.side_pair, minlength=n_pairs).astype(float)
    per_pair_matches = np.bincount(c.match_pair, minlength=n_pairs).astype(float)
    size = len(c.raters)
    num = np.zeros((size, size))
    den = np.zeros((size, size))
    np.add.at(num, (c.pair_a, c.pair_b), 2 * per_pair_matches)
    np.add.at(den, (c.pair_a, c.pair_b), per_pair_regions)
    num, den = num + num.T, den + den.T
    matrix = [
        [share(num[i, j], den[i, j]) if i != j else None for j in range(size)] for i in range(size)
    ]
    figure = "matched_agreement" if task == "detection" else "f1"
    sides = np.bincount(c.side_pair, minlength=n_pairs)  # regions per comparison
    out = {
        figure: share(2 * matches, regions),
        "matches": matches,
        "boxes" if task == "detection" else "spans": regions,
        "comparisons": n_pairs,
        "both_empty": int((sides == 0).sum()),
        "one_empty": c.one_empty,
    }
    if task == "detection":
        out["mean_iou"] = number(c.match_iou.mean()) if matches else None
        out["iou_threshold"] = IOU_THRESHOLD
    out["pairwise"] = {raters_key: c.raters, "matrix": matrix}
    return out


def confusions(c: Comparisons, class_ids: list[str]) -> dict[tuple[str, str], int]:
    """Unordered class pair (names in alphabetical order, as ``qa gaps`` keys its pairs) -> how
    many objects two raters boxed with those two classes."""
    low, high = np.minimum(c.confused_a, c.confused_b), np.maximum(c.confused_a, c.confused_b)
    pairs, counts = np.unique(
        np.column_stack([low, high]).reshape(-1, 2), axis=0, return_counts=True
    )
    found = {
        tuple(sorted((class_ids[a], class_ids[b]))): int(n)
        for (a, b), n in zip(pairs.tolist(), counts.tolist(), strict=True)
    }
    return dict(sorted(found.items()))


def per_class(c: Comparisons, class_ids: list[str]) -> dict[str, dict]:
    """Per class: ``specific_agreement`` 2 M_c / (n_a,c + n_b,c), and ``pairs``, the
    comparisons that involve the class: matched pairs plus unmatched regions of the class."""
    regions = np.bincount(c.side_code, minlength=c.k)
    matches = np.bincount(c.match_code, minlength=c.k)
    return {
        class_ids[code]: {
            "specific_agreement": share(2 * matches[code], regions[code]),
            "pairs": int(regions[code] - matches[code]),
            "agreeing_pairs": int(matches[code]),
        }
        for code in np.flatnonzero(regions)
    }


def per_rater(c: Comparisons, items_per_rater: np.ndarray) -> dict[str, dict]:
    """Per rater: ``items`` rated, ``agreement_with_others`` 2M / (n_a + n_b) pooled over the
    comparisons with every other rater (``mean_kappa`` is None: kappa needs classes per item)."""
    n_pairs = len(c.pair_a)
    size = len(c.raters)
    regions = np.bincount(c.side_pair, minlength=n_pairs).astype(float)
    matches = np.bincount(c.match_pair, minlength=n_pairs).astype(float)

    def by_rater(weights: np.ndarray) -> np.ndarray:
        return np.bincount(c.pair_a, weights, minlength=size) + np.bincount(
            c.pair_b, weights, minlength=size
        )

    rater_regions, rater_matches = by_rater(regions), by_rater(matches)
    comparisons = by_rater(np.ones(n_pairs))
    return {
        name: {
            "items": int(items_per_rater[i]),
            "pairs": int(comparisons[i]),
            "agreement_with_others": share(2 * rater_matches[i], rater_regions[i]),
            "mean_kappa": None,
        }
        for i, name in enumerate(c.raters)
    }


def _ints(values) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)
