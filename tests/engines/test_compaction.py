"""`labels compact`: a revision's current labels in parts sorted by item, keyed by the manifest
digest, read instead of the batches, and checked by `verify` against them."""

from __future__ import annotations

import itertools
import json

import pyarrow.parquet as pq
import pytest

from labelspec.engines import spark as engine
from labelspec.store.compaction import compact
from labelspec.store.manifest import manifest
from labelspec.store.schema import LABEL_SCHEMA
from labelspec.workspace import Workspace
from tests.helpers import git, head

# see test_spark.py: pyspark leaves its result socket to the garbage collector
pytestmark = pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning")


def current(root, rev="HEAD"):
    return Workspace(root).labels("digits", rev).cast(LABEL_SCHEMA)


def drop_batches(root) -> None:
    """Remove every batch's working copy and cache object (the compacted parts stay)."""
    for batch in manifest(Workspace(root), "digits").batches:
        for path in (
            root / batch.file,
            root / ".dvc/cache/files/md5" / batch.md5[:2] / batch.md5[2:],
        ):
            path.chmod(0o644)
            path.unlink()


def test_compact_writes_parts_of_whole_items_in_item_order(history, run):
    before = head(history)

    out = json.loads(run("labels", "compact", "digits", "--json", cwd=history).stdout)

    assert out["rows"] == 62 and out["batches"] == 3 and out["written"] is True
    assert out["commit"] == head(history) != before
    assert git(history, "status", "--porcelain") == ""  # the parts are git-ignored DVC data
    [part] = out["parts"]
    table = pq.read_table(history / part)
    assert table.schema.remove_metadata() == LABEL_SCHEMA
    assert table.equals(current(history).replace_schema_metadata(table.schema.metadata))
    assert git(history, "show", "--stat", "--format=%s", "HEAD").startswith(
        f"labels compact digits {before[:10]}: 62 current labels of 3 batches"
    )


def test_small_parts_split_between_items(history):
    done = compact(Workspace(history), "digits", part_rows=10)

    items = [pq.read_table(history / p).column("item_id").to_pylist() for p in done.parts]
    assert sum(len(i) for i in items) == 62
    for earlier, later in itertools.pairwise(items):
        assert earlier[-1] < later[0]  # no item in two parts
    # an item goes to part (labels before it) // 10. Current labels per item: d00 4, d01 1 (the
    # relabel's; its 4 suspect ones superseded), d02 2, d03..d06 4, d07 1, d08, d09 4, then 3
    # each; so d00..d03 (starting at 0, 4, 5, 7) make part 0 with 11 labels, d04..d06 (11, 15,
    # 19) part 1 with 12
    assert [len(i) for i in items][:2] == [11, 12]
    assert [r.rows for r in manifest(Workspace(history), "digits").compacted.parts] == [
        len(i) for i in items
    ]


def test_readers_use_it_when_present(history, spark):
    compact(Workspace(history), "digits")
    expected = current(history)
    drop_batches(history)  # only the compacted copy can answer now
    found = manifest(Workspace(history), "digits")

    assert found.current_labels().equals(expected)
    frame = found.to_spark(spark)
    assert "Join" not in engine.plan_of(frame)
    ours = (
        frame.toArrow()
        .cast(LABEL_SCHEMA)
        .sort_by(
            [("item_id", "ascending"), ("annotation_id", "ascending"), ("label_id", "ascending")]
        )
    )
    assert ours.equals(expected)


def test_it_is_keyed_by_the_batches_so_another_revision_does_not_use_it(history):
    compact(Workspace(history), "digits")
    (history / "notes.txt").write_text("no batch\n")
    git(history, "add", "notes.txt")
    git(history, "commit", "-q", "-m", "notes")

    assert manifest(Workspace(history), "digits").compacted is not None  # same batches
    assert manifest(Workspace(history), "digits", "HEAD~5").compacted is None  # before the relabel


def test_compacting_the_same_batches_again_does_nothing(history, run):
    compact(Workspace(history), "digits")
    before = head(history)

    again = run("labels", "compact", "digits", "--snapshot", "HEAD", cwd=history).stdout

    assert again.startswith("digits HEAD: already compacted (62 current labels, digest ")
    assert head(history) == before


def test_an_old_revision_can_be_compacted_from_head(history):
    done = compact(Workspace(history), "digits", "HEAD~2")  # before the relabel: 70 labels

    assert done.rows == 70
    found = manifest(Workspace(history), "digits", "HEAD~3")  # HEAD~2 moved: one more commit
    assert found.compacted is not None and found.current_labels().equals(current(history, "HEAD~3"))


def test_verify_checks_it_against_its_batches(history, run):
    compact(Workspace(history), "digits")

    report = json.loads(run("verify", "--json", cwd=history).stdout)

    assert report["ok"] is True
    assert report["checked"]["digits"]["compacted"] == 1


def test_verify_names_a_compacted_copy_whose_rows_differ(history, run):
    from labelspec.store.batches import write_parquet_hashed
    from labelspec.vcs import DvcCache, dvc_file_text, parse_dvc_file

    done = compact(Workspace(history), "digits")
    part = history / done.parts[0]
    record = part.with_name(part.name + ".dvc")
    _md5, _size, meta = parse_dvc_file(record.read_text(), record.name)
    short = pq.read_table(part).slice(1)  # one label lost, record and cache rewritten to match
    part.chmod(0o644)
    sha256, md5, size = write_parquet_hashed(short, part)
    DvcCache(history).store(part, md5)
    record.write_text(dvc_file_text(part.name, md5, size, {**meta, "sha256": sha256}))
    git(history, "commit", "-q", "-am", "a tampered compaction")

    report = json.loads(run("verify", "--json", cwd=history, expect=5).stdout)

    assert report["problems"] == [
        f"digits: compacted copy {done.digest[:16]}: 1 row(s) differ from the current labels of "
        f"the batches of revision {meta['commit'][:10]} it was made from; delete it (`git rm "
        f"datasets/digits/compacted/{done.digest[:16]}-*.parquet.dvc`) and run `labelspec labels "
        f"compact digits --snapshot {meta['commit'][:10]}` again"
    ]


def test_verify_names_a_compacted_copy_made_for_other_batches(history, run):
    done = compact(Workspace(history), "digits")
    record = history / (done.parts[0] + ".dvc")
    text = record.read_text()
    older = git(history, "rev-parse", "HEAD~3").strip()  # before the relabel: other batches
    record.write_text(text.replace(text.split('"commit": "')[1][:40], older))
    git(history, "commit", "-q", "-am", "a compaction pointing at another revision")

    report = json.loads(run("verify", "--json", cwd=history, expect=5).stdout)

    [problem] = report["problems"]
    assert problem.startswith(
        f"digits: compacted copy {done.digest[:16]} was made for other batches than revision "
        f"{older[:10]} holds (digest {done.digest[:16]}, the revision's "
    )


def test_push_sends_it_to_the_remote(history, run):
    done = compact(Workspace(history), "digits")
    run("push", cwd=history)
    drop_batches(history)
    for path in history.glob(".dvc/cache/files/md5/*/*"):
        path.chmod(0o644)
        path.unlink()
    (history / done.parts[0]).unlink()

    found = manifest(Workspace(history), "digits")

    assert found.current_labels(remote="storage").num_rows == 62


def test_nothing_to_compact_is_one_clear_error(history, run):
    result = run("labels", "compact", "digits", "--snapshot", "HEAD~10", cwd=history, expect=1)

    assert (
        result.stderr.strip() == "Error: digits has no label batches at HEAD~10: nothing to compact"
    )
