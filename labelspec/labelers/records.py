"""Labelers and their training records: who was trained on which guideline version, and who is
current after a release.

``labelers/roster.yaml`` holds pseudonymous ids (never names or e-mail addresses);
``labelers/training.yaml`` holds one record per quiz or session. Every write is committed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from ruamel.yaml.comments import CommentedMap

from labelspec import yamlio
from labelspec.errors import LabelspecError, NotFoundError, WorkspaceError
from labelspec.guideline.releases import affected_between, get_release, releases
from labelspec.semver import Version
from labelspec.vcs import Git
from labelspec.workspace import Workspace

LABELER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class Labeler(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    vendor: str
    team: str | None = None
    active: bool = True
    added: dt.date | None = None


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


def validate_labeler_id(labeler_id: str) -> None:
    if "@" in labeler_id:
        raise LabelspecError(
            f"{labeler_id!r} looks like an e-mail address; labeler ids are pseudonymous "
            "(for example vendor-a-017): keep personal data out of the repository"
        )
    if any(ch.isspace() for ch in labeler_id):
        raise LabelspecError(
            f"{labeler_id!r} contains spaces; use a pseudonymous id such as vendor-a-017"
        )
    if not LABELER_ID.match(labeler_id):
        raise LabelspecError(
            f"{labeler_id!r} is not a valid labeler id: use letters, digits, '.', '_' and '-' (at most 64)"
        )


class _RecordsFile:
    """A YAML file with one top-level list, edited round-trip so comments survive."""

    def __init__(self, ws: Workspace, rel: str, key: str, model: type[BaseModel]):
        self.ws, self.path, self.key, self.model = ws, ws.root / rel, key, model

    def load(self) -> tuple[yamlio.Document | None, list[Any]]:
        if not self.path.is_file():
            return None, []
        doc = yamlio.Document.load(self.path)
        items = (doc.data or {}).get(self.key) or []
        parsed = []
        for i, item in enumerate(items):
            try:
                parsed.append(self.model.model_validate(yamlio.to_plain(item)))
            except ValidationError as exc:
                line, _ = yamlio.locate(doc.data, (self.key, i))
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"])
                raise WorkspaceError(
                    f"{self.ws.relpath(self.path)}:{line}: {self.key}[{i}].{where}: {first['msg']}"
                ) from exc
        return doc, parsed

    def items(self) -> list[Any]:
        return self.load()[1]

    def save(self, doc: yamlio.Document | None, message: str, git: Git) -> None:
        if doc is None:
            doc = yamlio.Document.from_text(f"{self.key}: []\n", self.path)
        try:
            doc.save()
            git.commit(message, paths=[self.path])
        except BaseException:
            if self.path.exists() and git.head():
                with contextlib.suppress(LabelspecError):
                    git.restore([self.path])
            raise


def _flow(data: dict[str, Any]) -> CommentedMap:
    node = CommentedMap((k, v) for k, v in data.items() if v is not None)
    node.fa.set_flow_style()
    return node


def _append(doc: yamlio.Document | None, path, key: str, item: dict[str, Any]) -> yamlio.Document:
    if doc is None or not isinstance(doc.data, dict):
        doc = yamlio.Document.from_text(f"{key}: []\n", path)
    if doc.data.get(key) is None or doc.data[key] == []:
        from ruamel.yaml.comments import CommentedSeq

        doc.data[key] = CommentedSeq()
    doc.data[key].append(_flow(item))
    return doc


def roster(ws: Workspace) -> _RecordsFile:
    return _RecordsFile(ws, "labelers/roster.yaml", "labelers", Labeler)


def training(ws: Workspace) -> _RecordsFile:
    return _RecordsFile(ws, "labelers/training.yaml", "records", TrainingRecord)


def list_labelers(ws: Workspace, include_inactive: bool = True) -> list[Labeler]:
    return [lab for lab in roster(ws).items() if include_inactive or lab.active]


def get_labeler(ws: Workspace, labeler_id: str) -> Labeler:
    for labeler in list_labelers(ws):
        if labeler.id == labeler_id:
            return labeler
    raise NotFoundError(
        f"no labeler {labeler_id!r} in labelers/roster.yaml (add it with `labelspec labeler add`)"
    )


def add_labeler(ws: Workspace, labeler_id: str, vendor: str, team: str | None = None) -> Labeler:
    validate_labeler_id(labeler_id)
    if not vendor.strip():
        raise LabelspecError("--vendor must not be empty")
    with ws.lock(), Git(ws.root) as git:
        store = roster(ws)
        doc, existing = store.load()
        if any(lab.id == labeler_id for lab in existing):
            raise LabelspecError(f"labeler {labeler_id!r} already exists in labelers/roster.yaml")
        labeler = Labeler(
            id=labeler_id, vendor=vendor, team=team, active=True, added=dt.date.today()
        )
        doc = _append(doc, store.path, "labelers", labeler.model_dump())
        store.save(doc, f"labelspec: add labeler {labeler_id} ({vendor})", git)
    return labeler


def deactivate_labeler(ws: Workspace, labeler_id: str) -> Labeler:
    with ws.lock(), Git(ws.root) as git:
        store = roster(ws)
        doc, existing = store.load()
        index = next((i for i, lab in enumerate(existing) if lab.id == labeler_id), None)
        if index is None:
            raise NotFoundError(f"no labeler {labeler_id!r} in labelers/roster.yaml")
        if not existing[index].active:
            raise LabelspecError(f"labeler {labeler_id!r} is already inactive")
        doc.data["labelers"][index]["active"] = False
        store.save(doc, f"labelspec: deactivate labeler {labeler_id}", git)
        return existing[index].model_copy(update={"active": False})


def training_records(ws: Workspace) -> list[TrainingRecord]:
    return training(ws).items()


def _record_id(
    labeler: str, guideline: str, version: str, date: dt.date, method: str, n: int
) -> str:
    seed = f"{labeler}|{guideline}|{version}|{date}|{method}|{n}"
    return "tr-" + hashlib.sha256(seed.encode()).hexdigest()[:10]


def record_training(
    ws: Workspace,
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
        raise LabelspecError(
            f"--score must be a fraction between 0 and 1 (got {score}); 92 % is 0.92"
        )
    with ws.lock(), Git(ws.root) as git:
        labeler = get_labeler(ws, labeler_id)
        if not labeler.active:
            raise LabelspecError(
                f"labeler {labeler_id!r} is inactive; reactivate it in labelers/roster.yaml first"
            )
        get_release(ws, guideline, version)
        store = training(ws)
        doc, existing = store.load()
        date = date or dt.date.today()
        record = TrainingRecord(
            id=_record_id(labeler_id, guideline, version, date, method, len(existing)),
            labeler=labeler_id,
            guideline=guideline,
            version=version,
            date=date,
            method=method,
            score=round(score, 4),
            passed=passed,
            quiz=quiz,
        )
        doc = _append(doc, store.path, "records", record.model_dump())
        verdict = "passed" if passed else "failed"
        store.save(
            doc,
            f"labelspec: {labeler_id} {verdict} {guideline} v{version} ({method} {score:.0%})",
            git,
        )
    return record


# -- coverage: does a training record cover the version a label was made under? -----------------
class Coverage:
    """Answers "which passing record covers labeler L on version V" with cached release diffs.

    A pass on version X covers version V when no release between them (either direction) changed
    any class: the instructions the labeler learnt are still the ones in force.
    """

    def __init__(self, ws: Workspace, guideline: str, records: list[TrainingRecord] | None = None):
        self.ws, self.guideline = ws, guideline
        records = training_records(ws) if records is None else records
        self.passed: dict[str, list[TrainingRecord]] = {}
        for record in records:
            if record.guideline == guideline and record.passed:
                self.passed.setdefault(record.labeler, []).append(record)
        self._affected: dict[tuple[str, str], list[str]] = {}

    def affected(self, a: str, b: str) -> list[str]:
        key = tuple(sorted((a, b)))
        if key not in self._affected:
            self._affected[key] = affected_between(self.ws, self.guideline, a, b)
        return self._affected[key]

    def record_for(self, labeler: str, version: str) -> TrainingRecord | None:
        """The best passing record that covers ``version``: exact version first, newest first."""
        candidates = sorted(
            self.passed.get(labeler, []),
            key=lambda r: (r.version == version, Version.parse(r.version), r.date),
            reverse=True,
        )
        for record in candidates:
            if record.version == version or not self.affected(record.version, version):
                return record
        return None


@dataclass
class StatusRow:
    labeler: str
    vendor: str
    guideline: str
    current: str | None
    certified: str | None
    record: str | None
    covered: bool
    changed_since: list[str] = field(default_factory=list)

    @property
    def action(self) -> str:
        if self.current is None:
            return "no release yet"
        if self.certified is None:
            return "train"
        return "ok" if self.covered else "retrain"

    def to_dict(self) -> dict[str, Any]:
        return {
            "labeler": self.labeler,
            "vendor": self.vendor,
            "guideline": self.guideline,
            "current": self.current,
            "certified": self.certified,
            "record": self.record,
            "covered": self.covered,
            "changed_since": self.changed_since,
            "action": self.action,
        }


def status(ws: Workspace, guideline: str | None = None) -> list[StatusRow]:
    """For each active labeler and guideline: newest pass, whether it covers the current release."""
    names = [guideline] if guideline else ws.guideline_names()
    if guideline:
        ws.spec_path(guideline)
    records = training_records(ws)
    rows = []
    for name in names:
        released = releases(ws, name)
        current = released[-1].version if released else None
        coverage = Coverage(ws, name, records)
        for labeler in list_labelers(ws, include_inactive=False):
            passes = sorted(
                coverage.passed.get(labeler.id, []),
                key=lambda r: (Version.parse(r.version), r.date),
            )
            newest = passes[-1] if passes else None
            covering = coverage.record_for(labeler.id, current) if current and newest else None
            changed = coverage.affected(newest.version, current) if newest and current else []
            rows.append(
                StatusRow(
                    labeler=labeler.id,
                    vendor=labeler.vendor,
                    guideline=name,
                    current=current,
                    certified=newest.version if newest else None,
                    record=(covering or newest).id if newest else None,
                    covered=covering is not None,
                    changed_since=changed,
                )
            )
    return rows
