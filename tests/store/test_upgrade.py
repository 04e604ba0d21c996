"""`labelspec upgrade`: a layout 1 workspace moves to layout 2 in one commit, old snap-N stay."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import git, head, jsonl
from tests.store.conftest import digit_rows, write_jsonl
from tests.store.legacy import to_layout_1


def import_more(run, root: Path, tmp_path: Path, name: str, indices, source="vendor-c") -> None:
    path = write_jsonl(tmp_path / f"{name}.jsonl", digit_rows(indices))
    args = ["labels", "import", "digits", str(path), "--format", "jsonl"]
    run(*args, "--guideline", "digits@1.0.0", "--source", source, cwd=root)


def show(run, root: Path, *args: str) -> dict:
    return json.loads(run("labels", "show", "digits", *args, "--json", cwd=root).stdout)


def legacy_workspace(labeled_ws, run, tmp_path) -> Path:
    import_more(run, labeled_ws, tmp_path, "more", range(5))
    to_layout_1(labeled_ws)
    assert git(labeled_ws, "status", "--porcelain") == ""
    return labeled_ws


def test_a_layout_1_workspace_reads_but_refuses_writes_until_upgraded(labeled_ws, run, tmp_path):
    root = legacy_workspace(labeled_ws, run, tmp_path)

    assert show(run, root)["labels"] == 25
    assert show(run, root, "--snapshot", "snap-1")["labels"] == 20
    refused = run("labeler", "add", "vX-01", "--vendor", "x", cwd=root, expect=1)
    assert "uses store layout 1, which cannot merge across clones; run `labelspec upgrade`" in (
        refused.stderr
    )
    report = json.loads(run("verify", "--json", cwd=root, expect=5).stdout)
    assert report["problems"] == [
        "digits: the workspace uses the old layout (one labels.dvc, snapshots.yaml) that cannot "
        "merge across clones; run `labelspec upgrade` (one commit)"
    ]


def test_upgrade_moves_to_layout_2_in_one_commit_and_keeps_every_snapshot(
    labeled_ws, run, tmp_path
):
    root = legacy_workspace(labeled_ws, run, tmp_path)
    before = head(root)
    training_ids = [r["id"] for r in []]

    out = json.loads(run("upgrade", "--json", cwd=root).stdout)

    assert out["datasets"]["digits"] == {"batches": 2, "items": 20, "golden_versions": 0}
    assert (out["labelers"], out["training_records"]) == (2, 1)
    assert out["verify"]["ok"] is True, out["verify"]
    assert git(root, "rev-parse", "HEAD~1").strip() == before  # one commit
    assert git(root, "status", "--porcelain") == ""
    folder = root / "datasets/digits"
    assert not (folder / "labels.dvc").exists() and not (folder / "snapshots.yaml").exists()
    assert len(list((folder / "labels").glob("*.parquet.dvc"))) == 2
    assert "/labels" not in (folder / ".gitignore").read_text().split()
    assert [e["id"] for e in jsonl(root / "labelers/roster.jsonl")] == ["vA-01", "vB-01"]
    assert len(jsonl(root / "labelers/training.jsonl")) == 1 + len(training_ids)
    assert "workspace: 2" in (root / "labelspec.yaml").read_text()
    attributes = (root / ".gitattributes").read_text().splitlines()
    assert "datasets/*/relabel/closed.jsonl merge=union" in attributes  # relabel closings
    # every question answers as before, the old tags included
    assert show(run, root)["labels"] == 25
    for ref, labels in (("snap-1", 20), ("dataset/digits/snap-2", 25), ("HEAD~1", 25)):
        assert show(run, root, "--snapshot", ref)["labels"] == labels, ref
    assert run("verify", cwd=root).stdout.strip() == "ok: digits: 2 batches, 25 labels"
    # and the workspace takes writes again
    import_more(run, root, tmp_path, "after", range(3), source="vendor-d")
    assert show(run, root)["labels"] == 28
    again = run("upgrade", cwd=root)  # nothing to do is no error: `upgrade && verify` runs on
    assert again.stdout.startswith("already up to date:")


def test_a_fresh_clone_of_an_upgraded_workspace_reads_the_old_snapshots(labeled_ws, run, tmp_path):
    root = legacy_workspace(labeled_ws, run, tmp_path)
    run("upgrade", cwd=root)
    run("push", cwd=root)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(root), str(clone))
    (clone / ".dvc/config.local").write_text((root / ".dvc/config.local").read_text())

    run("pull", cwd=clone)

    assert show(run, clone, "--snapshot", "snap-1")["labels"] == 20
    assert show(run, clone)["labels"] == 25
