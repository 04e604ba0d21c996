"""QA metrics: published reference values, and agreement with scikit-learn, statsmodels,
krippendorff and pycocotools (test oracles only) on random data."""

from __future__ import annotations

import krippendorff
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from pycocotools import mask as coco_mask
from sklearn import metrics as sk
from statsmodels.stats import inter_rater

from labelspec.qa import metrics as m

nan = np.nan

# Fleiss (1971), Table 1: psychiatric diagnoses of 30 patients, 6 ratings each, 5 categories
# (1 depression, 2 personality disorder, 3 schizophrenia, 4 neurosis, 5 other); as reproduced
# in R irr's `diagnoses` and statsmodels' stats/tests/test_inter_rater.py.
FLEISS_1971 = np.array(
    [
        [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5],
        [2, 2, 2, 4, 4, 4], [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4],
        [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5], [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4],
        [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5], [3, 3, 3, 3, 3, 5],
        [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
        [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4],
        [1, 4, 4, 4, 4, 5], [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4],
        [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
    ]
)  # fmt: skip

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers
# x 12 units with missing values (as in the `krippendorff` package's README and tests).
KRIPPENDORFF_2011 = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
        [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
    ]
)

# Wikipedia, "Krippendorff's alpha", computational example: 3 coders x 15 units.
KRIPPENDORFF_WIKIPEDIA = np.array(
    [
        [nan, nan, nan, nan, nan, 3, 4, 1, 2, 1, 1, 3, 3, nan, 3],
        [1, nan, 2, 1, 3, 3, 4, 3, nan, nan, nan, nan, nan, nan, nan],
        [nan, nan, 2, 1, 3, 4, 4, nan, 2, 1, 1, 3, 3, nan, 4],
    ]
)


def counts_per_item(ratings: np.ndarray, k: int) -> np.ndarray:
    """[n_items, n_raters] codes 0..k-1 -> [n_items, k] counts, as Fleiss tabulates them."""
    rows = np.repeat(np.arange(len(ratings)), ratings.shape[1])
    return np.bincount(rows * k + ratings.ravel(), minlength=len(ratings) * k).reshape(-1, k)


def pairs_from_table(table: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Two raters' codes that reproduce a k x k agreement table."""
    table = np.asarray(table)
    k = len(table)
    cells = np.repeat(np.arange(k * k), table.ravel())
    return cells // k, cells % k


# --- published reference values --------------------------------------------------------------


def test_fleiss_1971_diagnoses():
    counts = counts_per_item(FLEISS_1971 - 1, 5)
    assert counts.sum(axis=0).tolist() == [26, 26, 30, 55, 43]  # Fleiss' column totals
    assert round(m.fleiss_kappa(counts), 3) == 0.430


@pytest.mark.parametrize(
    ("level", "expected"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_krippendorff_2011_example(level, expected):
    assert round(m.krippendorff_alpha(KRIPPENDORFF_2011, level), 3) == expected


@pytest.mark.parametrize(("level", "expected"), [("nominal", 0.691), ("interval", 0.811)])
def test_krippendorff_wikipedia_example(level, expected):
    assert round(m.krippendorff_alpha(KRIPPENDORFF_WIKIPEDIA, level), 3) == expected


def test_cohen_kappa_wikipedia_yes_no():
    # Wikipedia, "Cohen's kappa", simple example: 50 proposals, yes/yes 20, yes/no 5,
    # no/yes 10, no/no 15; p_o = 0.7, p_e = 0.5.
    a, b = pairs_from_table([[20, 5], [10, 15]])
    assert m.cohen_kappa(a, b, 2) == pytest.approx(0.4)


@pytest.mark.parametrize(("weights", "expected"), [(None, 0.4842), ("linear", 0.4701)])
def test_cohen_kappa_three_classes_sas(weights, expected):
    # SAS PROC FREQ agreement example (3 categories), as checked in statsmodels'
    # test_inter_rater.py: simple kappa 0.4842, weighted (Cicchetti-Allison) 0.4701.
    a, b = pairs_from_table([[0, 4, 1], [0, 8, 0], [0, 1, 5]])
    assert round(m.cohen_kappa(a, b, 3, weights=weights), 4) == expected


# --- classification against scikit-learn -----------------------------------------------------


@st.composite
def two_raters(draw, min_size=1):
    k = draw(st.integers(1, 6))
    n = draw(st.integers(min_size, 60))
    codes = st.integers(0, k - 1)
    a = draw(hnp.arrays(np.int64, n, elements=codes))
    b = draw(hnp.arrays(np.int64, n, elements=codes))
    return a, b, k


# scikit-learn warns when the data hold one label only, even with `labels` given.
@pytest.mark.filterwarnings("ignore:A single label was found:UserWarning")
@settings(max_examples=80, deadline=None)
@given(two_raters())
def test_classification_matches_sklearn(case):
    truth, pred, k = case
    labels = list(range(k))
    report = m.classification_report(truth, pred, k)
    precision, recall, f1, support = sk.precision_recall_fscore_support(
        truth, pred, labels=labels, zero_division=0
    )
    expected_confusion = sk.confusion_matrix(truth, pred, labels=labels)
    np.testing.assert_array_equal(m.confusion_matrix(truth, pred, k), expected_confusion)
    np.testing.assert_array_equal(report["confusion_matrix"], expected_confusion)
    np.testing.assert_allclose(report["precision"], precision)
    np.testing.assert_allclose(report["recall"], recall)
    np.testing.assert_allclose(report["f1"], f1)
    np.testing.assert_array_equal(report["support"], support)
    assert report["accuracy"] == pytest.approx(sk.accuracy_score(truth, pred))
    assert report["macro_f1"] == pytest.approx(
        sk.f1_score(truth, pred, average="macro", zero_division=0)
    )


def test_macro_f1_skips_classes_nobody_used():
    report = m.classification_report(np.array([0, 0, 1]), np.array([0, 1, 1]), k=4)
    assert report["f1"].tolist() == pytest.approx([2 / 3, 2 / 3, 0.0, 0.0])
    assert report["macro_f1"] == pytest.approx(2 / 3)
    assert report["precision"][3] == 0.0 and report["support"][3] == 0


@settings(max_examples=80, deadline=None)
@given(two_raters(min_size=2), st.sampled_from(m.KAPPA_WEIGHTS))
def test_cohen_kappa_matches_sklearn(case, weights):
    a, b, k = case
    ours = m.cohen_kappa(a, b, k, weights=weights)
    assume(not np.isnan(ours))  # no chance disagreement: kappa undefined
    theirs = sk.cohen_kappa_score(a, b, labels=list(range(k)), weights=weights)
    assert ours == pytest.approx(theirs, abs=1e-12)


def test_undefined_kappa_is_nan_without_warnings():
    assert np.isnan(m.cohen_kappa(np.zeros(5, int), np.zeros(5, int), 3))
    assert np.isnan(m.fleiss_kappa([[3, 0], [3, 0]]))
    assert np.isnan(m.krippendorff_alpha([[1, 1, nan], [1, 1, 2]]))  # 2 is unpairable
    assert np.isnan(m.krippendorff_alpha([[1, nan], [nan, 2]]))  # nothing pairable
    assert np.isnan(m.classification_report(np.zeros(0, int), np.zeros(0, int), 2)["accuracy"])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: m.confusion_matrix([0, 3], [0, 1], 3), "outside 0..2"),
        (lambda: m.confusion_matrix([0, 1], [0], 2), "differ in length"),
        (lambda: m.confusion_matrix([0.5], [0], 2), "integer class codes"),
        (lambda: m.cohen_kappa([0, 1], [1, 0], 2, weights="cubic"), "weights must be"),
        (lambda: m.fleiss_kappa([[2, 1], [1, 1]]), "same number of ratings"),
        (lambda: m.krippendorff_alpha([[1.0, 2.0]], level="circular"), "level must be"),
        (lambda: m.bootstrap_ci([1.0], statistic="median"), "only statistic='mean'"),
        (lambda: m.iou_matrix([[0, 0, 1]], [[0, 0, 1, 1]]), r"\[n, 4\]"),
    ],
)
def test_bad_input_raises_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- many raters against statsmodels and krippendorff ----------------------------------------


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_fleiss_kappa_matches_statsmodels(data):
    k = data.draw(st.integers(2, 5))
    raters = data.draw(st.integers(2, 7))
    n_items = data.draw(st.integers(1, 25))
    ratings = data.draw(hnp.arrays(np.int64, (n_items, raters), elements=st.integers(0, k - 1)))
    counts = counts_per_item(ratings, k)
    ours = m.fleiss_kappa(counts)
    assume(not np.isnan(ours))  # one category only: chance agreement is 1
    assert ours == pytest.approx(inter_rater.fleiss_kappa(counts, method="fleiss"), abs=1e-12)


@settings(max_examples=120, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        st.tuples(st.integers(2, 5), st.integers(1, 20)),
        elements=st.sampled_from([nan, nan, 0.0, 1.0, 2.0, 3.5, 7.0]),
    ),
    st.sampled_from(m.ALPHA_LEVELS),
)
def test_krippendorff_alpha_matches_package(reliability, level):
    ours = m.krippendorff_alpha(reliability, level)
    assume(not np.isnan(ours))  # nothing pairable, or one value only: the package raises
    theirs = krippendorff.alpha(reliability_data=reliability, level_of_measurement=level)
    assert ours == pytest.approx(theirs, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        np.int64, st.tuples(st.integers(2, 4), st.integers(0, 25)), elements=st.integers(-1, 3)
    ),
    st.sampled_from(m.KAPPA_WEIGHTS),
)
def test_pairwise_cohen_kappa_matches_pairs(labels, weights):
    kappa = m.pairwise_cohen_kappa(labels, k=4, weights=weights)
    np.testing.assert_array_equal(kappa, kappa.T)
    for i in range(len(labels)):
        for j in range(len(labels)):
            shared = (labels[i] >= 0) & (labels[j] >= 0)
            if shared.sum() < 2:
                assert np.isnan(kappa[i, j])
                continue
            expected = m.cohen_kappa(labels[i][shared], labels[j][shared], 4, weights=weights)
            np.testing.assert_allclose(kappa[i, j], expected, atol=1e-12)


