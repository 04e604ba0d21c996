"""`dataset add` and `dataset remove` on real git + DVC workspaces: a dataset is its own folder's
files (dataset.yaml, dvc.yaml, README.md), so clones that add datasets merge with git pull, and
its quality stage runs under DVC."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from labelspec import yamlio
from labelspec.store.datasets import declared
from labelspec.workspace import Workspace
from tests.helpers import git, head, state
from tests.store.conftest import built, digit_rows, make_store, write_jsonl  # noqa: F401

OWN = ["datasets/streets/README.md", "datasets/streets/dataset.yaml", "datasets/streets/dvc.yaml"]


def dvc(root: Path, *args: str) -> str:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        [sys.executable, "-m", "dvc", *args], cwd=root, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def add(run, root: Path, *args: str) -> dict:
    return json.loads(run("dataset", "add", *args, "--json", cwd=root).stdout)


def test_add_declares_a_dataset_in_its_own_folder_in_one_commit(workspace: Path, run):
    result = add(run, workspace, "streets", "--guideline", "digits", "--description", "Streets")

    assert result == {
        "dataset": "streets",
        "guideline": "digits",
        "files": OWN,
        "commit": head(workspace),
        "kept": [],
    }
    assert sorted(git(workspace, "show", "--name-only", "--format=", "HEAD").split()) == OWN
    assert git(workspace, "log", "-1", "--format=%s").strip() == (
        "dataset add: streets, labeled under digits"
    )
    assert git(workspace, "status", "--porcelain") == ""
    assert yamlio.load_plain(workspace / OWN[1]) == {
        "guideline": "digits",
        "description": "Streets",
    }
    readme = (workspace / OWN[0]).read_text()
    assert readme.startswith("# streets\n\nStreets\n\nLabeled under the guideline `digits`")
    assert declared(Workspace(workspace))["streets"].guideline == "digits"
    stages = dvc(workspace, "stage", "list", "--all")
    assert "datasets/streets/dvc.yaml:qa" in stages and "datasets/digits/dvc.yaml:qa" in stages
    assert run("items", "list", "streets", cwd=workspace).stdout.strip() == "streets: no items"


def test_add_takes_the_only_guideline_by_default(workspace: Path, run):
    assert add(run, workspace, "streets")["guideline"] == "digits"
    run("guideline", "new", "cats", "--task", "classification", "--classes", "cat,dog",
        cwd=workspace)  # fmt: skip
    result = run("dataset", "add", "pets", cwd=workspace, expect=1)
    assert "say which guideline dataset 'pets' is labeled under: --guideline NAME" in (
        result.stderr
    )
    assert "(guidelines: cats, digits)" in result.stderr


def test_add_refuses_what_would_clash_and_writes_nothing(workspace: Path, run):
    before = state(workspace)
    cases = {  # a conflict (4), bad input (1), not found (3)
        ("digits",): ("dataset 'digits' exists (labeled under 'digits'); choose another name", 4),
        ("Streets",): ("dataset name 'Streets': use lower-case letters, digits, '-' and '_'", 1),
        ("streets", "--guideline", "digit"): ("no guideline 'digit' in ", 3),
    }
    for args, (message, code) in cases.items():
        result = run("dataset", "add", *args, cwd=workspace, expect=code)
        assert message in result.stderr, result.stderr
    assert (
        "did you mean 'digits'?"
        in run("dataset", "add", "streets", "--guideline", "digit", cwd=workspace, expect=3).stderr
    )
    assert state(workspace) == before


def test_two_clones_that_add_datasets_merge_with_a_plain_pull(workspace: Path, run, tmp_path):
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(workspace), str(origin))
    a, b = tmp_path / "a", tmp_path / "b"
    for clone in (a, b):
        git(tmp_path, "clone", "-q", str(origin), str(clone))
    add(run, a, "streets", "--guideline", "digits")
    add(run, b, "highways", "--guideline", "digits")
    git(a, "push", "-q", "origin", "main")

    git(b, "pull", "-q", "--no-rebase", "--no-edit", "origin", "main")

    assert git(b, "diff", "--name-only", "--diff-filter=U") == ""
    assert {"digits", "streets", "highways"} <= set(declared(Workspace(b)))
    stages = dvc(b, "stage", "list", "--all")
    assert "datasets/streets/dvc.yaml:qa" in stages and "datasets/highways/dvc.yaml:qa" in stages


def test_the_quality_stage_runs_under_dvc(make_store, run):  # noqa: F811
    root = make_store("digits-labeled")
    golden = write_jsonl(root.parent / "golden.jsonl", digit_rows(range(10), labeler="vA-01"))
    run("golden", "add", "digits", str(golden), "--format", "jsonl", cwd=root)

    dvc(root, "repro", "datasets/digits/dvc.yaml")

    metrics = json.loads((root / "reports/qa/digits/metrics.json").read_text())
    assert metrics, "the bake-off wrote its metrics"
    assert "reports/qa/digits/metrics.json" in dvc(root, "metrics", "show")
    assert (root / "datasets/digits/dvc.lock").is_file()


# -- remove -------------------------------------------------------------------------------------------
def test_remove_takes_back_a_dataset_nothing_depends_on(workspace: Path, run):
    add(run, workspace, "streets", "--guideline", "digits")
    (workspace / "datasets/streets/notes.txt").write_text("mine, never committed\n")

    result = json.loads(run("dataset", "remove", "streets", "--json", cwd=workspace).stdout)

    assert result["files"] == ["datasets/streets/dataset.yaml", OWN[2], OWN[0]]
    assert result["kept"] == ["datasets/streets/notes.txt"]
    assert result["commit"] == head(workspace)
    assert sorted(git(workspace, "show", "--name-only", "--format=", "HEAD").split()) == OWN
    assert "streets" not in declared(Workspace(workspace))
    assert (workspace / "datasets/streets/notes.txt").read_text() == "mine, never committed\n"


def test_remove_is_refused_while_the_dataset_holds_anything(make_store, run):  # noqa: F811
    root = make_store("digits-labeled")
    golden = write_jsonl(root.parent / "golden.jsonl", digit_rows(range(3)))
    run("golden", "add", "digits", str(golden), "--format", "jsonl", "--name", "expert", cwd=root)
    before = state(root)

    result = run("dataset", "remove", "digits", cwd=root, expect=1)

    assert result.stderr.startswith(
        "Error: dataset 'digits' is not removed: 1 label batch(es); golden set(s) expert; 1 item "
        "manifest(s); 1 tracked item folder(s); 1 raw delivery file(s) depend on it"
    ), result.stderr
    assert "`labelspec dataset add NEW --guideline digits`" in result.stderr
    assert "`git log -- datasets/digits`" in result.stderr
    assert state(root) == before


def test_remove_cleans_what_older_workspaces_declared_elsewhere(workspace: Path, run):
    config = workspace / "labelspec.yaml"
    config.write_text(config.read_text() + "datasets:\n  old:\n    guideline: digits\n")
    pipeline = workspace / "dvc.yaml"
    pipeline.write_text(
        pipeline.read_text()
        + "  qa:\n    cmd: labelspec qa bakeoff old --golden golden --report reports/qa\n"
        "    deps:\n      - datasets/old/labels\n      - datasets/old/golden\n"
    )
    git(workspace, "commit", "-qam", "as labelspec init wrote it before")
    assert "old" in declared(Workspace(workspace))

    result = json.loads(run("dataset", "remove", "old", "--json", cwd=workspace).stdout)

    assert result["files"] == ["labelspec.yaml", "dvc.yaml"]
    assert "datasets" not in yamlio.load_plain(config)
    assert list(yamlio.load_plain(pipeline)["stages"]) == ["check"]
    assert "old" not in declared(Workspace(workspace))
    dvc(workspace, "stage", "list", "--all")


def test_a_dataset_items_add_declares_gets_the_same_files(workspace: Path, run):
    folder = workspace / "datasets/streets/items/first"
    folder.mkdir(parents=True)
    (folder / "a.txt").write_text("A street.")
    run("items", "add", "streets", "datasets/streets/items/first", "--guideline", "digits",
        cwd=workspace)  # fmt: skip
    for rel in OWN:
        assert (workspace / rel).is_file() and git(workspace, "ls-files", rel).strip() == rel
