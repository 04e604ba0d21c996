"""`labelspec verify`: a clean store passes; tampering, lost records and lost cache are caught."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import git, jsonl

TRAINING = "labelers/training.jsonl"


def batch_file(root: Path) -> Path:
    [path] = (root / "datasets/digits/labels").glob("*.parquet")
    return path


def cache_object(root: Path, batch: Path) -> Path:
    md5 = next(
        line.split()[-1]
        for line in batch.with_name(batch.name + ".dvc").read_text().splitlines()
        if "md5:" in line
    )
    return root / ".dvc/cache/files/md5" / md5[:2] / md5[2:]


def verify_problems(run, root: Path) -> list[str]:
    result = run("verify", "--json", cwd=root, expect=5)
    assert result.stderr.startswith("Error: verify found")
    report = json.loads(result.stdout)
    assert report["ok"] is False
    return report["problems"]


def test_a_clean_store_verifies(labeled_ws, run):
    out = run("verify", cwd=labeled_ws).stdout

    assert out.strip() == "ok: digits: 1 batches, 20 labels"
    report = json.loads(run("verify", "--json", cwd=labeled_ws).stdout)
    assert report["checked"]["digits"] == {
        "batches": 1,
        "labels": 20,
        "empty_answers": 0,
        "items": 20,
        "golden_versions": 0,
    }


def test_a_workspace_without_labels_verifies(digits_ws, run):
    assert run("verify", cwd=digits_ws).stdout.strip() == "ok: no labels yet"


def test_a_tampered_batch_is_caught(labeled_ws, run):
    batch = batch_file(labeled_ws)
    with batch.open("ab") as handle:
        handle.write(b"tampered")

    result = run("verify", cwd=labeled_ws, expect=5)

    assert result.stdout.splitlines() == [
        f"problem: digits: batch datasets/digits/labels/{batch.name}: the working copy does not "
        "match its record (md5/sha256): it was changed after it was written; `dvc checkout` "
        "restores it"
    ]
    assert result.stderr.strip() == "Error: verify found 1 problem(s)"


def test_a_flipped_byte_in_the_dvc_cache_copy_is_caught(labeled_ws, run):
    batch = batch_file(labeled_ws)
    cached = cache_object(labeled_ws, batch)
    data = bytearray(cached.read_bytes())
    data[100] ^= 0xFF
    cached.chmod(0o644)
    cached.write_bytes(bytes(data))

    assert verify_problems(run, labeled_ws) == [
        f"digits: batch datasets/digits/labels/{batch.name}: its DVC cache copy does not match "
        "its record (md5/sha256): it was changed after it was written; `labelspec pull` fetches "
        "it again"
    ]


def test_an_edited_row_count_in_the_record_is_caught(labeled_ws, run):
    batch = batch_file(labeled_ws)
    record = batch.with_name(batch.name + ".dvc")
    record.write_text(record.read_text().replace('"rows": 20', '"rows": 21'))
    git(labeled_ws, "commit", "-q", "-am", "edit a record")
    sha = git(labeled_ws, "rev-parse", "--short=10", "HEAD").strip()
    added = git(labeled_ws, "rev-parse", "--short=10", "HEAD~1").strip()

    assert verify_problems(run, labeled_ws) == [
        f"digits: commit {sha} ('edit a record') changed the batch record "
        f"datasets/digits/labels/{batch.name}.dvc after commit {added} added it: rows 20 -> 21; "
        f"records never change: revert that commit: `git revert {sha}`",
        f"batch datasets/digits/labels/{batch.name}: its record says 21 rows, the file has 20",
    ]


def test_an_edited_empty_answer_count_in_the_record_is_caught(labeled_ws, run):
    batch = batch_file(labeled_ws)
    record = batch.with_name(batch.name + ".dvc")
    assert '"empty": 0' in record.read_text()  # 20 digit labels, no "no objects" answer
    record.write_text(record.read_text().replace('"empty": 0', '"empty": 3'))
    git(labeled_ws, "commit", "-q", "-am", "edit a record")

    problems = verify_problems(run, labeled_ws)
    assert "rows 20 -> 21" not in problems[0] and "empty 0 -> 3" in problems[0]
    assert problems[1:] == [
        f"batch datasets/digits/labels/{batch.name}: its record says 3 empty answers, the file "
        "has 0"
    ]


def test_a_training_record_removed_from_the_training_file_is_caught(labeled_ws, run):
    path = labeled_ws / TRAINING
    records = jsonl(path)
    [record] = [r for r in records if r["labeler"] == "vA-01"]
    path.write_text("".join(json.dumps(r) + "\n" for r in records if r["id"] != record["id"]))
    git(labeled_ws, "commit", "-q", "-am", "drop a training record")
    sha = git(labeled_ws, "rev-parse", "--short=10", "HEAD").strip()

    assert verify_problems(run, labeled_ws) == [
        f"commit {sha} ('drop a training record') rewrote labelers/training.jsonl, an "
        f'append-only file: record "{record["id"]}" dropped; records are only ever appended: '
        f"revert that commit: `git revert {sha}`",
        f"digits: 20 label(s) cite training record {record['id']}, which is not in "
        "labelers/training.jsonl",
    ]


def test_a_deleted_release_tag_is_caught(labeled_ws, run):
    git(labeled_ws, "tag", "-d", "guideline/digits/v1.0.0")

    assert verify_problems(run, labeled_ws) == [
        "digits: 20 label(s) name digits 1.0.0, which is not a released tag"
    ]


def test_a_batch_missing_from_the_dvc_cache_is_caught(labeled_ws, run):
    batch = batch_file(labeled_ws)
    cache_object(labeled_ws, batch).unlink()

    assert verify_problems(run, labeled_ws) == [
        f"digits: batch datasets/digits/labels/{batch.name} is not in the DVC cache, so "
        "`labelspec push` cannot share it; restore the cache (`dvc commit` the file) or pull it again"
    ]


def test_a_batch_gone_from_both_places_says_to_pull(labeled_ws, run):
    batch = batch_file(labeled_ws)
    cache_object(labeled_ws, batch).unlink()
    batch.unlink()

    assert verify_problems(run, labeled_ws) == [
        f"digits: batch datasets/digits/labels/{batch.name} is neither in the workspace nor in "
        "the DVC cache; run `labelspec pull`"
    ]


def test_a_batch_copied_under_another_name_is_caught(labeled_ws, run, tmp_path):
    batch = batch_file(labeled_ws)
    other = "b-20990101T000000Z-00000000"
    (batch.parent / f"{other}.parquet").write_bytes(batch.read_bytes())
    record = batch.with_name(batch.name + ".dvc").read_text()
    (batch.parent / f"{other}.parquet.dvc").write_text(
        record.replace(batch.name, f"{other}.parquet")
    )
    git(labeled_ws, "add", ".")
    git(labeled_ws, "commit", "-q", "-m", "copy a batch")

    assert verify_problems(run, labeled_ws) == [
        f"batch datasets/digits/labels/{other}.parquet holds batch {batch.stem}: a batch file was "
        "copied under another name"
    ]


def test_a_moved_snapshot_tag_is_caught(labeled_ws, run, tmp_path):
    from tests.store.legacy import to_layout_1

    to_layout_1(labeled_ws)
    run("upgrade", cwd=labeled_ws)
    git(labeled_ws, "tag", "-f", "-a", "dataset/digits/snap-1", "-m", "moved", "HEAD")

    [problem] = verify_problems(run, labeled_ws)

    assert problem.startswith("digits: tag dataset/digits/snap-1 points at commit ")
    assert "which is not snapshot 1 (was the tag moved?)" in problem


def test_released_content_changed_without_a_release_is_caught(labeled_ws, run):
    spec = labeled_ws / "guidelines/digits/spec.yaml"
    spec.write_text(spec.read_text().replace("taller than it is wide", "of any width", 1))
    git(labeled_ws, "commit", "-q", "-am", "a quiet edit")

    [problem] = verify_problems(run, labeled_ws)

    assert problem.startswith("guideline digits: the content differs from release 1.0.0")
    assert "has no `version: unreleased` entry" in problem
    checked = run("check", cwd=labeled_ws, expect=1)
    assert "the content differs from release 1.0.0" in checked.stdout + checked.stderr
