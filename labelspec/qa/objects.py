"""Detection quality, one definition for every report: golden objects against labeled boxes.

Boxes are matched one-to-one across classes, image by image, in three greedy passes (each by
descending IoU, ties to the lower golden, then labeled index):

1. a golden and a labeled box of the **same class** at IoU >= ``iou``: a **hit**;
2. of the boxes left, a golden and a labeled box of **different classes** at IoU >= ``iou``: a
   **confusion** (a pickup boxed as a school bus);
3. of the boxes left, any pair at ``low`` <= IoU < ``iou``: a **mislocated** box (the object was
   boxed, badly placed; its class may differ too, ``class_differs``).

A golden box left over is a **miss**; a labeled box left over is an **extra** box (a false
positive, on an empty golden item too). Pass 1 alone is the usual within-class matching, so
precision = hits / labeled boxes, recall = hits / golden boxes and F1 = 2 hits / (golden +
labeled) are the figures every detection benchmark reports; passes 2 and 3 only say *why* the
other boxes failed. The confusion matrix has a background row and column: hits on the diagonal,
confusions off it, a missed or mislocated golden box in its row's background column, an extra
or mislocated labeled box in the background row.

Every function works on all images at once (numpy), without a Python loop over images.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from labelspec.qa import metrics

MISLOCATED_IOU = 0.1  # below this a box is not near the object at all (TIDE's background cut)

HIT, CONFUSED, MISLOCATED, MISSED = 0, 1, 2, 3  # a golden box's outcome
EXTRA = 3  # a labeled box's outcome (its other outcomes share the golden codes)
OUTCOMES = ("hit", "confused", "mislocated", "missed")
LABELED_OUTCOMES = ("hit", "confused", "mislocated", "extra")


@dataclass
class Matched:
    """The outcome of every golden and every labeled box, and who each was matched to."""

    gt_outcome: np.ndarray  # int8, OUTCOMES codes
    pr_outcome: np.ndarray  # int8, LABELED_OUTCOMES codes
    gt_partner: np.ndarray  # the labeled box matched to each golden box, or -1
    pr_partner: np.ndarray  # the golden box matched to each labeled box, or -1
    gt_iou: np.ndarray  # IoU with the partner (nan without one)

    def counts(self) -> dict[str, int]:
        """Golden boxes per outcome, and ``extra`` labeled boxes."""
        found = np.bincount(self.gt_outcome, minlength=4)
        out = {name: int(n) for name, n in zip(OUTCOMES, found, strict=True)}
        out["extra"] = int((self.pr_outcome == EXTRA).sum())
        return out


def match_objects(
    gt_image: npt.ArrayLike,
    gt_boxes: npt.ArrayLike,
    gt_class: npt.ArrayLike,
    pr_image: npt.ArrayLike,
    pr_boxes: npt.ArrayLike,
    pr_class: npt.ArrayLike,
    iou: float = 0.5,
    low: float = MISLOCATED_IOU,
) -> Matched:
    """Match labeled boxes to golden ones (see the module docstring). Images and classes are
    integer codes (a labeled class the golden version does not know: any code no golden box
    has, such as -1); boxes are [n, 4] [x, y, w, h]."""
    if not 0.0 < low <= iou <= 1.0:
        raise ValueError(f"need 0 < low <= iou <= 1, got low={low}, iou={iou}")
    gt = metrics._boxes(gt_boxes, "gt_boxes")
    pr = metrics._boxes(pr_boxes, "pr_boxes")
    gt_img = np.asarray(metrics._column(gt_image, len(gt), "gt_image"), dtype=np.int64)
    pr_img = np.asarray(metrics._column(pr_image, len(pr), "pr_image"), dtype=np.int64)
    gt_cls = np.asarray(metrics._column(gt_class, len(gt), "gt_class"), dtype=np.int64)
    pr_cls = np.asarray(metrics._column(pr_class, len(pr), "pr_class"), dtype=np.int64)

    gt_outcome = np.full(len(gt), MISSED, np.int8)
    pr_outcome = np.full(len(pr), EXTRA, np.int8)
    gt_partner = np.full(len(gt), -1, np.int64)
    pr_partner = np.full(len(pr), -1, np.int64)
    gt_iou = np.full(len(gt), np.nan)

    passes = ((HIT, True, iou), (CONFUSED, False, iou), (MISLOCATED, False, low))
    for outcome, same_class, threshold in passes:
        g_left = np.flatnonzero(gt_partner < 0)
        p_left = np.flatnonzero(pr_partner < 0)
        if not len(g_left) or not len(p_left):
            break
        g_cols, p_cols = [gt_img[g_left]], [pr_img[p_left]]
        if same_class:
            g_cols.append(gt_cls[g_left])
            p_cols.append(pr_cls[p_left])
        g_key, p_key = metrics._shared_keys(g_cols, p_cols)
        gi, pi, ious = metrics._match(g_key, gt[g_left], p_key, pr[p_left], threshold)
        gi, pi = g_left[gi], p_left[pi]
        gt_outcome[gi], pr_outcome[pi] = outcome, outcome
        gt_partner[gi], pr_partner[pi] = pi, gi
        gt_iou[gi] = ious
    return Matched(gt_outcome, pr_outcome, gt_partner, pr_partner, gt_iou)


def confusion(m: Matched, gt_class: np.ndarray, pr_class: np.ndarray, k: int) -> np.ndarray:
    """The (k + 1) x (k + 1) matrix, golden class by labeled class, index k the background.
    A labeled class outside 0..k-1 (unknown to the golden version) counts under background."""
    gt_class = np.asarray(gt_class, dtype=np.int64)
    pr_class = np.asarray(pr_class, dtype=np.int64)
    pr_code = np.where((pr_class >= 0) & (pr_class < k), pr_class, k)
    matrix = np.zeros((k + 1, k + 1), np.int64)
    paired = np.flatnonzero((m.gt_outcome == HIT) | (m.gt_outcome == CONFUSED))
    np.add.at(matrix, (gt_class[paired], pr_code[m.gt_partner[paired]]), 1)
    unpaired_gt = np.flatnonzero((m.gt_outcome == MISSED) | (m.gt_outcome == MISLOCATED))
    np.add.at(matrix, (gt_class[unpaired_gt], k), 1)
    unpaired_pr = np.flatnonzero((m.pr_outcome == EXTRA) | (m.pr_outcome == MISLOCATED))
    np.add.at(matrix, (k, pr_code[unpaired_pr]), 1)
    return matrix


def class_differs(m: Matched, gt_class: np.ndarray, pr_class: np.ndarray) -> np.ndarray:
    """Per golden box: matched (at any pass) to a labeled box of another class."""
    partner = m.gt_partner
    has = partner >= 0
    out = np.zeros(len(partner), bool)
    out[has] = np.asarray(gt_class)[has] != np.asarray(pr_class)[partner[has]]
    return out
