"""Every writer goes through one transaction: killed at any step, the workspace is restored (or,
past the commit, completed); concurrent imports queue on the lock and both land.

Each writer runs in a child process whose transaction machinery is wrapped to SIGKILL it at one
step, so nothing in labelspec gets a chance to clean up: the next write (or `labelspec recover`)
must. Steps: ``journaled`` (the first path written to the journal), ``changed`` (every file
written, nothing committed), ``git-locked`` (a git killed mid-commit: files staged, the index
lock left behind), ``committed`` (the commit made, the journal not yet told), ``tagged`` (for a
release: the tag made, the journal not yet removed), ``batch-tmp`` (an import's batch written to
its temporary file, not yet moved into place).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from labelspec.demo import digits
from labelspec.lineage.relabel import PLAN_FILES
from labelspec.transaction import Journal, _temporary_of
from tests.helpers import edit, git, head, state
from tests.store.conftest import digit_rows, write_jsonl
from tests.store.legacy import to_layout_1

CHILD = r"""
import os, signal, sys, time

import labelspec.site.build as site_build
import labelspec.store.batches as batches
import labelspec.transaction as tx
import labelspec.vcs as vcs
from labelspec.cli import main

root, point, *argv = sys.argv[1:]
os.chdir(root)


def die():
    os.kill(os.getpid(), signal.SIGKILL)


if point == "journaled":
    save = tx.Journal.save

    def journal_save(self, path):
        save(self, path)
        if self.paths:
            die()

    tx.Journal.save = journal_save
elif point == "changed":
    tx.Transaction._commit = lambda self: die()
elif point == "git-locked":
    def locked_commit(self, message, paths=None):
        self.add(paths or ["."])
        self.index_lock().write_text("")  # what a git killed while committing leaves behind
        die()

    vcs.Git.commit = locked_commit
elif point == "committed":
    commit = vcs.Git.commit

    def killed_commit(self, *args, **kwargs):
        commit(self, *args, **kwargs)
        die()

    vcs.Git.commit = killed_commit
elif point == "tagged":
    tag = vcs.Git.tag

    def killed_tag(self, *args, **kwargs):
        tag(self, *args, **kwargs)
        die()

    vcs.Git.tag = killed_tag
elif point == "batch-tmp":  # killed once the batch's temporary file is written, before os.replace
    written = batches._written

    def killed_written(path, write):
        def write_then_die(tmp):
            write(tmp)
            die()

        return written(path, write_then_die)

    batches._written = killed_written
elif point == "slow":  # hold the lock a while, so a second writer has to wait for it
    commit = vcs.Git.commit

    def slow_commit(self, *args, **kwargs):
        time.sleep(1)
        return commit(self, *args, **kwargs)

    vcs.Git.commit = slow_commit
elif point == "before-branch":  # site publish: killed before its gh-pages ref moves
    site_build.commit_directory = lambda *args, **kwargs: die()
elif point == "branch-moved":  # ... and right after it moved
    commit_directory = site_build.commit_directory

    def killed_publish(*args, **kwargs):
        commit_directory(*args, **kwargs)
        die()

    site_build.commit_directory = killed_publish
elif point == "mid-merge":  # pull: what a git killed before its merge commit leaves
    def half_merge(self, remote, branch):
        self.repo.git.fetch(remote, branch)
        try:
            self.repo.git.merge("--no-commit", "--no-ff", "FETCH_HEAD")
        finally:
            die()

    vcs.Git.pull = half_merge
elif point == "merged":  # pull: killed after the merge, before the data came
    vcs.Dvc.pull = lambda self, remote=None: die()
