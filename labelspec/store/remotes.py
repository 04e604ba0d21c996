"""``labelspec push`` / ``pull``: move DVC-tracked data (label batches, items) to and from the
workspace's DVC remote (``remote`` in labelspec.yaml; a local folder by default)."""

from __future__ import annotations

from typing import Any

from labelspec.errors import LabelspecError
from labelspec.workspace import Workspace


def _remote(ws: Workspace) -> str:
    from labelspec.vcs import Dvc

    name = ws.config.remote.name
    with Dvc(ws.root) as dvc:
        remotes = dvc.repo.config.get("remote", {})
        if name not in remotes:
            raise LabelspecError(
                f"DVC remote {name!r} (labelspec.yaml remote.name) is not configured; "
                f"add it with `dvc remote add -d {name} URL`"
            )
    return name


def push(ws: Workspace) -> dict[str, Any]:
    from labelspec.vcs import Dvc

    name = _remote(ws)
    with ws.lock(), Dvc(ws.root) as dvc:
        pushed = dvc.push(remote=name)
    return {"remote": name, "pushed": pushed}


def pull(ws: Workspace) -> dict[str, Any]:
    """Fetch and check out every DVC-tracked file of HEAD (batches are append-only, so HEAD's
    labels folder holds every snapshot's batches)."""
    from labelspec.vcs import Dvc

    name = _remote(ws)
    with ws.lock(), Dvc(ws.root) as dvc:
        fetched = dvc.pull(remote=name)
    return {"remote": name, "pulled": fetched}
