"""The public API's workspace: a ``labelspec.repo.Repo`` with conveniences that read labels.

    ws = labelspec.open_workspace(".")
    ws.labels("digits")                 # the current labels, a pyarrow Table
    ws.query("digits").sql("...")       # DuckDB: labels, labels_all, items
    ws.trainset("digits-v1")            # a pinned training set's table
    ws.manifest("digits")               # what other engines need (labelspec.store.manifest)

It sits above the store it reads (the Repo below it imports none of it), so library verbs take
the plain Repo and only users of the public API get these methods.
"""

from __future__ import annotations

from pathlib import Path

from labelspec.repo import (
    CONFIG_NAME,
    LAYOUT,
    LOCK_TIMEOUT_S,
    Config,
    DatasetConfig,
    Policies,
    RemoteConfig,
    Repo,
    find_root,
    open_repo,
)
from labelspec.store.manifest import manifest
from labelspec.store.query import connect, current_labels
from labelspec.store.trainsets import load_trainset


class Workspace(Repo):
    """A Repo with the public API's conveniences (see the module docstring)."""

    def labels(self, dataset: str, snapshot: str | int | None = None):
        """The current labels of a snapshot (the latest by default) as a pyarrow Table."""
        return current_labels(self, dataset, snapshot)

    def trainset(self, name: str):
        """A pinned training set (``labelspec trainset create``) as a pyarrow Table."""
        return load_trainset(self, name)

    def query(self, dataset: str, snapshot: str | int | None = None):
        """A DuckDB connection with views ``labels`` (current), ``labels_all`` and ``items``."""
        return connect(self, dataset, snapshot)

    def manifest(self, dataset: str, snapshot: str | None = None):
        """What engines need to read a snapshot's labels (``labelspec.store.manifest``)."""
        return manifest(self, dataset, snapshot)


def open_workspace(path: Path | str = ".") -> Workspace:
    """Open the workspace that contains ``path`` (the current directory by default)."""
    return Workspace(find_root(path))


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
