"""Item files travel with the workspace: every registered item's file is committed to git at its
path, or listed by a DVC record (the committed ``.dvc`` file of the file or of a folder above
it), so ``labelspec push`` uploads it and a fresh clone's ``labelspec pull`` brings it back.

Where ``items add`` (and ``labelspec upgrade``) put a file, in this order:

1. committed to git with the same bytes, or listed by a DVC record with the same md5: it stays;
2. in an untracked folder directly under ``datasets/<name>/items/`` (or loose in an untracked
   ``items/``): that folder is tracked in place, ``<folder>.dvc`` beside it;
3. anywhere else under ``datasets/<name>/items/`` (a new file inside a folder that a record
   already lists, which another clone may hold too and which ``dvc checkout`` would delete):
   moved, and any other file (the user's own, elsewhere in the workspace) copied, to
   ``datasets/<name>/files/<add-id>/`` with its relative layout, tracked by
   ``datasets/<name>/files/<add-id>.dvc``; the item is registered with that path.

``files/`` and not ``items/<add-id>/``: ``items/`` itself may be one DVC output (``items add
DATASET datasets/DATASET/items``), and DVC refuses an output inside another. Every record is a
new file that no other clone writes, so clones that add items at once merge with ``git pull``.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labelspec.repo import Repo
from labelspec.store.engine import database
from labelspec.vcs import dvc_folder_text, is_ignored
from labelspec.yamlio import fast_load

FILES = "files"
# ?*/ and not */: dulwich, which DVC asks, would match files/ itself; the .dvc records beside
# the folders stay visible to git.
FILES_IGNORE = "/datasets/*/files/?*/"
STAYS = ("git", "dvc")


class Tracking:
    """What travels at HEAD: the files committed to git (path -> blob id, relative to the
    workspace) and the outputs of the committed ``.dvc`` records, read lazily (a record's folder
    listing comes from the DVC cache)."""

    def __init__(self, ws: Repo, git, cache):
        self.ws, self.git, self.cache = ws, git, cache
        self.head = git.head()
        self.blobs: dict[str, str] = dict(git.ls_tree(self.head, ws.root)) if self.head else {}
        # a record is named after its output (``dvc add`` writes ``<out>.dvc`` beside it)
        self.outs = {
            p.removesuffix(".dvc"): sha for p, sha in self.blobs.items() if p.endswith(".dvc")
        }
        self._entries: dict[str, dict[str, str] | None] = {}
        self._untracked: dict[str, bool] = {}
        self._items: dict[str, str] = {}

    def owner(self, path: str) -> str | None:
        """The DVC output at or above ``path``."""
        while True:
            if path in self.outs:
                return path
            if "/" not in path:
                return None
            path = path.rsplit("/", 1)[0]

    def entries(self, out: str) -> dict[str, str] | None:
        """relpath -> md5 of every file ``out``'s record lists ("" for a single-file output);
        None when a folder's listing is not in the DVC cache (not pulled)."""
        if out not in self._entries:
            sha = self.outs[out]
            data = fast_load(self.git.blobs([sha])[sha].decode("utf-8"), f"{out}.dvc") or {}
            try:
                first = data["outs"][0]
                md5, name = str(first["md5"]), str(first["path"])
            except (KeyError, IndexError, TypeError):
                md5, name = "", ""
            found: dict[str, str] | None = {}
            if name != out.rsplit("/", 1)[-1]:
                found = {}  # not the record of this output: it lists nothing here
            elif md5.endswith(".dir"):
                listing = self.cache.listing(md5)
                found = None if listing is None else {e["relpath"]: e["md5"] for e in listing}
            else:
                found = {"": md5}
            self._entries[out] = found
        return self._entries[out]

    def listed(self, path: str) -> str | None:
        """The md5 a DVC record gives ``path``, or None."""
        out = self.owner(path)
        entries = self.entries(out) if out is not None else None
        return None if entries is None else entries.get(path[len(out) + 1 :] if path != out else "")

    def travels(self, path: str) -> bool:
        """Whether ``path`` is committed to git or listed by a DVC record (names only)."""
        return path in self.blobs or self.listed(path) is not None

    def untracked_folder(self, folder: str) -> bool:
        """``folder`` is a folder and nothing at or under it is committed or tracked, nor is a
        folder above it: DVC may track it as one new output."""
        if folder not in self._untracked:
            prefix = folder + "/"
            self._untracked[folder] = (
                os.path.isdir(self.ws.root / folder)
                and self.owner(folder) is None
                and not any(p.startswith(prefix) for p in self.blobs)
            )
        return self._untracked[folder]

    def home(self, dataset: str, path: str) -> tuple[str, str | None]:
        """Where a file that does not travel goes: ``("in_place", folder)``, ``("move", None)``
        or ``("copy", None)`` (rules 2 and 3 of the module doc)."""
        items = self.items_folder(dataset)
        if not path.startswith(items + "/"):
            return "copy", None
        rest = path[len(items) + 1 :]
        folder = items if "/" not in rest else f"{items}/{rest.split('/', 1)[0]}"
        return ("in_place", folder) if self.untracked_folder(folder) else ("move", None)

    def items_folder(self, dataset: str) -> str:
        """``datasets/<name>/items``, relative to the workspace."""
        if dataset not in self._items:
            self._items[dataset] = self.ws.relpath(self.ws.dataset_dir(dataset)) + "/items"
        return self._items[dataset]


