"""The ``labelspec`` command line: thin click commands over the library.

Each command parses its flags, makes one library call and renders the result. Errors from the
library (``LabelspecError``) become ``Error: ...`` on stderr and a non-zero exit here, once.
"""

from __future__ import annotations

import difflib
import importlib
import sys
import traceback

import click

from labelspec import __version__
from labelspec.errors import LabelspecError, ProblemsError
from labelspec.progress import set_quiet

# command name -> where it lives ("module:attribute", imported only when it runs) and the line
# `labelspec --help` shows for it, so listing the commands imports none of them (each command
# module imports the library, and with it duckdb, pyarrow and dvc, at module level).
COMMANDS = {
    "check": (
        "labelspec.cli.check:check_command",
        "Validate every guideline of the workspace and list all problems at once.",
    ),
    "dataset": (
        "labelspec.cli.dataset:dataset_group",
        "Declare the datasets of the workspace, each labeled under one guideline.",
    ),
    "demo": (
        "labelspec.cli.demo:demo_command",
        "Build demo workspaces in DIRECTORY and run the main flows end to end.",
    ),
    "golden": (
        "labelspec.cli.golden:golden_group",
        "Expert golden sets, kept beside the labels and never mixed into them.",
    ),
    "guideline": (
        "labelspec.cli.guideline:guideline_group",
        "Start, release, review, diff and browse guidelines.",
    ),
    "init": (
        "labelspec.cli.init:init_command",
        "Create a labelspec workspace: git, DVC, layout, an example guideline, one commit.",
    ),
    "items": (
        "labelspec.cli.items:items_group",
        "Register the items (images, texts) of a dataset.",
    ),
    "labeler": (
        "labelspec.cli.labeler:labeler_group",
        "Labelers, their training records, quizzes, and who must be retrained.",
    ),
    "labels": (
        "labelspec.cli.labels:labels_group",
        "Import labels with lineage; browse, diff and export snapshots.",
    ),
    "pull": (
        "labelspec.cli.remote:pull_command",
        "`git pull` (merge), then download the data of HEAD, then verify.",
    ),
    "push": (
        "labelspec.cli.remote:push_command",
        "Upload the data to the DVC remote, then push the branch and tags to the git remote.",
    ),
    "qa": (
        "labelspec.cli.qa:qa_group",
        "Trust but verify: vendor bake-offs, agreement, disagreements, samples, guideline gaps.",
    ),
    "recover": (
        "labelspec.cli.verify:recover_command",
        "Finish or undo a write that a killed labelspec process left half done.",
    ),
    "relabel": (
        "labelspec.cli.relabel:relabel_group",
        "Plan relabeling after a guideline change, and merge the results back.",
    ),
    "schema": (
        "labelspec.cli.schema:schema_command",
        "Print the JSON Schema of spec.yaml, for editor completion and validation.",
    ),
    "site": (
        "labelspec.cli.site:site_group",
        "The instruction site for labelers: build, publish one version per release, serve.",
    ),
    "tool": (
        "labelspec.cli.tool:tool_group",
        "The labeling tool's side: is a pushed project ready for its labelers?",
    ),
    "trace": (
        "labelspec.cli.trace:trace_group",
        "Lineage of labels, and the impact of a guideline change.",
    ),
    "trainset": (
        "labelspec.cli.trainset:trainset_group",
        "Pinned training sets: resolved labels under a name a model card can cite.",
    ),
    "upgrade": (
        "labelspec.cli.verify:upgrade_command",
        "Move a workspace to the current store layout and track its item files, in one commit (verified after).",
    ),
    "verify": (
        "labelspec.cli.verify:verify_command",
        "Check that the store at HEAD matches its history; exit 5 with every problem otherwise.",
    ),
}


class LabelspecGroup(click.Group):
    """A click group that loads subcommands lazily and maps library errors to exit codes."""

    def __init__(self, *args, lazy: dict[str, tuple[str, str]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            module, attr = self.lazy[name][0].split(":")
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the registry's lines: no command module is imported."""
        rows = [(name, help_text) for name, (_, help_text) in sorted(self.lazy.items())]
        rows += [
            (name, command.get_short_help_str(limit=formatter.width))
            for name, command in sorted(self.commands.items())
            if name not in self.lazy and not command.hidden
        ]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        """Click suggests close names only among commands it has loaded: lazy ones too here."""

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

    set_quiet(quiet)


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="labelspec")
