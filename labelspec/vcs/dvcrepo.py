"""DVC through ``dvc.repo.Repo`` (set-up, push, pull) and ``DVCFileSystem`` (another
repository read at a revision)."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labelspec.errors import VcsError

if TYPE_CHECKING:
    from dvc.repo import Repo as DvcRepo

# DVC would otherwise try to phone home from a machine that may have no network.
os.environ.setdefault("DVC_NO_ANALYTICS", "1")


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

    def remote_names(self) -> list[str]:
        """The DVC remotes configured (``.dvc/config`` and ``config.local``)."""
        return list(self.repo.config.get("remote", {}))

    def set_default_remote(self, name: str, url: str) -> None:
        with _dvc_errors("remote add"), self.repo.config.edit("repo") as conf:
            conf["remote"][name] = {"url": url}
            conf["core"]["remote"] = name

    # -- tracking, remotes, the cache ---------------------------------------------------------------
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


# -- reading another repository at a revision (loaders, `open_trainset`) ------------------------------
SOURCE_REMOTE = "labelspec-trainset-source"  # the name a remote_config gets in DVC's config


def dvc_filesystem(
    url: str, rev: str, remote: str | None = None, remote_config: dict[str, Any] | None = None
):
    """DVC's file system over the repository ``url`` at ``rev``, reading DVC-tracked files from
    its DVC remote (``remote``, a remote named in its config) or the one ``remote_config``
    describes (the settings of ``dvc remote add``)."""
    from dvc.api import DVCFileSystem  # lazy: dvc takes ~1 s to import

    if remote_config and remote is None:
        # a remote of its own: merged into the committed one, an S3 config would inherit
        # the local folder remote's settings, which DVC then refuses
        remote = SOURCE_REMOTE
    return DVCFileSystem(url, rev=rev, remote=remote, remote_config=remote_config)


@contextlib.contextmanager
def dvc_errors(url: str, rev: str) -> Iterator[None]:
    """DVC's and git's failures as ``VcsError`` (as ``git_errors`` / ``_dvc_errors`` do for the workspace)."""
    from dvc.exceptions import DvcException  # lazy: see above
    from scmrepo.exceptions import SCMError  # lazy: see above

    try:
        yield
    except (DvcException, SCMError) as exc:
        raise VcsError(
            f"reading {rev} from {url} failed: {exc} (is the tag pushed, and the DVC remote "
            "reachable? `labelspec push` sends both)"
        ) from exc
