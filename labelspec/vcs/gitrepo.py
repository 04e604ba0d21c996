"""git: the workspace's commits, tags, trees and remotes.

What the everyday read commands ask runs without GitPython (~0.1 s to import): HEAD and the tag
refs are read from git's files, revisions, trees, logs and the tags' annotations are one plain
``git`` process each, files and blobs come through one long-running ``git cat-file --batch``.
GitPython is opened only by the methods that write or need its object model.
"""

from __future__ import annotations

import bisect
import contextlib
import os
import re
import subprocess
import threading
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from labelspec.errors import VcsError

if TYPE_CHECKING:
    import git  # lazy: GitPython, only for commits

FULL_SHA = re.compile(r"^[0-9a-f]{40}$")


def _git():
    import git  # lazy: GitPython, only for commits

    return git


@contextlib.contextmanager
def git_errors(what: str) -> Iterator[None]:
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


def is_ignored(inside: Path, path: Path) -> bool:
    """Whether the repository holding the folder ``inside`` (its top, or any folder under it: a
    workspace in a subfolder of a larger repository) ignores ``path`` (or a folder above it)."""
    git = _git()
    with git_errors("open"), git.Repo(inside, search_parent_directories=True) as repo:
        try:
            repo.git.check_ignore("-q", str(Path(path).resolve()))
        except git.GitCommandError:
            return False
    return True


def _working_tree(path: Path) -> Path:
    """The top of the working tree holding ``path``: the nearest folder with a ``.git`` (a folder,
    or the file of a linked worktree), as GitPython finds it, without starting git."""
    if not path.exists():
        raise VcsError(f"{path} is not a git repository (run `git init` or `labelspec init`)")
    for folder in (path, *path.parents):
        if (folder / ".git").exists():
            return folder
    raise VcsError(f"{path} is not a git repository (run `git init` or `labelspec init`)")


# what GitPython sets for the git it runs: messages and dates parsed here are git's own, in C
_GIT_ENV = {"LANGUAGE": "C", "LC_ALL": "C"}


