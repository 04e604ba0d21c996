"""Coverage: does a labeler's training cover the guideline version they labeled under, and
who must be retrained after a release."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any

from labelspec.guideline.releases import affected_between, releases
from labelspec.labelers.roster import list_labelers
from labelspec.labelers.training import TrainingRecord, training_records
from labelspec.semver import Version
from labelspec.workspace import Workspace


# -- coverage: does a training record cover the version a label was made under? -----------------
class Coverage:
    """Answers "which passing record covers labeler L on version V" with cached release diffs.

    A pass on version X covers version V when no release step between them (in either
    direction) affects a class: every step counts, so a release that reverts an earlier change
    is a change too. A record covers only labels made on or after its date.
    """

    def __init__(self, ws: Workspace, guideline: str, records: list[TrainingRecord] | None = None):
        self.ws, self.guideline = ws, guideline
        records = training_records(ws) if records is None else records
        self.passed: dict[str, list[TrainingRecord]] = {}
        for record in records:
            if record.guideline == guideline and record.passed:
                self.passed.setdefault(record.labeler, []).append(record)
        self.versions = [r.version for r in releases(ws, guideline)]
        self._steps: dict[tuple[str, str], list[str]] = {}

    def affected(self, a: str, b: str) -> list[str]:
        """Classes some release step between versions ``a`` and ``b`` affects (either order)."""
        if a == b:
            return []
        lo, hi = sorted((a, b), key=Version.parse)
        if lo not in self.versions or hi not in self.versions:
            return affected_between(self.ws, self.guideline, lo, hi)  # names the unknown one
        found: set[str] = set()
        chain = self.versions[self.versions.index(lo) : self.versions.index(hi) + 1]
        for step in itertools.pairwise(chain):
            if step not in self._steps:
                self._steps[step] = affected_between(self.ws, self.guideline, *step)
            found.update(self._steps[step])
        return sorted(found)

    def covers(self, record: TrainingRecord, version: str) -> bool:
        return record.version == version or not self.affected(record.version, version)

    def candidates(self, labeler: str, version: str) -> list[TrainingRecord]:
        """The passing records that cover ``version``, best first: the exact version, then the
        newest version, then the newest date."""
        ranked = sorted(
            self.passed.get(labeler, []),
            key=lambda r: (r.version == version, Version.parse(r.version), r.date),
            reverse=True,
        )
        return [r for r in ranked if self.covers(r, version)]

    def record_for(
        self, labeler: str, version: str, on: dt.date | None = None
    ) -> TrainingRecord | None:
        """The best covering record dated on or before ``on`` (any date when None)."""
        return next(
            (r for r in self.candidates(labeler, version) if on is None or r.date <= on), None
        )


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
            # judged on the newest pass and every release after it
            changed = coverage.affected(newest.version, current) if newest and current else []
            covering = newest if newest and current and not changed else None
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
