"""``labelspec site build | publish | serve``.

``publish`` renders one guideline as released at a tag and deploys it in the mike layout::

    <folder>/<guideline>/versions.json      [{"version": "1.1.0", "title": "1.1.0", "aliases": ["latest"]}, ...]
    <folder>/<guideline>/<version>/...      one complete site per release
    <folder>/<guideline>/latest/...         a copy of the newest release
    <folder>/<guideline>/index.html         redirects to latest/

The same tree is committed to a branch (``gh-pages`` by default) for static hosting.
"""

from __future__ import annotations

import contextlib
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

from labelspec.errors import LabelspecError
from labelspec.workspace import Workspace

DEFAULT_FOLDER = "site-versions"
LATEST = "latest"


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


def _mkdocs_build(config_file: Path, site_dir: Path, overrides: dict[str, Any] | None = None) -> None:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import Abort, ConfigurationError, PluginError

    collect = _Collect()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(collect)
    try:
        with _quiet_mkdocs():
            config = load_config(str(config_file), site_dir=str(site_dir), strict=True, **(overrides or {}))
            build(config)
    except (PluginError, ConfigurationError, Abort) as exc:
        details = "\n".join(collect.messages) or str(exc)
        raise LabelspecError(f"the site did not build:\n{details}") from exc
    finally:
        logger.removeHandler(collect)


@dataclass
class BuildResult:
    out: Path
    pages: int

    def to_dict(self) -> dict[str, Any]:
        return {"out": str(self.out), "pages": self.pages}


def build(ws: Workspace, out: Path | str | None = None) -> BuildResult:
    """Build the working tree's guidelines (strict: broken links and spec errors fail)."""
    config_file = ws.root / "mkdocs.yml"
    if not config_file.is_file():
        raise LabelspecError(f"{config_file} not found; `labelspec init` writes one")
    target = Path(out).resolve() if out else ws.root / "site"
    _mkdocs_build(config_file, target)
    return BuildResult(target, sum(1 for _ in target.rglob("index.html")))


def _publish_config(ws: Workspace, name: str, version: str, tmp: Path) -> Path:
    """The workspace's mkdocs.yml, pointed at one guideline at one release, with the selector."""
    from labelspec import yamlio

    data = yamlio.to_plain(yamlio.load_plain(ws.root / "mkdocs.yml")) or {}
    plugins = [
        p
        for p in data.get("plugins", [])
        if (p if isinstance(p, str) else next(iter(p))) != "labelspec"
    ]
    plugins.append(
        {"labelspec": {"workspace": str(ws.root), "guideline": name, "version": version}}
    )
    data["plugins"] = plugins
    spec_title = name
    with contextlib.suppress(LabelspecError):
        from labelspec.guideline.releases import spec_at

        spec_title = spec_at(ws, name, version).title
    data["site_name"] = f"{spec_title}"
    data["docs_dir"] = str((tmp / "empty").resolve())
    (tmp / "empty").mkdir()
    data.setdefault("extra", {})["version"] = {"provider": "mike", "default": LATEST}
    config = tmp / "mkdocs.yml"
    config.write_text(yamlio.dumps(data))
    return config


def _deploy(site: Path, root: Path, name: str, version: str, title: str) -> list[dict[str, Any]]:
    """Copy a built site into the mike layout under ``root/name`` and update versions.json;
    ``latest`` always points at the newest version deployed."""
    from labelspec.semver import Version

    base = root / name
    target = base / version
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(site, target)
    versions_file = base / "versions.json"
    versions = json.loads(versions_file.read_text()) if versions_file.is_file() else []
    versions = [v for v in versions if v["version"] != version]
    versions.append({"version": version, "title": title, "aliases": []})
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


def _write_root_index(root: Path) -> None:
    names = sorted(p.name for p in root.iterdir() if (p / "versions.json").is_file())
    items = "".join(f'<li><a href="{html.escape(n)}/">{html.escape(n)}</a></li>' for n in names)
    (root / "index.html").write_text(
        f'<!doctype html><html><head><meta charset="utf-8"><title>Labeling guidelines</title></head>'
        f"<body><h1>Labeling guidelines</h1><ul>{items}</ul></body></html>\n"
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "guideline": self.guideline,
            "version": self.version,
            "folder": str(self.folder) if self.folder else None,
            "branch": self.branch,
            "commit": self.commit,
            "versions": self.versions,
            "folder_versions": self.folder_versions,
        }


def publish(
    ws: Workspace,
    name: str,
    version: str | None = None,
    folder: Path | str | None = None,
    branch: str | None = "gh-pages",
) -> PublishResult:
    """Build guideline ``name`` as released at ``version`` and deploy it as a site version."""
    from labelspec.guideline.releases import get_release, releases
    from labelspec.vcs import commit_directory, extract_branch

    released = releases(ws, name)
    if not released:
        raise LabelspecError(f"guideline {name!r} has no release to publish")
    version = version.removeprefix("v") if version else released[-1].version
    get_release(ws, name, version)
    if folder is None and branch is None:
        raise LabelspecError("nowhere to publish: give --folder and/or --branch")
    folder_path = Path(folder).resolve() if folder else None
    versions: list[dict[str, Any]] = []
    folder_versions: list[dict[str, Any]] = []
    commit = None
    with tempfile.TemporaryDirectory(prefix="labelspec-site-") as tmp_name:
        tmp = Path(tmp_name)
        config = _publish_config(ws, name, version, tmp)
        built = tmp / "site"
        _mkdocs_build(config, built)
        if folder_path:
            versions = folder_versions = _deploy(built, folder_path, name, version, version)
        if branch:
            with ws.lock():
                pages = tmp / "pages"
                extract_branch(ws.root, branch, pages)
                pages.mkdir(exist_ok=True)
                versions = _deploy(built, pages, name, version, version)
                (pages / ".nojekyll").write_text("")
                commit = commit_directory(ws.root, branch, pages, f"site: publish {name} {version}")
    return PublishResult(name, version, folder_path, branch, commit, versions, folder_versions)


def serve(folder: Path | str, host: str = "127.0.0.1", port: int = 8000):
    """A static HTTP server over a published folder (the version selector needs HTTP)."""
    import functools

    root = Path(folder).resolve()
    if not root.is_dir():
        raise LabelspecError(
            f"{root} does not exist; run `labelspec site publish NAME --folder {root}` first"
        )
    handler = functools.partial(_QuietHandler, directory=str(root))
    return http.server.ThreadingHTTPServer((host, port), handler)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return
