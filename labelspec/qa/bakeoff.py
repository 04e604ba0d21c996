"""Vendor bake-offs against a golden set: quality, speed and cost per source, and a ranking.

Each source is judged on what it delivered (``labels='delivered'``, the default): every label of
its own batches on golden items, minus what its own later deliveries replaced. A relabel is the
work of source ``relabel``, not of the relabelers' vendors, and a relabel does not hide the
errors it corrected. ``labels='current'`` scores the snapshot's current labels instead (then a
relabelled vendor is scored on fewer items, and the result says so). The default sources are
those that delivered batches; relabel answers are listed under ``not_ranked`` unless named.

Every label a source made on a golden item counts as one prediction (two labelers of one vendor
on the same item are two predictions). Quality is accuracy for classification, box or span F1
for detection and ner (``labelspec.qa.scoring``), each with a 95 % percentile-bootstrap
interval over annotations; the ranking and its interval are ``labelspec.qa.ranking``. Costs
share one denominator: $/label = cost / priced labels, $/correct = cost / priced correct labels,
so $/correct >= $/label. An explicit empty answer ("no objects here", one row without a class)
is one label: it is priced and timed like one, and it is a correct one on a golden negative (an
item the experts found nothing on); ``correct_empty`` counts those. Labels per labeler-hour are
the labels that have a lead time over their summed lead time (``labeler stats`` says the same).

A golden set made under another guideline version than a source's labels, with releases in
between that changed some classes, gets a warning and a ``split``: the quality on the unaffected
classes and on the affected ones.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from labelspec.errors import InputError
from labelspec.guideline.releases import spec_at
from labelspec.labelers.coverage import Coverage
from labelspec.progress import progress
from labelspec.qa import ranking, reviewed, scoring
from labelspec.qa.current import golden_at, open_scored
from labelspec.repo import Repo
from labelspec.store.datasets import dataset_guideline

DEFAULT_WEIGHTS = {"accuracy": 0.6, "cost": 0.2, "speed": 0.2}
TASKS = ("classification", "detection", "ner")


def parse_weights(text: str | None) -> dict[str, float]:
    """``accuracy=0.6,cost=0.2,speed=0.2`` -> weights (normalised to sum 1)."""
    if not text:
        return dict(DEFAULT_WEIGHTS)
    weights = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or key not in DEFAULT_WEIGHTS:
            raise InputError(f"--weights {text!r}: use accuracy=W,cost=W,speed=W")
        try:
            weights[key] = float(value)
        except ValueError as exc:
            raise InputError(f"--weights {part!r}: {value!r} is not a number") from exc
    total = sum(weights.values())
    if not math.isfinite(total) or total <= 0 or any(w < 0 for w in weights.values()):
        raise InputError(
            f"--weights {text!r}: give finite, non-negative weights, not all zero "
            "(e.g. accuracy=0.6,cost=0.2,speed=0.2)"
        )
    return {k: weights.get(k, 0.0) / total for k in DEFAULT_WEIGHTS}


def speed_and_cost(con, source: str, correct_priced: int) -> dict[str, Any]:
    """Lead times, throughput and costs of a source's scored labels on golden items."""
    median, p90, timed, seconds, total, priced, first, last, empty = con.execute(
        """select median(lead_time_s), quantile_cont(lead_time_s, 0.9), count(lead_time_s),
                  sum(lead_time_s), sum(cost), count(cost), min(created_at), max(created_at),
                  count(*) - count("class")
           from scored where source = ? and item_id in (select item_id from g)""",
        [source],
    ).fetchone()
    return {
        "empty_answers": empty,
        "lead_time_median_s": median,
        "lead_time_p90_s": p90,
        "labels_per_labeler_hour": (timed / (seconds / 3600)) if seconds else None,
        "turnaround_s": (last - first).total_seconds() if first and last else None,
        "priced_labels": priced,
        "cost_total": total if priced else None,
        "cost_per_label": (total / priced) if priced else None,
        "cost_per_correct_label": (total / correct_priced) if priced and correct_priced else None,
    }


def _score(con, task: str, source: str, classes: list[str], iou: float, boot: int, seed: int):
    if task == "classification":
        return scoring.classification(con, source, classes, boot, seed)
    if task == "detection":
        return scoring.detection(con, source, classes, iou, boot, seed)
    return scoring.spans(con, source, classes, boot, seed)


ERRORS_SHOWN = 200  # wrong labels kept per confusion cell for the drill-down pages