class Git:
    """A git working tree; every method wraps git's failures into ``VcsError``."""

    def __init__(self, root: Path):
        self.root = Path(root).resolve()
        self.top = _working_tree(self.root).resolve()
        self._repo: git.Repo | None = None
        self._refs: RefFiles | bool | None = False  # not looked for yet
        self._tag_cache: tuple[tuple, list] | None = None  # (every tag ref, their listing)
        self._batch: subprocess.Popen | None = None  # the long-running `git cat-file --batch`
        self._batch_lock = threading.Lock()
        self._commits: set[str] = set()  # full shas rev-parse confirmed (immutable)
        self._trees: dict[str, list[tuple[str, str]]] = {}  # commit -> every (path, blob sha)

    @property
    def repo(self) -> git.Repo:
        """GitPython's handle, opened the first time a method needs it."""
        if self._repo is None:
            with git_errors("open"):
                self._repo = _git().Repo(self.top)
        return self._repo

    def _run(self, *args: str, ok: tuple[int, ...] = (0,), stdin: bytes | None = None):
        """``git <args>`` in the working tree: (exit status, stdout bytes); an exit status not in
        ``ok`` is a ``VcsError`` quoting git's message."""
        done = subprocess.run(
            ["git", *args],
            cwd=self.top,
            input=stdin,
            capture_output=True,
            env={**os.environ, **_GIT_ENV},
        )
        if done.returncode not in ok:
            detail = done.stderr.decode("utf-8", "replace").strip() or f"exit {done.returncode}"
            raise VcsError(f"git {args[0]} failed: {detail}")
        return done.returncode, done.stdout

    def _object(self, name: str) -> tuple[str, bytes] | None:
        """(type, content) of the object ``name`` (a sha, ``rev:path``), or None when there is
        none: one long-running ``git cat-file --batch`` per handle answers them all, as GitPython
        reads objects (a read at a revision in a loop costs no process each)."""
        if "\n" in name:  # a line is one request: a name holding a line break goes alone
            status, out = self._run("cat-file", "-p", name, ok=(0, 128))
            kind = self._run("cat-file", "-t", name, ok=(0, 128))[1].decode().strip()
            return None if status else (kind, out)
        with self._batch_lock:
            if self._batch is None or self._batch.poll() is not None:
                self._batch = subprocess.Popen(
                    ["git", "cat-file", "--batch"],
                    cwd=self.top,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    env={**os.environ, **_GIT_ENV},
                )
                weakref.finalize(self, _stop, self._batch)
            batch = self._batch
            assert batch.stdin is not None and batch.stdout is not None
            try:
                batch.stdin.write(name.encode("utf-8") + b"\n")
                batch.stdin.flush()
                header = batch.stdout.readline().split()
                if len(header) != 3:  # "<name> missing" (or ambiguous)
                    return None
                data = batch.stdout.read(int(header[2]) + 1)[:-1]  # the content, a line break
            except (OSError, ValueError) as exc:
                raise VcsError(f"git cat-file failed: {exc}") from exc
            return header[1].decode(), data

    def _text(self, *args: str) -> str:
        """``git <args>``'s output as text, without its last newline (as GitPython returns it)."""
        return self._run(*args)[1].decode("utf-8", "replace").removesuffix("\n")

    @classmethod
    def init(cls, root: Path) -> Git:
        git = _git()
        with git_errors("init"):
            git.Repo.init(root, initial_branch="main").close()
        return cls(root)

    def close(self) -> None:
        if self._batch is not None:
            _stop(self._batch)
            self._batch = None
        if self._repo is not None:
            self._repo.close()
            self._repo = None

    def __enter__(self) -> Git:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _rel(self, path: Path | str) -> str:
        return os.path.relpath((self.root / path).resolve(), self.top)

    def add(self, paths: Sequence[Path | str]) -> None:
        with git_errors("add"):
            self.repo.git.add("--", *[self._rel(p) for p in paths])

    def commit(self, message: str, paths: Sequence[Path | str] | None = None) -> str:
        """Commit ``paths`` (every change under the workspace when None) and nothing else."""
        specs = [self._rel(p) for p in paths] if paths is not None else [self._rel(".")]
        with git_errors("commit"):
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
        refs = self._ref_files()
        if refs is not None:
            sha = refs.resolve("HEAD")
        else:
            status, out = self._run("rev-parse", "--verify", "--quiet", "HEAD^{commit}", ok=(0, 1))
            sha = None if status else out.decode().strip()
        if sha is None:
            return None  # no commit yet
        self._commits.add(sha)  # a commit HEAD names exists: rev-parse need not check it
        return sha

    def has_changes(self, paths: Sequence[Path | str]) -> bool:
        """Whether any of ``paths`` differs from HEAD (or is new)."""
        with git_errors("status"):
            out = self.repo.git.status(
                "--porcelain", "--untracked-files=all", "--", *[self._rel(p) for p in paths]
            )
        return bool(out.strip())

    def dirty_files(self, path: Path | str = ".") -> list[str]:
        """Changed or new files under ``path``, relative to the workspace (git names them from
        the repository top, which is above it for a workspace in a subfolder)."""
        with git_errors("status"):
            out = self.repo.git.status(
                "--porcelain", "--untracked-files=all", "--", self._rel(path)
            )
        top = self.rel_to_top(".")
        base = "" if top == "." else top + "/"
        return [line[3:].removeprefix(base) for line in out.splitlines() if line.strip()]

    # -- tags and history ---------------------------------------------------------------------
    def tag_exists(self, name: str) -> bool:
        with git_errors("show-ref"):
            try:
                self.repo.git.show_ref("--verify", "--quiet", f"refs/tags/{name}")
            except _git().GitCommandError as exc:
                if exc.status == 1:
                    return False
                raise
        return True

    def tag(self, name: str, message: str, ref: str = "HEAD") -> None:
        """An annotated tag (it carries who, when and the release record in its message)."""
        with git_errors("tag"):
            self.repo.git.tag("-a", name, ref, "-m", message, env=self._identity())

    def delete_tag(self, name: str) -> None:
        with git_errors("tag -d"):
            self.repo.git.tag("-d", name)

    def tag_refs(self, prefix: str) -> tuple[tuple[str, str], ...]:
        """(name, object sha) of the tags starting with ``prefix``: what tells whether the tags
        changed."""
        refs = self._ref_files()
        if refs is not None:
            return tuple(sorted(refs.tags(prefix).items()))
        return tuple(sorted((name, sha) for name, sha, _, _ in self._tag_listing(prefix)))

    def _ref_files(self) -> RefFiles | None:
        """The refs as files on disk (loose and packed), or None for a ref store git alone
        reads (reftable)."""
        if self._refs is False:
            self._refs = RefFiles.of(self.top / ".git")
        return self._refs

    def tags(self, prefix: str) -> dict[str, Tag]:
        """Tags whose name starts with ``prefix``: name -> (commit sha, annotation message)."""
        return {
            name: Tag(name, commit, message)
            for name, _, commit, message in self._tag_listing(prefix)
        }

    def _tag_listing(self, prefix: str) -> list[tuple[str, str, str, str]]:
        """(name, object sha, commit sha, annotation message) of the tags starting with
        ``prefix``, from one ``git for-each-ref`` (again only once the tag refs on disk
        changed). The message is the tag object's text after its header, line by line (as
        GitPython reads it); a lightweight tag has none."""
        refs = self._ref_files()
        if refs is None:
            return self._list_tags(prefix)
        now = tuple(sorted(refs.tags("").items()))
        if self._tag_cache is None or self._tag_cache[0] != now:
            self._tag_cache = (now, self._list_tags(""))
        return [tag for tag in self._tag_cache[1] if tag[0].startswith(prefix)]

    def _list_tags(self, prefix: str) -> list[tuple[str, str, str, str]]:
        fields = ("refname:lstrip=2", "objectname", "objecttype", "*objectname", "contents")
        fmt = "".join(f"%({f})%00" for f in fields)
        out = self._run("for-each-ref", f"--format={fmt}", "refs/tags/")[1]
        values = out.decode("utf-8", "replace").split("\0")
        found = []
        for i in range(0, len(values) - len(fields) + 1, len(fields)):
            name, sha, kind, peeled, contents = values[i : i + len(fields)]
            name = name.removeprefix("\n")  # the line break ending the record before
            if name.startswith(prefix):
                annotated = kind == "tag"
                message = "\n".join(contents.splitlines()) if annotated else ""
                found.append((name, sha, peeled if annotated else sha, message))
        return found

    def rel_to_top(self, path: Path | str) -> str:
        """A workspace path as git names it in trees (relative to the repository top)."""
        return Path(self._rel(path)).as_posix()

    def read_file(self, rev: str, path: Path | str) -> bytes:
        """The content of ``path`` (relative to the workspace) at ``rev``, without a checkout."""
        found = self._object(f"{rev}:{self.rel_to_top(path)}")
        if found is None or found[0] != "blob":
            raise VcsError(f"{path} does not exist at {rev}")
        return found[1]

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

    def line_origins(self, rev: str, path: Path | str) -> list[tuple[str, str, str]]:
        """(commit, author name, text) of every line of ``path`` at ``rev``, the commit being the
        one that added the line (``git blame``, which follows union merges); [] when ``rev`` has
        no such file."""
        try:
            self.repo.git.cat_file("-e", f"{rev}:{self.rel_to_top(path)}")
        except _git().GitCommandError:
            return []
        with git_errors("blame"):
            out = self.repo.git.blame("--line-porcelain", rev, "--", self.rel_to_top(path))
        lines: list[tuple[str, str, str]] = []
        commit = author = ""
        for line in out.splitlines():
            if line.startswith("\t"):
                lines.append((commit, author, line[1:]))
                commit = ""
            elif not commit:
                commit = line.split(" ", 1)[0]
            elif line.startswith("author "):
                author = line.removeprefix("author ")
        return lines

    def in_head(self, path: Path | str) -> bool:
        """Whether the last commit holds ``path`` (staged alone does not count)."""
        if self.head() is None:
            return False
        try:
            self.repo.git.cat_file("-e", f"HEAD:{self.rel_to_top(path)}")
        except _git().GitCommandError:
            return False
        return True

    def is_tracked(self, path: Path | str) -> bool:
        with git_errors("ls-files"):
            return bool(self.repo.git.ls_files("--", self._rel(path)).strip())

    def tracked_files(self, folder: Path | str) -> list[str]:
        """Files git tracks under ``folder`` (working-tree view), relative to ``folder``."""
        rel = self.rel_to_top(folder)
        with git_errors("ls-files"):
            out = self.repo.git.ls_files("-z", "--", rel)
        return sorted(p.removeprefix(rel + "/") for p in out.split("\0") if p)

    def reset_soft(self, rev: str) -> None:
        with git_errors("reset"):
            self.repo.git.reset("--soft", "--quiet", rev)

    def unstage(self, paths: Sequence[Path | str], rev: str | None) -> None:
        """Take ``paths`` out of the index (back to ``rev``'s version, or untracked)."""
        specs = [self._rel(p) for p in paths]
        with git_errors("reset"):
            if rev:
                self.repo.git.reset("-q", rev, "--", *specs)
            else:
                self.repo.git.rm("--cached", "-f", "-q", "--ignore-unmatch", "-r", "--", *specs)

    def restore_from(self, rev: str, paths: Sequence[Path | str]) -> None:
        """Put ``paths`` back as they are at ``rev`` (index and working tree)."""
        with git_errors("checkout"):
            self.repo.git.checkout(rev, "--", *[self._rel(p) for p in paths])

    def commits_with_subject(self, prefix: str) -> list[str]:
        """Commits on any branch whose subject starts with ``prefix`` (a plain string)."""
        with git_errors("log"):
            out = self.repo.git.log("--all", "--format=%H", "-F", f"--grep={prefix}")
        shas = out.split()
        return [c for c in shas if self.commit_info(c)[0].startswith(prefix)]

    def count_commits(self, since: str, until: str) -> int:
        """How many commits ``until`` has that ``since`` has not."""
        with git_errors("rev-list"):
            return int(self.repo.git.rev_list("--count", f"{since}..{until}"))

    def unborn(self) -> None:
        """Take the branch back to before its first commit (the files stay)."""
        with git_errors("update-ref"):
            self.repo.git.update_ref("-d", "HEAD")

    def abort_merge(self) -> None:
        """Undo a merge that did not commit: the index and the files it wrote back to HEAD,
        changes the user made before it kept (``git reset --merge``)."""
        with git_errors("reset --merge"):
            if self.head() is not None:
                self.repo.git.reset("--merge")

    def index_lock(self) -> Path:
        return Path(self.repo.git_dir) / "index.lock"

    # -- revisions, trees and blobs ------------------------------------------------------------
    def rev_parse(self, ref: str) -> str | None:
        """The commit ``ref`` names (a sha, branch, tag, ``HEAD~2`` ...), or None. A full commit
        sha names itself for good: it is checked once per handle."""
        if ref in self._commits:
            return ref
        status, out = self._run(
            "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", ok=(0, 1, 128)
        )
        if status:
            return None
        found = out.decode().strip()
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
            self._run("ls-tree", rev)  # the error says what is wrong with ``rev``
        if commit not in self._trees:
            out = self._text("ls-tree", "-r", "-z", commit)
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
        for sha in shas:
            found = self._object(sha)
            if found is None:
                raise VcsError(f"git cat-file failed: {sha} is not an object of this repository")
            out[sha] = found[1]
        return out

    def commits_adding(self, folder: Path | str, suffix: str) -> dict[str, tuple[str, str]]:
        """path (relative to ``folder``) -> (commit, committer date) of the commit that added it,
        for every file ending in ``suffix`` ever added under ``folder`` in HEAD's history."""
        rel = self.rel_to_top(folder)
        if self.head() is None:
            return {}
        out = self._text(
            "log", "--format=%x00%H %cI", "--diff-filter=A", "--name-only", "--", rel + "/"
        )
        found: dict[str, tuple[str, str]] = {}
        for chunk in out.split("\0")[1:]:
            header, *names = chunk.strip().splitlines()
            sha, date = header.split(" ", 1)
            for name in names:
                if name.endswith(suffix):
                    found.setdefault(name.removeprefix(rel + "/"), (sha, date))
        return found

    def file_changes(self, folders: Sequence[str], after: Sequence[str] = ()) -> list[FileChange]:
        """Every change to the files under ``folders`` (relative to the workspace) in HEAD's
        history (only commits not in the history of ``after``), parents before children: one
        ``git log`` with each merge diffed against every parent, so what a merge dropped from
        either side shows. Plain folder pathspecs: glob ones cost git twice the time."""

        if self.head() is None:
            return []
        prefix = self.rel_to_top(".")
        base = "" if prefix == "." else prefix + "/"
        specs = [f"{base}{folder}" for folder in folders]
        with git_errors("log"):
            out = self.repo.git.log(
                "--reverse",
                "--topo-order",
                "--full-history",
                "-m",
                "--raw",
                "--no-abbrev",
                "--no-renames",
                "--format=%x00%H%x01%P%x01%s",
                "HEAD",
                *[f"^{rev}" for rev in after],
                "--",
                *specs,
            )
        found = []
        for chunk in out.split("\0")[1:]:
            header, *lines = chunk.split("\n")
            sha, parents, subject = header.split("\x01", 2)
            for line in lines:
                if not line.startswith(":"):
                    continue
                info, _, path = line.partition("\t")
                _old_mode, _new_mode, old, new, status = info[1:].split()
                found.append(
                    FileChange(
                        sha,
                        subject,
                        tuple(parents.split()),
                        path.removeprefix(base),
                        None if set(old) == {"0"} else old,
                        None if set(new) == {"0"} else new,
                        status,
                    )
                )
        return found

    def is_ancestor(self, ancestor: str, rev: str = "HEAD") -> bool:
        """Whether ``ancestor`` is in the history of ``rev`` (or is it)."""
        try:
            self.repo.git.merge_base("--is-ancestor", ancestor, rev)
        except _git().GitCommandError as exc:
            if exc.status == 1:
                return False
            raise VcsError(f"git merge-base failed: {(exc.stderr or '').strip()}") from exc
        return True

    def last_change(self, paths: Sequence[Path | str]) -> FileChange | None:
        """The newest commit of HEAD's history that touched any of ``paths`` (its first path)."""

        if self.head() is None or not paths:
            return None
        with git_errors("log"):
            out = self.repo.git.log(
                "-1", "--format=%H%x01%P%x01%s", "HEAD", "--", *[self._rel(p) for p in paths]
            )
        if not out.strip():
            return None
        sha, parents, subject = out.strip().split("\x01", 2)
        return FileChange(sha, subject, tuple(parents.split()), str(paths[0]), None, None, "M")

    def commit_info(self, rev: str) -> tuple[str, str, list[str]]:
        """(subject, committer date, parents) of a commit."""
        with git_errors("show"):
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
        """Remote-tracking branches whose history holds ``commit``: it was pushed or fetched
        (not ``origin/HEAD``, a pointer to one of them)."""
        with git_errors("branch --contains"):
            out = self.repo.git.branch("-r", "--contains", commit, "--format=%(refname:short)")
        names = [line.strip() for line in out.splitlines() if line.strip()]
        return [name for name in names if not name.endswith("/HEAD") and name != "origin"]

    def local_branches_containing(self, commit: str) -> list[str]:
        """Local branches whose history holds ``commit``."""
        with git_errors("branch --contains"):
            out = self.repo.git.branch("--contains", commit, "--format=%(refname:short)")
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


