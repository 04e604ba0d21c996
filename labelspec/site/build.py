"""``labelspec site build | publish | serve``.

``publish`` renders one guideline as released at a tag and deploys it in the mike layout::

    <folder>/<guideline>/versions.json      [{"version": "1.1.0", "title": "1.1.0", "aliases": ["latest"]}, ...]
    <folder>/<guideline>/<version>/...      one complete site per release
    <folder>/<guideline>/latest/...         a copy of the newest release
    <folder>/<guideline>/index.html         redirects to latest/
    <folder>/<guideline>/guideline.json     {"title": ...} of the newest release, for the root page
    <folder>/index.html                     every guideline and its versions

The same tree is committed to a branch (``gh-pages`` by default) for static hosting.
"""

from __future__ import annotations

import contextlib
import difflib
import html
import http.server
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labelspec.errors import ExternalError, InputError, LabelspecError, NotFoundError
from labelspec.transaction import transaction
from labelspec.repo import CONFIG_NAME, Repo
from labelspec.progress import progress
from labelspec import yamlio
from labelspec.guideline.releases import spec_at
from labelspec.semver import Version
from labelspec.guideline.releases import get_release, releases
from labelspec.vcs import (
    commit_directory,
    current_branch,
    extract_branch,
    holds_path,
    site_branch_start,
)
from labelspec.guideline.releases import get_release
from labelspec import nesting
from labelspec.labelers.roster import ROSTER, list_labelers
from labelspec.site.outdir import (
    check_not_workspace_folder,
    check_out_folder,
    mark_site_build,
)
import subprocess
import functools

DEFAULT_FOLDER = "site-versions"
LATEST = "latest"
GUIDELINE_FILE = "guideline.json"  # beside versions.json: the title the root page shows


@contextlib.contextmanager
def _quiet_mkdocs():
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")  # Material's banner about MkDocs 2
    yield


class _Collect(logging.Handler):
    """Keeps mkdocs' warnings and errors so a failed build says why, not just "Aborted"."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _mkdocs_build(
    config_file: Path, site_dir: Path, overrides: dict[str, Any] | None = None
) -> None:
    from mkdocs.commands.build import build  # lazy: mkdocs only to build
    from mkdocs.config import load_config  # lazy: see above
    from mkdocs.exceptions import Abort, ConfigurationError, PluginError  # lazy: see above

    collect = _Collect()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(collect)
    try:
        with _quiet_mkdocs():
            config = load_config(
                str(config_file), site_dir=str(site_dir), strict=True, **(overrides or {})
            )
            build(config)
    except (PluginError, ConfigurationError, Abort) as exc:
        details = "\n".join(collect.messages) or str(exc)
        raise InputError(f"the site did not build:\n{details}") from exc
    finally:
        logger.removeHandler(collect)


@dataclass
class BuildResult:
    out: Path
    pages: int

    def to_json(self) -> dict[str, Any]:
        return {"out": str(self.out), "pages": self.pages}


def build(
    ws: Repo,
    out: Path | str | None = None,
    labelers: str | None = None,
    force: bool = False,
) -> BuildResult:
    """Build the working tree's guidelines (strict: broken links and spec errors fail).

    ``labelers``: ``"all"`` adds the Labelers page for every vendor, a vendor name adds it for
    that vendor only; None keeps what mkdocs.yml says (no page unless it opts in). mkdocs
    empties ``out`` first: a folder of the workspace is refused, and a non-empty folder that is
    not a previous build unless ``force``."""
    config_file = ws.root / "mkdocs.yml"
    if not config_file.is_file():
        raise NotFoundError(f"{config_file} not found; `labelspec init` writes one")

    target = Path(out).resolve() if out else ws.root.resolve() / "site"
    check_out_folder(ws, target, force)
    if labelers not in (None, "all"):
        check_vendor(ws, labelers)
    with progress("building the site"):
        if labelers is None:
            _mkdocs_build(config_file, target)
        else:
            with tempfile.TemporaryDirectory(prefix="labelspec-site-") as tmp:
                options = {"workspace": str(ws.root), **_labelers_options(labelers)}
                _mkdocs_build(_config_for(ws, Path(tmp), options), target)
    mark_site_build(target)
    return BuildResult(target, sum(1 for _ in target.rglob("index.html")))


def check_vendor(ws: Repo, vendor: str) -> None:
    """A vendor of the roster, or NotFound with the nearest one (not an empty Labelers page)."""
    vendors = sorted({lab.vendor for lab in list_labelers(ws)})
    if vendor in vendors:
        return
    close = difflib.get_close_matches(vendor, vendors, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    known = ", ".join(vendors) or "none yet"
    raise NotFoundError(
        f"--labelers {vendor!r}: no labeler of that vendor in {ROSTER} ({hint}vendors: {known}); "
        "give a vendor of the roster, or `all`"
    )


def _labelers_options(labelers: str | None) -> dict[str, Any]:
    if labelers is None:
        return {}
    if labelers == "all":
        return {"labelers_page": True}
    return {"labelers_page": True, "labelers_vendor": labelers}


def _config_for(
    ws: Repo,
    tmp: Path,
    options: dict[str, Any],
    site_name: str | None = None,
    extra: dict[str, Any] | None = None,
    site_path: str | None = None,
) -> Path:
    """The workspace's mkdocs.yml with the labelspec plugin set to ``options`` (the plugin
    replaces every page, so docs_dir can be an empty folder of our own)."""

    data = yamlio.to_plain(yamlio.load_plain(ws.root / "mkdocs.yml")) or {}
    plugins = [
        p
        for p in data.get("plugins", [])
        if (p if isinstance(p, str) else next(iter(p))) != "labelspec"
    ]
    found = next(
        (
            p["labelspec"]
            for p in data.get("plugins", [])
            if isinstance(p, dict) and "labelspec" in p
        ),
        None,
    )
    plugins.append({"labelspec": {**(found or {}), **options}})
    data["plugins"] = plugins
    if site_name:
        data["site_name"] = site_name
    if site_path and data.get("site_url"):
        # Each published version lives under <site_url>/<guideline>/<version>/, as mike does it.
        data["site_url"] = str(data["site_url"]).rstrip("/") + f"/{site_path}/"
    data["docs_dir"] = str((tmp / "empty").resolve())
    (tmp / "empty").mkdir(exist_ok=True)
    if extra:
        data.setdefault("extra", {}).update(extra)
    config = tmp / "mkdocs.yml"
    config.write_text(yamlio.dumps(data))
    return config


def _publish_config(
    ws: Repo, name: str, version: str, tmp: Path, labelers: str | None = None
) -> Path:
    """The workspace's mkdocs.yml, pointed at one guideline at one release, with the selector."""
    title = name
    with contextlib.suppress(LabelspecError):

        title = spec_at(ws, name, version).title
    options = {
        "workspace": str(ws.root),
        "guideline": name,
        "version": version,
        **_labelers_options(labelers),
    }
    extra = {"version": {"provider": "mike", "default": LATEST}}
    return _config_for(ws, tmp, options, title, extra, f"{name}/{version}")


