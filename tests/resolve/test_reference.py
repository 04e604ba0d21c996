"""The resolution methods against reference implementations, on generated data whose truth and
labeler confusion matrices are known: crowd-kit's MajorityVote and DawidSkene, and
ensemble-boxes' weighted boxes fusion."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from labelspec.resolve import boxes, classes, dawid_skene

ITEMS, LABELERS, K = 3000, 6, 4
PLANTED = np.array([0.92, 0.85, 0.78, 0.7, 0.6, 0.5])  # each labeler's chance to be right


def planted_votes(seed: int = 7):
    """Every labeler labels each item with probability 0.6 (each item gets one at least); a
    labeler who is wrong picks the wrong class from their own row of a random confusion matrix."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, K, ITEMS)
    confusion = np.zeros((LABELERS, K, K))
    for j, accuracy in enumerate(PLANTED):
        for k in range(K):
            wrong = rng.dirichlet(np.ones(K - 1))
            confusion[j, k] = np.insert(wrong * (1 - accuracy), k, accuracy)
    labels = rng.random((ITEMS, LABELERS)) < 0.6
    labels[np.arange(ITEMS), rng.integers(0, LABELERS, ITEMS)] = True
    item, labeler = np.nonzero(labels)
    cumulative = confusion[labeler, truth[item]].cumsum(axis=1)
    code = (rng.random(len(item))[:, None] > cumulative).sum(axis=1)
    return truth, confusion, item, labeler, np.minimum(code, K - 1)


def as_votes(item, labeler, code) -> classes.Votes:
    n = len(item)
    return classes.Votes(
        item_ids=pa.array([f"i{i:05d}" for i in range(ITEMS)]),
        labeler_ids=pa.array([f"lab-{j}" for j in range(LABELERS)]),
        class_ids=[f"c{k}" for k in range(K)],
        item=item,
        labeler=labeler,
        code=code,
        time=np.zeros(n, np.int64),
        batch=np.zeros(n, np.int64),
        row=np.arange(n),
        label_id=pa.array([f"l{i}" for i in range(n)]),
        suspect=np.zeros(ITEMS, bool),
    )


def crowd(item, labeler, code) -> pd.DataFrame:
    return pd.DataFrame({"task": item, "worker": labeler, "label": code})


def quietly(call):
    # crowd-kit 1.4 calls DataFrame.eval(inplace=True), which pandas 3.1 deprecates
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return call()


def test_majority_matches_crowd_kit_and_reports_its_ties():
    from crowdkit.aggregation import MajorityVote

    _truth, _c, item, labeler, code = planted_votes()
    decision = classes.majority(as_votes(item, labeler, code))
    shares = quietly(lambda: MajorityVote().fit_predict_proba(crowd(item, labeler, code)))
    shares = shares.sort_index().reindex(columns=range(K), fill_value=0.0).to_numpy()
    top = shares.max(axis=1)
    tied = (np.isclose(shares, top[:, None])).sum(axis=1) > 1
    assert tied.sum() > 100  # the data has ties to report (items with two votes that differ)
    assert np.array_equal(decision.winner < 0, tied)
    assert np.array_equal(decision.winner[~tied], shares.argmax(axis=1)[~tied])
    assert np.allclose(decision.confidence, top)


def test_dawid_skene_matches_crowd_kit():
    from crowdkit.aggregation import DawidSkene

    _truth, _c, item, labeler, code = planted_votes()
    fit = dawid_skene.fit(item, labeler, code, ITEMS, LABELERS, K)
    reference = quietly(lambda: DawidSkene(n_iter=1000, tol=1e-12).fit(crowd(item, labeler, code)))
    posteriors = reference.probas_.sort_index().reindex(columns=range(K)).to_numpy()
    assert fit.converged
    assert np.abs(fit.posteriors - posteriors).max() < 1e-4  # our tol: no posterior moves 1e-6
    errors = reference.errors_  # (worker, observed) x true
    for j in range(LABELERS):
        matrix = errors.loc[j].reindex(index=range(K), columns=range(K), fill_value=0.0)
        assert np.abs(fit.confusion[j] - matrix.to_numpy().T).max() < 1e-4
    assert np.allclose(fit.priors, reference.priors_.sort_index().to_numpy(), atol=1e-4)


def test_dawid_skene_recovers_the_planted_labelers():
    truth, confusion, item, labeler, code = planted_votes()
    fit = dawid_skene.fit(item, labeler, code, ITEMS, LABELERS, K)
    # ~1,800 labels per labeler: an accuracy's standard error is about 0.01; allow 0.03
    assert np.abs(fit.accuracy() - PLANTED).max() < 0.03
    # single cells rest on ~450 items each (standard error up to 0.024): allow 0.08
    assert np.abs(fit.confusion - confusion).max() < 0.08
    assert (fit.posteriors.argmax(axis=1) == truth).mean() > 0.93
    # and it beats the majority vote, which weighs the 0.5 labeler like the 0.92 one
    votes = as_votes(item, labeler, code)
    majority = classes.majority(votes).winner
    assert (fit.posteriors.argmax(axis=1) == truth).mean() > (majority == truth).mean() + 0.02


def test_dawid_skene_is_deterministic_and_keeps_known_items():
    _truth, _c, item, labeler, code = planted_votes()
    first = dawid_skene.fit(item, labeler, code, ITEMS, LABELERS, K)
    again = dawid_skene.fit(item, labeler, code, ITEMS, LABELERS, K)
    assert np.array_equal(first.posteriors, again.posteriors)
    known = np.full(ITEMS, -1)
    known[:10] = 3
    fixed = dawid_skene.fit(item, labeler, code, ITEMS, LABELERS, K, known=known)
    assert np.array_equal(fixed.posteriors[:10].argmax(axis=1), np.full(10, 3))
    assert np.allclose(fixed.posteriors[:10].max(axis=1), 1.0)


