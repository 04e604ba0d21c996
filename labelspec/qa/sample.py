"""A reproducible sample of current labels, written as one static HTML page to look through.

The unit is an annotation: what one labeler gave one item in one pass (a class, a set of
classes, boxes or spans). With ``by`` the annotations are split into groups (labeler, source, or
class; an annotation's class is the one it gives most often, ties to the spec's order) and each
group gets an equal share of ``n`` (a group smaller than its share gives the rest to the others;
what does not divide evenly goes to the first groups by name). Within a group annotations are
taken in the order of md5(seed:annotation_id), so the same seed draws the same sample on any
machine, and a larger ``n`` extends a smaller one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from labelspec.errors import InputError
from labelspec.qa.current import open_current
from labelspec.qa.gallery import render
from labelspec.repo import Repo
from labelspec.store.schema import NO_OBJECTS
from labelspec.yamlio import atomic_write_text

BY = {"labeler": "labeler_id", "source": "source", "class": "primary_class"}


def sample(
    ws: Repo,
    dataset: str,
    out: Path | str,
    n: int = 50,
    by: str | None = None,
    seed: int = 0,
    snapshot: str | int | None = None,
) -> dict[str, Any]:
    """Draw about ``n`` annotations (stratified by ``by``) and write them as an HTML gallery.

    Returns ``out``, the number of ``labels`` and ``annotations`` shown, and ``groups``: the
    annotations drawn per group value (empty without ``by``). Boxes and spans are numbered in
    reading order (top to bottom, left to right; spans by start), on the item and in the
    review rows.
    """

    if n < 1:
        raise InputError(f"n must be at least 1, not {n}")
    if by is not None and by not in BY:
        raise InputError(f"by must be one of {', '.join(BY)}, not {by!r}")
    out = Path(out)
    if out.is_dir():
        raise InputError(
            f"{out} is a folder; give the page a file name, such as {out / 'sample.html'}"
        )
    current = open_current(ws, dataset, snapshot)
    con = current.con
    con.execute(
        f"""
        create temp table annotations as
        with per_class as (
          select annotation_id, "class", count(*) as n from labels group by all
        ),
        main_class as (  -- an explicit "no objects" answer (class null) is its own group
          select annotation_id, coalesce("class", $empty) as primary_class
          from per_class left join classes using ("class")
          qualify row_number() over (partition by annotation_id order by n desc, code nulls last) = 1
        )
        select l.annotation_id, any_value(l.item_id) as item_id,
               any_value(l.labeler_id) as labeler_id, any_value(l.source) as source,
               any_value(l.guideline_version) as guideline_version,
               any_value(m.primary_class) as primary_class,
               {f"any_value({BY[by]})" if by else "''"}::VARCHAR as grp,
               md5($seed || ':' || l.annotation_id) as draw
        from labels l join main_class m using (annotation_id)
        group by l.annotation_id
        """,
        {"seed": str(seed), "empty": NO_OBJECTS},
    )
    sizes = dict(
        con.execute("select grp, count(*) from annotations group by 1 order by 1").fetchall()
    )
    quotas = _quotas(sizes, n)
    con.register("quotas", pa.table({"grp": list(quotas), "quota": list(quotas.values())}))
    cards = (
        con.sql(
            """
            with chosen as (
              select a.* from annotations a join quotas q using (grp)
              qualify row_number() over (partition by grp order by draw) <= q.quota
            )
            select c.*, i.path, i.media, i.text,
                   list({'label_id': l.label_id, 'class': l."class", 'code': k.code, 'bbox': l.bbox, 'span': l.span,
                         'attributes': l.attributes}
                        order by l.span.start, l.bbox.y, l.bbox.x, l.label_id) as labels
            from chosen c join labels l using (annotation_id)
            left join classes k on k."class" = l."class"
            left join items i on i.item_id = c.item_id
            group by all order by c.grp, c.item_id, c.annotation_id
            """
        )
        .to_arrow_table()
        .to_pylist()
    )
    html, missing = render(ws, current, cards, by, seed)
    atomic_write_text(out, html)
    groups = {}
    for card in cards:
        groups[card["grp"]] = groups.get(card["grp"], 0) + 1
    return {
        "dataset": dataset,
        "snapshot": current.snapshot,
        "out": str(out),
        "by": by,
        "seed": seed,
        "labels": sum(len(card["labels"]) for card in cards),
        "annotations": len(cards),
        "groups": groups if by else {},
        "missing_media": missing,
    }


def _quotas(sizes: dict[str, int], n: int) -> dict[str, int]:
    """How many annotations each group gives: the largest equal share q with
    sum(min(size, q)) <= n, then one more for the first groups (by name) that have room,
    until n (or every annotation) is used."""
    total = min(n, sum(sizes.values()))
    lo, hi = 0, max(sizes.values(), default=0)
    while lo < hi:  # bisection on the share, over group sizes (not rows)
        mid = (lo + hi + 1) // 2
        if sum(min(s, mid) for s in sizes.values()) <= total:
            lo = mid
        else:
            hi = mid - 1
    quotas = {g: min(s, lo) for g, s in sizes.items()}
    left = total - sum(quotas.values())
    for group in sorted(sizes):
        if left and sizes[group] > quotas[group]:
            quotas[group] += 1
            left -= 1
    return quotas
