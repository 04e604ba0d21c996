"""``guideline review``: a guideline change as a reviewer of a pull request needs to see it.

The working tree is compared with a base revision (``--base``; by default the merge base with
the release branch when on another branch, else the newest release): classes with word diffs,
example images before and after, rules and decision-tree nodes before -> after, the bump the
release will require (judged against the newest release, as ``guideline release`` judges it),
the impact preview over every dataset labeled under the guideline (the numbers of
``trace impact --preview``) with relabel cost and labeler hours from each source's recorded cost
per label and lead time, and the labelers the release will send back to training.

``review_report`` renders a ``Review`` as Markdown (a PR comment) or HTML (with the pictures).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from pydantic import ValidationError

from labelspec import yamlio
from labelspec.errors import LabelspecError, NotFoundError, ProblemsError, SpecError, VcsError
from labelspec.guideline.changes import Changes, Pictures, compare, empty_spec
from labelspec.guideline.check import check_guideline
from labelspec.guideline.releases import diff, releases
from labelspec.guideline.review_labels import (
    Revision,
    base_tip,
    choose,
    declared_at,
    head_revision,
    training_missing,
)
from labelspec.guideline.spec import Spec
from labelspec.labelers.coverage import status
from labelspec.labelers.training import training_records
from labelspec.lineage.trace import impact
from labelspec.repo import Repo
from labelspec.store.datasets import declared
from labelspec.store.query import connect


# -- the result ---------------------------------------------------------------------------------------
@dataclass
class Base:
    label: str  # how the reader sees it: "release 1.0.0", "merge base with main", "origin/main"
    commit: str
    version: str | None  # the spec's version at the base (None: no guideline there yet)


@dataclass
class SourceCost:
    source: str
    labels: int  # suspect current labels from this source
    cost_per_label: float | None  # recorded cost per label (None: none recorded)
    lead_time_s: float | None  # recorded lead time per label
    cost: float | None  # estimated relabel cost of its suspect labels
    hours: float | None  # estimated labeler hours to relabel them


@dataclass
class DatasetImpact:
    dataset: str
    impact: dict[str, Any] | None  # ``trace impact --preview --json`` of the dataset
    sources: list[SourceCost] = field(default_factory=list)
    unavailable: str | None = None  # why there are no numbers (labels not pulled, say)
    labels_at: str | None = None  # the revision whose labels the numbers count ("main")
    labels_commit: str | None = None
    labels_why: str | None = None  # why that revision (the newest label history)

    @property
    def cost(self) -> float | None:
        known = [s.cost for s in self.sources if s.cost is not None]
        return sum(known) if known else None

    @property
    def hours(self) -> float | None:
        known = [s.hours for s in self.sources if s.hours is not None]
        return sum(known) if known else None

    @property
    def unpriced(self) -> int:
        return sum(s.labels for s in self.sources if s.cost is None)


@dataclass
class Retraining:
    labeler: str
    vendor: str
    certified: str | None
    why: str


@dataclass
class Review:
    guideline: str
    title: str
    base: Base
    head: str  # "working tree on clarify-1-7 (3f2a1b0c9d)"
    bump: str  # major | minor | patch | first release
    bump_why: str
    bump_against: str | None  # the newest release, which the bump is judged against
    affects: list[str]  # classes whose labels the change can alter (newest release -> here)
    pending: dict[str, Any] | None  # the `unreleased` changelog entry
    changes: Changes = field(default_factory=Changes)
    problems: list[str] = field(default_factory=list)  # what stands between this and a release
    impacts: list[DatasetImpact] = field(default_factory=list)
    retraining: list[Retraining] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # about the labels the impact counts

    def to_json(self) -> dict[str, Any]:
        def plain(value: Any) -> Any:
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items() if k != "data"}
            if isinstance(value, list | tuple):
                return [plain(v) for v in value]
            return value

        data = plain(asdict(self))
        data["changes"].pop("names")
        for entry, found in zip(data["impacts"], self.impacts, strict=True):
            entry.update(cost=found.cost, hours=found.hours, unpriced_labels=found.unpriced)
        return data


# -- finding the base --------------------------------------------------------------------------------
def resolve_base(ws: Repo, name: str, git, rev: str | None, released) -> Base:
    """The revision to compare with: a released version, any git revision (its merge base with
    HEAD, as a pull request compares), or by default the merge base with the release branch when
    on another branch, else the newest release."""
    head = git.head()
    if rev:
        release = next((r for r in released if r.version == rev.removeprefix("v")), None)
        if release is not None:
            return Base(f"release {release.version}", release.commit, release.version)
        commit = git.rev_parse(rev)
        if commit is None:
            known = ", ".join(r.version for r in released) or "none"
            raise NotFoundError(
                f"--base {rev}: no such revision; give a branch, tag or commit, or a released "
                f"version of {name} (released: {known})"
            )
        joined = git.merge_base(head, commit) if head else None
        if joined and joined != commit:
            return Base(f"{rev} (merge base {joined[:10]})", joined, None)
        return Base(rev, commit, None)
    main = ws.config.release_branch
    branch = git.branch()
    main_commit = git.rev_parse(main) or git.rev_parse(f"origin/{main}")
    if head and branch and branch != main and main_commit:
        joined = git.merge_base(head, main_commit)
        if joined:
            return Base(f"merge base with {main}", joined, None)
    if released:
        newest = released[-1]
        return Base(f"release {newest.version}", newest.commit, newest.version)
    raise NotFoundError(
        f"guideline {name} has no release and there is no {main} branch to compare with; "
        "give --base REV (a branch, tag or commit)"
    )


def _spec_at_commit(ws: Repo, name: str, git, commit: str, task: str) -> Spec:
    """The spec committed at ``commit``; an empty one when the guideline did not exist there."""

    try:
        text = git.read_file(commit, ws.spec_path(name)).decode("utf-8")
    except VcsError:
        return empty_spec(name, task)
    source = f"{commit[:10]}:{ws.relpath(ws.spec_path(name))}"
    try:
        return Spec.model_validate(yamlio.fast_load(text, source))
    except ValidationError as exc:
        raise SpecError(
            f"{source} does not validate ({exc.errors()[0]['msg']}); choose another --base"
        ) from exc


# -- building the review -----------------------------------------------------------------------------
def review(ws: Repo, name: str, base: str | None = None) -> Review:
    """Compare guideline ``name`` in the working tree with ``base`` (see ``resolve_base``)."""

    report = check_guideline(ws, name, inspect_images=False)
    if report.spec is None:
        raise ProblemsError(
            f"guideline {name} does not validate; fix it first (`labelspec check`)",
            report.errors[:50],
            len(report.errors),
        )
    head = report.spec
    released = releases(ws, name)
    git = ws.git
    found = resolve_base(ws, name, git, base, released)
    old = _spec_at_commit(ws, name, git, found.commit, head.task)
    found.version = found.version or (old.version if old.classes else None)
    branch, commit = git.branch(), git.head()
    dirty = bool(git.dirty_files(ws.guideline_dir(name)))
    old_pictures = Pictures(ws, name, found.commit, git)
    where = f" on {branch}" if branch else ""
    at = f" ({commit[:10]}{', with uncommitted edits' if dirty else ''})" if commit else ""
    pending = head.pending
    result = Review(
        guideline=name,
        title=head.title,
        base=found,
        head=f"working tree{where}{at}",
        bump="first release",
        bump_why="nothing is released yet",
        bump_against=None,
        affects=[],
        pending=pending.model_dump(mode="json", exclude_none=True) if pending else None,
        changes=compare(old, head, old_pictures, Pictures(ws, name, None)),
        problems=[str(p) for p in report.errors],
    )
    if released:
        change = diff(ws, name, released[-1].version, None)
        result.bump, result.bump_why = change.required_bump()
        result.bump_against = released[-1].version
        result.affects = change.affects
        if pending is None and not change.empty:
            result.problems.append(
                f"no `unreleased` changelog entry: add one (summary, affects, relabel) or "
                f"`guideline release {name}` will refuse"
            )
        result.impacts, result.warnings = impacts(ws, name, base, released)
        if warning := change.global_rule_warning():
            result.warnings.insert(0, warning)
        result.retraining = retraining(ws, name, result.affects)
    return result


# -- impact, cost and retraining ----------------------------------------------------------------------
def impacts(
    ws: Repo, name: str, base: str | None = None, released=()
) -> tuple[list[DatasetImpact], list[str]]:
    """``trace impact --preview`` of every dataset labeled under ``name``, with estimates, on
    the newest label history of the base and HEAD (``review_labels``); and the warnings about
    those labels (a branch behind the base, datasets or training records only the base has)."""

    git = ws.git
    tip, head = base_tip(ws, git, base, released), head_revision(git)
    used = {
        dataset: choose(ws, git, dataset, tip, head)
        for dataset, config in sorted(declared(ws).items())
        if config.guideline == name
    }
    warnings = [w for found in used.values() for w in found.warnings]
    if tip is not None and tip.commit != head.commit:
        warnings += _only_at_base(ws, git, name, tip, set(declared(ws)), used)
    out = []
    for dataset, labels in used.items():
        found = _impact(ws, dataset, name, labels.revision)
        found.labels_at, found.labels_commit = labels.revision.name, labels.revision.commit
        found.labels_why = labels.why
        out.append(found)
    return out, warnings


def _only_at_base(ws: Repo, git, name: str, tip: Revision, here: set[str], used) -> list[str]:
    """What the base has that an estimate made on this branch cannot see."""
    out = []
    missing = sorted(d for d, g in declared_at(ws, git, tip).items() if g == name and d not in here)
    if missing:
        out.append(
            f"dataset(s) {', '.join(missing)} are labeled under {name} on {tip.name} but not "
            f"declared on this branch, so their impact is not shown: merge {tip.name} to see it"
        )
    if any(u.revision == tip for u in used.values()):
        absent = training_missing(ws, git, tip)
        if absent:
            out.append(
                f"{len(absent)} training record(s) on {tip.name} are not on this branch: labels "
                f"of those trainings count as untrained in this estimate; merge {tip.name} "
                "for the exact figure"
            )
    return out


def _impact(ws: Repo, dataset: str, name: str, labels: Revision) -> DatasetImpact:

    try:
        # another branch's labels, this branch's training records (its warnings say which lack)
        records = training_records(ws)
        found = impact(ws, dataset, name, preview=True, snapshot=labels.commit, records=records)
        rates = _recorded_rates(ws, dataset, name, labels.commit)
    except LabelspecError as exc:
        return DatasetImpact(dataset, None, unavailable=str(exc))
    suspect: dict[str, int] = {}
    for segment in found.segments:
        source = segment["key"]["source"]
        suspect[source] = suspect.get(source, 0) + segment["labels"]
    sources = []
    for source, count in sorted(suspect.items(), key=lambda s: (-s[1], s[0])):
        cost, lead = rates.get(source, (None, None))
        sources.append(
            SourceCost(
                source,
                count,
                cost,
                lead,
                count * cost if cost is not None else None,
                count * lead / 3600 if lead is not None else None,
            )
        )
    return DatasetImpact(dataset, found.to_json(), sources)


def _recorded_rates(ws: Repo, dataset: str, name: str, snapshot: str) -> dict[str, tuple]:
    """source -> (cost per label, lead time per label in s), over every label it delivered
    under the guideline (superseded ones too: they were paid for); None where none recorded."""

    rows = (
        connect(ws, dataset, snapshot)
        .execute(
            """select source, sum(cost) / nullif(count(cost), 0),
                  sum(lead_time_s) / nullif(count(lead_time_s), 0)
           from labels_all where guideline = ? group by source""",
            [name],
        )
        .fetchall()
    )
    return {source: (cost, lead) for source, cost, lead in rows}


def retraining(ws: Repo, name: str, affects: list[str]) -> list[Retraining]:
    """Active labelers who will need training once this is released: those already not covered,
    and, when the change affects a class, everyone whose pass covers the current release."""

    out = []
    for row in status(ws, name):
        if row.action == "train":
            why = "never passed a training on this guideline"
        elif row.action == "retrain":
            why = f"already behind: {', '.join(row.changed_since) or 'classes'} changed since {row.certified}"
        elif affects:
            why = f"this change affects {', '.join(affects)}"
        else:
            continue
        out.append(Retraining(row.labeler, row.vendor, row.certified, why))
    return out