def _errors(con, source: str) -> list[dict[str, Any]]:
    """The source's wrong labels on golden items (up to ``ERRORS_SHOWN`` per confusion cell),
    for the report's drill-down pages: item, path, golden class, label class, labeler."""
    return (
        con.sql(
            """select s.item_id, i.path, g."class" as golden, s."class" as labeled, s.labeler_id,
                      s.guideline_version, s.label_id, s.batch_id
               from scored s join g on g.item_id = s.item_id
               left join items i on i.item_id = s.item_id
               where s.source = ? and s."class" is distinct from g."class"
               qualify row_number() over (partition by g."class", s."class"
                                          order by s.item_id, s.label_id) <= ?
               order by golden, labeled, s.item_id, s.label_id""",
            params=[source, ERRORS_SHOWN],
        )
        .to_arrow_table()
        .to_pylist()
    )


_BOX_ERRORS = """
with wrong as (
  select image, label_id, golden_class as golden, "class" as labeled, outcome, NULL::DOUBLE as iou
  from pr where outcome <> 'hit'
  union all
  select image, NULL, "class", $background, outcome, iou from gt where outcome in ('missed', 'mislocated')
),
capped as (
  select * from wrong
  qualify row_number() over (partition by golden, labeled order by image, label_id) <= $n
),
boxes as (
  select image, list({'class': "class", 'bbox': bbox, 'outcome': outcome, 'label_id': label_id}
                     order by label_id) as boxes
  from pr where image in (select image from capped) group by 1
),
golden as (
  select image, list({'class': "class", 'bbox': bbox, 'outcome': outcome} order by label_id)
         as golden_boxes
  from gt where image in (select image from capped) group by 1
)
select c.golden, c.labeled, c.outcome, c.iou, c.label_id, a.item_id, i.path, a.labeler_id,
       a.batch_id, v.guideline_version, b.boxes, go.golden_boxes
from capped c join box_anns a using (image)
left join items i on i.item_id = a.item_id
left join (select annotation_id, any_value(guideline_version) as guideline_version
           from scored group by 1) v on v.annotation_id = a.annotation_id
left join boxes b using (image) left join golden go using (image)
order by c.golden = $background, c.golden, c.labeled = $background, c.labeled, a.item_id,
         c.label_id
"""


def _shown_images(outcomes: scoring.BoxOutcomes) -> np.ndarray:
    """The images holding the first ``ERRORS_SHOWN`` wrong boxes of every confusion cell."""
    gt, pr = outcomes.gt, outcomes.pr
    wrong_pr = pc.not_equal(pr.column("outcome"), "hit")
    wrong_gt = pc.is_in(gt.column("outcome"), pa.array(["missed", "mislocated"]))
    cells = pa.concat_arrays(
        [
            pc.binary_join_element_wise(
                pr.column("golden_class").combine_chunks(),
                pr.column("class").combine_chunks(),
                "\t",
            ).filter(wrong_pr.combine_chunks()),
            pc.binary_join_element_wise(
                gt.column("class").combine_chunks(), pa.scalar(scoring.BACKGROUND), "\t"
            ).filter(wrong_gt.combine_chunks()),
        ]
    )
    image = np.concatenate(
        [
            pr.column("image").filter(wrong_pr).to_numpy(),
            gt.column("image").filter(wrong_gt).to_numpy(),
        ]
    )
    if not len(image):
        return image
    codes = np.unique(cells.to_numpy(zero_copy_only=False), return_inverse=True)[1].reshape(-1)
    order = np.lexsort((image, codes))
    starts = np.searchsorted(codes[order], np.arange(codes.max() + 1))
    rank = np.arange(len(order)) - starts[codes[order]]
    return np.unique(image[order][rank < ERRORS_SHOWN])


def _box_errors(con, outcomes: scoring.BoxOutcomes) -> list[dict[str, Any]]:
    """Every box that is not a hit, as a confusion-matrix cell (golden class, labeled class;
    ``(background)`` for an extra box's golden side and a missed box's labeled side), up to
    ``ERRORS_SHOWN`` per cell, with the annotation's golden and labeled boxes and their
    outcomes, for the drill-down pages that draw them."""
    # only the images of the boxes a drill-down page can show are read further: at most
    # ERRORS_SHOWN per cell, the first by image and label (what the SQL below keeps too)
    images = _shown_images(outcomes)
    keep = pa.array(images, pa.int64())
    con.register("gt", outcomes.gt.filter(pc.is_in(outcomes.gt.column("image"), keep)))
    con.register("pr", outcomes.pr.filter(pc.is_in(outcomes.pr.column("image"), keep)))
    con.register("box_anns", outcomes.anns.filter(pc.is_in(outcomes.anns.column("image"), keep)))
    rows = con.sql(
        _BOX_ERRORS, params={"n": ERRORS_SHOWN, "background": scoring.BACKGROUND}
    ).to_arrow_table()
    for name in ("gt", "pr", "box_anns"):
        con.unregister(name)
    out = []
    for row in rows.to_pylist():
        if row["outcome"] == "mislocated" and row["iou"] is not None:
            row["outcome"] = f"mislocated (IoU {row['iou']:.2f})"
        out.append({k: v for k, v in row.items() if k != "iou"})
    return out


