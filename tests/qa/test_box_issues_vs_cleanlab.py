"""Box label issues against cleanlab's ObjectLab on a simulated dataset with planted errors.

300 images (640 x 480, registered by size only) with 1-4 true objects of 3 classes each; a
simulated detector finds each object as a slightly noisy box with a high score (97 %; most
objects it misses it still reports with a low score), and adds a few low-score false positives
at random. The labels are the true boxes drawn a little loosely, with one planted error on each
of 60 images: 15 of each kind (a box left out, a box where there is nothing, a wrong class, a
box shifted to IoU 0.2-0.45 with its object).

labelspec ranks the items through a real workspace (`items add`, `labels import`, `qa
disagreements`); cleanlab's ``get_label_quality_scores`` ranks the same labels and predictions.
With k the number of planted errors, labelspec's k lowest items must hold at least as many
planted errors as cleanlab's, overall and for each kind cleanlab scores (overlooked, swap,
badly located; cleanlab has no score for a box drawn where there is nothing).
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from labelspec.qa.box_issues import KINDS
from labelspec.qa.disagreements import disagreements
from labelspec.qa.metrics import iou_matrix
from labelspec.workspace import Workspace
from tests.qa.builders import write_jsonl

N_ITEMS, PER_KIND, K, WIDTH, HEIGHT = 300, 15, 3, 640, 480
CLASSES = ["circle", "square", "triangle"]  # the detection template's classes
# cleanlab's per-kind scores, by the name of the labelspec kind they look for
CLEANLAB_KINDS = {
    "missing_box": "compute_overlooked_box_scores",
    "wrong_class": "compute_swap_box_scores",
    "badly_placed": "compute_badloc_box_scores",
}


def _clip(boxes: np.ndarray) -> np.ndarray:
    """Boxes kept inside the image, as tools and detectors keep them."""
    x0 = np.clip(boxes[:, 0], 0, WIDTH - 8)
    y0 = np.clip(boxes[:, 1], 0, HEIGHT - 8)
    x1 = np.clip(boxes[:, 0] + boxes[:, 2], x0 + 8, WIDTH)
    y1 = np.clip(boxes[:, 1] + boxes[:, 3], y0 + 8, HEIGHT)
    return np.column_stack([x0, y0, x1 - x0, y1 - y0])


def simulate(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    per_item = rng.integers(1, 5, N_ITEMS)
    t_item = np.repeat(np.arange(N_ITEMS), per_item)
    n = len(t_item)
    wh = rng.uniform(30, 150, (n, 2))
    t_box = np.column_stack(
        [rng.uniform(0, WIDTH - wh[:, 0]), rng.uniform(0, HEIGHT - wh[:, 1]), wh]
    )
    t_cls = rng.integers(K, size=n)

    # the detector: noisy true boxes with high scores; of the objects it misses (3 %), two in
    # three it still reports with a low score; plus low-score false positives
    size = t_box[:, [2, 3, 2, 3]]
    p_box = _clip(t_box + rng.normal(0, 0.04, (n, 4)) * size)
    p_score = rng.uniform(0.95, 1.0, n)
    missed = rng.random(n) < 0.03
    unsure = missed & (rng.random(n) < 2 / 3)
    p_score[unsure] = rng.uniform(0.05, 0.45, unsure.sum())
    found = ~missed | unsure
    fp_item = np.repeat(np.arange(N_ITEMS), rng.poisson(0.7, N_ITEMS))
    fp_wh = rng.uniform(20, 120, (len(fp_item), 2))
    fp_box = np.column_stack(
        [rng.uniform(0, WIDTH - fp_wh[:, 0]), rng.uniform(0, HEIGHT - fp_wh[:, 1]), fp_wh]
    )
    pred = {
        "item": np.concatenate([t_item[found], fp_item]),
        "cls": np.concatenate([t_cls[found], rng.integers(K, size=len(fp_item))]),
        "box": np.concatenate([p_box[found], fp_box]),
        "score": np.concatenate([p_score[found], rng.uniform(0.02, 0.35, len(fp_item))]),
    }

    # the labels: true boxes drawn a little loosely, one planted error on each of 60 items
    l_box = t_box + rng.normal(0, 0.015, (n, 4)) * size
    l_cls = t_cls.copy()
    keep = np.ones(n, bool)
    planted: dict[int, str] = {}
    extra = []
    for number, item in enumerate(rng.choice(N_ITEMS, 4 * PER_KIND, replace=False)):
        kind = KINDS[number // PER_KIND]
        planted[int(item)] = kind
        box = rng.choice(np.flatnonzero(t_item == item))
        if kind == "missing_box":
            keep[box] = False
        elif kind == "wrong_class":
            l_cls[box] = (l_cls[box] + rng.integers(1, K)) % K
        elif kind == "badly_placed":
            iou = rng.uniform(0.2, 0.45)
            shift = 1 - np.sqrt(2 * iou / (1 + iou))  # (1 - f)^2 / (2 - (1 - f)^2) = iou
            towards_centre = np.sign([WIDTH / 2 - l_box[box, 0], HEIGHT / 2 - l_box[box, 1]])
            l_box[box, :2] += towards_centre * shift * l_box[box, 2:]
        else:
            while True:  # a box where there is nothing
                w, h = rng.uniform(30, 150, 2)
                new = np.array([rng.uniform(0, WIDTH - w), rng.uniform(0, HEIGHT - h), w, h])
                if iou_matrix(new[None], t_box[t_item == item]).max() < 0.05:
                    break
            extra.append((item, rng.integers(K), *new))
    extra = np.array(extra)
    labels = {
        "item": np.concatenate([t_item[keep], extra[:, 0].astype(int)]),
        "cls": np.concatenate([l_cls[keep], extra[:, 1].astype(int)]),
        "box": _clip(np.concatenate([l_box[keep], extra[:, 2:]])),
    }
    return {"labels": labels, "pred": pred, "planted": planted}


def item_id(index: int) -> str:
    return f"img-{index:03d}"


@pytest.fixture(scope="module")
def simulated(pristine, tmp_path_factory) -> dict:
    """The simulated dataset, imported into a real workspace, ranked by both."""
    from labelspec.labelers.roster import add_labeler
    from labelspec.labels.ingest import import_labels
    from labelspec.store.items import add_items
    from tests.store.conftest import set_training_policy

    data = simulate()
    base = tmp_path_factory.mktemp("vs-cleanlab")
    root = base / "ws"
    shutil.copytree(pristine("detection"), root, symlinks=True)
    ws = Workspace(root)
    set_training_policy(root, "off")
    manifest = write_jsonl(
        base / "items.jsonl",
        [
            {"item_id": item_id(i), "uri": f"s3://bucket/{item_id(i)}.jpg",
             "width": WIDTH, "height": HEIGHT}
            for i in range(N_ITEMS)
        ],
    )  # fmt: skip
    add_items(ws, "sim", manifest, guideline="shapes")
    add_labeler(ws, "sim-1", "vendor-sim")
    labels, pred = data["labels"], data["pred"]
    rows = [
        {"item_id": item_id(i), "labeler": "sim-1", "class": CLASSES[c], "bbox": list(b),
         "attributes": {"occluded": False}}
        for i, c, b in zip(labels["item"].tolist(), labels["cls"].tolist(), labels["box"].tolist(), strict=True)
    ]  # fmt: skip
    # an image whose only box the labeler left out: their answer was "no objects here"
    boxed = set(labels["item"].tolist())
    rows += [
        {"item_id": item_id(i), "labeler": "sim-1", "empty": True}
        for i in range(N_ITEMS)
        if i not in boxed
    ]
    import_labels(
        ws, "sim", write_jsonl(base / "labels.jsonl", rows), "jsonl", "shapes@1.0.0", "vendor-sim"
    )
    predictions = write_jsonl(
        base / "detections.jsonl",
        [
            {"item_id": item_id(i), "class": CLASSES[c], "bbox": list(b), "score": s}
            for i, c, b, s in zip(pred["item"].tolist(), pred["cls"].tolist(), pred["box"].tolist(),
                                  pred["score"].tolist(), strict=True)
        ]
        + [{"item_id": item_id(i), "empty": True} for i in range(N_ITEMS)
           if i not in set(pred["item"].tolist())],
    )  # fmt: skip
    result = disagreements(ws, "sim", predictions, top=N_ITEMS)
    return {**data, "labelspec": result, "cleanlab": _cleanlab(data)}


def _cleanlab(data: dict) -> dict[str, np.ndarray]:
    """cleanlab's image scores, overall and per kind (lower = more likely mislabeled)."""
    rank = pytest.importorskip("cleanlab.object_detection.rank")

    def xyxy(boxes):
        return np.column_stack([boxes[:, :2], boxes[:, :2] + boxes[:, 2:]]).reshape(-1, 4)

    labels, pred = data["labels"], data["pred"]
    given = [
        {"bboxes": xyxy(labels["box"][labels["item"] == i]), "labels": labels["cls"][labels["item"] == i]}
        for i in range(N_ITEMS)
    ]  # fmt: skip
    predicted = []
    for i in range(N_ITEMS):
        mine = pred["item"] == i
        predicted.append(
            [np.column_stack([xyxy(pred["box"][mine & (pred["cls"] == c)]),
                              pred["score"][mine & (pred["cls"] == c)]]).reshape(-1, 5)
             for c in range(K)]
        )  # fmt: skip
    scores = {"overall": rank.get_label_quality_scores(given, predicted, verbose=False)}
    for kind, function in CLEANLAB_KINDS.items():
        per_box = getattr(rank, function)(labels=given, predictions=predicted)
        scores[kind] = rank.pool_box_scores_per_image(per_box)
    return scores


