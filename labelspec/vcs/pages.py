"""A branch that holds a built site (gh-pages): read and committed without a checkout."""

from __future__ import annotations

import io
import tarfile
import tempfile
from pathlib import Path

from labelspec.vcs.gitrepo import Git, git_errors


def extract_branch(root: Path, branch: str, dest: Path) -> bool:
    """Write the tree of ``branch`` into ``dest`` (no checkout); False if the branch is absent."""

    with Git(root) as git:
        if branch not in [h.name for h in git.repo.heads]:
            return False
        with git_errors("archive"):
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
        with git_errors(f"commit to {branch}"):
            g.execute(["git", f"--work-tree={directory}", "add", "-A", "--force", "."], env=env)
            tree = g.execute(["git", "write-tree"], env=env).strip()
            old = git.rev_parse(f"refs/heads/{branch}")
            parent = ["-p", old] if old else []
            commit = g.execute(
                ["git", "commit-tree", tree, *parent, "-m", message], env=env
            ).strip()
            # compare-and-swap: the only step that changes anything, atomic in git
            g.update_ref(f"refs/heads/{branch}", commit, old or "0" * 40)
        return commit
