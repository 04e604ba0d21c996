"""Box clustering and fusion, the weighted boxes fusion of Solovyev et al. (ensemble-boxes' WBF).

Within each group (an item and a class), boxes are taken by weight, heaviest first; a box joins
the cluster whose fused box it overlaps most at IoU above the threshold, else it starts a
cluster; a cluster's fused box is the weight-averaged corners of its boxes, updated as each box
joins. Groups are independent, so every group's r-th box is placed in one vectorised round: the
rounds number the largest group's boxes, not the boxes in all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Clusters:
    of_box: np.ndarray  # cluster id of each input box
    fused: np.ndarray  # (clusters, 4) x1, y1, x2, y2
    weight: np.ndarray  # (clusters,) summed weight of the cluster's boxes
    group: np.ndarray  # (clusters,) the group each cluster belongs to


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of corresponding rows of two (n, 4) corner arrays."""
    width = np.clip(np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0]), 0, None)
    height = np.clip(np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]), 0, None)
    inter = width * height
    union = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > inter, inter / (union - inter), 0.0)


def cluster(group: np.ndarray, weight: np.ndarray, boxes: np.ndarray, threshold: float) -> Clusters:
    """Cluster ``boxes`` (n, 4 corners) within ``group``; equal weights keep the input order."""
    n = len(group)
    order = np.lexsort((np.arange(n), -weight, group))
    g, w, b = group[order], weight[order], boxes[order].astype(np.float64)
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]]) if n else np.zeros(0, np.int64)
    sizes = np.diff(np.r_[starts, n])
    owner = np.repeat(np.arange(len(starts)), sizes)  # group index of each sorted box
    rank = np.arange(n) - starts[owner]
    count = np.zeros(len(starts), np.int64)  # clusters so far, per group
    # group q's clusters live in slots starts[q] .. starts[q] + sizes[q] - 1
    total, corners, fused = np.zeros(n), np.zeros((n, 4)), np.zeros((n, 4))
    slot_of = np.empty(n, np.int64)
    for r in range(int(sizes.max()) if n else 0):
        boxes_now = starts[sizes > r] + r
        q = owner[boxes_now]
        slot = _best_match(b, fused, boxes_now, starts[q], count[q], threshold)
        fresh = slot < 0
        slot[fresh] = starts[q[fresh]] + count[q[fresh]]
        count[q[fresh]] += 1
        slot_of[boxes_now] = slot
        total[slot] += w[boxes_now]  # one box per group per round: no slot repeats
        corners[slot] += w[boxes_now, None] * b[boxes_now]
        fused[slot] = corners[slot] / total[slot, None]
    used = np.flatnonzero(rank < count[owner])
    renumber = np.full(n, -1, np.int64)
    renumber[used] = np.arange(len(used))
    of_box = np.empty(n, np.int64)
    of_box[order] = renumber[slot_of]
    return Clusters(of_box, fused[used], total[used], g[used])


def _best_match(b, fused, boxes_now, first_slot, count, threshold) -> np.ndarray:
    """For each box, the slot of the existing cluster of its group with the highest IoU above
    ``threshold`` (the lowest slot on equal IoU), or -1."""
    slot = np.full(len(boxes_now), -1, np.int64)
    has = np.flatnonzero(count > 0)
    if not len(has):
        return slot
    counts = count[has]
    pairs = int(counts.sum())
    begin = np.cumsum(counts) - counts
    within = np.arange(pairs) - np.repeat(begin, counts)
    candidate = np.repeat(first_slot[has], counts) + within
    overlap = iou(b[np.repeat(boxes_now[has], counts)], fused[candidate])
    overlap = np.where(overlap > threshold, overlap, -1.0)
    best = np.maximum.reduceat(overlap, begin)
    first = np.minimum.reduceat(
        np.where(overlap == np.repeat(best, counts), within, np.iinfo(np.int64).max), begin
    )
    matched = best > threshold
    slot[has[matched]] = first_slot[has[matched]] + first[matched]
    return slot
