"""One source's quality on a golden set, per task, with what the bake-off's bootstraps resample.

Each scorer reads the ``scored`` view (``labelspec.qa.current.open_scored``) joined to the golden
labels ``g`` and the ``codes`` table (class -> code, spec order), for one source, and returns a
``Score``: the figures people read (quality, kappa, macro-F1, per-class precision / recall / F1
with the counts behind them) and ``Units``, one per annotation (a labeler's pass over an item),
which the intervals resample.

classification  a label is correct when its class is the golden class of its item; a class the
                golden version does not know is always wrong.
detection       boxes match golden boxes one-to-one across classes (``labelspec.qa.objects``):
                each golden box is a hit, a confusion, mislocated or missed, each labeled box
                a hit, a confusion, mislocated or extra; F1 = 2 hits / (golden + labeled
                boxes), and a confusion matrix with a background row and column.
ner             a span is correct when start, end and class equal a golden span's.

``correct_priced`` counts the correct labels that carry a cost, so that
$/correct = cost / correct_priced is never below $/label = cost / priced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from labelspec.qa import metrics, objects

# the one definition of labels/h the bake-off and ``labeler stats`` share, as they word it
EMPTY_ANSWERS_PER_HOUR = (
    'labels/h counts an explicit empty answer ("no objects here") as one label: labels with a '
    "lead time / their summed lead time"
)


@dataclass
class Units:
    """Per annotation: the quality ratio's parts, cost, and its labels' lead times."""

    num: np.ndarray  # correct labels (classification) or 2 TP (boxes, spans)
    den: np.ndarray  # labels (classification) or golden + labeled regions
    cost: np.ndarray  # summed cost of the unit's priced labels
    priced: np.ndarray  # how many of its labels carry a cost
    lead: np.ndarray  # lead time of every label that has one
    lead_unit: np.ndarray  # the unit each lead time belongs to
    batch: np.ndarray  # the batch id of each unit (the trend over deliveries)

    def __len__(self) -> int:
        return len(self.num)


@dataclass
class Score:
    figures: dict[str, Any]
    units: Units
    correct_priced: int
    boxes: Any = None  # detection: BoxOutcomes


def _floats(values) -> np.ndarray:
    """Floats with nan for SQL NULL (``fetchnumpy`` gives masked arrays for NULLs)."""
    return np.ma.filled(np.ma.asarray(values, dtype=np.float64), np.nan)


def _ints(values) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


def _timed(lead: np.ndarray, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = ~np.isnan(lead)
    return lead[keep], unit[keep]


def _per_class(classes: list[str], tp, support, predicted) -> dict[str, dict[str, Any]]:
    return {
        c: {
            "precision": float(metrics._ratio(tp[i], predicted[i])),
            "recall": float(metrics._ratio(tp[i], support[i])),
            "f1": float(metrics._ratio(2 * tp[i], support[i] + predicted[i])),
            "support": int(support[i]),
            "tp": int(tp[i]),
            "predicted": int(predicted[i]),
        }
        for i, c in enumerate(classes)
    }


def _macro(per_class: dict[str, dict[str, Any]], key: str) -> float:
    """The mean of ``key`` over the classes present in golden or labels (sklearn's macro)."""
    present = [v[key] for v in per_class.values() if v["support"] or v["predicted"]]
    return float(np.mean(present)) if present else 0.0


def classification(con, source: str, classes: list[str], boot: int, seed: int) -> Score:
    rows = con.execute(
        """select tc.code, coalesce(pc.code, -1), s.cost, s.lead_time_s, s.batch_id
           from scored s join g on g.item_id = s.item_id join codes tc on tc."class" = g."class"
           left join codes pc on pc."class" = s."class" where s.source = ?
           order by s.label_id""",
        [source],
    ).fetchnumpy()
    truth, pred, cost, lead, batch = rows.values()
    truth, pred = _ints(truth), _ints(pred)
    cost, lead = _floats(cost), _floats(lead)
    k = len(classes)
    pred = np.where(pred < 0, k, pred)  # a class the golden version does not know: always wrong
    report = metrics.classification_report(truth, pred, k + 1)
    correct = truth == pred
    confusion = report["confusion_matrix"]
    per_class = _per_class(classes, np.diag(confusion), confusion.sum(1), confusion.sum(0))
    priced = ~np.isnan(cost)
    figures = {
        "n": int(truth.size),
        "annotations": int(truth.size),
        "correct": int(correct.sum()),
        "accuracy": float(report["accuracy"]),
        "macro_f1": float(report["macro_f1"]),
        "kappa": metrics.cohen_kappa(truth, pred, k + 1),
        "accuracy_ci": list(metrics.bootstrap_ci(correct, n=boot, seed=seed))
        if boot and truth.size
        else None,
        "per_class": per_class,
        "confusion": {"labels": classes, "matrix": confusion[:k, :k].tolist()},
        "precision": _macro(per_class, "precision"),
        "recall": _macro(per_class, "recall"),
    }
    figures["f1"] = figures["macro_f1"]
    timed, unit = _timed(lead, np.arange(truth.size))
    units = Units(
        num=correct.astype(np.float64),
        den=np.ones(truth.size),
        cost=np.where(priced, cost, 0.0),
        priced=priced.astype(np.float64),
        lead=timed,
        lead_unit=unit,
        batch=np.asarray(batch, dtype=object),
    )
    return Score(figures, units, int((correct & priced).sum()))


BACKGROUND = "(background)"  # the confusion matrix's row of extra boxes and column of misses


@dataclass
class BoxOutcomes:
    """Every golden and labeled box of one scoring, with its outcome (``qa.objects``): what the
    drill-down pages draw."""

    anns: Any  # pyarrow Table: image, annotation_id, item_id, labeler_id, batch_id
    gt: Any  # pyarrow Table: image, label_id, class, bbox, outcome, iou
    pr: Any  # pyarrow Table: image, label_id, class, bbox, outcome, iou, golden_class


def detection(
    con, source: str, classes: list[str], iou: float, boot: int, seed: int, by: str = "source"
) -> Score:
    """Box quality of the annotations whose ``by`` column is ``source`` (a source, or a labeler
    for ``labeler stats``): one definition of detection quality (``labelspec.qa.objects``)."""

    con.execute(
        f"""create or replace temp table anns as
           select annotation_id, any_value(item_id) as item_id, any_value(batch_id) as batch_id,
                  any_value(labeler_id) as labeler_id,
                  row_number() over (order by annotation_id) - 1 as image
           from scored where {by} = ? and item_id in (select item_id from g) group by 1""",
        [source],
    )
    # Arrow, not numpy: ids and class names stay Arrow strings (no Python objects per box)
    gt = con.sql(
        """select a.image, g.bbox.x, g.bbox.y, g.bbox.w, g.bbox.h, c.code, g.label_id
           from anns a join g on g.item_id = a.item_id join codes c on c."class" = g."class"
           where g.bbox is not null order by a.image, g.label_id"""
    ).to_arrow_table()
    pr = con.sql(
        """select a.image, s.bbox.x, s.bbox.y, s.bbox.w, s.bbox.h, coalesce(c.code, -1) as code,
                  s.cost, s.lead_time_s, s.label_id, s."class"
           from anns a join scored s using (annotation_id) left join codes c on c."class" = s."class"
           where s.bbox is not null order by a.image, s.label_id"""
    ).to_arrow_table()
    # explicit empty answers ("no objects here"): one row without a box per such annotation
    empty = con.execute(
        """select a.image, s.cost, s.lead_time_s from anns a join scored s using (annotation_id)
           where s."class" is null and s.bbox is null order by a.image, s.label_id"""
    ).fetchnumpy()
    anns = con.sql(
        "select image, annotation_id, item_id, labeler_id, batch_id from anns order by image"
    ).to_arrow_table()
    n_images = anns.num_rows
    gt_cols, pr_cols = [_numpy(c) for c in gt.columns[:6]], [_numpy(c) for c in pr.columns[:8]]
    gt_image, pr_image = _ints(gt_cols[0]), _ints(pr_cols[0])
    gt_boxes = np.column_stack([_floats(c) for c in gt_cols[1:5]]).reshape(-1, 4)
    pr_boxes = np.column_stack([_floats(c) for c in pr_cols[1:5]]).reshape(-1, 4)
    gt_class, pr_class = _ints(gt_cols[5]), _ints(pr_cols[5])
    cost, lead = _floats(pr_cols[6]), _floats(pr_cols[7])
    m = objects.match_objects(gt_image, gt_boxes, gt_class, pr_image, pr_boxes, pr_class, iou)
    hit = m.gt_outcome == objects.HIT
    tp = np.bincount(gt_image[hit], minlength=n_images)
    n_gt = np.bincount(gt_image, minlength=n_images)
    n_pr = np.bincount(pr_image, minlength=n_images)
    k = len(classes)
    per_class = _per_class(
        classes,
        np.bincount(gt_class[hit], minlength=k),
        np.bincount(gt_class, minlength=k),
        np.bincount(pr_class[pr_class >= 0], minlength=k),
    )
    matrix = objects.confusion(m, gt_class, pr_class, k)
    total_tp, total_gt, total_pr = int(tp.sum()), int(n_gt.sum()), int(n_pr.sum())
    golden_empty = np.bincount(gt_image, minlength=n_images) == 0
    extra = m.pr_outcome == objects.EXTRA
    priced = ~np.isnan(cost)
    empty_image, empty_cost = _ints(empty["image"]), _floats(empty["cost"])
    empty_priced = ~np.isnan(empty_cost)
    answered_empty = np.bincount(empty_image, minlength=n_images) > 0
    correct_empty = golden_empty & answered_empty & (n_pr == 0)
    hit_iou = m.gt_iou[hit]
    figures = {
        "n": total_pr,
        "annotations": int(n_images),
        "correct": total_tp,
        "correct_empty": int(correct_empty.sum()),
        "accuracy": None,
        "precision": float(metrics._ratio(total_tp, total_pr)),
        "recall": float(metrics._ratio(total_tp, total_gt)),
        "f1": float(metrics._ratio(2 * total_tp, total_gt + total_pr)),
        "macro_f1": _macro(per_class, "f1"),
        "kappa": None,
        "mean_iou": float(hit_iou.mean()) if hit_iou.size else None,
        "iou_threshold": iou,
        "f1_ci": list(metrics.bootstrap_ratio_ci(2 * tp, n_gt + n_pr, n=boot, seed=seed))
        if n_images and boot
        else None,
        "per_class": per_class,
        "confusion": {"labels": [*classes, BACKGROUND], "matrix": matrix.tolist()},
        "boxes": {
            "golden": total_gt,
            "labeled": total_pr,
            **m.counts(),
            "mislocated_iou": objects.MISLOCATED_IOU,
        },
        # golden negatives: the annotations of items the experts found nothing on
        "golden_empty": {
            "annotations": int(golden_empty.sum()),
            "answered_empty": int(correct_empty.sum()),
            "extra_boxes": int(
                np.bincount(pr_image[extra], minlength=n_images)[golden_empty].sum()
            ),
        },
    }
    # an empty answer costs and takes time like a box: one more label of its annotation
    row_image = np.concatenate([pr_image, empty_image])
    row_cost = np.concatenate([np.where(priced, cost, 0.0), np.where(empty_priced, empty_cost, 0)])
    row_priced = np.concatenate([priced, empty_priced]).astype(np.float64)
    timed, unit = _timed(np.concatenate([lead, _floats(empty["lead_time_s"])]), row_image)
    units = Units(
        num=2.0 * tp,
        den=(n_gt + n_pr).astype(np.float64),
        cost=np.bincount(row_image, row_cost, minlength=n_images),
        priced=np.bincount(row_image, row_priced, minlength=n_images),
        lead=timed,
        lead_unit=unit,
        batch=np.asarray(anns.column("batch_id").to_pylist(), dtype=object),
    )
    names = pa.array([*classes, BACKGROUND])
    # the confusion-matrix cell of each labeled box: a mislocated one counts as background's
    paired = (m.pr_outcome == objects.HIT) | (m.pr_outcome == objects.CONFUSED)
    partner_class = np.full(len(pr_class), k, np.int64)
    partner_class[paired] = gt_class[m.pr_partner[paired]]
    outcomes = BoxOutcomes(
        anns=anns,
        gt=pa.table(
            {
                "image": gt_image,
                "label_id": gt.column(6),
                "class": names.take(pa.array(gt_class)),
                "bbox": _struct_boxes(gt_boxes),
                "outcome": pa.array(objects.OUTCOMES).take(pa.array(m.gt_outcome)),
                "iou": m.gt_iou,
            }
        ),
        pr=pa.table(
            {
                "image": pr_image,
                "label_id": pr.column(8),
                "class": pr.column(9),
                "bbox": _struct_boxes(pr_boxes),
                "outcome": pa.array(objects.LABELED_OUTCOMES).take(pa.array(m.pr_outcome)),
                "golden_class": names.take(pa.array(partner_class)),
            }
        ),
    )
    correct_priced = (
        priced[m.gt_partner[hit]].sum() + (correct_empty[empty_image] & empty_priced).sum()
    )
    return Score(figures, units, int(correct_priced), outcomes)


def _numpy(column) -> np.ndarray:
    """A numeric Arrow column as numpy, nulls as nan."""
    return column.to_numpy(zero_copy_only=False)


def _struct_boxes(boxes: np.ndarray):

    return pa.StructArray.from_arrays([boxes[:, i] for i in range(4)], names=["x", "y", "w", "h"])


_MINE = """with mine as (select annotation_id, item_id, "class", span, cost, lead_time_s, batch_id
                 from scored where {by} = ? and item_id in (select item_id from g))"""


def spans(con, source: str, classes: list[str], boot: int, seed: int, by: str = "source") -> Score:
    """Span quality of the annotations whose ``by`` column is ``source``. An explicit empty
    answer ("no entities here", a row without a span) is an annotation too: it misses the
    golden spans of its item, and is a correct answer on a golden negative."""
    con.execute(
        f"""create or replace temp table mine_rows as {_MINE.format(by=by)}
            select m.*, m.span is not null and exists (
                     select 1 from g where g.item_id = m.item_id and g.span = m.span
                     and g."class" = m."class") as hit
            from mine m""",
        [source],
    )
    con.execute(
        """create or replace temp table mine_spans as
            select * from mine_rows where span is not null;
            create or replace temp table mine_anns as
            with a as (
              select annotation_id, any_value(item_id) as item_id, any_value(batch_id) as batch_id,
                     count(*) filter (where hit) as tp, count(span) as n_pr,
                     count(*) filter (where span is null) > 0 as said_empty,
                     coalesce(sum(cost), 0) as cost, count(cost) as priced
              from mine_rows group by 1),
            golden as (select item_id, count(span) as n_gt from g group by 1)
            select a.*, coalesce(golden.n_gt, 0) as n_gt,
                   row_number() over (order by a.annotation_id) - 1 as unit
            from a left join golden using (item_id)"""
    )
    rows = con.execute(
        """select annotation_id, tp, n_pr, n_gt, cost, priced, batch_id,
                  n_gt = 0 and n_pr = 0 and said_empty as correct_empty
           from mine_anns order by annotation_id"""
    ).fetchnumpy()
    ids, tp, n_pr, n_gt, cost, priced, batch, correct_empty = rows.values()
    tp, n_pr, n_gt = _floats(tp), _floats(n_pr), _floats(n_gt)
    correct_empty = np.asarray(correct_empty, dtype=bool)
    counts = dict.fromkeys(classes, (0, 0, 0))
    for c, tp_c, pr_c, gt_c in con.execute(
        """select c."class",
             (select count(*) from mine_spans m where m."class" = c."class" and m.hit),
             (select count(*) from mine_spans m where m."class" = c."class"),
             (select count(*) from mine_anns a join g on g.item_id = a.item_id
               where g."class" = c."class" and g.span is not null)
           from codes c order by c.code"""
    ).fetchall():
        counts[c] = (tp_c, gt_c, pr_c)
    per_class = _per_class(classes, *(np.array(v) for v in zip(*counts.values(), strict=True)))
    lead = con.execute(
        """select a.unit, r.lead_time_s from mine_rows r join mine_anns a using (annotation_id)
           where r.lead_time_s is not null"""
    ).fetchnumpy()
    correct_priced = con.execute(
        """select count(*) filter (where r.hit or (a.n_gt = 0 and a.n_pr = 0))
           from mine_rows r join mine_anns a using (annotation_id) where r.cost is not null"""
    ).fetchone()[0]
    # a golden span counts once per annotation of its item, as in the units
    total_tp, total_pr, total_gt = tp.sum(), n_pr.sum(), n_gt.sum()
    golden_empty = n_gt == 0
    figures = {
        "n": int(total_pr),
        "annotations": len(ids),
        "correct": int(total_tp),
        "correct_empty": int(correct_empty.sum()),
        "accuracy": None,
        "precision": float(metrics._ratio(total_tp, total_pr)),
        "recall": float(metrics._ratio(total_tp, total_gt)),
        "f1": float(metrics._ratio(2 * total_tp, total_gt + total_pr)),
        "macro_f1": _macro(per_class, "f1"),
        "kappa": None,
        "f1_ci": list(metrics.bootstrap_ratio_ci(2 * tp, n_gt + n_pr, n=boot, seed=seed))
        if len(ids) and boot
        else None,
        "per_class": per_class,
        # golden negatives: the annotations of items the experts found no entity in
        "golden_empty": {
            "annotations": int(golden_empty.sum()),
            "answered_empty": int(correct_empty.sum()),
            "extra_spans": int(n_pr[golden_empty].sum()),
        },
    }
    units = Units(
        num=2 * tp,
        den=n_gt + n_pr,
        cost=_floats(cost),
        priced=_floats(priced),
        lead=_floats(lead["lead_time_s"]),
        lead_unit=_ints(lead["unit"]),
        batch=np.asarray(batch, dtype=object),
    )
    return Score(figures, units, int(correct_priced))


def split(per_class: dict[str, dict[str, Any]], classes: set[str], task: str) -> dict[str, Any]:
    """Quality over a subset of the golden classes, pooled from the per-class counts: accuracy
    on the golden items of those classes (classification), else F1 = 2 TP / (golden + labeled)."""
    chosen = [v for c, v in per_class.items() if c in classes]
    tp = sum(v["tp"] for v in chosen)
    support = sum(v["support"] for v in chosen)
    predicted = sum(v["predicted"] for v in chosen)
    if task == "classification":
        return {"classes": sorted(classes), "n": support, "accuracy": _share(tp, support)}
    return {
        "classes": sorted(classes),
        "n": support,
        "f1": _share(2 * tp, support + predicted),
    }


def _share(part: float, whole: float) -> float | None:
    return float(part) / float(whole) if whole else None
