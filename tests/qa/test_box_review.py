"""Box-level review: a review file carries a verdict kind per label (accept, wrong class,
misplaced, should not be boxed) and the objects missing from an annotation; `qa review import`
checks and records them; `relabel plan --from-review`, `labeler stats` and the bake-off's
review rates read each kind. On the shapes scenes of ``builders.BOXES`` (128 x 128 px)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from labelspec.qa import reviewed
from labelspec.qa.current import open_scored
from labelspec.qa.gallery import _review, _svg_box, _text
from labelspec.qa.sample import sample
from labelspec.qa.stats import labeler_stats
from labelspec.store import reviews
from labelspec.store.query import connect
from labelspec.workspace import Workspace
from tests.helpers import git, state
from tests.qa.builders import DIGIT_ITEMS, write_jsonl


def label_of(ws: Workspace, labeler: str, item: str, cls: str | None) -> str:
    [(label,)] = (
        connect(ws, "shapes")
        .execute(
            """select label_id from labels
               where labeler_id = ? and item_id = ? and "class" is not distinct from ?""",
            [labeler, item, cls],
        )
        .fetchall()
    )
    return label


def annotation_of(ws: Workspace, labeler: str, item: str) -> str:
    [(annotation,)] = (
        connect(ws, "shapes")
        .execute(
            "select distinct annotation_id from labels where labeler_id = ? and item_id = ?",
            [labeler, item],
        )
        .fetchall()
    )
    return annotation


def review_file(path: Path, verdicts: list, dataset: str = "shapes", **extra) -> Path:
    data = {
        "kind": "labelspec-review",
        "dataset": dataset,
        "snapshot": "",
        "reviewer": "rev-01",
        "saved": "2026-03-01T10:00:00Z",
        "verdicts": verdicts,
        **extra,
    }
    path.write_text(json.dumps(data))
    return path


def box_review(ws: Workspace) -> list[dict]:
    """One verdict of each kind: det-1's circle is right, det-3 called it a square, det-3's
    second square is off, det-1's tiny circle on the triangle scene is nothing; det-1 missed a
    square on circle_small (a point), det-2 missed det-1's tiny circle (a box)."""
    return [
        {"label_id": label_of(ws, "det-1", "circle_big.png", "circle"), "verdict": "accept"},
        {
            "label_id": label_of(ws, "det-3", "circle_big.png", "square"),
            "verdict": "wrong_class",
            "correct_class": "circle",
        },
        {"label_id": label_of(ws, "det-3", "square_big.png", "square"), "verdict": "misplaced"},
        {
            "label_id": label_of(ws, "det-1", "triangle_up.png", "circle"),
            "verdict": "not_an_object",
            "note": "speck of noise",
        },
        {
            "annotation_id": annotation_of(ws, "det-1", "circle_small.png"),
            "verdict": "missing_object",
            "point": [30.4, 90.6],
            "class": "square",
        },
        {
            "annotation_id": annotation_of(ws, "det-2", "triangle_up.png"),
            "verdict": "missing_object",
            "box": [0, 0, 10, 10],
        },
    ]


@pytest.fixture
def reviewed_shapes(shapes_boxes, copy_of, run, tmp_path) -> tuple[Workspace, dict]:
    """A copy of the shapes workspace with ``box_review`` recorded."""
    ws = copy_of(shapes_boxes)
    file = review_file(tmp_path / "review.json", box_review(ws))
    result = json.loads(run("qa", "review", "import", str(file), "--json", cwd=ws.root).stdout)
    return ws, result


# -- import ---------------------------------------------------------------------------------------
def test_each_verdict_kind_is_counted_and_committed(reviewed_shapes):
    ws, result = reviewed_shapes
    counts = ("labels", "accepted", "rejected", "corrected", "misplaced", "not_an_object")
    # 4 labels judged: 1 accepted, 3 rejected (wrong class, misplaced, should not be boxed)
    assert {k: result[k] for k in counts} == dict(zip(counts, [4, 1, 3, 1, 1, 1], strict=True))
    assert result["missing_objects"] == 2
    assert git(ws.root, "status", "--porcelain") == ""
    assert "4 label(s), 3 rejected, 2 missing object(s)" in git(ws.root, "log", "-1", "--format=%s")


