"""The ``labelspec`` command line: thin click commands over the library.

Each command parses its flags, makes one library call and renders the result. Errors from the
library (``LabelspecError``) become ``Error: ...`` on stderr and a non-zero exit here, once.
"""

from __future__ import annotations

import importlib
import sys
import traceback

import click

from labelspec import __version__
from labelspec.errors import LabelspecError, ProblemsError

# command name -> "module:attribute"; imported only when the command runs or help lists it.
COMMANDS = {
    "check": "labelspec.cli.check:check_command",
    "dataset": "labelspec.cli.dataset:dataset_group",
    "demo": "labelspec.cli.demo:demo_command",
    "golden": "labelspec.cli.golden:golden_group",
    "guideline": "labelspec.cli.guideline:guideline_group",
    "init": "labelspec.cli.init:init_command",
    "items": "labelspec.cli.items:items_group",
    "labeler": "labelspec.cli.labeler:labeler_group",
    "labels": "labelspec.cli.labels:labels_group",
    "pull": "labelspec.cli.remote:pull_command",
    "push": "labelspec.cli.remote:push_command",
    "qa": "labelspec.cli.qa:qa_group",
    "recover": "labelspec.cli.verify:recover_command",
    "relabel": "labelspec.cli.relabel:relabel_group",
    "schema": "labelspec.cli.schema:schema_command",
    "site": "labelspec.cli.site:site_group",
    "trace": "labelspec.cli.trace:trace_group",
    "trainset": "labelspec.cli.trainset:trainset_group",
    "upgrade": "labelspec.cli.verify:upgrade_command",
    "verify": "labelspec.cli.verify:verify_command",
}


class LabelspecGroup(click.Group):
    """A click group that loads subcommands lazily and maps library errors to exit codes."""

    def __init__(self, *args, lazy: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            module, attr = self.lazy[name].split(":")
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, name)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        """Click suggests close names only among commands it has loaded: lazy ones too here."""
        import difflib

        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            close = difflib.get_close_matches(args[0], self.list_commands(ctx), n=1, cutoff=0.6)
            if close and "Did you mean" not in exc.message:
                exc.message = f"{exc.message} Did you mean {close[0]!r}?"
            raise

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except LabelspecError as exc:
            if (ctx.find_root().obj or {}).get("verbose"):
                traceback.print_exc()
            raise _CliError(exc) from exc


class _CliError(click.ClickException):
    def __init__(self, error: LabelspecError):
        super().__init__(str(error))
        self.error = error
        self.exit_code = error.exit_code

    def show(self, file=None) -> None:
        stream = file or sys.stderr
        click.echo(f"Error: {self.message}", file=stream)
        if isinstance(self.error, ProblemsError) and not getattr(self.error, "shown", False):
            for problem in self.error.problems:
                click.echo(f"  {problem}", file=stream)
            hidden = self.error.total - len(self.error.problems)
            if hidden > 0:
                click.echo(f"  ... and {hidden} more", file=stream)


def group(name: str, help_text: str, lazy: dict[str, str]) -> LabelspecGroup:
    """A lazily loaded command group (``labelspec guideline ...``)."""
    return LabelspecGroup(name=name, help=help_text, lazy=lazy)


@click.group(
    cls=LabelspecGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(__version__, "--version", prog_name="labelspec")
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks and debug logs on errors.")
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="No progress bars (none are drawn anyway when stderr is not a terminal).",
)
@click.pass_context
def cli(ctx: click.Context, verbose: bool, quiet: bool) -> None:
    """Labeling guidelines as versioned docs, and labels with lineage, on git + DVC.

    \b
    Example:
      labelspec init my-labels && cd my-labels
      labelspec check
    """
    ctx.ensure_object(dict)["verbose"] = verbose
    from labelspec.progress import set_quiet

    set_quiet(quiet)


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="labelspec")
