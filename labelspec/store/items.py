"""``labelspec items add``: register the items of a dataset, one immutable manifest file per add
(``datasets/<name>/manifests/<id>.parquet`` and its ``.dvc`` record); the items at a revision
are the union of its manifests.

Items come from a folder (images or .txt files) or a CSV / JSONL manifest. Each gets its sha256,
byte size, image width and height (read from the header, not decoded) or its text, and any extra
manifest columns as segment metadata. Paths are stored relative to the workspace and may not
leave it. Items are immutable: re-adding the same id with other content is refused.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labelspec.errors import LabelspecError, Problem, ProblemsError
from labelspec.store.engine import database
from labelspec.store.filemeta import TEXT_SUFFIXES, describe_files
from labelspec.workspace import Workspace

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff"}
MANIFEST_SUFFIXES = {".csv", ".jsonl", ".ndjson"}
RESERVED = {"item_id", "path", "uri", "sha256", "bytes", "media", "width", "height", "text"}
PROBLEM_CAP = 50


@dataclass
class ItemsResult:
    dataset: str
    added: int
    unchanged: int
    total: int
    metadata_columns: list[str]
    tracked: list[str] = field(default_factory=list)
    commit: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "added": self.added,
            "unchanged": self.unchanged,
            "total": self.total,
            "metadata_columns": self.metadata_columns,
            "dvc_tracked": self.tracked,
            "commit": self.commit,
        }


def manifests_dir(ws: Workspace, dataset: str) -> Path:
    return ws.dataset_dir(dataset) / "manifests"


def item_records(ws: Workspace, dataset: str, git=None, rev: str | None = None) -> list:
    """The item manifests at ``rev`` (HEAD): one immutable Parquet file per ``items add``."""
    from labelspec.store.records import records_at
    from labelspec.vcs import Git

    if git is None:
        with Git(ws.root) as own:
            return item_records(ws, dataset, own, rev)
    commit = git.rev_parse(rev or "HEAD")
    return records_at(ws, git, commit, manifests_dir(ws, dataset)) if commit else []


def item_files(ws: Workspace, dataset: str, git=None, rev: str | None = None) -> list[Path]:
    from labelspec.store.records import Locator

    records = item_records(ws, dataset, git, rev)
    return Locator(ws).paths(records, "item manifest") if records else []


def items_sql(paths: list[Path]) -> str:
    """A DuckDB query over manifest files: one row per item id (the first registration wins
    when two clones registered the same id; ``verify`` reports it if their content differs)."""
    listing = ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths)
    return (
        f"select * exclude (filename) from read_parquet([{listing}], union_by_name = true, filename = true) "
        "qualify row_number() over (partition by item_id order by filename) = 1"
    )


def read_items(
    ws: Workspace, dataset: str, columns: list[str] | None = None, git=None, rev: str | None = None
):
    """The items registered at ``rev`` (HEAD) as a pyarrow Table sorted by item_id (empty, with
    the base schema, if none yet)."""
    import pyarrow.parquet as pq

    from labelspec.store.schema import ITEM_BASE_SCHEMA

    paths = item_files(ws, dataset, git, rev)
    if not paths:
        empty = ITEM_BASE_SCHEMA.empty_table()
        return empty.select(columns) if columns else empty
    if len(paths) == 1:
        # ParquetFile reads one known file; read_table would first discover it as a dataset.
        return pq.ParquetFile(paths[0]).read(columns=columns)
    table = database().sql(items_sql(paths) + " order by item_id").to_arrow_table()
    return table.select(columns) if columns else table


def _scan_folder(ws: Workspace, folder: Path) -> list[dict[str, Any]]:
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
    import duckdb

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
        raise LabelspecError(f"{path}: a manifest needs an item_id, path, uri or text column")
    return rows


def _normalise(
    ws: Workspace, raw: list[dict[str, Any]], base: Path, source: str, cache=None
) -> tuple[list[dict], list[Problem]]:
    """Resolve paths against ``base``, keep them inside the workspace, describe every file (and
    store it in ``cache``, a ``vcs.DvcCache``, from the same read)."""
    problems: list[Problem] = []
    rows: list[dict[str, Any]] = []
    to_describe: list[tuple[int, Path]] = []
    for index, item in enumerate(raw, 1):
        row = {k: (None if v is None else str(v)) for k, v in item.items()}
        where = f"row {index}"
        if row.pop("_inside", False):  # a regular file of a scanned folder in the workspace
            to_describe.append((len(rows), ws.root / row["path"]))
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
                problems.append(
                    Problem(f"file not found: {row['path']}", source, record=where, path="path")
                )
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

    described = describe_files([path for _, path in to_describe], cache.root if cache else None)
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
    return rows, problems


def _fresh(existing, rows: list[dict[str, Any]], source: str):
    """The rows not registered yet; the same id with other content is a problem."""
    import pyarrow as pa

    from labelspec.store.schema import ITEM_BASE_COLUMNS, ITEM_BASE_FIELDS

    known = dict(
        zip(
            existing.column("item_id").to_pylist(),
            existing.column("sha256").to_pylist(),
            strict=True,
        )
    )
    problems, fresh, unchanged = [], [], 0
    for row in rows:
        old = known.get(row["item_id"])
        if row["item_id"] not in known:
            fresh.append(row)
        elif old == row.get("sha256"):
            unchanged += 1
        else:
            problems.append(
                Problem(
                    f"item {row['item_id']!r} is already registered with other content; items are immutable "
                    "(register the new file under a new item_id)",
                    source,
                    path="sha256",
                )
            )
    meta_columns = sorted({k for r in fresh for k in r} - set(ITEM_BASE_COLUMNS))
    schema = pa.schema([*ITEM_BASE_FIELDS, *(pa.field(c, pa.string()) for c in meta_columns)])
    new = pa.Table.from_pylist([{k: r.get(k) for k in schema.names} for r in fresh], schema=schema)
    all_meta = sorted(set(meta_columns) | (set(existing.column_names) - set(ITEM_BASE_COLUMNS)))
    return new.sort_by("item_id"), problems, unchanged, all_meta


def add_items(
    ws: Workspace, dataset: str, source: Path | str, guideline: str | None = None
) -> ItemsResult:
    """Register items from a folder or manifest; validate everything, then write one manifest
    file of the new items (and track a folder of files under ``datasets/<name>/items/``)."""
    from labelspec.store.datasets import ensure_dataset
    from labelspec.store.records import DATA_SUFFIX
    from labelspec.transaction import transaction

    source = Path(source).resolve()
    if not source.exists():
        raise LabelspecError(f"{source}: no such file or folder")
    display = ws.relpath(source)
    if source.is_dir():
        if source != ws.root and ws.root not in source.parents:
            raise LabelspecError(
                f"{source} is outside the workspace; copy the files under "
                f"datasets/{dataset}/items/<folder>/ (tracked by DVC) and add that folder"
            )
        raw, base = _scan_folder(ws, source), ws.root
        if not raw:
            raise LabelspecError(
                f"{display}: no images ({', '.join(sorted(IMAGE_SUFFIXES))}) or .txt files found"
            )
    elif source.suffix.lower() in MANIFEST_SUFFIXES:
        raw, base = _read_manifest(source), source.parent
    else:
        raise LabelspecError(
            f"{display}: give a folder, or a manifest ending in {', '.join(sorted(MANIFEST_SUFFIXES))}"
        )
    from labelspec.vcs import DvcCache, Git

    with Git(ws.root) as git:
        folder = _folder_to_track(ws, dataset, source, git)
    # a folder DVC will track is cached from the same read that hashes its files
    cache = DvcCache(ws.root) if folder is not None else None
    rows, problems = _normalise(ws, raw, base, display, cache)
    prefix = f"{display}/"  # rows' paths are workspace-relative: the folder's files start so
    stored = {
        r["path"].removeprefix(prefix): (r.pop("_md5"), r["bytes"]) for r in rows if r.get("_md5")
    }
    with transaction(ws, f"items add: {dataset} from {display}") as tx:
        ensure_dataset(ws, dataset, guideline, tx)
        existing = read_items(ws, dataset, git=tx.git)
        fresh, merge_problems, unchanged, meta = _fresh(existing, rows, display)
        problems += merge_problems
        if problems:
            raise ProblemsError(
                f"{display}: {len(problems)} problem(s); nothing was registered",
                problems[:PROBLEM_CAP],
                len(problems),
            )
        total = existing.num_rows + fresh.num_rows
        if not fresh.num_rows:  # every item already registered: nothing to write or commit
            return ItemsResult(dataset, 0, unchanged, total, meta)
        from labelspec.store.batches import new_batch_id, write_parquet

        part_id = "i" + new_batch_id().removeprefix("b")
        target = tx.new_file(manifests_dir(ws, dataset) / f"{part_id}{DATA_SUFFIX}")
        write_parquet(fresh, target)
        tx.track(
            target,
            {
                "kind": "items",
                "dataset": dataset,
                "items": fresh.num_rows,
                "columns": meta,
                "source": display,
                "created": part_id.split("-")[1],
            },
        )
        tracked = [ws.relpath(target)]
        if folder is not None:
            tracked.append(_track_folder(ws, tx, folder, stored if cache else {}))
        tx.journal.message = f"items add: {fresh.num_rows} new item(s) in {dataset} from {display}"
    return ItemsResult(dataset, fresh.num_rows, unchanged, total, meta, tracked, tx.commit)


def _folder_to_track(ws: Workspace, dataset: str, source: Path, git) -> Path | None:
    """A folder of files under ``datasets/<name>/items/`` that git does not track goes to DVC."""
    items_folder = ws.dataset_dir(dataset) / "items"
    if not source.is_dir() or not (source == items_folder or items_folder in source.parents):
        return None
    return None if git.tracked_files(source) else source


def _track_folder(ws: Workspace, tx, folder: Path, stored: dict[str, tuple[str, int]]) -> str:
    """Track a folder of item files as ``dvc add`` would (``<folder>.dvc`` beside it, every file
    in the DVC cache), written directly: ``dvc add`` hashes every file a second time and
    collects every stage first. The workspace's .gitignore already ignores
    ``datasets/*/items/?*/``; adding files to an already tracked folder later rewrites its
    ``.dvc`` (use a new folder per delivery of files, so that two clones adding items never touch
    the same file)."""
    from labelspec.vcs import DvcCache, dvc_folder_text, is_ignored

    record = folder.with_name(folder.name + ".dvc")
    if not is_ignored(ws.root, folder):  # the items folder itself: ignored beside it, as DVC does
        tx.append_line(folder.parent / ".gitignore", f"/{folder.name}")
    md5, size, nfiles = DvcCache(ws.root).store_folder(folder, stored)
    tx.write_text(record, dvc_folder_text(folder.name, md5, size, nfiles))
    return ws.relpath(record)