def test_each_verdict_kind_is_recorded_with_its_place_and_class(reviewed_shapes):
    ws, result = reviewed_shapes
    rows = reviews.reviews_at(ws, "shapes").to_pylist()
    by_verdict: dict[str, list[dict]] = {}
    for row in rows:
        by_verdict.setdefault(row["verdict"], []).append(row)
    assert sorted(by_verdict) == [
        "accept",
        "misplaced",
        "missing_object",
        "not_an_object",
        "wrong_class",
    ]
    [wrong] = by_verdict["wrong_class"]
    assert wrong["correct_class"] == "circle" and wrong["item_id"] == "circle_big.png"
    assert by_verdict["not_an_object"][0]["note"] == "speck of noise"
    point, box = sorted(by_verdict["missing_object"], key=lambda r: r["item_id"])
    assert point["label_id"] is None and point["item_id"] == "circle_small.png"
    assert point["point"] == {"x": 30.4, "y": 90.6} and point["correct_class"] == "square"
    assert point["bbox"] is None and point["span"] is None
    assert box["bbox"] == {"x": 0.0, "y": 0.0, "w": 10.0, "h": 10.0} and box["point"] is None
    assert box["correct_class"] is None
    assert {r["review_id"] for r in rows} == {result["review"]}
    assert {r["reviewer"] for r in rows} == {"rev-01"}


def test_review_list_shows_the_counts_of_each_kind(reviewed_shapes, run):
    ws, result = reviewed_shapes
    [listed] = json.loads(run("qa", "review", "list", "shapes", "--json", cwd=ws.root).stdout)
    assert listed["review"] == result["review"]
    assert (listed["rejected"], listed["misplaced"], listed["not_an_object"]) == (3, 1, 1)
    assert listed["missing_objects"] == 2
    text = run("qa", "review", "list", "shapes", cwd=ws.root).stdout
    assert "missing" in text and "not there" in text


def test_the_import_says_what_it_recorded(shapes_boxes, copy_of, run, tmp_path):
    ws = copy_of(shapes_boxes)
    file = review_file(tmp_path / "review.json", box_review(ws))
    out = run("qa", "review", "import", str(file), cwd=ws.root)
    assert (
        "4 label(s), 1 accepted, 3 rejected (1 with the right class, 1 misplaced, "
        "1 should not be there); 2 missing object(s)"
    ) in out.stdout
    assert "--from-review" in out.stderr


def test_bad_box_verdicts_are_refused_together(shapes_boxes, copy_of, run, tmp_path):
    ws = copy_of(shapes_boxes)
    before = state(ws.root)
    small = annotation_of(ws, "det-1", "circle_small.png")
    file = tmp_path / "bad.json"
    file.write_text(  # json.dumps writes NaN and Infinity, as Python's reader accepts them
        json.dumps(
            {
                "kind": "labelspec-review",
                "dataset": "shapes",
                "reviewer": "rev-01",
                "saved": "2026-03-01T10:00:00Z",
                "verdicts": [
                    {"label_id": label_of(ws, "det-1", "circle_big.png", "circle"),
                     "verdict": "boxed badly"},
                    {"label_id": label_of(ws, "det-2", "circle_big.png", "circle"),
                     "verdict": "wrong_class"},
                    {"label_id": label_of(ws, "det-3", "circle_big.png", "square"),
                     "verdict": "wrong_class", "correct_class": "hexagon"},
                    {"label_id": label_of(ws, "det-1", "square_big.png", "square"),
                     "verdict": "misplaced", "correct_class": "circle"},
                    {"annotation_id": small, "verdict": "missing_object", "point": [130, 5]},
                    {"annotation_id": small, "verdict": "missing_object", "box": [100, 100, 40, 10]},
                    {"annotation_id": "a-nope", "verdict": "missing_object", "point": [1, 1]},
                    {"annotation_id": small, "verdict": "missing_object", "point": [float("nan"), 1]},
                    {"annotation_id": small, "verdict": "missing_object", "box": [1, 1, float("inf"), 2]},
                    {"annotation_id": small, "verdict": "missing_object"},
                    {"annotation_id": small, "verdict": "missing_object", "point": [1, 1],
                     "class": "hexagon"},
                    {"annotation_id": small, "verdict": "missing_object", "span": [0, 3]},
                ],
            }
        )
    )  # fmt: skip
    result = run("qa", "review", "import", str(file), cwd=ws.root, expect=1)
    err = result.stderr
    assert "bad.json: 12 problem(s); no review was recorded" in err
    expected = [
        "verdicts[0].verdict: verdict 'boxed badly': use one of accept, reject, wrong_class, "
        "misplaced, not_an_object, missing_object",
        "verdicts[1].correct_class: a wrong_class verdict needs the right class",
        "verdicts[2].correct_class: class 'hexagon' is not in shapes 1.0.0 (classes: circle, "
        "square, triangle)",
        "verdicts[3].correct_class: a misplaced verdict takes no correct_class",
        "verdicts[4].point: point [130, 5] lies outside the 128x128 image of item circle_small.png",
        "verdicts[5].box: box [100, 100, 40, 10] lies outside the 128x128 image",
        "verdicts[6].annotation_id: no annotation 'a-nope' in the dataset's history",
        "verdicts[7].point: [nan, 1]: every number must be finite",
        "verdicts[8].box: [1, 1, inf, 2]: every number must be finite",
        "verdicts[9]: a missing_object needs one place",
        "verdicts[10].class: class 'hexagon' is not in shapes 1.0.0",
        "verdicts[11].span: item circle_small.png is an image: give a point [x, y] or a box",
    ]
    for message in expected:
        assert message in err, message
    assert state(ws.root) == before


