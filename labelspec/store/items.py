"""``labelspec items add``: register the items of a dataset, one immutable manifest file per add
(``datasets/<name>/manifests/<id>.parquet`` and its ``.dvc`` record); the items at a revision
are the union of its manifests.

Items come from a folder (images or .txt files), a CSV / JSONL manifest, or a list of item files.
Each gets its sha256, byte size, image width and height (read from the header, not decoded) or
its text, and any extra manifest columns as segment metadata. Paths are stored relative to the
workspace and may not leave it. Items are immutable: re-adding the same id with other content is
refused. Every item file travels with the workspace (git, or a DVC record: ``itemfiles``); a
file copied to be tracked is registered with the copy's path.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from labelspec import names
from labelspec.errors import InputError, NotFoundError, Problem, ProblemsError
from labelspec.repo import Repo
from labelspec.store.batches import new_batch_id, write_parquet
from labelspec.store.datasets import ensure_dataset
from labelspec.store.engine import database
from labelspec.store.filemeta import TEXT_SUFFIXES, describe_files
from labelspec.store.item_manifests import item_files as item_files  # re-exported
from labelspec.store.item_manifests import item_records as item_records  # re-exported
from labelspec.store.item_manifests import items_sql as items_sql  # re-exported
from labelspec.store.item_manifests import manifests_dir, read_items
from labelspec.store.itemfiles import Placed, Tracking, confirm, place, plan_files
from labelspec.store.records import DATA_SUFFIX
from labelspec.store.schema import ITEM_BASE_COLUMNS, ITEM_BASE_FIELDS
from labelspec.store.tables import arrow_table
from labelspec.transaction import transaction
from labelspec.vcs import DvcCache

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff"}
MANIFEST_SUFFIXES = {".csv", ".jsonl", ".ndjson"}
RESERVED = {"item_id", "path", "uri", "sha256", "bytes", "media", "width", "height", "text"}
ITEM_SUFFIXES = IMAGE_SUFFIXES | TEXT_SUFFIXES
PROBLEM_CAP = 50
EXAMPLES = 5  # item ids an output names of a longer list


@dataclass
class ItemsResult:
    dataset: str
    added: int
    unchanged: int
    total: int
    metadata_columns: list[str]
    tracked: list[str] = field(default_factory=list)
    commit: str | None = None
    files: Placed = field(default_factory=Placed)
    reregistered: int = 0  # registered items whose file now resolves to a tracked copy
    remote: int = 0  # items with a uri only: not stored in the workspace
    remote_examples: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "added": self.added,
            "unchanged": self.unchanged,
            "total": self.total,
            "metadata_columns": self.metadata_columns,
            "dvc_tracked": self.tracked,
            "files": self.files.to_json(),
            "reregistered": self.reregistered,
            "remote": {"items": self.remote, "examples": self.remote_examples},
            "commit": self.commit,
        }


def _scan_folder(ws: Repo, folder: Path) -> list[dict[str, Any]]:
    """Every image and text file under ``folder``, by ``os.scandir``; a regular file found so is
    inside the workspace (``_inside``), a symbolic link is checked like a manifest's path."""
    rows = []
    top = ws.relpath(folder)

    def walk(path: str, rel: str) -> None:
        with os.scandir(path) as entries:
            ordered = sorted(entries, key=lambda e: e.name)
        for entry in ordered:
            if entry.name.startswith(".") and entry.is_dir(follow_symlinks=False):
                continue
            child = f"{rel}/{entry.name}" if rel else entry.name
            if entry.is_dir(follow_symlinks=False):
                walk(entry.path, child)
            elif os.path.splitext(entry.name)[1].lower() in IMAGE_SUFFIXES | TEXT_SUFFIXES:
                row = {"item_id": child, "path": f"{top}/{child}"}
                if not entry.is_symlink():
                    row["_inside"] = True
                rows.append(row)

    walk(str(folder), "")
    return rows


