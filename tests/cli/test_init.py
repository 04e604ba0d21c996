"""`labelspec init` on real git + DVC repositories."""

from __future__ import annotations

import json
from pathlib import Path

import git
import pytest

from labelspec import yamlio
from labelspec.store.datasets import declared
from labelspec.vcs import is_ignored
from labelspec.workspace import Workspace


def test_init_creates_a_committed_workspace(tmp_path: Path, run):
    result = run("init", "labels", "--json", cwd=tmp_path)
    info = json.loads(result.stdout)
    root = tmp_path / "labels"
    assert info["root"] == str(root) and info["created_git"] is True
    for rel in (
        "labelspec.yaml",
        "mkdocs.yml",
        "dvc.yaml",
        ".dvc/config",
        "labelers/roster.jsonl",
        "labelers/training.jsonl",
        ".gitattributes",
        "guidelines/digits/spec.yaml",
        "guidelines/digits/docs/index.md",
    ):
        assert (root / rel).is_file(), rel
    repo = git.Repo(root)
    assert not repo.is_dirty(untracked_files=True)
    assert repo.head.commit.hexsha == info["commit"]
    assert repo.head.commit.message.strip() == "labelspec init: classification workspace"
    assert "guidelines/digits/examples/seven_like_one.png" in {
        b.path for b in repo.head.commit.tree.traverse()
    }
    assert "remote = storage" in (root / ".dvc/config").read_text()
    assert "labelers/*.jsonl merge=union" in (root / ".gitattributes").read_text()
    assert "datasets/*/relabel/closed.jsonl merge=union" in (root / ".gitattributes").read_text()
    assert "/datasets/*/labels/*.parquet" in (root / ".gitignore").read_text()
    assert (tmp_path / "labels.dvc-storage").is_dir()
    run("check", cwd=root)


@pytest.mark.parametrize(("template", "guideline"), [("detection", "shapes"), ("ner", "entities")])
def test_every_template_passes_check(tmp_path: Path, run, template, guideline):
    run("init", "ws", "--template", template, cwd=tmp_path)
    assert (tmp_path / "ws" / "guidelines" / guideline / "spec.yaml").is_file()
    result = run("check", "--json", cwd=tmp_path / "ws")
    assert json.loads(result.stdout)["errors"] == []


def test_init_refuses_an_existing_workspace(workspace: Path, run):
    before = git.Repo(workspace).head.commit.hexsha
    result = run("init", str(workspace), expect=4)
    assert "already a labelspec workspace" in result.stderr and "nothing changed" in result.stderr
    assert git.Repo(workspace).head.commit.hexsha == before


def test_init_refuses_to_overwrite_files(tmp_path: Path, run):
    target = tmp_path / "ws"
    (target / "guidelines" / "digits").mkdir(parents=True)
    (target / "guidelines" / "digits" / "spec.yaml").write_text("mine\n")
    result = run("init", str(target), expect=4)
    assert "guidelines/digits/spec.yaml" in result.stderr
    assert (target / "guidelines" / "digits" / "spec.yaml").read_text() == "mine\n"
    assert not (target / ".git").exists() and not (target / ".dvc").exists()


def test_init_inside_an_enclosing_repo_uses_it(tmp_path: Path, run):
    outer = git.Repo.init(tmp_path / "mono")
    (tmp_path / "mono" / "README").write_text("monorepo\n")
    outer.index.add(["README"])
    outer.index.commit("first")
    (tmp_path / "mono" / "other.txt").write_text("staged but not ours\n")
    outer.index.add(["other.txt"])
    result = run("init", "mono/labels", "--json", cwd=tmp_path)
    info = json.loads(result.stdout)
    assert info["created_git"] is False
    assert not (tmp_path / "mono" / "labels" / ".git").exists()
    assert (tmp_path / "mono" / "labels" / ".dvc").is_dir()
    committed = {d.a_path for d in outer.head.commit.diff(outer.head.commit.parents[0])}
    assert "labels/labelspec.yaml" in committed and "other.txt" not in committed
    run("check", cwd=tmp_path / "mono" / "labels")


def test_init_in_a_folder_the_enclosing_repo_ignores_gets_its_own_repo(tmp_path: Path, run):
    outer = git.Repo.init(tmp_path / "project")
    (tmp_path / "project" / ".gitignore").write_text("/build/\n")
    outer.index.add([".gitignore"])
    outer.index.commit("ignore build")
    info = json.loads(run("init", "project/build/demo", "--json", cwd=tmp_path).stdout)
    assert info["created_git"] is True
    assert (tmp_path / "project/build/demo/.git").is_dir()
    run("check", cwd=tmp_path / "project/build/demo")
    assert not outer.is_dirty(untracked_files=True)


