"""``Git``'s read methods run plain git (and read HEAD and the tags from git's files) instead of
GitPython: each answers what GitPython answered, with loose and packed refs, annotated and
lightweight tags, an unborn branch and a linked worktree."""

from __future__ import annotations

from pathlib import Path

import git as gitpython
import pytest

from labelspec.errors import VcsError
from labelspec.vcs import Git
from tests.helpers import git


def _repo(root: Path) -> Path:
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "t")
    git(root, "config", "user.email", "t@localhost")
    (root / "sub").mkdir()
    (root / "sub" / "a.txt").write_text("one\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "first")
    git(root, "tag", "-a", "guideline/x/v1.0.0", "-m", 'Release 1.0.0\n\n{"k": 1}\n')
    git(root, "tag", "light-1")
    (root / "sub" / "a.txt").write_text("two\n")
    (root / "b.bin").write_bytes(b"\x00\x01\n\n\xff")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "second")
    git(root, "tag", "-a", "guideline/x/v1.1.0", "-m", "one line")
    return root


def _gitpython_view(root: Path) -> dict:
    with gitpython.Repo(root) as repo:
        return {
            "head": repo.head.commit.hexsha,
            "tag_refs": tuple(sorted((t.name, t.object.hexsha) for t in repo.tags)),
            "tags": {
                t.name: (t.commit.hexsha, t.tag.message if t.tag is not None else "")
                for t in repo.tags
            },
        }


def _labelspec_view(root: Path) -> dict:
    with Git(root) as handle:
        return {
            "head": handle.head(),
            "tag_refs": handle.tag_refs(""),
            "tags": {n: (t.commit, t.message) for n, t in handle.tags("").items()},
        }


@pytest.mark.parametrize("packed", [False, True], ids=["loose refs", "packed refs"])
def test_head_and_tags_are_what_gitpython_reads(tmp_path, packed):
    root = _repo(tmp_path / "r")
    if packed:
        git(root, "pack-refs", "--all")
        assert not (root / ".git" / "refs" / "tags" / "light-1").exists()
    mine = _labelspec_view(root)
    assert mine == _gitpython_view(root)
    assert mine["tags"]["guideline/x/v1.0.0"][1] == 'Release 1.0.0\n\n{"k": 1}'
    assert mine["tags"]["light-1"] == (mine["tags"]["guideline/x/v1.0.0"][0], "")
    with Git(root) as handle:
        assert [n for n, _ in handle.tag_refs("guideline/")] == [
            "guideline/x/v1.0.0",
            "guideline/x/v1.1.0",
        ]


def test_a_linked_worktree_reads_its_own_head_and_the_shared_tags(tmp_path):
    root = _repo(tmp_path / "r")
    git(root, "worktree", "add", "-q", "--detach", str(tmp_path / "w"), "HEAD~1")
    mine = _labelspec_view(tmp_path / "w")
    assert mine == _gitpython_view(tmp_path / "w")
    assert mine["head"] == git(root, "rev-parse", "HEAD~1").strip()


def test_files_blobs_revisions_and_an_unborn_branch(tmp_path):
    root = _repo(tmp_path / "r")
    with Git(root / "sub") as handle:  # a folder inside the working tree
        assert handle.top == root.resolve()
        assert handle.read_file("HEAD~1", "a.txt") == b"one\n"
        assert handle.read_file("HEAD", root / "b.bin") == b"\x00\x01\n\n\xff"
        with pytest.raises(VcsError, match="does not exist at HEAD~1"):
            handle.read_file("HEAD~1", root / "b.bin")
        listing = dict(handle.ls_tree("HEAD", root))
        assert sorted(listing) == ["b.bin", "sub/a.txt"]
        assert handle.blobs(list(listing.values())) == {
            listing["b.bin"]: b"\x00\x01\n\n\xff",
            listing["sub/a.txt"]: b"two\n",
        }
        assert handle.rev_parse("guideline/x/v1.0.0") == git(root, "rev-parse", "HEAD~1").strip()
        assert handle.rev_parse("no-such-branch") is None
        with pytest.raises(VcsError, match="not an object"):
            handle.blobs(["0" * 40])
        handle.close()  # ends its `cat-file --batch`; the next read starts another
        assert handle.read_file("HEAD~1", "a.txt") == b"one\n"

    (tmp_path / "empty").mkdir()
    git(tmp_path / "empty", "init", "-q")
    with Git(tmp_path / "empty") as handle:
        assert handle.head() is None
        assert handle.tag_refs("") == ()
    (tmp_path / "plain").mkdir()
    with pytest.raises(VcsError, match="is not a git repository"):
        Git(tmp_path / "plain")


def test_one_handle_sees_a_tag_made_after_it_listed_the_tags(tmp_path):
    root = _repo(tmp_path / "r")
    with Git(root) as handle:
        assert sorted(handle.tags("guideline/")) == ["guideline/x/v1.0.0", "guideline/x/v1.1.0"]
        git(root, "tag", "-a", "guideline/x/v1.2.0", "-m", "later")
        assert handle.tags("guideline/")["guideline/x/v1.2.0"].message == "later"
        git(root, "tag", "-d", "guideline/x/v1.0.0")
        assert sorted(handle.tags("guideline/")) == ["guideline/x/v1.1.0", "guideline/x/v1.2.0"]
