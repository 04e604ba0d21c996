"""A killed import leaves the previous snapshot intact; concurrent imports queue on the lock.

The importer runs in a child process that wraps one step of the write with a SIGKILL right
after it, so nothing in labelspec gets a chance to clean up: the next write's recovery must.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import git
from tests.store.conftest import digit_rows, write_jsonl

CHILD = r"""
import os, signal, sys, time

import pyarrow.parquet
import labelspec
import labelspec.store.batches
import labelspec.vcs
import labelspec.yamlio
from labelspec.labels.ingest import import_labels

root, source, point = sys.argv[1:4]


def after(owner, name, action, when=lambda *a, **k: True):
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        result = original(*args, **kwargs)
        if when(*args, **kwargs):
            action()
        return result

    setattr(owner, name, wrapper)


def die():
    os.kill(os.getpid(), signal.SIGKILL)


if point == "half-written-batch":  # the temporary file is written, not yet renamed
    after(pyarrow.parquet, "write_table", die)
elif point == "batch-written":
    after(labelspec.store.batches, "write_batch", die)
elif point == "dvc-add":
    after(labelspec.vcs.Dvc, "add", die)
elif point == "manifest-written":
    after(labelspec.yamlio, "atomic_write_text", die, lambda path, text: path.name == "snapshots.yaml")
elif point == "committed-not-tagged":
    after(labelspec.vcs.Git, "commit", die)
elif point == "slow":  # hold the lock a while, so a second import has to wait for it
    after(labelspec.store.batches, "write_batch", lambda: time.sleep(1))

ws = labelspec.open_workspace(root)
result = import_labels(ws, "digits", source, "jsonl", "digits@1.0.0", "vendor-a")
print(result.snapshot)
"""


def child(root: Path, source: Path, point: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(root), str(source), point],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def show(run, root: Path, *args: str) -> dict:
    return json.loads(run("labels", "show", "digits", *args, "--json", cwd=root).stdout)


def verify(run, root: Path) -> dict:
    return json.loads(run("verify", "--json", cwd=root).stdout)


def import_more(run, root: Path, tmp_path: Path, indices) -> dict:
    source = write_jsonl(tmp_path / "next.jsonl", digit_rows(indices))
    args = ["labels", "import", "digits", str(source), "--format", "jsonl"]
    out = run(*args, "--guideline", "digits@1.0.0", "--source", "vendor-a", "--json", cwd=root)
    return json.loads(out.stdout)


def snapshot_tags(root: Path) -> list[str]:
    return git(root, "tag", "--list", "dataset/digits/*").split()


@pytest.mark.parametrize(
    "point", ["half-written-batch", "batch-written", "dvc-add", "manifest-written"]
)
def test_an_import_killed_before_its_commit_leaves_the_previous_snapshot(
    labeled_ws, run, tmp_path, point
):
    head = git(labeled_ws, "rev-parse", "HEAD")
    source = write_jsonl(tmp_path / "killed.jsonl", digit_rows(range(5)))

    killed = child(labeled_ws, source, point)
    killed.communicate(timeout=60)

    assert killed.returncode == -9
    assert git(labeled_ws, "rev-parse", "HEAD") == head
    shown = show(run, labeled_ws)
    assert (shown["snapshot"], shown["labels"]) == ("snap-1", 20)
    report = verify(run, labeled_ws)
    assert report["problems"] == []
    assert report["checked"]["digits"] == {"batches": 1, "snapshots": 1, "labels": 20}
    assert [w.split(": an interrupted write left")[0] for w in report["warnings"]] == ["digits"]

    landed = import_more(run, labeled_ws, tmp_path, range(10, 13))

    assert landed["snapshot"] == "snap-2"
    assert snapshot_tags(labeled_ws) == ["dataset/digits/snap-1", "dataset/digits/snap-2"]
    shown = show(run, labeled_ws)
    assert (shown["snapshot"], shown["labels"]) == ("snap-2", 23)
    assert verify(run, labeled_ws) == {
        "ok": True,
        "problems": [],
        "warnings": [],
        "checked": {"digits": {"batches": 2, "snapshots": 2, "labels": 23}},
    }
    assert len(list((labeled_ws / "datasets/digits/labels").iterdir())) == 2
    assert git(labeled_ws, "status", "--porcelain") == ""


def test_an_import_killed_between_commit_and_tag_is_tagged_by_the_next_write(
    labeled_ws, run, tmp_path
):
    source = write_jsonl(tmp_path / "killed.jsonl", digit_rows(range(5)))

    killed = child(labeled_ws, source, "committed-not-tagged")
    killed.communicate(timeout=60)

    assert killed.returncode == -9
    assert snapshot_tags(labeled_ws) == ["dataset/digits/snap-1"]
    # the commit is the point of no return: snap-2 is there, only its tag is missing
    assert show(run, labeled_ws)["labels"] == 25
    assert show(run, labeled_ws, "--snapshot", "snap-1")["labels"] == 20
    report = verify(run, labeled_ws)
    assert report["problems"] == []
    assert report["warnings"] == [
        "digits: snap-2 has no tag dataset/digits/snap-2 yet: an interrupted write "
        "(the next write tags it)"
    ]

    landed = import_more(run, labeled_ws, tmp_path, range(10, 13))

    assert landed["snapshot"] == "snap-3"
    assert snapshot_tags(labeled_ws) == [f"dataset/digits/snap-{n}" for n in (1, 2, 3)]
    assert show(run, labeled_ws)["labels"] == 28
    report = verify(run, labeled_ws)
    assert (report["ok"], report["warnings"]) == (True, [])
    assert git(labeled_ws, "status", "--porcelain") == ""


def test_two_imports_started_at_once_both_land(labeled_ws, run, tmp_path):
    first = write_jsonl(tmp_path / "first.jsonl", digit_rows(range(0, 5)))
    second = write_jsonl(tmp_path / "second.jsonl", digit_rows(range(5, 12)))

    children = [child(labeled_ws, first, "slow"), child(labeled_ws, second, "slow")]
    outputs = [c.communicate(timeout=120) for c in children]

    assert [c.returncode for c in children] == [0, 0], outputs
    assert sorted(out.strip() for out, _ in outputs) == ["snap-2", "snap-3"]
    rows = json.loads(run("labels", "log", "digits", "--json", cwd=labeled_ws).stdout)
    assert [r["name"] for r in rows] == ["snap-3", "snap-2", "snap-1"]
    assert rows[0]["labels"] == 32
    assert rows[1]["labels"] in (25, 27)  # either one may win the lock
    assert snapshot_tags(labeled_ws) == [f"dataset/digits/snap-{n}" for n in (1, 2, 3)]
    assert show(run, labeled_ws)["labels"] == 20 + 5 + 7
    assert verify(run, labeled_ws)["warnings"] == []
    assert git(labeled_ws, "status", "--porcelain") == ""