def test_init_declares_the_template_dataset_in_its_own_folder(tmp_path: Path, run):
    run("init", "ws", "--template", "detection", cwd=tmp_path)
    root = tmp_path / "ws"
    folder = root / "datasets/shapes"
    assert (folder / "dataset.yaml").read_text().endswith("guideline: shapes\n")
    assert (
        "labelspec qa bakeoff shapes --golden golden --report reports/qa/shapes"
        in (folder / "dvc.yaml").read_text()
    )
    assert (folder / "README.md").read_text().startswith("# shapes\n")
    assert "datasets" not in yamlio.load_plain(root / "labelspec.yaml")
    assert list(yamlio.load_plain(root / "dvc.yaml")["stages"]) == ["check"]
    assert {n: c.guideline for n, c in declared(Workspace(root)).items()} == {"shapes": "shapes"}


def test_init_empty_makes_a_workspace_without_guideline_or_dataset(tmp_path: Path, run):
    info = json.loads(run("init", "own", "--empty", "--json", cwd=tmp_path).stdout)
    root = tmp_path / "own"
    assert (info["template"], info["guideline"], info["dataset"]) == ("empty", None, None)
    repo = git.Repo(root)
    assert repo.head.commit.message.strip() == "labelspec init: empty workspace"
    assert repo.head.commit.hexsha == info["commit"] and not repo.is_dirty(untracked_files=True)
    assert repo.tags == []
    committed = {b.path for b in repo.head.commit.tree.traverse() if b.type == "blob"}
    assert not any(p.startswith("sample/") for p in committed)
    assert {p for p in committed if p.startswith("guidelines/")} == {"guidelines/README.md"}
    assert {p for p in committed if p.startswith("datasets/")} == {"datasets/README.md"}
    for rel in ("labelspec.yaml", "mkdocs.yml", "dvc.yaml", "labelers/roster.jsonl"):
        assert rel in committed, rel
    out = run("check", cwd=root).stdout
    assert "ok: 0 error(s), 0 warning(s) in 0 guideline(s)" in out
    built = run("site", "build", "--out", str(tmp_path / "site"), cwd=root).stdout
    assert built.startswith("Built 1 page(s)"), "guidelines/ exists: the site builds, empty"


def test_init_empty_says_what_comes_next(tmp_path: Path, run):
    result = run("init", "own", "--empty", cwd=tmp_path)
    assert result.stdout.startswith("Created an empty workspace in ")
    assert "labelspec guideline new NAME --task" in result.stderr


def test_init_takes_a_template_or_empty_not_both(tmp_path: Path, run):
    result = run("init", "own", "--empty", "--template", "ner", cwd=tmp_path, expect=2)
    assert "give --template NAME or --empty, not both" in result.stderr
    assert not (tmp_path / "own").exists()


def _monorepo(root: Path) -> git.Repo:
    outer = git.Repo.init(root)
    (root / "app.py").write_text("print('app')\n")
    outer.index.add(["app.py"])
    outer.index.commit("app")
    return outer


def test_a_workspace_in_a_subfolder_registers_items_in_place_imports_and_verifies(
    tmp_path: Path, run
):
    outer = _monorepo(tmp_path / "mono")
    run("init", "mono/labels", "--template", "ner", cwd=tmp_path)
    root = tmp_path / "mono" / "labels"
    folder = root / "datasets/news/items/d1"
    folder.mkdir(parents=True)
    (folder / "a.txt").write_text("Ada Lovelace wrote.")

    added = run("items", "add", "news", "datasets/news/items/d1", cwd=root).stdout
    assert "1 tracked in place by datasets/news/items/d1.dvc" in added
    run("labeler", "add", "vA-01", "--vendor", "vendor-a", cwd=root)
    train = ["--guideline", "entities", "--version", "1.0.0", "--method", "session"]
    run("labeler", "train", "vA-01", *train, "--score", "0.9", "--passed", "--date", "2026-01-15", cwd=root)  # fmt: skip
    source = tmp_path / "labels.jsonl"
    row = {"item_id": "a.txt", "labeler": "vA-01", "class": "person", "span": [0, 12]}
    source.write_text(json.dumps({**row, "created_at": "2026-02-01T00:00:00Z"}) + "\n")
    run("labels", "import", "news", str(source), "--format", "jsonl", "--guideline", "entities@1.0.0", "--source", "vendor-a", cwd=root)  # fmt: skip

    assert run("verify", cwd=root).stdout.strip() == "ok: news: 1 batches, 1 labels"
    tree = {b.path for b in outer.head.commit.tree.traverse() if b.type == "blob"}
    assert "labels/datasets/news/items/d1.dvc" in tree
    assert "labels/datasets/news/items/d1/a.txt" not in tree  # DVC holds it, git ignores it
    assert not outer.is_dirty(untracked_files=True)
    (root / "guidelines/entities/docs/new.md").write_text("# New\n")
    refused = run("guideline", "release", "entities", "--bump", "patch", cwd=root, expect=1)
    assert "uncommitted changes (guidelines/entities/docs/new.md)" in refused.stderr


