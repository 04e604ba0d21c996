"""`labelspec init` on real git + DVC repositories."""

from __future__ import annotations

import json
from pathlib import Path

import git
import pytest

from labelspec import yamlio
from labelspec.store.datasets import declared
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
