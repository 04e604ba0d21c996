"""Training records: who passed or failed which guideline version, when, and how.

``labelers/training.jsonl`` holds one record per line, each with a unique id (random, so two
clones never mint the same one), appended by ``labeler train`` and ``labeler grade``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from labelspec.dates import GRACE, refuse_future
from labelspec.errors import ConflictError, InputError, VcsError, WorkspaceError
from labelspec.guideline.releases import get_release
from labelspec.labelers.events import dumps, parse_lines, read_lines
from labelspec.labelers.roster import get_labeler
from labelspec.repo import Repo
from labelspec.transaction import transaction

TRAINING = "labelers/training.jsonl"


class TrainingRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    labeler: str
    guideline: str
    version: str
    date: dt.date
    method: Literal["quiz", "session"]
    score: float = Field(ge=0, le=1)
    passed: bool
    quiz: str | None = None


def training_records(ws: Repo) -> list[TrainingRecord]:
    """Every record, by date then id (duplicated lines from a merge count once); read once per
    Repo."""
    return ws.memo(("training", ws.stamp(ws.root / TRAINING)), lambda: _training_records(ws))


def training_records_at(ws: Repo, rev: str | None) -> list[TrainingRecord]:
    """Every record present at commit ``rev`` (the working tree's when None): what coverage is
    judged from when a command reads an older revision."""
    if rev is None:
        return training_records(ws)
    try:
        text = ws.git.read_file(rev, ws.root / TRAINING).decode("utf-8")
    except VcsError:
        return []  # no record yet at that revision
    return _parsed(parse_lines(text, TRAINING))


def _training_records(ws: Repo) -> list[TrainingRecord]:
    return _parsed(read_lines(ws.root / TRAINING, TRAINING))


def _parsed(lines: list[tuple[int, dict]]) -> list[TrainingRecord]:
    records: dict[str, TrainingRecord] = {}
    for number, data in lines:
        try:
            record = TrainingRecord.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise WorkspaceError(f"{TRAINING}:{number}: {where}: {first['msg']}") from exc
        records.setdefault(record.id, record)
    return sorted(records.values(), key=lambda r: (r.date, r.id))


def new_record_id(labeler: str, guideline: str, version: str, date: dt.date, method: str) -> str:
    seed = f"{labeler}|{guideline}|{version}|{date}|{method}|{secrets.token_hex(8)}"
    return "tr-" + hashlib.sha256(seed.encode()).hexdigest()[:12]


def record_training(
    ws: Repo,
    labeler_id: str,
    guideline: str,
    version: str,
    method: str,
    score: float,
    passed: bool,
    date: dt.date | None = None,
    quiz: str | None = None,
) -> TrainingRecord:
    """Append one training record (the labeler and the released version must exist)."""

    if not 0 <= score <= 1:
        raise InputError(f"--score must be a fraction between 0 and 1 (got {score}); 92 % is 0.92")
    if date is not None:
        refuse_future(
            date,
            "a record covers the labels made on or after its date, so record a training once it "
            "has happened",
        )
    verdict = "passed" if passed else "failed"
    message = f"labelspec: {labeler_id} {verdict} {guideline} v{version} ({method} {score:.0%})"
    with transaction(ws, message) as tx:
        labeler = get_labeler(ws, labeler_id)
        if not labeler.active:
            raise ConflictError(
                f"labeler {labeler_id!r} is inactive; reactivate it with `labelspec labeler activate {labeler_id}`"
            )
        release = get_release(ws, guideline, version)
        date = date or dt.date.today()
        _refuse_before_release(date, guideline, version, release.record.get("date"))
        record = TrainingRecord(
            id=new_record_id(labeler_id, guideline, version, date, method),
            labeler=labeler_id,
            guideline=guideline,
            version=version,
            date=date,
            method=method,
            score=round(score, 4),
            passed=passed,
            quiz=quiz,
        )
        tx.append_line(ws.root / TRAINING, dumps(record.model_dump(mode="json")))
    return record


def _refuse_before_release(date: dt.date, guideline: str, version: str, released) -> None:
    """A training on a version happens once it is released (a day's grace: the release date
    is UTC); a record dated earlier would also cover labels made before the version existed."""
    if released and date < dt.date.fromisoformat(str(released)) - GRACE:
        raise InputError(
            f"--date {date} is before {guideline} {version} was released ({released}): a "
            f"training on {version} happens on or after its release; give the day it happened "
            "(labelers trained before a guideline was adopted: date its release when you make "
            "it, `guideline release --date`, or a hand-written spec's changelog entry before "
            "`--tag-current`)"
        )
