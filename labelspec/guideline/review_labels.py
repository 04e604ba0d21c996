"""Which labels ``guideline review`` estimates a change's impact on: the team's, not the branch's.

A guideline branch is usually cut before the latest deliveries were imported on the release
branch, so its own tree holds fewer label batches than the team has, and an impact estimated on
it says "0 of 0". The labels at a revision are a function of the batches in its tree (a set
union), so the review compares, per dataset, the batches of the **base** (the tip of the release
branch, or of ``--base REV``; of a local branch and its remote-tracking copy, the newer) with
those of **HEAD**, and reads the newest label history:

- the base's when its batches include HEAD's (a branch that imported nothing: the usual case);
  when they are more, the branch is behind the base's label history, and the review says so;
- HEAD's when its batches include the base's and more (the branch imported, or merged the base);
- the base's when each holds batches the other lacks, with a warning naming the branch's own.

Every dataset's figures name the revision they were read at.
"""

from __future__ import annotations

from dataclasses import dataclass

from labelspec import nesting, yamlio
from labelspec.errors import VcsError
from labelspec.labelers.training import TRAINING, training_records
from labelspec.repo import CONFIG_NAME, Repo
from labelspec.store.records import records_at
from labelspec.store.snapshots import labels_dir


@dataclass(frozen=True)
class Revision:
    name: str  # "main", "origin/main", "clarify-one (HEAD)"
    commit: str


@dataclass
class LabelsUsed:
    """The labels one dataset's impact was estimated on, and why those."""

    revision: Revision
    why: str
    warnings: list[str]


def base_tip(ws: Repo, git, base: str | None, released) -> Revision | None:
    """The tip of the base's label history: ``--base REV`` itself (not its merge base), or the
    release branch; None when there is neither (a repository without that branch)."""
    if base and base.removeprefix("v") not in {r.version for r in released}:
        commit = git.rev_parse(base)
        return Revision(base, commit) if commit else None
    main = ws.config.release_branch
    found = [
        Revision(ref, commit)
        for ref in (main, *(f"{remote}/{main}" for remote in git.remote_names()))
        if (commit := git.rev_parse(f"refs/heads/{ref}" if ref == main else f"refs/remotes/{ref}"))
    ]
    if not found:
        return None
    newest = found[0]
    for other in found[1:]:  # a clone that fetched but did not merge: its remote's is ahead
        if other.commit != newest.commit and git.merge_base(newest.commit, other.commit) == (
            newest.commit
        ):
            newest = other
    return newest


def head_revision(git) -> Revision:
    branch = git.branch()
    return Revision(f"{branch} (HEAD)" if branch else "HEAD", git.head() or "")


def choose(ws: Repo, git, dataset: str, base: Revision | None, head: Revision) -> LabelsUsed:
    """The newest label history of ``dataset`` among the base's and HEAD's (see the module doc)."""
    if base is None or base.commit == head.commit:
        return LabelsUsed(head, "the labels on this branch", [])
    folder = labels_dir(ws, dataset)
    theirs = {r.rel: r for r in records_at(ws, git, base.commit, folder)}
    ours = {r.rel: r for r in records_at(ws, git, head.commit, folder)}
    only_base = sorted(theirs.keys() - ours.keys())
    only_head = sorted(ours.keys() - theirs.keys())
    if only_head and not only_base:
        return LabelsUsed(
            head,
            f"this branch holds {base.name}'s label history and {len(only_head)} batch(es) more",
            [],
        )
    warnings = []
    if only_base:
        rows = sum(int(theirs[rel].meta.get("rows") or 0) for rel in only_base)
        warnings.append(
            f"{head.name} is behind {base.name}'s label history: {len(only_base)} batch(es) of "
            f"{dataset} ({rows} label row(s)) were imported on {base.name} after this branch was "
            f"cut; the impact is estimated on {base.name}'s labels ({base.commit[:10]}). Merge "
            f"{base.name} into the branch to see them here (`labels show`, `trace impact`)"
        )
    if only_head:
        warnings.append(
            f"{head.name} holds {len(only_head)} batch(es) of {dataset} that {base.name} does not "
            f"(imported on this branch); the impact counts {base.name}'s labels only, until they "
            "are merged"
        )
    why = (
        f"{base.name}'s label history, which holds this branch's"
        if not only_head
        else f"{base.name}'s label history, the team's"
    )
    return LabelsUsed(base, why, warnings)


def training_missing(ws: Repo, git, revision: Revision) -> list[str]:
    """Training record ids at ``revision`` that the working tree lacks: labels that name them
    count as untrained in an estimate made here (the records are read from the working tree)."""
    try:
        text = git.read_file(revision.commit, ws.root / TRAINING).decode("utf-8")
    except VcsError:
        return []
    lines = (
        nesting.loads(line, f"{TRAINING} at {revision.commit[:12]}")
        for line in text.splitlines()
        if line.strip()
    )
    there = {r.get("id") for r in lines if isinstance(r, dict)}
    here = {r.id for r in training_records(ws)}
    return sorted(i for i in there - here if i)


def declared_at(ws: Repo, git, revision: Revision) -> dict[str, str]:
    """dataset -> guideline, as declared in the tree of ``revision``."""
    found: dict[str, str] = {}
    try:
        config = yamlio.fast_load(git.read_file(revision.commit, ws.root / CONFIG_NAME).decode())
    except VcsError:
        config = {}
    for name, entry in ((config or {}).get("datasets") or {}).items():
        if isinstance(entry, dict) and entry.get("guideline"):
            found[name] = str(entry["guideline"])
    entries = [
        (rel, sha)
        for rel, sha in git.ls_tree(revision.commit, ws.datasets_dir)
        if rel.count("/") == 1 and rel.endswith("/dataset.yaml")
    ]
    blobs = git.blobs([sha for _, sha in entries])
    for rel, sha in entries:
        data = yamlio.fast_load(blobs[sha].decode("utf-8"), rel) or {}
        if isinstance(data, dict) and data.get("guideline"):
            found.setdefault(rel.split("/", 1)[0], str(data["guideline"]))
    return found
