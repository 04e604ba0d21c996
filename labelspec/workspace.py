"""``Workspace`` is ``labelspec.repo.Repo``: this module keeps its historical import path."""

from labelspec.repo import (
    CONFIG_NAME,
    LAYOUT,
    LOCK_TIMEOUT_S,
    Config,
    DatasetConfig,
    Policies,
    RemoteConfig,
    Repo,
    Workspace,
    find_root,
    open_repo,
    open_workspace,
)

__all__ = [
    "CONFIG_NAME",
    "LAYOUT",
    "LOCK_TIMEOUT_S",
    "Config",
    "DatasetConfig",
    "Policies",
    "RemoteConfig",
    "Repo",
    "Workspace",
    "find_root",
    "open_repo",
    "open_workspace",
]