def git_blob_id(path: Path) -> str:
    """The id git gives the file's bytes (``git hash-object``)."""
    digest = hashlib.sha1(f"blob {os.stat(path).st_size}\0".encode())
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class FilePlan:
    """Where each file of an add goes (workspace-relative paths): git | dvc (it stays),
    in_place (its folder, in ``folders``, gets a record), move | copy (to the add's folder).
    ``uncached``: files planned to stay, found changed once read: not cached by that read."""

    kinds: dict[str, str] = field(default_factory=dict)
    folders: dict[str, str] = field(default_factory=dict)
    uncached: set[str] = field(default_factory=set)

    def stays(self, path: str) -> bool:
        return self.kinds.get(path) in STAYS


def plan_files(tracking: Tracking, dataset: str, paths: Iterable[str]) -> FilePlan:
    """The plan from names alone, before the files are read: which ones git or a record may
    already hold (``confirm`` checks their bytes once read) and where the others go."""
    plan = FilePlan()
    for path in paths:
        if path in plan.kinds:
            continue
        if path in tracking.blobs:
            plan.kinds[path] = "git"
        elif tracking.listed(path) is not None:
            plan.kinds[path] = "dvc"
        else:
            plan.kinds[path], folder = tracking.home(dataset, path)
            if folder is not None:
                plan.folders[path] = folder
    items = tracking.items_folder(dataset)
    if items in plan.folders.values():  # loose files: the whole items folder is one output
        plan.folders = dict.fromkeys(plan.folders, items)
    return plan


def confirm(plan: FilePlan, tracking: Tracking, md5s: dict[str, str]) -> None:
    """After the read: a file that git or a DVC record holds with other bytes is copied."""
    for path, kind in plan.kinds.items():
        if kind == "git":
            same = git_blob_id(tracking.ws.root / path) == tracking.blobs[path]
        else:
            same = kind != "dvc" or tracking.listed(path) == md5s.get(path)
        if not same:
            plan.kinds[path] = "copy"
            plan.uncached.add(path)


@dataclass
class Placed:
    """What an add (or an upgrade) did with item files."""

    in_git: int = 0
    in_dvc: int = 0
    in_place: dict[str, int] = field(default_factory=dict)  # record -> files it tracks
    moved: int = 0
    copied: int = 0
    folder: str | None = None  # datasets/<name>/files/<add-id>
    record: str | None = None  # its .dvc
    new_paths: dict[str, str] = field(default_factory=dict)  # source -> the tracked copy

    @property
    def records(self) -> list[str]:
        return [*self.in_place, *([self.record] if self.record else [])]

    def to_json(self) -> dict[str, Any]:
        return {
            "in_git": self.in_git,
            "in_dvc": self.in_dvc,
            "tracked_in_place": self.in_place,
            "moved": self.moved,
            "copied": self.copied,
            "copied_to": self.folder,
            "copy_record": self.record,
        }


