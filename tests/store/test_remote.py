"""`labelspec push` / `pull`: a fresh `git clone` plus `labelspec pull` restores every revision."""

from __future__ import annotations

import json

from tests.helpers import git, head
from tests.store.conftest import digit_rows, write_jsonl


def test_a_fresh_clone_has_every_revision_after_pull(labeled_ws, run, tmp_path):
    more = write_jsonl(tmp_path / "more.jsonl", digit_rows(range(5)))
    run(
        "labels", "import", "digits", str(more), "--format", "jsonl",
        "--guideline", "digits@1.0.0", "--source", "vendor-c", cwd=labeled_ws,
    )  # fmt: skip
    remote = (labeled_ws / ".dvc/config.local").read_text()

    pushed = json.loads(run("push", "--json", cwd=labeled_ws).stdout)

    assert pushed["remote"] == "storage"
    assert pushed["pushed"] > 0
    assert pushed["git_pushed"] is False  # no git remote: only the data moved
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(labeled_ws), str(clone))
    (clone / ".dvc/config.local").write_text(remote)  # the same remote, as a teammate sets it up
    assert not list((clone / "datasets/digits/labels").glob("*.parquet"))

    before = run("verify", cwd=clone, expect=5)
    assert "run `labelspec pull`" in before.stdout
    missing = run("labels", "show", "digits", cwd=clone, expect=3)
    assert missing.stderr.startswith(
        "Error: 1 item manifest file(s) are neither in the workspace nor in the DVC cache"
    )
    assert missing.stderr.strip().endswith("run `labelspec pull`")

    pulled = json.loads(run("pull", "--json", cwd=clone).stdout)

    assert pulled["pulled"] > 0
    assert pulled["verify"]["ok"] is True
    assert run("verify", cwd=clone).stdout.strip() == "ok: digits: 2 batches, 25 labels"
    for revision, labels in (("HEAD~1", 20), ("HEAD", 25)):
        shown = json.loads(
            run("labels", "show", "digits", "--snapshot", revision, "--json", cwd=clone).stdout
        )
        assert shown["labels"] == labels
    assert head(clone) == head(labeled_ws)
    items = json.loads(run("items", "list", "digits", "--json", cwd=clone).stdout)
    assert items["total"] == 20
    assert git(clone, "status", "--porcelain") == ""


def test_push_without_a_configured_remote_says_how_to_add_one(labeled_ws, run):
    (labeled_ws / ".dvc/config.local").unlink()
    config = labeled_ws / ".dvc/config"
    config.write_text(config.read_text().split("['remote")[0].replace("remote = storage", ""))

    result = run("push", cwd=labeled_ws, expect=3)

    assert result.stderr.strip() == (
        "Error: DVC remote 'storage' (labelspec.yaml remote.name) is not configured; "
        "add it with `dvc remote add -d storage URL`"
    )
