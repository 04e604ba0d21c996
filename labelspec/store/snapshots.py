"""Snapshots: the labels of a dataset at a git revision.

A snapshot is a commit. The labels at a revision are the annotations of every batch in its tree
(``datasets/<name>/labels/<batch>.parquet.dvc``) that no batch in the same tree supersedes: a set
union, so two branches' imports merge, and any revision names a snapshot (a commit, a branch, a
tag, ``HEAD~3``). labelspec names nothing with a counter; a batch id (``b-<time>-<random>``) is
also accepted and means the commit that added the batch. Tags ``dataset/<name>/snap-N`` of
workspaces from before layout 2 still resolve, and their trees (``snapshots.yaml`` + one
``labels.dvc`` over the folder) are still read.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labelspec import nesting
from labelspec.errors import NotFoundError, VcsError
from labelspec.repo import Repo
from labelspec.store.datasets import dataset_guideline
from labelspec.store.records import Locator, Record, records_at
from labelspec.vcs import DvcCache, parse_dvc_file
from labelspec.yamlio import fast_load

BATCH_ID = re.compile(r"^b-\d{8}T\d{6}Z-[0-9a-f]{8}$")
# snap-N tags of layout 1 (and N alone, as the old API took it)
LEGACY_TAG = re.compile(r"^(?:(?:dataset/(?P<dataset>[^/]+)/)?snap-)?(?P<n>\d+)$")


@dataclass
class Batch:
    """One immutable label batch and its record (the ``meta`` of its ``.dvc`` file)."""

    id: str
    file: str  # relative to the workspace root
    md5: str | None
    sha256: str
    rows: int
    annotations: int
    items: int
    source: str
    format: str
    versions: list[str]
    supersedes: int = 0  # annotations this batch supersedes
    empty: int | None = None  # of ``rows``, empty answers (None: recorded before they were)
    superseded_labels: int = 0
    plan: str | None = None  # the relabel plan a merge batch answers
    created: str = ""
    message: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # fields later releases add

    @classmethod
    def from_record(cls, record: Record) -> Batch:
        meta = dict(record.meta)
        known = {f for f in cls.__dataclass_fields__ if f not in ("id", "file", "md5", "extra")}
        values = {k: meta.pop(k) for k in list(meta) if k in known}
        meta.pop("batch", None)
        meta.pop("kind", None)
        return cls(id=record.id, file=record.rel, md5=record.md5, extra=meta, **values)

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "extra"} | self.extra


@dataclass
class Snapshot:
    dataset: str
    commit: str
    batches: list[Batch]
    ref: str | None = None  # what was asked for
    layout: int = 2

    @property
    def name(self) -> str:
        return self.ref if self.ref and not re.fullmatch(r"[0-9a-f]{40}", self.ref) else self.short

    @property
    def short(self) -> str:
        return self.commit[:10]

    def batch(self, batch_id: str) -> Batch | None:
        return next((b for b in self.batches if b.id == batch_id), None)

    @property
    def labels(self) -> int:
        return sum(b.rows for b in self.batches)


def labels_dir(ws: Repo, dataset: str) -> Path:
    return ws.dataset_dir(dataset) / "labels"


def resolve(ws: Repo, git, dataset: str, ref: str | None) -> str:
    """The commit a snapshot reference names (see the module doc)."""
    if ref is None or ref == "":
        head = git.head()
        if head is None:
            raise NotFoundError("the repository has no commit yet")
        return head
    ref = str(ref)
    if BATCH_ID.match(ref):
        path = labels_dir(ws, dataset) / f"{ref}.parquet.dvc"
        added = git.commits_adding(labels_dir(ws, dataset), ".parquet.dvc").get(path.name)
        if added is None:
            raise NotFoundError(f"no batch {ref} in the history of {dataset} (see `labels log`)")
        return added[0]
    commit = git.rev_parse(ref)
    if commit is not None:
        return commit
    legacy = LEGACY_TAG.match(ref)
    if legacy:
        tag = f"dataset/{legacy.group('dataset') or dataset}/snap-{legacy.group('n')}"
        commit = git.rev_parse(f"refs/tags/{tag}") or git.rev_parse(f"snap-{legacy.group('n')}")
        if commit is None:
            raise NotFoundError(
                f"no snapshot tag {tag} (snapshots are revisions: see `labels log`)"
            )
        return commit
    raise NotFoundError(
        f"{ref!r} is not a revision of this repository: give a commit, branch or tag, "
        "a batch id (b-...) or an old snap-N (see `labelspec labels log`)"
    )


def snapshot(ws: Repo, dataset: str, ref: str | None = None, git=None) -> Snapshot:
    """The batches of ``dataset`` at the revision ``ref`` (HEAD by default), read once per
    Repo."""

    dataset_guideline(ws, dataset)  # a clear error for an unknown dataset
    # keyed by the commit the ref names now: a branch that moved is read again
    commit = resolve(ws, ws.git, dataset, ref)
    return ws.memo(
        ("snapshot", dataset, commit, _text(ref)), lambda: _snapshot(ws, dataset, ref, commit)
    )


def _snapshot(ws: Repo, dataset: str, ref: str | None, commit: str) -> Snapshot:
    git = ws.git
    records = records_at(ws, git, commit, labels_dir(ws, dataset))
    if records:
        return Snapshot(dataset, commit, [Batch.from_record(r) for r in records], _text(ref))
    legacy = _legacy_batches(ws, git, dataset, commit)
    if legacy is not None:
        return Snapshot(dataset, commit, legacy, _text(ref), layout=1)
    return Snapshot(dataset, commit, [], _text(ref))


def batch_paths(ws: Repo, snap: Snapshot, batches: list[Batch] | None = None) -> list[Path]:
    """The Parquet files of a snapshot's batches: working copies, else DVC cache objects."""
    chosen = snap.batches if batches is None else batches
    if snap.layout == 1:
        return _legacy_paths(ws, snap, chosen)
    records = [Record(b.file, b.md5 or "", 0, {}) for b in chosen]
    return Locator(ws).paths(records, "batch")


