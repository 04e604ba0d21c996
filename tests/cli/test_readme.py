"""The README's shell blocks run verbatim in a fresh folder, as a new user would type them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT


def shell_block(text: str, heading: str) -> str:
    section = text.split(f"## {heading}\n", 1)[1]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


def quick_start() -> str:
    return shell_block((REPO_ROOT / "README.md").read_text(), "Quick start")


def start_your_own_project() -> str:
    return shell_block((REPO_ROOT / "README.md").read_text(), "Start your own project")


def run_block(script: str, cwd: Path, home: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    if home is not None:
        env["HOME"] = str(home)
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )


def test_the_quick_start_runs_verbatim(tmp_path: Path):
    script = quick_start()
    assert "labelspec init my-labels" in script and "labels import" in script

    done = run_block(script, tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "Imported 12 label(s)" in done.stdout
    assert "ok: digits: 1 batches, 12 labels" in done.stdout


# (file, boxes [(class, x, y, w, h)]): the last photo is an empty street, its "no objects here"
PHOTOS = [
    ("s00.jpg", [("school_bus", 20, 30, 90, 50)]),
    ("s01.jpg", [("pickup_truck", 40, 50, 60, 35)]),
    ("s02.jpg", [("school_bus", 10, 20, 70, 45), ("pickup_truck", 90, 60, 50, 30)]),
    ("s03.jpg", []),
]
CLASSES = ["school_bus", "pickup_truck"]


def your_photos_and_export(home: Path) -> None:
    """What the section assumes you have: photos, and a vendor's COCO export of them."""
    from PIL import Image, ImageDraw

    photos, exports = home / "street-photos", home / "exports"
    photos.mkdir(parents=True)
    exports.mkdir()
    images, annotations = [], []
    for image_id, (name, boxes) in enumerate(PHOTOS, 1):
        picture = Image.new("RGB", (160, 120), (90, 90, 90))
        draw = ImageDraw.Draw(picture)
        for cls, x, y, w, h in boxes:
            fill = (240, 190, 20) if cls == "school_bus" else (200, 200, 40)
            draw.rectangle((x, y, x + w, y + h), fill=fill)
            annotations.append(
                {"id": len(annotations) + 1, "image_id": image_id, "bbox": [x, y, w, h],
                 "category_id": CLASSES.index(cls) + 1, "area": w * h, "iscrowd": 0}
            )  # fmt: skip
        picture.save(photos / name, format="JPEG", quality=90)
        images.append({"id": image_id, "file_name": name, "width": 160, "height": 120})
    categories = [{"id": i, "name": name} for i, name in enumerate(CLASSES, 1)]
    (exports / "northside.coco.json").write_text(
        json.dumps({"images": images, "annotations": annotations, "categories": categories})
    )


def test_start_your_own_project_runs_verbatim(tmp_path: Path):
    script = start_your_own_project()
    assert "labelspec init buses --empty" in script
    [release] = [line for line in script.splitlines() if line.startswith("labelspec guideline rel")]
    assert release.split("#")[0].split() == ["labelspec", "guideline", "release", "school-buses"]
    home = tmp_path / "home"
    your_photos_and_export(home)
    work = tmp_path / "work"
    work.mkdir()

    done = run_block(script, work, home)

    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "Created guideline school-buses (detection: school_bus, pickup_truck)" in out
    assert "Added dataset streets, labeled under school-buses" in out
    assert "ok: 0 error(s), 2 warning(s) in 1 guideline(s)" in out
    assert "Released school-buses v1.0.0\n" in out
    assert "streets: 4 new item(s), 0 unchanged, 4 in all" in out
    assert "ok: streets: 1 batches, 4 labels and 1 empty answer(s)" in out, out
    assert "warning: 4 field(s) still say TODO" in done.stderr
    ws = work / "buses"
    assert not (ws / "guidelines/digits").exists() and not (ws / "sample").exists()
    log = subprocess.run(
        ["git", "log", "--format=%s"], cwd=ws, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert log[-4:] == [
        "Release guideline school-buses v1.0.0: First release",
        "dataset add: streets, labeled under school-buses",
        "guideline new: school-buses (detection: school_bus, pickup_truck)",
        "labelspec init: empty workspace",
    ]
