"""Coverage: does a labeler's training cover the guideline version they labeled under, and
who must be retrained after a release."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from labelspec.guideline.diff import Scope, SpecDiff, merge_scopes
from labelspec.guideline.releases import diff, releases
from labelspec.labelers.roster import list_labelers
from labelspec.labelers.training import TrainingRecord, training_records
from labelspec.repo import Repo
from labelspec.semver import Version

if TYPE_CHECKING:
    import pyarrow as pa  # lazy: only cover_table builds Arrow


# -- coverage: does a training record cover the version a label was made under? -----------------
class Coverage:
    """Answers "which passing record covers labeler L on version V" with cached release diffs.

    A pass on version X covers version V when no release step between them (in either
    direction) affects a class: every step counts, so a release that reverts an earlier change
    is a change too. A record covers only labels made on or after its date.
    """

    def __init__(self, ws: Repo, guideline: str, records: list[TrainingRecord] | None = None):
        self.ws, self.guideline = ws, guideline
        records = training_records(ws) if records is None else records
        self.passed: dict[str, list[TrainingRecord]] = {}
        for record in records:
            if record.guideline == guideline and record.passed:
                self.passed.setdefault(record.labeler, []).append(record)
        self.versions = [r.version for r in releases(ws, guideline)]
        self._steps: dict[tuple[str, str], SpecDiff] = {}

    def _diffs(self, a: str, b: str) -> list[SpecDiff]:
        """The diff of every release step between versions ``a`` and ``b`` (either order)."""
        if a == b:
            return []
        lo, hi = sorted((a, b), key=Version.parse)
        if lo not in self.versions or hi not in self.versions:
            return [diff(self.ws, self.guideline, lo, hi)]  # names the unknown one
        chain = self.versions[self.versions.index(lo) : self.versions.index(hi) + 1]
        for step in itertools.pairwise(chain):
            if step not in self._steps:
                self._steps[step] = diff(self.ws, self.guideline, *step)
        return [self._steps[step] for step in itertools.pairwise(chain)]

    def affected(self, a: str, b: str) -> list[str]:
        """Classes some release step between versions ``a`` and ``b`` affects (either order),
        wholly or within a rule's `where`: a labeler must learn either."""
        return sorted({c for step in self._diffs(a, b) for c in step.affects})

    def scopes(self, a: str, b: str) -> dict[str, list[Scope] | None]:
        """class -> what of it changed between versions ``a`` and ``b``: None for the whole
        class, else the rule scopes, united over every release step (lineage rules 2 and 7)."""
        found: dict[str, list[Scope] | None] = {}
        for step in self._diffs(a, b):
            found = merge_scopes(found, step.scopes())
        return found

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


# One row per (guideline, labeler, version) and passing record that covers it: the labels of
# that labeler under that version made on or after ``date`` are covered, ``rank`` 0 the best.
# Column -> DuckDB type: the read paths build it in DuckDB (``lineage.coverage.register``).
COVER_COLUMNS = {
    "guideline": "VARCHAR",
    "labeler_id": "VARCHAR",
    "version": "VARCHAR",
    "training_id": "VARCHAR",
    "date": "DATE",
    "rank": "BIGINT",
}


def cover_rows(
    ws: Repo, pairs: list[tuple[str, str, str]], records: list[TrainingRecord] | None = None
) -> list[tuple]:
    """Every passing record covering each (guideline, labeler, version) of ``pairs``, best first:
    rows of ``COVER_COLUMNS``.

    Import picks a label's record from them, and the read paths (``trace impact``, ``trace
    labeler``, ``relabel plan``) recompute coverage from them against the records of the
    revision asked: a record's date, not the commit that recorded it, decides which labels it
    covers. Joined to labels in SQL (date <= the label's day, best rank), never looped over rows."""
    records = training_records(ws) if records is None else records
    known = set(ws.guideline_names())
    by_guideline: dict[str, Coverage] = {}
    rows = []
    for guideline, labeler_id, version in sorted(set(pairs)):
        if guideline not in known:
            continue
        if guideline not in by_guideline:
            by_guideline[guideline] = Coverage(ws, guideline, records)
        coverage = by_guideline[guideline]
        if version not in coverage.versions:
            continue  # not a release (or not a version at all): nothing covers it
        for rank, record in enumerate(coverage.candidates(labeler_id, version)):
            rows.append((guideline, labeler_id, version, record.id, record.date, rank))
    return rows


def cover_table(
    ws: Repo, pairs: list[tuple[str, str, str]], records: list[TrainingRecord] | None = None
) -> pa.Table:
    """``cover_rows`` as an Arrow table."""
    import pyarrow as pa  # lazy: `labeler status` and `trace item` never build it

    schema = pa.schema(
        [
            ("guideline", pa.string()),
            ("labeler_id", pa.string()),
            ("version", pa.string()),
            ("training_id", pa.string()),
            ("date", pa.date32()),
            ("rank", pa.int64()),
        ]
    )
    rows = cover_rows(ws, pairs, records)
    return pa.table(
        {name: [row[i] for row in rows] for i, name in enumerate(schema.names)}, schema=schema
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
    # class -> the rules whose scope is all that changed of it (a class changed as a whole is
    # not listed): what a retraining should be about
    changed_within: dict[str, list[str]] = field(default_factory=dict)

    @property
    def action(self) -> str:
        if self.current is None:
            return "no release yet"
        if self.certified is None:
            return "train"
        return "ok" if self.covered else "retrain"

    def to_json(self) -> dict[str, Any]:
        return {
            "labeler": self.labeler,
            "vendor": self.vendor,
            "guideline": self.guideline,
            "current": self.current,
            "certified": self.certified,
            "record": self.record,
            "covered": self.covered,
            "changed_since": self.changed_since,
            "changed_within": self.changed_within,
            "action": self.action,
        }


def status(ws: Repo, guideline: str | None = None) -> list[StatusRow]:
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
            scopes = coverage.scopes(newest.version, current) if changed else {}
            within = {
                c: sorted({s.rule for s in found})
                for c, found in scopes.items()
                if found is not None
            }
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
                    changed_within=within,
                )
            )
    return rows