# -- layout 1: snapshots.yaml + one labels.dvc over the folder -------------------------------------
def _legacy_batches(ws: Repo, git, dataset: str, commit: str) -> list[Batch] | None:

    manifest = ws.dataset_dir(dataset) / "snapshots.yaml"
    try:
        text = git.read_file(commit, manifest).decode("utf-8")
    except VcsError:
        return None
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    try:
        data = nesting.loads(body, str(manifest)) if body.strip() else {}
    except json.JSONDecodeError:
        data = fast_load(text, str(manifest)) or {}
    listing = _legacy_listing(ws, git, dataset, commit)
    batches = []
    for entry in data.get("batches") or []:
        name = entry["file"].removeprefix("labels/")
        batches.append(
            Batch(
                id=entry["id"],
                file=ws.relpath(ws.dataset_dir(dataset) / entry["file"]),
                md5=listing.get(name),
                sha256=entry["sha256"],
                rows=entry["rows"],
                annotations=entry["annotations"],
                items=entry["items"],
                source=entry["source"],
                format=entry["format"],
                versions=entry["versions"],
                supersedes=entry.get("supersedes", 0),
                plan=entry.get("plan"),
                created=entry.get("created", ""),
            )
        )
    return batches


def _legacy_listing(ws: Repo, git, dataset: str, commit: str) -> dict[str, str]:
    """file name -> md5, from the ``labels.dvc`` directory record committed at ``commit``."""

    try:
        text = git.read_file(commit, ws.dataset_dir(dataset) / "labels.dvc").decode("utf-8")
    except VcsError:
        return {}
    dir_md5, _size, _meta = parse_dvc_file(text, "labels.dvc")
    listing = DvcCache(ws.root).object_path(dir_md5)
    if not listing.is_file():
        return {}
    return {e["relpath"]: e["md5"] for e in nesting.loads(listing.read_text(), str(listing))}


def _legacy_paths(ws: Repo, snap: Snapshot, batches: list[Batch]) -> list[Path]:
    records = [Record(b.file, b.md5 or "0" * 32, 0, {}) for b in batches]
    return Locator(ws).paths(records, "batch")


def _text(ref) -> str | None:
    return None if ref is None else str(ref)
