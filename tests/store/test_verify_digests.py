"""`labelspec verify` checks both digests a batch record holds, and the content a release tag names."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq

from tests.helpers import git

TAG = "guideline/digits/v1.0.0"


def verify_problems(run, root: Path) -> list[str]:
    result = run("verify", "--json", cwd=root, expect=5)
    report = json.loads(result.stdout)
    assert report["ok"] is False
    return report["problems"]


def test_verify_compares_the_sha256_as_well_as_the_md5(labeled_ws, run):
    [batch] = (labeled_ws / "datasets/digits/labels").glob("*.parquet")
    record = batch.with_name(batch.name + ".dvc")
    old = batch.read_bytes()
    # the same rows and batch id, other bytes: written again with another compression
    table = pq.read_table(batch)
    batch.unlink()  # it may be a link to the read-only cache copy
    pq.write_table(table, batch, compression="snappy")
    new = batch.read_bytes()
    assert new != old
    # the md5 (and size) DVC records are brought up to date, the sha256 labelspec records is not
    md5_old, md5_new = hashlib.md5(old).hexdigest(), hashlib.md5(new).hexdigest()
    text = record.read_text()
    assert f"md5: {md5_old}" in text and f"size: {len(old)}\n" in text
    assert f'"sha256": "{hashlib.sha256(old).hexdigest()}"' in text
    record.write_text(
        text.replace(f"md5: {md5_old}", f"md5: {md5_new}").replace(
            f"size: {len(old)}\n", f"size: {len(new)}\n"
        )
    )
    cached = labeled_ws / ".dvc/cache/files/md5" / md5_new[:2] / md5_new[2:]
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(new)
    git(labeled_ws, "commit", "-q", "-am", "re-record the md5 only")

    rel = f"datasets/digits/labels/{batch.name}"
    rewrite, *at_head = verify_problems(run, labeled_ws)
    # at HEAD, the bytes match the md5 and size recorded; only the sha256 says they were changed
    assert at_head == [
        f"digits: batch {rel}: the working copy does not match its record (md5/sha256): it was "
        "changed after it was written; `dvc checkout` restores it",
        f"digits: batch {rel}: its DVC cache copy does not match its record (md5/sha256): it was "
        "changed after it was written; `labelspec pull` fetches it again",
    ]
    # and over history, the re-recording commit itself
    assert "('re-record the md5 only') changed the batch record" in rewrite


def test_verify_fails_when_a_release_tag_is_moved_to_other_guideline_content(labeled_ws, run):
    message = git(labeled_ws, "tag", "-l", "--format=%(contents)", TAG)
    assert '"digest": "sha256:' in message  # the release record, digest included, is the message
    # another commit, on a side branch, whose spec says something else
    git(labeled_ws, "checkout", "-q", "-b", "side")
    spec = labeled_ws / "guidelines/digits/spec.yaml"
    spec.write_text(spec.read_text().replace("taller than it is wide", "of any width", 1))
    git(labeled_ws, "commit", "-q", "-am", "a different spec")
    git(labeled_ws, "checkout", "-q", "main")
    # the tag moved there, keeping its message: the record's digest is the labels' digest still
    git(labeled_ws, "tag", "-f", "-a", TAG, "-m", message, "side")

    assert verify_problems(run, labeled_ws) == [
        f"digits: the content of tag {TAG} no longer has its recorded digest (was the tag moved?)"
    ]