def test_the_default_remote_of_a_subfolder_workspace_lies_beside_the_repository(
    tmp_path: Path, run
):
    _monorepo(tmp_path / "mono")
    info = json.loads(run("init", "mono/a/labels", "--empty", "--json", cwd=tmp_path).stdout)
    assert info["remote"] == str(tmp_path / "mono-a-labels.dvc-storage")
    assert (tmp_path / "mono-a-labels.dvc-storage").is_dir()
    assert not (tmp_path / "mono/a/labels.dvc-storage").exists()


def test_is_ignored_asks_the_repository_above_a_subfolder(tmp_path: Path):
    outer = _monorepo(tmp_path / "mono")
    (tmp_path / "mono/sub").mkdir()
    (tmp_path / "mono/sub/.gitignore").write_text("/out/\n")
    outer.close()
    assert is_ignored(tmp_path / "mono/sub", tmp_path / "mono/sub/out/x.txt") is True
    assert is_ignored(tmp_path / "mono/sub", tmp_path / "mono/sub/in/x.txt") is False


@pytest.mark.parametrize(
    ("remote", "said"),
    [
        ("https://user:s3cr3t@host/x", "--remote https://user:***@host/x holds a password"),
        ("s3://KEY:s3cr3t@bucket/path", "--remote s3://KEY:***@bucket/path holds a password"),
        (
            "https://s3cr3t@github.com/x/y",
            "--remote https://***@github.com/x/y names a user, "
            "which for an http(s) remote is usually a token",
        ),
        ("x\ny", "--remote holds a control character (U+000A at character 2"),
        ("/data/\x1b[31mremote", "--remote holds a control character (U+001B at character 7"),
    ],
)
def test_init_refuses_a_remote_with_a_password_or_a_control_character(
    tmp_path: Path, run, remote, said
):
    result = run("init", "rr", "--empty", "--remote", remote, cwd=tmp_path, expect=1)
    assert said in result.stderr and "nothing was created" in result.stderr
    assert "s3cr3t" not in result.stderr + result.stdout
    assert list(tmp_path.iterdir()) == []


def test_init_keeps_a_remote_with_a_user_but_no_password(tmp_path: Path, run):
    run("init", "rr", "--empty", "--remote", "ssh://git@host/labels", cwd=tmp_path)
    assert yamlio.load_plain(tmp_path / "rr/labelspec.yaml")["remote"]["url"] == (
        "ssh://git@host/labels"
    )
    assert "url = ssh://git@host/labels" in (tmp_path / "rr/.dvc/config").read_text()


def test_init_inside_a_workspace_is_refused_and_leaves_no_folder(workspace: Path, run):
    before = git.Repo(workspace).head.commit.hexsha
    result = run("init", "a/b/sub", "--template", "ner", cwd=workspace, expect=4)
    assert f"{workspace / 'a/b/sub'} is inside the labelspec workspace {workspace}" in result.stderr
    assert "bump" not in result.stderr and "unreleased" not in result.stderr
    assert not (workspace / "a").exists()
    assert git.Repo(workspace).head.commit.hexsha == before
    assert not git.Repo(workspace).is_dirty(untracked_files=True)


def test_init_in_a_folder_the_workspace_ignores_makes_a_repository_of_its_own(workspace: Path, run):
    (workspace / ".gitignore").write_text((workspace / ".gitignore").read_text() + "/build/\n")
    git.Repo(workspace).git.commit("-qam", "ignore build")
    info = json.loads(run("init", "build/demo", "--json", cwd=workspace).stdout)
    assert info["created_git"] is True and (workspace / "build/demo/.git").is_dir()


def test_a_second_workspace_with_the_same_guideline_in_one_repository_is_refused_cleanly(
    tmp_path: Path, run
):
    outer = _monorepo(tmp_path / "mono")
    run("init", "mono/a", "--template", "detection", cwd=tmp_path)
    before = outer.head.commit.hexsha
    result = run("init", "mono/b", "--template", "detection", cwd=tmp_path, expect=4)
    assert (
        f"the git repository {tmp_path / 'mono'} already has the release tag "
        "guideline/shapes/v1.0.0"
    ) in result.stderr
    assert "bump" not in result.stderr and "unreleased" not in result.stderr
    assert not (tmp_path / "mono/b").exists()
    assert outer.head.commit.hexsha == before and not outer.is_dirty(untracked_files=True)
    run("init", "mono/c", "--template", "ner", cwd=tmp_path)  # another guideline: its own tags
