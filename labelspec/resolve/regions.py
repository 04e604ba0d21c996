"""Sets of labels per item: multilabel classes, detection boxes and NER spans.

A labeler's vote on an item is what their newest delivery (batch) of it holds: those current
labels are their *marks* (a tool may give each box its own annotation id, so the batch, not the
annotation, is the unit). Marks that mean the same thing form a *candidate*:
the same class (multilabel), the same class and characters (ner, exact span match), or a cluster
of boxes of one class (detection, ``boxes.cluster`` at the IoU threshold). Each candidate is then
decided from which of the item's labelers marked it:

``majority``     confidence = the share of the item's labelers who marked it; above one half it
                 is resolved, exactly one half a tie, below rejected.
``dawid-skene``  each labeler's chance to mark a real region and to mark a false one, by EM over
                 marked / not marked (``dawid_skene`` with two classes); confidence = the
                 posterior that the region is real; boxes are fused weighting each labeler by
                 their estimated accuracy.
``latest``       the regions of the item's newest vote (created_at, then batch); the newest
                 votes of several labelers at once: a tie. Confidence = the majority share.

An item whose votes resolve no candidate gets one ``no objects`` row (``no_objects``): a text
with no entities, an image with none of the multilabel classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from labelspec.resolve import boxes, dawid_skene
from labelspec.resolve.classes import OLDEST, TIE
from labelspec.resolve.result import RESOLVED_SCHEMA
from labelspec.resolve.suspects import NONE

_MARKS_SQL = """
create temp table r_latest as
  select item_id, labeler_id, max(batch_id) as batch from labels group by item_id, labeler_id;
create temp table r_items as
  select item_id, (row_number() over (order by item_id) - 1)::BIGINT as i
  from (select distinct item_id from r_latest);
create temp table r_labelers as
  select labeler_id, (row_number() over (order by labeler_id) - 1)::BIGINT as j
  from (select distinct labeler_id from r_latest);
create temp table r_batches as
  select batch, (row_number() over (order by batch) - 1)::BIGINT as rank
  from (select distinct batch from r_latest);
"""
_VOTERS = f"""
select v.i, w.j, max(coalesce(epoch_us(l.created_at), {OLDEST})) as t, any_value(b.rank) as b
from labels l join r_latest r on r.item_id = l.item_id and r.labeler_id = l.labeler_id
                             and r.batch = l.batch_id
     join r_items v on v.item_id = l.item_id join r_labelers w on w.labeler_id = l.labeler_id
     join r_batches b on b.batch = r.batch
group by v.i, w.j order by v.i, w.j
"""
_MARKS = """
select v.i, w.j, c.code, l.bbox.x as x, l.bbox.y as y, l.bbox.w as w, l.bbox.h as h,
       l.span.start as s, l.span."end" as e, l.label_id
from labels l join r_latest r on r.item_id = l.item_id and r.labeler_id = l.labeler_id
                             and r.batch = l.batch_id
     join r_items v on v.item_id = l.item_id join r_labelers w on w.labeler_id = l.labeler_id
     join classes c on c."class" = l."class"
order by v.i, c.code, s, e, w.j, l.label_id
"""
# explicit empty answers ("no objects here") of each labeler's newest delivery: the labels a
# resolved "no objects" row comes from
_EMPTY = """
select v.i, l.label_id
from labels l join r_latest r on r.item_id = l.item_id and r.labeler_id = l.labeler_id
                             and r.batch = l.batch_id
     join r_items v on v.item_id = l.item_id join r_labelers w on w.labeler_id = l.labeler_id
