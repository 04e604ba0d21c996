"""The Repo: one labelspec workspace, opened once per command (DVC's ``Repo`` is the model).

It holds what every verb of a command needs and must not load twice: the parsed
``labelspec.yaml``, one git handle (``git``), the write lock and the one reentrant transaction
(``transaction``), and per-command caches of what the verbs read from history (``memo``): the
guideline tags listed once, specs parsed once per (guideline, version), snapshots, item
manifests, the roster and the training records. Library verbs take the Repo as their first
argument; the CLI opens one per invocation. The caches are per instance and are emptied when a
transaction takes the lock and when it commits (``reset``), as dvc resets its Repo under
``@locked``.

The Repo is the bottom of the library: it imports nothing above ``vcs``. The public API's
``labelspec.workspace.Workspace`` is a Repo with conveniences that read labels.
"""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal, TypeVar

from filelock import FileLock, Timeout
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from labelspec import yamlio
from labelspec.errors import LockError, NotFoundError, WorkspaceError
from labelspec.vcs import Git

T = TypeVar("T")

CONFIG_NAME = "labelspec.yaml"
LOCK_TIMEOUT_S = 600


class DatasetConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    guideline: str
    description: str | None = None


class RemoteConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = "storage"
    url: str | None = None


class Policies(BaseModel):
    model_config = ConfigDict(extra="forbid")
    training: Literal["error", "warn", "off"] = "error"


LAYOUT = 2  # the store layout this labelspec writes (``labelspec upgrade`` moves 1 -> 2)


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")
    workspace: int = 2  # layout 1 files say `workspace: 1`
    release_branch: str = "main"  # guideline releases are made here, after review
    name: str = Field(default="labelspec", min_length=1)
    datasets: dict[str, DatasetConfig] = {}
    remote: RemoteConfig = RemoteConfig()
    policies: Policies = Policies()


def find_root(start: Path | str = ".") -> Path:
    """The nearest directory at or above ``start`` that holds ``labelspec.yaml``."""
    here = Path(start).resolve()
    for candidate in (here, *here.parents):
        if (candidate / CONFIG_NAME).is_file():
            return candidate
    raise WorkspaceError(
        f"{here} is not inside a labelspec workspace (run `labelspec init` to create one)"
    )


class Repo:
    """A labelspec workspace, opened once per command (see the module docstring)."""

    def __init__(self, root: Path):
        self.root = Path(root).resolve()
        self.config_path = self.root / CONFIG_NAME
        self._git: Git | None = None
        self._lock = None  # one FileLock per Repo: reentrant, so nested writers share it
        self._memo: dict[Any, Any] = {}
        self.transaction_open = None  # the open transaction (labelspec.transaction: reentrancy)

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"

    def __enter__(self) -> Repo:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the git handle (its helper processes); the Repo reopens it when used again."""
        if self._git is not None:
            self._git.close()
            self._git = None

    # -- what a command loads once -----------------------------------------------------------
    @property
    def git(self) -> Git:
        """The one git handle of this Repo (GitPython keeps its helper processes alive)."""
        if self._git is None:
            self._git = Git(self.root)
        return self._git

    def memo(self, key: Any, compute: Callable[[], T]) -> T:
        """``compute()`` once per ``key`` for the life of this Repo (or until ``reset``)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def reset(self) -> None:
        """Forget what was read: the history changed (a commit, a tag, a pull)."""
        self._memo.clear()

    @staticmethod
    def stamp(*paths: Path) -> tuple:
        """What tells a file's content changed without reading it (size, mtime): part of the memo
        key of anything read from the working tree, so a Repo kept across commands (a notebook,
        a test) never serves what another process has since rewritten."""
        found = []
        for path in paths:
            try:
                info = path.stat()
            except FileNotFoundError:
                found.append(None)
            else:
                found.append((info.st_size, info.st_mtime_ns))
        return tuple(found)

    @property
    def config(self) -> Config:
        return self.memo(("config", self.stamp(self.config_path)), self._read_config)

    def _read_config(self) -> Config:
        data = yamlio.to_plain(yamlio.load_plain(self.config_path)) or {}
        try:
            return Config.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise WorkspaceError(f"{self.config_path}: {where}: {first['msg']}") from exc

    # -- paths ---------------------------------------------------------------------------------
    @property
    def state_dir(self) -> Path:
        """``.labelspec/``: the lock, the write journal and caches (git-ignored, per clone)."""
        folder = self.root / ".labelspec"
        folder.mkdir(exist_ok=True)
        return folder

    @property
    def guidelines_dir(self) -> Path:
        return self.root / "guidelines"

    @property
    def labelers_dir(self) -> Path:
        return self.root / "labelers"

    @property
    def datasets_dir(self) -> Path:
        return self.root / "datasets"

    def guideline_dir(self, name: str) -> Path:
        return self.guidelines_dir / name

    def spec_path(self, name: str) -> Path:
        path = self.guideline_dir(name) / "spec.yaml"
        if not path.is_file():
            names = self.guideline_names()
            close = difflib.get_close_matches(name.partition("@")[0], names, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            known = ", ".join(names) or "none"
            raise NotFoundError(
                f"no guideline {name!r} in {self.guidelines_dir} ({hint}known: {known})"
            )
        return path

    def guideline_names(self) -> list[str]:
        if not self.guidelines_dir.is_dir():
            return []
        return sorted(p.parent.name for p in self.guidelines_dir.glob("*/spec.yaml"))

    def dataset_dir(self, name: str) -> Path:
        return self.datasets_dir / name

    def relpath(self, path: Path) -> str:
        """``path`` relative to the root, with forward slashes, for messages and manifests."""
        try:
            return Path(path).resolve().relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def inside(self, path: Path | str) -> Path:
        """Resolve ``path`` against the root and refuse it if it leaves the workspace."""
        resolved = (self.root / path).resolve()
        if resolved != self.root and self.root not in resolved.parents:
            raise WorkspaceError(f"path {str(path)!r} escapes the workspace {self.root}")
        return resolved

    # -- the write lock ------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, timeout: float = LOCK_TIMEOUT_S) -> Iterator[None]:
        """Serialise multi-step writes (files -> dvc add -> git commit) across processes; held
        again by the same Repo it just counts (filelock's locks are reentrant)."""

        lock_dir = self.state_dir
        if self._lock is None:
            self._lock = FileLock(str(lock_dir / "lock"), timeout=timeout)
        try:
            with self._lock:
                yield
        except Timeout as exc:
            raise LockError(
                f"another labelspec command has held {lock_dir / 'lock'} for {timeout:.0f}s; "
                "wait for it to finish (or remove the lock file if no labelspec process is running)"
            ) from exc


def open_repo(path: Path | str = ".") -> Repo:
    """Open the workspace that contains ``path`` (the current directory by default)."""
    return Repo(find_root(path))