main(argv)
"""


def child(root: Path, point: str, argv: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(root), point, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_killed(root: Path, point: str, argv: list[str]) -> None:
    killed = child(root, point, argv)
    out, err = killed.communicate(timeout=300)
    assert killed.returncode == -9, (point, out, err)


# -- the writers: (setup, argv, subject of the commit it makes) ---------------------------------
def _release_edit(root: Path) -> None:
    edit(
        root,
        (
            "definition: A horizontal top bar joined to a diagonal stroke.",
            "definition: A top bar at least half the width, joined to a diagonal stroke.",
        ),
        (
            "\n\nquality:",
            "\n  - version: unreleased\n    summary: Sevens by the bar\n"
            "    affects: [one, seven]\n    relabel: required\n\nquality:",
        ),
    )
    git(root, "commit", "-q", "-am", "digits: sevens by the bar")


def _released(run, root: Path) -> None:
    _release_edit(root)
    run("guideline", "release", "digits", "--bump", "minor", "--date", "2026-01-15", cwd=root)


def _planned(run, root: Path, tmp: Path) -> str:
    _released(run, root)
    run("relabel", "plan", "digits", "--guideline", "digits", "--out", str(tmp / "plan"), cwd=root)
    train = ["--guideline", "digits", "--version", "1.1.0", "--method", "quiz", "--score", "1"]
    run("labeler", "train", "vA-01", *train, "--passed", "--date", "2026-01-20", cwd=root)
    return json.loads((tmp / "plan" / "plan.json").read_text())["plan"]


def writer_import(run, root, tmp):
    rows = write_jsonl(tmp / "rows.jsonl", digit_rows(range(5), created_at="2026-02-02T09:00:00Z"))
    argv = ["labels", "import", "digits", str(rows), "--format", "jsonl"]
    return [*argv, "--guideline", "digits@1.0.0", "--source", "vendor-z"], "import 5 labels"


def writer_items(run, root, tmp):
    manifest = tmp / "remote.csv"
    manifest.write_text("item_id,uri\nr1,s3://bucket/r1.png\nr2,s3://bucket/r2.png\n")
    argv = ["items", "add", "other", str(manifest), "--guideline", "digits"]
    return argv, "items add: 2 new item(s) in other"


def writer_labeler(run, root, tmp):
    return ["labeler", "add", "vC-01", "--vendor", "vendor-c"], "labelspec: add labeler vC-01"


def writer_training(run, root, tmp):
    args = ["--guideline", "digits", "--version", "1.0.0", "--method", "session", "--score", "1"]
    return ["labeler", "train", "vB-01", *args, "--passed"], "labelspec: vB-01 passed digits"


def writer_golden(run, root, tmp):
    rows = write_jsonl(tmp / "golden.jsonl", digit_rows(range(4)))
    argv = ["golden", "add", "digits", str(rows), "--format", "jsonl", "--name", "expert"]
    return argv, "golden expert@v1 of digits"


def writer_release(run, root, tmp):
    _release_edit(root)
    argv = ["guideline", "release", "digits", "--bump", "minor"]
    return argv, "Release guideline digits v1.1.0"


def writer_plan(run, root, tmp):
    _released(run, root)
    argv = ["relabel", "plan", "digits", "--guideline", "digits", "--out", str(tmp / "p")]
    return argv, "relabel plan rp-"


def writer_merge(run, root, tmp):
    plan = _planned(run, root, tmp)
    rows = [{**r, "guideline_version": "1.1.0"} for r in digit_rows([1, 7])]
    results = write_jsonl(tmp / "results.jsonl", rows)
    argv = ["relabel", "merge", "digits", plan, str(results), "--format", "jsonl"]
    return argv, f"relabel merge {plan}"


def writer_retract(run, root, tmp):
    [record] = (root / "datasets/digits/labels").glob("*.parquet.dvc")  # snap-1, 20 labels
    batch = record.name.removesuffix(".parquet.dvc")
    argv = ["labels", "retract", batch, "--reason", "delivered under the wrong guideline"]
    return argv, f"labels retract: digits {batch} (20 labels from vendor-a)"


def writer_upgrade(run, root, tmp):
    to_layout_1(root)
    return ["upgrade"], "labelspec upgrade: layout 2"


WRITERS: dict[str, Callable] = {
    "import": writer_import,
    "items": writer_items,
    "labeler": writer_labeler,
    "training": writer_training,
    "golden": writer_golden,
    "release": writer_release,
    "plan": writer_plan,
    "merge": writer_merge,
    "retract": writer_retract,
    "upgrade": writer_upgrade,
}
BEFORE_COMMIT = ["journaled", "changed", "git-locked"]
CASES = [(w, p) for w in WRITERS for p in [*BEFORE_COMMIT, "committed"]] + [("release", "tagged")]


@pytest.mark.parametrize(("writer", "point"), CASES)
def test_a_writer_killed_at_any_step_is_restored_or_completed(
    labeled_ws, run, tmp_path, writer, point
):
    argv, subject = WRITERS[writer](run, labeled_ws, tmp_path)
    before = state(labeled_ws, cache=False)
    start = head(labeled_ws)

    run_killed(labeled_ws, point, argv)

    # nothing a reader sees moved but what the point allows; reads still work
    report = json.loads(run("verify", "--json", cwd=labeled_ws, expect=5).stdout)
    assert any("interrupted write" in p and "labelspec recover" in p for p in report["problems"])
    recovered = run("recover", "--json", cwd=labeled_ws).stdout
    repaired = json.loads(recovered)["repaired"]
    if point in BEFORE_COMMIT:
        assert repaired[-1].startswith("rolled back the interrupted write"), repaired
        assert state(labeled_ws, cache=False) == before
    else:
        assert repaired[-1].startswith("completed the interrupted write"), repaired
        assert git(labeled_ws, "rev-parse", "HEAD~1").strip() == start
        assert git(labeled_ws, "log", "-1", "--format=%s").startswith(subject)
        assert git(labeled_ws, "status", "--porcelain") == ""
        if writer == "release":
            assert "guideline/digits/v1.1.0" in git(labeled_ws, "tag", "--list").split()
    assert not (labeled_ws / ".git/index.lock").exists()
    if writer == "upgrade" and point in BEFORE_COMMIT:
        run("upgrade", cwd=labeled_ws)  # back at layout 1: upgrade again, for real
    report = json.loads(run("verify", "--json", cwd=labeled_ws).stdout)
    assert (report["problems"], report["warnings"]) == ([], [])
    # and the workspace takes the next write
    run("labeler", "add", "vZ-99", "--vendor", "vendor-z", cwd=labeled_ws)
    assert git(labeled_ws, "status", "--porcelain") == ""


def test_a_retract_killed_after_its_commit_is_completed_without_the_batch_file(
    labeled_ws, run, tmp_path
):
    argv, _subject = writer_retract(run, labeled_ws, tmp_path)
    data = labeled_ws / "datasets/digits/labels" / f"{argv[2]}.parquet"
    assert data.is_file()

    run_killed(labeled_ws, "committed", argv)
    assert data.is_file()  # its removal waits for the commit, which the kill cut short
    run("recover", cwd=labeled_ws)

    # as a retract that ran to its end leaves it: the bytes only in the DVC cache
    assert not data.exists()
    assert git(labeled_ws, "status", "--porcelain", "--ignored", "datasets/digits/labels") == ""
    assert (
        json.loads(run("labels", "show", "digits", "--json", cwd=labeled_ws).stdout)["labels"] == 0
    )


# -- the steps a write journals for after its commit: a kill right after the commit loses none --
def test_an_upgrade_killed_after_its_commit_is_completed_without_the_old_items_file(
    labeled_ws, run, tmp_path
):
    argv, _subject = writer_upgrade(run, labeled_ws, tmp_path)
    old = labeled_ws / "datasets/digits/items.parquet"  # layout 1's items, DVC data
    assert old.is_file()

    run_killed(labeled_ws, "committed", argv)
    assert old.is_file()  # its removal waits for the commit, which the kill cut short
    repaired = json.loads(run("recover", "--json", cwd=labeled_ws).stdout)["repaired"]

    assert "removed datasets/digits/items.parquet" in repaired, repaired
    assert not old.exists()  # as an upgrade that ran to its end leaves it
    assert git(labeled_ws, "status", "--porcelain") == ""


def test_an_items_move_killed_after_its_commit_is_completed_without_the_originals(
    digits_ws, run, tmp_path
):
    whole = digits_ws / "datasets/digits/items"  # tracked as one output: items.dvc
    digits.save_png(20, whole / "d20.png")
    data = (whole / "d20.png").read_bytes()

    run_killed(digits_ws, "committed", ["items", "add", "digits", "datasets/digits/items"])
    assert (whole / "d20.png").is_file()  # the copy is committed, the original not yet gone
    run("recover", cwd=digits_ws)

    assert not (whole / "d20.png").exists()  # moved, as `items add` that ran to its end leaves it
    [copy] = (digits_ws / "datasets/digits/files").glob("*/d20.png")
    assert copy.read_bytes() == data
    assert git(digits_ws, "status", "--porcelain") == ""
    assert run("verify", cwd=digits_ws).stdout.strip() == "ok: no labels yet"


def test_a_guideline_remove_killed_after_its_commit_drops_its_tags_and_folder(workspace, run):
    run("dataset", "remove", "digits", cwd=workspace)
    assert git(workspace, "tag", "-l").split() == ["guideline/digits/v1.0.0"]

    run_killed(workspace, "committed", ["guideline", "remove", "digits"])
    assert git(workspace, "log", "-1", "--format=%s").strip() == "guideline remove: digits"
    assert git(workspace, "tag", "-l").split() == ["guideline/digits/v1.0.0"]  # not yet dropped
    assert (workspace / "guidelines/digits").is_dir()
    repaired = json.loads(run("recover", "--json", cwd=workspace).stdout)["repaired"]

    assert repaired[:2] == ["deleted tag guideline/digits/v1.0.0", "removed guidelines/digits"]
    assert git(workspace, "tag", "-l") == "" and not (workspace / "guidelines/digits").exists()
    assert git(workspace, "status", "--porcelain", "--ignored", "guidelines") == ""
    run("guideline", "new", "digits", "--task", "classification", "--classes", "a,b", cwd=workspace)


def test_recover_reports_a_tag_git_will_not_delete_and_completes_the_rest(
    workspace, run, monkeypatch
):
    from labelspec.errors import VcsError
    from labelspec.vcs.gitrepo import Git

    run("dataset", "remove", "digits", cwd=workspace)
    run_killed(workspace, "committed", ["guideline", "remove", "digits"])

    def refuse(self, name):
        raise VcsError(f"git tag -d failed: cannot lock ref 'refs/tags/{name}'")

    monkeypatch.setattr(Git, "delete_tag", refuse)
    repaired = json.loads(run("recover", "--json", cwd=workspace).stdout)["repaired"]

    assert repaired[0].startswith("could not complete untag guideline/digits/v1.0.0")
    assert "cannot lock ref" in repaired[0]
    assert repaired[1] == "removed guidelines/digits"  # the step after it still ran
    assert not (workspace / "guidelines/digits").exists()
    assert git(workspace, "tag", "-l").split() == ["guideline/digits/v1.0.0"]


def _plan_outputs(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir())


def test_a_relabel_plan_killed_after_its_commit_moves_its_outputs_into_out(
    labeled_ws, run, tmp_path
):
    argv, _subject = writer_plan(run, labeled_ws, tmp_path)
    out = tmp_path / "p"

    run_killed(labeled_ws, "committed", argv)
    [staging] = _plan_outputs(out)  # the committed plan's files, still in the staging folder
    assert staging.startswith(".labelspec-plan-")
    run("recover", cwd=labeled_ws)

    assert _plan_outputs(out) == sorted(PLAN_FILES)
    committed = git(labeled_ws, "show", "--name-only", "--format=", "HEAD").split()
    plan = json.loads((out / "plan.json").read_text())["plan"]
    assert committed == [f"datasets/digits/relabel/{plan}.json"]
    assert (labeled_ws / committed[0]).read_text() == (out / "plan.json").read_text()


def test_a_relabel_plan_killed_before_its_commit_leaves_no_staging_folder(
    labeled_ws, run, tmp_path
):
    argv, _subject = writer_plan(run, labeled_ws, tmp_path)
    out = tmp_path / "p"

    run_killed(labeled_ws, "changed", argv)
    assert len(_plan_outputs(out)) == 1
    run("recover", cwd=labeled_ws)

    assert _plan_outputs(out) == []  # no task files naming a plan the history does not have


def test_recover_refuses_journaled_steps_that_leave_the_workspace(workspace, run, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("the user's")
    elsewhere = tmp_path / ".labelspec-plan-x"  # a staging folder, but its names climb out
    elsewhere.mkdir()
    (elsewhere / "a").write_text("a")
    kept = workspace / "kept.txt"
    kept.write_text("kept")
    after = [
        ["remove", "../outside.txt"],
        ["remove", str(outside)],
        ["rmtree", ".git"],
        ["rmtree", "."],
        ["move", str(tmp_path), "outside.txt"],  # not a staging folder
        ["move", str(elsewhere), "../a"],
        ["launch", "kept.txt"],
        5,  # not a step at all
    ]
    journal = {"message": "x", "head": head(workspace), "state": "committed"}
    journal |= {"commit": head(workspace), "after": after}
    (workspace / ".labelspec/journal.json").write_text(json.dumps(journal))

    repaired = json.loads(run("recover", "--json", cwd=workspace).stdout)["repaired"]

    assert repaired == [
        "refused to remove ../outside.txt: it is not inside the workspace",
        f"refused to remove {outside}: it is not inside the workspace",
        "refused to remove .git: it is not inside the workspace",
        "refused to remove .: it is not inside the workspace",
        f"refused the journaled step {after[4]!r}: not one labelspec writes",
        f"refused the journaled step {after[5]!r}: not one labelspec writes",
        f"refused the journaled step {after[6]!r}: not one labelspec writes",
        "refused the journaled step ['unreadable', '5']: not one labelspec writes",
        "completed the interrupted write 'x'",
    ]
    assert outside.read_text() == "the user's" and (elsewhere / "a").is_file()
    assert (workspace / ".git/HEAD").is_file() and kept.is_file()


def test_a_journal_from_before_typed_steps_still_loads(tmp_path):
    path = tmp_path / "journal.json"
    old = {"message": "m", "head": None, "state": "committed", "remove_after": ["d/b.parquet"]}
    path.write_text(json.dumps(old))

    assert Journal.load(path).after == [["remove", "d/b.parquet"]]


def test_the_next_write_recovers_by_itself(labeled_ws, run, tmp_path):
    argv, _ = writer_import(run, labeled_ws, tmp_path)
    run_killed(labeled_ws, "git-locked", argv)
    assert (labeled_ws / ".git/index.lock").exists()

    out = json.loads(run(*argv, "--json", cwd=labeled_ws).stdout)

    assert out["labels"] == 5
    shown = json.loads(run("labels", "show", "digits", "--json", cwd=labeled_ws).stdout)
    assert shown["labels"] == 25
    assert len(list((labeled_ws / "datasets/digits/labels").glob("*.parquet"))) == 2
    assert git(labeled_ws, "status", "--porcelain") == ""


def _killed_with_a_temporary_batch(run, root: Path, tmp: Path) -> tuple[list[str], dict]:
    argv, _ = writer_import(run, root, tmp)
    before = state(root, cache=False)
    run_killed(root, "batch-tmp", argv)
    [leftover] = (root / "datasets/digits/labels").glob(".b-*.parquet.*.tmp")
    assert git(root, "status", "--porcelain").strip() == f"?? {leftover.relative_to(root)}"
    return argv, before


def test_recover_removes_the_temporary_batch_of_a_killed_import(labeled_ws, run, tmp_path):
    _argv, before = _killed_with_a_temporary_batch(run, labeled_ws, tmp_path)

    repaired = json.loads(run("recover", "--json", cwd=labeled_ws).stdout)["repaired"]

    assert any(r.startswith("removed datasets/digits/labels/.b-") for r in repaired), repaired
    assert repaired[-1].startswith("rolled back the interrupted write"), repaired
    assert git(labeled_ws, "status", "--porcelain") == ""
    assert state(labeled_ws, cache=False) == before
    assert list((labeled_ws / "datasets/digits/labels").glob(".*tmp")) == []


def test_the_next_write_removes_the_temporary_batch_of_a_killed_import(labeled_ws, run, tmp_path):
    argv, _ = _killed_with_a_temporary_batch(run, labeled_ws, tmp_path)

    out = json.loads(run(*argv, "--json", cwd=labeled_ws).stdout)

    assert out["labels"] == 5
    assert git(labeled_ws, "status", "--porcelain") == ""
    assert list((labeled_ws / "datasets/digits/labels").glob(".*tmp")) == []
    assert len(list((labeled_ws / "datasets/digits/labels").glob("*.parquet"))) == 2


@pytest.mark.parametrize(
    ("name", "becomes"),
    [
        (".b-20260201T100000Z-0a1b2c3d.parquet.k3j9_x.tmp", "b-20260201T100000Z-0a1b2c3d.parquet"),
        (".spec.yaml.labelspec-tmp", "spec.yaml"),
        ("..gitignore.ab12.tmp", ".gitignore"),
        (".x.tmp", None),  # no random part: not a temporary file labelspec writes
        ("b.parquet.tmp", None),
        ("roster.jsonl", None),
    ],
)
def test_a_temporary_file_is_known_by_the_file_it_was_to_become(name, becomes):
    assert _temporary_of(name) == becomes


def test_an_error_after_the_commit_takes_the_commit_back(labeled_ws, run):
    hook = labeled_ws / ".git" / "hooks" / "reference-transaction"
    hook.write_text(
        "#!/bin/sh\n"
        '[ "$1" = prepared ] || exit 0\n'
        "while read old new ref; do\n"
        '  case "$ref" in refs/tags/*) echo "tags are frozen" >&2; exit 1;; esac\n'
        "done\n"
    )
    hook.chmod(0o755)
    _release_edit(labeled_ws)
    before = state(labeled_ws, cache=False)

    result = run("guideline", "release", "digits", "--bump", "minor", cwd=labeled_ws, expect=6)

    assert "tags are frozen" in result.stderr
    assert state(labeled_ws, cache=False) == before


def test_two_imports_started_at_once_both_land(labeled_ws, run, tmp_path):
    later = {
        "created_at": "2026-02-03T10:00:00Z"
    }  # new labels, not a re-export of the first import
    first = write_jsonl(tmp_path / "first.jsonl", digit_rows(range(0, 5), **later))
    second = write_jsonl(tmp_path / "second.jsonl", digit_rows(range(5, 12), **later))
    argv = ["labels", "import", "digits", "--format", "jsonl", "--guideline", "digits@1.0.0"]

    children = [
        child(labeled_ws, "slow", [*argv, "--source", "vendor-y", str(path)])
        for path in (first, second)
    ]
    outputs = [c.communicate(timeout=120) for c in children]

    assert [c.returncode for c in children] == [0, 0], outputs
    rows = json.loads(run("labels", "log", "digits", "--json", cwd=labeled_ws).stdout)
    assert sorted(r["labels"] for r in rows) == [5, 7, 20]
    assert len({r["commit"] for r in rows}) == 3
    shown = json.loads(run("labels", "show", "digits", "--json", cwd=labeled_ws).stdout)
    assert shown["labels"] == 20 + 5 + 7
    assert json.loads(run("verify", "--json", cwd=labeled_ws).stdout)["warnings"] == []
    assert git(labeled_ws, "status", "--porcelain") == ""
