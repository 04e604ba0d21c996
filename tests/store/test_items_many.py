"""``items add`` of a folder large enough for the hashing pool: the same manifest rows, the same
DVC cache objects (which DVC reads as its own), the same problems in the same order, and a
refused add leaves the cache as it was."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from PIL import Image

from labelspec.store.filemeta import CHUNK
from labelspec.store.items import read_items
from labelspec.vcs import DvcCache
from labelspec.workspace import Workspace
from tests.helpers import state

FOLDER = "datasets/digits/items/batch-1"
N = CHUNK + 44  # 300: the pool runs


def write_folder(root: Path, n: int) -> dict[str, Path]:
    """``n`` PNGs of sizes 1..7 x 1..5 (the size follows the index): name -> path."""
    folder = root / FOLDER
    folder.mkdir(parents=True)
    paths = {}
    for i in range(n):
        path = folder / f"img-{i:04d}.png"
        Image.new("L", (1 + i % 7, 1 + i % 5), i % 256).save(path)
        paths[path.name] = path
    return paths


def dvc(root: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "dvc", *args], cwd=root, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_a_folder_add_through_the_pool_gives_every_row_and_cache_object(workspace, run):
    paths = write_folder(workspace, N)
    modes = {name: stat.S_IMODE(p.stat().st_mode) for name, p in paths.items()}

    result = json.loads(run("items", "add", "digits", FOLDER, "--json", cwd=workspace).stdout)

    assert (result["added"], result["total"]) == (N, N)
    assert result["files"]["tracked_in_place"] == {f"{FOLDER}.dvc": N}
    rows = {r["item_id"]: r for r in read_items(Workspace(workspace), "digits").to_pylist()}
    assert sorted(rows) == sorted(paths)
    cache = DvcCache(workspace)
    for i, (name, path) in enumerate(sorted(paths.items())):
        data = path.read_bytes()
        row = rows[name]
        assert (row["path"], row["media"]) == (f"{FOLDER}/{name}", "image")
        assert (row["sha256"], row["bytes"]) == (hashlib.sha256(data).hexdigest(), len(data))
        assert (row["width"], row["height"]) == (1 + i % 7, 1 + i % 5)
        # the object is a read-only copy: the workspace file keeps its own inode and mode
        target = cache.object_path(hashlib.md5(data).hexdigest())
        assert target.read_bytes() == data
        assert stat.S_IMODE(target.stat().st_mode) == 0o444
        assert not os.path.samefile(target, path)
        assert stat.S_IMODE(path.stat().st_mode) == modes[name]
    # no temporary file is left beside the objects
    assert not list((workspace / ".dvc/cache").rglob("*.tmp"))
    # DVC sees the folder as committed and cached: nothing to add, nothing missing
    assert "up to date" in dvc(workspace, "status", f"{FOLDER}.dvc")
    data_status = json.loads(dvc(workspace, "data", "status", "--json", "--granular"))
    assert not data_status.get("uncommitted") and not data_status.get("not_in_cache")
    assert not data_status.get("unknown", [])


def test_bad_files_among_many_are_reported_in_order_and_nothing_is_cached(workspace, run):
    paths = write_folder(workspace, N)
    paths["img-0007.png"].write_bytes(b"not a png")
    paths["img-0290.png"].write_bytes(b"")
    before = state(workspace)  # the DVC cache included

    result = run("items", "add", "digits", FOLDER, cwd=workspace, expect=1)

    lines = [line for line in result.stderr.splitlines() if "cannot read" in line]
    assert len(lines) == 2
    assert f"cannot read {FOLDER}/img-0007.png: cannot identify image file" in lines[0]
    assert f"cannot read {FOLDER}/img-0290.png: cannot identify image file" in lines[1]
    assert state(workspace) == before
