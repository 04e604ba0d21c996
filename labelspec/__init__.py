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


def open_trainset(
    url_or_path, name: str, rev: str | None = None, remote=None, remote_config=None, cache_dir=None
):
    """A pinned training set where training runs, from a git URL or a workspace folder through
    its DVC remote, without a clone: its table, its files, ``to_hf()`` and ``torch_dataset()``
    (a ``TrainingSet``, see ``labelspec.loaders.open_trainset``)."""
    from labelspec.loaders import open_trainset as _open

    return _open(url_or_path, name, rev, remote, remote_config, cache_dir)


def __getattr__(name: str):
    # TrainingSet loads pyarrow and numpy: only when asked for, so `labelspec --help` stays fast
    if name == "TrainingSet":
        from labelspec.loaders import TrainingSet

        return TrainingSet
    raise AttributeError(f"module 'labelspec' has no attribute {name!r}")


__all__ = [
    "LabelspecError",
    "LockError",
    "NotFoundError",
    "Problem",
    "ProblemsError",
    "ReleaseError",
    "SpecError",
    "TrainingSet",
    "VcsError",
    "Workspace",
    "WorkspaceError",
    "__version__",
    "open_trainset",
    "open_workspace",
]
