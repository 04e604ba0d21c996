"""Immutable DVC-tracked files and their records: label batches, item manifests, golden versions.

Each is ``<folder>/<id>.parquet`` (git-ignored, its bytes in the DVC cache) beside a committed
``<id>.parquet.dvc`` whose ``meta.labelspec`` is the file's record (sha256, counts, source ...).
What a revision holds is the set of ``.dvc`` files in its tree. Independent writes add different
files, so two clones' histories merge with a plain ``git pull``, and reading a revision costs one
``git ls-tree`` plus the records not seen before (parsed records are cached per clone, by blob).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labelspec.errors import NotFoundError
from labelspec.repo import Repo
from labelspec.vcs import DvcCache, parse_dvc_file

DATA_SUFFIX = ".parquet"
RECORD_SUFFIX = DATA_SUFFIX + ".dvc"


@dataclass(frozen=True)
class Record:
    rel: str  # the data file, relative to the workspace root (posix)
    md5: str
    size: int
    meta: dict[str, Any]

    @property
    def id(self) -> str:
        return Path(self.rel).name.removesuffix(DATA_SUFFIX)


def _cache_file(ws: Repo, key: str) -> Path:
    folder = ws.state_dir / "cache" / "records"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{key}.json"


def records_at(ws: Repo, git, commit: str, folder: Path) -> list[Record]:
    """Every record under ``folder`` in the tree of ``commit``, sorted by path (ids sort by time);
    read once per Repo."""
    return ws.memo(("records", commit, str(folder)), lambda: _records_at(ws, git, commit, folder))


def _records_at(ws: Repo, git, commit: str, folder: Path) -> list[Record]:

    entries = [
        (rel, sha) for rel, sha in git.ls_tree(commit, folder) if rel.endswith(RECORD_SUFFIX)
    ]
    if not entries:
        return []
    key = hashlib.sha1("\n".join(f"{r} {s}" for r, s in entries).encode()).hexdigest()
    cached = _cache_file(ws, key)
    base = ws.relpath(folder)
    if cached.is_file():
        try:
            return [Record(**r) for r in json.loads(cached.read_text())]
        except (ValueError, TypeError):
            pass
    blobs = git.blobs([sha for _, sha in entries])
    records = []
    for rel, sha in sorted(entries):
        md5, size, meta = parse_dvc_file(blobs[sha].decode("utf-8"), f"{base}/{rel}")
        records.append(Record(f"{base}/{rel.removesuffix('.dvc')}", md5, size, meta))
    tmp = cached.with_suffix(".tmp")
    tmp.write_text(json.dumps([r.__dict__ for r in records]))
    tmp.replace(cached)
    return records


class Locator:
    """Where the bytes of a record are: the working copy, else the DVC cache object."""

    def __init__(self, ws: Repo):

        self.ws = ws
        self.cache = DvcCache(ws.root)

    def path(self, record: Record) -> Path | None:
        local = self.ws.root / record.rel
        if local.is_file():
            return local
        cached = self.cache.object_path(record.md5)
        return cached if cached.is_file() else None

    def paths(self, records: list[Record], what: str) -> list[Path]:
        """Paths of all ``records``; a clear error naming the fix when any is missing."""

        found = [self.path(r) for r in records]
        missing = [r for r, p in zip(records, found, strict=True) if p is None]
        if missing:
            raise NotFoundError(
                f"{len(missing)} {what} file(s) are neither in the workspace nor in the DVC cache "
                f"(e.g. {missing[0].rel}); run `labelspec pull`"
            )
        return [p for p in found if p is not None]
