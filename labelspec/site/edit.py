"""Suggest a change from the page: each page of the site links to the file it is made from on
the team's git host (Material's "edit this page"), the way documentation sites do.

The host comes from the workspace's git remote (``origin``, else the first), turned into a web
address (an SSH or HTTPS remote, credentials dropped: a token in a remote URL must never reach
a published page); a workspace without a remote, or with one that is no web host (a path, a
``file://`` URL), gets no links. Pages link to the release branch (``release_branch``), where
edits are proposed, whatever version they show. A ``repo_url`` and ``edit_uri`` in mkdocs.yml
win: ``edit_uri`` is then what comes between ``repo_url`` and a file's path from the repository
top (``edit/main/``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

from labelspec.repo import Repo
from labelspec.vcs import Git

# host (a part of its name) -> how it edits a file: {branch} and {path} are filled in
EDIT_PATHS = {
    "github": "edit/{branch}/{path}",
    "gitlab": "-/edit/{branch}/{path}",
    "bitbucket": "src/{branch}/{path}?mode=edit",
    "codeberg": "_edit/{branch}/{path}",
    "gitea": "_edit/{branch}/{path}",
    "forgejo": "_edit/{branch}/{path}",
}
_SCP = re.compile(r"^(?:[\w.-]+@)?(?P<host>[\w.-]+):(?P<path>(?!//)[^\\]+)$")  # git@host:org/repo


def web_url(remote: str) -> str | None:
    """The web address of a git remote (None when it is not on a web host)."""
    remote = remote.strip()
    match = _SCP.match(remote)
    if match and "://" not in remote:
        host, path = match["host"], match["path"]
        if "." not in host:
            return None  # an SSH alias (~/.ssh/config), not a host name
        scheme = "https"
    else:
        parts = urlsplit(remote)
        if parts.scheme not in ("https", "http", "ssh", "git") or not parts.hostname:
            return None
        host, path = parts.hostname, parts.path
        scheme = "http" if parts.scheme == "http" else "https"
    path = path.strip("/").removesuffix(".git")
    if not path:
        return None
    return urlunsplit((scheme, host, "/" + path, "", ""))


@dataclass
class EditLinks:
    repo_url: str | None  # the repository's web page (mkdocs' repo_url)
    pattern: str | None  # the edit address of {path}: None when pages get no edit link

    def url(self, path: str) -> str | None:
        if self.pattern is None:
            return None
        return self.pattern.replace("{path}", quote(path))


def edit_links(ws: Repo, repo_url: str | None, edit_uri: str | None) -> EditLinks:
    """Where pages point to: ``repo_url`` / ``edit_uri`` as mkdocs.yml gives them, else the
    remote's host and the release branch."""

    if not repo_url:
        git = ws.git
        remotes = git.remote_urls()
        remote = remotes.get("origin") or next(iter(remotes.values()), None)
        repo_url = web_url(remote) if remote else None
    if not repo_url:
        return EditLinks(None, None)
    base = repo_url.rstrip("/") + "/"
    if edit_uri:
        return EditLinks(repo_url, base + edit_uri.strip("/") + "/{path}")
    host = (urlsplit(repo_url).hostname or "").lower()
    found = next((p for name, p in EDIT_PATHS.items() if name in host), None)
    if found is None:
        return EditLinks(repo_url, None)  # a host whose edit address we do not know
    branch = quote(ws.config.release_branch)
    return EditLinks(repo_url, base + found.replace("{branch}", branch))


def page_source(uri: str, guide_prefix: str) -> str | None:
    """Which file of a guideline folder a generated page (``uri`` inside the guideline) shows:
    ``docs/<slug>.md`` for a guide, ``spec.yaml`` for the others."""
    if uri.startswith(guide_prefix):
        return f"docs/{uri.removeprefix(guide_prefix)}"
    return "spec.yaml"
