"""The ``no objects`` rows of a resolution of sets (detection boxes, NER spans, multilabel
classes): one per item whose votes resolve no region or class, so an explicit "no objects here"
(no entities in a text, no box on an image, none of the classes) is an item of the result, a
background example for a training set (multilabel: an all-zero target), and not lost.

The row is ``resolved`` with the confidence that each of the item's rejected candidates is not
real (1 when nobody marked anything), citing the explicit empty answers on it. Unless a
candidate of the item is a tie, or at most half of its labelers marked nothing (regions
scattered so that none reaches a majority): then the row is a ``tie`` (confidence: the share
that marked nothing), the item goes to relabeling and stays out of training sets. ``latest``
takes the newest answer, empty or not, so an item whose newest vote marks nothing is resolved
empty whoever marked something before.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from labelspec.resolve.regions import Marks, _distinct_lists
from labelspec.resolve.result import RESOLVED_SCHEMA


def rows(
    marks: Marks, cand_item: np.ndarray, status: np.ndarray, confidence: np.ndarray, method: str
) -> pa.Table:
    """RESOLVED_SCHEMA rows, by item: a ``no objects`` row for each item with votes and no
    resolved candidate. Per candidate: its item, status and confidence (for a rejected one:
    the chance it is real)."""
    voters = np.bincount(marks.voter_item, minlength=len(marks.item_ids))
    resolved_items = np.unique(cand_item[status == "resolved"])
    empty_items = np.setdiff1d(np.flatnonzero(voters), resolved_items)
    doubt = np.ones(len(marks.item_ids))
    rejected = status == "rejected"
    np.minimum.at(doubt, cand_item[rejected], 1.0 - confidence[rejected])
    undecided = np.zeros(len(marks.item_ids), bool)
    undecided[cand_item[status == "tie"]] = True
    silent = _silent_count(marks)
    unbacked = ~undecided & (2 * silent <= voters) & (method != "latest")
    undecided |= unbacked
    # a tie row, whatever made it, reads as the share of its labelers that marked nothing
    doubt = np.where(undecided, silent / np.maximum(voters, 1), doubt)
    m = len(empty_items)
    return pa.table(
        {
            "item_id": marks.item_ids.take(pa.array(empty_items, pa.int64())),
            "class": pa.nulls(m, pa.string()),
            "bbox": pa.nulls(m, RESOLVED_SCHEMA.field("bbox").type),
            "span": pa.nulls(m, RESOLVED_SCHEMA.field("span").type),
            "confidence": pa.array(doubt[empty_items], pa.float64()),
            "status": pa.array(np.where(undecided[empty_items], "tie", "resolved"), pa.string()),
            "method": pa.array(np.full(m, method)),
            "voters": pa.array(voters[empty_items], pa.int32()),
            "labelers": _silent(marks, empty_items),
            "label_ids": _empty_answers(marks, empty_items),
            "suspect": pa.array(marks.suspect[empty_items], pa.bool_()),
        },
        schema=RESOLVED_SCHEMA,
    )


def _empty_answers(marks: Marks, items: np.ndarray) -> pa.ListArray:
    """Per item in ``items`` (sorted): the explicit empty answers on it, its lineage."""
    on = np.flatnonzero(np.isin(marks.empty_item, items))
    row = np.searchsorted(items, marks.empty_item[on])
    offsets = np.r_[0, np.cumsum(np.bincount(row, minlength=len(items)))]
    return pa.ListArray.from_arrays(
        pa.array(offsets, pa.int32()), marks.empty_label_id.take(pa.array(on, pa.int64()))
    )


def _silent_count(marks: Marks) -> np.ndarray:
    """Per item: its labelers who marked nothing on it."""
    n_labelers = max(len(marks.labeler_ids), 1)
    drew = np.unique(marks.item * n_labelers + marks.labeler)
    pairs = marks.voter_item * n_labelers + marks.voter_labeler
    silent = marks.voter_item[~np.isin(pairs, drew)]
    return np.bincount(silent, minlength=len(marks.item_ids))


def _silent(marks: Marks, items: np.ndarray) -> pa.ListArray:
    """Per item in ``items``: the labelers who marked nothing on it (their "no objects here")."""
    n_labelers = max(len(marks.labeler_ids), 1)
    drew = np.unique(marks.item * n_labelers + marks.labeler)
    pairs = marks.voter_item * n_labelers + marks.voter_labeler
    silent = ~np.isin(pairs, drew) & np.isin(marks.voter_item, items)
    row = np.searchsorted(items, marks.voter_item[silent])
    return _distinct_lists(marks.voter_labeler[silent], row, len(items), marks.labeler_ids)
