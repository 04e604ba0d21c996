"""The only module that talks to git (GitPython) and DVC (``dvc.repo.Repo``).

Third-party failures are turned into ``VcsError`` here, so callers see one kind of error with a
message that says what went wrong and what to try.
"""

from __future__ import annotations

import bisect
import concurrent.futures
import contextlib
import hashlib
import io
import json
import logging
import os
import re
import shutil
import tarfile
import tempfile
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from configobj import ConfigObj

from labelspec.errors import VcsError
from labelspec.yamlio import fast_load

if TYPE_CHECKING:
    import git  # lazy: GitPython, only for commits
    from dvc.repo import Repo as DvcRepo

FULL_SHA = re.compile(r"^[0-9a-f]{40}$")

# DVC would otherwise try to phone home from a machine that may have no network.
os.environ.setdefault("DVC_NO_ANALYTICS", "1")


def _git():
    import git  # lazy: GitPython, only for commits

    return git


@contextlib.contextmanager
def _git_errors(what: str) -> Iterator[None]:
    git = _git()
    try:
        yield
    except git.GitCommandError as exc:
        detail = (
            (exc.stderr or exc.stdout or str(exc)).strip().removeprefix("stderr: ").strip("'\" \n")
        )
        raise VcsError(f"git {what} failed: {detail}") from exc
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
        raise VcsError(
            f"{exc} is not a git repository (run `git init` or `labelspec init`)"
        ) from exc


def git_root(path: Path) -> Path | None:
    """The top of the git repository that contains ``path``, or None."""
    git = _git()
    try:
        repo = git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None
    with repo:
        return Path(repo.working_tree_dir).resolve() if repo.working_tree_dir else None


def is_ignored(top: Path, path: Path) -> bool:
    """Whether the repository at ``top`` ignores ``path`` (or a folder above it)."""
    git = _git()
    with git.Repo(top) as repo:
        try:
            repo.git.check_ignore("-q", str(Path(path).resolve()))
        except git.GitCommandError:
            return False
    return True