def _read_manifest(path: Path) -> list[dict[str, Any]]:

    reader = (
        "read_csv(?, all_varchar=true, header=true)"
        if path.suffix.lower() == ".csv"
        else "read_json(?, format='newline_delimited')"
    )
    try:
        table = database().sql(f"select * from {reader}", params=[str(path)]).to_arrow_table()
    except duckdb.Error as exc:
        raise ProblemsError(
            f"{path}: cannot read the manifest",
            [Problem(message=str(exc).splitlines()[0], file=str(path))],
        ) from exc
    rows = table.to_pylist()
    if rows and not ({"item_id", "path", "uri", "text"} & set(rows[0])):
        raise InputError(f"{path}: a manifest needs an item_id, path, uri or text column")
    return rows


def _resolve(
    ws: Repo, raw: list[dict[str, Any]], base: Path, source: str
) -> tuple[list[dict], list[Problem], list[tuple[int, Path]]]:
    """Resolve paths against ``base`` and keep them inside the workspace; (rows, problems, the
    files to read: (row index, path))."""
    problems: list[Problem] = []
    rows: list[dict[str, Any]] = []
    to_describe: list[tuple[int, Path | str]] = []
    root = str(ws.root)  # a scanned folder's files joined as strings: one Path each costs
    missing: list[tuple[str, str, Path]] = []  # (row, path as given, where it was looked for)
    missing_at = 0
    for index, item in enumerate(raw, 1):
        row = {k: (None if v is None else str(v)) for k, v in item.items()}
        where = row.pop("_where", None) or f"row {index}"
        if row.pop("_inside", False):  # a regular file of a scanned folder in the workspace
            to_describe.append((len(rows), f"{root}/{row['path']}"))
        elif row.get("path"):
            resolved = (base / row["path"]).resolve()
            if resolved != ws.root and ws.root not in resolved.parents:
                problems.append(
                    Problem(
                        f"path {row['path']!r} escapes the workspace {ws.root} (copy the file inside it)",
                        source,
                        record=where,
                        path="path",
                    )
                )
                continue
            if not resolved.is_file():
                missing_at = len(problems) if not missing else missing_at
                missing.append((where, row["path"], resolved))
                continue
            row["path"] = resolved.relative_to(ws.root).as_posix()  # resolved once, above
            to_describe.append((len(rows), resolved))
        elif row.get("text") is not None:
            text = row["text"]
            row.update(
                media="text",
                sha256=hashlib.sha256(text.encode()).hexdigest(),
                bytes=len(text.encode()),
            )
        elif not row.get("uri"):
            problems.append(Problem("needs a path, uri or text", source, record=where, path="path"))
            continue
        else:  # a remote item: the manifest gives its size and dimensions, if anything
            sizes = ("bytes", "width", "height")
            bad = [k for k in sizes if row.get(k) and not row[k].strip().isdigit()]
            if bad:
                problems.append(
                    Problem(
                        f"must be a whole number of {'bytes' if bad[0] == 'bytes' else 'pixels'}, "
                        f"got {row[bad[0]]!r}",
                        source,
                        record=where,
                        path=bad[0],
                    )
                )
                continue
            row.update({k: int(row[k]) if row.get(k) else None for k in sizes})
        row["item_id"] = row.get("item_id") or row.get("path") or row.get("uri")
        if not row["item_id"]:
            problems.append(Problem("needs an item_id", source, record=where, path="item_id"))
            continue
        row["_where"] = where
        rows.append(row)
    if missing:  # one line for them all, where the first one would have been listed
        problems.insert(missing_at, _not_found(ws, base, source, missing))
    return rows, problems, to_describe


