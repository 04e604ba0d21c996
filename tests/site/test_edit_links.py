"""Suggest a change from the page: each page links to the file it is made from on the team's
git host, on the release branch; no remote, no links; a token in a remote URL never shows."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from labelspec.site.edit import web_url
from tests.helpers import git

EDIT = re.compile(r'<a href="([^"]+)" title="Edit this page"[^>]*rel="edit"')


@pytest.fixture
def site_workspace(released_workspace: Path, tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(released_workspace, root, symlinks=True)
    return root


def edit_links(site: Path) -> dict[str, str]:
    """page (its folder in the site) -> the edit link it shows."""
    found = {}
    for page in site.rglob("index.html"):
        match = EDIT.search(page.read_text())
        if match:
            found[page.parent.relative_to(site).as_posix()] = match.group(1)
    return found


def build(run, root: Path, out: Path) -> dict[str, str]:
    run("site", "build", "--out", str(out), cwd=root)
    return edit_links(out)


def test_each_page_links_to_the_file_it_is_made_from(site_workspace, run, tmp_path):
    git(site_workspace, "remote", "add", "origin", "git@github.com:acme/guidelines.git")

    links = build(run, site_workspace, tmp_path / "site")

    spec = "https://github.com/acme/guidelines/edit/main/guidelines/digits/spec.yaml"
    assert links["digits/classes/seven"] == spec
    assert links["digits/rules"] == links["digits"] == links["digits/changes/1.1.0"] == spec
    faq = "https://github.com/acme/guidelines/edit/main/guidelines/digits/docs/faq.md"
    assert links["digits/guide/faq"] == faq
    assert "." not in links  # the home page of every guideline shows no one file


def test_a_token_in_the_remote_never_reaches_a_page(site_workspace, run, tmp_path):
    git(site_workspace, "remote", "add", "origin", "https://bob:s3cr3t@gitlab.com/acme/guides.git")

    out = tmp_path / "site"
    links = build(run, site_workspace, out)

    assert links["digits/rules"] == (
        "https://gitlab.com/acme/guides/-/edit/main/guidelines/digits/spec.yaml"
    )
    leaked = [p for p in out.rglob("*") if p.is_file() and b"s3cr3t" in p.read_bytes()]
    assert leaked == []


@pytest.mark.parametrize("remote", [None, "/srv/git/guidelines.git", "work-github:acme/guides.git"])
def test_without_a_web_remote_no_page_has_an_edit_link(site_workspace, run, tmp_path, remote):
    if remote:
        git(site_workspace, "remote", "add", "origin", remote)

    assert build(run, site_workspace, tmp_path / "site") == {}


def test_repo_url_and_edit_uri_in_mkdocs_yml_win(site_workspace, run, tmp_path):
    git(site_workspace, "remote", "add", "origin", "git@github.com:acme/guidelines.git")
    config = site_workspace / "mkdocs.yml"
    config.write_text(
        config.read_text() + "repo_url: https://git.example.org/team/labels\n"
        "edit_uri: src/branch/review/\n"
    )

    links = build(run, site_workspace, tmp_path / "site")

    assert links["digits/classes/one"] == (
        "https://git.example.org/team/labels/src/branch/review/guidelines/digits/spec.yaml"
    )


def test_a_published_release_links_to_the_release_branch(site_workspace, run, tmp_path):
    git(site_workspace, "remote", "add", "origin", "git@github.com:acme/guidelines.git")
    folder = tmp_path / "published"
    run("site", "publish", "digits", "--version", "1.0.0", "--folder", str(folder),
        "--no-branch", cwd=site_workspace)  # fmt: skip

    links = edit_links(folder / "digits" / "1.0.0")

    assert links["classes/seven"] == (
        "https://github.com/acme/guidelines/edit/main/guidelines/digits/spec.yaml"
    )


@pytest.mark.parametrize(
    ("remote", "web"),
    [
        ("git@github.com:acme/g.git", "https://github.com/acme/g"),
        ("ssh://git@gitlab.com:2222/acme/sub/g.git", "https://gitlab.com/acme/sub/g"),
        ("https://user:token@bitbucket.org/acme/g.git", "https://bitbucket.org/acme/g"),
        ("http://git.lan/acme/g", "http://git.lan/acme/g"),
        ("file:///srv/git/g.git", None),
        ("../g.git", None),
        ("work-github:acme/g.git", None),  # an SSH alias from ~/.ssh/config
    ],
)
def test_a_remote_becomes_its_web_address(remote, web):
    assert web_url(remote) == web
