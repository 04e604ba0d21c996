"""``relabel plan``: a queue from a guideline's impact (or from rejected reviews, undecided
items), ranked and written for the labeling tool (``--out``), recorded in one commit.

The plan's record is in ``labelspec.lineage.plans``; ``merge`` brings the answers back.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import hashlib
import io
import json
import random
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from labelspec import nesting
from labelspec.errors import ConflictError, InputError
from labelspec.formats import labelstudio, labelstudio_config
from labelspec.formats.labelstudio_config import CONTROL, GUIDE, IMAGE, REASON
from labelspec.guideline import instructions
from labelspec.guideline.releases import spec_at
from labelspec.lineage.plans import open_items, plans_dir, read_plan_file
from labelspec.lineage.predictions import box_item_scores, check_predictions, load_predictions
from labelspec.lineage.trace import SEGMENT_BASE, find_suspects
from labelspec.qa.box_issues import NO_ISSUE
from labelspec.repo import Repo
from labelspec.resolve.resolution import low_confidence_items
from labelspec.store.datasets import dataset_guideline
from labelspec.store.items import read_items
from labelspec.store.reviews import rejected_labels
from labelspec.store.schema import ITEM_BASE_COLUMNS, NO_OBJECTS
from labelspec.store.snapshots import snapshot as snapshot_at
from labelspec.transaction import transaction
from labelspec.yamlio import atomic_write_text

PRIORITIES = ("oldest", "random", "model")
# What the relabel tasks show before the labeler answers. Default none: a pre-filled answer
# anchors relabelers on the very label the plan doubts.
PREDICTIONS = ("none", "current", "model")
# What to do with items still open in another plan: two open plans ask one question twice.
PLANNED = ("refuse", "skip", "include")


# -- plan ---------------------------------------------------------------------------------------------
@dataclass
class PlanResult:
    plan_id: str
    version: str
    items: int
    out: Path
    files: list[str]
    plan_file: str
    commit: str

    def to_json(self) -> dict[str, Any]:
        return {
            "plan": self.plan_id,
            "version": self.version,
            "items": self.items,
            "out": str(self.out),
            "files": self.files,
            "plan_file": self.plan_file,
            "commit": self.commit,
        }


def _matches(segment: dict[str, Any], filters: dict[str, str]) -> bool:
    return all(str(segment.get(k)) == v for k, v in filters.items())


def plan(
    ws: Repo,
    dataset: str,
    guideline: str,
    out: Path | str,
    to: str | None = None,
    segments: dict[str, str] | None = None,
    limit: int | None = None,
    priority: str = "oldest",
    model_predictions: Path | str | None = None,
    seed: int = 0,
    from_resolve: str | None = None,
    min_confidence: float = 0.0,
    *,
    predictions: str = "none",
    image_url: str | None = None,
    local_files: Path | str | None = None,
    from_review: str | None = None,
    coco_images: Path | str | None = None,
    planned: str = "refuse",
) -> PlanResult:
    """Write a relabel plan for the labels a release makes suspect (or, ``from_resolve``, the
    items a resolution method could not decide with ``min_confidence``), and the tool's task
    files.

    ``predictions``: what the tasks pre-fill (``none``; ``current``, the item's current labels;
    ``model``, the top class of ``model_predictions``). ``image_url`` (a template with
    ``{path}``) or ``local_files`` (Label Studio's document root) make the images load.

    ``priority="model"``: class labels rank items by 1 - p(current label), highest first; boxes
    (``model_predictions`` a detector's boxes, ``coco_images`` naming COCO results' ids) rank
    items by their label quality score, lowest first, the kind of the worst box in the reasons
    (``labelspec.qa.box_issues``).

    An item still open in another plan (not closed, no answer merged): ``planned`` says
    whether it refuses the plan (``refuse``), is left out (``skip``) or is planned again
    (``include``; each answer still supersedes its labeler's earlier one, ``merge``)."""

    if priority not in PRIORITIES:
        raise InputError(f"--priority must be one of {', '.join(PRIORITIES)}")
    if predictions not in PREDICTIONS:
        raise InputError(f"--predictions must be one of {', '.join(PREDICTIONS)}")
    if planned not in PLANNED:  # before the suspects are searched for
        raise InputError(f"--planned must be one of {', '.join(PLANNED)}")
    for needs, wanted in (
        ("--priority model", priority == "model"),
        ("--predictions model", predictions == "model"),
    ):
        if wanted and not model_predictions:
            raise InputError(
                f"{needs} needs --model-predictions FILE (model class probabilities per item, "
                "or a detector's boxes for a detection guideline)"
            )
    if local_files is not None:
        local_files = Path(local_files).resolve() if str(local_files) else ws.root.resolve()
    image_source = labelstudio_config.image_sources(ws.root, image_url, local_files)
    if dataset_guideline(ws, dataset) != guideline:
        raise InputError(
            f"dataset {dataset!r} is labeled under {dataset_guideline(ws, dataset)!r}, not {guideline!r}"
        )
    waiting = open_items(ws, dataset)  # read once: the --out check and --planned use it
    _refuse_open_plan_folder(dataset, Path(out), waiting)
    filters = dict(segments or {})
    items_table = read_items(ws, dataset)
    keys = [
        *SEGMENT_BASE,
        "labeler_id",
        *(c for c in items_table.column_names if c not in ITEM_BASE_COLUMNS),
    ]
    unknown = [k for k in filters if k not in keys]
    if unknown:
        raise InputError(f"--segment {', '.join(unknown)}: segments are keyed by {', '.join(keys)}")
    found = find_suspects(
        ws, dataset, guideline, to=to, by=[k for k in filters if k not in SEGMENT_BASE]
    )
    version = found.target
    snapshot = snapshot_at(ws, dataset)
    spec = spec_at(ws, guideline, version)
    con = found.con
    where = " and ".join(f'"{k}"::VARCHAR = ${i}' for i, k in enumerate(filters, 1)) or "true"
    if from_resolve:
        _undecided_as_suspects(ws, dataset, con, from_resolve, min_confidence, snapshot.commit)
    if from_review:
        _rejected_as_suspects(ws, dataset, con, from_review, snapshot.commit)
    suspects = (
        con.sql(
            f"""
        select item_id, annotation_id, "class", labeler_id, guideline_version, created_at,
          case when kind = 'affected' and "class" is null
                 then 'no objects here, said under ' || guideline_version || ': classes changed since'
               when kind = 'affected' then 'class ' || "class" || ' changed since ' || guideline_version
               when kind = 'confusable' then 'class ' || "class" || ' is confusable with a changed class'
               when kind = 'undecided' then 'labels disagree: no {from_resolve} resolution at confidence {min_confidence}'
               when starts_with(kind, 'review: ') then substr(kind, 9)
               else 'labeler ' || labeler_id || ' was not trained on ' || guideline_version end as reason
        from suspect where {where} order by item_id, annotation_id
        """,
            params={str(i): v for i, v in enumerate(filters.values(), 1)},
        )
        .to_arrow_table()
        .to_pylist()
    )
    if not suspects:
        _refuse_unknown_segment_values(con, items_table, spec, filters)
        shown = ", ".join(f"{k}={v}" for k, v in filters.items())
        raise InputError(
            f"nothing to relabel: no suspect labels{' in segment ' + shown if shown else ''} "
            "(see `labelspec trace impact`)"
        )
    if planned != "include":
        suspects = _leave_planned_items(dataset, suspects, planned == "skip", waiting)
    if predictions == "model" and spec.task not in ("classification", "multilabel"):
        raise InputError(
            f"--predictions model pre-fills a class per item from class probabilities; a {spec.task} "
            "guideline needs boxes or spans: use --predictions current or none"
        )
    if coco_images is not None and spec.task != "detection":
        raise InputError(
            f"--coco-images names the images and categories of detector boxes; {guideline} is a "
            f"{spec.task} guideline, ranked by class probabilities"
        )
    worst: dict[str, tuple[float, str | None, float | None]] = {}
    if model_predictions and (priority == "model" or predictions == "model"):
        if spec.task == "detection":
            scored = sorted({r["annotation_id"] for r in suspects})
            worst = box_item_scores(dataset, con, spec, model_predictions, coco_images, scored)
        else:
            con.register("pred", load_predictions(Path(model_predictions), spec.class_ids))
            check_predictions(con, Path(model_predictions), spec, "nothing was planned")
    if priority == "model" and spec.task == "detection":
        scores = {item: score for item, (score, _, _) in worst.items()}
    elif priority == "model":
        con.register(
            "chosen",
            pa.Table.from_pylist(
                [{"item_id": r["item_id"], "class": r["class"]} for r in suspects]
            ),
        )
        scores = dict(
            con.execute(
                """select c.item_id, max(1 - coalesce(p.p, 0)) from chosen c
                   left join pred p on p.item_id = c.item_id and p.class = c."class"
                   where c.item_id in (select item_id from pred) group by 1"""
            ).fetchall()
        )
    else:
        scores = {}
    items: dict[str, dict[str, Any]] = {}
    for row in suspects:
        entry = items.setdefault(
            row["item_id"],
            {
                "item_id": row["item_id"],
                "reasons": set(),
                "annotations": set(),
                "current": [],
                "oldest": row["created_at"],
            },
        )
        entry["reasons"].add(row["reason"])
        entry["annotations"].add(row["annotation_id"])
        entry["current"].append(
            {
                "class": row["class"],
                "labeler": row["labeler_id"],
                "annotation_id": row["annotation_id"],
                "version": row["guideline_version"],
            }
        )
        if row["created_at"] and (entry["oldest"] is None or row["created_at"] < entry["oldest"]):
            entry["oldest"] = row["created_at"]
    for item_id, (_, kind, low) in worst.items():
        if item_id in items and kind not in (None, NO_ISSUE):
            items[item_id]["reasons"].add(f"model: {kind.replace('_', ' ')} (score {low:.2f})")
    ordered = _prioritise(
        list(items.values()), priority, scores, seed, lowest_first=spec.task == "detection"
    )
    if limit is not None:
        ordered = ordered[:limit]
    plan_id = f"rp-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
    record = {
        "plan": plan_id,
        "dataset": dataset,
        "guideline": guideline,
        "version": version,
        "snapshot": snapshot.commit,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "priority": priority,
        "segments": filters,
        "predictions": predictions,
        **(
            {"model_predictions": _file_record(Path(model_predictions))}
            if model_predictions
            else {}
        ),
        "images": _images_record(image_url, local_files),
        "items": [
            {
                "item_id": e["item_id"],
                "rank": rank,
                "score": scores.get(e["item_id"]),
                "reasons": sorted(e["reasons"]),
                "annotations": sorted(e["annotations"]),
                "current": e["current"],
            }
            for rank, e in enumerate(ordered, 1)
        ],
    }
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(record, indent=1, default=str) + "\n"
    # the outputs are staged in a hidden folder in --out and moved in once the plan is committed: a
    # failed plan leaves no task files that name a plan the history does not have
    staging = Path(tempfile.mkdtemp(prefix=".labelspec-plan-", dir=out))
    try:
        _write_outputs(
            ws, staging, text=text, record=record, con=con, ordered=ordered,
            items_table=items_table, spec=spec, snapshot=snapshot, predictions=predictions,
            image_source=image_source, model_predictions=model_predictions,
        )  # fmt: skip
        message = f"relabel plan {plan_id}: {len(ordered)} item(s) of {dataset} to label under {guideline} {version}"
        with transaction(ws, message) as tx:
            target = tx.write_text(plans_dir(ws, dataset) / f"{plan_id}.json", text)
            tx.move_after_commit(staging, PLAN_FILES)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    commit = tx.commit
    return PlanResult(
        plan_id, version, len(ordered), out, list(PLAN_FILES), ws.relpath(target), commit
    )


PLAN_FILES = (
    "plan.json",
    "tasks.labelstudio.json",
    "tasks.csv",
    "labeling-config.xml",
    "instructions.html",
    "cvat-guide.md",
)


def _write_outputs(
    ws, out: Path, *, text, record, con, ordered, items_table, spec, snapshot, predictions,
    image_source, model_predictions,
) -> None:  # fmt: skip
    """The plan's files for the labeling tool, written into ``out`` (the staging folder)."""
    atomic_write_text(out / "plan.json", text)
    plan_items = [e["item_id"] for e in ordered]
    labels = con.sql(
        "select * from labels where item_id in (select unnest($ids)) order by item_id, annotation_id, label_id",
        params={"ids": plan_items},
    ).to_arrow_table()
    labelstudio.write(
        labels,
        items_table,
        spec,
        out / "tasks.labelstudio.json",
        snapshot=f"labelspec current labels, {snapshot.name}",
        as_predictions=True,
        results=predictions == "current",
        image_source=image_source,
    )

    site_url = instructions.published_url(ws)
    model = _model_choices(con, spec) if predictions == "model" else None
    _annotate_tasks(
        out / "tasks.labelstudio.json",
        record,
        instructions.page_url(site_url, spec.guideline, spec.version) if site_url else "",
        model,
        Path(model_predictions).name if model_predictions else None,
    )
    atomic_write_text(
        out / "labeling-config.xml",
        labelstudio_config.labeling_config(spec, site_url, relabel=True),
    )
    atomic_write_text(
        out / "instructions.html", instructions.label_studio_instructions(spec, site_url)
    )
    atomic_write_text(out / "cvat-guide.md", instructions.cvat_guide(spec, site_url))
    atomic_write_text(out / "tasks.csv", _plan_csv(record, items_table))


def _refuse_unknown_segment_values(con, items_table: pa.Table, spec, filters: dict) -> None:
    """A segment value no current label (or item) has is a typo, not an empty segment: name it,
    with the nearest known value or the known ones."""
    problems = []
    for key, value in filters.items():
        if key in items_table.column_names:
            known = {str(v) for v in items_table.column(key).to_pylist() if v is not None}
        else:
            rows = con.execute(
                f'select distinct "{key}"::VARCHAR from labels where "{key}" is not null'
            )
            known = {r[0] for r in rows.fetchall()}
        if key == "class":
            known |= set(spec.class_ids)
        if value in known:
            continue
        close = difflib.get_close_matches(value, sorted(known), n=1, cutoff=0.6)
        listed = ", ".join(sorted(known)[:20]) or "none"
        hint = f"did you mean {close[0]}? known: {listed}" if close else f"known: {listed}"
        problems.append(f"unknown {key} {value!r} ({hint})")
    if problems:
        raise InputError(f"--segment: {'; '.join(problems)}; nothing was planned")


def _refuse_open_plan_folder(dataset: str, out: Path, waiting: dict[str, list[str]]) -> None:
    """--out holding a plan with open items would lose the task files its labelers work from."""
    existing = out / "plan.json"
    if not existing.is_file():
        return
    try:
        record = read_plan_file(existing)
    except InputError:
        return  # not a plan labelspec wrote: nothing to keep
    if record["dataset"] != dataset or record.get("closed"):
        return
    still = sum(record["plan"] in plans for plans in waiting.values())
    if still:
        raise ConflictError(
            f"--out {out} holds relabel plan {record['plan']}, {still} item(s) still open: give "
            f"another --out, or close that plan first (`labelspec relabel close {dataset} "
            f"{record['plan']}`); nothing was planned"
        )


def _leave_planned_items(
    dataset, suspects: list[dict], skip: bool, waiting: dict[str, list[str]]
) -> list[dict]:
    """The suspects whose items no open plan is waiting on; without ``skip``, any such item
    refuses the plan, naming the plans and their items."""
    taken = sorted({r["item_id"] for r in suspects if r["item_id"] in waiting})
    if not taken:
        return suspects
    if not skip:
        by_plan: dict[str, list[str]] = {}
        for item in taken:
            for plan_id in waiting[item]:
                by_plan.setdefault(plan_id, []).append(item)
        listed = "; ".join(
            f"{plan_id} ({len(items)}: {', '.join(items[:5])}{', ...' if len(items) > 5 else ''})"
            for plan_id, items in sorted(by_plan.items())
        )
        other = next(iter(by_plan)) if len(by_plan) == 1 else "PLAN"
        raise ConflictError(
            f"{len(taken)} item(s) of this plan are open in another relabel plan: {listed}. "
            f"Merge that plan's answers first (`labelspec relabel merge {dataset} {other} FILE`), "
            f"close a plan you give up (`labelspec relabel close {dataset} {other}`), or pass "
            "--planned skip (leave those items out) or --planned include; nothing was planned"
        )
    left = [r for r in suspects if r["item_id"] not in waiting]
    if not left:
        raise InputError(
            f"nothing to relabel: all {len(taken)} suspect item(s) are open in another relabel "
            f"plan (see `labelspec relabel status {dataset}`)"
        )
    return left


def _undecided_as_suspects(ws, dataset, con, method, min_confidence, commit) -> None:
    """Replace the suspects by the current labels of the items ``method`` leaves undecided."""

    items = low_confidence_items(ws, dataset, method, min_confidence, snapshot=commit)
    keys = list(con.sql("select * from suspect limit 0").columns)
    con.execute(
        "create or replace temp table undecided as select unnest($1::VARCHAR[]) as item_id", [items]
    )
    picked = ", ".join(
        "'undecided' as kind"
        if c == "kind"
        else ("false as untrained" if c == "untrained" else f'l."{c}"')
        for c in keys
    )
    con.execute(
        f"create or replace temp table suspect as select {picked} from labels l "
        "where l.item_id in (select item_id from undecided)"
    )


def _rejected_as_suspects(ws, dataset, con, review, commit) -> None:
    """Replace the suspects by what reviews found wrong (``review``: a review id, or ``all``
    for every recorded review; ``labelspec.store.reviews.rejected_labels``): each current label
    with a verdict other than accept, and for a missing object one label of its annotation, so
    the item is relabeled though no label is rejected. A label's reasons, joined, ride in
    ``kind`` as "review: ..." for ``plan`` to show."""

    rejected = rejected_labels(ws, dataset, commit, None if review == "all" else review)
    if rejected.num_rows == 0:
        raise InputError(
            "nothing to relabel: no current label is rejected and no missing object reported in "
            f"{'any review' if review == 'all' else review} (see `labelspec qa review list`)"
        )
    con.register("rejected", rejected.select(["label_id", "annotation_id", "reason"]))
    keys = list(con.sql("select * from suspect limit 0").columns)
    picked = ", ".join(
        "'review: ' || r.reasons as kind"
        if c == "kind"
        else ("false as untrained" if c == "untrained" else f'l."{c}"')
        for c in keys
    )
    con.execute(
        f"""
        create or replace temp table suspect as
        with found as (
          select coalesce(r.label_id, a.first_label) as label_id, r.reason
          from rejected r
          left join (select annotation_id, min(label_id) as first_label from labels group by 1) a
            using (annotation_id)
        ),
        per_label as (
          select label_id, string_agg(distinct reason, '; ' order by reason) as reasons
          from found group by label_id
        )
        select {picked} from labels l join per_label r using (label_id)
        """
    )


def _prioritise(
    entries: list[dict[str, Any]],
    priority: str,
    scores: dict[str, float],
    seed: int,
    lowest_first: bool = False,
) -> list[dict[str, Any]]:
    """Items in plan order. ``model``: by score, highest first (1 - p(label)), or lowest first
    (a label quality score, ``lowest_first``); items without a score last."""

    entries.sort(key=lambda e: e["item_id"])
    if priority == "random":
        random.Random(seed).shuffle(entries)
        return entries
    if priority == "model":
        sign = 1 if lowest_first else -1

        def key(entry):
            score = scores.get(entry["item_id"])
            return (score is None, 0.0 if score is None else sign * score, entry["item_id"])

        return sorted(entries, key=key)
    far_future = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted(entries, key=lambda e: (e["oldest"] or far_future, e["item_id"]))


def _file_record(path: Path) -> dict[str, str]:

    return {"file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def _images_record(image_url: str | None, local_files: Path | str | None) -> dict[str, str]:
    if image_url:
        return {"mode": "url", "template": image_url}
    if local_files is not None:
        return {
            "mode": "labelstudio-local-files",
            "document_root": str(Path(local_files).resolve()),
        }
    return {"mode": "path"}


def _model_choices(con, spec) -> dict[str, tuple[list[str], float]]:
    """item -> (classes, score) from the model's class probabilities: the top class (multilabel:
    every class at 0.5 or more, else the top one), scored by its probability."""
    rows = con.execute(
        'select item_id, "class", p from pred where p is not null order by item_id, p desc, "class"'
    ).fetchall()
    found: dict[str, tuple[list[str], float]] = {}
    for item_id, cls, p in rows:
        if item_id not in found:
            found[item_id] = ([cls], float(p))
        elif spec.task == "multilabel" and p >= 0.5 and found[item_id][1] >= 0.5:
            found[item_id][0].append(cls)
    return found


def _annotate_tasks(
    path: Path,
    record: dict[str, Any],
    guideline: str = "",
    model: dict[str, tuple[list[str], float]] | None = None,
    model_version: str | None = None,
) -> None:
    """Add the plan id, rank, reasons (and the guideline's links) to each task's data, for the
    labeler to see; with ``model``, the model's classes as the task's prediction."""

    by_item = {e["item_id"]: e for e in record["items"]}
    tasks = nesting.loads(path.read_text(), str(path))
    for task in tasks:
        entry = by_item.get(task.get("data", {}).get("item_id"))
        if entry:
            task["data"]["relabel_plan"] = record["plan"]
            task["data"][REASON] = "; ".join(entry["reasons"])
            task["data"]["priority"] = entry["rank"]
            if guideline:
                task["data"][GUIDE] = guideline
        if model is not None:
            found = model.get(task["data"]["item_id"])
            task["predictions"] = []
            if found:
                result = {
                    "from_name": CONTROL,
                    "to_name": IMAGE,
                    "type": "choices",
                    "value": {"choices": found[0]},
                }
                task["predictions"].append(
                    {
                        "model_version": model_version or "model",
                        "score": found[1],
                        "result": [result],
                    }
                )
    tasks.sort(key=lambda t: t.get("data", {}).get("priority", 0))
    atomic_write_text(path, json.dumps(tasks, indent=1) + "\n")


def _plan_csv(record: dict[str, Any], items: pa.Table) -> str:
    paths = dict(
        zip(items.column("item_id").to_pylist(), items.column("path").to_pylist(), strict=True)
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["rank", "item_id", "path", "current_classes", "labelers", "score", "reasons"])
    for e in record["items"]:
        writer.writerow(
            [
                e["rank"],
                e["item_id"],
                paths.get(e["item_id"]) or "",
                " ".join(sorted({c["class"] or NO_OBJECTS for c in e["current"]})),
                " ".join(sorted({c["labeler"] for c in e["current"]})),
                "" if e["score"] is None else f"{e['score']:.4f}",
                "; ".join(e["reasons"]),
            ]
        )
    return out.getvalue()
