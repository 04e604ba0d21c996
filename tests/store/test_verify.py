"""`labelspec verify`: a clean store passes; tampering, lost records and lost cache are caught."""

from __future__ import annotations

import json
from pathlib import Path

from ruamel.yaml import YAML

from tests.helpers import git

TRAINING = "labelers/training.yaml"


def batch_file(root: Path) -> Path:
    [path] = (root / "datasets/digits/labels").glob("*.parquet")
    return path


def verify_problems(run, root: Path) -> list[str]:
    result = run("verify", "--json", cwd=root, expect=1)
    assert result.stderr.startswith("Error: verify found")
    report = json.loads(result.stdout)
    assert report["ok"] is False
    return report["problems"]


def test_a_clean_store_verifies(labeled_ws, run):
    out = run("verify", cwd=labeled_ws).stdout

    assert out.strip() == "ok: digits: 1 batches, 20 labels"


def test_a_workspace_without_labels_verifies(digits_ws, run):
    assert run("verify", cwd=digits_ws).stdout.strip() == "ok: no labels yet"


def test_a_tampered_batch_is_caught(labeled_ws, run):
    batch = batch_file(labeled_ws)
    with batch.open("ab") as handle:
        handle.write(b"tampered")

    result = run("verify", cwd=labeled_ws, expect=1)

    batch_id = batch.stem
    assert result.stdout.splitlines() == [
        f"problem: digits: batch {batch_id} (labels/{batch.name}) does not match its sha256 in "
        "snapshots.yaml: it was modified after it was written; restore it with `dvc checkout` "
        "or `labelspec pull`"
    ]
    assert result.stderr.strip() == "Error: verify found 1 problem(s)"


def test_a_training_record_removed_from_training_yaml_is_caught(labeled_ws, run):
    path = labeled_ws / TRAINING
    yaml = YAML()
    data = yaml.load(path)
    [record] = [r for r in data["records"] if r["labeler"] == "vA-01"]
    data["records"] = [r for r in data["records"] if r["id"] != record["id"]]
    yaml.dump(data, path)
    git(labeled_ws, "commit", "-q", "-am", "drop a training record")

    assert verify_problems(run, labeled_ws) == [
        f"digits: 20 label(s) cite training record {record['id']}, which is not in "
        "labelers/training.yaml"
    ]


def test_a_deleted_release_tag_is_caught(labeled_ws, run):
    git(labeled_ws, "tag", "-d", "guideline/digits/v1.0.0")

    assert verify_problems(run, labeled_ws) == [
        "digits: 20 label(s) name digits 1.0.0, which is not a released tag"
    ]


def test_a_batch_missing_from_the_dvc_cache_is_caught(labeled_ws, run):
    cache = labeled_ws / ".dvc/cache/files/md5"
    listing_md5 = YAML(typ="safe").load((labeled_ws / "datasets/digits/labels.dvc").read_text())
    listing_md5 = listing_md5["outs"][0]["md5"]
    [entry] = json.loads((cache / listing_md5[:2] / listing_md5[2:]).read_text())
    (cache / entry["md5"][:2] / entry["md5"][2:]).unlink()

    assert verify_problems(run, labeled_ws) == [
        f"digits: the DVC cache lacks labels/{entry['relpath']}; run `labelspec pull`"
    ]
