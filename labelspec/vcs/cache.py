"""DVC's cache layout and ``.dvc`` files, read and written without opening DVC (one immutable
file costs the same at any history), and files read as committed at a revision."""

from __future__ import annotations

import concurrent.futures
import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import threading
import uuid
from pathlib import Path

from configobj import ConfigObj

from labelspec import nesting
from labelspec.errors import DataMissingError, VcsError
from labelspec.vcs.gitrepo import Git
from labelspec.yamlio import fast_load

FICLONE = 0x40049409  # Linux's ioctl making a file share another's extents (a reflink)


class DvcCache:
    """DVC's local cache used directly for single files, the way ``dvc add`` stores them (DVC 3:
    ``<cache>/files/md5/<2 hex>/<30 hex>``, read-only objects, a ``.dvc`` file beside the data).

    ``dvc.repo.Repo.add`` collects every stage of the workspace first, which takes seconds once a
    dataset has 1,000 batch files; writing one immutable file must cost the same at any history.
    ``dvc status``, ``push``, ``pull`` and ``checkout`` read what this writes (tests run them).
    """

    def __init__(self, root: Path):
        self.root = Path(root).resolve()
        self.dvc_dir = self.root / ".dvc"
        if not self.dvc_dir.is_dir():
            raise VcsError(f"{self.root} has no .dvc folder (run `labelspec init` or `dvc init`)")
        section = self._cache_section()
        self.dir = self._cache_dir(section)
        self._made: set[str] = set()  # object folders known to exist
        self.created: list[str] = []  # objects this instance wrote (``discard_created``)
        # DVC links the workspace and its cache by the first of ``cache.type`` that works
        # (default "reflink,copy"); a reflink is the one kind that leaves the workspace file as
        # it was. Hardlinks and symlinks would make it read-only or a link: copies, as before.
        self.reflinks = "reflink" in self._link_types(section)

    def _cache_section(self) -> dict:
        """The ``[cache]`` section of the repository's DVC config (``config.local`` wins)."""
        section: dict = {}
        for name in ("config", "config.local"):
            path = self.dvc_dir / name
            if path.is_file():
                section.update(ConfigObj(str(path)).get("cache") or {})
        return section

    def _cache_dir(self, section: dict) -> Path:
        configured = section.get("dir")
        return (self.dvc_dir / configured).resolve() if configured else self.dvc_dir / "cache"

    @staticmethod
    def _link_types(section: dict) -> list[str]:
        configured = section.get("type") or "reflink,copy"
        if isinstance(configured, list):  # ConfigObj splits an unquoted comma list itself
            configured = ",".join(configured)
        return [t.strip() for t in configured.split(",") if t.strip()]

    def object_path(self, md5: str) -> Path:
        return self.dir / "files" / "md5" / md5[:2] / md5[2:]

    def store(self, path: Path | str, md5: str, source: int | None = None) -> None:
        """Copy ``path`` into the cache as object ``md5`` (read-only), unless it is there; a
        reflink when ``cache.type`` allows it and the filesystem can. ``source``: ``path``
        opened for reading by the caller."""

        target = self.object_path(md5)
        if target.is_file():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        try:
            if not self._clone(path, tmp, source):
                shutil.copyfile(path, tmp)
            os.chmod(tmp, 0o444)
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self.created.append(str(target))

    def store_bytes(self, data: bytes, md5: str, source: int | None = None) -> None:
        """``store`` for bytes already read (``items add`` hashes and caches from one read);
        string paths and a made-once folder: it runs once per item file, from several threads.
        ``source``: the file descriptor the bytes were read from, for a reflink."""

        folder = os.path.join(self.dir, "files", "md5", md5[:2])
        target = os.path.join(folder, md5[2:])
        if os.path.isfile(target):
            return
        if folder not in self._made:
            os.makedirs(folder, exist_ok=True)
            self._made.add(folder)
        tmp = f"{folder}/.{md5[2:]}.{os.getpid()}-{threading.get_ident()}.tmp"
        try:
            fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY | os.O_CLOEXEC, 0o444)
            try:
                if not (source is not None and self._reflink(source, fd)):
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        self.created.append(target)

    def _clone(self, path: Path | str, tmp: Path, source: int | None) -> bool:
        """Whether ``tmp`` was made a reflink of ``path`` (else the caller copies)."""
        if not self.reflinks:
            return False
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_CLOEXEC, 0o644)
        try:
            if source is not None:
                return self._reflink(source, fd)
            with open(path, "rb") as handle:
                return self._reflink(handle.fileno(), fd)
        finally:
            os.close(fd)

    def _reflink(self, source: int, target: int) -> bool:
        """Share ``source``'s extents with the empty file ``target`` (FICLONE: btrfs, XFS, APFS
        through Linux's ioctl only); the first refusal turns reflinks off for this cache (ext4,
        another filesystem, Windows), so a refusing filesystem costs one system call per add."""
        if not self.reflinks:
            return False
        try:
            fcntl.ioctl(target, FICLONE, source)
        except OSError:
            self.reflinks = False
            return False
        return True

    def store_folder(
        self, folder: Path, stored: dict[str, tuple[str, int]] | None = None
    ) -> tuple[str, int, int]:
        """Put every file under ``folder`` into the cache as ``dvc add`` does, with its ``.dir``
        object (the sorted JSON list of ``{"md5", "relpath"}``); (dir md5, size, files).
        ``stored`` (relpath -> (md5, size)) names files the caller hashed and cached already."""

        known = stored or {}
        files = sorted(
            f"{rel}/{name}" if rel else name
            for dirpath, _, names in os.walk(folder)
            for rel in [os.path.relpath(dirpath, folder).replace(os.sep, "/").removeprefix(".")]
            for name in names
        )
        # sorted as plain strings, as DVC does ("a-b/x" before "a.txt" before "a/x")

        def stored_file(relpath: str) -> tuple[str, int]:
            path = folder / relpath
            md5 = hash_file(path)[1]
            self.store(path, md5)
            return md5, path.stat().st_size

        rest = [f for f in files if f not in known]
        with concurrent.futures.ThreadPoolExecutor(
            max_workers=min(8, (os.cpu_count() or 2) * 2)
        ) as pool:
            found = dict(zip(rest, pool.map(stored_file, rest), strict=True))
        done = [known.get(f) or found[f] for f in files]
        tree = [{"md5": md5, "relpath": rel} for rel, (md5, _) in zip(files, done, strict=True)]
        data = json.dumps(tree, sort_keys=True).encode("utf-8")
        dir_md5 = hashlib.md5(data).hexdigest() + ".dir"
        target = self.object_path(dir_md5)
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.tmp")
            tmp.write_bytes(data)
            os.chmod(tmp, 0o444)
            os.replace(tmp, target)
        return dir_md5, sum(size for _, size in done), len(files)

    def discard_created(self) -> None:
        """Remove the objects this instance wrote: ``items add`` caches files from the read that
        hashes them, before it knows whether the add is valid; a refused add leaves none."""
        for path in self.created:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        self.created.clear()

    def listing(self, md5: str) -> list[dict[str, str]] | None:
        """The entries (``md5``, ``relpath``) of a folder's ``.dir`` object, or None when the
        cache does not hold it (not pulled yet)."""

        path = self.object_path(md5)
        if not path.is_file():
            return None
        return nesting.loads(path.read_bytes(), str(path))