where l."class" is null and l.bbox is null and l.span is null
order by v.i, w.j, l.label_id
"""


@dataclass
class Marks:
    item_ids: pa.Array
    labeler_ids: pa.Array
    class_ids: list[str]
    voter_item: np.ndarray  # (item, labeler) of every latest annotation, sorted
    voter_labeler: np.ndarray
    voter_time: np.ndarray
    voter_batch: np.ndarray
    item: np.ndarray  # per mark, sorted by item, class, span, labeler, label id
    labeler: np.ndarray
    code: np.ndarray
    corners: np.ndarray  # (marks, 4) x1, y1, x2, y2 (detection)
    span: np.ndarray  # (marks, 2) start, end (ner)
    label_id: pa.Array
    suspect: np.ndarray  # per item: a current label of it is suspect
    empty_item: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # sorted
    empty_label_id: pa.Array = field(default_factory=lambda: pa.array([], pa.string()))


def load_marks(con, class_ids: list[str], rule=None) -> Marks:
    """The marks of the ``labels`` view (``rule`` flags suspect labels, ``suspects.Rule``) and
    its explicit empty answers (the "no objects" rows cite them)."""

    rule = rule or NONE
    con.execute(_MARKS_SQL)
    voters = con.sql(_VOTERS).to_arrow_table()
    marks = con.sql(_MARKS).to_arrow_table()
    empty = con.sql(_EMPTY).to_arrow_table()
    flagged = con.sql(
        f"select distinct v.i from labels l join r_items v on v.item_id = l.item_id "
        f"{rule.joins} where {rule.flag}"
    ).fetchnumpy()["i"]
    names = {
        t: con.sql(f"select {col} from {t} order by {idx}").to_arrow_table().column(0)
        for t, col, idx in (("r_items", "item_id", "i"), ("r_labelers", "labeler_id", "j"))
    }

    def numbers(table: pa.Table, name: str, dtype=np.float64) -> np.ndarray:
        return table.column(name).to_numpy(zero_copy_only=False).astype(dtype)

    x, y, w, h = (np.nan_to_num(numbers(marks, c)) for c in "xywh")
    suspect = np.zeros(len(names["r_items"]), bool)
    suspect[np.asarray(flagged, dtype=np.int64)] = True
    return Marks(
        item_ids=names["r_items"].combine_chunks(),
        labeler_ids=names["r_labelers"].combine_chunks(),
        class_ids=class_ids,
        voter_item=numbers(voters, "i", np.int64),
        voter_labeler=numbers(voters, "j", np.int64),
        voter_time=numbers(voters, "t", np.int64),
        voter_batch=numbers(voters, "b", np.int64),
        item=numbers(marks, "i", np.int64),
        labeler=numbers(marks, "j", np.int64),
        code=numbers(marks, "code", np.int64),
        corners=np.column_stack([x, y, x + w, y + h]),
        span=np.nan_to_num(np.column_stack([numbers(marks, "s"), numbers(marks, "e")])),
        label_id=marks.column("label_id").combine_chunks(),
        suspect=suspect,
        empty_item=numbers(empty, "i", np.int64),
        empty_label_id=empty.column("label_id").combine_chunks(),
    )


@dataclass
class Candidates:
    of_mark: np.ndarray  # candidate of each mark
    item: np.ndarray  # per candidate
    code: np.ndarray


def candidates(marks: Marks, task: str, iou: float) -> Candidates:
    k = max(len(marks.class_ids), 1)
    group = marks.item * k + marks.code
    if task == "detection":
        found = boxes.cluster(_dense(group), np.ones(len(group)), marks.corners, iou)
        of_mark = found.of_box
    elif task == "ner":
        keys = np.column_stack([group, marks.span])
        of_mark = np.cumsum(np.r_[False, (keys[1:] != keys[:-1]).any(axis=1)])
    else:
        of_mark = _dense(group)
    n = int(of_mark.max()) + 1 if len(of_mark) else 0
    item = np.zeros(n, np.int64)
    code = np.zeros(n, np.int64)
    item[of_mark], code[of_mark] = marks.item, marks.code
    return Candidates(of_mark, item, code)


@dataclass
class Decision:
    """Per candidate: confidence and status; per mark: whether it is a member of its row."""

    confidence: np.ndarray
    status: np.ndarray  # resolved | tie | rejected
    member: np.ndarray
    weight: np.ndarray  # per labeler, for fusing boxes
    method: str
    quality: dict[str, float] | None = None
    diagnostics: dict | None = None  # dawid-skene: iterations, converged


def _supporters(marks: Marks, cands: Candidates) -> tuple[np.ndarray, np.ndarray]:
    """(candidate, labeler) of every labeler who marked a candidate, once each."""
    n_labelers = len(marks.labeler_ids)
    pairs = np.unique(cands.of_mark * n_labelers + marks.labeler)
    return pairs // n_labelers, pairs % n_labelers


def _share(marks: Marks, cands: Candidates, weight: np.ndarray) -> np.ndarray:
    cand, labeler = _supporters(marks, cands)
    support = np.bincount(cand, weights=weight[labeler], minlength=len(cands.item))
    per_item = np.bincount(
        marks.voter_item, weights=weight[marks.voter_labeler], minlength=len(marks.item_ids)
    )
    return support / per_item[cands.item]


def _status(confidence: np.ndarray) -> np.ndarray:
    return np.where(
        np.abs(confidence - 0.5) <= TIE, "tie", np.where(confidence > 0.5, "resolved", "rejected")
    )


def majority(marks: Marks, cands: Candidates) -> Decision:
    weight = np.ones(len(marks.labeler_ids))
    share = _share(marks, cands, weight)
    return Decision(share, _status(share), np.ones(len(marks.item), bool), weight, "majority")


def dawid_skene_decision(marks: Marks, cands: Candidates) -> Decision:
    # every labeler of the item votes on each of its candidates: marked (1) or not (0)
    per_item = np.bincount(marks.voter_item, minlength=len(marks.item_ids))
    first = np.searchsorted(marks.voter_item, np.arange(len(marks.item_ids)))
    count = per_item[cands.item]
    begin = np.cumsum(count) - count
    voter = np.repeat(first[cands.item], count) + np.arange(count.sum()) - np.repeat(begin, count)
    cand = np.repeat(np.arange(len(cands.item)), count)
    labeler = marks.voter_labeler[voter]
    s_cand, s_labeler = _supporters(marks, cands)
    n_labelers = len(marks.labeler_ids)
    marked = np.isin(cand * n_labelers + labeler, s_cand * n_labelers + s_labeler)
    fit = dawid_skene.fit(cand, labeler, marked.astype(np.int64), len(cands.item), n_labelers, 2)
    accuracy = fit.accuracy()
    real = fit.posteriors[:, 1]
    quality = dict(zip(marks.labeler_ids.to_pylist(), accuracy.round(6).tolist(), strict=True))
    member = np.ones(len(marks.item), bool)
    diagnostics = {"iterations": fit.iterations, "converged": fit.converged}
    return Decision(real, _status(real), member, accuracy, "dawid-skene", quality, diagnostics)


def latest(marks: Marks, cands: Candidates) -> Decision:
    weight = np.ones(len(marks.labeler_ids))
    share = _share(marks, cands, weight)
    starts = np.flatnonzero(np.r_[True, marks.voter_item[1:] != marks.voter_item[:-1]])
    item = marks.voter_item
    newest = marks.voter_time == np.maximum.reduceat(marks.voter_time, starts)[item]
    batch = np.where(newest, marks.voter_batch, -1)
    newest &= batch == np.maximum.reduceat(batch, starts)[item]
    tied = np.bincount(item[newest], minlength=len(marks.item_ids)) > 1
    n_labelers = len(marks.labeler_ids)
    newest_pairs = item[newest] * n_labelers + marks.voter_labeler[newest]
    from_newest = np.isin(marks.item * n_labelers + marks.labeler, newest_pairs)
    in_newest = np.bincount(cands.of_mark, weights=from_newest, minlength=len(cands.item)) > 0
    status = np.where(tied[cands.item], "tie", np.where(in_newest, "resolved", "rejected"))
    # a resolved region is the newest annotation's own; any other row keeps all its marks
    member = from_newest | (status[cands.of_mark] != "resolved")
    return Decision(share, status, member, weight, "latest")


def table(marks: Marks, cands: Candidates, d: Decision, task: str):
    """RESOLVED_SCHEMA rows, one per candidate, sorted by item, class and region."""

    n = len(cands.item)
    members = np.flatnonzero(d.member)
    owner = cands.of_mark[members]
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
    spans = np.zeros((n, 2), np.int64)
    spans[cands.of_mark] = marks.span.astype(np.int64) if task == "ner" else 0
    order = np.lexsort((fused[:, 3], fused[:, 2], fused[:, 1], fused[:, 0], spans[:, 1],
                        spans[:, 0], cands.code, cands.item))  # fmt: skip
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n)
    listed = members[np.lexsort((np.arange(len(members)), rank[owner]))]
    offsets = pa.array(
        np.r_[0, np.cumsum(np.bincount(rank[cands.of_mark[listed]], minlength=n))], pa.int32()
    )
    labelers = _distinct_lists(
        marks.labeler[listed], rank[cands.of_mark[listed]], n, marks.labeler_ids
    )
    x1, y1, x2, y2 = (fused[order, c] for c in range(4))
    bbox = (
        pa.StructArray.from_arrays(
            [x1, y1, x2 - x1, y2 - y1], fields=list(RESOLVED_SCHEMA.field("bbox").type)
        )
        if task == "detection"
        else pa.nulls(n, RESOLVED_SCHEMA.field("bbox").type)
    )
    span = (
        pa.StructArray.from_arrays(
            [spans[order, 0], spans[order, 1]], fields=list(RESOLVED_SCHEMA.field("span").type)
        )
        if task == "ner"
        else pa.nulls(n, RESOLVED_SCHEMA.field("span").type)
    )
    item = cands.item[order]
    columns = {
        "item_id": marks.item_ids.take(pa.array(item)),
        "class": pa.array(marks.class_ids, pa.string()).take(pa.array(cands.code[order])),
        "bbox": bbox,
        "span": span,
        "confidence": pa.array(d.confidence[order], pa.float64()),
        "status": pa.array(d.status[order], pa.string()),
        "method": pa.array(np.full(n, d.method)),
        "voters": pa.array(
            np.bincount(marks.voter_item, minlength=len(marks.item_ids))[item], pa.int32()
        ),
        "labelers": labelers,
        "label_ids": pa.ListArray.from_arrays(offsets, marks.label_id.take(pa.array(listed))),
        "suspect": pa.array(marks.suspect[item], pa.bool_()),
    }
    return pa.table(columns, schema=RESOLVED_SCHEMA)


def _distinct_lists(labeler: np.ndarray, row: np.ndarray, n: int, names: pa.Array) -> pa.ListArray:
    """The distinct labelers of each row, sorted (a labeler's two boxes in a cluster: once)."""
    pairs = np.unique(row * len(names) + labeler)
    offsets = np.r_[0, np.cumsum(np.bincount(pairs // len(names), minlength=n))]
    return pa.ListArray.from_arrays(
        pa.array(offsets, pa.int32()), names.take(pa.array(pairs % len(names)))
    )


def _dense(keys: np.ndarray) -> np.ndarray:
    return np.unique(keys, return_inverse=True)[1].reshape(-1) if len(keys) else keys
