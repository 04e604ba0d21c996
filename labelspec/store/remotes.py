"""``labelspec push`` / ``pull``: data travels with its commits.

``push`` uploads the DVC objects of HEAD (batches are append-only, so HEAD's ``.dvc`` files name
every batch, manifest and golden version of the history) to the workspace's DVC remote *first*,
then pushes the branch and the tags to the git remote: a commit never reaches the remote before
its data. ``pull`` runs ``git pull`` (a merge when both sides moved; record files merge by
union), then fetches and checks out the data, then verifies. A fresh clone plus ``labelspec
pull`` answers every question as the clones that wrote the data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from labelspec.errors import NotFoundError
from labelspec.labels.verify import VerifyReport, verify
from labelspec.progress import progress
from labelspec.repo import Repo
from labelspec.transaction import pulling, recover
from labelspec.vcs import Dvc, Git


def _dvc_remote(ws: Repo) -> str:

    name = ws.config.remote.name
    with Dvc(ws.root) as dvc:
        remotes = dvc.remote_names()
    if name not in remotes:
        raise NotFoundError(
            f"DVC remote {name!r} (labelspec.yaml remote.name) is not configured; "
            f"add it with `dvc remote add -d {name} URL`"
        )
    return name


def _git_remote(git, remote: str | None) -> str | None:
    names = git.remote_names()
    if remote is not None and remote not in names:
        raise NotFoundError(
            f"no git remote {remote!r} (remotes: {', '.join(names) or 'none'}; `git remote add`)"
        )
    return remote or ("origin" if "origin" in names else (names[0] if names else None))


@dataclass(frozen=True)
class PushResult:
    remote: str  # the DVC remote
    pushed: int  # files uploaded to it
    git_remote: str | None
    branch: str | None

    @property
    def git_pushed(self) -> bool:
        return bool(self.git_remote and self.branch)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "git_pushed": self.git_pushed}


@dataclass(frozen=True)
class PullResult:
    remote: str
    pulled: int  # files fetched from the DVC remote
    git_remote: str | None
    git: list[str]  # what the git pull did, in words
    verify: VerifyReport

    def to_json(self) -> dict[str, Any]:
        return {
            "remote": self.remote,
            "pulled": self.pulled,
            "git_remote": self.git_remote,
            "git": self.git,
            "verify": self.verify.to_json(),
        }


def push(ws: Repo, remote: str | None = None, git_only: bool = False) -> PushResult:
    """DVC objects first, then commits and tags."""

    name = _dvc_remote(ws)
    with ws.lock(), Git(ws.root) as git, progress(f"push to {name}", total=2) as advance:
        pushed = 0
        if not git_only:
            with Dvc(ws.root) as dvc:
                pushed = dvc.push(remote=name)
        advance(1)
        target = _git_remote(git, remote)
        branch = git.branch()
        if target and branch:
            git.push(target, branch)
        advance(1)
    return PushResult(name, pushed, target, branch)


def pull(ws: Repo, remote: str | None = None, git: bool = True) -> PullResult:
    """``git pull`` (merge), then the data of HEAD, then ``verify``."""

    name = _dvc_remote(ws)
    with progress(f"pull from {name}", total=3) as advance:
        with ws.lock():
            repo = ws.git
            recover(ws, repo)
            target = _git_remote(repo, remote) if git else None
            branch = repo.branch()
            merged = None
            where = f"{target}/{branch}" if target and branch else name
            with pulling(ws, repo, f"labelspec pull from {where}"):
                if target and branch:
                    before = repo.head()
                    repo.pull(target, branch)
                    merged = _pulled(repo, before, where)
                    ws.reset()
                advance(1)
                with Dvc(ws.root) as dvc:
                    fetched = dvc.pull(remote=name)
                advance(1)
        report = verify(ws)
        advance(1)
    return PullResult(name, fetched, target, [merged] if merged else [], report)


def _pulled(repo, before: str | None, where: str) -> str:
    after = repo.head()
    if before == after or before is None:
        return f"up to date with {where}"
    new = repo.count_commits(before, after)
    # a fast-forward lands exactly on what was fetched; a merge makes a commit of its own
    kind = "a fast-forward" if repo.rev_parse("FETCH_HEAD") == after else "a merge"
    return f"{new} new commit(s) from {where} ({kind})"