def _deploy(site: Path, root: Path, name: str, version: str, title: str) -> list[dict[str, Any]]:
    """Copy a built site into the mike layout under ``root/name`` and update versions.json;
    ``latest`` always points at the newest version deployed."""

    base = root / name
    target = base / version
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(site, target)
    versions_file = base / "versions.json"
    versions = (
        nesting.loads(versions_file.read_text(), str(versions_file)) if versions_file.is_file() else []
    )
    versions = [v for v in versions if v["version"] != version]
    versions.append({"version": version, "title": version, "aliases": []})
    versions.sort(key=lambda v: Version.parse(v["version"]), reverse=True)
    previous_latest = next((v["version"] for v in versions if LATEST in v["aliases"]), None)
    for entry in versions:
        entry["aliases"] = []
    versions[0]["aliases"] = [LATEST]
    latest = base / LATEST
    if (
        previous_latest != versions[0]["version"]
        or versions[0]["version"] == version
        or not latest.exists()
    ):
        if latest.exists():
            shutil.rmtree(latest)
        shutil.copytree(base / versions[0]["version"], latest)
    versions_file.write_text(json.dumps(versions, indent=2) + "\n")
    if versions[0]["version"] == version or not (base / GUIDELINE_FILE).is_file():
        (base / GUIDELINE_FILE).write_text(json.dumps({"title": title}) + "\n")
    (base / "index.html").write_text(_redirect(f"{LATEST}/"))
    _write_root_index(root)
    return versions


def _redirect(target: str) -> str:
    url = html.escape(target, quote=True)
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>Redirecting</title>'
        f'<meta http-equiv="refresh" content="0; url={url}"><link rel="canonical" href="{url}"></head>'
        f'<body><a href="{url}">Redirecting to {url}</a></body></html>\n'
    )


