"""A branch that holds a built site (gh-pages): read and committed without a checkout."""

from __future__ import annotations

import io
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from labelspec.errors import ConflictError, VcsError
from labelspec.vcs.gitrepo import Git, git_errors


@dataclass(frozen=True)
class PagesStart:
    """What a site branch is read from: ``name`` is the branch or its remote-tracking branch
    (``origin/gh-pages`` in a fresh clone), ``commit`` its tip."""

    name: str
    commit: str
    remote: bool


def pages_start(git: Git, branch: str, diverged_ok: bool = False) -> PagesStart | None:
    """Where the site on ``branch`` stands: the local branch, or the remote-tracking one when it
    is ahead or there is no local branch (a fresh clone has only ``origin/gh-pages``), so a new
    version is added to the published ones. Diverged: ConflictError (the local one if
    ``diverged_ok``). None when neither exists."""

    local = git.rev_parse(f"refs/heads/{branch}")
    remotes = sorted(git.remote_names(), key=lambda name: name != "origin")
    tracking = next(
        (
            (f"{r}/{branch}", sha)
            for r in remotes
            if (sha := git.rev_parse(f"refs/remotes/{r}/{branch}"))
        ),
        None,
    )
    if tracking is None or tracking[1] == local:
        return PagesStart(branch, local, False) if local else None
    name, remote_sha = tracking
    if local is None or git.is_ancestor(local, remote_sha):
        return PagesStart(name, remote_sha, True)
    if git.is_ancestor(remote_sha, local) or diverged_ok:
        return PagesStart(branch, local, False)
    # merging two site commits conflicts in versions.json, index.html, sitemap.xml and the
    # search index (both sides rewrote them); publishing is idempotent per version, so taking
    # the remote branch and publishing again what only the local one had loses nothing
    raise ConflictError(
        f"branch {branch} and {name} have diverged (each has site commits the other lacks), so "
        f"publishing on either would drop published versions. Take {name} (`git branch -f "
        f"{branch} {name}`), then publish again each version only the local {branch} had "
        f"(its commits are listed by `git log --oneline {name}..{branch}` before the reset: "
        f"`labelspec site publish NAME --version X`); do not merge the two"
    )


def extract_branch(
    root: Path, branch: str, dest: Path, diverged_ok: bool = False
) -> PagesStart | None:
    """Write the site tree of ``branch`` (see ``pages_start``) into ``dest``, without a checkout;
    None if there is no such branch, local or remote."""

    with Git(root) as git:
        start = pages_start(git, branch, diverged_ok)
        if start is None:
            return None
        with git_errors("archive"):
            data = git.repo.git.archive("--format=tar", start.commit, stdout_as_string=False)
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        archive.extractall(dest, filter="data")
    return start


def current_branch(root: Path) -> str | None:
    """The branch checked out in the working tree at ``root`` (None on a detached HEAD)."""
    with Git(root) as git:
        return git.branch()


def site_branch_start(root: Path, branch: str) -> PagesStart | None:
    """Where ``publish`` would continue ``branch`` (see ``pages_start``); ConflictError when
    the local and remote branches have diverged."""
    with Git(root) as git:
        return pages_start(git, branch)


def holds_path(root: Path, commit: str, path: Path) -> bool:
    """Whether ``commit`` has ``path`` (a workspace path): a commit of the workspace."""
    with Git(root) as git:
        try:
            git.read_file(commit, path)
        except VcsError:  # absent at that commit
            return False
        return True


def commit_directory(
    root: Path, branch: str, directory: Path, message: str, parent: str | None = None
) -> str:
    """Commit the whole of ``directory`` as the tree of ``branch`` (created if needed), without
    touching the working tree or the index: a temporary index, write-tree, commit-tree.
    ``parent``: the commit the new one follows (the remote-tracking tip when the local branch
    is absent or behind); the local tip by default."""

    with Git(root) as git, tempfile.TemporaryDirectory() as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index"), **git._identity()}
        g = git.repo.git
        with git_errors(f"commit to {branch}"):
            g.execute(["git", f"--work-tree={directory}", "add", "-A", "--force", "."], env=env)
            tree = g.execute(["git", "write-tree"], env=env).strip()
            old = git.rev_parse(f"refs/heads/{branch}")
            follows = parent or old
            parents = ["-p", follows] if follows else []
            commit = g.execute(
                ["git", "commit-tree", tree, *parents, "-m", message], env=env
            ).strip()
            # compare-and-swap: the only step that changes anything, atomic in git
            g.update_ref(f"refs/heads/{branch}", commit, old or "0" * 40)
        return commit
