"""A team, not one laptop: clones that write at the same time merge with a plain `git pull`.

Two teammates clone one git remote and share one DVC remote (a local folder, or a real
S3-compatible server on 127.0.0.1). Clone A imports a delivery, releases 1.1.0 and merges a
relabel; clone B trains a labeler, imports another delivery and adds a golden version. Both
push; each pulls the other: no conflict, no rejected push after the pull, `verify` clean in A,
B and a fresh clone, and `labels show` equal everywhere and equal to the union.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import use_remote
from tests.helpers import edit, git, head, jsonl
from tests.store.conftest import digit_rows, write_jsonl

GUIDELINE_100 = "digits@1.0.0"


def import_rows(run, root: Path, path: Path, rows, source: str, guideline=GUIDELINE_100) -> dict:
    source_file = write_jsonl(path, rows)
    args = ["labels", "import", "digits", str(source_file), "--format", "jsonl"]
    out = run(*args, "--guideline", guideline, "--source", source, "--json", cwd=root).stdout
    return json.loads(out)


def train(run, root: Path, labeler: str, version: str) -> None:
    args = ["--guideline", "digits", "--version", version, "--method", "quiz", "--score", "1"]
    run("labeler", "train", labeler, *args, "--passed", "--date", "2026-01-20", cwd=root)


def release_110(run, root: Path, definition: str = "at least half the width") -> None:
    edit(
        root,
        (
            "definition: A horizontal top bar joined to a diagonal stroke.",
            f"definition: A top bar {definition}, joined to a diagonal stroke.",
        ),
        (
            "\n\nquality:",
            "\n  - version: unreleased\n    summary: Sevens by the bar\n"
            "    affects: [one, seven]\n    relabel: required\n\nquality:",
        ),
    )
    git(root, "commit", "-q", "-am", "digits: sevens by the bar")
    run("guideline", "release", "digits", "--bump", "minor", "--date", "2026-01-15", cwd=root)


def shown(run, root: Path) -> dict:
    out = json.loads(run("labels", "show", "digits", "--json", cwd=root).stdout)
    return {k: v for k, v in out.items() if k not in ("snapshot", "commit")}


def clone(tmp_path: Path, origin: Path, name: str, remote: dict[str, str]) -> Path:
    root = tmp_path / name
    git(tmp_path, "clone", "-q", str(origin), str(root))
    use_remote(root, remote)
    return root


def make_team(digits_ws: Path, tmp_path: Path, remote: dict[str, str], run):
    """An origin (bare git) seeded from the digits workspace, and two clones."""
    use_remote(digits_ws, remote)
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    git(digits_ws, "remote", "add", "origin", str(origin))
    run("push", cwd=digits_ws)
    a, b = clone(tmp_path, origin, "a", remote), clone(tmp_path, origin, "b", remote)
    run("pull", cwd=a)
    run("pull", cwd=b)
    return origin, a, b


def two_teammates(run, origin: Path, a: Path, b: Path, tmp_path: Path, remote) -> None:
    # A: a delivery, the 1.1.0 release, a relabel merge of two items
    import_rows(run, a, tmp_path / "a.jsonl", digit_rows(range(10)), "vendor-a")
    release_110(run, a)
    train(run, a, "vA-01", "1.1.0")
    run("relabel", "plan", "digits", "--guideline", "digits", "--out", str(tmp_path / "p"), cwd=a)
    plan = json.loads((tmp_path / "p/plan.json").read_text())["plan"]
    answers = write_jsonl(
        tmp_path / "answers.jsonl",
        [{**r, "guideline_version": "1.1.0"} for r in digit_rows([1, 7])],
    )
    run("relabel", "merge", "digits", plan, str(answers), "--format", "jsonl", cwd=a)
    # B, at the same time: trains vB-01, a delivery of its own, a golden version
    train(run, b, "vB-01", "1.0.0")
    import_rows(
        run, b, tmp_path / "b.jsonl", digit_rows(range(10, 20), labeler="vB-01"), "vendor-b"
    )
    golden = write_jsonl(tmp_path / "golden.jsonl", digit_rows(range(5), labeler="expert"))
    run("golden", "add", "digits", str(golden), "--format", "jsonl", "--name", "expert", cwd=b)

    run("push", cwd=a)
    rejected = run("push", cwd=b, expect=6)
    assert "Run `labelspec pull`, then push again" in rejected.stderr
    git(b, "pull", "-q", "--no-rebase", "--no-edit", "origin", "main")  # plain git: no conflict
    assert git(b, "diff", "--name-only", "--diff-filter=U") == ""
    run("pull", cwd=b)  # the data of the merged commit, then verify
    run("push", cwd=b)
    run("pull", cwd=a)
    assert head(a) == head(b)


@pytest.mark.parametrize("kind", ["folder", "s3"])
def test_two_teammates_merge_with_a_plain_git_pull(digits_ws, run, tmp_path, kind, request):
    if kind == "s3":
        remote = request.getfixturevalue("s3_server")("team")
    else:
        (tmp_path / "storage").mkdir()
        remote = {"url": str(tmp_path / "storage")}
    origin, a, b = make_team(digits_ws, tmp_path, remote, run)

    two_teammates(run, origin, a, b, tmp_path, remote)

    fresh = clone(tmp_path, origin, "fresh", remote)
    run("pull", cwd=fresh)
    union = shown(run, a)
    assert (union["labels"], union["superseded_labels"], union["batches"]) == (20, 2, 3)
    assert union["by_labeler"] == {"vA-01": 10, "vB-01": 10}
    assert union["by_guideline_version"] == {"1.0.0": 18, "1.1.0": 2}
    for root in (a, b, fresh):
        assert shown(run, root) == union, root
        report = json.loads(run("verify", "--json", cwd=root).stdout)
        assert (report["ok"], report["warnings"]) == (True, []), report
        assert report["checked"]["digits"]["golden_versions"] == 1
        assert git(root, "status", "--porcelain") == ""
        # both sides' training records, merged line by line
        trained = {(r["labeler"], r["version"]) for r in jsonl(root / "labelers/training.jsonl")}
        assert {("vA-01", "1.1.0"), ("vB-01", "1.0.0")} <= trained
        annotations = json.loads(
            run("trace", "item", "digits", "d07.png", "--json", cwd=root).stdout
        )["annotations"]
        assert len(annotations) == 2  # the vendor's label and the relabel that superseded it
    assert git(a, "tag", "--list", "dataset/*") == ""  # nothing named by a counter


def test_the_same_batch_reaching_a_clone_twice_counts_once(labeled_ws, run, tmp_path):
    base = head(labeled_ws)
    import_rows(run, labeled_ws, tmp_path / "more.jsonl", digit_rows(range(5)), "vendor-c")
    imported = head(labeled_ws)
    git(labeled_ws, "checkout", "-q", "-b", "copy", base)
    git(labeled_ws, "cherry-pick", imported)  # the same batch file, in another commit
    git(labeled_ws, "checkout", "-q", "main")

    git(labeled_ws, "merge", "-q", "--no-edit", "copy")

    assert shown(run, labeled_ws)["labels"] == 25
    assert shown(run, labeled_ws)["batches"] == 2


def test_two_clones_releasing_one_version_differently_fail_verify(digits_ws, run, tmp_path):
    (tmp_path / "storage").mkdir()
    remote = {"url": str(tmp_path / "storage")}
    _origin, a, b = make_team(digits_ws, tmp_path, remote, run)
    release_110(run, a, "at least half the width")
    release_110(run, b, "as long as the stroke")
    train(run, b, "vA-01", "1.1.0")
    import_rows(run, b, tmp_path / "b.jsonl", digit_rows(range(3)), "vendor-a", "digits@1.1.0")
    run("push", cwd=a)
    release_a = git(a, "rev-parse", "guideline/digits/v1.1.0^{commit}").strip()
    release_b = git(b, "rev-parse", "guideline/digits/v1.1.0^{commit}").strip()

    rejected = run("push", cwd=b, expect=6)
    assert "rejected" in rejected.stderr
    # B's teammates merge like code: the spec conflicts, B keeps A's release
    git(b, "fetch", "-q", "origin")
    done = __import__("subprocess").run(
        ["git", "merge", "--no-edit", "origin/main"], cwd=b, capture_output=True, text=True
    )
    assert done.returncode != 0 and "guidelines/digits/spec.yaml" in done.stdout
    git(b, "checkout", "--theirs", "guidelines/digits/spec.yaml")
    git(b, "commit", "-q", "-am", "merge: keep main's 1.1.0")
    git(b, "tag", "-f", "guideline/digits/v1.1.0", release_a)  # the shared tag wins

    problems = json.loads(run("verify", "--json", cwd=b, expect=5).stdout)["problems"]

    [problem] = problems
    assert "3 label(s) of digits 1.1.0 carry digest" in problem
    assert f"tag guideline/digits/v1.1.0 (commit {release_a[:10]})" in problem
    assert f"two different releases of 1.1.0 exist (the other: commit {release_b[:10]})" in problem
    assert "release the other's changes as the next version" in problem


def test_releasing_behind_a_teammates_release_says_to_pull_first(digits_ws, run, tmp_path):
    """B fetched A's 1.1.0 tag but did not merge A's main: B's own minor release would be 1.1.0
    too. Not "bump further" (1.2.0 without A's changes) nor "delete the tag" (A's published
    release): a conflict (exit 4, as the README's exit codes say) naming where it was
    released and to pull first; nothing changed."""
    (tmp_path / "storage").mkdir()
    _origin, a, b = make_team(digits_ws, tmp_path, {"url": str(tmp_path / "storage")}, run)
    release_110(run, a, "at least half the width")
    run("push", cwd=a)
    git(b, "fetch", "-q", "--tags", "origin")
    released = git(b, "rev-parse", "guideline/digits/v1.1.0^{commit}").strip()
    with pytest.raises(AssertionError, match=r"^exit 4"):  # B's edits, then its release
        release_110(run, b, "as long as the stroke")
    before = (head(b), git(b, "status", "--porcelain"), git(b, "tag", "-l"))

    refused = run("guideline", "release", "digits", "--bump", "minor", cwd=b, expect=4)

    assert refused.stderr == (
        "Error: digits 1.1.0 was already released on origin/main (tag guideline/digits/v1.1.0): "
        "`labelspec pull` (or `git pull`), then release your edits as the next version\n"
    )
    assert released[:10] not in refused.stderr
    assert (head(b), git(b, "status", "--porcelain"), git(b, "tag", "-l")) == before


def test_a_teammates_release_on_another_branch_says_which_to_merge(digits_ws, run, tmp_path):
    # A releases 1.1.0 on a feature branch and pushes it; `labelspec pull` would merge main
    # and change nothing, so B is told to merge the branch that holds it
    (tmp_path / "storage").mkdir()
    _origin, a, b = make_team(digits_ws, tmp_path, {"url": str(tmp_path / "storage")}, run)
    git(a, "checkout", "-q", "-b", "feature")
    release_110(run, a)
    git(a, "push", "-q", "origin", "feature", "--tags")
    git(b, "fetch", "-q", "--tags", "origin")
    with pytest.raises(AssertionError, match=r"^exit 4"):
        release_110(run, b, "as long as the stroke")
    refused = run("guideline", "release", "digits", "--bump", "minor", cwd=b, expect=4)
    assert refused.stderr == (
        "Error: digits 1.1.0 was already released on origin/feature (tag "
        "guideline/digits/v1.1.0): merge it (`git merge origin/feature`), then release your "
        "edits as the next version\n"
    )


def test_a_release_undone_by_a_reset_says_the_tag_is_held_by_no_branch(digits_ws, run):
    release_110(run, digits_ws)
    undone = git(digits_ws, "rev-parse", "guideline/digits/v1.1.0^{commit}").strip()
    git(digits_ws, "reset", "-q", "--hard", "HEAD~1")  # the release commit undone, its tag kept
    refused = run("guideline", "release", "digits", "--bump", "minor", cwd=digits_ws, expect=1)
    assert refused.stderr == (
        f"Error: tag guideline/digits/v1.1.0 points at commit {undone[:10]}, which no branch "
        "holds: delete the tag if it was a mistake (`git tag -d guideline/digits/v1.1.0`), or "
        "bump further\n"
    )
    git(digits_ws, "tag", "-d", "guideline/digits/v1.1.0")
    assert "1.1.0" in run("guideline", "release", "digits", "--bump", "minor", cwd=digits_ws).stdout


def test_a_release_off_the_main_branch_warns(workspace, run):
    git(workspace, "checkout", "-q", "-b", "feature")

    edit(
        workspace,
        (
            "\n\nquality:",
            "\n  - version: unreleased\n    summary: Words\n    affects: []\n"
            "    relabel: none\n\nquality:",
        ),
    )
    faq = workspace / "guidelines/digits/docs/faq.md"
    faq.write_text(faq.read_text() + "\nMore words.\n")
    git(workspace, "commit", "-q", "-am", "docs")
    result = run("guideline", "release", "digits", "--bump", "patch", cwd=workspace)

    assert "warning: released on feature, not on main: releases are global names" in result.stderr
