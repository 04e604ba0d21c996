"""Reading a pinned training set where training runs: from a git remote (a bare repository that
`labelspec push` filled) and its DVC remote, a local folder or a real S3-compatible server, with
no clone of one's own and no `dvc pull`, from a fresh folder that holds nothing of the
workspace: the table, the item files and the Hugging Face loader."""

from __future__ import annotations

import shutil

import pytest

import labelspec
from labelspec.demo.streets import YELLOW
from labelspec.errors import NotFoundError
from labelspec.resolve.pin import create_trainset
from labelspec.store.trainsets import load_trainset
from tests.conftest import use_remote
from tests.helpers import git


@pytest.fixture
def pushed(streets, run, tmp_path, request):
    """The street scenes with training set streets-v1 (split by the manifest's column), pushed
    to a bare git origin and a DVC remote, then the workspace's own copies of the data gone."""

    def make(kind: str):
        ws = streets
        if kind == "s3":
            remote = request.getfixturevalue("s3_server")("trainsets")
        else:
            (tmp_path / "storage").mkdir()
            remote = {"url": str(tmp_path / "storage")}
        use_remote(ws.root, remote)
        origin = tmp_path / "origin.git"
        git(tmp_path, "init", "-q", "--bare", str(origin))
        git(ws.root, "remote", "add", "origin", str(origin))
        made = create_trainset(ws, "streets-v1", "streets", split_by="split")
        run("push", cwd=ws.root)
        expected = load_trainset(ws, "streets-v1")
        # nothing local to fall back on: the bytes can only come from the DVC remote
        shutil.rmtree(ws.root / ".dvc" / "cache")
        for path in (ws.root / "trainsets").glob("*/*.parquet"):
            path.unlink()
        return origin, remote, expected, made

    return make


@pytest.mark.parametrize("kind", ["folder", "s3"])
def test_a_fresh_folder_loads_the_set_from_the_remotes(pushed, kind, tmp_path, monkeypatch):
    origin, remote, expected, made = pushed(kind)
    fresh = tmp_path / "training-machine"
    fresh.mkdir()
    monkeypatch.chdir(fresh)
    # the committed DVC config names another folder: the job says where the data is
    found = labelspec.open_trainset(
        str(origin), "streets-v1", remote_config=remote, cache_dir=fresh / "cache"
    )
    assert isinstance(found, labelspec.TrainingSet)
    assert found.table.equals(expected)
    assert (found.record.revision, found.record.sha256) == (made.revision, made.sha256)
    assert found.splits == ["train", "val", "eval"]
    hf = found.to_hf()
    assert {name: hf[name].num_rows for name in hf} == {"train": 8, "val": 3, "eval": 4}
    first = hf["train"][0]
    assert first["item_id"] == "n00.png" and first["objects"]["bbox"] == [
        [40.0, 118.0, 150.0, 56.0]
    ]
    assert first["image"].convert("RGB").getpixel((43, 121)) == YELLOW
    # the item files were fetched once into the cache, at their workspace paths
    files = found.files()
    assert all(path.is_relative_to(fresh / "cache") for path in files.values())
    pinned = {r["item_id"]: r["path"] for r in expected.to_pylist()}
    assert files["n00.png"] == fresh / "cache" / pinned["n00.png"]
    assert files["n00.png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in (fresh / "cache").iterdir() if p.name.startswith(".")] == []


def test_a_workspace_folder_reads_from_its_own_cache(streets, tmp_path):
    create_trainset(streets, "streets-v1", "streets")
    found = labelspec.open_trainset(streets.root, "streets-v1", cache_dir=tmp_path / "cache")
    assert found.table.equals(load_trainset(streets, "streets-v1"))
    # the workspace holds the item files: they are read in place, nothing is copied
    assert all(path.is_relative_to(streets.root) for path in found.files().values())
    assert not (tmp_path / "cache").exists()


def test_an_unknown_training_set_says_so(streets):
    create_trainset(streets, "streets-v1", "streets")
    with pytest.raises(NotFoundError, match="no training set 'other'"):
        labelspec.open_trainset(streets.root, "other", rev="HEAD")
