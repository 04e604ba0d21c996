"""Pinned training sets: a resolution of a dataset's labels, stored once under a name.

``trainsets/<name>/<id>.parquet`` holds everything a loader needs (one row per item, or per box
or span, with its split, item path and size, class index, provenance:
``labelspec.resolve.TRAINSET_SCHEMA``, shaped by ``labelspec.resolve.trainset``), its bytes in
DVC like a label batch, beside a committed ``<id>.parquet.dvc`` whose ``meta`` is the set's
record: the revision resolved, the method and its parameters, the split, what was left out and
why, the file's sha256 and the counts. The tag ``trainset/<name>`` points at the commit that
added it and carries the same record, so a model card that names the set names one file, for
good. Names are the users' (one per model run, say): an existing name is refused, never
overwritten. ``trainsets/.gitignore`` keeps the data out of git with one static pattern, the
same in every clone.

``read_pinned`` reads a set where training runs, without a clone or a ``dvc pull``: git (or a
folder) resolves the tag, DVC's API reads just that file from the DVC remote
(``labelspec.loaders.open_trainset`` builds the loaders on it).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labelspec import nesting
from labelspec.errors import ConflictError, InputError, NotFoundError, VcsError
from labelspec.repo import Repo
from labelspec.resolve import splits
from labelspec.resolve.compare import compare
from labelspec.store.engine import database
from labelspec.store.query import _sql_list
from labelspec.store.records import RECORD_SUFFIX, Locator, Record
from labelspec.vcs import dvc_errors, dvc_filesystem, parse_dvc_file

if TYPE_CHECKING:
    import pyarrow as pa  # lazy: trace item reads training sets through DuckDB; loading one imports it

FOLDER = "trainsets"
TAG_PREFIX = "trainset/"
NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
IGNORE = "# Training sets are DVC data; git keeps each one's .dvc record.\n/*/*.parquet\n"


# what an item resolved to "no objects here" is, per task: its column in a splits table
# (none for classification: every item has its one class)
EMPTY_ITEMS = {
    "detection": "background images",
    "ner": "texts without entities",
    "multilabel": "items with no class",
}


@dataclass
class Trainset:
    """A pinned training set's record (the ``meta`` of its ``.dvc`` file and its tag's)."""

    name: str
    dataset: str
    guideline: str
    task: str
    method: str
    parameters: dict[str, Any]
    min_confidence: float
    snapshot: str  # the revision as asked for
    revision: str  # the commit whose labels were resolved
    rows: int
    items: int  # items with labels in the set
    decided_items: int  # items the resolution looked at
    ties: int
    low_confidence: int  # items left out: a tie or below the floor
    suspect_items: int
    by_class: dict[str, int]
    labeler_quality: dict[str, float]
    created: str
    sha256: str = ""
    file: str = ""  # relative to the workspace root
    md5: str = ""
    size: int = 0
    commit: str | None = None  # the commit that added the set (the tag's)
    tagged: bool = False
    # how it was split and what was left out (sets pinned before splits have the defaults)
    split: dict[str, Any] = field(default_factory=lambda: {"by": "none"})
    splits: dict[str, dict[str, Any]] = field(default_factory=dict)
    golden_into: str = "train"
    golden_set: str | None = None
    golden_items: int = 0
    suspect_policy: str = "include"
    suspect_release: str | None = None
    suspect_kept: int = 0  # suspect items in the set
    left_out: dict[str, int] = field(default_factory=dict)  # reason -> items
    left_out_examples: dict[str, list[str]] = field(default_factory=dict)
    classes: list[str] = field(default_factory=list)  # class_index -> class id
    class_names: list[str] = field(default_factory=list)
    guideline_versions: dict[str, int] = field(default_factory=dict)  # of the labels cited
    labelers: dict[str, int] = field(default_factory=dict)
    vendors: dict[str, int] = field(default_factory=dict)  # the labelers' vendors -> labels
    sources: dict[str, int] = field(default_factory=dict)  # label source -> labels cited
    attribute_ties: int = 0  # rows with an attribute left out on a draw
    unlabeled_items: int = 0
    duplicate_items: int = 0  # in training splits, following the split of a copy's smaller id
    extra: dict[str, Any] = field(default_factory=dict)  # fields later releases add

    @classmethod
    def from_meta(cls, meta: dict[str, Any], **found: Any) -> Trainset:
        values = {**meta, **found}
        known = {f for f in cls.__dataclass_fields__ if f != "extra"}
        extra = {k: v for k, v in values.items() if k not in known and k != "kind"}
        return cls(**{k: v for k, v in values.items() if k in known}, extra=extra)

    def ordered_splits(self) -> list[tuple[str, dict[str, Any]]]:
        """The splits as they are listed (train, val, test, eval, then others): records keep
        their keys sorted."""
        return [(name, self.splits[name]) for name in splits.ordered(self.splits)]

    @property
    def id(self) -> str:
        """The file's id, ``t-<time>-<random>``: sorts by creation time, to the millisecond."""
        return Path(self.file).name.removesuffix(".parquet")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        return {**{k: v for k, v in data.items() if k != "extra"}, **self.extra}