def test_pairwise_cohen_kappa_hand_case():
    labels = np.array([[0, 1, 0, 1, -1], [0, 1, 0, 1, 1], [-1, -1, -1, 1, 0]])
    kappa = m.pairwise_cohen_kappa(labels)
    assert kappa[0, 1] == pytest.approx(1.0)
    assert np.isnan(kappa[0, 2])  # one shared unit
    assert kappa[1, 2] == pytest.approx(0.0)  # units 3, 4: (1, 1), (1, 0); p_o = p_e = 1/2
    assert kappa[1, 1] == pytest.approx(1.0)


# --- bootstrap -------------------------------------------------------------------------------


def test_bootstrap_ci_covers_true_rate_of_large_sample():
    correct = np.random.default_rng(7).random(200_000) < 0.3
    low, high = m.bootstrap_ci(correct)
    assert low < 0.3 < high
    # about +-1.96 standard errors of a proportion
    assert high - low == pytest.approx(2 * 1.96 * np.sqrt(0.3 * 0.7 / correct.size), rel=0.1)


def test_bootstrap_ci_of_continuous_values():
    values = np.random.default_rng(3).normal(loc=5.0, scale=2.0, size=4000)
    low, high = m.bootstrap_ci(values, n=1000, alpha=0.1)
    assert low < 5.0 < high
    assert high - low == pytest.approx(2 * 1.645 * 2.0 / np.sqrt(values.size), rel=0.15)


