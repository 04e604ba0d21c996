"""The F1 interval of a detection or NER bake-off is a 95 % percentile-bootstrap interval.

26 annotations of 26 items, one golden object each: 13 hit it exactly, 13 miss it (a box or span
elsewhere). Each annotation is then 2 TP out of 2 objects or 0 out of 2, so a resample's F1 is
k / 26 with k ~ Binomial(26, 1/2) (resampling annotations is exactly a multinomial draw over the
two kinds). The interval's ends are that distribution's 2.5 % and 97.5 % quantiles:
P(k <= 7) = 0.0145 < 0.025 <= P(k <= 8) = 0.0378 and P(k <= 17) = 0.9622 < 0.975 <= P(k <= 18)
= 0.9855, so [8/26, 18/26]. A 90 % interval would be [9/26, 17/26] (P(k <= 8) < 0.05 <=
P(k <= 9) = 0.0843; P(k <= 16) = 0.9157 < 0.95 <= P(k <= 17)). 20,000 resamples keep the
empirical quantiles on those values (each is more than 0.009 of probability from a boundary).
"""

from __future__ import annotations

from fractions import Fraction
from math import comb

import duckdb
import pytest

from labelspec.qa import scoring

N, HITS = 26, 13
BOOT = 20_000


def binomial_quantile(q: float) -> int:
    """The smallest k with P(K <= k) >= q for K ~ Binomial(N, 1/2), exactly."""
    total = Fraction(0)
    for k in range(N + 1):
        total += Fraction(comb(N, k), 2**N)
        if total >= Fraction(q).limit_denominator(1000):
            return k
    raise AssertionError(q)


def test_the_hand_computed_quantiles():
    assert (binomial_quantile(0.025), binomial_quantile(0.975)) == (8, 18)
    assert (binomial_quantile(0.05), binomial_quantile(0.95)) == (9, 17)


def scored_connection(task: str) -> duckdb.DuckDBPyConnection:
    """``scored``, ``g`` and ``codes`` as the bake-off reads them: golden object at 10..30 (box
    or span) on every item; the first HITS annotations agree, the rest are elsewhere."""
    con = duckdb.connect()
    con.execute("create table codes as select 'a' as \"class\", 0 as code")
    if task == "detection":
        where, elsewhere = (
            "{'x': 10.0, 'y': 10.0, 'w': 20.0, 'h': 20.0}",
            ("{'x': 60.0, 'y': 60.0, 'w': 20.0, 'h': 20.0}"),
        )
        column, empty = "bbox", "span"
        null = 'NULL::STRUCT(start BIGINT, "end" BIGINT)'
    else:
        where, elsewhere = "{'start': 10, 'end': 30}", "{'start': 40, 'end': 50}"
        column, empty = "span", "bbox"
        null = "NULL::STRUCT(x DOUBLE, y DOUBLE, w DOUBLE, h DOUBLE)"
    con.execute(
        f"""create table g as select 'i' || lpad(i::VARCHAR, 2, '0') as item_id,
            'g' || i as label_id, 'a' as "class", {where} as {column}, {null} as {empty}
            from range({N}) t(i)"""
    )
    con.execute(
        f"""create table scored as select 'i' || lpad(i::VARCHAR, 2, '0') as item_id,
            'an' || lpad(i::VARCHAR, 2, '0') as annotation_id, 'l' || i as label_id,
            'b-1' as batch_id, 'vA-01' as labeler_id, 'vendor-a' as source, 'a' as "class",
            case when i < {HITS} then {where} else {elsewhere} end as {column},
            {null} as {empty}, NULL::DOUBLE as cost, NULL::DOUBLE as lead_time_s
            from range({N}) t(i)"""
    )
    return con


@pytest.mark.parametrize("task", ["detection", "ner"])
def test_the_bakeoff_f1_interval_is_a_95_percent_interval(task):
    con = scored_connection(task)

    if task == "detection":
        score = scoring.detection(con, "vendor-a", ["a"], 0.5, BOOT, 0)
    else:
        score = scoring.spans(con, "vendor-a", ["a"], BOOT, 0)

    assert score.figures["f1"] == HITS / N == 0.5
    low, high = binomial_quantile(0.025), binomial_quantile(0.975)
    assert score.figures["f1_ci"] == pytest.approx([low / N, high / N])
    assert score.figures["f1_ci"] == pytest.approx([8 / 26, 18 / 26])
