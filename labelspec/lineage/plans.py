"""Relabel plans as recorded: where they live, how one is read, and how far each has come.

A plan lives in ``datasets/<name>/relabel/<plan id>.json`` (committed), so merges and status
work from any clone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from labelspec import nesting
from labelspec.errors import InputError, NotFoundError
from labelspec.repo import Repo
from labelspec.store.query import connect
from labelspec.store.snapshots import snapshot as snapshot_at


def plans_dir(ws: Repo, dataset: str) -> Path:
    return ws.dataset_dir(dataset) / "relabel"


def load_plan(ws: Repo, dataset: str, ref: str | Path) -> dict[str, Any]:
    """A plan by id (rp-...), or by the path of a plan.json written by ``relabel plan``."""
    path = Path(ref)
    if not path.is_file():
        path = plans_dir(ws, dataset) / f"{ref}.json"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in plans_dir(ws, dataset).glob("*.json"))) or "none"
        raise NotFoundError(f"no relabel plan {ref!r} for dataset {dataset!r} (plans: {known})")
    try:
        plan = nesting.loads(path.read_text(encoding="utf-8"), str(path))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: not a valid plan file: {exc.msg}") from exc
    if not isinstance(plan, dict) or not isinstance(plan.get("items"), list):
        raise InputError(f"{path}: not a relabel plan (a JSON object with `items`)")
    if plan.get("dataset") != dataset:
        raise InputError(f"{path} is a plan for dataset {plan.get('dataset')!r}, not {dataset!r}")
    return plan


def done_items(ws: Repo, dataset: str, plan_id: str, con=None) -> set[str]:

    snap = snapshot_at(ws, dataset)
    batches = [b.id for b in snap.batches if b.plan == plan_id]
    if not batches:
        return set()
    con = con or connect(ws, dataset, snap)
    rows = con.execute(
        "select distinct item_id from labels_all where batch_id in (select unnest(?))", [batches]
    ).fetchall()
    return {r[0] for r in rows}


def status(ws: Repo, dataset: str, snapshot: str | None = None) -> list[dict[str, Any]]:
    """Per plan: how many items are done and open, and who did them."""

    snap = snapshot_at(ws, dataset, snapshot)
    con = connect(ws, dataset, snap) if snap.batches else None
    rows = []
    for path in sorted(plans_dir(ws, dataset).glob("*.json")):
        record = load_plan(ws, dataset, path)
        batches = [b.id for b in snap.batches if b.plan == record["plan"]]
        by_labeler: dict[str, int] = {}
        done = 0
        if batches and con is not None:
            planned = [e["item_id"] for e in record["items"]]
            by_labeler = dict(
                con.execute(
                    "select labeler_id, count(distinct item_id) from labels_all where batch_id in (select unnest(?)) group by 1 order by 1",
                    [batches],
                ).fetchall()
            )
            done = con.execute(
                "select count(distinct item_id) from labels_all where batch_id in (select unnest(?)) and item_id in (select unnest(?))",
                [batches, planned],
            ).fetchall()[0][0]
        rows.append(
            {
                "plan": record["plan"],
                "guideline": record["guideline"],
                "version": record["version"],
                "created": record["created"],
                "items": len(record["items"]),
                "done": done,
                "open": len(record["items"]) - done,
                "by_labeler": by_labeler,
                "merges": len(batches),
            }
        )
    return rows