def place(
    ws: Repo,
    tx,
    dataset: str,
    add_id: str,
    plan: FilePlan,
    files: dict[str, tuple[str, int]],
    cache,
    base: str | None = None,
) -> Placed:
    """Give every file of ``files`` (path -> (md5, size), read and cached already, but for
    ``plan.uncached``) a home as ``plan`` says, inside the transaction ``tx``. ``base``: the
    folder a folder add named, whose layout the copies keep; otherwise the files' common
    folder."""
    placed = Placed()
    in_place: dict[str, dict[str, tuple[str, int]]] = {}
    moving, copying = [], []
    for path in sorted(files):
        kind = plan.kinds[path]
        if kind == "git":
            placed.in_git += 1
        elif kind == "dvc":
            placed.in_dvc += 1
        elif kind == "in_place":
            folder = plan.folders[path]
            in_place.setdefault(folder, {})[path[len(folder) + 1 :]] = files[path]
        else:
            (moving if kind == "move" else copying).append(path)
    for path in sorted(plan.uncached & set(files)):
        cache.store(ws.root / path, files[path][0])
    for folder, stored in sorted(in_place.items()):
        record = track_folder(ws, tx, ws.root / folder, stored, cache)
        placed.in_place[record] = len(stored)
    if moving or copying:
        _copy(ws, tx, dataset, add_id, moving + copying, files, cache, base, placed)
        placed.moved, placed.copied = len(moving), len(copying)
        for path in moving:  # the originals go once the commit holds the copies
            tx.remove_after_commit(ws.root / path)
    return placed


def _copy(ws, tx, dataset, add_id, sources, files, cache, base, placed: Placed) -> None:

    top = (
        base
        if base is not None and all(p.startswith(base + "/") for p in sources)
        else common_folder(sources)
    )
    dest = tx.new_file(ws.dataset_dir(dataset) / FILES / add_id)
    dest.mkdir()
    placed.folder = ws.relpath(dest)
    stored: dict[str, tuple[str, int]] = {}
    for path in sources:
        rel = path[len(top) + 1 :] if top else path
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ws.root / path, target)
        stored[rel] = files[path]
        placed.new_paths[path] = f"{placed.folder}/{rel}"
    ensure_ignored(ws, tx)
    md5, size, nfiles = cache.store_folder(dest, stored)
    record = tx.write_text(
        dest.with_name(dest.name + ".dvc"), dvc_folder_text(add_id, md5, size, nfiles)
    )
    placed.record = ws.relpath(record)


def common_folder(paths: list[str]) -> str:
    """The deepest folder holding every path ("" for the workspace root)."""
    parents = [posixpath.dirname(p) for p in paths]
    return "" if "" in parents else posixpath.commonpath(parents)


def ensure_ignored(ws: Repo, tx) -> None:
    """Workspaces made before ``files/`` existed get its static pattern (the same line in every
    clone, so appending it merges)."""
    ignore = ws.root / ".gitignore"
    present = ignore.read_text().splitlines() if ignore.is_file() else []
    if FILES_IGNORE not in present:
        tx.append_line(ignore, FILES_IGNORE)


def track_folder(ws: Repo, tx, folder: Path, stored: dict[str, tuple[str, int]], cache) -> str:
    """Track a folder of item files as ``dvc add`` would (``<folder>.dvc`` beside it, every file
    in the DVC cache), written directly: ``dvc add`` hashes every file a second time and
    collects every stage first. ``stored`` (relpath -> (md5, size)): files read and cached
    already. The workspace's .gitignore already ignores ``datasets/*/items/?*/``; the whole
    ``items`` folder gets the line DVC would write beside it."""

    record = folder.with_name(folder.name + ".dvc")
    if not is_ignored(ws.root, folder):
        tx.append_line(folder.parent / ".gitignore", f"/{folder.name}")
    md5, size, nfiles = cache.store_folder(folder, stored)
    tx.write_text(record, dvc_folder_text(folder.name, md5, size, nfiles))
    return ws.relpath(record)


