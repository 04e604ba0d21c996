"""The only package that talks to git (GitPython) and DVC (``dvc.repo.Repo``).

Third-party failures are turned into ``VcsError`` here, so callers see one kind of error with a
message that says what went wrong and what to try.

    gitrepo   git: commits, tags, trees, remotes (``Git``)
    dvcrepo   DVC's own API: set-up, push / pull, another repository read at a revision
    cache     DVC's cache layout and ``.dvc`` files written and read by hand (fast writes)
    pages     a site branch (gh-pages) read and committed without a checkout
"""

from labelspec.vcs.cache import (
    DvcCache,
    dvc_file_text,
    dvc_folder_text,
    hash_file,
    parse_dvc_file,
    read_at,
)
from labelspec.vcs.dvcrepo import SOURCE_REMOTE, Dvc, dvc_errors, dvc_filesystem
from labelspec.vcs.gitrepo import FULL_SHA, FileChange, Git, Tag, git_root, is_ignored
from labelspec.vcs.pages import (
    PagesStart,
    commit_directory,
    current_branch,
    extract_branch,
    holds_path,
    site_branch_start,
)

__all__ = [
    "FULL_SHA",
    "SOURCE_REMOTE",
    "Dvc",
    "DvcCache",
    "FileChange",
    "Git",
    "PagesStart",
    "Tag",
    "commit_directory",
    "current_branch",
    "dvc_errors",
    "dvc_file_text",
    "dvc_filesystem",
    "dvc_folder_text",
    "extract_branch",
    "git_root",
    "hash_file",
    "holds_path",
    "is_ignored",
    "parse_dvc_file",
    "read_at",
    "site_branch_start",
]
