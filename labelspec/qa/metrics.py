"""Pure, vectorised QA metrics on numpy arrays (numpy only, sized for ~1M labels).

Classes arrive as integer codes 0..k-1 (the caller maps names to codes). Conventions:
a rate whose denominator is empty (precision with no predictions, ...) is 0.0, as in
scikit-learn's ``zero_division=0``; an agreement coefficient or a mean that is undefined
(no pairable data, no chance disagreement, nothing matched) is nan. Bad input shapes or
codes raise ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "ALPHA_LEVELS",
    "KAPPA_WEIGHTS",
    "bootstrap_ci",
    "classification_report",
    "cohen_kappa",
    "confusion_matrix",
    "detection_scores",
    "detection_scores_grouped",
    "fleiss_kappa",
    "iou_matrix",
    "krippendorff_alpha",
    "margin",
    "match_boxes",
    "pairwise_cohen_kappa",
    "self_confidence",
    "span_scores",
]

KAPPA_WEIGHTS = (None, "linear", "quadratic")
ALPHA_LEVELS = ("nominal", "ordinal", "interval", "ratio")

# Upper bound on the elements of one temporary array (pairs, resamples): ~32 MiB of int64.
_CHUNK_ELEMENTS = 1 << 22


# --- classification ------------------------------------------------------------------------


def confusion_matrix(truth: npt.ArrayLike, pred: npt.ArrayLike, k: int) -> np.ndarray:
    """Counts C[i, j] of items with true class i predicted as j (rows truth, columns pred).

    One ``np.bincount`` over ``truth * k + pred``; same layout as
    ``sklearn.metrics.confusion_matrix(truth, pred, labels=range(k))``.
    """
    truth = _codes(truth, k, "truth")
    pred = _codes(pred, k, "pred")
    if truth.shape != pred.shape:
        raise ValueError(f"truth and pred differ in length: {truth.size} != {pred.size}")
    return np.bincount(truth * k + pred, minlength=k * k).reshape(k, k)


def classification_report(truth: npt.ArrayLike, pred: npt.ArrayLike, k: int) -> dict[str, Any]:
    """Accuracy, macro F1 and per-class precision, recall, F1 and support.

    precision_c = TP_c / predicted_c, recall_c = TP_c / support_c and
    F1_c = 2 TP_c / (support_c + predicted_c) (= 2PR / (P + R)); an empty denominator gives 0.
    macro_f1 averages F1 over the classes present in truth or pred, like
    ``sklearn.metrics.f1_score(average="macro")``: a class nobody used says nothing either way.
    """
    confusion = confusion_matrix(truth, pred, k)
    tp = np.diag(confusion)
    support = confusion.sum(axis=1)
    predicted = confusion.sum(axis=0)
    f1 = _ratio(2 * tp, support + predicted)
    present = (support + predicted) > 0
    total = confusion.sum()
    return {
        "accuracy": float(tp.sum() / total) if total else float("nan"),
        "macro_f1": float(f1[present].mean()) if present.any() else float("nan"),
        "precision": _ratio(tp, predicted),
        "recall": _ratio(tp, support),
        "f1": f1,
        "support": support,
        "confusion_matrix": confusion,
    }


# --- agreement between raters ----------------------------------------------------------------


def cohen_kappa(a: npt.ArrayLike, b: npt.ArrayLike, k: int, weights: str | None = None) -> float:
    """Cohen's kappa of two raters' codes (Cohen 1960; weighted: Cohen 1968).

    kappa = 1 - sum(w * O) / sum(w * E), where O is the confusion matrix, E the outer
    product of its marginals divided by n, and w the disagreement weights: 1 off the diagonal
    (unweighted), |i - j| ('linear') or (i - j)^2 ('quadratic'). This is
    ``sklearn.metrics.cohen_kappa_score``; nan when no disagreement is expected by chance.
    """
    return float(_kappa(confusion_matrix(a, b, k), weights))


def pairwise_cohen_kappa(
    labels: npt.ArrayLike, k: int | None = None, weights: str | None = None
) -> np.ndarray:
    """Cohen's kappa of every pair of raters, over the units both labeled.

    ``labels`` is [n_raters, n_units] of codes with -1 for "not labeled"; ``k`` defaults to
    the largest code + 1. Returns a symmetric [n_raters, n_raters] matrix (see
    ``cohen_kappa``), nan where two raters share fewer than 2 units. All pairwise confusion
    matrices come from one pass over the (rater, rater) pairs within each unit.
    """
    labels = np.asarray(labels)
    if labels.ndim != 2 or (labels.size and not np.issubdtype(labels.dtype, np.integer)):
        raise ValueError("labels must be a 2-D integer array [n_raters, n_units], -1 for missing")
    n_raters, n_units = labels.shape
    if k is None:
        k = int(labels.max()) + 1 if labels.size else 1
    if labels.size and (labels.min() < -1 or labels.max() >= k):
        raise ValueError(f"labels must be codes 0..{k - 1} or -1 for missing")
    unit, rater = np.nonzero(labels.T >= 0)  # unit-major, so each unit's labels are contiguous
    label = labels[rater, unit].astype(np.int64)
    counts = np.zeros(n_raters * n_raters * k * k, dtype=np.int64)
    for lo, hi in _unit_chunks(unit, n_units, n_raters):
        a, b = _pairs_with_equal_keys(unit[lo:hi], unit[lo:hi])
        a += lo
        b += lo
        key = ((rater[a] * n_raters + rater[b]) * k + label[a]) * k + label[b]
        counts += np.bincount(key, minlength=counts.size)
    confusions = counts.reshape(n_raters, n_raters, k, k)
    kappa = _kappa(confusions, weights)
    kappa[confusions.sum(axis=(2, 3)) < 2] = np.nan
    return kappa


def fleiss_kappa(counts: npt.ArrayLike) -> float:
    """Fleiss' kappa for many raters (Fleiss 1971, "Measuring nominal scale agreement among
    many raters", Psychological Bulletin 76(5)).

    ``counts`` is [n_items, k]: how many of the m raters put each item in each category, with
    the same m for every item. P_i = (sum_j n_ij^2 - m) / (m (m - 1)), p_j = sum_i n_ij / (N m),
    kappa = (mean(P_i) - sum_j p_j^2) / (1 - sum_j p_j^2); nan when every rating is one category.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 2:
        raise ValueError("counts must be a 2-D array [n_items, n_categories]")
    if counts.shape[0] == 0:
        return float("nan")
    raters = counts.sum(axis=1)
    m = raters[0]
    if not np.all(raters == m):
        raise ValueError("every item needs the same number of ratings (row sums differ)")
    if m < 2:
        raise ValueError("Fleiss' kappa needs at least 2 ratings per item")
    per_item = ((counts**2).sum(axis=1) - m) / (m * (m - 1))
    shares = counts.sum(axis=0) / counts.sum()
    chance = float((shares**2).sum())
    if chance >= 1.0:
        return float("nan")
    return float((per_item.mean() - chance) / (1.0 - chance))


