"""What `site build` / `site publish` / `demo` must never do: empty a folder of the workspace
or of the user, drop published versions, commit the site into the workspace's history, show a
picture from another host (QA stop 36: H1, H2, L2, L7, L13, L14)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from labelspec.errors import InputError
from labelspec.site.safe import clean_html, remote_pictures


@pytest.fixture
def site_workspace(released_workspace: Path, tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(released_workspace, root, symlinks=True)
    return root


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` and the digest of its bytes."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def git(cwd: Path, *args: str, check: bool = True) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=check, capture_output=True, text=True)
    return done.stdout.strip()


# -- H1: --out is emptied first ----------------------------------------------------------------------
@pytest.mark.parametrize("out", [".git", "labelers", "datasets", "guidelines/digits", ".", ".."])
def test_build_refuses_a_folder_of_the_workspace_and_touches_nothing(
    site_workspace: Path, run, out: str
):
    before = {name: snapshot(site_workspace / name) for name in (".git", "labelers", "datasets")}
    before["guidelines"] = snapshot(site_workspace / "guidelines")
    result = run("site", "build", "--out", out, cwd=site_workspace, expect=1)
    assert f"--out {(site_workspace / out).resolve()}" in result.stderr
    assert "the site did not build" not in result.stderr  # refused before mkdocs ran
    after = {name: snapshot(site_workspace / name) for name in before}
    assert after == before
    assert len(before[".git"]) > 10 and "roster.jsonl" in before["labelers"]


def test_publish_refuses_a_folder_of_the_workspace(site_workspace: Path, run):
    before = snapshot(site_workspace / "guidelines")
    for folder in ("guidelines", "labelers/site"):
        result = run(
            "site",
            "publish",
            "digits",
            "--folder",
            folder,
            "--no-branch",
            cwd=site_workspace,
            expect=1,
        )
        assert f"--folder {(site_workspace / folder).resolve()}" in result.stderr
    assert snapshot(site_workspace / "guidelines") == before
    assert not (site_workspace / "labelers/site").exists()
    assert git(site_workspace, "status", "--porcelain") == ""


def test_build_refuses_a_folder_holding_tracked_files_even_with_force(site_workspace: Path, run):
    notes = site_workspace / "notes"
    notes.mkdir()
    (notes / "plan.md").write_text("keep me\n")
    git(site_workspace, "add", "notes")
    git(site_workspace, "commit", "-qm", "notes")
    result = run("site", "build", "--out", "notes", "--force", cwd=site_workspace, expect=1)
    assert "1 file(s) tracked by git (e.g. plan.md)" in result.stderr
    assert (notes / "plan.md").read_text() == "keep me\n"


def test_a_committed_previous_build_is_rebuilt(site_workspace: Path, run):
    # GitHub Pages "from /docs": the built site is committed, and rebuilt on every release
    run("site", "build", "--out", "pub", cwd=site_workspace)
    git(site_workspace, "add", "pub")
    git(site_workspace, "commit", "-qm", "the site")
    (site_workspace / "pub/stale.html").write_text("from an older build")
    run("site", "build", "--out", "pub", cwd=site_workspace)
    assert (site_workspace / "pub/.labelspec-site").is_file()
    assert (site_workspace / "pub/digits/index.html").is_file()
    assert not (site_workspace / "pub/stale.html").exists()
    # tracked, but no longer a build of ours: refused again, even with --force
    (site_workspace / "pub/.labelspec-site").unlink()
    (site_workspace / "pub/404.html").unlink()
    result = run("site", "build", "--out", "pub", "--force", cwd=site_workspace, expect=1)
    assert "tracked by git" in result.stderr and "is not a previous site build" in result.stderr
    assert (site_workspace / "pub/digits/index.html").is_file()


def test_a_previous_build_is_rebuilt_and_an_unrelated_folder_needs_force(
    site_workspace: Path, run, tmp_path: Path
):
    out = tmp_path / "site"
    run("site", "build", "--out", str(out), cwd=site_workspace)
    assert (out / ".labelspec-site").is_file()
    (out / "stale.html").write_text("from an older build")
    run("site", "build", "--out", str(out), cwd=site_workspace)
    assert not (out / "stale.html").exists() and (out / "digits/index.html").is_file()
    # a site built before the marker existed: mkdocs' own output says it is a site
    (out / ".labelspec-site").unlink()
    run("site", "build", "--out", str(out), cwd=site_workspace)

    mine = tmp_path / "thesis"
    mine.mkdir()
    (mine / "thesis.tex").write_text("three years of work")
    result = run("site", "build", "--out", str(mine), cwd=site_workspace, expect=1)
    assert (
        "not empty and is not a previous site build" in result.stderr and "--force" in result.stderr
    )
    assert snapshot(mine) == {"thesis.tex": hashlib.sha256(b"three years of work").hexdigest()}
    # only hidden entries (mkdocs' clean spares them): nothing would be deleted
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / ".keep").write_text("")
    run("site", "build", "--out", str(hidden), cwd=site_workspace)
    assert (hidden / ".keep").is_file() and (hidden / "index.html").is_file()

    run("site", "build", "--out", str(mine), "--force", cwd=site_workspace)
    assert not (mine / "thesis.tex").exists() and (mine / "index.html").is_file()


# -- L7: an unknown vendor -----------------------------------------------------------------------------
def test_labelers_page_of_an_unknown_vendor_says_did_you_mean(
    site_workspace: Path, run, tmp_path: Path
):
    run("labeler", "add", "nS-01", "--vendor", "northside", cwd=site_workspace)
    run("labeler", "add", "vA-01", "--vendor", "vendor-a", cwd=site_workspace)
    out = tmp_path / "s"
    result = run(
        "site", "build", "--labelers", "northsid", "--out", str(out), cwd=site_workspace, expect=3
    )
    assert "did you mean 'northside'?" in result.stderr
    assert "vendors: northside, vendor-a" in result.stderr
    assert not out.exists()
    run("site", "build", "--labelers", "northside", "--out", str(out), cwd=site_workspace)


# -- L2: pictures from another host ---------------------------------------------------------------------
def test_remote_pictures_are_found_inline_by_reference_and_not_in_code():
    markdown = (
        "# Guide\n"  # 1
        "![local](img/a.png)\n"  # 2
        "![remote](https://cdn.example/x.png)\n"  # 3
        "`![in a code span](http://x/y.png)`\n"  # 4
        "```\n"  # 5
        "![in a fence](http://x/z.png)\n"  # 6
        "```\n"  # 7
        "![logo][brand] and ![brand]\n"  # 8
        "[brand]: //cdn.example/logo.png\n"  # 9
        "[site](https://example.com) is a link, not a picture\n"  # 10
        "![inline data](data:image/png;base64,AAAA)\n"  # 11
    )
    assert remote_pictures(markdown) == [
        (3, "https://cdn.example/x.png"),
        (8, "//cdn.example/logo.png"),
        (8, "//cdn.example/logo.png"),
        (11, "data:image/png;base64,AAAA"),
    ]


def test_the_build_refuses_a_remote_picture_naming_file_and_line(
    site_workspace: Path, run, tmp_path
):
    guide = site_workspace / "guidelines/digits/docs/index.md"
    lines = guide.read_text().count("\n")
    with guide.open("a") as handle:
        handle.write("\n![remote](https://cdn.evil.example/x.png)\n")
    out = tmp_path / "s"
    result = run("site", "build", "--out", str(out), cwd=site_workspace, expect=1)
    assert (
        f"guidelines/digits/docs/index.md:{lines + 2}: picture https://cdn.evil.example/x.png"
        in result.stderr
    )
    assert not (out / "index.html").exists()


def test_a_lightbox_link_to_another_host_loses_its_address():
    page = (
        '<a class="glightbox" data-type="image" href="https://cdn.evil.example/x.png">'
        '<img alt="r" src="https://cdn.evil.example/x.png"></a>'
        '<a class="glightbox" data-type="image" href="../img/a.png"><img src="../img/a.png"></a>'
        '<a href="https://example.com/">a link</a>'
    )
    cleaned = clean_html(page)
    assert "cdn.evil.example" not in cleaned
    assert cleaned.count('href="../img/a.png"') == 1 and 'href="https://example.com/"' in cleaned


# -- H2 / L13: the site branch ---------------------------------------------------------------------------
def _versions(root: Path, ref: str) -> list[str]:
    data = json.loads(git(root, "show", f"{ref}:digits/versions.json"))
    return [v["version"] for v in data]


@pytest.fixture
def team(site_workspace: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A bare origin holding the workspace and gh-pages with 1.0.0 published (from clone a),
    and a fresh clone ci with only origin/gh-pages."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "--initial-branch=main", str(origin))
    git(site_workspace, "remote", "add", "origin", str(origin))
    git(site_workspace, "push", "-q", "origin", "main", "--tags")
    return origin, site_workspace


def test_publish_in_a_fresh_clone_continues_the_published_versions(team, run, tmp_path: Path):
    from labelspec.vcs import extract_branch

    origin, a = team
    run("site", "publish", "digits", "--version", "1.0.0", cwd=a)
    git(a, "push", "-q", "origin", "gh-pages")
    first = git(a, "rev-parse", "gh-pages")
    ci = tmp_path / "ci"
    git(tmp_path, "clone", "-q", str(origin), str(ci))
    assert git(ci, "branch", "--list", "gh-pages") == ""

    # serve reads the published versions from origin/gh-pages
    start = extract_branch(ci, "gh-pages", tmp_path / "served")
    assert start is not None and start.name == "origin/gh-pages" and start.commit == first
    assert (
        json.loads((tmp_path / "served/digits/versions.json").read_text())[0]["version"] == "1.0.0"
    )

    result = run("site", "publish", "digits", "--version", "1.1.0", cwd=ci)
    assert "continued from origin/gh-pages" in result.stdout
    assert _versions(ci, "gh-pages") == ["1.1.0", "1.0.0"]
    assert git(ci, "rev-parse", "gh-pages^") == first
    git(ci, "push", "-q", "origin", "gh-pages")  # a fast-forward: accepted
    assert _versions(origin, "gh-pages") == ["1.1.0", "1.0.0"]

    # clone a published again meanwhile: its gh-pages and origin's have diverged
    run("site", "publish", "digits", "--version", "1.0.0", cwd=a)
    mine = git(a, "rev-parse", "gh-pages")
    git(a, "fetch", "-q", "origin")
    result = run("site", "publish", "digits", "--version", "1.1.0", cwd=a, expect=4)
    assert "gh-pages and origin/gh-pages have diverged" in result.stderr
    assert "`git branch -f gh-pages origin/gh-pages`" in result.stderr
    assert "`git log --oneline origin/gh-pages..gh-pages`" in result.stderr
    assert "git checkout" not in result.stderr and "git merge" not in result.stderr
    assert git(a, "rev-parse", "gh-pages") == mine
    # after a reset to what was pushed, a publishes on top of it
    git(a, "branch", "-f", "gh-pages", "origin/gh-pages")
    run("site", "publish", "digits", "--version", "1.0.0", cwd=a)
    assert git(a, "rev-parse", "gh-pages^") == git(a, "rev-parse", "origin/gh-pages")


def test_publish_refuses_a_branch_that_holds_the_workspace(site_workspace: Path, run):
    git(site_workspace, "branch", "feature")
    head = git(site_workspace, "rev-parse", "HEAD")
    result = run("site", "publish", "digits", "--branch", "main", cwd=site_workspace, expect=1)
    assert "branch main is the branch checked out in the workspace" in result.stderr
    result = run("site", "publish", "digits", "--branch", "feature", cwd=site_workspace, expect=1)
    assert "branch feature holds the workspace (labelspec.yaml is on it" in result.stderr
    assert "`git branch -D feature`" in result.stderr
    assert git(site_workspace, "rev-parse", "HEAD") == head
    assert git(site_workspace, "rev-parse", "feature") == head
    assert git(site_workspace, "status", "--porcelain") == ""


def test_a_gh_pages_made_from_main_is_refused_naming_it_and_how_to_start_afresh(
    site_workspace: Path, run
):
    git(site_workspace, "branch", "gh-pages")  # what `git checkout -b gh-pages` would make
    head = git(site_workspace, "rev-parse", "HEAD")
    result = run("site", "publish", "digits", cwd=site_workspace, expect=1)  # no --branch given
    assert "branch gh-pages holds the workspace" in result.stderr
    assert "`git branch -D gh-pages`" in result.stderr
    assert "--branch gh-pages" not in result.stderr and "default gh-pages" not in result.stderr
    assert git(site_workspace, "rev-parse", "gh-pages") == head
    # deleted as advised, publish starts it afresh
    git(site_workspace, "branch", "-D", "gh-pages")
    run("site", "publish", "digits", cwd=site_workspace)
    assert git(site_workspace, "cat-file", "-t", "gh-pages:labelspec.yaml", check=False) == ""


def test_a_remote_gh_pages_holding_the_workspace_is_refused_in_a_fresh_clone(
    team, run, tmp_path: Path
):
    origin, a = team
    git(a, "push", "-q", "origin", "main:gh-pages")  # GitHub's "create branch" from main
    pushed = git(origin, "rev-parse", "gh-pages")
    ci = tmp_path / "ci"
    git(tmp_path, "clone", "-q", "-b", "main", str(origin), str(ci))
    result = run("site", "publish", "digits", cwd=ci, expect=1)
    assert "branch origin/gh-pages holds the workspace" in result.stderr
    assert "`git push origin :gh-pages`" in result.stderr
    assert git(ci, "branch", "--list", "gh-pages") == ""  # nothing moved
    assert git(origin, "rev-parse", "gh-pages") == pushed
    assert git(ci, "status", "--porcelain") == ""


# -- L14: the demo replaces only its own folders ----------------------------------------------------------
def test_demo_refuses_folders_it_did_not_make(run, tmp_path: Path):
    from labelspec.demo import output

    out = tmp_path / "projects"
    (out / "workspace").mkdir(parents=True)
    (out / "workspace/thesis.tex").write_text("mine")
    (out / "origin.git").mkdir()
    (out / "origin.git/important").write_text("mine")
    result = run("demo", str(out), "--task", "classification", cwd=tmp_path, expect=1)
    assert "already holds workspace, origin.git, which no labelspec demo made" in result.stderr
    assert (out / "workspace/thesis.tex").read_text() == "mine"
    assert (out / "origin.git/important").read_text() == "mine"
    assert not (out / ".labelspec-demo").exists()

    # a folder a demo made (its marker) is replaced; others are left alone
    demo = tmp_path / "demo"
    output.replace(demo, ("workspace", "streets"))
    (demo / "workspace").mkdir()
    (demo / "workspace/old.txt").write_text("old demo")
    (demo / "unrelated").mkdir()
    output.replace(demo, ("workspace", "streets"))
    assert sorted(p.name for p in demo.iterdir()) == [".labelspec-demo", "unrelated"]

    # a demo from before the marker: its workspace has the demo's .gitignore lines
    older = tmp_path / "older"
    (older / "streets").mkdir(parents=True)
    (older / "streets/labelspec.yaml").write_text("workspace: 2\n")
    (older / "streets/.gitignore").write_text("/site/\n/deliveries/\n/exports/\n/relabel/\n")
    (older / "streets-clones").mkdir()
    output.replace(older, ("streets", "streets-clones"))
    assert sorted(p.name for p in older.iterdir()) == [".labelspec-demo"]
    # ... but a workspace of the user's, with another .gitignore, is kept
    theirs = tmp_path / "theirs"
    (theirs / "workspace").mkdir(parents=True)
    (theirs / "workspace/labelspec.yaml").write_text("workspace: 2\n")
    (theirs / "workspace/.gitignore").write_text("/site/\n")
    with pytest.raises(InputError, match="already holds workspace"):
        output.replace(theirs, ("workspace", "origin.git"))
    assert (theirs / "workspace/labelspec.yaml").is_file()
