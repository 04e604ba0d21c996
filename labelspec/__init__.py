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
    "open_workspace",
]
