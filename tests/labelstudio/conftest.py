"""A real Label Studio server for the round-trip tests, started once per module.

Label Studio lives in its own virtual environment, ``.venv-labelstudio`` (its pins clash with
the project's), installed by ``scripts/ensure-test-tools``. The server binds 127.0.0.1 on a free
port with a temporary data dir, and is stopped by its own process group at teardown. Never run
``label-studio --version``: without ``start`` it starts a server on 0.0.0.0.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.store.conftest import built, make_store  # noqa: F401  (the populated workspaces)
from tests.trace.conftest import history, history_template, make_history  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(os.environ.get("LABELSPEC_LABEL_STUDIO_VENV", ROOT / ".venv-labelstudio"))
STARTUP_S = 300  # first start runs every migration: about two minutes here, more on a slow CI
TOKEN = "labelspec-test-token-0123456789abcdef"


@dataclass
class Server:
    url: str
    token: str
    document_root: Path

    def api(self, method: str, path: str, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Authorization": f"Token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def get_bytes(self, path: str) -> tuple[int, bytes]:
        request = urllib.request.Request(
            self.url + path, headers={"Authorization": f"Token {self.token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def label_studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    binary = VENV / "bin" / "label-studio"
    if not binary.is_file():
        # a failure, not a skip: `make test` (and so CI) installs it first, and a suite that
        # skips the round trip with the labeling tool would pass without testing it
        pytest.fail(f"Label Studio is not installed in {VENV}: run scripts/ensure-test-tools")
    base = tmp_path_factory.mktemp("label-studio")
    # every test's workspace is under the session's base temp dir: one root serves them all
    document_root = tmp_path_factory.getbasetemp().resolve()
    port = _free_port()
    env = {
        **os.environ,
        "LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED": "true",
        "LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT": str(document_root),
        "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
        # hermetic: no version check against PyPI, no analytics, no error reports to Sentry
        "LATEST_VERSION_CHECK": "false",
        "COLLECT_ANALYTICS": "false",
        "SENTRY_DSN": "",
        "FRONTEND_SENTRY_DSN": "",
    }
    log_path = base / "label-studio.log"
    log = log_path.open("w")
    server = subprocess.Popen(
        [
            str(binary),
            "start",
            "--internal-host",
            "127.0.0.1",
            "--port",
            str(port),
            "--data-dir",
            str(base / "data"),
            "--no-browser",
            "--username",
            "admin@labelspec.invalid",
            "--password",
            "labelspec-admin-pw",
            "--user-token",
            TOKEN,
            "--enable-legacy-api-token",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,  # its own process group, so teardown stops it and its children
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"Label Studio exited:\n{log_path.read_text()[-4000:]}")
            try:
                with urllib.request.urlopen(url + "/health", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"Label Studio did not answer /health in {STARTUP_S} s:\n{log_path.read_text()[-4000:]}"
                )
            time.sleep(1)
        yield Server(url, TOKEN, document_root)
    finally:
        try:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)
        except ProcessLookupError:
            pass
        log.close()
