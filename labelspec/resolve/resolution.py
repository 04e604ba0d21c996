"""``resolve``: one resolution of a dataset's snapshot by a method (see the package docstring),
with the checks on its parameters and the item ids it leaves undecided."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from labelspec.errors import InputError
from labelspec.qa.current import open_current
from labelspec.repo import Repo
from labelspec.resolve import (
    FALLBACKS,
    IOU_THRESHOLD,
    METHODS,
    classes,
    no_objects,
    objects,
    regions,
    suspects,
)
from labelspec.resolve.dawid_skene import MAX_ITER, TOL
from labelspec.resolve.golden import golden_at, region_rows
from labelspec.resolve.result import RESOLVED_SCHEMA, Resolved
from labelspec.store.engine import database
from labelspec.store.snapshots import snapshot as snapshot_at


def resolve(
    ws: Repo,
    dataset: str,
    method: str = "majority",
    snapshot: str | None = None,
    min_confidence: float = 0.0,
    golden: str | None = None,
    fallback: str = "majority",
    iou: float = IOU_THRESHOLD,
) -> Resolved:
    """Resolve the current labels of ``dataset`` at ``snapshot`` (HEAD) by ``method``.

    ``golden``: the golden set for ``golden-first`` (``NAME``, ``NAME@vN``; the only one when
    None); ``fallback``: how golden-first decides items without golden labels; ``iou``: the
    overlap at which boxes are one object (detection)."""

    _check(method, fallback, min_confidence, iou)
    snap = snapshot_at(ws, dataset, snapshot)
    current = open_current(ws, dataset, snap.commit)
    rule = fallback if method == "golden-first" else method
    parameters: dict[str, Any] = {}
    gold = None
    if method == "golden-first":
        gold, parameters["golden"] = golden_at(ws, dataset, golden, snap.commit)
        parameters["fallback"] = fallback
    if "dawid-skene" in (method, rule):
        parameters |= {"max_iter": MAX_ITER, "tol": TOL}
    if current.task == "detection":
        parameters["iou"] = iou
    present = sorted({v for batch in snap.batches for v in batch.versions})
    flags = suspects.register(current.con, ws, current.guideline, present, snapshot and snap.commit)
    batch_ids = [b.id for b in snap.batches]
    superseding = any(b.supersedes for b in snap.batches)
    if current.task == "classification":
        table, decision = _classification(current, rule, gold, flags, batch_ids, superseding)
    else:
        table, decision = _sets(current, rule, gold, flags, iou)
    classes = [
        r[0] for r in current.con.execute('select "class" from classes order by code').fetchall()
    ]
    names = {cls.id: cls.name for cls in current.spec.classes}
    return Resolved(
        dataset=dataset,
        snapshot=snap.name,
        commit=snap.commit,
        guideline=current.guideline,
        task=current.task,
        method=method,
        parameters=parameters,
        table=table,
        min_confidence=min_confidence,
        labeler_quality=decision.quality or {},
        diagnostics=decision.diagnostics or {},
        classes=classes,
        class_names={c: names.get(c, c) for c in classes},
    )


def low_confidence_items(
    ws: Repo, dataset: str, method: str, min_confidence: float, **options: Any
) -> list[str]:
    """Item ids whose resolution is a tie or below ``min_confidence`` (for a relabel plan)."""
    return resolve(ws, dataset, method, min_confidence=min_confidence, **options).low_confidence


def _check(method: str, fallback: str, min_confidence: float, iou: float) -> None:
    if method not in METHODS:
        raise InputError(f"unknown method {method!r} (methods: {', '.join(METHODS)})")
    if fallback not in FALLBACKS:
        raise InputError(f"unknown fallback {fallback!r} (choose: {', '.join(FALLBACKS)})")
    if not 0.0 <= min_confidence <= 1.0:
        raise InputError(f"--min-confidence {min_confidence}: give a share from 0 to 1")
    if not 0.0 < iou < 1.0:
        raise InputError(f"--iou {iou}: give an overlap between 0 and 1, e.g. 0.55")


def _flags(item_ids: pa.Array, suspect_ids: pa.Array) -> np.ndarray:

    return pc.is_in(item_ids, value_set=suspect_ids).to_numpy(zero_copy_only=False)


def _class_list(current, golden: pa.Table | None) -> list[str]:
    """The spec's classes, plus any a golden set uses that the spec no longer has."""
    class_ids = list(current.class_ids)
    if golden is not None:
        extra = sorted(set(golden.column("class").to_pylist()) - set(class_ids))
        for code, class_id in enumerate(extra, len(class_ids)):
            current.con.execute("insert into classes values (?, ?)", [class_id, code])
        class_ids += extra
    return class_ids


