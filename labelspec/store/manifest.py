"""The revision manifest: what any engine needs to read a revision's labels, opening no data.

For one dataset at one revision: the commit, the rule that defines its current labels, the
canonical Arrow schema (and how older batches' schemas map onto it), and per batch its md5,
sha256, rows, bytes, supersedes count, source, and where its bytes are: the DVC cache object
and the object in each configured DVC remote (DVC 3 keeps a file at
``<cache or remote>/files/md5/<2 hex>/<30 hex>``, with no suffix: engines get URLs, not a glob).
It is built from the batch records alone (``git ls-tree`` plus the records, parsed once per
clone), so it costs the same whether a batch holds ten labels or ten million.

The digest names the set of batches (their ids and md5s), the rule and the schema: two revisions
with the same batches have the same current labels and the same digest, which is what a
compacted copy of them is keyed by (``store.compaction``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from configobj import ConfigObj

from labelspec.errors import InputError, NotFoundError
from labelspec.repo import Repo
from labelspec.store.datasets import dataset_guideline
from labelspec.store.records import DATA_SUFFIX, Record, records_at
from labelspec.store.schema import LABEL_SCHEMA
from labelspec.store.snapshots import labels_dir, resolve
from labelspec.vcs import DvcCache

RULE = (
    "current labels: the rows of every batch listed here whose annotation_id is in no row's "
    "supersedes list, among the rows of these batches (an anti join on annotation_id; a "
    "superseded annotation and the one superseding it are on the same item)"
)
RULE_SQL = (
    "select * from labels_all anti join (select distinct unnest(supersedes) as annotation_id "
    "from labels_all where supersedes is not null) using (annotation_id)"
)
# Columns later releases added, which batches written before them lack; a reader applies the
# canonical schema, so they read as NULL there (never the first file's schema).
ADDED_COLUMNS = {
    "tool_fields": "batches written before delivery fields were kept (21 columns)",
    "annotation_key": "batches written before delivery fields were kept (21 columns)",
}
DVC_OBJECT = "files/md5/{head}/{tail}"  # DVC 3's layout of a file in a cache or a remote


@dataclass(frozen=True)
class Remote:
    """A DVC remote as configured in ``.dvc/config`` (and ``config.local``); credentials are
    never part of it (``remote_settings`` reads them where a reader needs them)."""

    name: str
    url: str  # a local folder made absolute, or s3://bucket/prefix ...
    default: bool

    def object_url(self, md5: str) -> str:
        return f"{self.url.rstrip('/')}/{DVC_OBJECT.format(head=md5[:2], tail=md5[2:])}"

    @property
    def is_s3(self) -> bool:
        return self.url.startswith("s3://")

    def readable(self) -> Remote:
        """This remote, when labelspec's readers can open it (a local folder or S3)."""
        if self.is_s3 or "://" not in self.url:
            return self
        raise InputError(
            f"DVC remote {self.name} ({self.url.split('://')[0]}://) is not one labelspec reads "
            "(local folders and s3://); `labelspec pull`, then read this clone's cache"
        )


@dataclass(frozen=True)
class Entry:
    """One immutable Parquet file of the revision: a label batch, or a part of its compaction."""

    id: str
    file: str  # the working copy, relative to the workspace root
    md5: str
    sha256: str
    rows: int
    bytes: int
    supersedes: int = 0  # annotations this batch supersedes
    source: str = ""
    plan: str | None = None  # a relabel merge answers this plan


@dataclass
class Compacted:
    """The compacted copy of a revision's current labels, when one was made for its digest:
    parts in item_id order, each holding whole items."""

    digest: str
    commit: str  # the revision it was made from
    parts: list[Entry]

    @property
    def rows(self) -> int:
        return sum(p.rows for p in self.parts)


