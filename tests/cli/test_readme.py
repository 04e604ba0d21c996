"""The README's Quick start runs verbatim in a fresh folder, as a new user would type it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT


def quick_start() -> str:
    text = (REPO_ROOT / "README.md").read_text()
    section = text.split("## Quick start", 1)[1]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


def test_the_quick_start_runs_verbatim(tmp_path: Path):
    script = quick_start()
    assert "labelspec init my-labels" in script and "labels import" in script
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}

    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "Imported 12 label(s)" in done.stdout
    assert "ok: digits: 1 batches, 12 labels" in done.stdout