def dvc_folder_text(name: str, md5: str, size: int, nfiles: int) -> str:
    """The ``.dvc`` file ``dvc add`` writes for a folder."""
    return f"outs:\n- md5: {md5}\n  size: {size}\n  nfiles: {nfiles}\n  hash: md5\n  path: {name}\n"


def dvc_file_text(name: str, md5: str, size: int, meta: dict) -> str:
    """A ``.dvc`` file as ``dvc add`` writes it, plus labelspec's record under ``meta`` (which DVC
    keeps untouched). The record is one JSON line: valid YAML, and quick to parse."""

    record = json.dumps(meta, sort_keys=True, ensure_ascii=True, separators=(", ", ": "))
    return (
        f"outs:\n- md5: {md5}\n  size: {size}\n  hash: md5\n  path: {name}\n"
        f"meta:\n  labelspec: {record}\n"
    )


# the exact text ``dvc_file_text`` writes: read with string operations and one json.loads, 50x
# faster than YAML (a manifest of 100,000 batches parses 100,000 records); anything else: YAML
_WRITTEN = re.compile(
    r"outs:\n- md5: ([0-9a-f]{32})\n  size: (\d+)\n  hash: md5\n  path: [^\n]+\n"
    r"meta:\n  labelspec: (\{[^\n]*\})\n"
)