@dataclass
class Manifest:
    dataset: str
    commit: str
    ref: str | None
    batches: list[Entry]
    cache: Path  # the DVC cache folder of this clone
    root: Path  # the workspace root
    remotes: list[Remote] = field(default_factory=list)
    compacted: Compacted | None = None

    # -- what it says --------------------------------------------------------------------------
    @property
    def rows(self) -> int:
        return sum(b.rows for b in self.batches)

    @property
    def superseding(self) -> int:
        """Annotations the batches supersede (an upper bound of the superseded set's size)."""
        return sum(b.supersedes for b in self.batches)

    @property
    def digest(self) -> str:
        body = {
            "rule": RULE_SQL,
            "schema": str(LABEL_SCHEMA),
            "batches": sorted([b.id, b.md5] for b in self.batches),
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()

    def cache_path(self, md5: str) -> Path:
        return self.cache / DVC_OBJECT.format(head=md5[:2], tail=md5[2:])

    def remote(self, name: str | None = None) -> Remote:
        """The remote ``name`` (the default remote when None)."""
        chosen = [r for r in self.remotes if (r.name == name if name else r.default)]
        if not chosen:
            known = ", ".join(r.name for r in self.remotes) or "none"
            what = f"no DVC remote {name!r}" if name else "no default DVC remote"
            raise NotFoundError(
                f"{what} (remotes: {known}); add one with `dvc remote add -d NAME URL`"
            )
        return chosen[0].readable()

    def urls(self, entry: Entry) -> dict[str, str]:
        return {
            "cache": str(self.cache_path(entry.md5)),
            **{r.name: r.object_url(entry.md5) for r in self.remotes},
        }

    def to_json(self) -> dict[str, Any]:
        def entry(e: Entry) -> dict[str, Any]:
            return {**e.__dict__, "urls": self.urls(e)}

        return {
            "dataset": self.dataset,
            "snapshot": self.ref,
            "commit": self.commit,
            "digest": self.digest,
            "rule": RULE,
            "rule_sql": RULE_SQL,
            "schema": schema_dict(),
            "batches": [entry(b) for b in self.batches],
            "labels": self.rows,
            "superseding": self.superseding,
            "remotes": [r.__dict__ for r in self.remotes],
            "compacted": None
            if self.compacted is None
            else {
                "digest": self.compacted.digest,
                "commit": self.compacted.commit,
                "rows": self.compacted.rows,
                "sort": ["item_id", "annotation_id", "label_id"],
                "parts": [entry(p) for p in self.compacted.parts],
            },
        }

    # -- adapters (thin; the engines are optional) -----------------------------------------------
    def to_arrow_dataset(self, remote: str | None = None):
        """Every row of the batches (``labels_all``) as a pyarrow dataset in the canonical schema;
        ``remote``: read the DVC remote's objects instead of this clone's."""
        from labelspec.engines.arrow import batches_dataset  # lazy: the engines import this module

        return batches_dataset(self, remote)

    def current_labels(self, remote: str | None = None):
        """The current labels as a pyarrow Table (from the compacted copy when there is one)."""
        from labelspec.engines.arrow import current_labels  # lazy: the engines import this module

        return current_labels(self, remote)

    def to_spark(self, spark, remote: str | None = None, reader: str = "auto"):
        """The current labels as a Spark DataFrame (``labelspec.engines.spark.current``)."""
        from labelspec.engines.spark import current  # lazy: the engines import this module

        return current(self, spark, remote, reader)


def schema_dict() -> dict[str, Any]:
    return {
        "fields": [
            {"name": f.name, "type": str(f.type), "nullable": f.nullable} for f in LABEL_SCHEMA
        ],
        "older_batches": [
            {"lacks": name, "written": when, "read_as": None}
            for name, when in ADDED_COLUMNS.items()
        ],
    }


def entry_of(record: Record) -> Entry:
    """A batch record as an entry: plain dict reads (100,000 of them in a manifest), no Path."""
    meta = record.meta
    return Entry(
        id=record.rel.rsplit("/", 1)[-1].removesuffix(DATA_SUFFIX),
        file=record.rel,
        md5=record.md5,
        sha256=meta.get("sha256", ""),
        rows=int(meta.get("rows", 0)),
        bytes=record.size,
        supersedes=int(meta.get("supersedes") or 0),
        source=meta.get("source", ""),
        plan=meta.get("plan"),
    )


def manifest(ws: Repo, dataset: str, snapshot: str | None = None, git=None) -> Manifest:
    """The manifest of ``dataset`` at revision ``snapshot`` (HEAD by default)."""

    dataset_guideline(ws, dataset)  # a clear error for an unknown dataset
    git = git or ws.git
    commit = resolve(ws, git, dataset, snapshot)
    records = records_at(ws, git, commit, labels_dir(ws, dataset))
    if not records and (ws.dataset_dir(dataset) / "snapshots.yaml").is_file():
        raise InputError(
            f"{dataset}: the workspace uses the old layout (one labels.dvc, snapshots.yaml); "
            "run `labelspec upgrade` (one commit) to read it by manifest"
        )
    found = Manifest(
        dataset=dataset,
        commit=commit,
        ref=None if snapshot is None else str(snapshot),
        batches=[entry_of(r) for r in records],
        cache=DvcCache(ws.root).dir,
        root=ws.root,
        remotes=remotes(ws.root),
    )
    found.compacted = find_compacted(ws, git, dataset, found.digest)
    return found


# -- compacted copies (written by labelspec.store.compaction) -------------------------------------
KIND = "compacted"


def compacted_dir(ws: Repo, dataset: str) -> Path:
    return ws.dataset_dir(dataset) / "compacted"


def _entry(record: Record) -> Entry:
    return Entry(
        id=record.id,
        file=record.rel,
        md5=record.md5,
        sha256=record.meta.get("sha256", ""),
        rows=int(record.meta.get("rows", 0)),
        bytes=record.size,
    )


def compacted_records(ws: Repo, git, dataset: str) -> dict[str, list[Record]]:
    """digest -> the compacted part records committed at HEAD (``labelspec.store.compaction``),
    in part order."""
    head = git.head()
    if head is None:
        return {}
    found: dict[str, list[Record]] = {}
    for record in records_at(ws, git, head, compacted_dir(ws, dataset)):
        if record.meta.get("kind") == KIND:
            found.setdefault(str(record.meta.get("digest")), []).append(record)
    for parts in found.values():
        parts.sort(key=lambda r: int(r.meta.get("part", 0)))
    return found


def find_compacted(ws: Repo, git, dataset: str, digest: str) -> Compacted | None:
    """The compaction made for ``digest``, when HEAD records one."""
    parts = compacted_records(ws, git, dataset).get(digest)
    if not parts:
        return None
    return Compacted(digest, str(parts[0].meta.get("commit")), [_entry(r) for r in parts])


# -- DVC remotes -----------------------------------------------------------------------------------
def _dvc_config(root: Path) -> dict[str, dict[str, str]]:
    """The sections of ``.dvc/config`` with ``config.local`` over them (as DVC merges them)."""

    merged: dict[str, dict[str, str]] = {}
    for name in ("config", "config.local"):
        path = root / ".dvc" / name
        if path.is_file():
            for section, values in ConfigObj(str(path)).items():
                if isinstance(values, dict):
                    merged.setdefault(section, {}).update(values)
    return merged


def remotes(root: Path) -> list[Remote]:
    config = _dvc_config(root)
    default = (config.get("core") or {}).get("remote")
    found = []
    for section, values in sorted(config.items()):
        if not section.startswith("remote ") or "url" not in values:
            continue
        name = section.split('"')[1] if '"' in section else section.split(" ", 1)[1]
        url = values["url"]
        if "://" not in url:  # a local remote: DVC reads a relative path from the .dvc folder
            url = str((root / ".dvc" / url).resolve())
        found.append(Remote(name, url, name == default))
    return found


def remote_settings(root: Path, name: str) -> dict[str, str]:
    """Everything DVC knows about remote ``name`` (url, endpointurl, keys ...), for the reader
    that opens it; never printed."""
    for section, values in _dvc_config(root).items():
        if section.startswith("remote ") and name in section.split('"'):
            return dict(values)
    raise NotFoundError(f"no DVC remote {name!r}; add it with `dvc remote add {name} URL`")