class Git:
    """A git working tree; every method wraps GitPython errors into ``VcsError``."""

    def __init__(self, root: Path):
        git = _git()
        self.root = Path(root).resolve()
        with _git_errors("open"):
            self.repo: git.Repo = git.Repo(self.root, search_parent_directories=True)
        self.top = Path(self.repo.working_tree_dir).resolve()
        self._commits: set[str] = set()  # full shas rev-parse confirmed (immutable)
        self._trees: dict[str, list[tuple[str, str]]] = {}  # commit -> every (path, blob sha)

    @classmethod
    def init(cls, root: Path) -> Git:
        git = _git()
        with _git_errors("init"):
            git.Repo.init(root, initial_branch="main").close()
        return cls(root)

    def close(self) -> None:
        self.repo.close()

    def __enter__(self) -> Git:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _rel(self, path: Path | str) -> str:
        return os.path.relpath((self.root / path).resolve(), self.top)

    def add(self, paths: Sequence[Path | str]) -> None:
        with _git_errors("add"):
            self.repo.git.add("--", *[self._rel(p) for p in paths])

    def commit(self, message: str, paths: Sequence[Path | str] | None = None) -> str:
        """Commit ``paths`` (every change under the workspace when None) and nothing else."""
        specs = [self._rel(p) for p in paths] if paths is not None else [self._rel(".")]
        with _git_errors("commit"):
            self.repo.git.add("-A", "--", *specs)
            self.repo.git.commit(
                "-m", message, "--no-verify", "--quiet", "--", *specs, env=self._identity()
            )
            return self.repo.head.commit.hexsha

    def _identity(self) -> dict[str, str]:
        """A fallback author for machines where git has no user configured (fresh CI, demo)."""
        reader = self.repo.config_reader()
        if reader.has_option("user", "name") and reader.has_option("user", "email"):
            return {}
        return {
            "GIT_AUTHOR_NAME": "labelspec",
            "GIT_AUTHOR_EMAIL": "labelspec@localhost",
            "GIT_COMMITTER_NAME": "labelspec",
            "GIT_COMMITTER_EMAIL": "labelspec@localhost",
        }

    def head(self) -> str | None:
        try:
            sha = self.repo.head.commit.hexsha
        except ValueError:
            return None
        self._commits.add(sha)  # a commit HEAD names exists: rev-parse need not check it
        return sha

    def has_changes(self, paths: Sequence[Path | str]) -> bool:
        """Whether any of ``paths`` differs from HEAD (or is new)."""
        with _git_errors("status"):
            out = self.repo.git.status(
                "--porcelain", "--untracked-files=all", "--", *[self._rel(p) for p in paths]
            )
        return bool(out.strip())

    def dirty_files(self, path: Path | str = ".") -> list[str]:
        with _git_errors("status"):
            out = self.repo.git.status(
                "--porcelain", "--untracked-files=all", "--", self._rel(path)
            )
        return [line[3:] for line in out.splitlines() if line.strip()]

    # -- tags and history ---------------------------------------------------------------------
    def tag_exists(self, name: str) -> bool:
        with _git_errors("show-ref"):
            try:
                self.repo.git.show_ref("--verify", "--quiet", f"refs/tags/{name}")
            except _git().GitCommandError as exc:
                if exc.status == 1:
                    return False
                raise
        return True

    def tag(self, name: str, message: str, ref: str = "HEAD") -> None:
        """An annotated tag (it carries who, when and the release record in its message)."""
        with _git_errors("tag"):
            self.repo.git.tag("-a", name, ref, "-m", message, env=self._identity())

    def delete_tag(self, name: str) -> None:
        with _git_errors("tag -d"):
            self.repo.git.tag("-d", name)

    def tag_refs(self, prefix: str) -> tuple[tuple[str, str], ...]:
        """(name, object sha) of the tags starting with ``prefix``, from the refs on disk
        (packed and loose; no git process): what tells whether the tags changed."""
        return tuple(
            sorted(
                (ref.name, ref.object.hexsha)
                for ref in self.repo.tags
                if ref.name.startswith(prefix)
            )
        )

    def tags(self, prefix: str) -> dict[str, Tag]:
        """Tags whose name starts with ``prefix``: name -> (commit sha, annotation message)."""
        found = {}
        for ref in self.repo.tags:
            if ref.name.startswith(prefix):
                message = ref.tag.message if ref.tag is not None else ""
                found[ref.name] = Tag(ref.name, ref.commit.hexsha, message)
        return found

    def rel_to_top(self, path: Path | str) -> str:
        """A workspace path as git names it in trees (relative to the repository top)."""
        return Path(self._rel(path)).as_posix()

    def read_file(self, rev: str, path: Path | str) -> bytes:
        """The content of ``path`` (relative to the workspace) at ``rev``, without a checkout."""
        git = _git()
        try:
            commit = self.repo.commit(rev)
            return (commit.tree / self.rel_to_top(path)).data_stream.read()
        except (KeyError, ValueError, git.BadName) as exc:
            raise VcsError(f"{path} does not exist at {rev}") from exc

    def read_tree(self, rev: str, folder: Path | str) -> dict[str, bytes]:
        """Every file under ``folder`` at ``rev``: path relative to ``folder`` -> content."""
        git = _git()
        try:
            tree = self.repo.commit(rev).tree / self.rel_to_top(folder)
        except (KeyError, ValueError, git.BadName) as exc:
            raise VcsError(f"{folder} does not exist at {rev}") from exc
        prefix = tree.path + "/"
        return {
            blob.path.removeprefix(prefix): blob.data_stream.read()
            for blob in tree.traverse()
            if blob.type == "blob"
        }

    def is_tracked(self, path: Path | str) -> bool:
        with _git_errors("ls-files"):
            return bool(self.repo.git.ls_files("--", self._rel(path)).strip())

    def tracked_files(self, folder: Path | str) -> list[str]:
        """Files git tracks under ``folder`` (working-tree view), relative to ``folder``."""
        rel = self.rel_to_top(folder)
        with _git_errors("ls-files"):
            out = self.repo.git.ls_files("-z", "--", rel)
        return sorted(p.removeprefix(rel + "/") for p in out.split("\0") if p)

    def reset_soft(self, rev: str) -> None:
        with _git_errors("reset"):
            self.repo.git.reset("--soft", "--quiet", rev)

    def unstage(self, paths: Sequence[Path | str], rev: str | None) -> None:
        """Take ``paths`` out of the index (back to ``rev``'s version, or untracked)."""
        specs = [self._rel(p) for p in paths]
        with _git_errors("reset"):
            if rev:
                self.repo.git.reset("-q", rev, "--", *specs)
            else:
                self.repo.git.rm("--cached", "-q", "--ignore-unmatch", "-r", "--", *specs)

    def restore_from(self, rev: str, paths: Sequence[Path | str]) -> None:
        """Put ``paths`` back as they are at ``rev`` (index and working tree)."""
        with _git_errors("checkout"):
            self.repo.git.checkout(rev, "--", *[self._rel(p) for p in paths])

    def index_lock(self) -> Path:
        return Path(self.repo.git_dir) / "index.lock"

    # -- revisions, trees and blobs ------------------------------------------------------------
    def rev_parse(self, ref: str) -> str | None:
        """The commit ``ref`` names (a sha, branch, tag, ``HEAD~2`` ...), or None. A full commit
        sha names itself for good: it is checked once per handle."""
        if ref in self._commits:
            return ref
        git = _git()
        try:
            found = self.repo.git.rev_parse("--verify", "--quiet", f"{ref}^{{commit}}").strip()
        except git.GitCommandError:
            return None
        self._commits.add(found)
        return found

    def ls_tree(self, rev: str, folder: Path | str) -> list[tuple[str, str]]:
        """(path relative to ``folder``, blob sha) of every file under ``folder`` at ``rev``. A
        commit's tree never changes: its whole listing is read once per handle, and each folder
        asked for is a slice of it."""
        top = self.rel_to_top(folder)
        rel = "" if top == "." else top + "/"
        commit = self.rev_parse(rev) if not FULL_SHA.match(rev) else rev
        if commit is None:
            with _git_errors("ls-tree"):
                self.repo.git.ls_tree(rev)  # the error says what is wrong with ``rev``
        if commit not in self._trees:
            with _git_errors("ls-tree"):
                out = self.repo.git.ls_tree("-r", "-z", commit)
            listing = []
            for entry in out.split("\0"):
                if not entry:
                    continue
                info, _, path = entry.partition("\t")
                _mode, kind, sha = info.split()
                if kind == "blob":
                    listing.append((path, sha))
            self._trees[commit] = sorted(listing)
        listing = self._trees[commit]
        start = bisect.bisect_left(listing, (rel,))
        found = []
        for path, sha in listing[start:]:
            if not path.startswith(rel):
                break
            found.append((path.removeprefix(rel), sha))
        return found

    def blobs(self, shas: Sequence[str]) -> dict[str, bytes]:
        """The content of many blobs through git's one long-running ``cat-file --batch``."""
        out = {}
        with _git_errors("cat-file"):
            for sha in shas:
                out[sha] = self.repo.odb.stream(bytes.fromhex(sha)).read()
        return out

    def commits_adding(self, folder: Path | str, suffix: str) -> dict[str, tuple[str, str]]:
        """path (relative to ``folder``) -> (commit, committer date) of the commit that added it,
        for every file ending in ``suffix`` ever added under ``folder`` in HEAD's history."""
        rel = self.rel_to_top(folder)
        if self.head() is None:
            return {}
        with _git_errors("log"):
            out = self.repo.git.log(
                "--format=%x00%H %cI", "--diff-filter=A", "--name-only", "--", rel + "/"
            )
        found: dict[str, tuple[str, str]] = {}
        for chunk in out.split("\0")[1:]:
            header, *names = chunk.strip().splitlines()
            sha, date = header.split(" ", 1)
            for name in names:
                if name.endswith(suffix):
                    found.setdefault(name.removeprefix(rel + "/"), (sha, date))
        return found

    def commit_info(self, rev: str) -> tuple[str, str, list[str]]:
        """(subject, committer date, parents) of a commit."""
        with _git_errors("show"):
            commit = self.repo.commit(rev)
        return (
            commit.summary if isinstance(commit.summary, str) else commit.summary.decode(),
            commit.committed_datetime.isoformat(),
            [p.hexsha for p in commit.parents],
        )

    def merge_base(self, a: str, b: str) -> str | None:
        """The newest common ancestor of two revisions (what a pull request compares with)."""
        git = _git()
        try:
            return self.repo.git.merge_base(a, b).strip() or None
        except git.GitCommandError as exc:
            if exc.status == 1:
                return None  # no common ancestor
            raise VcsError(f"git merge-base failed: {(exc.stderr or '').strip()}") from exc

    def remote_branches_containing(self, commit: str) -> list[str]:
        """Remote-tracking branches whose history holds ``commit``: it was pushed or fetched."""
        with _git_errors("branch --contains"):
            out = self.repo.git.branch("-r", "--contains", commit, "--format=%(refname:short)")
        return [line.strip() for line in out.splitlines() if line.strip()]

    def branch(self) -> str | None:
        """The checked-out branch, or None on a detached HEAD."""
        try:
            return self.repo.active_branch.name
        except (TypeError, ValueError):
            return None

    # -- sharing -----------------------------------------------------------------------------------
    def remote_names(self) -> list[str]:
        return [r.name for r in self.repo.remotes]

    def remote_urls(self) -> dict[str, str]:
        """name -> the (first) URL of every remote, as configured."""
        return {r.name: next(iter(r.urls), "") for r in self.repo.remotes}

    def push(self, remote: str, branch: str) -> None:
        """Push ``branch`` and every tag; a rejected push says what to do next."""
        git = _git()
        try:
            self.repo.git.push("--porcelain", remote, f"refs/heads/{branch}", "--tags")
        except git.GitCommandError as exc:
            out = f"{exc.stdout or ''}\n{exc.stderr or ''}"
            found = re.findall(r":(refs/\S+)\s+\[rejected\] \(([^)]+)\)", out)
            rejected = sorted({f"{ref.rsplit('/', 1)[-1]}: {why}" for ref, why in found})
            raise VcsError(
                f"git push to {remote} was rejected ({'; '.join(rejected) or out.strip()[-300:]}): "
                "the remote has commits or tags you do not have. Run `labelspec pull`, then push again; "
                "a tag rejected as `already exists` means two clones made the same release "
                "(releases are made on the main branch after review)"
            ) from exc

    def pull(self, remote: str, branch: str) -> str:
        """``git pull --no-rebase`` (a merge commit when both sides moved); conflicts are reported
        with the files that hold them."""
        git = _git()
        try:
            # --tags: the releases (guideline tags) travel with the commits that made them
            return self.repo.git.pull(
                "--no-rebase", "--no-edit", "--tags", remote, branch, env=self._identity()
            )
        except git.GitCommandError as exc:
            clobbered = [
                line.split("]")[-1].strip()
                for line in (exc.stderr or "").splitlines()
                if "would clobber existing tag" in line
            ]
            if clobbered:
                raise VcsError(
                    f"git pull from {remote}: the remote has other commits under the tags "
                    f"{', '.join(clobbered)}: two clones made the same release. Keep the remote's "
                    "(`git fetch --tags --force`), release your changes as the next version, and "
                    "`labelspec verify`"
                ) from exc
            conflicts = self.repo.git.diff("--name-only", "--diff-filter=U").split()
            if conflicts:
                raise VcsError(
                    f"git pull from {remote} left conflicts in {', '.join(conflicts)}; resolve them as "
                    "with code (`git status`), commit, then `labelspec pull` again"
                ) from exc
            raise VcsError(f"git pull from {remote} failed: {(exc.stderr or '').strip()}") from exc


