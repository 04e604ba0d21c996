"""Detection resolution: labelers vote on *objects*, and on each object's class.

The boxes of an item's votes (each labeler's newest delivery of it, ``regions.load_marks``) are
clustered across classes at the IoU threshold (``boxes.cluster``, weighted boxes fusion): a
cluster is one candidate object. Every labeler of the item then casts one vote per candidate:
the class of their box in it (their most frequent one, should they have drawn two), or
*background* when they drew none there, an explicit "no objects here" included. So a pickup one
labeler boxed as a school bus and another as a pickup is one object with a class disagreement,
never two half-supported objects, and the same K + 1 categorical votes feed every method:

``majority``     the most voted option (a class or background); confidence = its share of the
                 item's labelers; a draw at the top is a tie.
``dawid-skene``  each labeler's (K + 1) x (K + 1) confusion matrix by EM (``dawid_skene``, with
                 one pseudo-vote of agreement on each diagonal), so a labeler who boxes pickups
                 as buses or adds boxes where there is nothing is down-weighted; confidence =
                 the posterior of the chosen option.
``latest``       the newest vote of the item decides (several newest at once: a tie).

Only a class somebody drew on a candidate, or background, can be decided. A candidate decided
*background* is ``rejected`` (kept, with its most drawn class and the share
that drew it as confidence, so a reviewer sees it); a decided class is ``resolved``, its box the
weighted mean of the boxes of that class. An item whose votes resolve no object gets one
``no objects`` row (class and box null), resolved with the confidence that each of its rejected
candidates is not real (1 when nobody drew anything), citing the explicit empty answers on it:
a background image for a training set. Unless at most half of its labelers drew nothing (boxes
scattered so that no candidate reaches a majority): then the row is a ``tie`` (confidence: the
share that drew nothing), the item goes to relabeling and stays out of training sets
(``no_objects``, shared with NER).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from labelspec.resolve import boxes, dawid_skene, no_objects
from labelspec.resolve.classes import TIE
from labelspec.resolve.regions import Decision, Marks, _distinct_lists
from labelspec.resolve.result import RESOLVED_SCHEMA

# One pseudo-vote of agreement per category and labeler: with background as a category, plain
# EM can swap what "pickup" and "background" mean when two careful labelers face two sloppy ones.
AGREEMENT_PRIOR = 1.0


@dataclass
class Objects:
    """Candidate objects and every (candidate, voter) vote: a class code or ``k`` (background)."""

    of_mark: np.ndarray  # candidate of each mark
    item: np.ndarray  # per candidate
    k: int  # classes; vote code k is background
    vote_cand: np.ndarray  # per vote
    vote_labeler: np.ndarray
    vote: np.ndarray


def candidates(marks: Marks, iou: float) -> Objects:
    k = len(marks.class_ids)
    found = boxes.cluster(marks.item, np.ones(len(marks.item)), marks.corners, iou)
    of_mark = found.of_box
    item = found.group.astype(np.int64)
    # every labeler of the item votes on each of its candidates
    per_item = np.bincount(marks.voter_item, minlength=len(marks.item_ids))
    first = np.searchsorted(marks.voter_item, np.arange(len(marks.item_ids)))
    count = per_item[item]
    begin = np.cumsum(count) - count
    voter = np.repeat(first[item], count) + np.arange(count.sum()) - np.repeat(begin, count)
    vote_cand = np.repeat(np.arange(len(item)), count)
    vote_labeler = marks.voter_labeler[voter]
    n_labelers = max(len(marks.labeler_ids), 1)
    # each labeler's class for a candidate: the class of most of their boxes in it (lowest code)
    drawn = (of_mark * n_labelers + marks.labeler) * (k + 1) + marks.code
    keys, counts = np.unique(drawn, return_counts=True)
    pair, code = keys // (k + 1), keys % (k + 1)
    order = np.lexsort((code, -counts, pair))
    first_of_pair = np.r_[True, pair[order][1:] != pair[order][:-1]]
    chosen_pair, chosen_code = pair[order][first_of_pair], code[order][first_of_pair]
    vote_pair = vote_cand * n_labelers + vote_labeler
    where = np.searchsorted(chosen_pair, vote_pair)
    where = np.minimum(where, max(len(chosen_pair) - 1, 0))
    hit = len(chosen_pair) > 0 and chosen_pair[where] == vote_pair
    vote = np.where(hit, chosen_code[where] if len(chosen_code) else k, k)
    return Objects(of_mark, item, k, vote_cand, vote_labeler, vote.astype(np.int64))


def _tally(objs: Objects, weight: np.ndarray | None = None) -> np.ndarray:
    """(candidates, k + 1) votes for each option, weighted per labeler if asked."""
    w = None if weight is None else weight[objs.vote_labeler]
    flat = np.bincount(
        objs.vote_cand * (objs.k + 1) + objs.vote, w, minlength=len(objs.item) * (objs.k + 1)
    )
    return flat.reshape(len(objs.item), objs.k + 1)


def _decide(objs: Objects, share: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(class code, status, confidence) per candidate from each option's share (rows sum to 1:
    vote shares or posteriors). Only the classes someone drew on the candidate, and background,
    can win (a posterior never invents a class nobody gave); a rejected candidate keeps the
    class most labelers drew."""
    k = objs.k
    counts = _tally(objs)
    drawn = counts > 0
    drawn[:, k] = True
    share = np.where(drawn, share, 0.0)
    share = share / np.maximum(share.sum(axis=1, keepdims=True), 1e-300)
    ranked = np.sort(share, axis=1)
    top, second = ranked[:, -1], ranked[:, -2] if share.shape[1] > 1 else np.zeros(len(share))
    winner = share.argmax(axis=1)
    drawn_class = counts[:, :k].argmax(axis=1) if k else np.zeros(len(share), np.int64)
    status = np.where(
        top - second <= TIE, "tie", np.where(winner == k, "rejected", "resolved")
    ).astype(object)
    real = 1.0 - share[:, k]
    confidence = np.where(winner == k, real, top)
    code = np.where(winner == k, drawn_class, winner)
    # a draw between two classes names no class; a draw with background keeps the drawn one
    between_classes = (status == "tie") & (share[:, k] < top - TIE)
    code = np.where(between_classes, -1, code)
    confidence = np.where(status == "tie", top, confidence)
    return code, status, confidence