def test_a_verdict_that_does_not_fit_the_label_is_refused(digits_votes, copy_of, run, tmp_path):
    ws = copy_of(digits_votes)
    con = connect(ws, "digits")
    [(label, annotation)] = con.execute(
        "select label_id, annotation_id from labels where labeler_id = 'lab-a1' and item_id = ?",
        [DIGIT_ITEMS[0]],
    ).fetchall()
    file = review_file(
        tmp_path / "bad.json",
        [
            {"label_id": label, "verdict": "misplaced"},
            {"annotation_id": annotation, "verdict": "missing_object", "point": [1, 1]},
        ],
        dataset="digits",
    )
    err = run("qa", "review", "import", str(file), cwd=ws.root, expect=1).stderr
    assert (
        f"label {label} (one) has no box or span to be misplaced: use reject or wrong_class" in err
    )
    assert f"annotation {annotation} is a classification answer: a missing object needs" in err


# -- reading what reviews found -----------------------------------------------------------------
def test_relabel_plan_from_a_box_review_has_the_items_and_reasons(reviewed_shapes, run, tmp_path):
    ws, result = reviewed_shapes
    out = tmp_path / "plan"
    run("relabel", "plan", "shapes", "--guideline", "shapes", "--from-review", result["review"],
        "--out", str(out), cwd=ws.root)  # fmt: skip
    plan = json.loads((out / "plan.json").read_text())
    items = {i["item_id"]: i for i in plan["items"]}
    assert {item: i["reasons"] for item, i in items.items()} == {
        "circle_big.png": ["square box at (24, 24) has the wrong class in review"],
        # no label of circle_small is rejected: the missing square makes the item suspect
        "circle_small.png": ["missing square reported at (30, 91) in review"],
        "square_big.png": ["square box at (50, 50) misplaced in review"],
        "triangle_up.png": [
            "circle box at (0, 0) should not be boxed in review",
            "missing object reported at (0, 0)-(10, 10) in review",
        ],
    }
    current = {
        item: sorted((c["labeler"], c["class"]) for c in i["current"]) for item, i in items.items()
    }
    assert current == {
        "circle_big.png": [("det-3", "square")],
        "circle_small.png": [("det-1", "circle")],
        "square_big.png": [("det-3", "square")],
        "triangle_up.png": [("det-1", "circle"), ("det-2", "triangle")],
    }


