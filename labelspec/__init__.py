"""labelspec: labeling guidelines and labels with lineage, on git + DVC."""

from labelspec.errors import (
    LabelspecError,
    LockError,
    NotFoundError,
    Problem,
    ProblemsError,
    ReleaseError,
    SpecError,
    VcsError,
    WorkspaceError,
)
from labelspec.workspace import Workspace, open_workspace

__version__ = "0.1.0"


def open_trainset(url_or_path, name: str, rev: str | None = None, remote=None, remote_config=None):
    """A pinned training set read where training runs: from a git URL or path, through the DVC
    remote, without a clone (see ``labelspec.store.trainsets.open_trainset``)."""
    from labelspec.store.trainsets import open_trainset as _open

    return _open(url_or_path, name, rev, remote, remote_config)


__all__ = [
    "LabelspecError",
    "LockError",
    "NotFoundError",
    "Problem",
    "ProblemsError",
    "ReleaseError",
    "SpecError",
    "VcsError",
    "Workspace",
    "WorkspaceError",
    "__version__",
    "open_trainset",
    "open_workspace",
]