def test_bootstrap_ci_is_deterministic_for_a_seed():
    values = np.random.default_rng(1).random(500) < 0.8
    assert m.bootstrap_ci(values, seed=4) == m.bootstrap_ci(values, seed=4)
    assert m.bootstrap_ci(values, seed=4) != m.bootstrap_ci(values, seed=5)
    constant = m.bootstrap_ci(np.ones(10))
    assert constant == (1.0, 1.0)


# --- boxes -----------------------------------------------------------------------------------

small_boxes = st.integers(0, 12).flatmap(
    lambda n: hnp.arrays(np.float64, (n, 4), elements=st.integers(0, 6).map(float))
)


@settings(max_examples=60, deadline=None)
@given(small_boxes, small_boxes)
def test_iou_matrix_matches_pycocotools(a, b):
    ours = m.iou_matrix(a, b)
    assert ours.shape == (len(a), len(b))
    if len(a) and len(b):
        theirs = coco_mask.iou(a.tolist(), b.tolist(), [0] * len(b))
        np.testing.assert_allclose(ours, theirs, atol=1e-12)


def sequential_greedy(gt, pred, gt_classes, pred_classes, threshold):
    """Reference: walk candidate pairs best first, one at a time."""
    ious = m.iou_matrix(gt, pred)
    candidates = sorted(
        (-ious[i, j], i, j)
        for i in range(len(gt))
        for j in range(len(pred))
        if gt_classes[i] == pred_classes[j] and ious[i, j] >= threshold
    )
    used_gt, used_pred, pairs = set(), set(), []
    for _, i, j in candidates:
        if i not in used_gt and j not in used_pred:
            used_gt.add(i)
            used_pred.add(j)
            pairs.append((i, j))
    return pairs