def _classification(
    current, rule: str, golden: pa.Table | None, flags, batch_ids: list[str], superseding: bool
):

    class_ids = _class_list(current, golden)
    votes = classes.load_votes(current.con, class_ids, batch_ids, flags, superseding, registry=True)
    keep = np.ones(votes.n_items, bool)
    known = None
    expert = None
    if golden is not None:
        con = database()
        con.register("labels", golden)
        con.register("classes", pa.table({"class": class_ids, "code": range(len(class_ids))}))
        gvotes = classes.load_votes(
            con, class_ids, pc.unique(golden.column("batch_id")).to_pylist()
        )
        # an expert's item is suspect when the crowd's labels of it are
        gvotes.suspect = _flags(gvotes.item_ids, votes.item_ids.filter(votes.suspect))
        decided = classes.majority(gvotes)
        decided.method = "golden"
        expert = classes.table(gvotes, decided, np.ones(gvotes.n_items, bool))
        where = pc.index_in(votes.item_ids, value_set=gvotes.item_ids)
        position = where.fill_null(-1).to_numpy()
        keep = position < 0
        known = np.where(keep, -1, decided.winner[np.maximum(position, 0)])
    if rule == "majority":
        decision = classes.majority(votes)
    elif rule == "latest":
        decision = classes.latest(votes)
    else:
        decision = classes.dawid_skene_decision(votes, known)
    table = classes.table(votes, decision, keep)
    if expert is not None:
        table = pa.concat_tables([table, expert]).sort_by("item_id")
    return table, decision


def _sets(current, rule: str, golden: pa.Table | None, flags, iou: float):

    marks = regions.load_marks(current.con, _class_list(current, golden), flags)
    if current.task == "detection":  # objects across classes, each with a class vote
        found = objects.candidates(marks, iou)
        decide_objects = {
            "majority": objects.majority,
            "latest": objects.latest,
            "dawid-skene": objects.dawid_skene_decision,
        }[rule]
        decision, codes = decide_objects(marks, found)
        table = objects.table(marks, found, decision, codes)
    else:
        cands = regions.candidates(marks, current.task, iou)
        decide = {
            "majority": regions.majority,
            "latest": regions.latest,
            "dawid-skene": regions.dawid_skene_decision,
        }[rule]
        decision = decide(marks, cands)
        table = regions.table(marks, cands, decision, current.task)
        # a text with no entities, an image with none of the classes: an answer, as an empty
        # image is
        empty = no_objects.rows(
            marks, cands.item, decision.status, decision.confidence, decision.method
        )
        table = pa.concat_tables([table, empty]).sort_by("item_id")
    if golden is None:
        return table, decision
    expert_ids = pc.unique(golden.column("item_id"))
    table = table.filter(pc.invert(pc.is_in(table.column("item_id"), value_set=expert_ids)))
    con = database()
    expert = region_rows(con, golden, current.task)
    con.register("suspects", pa.table({"item_id": marks.item_ids.filter(marks.suspect)}))
    con.register("crowd", table)
    con.register("expert", expert)
    merged = con.sql(
        """
        select * from (
          select * from crowd
          union all by name
          select e.*, e.item_id in (select item_id from suspects) as suspect from expert e)
        order by item_id, "class", bbox.x, bbox.y, bbox.w, bbox.h, span.start, span."end"
        """
    ).to_arrow_table()
    return merged.select(RESOLVED_SCHEMA.names).cast(RESOLVED_SCHEMA), decision