@dataclass(frozen=True)
class Tag:
    name: str
    commit: str
    message: str


def _dvc_repo_class():
    from dvc.repo import Repo  # lazy: dvc takes ~1 s to import

    logging.getLogger("dvc").setLevel(logging.WARNING)
    return Repo


@contextlib.contextmanager
def _dvc_errors(what: str) -> Iterator[None]:
    from dvc.exceptions import DvcException  # lazy: see above

    try:
        yield
    except DvcException as exc:
        raise VcsError(f"dvc {what} failed: {exc}") from exc


class Dvc:
    """A DVC project rooted at ``root``."""

    def __init__(self, root: Path):
        self.root = Path(root).resolve()
        with _dvc_errors("open"):
            self.repo: DvcRepo = _dvc_repo_class()(str(self.root))

    @classmethod
    def init(cls, root: Path, subdir: bool = False) -> Dvc:
        repo_cls = _dvc_repo_class()
        with _dvc_errors("init"):
            repo_cls.init(str(root), subdir=subdir).close()
        dvc = cls(root)
        with _dvc_errors("config"), dvc.repo.config.edit("repo") as conf:
            conf["core"]["analytics"] = False
        return dvc

    def close(self) -> None:
        self.repo.close()

    def __enter__(self) -> Dvc:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def set_default_remote(self, name: str, url: str) -> None:
        with _dvc_errors("remote add"), self.repo.config.edit("repo") as conf:
            conf["remote"][name] = {"url": url}
            conf["core"]["remote"] = name

    # -- tracking, remotes, the cache ---------------------------------------------------------------
    def add(self, paths: Sequence[Path | str]) -> None:
        """``dvc add``: hash into the cache, write ``<path>.dvc``, git-ignore the data."""
        with _dvc_errors("add"):
            self.repo.add([str(Path(p)) for p in paths])

    def push(self, remote: str | None = None) -> int:
        with _dvc_errors("push"):
            return int(self.repo.push(remote=remote) or 0)

    def pull(self, remote: str | None = None) -> int:
        with _dvc_errors("pull"):
            result = self.repo.pull(remote=remote) or {}
        return (
            len(result.get("added", [])) + len(result.get("modified", []))
            if isinstance(result, dict)
            else 0
        )

    def cache_path(self, md5: str) -> Path:
        """Where the DVC cache keeps an object (a file, or a directory listing ending in .dir)."""
        return Path(self.repo.cache.local.oid_to_path(md5))


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
        self.dir = self._cache_dir()
        self._made: set[str] = set()  # object folders known to exist
        self.created: list[str] = []  # objects this instance wrote (``discard_created``)

    def _cache_dir(self) -> Path:

        found = self.dvc_dir / "cache"
        for name in ("config", "config.local"):
            path = self.dvc_dir / name
            if path.is_file():
                configured = (ConfigObj(str(path)).get("cache") or {}).get("dir")
                if configured:
                    found = (self.dvc_dir / configured).resolve()
        return found

    def object_path(self, md5: str) -> Path:
        return self.dir / "files" / "md5" / md5[:2] / md5[2:]

    def store(self, path: Path, md5: str) -> None:
        """Copy ``path`` into the cache as object ``md5`` (read-only), unless it is there."""

        target = self.object_path(md5)
        if target.is_file():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        try:
            shutil.copyfile(path, tmp)
            os.chmod(tmp, 0o444)
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self.created.append(str(target))

    def store_bytes(self, data: bytes, md5: str) -> None:
        """``store`` for bytes already read (``items add`` hashes and caches from one read);
        string paths and a made-once folder: it runs once per item file."""

        folder = os.path.join(self.dir, "files", "md5", md5[:2])
        target = os.path.join(folder, md5[2:])
        if os.path.isfile(target):
            return
        if folder not in self._made:
            os.makedirs(folder, exist_ok=True)
            self._made.add(folder)
        tmp = f"{folder}/.{md5[2:]}.{os.getpid()}-{threading.get_ident()}.tmp"
        try:
            fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o444)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        self.created.append(target)

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
        return json.loads(path.read_bytes())


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
            return written.group(1), int(written.group(2)), json.loads(written.group(3))
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


