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
from labelspec.repo import Repo, open_repo

__version__ = "0.1.0"


def open_workspace(path="."):
    """Open the workspace that contains ``path``: a ``Workspace`` (a ``Repo`` whose ``labels()``,
    ``query()``, ``trainset()`` and ``manifest()`` read labels)."""
    from labelspec.workspace import open_workspace as _open  # lazy: duckdb, pyarrow

    return _open(path)


def open_trainset(
    url_or_path, name: str, rev: str | None = None, remote=None, remote_config=None, cache_dir=None
):
    """A pinned training set where training runs, from a git URL or a workspace folder through
    its DVC remote, without a clone: its table, its files, ``to_hf()`` and ``torch_dataset()``
    (a ``TrainingSet``, see ``labelspec.loaders.open_trainset``)."""
    from labelspec.loaders import open_trainset as _open  # lazy: pyarrow, numpy, dvc

    return _open(url_or_path, name, rev, remote, remote_config, cache_dir)


def __getattr__(name: str):
    # TrainingSet and Workspace load pyarrow, numpy and duckdb: only when asked for, so
    # `labelspec --help` stays fast
    if name == "TrainingSet":
        from labelspec.loaders import TrainingSet  # lazy: see above

        return TrainingSet
    if name == "Workspace":
        from labelspec.workspace import Workspace  # lazy: see above

        return Workspace
    raise AttributeError(f"module 'labelspec' has no attribute {name!r}")


__all__ = [
    "LabelspecError",
    "LockError",
    "NotFoundError",
    "Problem",
    "ProblemsError",
    "ReleaseError",
    "Repo",
    "SpecError",
    "TrainingSet",
    "VcsError",
    "Workspace",
    "WorkspaceError",
    "__version__",
    "open_repo",
    "open_trainset",
    "open_workspace",
]