def test_rejected_labels_lists_the_missing_objects_with_their_place(reviewed_shapes):
    ws, _ = reviewed_shapes
    found = reviews.rejected_labels(ws, "shapes").to_pylist()
    missing = [r for r in found if r["verdict"] == "missing_object"]
    assert [(r["item_id"], r["labeler_id"], r["label_id"], r["class"]) for r in missing] == [
        ("circle_small.png", "det-1", None, None),
        ("triangle_up.png", "det-2", None, None),
    ]
    assert missing[0]["missing_point"] == {"x": 30.4, "y": 90.6}
    assert missing[0]["correct_class"] == "square"
    assert missing[1]["missing_bbox"] == {"x": 0.0, "y": 0.0, "w": 10.0, "h": 10.0}
    assert sorted(r["verdict"] for r in found if r["label_id"]) == [
        "misplaced",
        "not_an_object",
        "wrong_class",
    ]


def test_labeler_stats_count_each_kind(reviewed_shapes):
    ws, _ = reviewed_shapes
    stats = {r["labeler"]: r for r in labeler_stats(ws, "shapes")}
    zero = dict.fromkeys(reviewed.KINDS, 0)
    # det-1: its circle accepted, its speck not an object (1 of 2 rejected); it missed a square
    det1 = stats["det-1"]
    assert (det1["reviewed"], det1["rejected"], det1["review_error_rate"]) == (2, 1, 0.5)
    assert det1["review_verdicts"] == {
        **zero,
        "accept": 1,
        "not_an_object": 1,
        "missing_object": 1,
    }
    # det-2: no label judged, one object missed: no rate, the miss counted
    det2 = stats["det-2"]
    assert (det2["reviewed"], det2["rejected"], det2["review_error_rate"]) == (0, 0, None)
    assert det2["review_verdicts"] == {**zero, "missing_object": 1}
    # det-3: both judged labels rejected, one of each kind
    det3 = stats["det-3"]
    assert (det3["reviewed"], det3["rejected"], det3["review_error_rate"]) == (2, 2, 1.0)
    assert det3["review_verdicts"] == {**zero, "wrong_class": 1, "misplaced": 1}


def test_review_rates_by_source_count_each_kind(reviewed_shapes):
    ws, _ = reviewed_shapes
    scored = open_scored(ws, "shapes")
    assert reviewed.register(ws, scored.con, "shapes", scored.snapshot.commit) == 6
    rates = reviewed.rates(scored.con, ["source"])
    vendor_a, vendor_b = rates[("vendor-a",)], rates[("vendor-b",)]
    assert (vendor_a["reviewed"], vendor_a["rejected"], vendor_a["review_error_rate"]) == (
        2,
        1,
        0.5,
    )
    assert vendor_a["review_verdicts"]["missing_object"] == 2  # det-1's and det-2's
    assert (vendor_b["reviewed"], vendor_b["rejected"], vendor_b["review_error_rate"]) == (
        2,
        2,
        1.0,
    )
    assert vendor_b["review_verdicts"]["missing_object"] == 0


