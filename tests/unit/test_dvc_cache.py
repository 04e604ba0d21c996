"""`DvcCache` writes DVC's cache layout by hand (speed: no stage collection per write); the
installed DVC must read it as its own: `dvc status` finds nothing to do, `dvc checkout` restores
the files byte for byte, and `dvc add` of the same data names the same objects."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from labelspec.vcs import DvcCache, dvc_file_text, dvc_folder_text, hash_file

DVC = str(Path(sys.executable).with_name("dvc"))
# names that sort differently by path part and by plain string: DVC sorts the strings
ITEM_FILES = {"a/x.png": b"x" * 10, "a-b/y.png": b"y" * 20, "a.txt": b"text", "z/deep/w.png": b""}


def dvc(root: Path, *args: str) -> str:
    done = subprocess.run([DVC, *args], cwd=root, capture_output=True, text=True, check=True)
    return done.stdout


def make_repo(root: Path) -> Path:
    root.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    dvc(root, "init", "-q")
    (root / "items").mkdir()
    for rel, data in ITEM_FILES.items():
        (root / "items" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "items" / rel).write_bytes(data)
    (root / "batch.parquet").write_bytes(b"PAR1 not really parquet PAR1")
    return root


def test_dvc_status_and_checkout_read_what_the_cache_writer_wrote(tmp_path):
    root = make_repo(tmp_path / "ours")
    cache = DvcCache(root)
    batch = root / "batch.parquet"
    _sha, md5, size = hash_file(batch)
    cache.store(batch, md5)
    (root / "batch.parquet.dvc").write_text(dvc_file_text(batch.name, md5, size, {"kind": "x"}))
    dir_md5, total, files = cache.store_folder(root / "items")
    (root / "items.dvc").write_text(dvc_folder_text("items", dir_md5, total, files))

    assert json.loads(dvc(root, "status", "--json")) == {}
    batch.unlink()
    shutil.rmtree(root / "items")
    assert json.loads(dvc(root, "status", "--json"))  # DVC sees them gone

    dvc(root, "checkout", "-q")

    assert batch.read_bytes() == b"PAR1 not really parquet PAR1"
    restored = {
        p.relative_to(root / "items").as_posix(): p.read_bytes()
        for p in (root / "items").rglob("*")
        if p.is_file()
    }
    assert restored == ITEM_FILES
    assert json.loads(dvc(root, "status", "--json")) == {}
    assert (files, total) == (4, 34)


def test_dvc_add_names_the_same_objects(tmp_path):
    ours = make_repo(tmp_path / "ours")
    theirs = make_repo(tmp_path / "theirs")
    cache = DvcCache(ours)

    dir_md5, total, files = cache.store_folder(ours / "items")
    dvc(theirs, "add", "-q", "items", "batch.parquet")

    out = yaml.safe_load((theirs / "items.dvc").read_text())["outs"][0]
    assert (out["md5"], out["size"], out["nfiles"]) == (dir_md5, total, files)
    single = yaml.safe_load((theirs / "batch.parquet.dvc").read_text())["outs"][0]
    assert single["md5"] == hash_file(ours / "batch.parquet")[1]
    theirs_objects = {
        p.relative_to(theirs / ".dvc/cache").as_posix()
        for p in (theirs / ".dvc/cache").rglob("*")
        if p.is_file()
    }
    ours_objects = {
        p.relative_to(ours / ".dvc/cache").as_posix()
        for p in (ours / ".dvc/cache").rglob("*")
        if p.is_file()
    }
    assert ours_objects <= theirs_objects  # theirs also holds batch.parquet's object
    assert cache.listing(dir_md5) == json.loads(
        (theirs / ".dvc/cache" / cache.object_path(dir_md5).relative_to(cache.dir)).read_bytes()
    )