ROOT_STYLE = (
    "body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1f2328;background:#f6f8fa}"
    "header{background:#4051b5;color:#fff;padding:1.2rem 2rem}header h1{margin:0;font-size:1.4rem;font-weight:500}"
    "main{max-width:48rem;margin:1.5rem auto;padding:0 1rem}"
    ".card{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:1rem 1.2rem;margin:0 0 1rem}"
    ".card h2{margin:0 0 .4rem;font-size:1.15rem}.card a{color:#4051b5}.versions{margin:.4rem 0 0;padding:0;list-style:none}"
    ".versions li{display:inline-block;margin:0 .5rem .3rem 0}.badge{font-size:.75rem;background:#dafbe1;color:#116329;"
    "border-radius:1rem;padding:.05rem .45rem;margin-left:.25rem}"
)


def _write_root_index(root: Path) -> None:
    """The landing page of a published folder: every guideline, its versions, the latest first."""
    esc = html.escape
    cards = []
    for folder in sorted(p for p in root.iterdir() if (p / "versions.json").is_file()):
        versions = nesting.loads((folder / "versions.json").read_text(), str(folder / "versions.json"))
        about = folder / GUIDELINE_FILE
        title = (
            nesting.loads(about.read_text(), str(about)).get("title", folder.name)
            if about.is_file()
            else folder.name
        )
        links = "".join(
            f'<li><a href="{esc(folder.name)}/{esc(v["version"])}/">{esc(v["version"])}</a>'
            + ('<span class="badge">latest</span>' if LATEST in v["aliases"] else "")
            + "</li>"
            for v in versions
        )
        cards.append(
            f'<section class="card"><h2><a href="{esc(folder.name)}/">{esc(title)}</a></h2>'
            f'<div><code>{esc(folder.name)}</code></div><ul class="versions">{links}</ul></section>'
        )
    (root / "index.html").write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Labeling guidelines</title><style>{ROOT_STYLE}</style></head>"
        "<body><header><h1>Labeling guidelines</h1></header><main>"
        f"{''.join(cards)}</main></body></html>\n"
    )


@dataclass
class PublishResult:
    guideline: str
    version: str
    folder: Path | None
    branch: str | None
    commit: str | None
    versions: list[dict[str, Any]]  # on the branch when one was given, else in the folder
    folder_versions: list[dict[str, Any]]
    started_from: str | None = None  # the remote-tracking branch the site branch continued

    def to_json(self) -> dict[str, Any]:
        return {
            "guideline": self.guideline,
            "version": self.version,
            "folder": str(self.folder) if self.folder else None,
            "branch": self.branch,
            "commit": self.commit,
            "versions": self.versions,
            "folder_versions": self.folder_versions,
            "started_from": self.started_from,
        }


def publish(
    ws: Repo,
    name: str,
    version: str | None = None,
    folder: Path | str | None = None,
    branch: str | None = "gh-pages",
    labelers: str | None = None,
) -> PublishResult:
    """Build guideline ``name`` as released at ``version`` and deploy it as a site version
    (``labelers`` as for ``build``: a published site has no Labelers page unless asked)."""

    released = releases(ws, name)
    if not released:
        ws.spec_path(name)  # an unknown name: "did you mean", the known ones
        raise NotFoundError(f"guideline {name!r} has no release to publish")
    version = version.removeprefix("v") if version else released[-1].version
    get_release(ws, name, version)
    if folder is None and branch is None:
        raise InputError("nowhere to publish: give --folder and/or --branch")
    if labelers not in (None, "all"):
        check_vendor(ws, labelers)

    if branch:
        _check_publish_branch(ws, branch)
    folder_path = Path(folder).resolve() if folder else None
    if folder_path:
        check_not_workspace_folder(
            ws, folder_path, "--folder", "publishing writes its versions there", tracked_ok=True
        )
    started_from = None
    versions: list[dict[str, Any]] = []
    folder_versions: list[dict[str, Any]] = []
    commit = None
    with tempfile.TemporaryDirectory(prefix="labelspec-site-") as tmp_name:
        tmp = Path(tmp_name)
        config = _publish_config(ws, name, version, tmp, labelers)
        title = _site_title(config)
        built = tmp / "site"
        with progress(f"building {name} {version}"):
            _mkdocs_build(config, built)
        if folder_path:
            versions = folder_versions = _deploy(built, folder_path, name, version, title)
        if branch:
            # the branch moves by one atomic ref update, so a kill leaves it old or new; the
            # transaction serialises it with other writers and repairs what they left
            with transaction(ws, f"site: publish {name} {version}") as tx:
                pages = tmp / "pages"
                start = extract_branch(ws.root, branch, pages)
                pages.mkdir(exist_ok=True)
                versions = _deploy(built, pages, name, version, title)
                (pages / ".nojekyll").write_text("")
                tx.moving_branch(branch)
                commit = commit_directory(
                    ws.root,
                    branch,
                    pages,
                    f"site: publish {name} {version}",
                    start.commit if start else None,
                )
                started_from = start.name if start and start.remote else None
    return PublishResult(
        name, version, folder_path, branch, commit, versions, folder_versions, started_from
    )