def hash_file(path: Path) -> tuple[str, str, int]:
    """(sha256, md5, size) of a file in one read: sha256 for labelspec's records, md5 for DVC."""

    sha, md5, size = hashlib.sha256(), hashlib.md5(), 0
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
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
    raise VcsError(f"{path} does not exist at {rev[:10]} (neither in git nor tracked by DVC)")


def _cached_bytes(cache: DvcCache, md5: str, owner: Path, path: Path, rev: str) -> bytes:
    """``path``'s bytes from the DVC cache: ``owner``'s object, or its entry in the folder
    listing ``owner``'s object is (DVC's cache layout, read without opening a DVC repo)."""

    target = cache.object_path(md5)
    if owner != path:
        if not target.is_file():
            raise VcsError(
                f"{owner.name} at {rev[:10]} is not in the DVC cache; run `labelspec pull`"
            )
        rel = path.relative_to(owner).as_posix()
        entry = next((e for e in json.loads(target.read_text()) if e["relpath"] == rel), None)
        if entry is None:
            raise VcsError(f"{path.name} is not in {owner.name} at {rev[:10]}")
        target = cache.object_path(entry["md5"])
    if not target.is_file():
        raise VcsError(
            f"{path.name} at {rev[:10]} is tracked by DVC but not in the cache; run `labelspec pull`"
        )
    return target.read_bytes()


