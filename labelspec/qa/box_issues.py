"""Label issues in boxes: where a detector's predictions and the current labels disagree.

The ideas of ObjectLab (Tkachenko et al. 2023, cleanlab's ``object_detection.rank``): every
labeled box, and every confident predicted box no label accounts for, gets a score in 0..1,
lower = more likely a label error; an item's score pools its boxes with a softmin. Each
annotation (one labeler's boxes on an item) is judged on its own against the item's predictions;
an explicit "no objects here" answer is an annotation with no boxes.

Predictions with ``score >= min_score`` (default 0.5) are *confident*. They are paired with the
annotation's boxes one-to-one by ``labelspec.qa.objects.match_objects`` (same class at IoU >=
0.5, then another class at IoU >= 0.5, then any pair at 0.1 <= IoU < 0.5). Then, with ``s`` the
detector's score and ``u`` an IoU:

- **badly placed** (a labeled box paired with prediction p): ``1 - s_p (1 - u_p)``, a confident
  box that overlaps it only partly;
- **wrong class** (a labeled box of class c): ``1 - max(0, R - O)`` over the confident
  predictions covering it (IoU >= 0.5): R the best probability of another class, O of class c
  (a box's probability is its score for its own class and 0 for the others, or its ``probs``);
  a labeled box paired with some prediction scores the lower of these two, and takes its kind;
- **extra box** (a labeled box no confident prediction is left to pair with, e.g. a box drawn
  twice): the best score of a low-confidence prediction near it (IoU >= 0.1), else 0;
- **missing box** (a confident prediction paired with no labeled box): ``1 - s (1 - u)``, u its
  best IoU with a labeled box of the annotation (0 on an empty answer).

A score below ``ISSUE_BELOW`` (0.5) is an issue, of the kind above; a box scored at or above
it is ``no_issue`` (a perfect match is not "badly placed"). The item score is the softmin (temperature 0.1,
as cleanlab) of all its box scores: sum(x e^(-x/T)) / sum(e^(-x/T)); 1.0 for an item with none.
Everything runs on all items at once (numpy and DuckDB), without a Python loop over items.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from labelspec.errors import InputError
from labelspec.qa import metrics
from labelspec.qa.current import number
from labelspec.qa.objects import MISLOCATED_IOU, match_objects
from labelspec.qa.predictions import BoxPredictions

KINDS = ("missing_box", "extra_box", "wrong_class", "badly_placed")  # the kinds of issue
NO_ISSUE = "no_issue"  # the kind of a box scored at or above ISSUE_BELOW
MISSING_BOX, EXTRA_BOX, WRONG_CLASS, BADLY_PLACED, NO_ISSUE_CODE = range(5)
MIN_SCORE = 0.5  # a prediction at least this confident can raise an issue
MATCH_IOU = 0.5  # a prediction covers a box at this IoU (COCO's match)
NEAR_IOU = MISLOCATED_IOU  # below this a prediction is not about the box at all
ISSUE_BELOW = 0.5
TEMPERATURE = 0.1  # softmin pooling of box scores into an item score (cleanlab's default)


@dataclass
class BoxScores:
    """Per labeled box and per predicted box (see the module docstring)."""

    label_score: np.ndarray
    label_kind: np.ndarray  # int8, KINDS codes
    label_partner: np.ndarray  # the prediction behind the score (paired or rival), or -1
    label_iou: np.ndarray  # IoU with that prediction (nan without one)
    missing_score: np.ndarray  # per prediction; nan unless it is a missing-box candidate
    missing_iou: np.ndarray  # per prediction: best IoU with a labeled box of its unit


def score_boxes(
    lab_unit: npt.ArrayLike,
    lab_boxes: npt.ArrayLike,
    lab_class: npt.ArrayLike,
    pred_unit: npt.ArrayLike,
    pred_boxes: npt.ArrayLike,
    pred_class: npt.ArrayLike,
    pred_score: npt.ArrayLike,
    probs: np.ndarray | None = None,
    probs_row: npt.ArrayLike | None = None,
    min_score: float = MIN_SCORE,
) -> BoxScores:
    """Score labeled boxes against predicted ones within each unit (an annotation).

    Units and classes are integer codes; boxes [n, 4] [x, y, w, h]. ``probs`` [r, k] holds the
    class probabilities of the predictions that have them, ``probs_row`` the row of each
    prediction (-1: none, its score counts for its own class only)."""
    lab = metrics._boxes(lab_boxes, "lab_boxes")
    pred = metrics._boxes(pred_boxes, "pred_boxes")
    lab_unit = np.asarray(lab_unit, dtype=np.int64).reshape(-1)
    lab_class = np.asarray(lab_class, dtype=np.int64).reshape(-1)
    pred_unit = np.asarray(pred_unit, dtype=np.int64).reshape(-1)
    pred_class = np.asarray(pred_class, dtype=np.int64).reshape(-1)
    score = np.asarray(pred_score, dtype=np.float64).reshape(-1)
    n_lab, n_pred = len(lab), len(pred)

    confident = np.flatnonzero(score >= min_score)
    matched = match_objects(
        pred_unit[confident], pred[confident], pred_class[confident],
        lab_unit, lab, lab_class, iou=MATCH_IOU, low=NEAR_IOU,
    )  # fmt: skip
    partner = np.where(matched.pr_partner >= 0, confident[matched.pr_partner], -1)
    paired = partner >= 0
    partner_iou = np.full(n_lab, np.nan)
    partner_iou[paired] = metrics._iou(lab[paired], pred[partner[paired]])
    placed = np.ones(n_lab)
    placed[paired] = 1 - score[partner[paired]] * (1 - partner_iou[paired])

    li, pj = metrics._pairs_with_equal_keys(lab_unit, pred_unit)
    iou = metrics._iou(lab[li], pred[pj])
    wrong, rival = _wrong_class(
        li, pj, iou, lab_class, pred_class, score, probs, probs_row, min_score, n_lab
    )
    # extra: nothing confident is left to pair with; only a low-confidence box may back it
    low = (iou >= NEAR_IOU) & (score[pj] < min_score)
    support = np.zeros(n_lab)
    np.maximum.at(support, li[low], score[pj[low]])

    is_wrong = paired & (wrong < placed)
    label_score = np.where(paired, np.minimum(wrong, placed), support)
    label_kind = np.where(is_wrong, WRONG_CLASS, np.where(paired, BADLY_PLACED, EXTRA_BOX))
    label_kind = np.where(label_score < ISSUE_BELOW, label_kind, NO_ISSUE_CODE)
    label_partner = np.where(is_wrong, rival, partner)
    label_iou = partner_iou.copy()
    has_rival = is_wrong & (rival >= 0)
    label_iou[has_rival] = metrics._iou(lab[has_rival], pred[rival[has_rival]])

    best_iou = np.zeros(n_pred)
    np.maximum.at(best_iou, pj, iou)
    missing = np.full(n_pred, np.nan)
    unpaired = confident[matched.gt_partner < 0]
    missing[unpaired] = 1 - score[unpaired] * (1 - best_iou[unpaired])
    return BoxScores(
        label_score, label_kind.astype(np.int8), label_partner, label_iou, missing, best_iou
    )


def _wrong_class(li, pj, iou, lab_class, pred_class, score, probs, probs_row, min_score, n_lab):
    """Per labeled box: 1 - max(0, R - O) over the confident predictions covering it, and the
    prediction giving R (-1 without one)."""
    cover = (iou >= MATCH_IOU) & (score[pj] >= min_score)
    li, pj = li[cover], pj[cover]
    cls = lab_class[li]
    own = np.where(pred_class[pj] == cls, score[pj], 0.0)
    other = np.where(pred_class[pj] != cls, score[pj], 0.0)
    if probs is not None and probs_row is not None and probs.size:
        row = np.asarray(probs_row, dtype=np.int64)[pj]
        has = row >= 0
        table = probs[row[has]]
        k = table.shape[1]
        in_range = cls[has] < k
        own[has] = np.where(in_range, table[np.arange(len(table)), np.minimum(cls[has], k - 1)], 0)
        masked = table.copy()
        masked[np.arange(len(table))[in_range], cls[has][in_range]] = -1.0
        other[has] = np.clip(masked.max(axis=1), 0, None) if k else 0.0
    best_own = np.zeros(n_lab)
    np.maximum.at(best_own, li, own)
    best_other = np.zeros(n_lab)
    np.maximum.at(best_other, li, other)
    rival = np.full(n_lab, -1, np.int64)
    order = np.lexsort((pj, -other, li))  # per labeled box, its strongest rival first
    first = order[np.unique(li[order], return_index=True)[1]]
    rival[li[first]] = np.where(other[first] > 0, pj[first], -1)
    return 1 - np.clip(best_other - best_own, 0, None), rival


# -- the tables behind the reports ---------------------------------------------------------------------
def judge(
    con,
    predictions: BoxPredictions,
    class_ids: list[str],
    min_score: float = MIN_SCORE,
    labels: str = "labels",
) -> None:
    """Score the ``labels`` of ``con`` (a table or view of its current labels, e.g. one
    segment's) against ``predictions``. Leaves ``bx_scored`` (one row per labeled box and per
    missing-box candidate, on items predicted on) and ``bx_items`` (item score, worst kind and
    score, issues) in ``con``."""
    if not 0.0 <= min_score <= 1.0:
        raise InputError(f"--min-score must be between 0 and 1, not {min_score}")
    con.register("bx_boxes_arrow", predictions.boxes)
    con.register("bx_items_arrow", predictions.items)
    known = [c for c in class_ids if c is not None]
    con.register(
        "bx_known_arrow",
        pa.table({"class": known, "code": list(range(len(known)))},
                 schema=pa.schema([("class", pa.string()), ("code", pa.int64())])),
    )  # fmt: skip
    con.execute(
        f"""
        create or replace temp table bx_pred_boxes as select * from bx_boxes_arrow;
        create or replace temp table bx_pred_items as select * from bx_items_arrow;
        create or replace temp table bx_classes as
          select "class", code from bx_known_arrow
          union all
          select "class", (select count(*) from bx_known_arrow) - 1
                          + row_number() over (order by "class") as code
          from (select distinct "class" from {labels} where "class" is not null
                and "class" not in (select "class" from bx_known_arrow));
        create or replace temp table bx_units as
          select item_id, annotation_id,
                 row_number() over (order by item_id, annotation_id) - 1 as unit,
                 labeler_id, source, guideline_version
          from (select item_id, annotation_id, min(labeler_id) as labeler_id,
                       min(source) as source, min(guideline_version) as guideline_version
                from {labels} semi join bx_pred_items using (item_id) group by all);
        create or replace temp table bx_lab as
          select row_number() over (order by u.unit, l.label_id) - 1 as lab, u.unit, c.code,
                 l.label_id, l."class", l.bbox.x as x, l.bbox.y as y, l.bbox.w as w, l.bbox.h as h
          from {labels} l join bx_units u using (item_id, annotation_id)
          join bx_classes c on c."class" = l."class"
          where l.bbox is not null;
        create or replace temp table bx_pred as
          select row_number() over (order by u.unit, p.pid) - 1 as pred, u.unit, c.code, p.*
          from bx_pred_boxes p join bx_units u using (item_id) join bx_classes c using ("class");
        """
    )
    for name in ("bx_boxes_arrow", "bx_items_arrow", "bx_known_arrow"):
        con.unregister(name)
    lab = con.execute("select unit, code, x, y, w, h from bx_lab order by lab").fetchnumpy()
    pred = con.execute(
        "select unit, code, x, y, w, h, score, pid from bx_pred order by pred"
    ).fetchnumpy()
    probs, probs_row = _probs(con, pred["pid"]) if predictions.has_probs else (None, None)
    scores = score_boxes(
        lab["unit"], _stack(lab), lab["code"],
        pred["unit"], _stack(pred), pred["code"], pred["score"],
        probs, probs_row, min_score,
    )  # fmt: skip
    _scored_table(con, scores)


def _stack(columns: dict[str, np.ndarray]) -> np.ndarray:
    return np.column_stack([np.asarray(columns[c], dtype=np.float64) for c in "xywh"]).reshape(
        -1, 4
    )


def _probs(con, pid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The class probabilities of the predicted boxes that give them: [rows, k], and each
    prediction's row (-1 for a box without probs)."""
    con.execute(
        """create or replace temp table bx_probs_rows as
           select pid, row_number() over (order by pid) - 1 as prow
           from bx_pred_boxes where probs is not null"""
    )
    k = con.execute("select count(*) from bx_classes").fetchall()[0][0]
    n = con.execute("select count(*) from bx_probs_rows").fetchall()[0][0]
    cells = con.execute(
        """select r.prow, c.code, e.p from (
             select pid, unnest(map_keys(probs)) as "class", unnest(map_values(probs)) as p
             from bx_pred_boxes where probs is not null) e
           join bx_probs_rows r using (pid) join bx_classes c using ("class")"""
    ).fetchnumpy()
    table = np.zeros((n, k))
    table[np.asarray(cells["prow"], np.int64), np.asarray(cells["code"], np.int64)] = np.asarray(
        cells["p"], np.float64
    )
    rows = con.execute(
        "select coalesce(r.prow, -1) from bx_pred p left join bx_probs_rows r using (pid) "
        "order by p.pred"
    ).fetchnumpy()
    return table, np.asarray(next(iter(rows.values())), np.int64)


