"""``labelspec push`` / ``pull``: data travels with its commits.

``push`` uploads the DVC objects of HEAD (batches are append-only, so HEAD's ``.dvc`` files name
every batch, manifest and golden version of the history) to the workspace's DVC remote *first*,
then pushes the branch and the tags to the git remote: a commit never reaches the remote before
its data. ``pull`` runs ``git pull`` (a merge when both sides moved; record files merge by
union), then fetches and checks out the data, then verifies. A fresh clone plus ``labelspec
pull`` answers every question as the clones that wrote the data.
"""

from __future__ import annotations

from typing import Any

from labelspec.errors import LabelspecError
from labelspec.labels.verify import verify
from labelspec.progress import progress
from labelspec.repo import Repo
from labelspec.vcs import Dvc, Git


def _dvc_remote(ws: Repo) -> str:

    name = ws.config.remote.name
    with Dvc(ws.root) as dvc:
        remotes = dvc.repo.config.get("remote", {})
    if name not in remotes:
        raise LabelspecError(
            f"DVC remote {name!r} (labelspec.yaml remote.name) is not configured; "
            f"add it with `dvc remote add -d {name} URL`"
        )
    return name


def _git_remote(git, remote: str | None) -> str | None:
    names = git.remote_names()
    if remote is not None and remote not in names:
        raise LabelspecError(
            f"no git remote {remote!r} (remotes: {', '.join(names) or 'none'}; `git remote add`)"
        )
    return remote or ("origin" if "origin" in names else (names[0] if names else None))


def push(ws: Repo, remote: str | None = None, git_only: bool = False) -> dict[str, Any]:
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
    return {
        "remote": name,
        "pushed": pushed,
        "git_remote": target,
        "branch": branch,
        "git_pushed": bool(target and branch),
    }


def pull(ws: Repo, remote: str | None = None, git: bool = True) -> dict[str, Any]:
    """``git pull`` (merge), then the data of HEAD, then ``verify``."""

    name = _dvc_remote(ws)
    with progress(f"pull from {name}", total=3) as advance:
        with ws.lock(), Git(ws.root) as repo:
            target = _git_remote(repo, remote) if git else None
            branch = repo.branch()
            merged = None
            if target and branch:
                before = repo.head()
                repo.pull(target, branch)
                merged = _pulled(repo, before, f"{target}/{branch}")
            advance(1)
            with Dvc(ws.root) as dvc:
                fetched = dvc.pull(remote=name)
            advance(1)
        report = verify(ws)
        advance(1)
    return {
        "remote": name,
        "pulled": fetched,
        "git_remote": target,
        "git": [merged] if merged else [],
        "verify": report.to_dict(),
    }


def _pulled(repo, before: str | None, where: str) -> str:
    after = repo.head()
    if before == after or before is None:
        return f"up to date with {where}"
    new = int(repo.repo.git.rev_list("--count", f"{before}..{after}"))
    # a fast-forward lands exactly on what was fetched; a merge makes a commit of its own
    kind = "a fast-forward" if repo.rev_parse("FETCH_HEAD") == after else "a merge"
    return f"{new} new commit(s) from {where} ({kind})"
