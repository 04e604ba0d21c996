"""Hermetic test setup: an isolated HOME and git config, and real git + DVC workspaces."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from labelspec.cli import cli

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session", autouse=True)
def isolate(tmp_path_factory: pytest.TempPathFactory):
    """No test reads or writes the real HOME, git config or DVC caches."""
    home = tmp_path_factory.mktemp("home")
    gitconfig = home / ".gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = labelspec tests\n\temail = tests@labelspec.invalid\n"
        "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"
    )
    env = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "GIT_CONFIG_GLOBAL": str(gitconfig),
        "GIT_CONFIG_NOSYSTEM": "1",
        "DVC_NO_ANALYTICS": "1",
        "DVC_SITE_CACHE_DIR": str(home / "dvc-site-cache"),
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def pristine(tmp_path_factory: pytest.TempPathFactory, isolate) -> Callable[[str], Path]:
    """One freshly initialised workspace per template, made once per session."""
    from labelspec.init import init

    made: dict[str, Path] = {}

    def get(template: str) -> Path:
        if template not in made:
            base = tmp_path_factory.mktemp(f"pristine-{template}")
            made[template] = init(base / "ws", template=template).root
        return made[template]

    return get


def copy_workspace(source: Path, root: Path) -> Path:
    """Copy a workspace to ``root`` with a DVC remote of its own beside it."""
    shutil.copytree(source, root, symlinks=True)
    remote = root.with_name(f"{root.name}.dvc-storage")
    remote.mkdir(exist_ok=True)
    # config.local is ignored by git, so the copy stays clean while using its own remote.
    (root / ".dvc" / "config.local").write_text(f"['remote \"storage\"']\n    url = {remote}\n")
    return root


@pytest.fixture
def make_workspace(tmp_path: Path, pristine) -> Callable[..., Path]:
    """A real git + DVC workspace in ``tmp_path`` (a copy of a pristine one, with its own remote)."""

    def make(template: str = "classification", name: str = "ws") -> Path:
        return copy_workspace(pristine(template), tmp_path / name)

    return make


@pytest.fixture
def workspace(make_workspace) -> Path:
    return make_workspace()


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run the CLI in-process in ``cwd``; stdout and stderr are kept apart."""

    def invoke(*args: str, cwd: Path | None = None, expect: int | None = 0) -> Result:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        if expect is not None:
            assert result.exit_code == expect, (
                f"exit {result.exit_code}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
            )
        return result

    return invoke


@pytest.fixture
def s3_server(tmp_path: Path):
    """A real S3-compatible server (moto) on 127.0.0.1, started for the test and stopped by its
    own PID; yields a function that makes a bucket and returns the DVC settings for it."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = (tmp_path / "moto.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(endpoint, timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"moto did not start: {(tmp_path / 'moto.log').read_text()}")

        def bucket(name: str) -> dict[str, str]:
            import boto3

            client = boto3.client(
                "s3",
                endpoint_url=endpoint,
                aws_access_key_id="test",
                aws_secret_access_key="test",
                region_name="us-east-1",
            )
            client.create_bucket(Bucket=name)
            return {
                "url": f"s3://{name}/labels",
                "endpointurl": endpoint,
                "access_key_id": "test",
                "secret_access_key": "test",
            }

        yield bucket
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def use_remote(root: Path, settings: dict[str, str]) -> None:
    """Point a clone's DVC remote `storage` at ``settings`` (in config.local: never in git)."""
    lines = "".join(f"    {k} = {v}\n" for k, v in settings.items())
    (root / ".dvc" / "config.local").write_text(f"['remote \"storage\"']\n{lines}")