def _scored_table(con, s: BoxScores) -> None:
    kinds = pa.array([*KINDS, NO_ISSUE])
    con.register(
        "bx_label_scores",
        pa.table(
            {
                "lab": np.arange(len(s.label_score), dtype=np.int64),
                "score": s.label_score,
                "kind": pa.DictionaryArray.from_arrays(pa.array(s.label_kind), kinds).cast(
                    pa.string()
                ),
                "partner": s.label_partner,
                "iou": pa.array(s.label_iou, from_pandas=True),
            }
        ),
    )
    candidates = np.flatnonzero(~np.isnan(s.missing_score))
    con.register(
        "bx_missing_scores",
        pa.table(
            {
                "pred": candidates.astype(np.int64),
                "score": s.missing_score[candidates],
                "iou": s.missing_iou[candidates],
            }
        ),
    )
    con.execute(
        f"""
        create or replace temp table bx_scored as
        select u.item_id, u.annotation_id, l.label_id, s.kind, s.score, l."class",
               [l.x, l.y, l.w, l.h] as bbox, p."class" as predicted_class,
               case when p.pid is not null then [p.x, p.y, p.w, p.h] end as predicted_bbox,
               p.score as predicted_score, p.pid as predicted_row, s.iou,
               u.labeler_id as labeler, u.source, u.guideline_version
        from bx_label_scores s join bx_lab l using (lab) join bx_units u using (unit)
        left join bx_pred p on p.pred = s.partner
        union all
        select u.item_id, u.annotation_id, NULL,
               case when s.score < {ISSUE_BELOW} then 'missing_box' else '{NO_ISSUE}' end,
               s.score, NULL, NULL, p."class",
               [p.x, p.y, p.w, p.h], p.score, p.pid, s.iou,
               u.labeler_id, u.source, u.guideline_version
        from bx_missing_scores s join bx_pred p using (pred) join bx_units u using (unit);

        create or replace temp table bx_items as
        with least as (select item_id, min(score) as low from bx_scored group by 1)
        select u.item_id,
               coalesce(sum(s.score * exp(-(s.score - m.low) / {TEMPERATURE}))
                        / sum(exp(-(s.score - m.low) / {TEMPERATURE})), 1.0) as score,
               arg_min(s.kind, (s.score, s.label_id, s.predicted_row)) as worst_kind,
               min(s.score) as worst_score,
               count(s.score) filter (where s.score < {ISSUE_BELOW}) as issues
        from (select distinct item_id from bx_units) u
        left join bx_scored s using (item_id) left join least m using (item_id)
        group by 1;
        """
    )
    con.unregister("bx_label_scores")
    con.unregister("bx_missing_scores")


