"""The one write path: every command that changes the workspace does it inside ``transaction``.

    with transaction(ws, "import 1200 labels from vendor-a") as tx:
        tx.write_bytes(path, data)        # a new file, or a tracked one (temp file + os.replace)
        tx.track(path, meta)              # DVC: cache object + ``<path>.dvc`` carrying ``meta``
        tx.append_line(path, line)        # an append-only record file (merge=union)
        tx.tag(name, message)             # made right after the commit
    tx.commit                             # the commit's sha

Steps, as dvc's ``@locked`` + ``scm_context`` do for its verbs: take the workspace lock; finish or
undo what a killed writer left; write a journal that lists every path *before* it changes; make
the changes; commit exactly those paths; tag; drop the journal. An error before the commit
restores every journaled path (tracked files from the starting commit, new files deleted); the
commit is the point of no return, so after it the tags are completed instead, and so are the
steps a write journals for after its commit (``remove_after_commit`` and its kin: files deleted,
a folder emptied, tags dropped, outputs moved out of a staging folder), each idempotent. A
process killed at any step leaves its journal behind, and the next transaction (or ``labelspec
recover``) does the same from it, including clearing the ``.git/index.lock`` a killed git left.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labelspec.errors import ConflictError, VcsError, WorkspaceError
from labelspec.names import commit_message
from labelspec.repo import LAYOUT, Repo
from labelspec.vcs import DvcCache, dvc_file_text, hash_file
from labelspec.yamlio import default_mode

JOURNAL = "journal.json"
STAGING = ".labelspec-"  # the name of a staging folder starts so (``move_after_commit``)


@dataclass
class Journal:
    """What an open transaction is about to change; written before each change."""

    message: str
    head: str | None
    paths: list[dict[str, Any]] = field(default_factory=list)  # {path, existed, tracked, commit}
    tags: list[list[str]] = field(default_factory=list)  # [name, message]
    folders: list[str] = field(default_factory=list)  # folders created (removed on undo)
    state: str = "open"  # open | committing | committed
    kind: str = "write"  # write: a transaction; pull: `labelspec pull` merging and fetching
    branch: list[str] = field(default_factory=list)  # [name, sha before] a write moves directly
    # steps once the commit lands, in order; recovery completes them too (see ``_finish``):
    # ["remove", rel] | ["rmtree", rel] | ["untag", name, commit] | ["move", staging, *names]
    after: list[list[str]] = field(default_factory=list)
    commit: str | None = None
    pid: int = field(default_factory=os.getpid)
    started: str = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    )

    @classmethod
    def load(cls, path: Path) -> Journal | None:
        if not path.is_file():
            return None
        try:
            fields = json.loads(path.read_text(encoding="utf-8"))
            # a journal written before typed steps listed its deletions as ``remove_after``
            removals = [["remove", rel] for rel in fields.pop("remove_after", [])]
            fields["after"] = [_as_step(s) for s in removals + list(fields.get("after", []))]
            return cls(**fields)
        except (ValueError, TypeError, AttributeError):
            return None  # a journal torn by a kill while it was first written: nothing changed yet

    def save(self, path: Path) -> None:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.__dict__, indent=1), encoding="utf-8")
        os.replace(tmp, path)


class Transaction:
    """Changes to the workspace that land as one commit or not at all (see the module doc)."""

    def __init__(self, ws: Repo, git, message: str):
        self.ws, self.git = ws, git
        self.journal_path = ws.state_dir / JOURNAL
        self.journal = Journal(message=message, head=git.head())
        self.commit: str | None = None
        self.made_tags: list[str] = []
        self._cache = None

    # -- registering what will change (write-ahead) ----------------------------------------------
    def _register(self, path: Path, commit: bool = True) -> Path:
        """``commit``: the path goes into the commit (DVC data files do not: git ignores them)."""
        path = Path(path).resolve()
        rel = self.ws.relpath(path)
        if not any(p["path"] == rel for p in self.journal.paths):
            tracked = path.exists() and self.git.is_tracked(path)
            if path.exists() and not tracked and not path.is_dir():
                raise ConflictError(
                    f"{rel} exists but is not committed; labelspec will not overwrite it "
                    "(commit it, or move it away)"
                )
            self.journal.paths.append(
                {"path": rel, "existed": path.exists(), "tracked": tracked, "commit": commit}
            )
            self._ensure_folder(path.parent)
            self.journal.save(self.journal_path)
        self.ws.reset()  # the file is about to change: nothing read before may be reused
        return path

    def _ensure_folder(self, folder: Path) -> None:
        missing = []
        while not folder.exists() and folder != self.ws.root:
            missing.append(folder)
            folder = folder.parent
        for created in reversed(missing):
            self.journal.folders.append(self.ws.relpath(created))
            created.mkdir()

    def adopt(self, *paths: Path) -> None:
        """Commit files another tool just created (``dvc init``'s); an undo only unstages them."""
        for path in paths:
            rel = self.ws.relpath(Path(path).resolve())
            self.journal.paths.append(
                {"path": rel, "existed": True, "tracked": False, "commit": True}
            )
        self.journal.save(self.journal_path)

    def will_change(self, *paths: Path, commit: bool = True) -> None:
        """Journal paths that a tool (DVC, a YAML writer) is about to change."""
        for path in paths:
            self._register(path, commit=commit)

    # -- changes ------------------------------------------------------------------------------------
    def write_bytes(self, path: Path, data: bytes) -> Path:
        path = self._register(path)
        tmp = path.with_name(f".{path.name}.labelspec-tmp")
        tmp.write_bytes(data)
        os.chmod(tmp, _default_mode())
        os.replace(tmp, path)
        return path

    def write_text(self, path: Path, text: str) -> Path:
        return self.write_bytes(path, text.encode("utf-8"))

    def append_line(self, path: Path, line: str) -> Path:
        """One record appended to an append-only file (git merges these with ``merge=union``)."""
        if "\n" in line:
            raise ValueError("a record is one line")
        path = self._register(path)
        existing = path.read_bytes() if path.exists() else b""
        if existing and not existing.endswith(b"\n"):
            existing += b"\n"
        return self.write_bytes(path, existing + line.encode("utf-8") + b"\n")

    def new_file(self, path: Path, commit: bool = False) -> Path:
        """Journal a new file that the caller writes itself (a Parquet writer); DVC data by
        default, so not part of the commit."""
        path = self._register(path, commit=commit)
        if path.exists():
            raise ConflictError(f"{self.ws.relpath(path)} already exists")
        return path

    def track(self, path: Path, meta: dict[str, Any], sha256_md5_size=None) -> dict[str, Any]:
        """Put the (already written, journaled) file ``path`` under DVC: its object in the cache
        and ``<path>.dvc`` with ``meta`` as labelspec's record. Returns the record with the
        file's sha256, md5 and size."""

        if self._cache is None:
            self._cache = DvcCache(self.ws.root)
        sha256, md5, size = sha256_md5_size or hash_file(path)
        self._cache.store(path, md5)
        record = {**meta, "sha256": sha256}
        self.write_text(
            path.with_name(path.name + ".dvc"), dvc_file_text(path.name, md5, size, record)
        )
        return {**record, "md5": md5, "size": size}

    def record(self, path: Path, md5: str, size: int, meta: dict[str, Any]) -> None:
        """Write ``<path>.dvc`` for data whose hashes are known (``labelspec upgrade``); the
        object goes into the cache when the file is here and the cache lacks it."""

        if self._cache is None:
            self._cache = DvcCache(self.ws.root)
        if path.is_file():
            self._cache.store(path, md5)
        self.write_text(
            path.with_name(path.name + ".dvc"), dvc_file_text(path.name, md5, size, meta)
        )

    def remove(self, path: Path) -> None:
        """Delete a tracked file in this commit (``labelspec upgrade``)."""
        path = self._register(path)
        path.unlink(missing_ok=True)

    # -- steps once the commit lands: journaled, so ``recover`` completes them after a kill ----------
    def remove_after_commit(self, path: Path) -> None:
        """Delete the file ``path`` (DVC data, outside the commit) once the commit has landed; a
        write killed after its commit has it deleted by ``recover``, one rolled back keeps it."""
        self._after("remove", self._workspace_rel(path))

    def remove_tree_after_commit(self, folder: Path) -> None:
        """Delete ``folder`` and what is left in it (files git ignores) once the commit landed."""
        self._after("rmtree", self._workspace_rel(folder))

    def delete_tag_after_commit(self, name: str) -> None:
        """Delete tag ``name`` once the commit landed (while it still names the commit it names
        now: a tag made again meanwhile stays)."""
        if name.startswith("-") or not self.git.tag_exists(name):
            raise ValueError(f"no tag {name!r} to delete")
        self._after("untag", name, self.git.rev_parse(f"refs/tags/{name}") or "")

    def move_after_commit(self, staging: Path, names: Iterable[str]) -> None:
        """Move the files ``names`` from ``staging`` (a ``.labelspec-*`` folder) into the folder
        that holds it once the commit landed, then delete ``staging``; rolled back, the staging
        folder goes. The user's output folder (``relabel plan --out``) may be outside the
        workspace: a staging folder and its parent are all a journal can name there."""
        step = ["move", str(Path(staging).resolve()), *names]
        if _staged(step) is None:
            raise ValueError(f"not a staging folder and file names: {step[1:]}")
        self._after(*step)

    def _workspace_rel(self, path: Path) -> str:
        path = Path(path).absolute()  # not resolved: a DVC symlink names its cache object
        with contextlib.suppress(ValueError):
            rel = (path.parent.resolve() / path.name).relative_to(self.ws.root).as_posix()
            if _in_workspace(self.ws, rel) is not None:
                return rel
        raise ValueError(f"{path} is not a path inside the workspace {self.ws.root}")

    def _after(self, *step: str) -> None:
        self.journal.after.append(list(step))
        self.journal.save(self.journal_path)

    def moving_branch(self, name: str) -> None:
        """Journal that this write moves branch ``name`` itself (``site publish``'s gh-pages
        commit, one atomic ref update), so recovery can tell whether it landed."""
        self.journal.branch = [name, self.git.rev_parse(f"refs/heads/{name}") or ""]
        self.journal.save(self.journal_path)

    def tag(self, name: str, message: str) -> None:
        self.journal.tags.append([name, message])
        self.journal.save(self.journal_path)

    # -- landing ------------------------------------------------------------------------------------
    def _commit(self) -> None:
        commit_message(self.journal.message)  # a writer may have reworded it since the start
        paths = [self.ws.root / p["path"] for p in self.journal.paths if p["commit"]]
        changed = [p for p in paths if p.exists() or self.git.is_tracked(p)]
        if not changed or not self.git.has_changes(changed):
            self.commit = self.git.head()
            return
        self.journal.state = "committing"
        self.journal.save(self.journal_path)
        self.commit = self.git.commit(self.journal.message, paths=changed)
        self.journal.state, self.journal.commit = "committed", self.commit
        self.journal.save(self.journal_path)

    def _tag(self) -> None:
        for name, message in self.journal.tags:
            if not self.git.tag_exists(name):
                self.git.tag(name, message, ref=self.commit or "HEAD")
                self.made_tags.append(name)


def _default_mode() -> int:

    return default_mode()


@contextlib.contextmanager
def transaction(ws: Repo, message: str, upgrading: bool = False) -> Iterator[Transaction]:
    """Lock, recover, journal, change, commit, tag: the one way labelspec writes.

    Reentrant: inside an open transaction of the same Repo, a writer joins it (its changes go
    into the outer commit, its tags are made with the outer ones) instead of committing alone."""
    if ws.transaction_open is not None:
        yield ws.transaction_open
        return
    if not upgrading and ws.config_path.is_file() and ws.config.workspace < LAYOUT:
        raise WorkspaceError(
            f"{ws.root} uses store layout {ws.config.workspace}, which cannot merge across clones; "
            "run `labelspec upgrade` (one commit) before writing"
        )
    commit_message(message)
    with ws.lock():
        git = ws.git
        recover(ws, git)
        ws.reset()  # another process may have written before the lock was ours
        tx = Transaction(ws, git, message)
        tx.journal.save(tx.journal_path)
        ws.transaction_open = tx
        try:
            yield tx
            tx._commit()
            tx._tag()
        except BaseException:
            _rollback(git, tx)
            _undo(ws, git, tx.journal)
            tx.journal_path.unlink(missing_ok=True)
            raise
        finally:
            ws.transaction_open = None
            ws.reset()  # what was read before describes the history before this write
        _finish(tx.ws, tx.git, tx.journal)  # an error leaves the journal: recover finishes
        tx.journal_path.unlink(missing_ok=True)


def recover(ws: Repo, git=None) -> list[str]:
    """Finish or undo the write a killed labelspec process left, under the workspace lock
    (taken here; a transaction already holds it, and the lock is reentrant).

    Returns what was done, for ``labelspec recover`` and ``verify`` to report."""
    path = ws.state_dir / JOURNAL
    if not path.exists():
        return []
    with ws.lock():
        if not path.exists():  # the process we waited for finished it
            return []
        done = _recover(ws, git or ws.git, path, Journal.load(path))
        ws.reset()
        return done


@contextlib.contextmanager
def pulling(ws: Repo, git, message: str) -> Iterator[None]:
    """Journal ``labelspec pull`` (the caller holds the lock): a pull killed mid-merge leaves a
    journal that ``recover`` (or the next write) repairs like an interrupted write."""
    path = ws.state_dir / JOURNAL
    Journal(message, git.head(), kind="pull").save(path)
    try:
        yield
    finally:  # an error is reported, not interrupted: a conflicted merge stays for the user
        path.unlink(missing_ok=True)


def _recover(ws: Repo, git, path: Path, journal: Journal | None) -> list[str]:
    done: list[str] = []
    lock = git.index_lock()
    if lock.exists():  # ours: the journal says a labelspec process died mid-write
        lock.unlink()
        done.append("removed the .git/index.lock a killed git left")
    if journal is not None and journal.kind == "pull":
        done += _recover_pull(git, journal)
    elif journal is not None and journal.branch and _branch_moved(git, journal):
        done.append(
            f"completed the interrupted write {journal.message!r} (branch {journal.branch[0]} moved)"
        )
    elif journal is not None:
        done += _remove_temporaries(ws, journal)
        if _landed(git, journal):
            journal.commit = git.head()
            for name, message in journal.tags:
                if not git.tag_exists(name):
                    git.tag(name, message, ref=journal.commit)
                    done.append(f"tagged {name}")
            done += _finish(ws, git, journal, recovering=True)
            done.append(f"completed the interrupted write {journal.message!r}")
        else:
            done += _undo(ws, git, journal)
            done.append(f"rolled back the interrupted write {journal.message!r}")
    path.unlink(missing_ok=True)
    return done


def _recover_pull(git, journal: Journal) -> list[str]:
    """A pull killed before its merge commit: abort the merge (files it had written go back to
    HEAD, the user's own edits stay). Killed after: the merge stands; the data fetch is what
    remains, and a fetch can always run again."""
    if git.head() == journal.head:
        git.abort_merge()
        return [f"rolled back the interrupted {journal.message!r}"]
    return [
        f"completed the interrupted {journal.message!r} (its merge landed); "
        "run `labelspec pull` again to fetch the data the merge names"
    ]


def _branch_moved(git, journal: Journal) -> bool:
    name, before = journal.branch
    return (git.rev_parse(f"refs/heads/{name}") or "") != before


def _rollback(git, tx: Transaction) -> None:
    """An error after the commit (a tag refused): take back the tags and the commit too."""
    for name in tx.made_tags:
        git.delete_tag(name)
    journal = tx.journal
    if journal.state == "committed" and tx.commit and git.head() == tx.commit:
        if journal.head:
            git.reset_soft(journal.head)
        else:
            git.unborn()


def _landed(git, journal: Journal) -> bool:
    """Whether the journaled commit was made (a kill can land between commit and journal)."""
    head = git.head()
    if journal.state == "committed" and journal.commit == head:
        return True
    if journal.state not in ("committing", "committed") or head is None or head == journal.head:
        return False
    subject, _date, parents = git.commit_info(head)
    return parents == ([journal.head] if journal.head else []) and (
        subject == journal.message.splitlines()[0]
    )


def _undo(ws: Repo, git, journal: Journal) -> list[str]:
    """Put every journaled path back as it was at the journal's starting commit."""
    done = []
    lock = git.index_lock()
    if lock.exists():
        lock.unlink()
    tracked = [p["path"] for p in journal.paths if p["tracked"]]
    created = [p["path"] for p in journal.paths if not p["existed"]]
    adopted = [p["path"] for p in journal.paths if p["existed"] and not p["tracked"]]
    if tracked and journal.head:
        git.restore_from(journal.head, [ws.root / p for p in tracked])
        done += [f"restored {p}" for p in tracked]
    if created or adopted:
        git.unstage([ws.root / p for p in created + adopted], journal.head)
    for rel in created:
        target = ws.root / rel
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
        else:
            continue
        done.append(f"removed {rel}")
    for rel in reversed(journal.folders):
        folder = ws.root / rel
        with contextlib.suppress(OSError):
            folder.rmdir()  # only when empty: a folder the user filled meanwhile stays
    for step in journal.after:  # the outputs a rolled-back write had staged
        staged = _staged(step) if step[:1] == ["move"] else None
        if staged and staged[0].is_dir() and not staged[0].is_symlink():
            shutil.rmtree(staged[0], ignore_errors=True)
            done.append(f"removed {staged[0]}")
    return done


def _finish(ws: Repo, git, journal: Journal, recovering: bool = False) -> list[str]:
    """Run the steps journaled for after the commit. Each finds its own work done when it runs
    again, so a write killed among them is completed by ``recover``. A step naming a path that
    leaves the workspace (or, for a move, a folder that is no staging folder) is refused, not
    run. Recovering, a step that fails is reported and the rest still run: a file that cannot be
    deleted must not block every later write."""
    done: list[str] = []
    for step in journal.after:
        try:
            done += _step(ws, git, step)
        except (OSError, VcsError) as exc:  # a file that cannot go, a tag git will not delete
            if not recovering:
                raise
            done.append(f"could not complete {' '.join(step)}: {exc}")
    return done


def _step(ws: Repo, git, step: list[str]) -> list[str]:
    kind, *args = step
    if kind in ("remove", "rmtree") and len(args) == 1:
        target = _in_workspace(ws, args[0])
        if target is None:
            return [f"refused to remove {args[0]}: it is not inside the workspace"]
        if kind == "rmtree" and target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif kind == "remove" and (target.is_file() or target.is_symlink()):
            target.unlink()
        else:
            return []
        return [f"removed {args[0]}"]
    if kind == "untag" and len(args) == 2 and not args[0].startswith("-"):
        name, commit = args
        if git.tag_exists(name) and (git.rev_parse(f"refs/tags/{name}") or "") == commit:
            git.delete_tag(name)
            return [f"deleted tag {name}"]
        return []
    staged = _staged(step) if kind == "move" else None
    if staged is None:
        return [f"refused the journaled step {step!r}: not one labelspec writes"]
    staging, names = staged
    if not staging.is_dir() or staging.is_symlink():
        return []
    moved = [name for name in names if (staging / name).is_file()]
    for name in moved:
        os.replace(staging / name, staging.parent / name)
    shutil.rmtree(staging)
    return [f"moved {', '.join(moved)} into {staging.parent}"] if moved else []


def _as_step(step: Any) -> list[str]:
    """A journaled step as a list of strings; anything else as one ``_step`` refuses."""
    if isinstance(step, list) and step and all(isinstance(part, str) for part in step):
        return step
    return ["unreadable", json.dumps(step)]


def _in_workspace(ws: Repo, rel: str) -> Path | None:
    """The workspace path a journal names by ``rel``, or None when it is not one: absolute, with
    ``..``, through a symlinked folder out of the workspace, the root itself, or in ``.git``."""
    parts = Path(rel).parts
    if not parts or Path(rel).is_absolute() or ".." in parts or parts[0] == ".git":
        return None
    target = ws.root / rel
    folder = target.parent.resolve()  # the file itself may be a symlink: unlink removes the link
    if folder != ws.root and ws.root not in folder.parents:
        return None
    return folder / target.name


def _staged(step: list[str]) -> tuple[Path, list[str]] | None:
    """A move step's staging folder and file names, or None unless the folder is an absolute
    ``.labelspec-*`` folder and each name a plain file name (nothing can leave its parent)."""
    if len(step) < 2:
        return None
    staging, names = Path(step[1]), step[2:]
    plain = all(n and n not in (".", "..") and Path(n).name == n and "\\" not in n for n in names)
    if not staging.is_absolute() or ".." in staging.parts or not staging.name.startswith(STAGING):
        return None
    return (staging, names) if plain else None


def _remove_temporaries(ws: Repo, journal: Journal) -> list[str]:
    """Delete the temporary files a killed writer left beside its journaled paths: a batch
    written to ``.<name>.<random>.tmp`` (``store.batches``, ``yamlio``) or
    ``.<name>.labelspec-tmp`` (``write_bytes``), killed before its ``os.replace``. Nothing else
    writes those names, so they are the dead writer's own. Each folder is listed once."""
    by_folder: dict[Path, set[str]] = defaultdict(set)
    for entry in journal.paths:
        target = ws.root / entry["path"]
        by_folder[target.parent].add(target.name)
    done = []
    for folder, names in sorted(by_folder.items()):
        if not folder.is_dir():
            continue
        for leftover in sorted(folder.iterdir()):
            if _temporary_of(leftover.name) in names and leftover.is_file():
                leftover.unlink()
                done.append(f"removed {ws.relpath(leftover)}")
    return done


def _temporary_of(name: str) -> str | None:
    """The file a temporary file ``name`` was to become: ``.b-1.parquet.k3j9.tmp`` ->
    ``b-1.parquet``; None for any other name."""
    if not name.startswith("."):
        return None
    if name.endswith(".labelspec-tmp"):
        return name[1 : -len(".labelspec-tmp")]
    if name.endswith(".tmp"):
        return name[1 : -len(".tmp")].rpartition(".")[0] or None
    return None