def _stop(batch: subprocess.Popen) -> None:
    """End a ``cat-file --batch``: its input closed, it exits."""
    if batch.stdin is not None:
        with contextlib.suppress(OSError):
            batch.stdin.close()
    try:
        batch.wait(timeout=10)
    except subprocess.TimeoutExpired:
        batch.kill()
        batch.wait()
    if batch.stdout is not None:
        batch.stdout.close()


class RefFiles:
    """HEAD and the tags read from the files git keeps them in, as GitPython does: no process
    for what every read command asks first. The per-worktree folder holds HEAD; the common
    folder (the same one, but for a linked worktree) the branches and tags."""

    def __init__(self, git_dir: Path, common_dir: Path):
        self.git_dir = git_dir
        self.common_dir = common_dir

    @classmethod
    def of(cls, dot_git: Path) -> RefFiles | None:
        git_dir = dot_git
        if dot_git.is_file():  # a linked worktree: "gitdir: <its folder>"
            text = dot_git.read_text(encoding="utf-8").strip()
            if not text.startswith("gitdir:"):
                return None
            git_dir = (dot_git.parent / text.removeprefix("gitdir:").strip()).resolve()
        common = git_dir
        with contextlib.suppress(FileNotFoundError):
            named = (git_dir / "commondir").read_text(encoding="utf-8").strip()
            common = (git_dir / named).resolve()
        if (common / "reftable").exists() or not (git_dir / "HEAD").is_file():
            return None
        return cls(git_dir, common)

    def _packed(self) -> dict[str, str]:
        """name -> sha of ``packed-refs`` (the peeled ``^`` lines and the header skipped)."""
        try:
            text = (self.common_dir / "packed-refs").read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        found = {}
        for line in text.splitlines():
            if line and line[0] not in "#^":
                sha, _, name = line.partition(" ")
                found[name] = sha
        return found

    def _loose(self, name: str) -> str | None:
        folder = self.git_dir if name == "HEAD" else self.common_dir
        try:
            return (folder / name).read_text(encoding="utf-8").strip()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def resolve(self, name: str) -> str | None:
        """The sha ``name`` (HEAD, refs/...) points at through symbolic refs, or None (unborn)."""
        packed = None
        for _ in range(8):
            value = self._loose(name)
            if value is None:
                packed = self._packed() if packed is None else packed
                value = packed.get(name)
            if value is None:
                return None
            if not value.startswith("ref:"):
                return value if FULL_SHA.match(value) else None
            name = value.removeprefix("ref:").strip()
        return None

    def tags(self, prefix: str) -> dict[str, str]:
        """name -> the sha its ref holds, for the tags starting with ``prefix``."""
        found = {
            name.removeprefix("refs/tags/"): sha
            for name, sha in self._packed().items()
            if name.startswith("refs/tags/" + prefix)
        }
        top = self.common_dir / "refs" / "tags"
        for folder, _, files in os.walk(top):
            for file in files:
                name = Path(folder, file).relative_to(top).as_posix()
                if name.startswith(prefix) and not name.endswith(".lock"):
                    sha = self._loose(f"refs/tags/{name}")
                    if sha and FULL_SHA.match(sha):
                        found[name] = sha
        return found


@dataclass(frozen=True)
class FileChange:
    """One file changed by one commit against one of its parents (blob shas; None: absent)."""

    commit: str
    subject: str
    parents: tuple[str, ...]
    path: str  # relative to the workspace
    old: str | None
    new: str | None
    status: str  # A, M, D or T


@dataclass(frozen=True)
class Tag:
    name: str
    commit: str
    message: str
