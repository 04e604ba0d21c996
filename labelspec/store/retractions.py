"""Retractions: the one way a label batch leaves the current labels.

``datasets/<name>/retractions.jsonl`` holds one record per retracted batch (batch id, reason,
date, its label count and source, the commit that added it), appended by ``labels retract``
and git-merged with ``merge=union``. Retracting takes the batch's ``.dvc`` record out of the
tree (the current labels are the batches in the tree), while its record stays in git history
and its bytes in the DVC cache; ``verify`` accepts a batch missing from the tree only when
this file says why.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labelspec.labelers.events import parse_lines, read_lines
from labelspec.repo import Repo

RETRACTIONS = "retractions.jsonl"
UNION_LINE = "datasets/*/retractions.jsonl merge=union"


def retractions_path(ws: Repo, dataset: str) -> Path:
    return ws.dataset_dir(dataset) / RETRACTIONS


def retractions(ws: Repo, dataset: str) -> dict[str, dict[str, Any]]:
    """batch id -> its retraction record, from the working copy (HEAD after any write)."""

    path = retractions_path(ws, dataset)
    return {
        str(record.get("batch")): record for _number, record in read_lines(path, ws.relpath(path))
    }


def retractions_at(ws: Repo, dataset: str, rev: str) -> list[dict[str, Any]]:
    """The retraction records at revision ``rev``, in file order, each with the ``commit`` that
    appended it and ``by``, that commit's author (who retracted: records do not name them)."""

    path = retractions_path(ws, dataset)
    origins = ws.git.line_origins(rev, path)
    text = "\n".join(line for _commit, _author, line in origins)
    return [
        {**record, "commit": origins[number - 1][0], "by": origins[number - 1][1]}
        for number, record in parse_lines(text, ws.relpath(path))
    ]
