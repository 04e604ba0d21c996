"""Every figure a bake-off reader sees, pinned by small hand-computed cases: the direction of the
ranking axes, $/correct over priced correct labels, bootstrap intervals at alpha/2, the verdict's
words, 3 significant digits, and vendors judged on what they delivered after a relabel."""

from __future__ import annotations

from types import SimpleNamespace

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from labelspec.qa import metrics, ranking, scoring
from labelspec.qa.bakeoff import speed_and_cost
from labelspec.qa.current import attribute_sources, scored_view
from labelspec.qa.report import sig


def _source(accuracy, cost, lead):
    return {"accuracy": accuracy, "cost_per_label": cost, "lead_time_median_s": lead}


def test_cheaper_and_faster_rank_higher():
    sources = {
        "dear": _source(0.9, 0.03, 9.0),
        "mid": _source(0.9, 0.02, 6.0),
        "cheap": _source(0.9, 0.01, 3.0),
    }
    by_cost = ranking.rank(sources, {"accuracy": 0.0, "cost": 1.0, "speed": 0.0}, "accuracy")
    assert [(e["source"], e["score"]) for e in by_cost] == [
        ("cheap", 1.0),
        ("mid", 0.5),
        ("dear", 0.0),
    ]
    by_speed = ranking.rank(sources, {"accuracy": 0.0, "cost": 0.0, "speed": 1.0}, "accuracy")
    assert [e["source"] for e in by_speed] == ["cheap", "mid", "dear"]
    by_quality = ranking.rank(
        {"a": _source(0.8, 0.01, 1.0), "b": _source(0.95, 0.01, 1.0)},
        {"accuracy": 1.0, "cost": 0.0, "speed": 0.0},
        "accuracy",
    )
    assert [e["source"] for e in by_quality] == ["b", "a"]


def test_weighted_score_and_components_by_hand():
    # quality 0.9 / 0.8 / 0.7 -> 1, 0.5, 0; cost 0.01 / 0.03 / 0.02 -> 1, 0, 0.5;
    # lead 2 / 4 / 6 -> 1, 0.5, 0; score = 0.6 q + 0.2 c + 0.2 s
    sources = {
        "a": _source(0.9, 0.01, 2.0),
        "b": _source(0.8, 0.03, 4.0),
        "c": _source(0.7, 0.02, 6.0),
    }
    ranked = ranking.rank(sources, {"accuracy": 0.6, "cost": 0.2, "speed": 0.2}, "accuracy")
    assert {e["source"]: e["score"] for e in ranked} == {"a": 1.0, "b": 0.4, "c": 0.1}
    assert ranked[1]["components"] == {"accuracy": 0.5, "cost": 0.0, "speed": 0.5}
    # a source without a recorded cost scores 0 on that axis, not 1
    ranked = ranking.rank(
        {"priced": _source(0.9, 0.05, 1.0), "unpriced": _source(0.9, None, 1.0)},
        {"accuracy": 0.0, "cost": 1.0, "speed": 0.0},
        "accuracy",
    )
    assert [(e["source"], e["score"]) for e in ranked] == [("priced", 1.0), ("unpriced", 0.0)]


