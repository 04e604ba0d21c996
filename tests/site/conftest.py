"""A workspace with two releases of the digits guideline (1.0.0, then 1.1.0 clarifying 1 vs 7 as
the demo does: two definitions, a rule for ones and sevens, a decision-tree question, a
borderline case now decided by that rule, and a counterexample whose picture was replaced),
published into a folder and served over HTTP, shared by the site tests."""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from labelspec import yamlio
from tests.conftest import REPO_ROOT

SCREENSHOTS = REPO_ROOT / "build" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

OLD_SEVEN = "A horizontal top bar joined to a diagonal stroke."
NEW_SEVEN = "A top bar at least half the digit's width, joined to a diagonal stroke."
NEW_ONE = (
    "A single vertical or slanted stroke. A flag at the top counts only when it is shorter than "
    "half the digit's width."
)
R4 = "Measure the top stroke: at least half the digit's width makes a seven, shorter is a one."
TOP_BAR = "Does the top bar span at least half of the digit's width?"
REPLACED = "examples/seven_like_one.png"  # a counterexample of one whose picture 1.1.0 replaced


def edit_1_1_0(root: Path) -> None:
    """The demo's 1 vs 7 clarification, as an edit of the working tree (not committed)."""
    spec = root / "guidelines/digits/spec.yaml"
    doc = yamlio.Document.load(spec)
    classes = {c["id"]: c for c in doc.data["classes"]}
    classes["seven"]["definition"] = NEW_SEVEN
    classes["one"]["definition"] = NEW_ONE
    classes["seven"]["examples"]["borderline"][0]["rule"] = "R4"
    doc.data["rules"].append({"id": "R4", "text": R4, "applies_to": ["one", "seven"]})
    doc.data["decision_tree"].insert(
        0, {"id": "top-bar", "question": TOP_BAR, "yes": "seven", "no": "one"}
    )
    doc.data["changelog"].append(
        {
            "version": "unreleased",
            "summary": "Tell ones from sevens by the top bar",
            "affects": ["one", "seven"],
            "relabel": "required",
        }
    )
    doc.save()
    examples = root / "guidelines/digits/examples"
    (examples / "seven_like_one.png").write_bytes((examples / "seven_typical_2.png").read_bytes())


def release_1_1_0(root: Path) -> None:
    from labelspec.guideline.release import release
    from labelspec.workspace import Workspace

    edit_1_1_0(root)
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


def serve_folder(folder: Path):
    """An HTTP server over ``folder`` on a free port, in a thread; stop it with shutdown()."""
    from labelspec.site.build import serve

    server = serve(folder, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(scope="session")
def served(published: Path):
    server, url = serve_folder(published)
    yield url
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium, offline; screenshots go to build/screenshots/."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, (
        "Debian's chromium is needed for the site tests (apt-get install chromium; .ci/run does it)"
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield launched
        launched.close()


# -- the school-bus guideline, with answers drawn on its examples ----------------------------------
BUS_CUT_BOX_OLD = "boxes: [{class: school_bus, x: 0, y: 118, w: 80, h: 56}]"
BUS_CUT_BOX_NEW = "boxes: [{class: school_bus, x: 0, y: 118, w: 82, h: 56}]"  # the stop arm too


@pytest.fixture(scope="session")
def buses_workspace(tmp_path_factory, pristine) -> Path:
    """A detection workspace with school-buses released as 1.0.0 (drawn examples, R2 scoped to
    boxes at the border) and 1.1.0, whose cut-off bus is boxed 2 px wider (the stop arm)."""
    from labelspec.demo import school_buses
    from labelspec.guideline.release import release, tag_current
    from labelspec.workspace import Workspace

    root = tmp_path_factory.mktemp("buses-site") / "ws"
    shutil.copytree(pristine("detection"), root, symlinks=True)
    school_buses.write(root / "guidelines" / school_buses.NAME)
    subprocess.run(["git", "add", "guidelines"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-qm", "school-buses"], cwd=root, check=True)
    tag_current(Workspace(root), school_buses.NAME)
    spec = root / "guidelines" / school_buses.NAME / "spec.yaml"
    text = spec.read_text()
    assert BUS_CUT_BOX_OLD in text
    spec.write_text(
        text.replace(BUS_CUT_BOX_OLD, BUS_CUT_BOX_NEW)
        + "  - version: unreleased\n    summary: Box the stop arm too\n    affects: []\n"
        "    relabel: none\n"
    )
    subprocess.run(["git", "commit", "-qam", "the stop arm"], cwd=root, check=True)
    release(Workspace(root), school_buses.NAME, "minor")
    return root


@pytest.fixture(scope="session")
def buses_served(buses_workspace: Path, tmp_path_factory):
    from labelspec.demo import school_buses
    from labelspec.site.build import publish
    from labelspec.workspace import Workspace

    folder = tmp_path_factory.mktemp("buses-published")
    publish(Workspace(buses_workspace), school_buses.NAME, "1.1.0", folder=folder, branch=None)
    server, url = serve_folder(folder)
    yield f"{url}/{school_buses.NAME}/latest"
    server.shutdown()
    server.server_close()