@settings(max_examples=100, deadline=None)
@given(small_boxes, small_boxes, st.data(), st.sampled_from([0.1, 0.3, 0.5]))
def test_match_boxes_is_sequential_greedy(gt, pred, data, threshold):
    gt_classes = data.draw(hnp.arrays(np.int64, len(gt), elements=st.integers(0, 1)))
    pred_classes = data.draw(hnp.arrays(np.int64, len(pred), elements=st.integers(0, 1)))
    pairs, ious = m.match_boxes(gt, pred, gt_classes, pred_classes, threshold)
    expected = sequential_greedy(gt, pred, gt_classes, pred_classes, threshold)
    assert [tuple(p) for p in pairs.tolist()] == expected
    np.testing.assert_allclose(ious, [m.iou_matrix(gt, pred)[i, j] for i, j in expected])


def test_match_boxes_duplicate_predictions_match_once():
    gt = [[0, 0, 10, 10]]
    pred = [[0, 0, 10, 10], [0, 0, 10, 9], [1, 0, 10, 10]]
    pairs, ious = m.match_boxes(gt, pred, ["cat"], ["cat", "cat", "cat"])
    assert pairs.tolist() == [[0, 0]]
    assert ious.tolist() == [1.0]
    scores = m.detection_scores(gt, pred, ["cat"], ["cat", "cat", "cat"])
    assert (scores["tp"], scores["fp"], scores["fn"]) == (1, 2, 0)
    assert scores["precision"] == pytest.approx(1 / 3) and scores["recall"] == 1.0


def test_match_boxes_needs_the_same_class():
    pairs, _ = m.match_boxes([[0, 0, 4, 4]], [[0, 0, 4, 4]], ["cat"], ["dog"])
    assert pairs.shape == (0, 2)
    scores = m.detection_scores([[0, 0, 4, 4]], [[0, 0, 4, 4]], ["cat"], ["dog"])
    assert (scores["tp"], scores["fp"], scores["fn"], scores["f1"]) == (0, 1, 1, 0.0)
    assert np.isnan(scores["mean_iou"])


def test_match_boxes_threshold_is_inclusive():
    gt, pred = [[0, 0, 2, 1]], [[0, 0, 1, 1]]  # IoU exactly 1/2
    assert m.iou_matrix(gt, pred)[0, 0] == 0.5
    assert len(m.match_boxes(gt, pred, [0], [0], iou_threshold=0.5)[0]) == 1
    assert len(m.match_boxes(gt, pred, [0], [0], iou_threshold=0.51)[0]) == 0


def test_match_boxes_prefers_the_best_overlap():
    # pred 0 overlaps both gts; greedy gives it to gt 1 (IoU 1), and gt 0 gets pred 1.
    gt = [[0, 0, 10, 10], [2, 0, 10, 10]]
    pred = [[2, 0, 10, 10], [0, 0, 9, 10]]
    pairs, ious = m.match_boxes(gt, pred, [0, 0], [0, 0])
    assert pairs.tolist() == [[1, 0], [0, 1]]
    assert ious.tolist() == pytest.approx([1.0, 0.9])


def test_iou_of_empty_boxes_is_zero():
    assert m.iou_matrix([[0, 0, 0, 0]], [[0, 0, 0, 0], [0, 0, 1, 1]]).tolist() == [[0.0, 0.0]]
    assert m.iou_matrix(np.zeros((0, 4)), [[0, 0, 1, 1]]).shape == (0, 1)