# -- reports --------------------------------------------------------------------------------------------
ORDER = "score, item_id, annotation_id, label_id nulls last, predicted_row nulls last"


def box_report(con, top: int, min_score: float) -> dict[str, Any]:
    """The issues report of ``qa disagreements`` on a detection dataset (after ``judge``)."""
    issue = f"score < {ISSUE_BELOW}"
    ranked = (
        con.sql(
            f"""select s.* exclude (predicted_row), i.path from bx_scored s
                left join items i using (item_id) where s.{issue}
                order by {ORDER} limit {int(top)}"""
        )
        .to_arrow_table()
        .to_pylist()
    )
    items = _worst_items(con, top, min_score)
    counts = dict(
        con.execute(f"select kind, count(*) from bx_scored where {issue} group by 1").fetchall()
    )
    without = con.execute(
        """select count(distinct item_id), count(bbox) from labels
           where item_id not in (select item_id from bx_pred_items)"""
    ).fetchall()[0]
    totals = con.execute(
        f"""select (select count(*) from bx_items), (select count(*) from bx_units),
                   (select count(*) from bx_lab),
                   (select count(distinct pid) from bx_pred where score >= {min_score}),
                   (select count(*) from bx_scored where {issue})"""
    ).fetchall()[0]
    return {
        "items_scored": totals[0],
        "annotations_scored": totals[1],
        "boxes_scored": totals[2],
        "confident_predictions": totals[3],
        "items_without_prediction": without[0],
        "boxes_without_prediction": without[1],
        "issues": totals[4],
        "by_kind": {kind: int(counts.get(kind, 0)) for kind in KINDS},
        "min_score": min_score,
        "issue_below": ISSUE_BELOW,
        "top": [_issue_row(r) for r in ranked],
        "items": items,
        "by_class": _grouped(con, 'coalesce("class", predicted_class)', issue),
        "by_labeler": _grouped(con, "labeler", issue),
    }


