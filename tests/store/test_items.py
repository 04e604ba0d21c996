"""`labelspec items add`: folders, manifests, text items, and every refusal."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq

from labelspec.demo import digits
from labelspec.store.items import read_items
from labelspec.workspace import Workspace
from tests.helpers import git, state

ITEMS = "datasets/digits/items/batch-1"  # one folder per delivery of files


def write_digits(root: Path, count: int, folder: str = ITEMS) -> list[Path]:
    paths = [root / folder / f"d{i:02d}.png" for i in range(count)]
    for i, path in enumerate(paths):
        digits.save_png(i, path)
    return paths


def items_table(root: Path, dataset: str = "digits") -> list[dict]:
    return read_items(Workspace(root), dataset).to_pylist()


def manifests(root: Path, dataset: str = "digits") -> list[Path]:
    return sorted((root / f"datasets/{dataset}/manifests").glob("*.parquet"))


def test_add_folder_registers_every_image_with_its_digest_and_size(workspace, run):
    paths = write_digits(workspace, 5)

    out = run("items", "add", "digits", ITEMS, "--json", cwd=workspace).stdout

    result = json.loads(out)
    assert (result["added"], result["unchanged"], result["total"]) == (5, 0, 5)
    [manifest] = manifests(workspace)
    assert result["dvc_tracked"] == [workspace_rel(workspace, manifest), f"{ITEMS}.dvc"]
    rows = items_table(workspace)
    assert [r["item_id"] for r in rows] == [p.name for p in paths]
    first = rows[0]
    assert first["path"] == f"{ITEMS}/d00.png"
    assert first["sha256"] == hashlib.sha256(paths[0].read_bytes()).hexdigest()
    assert first["bytes"] == paths[0].stat().st_size
    assert (first["media"], first["width"], first["height"]) == ("image", 96, 96)
    # committed, with the images and the manifest in DVC rather than git
    assert git(workspace, "status", "--porcelain") == ""
    assert git(workspace, "log", "-1", "--format=%s").strip() == (
        f"items add: 5 new item(s) in digits from {ITEMS}"
    )
    added = git(workspace, "show", "--name-only", "--format=", "HEAD").split()
    assert added == [f"{ITEMS}.dvc", f"{workspace_rel(workspace, manifest)}.dvc"]
    assert pq.read_table(manifest).num_rows == 5
    # the folder is ignored by the workspace's static pattern: DVC edited no .gitignore
    assert not (workspace / "datasets/digits/items/.gitignore").exists()
    listed = json.loads(run("items", "list", "digits", "--json", cwd=workspace).stdout)
    assert listed["total"] == 5


def test_csv_manifest_keeps_extra_columns_as_segment_metadata(workspace, run):
    write_digits(workspace, 3)
    manifest = workspace / "manifests" / "batch1.csv"
    manifest.parent.mkdir()
    manifest.write_text(
        "item_id,path,camera,split\n"
        f"scan-a,../{ITEMS}/d00.png,cam1,train\n"
        f"scan-b,../{ITEMS}/d01.png,cam2,test\n"
        f"scan-c,../{ITEMS}/d02.png,cam1,\n"
    )

    out = run("items", "add", "digits", "manifests/batch1.csv", cwd=workspace).stdout

    assert "digits: 3 new item(s), 0 unchanged, 3 in all" in out
    assert "segment columns: camera, split" in out
    rows = {r["item_id"]: r for r in items_table(workspace)}
    assert rows["scan-a"]["path"] == f"{ITEMS}/d00.png"
    assert (rows["scan-a"]["camera"], rows["scan-a"]["split"]) == ("cam1", "train")
    assert (rows["scan-b"]["camera"], rows["scan-b"]["split"]) == ("cam2", "test")
    assert rows["scan-c"]["split"] is None
    assert rows["scan-b"]["width"] == 96


def test_jsonl_manifest_and_a_second_manifest_with_new_columns(workspace, run):
    write_digits(workspace, 4)
    first = workspace / "first.jsonl"
    first.write_text(
        "".join(
            json.dumps({"item_id": f"x{i}", "path": f"{ITEMS}/d{i:02d}.png", "region": "eu"}) + "\n"
            for i in range(2)
        )
    )
    second = workspace / "second.csv"
    second.write_text(f"item_id,path,site\nx2,{ITEMS}/d02.png,lab\nx3,{ITEMS}/d03.png,lab\n")

    run("items", "add", "digits", "first.jsonl", cwd=workspace)
    out = run("items", "add", "digits", "second.csv", "--json", cwd=workspace).stdout

    assert json.loads(out)["metadata_columns"] == ["region", "site"]
    rows = {r["item_id"]: r for r in items_table(workspace)}
    assert sorted(rows) == ["x0", "x1", "x2", "x3"]
    assert (rows["x0"]["region"], rows["x0"]["site"]) == ("eu", None)
    assert (rows["x3"]["region"], rows["x3"]["site"]) == (None, "lab")


def test_text_items_store_their_text(make_workspace, run):
    root = make_workspace("ner")
    folder = root / "datasets/news/items"
    folder.mkdir(parents=True)
    (folder / "a.txt").write_text("Ada Lovelace met Charles Babbage.")
    (folder / "b.txt").write_text("Geneva in winter.")

    run("items", "add", "news", "datasets/news/items", cwd=root)

    rows = {r["item_id"]: r for r in items_table(root, "news")}
    assert rows["a.txt"]["media"] == "text"
    assert rows["a.txt"]["text"] == "Ada Lovelace met Charles Babbage."
    assert rows["b.txt"]["bytes"] == len(b"Geneva in winter.")
    assert rows["b.txt"]["width"] is None


def test_bad_manifest_rows_are_all_reported_and_nothing_is_registered(workspace, run, tmp_path):
    write_digits(workspace, 2)
    (tmp_path / "outside.png").write_bytes((workspace / ITEMS / "d00.png").read_bytes())
    (workspace / "m.csv").write_text(
        "item_id,path\n"
        f"a,{ITEMS}/d00.png\n"
        f"b,{ITEMS}/missing.png\n"
        "c,../outside.png\n"
        f"a,{ITEMS}/d01.png\n"
    )
    before = state(workspace)

    result = run("items", "add", "digits", "m.csv", cwd=workspace, expect=1)

    assert result.stderr.splitlines() == [
        "Error: m.csv: 3 problem(s); nothing was registered",
        f"  m.csv [row 2]: path: file not found: {ITEMS}/missing.png; a manifest's paths are "
        "relative to its own folder, here the workspace root",
        f"  m.csv [row 3]: path: path '../outside.png' escapes the workspace {workspace} "
        "(copy the file inside it)",
        "  m.csv [row 4]: item_id: item_id 'a' appears twice (also row 1)",
    ]
    assert state(workspace) == before
    assert manifests(workspace) == []


def test_re_adding_unchanged_items_is_a_no_op(workspace, run):
    write_digits(workspace, 3)
    run("items", "add", "digits", ITEMS, cwd=workspace)
    before = state(workspace)

    out = run("items", "add", "digits", ITEMS, cwd=workspace).stdout

    assert "digits: 0 new item(s), 3 unchanged, 3 in all" in out
    assert state(workspace) == before


def test_new_files_in_a_registered_folder_are_added(workspace, run):
    write_digits(workspace, 2)
    run("items", "add", "digits", ITEMS, cwd=workspace)
    digits.save_png(7, workspace / ITEMS / "d07.png")

    out = run("items", "add", "digits", ITEMS, "--json", cwd=workspace).stdout

    result = json.loads(out)
    assert (result["added"], result["unchanged"], result["total"]) == (1, 2, 3)
    assert git(workspace, "status", "--porcelain") == ""
    # one manifest per add, each holding only what it added
    assert [pq.read_table(m).num_rows for m in manifests(workspace)] == [2, 1]
    assert [r["item_id"] for r in items_table(workspace)] == ["d00.png", "d01.png", "d07.png"]


def test_same_id_with_other_content_is_refused(workspace, run):
    write_digits(workspace, 2)
    run("items", "add", "digits", ITEMS, cwd=workspace)
    digits.save_png(9, workspace / ITEMS / "d00.png")  # a different digit under the same name
    registered = manifests(workspace)
    head = git(workspace, "rev-parse", "HEAD")

    result = run("items", "add", "digits", ITEMS, cwd=workspace, expect=1)

    assert result.stderr.splitlines() == [
        f"Error: {ITEMS}: 1 problem(s); nothing was registered",
        f"  {ITEMS}: sha256: item 'd00.png' is already registered with other content; items are "
        "immutable (register the new file under a new item_id)",
    ]
    assert manifests(workspace) == registered
    assert git(workspace, "rev-parse", "HEAD") == head


def test_folder_outside_the_workspace_is_refused(workspace, run, tmp_path):
    outside = tmp_path / "elsewhere"
    write_digits(tmp_path, 2, folder="elsewhere")
    before = state(workspace)

    result = run("items", "add", "digits", str(outside), cwd=workspace, expect=1)

    assert result.stderr.strip() == (
        f"Error: {outside} is outside the workspace; copy the files under "
        "datasets/digits/items/<folder>/ (tracked by DVC) and add that folder"
    )
    assert state(workspace) == before


def test_remote_items_take_their_dimensions_from_the_manifest(workspace, run):
    (workspace / "remote.csv").write_text(
        "item_id,uri,width,height,camera\n"
        "r1,s3://bucket/r1.png,640,480,cam1\n"
        "r2,s3://bucket/r2.png,,,cam2\n"
    )
    (workspace / "bad.csv").write_text("item_id,uri,width,height\nr3,s3://bucket/r3.png,wide,480\n")

    run("items", "add", "digits", "remote.csv", cwd=workspace)
    refused = run("items", "add", "digits", "bad.csv", cwd=workspace, expect=1)

    rows = {r["item_id"]: r for r in items_table(workspace)}
    assert (rows["r1"]["uri"], rows["r1"]["width"], rows["r1"]["height"]) == (
        "s3://bucket/r1.png",
        640,
        480,
    )
    assert (rows["r2"]["width"], rows["r2"]["camera"]) == (None, "cam2")
    assert refused.stderr.splitlines() == [
        "Error: bad.csv: 1 problem(s); nothing was registered",
        "  bad.csv [row 1]: width: must be a whole number of pixels, got 'wide'",
    ]
    assert sorted(rows) == ["r1", "r2"]


def test_a_whole_items_folder_can_be_added_and_extended(workspace, run):
    whole = "datasets/digits/items"
    write_digits(workspace, 2, folder=whole)

    run("items", "add", "digits", whole, cwd=workspace)
    digits.save_png(3, workspace / whole / "d03.png")
    out = run("items", "add", "digits", whole, "--json", cwd=workspace).stdout

    assert json.loads(out)["added"] == 1
    assert git(workspace, "status", "--porcelain") == ""
    assert "datasets/digits/items.dvc" in git(workspace, "ls-files", "datasets/digits").split()


def workspace_rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def test_the_folder_record_items_add_writes_is_the_one_dvc_add_writes(tmp_path):
    """labelspec writes a folder's DVC record itself: same .dir object id, size and file count
    as `dvc add`, on names whose string order differs from their path-part order."""
    import subprocess
    import sys

    from labelspec.vcs import DvcCache

    repo = tmp_path / "repo"
    for rel, text in {"a/x": "1", "a-b/x": "2", "a.txt": "3", "deep/er/z.png": "4"}.items():
        (repo / "data" / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / "data" / rel).write_text(text)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    dvc = [sys.executable, "-m", "dvc"]
    subprocess.run([*dvc, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*dvc, "add", "-q", "data"], cwd=repo, check=True)
    record = (repo / "data.dvc").read_text()

    shutil.rmtree(repo / ".dvc" / "cache")
    md5, size, nfiles = DvcCache(repo).store_folder((repo / "data").resolve())
    assert f"md5: {md5}\n" in record and f"size: {size}\n" in record
    assert f"nfiles: {nfiles}\n" in record and nfiles == 4
    assert DvcCache(repo).object_path(md5).is_file()