def _trend(units: scoring.Units, created: dict[str, str], key: str) -> list[dict[str, Any]]:
    """The source's quality per delivery (batch), oldest first."""
    out = []
    for batch in sorted(set(units.batch.tolist())):
        mine = units.batch == batch
        den = units.den[mine].sum()
        out.append(
            {
                "batch": batch,
                "created": created.get(batch, ""),
                "annotations": int(mine.sum()),
                key: float(units.num[mine].sum() / den) if den else None,
            }
        )
    return out


def _version_warnings(
    ws: Repo, guideline: str, golden: dict[str, Any], results: dict, task: str, classes
) -> list[str]:
    """Warn when a source's labels follow other instructions than the golden set on some
    classes, and split its quality into the unaffected and the affected classes."""

    steps = Coverage(ws, guideline, [])
    made = golden["guideline_version"]
    grouped: dict[tuple, list[str]] = {}
    for source, result in results.items():
        others = [v for v in result["guideline_versions"] if v != made]
        affected = sorted({c for v in others for c in steps.affected(made, v)})
        if not affected:
            continue
        result["split"] = {
            "affected": scoring.split(result["per_class"], set(affected) & set(classes), task),
            "unaffected": scoring.split(result["per_class"], set(classes) - set(affected), task),
        }
        grouped.setdefault((tuple(others), tuple(affected)), []).append(source)
    warnings = []
    for (others, affected), sources in grouped.items():
        newest = others[-1]
        warnings.append(
            f"golden set {golden['name']} v{golden['version']} was made under {guideline} {made}, "
            f"but labels of {', '.join(sources)} were made under {', '.join(others)}; the "
            f"releases between them changed {', '.join(affected)}, so on those classes the "
            "golden and the labels follow different instructions. The split scores them on the "
            f"other classes; or add a golden version made under {newest} (`labelspec golden add "
            f"... --guideline {guideline}@{newest}`) and score against it"
        )
    return warnings


