"""Classification: one class per item, from one vote per labeler.

A labeler's vote on an item is their latest current label of it (latest ``created_at``, then the
later batch, then the larger label id), as the QA reports rate a labeler by their latest
annotation; so a labeler who labeled an item twice votes once. DuckDB reads the snapshot and
turns items, labelers and classes into dense integer codes; numpy does the rest.

``majority``     the most voted class; confidence = its share of the votes. Two classes with
                 the top count: a tie (no class), never a guess.
``dawid-skene``  the class with the highest posterior; confidence = that posterior.
``latest``       the class of the item's newest vote (created_at, then batch); confidence = the
                 share of votes that agree with it. Newest votes that disagree: a tie.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa

from labelspec.errors import InputError
from labelspec.resolve import dawid_skene
from labelspec.resolve.result import RESOLVED_SCHEMA
from labelspec.resolve.suspects import NONE

DENSE_CELLS = 1 << 24  # items x classes up to this: count in a dense matrix, else sort
TIE = 1e-9  # posteriors this close are a tie
OLDEST = -(2**63) + 1  # created_at unknown: older than any time

_VOTES_SQL = """
create temp table r_items as
  select item_id, (row_number() over (order by item_id) - 1)::BIGINT as i
  from (select distinct item_id from {items});
create temp table r_labelers as
  select labeler_id, (row_number() over (order by labeler_id) - 1)::BIGINT as j
  from (select distinct labeler_id from {source});
"""
_VOTES_READ = """
select v.i, w.j, c.code, coalesce(epoch_us(l.created_at), {oldest}) as t, b.b,
       {flag} as suspect, l.label_id
from {source} l left join r_items v using (item_id) join r_labelers w using (labeler_id)
     join classes c using ("class") join r_batches b using (batch_id) {joins}