def test_dawid_skene_by_hand_on_two_votes():
    # one item, two labelers who disagree and nothing else to learn from: the soft majority
    # vote starts at 1/2 each, the M-step learns each labeler reports what they saw, and the
    # posterior stays 1/2 - 1/2: a tie, not a guess.
    votes = as_votes(np.array([0, 0]), np.array([0, 1]), np.array([0, 1]))
    votes.item_ids = pa.array(["only"])
    decision = classes.dawid_skene_decision(votes)
    assert decision.winner.tolist() == [-1]
    assert decision.confidence.tolist() == [pytest.approx(0.5)]


# -- boxes ---------------------------------------------------------------------------------------------
def scenes(seed: int, labelers: int = 4, per_box_weights: bool = True):
    """Random images: objects of two classes, each labeler draws most of them with some noise."""
    rng = np.random.default_rng(seed)
    for _ in range(300):
        objects = rng.integers(1, 7)
        centers = rng.random((objects, 2)) * 0.6 + 0.2
        sizes = rng.random((objects, 2)) * 0.2 + 0.05
        weights = rng.random(labelers) + 0.5
        per_model: list[tuple[list, list, list]] = []
        for _j in range(labelers):
            drawn = [o for o in range(objects) if rng.random() < 0.8]
            corners = []
            for o in drawn:
                c = centers[o] + rng.normal(0, 0.02, 2)
                s = sizes[o] * (1 + rng.normal(0, 0.1, 2))
                corners.append([c[0] - s[0] / 2, c[1] - s[1] / 2, c[0] + s[0] / 2, c[1] + s[1] / 2])
            scores = (
                list(rng.random(len(drawn)) * 0.9 + 0.1) if per_box_weights else [1.0] * len(drawn)
            )
            per_model.append((corners, scores, [o % 2 for o in drawn]))
        yield weights, per_model


def fuse_reference(weights, per_model, iou):
    from ensemble_boxes import weighted_boxes_fusion

    return weighted_boxes_fusion(
        [np.array(m[0]).reshape(-1, 4) for m in per_model],
        [m[1] for m in per_model],
        [m[2] for m in per_model],
        weights=list(weights),
        iou_thr=iou,
        skip_box_thr=0.0,
    )


def flat(weights, per_model):
    corners = np.array([b for m in per_model for b in m[0]]).reshape(-1, 4)
    weight = np.array([s * weights[j] for j, m in enumerate(per_model) for s in m[1]])
    group = np.array([c for m in per_model for c in m[2]])
    labeler = np.array([j for j, m in enumerate(per_model) for _ in m[1]])
    return corners, weight, group, labeler


@pytest.mark.parametrize("iou", [0.55, 0.3])
def test_box_fusion_matches_ensemble_boxes(iou):
    # each box its own weight (score x labeler weight), as ensemble-boxes weighs them: with no
    # two weights equal, both take the boxes in the same order
    for weights, per_model in scenes(11):
        corners, weight, group, _ = flat(weights, per_model)
        if not len(corners):
            continue
        expected, _scores, labels = fuse_reference(weights, per_model, iou)
        found = boxes.cluster(group, weight, corners, iou)
        mine = sorted(zip(found.group.tolist(), found.fused.round(5).tolist(), strict=True))
        theirs = sorted(zip(labels.astype(int).tolist(), expected.round(5).tolist(), strict=True))
        assert len(mine) == len(theirs)
        for (g1, b1), (g2, b2) in zip(mine, theirs, strict=True):
            assert g1 == g2 and np.allclose(b1, b2, atol=2e-5)


def test_box_confidence_is_ensemble_boxes_weighted_share():
    # with one box per labeler and object, and objects far apart, WBF's 'avg' confidence is the
    # cluster's share of the labelers' weight: what labelspec reports for detection
    checked = 0
    for weights, per_model in scenes(12, per_box_weights=False):
        corners, weight, group, labeler = flat(weights, per_model)
        if not len(corners):
            continue
        expected, scores, labels = fuse_reference(weights, per_model, 0.55)
        found = boxes.cluster(group, weight, corners, 0.55)
        repeats = np.bincount(found.of_box * len(weights) + labeler).max()
        if repeats > 1 or len(found.fused) != len(expected):
            continue  # two objects close enough to merge: WBF counts boxes, not labelers
        mine = sorted(
            zip(
                found.group,
                found.fused.round(4).tolist(),
                found.weight / weights.sum(),
                strict=True,
            )
        )
        theirs = sorted(zip(labels.astype(int), expected.round(4).tolist(), scores, strict=True))
        for (_g1, _b1, share), (_g2, _b2, score) in zip(mine, theirs, strict=True):
            assert share == pytest.approx(score, abs=1e-5)
        checked += 1
    assert checked > 200


def test_box_clustering_by_hand():
    corners = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60], [0, 0, 10, 10]], float)
    found = boxes.cluster(np.array([0, 0, 0, 1]), np.array([1.0, 3.0, 1.0, 1.0]), corners, 0.5)
    # the heavier box leads; the other (IoU 90/110 = 0.82) joins it: corners 1*0 + 3*1 over 4
    assert found.of_box[0] == found.of_box[1] != found.of_box[2]
    lead = found.of_box[1]
    assert found.fused[lead].tolist() == [0.75, 0.0, 10.75, 10.0]
    assert found.weight[lead] == 4.0
    assert found.group.tolist().count(1) == 1  # another class is another group
