"""`labelspec init` on real git + DVC repositories."""

from __future__ import annotations

import json
from pathlib import Path

import git
import pytest


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
    result = run("init", str(workspace), expect=1)
    assert "already a labelspec workspace" in result.stderr and "nothing changed" in result.stderr
    assert git.Repo(workspace).head.commit.hexsha == before


def test_init_refuses_to_overwrite_files(tmp_path: Path, run):
    target = tmp_path / "ws"
    (target / "guidelines" / "digits").mkdir(parents=True)
    (target / "guidelines" / "digits" / "spec.yaml").write_text("mine\n")
    result = run("init", str(target), expect=1)
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
