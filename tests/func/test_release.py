"""`guideline release`, `log` and `show` on real git (and DVC) workspaces."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from labelspec.guideline.releases import digest_at, releases, working_digest
from labelspec.workspace import Workspace
from tests.helpers import edit, git, state

SPEC = "guidelines/digits/spec.yaml"
SEVEN_DEFINITION = "definition: A horizontal top bar joined to a diagonal stroke."
NEW_SEVEN_DEFINITION = "definition: A top bar joined to a diagonal stroke, crossed or not."


def commit_all(root: Path, message: str = "edit the guideline") -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


def add_pending(root: Path, summary: str, affects: tuple[str, ...] = (), relabel="none") -> None:
    entry = (
        f"  - version: unreleased\n    summary: {summary}\n"
        f"    affects: [{', '.join(affects)}]\n    relabel: {relabel}\n"
    )
    edit(root, ("\n\nquality:", f"\n{entry}\nquality:"))


def remove_class_zero(root: Path) -> None:
    text = (root / SPEC).read_text()
    start, end = text.index("  - id: zero\n"), text.index("  - id: one\n")
    text = text[:start] + text[end:]
    lines = [line for line in text.splitlines(keepends=True) if "label: zero," not in line]
    (root / SPEC).write_text("".join(lines).replace("[five, zero]", "[five]"))


def rename_zero_to_nought(root: Path) -> None:
    edit(
        root,
        (
            "  - id: zero\n    name: Zero\n",
            "  - id: nought\n    renamed_from: zero\n    name: Zero\n",
        ),
        ("confusable_with: [five, zero]", "confusable_with: [five, nought]"),
        ("label: zero,", "label: nought,"),
        ("decision: zero,", "decision: nought,"),
    )


def tag_record(root: Path, tag: str) -> dict:
    message = git(root, "tag", "-l", "--format=%(contents)", tag)
    return json.loads(message.strip().splitlines()[-1])


def release(run, root: Path, bump: str, *extra: str) -> dict:
    args = ("guideline", "release", "digits", "--bump", bump, "--date", "2026-02-01", "--json")
    return json.loads(run(*args, *extra, cwd=root).stdout)


def clarify_seven(root: Path) -> None:
    edit(root, (SEVEN_DEFINITION, NEW_SEVEN_DEFINITION))
    add_pending(root, "Clarify the seven", ("seven",), "recommended")
    commit_all(root)


# -- the release flow --------------------------------------------------------------------------
def test_release_stamps_version_commits_and_tags(workspace: Path, run):
    clarify_seven(workspace)
    before = git(workspace, "rev-parse", "HEAD").strip()
    result = release(run, workspace, "minor", "-m", "Asked for by vendor A")

    assert result["version"] == "1.1.0" and result["previous"] == "1.0.0"
    assert result["tag"] == "guideline/digits/v1.1.0"
    assert result["diff"]["affects"] == ["seven"] and result["diff"]["relabel"] == "recommended"
    head = git(workspace, "rev-parse", "HEAD").strip()
    assert head == result["commit"] and git(workspace, "rev-parse", f"{head}~1").strip() == before
    assert git(workspace, "rev-list", "-n1", "guideline/digits/v1.1.0").strip() == head
    assert git(workspace, "cat-file", "-t", "guideline/digits/v1.1.0").strip() == "tag"
    message = git(workspace, "log", "-1", "--format=%B")
    assert message.startswith("Release guideline digits v1.1.0: Clarify the seven")
    assert "Asked for by vendor A" in message
    assert git(workspace, "show", "--name-only", "--format=", "HEAD").split() == [SPEC]
    assert git(workspace, "status", "--porcelain") == ""

    text = (workspace / SPEC).read_text()
    assert text.startswith("# The labeling guideline for handwritten digits.\n")
    assert "\nversion: 1.1.0\n" in text
    assert (
        "  - version: 1.1.0\n    date: 2026-02-01\n"
        f"    digest: {result['digest']}\n    summary: Clarify the seven\n"
    ) in text

    record = tag_record(workspace, "guideline/digits/v1.1.0")
    assert record == {
        "guideline": "digits",
        "version": "1.1.0",
        "date": "2026-02-01",
        "digest": result["digest"],
        "summary": "Clarify the seven",
        "affects": ["seven"],
        "relabel": "recommended",
    }
    run("check", cwd=workspace)


def test_human_release_output_names_tag_digest_and_affects(workspace: Path, run):
    clarify_seven(workspace)
    out = run("guideline", "release", "digits", "--bump", "minor", cwd=workspace).stdout
    assert "Released digits v1.1.0 (from 1.0.0)" in out
    assert "guideline/digits/v1.1.0" in out and "sha256:" in out
    assert "affects seven; relabel: recommended" in out


def test_digests_are_identical_in_a_fresh_clone(workspace: Path, tmp_path: Path, run):
    clarify_seven(workspace)
    result = release(run, workspace, "minor")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(workspace), str(clone))

    original, copy = Workspace(workspace), Workspace(clone)
    for tag in ("guideline/digits/v1.0.0", "guideline/digits/v1.1.0"):
        recorded = tag_record(clone, tag)["digest"]
        assert recorded.startswith("sha256:")
        assert digest_at(copy, "digits", tag) == digest_at(original, "digits", tag) == recorded
    assert working_digest(copy, "digits") == working_digest(original, "digits") == result["digest"]
    assert [(r.version, r.digest) for r in releases(copy, "digits")] == [
        (r.version, r.digest) for r in releases(original, "digits")
    ]


def test_digest_follows_the_spec_meaning_and_the_other_files_bytes(workspace: Path):
    ws = Workspace(workspace)
    released = digest_at(ws, "digits", "guideline/digits/v1.0.0")
    assert working_digest(ws, "digits") == released
    edit(workspace, ("title: Handwritten digits\n", "title: Handwritten digits  # shown on top\n"))
    assert working_digest(ws, "digits") == released, "a comment must not change the digest"
    edit(workspace, ("title: Handwritten digits", "title: Handwritten numerals"))
    assert working_digest(ws, "digits") != released
    edit(workspace, ("title: Handwritten numerals", "title: Handwritten digits"))
    faq = workspace / "guidelines/digits/docs/faq.md"
    faq.write_text(faq.read_text() + "\nOne more question.\n")
    assert working_digest(ws, "digits") != released


def dvc(root: Path, *args: str) -> None:
    env = {**os.environ, "DVC_TEST": "1", "DVC_NO_ANALYTICS": "1"}
    subprocess.run([sys.executable, "-m", "dvc", *args], cwd=root, env=env, check=True)


def test_dvc_tracked_examples_count_by_their_recorded_md5(workspace: Path, tmp_path: Path, run):
    git(workspace, "rm", "-r", "-q", "--cached", "guidelines/digits/examples")
    dvc(workspace, "add", "-q", "guidelines/digits/examples")
    add_pending(workspace, "Examples tracked by DVC")
    commit_all(workspace)
    result = release(run, workspace, "patch")
    assert result["version"] == "1.0.1"

    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(workspace), str(clone))
    assert not (clone / "guidelines/digits/examples").exists()
    assert (clone / "guidelines/digits/examples.dvc").is_file()
    copy = Workspace(clone)
    assert digest_at(copy, "digits", result["tag"]) == result["digest"]
    assert working_digest(copy, "digits") == result["digest"]

    examples = workspace / "guidelines/digits/examples"
    (examples / "seven_typical_1.png").write_bytes((examples / "one_typical_1.png").read_bytes())
    dvc(workspace, "add", "-q", "guidelines/digits/examples")
    assert working_digest(Workspace(workspace), "digits") != result["digest"]
    assert digest_at(Workspace(workspace), "digits", result["tag"]) == result["digest"]


# -- refusals --------------------------------------------------------------------------------------
def _nothing(root: Path) -> None:
    pass


def _dirty(root: Path) -> None:
    add_pending(root, "Typo fixes")
    commit_all(root)
    faq = root / "guidelines/digits/docs/faq.md"
    faq.write_text(faq.read_text() + "\nNot committed yet.\n")


def _spec_errors(root: Path) -> None:
    edit(root, ("confusable_with: [one, two]", "confusable_with: [one, eleven]"))
    add_pending(root, "Seven vs eleven", ("seven",))
    commit_all(root)


def _tag_taken(root: Path) -> None:
    add_pending(root, "Typo fixes")
    commit_all(root)
    git(root, "tag", "-a", "guideline/digits/v1.1.0", "-m", "made by hand")


def _definition_changed(root: Path) -> None:
    clarify_seven(root)


def _rule_changed(root: Path) -> None:
    edit(root, ("text: Label the digit the writer intended", "text: Label the digit meant"))
    add_pending(root, "Shorter R1")
    commit_all(root)


def _class_removed(root: Path) -> None:
    remove_class_zero(root)
    add_pending(root, "Zeros go", ("zero",), "required")
    commit_all(root)


def _class_renamed(root: Path) -> None:
    rename_zero_to_nought(root)
    add_pending(root, "Zero is nought", ("zero", "nought"), "required")
    commit_all(root)


REFUSALS = {
    "no pending entry": (
        _nothing,
        "minor",
        ["no pending changelog entry", "`version: unreleased`", "summary", "affects", "relabel"],
        None,
    ),
    "dirty folder": (
        _dirty,
        "patch",
        ["uncommitted changes", "guidelines/digits/docs/faq.md", "commit them first"],
        None,
    ),
    "spec errors": (
        _spec_errors,
        "minor",
        [f"{SPEC} has 1 error(s); fix them first", "'eleven' is not a class id"],
        None,
    ),
    "existing tag": (
        _tag_taken,
        "minor",
        ["tag guideline/digits/v1.1.0 already exists", "bump further"],
        ("major", "2.0.0"),
    ),
    "definition needs minor": (
        _definition_changed,
        "patch",
        ["--bump patch is too small", "definitions changed for: seven", "needs --bump minor"],
        ("minor", "1.1.0"),
    ),
    "rule needs minor": (
        _rule_changed,
        "patch",
        ["--bump patch is too small", "rules changed", "needs --bump minor"],
        ("minor", "1.1.0"),
    ),
    "removed class needs major": (
        _class_removed,
        "minor",
        ["--bump minor is too small", "class(es) removed: zero", "needs --bump major"],
        ("major", "2.0.0"),
    ),
    "renamed class needs major": (
        _class_renamed,
        "minor",
        ["--bump minor is too small", "class(es) renamed: zero -> nought", "needs --bump major"],
        ("major", "2.0.0"),
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_refused_release_says_what_to_do_and_changes_nothing(workspace: Path, run, case):
    prepare, bump, fragments, fix = REFUSALS[case]
    prepare(workspace)
    before = state(workspace)
    result = run("guideline", "release", "digits", "--bump", bump, cwd=workspace, expect=1)
    assert result.stderr.startswith("Error: ") and "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)
    assert state(workspace) == before
    if fix is not None:
        bigger, version = fix
        assert release(run, workspace, bigger)["version"] == version


def test_release_without_bump_says_which_flag_to_give(workspace: Path, run):
    add_pending(workspace, "Typo fixes")
    commit_all(workspace)
    before = state(workspace)
    result = run("guideline", "release", "digits", cwd=workspace, expect=1)
    assert "give --bump major|minor|patch" in result.stderr
    assert state(workspace) == before


def test_tag_current_with_a_date_is_refused_not_ignored(workspace: Path, run):
    # the tag's date is the changelog entry's: a --date beside it would be silently dropped
    before = state(workspace)
    args = ("guideline", "release", "digits", "--tag-current", "--date", "2025-06-01")
    result = run(*args, cwd=workspace, expect=2)
    assert "--date dates a new release; --tag-current tags the version spec.yaml declares" in (
        result.stderr
    )
    assert state(workspace) == before


def test_tag_current_refuses_a_version_already_tagged(workspace: Path, run):
    before = state(workspace)
    result = run("guideline", "release", "digits", "--tag-current", cwd=workspace, expect=1)
    assert "guideline/digits/v1.0.0 already exists" in result.stderr
    assert state(workspace) == before


def test_tag_current_retags_an_untagged_version_with_the_same_digest(workspace: Path, run):
    recorded = tag_record(workspace, "guideline/digits/v1.0.0")
    git(workspace, "tag", "-d", "guideline/digits/v1.0.0")
    out = run("guideline", "release", "digits", "--tag-current", "--json", cwd=workspace).stdout
    assert json.loads(out)["digest"] == recorded["digest"]
    assert tag_record(workspace, "guideline/digits/v1.0.0") == recorded


def test_an_untagged_declared_version_is_released_from(workspace: Path, run):
    git(workspace, "tag", "-d", "guideline/digits/v1.0.0")
    clarify_seven(workspace)
    out = run("guideline", "release", "digits", "--bump", "minor", "--json", cwd=workspace)
    result = json.loads(out.stdout)
    assert (result["version"], result["previous"]) == ("1.1.0", None)
    assert result["warnings"] == [
        "version 1.0.0 was never tagged, so labels and training cannot name it; 1.1.0 is released "
        "from it (the bump not checked against any release)"
    ]
    assert [r.version for r in releases(Workspace(workspace), "digits")] == ["1.1.0"]


# -- every honest starting point ends in a release ---------------------------------------------------
def hand_written(root: Path, name: str = "cats") -> None:
    """A guideline written by hand: it declares 1.0.0 with its changelog entry, was never
    tagged, and already has a pending entry for the next change."""
    folder = root / "guidelines" / name
    shutil.copytree(root / "guidelines/digits", folder)
    entry = "  - version: unreleased\n    summary: Clearer sevens\n    affects: [seven]\n    relabel: none\n"
    text = (folder / "spec.yaml").read_text().replace("guideline: digits", f"guideline: {name}")
    (folder / "spec.yaml").write_text(text.replace("\n\nquality:", f"\n{entry}\nquality:"))
    commit_all(root, f"a hand-written {name} guideline")


def _untagged_without_pending(root: Path) -> None:
    git(root, "tag", "-d", "guideline/digits/v1.0.0")


def _untagged_with_pending(root: Path) -> None:
    git(root, "tag", "-d", "guideline/digits/v1.0.0")
    clarify_seven(root)


def _never_released(root: Path) -> None:
    git(root, "tag", "-d", "guideline/digits/v1.0.0")
    edit(root, ("version: 1.0.0\nowners", "version: 0.0.0\nowners"))
    text = (root / SPEC).read_text()
    start = text.index("  - version: 1.0.0\n")
    end = text.index("\nquality:")
    (root / SPEC).write_text(
        text[:start]
        + "  - version: unreleased\n    summary: First\n    affects: []\n    relabel: none\n"
        + text[end:]
    )
    commit_all(root)


def _declared_above_the_newest_tag(root: Path) -> None:
    """1.0.0 is tagged; the spec says 1.0.1 (with its entry) but 1.0.1 was never tagged."""
    add_pending(root, "Typo fixes")
    text = (
        (root / SPEC)
        .read_text()
        .replace("version: unreleased", "version: 1.0.1\n    date: 2026-01-20")
    )
    (root / SPEC).write_text(text.replace("version: 1.0.0\nowners", "version: 1.0.1\nowners"))
    clarify_seven(root)


STARTS = {
    "tagged, pending entry": (lambda root: clarify_seven(root), "digits", "1.1.0"),
    "tagged, nothing pending": (lambda root: None, "digits", None),
    "untagged, nothing pending": (_untagged_without_pending, "digits", "1.0.0"),
    "untagged, pending entry": (_untagged_with_pending, "digits", "1.1.0"),
    "never released": (_never_released, "digits", "0.1.0"),
    "declared above the newest tag": (_declared_above_the_newest_tag, "digits", "1.1.0"),
    "hand-written guideline": (hand_written, "cats", "1.1.0"),
}
NAMED = re.compile(r"`labelspec (guideline release [^`]+)`")


@pytest.mark.parametrize("start", list(STARTS))
def test_release_works_from_any_honest_starting_point(workspace: Path, run, start):
    """Release; when refused, run the one command the refusal names (a loop would never end)."""
    prepare, name, expected = STARTS[start]
    prepare(workspace)
    args = ["guideline", "release", name, "--bump", "minor"]
    for _attempt in range(3):
        result = run(*args, cwd=workspace, expect=None)
        if result.exit_code == 0:
            break
        assert result.stderr.startswith("Error: "), result.stderr
        named = NAMED.findall(result.stderr)
        if expected is None:  # nothing to release: the refusal says which entry to write
            assert named == [] and "no pending changelog entry: add one" in result.stderr
            return
        assert len(named) == 1, f"a refusal names one action: {result.stderr}"
        args = named[0].replace("major|minor|patch", "minor").split()
    else:
        pytest.fail(f"{start}: still refused after following the refusals")
    assert git(workspace, "tag", "-l", f"guideline/{name}/v{expected}").strip()
    run("check", cwd=workspace)


def test_tag_current_of_a_pending_edit_names_the_release_that_works(workspace: Path, run):
    hand_written(workspace)
    refused = run("guideline", "release", "cats", "--tag-current", cwd=workspace, expect=1)
    assert "so the files are no longer 1.0.0" in refused.stderr
    assert "`labelspec guideline release cats --bump major|minor|patch`" in refused.stderr
    result = json.loads(
        run("guideline", "release", "cats", "--bump", "major", "--json", cwd=workspace).stdout
    )
    assert result["version"] == "2.0.0" and "1.0.0 was never tagged" in result["warnings"][0]


def test_a_failed_tag_undoes_the_release_commit(workspace: Path, run):
    hook = workspace / ".git" / "hooks" / "reference-transaction"
    hook.write_text(
        "#!/bin/sh\n"
        '[ "$1" = prepared ] || exit 0\n'
        "while read old new ref; do\n"
        '  case "$ref" in refs/tags/*) echo "tags are frozen" >&2; exit 1;; esac\n'
        "done\n"
    )
    hook.chmod(0o755)
    clarify_seven(workspace)
    before = state(workspace)
    result = run("guideline", "release", "digits", "--bump", "minor", cwd=workspace, expect=6)
    assert "tags are frozen" in result.stderr
    assert state(workspace) == before
    assert "version: unreleased" in (workspace / SPEC).read_text()


# -- log and show ----------------------------------------------------------------------------------
def test_log_lists_every_entry_newest_first_with_tags_and_digests(workspace: Path, run):
    clarify_seven(workspace)
    result = release(run, workspace, "minor")
    add_pending(workspace, "Next round", ("four",), "required")
    commit_all(workspace)

    rows = json.loads(run("guideline", "log", "digits", "--json", cwd=workspace).stdout)
    assert [r["version"] for r in rows] == ["unreleased", "1.1.0", "1.0.0"]
    pending, newest, first = rows
    assert pending["tag"] is None and pending["digest"] is None and pending["date"] is None
    assert pending["affects"] == ["four"] and pending["relabel"] == "required"
    assert newest == {
        "version": "1.1.0",
        "date": "2026-02-01",
        "summary": "Clarify the seven",
        "affects": ["seven"],
        "relabel": "recommended",
        "digest": result["digest"],
        "tag": "guideline/digits/v1.1.0",
        "commit": result["commit"],
    }
    assert first["tag"] == "guideline/digits/v1.0.0"
    assert first["digest"] == tag_record(workspace, "guideline/digits/v1.0.0")["digest"]

    table = run("guideline", "log", "digits", cwd=workspace).stdout
    assert "Clarify the seven" in table and "untagged" in table and "First release" in table


def test_show_reads_the_released_spec_and_leaves_the_working_tree_alone(workspace: Path, run):
    clarify_seven(workspace)
    release(run, workspace, "minor")
    edit(workspace, ("title: Handwritten digits", "title: Work in progress"))
    before = state(workspace)

    old = run("guideline", "show", "digits@1.0.0", cwd=workspace).stdout
    assert old == git(workspace, "show", f"guideline/digits/v1.0.0:{SPEC}")
    assert SEVEN_DEFINITION in old and "Work in progress" not in old

    new = json.loads(run("guideline", "show", "digits@v1.1.0", "--json", cwd=workspace).stdout)
    assert new["version"] == "1.1.0" and new["title"] == "Handwritten digits"
    seven = next(c for c in new["classes"] if c["id"] == "seven")
    assert seven["definition"] == NEW_SEVEN_DEFINITION.removeprefix("definition: ")

    newest = run("guideline", "show", "digits", cwd=workspace).stdout
    assert "\nversion: 1.1.0\n" in newest and "Work in progress" not in newest
    assert state(workspace) == before


def test_show_an_unknown_version_lists_the_released_ones(workspace: Path, run):
    result = run("guideline", "show", "digits@9.9.9", cwd=workspace, expect=3)
    assert "guideline 'digits' has no release 9.9.9 (released: 1.0.0)" in result.stderr


# -- the first release needs no --bump ------------------------------------------------------------
def _hand_written_as_declared(root: Path) -> None:
    """A spec written by hand that declares 1.0.0 with its entry and nothing pending."""
    folder = root / "guidelines/cats"
    shutil.copytree(root / "guidelines/digits", folder)
    text = (folder / "spec.yaml").read_text().replace("guideline: digits", "guideline: cats")
    (folder / "spec.yaml").write_text(text)
    commit_all(root, "a hand-written cats guideline")


FIRST = {
    # start: (prepare, guideline, version released, or a fragment of the refusal)
    "never released": (_never_released, "digits", "1.0.0"),
    "declared, untagged, nothing pending": (_untagged_without_pending, "digits", "1.0.0"),
    "hand-written as declared": (_hand_written_as_declared, "cats", "1.0.0"),
    "hand-written with a pending entry": (
        hand_written,
        "cats",
        "give --bump major|minor|patch: cats declares 1.0.0, never tagged, and has a pending "
        "entry, so this release is 1.0.0 bumped: `labelspec guideline release cats --bump "
        "major|minor|patch`",
    ),
    "released before": (
        clarify_seven,
        "digits",
        "give --bump major|minor|patch: digits 1.0.0 is released, and this change needs at "
        "least --bump minor (definitions changed for: seven)",
    ),
    "released, nothing pending": (
        lambda root: None,
        "digits",
        "digits has no pending changelog entry: add one",
    ),
}


@pytest.mark.parametrize("start", list(FIRST))
def test_release_without_bump_makes_a_first_release_and_only_that(workspace: Path, run, start):
    prepare, name, expected = FIRST[start]
    prepare(workspace)
    before = state(workspace)
    result = run("guideline", "release", name, "--json", cwd=workspace, expect=None)
    if not expected[0].isdigit():
        assert result.exit_code == 1 and expected in result.stderr, result.stderr
        assert state(workspace) == before
        return
    assert result.exit_code == 0, result.stderr
    released = json.loads(result.stdout)
    assert (released["version"], released["previous"]) == (expected, None)
    tag = f"guideline/{name}/v{expected}"
    assert released["tag"] == tag and tag_record(workspace, tag)["digest"] == released["digest"]
    assert released["digest"] == working_digest(Workspace(workspace), name)
    assert git(workspace, "rev-list", "-n1", tag).strip() == released["commit"]
    run("check", cwd=workspace)


def test_a_first_release_tagged_as_declared_commits_nothing(workspace: Path, run):
    _untagged_without_pending(workspace)
    before = git(workspace, "rev-parse", "HEAD").strip()
    out = run("guideline", "release", "digits", cwd=workspace).stdout
    assert out.startswith("Released digits v1.0.0\n")
    assert git(workspace, "rev-parse", "HEAD").strip() == before
    assert git(workspace, "rev-list", "-n1", "guideline/digits/v1.0.0").strip() == before


def test_tag_current_of_a_never_released_guideline_names_its_first_release(workspace: Path, run):
    _never_released(workspace)
    before = state(workspace)
    result = run("guideline", "release", "digits", "--tag-current", cwd=workspace, expect=1)
    assert (
        "digits has never been released, so there is no version to tag: make its first release, "
        "1.0.0, with `labelspec guideline release digits`" in result.stderr
    )
    assert state(workspace) == before


def test_a_redrawn_positive_answer_cannot_be_a_patch_and_affects_its_class(make_workspace, run):
    # QA 36 M7: the positive example's drawn answer tells labelers how to box (quizzes grade on it)
    root = make_workspace("detection")
    shapes = "guidelines/shapes/spec.yaml"
    edit(
        root,
        (
            '- {image: examples/circle_big.png, why: "A full',
            "- {image: examples/circle_big.png, boxes: [{class: circle, x: 2, y: 2, w: 40, h: 40, "
            'attributes: {occluded: false}}], why: "A full',
        ),
        ("    relabel: none\n", "    relabel: none\n  - version: unreleased\n    summary: boxed\n"),
        spec=shapes,
    )
    run("check", cwd=root)
    commit_all(root)
    before = state(root)
    result = run("guideline", "release", "shapes", "--bump", "patch", cwd=root, expect=1)
    assert (
        "--bump patch is too small: the drawn answer of a positive example changed for: circle; "
        "this release needs --bump minor"
    ) in result.stderr
    assert state(root) == before
    run("guideline", "release", "shapes", "--bump", "minor", cwd=root)
    change = json.loads(
        run("guideline", "diff", "shapes", "1.0.0", "1.1.0", "--json", cwd=root).stdout
    )
    assert change["affects_detected"] == ["circle"] and change["required_bump"] == "minor"


def test_a_global_rule_released_with_empty_affects_is_warned_about(workspace: Path, run):
    # QA 36 L10: R1 of digits has neither applies_to nor where
    edit(
        workspace,
        (
            "Label the digit the writer intended, not the closest shape.",
            "Label the digit the writer intended, even when it is badly drawn.",
        ),
    )
    add_pending(workspace, "R1 reworded")
    commit_all(workspace)
    result = run("guideline", "release", "digits", "--bump", "minor", cwd=workspace)
    assert (
        "warning: global rule R1 changed and `affects` is empty: no labeler will be retrained"
    ) in result.stderr


def test_a_release_date_is_neither_in_the_future_nor_before_the_previous_release(
    workspace: Path, run
):
    # QA 36 L8: --date 2099-01-01 was released; `labeler train --date` refuses the same date
    clarify_seven(workspace)
    before = state(workspace)
    today = dt.date.today()
    args = ("guideline", "release", "digits", "--bump", "minor", "--date")
    future = run(*args, "2099-01-01", cwd=workspace, expect=1)
    assert future.stderr == (
        f"Error: --date 2099-01-01 is in the future (today is {today}): a release is dated the "
        "day its version took effect; release it then\n"
    )
    # 1.0.0 is dated 2026-01-15 in the template's changelog
    earlier = run(*args, "2026-01-14", cwd=workspace, expect=1)
    assert earlier.stderr == (
        "Error: --date 2026-01-14 is before digits 1.0.0 was released (2026-01-15); date the "
        "release on or after it\n"
    )
    assert state(workspace) == before
    out = json.loads(run(*args, "2026-01-15", "--json", cwd=workspace).stdout)
    assert (out["version"], tag_record(workspace, "guideline/digits/v1.1.0")["date"]) == (
        "1.1.0",
        "2026-01-15",
    )
