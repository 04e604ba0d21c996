"""Dawid-Skene (1979): each labeler's confusion matrix and each item's class posterior, by EM.

The same estimator as crowd-kit's ``DawidSkene``, so the tests can hold one against the other:
start from the soft majority vote, M-step counts clipped at 1e-10 (no smoothing), E-step in logs.
EM stops when no posterior moves by ``tol`` or more in a round, or after ``max_iter`` rounds. Nothing in it is random: the same votes give the same posteriors, bit
for bit, so there is no seed to choose or record.

Votes are numpy arrays (item, labeler, observed class), one vote per labeler and item. Both EM
steps are segment sums over a fixed sort of the votes (by item for the E-step, by labeler and
class for the M-step), done in chunks so 10M votes never need a 10M x K matrix at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EPS = 1e-10
CHUNK = 1 << 20  # votes per chunk of the (votes x classes) gathers
MAX_ITER = 200
TOL = 1e-6  # stop when no posterior moves by this much in a round


@dataclass
class Fit:
    posteriors: np.ndarray  # (items, K): P(true class of the item = k)
    priors: np.ndarray  # (K,)
    confusion: np.ndarray  # (labelers, K true, K observed): P(labeler says l | truth k)
    iterations: int
    converged: bool
    log_likelihood: float  # per vote, at the last E-step

    def accuracy(self) -> np.ndarray:
        """Each labeler's chance to give the true class: sum_k prior_k * confusion[j, k, k]."""
        diagonal = np.einsum("jkk->jk", self.confusion)
        return diagonal @ self.priors


def segment_sum(source: np.ndarray, index: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Row sums of ``source[index]`` over the segments that begin at ``starts`` (non-empty,
    increasing, starts[0] == 0), without materialising ``source[index]`` whole."""
    n = len(index)
    out = np.zeros((len(starts), source.shape[1]))
    ends = np.append(starts[1:], n)
    for lo in range(0, n, CHUNK):
        hi = min(lo + CHUNK, n)
        first = int(np.searchsorted(ends, lo, side="right"))
        last = int(np.searchsorted(starts, hi, side="left"))
        local = np.maximum(starts[first:last], lo) - lo
        out[first:last] += np.add.reduceat(source[index[lo:hi]], local, axis=0)
    return out


def _starts(sorted_keys: np.ndarray) -> np.ndarray:
    return np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])


def fit(
    item: np.ndarray,
    labeler: np.ndarray,
    label: np.ndarray,
    n_items: int,
    n_labelers: int,
    k: int,
    max_iter: int = MAX_ITER,
    tol: float = TOL,
    known: np.ndarray | None = None,
    agreement_prior: float = 0.0,
) -> Fit:
    """EM over the votes (every item in ``range(n_items)`` has at least one). ``known``: a true
    class per item, or -1 (golden labels); known items keep that class throughout.
    ``agreement_prior``: pseudo-votes added to the diagonal of every labeler's confusion matrix
    in each M-step (a Dirichlet prior that labelers say the truth more often than not), which
    keeps EM from swapping the meaning of two categories; 0 is the classic estimator."""
    by_item = np.argsort(item, kind="stable")
    item_starts = _starts(item[by_item])
    cell = labeler.astype(np.int64) * k + label  # (labeler, observed) of each vote
    by_cell = np.argsort(cell, kind="stable")
    cells = cell[by_cell][_starts(cell[by_cell])]
    cell_starts = _starts(cell[by_cell])
    item_of_cell_order = item[by_cell]

    # soft majority vote: the share of the item's votes for each class
    counts = np.bincount(item * k + label, minlength=n_items * k).reshape(n_items, k)
    posteriors = _clamp(counts / counts.sum(axis=1, keepdims=True), known)
    log_likelihood, converged, iterations = -np.inf, False, 0
    while iterations < max_iter and not converged:
        priors, confusion = _m_step(
            posteriors, item_of_cell_order, cell_starts, cells, n_labelers, k, agreement_prior
        )
        updated, total = _e_step(priors, confusion, by_item, item_starts, cell, k)
        updated = _clamp(updated, known)
        iterations += 1
        converged = float(np.abs(updated - posteriors).max()) < tol
        posteriors, log_likelihood = updated, total / len(item)
    priors, confusion = _m_step(
        posteriors, item_of_cell_order, cell_starts, cells, n_labelers, k, agreement_prior
    )
    return Fit(posteriors, priors, confusion, iterations, converged, float(log_likelihood))


def _m_step(posteriors, item_of_cell_order, cell_starts, cells, n_labelers, k, prior=0.0):
    priors = posteriors.mean(axis=0)
    sums = segment_sum(posteriors, item_of_cell_order, cell_starts)  # (cells, K true)
    table = np.zeros((n_labelers * k, k))
    table[cells] = sums
    confusion = table.reshape(n_labelers, k, k).transpose(0, 2, 1)  # [labeler, true, observed]
    if prior:
        confusion = confusion + prior * np.eye(k)[None, :, :]
    confusion = np.clip(confusion, EPS, None)
    confusion /= confusion.sum(axis=2, keepdims=True)
    return priors, confusion


def _e_step(priors, confusion, by_item, item_starts, cell, k):
    n_labelers = confusion.shape[0]
    log_table = np.log(confusion).transpose(0, 2, 1).reshape(n_labelers * k, k)
    scores = segment_sum(log_table, cell[by_item], item_starts)  # (items, K true)
    scores += np.log(np.clip(priors, EPS, None))
    top = scores.max(axis=1, keepdims=True)
    weights = np.exp(scores - top)
    total = weights.sum(axis=1, keepdims=True)
    log_likelihood = float((np.log(total) + top).sum())
    return weights / total, log_likelihood


def _clamp(posteriors: np.ndarray, known: np.ndarray | None) -> np.ndarray:
    if known is None:
        return posteriors
    rows = np.flatnonzero(known >= 0)
    posteriors[rows] = 0.0
    posteriors[rows, known[rows]] = 1.0
    return posteriors