"""


@dataclass
class Votes:
    """One vote per (item, labeler), sorted by (item, labeler); codes index the name arrays.
    ``row`` is each vote's position in ``label_id`` (kept in read order: gathered once, at
    the end, for the votes a table cites)."""

    item_ids: pa.Array
    labeler_ids: pa.Array
    class_ids: list[str]
    item: np.ndarray
    labeler: np.ndarray
    code: np.ndarray
    time: np.ndarray
    batch: np.ndarray
    row: np.ndarray
    label_id: pa.Array
    suspect: np.ndarray  # per item: a current label of it is suspect (all labels, not votes)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def k(self) -> int:
        return len(self.class_ids)

    def take(self, rows: np.ndarray) -> Votes:
        return replace(
            self,
            item=self.item[rows],
            labeler=self.labeler[rows],
            code=self.code[rows],
            time=self.time[rows],
            batch=self.batch[rows],
            row=self.row[rows],
        )


def load_votes(
    con,
    class_ids: list[str],
    batch_ids: list[str],
    rule=None,
    superseding: bool = True,
    registry: bool = False,
) -> Votes:
    """The votes of the ``labels`` view (``classes`` maps class ids to codes; ``batch_ids``
    are the snapshot's batches; ``rule`` flags suspect labels, ``suspects.Rule``).
    ``superseding=False``: no batch supersedes another, so every label is current and the
    scan skips the ``labels`` view's anti-join (half the time of a 10M-label read).
    ``registry``: number items from the ``items`` view (the manifest, a fraction of the labels'
    size) instead of a pass over the labels."""

    rule = rule or NONE
    source = "labels" if superseding else "labels_all"
    con.execute(_VOTES_SQL.format(source=source, items="items" if registry else source))
    ordered = sorted(batch_ids)
    con.register("r_batches", pa.table({"batch_id": ordered, "b": np.arange(len(ordered))}))
    read = con.sql(
        _VOTES_READ.format(oldest=OLDEST, flag=rule.flag, joins=rule.joins, source=source)
    ).to_arrow_table()
    names = {
        t: con.sql(f"select {col} from {t} order by {idx}").to_arrow_table().column(0)
        for t, col, idx in (("r_items", "item_id", "i"), ("r_labelers", "labeler_id", "j"))
    }
    item, item_ids = _compact(read.column("i"), names["r_items"].combine_chunks())
    flagged = read.column("suspect").to_numpy(zero_copy_only=False)
    votes = Votes(
        item_ids=item_ids,
        labeler_ids=names["r_labelers"].combine_chunks(),
        class_ids=class_ids,
        item=item,
        labeler=read.column("j").to_numpy(),
        code=read.column("code").to_numpy().astype(np.int64),
        time=read.column("t").to_numpy(),
        batch=read.column("b").to_numpy(),
        row=np.arange(len(item)),
        label_id=read.column("label_id").combine_chunks(),
        suspect=np.bincount(item, weights=flagged, minlength=len(item_ids)) > 0,
    )
    key = votes.item * max(len(votes.labeler_ids), 1) + votes.labeler
    order = np.argsort(key, kind="stable")
    return _latest_per_labeler(votes.take(order), key[order])


def _compact(codes: pa.ChunkedArray, item_ids: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Item codes renumbered over the items that have votes (the manifest also lists unlabeled
    ones), without a sort: a running count of the codes in use."""
    if codes.null_count:
        raise InputError(
            f"{codes.null_count} label(s) name items the item manifest of this snapshot lacks; "
            "`labelspec verify` lists them"
        )
    code = codes.to_numpy()
    used = np.bincount(code, minlength=len(item_ids)) > 0
    if used.all():
        return code, item_ids
    return (np.cumsum(used) - 1)[code], item_ids.filter(pa.array(used))


def _latest_per_labeler(votes: Votes, key: np.ndarray) -> Votes:
    same = key[1:] == key[:-1]
    if not same.any():
        return votes
    # Rare (a labeler labeled an item twice): sort just those votes by recency, keep the newest.
    rows = np.flatnonzero(np.r_[False, same] | np.r_[same, False])
    chosen = pa.table(
        {
            "row": rows,
            "key": key[rows],
            "t": votes.time[rows],
            "b": votes.batch[rows],
            "label_id": votes.label_id.take(pa.array(votes.row[rows])),
        }
    ).sort_by(
        [("key", "ascending"), ("t", "descending"), ("b", "descending"), ("label_id", "descending")]
    )
    keys = chosen.column("key").to_numpy()
    older = chosen.column("row").to_numpy()[np.r_[False, keys[1:] == keys[:-1]]]
    keep = np.ones(len(key), dtype=bool)
    keep[older] = False
    return votes.take(np.flatnonzero(keep))


@dataclass
class Decision:
    """Per item: the class code (-1: a tie), its confidence; per vote: whether it supports it."""

    winner: np.ndarray
    confidence: np.ndarray
    support: np.ndarray
    method: str
    quality: dict[str, float] | None = None
    diagnostics: dict | None = None  # dawid-skene: iterations, converged


def _tally(votes: Votes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(item, class, count) of every class an item got, sorted by item then class."""
    if votes.n_items * votes.k <= DENSE_CELLS:
        counts = np.bincount(votes.item * votes.k + votes.code, minlength=votes.n_items * votes.k)
        cells = np.flatnonzero(counts)
        return cells // votes.k, cells % votes.k, counts[cells]
    cells, counts = np.unique(votes.item * votes.k + votes.code, return_counts=True)
    return cells // votes.k, cells % votes.k, counts


def majority(votes: Votes) -> Decision:
    item, code, count = _tally(votes)
    starts = _starts(item)
    top = np.maximum.reduceat(count, starts)
    on_top = count == top[item]
    winner = np.minimum.reduceat(np.where(on_top, code, votes.k), starts)
    winner[np.add.reduceat(on_top, starts) > 1] = -1
    confidence = top / np.add.reduceat(count, starts)
    return Decision(winner, confidence, _support(votes, winner), "majority")


def dawid_skene_decision(votes: Votes, known: np.ndarray | None = None) -> Decision:
    fit = dawid_skene.fit(
        votes.item, votes.labeler, votes.code, votes.n_items, len(votes.labeler_ids), votes.k,
        known=known,
    )  # fmt: skip
    posteriors = fit.posteriors
    winner = posteriors.argmax(axis=1)
    top = posteriors[np.arange(len(winner)), winner]
    second = np.partition(posteriors, -2, axis=1)[:, -2] if votes.k > 1 else np.zeros_like(top)
    winner[top - second <= TIE] = -1
    quality = dict(
        zip(votes.labeler_ids.to_pylist(), fit.accuracy().round(6).tolist(), strict=True)
    )
    diagnostics = {"iterations": fit.iterations, "converged": fit.converged}
    return Decision(winner, top, _support(votes, winner), "dawid-skene", quality, diagnostics)


def latest(votes: Votes) -> Decision:
    starts = _starts(votes.item)
    newest = votes.time == np.maximum.reduceat(votes.time, starts)[votes.item]
    batch = np.where(newest, votes.batch, -1)
    newest &= batch == np.maximum.reduceat(batch, starts)[votes.item]
    low = np.minimum.reduceat(np.where(newest, votes.code, votes.k), starts)
    high = np.maximum.reduceat(np.where(newest, votes.code, -1), starts)
    winner = np.where(low == high, low, -1)
    agree = votes.code == winner[votes.item]
    confidence = np.where(
        winner >= 0,
        np.bincount(votes.item, weights=agree, minlength=votes.n_items)
        / np.bincount(votes.item, minlength=votes.n_items),
        # a tie between the newest votes: the share of the most voted of them
        majority(votes).confidence,
    )
    return Decision(winner, confidence, np.where(winner[votes.item] >= 0, newest, True), "latest")


def _support(votes: Votes, winner: np.ndarray) -> np.ndarray:
    """The votes behind each decision: those for the winner, or all of them on a tie."""
    chosen = winner[votes.item]
    return (chosen < 0) | (votes.code == chosen)


def _starts(sorted_keys: np.ndarray) -> np.ndarray:
    return np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])


def table(votes: Votes, decision: Decision, keep: np.ndarray) -> pa.Table:
    """RESOLVED_SCHEMA rows for the items where ``keep`` is true."""

    rows = np.flatnonzero(keep)
    winner = decision.winner[rows]
    tie = winner < 0
    chosen = np.flatnonzero(decision.support & keep[votes.item])
    per_row = np.bincount(votes.item[chosen], minlength=votes.n_items)[rows]
    offsets = pa.array(np.r_[0, np.cumsum(per_row)], pa.int32())
    n = len(rows)
    columns = {
        "item_id": votes.item_ids.take(pa.array(rows)),
        "class": pa.array(votes.class_ids, pa.string()).take(pa.array(winner, mask=tie)),
        "bbox": pa.nulls(n, RESOLVED_SCHEMA.field("bbox").type),
        "span": pa.nulls(n, RESOLVED_SCHEMA.field("span").type),
        "confidence": pa.array(decision.confidence[rows], pa.float64()),
        "status": pa.array(np.where(tie, "tie", "resolved")),
        "method": pa.array(np.full(n, decision.method)),
        "voters": pa.array(np.bincount(votes.item, minlength=votes.n_items)[rows], pa.int32()),
        "labelers": pa.ListArray.from_arrays(
            offsets, votes.labeler_ids.take(pa.array(votes.labeler[chosen]))
        ),
        "label_ids": pa.ListArray.from_arrays(
            offsets, votes.label_id.take(pa.array(votes.row[chosen]))
        ),
        "suspect": pa.array(votes.suspect[rows], pa.bool_()),
    }
    return pa.table(columns, schema=RESOLVED_SCHEMA)