def _not_found(ws: Repo, base: Path, source: str, missing: list[tuple[str, str, Path]]):
    """One problem for every manifest path that names no file: which rows, where the paths
    were looked for (the manifest's folder), and the fix when they name files from elsewhere."""
    where, given, looked = missing[0]
    shown = ", ".join(w.removeprefix("row ") for w, _, _ in missing[:5])
    rows = f"{len(missing)} rows: {shown}{' ...' if len(missing) > 5 else ''}"
    folder = ws.relpath(base)
    message = (
        f"file not found: {given} (and {len(missing) - 1} more)"
        if len(missing) > 1
        else f"file not found: {given}"
    )
    if base == ws.root:
        return Problem(
            f"{message}; a manifest's paths are relative to its own folder, here the workspace root",
            source,
            record=rows if len(missing) > 1 else where,
            path="path",
        )
    message += (
        f"; a manifest's paths are relative to its own folder ({folder}/), so it was looked "
        f"for at {ws.relpath(looked)}"
    )
    from_root = (ws.root / given).resolve()
    if from_root.is_file() and ws.root in from_root.parents:
        message += (
            f"; it is at {ws.relpath(from_root)} from the workspace root: write the paths as "
            f"{os.path.relpath(from_root, base)} (relative to {folder}/) or as absolute paths, "
            "or move the manifest to the workspace root"
        )
    return Problem(message, source, record=rows if len(missing) > 1 else where, path="path")


def _describe(
    ws: Repo,
    rows: list[dict[str, Any]],
    to_describe: list[tuple[int, Path | str]],
    source: str,
    cache,
    store: list[bool],
) -> tuple[list[dict], list[Problem], dict[str, str]]:
    """Read every file once: its description joins its row, and the files whose ``store`` flag
    is set become objects of ``cache`` (a ``vcs.DvcCache``) from the same read. (rows, problems,
    path -> md5)."""
    problems: list[Problem] = []
    md5s: dict[str, str] = {}
    described = describe_files([path for _, path in to_describe], cache, store)
    for (index, path), info in zip(to_describe, described, strict=True):
        if isinstance(info, str):
            problems.append(
                Problem(
                    f"cannot read {ws.relpath(path)}: {info}",
                    source,
                    record=rows[index]["_where"],
                    path="path",
                )
            )
            rows[index]["_bad"] = True
        else:
            md5s[rows[index]["path"]] = info.pop("_md5")
            rows[index].update(info)
    rows = [r for r in rows if not r.pop("_bad", False)]
    seen: dict[str, str] = {}
    for row in rows:
        where = row.pop("_where")
        if row["item_id"] in seen:
            problems.append(
                Problem(
                    f"item_id {row['item_id']!r} appears twice (also {seen[row['item_id']]})",
                    source,
                    record=where,
                    path="item_id",
                )
            )
        seen[row["item_id"]] = where
    return rows, problems, md5s


def _split(existing, rows: list[dict[str, Any]], source: str):
    """(rows not registered yet, rows registered with the same content, problems): the same id
    with other content is a problem."""

    known = dict(_registered(existing, "sha256", [r["item_id"] for r in rows]))
    problems, fresh, unchanged = [], [], []
    for row in rows:
        if row["item_id"] not in known:
            fresh.append(row)
        elif known[row["item_id"]] == row.get("sha256"):
            unchanged.append(row)
        else:
            problems.append(
                Problem(
                    f"item {row['item_id']!r} is already registered with other content; items are immutable "
                    "(register the new file under a new item_id)",
                    source,
                    path="sha256",
                )
            )
    return fresh, unchanged, problems


def _registered(existing, column: str, ids: list[str]) -> list[tuple]:
    """(item_id, ``column``) of the registered items among ``ids``: a join in DuckDB (pyarrow's
    ``is_in`` would take the ids as an Arrow array, whose conversion imports pandas)."""
    con = database()
    con.register("existing", existing.select(["item_id", column]))
    return con.execute(
        f"select item_id, {column} from existing where item_id in (select unnest($ids::VARCHAR[]))",
        {"ids": ids},
    ).fetchall()