def extract_branch(root: Path, branch: str, dest: Path) -> bool:
    """Write the tree of ``branch`` into ``dest`` (no checkout); False if the branch is absent."""

    with Git(root) as git:
        if branch not in [h.name for h in git.repo.heads]:
            return False
        with _git_errors("archive"):
            data = git.repo.git.archive("--format=tar", branch, stdout_as_string=False)
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        archive.extractall(dest, filter="data")
    return True


def commit_directory(root: Path, branch: str, directory: Path, message: str) -> str:
    """Commit the whole of ``directory`` as the tree of ``branch`` (created if needed), without
    touching the working tree or the index: a temporary index, write-tree, commit-tree."""

    with Git(root) as git, tempfile.TemporaryDirectory() as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index"), **git._identity()}
        g = git.repo.git
        with _git_errors(f"commit to {branch}"):
            g.execute(["git", f"--work-tree={directory}", "add", "-A", "--force", "."], env=env)
            tree = g.execute(["git", "write-tree"], env=env).strip()
            parent = []
            if branch in [h.name for h in git.repo.heads]:
                parent = ["-p", git.repo.heads[branch].commit.hexsha]
            commit = g.execute(
                ["git", "commit-tree", tree, *parent, "-m", message], env=env
            ).strip()
            g.update_ref(f"refs/heads/{branch}", commit)
        return commit
