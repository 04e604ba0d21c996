"""Item files travel with the workspace: whatever form `items add` took, every registered file is
committed to git or listed by a DVC record, so a fresh clone's `labelspec pull` has it; `verify`
names the ones that do not travel and `upgrade` repairs workspaces where they did not."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import labelspec
from labelspec.demo import digits
from labelspec.store.filemeta import describe_file
from labelspec.store.items import manifest_table, new_add_id, read_items, write_manifest
from labelspec.transaction import transaction
from labelspec.workspace import Workspace
from tests.helpers import git, head, state
from tests.store.test_team import clone, make_team


def write_images(root: Path, folder: str, indices) -> dict[str, Path]:
    """Digit images ``<folder>/d<NN>.png``: name -> path."""
    paths = {}
    for i in indices:
        paths[f"d{i:02d}.png"] = root / folder / f"d{i:02d}.png"
        digits.save_png(i, paths[f"d{i:02d}.png"])
    return paths


def write_manifest_csv(root: Path, name: str, rows: dict[str, str]) -> Path:
    """A CSV manifest at the workspace root: item_id -> path (relative to the root)."""
    path = root / name
    path.write_text("item_id,path\n" + "".join(f"{k},{v}\n" for k, v in rows.items()))
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def items_of(root: Path, dataset: str = "digits") -> dict[str, dict]:
    return {r["item_id"]: r for r in read_items(Workspace(root), dataset).to_pylist()}


def add(run, root: Path, *args: str) -> dict:
    return json.loads(run("items", "add", "digits", *args, "--json", cwd=root).stdout)


def register_the_old_way(root: Path, rows: dict[str, str], dataset: str = "digits") -> None:
    """What `items add` of a manifest wrote before item files travelled: one manifest and its
    record, the files themselves left in neither git nor DVC."""
    ws = Workspace(root)
    described = []
    for item_id, path in rows.items():
        info = describe_file(root / path, text=False)
        info.pop("_md5")
        described.append({"item_id": item_id, "path": path, **info})
    with transaction(ws, "items add: the old way") as tx:
        record = {"items": len(rows), "columns": [], "source": "old.csv"}
        write_manifest(ws, tx, dataset, new_add_id(), manifest_table(described), record)


def cache_object(root: Path, md5: str) -> Path:
    return root / ".dvc/cache/files/md5" / md5[:2] / md5[2:]


def fresh_clone(tmp_path: Path, root: Path, name: str = "clone") -> Path:
    """`git clone` + the same DVC remote + `labelspec pull` is left to the caller."""
    target = tmp_path / name
    git(tmp_path, "clone", "-q", str(root), str(target))
    (target / ".dvc/config.local").write_text((root / ".dvc/config.local").read_text())
    return target


def verify_problems(run, root: Path) -> list[str]:
    result = run("verify", "--json", cwd=root, expect=5)
    assert result.stderr.startswith("Error: verify found")
    return json.loads(result.stdout)["problems"]


# -- items add ---------------------------------------------------------------------------------
def test_manifest_files_are_copied_to_a_folder_of_the_add_tracked_by_dvc(workspace, run):
    images = write_images(workspace, "incoming", range(3))
    write_manifest_csv(
        workspace, "m.csv", {f"scan-{i}": f"incoming/d{i:02d}.png" for i in range(3)}
    )
    before = {name: sha256(p) for name, p in images.items()}

    result = add(run, workspace, "m.csv")

    [manifest] = [t for t in result["dvc_tracked"] if "/manifests/" in t]
    add_id = Path(manifest).stem
    folder = f"datasets/digits/files/{add_id}"
    assert result["dvc_tracked"] == [manifest, f"{folder}.dvc"]
    assert result["files"] == {
        "in_git": 0,
        "in_dvc": 0,
        "tracked_in_place": {},
        "moved": 0,
        "copied": 3,
        "copied_to": folder,
        "copy_record": f"{folder}.dvc",
    }
    items = items_of(workspace)
    for i in range(3):
        copy = workspace / folder / f"d{i:02d}.png"
        assert items[f"scan-{i}"]["path"] == f"{folder}/d{i:02d}.png"
        assert sha256(copy) == items[f"scan-{i}"]["sha256"] == before[f"d{i:02d}.png"]
    # the user's files are left as they were
    assert {name: sha256(p) for name, p in images.items()} == before
    committed = git(workspace, "show", "--name-only", "--format=", "HEAD").split()
    assert committed == [f"{folder}.dvc", f"{manifest}.dvc"]
    assert git(workspace, "status", "--porcelain").split() == ["??", "incoming/", "??", "m.csv"]
    # DVC reads the record labelspec wrote as its own
    status = subprocess.run(
        [sys.executable, "-m", "dvc", "status", f"{folder}.dvc"],
        cwd=workspace,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "changed" not in status.stdout and "modified" not in status.stdout


def test_a_workspace_made_before_files_folders_gets_their_ignore_pattern(workspace, run):
    ignore = workspace / ".gitignore"
    ignore.write_text(ignore.read_text().replace("/datasets/*/files/?*/\n", ""))
    git(workspace, "commit", "-q", "-am", "as made by an earlier labelspec")
    write_images(workspace, "incoming", range(1))

    result = add(run, workspace, "incoming/d00.png")

    assert ignore.read_text().splitlines()[-1] == "/datasets/*/files/?*/"
    committed = git(workspace, "show", "--name-only", "--format=", "HEAD").split()
    assert committed[0] == ".gitignore" and f"{result['files']['copy_record']}" in committed
    assert git(workspace, "status", "--porcelain").split() == ["??", "incoming/"]


def test_the_command_says_where_the_files_went(workspace, run):
    write_images(workspace, "incoming", range(2))
    write_images(workspace, "datasets/digits/items/batch-1", range(2, 4))
    (workspace / "m.csv").write_text(
        "item_id,path,uri\n"
        "a,incoming/d00.png,\n"
        "b,incoming/d01.png,\n"
        "c,datasets/digits/items/batch-1/d02.png,\n"
        "r1,,s3://bucket/r1.png\n"
        "r2,,s3://bucket/r2.png\n"
    )

    out = run("items", "add", "digits", "m.csv", cwd=workspace).stdout.splitlines()

    add_id = out[1].split("manifests/")[1].split(".parquet")[0]
    assert out == [
        "digits: 5 new item(s), 0 unchanged, 5 in all",
        f"  tracked by DVC: datasets/digits/manifests/{add_id}.parquet, "
        f"datasets/digits/items/batch-1.dvc, datasets/digits/files/{add_id}.dvc",
        "  item files: 1 tracked in place by datasets/digits/items/batch-1.dvc",
        f"  item files: 2 copied to datasets/digits/files/{add_id}/ "
        f"(tracked by datasets/digits/files/{add_id}.dvc)",
        "  2 remote item(s) (uri only) not stored in the workspace: r1, r2",
    ]


def test_a_folder_elsewhere_is_copied_with_its_layout(workspace, run):
    write_images(workspace, "incoming/day-1", range(2))
    write_images(workspace, "incoming/day-2", range(2, 3))

    result = add(run, workspace, "incoming")

    folder = result["files"]["copied_to"]
    assert {k: v["path"] for k, v in items_of(workspace).items()} == {
        "day-1/d00.png": f"{folder}/day-1/d00.png",
        "day-1/d01.png": f"{folder}/day-1/d01.png",
        "day-2/d02.png": f"{folder}/day-2/d02.png",
    }
    assert (workspace / "incoming/day-2/d02.png").is_file()  # the user's folder stays


def test_a_manifest_of_files_in_an_untracked_items_folder_tracks_it_in_place(workspace, run):
    write_images(workspace, "datasets/digits/items/batch-1", range(3))
    write_manifest_csv(workspace, "m.csv", {"a": "datasets/digits/items/batch-1/d00.png"})

    result = add(run, workspace, "m.csv")

    # the whole delivery folder travels, the files not in the manifest too; the path stays
    assert result["files"]["tracked_in_place"] == {"datasets/digits/items/batch-1.dvc": 1}
    assert items_of(workspace)["a"]["path"] == "datasets/digits/items/batch-1/d00.png"
    record = (workspace / "datasets/digits/items/batch-1.dvc").read_text()
    assert "nfiles: 3\n" in record


def test_files_committed_to_git_stay_where_they_are(workspace, run):
    images = write_images(workspace, "examples", range(2))
    git(workspace, "add", "examples")
    git(workspace, "commit", "-q", "-m", "two examples in git")
    images["d01.png"].write_bytes(images["d01.png"].read_bytes() + b"changed")  # not committed

    result = add(run, workspace, "examples/d00.png", "examples/d01.png")

    assert (result["files"]["in_git"], result["files"]["copied"]) == (1, 1)
    items = items_of(workspace)
    assert items["d00.png"]["path"] == "examples/d00.png"
    # the working copy differs from the committed blob: its bytes are copied into DVC
    assert items["d01.png"]["path"] == f"{result['files']['copied_to']}/d01.png"
    assert items["d01.png"]["sha256"] == sha256(images["d01.png"])


def test_a_path_list_takes_ids_from_the_files_common_folder(workspace, run):
    write_images(workspace, "scans", range(1))
    write_images(workspace, "scans/late", range(1, 2))

    result = add(run, workspace, "scans/d00.png", "scans/late/d01.png")

    folder = result["files"]["copied_to"]
    assert result["added"] == 2
    assert {k: v["path"] for k, v in items_of(workspace).items()} == {
        "d00.png": f"{folder}/d00.png",
        "late/d01.png": f"{folder}/late/d01.png",
    }
    assert run("verify", cwd=workspace).stdout.strip() == "ok: no labels yet"


def test_a_path_list_mixing_a_folder_and_files_is_refused(workspace, run):
    write_images(workspace, "scans", range(1))

    result = run("items", "add", "digits", "scans", "scans/d00.png", cwd=workspace, expect=1)

    assert result.stderr.strip() == (
        "Error: scans: give one folder, one manifest ending in .csv, .jsonl, .ndjson, or item "
        "files (.bmp, .gif, .jpeg, .jpg, .png, .tif, .tiff, .txt, .webp)"
    )


def test_a_new_file_in_a_tracked_items_folder_moves_to_the_adds_folder(digits_ws, run):
    whole = digits_ws / "datasets/digits/items"  # tracked as one output: items.dvc
    digits.save_png(20, whole / "d20.png")
    data = (whole / "d20.png").read_bytes()

    result = add(run, digits_ws, "datasets/digits/items")

    folder = result["files"]["copied_to"]
    assert (result["added"], result["unchanged"], result["files"]["moved"]) == (1, 20, 1)
    assert not (whole / "d20.png").exists()  # out of items/, whose record lists 20 files
    assert (digits_ws / folder / "d20.png").read_bytes() == data
    assert items_of(digits_ws)["d20.png"]["path"] == f"{folder}/d20.png"
    assert git(digits_ws, "status", "--porcelain") == ""
    assert run("verify", cwd=digits_ws).stdout.strip() == "ok: no labels yet"


def test_a_refused_add_copies_and_caches_nothing(workspace, run):
    write_images(workspace, "incoming", range(2))
    write_manifest_csv(workspace, "m.csv", {"a": "incoming/d00.png", "b": "incoming/missing.png"})
    before = state(workspace)  # the DVC cache included

    run("items", "add", "digits", "m.csv", cwd=workspace, expect=1)

    assert state(workspace) == before


# -- push, clone, pull ---------------------------------------------------------------------------
def test_a_fresh_clone_pulls_every_manifest_added_image(workspace, run, tmp_path):
    images = write_images(workspace, "incoming", range(4))
    write_manifest_csv(workspace, "m.csv", {f"x{i}": f"incoming/d{i:02d}.png" for i in range(4)})
    run("items", "add", "digits", "m.csv", cwd=workspace)
    run("push", cwd=workspace)
    clone = fresh_clone(tmp_path, workspace)

    pulled = json.loads(run("pull", "--json", cwd=clone).stdout)

    assert pulled["verify"]["ok"] is True, pulled["verify"]
    items = items_of(clone)
    assert len(items) == 4
    for i in range(4):
        item = items[f"x{i}"]
        assert sha256(clone / item["path"]) == item["sha256"] == sha256(images[f"d{i:02d}.png"])
    assert run("verify", cwd=clone).stdout.strip() == "ok: no labels yet"


def test_verify_in_a_clone_missing_an_images_bytes_says_to_pull(workspace, run, tmp_path):
    write_images(workspace, "incoming", range(3))
    write_manifest_csv(workspace, "m.csv", {f"x{i}": f"incoming/d{i:02d}.png" for i in range(3)})
    result = add(run, workspace, "m.csv")
    run("push", cwd=workspace)
    clone = fresh_clone(tmp_path, workspace)
    run("pull", cwd=clone)
    lost = items_of(clone)["x1"]
    md5 = hashlib.md5((clone / lost["path"]).read_bytes()).hexdigest()
    (clone / lost["path"]).unlink()
    cache_object(clone, md5).unlink()

    problems = verify_problems(run, clone)

    assert result["files"]["copied"] == 3
    assert problems == [
        "digits: 1 item file(s) are in DVC records but neither in the working tree nor in the "
        "DVC cache (items x1); run `labelspec pull`"
    ]
    run("pull", cwd=clone)  # the remote still has it
    assert run("verify", cwd=clone).stdout.strip() == "ok: no labels yet"


def test_a_folder_record_whose_listing_is_not_here_counts_the_working_files(digits_ws, run):
    """Without the folder's listing (its .dir object) in the cache, a file in the working tree
    has its bytes here; one that is not must be pulled."""
    record = (digits_ws / "datasets/digits/items.dvc").read_text()
    dir_md5 = next(line.split()[-1] for line in record.splitlines() if "md5:" in line)
    listing = cache_object(digits_ws, dir_md5)
    listing.chmod(0o644)
    listing.unlink()
    assert run("verify", cwd=digits_ws).stdout.strip() == "ok: no labels yet"
    (digits_ws / "datasets/digits/items/d03.png").unlink()

    assert verify_problems(run, digits_ws) == [
        "digits: 1 item file(s) are in DVC records but neither in the working tree nor in the "
        "DVC cache (items d03.png); run `labelspec pull`"
    ]


@pytest.mark.parametrize("made_before_files", [False, True])
def test_two_clones_adding_different_manifests_merge_and_verify(
    digits_ws, run, tmp_path, made_before_files
):
    if made_before_files:  # both clones append the ignore pattern: the same line merges
        ignore = digits_ws / ".gitignore"
        ignore.write_text(ignore.read_text().replace("/datasets/*/files/?*/\n", ""))
        git(digits_ws, "commit", "-q", "-am", "as made by an earlier labelspec")
    (tmp_path / "storage").mkdir()
    remote = {"url": str(tmp_path / "storage")}
    origin, a, b = make_team(digits_ws, tmp_path, remote, run)
    for root, indices, name in ((a, range(20, 23), "a"), (b, range(23, 25), "b")):
        write_images(root, f"incoming-{name}", indices)
        rows = {f"{name}{i}": f"incoming-{name}/d{i:02d}.png" for i in indices}
        run("items", "add", "digits", str(write_manifest_csv(root, f"{name}.csv", rows)), cwd=root)

    run("push", cwd=a)
    run("push", cwd=b, expect=6)  # rejected: A pushed first
    git(b, "pull", "-q", "--no-rebase", "--no-edit", "origin", "main")  # plain git: no conflict
    assert git(b, "diff", "--name-only", "--diff-filter=U") == ""
    run("pull", cwd=b)
    run("push", cwd=b)
    run("pull", cwd=a)

    assert head(a) == head(b)
    fresh = clone(tmp_path, origin, "fresh", remote)
    run("pull", cwd=fresh)
    for root in (a, b, fresh):
        items = items_of(root)
        assert len(items) == 25, root
        for item_id in ("a20", "a22", "b23", "b24"):
            assert sha256(root / items[item_id]["path"]) == items[item_id]["sha256"]
        assert run("verify", cwd=root).stdout.strip() == "ok: no labels yet", root


# -- verify ---------------------------------------------------------------------------------------
def test_verify_groups_untracked_and_gone_item_files_with_their_repair(workspace, run):
    write_images(workspace, "incoming", range(8))
    register_the_old_way(workspace, {f"x{i}": f"incoming/d{i:02d}.png" for i in range(8)})
    for i in (2, 5):
        (workspace / f"incoming/d{i:02d}.png").unlink()

    assert verify_problems(run, workspace) == [
        "digits: 6 item file(s) are in the workspace but neither committed to git nor in a DVC "
        "record, so `labelspec push` does not share them (items x0, x1, x3, x4, x6 and 1 more); "
        "run `labelspec upgrade`",
        "digits: 2 item file(s) are gone: not in the workspace, git or a DVC record (items x2, "
        "x5); re-add the file(s) (`labelspec items add`)",
    ]


def test_verify_reads_no_item_file(digits_ws, run):
    image = digits_ws / "datasets/digits/items/d00.png"
    image.chmod(0)  # unreadable: a verify that hashed the images would fail here
    try:
        assert run("verify", cwd=digits_ws).stdout.strip() == "ok: no labels yet"
    finally:
        image.chmod(0o644)


def test_re_adding_an_untracked_items_folder_tracks_it(workspace, run):
    folder = "datasets/digits/items/batch-1"
    write_images(workspace, folder, range(3))
    register_the_old_way(workspace, {f"d{i:02d}.png": f"{folder}/d{i:02d}.png" for i in range(3)})

    result = add(run, workspace, folder)

    assert (result["added"], result["unchanged"]) == (0, 3)
    assert result["files"]["tracked_in_place"] == {f"{folder}.dvc": 3}
    assert result["reregistered"] == 0  # the paths did not change
    assert git(workspace, "log", "-1", "--format=%s").strip() == (
        f"items add: track the files of 3 item(s) of digits from {folder}"
    )
    assert git(workspace, "show", "--name-only", "--format=", "HEAD").split() == [f"{folder}.dvc"]
    assert run("verify", cwd=workspace).stdout.strip() == "ok: no labels yet"


def test_re_adding_a_manifest_registers_the_tracked_copies(workspace, run):
    write_images(workspace, "incoming", range(2))
    rows = {"x0": "incoming/d00.png", "x1": "incoming/d01.png"}
    register_the_old_way(workspace, rows)
    write_manifest_csv(workspace, "m.csv", rows)

    result = add(run, workspace, "m.csv")

    folder = result["files"]["copied_to"]
    assert (result["added"], result["unchanged"], result["reregistered"]) == (0, 2, 2)
    items = items_of(workspace)
    assert [items[k]["path"] for k in rows] == [f"{folder}/d00.png", f"{folder}/d01.png"]
    assert run("verify", cwd=workspace).stdout.strip() == "ok: no labels yet"


# -- upgrade ----------------------------------------------------------------------------------------
def old_way_workspace(workspace: Path) -> Path:
    """Items registered the old way: 2 files under an untracked delivery folder, 2 elsewhere in
    the workspace (one of them gone since)."""
    write_images(workspace, "datasets/digits/items/batch-1", range(2))
    write_images(workspace, "incoming", range(2, 4))
    register_the_old_way(
        workspace,
        {
            "a0": "datasets/digits/items/batch-1/d00.png",
            "a1": "datasets/digits/items/batch-1/d01.png",
            "b2": "incoming/d02.png",
            "b3": "incoming/d03.png",
        },
    )
    return workspace


def test_upgrade_tracks_present_item_files_and_lists_missing_ones(workspace, run):
    root = old_way_workspace(workspace)
    (root / "incoming/d03.png").unlink()
    before = head(root)
    registered = items_of(root)

    result = run("upgrade", "--json", cwd=root, expect=5)

    out = json.loads(result.stdout)
    done = out["item_files"]["digits"]
    folder = done["files"]["copied_to"]
    assert (done["tracked"], done["reregistered"]) == (3, 1)
    assert done["files"]["tracked_in_place"] == {"datasets/digits/items/batch-1.dvc": 2}
    assert (done["missing"], done["not_pulled"], done["changed"]) == (["b3"], [], [])
    assert git(root, "rev-parse", "HEAD~1").strip() == before  # one commit
    assert (
        git(root, "log", "-1", "--format=%s").strip() == "labelspec upgrade: track 3 item file(s)"
    )
    items = items_of(root)
    assert {k: v["path"] for k, v in items.items()} == {
        "a0": "datasets/digits/items/batch-1/d00.png",
        "a1": "datasets/digits/items/batch-1/d01.png",
        "b2": f"{folder}/d02.png",  # the same item, its file now where DVC tracks it
        "b3": "incoming/d03.png",
    }
    assert {k: v["sha256"] for k, v in items.items()} == {
        k: v["sha256"] for k, v in registered.items()
    }
    assert out["verify"]["problems"] == [
        "digits: 1 item file(s) are gone: not in the workspace, git or a DVC record (items b3); "
        "re-add the file(s) (`labelspec items add`)"
    ]
    assert result.stderr.startswith("Error: upgraded, but verify found problems:")


def test_upgrade_with_nothing_missing_leaves_verify_clean(workspace, run):
    root = old_way_workspace(workspace)

    out = run("upgrade", cwd=root).stdout.splitlines()

    folder = next(line for line in out if "copied to" in line).split(" to ")[1].split("/ ")[0]
    assert out[:2] == [
        "digits: item files: 2 tracked in place by datasets/digits/items/batch-1.dvc",
        f"digits: item files: 2 copied to {folder}/ (tracked by {folder}.dvc)",
    ]
    assert run("verify", cwd=root).stdout.strip() == "ok: no labels yet"
    assert git(root, "status", "--porcelain").split() == ["??", "incoming/"]
    before = state(root)
    again = run("upgrade", cwd=root)  # exit 0: `labelspec upgrade && labelspec verify` runs on
    assert "already up to date" in again.stdout and "nothing to do" in again.stdout
    assert state(root) == before  # no commit
    assert json.loads(run("upgrade", "--json", cwd=root).stdout)["up_to_date"] is True


def test_items_resolve_to_the_newest_path_of_the_same_content_only(workspace, run):
    """First registration wins for an id; a later one of the same sha256 moves the path (what
    upgrade writes); a later one with other content changes nothing, and verify reports it."""
    write_images(workspace, "datasets/digits/items/batch-1", range(3))
    write_images(workspace, "datasets/digits/items/batch-2", range(3, 5))
    old, new = "datasets/digits/items/batch-1", "datasets/digits/items/batch-2"
    register_the_old_way(workspace, {"same": f"{old}/d00.png", "other": f"{old}/d01.png"})
    register_the_old_way(workspace, {"same": f"{old}/d00.png"})  # the same again, same path
    # "same" again with its bytes elsewhere; "other" again with other bytes
    (workspace / new / "d00.png").write_bytes((workspace / old / "d00.png").read_bytes())
    register_the_old_way(workspace, {"same": f"{new}/d00.png", "other": f"{new}/d03.png"})

    items = items_of(workspace)
    query = json.loads(run("items", "list", "digits", "--json", cwd=workspace).stdout)["items"]

    assert (items["same"]["path"], items["other"]["path"]) == (f"{new}/d00.png", f"{old}/d01.png")
    assert items["other"]["sha256"] == sha256(workspace / old / "d01.png")
    assert {r["item_id"]: r["path"] for r in query} == {
        "other": f"{old}/d01.png",
        "same": f"{new}/d00.png",
    }
    con = labelspec.open_workspace(workspace).query("digits")
    assert con.sql("select item_id, path from items order by 1").fetchall() == [
        ("other", f"{old}/d01.png"),
        ("same", f"{new}/d00.png"),
    ]
    problems = verify_problems(run, workspace)
    assert (
        "digits: item 'other' was registered twice with different content (two clones added it "
        "at once?); register one of the files under a new item id"
    ) in problems


def test_text_files_travel_like_images(make_workspace, run):
    root = make_workspace("ner")
    (root / "notes").mkdir()
    (root / "notes/a.txt").write_text("Ada Lovelace met Charles Babbage.")

    result = json.loads(run("items", "add", "news", "notes/a.txt", "--json", cwd=root).stdout)

    [item] = read_items(Workspace(root), "news").to_pylist()
    assert item["path"] == f"{result['files']['copied_to']}/a.txt"
    assert item["text"] == "Ada Lovelace met Charles Babbage."
    assert run("verify", cwd=root).stdout.strip() == "ok: no labels yet"