def trainsets_dir(ws: Repo) -> Path:
    return ws.root / FOLDER


def tag_name(name: str) -> str:
    return f"{TAG_PREFIX}{name}"


def check_name(name: str) -> None:
    if not NAME.fullmatch(name) or ".." in name or name.endswith((".", ".lock")):
        raise InputError(
            f"training set name {name!r}: use lower-case letters, digits, '.', '-' and '_' "
            "(up to 64, starting with a letter or digit), e.g. digits-2026-12"
        )


def refuse_existing(ws: Repo, git, name: str) -> None:
    head = git.head()
    here = _records(ws, git, head, trainsets_dir(ws) / name) if head else []
    if git.tag_exists(tag_name(name)) or here:
        raise ConflictError(
            f"a training set named {name!r} exists already (`labelspec trainset show {name}`); "
            "training sets are never replaced: pick a new name, e.g. "
            f"{name}-2"
        )


# -- read: records, tables -------------------------------------------------------------------------
def list_trainsets(ws: Repo, dataset: str | None = None) -> list[Trainset]:
    """Every training set: those in HEAD's tree and those only a tag names, oldest first."""

    found: dict[str, Trainset] = {}
    git = ws.git
    tags = git.tags(TAG_PREFIX)
    head = git.head()
    for record in _records(ws, git, head, trainsets_dir(ws)) if head else []:
        tag = tags.get(tag_name(record.meta.get("name", "")))
        found[record.meta.get("name", record.id)] = _from_record(record, tag)
    for tag in tags.values():
        name = tag.name.removeprefix(TAG_PREFIX)
        if name not in found:
            records = _records(ws, git, tag.commit, trainsets_dir(ws) / name)
            if records:
                found[name] = _from_record(records[0], tag)
    chosen = [t for t in found.values() if dataset is None or t.dataset == dataset]
    return sorted(chosen, key=lambda t: (t.created, t.id))


def get_trainset(ws: Repo, name: str) -> Trainset:
    """The record of one training set (from its tag, else from HEAD's tree)."""

    git = ws.git
    tag = git.tags(tag_name(name)).get(tag_name(name))
    commit = tag.commit if tag else git.head()
    records = _records(ws, git, commit, trainsets_dir(ws) / name) if commit else []
    if not records:
        known = ", ".join(t.name for t in list_trainsets(ws)) or "none"
        raise NotFoundError(
            f"no training set {name!r} (training sets: {known}; `labelspec trainset create` makes one)"
        )
    return _from_record(records[0], tag)


def _records(ws: Repo, git, commit: str, folder: Path) -> list:
    """The training-set records under ``folder`` in the tree of ``commit``, sorted by path."""

    entries = [(r, sha) for r, sha in git.ls_tree(commit, folder) if r.endswith(RECORD_SUFFIX)]
    blobs = git.blobs([sha for _, sha in entries])
    base = ws.relpath(folder)
    found = []
    for rel, sha in sorted(entries):
        text = blobs[sha].decode("utf-8")
        md5, size, _yaml_meta = parse_dvc_file(text, f"{base}/{rel}")
        found.append(Record(f"{base}/{rel.removesuffix('.dvc')}", md5, size, record_meta(text)))
    return found


def record_meta(text: str) -> dict[str, Any]:
    """labelspec's record in a ``.dvc`` file, read as the one JSON line ``vcs.dvc_file_text``
    writes: read as YAML 1.1 (libyaml), a float such as 1e-06 would come back as a string."""

    for line in text.splitlines():
        key, _, value = line.strip().partition(": ")
        if key == "labelspec" and value.startswith("{"):
            return nesting.loads(value, "<record>")
    return parse_dvc_file(text, "<record>")[2]


def _from_record(record, tag) -> Trainset:
    return Trainset.from_meta(
        record.meta,
        file=record.rel,
        md5=record.md5,
        size=record.size,
        commit=tag.commit if tag else None,
        tagged=tag is not None,
    )


