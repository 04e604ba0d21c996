"""Reading a pinned training set where training runs: from a git remote (a bare repository that
`labelspec push` filled) and its DVC remote, a local folder or a real S3-compatible server, with
no clone of one's own and no `dvc pull`."""

from __future__ import annotations

import shutil

import pytest

from labelspec.errors import NotFoundError
from labelspec.store.trainsets import create_trainset, load_trainset, open_trainset
from tests.conftest import use_remote
from tests.helpers import git


@pytest.fixture
def pushed(digits_votes, copy_of, run, tmp_path, request):
    """A workspace with training set digits-v1, pushed to a bare git origin and a DVC remote."""

    def make(kind: str):
        ws = copy_of(digits_votes)
        if kind == "s3":
            remote = request.getfixturevalue("s3_server")("trainsets")
        else:
            (tmp_path / "storage").mkdir()
            remote = {"url": str(tmp_path / "storage")}
        use_remote(ws.root, remote)
        origin = tmp_path / "origin.git"
        git(tmp_path, "init", "-q", "--bare", str(origin))
        git(ws.root, "remote", "add", "origin", str(origin))
        create_trainset(ws, "digits-v1", "digits", "dawid-skene")
        run("push", cwd=ws.root)
        return ws, origin, remote

    return make


@pytest.mark.parametrize("kind", ["folder", "s3"])
def test_a_training_set_is_read_from_the_remotes(pushed, kind):
    ws, origin, remote = pushed(kind)
    expected = load_trainset(ws, "digits-v1")
    # nothing local to fall back on: the bytes can only come from the DVC remote
    shutil.rmtree(ws.root / ".dvc" / "cache")
    for path in (ws.root / "trainsets").glob("*/*.parquet"):
        path.unlink()
    # the committed DVC config names another folder: the job says where the data is
    table = open_trainset(str(origin), "digits-v1", remote_config=remote)
    assert table.equals(expected)
    assert table.num_rows == 10 and set(table.column("method").to_pylist()) == {"dawid-skene"}


def test_a_workspace_folder_reads_from_its_own_cache(pushed):
    ws, _origin, _remote = pushed("folder")
    assert open_trainset(ws.root, "digits-v1").equals(load_trainset(ws, "digits-v1"))


def test_an_unknown_training_set_says_so(pushed):
    _ws, origin, remote = pushed("folder")
    with pytest.raises(NotFoundError, match="no training set 'other'"):
        open_trainset(str(origin), "other", rev="main", remote_config=remote)
