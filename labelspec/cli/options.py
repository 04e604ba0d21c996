"""Options shared by several commands, defined once (as sqlite-utils' ``output_options``)."""

from __future__ import annotations

import click

snapshot_option = click.option(
    "--snapshot",
    metavar="REV",
    help="Any git revision (commit, branch, tag, HEAD~2), a batch id, or an old snap-N "
    "[default: HEAD].",
)


def version_text(value: str | None) -> str | None:
    """A version as users type it: ``1.1.0`` or ``v1.1.0``; a malformed one is refused here."""
    from labelspec.semver import Version  # lazy: loaded when it runs

    if not value:
        return value

    text = value.removeprefix("v")
    if not Version.is_valid(text):
        raise click.BadParameter(f"{value!r} is not a version: write MAJOR.MINOR.PATCH, e.g. 1.1.0")
    return text


def version_option(*names: str, help: str, required: bool = False):
    """A guideline version option (``--version 1.1.0`` or ``v1.1.0``)."""
    return click.option(
        *names,
        required=required,
        metavar="VERSION",
        help=help,
        callback=lambda _ctx, _param, value: version_text(value),
    )


images_were_option = click.option(
    "--images-were",
    type=click.Choice(["annotated", "all"]),
    help="COCO only: 'all' when the vendor was given (and labeled) every image of the file, so "
    "an image without annotations is their explicit 'no objects here' [default: annotated].",
)


def current_repo():
    """The Repo of this invocation: opened the first time a command asks for it, closed when
    the command ends, so every call a command makes shares one git handle and one set of
    caches (dvc's ``CmdBase`` opens its ``Repo`` the same way)."""
    from labelspec.repo import open_repo  # lazy: loaded when it runs

    root = click.get_current_context().find_root()
    state = root.ensure_object(dict)
    if state.get("repo") is None:
        state["repo"] = open_repo()
        root.call_on_close(state["repo"].close)
    return state["repo"]


def image_options(command):
    """Where Label Studio finds a task's image: a URL template, or its local-files root."""
    command = click.option(
        "--labelstudio-local-files",
        "local_files",
        is_flag=False,
        flag_value="",
        default=None,
        metavar="[DOCUMENT_ROOT]",
        help="Task images as Label Studio local files (/data/local-files/?d=...) under DOCUMENT_ROOT [default: the workspace].",
    )(command)
    return click.option(
        "--image-url",
        metavar="TEMPLATE",
        help="Task image URL from the item: {path} (workspace path), {item_id}, {name}; e.g. https://files.example.com/{path}.",
    )(command)
