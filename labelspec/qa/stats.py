"""``labeler stats``: per labeler throughput, quality on golden items, agreement with the other
labelers, review-based error rates, and whether their training is current. Sources are
attributed by batch, as everywhere (a relabel answer is source ``relabel``).

Labels per hour are defined as in the bake-off (``qa.bakeoff.speed_and_cost``): the labels that
carry a lead time over their summed lead time, an explicit empty answer ("no objects here")
counting as one label; ``labels`` counts classes, boxes or spans, ``empty_answers`` the rest.

Golden figures judge each labeler on the labels they delivered, exactly as the bake-off judges
a vendor (``qa.current.scored_view``, ``qa.scoring``): accuracy for classification; for
detection box precision, recall and F1 from the one matching of ``qa.objects`` (so a vendor
with one labeler has the same F1 in both); for ner span F1. Agreement with the others is the
share of (item, other labeler) pairs with the same class (classification, multilabel) or, for
boxes and spans, 2M / (n_a + n_b) of ``qa.regions``.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from labelspec.labelers.coverage import status
from labelspec.qa import regions, reviewed, scoring
from labelspec.qa.current import golden_at, open_current, scored_view
from labelspec.qa.ratings import build_latest, load
from labelspec.repo import Repo
from labelspec.store.datasets import dataset_guideline
from labelspec.store.golden import load_sets

IOU = 0.5  # the bake-off's default box overlap

_THROUGHPUT = """
with votes as (
  select a.label_id, b."class", count(*) as n from labels a join labels b
    on a.item_id = b.item_id and a.labeler_id <> b.labeler_id group by 1, 2),
ranked as (select label_id, "class", n, count(*) over (partition by label_id, n) as tied,
                  rank() over (partition by label_id order by n desc) as r from votes),
consensus as (select label_id, "class" from ranked where r = 1 and tied = 1)
select l.labeler_id, count(l."class") as labels, count(distinct l.item_id) as items,
       count(*) - count(l."class") as empty_answers,
       count(l.lead_time_s) as timed, sum(l.lead_time_s) as seconds,
       count(c.label_id) as consensus_labels,
       count(*) filter (where c."class" = l."class") as consensus_agree,
       string_agg(distinct l.source, ', ' order by l.source) as source
from labels l left join consensus c on c.label_id = l.label_id
group by 1 order by 1
"""

_GOLDEN_CLASSES = """
with golden as (select item_id, min("class") as "class" from g group by 1)
select s.labeler_id, count(*), count(*) filter (where go."class" = s."class")
from scored s join golden go using (item_id) group by 1
"""


def labeler_stats(
    ws: Repo, dataset: str, golden: str | None = None, snapshot: str | None = None
) -> list[dict[str, Any]]:
    current = open_current(ws, dataset, snapshot)
    con, task = current.con, current.task
    scored_view(con, "delivered")
    sets = load_sets(ws, dataset)
    if golden is None and sets:
        golden = sorted(sets)[0] if len(sets) == 1 else None
    rows = con.execute(_THROUGHPUT).fetchall()
    quality = _golden_quality(ws, current, golden, [r[0] for r in rows]) if golden else {}
    agreement = _region_agreement(current) if task in ("detection", "ner") else None
    guideline = dataset_guideline(ws, dataset)
    training = {r.labeler: r for r in status(ws, guideline)}
    rates = (
        reviewed.rates(con, ["labeler_id"])
        if reviewed.register(ws, con, dataset, current.commit)
        else {}
    )
    out = []
    for labeler, labels, items, empty, timed, seconds, c_n, c_ok, source in rows:
        state = training.get(labeler)
        if agreement is not None:
            mine = agreement.get(labeler, {})
            c_n, share = mine.get("pairs", 0), mine.get("agreement_with_others")
        else:
            share = (c_ok / c_n) if c_n else None
        out.append(
            {
                "labeler": labeler,
                "source": source,
                "labels": labels,
                "empty_answers": empty,
                "items": items,
                "labels_per_hour": round(timed / (seconds / 3600), 1) if seconds else None,
                "golden": golden,
                **quality.get(labeler, _no_golden(task)),
                "consensus_labels": c_n,
                "consensus_agreement": share,
                "certified": state.certified if state else None,
                "training_current": bool(state and state.covered),
                **rates.get((labeler,), reviewed.EMPTY),
            }
        )
    return out


def _no_golden(task: str) -> dict[str, Any]:
    empty: dict[str, Any] = {"golden_labels": 0, "golden_accuracy": None, "golden_quality": None}
    if task in ("detection", "ner"):
        empty["golden_f1"] = None
    return empty


def _golden_quality(
    ws: Repo, current, golden: str, labelers: list[str]
) -> dict[str, dict[str, Any]]:
    """Per labeler, their delivered labels on golden items scored as the bake-off scores."""
    con, task = current.con, current.task
    table, _ = golden_at(ws, current.dataset, golden, current.commit)
    con.register("g", table)
    if task == "classification":
        found = {}
        for labeler, n, ok in con.execute(_GOLDEN_CLASSES).fetchall():
            found[labeler] = {
                "golden_labels": n,
                "golden_accuracy": ok / n if n else None,
                "golden_quality": ok / n if n else None,
            }
        return found
    if task not in ("detection", "ner"):
        return {}
    con.register(
        "codes", pa.table({"class": current.class_ids, "code": range(len(current.class_ids))})
    )
    found = {}
    for labeler in labelers:
        if task == "detection":
            score = scoring.detection(
                con, labeler, current.class_ids, IOU, boot=0, seed=0, by="labeler_id"
            )
        else:
            score = scoring.spans(con, labeler, current.class_ids, 0, 0, by="labeler_id")
        figures = score.figures
        if not figures["annotations"]:
            continue
        found[labeler] = {
            "golden_labels": figures["n"],
            "golden_accuracy": None,  # boxes and spans have no accuracy: F1 is their figure
            "golden_quality": figures["f1"],
            "golden_f1": figures["f1"],
            "golden_precision": figures["precision"],
            "golden_recall": figures["recall"],
            **({"golden_boxes": figures["boxes"]} if task == "detection" else {}),
        }
    return found


def _region_agreement(current) -> dict[str, dict[str, Any]]:
    """Boxes and spans: each labeler's 2M / (n_a + n_b) against the others (``qa.regions``)."""
    con = current.con
    build_latest(con, "labeler", "labeler_id", current.task)
    ratings = load(con, "labeler", len(current.class_ids))
    if ratings.n_items == 0:
        return {}
    compared = regions.compare(con, "labeler", ratings.raters, ratings.k, current.task)
    return regions.per_rater(compared, ratings.items_per_rater)