def test_a_record_made_before_the_verdict_kinds_still_reads(graded, run, tmp_path):
    """A record with the first schema (no place columns, a corrected reject said `reject`)."""
    old_schema = pa.schema(
        [
            pa.field("review_id", pa.string(), nullable=False),
            pa.field("label_id", pa.string(), nullable=False),
            pa.field("annotation_id", pa.string(), nullable=False),
            pa.field("item_id", pa.string(), nullable=False),
            pa.field("reviewer", pa.string(), nullable=False),
            pa.field("verdict", pa.string(), nullable=False),
            pa.field("correct_class", pa.string()),
            pa.field("note", pa.string()),
            pa.field("reviewed_at", pa.timestamp("us", tz="UTC"), nullable=False),
            pa.field("snapshot", pa.string()),
        ]
    )
    con = connect(graded, "digits")
    rows = con.execute(
        """select label_id, annotation_id, item_id from labels
           where labeler_id = 'lab-b1' and item_id in (?, ?) order by item_id""",
        DIGIT_ITEMS[:2],
    ).fetchall()
    review_id = "rv-20260301T100000Z-0ld0ld00"
    table = pa.Table.from_pylist(
        [
            {"review_id": review_id, "label_id": label, "annotation_id": annotation,
             "item_id": item, "reviewer": "rev-01", "verdict": verdict,
             "correct_class": right, "note": None,
             "reviewed_at": pa.scalar(0, pa.timestamp("us", tz="UTC")).as_py(), "snapshot": None}
            for (label, annotation, item), (verdict, right) in zip(
                rows, [("accept", None), ("reject", "one")], strict=True
            )
        ],
        schema=old_schema,
    )  # fmt: skip
    target = reviews.reviews_dir(graded, "digits") / f"{review_id}.parquet"
    result = reviews.ReviewResult(
        "digits", review_id, "rev-01", 2, 1, 1, 1, 0, 0, 0, "", None
    )  # the counts, as the meta of such a record has them
    reviews._write(graded, "digits", table, target, result, {"saved": "x"}, "0" * 64, "old.json")
    assert "point" not in pq.read_schema(target).names
    read = reviews.reviews_at(graded, "digits").to_pylist()
    assert sorted(r["verdict"] for r in read) == ["accept", "wrong_class"]
    assert all(r["point"] is None and r["bbox"] is None for r in read)
    out = tmp_path / "plan"
    run("relabel", "plan", "digits", "--guideline", "digits", "--from-review", review_id,
        "--out", str(out), cwd=graded.root)  # fmt: skip
    plan = json.loads((out / "plan.json").read_text())
    assert [(i["item_id"], i["reasons"]) for i in plan["items"]] == [
        (DIGIT_ITEMS[1], ["class seven rejected in review"])
    ]


# -- an explicit "no objects" answer ------------------------------------------------------------
@pytest.fixture
def with_empty(shapes_boxes, copy_of, tmp_path) -> Workspace:
    """The shapes workspace where det-2 answered "no objects" on circle_small."""
    from labelspec.labels.ingest import import_labels

    ws = copy_of(shapes_boxes)
    rows = [{"item_id": "circle_small.png", "labeler": "det-2", "empty": True}]
    path = write_jsonl(tmp_path / "empty.jsonl", rows)
    import_labels(ws, "shapes", path, "jsonl", "shapes@1.0.0", "vendor-a")
    return ws


def test_an_empty_answer_shows_as_no_objects_to_accept(with_empty, tmp_path):
    out = tmp_path / "sample.html"
    result = sample(with_empty, "shapes", out, n=100, by="class")
    assert result["groups"]["(no objects)"] == 1
    html = out.read_text()
    [card] = [
        c
        for c in re.findall(r'<article class="card".*?</article>', html, re.S)
        if "<dd>det-2</dd>" in c and "<dd>circle_small.png</dd>" in c
    ]
    assert "<dt>class</dt><dd>(no objects)</dd>" in card
    [row] = re.findall(r'<div class="review".*?</div>', card)
    assert 'data-cls="" data-kind="empty" tabindex="0"' in row
    assert '<span class="what">(no objects)</span>' in row
    assert re.findall(r'value="(\w+)"', row) == ["accept"] and "<select" not in row
    assert '<g class="box"' not in card and 'class="missing"' in card


def test_a_missing_object_on_an_empty_answer_is_relabeled_until_a_newer_accept(
    with_empty, run, tmp_path
):
    ws = with_empty
    empty_label = label_of(ws, "det-2", "circle_small.png", None)
    annotation = annotation_of(ws, "det-2", "circle_small.png")
    missing = {"annotation_id": annotation, "verdict": "missing_object", "box": [70, 20, 30, 30]}
    accepted = {"label_id": empty_label, "verdict": "accept"}
    both = review_file(tmp_path / "both.json", [accepted, missing])
    err = run("qa", "review", "import", str(both), cwd=ws.root, expect=1).stderr
    assert '"no objects" answer is accepted (verdicts[0]), yet a missing object is reported' in err
    wrong = review_file(
        tmp_path / "wrong.json", [{"label_id": empty_label, "verdict": "misplaced"}]
    )
    err = run("qa", "review", "import", str(wrong), cwd=ws.root, expect=1).stderr
    assert f'label {empty_label} is an explicit "no objects" answer: accept it' in err

    run("qa", "review", "import", str(review_file(tmp_path / "m.json", [missing])), cwd=ws.root)
    out = tmp_path / "plan"
    run("relabel", "plan", "shapes", "--guideline", "shapes", "--from-review", "all",
        "--out", str(out), cwd=ws.root)  # fmt: skip
    plan = json.loads((out / "plan.json").read_text())
    assert [(i["item_id"], i["reasons"]) for i in plan["items"]] == [
        ("circle_small.png", ["missing object reported at (70, 20)-(100, 50) in review"])
    ]
    assert [(c["labeler"], c["class"]) for c in plan["items"][0]["current"]] == [("det-2", None)]
    # a second reviewer, later, finds nothing there: the newer verdict stands
    later = review_file(
        tmp_path / "later.json", [accepted], reviewer="rev-02", saved="2026-03-02T10:00:00Z"
    )
    run("qa", "review", "import", str(later), cwd=ws.root)
    assert reviews.rejected_labels(ws, "shapes").num_rows == 0


