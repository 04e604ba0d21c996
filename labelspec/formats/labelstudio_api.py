"""A small client of Label Studio's REST API (1.x): projects, task imports, exports.

Only the standard library (``urllib``): the few calls ``relabel push`` and ``relabel pull`` make
do not need a client library. The token comes from the environment or the user's config, never
from the workspace (see ``token_for``):

- ``LABELSPEC_LABEL_STUDIO_TOKEN`` or ``LABEL_STUDIO_TOKEN`` (``LABEL_STUDIO_API_KEY``, the SDK's
  name, too);
- else ``~/.config/labelspec/config.toml`` (``$XDG_CONFIG_HOME`` honoured)::

      [labelstudio]
      token = "..."                       # any server
      [labelstudio."https://ls.example.com"]
      token = "..."                       # this server only

A personal access token (a JWT, Label Studio 1.14+) is exchanged for a short-lived access token
(``Authorization: Bearer``); any other token is a legacy token (``Authorization: Token``), which
an organisation may have to enable in Label Studio's settings.
"""

from __future__ import annotations

import json
import os
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from labelspec import nesting
from labelspec.errors import InputError
from labelspec.errors import ToolError as LabelStudioError

TOKEN_ENV = ("LABELSPEC_LABEL_STUDIO_TOKEN", "LABEL_STUDIO_TOKEN", "LABEL_STUDIO_API_KEY")
TIMEOUT_S = 120  # an export of a large project takes a while


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "labelspec" / "config.toml"


def token_for(url: str) -> str:
    """The API token for the server at ``url``: environment first, then the user config."""
    for name in TOKEN_ENV:
        if os.environ.get(name):
            return os.environ[name].strip()
    path = config_path()
    if path.is_file():
        try:
            config = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"{path}: not valid TOML: {exc}") from exc
        section = config.get("labelstudio") or {}
        server = section.get(url.rstrip("/")) or section.get(url) or {}
        token = (server.get("token") if isinstance(server, dict) else None) or section.get("token")
        if isinstance(token, str) and token.strip():
            return token.strip()
    raise InputError(
        f"no Label Studio token for {url}: set LABELSPEC_LABEL_STUDIO_TOKEN (Label Studio: "
        f"Account & Settings -> Personal Access Token or Legacy Token) or add it to {path} under [labelstudio]"
    )


class Client:
    """One Label Studio server, authenticated with a token."""

    def __init__(self, url: str, token: str):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InputError(
                f"--labelstudio {url!r}: give the server's URL, e.g. http://localhost:8080"
            )
        self.url = url.rstrip("/")
        self._token = token
        self._auth: str | None = None

    def _authorization(self) -> str:
        if self._auth is None:
            if self._token.count(".") == 2:  # a personal access token (JWT refresh token)
                access = self._send(
                    "POST", "/api/token/refresh/", {"refresh": self._token}, auth=None
                )
                self._auth = f"Bearer {access['access']}"
            else:
                self._auth = f"Token {self._token}"
        return self._auth

    def request(self, method: str, path: str, body: Any = None, query: dict | None = None) -> Any:
        try:
            return self._send(method, path, body, query=query, auth=self._authorization())
        except LabelStudioError as exc:
            if exc.status != 401 or not (self._auth or "").startswith("Bearer "):
                raise
            self._auth = None  # the short-lived access token expired: refresh it once
            return self._send(method, path, body, query=query, auth=self._authorization())

    def _send(self, method, path, body, query=None, auth: str | None = None) -> Any:
        url = self.url + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if auth:
            headers["Authorization"] = auth
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT_S) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:500]
            hint = {
                401: " (check the token: Label Studio -> Account & Settings)",
                403: " (this user may not do that; legacy tokens may be disabled in the organisation's settings)",
                404: " (no such project? check the URL and the project id)",
            }.get(exc.code, "")
            raise LabelStudioError(
                f"Label Studio {method} {path}: HTTP {exc.code}{hint}: {detail}", exc.code
            ) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            raise LabelStudioError(f"cannot reach Label Studio at {self.url}: {reason}") from None
        if not raw:
            return None
        try:
            return nesting.loads(raw, f"Label Studio {method} {path}")
        except json.JSONDecodeError:
            raise LabelStudioError(
                f"Label Studio {method} {path}: the answer is not JSON (is {self.url} a Label Studio server?)"
            ) from None

    def image_status(self, url: str) -> tuple[int | None, str]:
        """(HTTP status, reason) of fetching a task's image as the labeling screen would: a
        path on this server (local files, uploads) with the token, any other URL as it is."""
        own = url.startswith("/")
        headers = {"Authorization": self._authorization()} if own else {}
        req = urllib.request.Request(self.url + url if own else url, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT_S) as response:
                response.read(64)
                return response.status, "ok"
        except urllib.error.HTTPError as exc:
            return exc.code, exc.reason
        except (urllib.error.URLError, TimeoutError, ConnectionError, ValueError) as exc:
            return None, str(getattr(exc, "reason", exc))

    def delete_project(self, project_id: int) -> None:
        self.request("DELETE", f"/api/projects/{int(project_id)}")

    # -- the calls labelspec makes ------------------------------------------------------------
    def project(self, project_id: int) -> dict | None:
        try:
            return self.request("GET", f"/api/projects/{int(project_id)}")
        except LabelStudioError as exc:
            if exc.status == 404:
                return None
            raise

    def create_project(self, **fields: Any) -> dict:
        return self.request("POST", "/api/projects", fields)

    def update_project(self, project_id: int, **fields: Any) -> dict:
        return self.request("PATCH", f"/api/projects/{int(project_id)}", fields)

    def import_tasks(self, project_id: int, tasks: list[dict]) -> dict:
        return self.request("POST", f"/api/projects/{int(project_id)}/import", tasks)

    def views(self, project_id: int) -> list[dict]:
        return self.request("GET", "/api/dm/views/", query={"project": project_id}) or []

    def create_view(self, project_id: int, title: str, filters: dict) -> dict:
        """A data manager tab: the tasks matching ``filters``; its Label button streams just them."""
        return self.request(
            "POST",
            "/api/dm/views/",
            {"project": project_id, "data": {"title": title, "filters": filters}},
        )

    def export(self, project_id: int, all_tasks: bool = False) -> list[dict]:
        """The project's JSON export (what Export -> JSON downloads): tasks with annotations."""
        query = {"exportType": "JSON", "download_all_tasks": "true" if all_tasks else "false"}
        found = self.request("GET", f"/api/projects/{int(project_id)}/export", query=query)
        if not isinstance(found, list):
            raise LabelStudioError(
                f"Label Studio export of project {project_id}: expected a list of tasks"
            )
        return found
