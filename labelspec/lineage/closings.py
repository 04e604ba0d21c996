"""Closed relabel plans: ``datasets/<name>/relabel/closed.jsonl``, one line per ``relabel close``.

The file is append-only and git merges it with ``merge=union`` (as ``retractions.jsonl``), so a
close in one clone merges with a plain ``git pull`` against a push (which records the project in
the plan's file) or another close of the same plan in a second clone: a close never rewrites a
plan's file. A plan is closed when any line names it; the earliest date wins, so a line a merge
brought twice, or two clones' closes of one plan, count once.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from labelspec.errors import WorkspaceError
from labelspec.labelers.events import dumps, read_lines
from labelspec.repo import Repo

CLOSED = "closed.jsonl"
UNION_LINE = "datasets/*/relabel/closed.jsonl merge=union"


def closed_path(ws: Repo, dataset: str) -> Path:
    return ws.dataset_dir(dataset) / "relabel" / CLOSED


def closings(ws: Repo, dataset: str) -> dict[str, str]:
    """plan id -> when it was closed (the earliest line naming it), as the working copy has it."""
    path = closed_path(ws, dataset)
    return ws.memo(("relabel closings", path, ws.stamp(path)), lambda: _read(ws, path))


def _read(ws: Repo, path: Path) -> dict[str, str]:
    rel = ws.relpath(path)
    earliest: dict[str, tuple[dt.datetime, str]] = {}
    for number, record in read_lines(path, rel):
        plan, closed = record.get("plan"), record.get("closed")
        when = _timestamp(closed)
        if not isinstance(plan, str) or when is None:
            raise WorkspaceError(
                f'{rel}:{number}: not a closing: each line is {{"plan": ID, "closed": UTC '
                f"timestamp}}, this one has plan {plan!r} and closed {closed!r} (restore the "
                f"file from git: `git log -p -- {rel}`)"
            )
        if plan not in earliest or when < earliest[plan][0]:
            earliest[plan] = (when, closed)
    return {plan: text for plan, (_when, text) in earliest.items()}


def _timestamp(value: object) -> dt.datetime | None:
    """An ISO timestamp with its zone (comparable with any other), else None."""
    if not isinstance(value, str):
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


def record_closing(ws: Repo, tx, dataset: str, plan_id: str, closed: str) -> None:
    """Append the closing, and the union merge for it to ``.gitattributes`` (workspaces made
    before the template had it get it with their first close)."""
    tx.append_line(closed_path(ws, dataset), dumps({"plan": plan_id, "closed": closed}))
    attributes = ws.root / ".gitattributes"
    text = attributes.read_text(encoding="utf-8") if attributes.is_file() else ""
    if UNION_LINE not in text.splitlines():
        head = text if not text or text.endswith("\n") else text + "\n"
        tx.write_text(attributes, head + UNION_LINE + "\n")
