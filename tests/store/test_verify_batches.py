"""`verify` hashes every batch on every run, and reads a batch's rows only the first time it sees
its bytes: what a batch holds (rows, batch id, releases, training ids) is remembered by the digest
those bytes were verified to have."""

from __future__ import annotations

import hashlib
import json

import pyarrow as pa
import pyarrow.parquet as pq

from labelspec.labels.verify_batches import _read, _single_release
from tests.store.test_verify import batch_file, cache_object, verify_problems

FACTS = ".labelspec/cache/batch-facts.json"


def test_a_batch_s_facts_are_kept_by_its_sha256_and_its_bytes_still_hashed(labeled_ws, run):
    run("verify", cwd=labeled_ws)
    batch = batch_file(labeled_ws)
    sha256 = hashlib.sha256(batch.read_bytes()).hexdigest()
    [(key, facts)] = json.loads((labeled_ws / FACTS).read_text())["batches"].items()
    # 20 labels, one per item, all by vA-01 under digits 1.0.0 (the fixture's snap-1)
    assert key == f"sha256:{sha256}"
    assert facts["rows"] == 20 and facts["batch_id"] == batch.stem
    assert [r[:2] + r[3:] for r in facts["releases"]] == [["digits", "1.0.0", 20]]
    assert len(facts["training_ids"]) == 1

    # the facts are known now, and the next run still reads both copies' bytes
    data = bytearray(batch.read_bytes())
    data[len(data) // 2] ^= 0xFF
    batch.chmod(0o644)
    batch.write_bytes(bytes(data))
    assert verify_problems(run, labeled_ws) == [
        f"digits: batch {batch.relative_to(labeled_ws)}: the working copy does not match its "
        "record (md5/sha256): it was changed after it was written; `dvc checkout` restores it"
    ]


def test_a_cache_copy_that_is_the_working_copy_is_read_once_and_judged_with_it(labeled_ws, run):
    batch = batch_file(labeled_ws)
    cached = cache_object(labeled_ws, batch)
    batch.unlink()
    batch.hardlink_to(cached)  # what DVC's cache.type = hardlink leaves
    report = json.loads(run("verify", "--json", cwd=labeled_ws).stdout)
    assert report["ok"] and report["checked"]["digits"]["labels"] == 20


def _batch(path, versions: list[str], row_group_size: int = 2) -> None:
    n = len(versions)
    pq.write_table(
        pa.table(
            {
                "guideline": ["digits"] * n,
                "guideline_version": versions,
                "guideline_digest": [f"sha256:{v}" for v in versions],
                "training_id": ["tr-1", None, "tr-2", "tr-1"][:n],
            }
        ),
        path,
        row_group_size=row_group_size,
    )


def test_a_batch_of_one_release_is_read_from_its_footer_and_a_mixed_one_from_its_rows(tmp_path):
    one, mixed = tmp_path / "one.parquet", tmp_path / "mixed.parquet"
    _batch(one, ["1.0.0"] * 4)  # two row groups, both 1.0.0
    _batch(mixed, ["1.0.0", "1.0.0", "1.1.0", "1.1.0"])  # row groups 1.0.0, then 1.1.0
    assert _single_release(pq.read_metadata(one)) == ("digits", "1.0.0", "sha256:1.0.0")
    assert _single_release(pq.read_metadata(mixed)) is None

    facts = _read([one, mixed])
    assert facts[one].releases == [["digits", "1.0.0", "sha256:1.0.0", 4]]
    assert facts[mixed].releases == [
        ["digits", "1.0.0", "sha256:1.0.0", 2],
        ["digits", "1.1.0", "sha256:1.1.0", 2],
    ]
    assert facts[one].training_ids == facts[mixed].training_ids == ["tr-1", "tr-2"]
    assert facts[one].rows == 4 and facts[one].batch_id == ""