def parse_dvc_file(text: str, source: str) -> tuple[str, int, dict]:
    """(md5, size, labelspec meta) of a single-file ``.dvc`` file."""

    written = _WRITTEN.fullmatch(text)
    if written:
        with contextlib.suppress(ValueError):  # not JSON after all: YAML says what is wrong
            return written.group(1), int(written.group(2)), nesting.loads(written.group(3), source)
    try:
        data = fast_load(text, source) or {}
        out = data["outs"][0]
        return (
            str(out["md5"]),
            int(out.get("size") or 0),
            (data.get("meta") or {}).get("labelspec") or {},
        )
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise VcsError(f"{source}: not a DVC file labelspec can read ({exc})") from exc


class HashingStopped(Exception):
    """``hash_file`` was told to stop (its caller gave up on the file)."""


def hash_file(path: Path, stop: threading.Event | None = None) -> tuple[str, str, int]:
    """(sha256, md5, size) of a file in one read: sha256 for labelspec's records, md5 for DVC.
    ``stop``: checked between 1 MB reads, for a hash running on a thread of its own."""

    sha, md5, size = hashlib.sha256(), hashlib.md5(), 0
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            if stop is not None and stop.is_set():
                raise HashingStopped(str(path))
            sha.update(chunk)
            md5.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), md5.hexdigest(), size


def read_at(root: Path, rev: str, path: Path, git: Git | None = None) -> bytes:
    """A file as it was at ``rev``: from git, or through the ``.dvc`` file committed at ``rev``
    that tracks it (or a folder above it) and the DVC cache. Never touches the working tree.
    ``git``: the caller's open handle (a Repo's), else one is opened for this read."""
    if git is None:
        with Git(root) as own:
            return read_at(root, rev, path, own)
    root = Path(root).resolve()
    path = Path(path).resolve()
    try:
        return git.read_file(rev, path)
    except VcsError:
        pass
    for owner in (path, *path.parents):
        if owner == root or root not in owner.parents:
            break
        try:
            record = git.read_file(rev, owner.with_name(owner.name + ".dvc"))
        except VcsError:
            continue
        md5, _size, _meta = parse_dvc_file(record.decode("utf-8"), owner.name + ".dvc")
        return _cached_bytes(DvcCache(root), md5, owner, path, rev)
    raise DataMissingError(
        f"{path} does not exist at {rev[:10]} (neither in git nor tracked by DVC)"
    )


def _cached_bytes(cache: DvcCache, md5: str, owner: Path, path: Path, rev: str) -> bytes:
    """``path``'s bytes from the DVC cache: ``owner``'s object, or its entry in the folder
    listing ``owner``'s object is (DVC's cache layout, read without opening a DVC repo)."""

    target = cache.object_path(md5)
    if owner != path:
        if not target.is_file():
            raise DataMissingError(
                f"{owner.name} at {rev[:10]} is not in the DVC cache; run `labelspec pull`"
            )
        rel = path.relative_to(owner).as_posix()
        entry = next(
            (e for e in nesting.loads(target.read_text(), str(target)) if e["relpath"] == rel), None
        )
        if entry is None:
            raise DataMissingError(f"{path.name} is not in {owner.name} at {rev[:10]}")
        target = cache.object_path(entry["md5"])
    if not target.is_file():
        raise DataMissingError(
            f"{path.name} at {rev[:10]} is tracked by DVC but not in the cache; run `labelspec pull`"
        )
    return target.read_bytes()
