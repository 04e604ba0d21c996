"""A workspace with two releases of the digits guideline (1.0.0, then 1.1.0 clarifying 1 vs 7),
published into a folder and served over HTTP, shared by the site tests."""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from labelspec import yamlio

OLD_SEVEN = "A horizontal top bar joined to a diagonal stroke."
NEW_SEVEN = "A top bar at least half the digit's width, joined to a diagonal stroke."


def release_1_1_0(root: Path) -> None:
    from labelspec.guideline.releases import release
    from labelspec.workspace import Workspace

    spec = root / "guidelines/digits/spec.yaml"
    doc = yamlio.Document.load(spec)
    seven = next(c for c in doc.data["classes"] if c["id"] == "seven")
    seven["definition"] = NEW_SEVEN
    doc.data["changelog"].append(
        {"version": "unreleased", "summary": "Tell ones from sevens by the top bar", "affects": ["one", "seven"], "relabel": "required"}
    )
    doc.save()
    subprocess.run(["git", "commit", "-qam", "clarify 1 vs 7"], cwd=root, check=True)
    release(Workspace(root), "digits", "minor")


@pytest.fixture(scope="session")
def released_workspace(tmp_path_factory, pristine) -> Path:
    root = tmp_path_factory.mktemp("site") / "ws"
    shutil.copytree(pristine("classification"), root, symlinks=True)
    release_1_1_0(root)
    return root


@pytest.fixture(scope="session")
def published(released_workspace: Path, tmp_path_factory) -> Path:
    from labelspec.site.build import publish
    from labelspec.workspace import Workspace

    folder = tmp_path_factory.mktemp("published")
    ws = Workspace(released_workspace)
    publish(ws, "digits", "1.0.0", folder=folder, branch=None)
    publish(ws, "digits", "1.1.0", folder=folder, branch=None)
    return folder


@pytest.fixture(scope="session")
def served(published: Path):
    from labelspec.site.build import serve

    server = serve(published, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