def labelspec_scores(result: dict, kind: str | None = None) -> np.ndarray:
    """Per item index: the item score, or the lowest score of its boxes of ``kind``."""
    scores = np.full(N_ITEMS, np.inf)
    for item in result["items"]:
        index = int(item["item_id"].removeprefix("img-"))
        if kind is None:
            scores[index] = item["score"]
        else:
            mine = [b["score"] for b in item["boxes"] if b["kind"] == kind]
            scores[index] = min(mine, default=np.inf)
    return scores


def found(scores: np.ndarray, planted: dict[int, str], kind: str | None = None) -> int:
    """Planted errors (of ``kind``) among the k lowest-scored items, k = how many were planted."""
    wanted = {i for i, k in planted.items() if kind is None or k == kind}
    lowest = np.lexsort((np.arange(len(scores)), scores))[: len(wanted)]
    return len(wanted & set(lowest.tolist()))


def test_the_simulated_dataset_is_what_the_docstring_says(simulated):
    planted = simulated["planted"]
    assert len(planted) == 4 * PER_KIND
    assert sorted(planted.values()) == sorted(KINDS * PER_KIND)
    result = simulated["labelspec"]
    assert result["items_scored"] == N_ITEMS and result["items_without_prediction"] == 0


def test_labelspec_finds_at_least_as_many_planted_errors_as_cleanlab(simulated):
    planted = simulated["planted"]
    ours = found(labelspec_scores(simulated["labelspec"]), planted)
    theirs = found(simulated["cleanlab"]["overall"], planted)
    # measured (seed 0): labelspec 48 of 60, cleanlab 47; seeds 1-5: 47-41, 49-44, 45-43, 45-41, 48-44
    assert ours >= theirs
    assert ours >= 45


@pytest.mark.parametrize("kind", list(CLEANLAB_KINDS))
def test_labelspec_finds_each_kind_at_least_as_well_as_cleanlab(simulated, kind):
    planted = simulated["planted"]
    ours = found(labelspec_scores(simulated["labelspec"], kind), planted, kind)
    theirs = found(simulated["cleanlab"][kind], planted, kind)
    # measured (seed 0): missing 15 vs 14, wrong class 15 vs 15, badly placed 14 vs 13
    assert ours >= theirs
    assert ours >= PER_KIND - 2


def test_labelspec_finds_boxes_drawn_where_there_is_nothing(simulated):
    # cleanlab has no score for this kind; a detector's own misses look the same, so a few are lost
    ours = found(
        labelspec_scores(simulated["labelspec"], "extra_box"), simulated["planted"], "extra_box"
    )
    assert ours >= PER_KIND // 2  # measured (seed 0): 9 of 15
    json.dumps(simulated["labelspec"], allow_nan=False)