def bakeoff(
    ws: Repo,
    dataset: str,
    golden: str = "golden",
    sources: list[str] | None = None,
    weights: dict[str, float] | None = None,
    iou: float = 0.5,
    snapshot: str | None = None,
    boot: int = 2000,
    seed: int = 0,
    labels: str = "delivered",
) -> dict[str, Any]:

    scored = open_scored(ws, dataset, snapshot, labels)
    con, snap = scored.con, scored.snapshot
    gold, version = golden_at(ws, dataset, golden, snap.commit)
    guideline = dataset_guideline(ws, dataset)
    spec = spec_at(ws, guideline, version.guideline_version)
    if spec.task not in TASKS:
        raise InputError(
            "bake-offs of multilabel guidelines are not supported yet; score them as classification per class"
        )
    con.register("g", gold)
    con.register("codes", pa.table({"class": spec.class_ids, "code": range(len(spec.class_ids))}))
    # every figure below is about golden items: their labels are read (and the supersedes
    # resolved) once, not in each of the dozen queries per source
    con.execute(
        """create temp table scored_on_golden as
           select * from scored semi join (select distinct item_id from g) using (item_id);
           create or replace temp view scored as select * from scored_on_golden"""
    )
    present = {
        s: {"labels": n, "items": items}
        for s, n, items in con.execute(
            """select source, count(*), count(distinct item_id) from scored
               where item_id in (select item_id from g) group by 1 order by 1"""
        ).fetchall()
    }
    delivered = {b.source for b in snap.batches if not b.plan}
    chosen = sources or [s for s in present if s in delivered]
    missing = [s for s in chosen if s not in present]
    if missing:
        raise InputError(
            f"no labels on golden items from {', '.join(missing)} (sources with some: {', '.join(present) or 'none'})"
        )
    if not chosen:
        hint = f" (only {', '.join(present)}: name them with --sources)" if present else ""
        raise InputError(
            f"no delivered labels on the {version.items} items of golden set {golden}{hint}"
        )
    weights = weights or dict(DEFAULT_WEIGHTS)
    quality_key = "accuracy" if spec.task == "classification" else "f1"
    created = {b.id: b.created for b in snap.batches}
    reviews = reviewed.register(ws, con, dataset, snap.commit)
    review_rates = reviewed.rates(con, ["source"]) if reviews else {}
    results: dict[str, dict[str, Any]] = {}
    units: dict[str, scoring.Units] = {}
    with progress(f"bake-off of {len(chosen)} source(s)", total=len(chosen) + 1) as advance:
        for source in chosen:
            score = _score(con, spec.task, source, spec.class_ids, iou, boot, seed)
            versions = [
                r[0]
                for r in con.execute(
                    """select distinct guideline_version from scored
                       where source = ? and item_id in (select item_id from g) order by 1""",
                    [source],
                ).fetchall()
            ]
            if spec.task == "classification":
                score.figures["errors"] = _errors(con, source)
            elif spec.task == "detection":
                score.figures["errors"] = _box_errors(con, score.boxes)
            results[source] = {
                **score.figures,
                "items": present[source]["items"],
                **speed_and_cost(con, source, score.correct_priced),
                "guideline_versions": versions,
                "trend": _trend(score.units, created, quality_key),
                **review_rates.get((source,), reviewed.EMPTY),
            }
            units[source] = score.units
            advance(1)
        # boot=0: the figures without their intervals (no resampling at all)
        intervals = ranking.score_intervals(units, weights, n=boot, seed=seed) if boot else {}
        advance(1)
    golden_info = {
        "name": golden.partition("@")[0],
        "version": version.version,
        "batch": version.batch,
        "items": version.items,
        "labels": version.labels,
        "guideline_version": version.guideline_version,
        "created": version.created,
    }
    ranked = ranking.rank(results, weights, quality_key)
    for entry in ranked:
        entry["score_ci"] = intervals.get(entry["source"])
    order = [e["source"] for e in ranked]
    by_quality = sorted(order, key=lambda s: -(results[s].get(quality_key) or 0.0))
    quality_cis = {s: results[s].get(f"{quality_key}_ci") for s in order}
    return {
        "dataset": dataset,
        "snapshot": {"name": snap.name, "commit": snap.commit, "date": scored.date},
        "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "labels": labels,
        "golden": golden_info,
        "guideline": {
            "name": guideline,
            "versions": sorted({v for r in results.values() for v in r["guideline_versions"]}),
        },
        "task": spec.task,
        "quality": quality_key,
        "weights": weights,
        "boot": boot,
        "seed": seed,
        "iou": iou if spec.task == "detection" else None,
        "reviews": reviews,
        "sources": results,
        "not_ranked": {s: v for s, v in present.items() if s not in chosen},
        "ranking": ranked,
        "verdict": {
            "score": ranking.verdict(order, intervals, "the ranking score"),
            "quality": ranking.verdict(by_quality, quality_cis, quality_key),
            "overlapping": ranking.overlapping(order, intervals),
        },
        "warnings": _version_warnings(
            ws, guideline, golden_info, results, spec.task, spec.class_ids
        ),
        "notes": _notes(labels, present, chosen, results, version.items, delivered),
    }


def _notes(
    labels: str, present: dict, chosen: list[str], results: dict, items: int, delivered: set[str]
) -> list[str]:
    """What a reader must know to compare the rows fairly; why each unranked source is."""
    notes = []
    if labels == "current":
        short = [s for s in chosen if results[s]["items"] < items]
        notes.append(
            "scored on the snapshot's current labels: labels a relabel superseded are not counted"
            + (f" ({', '.join(short)} cover fewer than the {items} golden items)" if short else "")
        )
    else:
        notes.append(
            "each source is scored on the labels it delivered, including those a relabel "
            "superseded since"
        )
    if any(results[s]["empty_answers"] for s in chosen):
        notes.append(
            f"{scoring.EMPTY_ANSWERS_PER_HOUR}; it is a priced label in $/label too, and a correct "
            "one in $/correct on a golden item with no objects"
        )
    for source, seen in present.items():
        if source not in chosen:
            why = (
                "left out by --sources"
                if source in delivered
                else "a second pass over chosen items is no delivery to compare"
            )
            notes.append(
                f"{source}: {seen['labels']} label(s) on {seen['items']} golden item(s) are not "
                f"ranked ({why}); name it in --sources to score it"
            )
    return notes