def krippendorff_alpha(reliability: npt.ArrayLike, level: str = "nominal") -> float:
    """Krippendorff's alpha from the coincidence matrix (Krippendorff 2011, "Computing
    Krippendorff's Alpha-Reliability", Annenberg School for Communication, UPenn).

    ``reliability`` is [n_raters, n_units] with np.nan for missing values; units with fewer
    than 2 values are not pairable and ignored. Coincidences o_ck = sum_u n_uck / (m_u - 1),
    n_c = sum_k o_ck, n = sum_c n_c, and
    alpha = 1 - (n - 1) * sum_ck o_ck d2_ck / sum_ck n_c n_k d2_ck, with d2 per ``level``:
    nominal [c != k]; ordinal (sum_{g=c..k} n_g - (n_c + n_k) / 2)^2; interval (c - k)^2;
    ratio ((c - k) / (c + k))^2. nan when nothing is pairable or no disagreement is possible.
    Memory grows with the square of the number of distinct values (as in the ``krippendorff``
    package): fine for codes and rating scales, not for millions of distinct floats.
    """
    if level not in ALPHA_LEVELS:
        raise ValueError(f"level must be one of {', '.join(ALPHA_LEVELS)}, not {level!r}")
    data = np.asarray(reliability, dtype=np.float64)
    if data.ndim != 2:
        raise ValueError("reliability must be a 2-D array [n_raters, n_units]")
    n_raters, n_units = data.shape
    unit, rater = np.nonzero(~np.isnan(data.T))
    values, code = np.unique(data[rater, unit], return_inverse=True)
    n_values = values.size
    per_unit = np.bincount(unit, minlength=n_units)
    pairable = per_unit[unit] >= 2
    # Collapse to (unit, value, count): a unit contributes pairs of its distinct values.
    cell, n_uv = np.unique(unit[pairable] * n_values + code[pairable], return_counts=True)
    cell_unit, code = np.divmod(cell, n_values)
    share = n_uv / (per_unit[cell_unit] - 1)
    coincidences = np.zeros(n_values * n_values)
    for lo, hi in _unit_chunks(cell_unit, n_units, min(n_raters, n_values)):
        a, b = _pairs_with_equal_keys(cell_unit[lo:hi], cell_unit[lo:hi])
        a += lo
        b += lo
        coincidences += np.bincount(
            code[a] * n_values + code[b], weights=n_uv[a] * share[b], minlength=coincidences.size
        )
    coincidences = coincidences.reshape(n_values, n_values)
    # A value is not paired with itself: o_cc counts n_uc (n_uc - 1), not n_uc^2.
    coincidences[np.diag_indices(n_values)] -= np.bincount(code, weights=share, minlength=n_values)
    marginals = coincidences.sum(axis=0)
    total = marginals.sum()
    distance = _alpha_distance(values, marginals, level)
    expected = float(marginals @ distance @ marginals)
    if total == 0 or expected == 0:
        return float("nan")
    return float(1.0 - (total - 1) * (coincidences * distance).sum() / expected)