# -- every registered file at once (verify, upgrade) -------------------------------------------
STATES = ("git", "dvc", "pull", "untracked", "gone")


def classify(ws: Repo, tracking: Tracking, items):
    """``item_id``, ``path`` and ``state`` of every item of ``items`` (a pyarrow Table) that
    has a file: git (committed), dvc (listed by a record, and its bytes are in the working tree
    or the DVC cache; under a record whose listing is not in the cache, in the working tree),
    pull (a record holds it, its bytes are not here), untracked (here, but in no record) or
    gone. Names, directory listings and the cache objects of files absent from
    the working tree: no file is read. Built in DuckDB from lists bound as parameters: turning
    Python values into Arrow makes pyarrow import pandas (0.3-0.7 s of ``verify``)."""

    con = database()
    con.register("given", items)
    con.execute(
        "create temp table files as select item_id, path, "
        "regexp_replace(path, '(^|/)[^/]*$', '') as parent from given where path is not null"
    )
    _table(con, "committed", path=list(tracking.blobs))
    con.execute("create temp table rest as select * from files anti join committed using (path)")
    folders = [f for (f,) in con.execute("select distinct parent from rest order by 1").fetchall()]
    # the output above each folder, found once per folder; a file may be an output itself
    _table(
        con,
        "folder_owner",
        parent=folders,
        owner=[tracking.owner(f) if f else None for f in folders],
    )
    _table(con, "outs", out=list(tracking.outs))
    con.execute(
        """create temp table owned as
        select r.item_id, r.path, case when o.out is not null then r.path else f.owner end as owner
        from rest r left join folder_owner f using (parent) left join outs o on o.out = r.path"""
    )
    listed_paths, listed_md5, unpulled = [], [], []
    for (out,) in con.execute(
        "select distinct owner from owned where owner is not null order by 1"
    ).fetchall():
        entries = tracking.entries(out)
        if entries is None:
            unpulled.append(out)
        else:
            listed_paths += [f"{out}/{rel}" if rel else out for rel in entries]
            listed_md5 += entries.values()
    _table(con, "listed", path=listed_paths, md5=listed_md5)
    _table(con, "unpulled", out=unpulled)
    _table(con, "here", path=_files_in(ws.root, folders))
    con.execute(
        """
        create temp table states as
        select item_id, path, 'git' as state, null::varchar as md5
        from files semi join committed using (path)
        union all
        select r.item_id, r.path,
          case
            when u.out is not null and h.path is not null then 'dvc'
            when u.out is not null then 'pull'
            when l.md5 is not null and h.path is not null then 'dvc'
            when l.md5 is not null then 'cache?'
            when h.path is not null then 'untracked'
            else 'gone'
          end, l.md5
        from owned r
          left join unpulled u on u.out = r.owner
          left join listed l on l.path = r.path
          left join here h on h.path = r.path
        """
    )
    # listed, absent from the working tree: are the bytes in the DVC cache? (only these rows)
    unsure = con.execute("select distinct md5 from states where state = 'cache?'").fetchall()
    _table(con, "cached", md5=[m for (m,) in unsure if tracking.cache.object_path(m).is_file()])
    return con.sql(
        """select item_id, path,
             case when state <> 'cache?' then state
                  when md5 in (select md5 from cached) then 'dvc' else 'pull' end as state
           from states order by 1"""
    ).to_arrow_table()


def _table(con, name: str, **columns: list) -> None:
    """A temp table of varchar ``columns`` (equal-length lists) on ``con``, made by DuckDB."""
    select = ", ".join(f"unnest(${n + 1}::varchar[]) as {c}" for n, c in enumerate(columns))
    con.execute(f"create temp table {name} as select {select}", list(columns.values()))


def _files_in(root: Path, folders: list[str]) -> list[str]:
    """Every file directly in each folder (one directory read each, no stat per file)."""
    found = []
    for folder in folders:
        try:
            with os.scandir(root / folder) as entries:
                found += [
                    f"{folder}/{e.name}" if folder else e.name for e in entries if e.is_file()
                ]
        except (FileNotFoundError, NotADirectoryError):
            continue
    return found
