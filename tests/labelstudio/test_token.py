"""Where the Label Studio token comes from: the environment, else the user's config; never git."""

from __future__ import annotations

import pytest

from labelspec.errors import LabelspecError, ToolError
from labelspec.formats.labelstudio_api import TOKEN_ENV, Client, config_path, token_for


@pytest.fixture(autouse=True)
def no_token_env(monkeypatch):
    for name in TOKEN_ENV:
        monkeypatch.delenv(name, raising=False)


def test_the_environment_comes_first(monkeypatch):
    config_path().parent.mkdir(parents=True, exist_ok=True)
    config_path().write_text('[labelstudio]\ntoken = "from-config"\n')
    monkeypatch.setenv("LABEL_STUDIO_TOKEN", "from-env ")
    assert token_for("http://ls:8080") == "from-env"
    monkeypatch.setenv("LABELSPEC_LABEL_STUDIO_TOKEN", "ours")
    assert token_for("http://ls:8080") == "ours"
    config_path().unlink()


def test_the_user_config_per_server_then_for_any(tmp_path):
    config_path().parent.mkdir(parents=True, exist_ok=True)
    config_path().write_text(
        '[labelstudio]\ntoken = "any"\n\n[labelstudio."https://ls.example.com"]\ntoken = "this"\n'
    )
    try:
        assert token_for("https://ls.example.com/") == "this"
        assert token_for("http://other:8080") == "any"
    finally:
        config_path().unlink()


def test_no_token_says_where_to_put_one():
    with pytest.raises(
        LabelspecError, match=r"LABELSPEC_LABEL_STUDIO_TOKEN .*/config\.toml under \[labelstudio\]"
    ):
        token_for("http://ls:8080")


def test_a_server_that_is_not_there_is_a_clear_error():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    client = Client(f"http://127.0.0.1:{port}", "t")
    with pytest.raises(ToolError, match=r"cannot reach Label Studio at http://127\.0\.0\.1"):
        client.project(1)
    with pytest.raises(LabelspecError, match="give the server's URL"):
        Client("localhost:8080", "t")
