"""Snapshots of a dataset's labels: a git commit + tag of ``labels.dvc`` and the manifest.

``datasets/<name>/snapshots.yaml`` lists every batch ever written (file, sha256, counts) once,
and every snapshot with the batches it added; a snapshot's labels are all batches added up to it.
Because batches are never rewritten or removed, the manifest grows by one entry per write and a
new snapshot costs the same with 1,000 batches of history as with 10.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from labelspec.errors import LabelspecError, NotFoundError, VcsError
from labelspec.vcs import Git
from labelspec.workspace import Workspace

MANIFEST = "snapshots.yaml"
TAG_PREFIX = "dataset"


def _yaml() -> YAML:
    yaml = YAML(typ="safe", pure=False)  # libyaml: the manifest is machine-written and can grow
    yaml.default_flow_style = None
    yaml.width = 4096
    return yaml


@dataclass
class BatchInfo:
    id: str
    file: str  # relative to the dataset folder
    sha256: str
    rows: int
    annotations: int
    items: int
    source: str
    format: str
    versions: list[str]
    supersedes: int = 0  # annotations this batch supersedes
    created: str = ""
    plan: str | None = None  # the relabel plan a merge batch answers


@dataclass
class Snapshot:
    id: int
    tag: str
    created: str
    message: str
    added: list[str]
    labels: int  # rows in all batches up to here
    current: int  # labels not superseded
    commit: str | None = field(default=None, compare=False)

    @property
    def name(self) -> str:
        return f"snap-{self.id}"


@dataclass
class Manifest:
    dataset: str
    batches: dict[str, BatchInfo] = field(default_factory=dict)
    snapshots: list[Snapshot] = field(default_factory=list)

    def batch_ids(self, snapshot: Snapshot) -> list[str]:
        return [b for s in self.snapshots if s.id <= snapshot.id for b in s.added]

    def latest(self) -> Snapshot | None:
        return self.snapshots[-1] if self.snapshots else None

    def resolve(self, ref: str | int | None) -> Snapshot:
        """``None`` (latest), ``3``, ``snap-3`` or ``dataset/<name>/snap-3``."""
        if not self.snapshots:
            raise NotFoundError(
                f"dataset {self.dataset!r} has no snapshots yet (import labels first)"
            )
        if ref is None:
            return self.snapshots[-1]
        text = str(ref).rsplit("/", 1)[-1].removeprefix("snap-")
        if not text.isdigit():
            raise NotFoundError(f"{ref!r} is not a snapshot: use a number, snap-N or its tag")
        for snapshot in self.snapshots:
            if snapshot.id == int(text):
                return snapshot
        raise NotFoundError(
            f"dataset {self.dataset!r} has no snapshot {ref} (latest: snap-{self.snapshots[-1].id})"
        )


def manifest_path(ws: Workspace, dataset: str) -> Path:
    return ws.dataset_dir(dataset) / MANIFEST


def labels_dir(ws: Workspace, dataset: str) -> Path:
    return ws.dataset_dir(dataset) / "labels"


def tag_name(dataset: str, snapshot_id: int) -> str:
    return f"{TAG_PREFIX}/{dataset}/snap-{snapshot_id}"


def parse_manifest(dataset: str, text: str) -> Manifest:
    # Written as JSON (a subset of YAML, one entry per line) so that a history of thousands of
    # batches parses in milliseconds; any YAML a person wrote by hand still loads.
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    try:
        data = json.loads(body) if body.strip() else {}
    except json.JSONDecodeError:
        data = _yaml().load(text) or {}
    return Manifest(
        dataset=dataset,
        batches={b["id"]: BatchInfo(**b) for b in data.get("batches") or []},
        snapshots=[Snapshot(**s) for s in data.get("snapshots") or []],
    )


def load_manifest(ws: Workspace, dataset: str) -> Manifest:
    """The manifest as committed at HEAD: what an interrupted write left in the working tree is
    not a snapshot (``recover`` rolls it back on the next write)."""
    with Git(ws.root) as git:
        try:
            text = git.read_file("HEAD", manifest_path(ws, dataset)).decode("utf-8")
        except VcsError:
            return Manifest(dataset=dataset)
    return parse_manifest(dataset, text)


def dump_manifest(manifest: Manifest) -> str:
    def lines(entries: list[dict]) -> str:
        return ",\n".join("    " + json.dumps(e, ensure_ascii=False) for e in entries)

    batches = [asdict(b) for b in manifest.batches.values()]
    snapshots = [{k: v for k, v in asdict(s).items() if k != "commit"} for s in manifest.snapshots]
    return (
        "# Written by labelspec: every label batch (immutable) and every snapshot. Do not edit.\n"
        f'{{"dataset": {json.dumps(manifest.dataset)},\n'
        f' "batches": [\n{lines(batches)}\n ],\n'
        f' "snapshots": [\n{lines(snapshots)}\n ]}}\n'
    )


def snapshots_with_commits(ws: Workspace, dataset: str) -> Manifest:
    manifest = load_manifest(ws, dataset)
    with Git(ws.root) as git:
        tags = git.tags(f"{TAG_PREFIX}/{dataset}/")
    for snapshot in manifest.snapshots:
        tag = tags.get(snapshot.tag)
        snapshot.commit = tag.commit if tag else None
    return manifest


def recover(ws: Workspace, dataset: str, git: Git) -> list[str]:
    """Undo what an interrupted write left behind, so the last snapshot stays the truth.

    Batch files not in the committed manifest are removed (no snapshot refers to them), and
    ``labels.dvc`` / the manifest go back to their committed state; a snapshot committed but not
    yet tagged gets its tag. Returns what was repaired.
    """

    repaired: list[str] = []
    folder = ws.dataset_dir(dataset)
    manifest_file = manifest_path(ws, dataset)
    tracked = [
        p
        for p in (manifest_file, folder / "labels.dvc", folder / ".gitignore")
        if git.is_tracked(p)
    ]
    dirty = [p for p in tracked if git.is_dirty(p)]
    if dirty:
        git.restore(dirty)
        repaired += [f"restored {ws.relpath(p)}" for p in dirty]
    for path in (folder / "labels.dvc", manifest_file):
        if path.exists() and not git.is_tracked(path):
            path.unlink()
            repaired.append(f"removed uncommitted {ws.relpath(path)}")
    manifest = load_manifest(ws, dataset)
    known = {b.file for b in manifest.batches.values()}
    labels = labels_dir(ws, dataset)
    if labels.is_dir():
        for path in sorted(labels.iterdir()):
            rel = path.relative_to(folder).as_posix()
            if rel not in known:
                path.unlink()
                repaired.append(f"removed orphan {ws.relpath(path)}")
    # Only the newest snapshot can have lost its tag (a write killed between commit and tag).
    for snapshot in manifest.snapshots[-1:]:
        if not git.tag_exists(snapshot.tag):
            commit = git.last_commit_touching(manifest_file, f"snapshot {snapshot.name}")
            if commit:
                git.tag(
                    snapshot.tag, f"{snapshot.name} of {dataset}: {snapshot.message}", ref=commit
                )
                repaired.append(f"tagged {snapshot.tag}")
    return repaired


def commit_snapshot(
    ws: Workspace,
    dataset: str,
    git: Git,
    batches: list[BatchInfo],
    message: str,
    superseded_labels: int = 0,
) -> Snapshot:
    """dvc add the labels folder, append to the manifest, commit and tag (caller holds the lock)."""
    from labelspec.vcs import Dvc
    from labelspec.yamlio import atomic_write_text

    manifest = load_manifest(ws, dataset)
    previous = manifest.latest()
    for batch in batches:
        if batch.id in manifest.batches:
            raise LabelspecError(f"batch {batch.id} is already in {dataset}'s manifest")
        manifest.batches[batch.id] = batch
    rows = sum(b.rows for b in batches)
    snapshot = Snapshot(
        id=(previous.id + 1) if previous else 1,
        tag="",
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        message=message,
        added=[b.id for b in batches],
        labels=(previous.labels if previous else 0) + rows,
        current=(previous.current if previous else 0) + rows - superseded_labels,
    )
    snapshot.tag = tag_name(dataset, snapshot.id)
    manifest.snapshots.append(snapshot)
    folder = ws.dataset_dir(dataset)
    with Dvc(ws.root) as dvc:
        dvc.add([labels_dir(ws, dataset)])
    atomic_write_text(manifest_path(ws, dataset), dump_manifest(manifest))
    snapshot.commit = git.commit(
        f"snapshot {snapshot.name} of {dataset}: {message}",
        paths=[folder / "labels.dvc", folder / ".gitignore", manifest_path(ws, dataset)],
    )
    git.tag(snapshot.tag, f"{snapshot.name} of {dataset}: {message}", ref=snapshot.commit)
    return snapshot


# -- reading the batches of a snapshot, without touching the working tree -------------------------
def batch_paths(
    ws: Workspace, dataset: str, snapshot: Snapshot | None = None, manifest: Manifest | None = None
) -> list[Path]:
    """The Parquet files of a snapshot's batches: the working tree copy when it is there, else the
    DVC cache object (looked up through the snapshot's committed ``labels.dvc``)."""
    manifest = manifest or load_manifest(ws, dataset)
    if not manifest.snapshots:
        return []
    snapshot = snapshot or manifest.latest()
    folder = ws.dataset_dir(dataset)
    paths: list[Path] = []
    missing: list[BatchInfo] = []
    for batch_id in manifest.batch_ids(snapshot):
        batch = manifest.batches[batch_id]
        path = folder / batch.file
        if path.is_file():
            paths.append(path)
        else:
            missing.append(batch)
            paths.append(path)
    if missing:
        cached = _cached_files(ws, dataset, snapshot)
        for i, path in enumerate(paths):
            rel = (
                path.relative_to(folder / "labels").as_posix()
                if (folder / "labels") in path.parents
                else None
            )
            if not path.is_file() and rel in cached:
                paths[i] = cached[rel]
        absent = [p for p in paths if not p.is_file()]
        if absent:
            raise NotFoundError(
                f"{len(absent)} batch file(s) of {snapshot.name} are neither in the workspace nor in the DVC "
                f"cache (e.g. {ws.relpath(absent[0])}); run `labelspec pull`"
            )
    return paths


def _cached_files(ws: Workspace, dataset: str, snapshot: Snapshot) -> dict[str, Path]:
    """relpath inside labels/ -> cache path, from the labels.dvc committed with ``snapshot``."""
    import json

    from labelspec import yamlio
    from labelspec.vcs import Dvc

    with Git(ws.root) as git:
        commit = git.tags(snapshot.tag).get(snapshot.tag)
        if commit is None:
            return {}
        try:
            record = yamlio.to_plain(
                yamlio.parse(
                    git.read_file(commit.commit, ws.dataset_dir(dataset) / "labels.dvc").decode()
                )
            )
        except VcsError:
            return {}
    dir_md5 = record["outs"][0]["md5"]
    with Dvc(ws.root) as dvc:
        listing_path = dvc.cache_path(dir_md5)
        if not listing_path.is_file():
            return {}
        listing = json.loads(listing_path.read_text())
        return {entry["relpath"]: dvc.cache_path(entry["md5"]) for entry in listing}


def to_dict(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "id": snapshot.id,
        "name": snapshot.name,
        "tag": snapshot.tag,
        "commit": snapshot.commit,
        "created": snapshot.created,
        "message": snapshot.message,
        "batches_added": snapshot.added,
        "labels": snapshot.labels,
        "current_labels": snapshot.current,
    }