def load_trainset(ws: Repo, name: str) -> pa.Table:
    """The labels of a training set as a pyarrow Table, checked against its sha256."""

    chosen = get_trainset(ws, name)
    path = Locator(ws).path(Record(chosen.file, chosen.md5, chosen.size, {}))
    if path is None:
        raise NotFoundError(
            f"training set {name!r} ({chosen.file}) is not in the workspace; run `labelspec pull`"
        )
    return _checked_table(path.read_bytes(), chosen.sha256, name)


def _checked_table(data: bytes, sha256: str, name: str) -> pa.Table:

    if sha256 and hashlib.sha256(data).hexdigest() != sha256:
        raise VcsError(
            f"training set {name!r}: the file does not match the sha256 in its record (changed "
            "after it was pinned?); fetch it again with `labelspec pull`"
        )
    import pyarrow as pa  # lazy: see the imports
    import pyarrow.parquet as pq  # lazy: see the imports

    return pq.read_table(pa.BufferReader(data))


SUMMARY = ("name", "dataset", "method", "revision", "rows", "split")


# -- diff and lineage ------------------------------------------------------------------------------
def diff_trainsets(ws: Repo, a: str, b: str) -> dict[str, Any]:
    """How two training sets differ, item by item (``labelspec.resolve.compare.compare``)."""

    first, second = get_trainset(ws, a), get_trainset(ws, b)
    result = compare(load_trainset(ws, a), load_trainset(ws, b))
    return {
        "a": {k: getattr(first, k) for k in SUMMARY},
        "b": {k: getattr(second, k) for k in SUMMARY},
        **result,
    }


def trainsets_of_item(ws: Repo, dataset: str, item_id: str) -> list[dict[str, Any]]:
    """Every training set of ``dataset`` an item's label went into, with how it was resolved
    (for ``trace item``). A set whose file is not here says so (``available: false``)."""

    sets = list_trainsets(ws, dataset)
    locator = Locator(ws)
    paths = {t.name: locator.path(Record(t.file, t.md5, t.size, {})) for t in sets}
    here = [p for p in paths.values() if p is not None]
    rows: dict[str, list[dict[str, Any]]] = {}
    if here:
        found = (
            database()
            .sql(
                f"select filename, * exclude (filename) from read_parquet({_sql_list(here)}, "
                "filename = true, union_by_name = true) where item_id = $id",
                params={"id": item_id},
            )
            .to_arrow_table()
            .to_pylist()
        )
        for row in found:
            rows.setdefault(row.pop("filename"), []).append(row)
    out = []
    for t in sets:
        path = paths[t.name]
        entry = {
            "trainset": t.name,
            "created": t.created,
            "method": t.method,
            "parameters": t.parameters,
            "revision": t.revision,
            "available": path is not None,
            "labels": rows.get(str(path), []) if path is not None else None,
        }
        if path is None or entry["labels"]:
            out.append(entry)
    return out


# -- read where training runs ------------------------------------------------------------------------
def read_pinned(
    url_or_path: str | Path,
    name: str,
    rev: str | None = None,
    remote: str | None = None,
    remote_config: dict[str, Any] | None = None,
) -> tuple[Trainset, pa.Table]:
    """A training set's record and table, read from a git URL or a workspace folder with no
    clone of your own and no ``dvc pull``: the tag ``trainset/<name>`` (or ``rev``) names the
    commit, DVC's API reads the one file from the DVC remote (``dvc_filesystem``). Checked
    against its sha256."""
    check_name(name)
    url, rev = str(url_or_path), rev or tag_name(name)
    folder = f"{FOLDER}/{name}"
    with dvc_errors(url, rev):
        fs = dvc_filesystem(url, rev, remote, remote_config)
        try:
            try:
                listing = fs.ls(folder, detail=False, dvcfiles=True)
            except FileNotFoundError:
                listing = []
            records = sorted(p for p in listing if p.endswith(".parquet.dvc"))
            if not records:
                raise NotFoundError(
                    f"{url} has no training set {name!r} at {rev} (`labelspec trainset list` "
                    "there shows the names; was the tag pushed?)"
                )
            with fs.open(records[0], "r") as handle:
                meta = record_meta(handle.read())
            with fs.open(records[0].removesuffix(".dvc"), "rb") as handle:
                data = handle.read()
        finally:
            fs.close()
    table = _checked_table(data, meta.get("sha256", ""), name)
    return Trainset.from_meta(meta, file=records[0].removesuffix(".dvc").lstrip("/")), table
