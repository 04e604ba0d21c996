"""Relabel plans as recorded: where they live, how one is read, and how far each has come.

A plan lives in ``datasets/<name>/relabel/<plan id>.json`` (committed), so merges and status
work from any clone; closings are lines of ``relabel/closed.jsonl`` beside it (``closings``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from labelspec import nesting
from labelspec.errors import ConflictError, InputError, NotFoundError
from labelspec.lineage.closings import closings, record_closing
from labelspec.repo import Repo
from labelspec.store.query import connect
from labelspec.store.snapshots import snapshot as snapshot_at
from labelspec.transaction import transaction


def plans_dir(ws: Repo, dataset: str) -> Path:
    return ws.dataset_dir(dataset) / "relabel"


def load_plan(ws: Repo, dataset: str, ref: str | Path) -> dict[str, Any]:
    """A plan by id (rp-...), or by the path of a plan.json written by ``relabel plan``; with
    ``closed`` (when it was closed, from ``closed.jsonl``) once it is closed."""
    path = Path(ref)
    if not path.is_file():
        path = plans_dir(ws, dataset) / f"{ref}.json"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in plans_dir(ws, dataset).glob("*.json"))) or "none"
        raise NotFoundError(f"no relabel plan {ref!r} for dataset {dataset!r} (plans: {known})")
    plan = read_plan_file(path)
    if plan["dataset"] != dataset:
        raise InputError(f"{path} is a plan for dataset {plan['dataset']!r}, not {dataset!r}")
    if path.resolve().parent == plans_dir(ws, dataset).resolve() and plan["plan"] != path.stem:
        # push records the project in relabel/<plan>.json: another file would be written
        raise InputError(
            f"{path}: field `plan` is {plan['plan']!r}, not the file's name {path.stem!r} "
            f"(restore it from git: `git checkout -- {path}`)"
        )
    closed = plan.get("closed") or closings(ws, dataset).get(plan["plan"])
    return {**plan, "closed": closed} if closed else plan


# What the readers of a plan use (``relabel plan`` writes all of it; ``relabel push`` adds
# ``labelstudio``): a missing or mistyped field is refused when the file is read, naming it.
# ``closed``: only in plans closed before closings moved to closed.jsonl (still honoured).
REQUIRED: dict[str, type] = {
    "plan": str,
    "dataset": str,
    "guideline": str,
    "version": str,
    "created": str,
    "items": list,
}
OPTIONAL: dict[str, type] = {"labelstudio": dict, "images": dict, "closed": str}
REQUIRED_IN = {
    "items": {"item_id": str, "annotations": list},
    "labelstudio": {"url": str, "project": int},
}
TYPE_NAMES = {str: "a string", list: "a list", dict: "an object", int: "an integer"}


def read_plan_file(path: Path) -> dict[str, Any]:
    """A plan file's record, checked for the fields its readers use: a file that is not JSON,
    lacks a field or has one of the wrong type is an ``InputError`` naming the file and field."""
    fix = f"restore it from git (`git checkout -- {path}`) or make a new plan with `labelspec relabel plan`"
    plan = nesting.read_json_file(path, fix, "a valid plan file")
    if not isinstance(plan, dict):
        raise InputError(f"{path}: not a relabel plan: a JSON object with `items` ({fix})")
    problems = _field_problems(plan, REQUIRED, required=True)
    problems += _field_problems(plan, OPTIONAL, required=False)
    for n, entry in enumerate(plan["items"] if isinstance(plan.get("items"), list) else []):
        if not isinstance(entry, dict):
            problems.append(f"`items[{n}]` is not an object")
        else:
            problems += _field_problems(entry, REQUIRED_IN["items"], True, f"items[{n}].")
    if isinstance(plan.get("labelstudio"), dict) and plan["labelstudio"]:
        problems += _field_problems(
            plan["labelstudio"], REQUIRED_IN["labelstudio"], True, "labelstudio."
        )
    if problems:
        more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
        raise InputError(
            f"{path}: not a usable relabel plan: {'; '.join(problems[:5])}{more} ({fix})"
        )
    return plan


def _field_problems(
    record: dict, fields: dict[str, type], required: bool, where: str = ""
) -> list[str]:
    problems = []
    for key, kind in fields.items():
        if key not in record or (record[key] is None and not required):
            if required:
                problems.append(f"missing field `{where}{key}`")
            continue
        value = record[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            problems.append(f"field `{where}{key}` is {_json_type(value)}, not {TYPE_NAMES[kind]}")
    return problems


def _json_type(value: Any) -> str:
    names = {bool: "a boolean", type(None): "null", float: "a number", int: "an integer"}
    return names.get(type(value)) or TYPE_NAMES.get(type(value), type(value).__name__)


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
                "closed": record.get("closed"),
            }
        )
    return rows


def open_items(ws: Repo, dataset: str) -> dict[str, list[str]]:
    """item -> the plans it still waits in: plans not closed, items no merge has answered. A
    new plan leaves these alone (``relabel plan``): two open plans over one item would ask for
    two answers to one question."""
    records = [load_plan(ws, dataset, p) for p in sorted(plans_dir(ws, dataset).glob("*.json"))]
    return _waiting(ws, dataset, [r for r in records if not r.get("closed")])


def _waiting(ws: Repo, dataset: str, records: list[dict[str, Any]]) -> dict[str, list[str]]:
    """item -> which of these plans' records still wait on it (no answer to it merged)."""
    if not records:
        return {}
    snap = snapshot_at(ws, dataset)
    wanted = {r["plan"] for r in records}
    plan_of = {b.id: b.plan for b in snap.batches if b.plan in wanted}
    answered: set[tuple[str, str]] = set()
    if plan_of:
        rows = connect(ws, dataset, snap).execute(
            "select distinct batch_id, item_id from labels_all where batch_id in (select unnest(?))",
            [list(plan_of)],
        )
        answered = {(plan_of[batch], item) for batch, item in rows.fetchall()}
    waiting: dict[str, list[str]] = {}
    for record in records:
        for entry in record["items"]:
            if (record["plan"], entry["item_id"]) not in answered:
                waiting.setdefault(entry["item_id"], []).append(record["plan"])
    return waiting


def close(ws: Repo, dataset: str, plan_ref: str | Path) -> dict[str, Any]:
    """Close a plan: its open items are released (a new plan may take them) and answers to it
    are no longer merged. One line appended to ``closed.jsonl``, in one commit; the plan's file
    is left as it is. Closing a closed plan changes nothing (``already``: True)."""
    record = load_plan(ws, dataset, plan_ref)
    if record.get("closed"):
        return {
            "plan": record["plan"],
            "closed": record["closed"],
            "released": 0,
            "commit": None,
            "already": True,
        }
    released = len(_waiting(ws, dataset, [record]))
    closed = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    message = f"relabel close {record['plan']}: {released} open item(s) released"
    with transaction(ws, message) as tx:
        record_closing(ws, tx, dataset, record["plan"], closed)
    return {
        "plan": record["plan"],
        "closed": closed,
        "released": released,
        "commit": tx.commit,
        "already": False,
    }


def refuse_closed(record: dict[str, Any], refused: str = "its answers are not merged") -> None:
    """A closed plan takes no answers, nor pushes: its items may be in a newer plan by now."""
    if record.get("closed"):
        raise ConflictError(
            f"relabel plan {record['plan']} was closed on {record['closed']}: {refused} (its "
            f"items may be in a newer plan: see `labelspec relabel status {record['dataset']}`)"
        )