def _check_publish_branch(ws: Repo, branch: str) -> None:
    """A site branch holds only the site: the checked-out branch, the release branch or a
    branch whose tip holds the workspace (gh-pages made from main) would get the site
    committed into its history, or the workspace published. The tip checked is the one
    publish would continue: the remote-tracking branch in a fresh clone."""
    elsewhere = (
        "publish to a branch of its own (--branch NAME), or use --folder DIR --no-branch"
    )
    if branch == current_branch(ws.root):
        raise InputError(
            f"branch {branch} is the branch checked out in the workspace, and publishing would "
            f"commit the built site into its history; {elsewhere}"
        )
    if branch == ws.config.release_branch:
        raise InputError(
            f"branch {branch} is the release branch of the workspace, and publishing would "
            f"commit the built site into its history; {elsewhere}"
        )
    start = site_branch_start(ws.root, branch)
    if start is not None and holds_path(ws.root, start.commit, ws.root / CONFIG_NAME):
        if start.remote:
            remote = start.name.split("/")[0]
            delete = f"`git push {remote} :{branch}`, and `git branch -D {branch}` if you have it"
        else:
            delete = f"`git branch -D {branch}`, and `git push origin :{branch}` if you pushed it"
        raise InputError(
            f"branch {start.name} holds the workspace ({CONFIG_NAME} is on it: made from "
            f"{ws.config.release_branch}?), and publishing would put the workspace on the site; "
            f"delete it so publish starts it afresh ({delete}), or pick another --branch NAME"
        )


def _site_title(config: Path) -> str:

    return str((yamlio.load_plain(config) or {}).get("site_name", ""))


# -- print / PDF -------------------------------------------------------------------------------------
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


@dataclass
class PdfResult:
    guideline: str
    version: str | None  # None: the working tree (a draft)
    out: Path
    bytes: int

    def to_json(self) -> dict[str, Any]:
        return {
            "guideline": self.guideline,
            "version": self.version,
            "out": str(self.out),
            "bytes": self.bytes,
        }


def pdf(ws: Repo, name: str, out: Path | str, version: str | None = None) -> PdfResult:
    """Guideline ``name`` (as released at ``version``, or the working tree) as one PDF: the
    site's print page rendered by headless Chromium, the one renderer that draws the theme and
    the pictures as the browser does. Without Chromium, open ``print/`` of a built site in a
    browser and print it."""

    browser = next((found for b in BROWSERS if (found := shutil.which(b))), None)
    if browser is None:
        raise ExternalError(
            "a PDF needs headless Chromium (`apt-get install chromium`, or Google Chrome) on PATH; "
            "without it, `labelspec site build` and print the page print/ of your guideline from a browser"
        )
    if version is not None:

        get_release(ws, name, version)
    ws.spec_path(name)
    target = Path(out).resolve()
    with tempfile.TemporaryDirectory(prefix="labelspec-pdf-") as tmp_name:
        tmp = Path(tmp_name)
        options = {"workspace": str(ws.root), "guideline": name}
        if version:
            options["version"] = version
        built = tmp / "site"
        _mkdocs_build(_config_for(ws, tmp, options), built)
        page = built / "print" / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        done = subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-pdf-header-footer",
                "--disable-background-networking",
                f"--user-data-dir={tmp / 'profile'}",
                f"--print-to-pdf={partial}",
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0 or not partial.is_file():
            partial.unlink(missing_ok=True)
            raise ExternalError(
                f"{browser} could not print the guideline: {done.stderr.strip()[-500:]}"
            )
        os.replace(partial, target)
    return PdfResult(name, version, target, target.stat().st_size)


def serve(folder: Path | str, host: str = "127.0.0.1", port: int = 8000):
    """A static HTTP server over a published folder (the version selector needs HTTP)."""

    root = Path(folder).resolve()
    if not root.is_dir():
        raise NotFoundError(
            f"{root} does not exist; run `labelspec site publish NAME --folder {root}` first"
        )
    handler = functools.partial(_QuietHandler, directory=str(root))
    return http.server.ThreadingHTTPServer((host, port), handler)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return