def majority(marks: Marks, objs: Objects) -> tuple[Decision, np.ndarray]:
    counts = _tally(objs)
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    code, status, confidence = _decide(objs, share)
    weight = np.ones(len(marks.labeler_ids))
    member = _members(marks, objs, code, status)
    return Decision(confidence, status, member, weight, "majority"), code


def dawid_skene_decision(marks: Marks, objs: Objects) -> tuple[Decision, np.ndarray]:
    fit = dawid_skene.fit(
        objs.vote_cand,
        objs.vote_labeler,
        objs.vote,
        len(objs.item),
        len(marks.labeler_ids),
        objs.k + 1,
        agreement_prior=AGREEMENT_PRIOR,
    )
    accuracy = fit.accuracy()
    code, status, confidence = _decide(objs, fit.posteriors)
    quality = dict(zip(marks.labeler_ids.to_pylist(), accuracy.round(6).tolist(), strict=True))
    diagnostics = {"iterations": fit.iterations, "converged": fit.converged}
    member = _members(marks, objs, code, status)
    decision = Decision(confidence, status, member, accuracy, "dawid-skene", quality, diagnostics)
    return decision, code


def latest(marks: Marks, objs: Objects) -> tuple[Decision, np.ndarray]:
    starts = np.flatnonzero(np.r_[True, marks.voter_item[1:] != marks.voter_item[:-1]])
    item = marks.voter_item
    newest = marks.voter_time == np.maximum.reduceat(marks.voter_time, starts)[item]
    batch = np.where(newest, marks.voter_batch, -1)
    newest &= batch == np.maximum.reduceat(batch, starts)[item]
    tied = np.bincount(item[newest], minlength=len(marks.item_ids)) > 1
    n_labelers = max(len(marks.labeler_ids), 1)
    newest_pairs = np.sort(item[newest] * n_labelers + marks.voter_labeler[newest])
    vote_pair = objs.item[objs.vote_cand] * n_labelers + objs.vote_labeler
    from_newest = np.isin(vote_pair, newest_pairs)
    code = np.full(len(objs.item), -1, np.int64)
    code[objs.vote_cand[from_newest]] = objs.vote[from_newest]
    counts = _tally(objs)
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    drawn = share[:, : objs.k].argmax(axis=1) if objs.k else np.zeros(len(code), np.int64)
    status = np.where(
        tied[objs.item], "tie", np.where(code == objs.k, "rejected", "resolved")
    ).astype(object)
    code = np.where((code == objs.k) | (code < 0), drawn, code)
    confidence = np.where(status == "resolved", share[np.arange(len(code)), code], 1 - share[:, -1])
    member = _members(marks, objs, code, status)
    weight = np.ones(len(marks.labeler_ids))
    return Decision(confidence, status, member, weight, "latest"), code


