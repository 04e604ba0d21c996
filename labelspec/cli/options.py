"""Options shared by several commands, defined once (as sqlite-utils' ``output_options``)."""

from __future__ import annotations

import math
from pathlib import Path

import click

from labelspec.errors import InputError
from labelspec.labels.checks import MAX_COST

MAX_COUNT = 1_000_000_000  # items, labels, questions: more is a typo, and overflows the engines
MAX_SEED = 2**32 - 1

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


labelers_per_item_option = click.option(
    "--labelers-per-item",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON object or 2-column CSV: each item (its file name in the delivery, or its item id) -> "
    "the labeler who answered it, for COCO, CVAT and YOLO files that carry no annotator.",
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


class _Bounded:
    """A number option that is a real number within bounds, refused like the same field in a
    file: bad input (exit 1) that names the option. Click's own ranges let NaN through (every
    comparison with NaN is false) and report a usage error (exit 2)."""

    hint = ""

    def convert(self, value, param, ctx):
        name = "/".join(param.opts) if param is not None else "value"
        try:
            number = self._number_class(value)
        except (TypeError, ValueError, OverflowError):
            raise InputError(f"{name} {value!r}: not {self.what}") from None
        if isinstance(number, float) and not math.isfinite(number):
            raise InputError(f"{name} {value}: not a finite number")
        low, high = self.min, self.max
        if low is not None and (number < low or (self.min_open and number == low)):
            bound = f"above {low}" if self.min_open else f"at least {low}"
            raise InputError(f"{name} must be {bound} (got {value})")
        if high is not None and (number > high or (self.max_open and number == high)):
            bound = f"below {high:,}" if self.max_open else f"at most {high:,}"
            raise InputError(f"{name} must be {bound} (got {value}){self.hint}")
        return number


class FiniteFloat(_Bounded, click.FloatRange):
    """A float within [low, high] (either bound optional, ``low_open`` excludes low)."""

    what = "a number"

    def __init__(self, low=None, high=None, low_open=False, high_open=False, hint=""):
        super().__init__(low, high, min_open=low_open, max_open=high_open)
        self.hint = hint


class BoundedInt(_Bounded, click.IntRange):
    """An integer within [low, high]."""

    what = "an integer"

    def __init__(self, low=0, high=MAX_COUNT):
        super().__init__(low, high)


COST = FiniteFloat(
    0, MAX_COST, hint=f" (a price per label above {MAX_COST:,} is cents, or a total: give the rate)"
)
FRACTION = FiniteFloat(0, 1)
IOU = FiniteFloat(0, 1, low_open=True)
SEED = BoundedInt(0, MAX_SEED)
COUNT = BoundedInt(1, MAX_COUNT)