# -- the page's strings ---------------------------------------------------------------------------
HOSTILE = '"><img src=x onerror=alert(1)>'


def test_review_rows_escape_every_string():
    label = {"label_id": HOSTILE, "class": HOSTILE, "code": 0, "bbox": {"x": 1}, "span": None}
    row = _review(1, label, ["circle", HOSTILE], placed=True, missing=True)
    assert "<img" not in row and "onerror=alert(1)>" not in row
    assert 'data-label="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"' in row
    assert '<span class="what">&quot;&gt;&lt;img src=x onerror=alert(1)&gt;</span>' in row
    assert '<option value="circle">circle</option></select>' in row  # its own class not offered


def test_svg_boxes_and_span_tags_escape_the_class():
    box = {"class": HOSTILE, "code": 3, "bbox": {"x": 2.0, "y": 4.0, "w": 10.0, "h": 6.0}}
    svg = _svg_box(7, box, 2.0)
    assert "<img" not in svg and "<title>7 &quot;&gt;&lt;img" in svg
    assert 'x="2" y="4" width="10" height="6"' in svg and 'font-size="5.5"' in svg
    text, _ = _text(
        "ab <b>cd</b>", [(1, {"class": HOSTILE, "code": 0, "span": {"start": 3, "end": 12}})]
    )
    assert "<b>" not in text and "<img" not in text
    assert (
        'data-n="1" title="1 &quot;&gt;&lt;img src=x onerror=alert(1)&gt;">&lt;b&gt;cd&lt;/b&gt;</mark>'
        in text
    )


def test_an_empty_multilabel_answer_is_rejected_naming_the_class_there(
    digit_sets, copy_of, run, tmp_path
):
    from labelspec.labels.ingest import import_labels

    ws = copy_of(digit_sets)
    rows = [{"item_id": DIGIT_ITEMS[3], "labeler": "ml-3", "empty": True}]  # d03 shows a seven
    import_labels(ws, "digits", write_jsonl(tmp_path / "e.jsonl", rows), "jsonl", "digits@2.0.0",
                  "vendor-b")  # fmt: skip
    out = tmp_path / "sample.html"
    sample(ws, "digits", out, n=100, by="labeler")
    [row] = [
        r
        for r in re.findall(r'<div class="review".*?</div>', out.read_text())
        if 'data-kind="empty-set"' in r
    ]
    assert re.findall(r'type="radio" name="[^"]+" value="(\w+)"', row) == ["accept", "reject"]
    assert "<select" in row and '<option value="seven">' in row
    [(label,)] = (
        connect(ws, "digits")
        .execute("""select label_id from labels where "class" is null""")
        .fetchall()
    )
    file = review_file(
        tmp_path / "r.json",
        [{"label_id": label, "verdict": "reject", "correct_class": "seven"}],
        dataset="digits",
    )
    result = json.loads(run("qa", "review", "import", str(file), "--json", cwd=ws.root).stdout)
    assert (result["rejected"], result["corrected"]) == (1, 1)
    [found] = reviews.rejected_labels(ws, "digits").to_pylist()
    assert (found["verdict"], found["correct_class"]) == ("wrong_class", "seven")
    assert found["reason"] == 'the "no objects" answer rejected in review'