# --- uncertainty -----------------------------------------------------------------------------


def bootstrap_ci(
    values: npt.ArrayLike,
    n: int = 2000,
    alpha: float = 0.05,
    seed: int = 0,
    statistic: str = "mean",
) -> tuple[float, float]:
    """Percentile bootstrap (Efron & Tibshirani 1993, ch. 13) interval of the mean.

    Draws ``n`` resamples of size N with replacement and returns the alpha/2 and 1 - alpha/2
    quantiles of their means; the same ``seed`` gives the same interval. When the values take
    few distinct values (booleans: correct/incorrect) a resample is drawn as multinomial counts
    of those values, which has exactly the distribution of resampled indices at O(distinct)
    instead of O(N) per resample; otherwise indices are drawn as [chunk, N] matrices.
    """
    if statistic != "mean":
        raise ValueError(f"only statistic='mean' is supported, not {statistic!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), not {alpha}")
    if n < 1:
        raise ValueError(f"n must be at least 1, not {n}")
    sample = np.asarray(values, dtype=np.float64).ravel()
    if sample.size == 0:
        raise ValueError("cannot bootstrap an empty sample")
    rng = np.random.default_rng(seed)
    distinct, counts = np.unique(sample, return_counts=True)
    means = np.empty(n)
    # A multinomial draw costs more per element than an index draw: use it when clearly smaller.
    few_distinct = distinct.size * 8 <= sample.size
    width = distinct.size if few_distinct else sample.size
    step = max(1, _CHUNK_ELEMENTS // width)
    for lo in range(0, n, step):
        size = min(step, n - lo)
        if few_distinct:
            drawn = rng.multinomial(sample.size, counts / sample.size, size=size)
            means[lo : lo + size] = drawn @ distinct / sample.size
        else:
            means[lo : lo + size] = sample[rng.integers(0, sample.size, (size, width))].mean(1)
    low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


# --- boxes -----------------------------------------------------------------------------------


def iou_matrix(boxes_a: npt.ArrayLike, boxes_b: npt.ArrayLike) -> np.ndarray:
    """Intersection over union of every [x, y, w, h] box in ``boxes_a`` with every one in
    ``boxes_b``: |A ∩ B| / (|A| + |B| - |A ∩ B|), 0 where the union is empty. Shape [n, m];
    the same values as ``pycocotools.mask.iou`` on non-crowd boxes.
    """
    a = _boxes(boxes_a, "boxes_a")
    b = _boxes(boxes_b, "boxes_b")
    return _iou(a[:, None, :], b[None, :, :])


def match_boxes(
    gt: npt.ArrayLike,
    pred: npt.ArrayLike,
    gt_classes: npt.ArrayLike,
    pred_classes: npt.ArrayLike,
    iou_threshold: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one matching of predicted to ground-truth boxes of one image.

    Greedy by descending IoU: the highest-IoU (gt, pred) pair of the same class with
    IoU >= ``iou_threshold`` is matched, both boxes leave, and so on (the COCO-style rule,
    with IoU in place of detection scores; ties go to the lower gt, then pred index).
    Returns the matched pairs [p, 2] as (gt index, pred index), in descending IoU, and
    their IoUs [p].
    """
    gt_boxes = _boxes(gt, "gt")
    pr_boxes = _boxes(pred, "pred")
    gt_key, pr_key = _shared_keys(
        [_column(gt_classes, len(gt_boxes), "gt_classes")],
        [_column(pred_classes, len(pr_boxes), "pred_classes")],
    )
    gi, pi, ious = _match(gt_key, gt_boxes, pr_key, pr_boxes, iou_threshold)
    return np.column_stack([gi, pi]), ious


def detection_scores(
    gt: npt.ArrayLike,
    pred: npt.ArrayLike,
    gt_classes: npt.ArrayLike,
    pred_classes: npt.ArrayLike,
    iou_threshold: float = 0.5,
) -> dict[str, float | int]:
    """Precision TP / (TP + FP), recall TP / (TP + FN), F1 = 2 TP / (2 TP + FP + FN) and the
    mean IoU of matched pairs for the boxes of one image, matched by ``match_boxes``.
    """
    n_gt, n_pred = len(_boxes(gt, "gt")), len(_boxes(pred, "pred"))
    return detection_scores_grouped(
        np.zeros(n_gt), gt, gt_classes, np.zeros(n_pred), pred, pred_classes, iou_threshold
    )


def detection_scores_grouped(
    gt_image_ids: npt.ArrayLike,
    gt_boxes: npt.ArrayLike,
    gt_classes: npt.ArrayLike,
    pr_image_ids: npt.ArrayLike,
    pr_boxes: npt.ArrayLike,
    pr_classes: npt.ArrayLike,
    iou_threshold: float = 0.5,
) -> dict[str, float | int]:
    """``detection_scores`` over many images at once: boxes match only within the same image
    and class, and TP, FP, FN and matched IoUs are pooled over images (micro average).
    All images are matched together, without a Python loop over images.
    """
    gi, _, ious = match_boxes_grouped(
        gt_image_ids, gt_boxes, gt_classes, pr_image_ids, pr_boxes, pr_classes, iou_threshold
    )
    return _detection_summary(
        len(gi), len(_boxes(gt_boxes, "gt_boxes")), len(_boxes(pr_boxes, "pr_boxes")), ious
    )


def match_boxes_grouped(
    gt_image_ids: npt.ArrayLike,
    gt_boxes: npt.ArrayLike,
    gt_classes: npt.ArrayLike,
    pr_image_ids: npt.ArrayLike,
    pr_boxes: npt.ArrayLike,
    pr_classes: npt.ArrayLike,
    iou_threshold: float = 0.5,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The matches behind ``detection_scores_grouped``: (gt indices, pred indices, IoUs), so a
    caller can count TP per image (np.bincount over ``gt_image_ids[gt indices]``)."""
    gt = _boxes(gt_boxes, "gt_boxes")
    pr = _boxes(pr_boxes, "pr_boxes")
    gt_key, pr_key = _shared_keys(
        [
            _column(gt_image_ids, len(gt), "gt_image_ids"),
            _column(gt_classes, len(gt), "gt_classes"),
        ],
        [
            _column(pr_image_ids, len(pr), "pr_image_ids"),
            _column(pr_classes, len(pr), "pr_classes"),
        ],
    )
    return _match(gt_key, gt, pr_key, pr, iou_threshold)


def bootstrap_ratio_ci(
    numerators: npt.ArrayLike,
    denominators: npt.ArrayLike,
    n: int = 2000,
    alpha: float = 0.05,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of a pooled ratio sum(num) / sum(den) over units
    (images, annotations), resampling units with replacement: the interval of a micro-averaged
    F1 = sum(2 TP) / sum(2 TP + FP + FN). Units are reweighted by multinomial counts."""
    num = np.asarray(numerators, dtype=np.float64).ravel()
    den = np.asarray(denominators, dtype=np.float64).ravel()
    if num.size == 0 or num.size != den.size:
        raise ValueError("numerators and denominators must be non-empty and of equal length")
    rng = np.random.default_rng(seed)
    ratios = np.empty(n)
    # Units take few distinct (num, den) pairs (an image's 2 TP and box count): resampling units
    # is then exactly a multinomial draw over the distinct pairs, weighted by how many units
    # hold each, at O(distinct) per resample instead of O(units), as bootstrap_ci does.
    pairs, counts = np.unique(np.column_stack([num, den]), axis=0, return_counts=True)
    few_distinct = len(pairs) * 8 <= num.size
    if few_distinct:
        num, den, probs = pairs[:, 0], pairs[:, 1], counts / counts.sum()
    else:
        probs = np.full(num.size, 1.0 / num.size)
    step = max(1, _CHUNK_ELEMENTS // num.size)
    total = int(counts.sum())
    for lo in range(0, n, step):
        size = min(step, n - lo)
        weights = rng.multinomial(total, probs, size=size).astype(np.float64)
        top, bottom = weights @ num, weights @ den
        ratios[lo : lo + size] = _ratio(top, bottom)
    low, high = np.quantile(ratios, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


# --- spans -----------------------------------------------------------------------------------


def span_scores(gold: Iterable[tuple] | np.ndarray, pred: Iterable[tuple] | np.ndarray) -> dict:
    """Exact-match span precision, recall and F1 (as in CoNLL NER evaluation).

    A span is an (item, start, end, class) tuple, given as any iterable of tuples or as a
    structured array; a predicted span counts only if all four fields equal a gold span's.
    Duplicates count once. precision = TP / |pred|, recall = TP / |gold|,
    F1 = 2 TP / (|gold| + |pred|); an empty denominator gives 0.
    """
    if _is_structured(gold) and _is_structured(pred):
        # Fields pair up by position, like tuple elements; one integer key per span.
        gold_key, pred_key = _shared_keys(
            [gold[name] for name in gold.dtype.names], [pred[name] for name in pred.dtype.names]
        )
        gold_set, pred_set = np.unique(gold_key), np.unique(pred_key)
        tp = np.intersect1d(gold_set, pred_set, assume_unique=True).size
    else:
        gold_set, pred_set = _span_set(gold), _span_set(pred)
        tp = len(gold_set & pred_set)
    n_gold, n_pred = len(gold_set), len(pred_set)
    return {
        "precision": float(_ratio(tp, n_pred)),
        "recall": float(_ratio(tp, n_gold)),
        "f1": float(_ratio(2 * tp, n_gold + n_pred)),
        "tp": tp,
        "fp": n_pred - tp,
        "fn": n_gold - tp,
    }


# --- suspicious labels -----------------------------------------------------------------------


def self_confidence(probs: npt.ArrayLike, labels: npt.ArrayLike) -> np.ndarray:
    """probs[i, labels[i]]: the model's probability of the given label (Cleanlab's
    ``self_confidence`` label quality score; Northcutt et al. 2021). Lower is more suspicious.
    """
    p, labels = _probs_and_labels(probs, labels)
    return p[np.arange(len(labels)), labels]


def margin(probs: npt.ArrayLike, labels: npt.ArrayLike) -> np.ndarray:
    """p(label) - max p(other class), in [-1, 1]; negative when the model prefers another class.

    The margin behind Cleanlab's ``normalized_margin`` score, which is (margin + 1) / 2
    (Wei et al. 2018). Lower is more suspicious.
    """
    p, labels = _probs_and_labels(probs, labels)
    if p.shape[1] < 2:
        raise ValueError("margin needs at least 2 classes")
    rows = np.arange(len(labels))
    others = p.copy()
    others[rows, labels] = -np.inf
    return p[rows, labels] - others.max(axis=1)


# --- helpers ---------------------------------------------------------------------------------


def _codes(values: npt.ArrayLike, k: int, name: str) -> np.ndarray:
    codes = np.asarray(values)
    if codes.size == 0:
        return codes.reshape(0).astype(np.int64)
    if codes.ndim != 1 or not np.issubdtype(codes.dtype, np.integer):
        raise ValueError(f"{name} must be a 1-D array of integer class codes")
    if codes.min() < 0 or codes.max() >= k:
        raise ValueError(f"{name} has codes outside 0..{k - 1} (map classes to codes first)")
    return codes.astype(np.int64, copy=False)


def _ratio(num: npt.ArrayLike, den: npt.ArrayLike) -> np.ndarray:
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    return np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=den > 0)


def _kappa(confusion: np.ndarray, weights: str | None) -> np.ndarray:
    """Kappa of confusion matrices [..., k, k]; nan where no disagreement is expected."""
    if weights not in KAPPA_WEIGHTS:
        raise ValueError(f"weights must be None, 'linear' or 'quadratic', not {weights!r}")
    k = confusion.shape[-1]
    distance = np.abs(np.subtract.outer(np.arange(k), np.arange(k))).astype(np.float64)
    w = {None: (distance > 0).astype(np.float64), "linear": distance, "quadratic": distance**2}
    weight = w[weights]
    confusion = confusion.astype(np.float64)
    n = confusion.sum(axis=(-2, -1))
    observed = (confusion * weight).sum(axis=(-2, -1))
    chance = np.einsum("...i,...j,ij->...", confusion.sum(-1), confusion.sum(-2), weight)
    expected = _ratio(chance, n)
    return np.where(expected > 0, 1.0 - _ratio(observed, expected), np.nan)


def _alpha_distance(values: np.ndarray, marginals: np.ndarray, level: str) -> np.ndarray:
    """Squared distances d2[c, k] between the sorted values of Krippendorff's alpha."""
    if level == "nominal":
        return 1.0 - np.eye(values.size)
    if level == "ordinal":
        # sum_{g=c..k} n_g - (n_c + n_k)/2, written with cumulative sums (sign-symmetric).
        cum = np.cumsum(marginals)
        return (cum[None, :] - cum[:, None] - (marginals[None, :] - marginals[:, None]) / 2) ** 2
    difference = np.subtract.outer(values, values)
    if level == "interval":
        return difference**2
    total = np.add.outer(values, values)
    # Two zeros are identical ratios: distance 0 rather than 0/0.
    ratio = np.divide(difference, total, out=np.zeros_like(difference), where=total != 0)
    return ratio**2


def _pairs_with_equal_keys(keys_a: np.ndarray, keys_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All index pairs (i, j) with keys_a[i] == keys_b[j]: a vectorised equi-join."""
    order_a = np.argsort(keys_a, kind="stable")
    order_b = np.argsort(keys_b, kind="stable")
    sorted_a, sorted_b = keys_a[order_a], keys_b[order_b]
    start = np.searchsorted(sorted_b, sorted_a, side="left")
    count = np.searchsorted(sorted_b, sorted_a, side="right") - start
    first = np.cumsum(count) - count
    offset = np.arange(count.sum()) - np.repeat(first, count)
    return np.repeat(order_a, count), order_b[np.repeat(start, count) + offset]


def _unit_chunks(unit: np.ndarray, n_units: int, per_unit_max: int) -> Iterator[tuple[int, int]]:
    """Slices of a unit-sorted array, whole units each, with at most ~_CHUNK_ELEMENTS pairs."""
    step = max(1, _CHUNK_ELEMENTS // max(1, per_unit_max) ** 2)
    edges = np.searchsorted(unit, np.arange(0, n_units + step, step))
    return zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True)


def _boxes(boxes: npt.ArrayLike, name: str) -> np.ndarray:
    array = np.asarray(boxes, dtype=np.float64)
    if array.size == 0:
        return array.reshape(0, 4)
    if array.ndim != 2 or array.shape[1] != 4:
        raise ValueError(f"{name} must be an [n, 4] array of [x, y, w, h] boxes")
    return array


def _column(values: npt.ArrayLike, n: int, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.size == 0 and n == 0:
        return array.reshape(0)
    if array.shape != (n,):
        raise ValueError(f"{name} must have one entry per box ({n}), got shape {array.shape}")
    return array


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of [..., 4] [x, y, w, h] boxes, broadcast against each other."""
    ax, ay, aw, ah = np.moveaxis(a, -1, 0)
    bx, by, bw, bh = np.moveaxis(b, -1, 0)
    inter_w = np.clip(np.minimum(ax + aw, bx + bw) - np.maximum(ax, bx), 0, None)
    inter_h = np.clip(np.minimum(ay + ah, by + bh) - np.maximum(ay, by), 0, None)
    inter = inter_w * inter_h
    return _ratio(inter, aw * ah + bw * bh - inter)


def _shared_keys(
    gt_columns: list[np.ndarray], pr_columns: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Integer keys, equal for a gt and a pred row exactly when all their columns are equal."""
    n_gt = len(gt_columns[0])
    key = np.zeros(n_gt + len(pr_columns[0]), dtype=np.int64)
    key_range = 1
    for gt_col, pr_col in zip(gt_columns, pr_columns, strict=True):
        values, codes = np.unique(np.concatenate([gt_col, pr_col]), return_inverse=True)
        if key_range * values.size >= 2**62:  # re-densify before the combined key could overflow
            key = np.unique(key, return_inverse=True)[1].reshape(-1)
            key_range = int(key.max()) + 1
        key = key * values.size + codes.reshape(-1)
        key_range *= max(1, values.size)
    return key[:n_gt], key[n_gt:]


def _match(
    gt_key: np.ndarray,
    gt_boxes: np.ndarray,
    pr_key: np.ndarray,
    pr_boxes: np.ndarray,
    threshold: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Greedy one-to-one matches between boxes with equal keys: (gt idx, pred idx, IoU)."""
    gi, pi = _pairs_with_equal_keys(gt_key, pr_key)
    ious = _iou(gt_boxes[gi], pr_boxes[pi])
    keep = ious >= threshold
    gi, pi, ious = gi[keep], pi[keep], ious[keep]
    order = np.lexsort((pi, gi, -ious))  # best first; ties to the lower gt, then pred index
    gi, pi, ious = gi[order], pi[order], ious[order]
    taken = _greedy(gi, pi)
    return gi[taken], pi[taken], ious[taken]


def _greedy(gi: np.ndarray, pi: np.ndarray) -> np.ndarray:
    """Indices that greedy matching accepts from candidates sorted best first.

    Rather than walking the candidates one at a time, each round accepts every candidate that
    is the best remaining one for both its gt and its pred box. Sequential greedy accepts
    exactly these (nothing better can claim either box), so the result is the same, in a
    handful of rounds for real images.
    """
    alive = np.ones(gi.size, dtype=bool)
    taken = []
    while alive.any():
        live = np.flatnonzero(alive)
        best_for_gt = live[np.unique(gi[live], return_index=True)[1]]
        best_for_pred = live[np.unique(pi[live], return_index=True)[1]]
        accept = np.intersect1d(best_for_gt, best_for_pred, assume_unique=True)
        taken.append(accept)
        alive &= ~(np.isin(gi, gi[accept]) | np.isin(pi, pi[accept]))
    return np.sort(np.concatenate(taken)) if taken else np.zeros(0, dtype=np.int64)


def _detection_summary(tp: int, n_gt: int, n_pred: int, ious: np.ndarray) -> dict:
    fp, fn = n_pred - tp, n_gt - tp
    return {
        "precision": float(_ratio(tp, tp + fp)),
        "recall": float(_ratio(tp, tp + fn)),
        "f1": float(_ratio(2 * tp, 2 * tp + fp + fn)),
        "mean_iou": float(ious.mean()) if ious.size else float("nan"),
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def _is_structured(spans: Any) -> bool:
    return isinstance(spans, np.ndarray) and spans.dtype.names is not None


def _span_set(spans: Iterable[tuple] | np.ndarray) -> set[tuple]:
    if isinstance(spans, np.ndarray):
        spans = spans.tolist()
    return set(map(tuple, spans))


def _probs_and_labels(probs: npt.ArrayLike, labels: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2:
        raise ValueError("probs must be a 2-D array [n, k]")
    codes = _codes(labels, p.shape[1], "labels")
    if codes.size != len(p):
        raise ValueError(f"labels ({codes.size}) and probs ({len(p)}) differ in length")
    return p, codes
