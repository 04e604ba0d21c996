"""Vendor bake-offs against a golden set: quality, speed and cost per source, and a ranking.

Every label a source made on a golden item counts as one prediction (two labelers of one vendor
on the same item are two predictions). Quality is accuracy for classification, box or span F1
for detection and ner; each comes with a 95 % percentile-bootstrap interval over annotations.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from labelspec.errors import LabelspecError
from labelspec.qa import metrics
from labelspec.workspace import Workspace

DEFAULT_WEIGHTS = {"accuracy": 0.6, "cost": 0.2, "speed": 0.2}


def parse_weights(text: str | None) -> dict[str, float]:
    """``accuracy=0.6,cost=0.2,speed=0.2`` -> weights (normalised to sum 1)."""
    if not text:
        return dict(DEFAULT_WEIGHTS)
    weights = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or key not in DEFAULT_WEIGHTS:
            raise LabelspecError(f"--weights {text!r}: use accuracy=W,cost=W,speed=W")
        try:
            weights[key] = float(value)
        except ValueError as exc:
            raise LabelspecError(f"--weights {part!r}: {value!r} is not a number") from exc
    total = sum(weights.values())
    if total <= 0 or any(w < 0 for w in weights.values()):
        raise LabelspecError("--weights must be non-negative and not all zero")
    return {k: weights.get(k, 0.0) / total for k in DEFAULT_WEIGHTS}


def _codes(con, classes: list[str]) -> None:
    con.register("codes", pa.table({"class": classes, "code": list(range(len(classes)))}))


def _classification(con, source: str, classes: list[str], boot: int, seed: int) -> dict[str, Any]:
    truth, pred = (
        con.execute(
            """select tc.code, coalesce(pc.code, -1) from labels l join g on g.item_id = l.item_id
               join codes tc on tc."class" = g."class" left join codes pc on pc."class" = l."class"
               where l.source = ?""",
            [source],
        )
        .fetchnumpy()
        .values()
    )
    truth, pred = np.asarray(truth, dtype=np.int64), np.asarray(pred, dtype=np.int64)
    k = len(classes)
    pred = np.where(pred < 0, k, pred)  # a class the golden version does not know: always wrong
    report = metrics.classification_report(truth, pred, k + 1)
    correct = truth == pred
    out = {
        "n": int(truth.size),
        "correct": int(correct.sum()),
        "accuracy": float(report["accuracy"]),
        "macro_f1": float(report["macro_f1"]),
        "kappa": metrics.cohen_kappa(truth, pred, k + 1),
        "accuracy_ci": list(metrics.bootstrap_ci(correct, n=boot, seed=seed)),
        "per_class": {
            c: {
                "precision": float(report["precision"][i]),
                "recall": float(report["recall"][i]),
                "f1": float(report["f1"][i]),
                "support": int(report["support"][i]),
            }
            for i, c in enumerate(classes)
        },
        "confusion": {"labels": classes, "matrix": report["confusion_matrix"][:k, :k].tolist()},
    }
    out["precision"] = float(
        np.mean([v["precision"] for v in out["per_class"].values() if v["support"]] or [0.0])
    )
    out["recall"] = float(
        np.mean([v["recall"] for v in out["per_class"].values() if v["support"]] or [0.0])
    )
    out["f1"] = out["macro_f1"]
    return out


def _detection(
    con, source: str, classes: list[str], iou: float, boot: int, seed: int
) -> dict[str, Any]:
    con.execute(
        """create or replace temp table anns as
           select annotation_id, row_number() over (order by annotation_id) - 1 as image
           from (select distinct l.annotation_id from labels l where l.source = ? and l.item_id in (select item_id from g))""",
        [source],
    )
    gt = con.execute(
        """select a.image, g.bbox.x, g.bbox.y, g.bbox.w, g.bbox.h, c.code from anns a
           join (select distinct annotation_id, item_id from labels) l using (annotation_id)
           join g on g.item_id = l.item_id join codes c on c."class" = g."class" where g.bbox is not null"""
    ).fetchnumpy()
    pr = con.execute(
        """select a.image, l.bbox.x, l.bbox.y, l.bbox.w, l.bbox.h, coalesce(c.code, -1) from anns a
           join labels l using (annotation_id) left join codes c on c."class" = l."class" where l.bbox is not null"""
    ).fetchnumpy()
    n_images = con.execute("select count(*) from anns").fetchall()[0][0]
    gt_image, pr_image = (
        np.asarray(gt["image"], dtype=np.int64),
        np.asarray(pr["image"], dtype=np.int64),
    )
    gt_boxes = (
        np.column_stack([gt[k] for k in list(gt)[1:5]]) if len(gt_image) else np.zeros((0, 4))
    )
    pr_boxes = (
        np.column_stack([pr[k] for k in list(pr)[1:5]]) if len(pr_image) else np.zeros((0, 4))
    )
    gt_class, pr_class = (
        np.asarray(list(gt.values())[5], dtype=np.int64),
        np.asarray(list(pr.values())[5], dtype=np.int64),
    )
    gi, _pi, ious = metrics.match_boxes_grouped(
        gt_image, gt_boxes, gt_class, pr_image, pr_boxes, pr_class, iou
    )
    tp = np.bincount(gt_image[gi], minlength=n_images)
    n_gt = np.bincount(gt_image, minlength=n_images)
    n_pr = np.bincount(pr_image, minlength=n_images)
    total_tp, total_gt, total_pr = int(tp.sum()), int(n_gt.sum()), int(n_pr.sum())
    k = len(classes)
    tp_c = np.bincount(gt_class[gi], minlength=k)
    gt_c = np.bincount(gt_class, minlength=k)
    pr_c = np.bincount(pr_class[pr_class >= 0], minlength=k)
    per_class = {
        c: {
            "precision": float(metrics._ratio(tp_c[i], pr_c[i])),
            "recall": float(metrics._ratio(tp_c[i], gt_c[i])),
            "f1": float(metrics._ratio(2 * tp_c[i], gt_c[i] + pr_c[i])),
            "support": int(gt_c[i]),
        }
        for i, c in enumerate(classes)
    }
    f1 = float(metrics._ratio(2 * total_tp, total_gt + total_pr))
    return {
        "n": total_pr,
        "annotations": int(n_images),
        "correct": total_tp,
        "accuracy": None,
        "precision": float(metrics._ratio(total_tp, total_pr)),
        "recall": float(metrics._ratio(total_tp, total_gt)),
        "f1": f1,
        "macro_f1": float(np.mean([v["f1"] for v in per_class.values() if v["support"]] or [0.0])),
        "kappa": None,
        "mean_iou": float(ious.mean()) if ious.size else None,
        "iou_threshold": iou,
        "f1_ci": list(metrics.bootstrap_ratio_ci(2 * tp, n_gt + n_pr, n=boot, seed=seed))
        if n_images
        else None,
        "per_class": per_class,
    }


def _spans(con, source: str, classes: list[str], boot: int, seed: int) -> dict[str, Any]:
    rows = con.execute(
        """with mine as (select annotation_id, item_id, "class", span from labels where source = ? and span is not null
                         and item_id in (select item_id from g)),
                anns as (select distinct annotation_id, item_id from mine),
                tp as (select m.annotation_id, count(*) as tp from mine m join g on g.item_id = m.item_id
                        and g.span = m.span and g."class" = m."class" group by 1),
                npred as (select annotation_id, count(*) as n from mine group by 1),
                ngold as (select a.annotation_id, count(g.item_id) as n from anns a left join g on g.item_id = a.item_id
                          and g.span is not null group by 1)
           select a.annotation_id, coalesce(tp.tp, 0), coalesce(npred.n, 0), coalesce(ngold.n, 0)
           from anns a left join tp using (annotation_id) left join npred using (annotation_id)
           left join ngold using (annotation_id)""",
        [source],
    ).fetchall()
    tp = np.array([r[1] for r in rows], dtype=np.float64)
    n_pr = np.array([r[2] for r in rows], dtype=np.float64)
    n_gt = np.array([r[3] for r in rows], dtype=np.float64)
    per_class = {}
    for c, tp_c, pr_c, gt_c in con.execute(
        """with mine as (select annotation_id, item_id, "class", span from labels where source = ? and span is not null
                         and item_id in (select item_id from g)),
                anns as (select distinct annotation_id, item_id from mine)
           select c."class",
             (select count(*) from mine m join g on g.item_id = m.item_id and g.span = m.span and g."class" = m."class" where m."class" = c."class"),
             (select count(*) from mine m where m."class" = c."class"),
             (select count(*) from anns a join g on g.item_id = a.item_id where g."class" = c."class" and g.span is not null)
           from codes c order by c.code""",
        [source],
    ).fetchall():
        per_class[c] = {
            "precision": float(metrics._ratio(tp_c, pr_c)),
            "recall": float(metrics._ratio(tp_c, gt_c)),
            "f1": float(metrics._ratio(2 * tp_c, gt_c + pr_c)),
            "support": int(gt_c),
        }
    total_tp, total_pr, total_gt = tp.sum(), n_pr.sum(), n_gt.sum()
    return {
        "n": int(total_pr),
        "annotations": len(rows),
        "correct": int(total_tp),
        "accuracy": None,
        "precision": float(metrics._ratio(total_tp, total_pr)),
        "recall": float(metrics._ratio(total_tp, total_gt)),
        "f1": float(metrics._ratio(2 * total_tp, total_gt + total_pr)),
        "macro_f1": float(np.mean([v["f1"] for v in per_class.values() if v["support"]] or [0.0])),
        "kappa": None,
        "f1_ci": list(metrics.bootstrap_ratio_ci(2 * tp, n_gt + n_pr, n=boot, seed=seed))
        if rows
        else None,
        "per_class": per_class,
    }


def _speed_and_cost(con, source: str, correct: int) -> dict[str, Any]:
    median, p90, n, seconds, total, priced = con.execute(
        """select median(lead_time_s), quantile_cont(lead_time_s, 0.9), count(*), sum(lead_time_s), sum(cost), count(cost)
           from labels where source = ? and item_id in (select item_id from g)""",
        [source],
    ).fetchall()[0]
    first, last = con.execute(
        "select min(created_at), max(created_at) from labels where source = ?", [source]
    ).fetchall()[0]
    return {
        "lead_time_median_s": median,
        "lead_time_p90_s": p90,
        "labels_per_labeler_hour": (n / (seconds / 3600)) if seconds else None,
        "turnaround_s": (last - first).total_seconds() if first and last else None,
        "cost_total": total if priced else None,
        "cost_per_label": (total / priced) if priced else None,
        "cost_per_correct_label": (total / correct) if priced and correct else None,
    }


def rank(
    sources: dict[str, dict[str, Any]], weights: dict[str, float], quality: str
) -> list[dict[str, Any]]:
    """Min-max normalise quality (higher better), cost per label and median lead time (lower
    better) across sources, weight and sum; a missing figure scores 0 on its axis."""
    axes = {
        "accuracy": (quality, True),
        "cost": ("cost_per_label", False),
        "speed": ("lead_time_median_s", False),
    }
    scores = dict.fromkeys(sources, 0.0)
    parts: dict[str, dict[str, float]] = {name: {} for name in sources}
    for axis, (key, higher_better) in axes.items():
        values = {n: s.get(key) for n, s in sources.items() if s.get(key) is not None}
        low, high = (min(values.values()), max(values.values())) if values else (0, 0)
        for name in sources:
            value = values.get(name)
            if value is None:
                norm = 0.0
            elif high == low:
                norm = 1.0
            else:
                norm = (
                    (value - low) / (high - low) if higher_better else (high - value) / (high - low)
                )
            parts[name][axis] = round(norm, 4)
            scores[name] += weights[axis] * norm
    ordered = sorted(sources, key=lambda n: (-scores[n], n))
    return [
        {"rank": i, "source": n, "score": round(scores[n], 4), "components": parts[n]}
        for i, n in enumerate(ordered, 1)
    ]


def bakeoff(
    ws: Workspace,
    dataset: str,
    golden: str = "golden",
    sources: list[str] | None = None,
    weights: dict[str, float] | None = None,
    iou: float = 0.5,
    snapshot: str | None = None,
    boot: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    from labelspec.guideline.releases import spec_at
    from labelspec.store.datasets import dataset_guideline
    from labelspec.store.golden import golden_labels
    from labelspec.store.query import connect

    gold, version = golden_labels(ws, dataset, golden)
    spec = spec_at(ws, dataset_guideline(ws, dataset), version.guideline_version)
    con = connect(ws, dataset, snapshot)
    con.register("g", gold)
    _codes(con, spec.class_ids)
    present = [
        r[0]
        for r in con.execute(
            "select distinct source from labels where item_id in (select item_id from g) order by 1"
        ).fetchall()
    ]
    chosen = sources or present
    missing = [s for s in chosen if s not in present]
    if missing:
        raise LabelspecError(
            f"no labels on golden items from {', '.join(missing)} (sources with some: {', '.join(present) or 'none'})"
        )
    if not chosen:
        raise LabelspecError(
            f"no current labels on the {version.items} items of golden set {golden}"
        )
    weights = weights or dict(DEFAULT_WEIGHTS)
    results: dict[str, dict[str, Any]] = {}
    for source in chosen:
        if spec.task in ("classification",):
            quality = _classification(con, source, spec.class_ids, boot, seed)
        elif spec.task == "detection":
            quality = _detection(con, source, spec.class_ids, iou, boot, seed)
        elif spec.task == "ner":
            quality = _spans(con, source, spec.class_ids, boot, seed)
        else:
            raise LabelspecError(
                "bake-offs of multilabel guidelines are not supported yet; score them as classification per class"
            )
        results[source] = {**quality, **_speed_and_cost(con, source, quality["correct"])}
    quality_key = "accuracy" if spec.task == "classification" else "f1"
    return {
        "dataset": dataset,
        "golden": {
            "name": golden.partition("@")[0],
            "version": version.version,
            "items": version.items,
            "labels": version.labels,
            "guideline_version": version.guideline_version,
        },
        "task": spec.task,
        "quality": quality_key,
        "weights": weights,
        "sources": results,
        "ranking": rank(results, weights, quality_key),
    }
