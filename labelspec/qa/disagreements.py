"""Suspicious labels: where a model's predictions disagree with the current labels.

Detection datasets are judged box by box against a detector's boxes (``labelspec.qa.box_issues``,
predictions read by ``labelspec.qa.predictions``). For class labels, every current label (classification or multilabel) whose item has a prediction is scored by
``p_label``, the self-confidence p(labeled class) (Cleanlab's label quality score), and
``margin`` = p(label) - max p(any other class), negative when the model prefers another class.
Lower is more suspicious on both; a label is counted as ``suspicious`` when its self-confidence
is below 0.5. Probabilities are used as given (nothing is renormalised); a class a prediction
leaves out, or gives as null, has p = 0. A file naming an item the dataset lacks or a class the
guideline lacks is refused, as a detector's boxes are: a typo would otherwise read as p = 0.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from labelspec.errors import InputError, NotFoundError
from labelspec.lineage.predictions import check_predictions, load_predictions
from labelspec.qa import box_issues, metrics
from labelspec.qa.box_page import render
from labelspec.qa.current import Current, number, open_current, share
from labelspec.qa.drill import page
from labelspec.qa.predictions import load_box_predictions
from labelspec.repo import Repo

SUSPICIOUS = 0.5


def disagreements(
    ws: Repo,
    dataset: str,
    predictions: Path | str,
    top: int = 20,
    snapshot: str | int | None = None,
    coco_images: Path | str | None = None,
    min_score: float = box_issues.MIN_SCORE,
) -> dict[str, Any]:
    """Score every current label against model predictions and rank the most suspicious.

    Class labels: ``predictions`` is JSONL, CSV or Parquet with ``item_id`` and either a
    ``probs`` object {class: p} or one column per class id. Returns the ``top`` labels with the
    lowest self-confidence (ties: lowest margin), and per class and per labeler how many labels
    were scored, how many are suspicious and their mean self-confidence.

    Boxes: ``predictions`` is a detector's boxes (``labelspec.qa.predictions``: JSONL, or COCO
    results with ``coco_images``); returns the ``top`` box issues and items, and counts per
    kind, class and labeler (``labelspec.qa.box_issues``).
    """

    if top < 0:
        raise InputError(f"top must be 0 or more, not {top}")
    current = open_current(ws, dataset, snapshot)
    path = Path(predictions)
    if not path.is_file():
        raise NotFoundError(f"{path}: no such predictions file")
    if current.task == "detection":
        return _box_disagreements(current, path, top, coco_images, min_score)
    if current.task not in ("classification", "multilabel"):
        raise InputError(
            f"qa disagreements compares labels with a model's predictions, but dataset "
            f"{dataset!r} is labeled under {current.guideline!r}, a {current.task} guideline; "
            "use `labelspec qa agreement` for spans"
        )
    if coco_images is not None:
        raise InputError(
            "--coco-images names the images and categories of detector boxes (COCO results); "
            f"{current.guideline!r} is a {current.task} guideline, judged on class probabilities"
        )
    con = current.con
    con.register("pred", load_predictions(path, current.class_ids))
    check_predictions(con, path, current.spec, "no report was made")
    probs, labels = _probabilities(con, len(current.class_ids))
    scores = _scores(probs, labels)
    con.register("scores", scores)
    columns = """l.item_id, l.label_id, l.annotation_id, l."class", c."class" as predicted,
                 s.p_label, s.p_predicted, s.margin, l.labeler_id as labeler, l.source,
                 l.guideline_version, i.path"""
    ranked = (
        con.sql(
            f"""select {columns} from scored l join scores s using (row)
                join classes c on c.code = s.predicted
                left join items i on i.item_id = l.item_id
                order by s.p_label, s.margin, l.item_id, l.label_id limit {int(top)}"""
        )
        .to_arrow_table()
        .to_pylist()
    )
    without = con.execute(
        "select count(*) from labels l anti join pred_items p using (item_id)"
    ).fetchone()[0]
    return {
        "dataset": dataset,
        "snapshot": current.snapshot,
        "task": current.task,
        "predictions": str(path),
        "labels_scored": scores.num_rows,
        "labels_without_prediction": int(without),
        "suspicious_below": SUSPICIOUS,
        "top": ranked,
        "by_class": _grouped(con, '"class"', "min(code), 1"),
        "by_labeler": _grouped(con, "labeler_id", "suspicious_share desc, 1"),
    }


def _box_disagreements(
    current: Current, path: Path, top: int, coco_images: Path | str | None, min_score: float
) -> dict[str, Any]:
    found = load_box_predictions(
        current.con, path, current.spec, current.dataset, coco_images, "no report was made"
    )
    box_issues.judge(current.con, found, current.class_ids, min_score)
    return {
        "dataset": current.dataset,
        "snapshot": current.snapshot,
        "task": current.task,
        "predictions": str(path),
        "format": found.format,
        "coco_images": found.coco_images,
        **box_issues.box_report(current.con, top, min_score),
    }


def _probabilities(con, k: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The [items, k] probability matrix of the predicted items, and the labels to score:
    a ``scored`` table of current labels with a prediction, numbered by ``row``."""
    con.execute(
        """
        create temp table pred_items as
          select item_id, row_number() over (order by item_id) - 1 as pidx
          from (select distinct item_id from pred semi join classes using (class));
        create temp table scored as
          select row_number() over (order by l.item_id, l.label_id) - 1 as row, p.pidx, c.code, l.*
          from labels l join pred_items p using (item_id) join classes c using ("class");
        """
    )
    n_items = con.execute("select count(*) from pred_items").fetchone()[0]
    cells = con.execute(
        """select p.pidx, c.code, d.p from pred d join pred_items p using (item_id)
           join classes c using (class) where d.p is not null"""
    ).fetchnumpy()
    probs = np.zeros((n_items, k))
    probs[np.asarray(cells["pidx"], dtype=np.int64), np.asarray(cells["code"], dtype=np.int64)] = (
        np.asarray(cells["p"], dtype=np.float64)
    )
    labels = con.execute("select pidx, code from scored order by row").fetchnumpy()
    return probs, {c: np.asarray(v, dtype=np.int64) for c, v in labels.items()}


