"""The bake-off's ranking: a weighted score per source, its bootstrap interval, and a verdict.

Each axis is min-max normalised across the sources: quality (higher is better), cost per label
and median lead time (lower is better: cheaper and faster rank higher). The best source on an
axis scores 1, the worst 0, the rest in between; all equal scores 1; a source without the
figure (no cost recorded) scores 0 on that axis. The score is the weighted sum.

The interval resamples every source's annotations with replacement (``scoring.Units``),
recomputes its quality, cost per label and median lead time, normalises across sources within
each resample, and takes the alpha/2 and 1 - alpha/2 quantiles of the scores.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labelspec.qa.metrics import _CHUNK_ELEMENTS
from labelspec.qa.scoring import Units

# axis -> (the figure it reads, whether higher is better); "quality" is the task's figure
AXES = {
    "accuracy": ("quality", True),
    "cost": ("cost_per_label", False),
    "speed": ("lead_time_median_s", False),
}


def normalise(values: np.ndarray, higher_better: bool) -> np.ndarray:
    """Min-max across sources (axis 0) of [sources, ...] values; nan (missing) scores 0."""
    values = np.asarray(values, dtype=np.float64)
    present = ~np.isnan(values)
    low = np.where(present, values, np.inf).min(axis=0)
    high = np.where(present, values, -np.inf).max(axis=0)
    span = high - low
    with np.errstate(invalid="ignore", divide="ignore"):  # no source has it: masked below
        scaled = (values - low) / span if higher_better else (high - values) / span
    return np.where(present, np.where(span == 0, 1.0, scaled), 0.0)


def _figure(result: dict[str, Any], key: str, quality: str) -> float:
    value = result.get(quality if key == "quality" else key)
    return np.nan if value is None else float(value)


def rank(
    sources: dict[str, dict[str, Any]], weights: dict[str, float], quality: str
) -> list[dict[str, Any]]:
    """Sources best first (ties by name), with their score and per-axis components."""
    names = list(sources)
    scores = np.zeros(len(names))
    parts: dict[str, dict[str, float]] = {name: {} for name in names}
    for axis, (key, higher_better) in AXES.items():
        values = np.array([_figure(sources[n], key, quality) for n in names])
        norm = normalise(values, higher_better) if names else values
        scores += weights.get(axis, 0.0) * norm
        for name, value in zip(names, norm, strict=True):
            parts[name][axis] = round(float(value), 4)
    ordered = sorted(range(len(names)), key=lambda i: (-scores[i], names[i]))
    return [
        {
            "rank": place,
            "source": names[i],
            "score": round(float(scores[i]), 4),
            "components": parts[names[i]],
        }
        for place, i in enumerate(ordered, 1)
    ]


def weighted_median(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per row of ``weights`` [r, n] over sorted ``values`` [n]: the median of the values
    repeated by their weights (the mean of the two middle ones for an even total, as
    ``np.median`` does with unit weights); nan for a row of zeros."""
    if not values.size:
        return np.full(len(weights), np.nan)
    cum = np.cumsum(weights, axis=1)
    total = cum[:, -1:]
    lower = np.argmax(cum >= total / 2, axis=1)
    upper = np.argmax(cum > total / 2, axis=1)
    return np.where(total[:, 0] > 0, (values[lower] + values[upper]) / 2, np.nan)


def _resampled(units: Units, draws: np.ndarray, order: np.ndarray) -> dict[str, np.ndarray]:
    """Quality, cost per label and median lead time of one source under [r, units] weights
    (``order`` sorts its lead times)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        quality = (draws @ units.num) / (draws @ units.den)
        cost = (draws @ units.cost) / (draws @ units.priced)
    speed = weighted_median(units.lead[order], draws[:, units.lead_unit[order]])
    return {"quality": quality, "cost_per_label": cost, "lead_time_median_s": speed}


def _resample_counts(rng: np.random.Generator, units: int, size: int) -> np.ndarray:
    """[size, units] how often each unit is drawn in each of ``size`` resamples with
    replacement: index draws counted per row (the multinomial's distribution, without its
    per-category loop, which dominated at 100,000 annotations)."""
    drawn = rng.integers(0, units, (size, units)) + units * np.arange(size)[:, None]
    return (
        np.bincount(drawn.ravel(), minlength=size * units).reshape(size, units).astype(np.float64)
    )


def score_intervals(
    units: dict[str, Units],
    weights: dict[str, float],
    n: int = 2000,
    alpha: float = 0.05,
    seed: int = 0,
) -> dict[str, list[float]]:
    """The percentile bootstrap interval of every source's score (see the module doc)."""
    names = [name for name in units if len(units[name])]
    if not names:
        return {}
    rng = np.random.default_rng(seed)
    widest = max(max(len(units[s]), len(units[s].lead)) for s in names)
    step = max(1, _CHUNK_ELEMENTS // widest)
    scores = np.empty((len(names), n))
    orders = {name: np.argsort(units[name].lead, kind="stable") for name in names}
    for lo in range(0, n, step):
        size = min(step, n - lo)
        figures = []
        for name in names:
            u = units[name]
            figures.append(_resampled(u, _resample_counts(rng, len(u), size), orders[name]))
        total = np.zeros((len(names), size))
        for axis, (key, higher_better) in AXES.items():
            values = np.stack([f[key] for f in figures])
            total += weights.get(axis, 0.0) * normalise(values, higher_better)
        scores[:, lo : lo + size] = total
    low, high = np.quantile(scores, [alpha / 2, 1 - alpha / 2], axis=1)
    return {name: [float(a), float(b)] for name, a, b in zip(names, low, high, strict=True)}


def _words(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _overlap(a: list[float], b: list[float]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def verdict(order: list[str], intervals: dict[str, list[float] | None], what: str) -> str:
    """Plain words on ``order`` (best first) given each source's 95 % interval of ``what``."""
    known = [s for s in order if intervals.get(s)]
    if len(known) < 2:
        return f"only {_words(order) if order else 'no source'} scored: nothing to compare"
    first, last = known[0], known[-1]
    tied = [s for s in known[1:] if _overlap(intervals[first], intervals[s])]
    if tied:
        text = f"{_words([first, *tied])} overlap on {what}: no clear winner at 95 %"
    else:
        text = f"{first} is first on {what}: its 95 % interval lies above every other source's"
    others = [s for s in known if s != last]
    if len(known) > 2 and all(intervals[last][1] < intervals[s][0] for s in others):
        text += f"; {last} is clearly last"
    return text


def overlapping(order: list[str], intervals: dict[str, list[float] | None]) -> list[list[str]]:
    """Every pair of sources (in ``order``) whose intervals overlap."""
    known = [s for s in order if intervals.get(s)]
    return [
        [a, b]
        for i, a in enumerate(known)
        for b in known[i + 1 :]
        if _overlap(intervals[a], intervals[b])
    ]
