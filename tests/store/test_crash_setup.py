"""The writers outside the store's own verbs go through the one transaction too: `init`, `site
publish` (its gh-pages commit) and `pull` (its merge), each killed at a step by SIGKILL in a
child process (the harness of `test_crash.py`), leave a workspace that `recover` (or the next
run) repairs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import git, head
from tests.store.conftest import digit_rows, write_jsonl
from tests.store.test_crash import run_killed


def repaired(run, root: Path) -> list[str]:
    report = json.loads(run("verify", "--json", cwd=root, expect=5).stdout)
    assert any("interrupted write" in p for p in report["problems"]), report
    return json.loads(run("recover", "--json", cwd=root).stdout)["repaired"]


# -- init ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("point", ["changed", "committed"])
def test_an_init_killed_before_or_after_its_commit_is_finished_by_the_next_init(
    run, tmp_path, point
):
    argv = ["init", "ws", "--template", "detection"]
    run_killed(tmp_path, point, argv)
    root = tmp_path / "ws"
    assert (root / ".labelspec/journal.json").is_file()

    again = run(*argv, cwd=tmp_path, expect=0 if point == "changed" else 4)

    if point == "committed":  # it landed: the next init says so, after completing the tags
        assert "is already a labelspec workspace" in again.stderr
    assert git(root, "log", "--format=%s").splitlines() == ["labelspec init: detection workspace"]
    assert git(root, "tag", "--list").split() == ["guideline/shapes/v1.0.0"]
    assert git(root, "status", "--porcelain") == ""
    assert not (root / ".labelspec/journal.json").exists()
    assert run("verify", cwd=root).stdout.strip() == "ok: no labels yet"
    # the DVC set-up travels in the commit
    assert {".dvc/config", ".dvcignore"} <= set(git(root, "ls-files").split())


def test_an_init_makes_one_commit_and_its_tag_names_the_files_it_wrote(run, tmp_path):
    run("init", "ws", "--template", "detection", cwd=tmp_path)
    root = tmp_path / "ws"

    assert git(root, "rev-list", "--count", "HEAD").strip() == "1"
    assert git(root, "rev-list", "-n1", "guideline/shapes/v1.0.0").strip() == head(root)
    # the release's digest is of the files the commit holds: verify finds no unreleased edit
    assert run("verify", cwd=root).stdout.strip() == "ok: no labels yet"


# -- site publish --------------------------------------------------------------------------------
@pytest.mark.parametrize("point", ["before-branch", "branch-moved"])
def test_a_publish_killed_around_its_branch_update_is_recovered(workspace, run, point):
    run_killed(workspace, point, ["site", "publish", "digits"])

    done = repaired(run, workspace)

    branch = git(workspace, "branch", "--list", "gh-pages").strip()
    if point == "before-branch":
        assert done[-1].startswith("rolled back the interrupted write 'site: publish digits")
        assert branch == ""
    else:
        assert done[-1].startswith("completed the interrupted write 'site: publish digits")
        assert "(branch gh-pages moved)" in done[-1]
        assert "digits/1.0.0/index.html" in git(
            workspace, "ls-tree", "-r", "--name-only", "gh-pages"
        )
    assert git(workspace, "status", "--porcelain") == ""
    run("verify", cwd=workspace)
    published = json.loads(run("site", "publish", "digits", "--json", cwd=workspace).stdout)
    assert published["commit"] == git(workspace, "rev-parse", "gh-pages").strip()


# -- pull ------------------------------------------------------------------------------------------
@pytest.fixture
def diverged(labeled_ws, run, tmp_path):
    """A clone and its origin that both moved: the clone's pull merges."""
    remote = (labeled_ws / ".dvc/config.local").read_text()
    run("push", cwd=labeled_ws)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(labeled_ws), str(clone))
    (clone / ".dvc/config.local").write_text(remote)
    run("pull", cwd=clone)
    more = write_jsonl(
        tmp_path / "more.jsonl", digit_rows(range(5), created_at="2026-03-01T09:00:00Z")
    )
    run(
        "labels", "import", "digits", str(more), "--format", "jsonl",
        "--guideline", "digits@1.0.0", "--source", "vendor-c", cwd=labeled_ws,
    )  # fmt: skip
    run("push", cwd=labeled_ws)
    run("labeler", "add", "vQ-01", "--vendor", "vendor-q", cwd=clone)
    return clone


@pytest.mark.parametrize("point", ["mid-merge", "merged"])
def test_a_pull_killed_mid_merge_or_before_its_data_is_repaired(diverged, run, point):
    clone = diverged
    before = head(clone)

    run_killed(clone, point, ["pull"])

    done = repaired(run, clone)
    if point == "mid-merge":
        assert done[-1].startswith("rolled back the interrupted 'labelspec pull from origin/")
        assert head(clone) == before
        assert not (clone / ".git/MERGE_HEAD").exists()
    else:
        assert done[-1].startswith("completed the interrupted 'labelspec pull from origin/")
        assert "run `labelspec pull` again" in done[-1]
        assert git(clone, "rev-parse", "HEAD~1").strip() == before
    assert git(clone, "status", "--porcelain") == ""
    pulled = json.loads(run("pull", "--json", cwd=clone).stdout)
    assert pulled["verify"]["ok"] is True
    shown = json.loads(run("labels", "show", "digits", "--json", cwd=clone).stdout)
    assert shown["labels"] == 25