def _scores(probs: np.ndarray, labels: dict[str, np.ndarray]) -> pa.Table:
    """Per scored label: p_label (self-confidence), margin, the argmax class and its p."""
    rows = probs[labels["pidx"]]
    code = labels["code"]
    p_label = metrics.self_confidence(rows, code)
    margin = metrics.margin(rows, code) if probs.shape[1] > 1 else p_label
    return pa.table(
        {
            "row": np.arange(len(code), dtype=np.int64),
            "p_label": p_label,
            "margin": margin,
            "predicted": rows.argmax(axis=1) if len(code) else np.zeros(0, dtype=np.int64),
            "p_predicted": rows.max(axis=1) if len(code) else np.zeros(0),
        }
    )


def _grouped(con, key: str, order: str) -> dict[str, dict]:
    """Per group: ``labels`` scored, ``suspicious`` (self-confidence < 0.5), their share and the
    ``mean_self_confidence``."""
    rows = con.execute(
        f"""select {key}, count(*) as labels, count(*) filter (where s.p_label < {SUSPICIOUS}),
                   count(*) filter (where s.p_label < {SUSPICIOUS}) / count(*) as suspicious_share,
                   avg(s.p_label)
            from scored l join scores s using (row) group by 1 order by {order}"""
    ).fetchall()
    return {
        name: {
            "labels": labels,
            "suspicious": suspicious,
            "suspicious_share": share(suspicious, labels),
            "mean_self_confidence": number(mean),
        }
        for name, labels, suspicious, _, mean in rows
    }


def disagreements_html(ws: Repo, result: dict[str, Any]) -> str:
    """The most suspicious labels as an offline gallery page (``labelspec.qa.drill``); for
    boxes, the items with the worst issues, labeled and predicted boxes drawn
    (``labelspec.qa.box_page``)."""

    if result["task"] == "detection":
        return render(ws, result)

    rows = [
        {
            **r,
            "labeled": r["class"],
            "labeler_id": r["labeler"],
            "predicted": f"{r['predicted']} (p(label) {number(r['p_label']):.3g})",
        }
        for r in result["top"]
    ]
    title = f"{len(rows)} labels a model disagrees with most in {result['dataset']}"
    about = (
        f"Snapshot {result['snapshot']}; predictions {result['predictions']}; lowest p(label) first"
    )
    return page(ws, title, about, rows)