def _worst_items(con, top: int, min_score: float) -> list[dict[str, Any]]:
    """The ``top`` items with the lowest scores, each with every scored box (``boxes``: its
    labeled boxes and missing-box candidates, by annotation) and its confident predictions
    (``predicted``, numbered by their row in the predictions file)."""
    rows = con.execute(
        f"""
        with shown as (select * from bx_items order by score, item_id limit {int(top)}),
        scored as (
          select item_id, list({{'annotation_id': annotation_id, 'labeler': labeler,
                                 'source': source, 'guideline_version': guideline_version,
                                 'label_id': label_id, 'class': "class", 'bbox': bbox,
                                 'kind': kind, 'score': score, 'predicted_row': predicted_row,
                                 'predicted_class': predicted_class,
                                 'predicted_score': predicted_score, 'iou': iou}}
                               order by annotation_id, label_id nulls last, predicted_row) as boxes
          from bx_scored where item_id in (select item_id from shown) group by 1),
        predicted as (
          select item_id, list({{'row': pid, 'class': "class", 'bbox': [x, y, w, h],
                                 'score': score}} order by pid) as predicted
          from bx_pred_boxes where score >= {float(min_score)}
            and item_id in (select item_id from shown) group by 1)
        select s.item_id, s.score, s.worst_kind, s.worst_score, s.issues, i.path, i.width,
               i.height, coalesce(b.boxes, []), coalesce(p.predicted, [])
        from shown s left join scored b using (item_id) left join predicted p using (item_id)
        left join items i using (item_id)
        order by s.score, s.item_id
        """
    ).fetchall()
    keys = ("item_id", "score", "worst_kind", "worst_score", "issues", "path", "width", "height")
    return [
        {
            **dict(zip(keys, row[:8], strict=True)),
            "score": number(row[1]),
            "worst_score": number(row[3]),
            "boxes": [_issue_row(box) for box in row[8]],
            "predicted": row[9],
        }
        for row in rows
    ]


def _issue_row(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "score": number(row["score"]), "iou": number(row["iou"])}


def _grouped(con, key: str, issue: str) -> dict[str, dict[str, Any]]:
    """Per group: labeled ``boxes``, ``issues`` and issues per kind, most issues first."""
    kinds = ", ".join(f"count(*) filter (where {issue} and kind = '{k}')" for k in KINDS)
    rows = con.execute(
        f"""select {key} as grp, count(label_id), count(*) filter (where {issue}), {kinds}
            from bx_scored group by 1 order by 3 desc, 1"""
    ).fetchall()
    return {
        name: {"boxes": boxes, "issues": issues, **dict(zip(KINDS, by_kind, strict=True))}
        for name, boxes, issues, *by_kind in rows
    }


def item_scores(con) -> dict[str, tuple[float, str | None, float | None]]:
    """item -> (item score, kind of its worst box, that box's score), after ``judge``."""
    rows = con.execute("select item_id, score, worst_kind, worst_score from bx_items").fetchall()
    return {item: (float(score), kind, worst) for item, score, kind, worst in rows}