def manifest_table(rows: list[dict[str, Any]]):
    """The rows of one manifest file, sorted by item_id: the base columns, then the segment
    metadata columns (strings) the rows carry."""

    meta_columns = sorted({k for r in rows for k in r} - set(ITEM_BASE_COLUMNS))
    schema = pa.schema([*ITEM_BASE_FIELDS, *(pa.field(c, pa.string()) for c in meta_columns)])
    return arrow_table(rows, schema).sort_by("item_id")


def new_add_id() -> str:
    """i-<time>-<random>: the id of one add's manifest and of the folder its copies go to."""

    return "i" + new_batch_id().removeprefix("b")


def write_manifest(ws: Repo, tx, dataset: str, add_id: str, table, record: dict) -> str:
    """Write one immutable manifest file and its ``.dvc`` record inside ``tx``."""

    target = tx.new_file(manifests_dir(ws, dataset) / f"{add_id}{DATA_SUFFIX}")
    write_parquet(table, target)
    meta = {"kind": "items", "dataset": dataset, **record, "created": add_id.split("-")[1]}
    tx.track(target, meta)
    return ws.relpath(target)


def _sources(ws: Repo, dataset: str, sources: list[Path]):
    """(raw rows, the folder their paths are relative to, the name shown for them, the folder
    whose layout copies keep): one folder, one manifest, or item files."""
    paths = [Path(s).resolve() for s in sources]
    if not paths:
        raise InputError("give a folder, a manifest or item files to add")
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise NotFoundError(f"{missing[0]}: no such file or folder")
    first = paths[0]
    display = ws.relpath(first)
    if len(paths) == 1 and first.is_dir():
        if first != ws.root and ws.root not in first.parents:
            raise InputError(
                f"{first} is outside the workspace; copy the files under "
                f"datasets/{dataset}/items/<folder>/ (tracked by DVC) and add that folder"
            )
        raw = _scan_folder(ws, first)
        if not raw:
            raise InputError(
                f"{display}: no images ({', '.join(sorted(IMAGE_SUFFIXES))}) or .txt files found"
            )
        return raw, ws.root, display, display
    if len(paths) == 1 and first.suffix.lower() in MANIFEST_SUFFIXES:
        return _read_manifest(first), first.parent, display, None
    others = [p for p in paths if p.is_dir() or p.suffix.lower() not in ITEM_SUFFIXES]
    if others:
        raise InputError(
            f"{ws.relpath(others[0])}: give one folder, one manifest ending in "
            f"{', '.join(sorted(MANIFEST_SUFFIXES))}, or item files "
            f"({', '.join(sorted(ITEM_SUFFIXES))})"
        )
    # item ids as a folder add of the files' common folder would give them (`add DS dir/*.png`
    # and `add DS dir` agree)
    common = Path(os.path.commonpath([p.parent for p in paths]))
    raw = [
        {"item_id": p.relative_to(common).as_posix(), "path": str(p), "_where": ws.relpath(p)}
        for p in paths
    ]
    return raw, ws.root, display if len(paths) == 1 else f"{len(paths)} files", None


def add_items(
    ws: Repo, dataset: str, source: Path | str | list[Path | str], guideline: str | None = None
) -> ItemsResult:
    """Register items from a folder, a manifest, or item files; validate everything, then write
    one manifest file of the new items and give every item file that does not travel yet a
    home in DVC (``itemfiles``)."""

    sources = [source] if isinstance(source, (str, Path)) else list(source)
    raw, base, display, layout = _sources(ws, dataset, [Path(s) for s in sources])
    names.one_line(display, "the item source's path")
    rows, problems, to_describe = _resolve(ws, raw, base, display)
    cache = DvcCache(ws.root)
    git = ws.git
    tracking = Tracking(ws, git, cache)
    paths = [rows[i]["path"] for i, _ in to_describe]
    plan = plan_files(tracking, dataset, paths)
    # files git or DVC may hold already are not cached: the rest are, from the same read
    store = [not plan.stays(p) for p in paths]
    rows, read_problems, md5s = _describe(ws, rows, to_describe, display, cache, store)
    problems += read_problems
    confirm(plan, tracking, md5s)
    try:
        return _register(
            ws, dataset, guideline, (rows, problems, md5s), display, layout, tracking, plan
        )
    except BaseException:
        cache.discard_created()  # content-addressed, but a refused add leaves nothing
        raise


