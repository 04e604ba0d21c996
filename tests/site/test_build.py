"""Building and publishing the instruction site: offline, strict, escaped, versioned."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from html import unescape
from pathlib import Path

import git
import pytest

from tests.site.conftest import NEW_SEVEN, OLD_SEVEN, R4

RESOURCE_ATTR = re.compile(
    r"<(?:script|img|link|source|iframe|video|audio|embed)\b[^>]*\b(?:src|href|srcset)=[\"']?(https?:)?//",
    re.I,
)
CSS_EXTERNAL = re.compile(
    r"url\(\s*[\"']?(?:https?:)?//|@import\s+[\"']?(?:url\()?[\"']?(?:https?:)?//", re.I
)
JS_COMMENT = re.compile(
    r"/\*.*?\*/|(?:^|(?<=\s))//[^\n]*", re.S
)  # source links in comments load nothing
JS_EXTERNAL = re.compile(
    r"https?://[^\s\"'`)]+\.(?:js|mjs|css|woff2?|ttf|otf)\b|https?://(?:unpkg\.com|cdn\.|fonts\.googleapis|fonts\.gstatic|api\.github\.com)",
    re.I,
)


@pytest.fixture
def site_workspace(released_workspace: Path, tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(released_workspace, root, symlinks=True)
    return root


def test_the_built_site_references_nothing_on_other_hosts(
    site_workspace: Path, run, tmp_path: Path
):
    out = tmp_path / "site"
    run("site", "build", "--out", str(out), cwd=site_workspace)
    offenders = []
    for path in out.rglob("*"):
        if path.suffix == ".html":
            offenders += [
                f"{path}: {m.group(0)}"
                for m in RESOURCE_ATTR.finditer(path.read_text(errors="replace"))
            ]
        elif path.suffix == ".css":
            offenders += [
                f"{path}: {m.group(0)}"
                for m in CSS_EXTERNAL.finditer(path.read_text(errors="replace"))
            ]
        elif path.suffix == ".js":
            code = JS_COMMENT.sub("", path.read_text(errors="replace"))
            offenders += [f"{path}: {m.group(0)}" for m in JS_EXTERNAL.finditer(code)]
    assert offenders == []
    assert (out / "search" / "search_index.json").is_file(), "search must be a local index"
    html = (out / "digits/classes/seven/index.html").read_text()
    assert "fonts.googleapis" not in html and NEW_SEVEN in unescape(html)


def test_every_page_kind_is_rendered(site_workspace: Path, run, tmp_path: Path):
    out = tmp_path / "site"
    run("site", "build", "--out", str(out), cwd=site_workspace)
    for page in (
        "index.html",
        "digits/index.html",
        "digits/rules/index.html",
        "digits/print/index.html",
        "digits/decision-tree/index.html",
        "digits/changelog/index.html",
        "digits/changes/1.1.0/index.html",
        "digits/guide/faq/index.html",
        "digits/classes/nine/index.html",
    ):
        assert (out / page).is_file(), page
    assert not (out / "labelers").exists(), "the Labelers page is opt-in"
    tree = (out / "digits/decision-tree/index.html").read_text()
    assert (
        'href="../classes/seven/"' in tree
        and "<script" not in tree.split("<article")[1].split("</article>")[0]
    )
    changes = (out / "digits/changes/1.1.0/index.html").read_text()
    assert "What changed in 1.1.0" in changes and 'href="../../classes/seven/"' in changes
    seven = (out / "digits/classes/seven/index.html").read_text()
    assert 'class="glightbox"' in seven and "../../examples/seven_typical_1.png" in seven
    assert (out / "digits/examples/seven_typical_1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_missing_example_fails_the_build_with_the_spec_line(
    site_workspace: Path, run, tmp_path: Path
):
    (site_workspace / "guidelines/digits/examples/four_like_nine.png").unlink()
    spec = (site_workspace / "guidelines/digits/spec.yaml").read_text().splitlines()
    line = next(i for i, text in enumerate(spec, 1) if "four_like_nine.png" in text)
    result = run("site", "build", "--out", str(tmp_path / "site"), cwd=site_workspace, expect=1)
    assert f"guidelines/digits/spec.yaml:{line}:" in result.stderr
    assert "file not found: examples/four_like_nine.png" in result.stderr
    assert not (tmp_path / "site" / "index.html").exists()


def test_plain_mkdocs_build_strict_uses_the_plugin(site_workspace: Path, tmp_path: Path):
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "mkdocs"),
            "build",
            "--strict",
            "--site-dir",
            str(tmp_path / "out"),
        ],
        cwd=site_workspace,
        capture_output=True,
        text=True,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out/digits/classes/one/index.html").is_file()


def test_strings_from_the_spec_are_escaped(site_workspace: Path, run, tmp_path: Path):
    spec = site_workspace / "guidelines/digits/spec.yaml"
    spec.write_text(
        spec.read_text().replace(
            "definition: Two closed loops stacked, touching in the middle.",
            'definition: "<script>alert(1)</script> loops <b>bold</b>"',
        )
    )
    out = tmp_path / "site"
    run("site", "build", "--out", str(out), cwd=site_workspace)
    html = (out / "digits/classes/eight/index.html").read_text()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def _labeler_rows(page: Path) -> list[str]:
    return re.findall(r"<tr>(.*?)</tr>", page.read_text(), re.S)[1:]


def test_the_labelers_page_is_opt_in_and_can_show_one_vendor(
    site_workspace: Path, run, tmp_path: Path
):
    run("labeler", "add", "vA-01", "--vendor", "vendor-a", cwd=site_workspace)
    run("labeler", "add", "vB-01", "--vendor", "vendor-b", cwd=site_workspace)
    run(
        "labeler",
        "train",
        "vA-01",
        "--guideline",
        "digits",
        "--version",
        "1.0.0",
        "--method",
        "session",
        "--score",
        "0.9",
        "--passed",
        cwd=site_workspace,
    )
    run("site", "build", "--out", str(tmp_path / "none"), cwd=site_workspace)
    assert not (tmp_path / "none/labelers").exists()
    assert "vA-01" not in (tmp_path / "none/index.html").read_text()

    run("site", "build", "--labelers", "all", "--out", str(tmp_path / "all"), cwd=site_workspace)
    rows = _labeler_rows(tmp_path / "all/labelers/index.html")
    row_a = next(r for r in rows if "vA-01" in r)
    row_b = next(r for r in rows if "vB-01" in r)
    assert "1.0.0" in row_a and "retrain" in row_a
    assert "train" in row_b and "1.0.0" not in row_b

    run("site", "build", "--labelers", "vendor-b", "--out", str(tmp_path / "b"), cwd=site_workspace)
    page = (tmp_path / "b/labelers/index.html").read_text()
    assert "Labelers of vendor-b" in page
    assert [
        ("vB-01" in r, "vA-01" in r) for r in _labeler_rows(tmp_path / "b/labelers/index.html")
    ] == [(True, False)]


def _article(path: Path) -> str:
    return path.read_text().split("<article", 1)[1].split("</article>", 1)[0]


def test_pages_of_unreleased_edits_say_they_are_a_draft(site_workspace: Path, run, tmp_path: Path):
    run("site", "build", "--out", str(tmp_path / "released"), cwd=site_workspace)
    assert "Draft" not in _article(tmp_path / "released/digits/index.html")
    assert "version 1.1.0" in _article(tmp_path / "released/digits/index.html")

    spec = site_workspace / "guidelines/digits/spec.yaml"
    spec.write_text(
        spec.read_text().replace("Two closed loops stacked", "Two closed loops, stacked")
    )
    run("site", "build", "--out", str(tmp_path / "edited"), cwd=site_workspace)
    home = _article(tmp_path / "edited/digits/index.html")
    assert "draft after 1.1.0" in home and "version 1.1.0" not in home
    assert "no changelog entry describes yet" in home
    for page in (
        "digits/classes/eight/index.html",
        "digits/rules/index.html",
        "digits/print/index.html",
    ):
        assert "Draft: not a release" in _article(tmp_path / "edited" / page), page

    spec.write_text(
        spec.read_text().replace(
            "\nquality:",
            "\n  - version: unreleased\n    summary: Commas\n    affects: []\n    relabel: none\n\nquality:",
        )
    )
    run("site", "build", "--out", str(tmp_path / "pending"), cwd=site_workspace)
    assert "unreleased changes after 1.1.0 (Commas)" in _article(
        tmp_path / "pending/digits/index.html"
    )


def test_class_pages_give_their_own_rules_and_link_the_general_ones(
    site_workspace: Path, run, tmp_path: Path
):
    out = tmp_path / "site"
    run("site", "build", "--out", str(out), cwd=site_workspace)
    seven, zero = (
        _article(out / "digits/classes/seven/index.html"),
        _article(out / "digits/classes/zero/index.html"),
    )
    assert "Rules for Seven" in seven and unescape(R4) in unescape(seven)
    assert (
        unescape(R4) not in unescape(zero) and "Label the digit the writer intended" in zero
    )  # R1: zero's example cites it
    assert 'href="../../rules/#rule-r2"' in zero, "a general rule is one link away"
    with_r4 = sorted(
        p.parent.relative_to(out).as_posix()
        for p in out.rglob("index.html")
        if "<p>" in p.read_text() and unescape(R4) in unescape(_article(p))
    )
    assert with_r4 == [
        "digits/changes/1.1.0",
        "digits/classes/one",
        "digits/classes/seven",
        "digits/print",
        "digits/rules",
    ]


def test_without_a_site_url_the_sitemap_still_lists_every_page(
    site_workspace: Path, run, tmp_path: Path
):
    out = tmp_path / "site"
    run("site", "build", "--out", str(out), cwd=site_workspace)
    locs = re.findall(r"<loc>(.*?)</loc>", (out / "sitemap.xml").read_text())
    assert "http://localhost/digits/classes/seven/" in locs and "http://localhost/" in locs
    assert len(locs) == sum(1 for _ in out.rglob("index.html"))


def test_a_published_version_gets_its_own_site_url(site_workspace: Path, run, tmp_path: Path):
    config = site_workspace / "mkdocs.yml"
    config.write_text("site_url: https://guides.example.org/\n" + config.read_text())
    run(
        "site",
        "publish",
        "digits",
        "--folder",
        str(tmp_path / "pub"),
        "--no-branch",
        cwd=site_workspace,
    )
    sitemap = (tmp_path / "pub/digits/1.1.0/sitemap.xml").read_text()
    assert "<loc>https://guides.example.org/digits/1.1.0/classes/seven/</loc>" in sitemap


def test_the_print_page_holds_the_whole_release_and_site_pdf_prints_it(
    site_workspace: Path, run, tmp_path: Path
):
    run(
        "site",
        "publish",
        "digits",
        "--folder",
        str(tmp_path / "pub"),
        "--no-branch",
        cwd=site_workspace,
    )
    printed = _article(tmp_path / "pub/digits/1.1.0/print/index.html")
    for text in ("Handwritten digits", "Rules", "Decision tree", "Nine", "Changelog", NEW_SEVEN):
        assert text in unescape(printed), text
    assert 'loading="lazy"' not in printed, "a printer does not scroll: pictures load at once"
    result = json.loads(
        run(
            "site",
            "pdf",
            "digits",
            "--version",
            "1.1.0",
            "--out",
            str(tmp_path / "d.pdf"),
            "--json",
            cwd=site_workspace,
        ).stdout
    )
    data = (tmp_path / "d.pdf").read_bytes()
    assert data.startswith(b"%PDF-") and result["bytes"] == len(data) > 50_000
    assert len(re.findall(rb"/Type\s*/Page\b", data)) >= 5


def test_publish_to_a_branch_and_a_folder(site_workspace: Path, run, tmp_path: Path):
    repo = git.Repo(site_workspace)
    head = repo.head.commit.hexsha
    run("site", "publish", "digits", "--version", "1.0.0", cwd=site_workspace)
    result = run(
        "site", "publish", "digits", "--folder", str(tmp_path / "pub"), "--json", cwd=site_workspace
    )
    info = json.loads(result.stdout)
    assert info["version"] == "1.1.0" and info["branch"] == "gh-pages"
    assert [(v["version"], v["aliases"]) for v in info["versions"]] == [
        ("1.1.0", ["latest"]),
        ("1.0.0", []),
    ]
    tree = {b.path for b in repo.heads["gh-pages"].commit.tree.traverse()}
    assert {
        "digits/versions.json",
        "digits/1.0.0/index.html",
        "digits/1.1.0/classes/seven/index.html",
        "digits/latest/index.html",
        ".nojekyll",
    } <= tree
    assert repo.head.commit.hexsha == head and not repo.is_dirty(untracked_files=True)
    old = (
        (repo.heads["gh-pages"].commit.tree / "digits/1.0.0/classes/seven/index.html")
        .data_stream.read()
        .decode()
    )
    assert OLD_SEVEN in old and NEW_SEVEN not in unescape(old)
    # the folder only got 1.1.0 so far; publishing 1.0.0 there keeps 1.1.0 as latest
    run(
        "site",
        "publish",
        "digits",
        "--version",
        "1.0.0",
        "--folder",
        str(tmp_path / "pub"),
        "--no-branch",
        cwd=site_workspace,
    )
    versions = json.loads((tmp_path / "pub/digits/versions.json").read_text())
    assert [(v["version"], v["aliases"]) for v in versions] == [
        ("1.1.0", ["latest"]),
        ("1.0.0", []),
    ]
    assert NEW_SEVEN in unescape(
        (tmp_path / "pub/digits/latest/classes/seven/index.html").read_text()
    )


def test_publish_reads_the_tag_not_the_working_tree(site_workspace: Path, run, tmp_path: Path):
    spec = site_workspace / "guidelines/digits/spec.yaml"
    spec.write_text(spec.read_text().replace(NEW_SEVEN, "An uncommitted edit."))
    run(
        "site",
        "publish",
        "digits",
        "--folder",
        str(tmp_path / "pub"),
        "--no-branch",
        cwd=site_workspace,
    )
    html = (tmp_path / "pub/digits/1.1.0/classes/seven/index.html").read_text()
    assert "An uncommitted edit." not in html and NEW_SEVEN in unescape(html)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


def test_mkdocs_serve_reloads_when_the_spec_changes(site_workspace: Path):
    port = _free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "mkdocs"), "serve", "--dev-addr", f"127.0.0.1:{port}"],
        cwd=site_workspace,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"},
    )
    url = f"http://127.0.0.1:{port}/digits/classes/eight/"
    try:
        deadline = time.monotonic() + 30
        page = None
        while time.monotonic() < deadline and page is None:
            try:
                page = _fetch(url)
            except OSError:
                time.sleep(0.3)
        assert page is not None and "Two closed loops stacked" in page
        spec = site_workspace / "guidelines/digits/spec.yaml"
        spec.write_text(
            spec.read_text().replace(
                "Two closed loops stacked, touching in the middle.",
                "Two loops, edited while serving.",
            )
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "edited while serving" not in page:
            time.sleep(0.5)
            page = _fetch(url)
        assert "edited while serving" in page
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_release_that_removes_the_decision_tree_still_builds(
    site_workspace: Path, run, tmp_path: Path
):
    """1.1.0 added the tree's first question; 1.2.0 drops the whole tree: its "what changed"
    page says the tree changed, and links no page that no longer exists."""
    import subprocess

    from labelspec import yamlio

    spec = site_workspace / "guidelines/digits/spec.yaml"
    doc = yamlio.Document.load(spec)
    doc.data["decision_tree"] = []
    doc.data["changelog"].append(
        {"version": "unreleased", "summary": "No decision tree", "affects": [], "relabel": "none"}
    )
    doc.save()
    subprocess.run(["git", "commit", "-qam", "no tree"], cwd=site_workspace, check=True)
    run("guideline", "release", "digits", "--bump", "minor", cwd=site_workspace)
    out = tmp_path / "site"
    run("site", "build", "--out", str(out), cwd=site_workspace)
    page = (out / "digits/changes/1.2.0/index.html").read_text()
    assert "this version has none" in page and "decision-tree/" not in page