def _members(marks: Marks, objs: Objects, code: np.ndarray, status: np.ndarray) -> np.ndarray:
    """The marks a row's box is fused from: those of the decided class (all marks otherwise)."""
    decided = status[objs.of_mark] == "resolved"
    return ~decided | (marks.code == code[objs.of_mark])


def table(marks: Marks, objs: Objects, d: Decision, code: np.ndarray) -> pa.Table:
    """RESOLVED_SCHEMA rows: one per candidate object, plus one ``no objects`` row per item whose
    votes resolve no object; sorted by item, class and box."""

    n = len(objs.item)
    members = np.flatnonzero(d.member)
    owner = objs.of_mark[members]
    weight = d.weight[marks.labeler[members]]
    total = np.bincount(owner, weights=weight, minlength=n)
    fused = (
        np.column_stack(
            [
                np.bincount(owner, weights=weight * marks.corners[members, c], minlength=n)
                for c in range(4)
            ]
        )
        / np.where(total > 0, total, 1)[:, None]
    )
    voters = np.bincount(marks.voter_item, minlength=len(marks.item_ids))
    order = np.lexsort((fused[:, 3], fused[:, 2], fused[:, 1], fused[:, 0], code, objs.item))
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n)
    listed = members[np.lexsort((np.arange(len(members)), rank[owner]))]
    row_of_listed = rank[objs.of_mark[listed]]
    offsets = np.r_[0, np.cumsum(np.bincount(row_of_listed, minlength=n))]
    x1, y1, x2, y2 = (fused[order, c] for c in range(4))
    names = pa.array(marks.class_ids, pa.string())
    decided = code[order]
    classes = pc_take(names, decided)
    boxes_col = pa.StructArray.from_arrays(
        [x1, y1, x2 - x1, y2 - y1], fields=list(RESOLVED_SCHEMA.field("bbox").type)
    )
    objects_rows = pa.table(
        {
            "item_id": marks.item_ids.take(pa.array(objs.item[order])),
            "class": classes,
            "bbox": boxes_col,
            "span": pa.nulls(n, RESOLVED_SCHEMA.field("span").type),
            "confidence": pa.array(d.confidence[order], pa.float64()),
            "status": pa.array(d.status[order].astype(str), pa.string()),
            "method": pa.array(np.full(n, d.method)),
            "voters": pa.array(voters[objs.item[order]], pa.int32()),
            "labelers": _distinct_lists(marks.labeler[listed], row_of_listed, n, marks.labeler_ids),
            "label_ids": pa.ListArray.from_arrays(
                pa.array(offsets, pa.int32()), marks.label_id.take(pa.array(listed))
            ),
            "suspect": pa.array(marks.suspect[objs.item[order]], pa.bool_()),
        },
        schema=RESOLVED_SCHEMA,
    )
    empty_rows = no_objects.rows(marks, objs.item, d.status, d.confidence, d.method)
    # a stable sort by item keeps each item's objects in class and box order
    return pa.concat_tables([objects_rows, empty_rows]).sort_by("item_id")


def pc_take(names: pa.Array, codes: np.ndarray) -> pa.Array:
    """Class names for codes; -1 (a draw between classes) is null."""
    taken = names.take(pa.array(np.maximum(codes, 0)))
    return pc.if_else(pa.array(codes < 0), pa.scalar(None, pa.string()), taken)