def test_detection_scores_grouped_keeps_images_apart():
    box = [0, 0, 10, 10]
    scores = m.detection_scores_grouped(
        ["a", "b"], [box, box], [0, 0], ["b", "c"], [box, box], [0, 0], iou_threshold=0.5
    )
    assert (scores["tp"], scores["fp"], scores["fn"]) == (1, 1, 1)
    assert scores["mean_iou"] == 1.0


@settings(max_examples=50, deadline=None)
@given(small_boxes, small_boxes, st.data())
def test_detection_scores_grouped_pools_images(gt, pred, data):
    gt_images = data.draw(hnp.arrays(np.int64, len(gt), elements=st.integers(0, 2)))
    pred_images = data.draw(hnp.arrays(np.int64, len(pred), elements=st.integers(0, 2)))
    gt_classes = np.zeros(len(gt), dtype=int)
    pred_classes = np.zeros(len(pred), dtype=int)
    pooled = m.detection_scores_grouped(
        gt_images, gt, gt_classes, pred_images, pred, pred_classes, 0.3
    )
    per_image = [
        m.detection_scores(
            gt[gt_images == i], pred[pred_images == i], gt_classes[gt_images == i],
            pred_classes[pred_images == i], 0.3,
        )
        for i in range(3)
    ]  # fmt: skip
    for count in ("tp", "fp", "fn"):
        assert pooled[count] == sum(s[count] for s in per_image)


# --- spans -----------------------------------------------------------------------------------


def test_span_scores_exact_match():
    gold = {("doc1", 0, 5, "PER"), ("doc1", 10, 15, "ORG"), ("doc2", 3, 7, "LOC")}
    pred = [
        ("doc1", 0, 5, "PER"),
        ("doc1", 10, 14, "ORG"),
        ("doc2", 3, 7, "PER"),
        ("doc1", 0, 5, "PER"),
    ]
    scores = m.span_scores(gold, pred)
    assert (scores["tp"], scores["fp"], scores["fn"]) == (1, 2, 2)
    assert scores["precision"] == pytest.approx(1 / 3)
    assert scores["recall"] == pytest.approx(1 / 3)
    assert scores["f1"] == pytest.approx(1 / 3)


def test_span_scores_structured_arrays_match_sets():
    dtype = [("item", "U8"), ("start", "i8"), ("end", "i8"), ("cls", "U8")]
    gold = np.array([("a", 0, 2, "X"), ("a", 3, 4, "Y"), ("b", 0, 1, "X")], dtype=dtype)
    pred = np.array([("a", 0, 2, "X"), ("b", 0, 1, "Y")], dtype=[*dtype[:3], ("cls", "U2")])
    from_arrays = m.span_scores(gold, pred)
    assert from_arrays == m.span_scores(set(gold.tolist()), pred.tolist())
    assert (from_arrays["tp"], from_arrays["fp"], from_arrays["fn"]) == (1, 1, 2)


def test_span_scores_empty():
    assert m.span_scores([], []) == {
        "precision": 0.0, "recall": 0.0, "f1": 0.0, "tp": 0, "fp": 0, "fn": 0,
    }  # fmt: skip


# --- suspicious labels -----------------------------------------------------------------------


def test_self_confidence_and_margin():
    probs = np.array([[0.7, 0.2, 0.1], [0.3, 0.6, 0.1], [0.5, 0.5, 0.0]])
    labels = np.array([0, 0, 1])
    np.testing.assert_allclose(m.self_confidence(probs, labels), [0.7, 0.3, 0.5])
    np.testing.assert_allclose(m.margin(probs, labels), [0.5, -0.3, 0.0])


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 30), st.integers(2, 6), st.integers(0, 2**32 - 1))
def test_margin_is_positive_only_for_the_top_class(n, k, seed):
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.ones(k), size=n)
    labels = rng.integers(0, k, size=n)
    confidence = m.self_confidence(probs, labels)
    gap = m.margin(probs, labels)
    assert np.all(gap <= confidence + 1e-12)
    assert np.all(probs.argmax(axis=1)[gap > 0] == labels[gap > 0])
    if k == 2:  # p - (1 - p)
        np.testing.assert_allclose(gap, 2 * confidence - 1, atol=1e-12)