def _scored_con(rows: list[dict], golden: dict[str, str]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.register("scored", pa.Table.from_pylist(rows))
    con.register("g", pa.table({"item_id": list(golden), "class": list(golden.values())}))
    con.register("codes", pa.table({"class": ["one", "seven"], "code": [0, 1]}))
    return con


def _label(n: int, item: str, cls: str, cost: float | None, lead: float | None = 5.0) -> dict:
    import datetime as dt

    return {
        "label_id": f"l{n}",
        "item_id": item,
        "class": cls,
        "source": "v",
        "cost": cost,
        "lead_time_s": lead,
        "batch_id": "b1",
        "created_at": dt.datetime(2026, 1, 1, 0, n, tzinfo=dt.UTC),
    }


def test_cost_per_correct_label_is_over_priced_correct_labels():
    # 4 labels, 3 correct; only two carry a cost (0.10 each), one of them correct.
    # $/label = 0.20 / 2 = 0.10; $/correct = 0.20 / 1 = 0.20 (not 0.20 / 3 correct = 0.067)
    con = _scored_con(
        [
            _label(1, "i1", "one", 0.10),
            _label(2, "i2", "seven", 0.10),
            _label(3, "i3", "one", None),
            _label(4, "i4", "seven", None),
        ],
        {"i1": "one", "i2": "one", "i3": "one", "i4": "seven"},
    )
    score = scoring.classification(con, "v", ["one", "seven"], boot=50, seed=0)
    assert score.figures["correct"] == 3 and score.correct_priced == 1
    costs = speed_and_cost(con, "v", score.correct_priced)
    assert costs["cost_per_label"] == pytest.approx(0.10)
    assert costs["cost_per_correct_label"] == pytest.approx(0.20)
    assert costs["cost_per_correct_label"] >= costs["cost_per_label"]
    assert costs["priced_labels"] == 2 and costs["cost_total"] == pytest.approx(0.20)


def test_labels_per_hour_counts_only_timed_labels():
    # 2 timed labels of 1800 s each: 2 labels per labeler-hour, whatever the untimed one
    con = _scored_con(
        [_label(1, "i1", "one", 0.1, 1800.0), _label(2, "i2", "one", 0.1, 1800.0),
         _label(3, "i3", "one", 0.1, None)],
        {"i1": "one", "i2": "one", "i3": "one"},
    )  # fmt: skip
    costs = speed_and_cost(con, "v", 3)
    assert costs["labels_per_labeler_hour"] == pytest.approx(2.0)
    assert costs["lead_time_median_s"] == pytest.approx(1800.0)


def _units(num: list[float]) -> scoring.Units:
    n = len(num)
    return scoring.Units(
        num=np.asarray(num, dtype=np.float64),
        den=np.ones(n),
        cost=np.zeros(n),
        priced=np.zeros(n),
        lead=np.zeros(0),
        lead_unit=np.zeros(0, dtype=np.int64),
        batch=np.asarray(["b"] * n, dtype=object),
    )


def test_score_interval_is_taken_at_alpha_over_two():
    # A gets 2 of 3 right, B none. A resample of A draws no correct unit with probability
    # (1/3)^3 = 1/27 = 0.037; then both score 0 on quality and tie at 1. So B's score is 1 in
    # 3.7 % of resamples: above the 2.5 % tail (upper bound 1 at alpha/2 = 0.025) but inside
    # the 5 % tail (an upper bound taken at alpha = 0.05 would be 0).
    intervals = ranking.score_intervals(
        {"A": _units([1, 1, 0]), "B": _units([0, 0, 0])},
        {"accuracy": 1.0, "cost": 0.0, "speed": 0.0},
        n=20000,
        alpha=0.05,
        seed=1,
    )
    assert intervals["A"] == [1.0, 1.0]
    assert intervals["B"] == [0.0, 1.0]


def test_quality_interval_is_taken_at_alpha_over_two():
    # mean of a resample of [1, 1, 0] is 0 with probability 1/27 = 0.037: the 2.5 % quantile
    # is 0, a 5 % quantile would be 1/3
    low, high = metrics.bootstrap_ci([1, 1, 0], n=20000, alpha=0.05, seed=1)
    assert low == 0.0 and high == 1.0


@pytest.mark.parametrize(
    ("intervals", "words"),
    [
        (
            {"a": [0.8, 0.9], "b": [0.85, 0.95], "c": [0.1, 0.2]},
            "a and b overlap on accuracy: no clear winner at 95 %; c is clearly last",
        ),
        (
            {"a": [0.8, 0.9], "b": [0.5, 0.7], "c": [0.6, 0.75]},
            "a is first on accuracy: its 95 % interval lies above every other source's",
        ),
        (
            {"a": [0.8, 0.9], "b": [0.5, 0.7], "c": [0.1, 0.2]},
            "a is first on accuracy: its 95 % interval lies above every other source's; "
            "c is clearly last",
        ),
    ],
)
def test_verdict_words(intervals, words):
    assert ranking.verdict(["a", "b", "c"], intervals, "accuracy") == words


def test_verdict_with_one_source_and_overlapping_pairs():
    assert ranking.verdict(["a"], {"a": [0.1, 0.2]}, "accuracy") == (
        "only a scored: nothing to compare"
    )
    assert ranking.overlapping(
        ["a", "b", "c"], {"a": [0.8, 0.9], "b": [0.85, 0.95], "c": [0.9, 1.0]}
    ) == [["a", "b"], ["a", "c"], ["b", "c"]]


@pytest.mark.parametrize(
    ("value", "text"),
    [(566.995, "567"), (0.04, "0.0400"), (0.93333, "0.933"), (5.956, "5.96"), (1234.6, "1235"),
     (0.0, "0"), (None, "-"), (1.0, "1.00")],
)  # fmt: skip
def test_three_significant_digits(value, text):
    assert sig(value) == text


def _history() -> duckdb.DuckDBPyConnection:
    """vendor-b labels i1 seven (golden: one) and i2 one; a relabel (rows stored with the
    relabeler's vendor, as merges before labelspec kept source 'relabel') corrects i1."""
    con = duckdb.connect()
    rows = [
        {"label_id": "l1", "annotation_id": "a1", "item_id": "i1", "class": "seven",
         "source": "vendor-b", "batch_id": "b-vendor", "supersedes": None},
        {"label_id": "l2", "annotation_id": "a2", "item_id": "i2", "class": "one",
         "source": "vendor-b", "batch_id": "b-vendor", "supersedes": None},
        {"label_id": "l3", "annotation_id": "a3", "item_id": "i1", "class": "one",
         "source": "vendor-b", "batch_id": "b-relabel", "supersedes": ["a1"]},
    ]  # fmt: skip
    con.register("stored", pa.Table.from_pylist(rows))
    con.execute("create view labels_all as select * from stored")
    con.execute(
        """create view labels as select * from labels_all l where not exists (
             select 1 from labels_all n where list_contains(n.supersedes, l.annotation_id))"""
    )
    batches = [
        SimpleNamespace(id="b-vendor", source="vendor-b", plan=None),
        SimpleNamespace(id="b-relabel", source="relabel", plan="rp-1"),
    ]
    attribute_sources(con, batches)
    return con


def test_vendors_are_judged_on_what_they_delivered_after_a_relabel():
    con = _history()
    scored_view(con, "delivered")
    delivered = con.execute(
        'select source, label_id, "class" from scored order by label_id'
    ).fetchall()
    # vendor-b keeps its wrong label l1; the correction is the relabel's own work
    assert delivered == [
        ("vendor-b", "l1", "seven"),
        ("vendor-b", "l2", "one"),
        ("relabel", "l3", "one"),
    ]
    scored_view(con, "current")
    current = con.execute("select source, label_id from scored order by label_id").fetchall()
    assert current == [("vendor-b", "l2"), ("relabel", "l3")]


def test_a_source_superseding_its_own_labels_is_judged_on_the_newer_ones():
    con = duckdb.connect()
    rows = [
        {"label_id": "l1", "annotation_id": "a1", "item_id": "i1", "class": "seven",
         "source": "vendor-b", "batch_id": "b1", "supersedes": None},
        {"label_id": "l2", "annotation_id": "a2", "item_id": "i1", "class": "one",
         "source": "vendor-b", "batch_id": "b2", "supersedes": ["a1"]},
    ]  # fmt: skip
    con.register("stored", pa.Table.from_pylist(rows))
    con.execute("create view labels_all as select * from stored")
    scored_view(con, "delivered")
    assert con.execute("select label_id from scored").fetchall() == [("l2",)]


def test_a_detection_bakeoff_by_hand(shapes_boxes, copy_of, run):
    """Golden boxes: circle_big circle, square_big square, triangle_up triangle, circle_small
    circle. vendor-a's 7 annotations match all 7 golden boxes and add one stray circle: TP 7,
    golden 7, labeled 8, F1 = 14 / 15; the stray circle is an extra box (golden background).
    vendor-b calls the big circle a square (same box: a confusion, circle -> square) and
    misplaces the square (IoU 2500/7300 = 0.34: between 0.1 and 0.5, mislocated): F1 = 0."""
    import json

    from tests.store.conftest import write_jsonl

    ws = copy_of(shapes_boxes)
    occ = {"attributes": {"occluded": False}}
    golden = [
        {"item_id": "circle_big.png", "class": "circle", "bbox": [24, 24, 80, 80], **occ},
        {"item_id": "square_big.png", "class": "square", "bbox": [30, 30, 70, 70], **occ},
        {"item_id": "triangle_up.png", "class": "triangle", "bbox": [24, 20, 80, 80], **occ},
        {"item_id": "circle_small.png", "class": "circle", "bbox": [70, 20, 30, 30], **occ},
    ]
    path = write_jsonl(ws.root.parent / "golden.jsonl", golden)
    run("golden", "add", "shapes", str(path), "--format", "jsonl", cwd=ws.root)
    result = json.loads(run("qa", "bakeoff", "shapes", "--json", cwd=ws.root).stdout)
    a, b = result["sources"]["vendor-a"], result["sources"]["vendor-b"]
    assert result["quality"] == "f1"
    assert (a["annotations"], a["correct"], a["n"]) == (7, 7, 8)
    assert a["f1"] == pytest.approx(14 / 15)
    assert (a["precision"], a["recall"]) == (pytest.approx(7 / 8), 1.0)
    assert a["per_class"]["circle"]["precision"] == pytest.approx(3 / 4)
    assert a["per_class"]["circle"]["recall"] == 1.0
    assert (b["correct"], b["f1"]) == (0, 0.0)
    assert [e["source"] for e in result["ranking"]] == ["vendor-a", "vendor-b"]
    assert a["cost_per_label"] is None and a["cost_per_correct_label"] is None
    # every golden box is a hit, a confusion, mislocated or missed; every labeled box a hit, a
    # confusion, mislocated or extra
    outcomes = ("hit", "confused", "mislocated", "missed", "extra")
    assert [a["boxes"][k] for k in outcomes] == [7, 0, 0, 0, 1]
    assert [b["boxes"][k] for k in outcomes] == [0, 1, 1, 0, 0]
    # rows golden, columns labeled; the last of each is the background
    assert a["confusion"] == {
        "labels": ["circle", "square", "triangle", "(background)"],
        "matrix": [[3, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0], [1, 0, 0, 0]],
    }
    assert b["confusion"]["matrix"] == [[0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 1, 0, 0]]
    # the drill-down rows: one per box that is not a hit, by confusion cell
    assert [(e["item_id"], e["golden"], e["labeled"], e["outcome"]) for e in a["errors"]] == [
        ("triangle_up.png", "(background)", "circle", "extra")
    ]
    assert [(e["item_id"], e["golden"], e["labeled"], e["outcome"]) for e in b["errors"]] == [
        ("circle_big.png", "circle", "square", "confused"),
        ("square_big.png", "square", "(background)", "mislocated (IoU 0.34)"),
        ("square_big.png", "(background)", "square", "mislocated"),
    ]
    circle = b["errors"][0]
    assert [g["class"] for g in circle["golden_boxes"]] == ["circle"]
    assert [(x["class"], x["outcome"]) for x in circle["boxes"]] == [("square", "confused")]
    out = ws.root.parent / "report"
    run("qa", "bakeoff", "shapes", "--report", str(out), cwd=ws.root)
    page = out / "drill" / "1-vendor-b-0-1.html"  # vendor-b, golden circle, labeled square
    text = page.read_text()
    assert "vendor-b: golden circle labeled square (1 labels)" in text
    assert text.count('<img src="data:image/png;base64,') == 1
    assert f'href="drill/{page.name}"' in (out / "report.html").read_text()


def test_an_ner_bakeoff_by_hand(news_spans, copy_of, run):
    """Golden spans: n01 Ada Lovelace, Charles Babbage (person), London (location); n02 United
    Nations (organization), Geneva (location). vendor-a, 4 annotations: 3/3, 2/3 (London as an
    organization), 2/2, 1/2 ("The United Nations"): TP 8 of 10 labeled, 10 golden, F1 0.8.
    vendor-b ("Ada" alone): TP 2 of 3, F1 4/6."""
    import json

    from tests.qa.builders import span
    from tests.store.conftest import write_jsonl

    ws = copy_of(news_spans)
    golden = [
        span("n01.txt", "expert", "person", "Ada Lovelace"),
        span("n01.txt", "expert", "person", "Charles Babbage"),
        span("n01.txt", "expert", "location", "London"),
        span("n02.txt", "expert", "organization", "United Nations"),
        span("n02.txt", "expert", "location", "Geneva"),
    ]
    rows = [{k: v for k, v in row.items() if k != "labeler"} for row in golden]
    path = write_jsonl(ws.root.parent / "golden.jsonl", rows)
    run("golden", "add", "news", str(path), "--format", "jsonl", cwd=ws.root)
    result = json.loads(run("qa", "bakeoff", "news", "--json", cwd=ws.root).stdout)
    a, b = result["sources"]["vendor-a"], result["sources"]["vendor-b"]
    assert (a["annotations"], a["correct"], a["n"]) == (4, 8, 10)
    assert a["f1"] == pytest.approx(0.8)
    assert b["f1"] == pytest.approx(4 / 6)
    per_class = {c: (v["precision"], v["recall"]) for c, v in a["per_class"].items()}
    assert per_class["person"] == (1.0, 1.0)
    assert per_class["location"] == (1.0, pytest.approx(0.75))
    assert per_class["organization"] == (pytest.approx(1 / 3), pytest.approx(0.5))
    assert [e["source"] for e in result["ranking"]] == ["vendor-a", "vendor-b"]