def _register(ws, dataset, guideline, read, display, layout, tracking: Tracking, plan):
    """The write: under the lock, against the registered items and the records as they are
    then. ``read``: (rows, problems, path -> md5) of the files, read before the lock."""

    rows, problems, md5s = read
    cache = tracking.cache
    with transaction(ws, f"items add: {dataset} from {display}") as tx:
        if tx.git.head() != tracking.head:  # another writer landed while the files were read
            tracking = Tracking(ws, tx.git, cache)
            read_plan, plan = plan, plan_files(tracking, dataset, list(plan.kinds))
            confirm(plan, tracking, md5s)
            plan.uncached |= {p for p in read_plan.kinds if read_plan.stays(p)}
        ensure_dataset(ws, dataset, guideline, tx)
        existing = read_items(ws, dataset, git=tx.git)
        fresh, unchanged, merge_problems = _split(existing, rows, display)
        problems += merge_problems
        if problems:
            raise ProblemsError(
                f"{display}: {len(problems)} problem(s); nothing was registered",
                problems[:PROBLEM_CAP],
                len(problems),
            )
        registered_path = dict(_registered(existing, "path", [r["item_id"] for r in unchanged]))
        # a registered item whose file does not travel gets one (registered again if it moves)
        homeless = [
            r
            for r in unchanged
            if r.get("path") and not _travels(registered_path[r["item_id"]], r, plan, tracking)
        ]
        remote = [r["item_id"] for r in rows if not r.get("path") and r.get("text") is None]
        old_meta = set(existing.column_names) - set(ITEM_BASE_COLUMNS)
        result = ItemsResult(
            dataset,
            len(fresh),
            len(unchanged),
            existing.num_rows + len(fresh),
            sorted(old_meta),
            remote=len(remote),
            remote_examples=remote[:EXAMPLES],
        )
        if not fresh and not homeless:  # every item registered, every file travels: no write
            return result
        add_id = new_add_id()
        files = {
            r["path"]: (md5s[r["path"]], r["bytes"]) for r in [*fresh, *homeless] if r.get("path")
        }
        result.files = place(ws, tx, dataset, add_id, plan, files, cache, layout)
        moved = result.files.new_paths
        for row in fresh:
            if row.get("path"):
                row["path"] = moved.get(row["path"], row["path"])
        again = [
            {**r, "path": moved.get(r["path"], r["path"])}
            for r in homeless
            if moved.get(r["path"], r["path"]) != registered_path[r["item_id"]]
        ]
        result.reregistered = len(again)
        if fresh or again:
            table = manifest_table(fresh + again)
            meta = sorted(set(table.column_names) - set(ITEM_BASE_COLUMNS))
            result.metadata_columns = sorted(old_meta | set(meta))
            record = {"items": len(fresh), "columns": meta, "source": display}
            if again:
                record["reregistered"] = len(again)
            result.tracked.append(write_manifest(ws, tx, dataset, add_id, table, record))
        result.tracked += result.files.records
        tx.journal.message = (
            f"items add: {len(fresh)} new item(s) in {dataset} from {display}"
            if fresh
            else f"items add: track the files of {len(homeless)} item(s) of {dataset} from {display}"
        )
    result.commit = tx.commit
    return result


def _travels(registered: str | None, row: dict[str, Any], plan, tracking: Tracking) -> bool:
    """Whether the file of a registered item travels (its path as registered)."""
    if registered is None:  # registered without a file (inline text)
        return True
    if registered == row.get("path"):
        return plan.stays(registered)
    return tracking.travels(registered)
