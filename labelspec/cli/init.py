from __future__ import annotations

import click

from labelspec.cli.output import json_option, note, write_json


@click.command("init")
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option(
    "--template",
    type=click.Choice(["classification", "detection", "ner"]),
    default="classification",
    show_default=True,
    help="Which example guideline to start from.",
)
@click.option(
    "--remote", metavar="URL", help="DVC remote for label batches [default: DIRECTORY.dvc-storage]."
)
@json_option
def init_command(directory: str, template: str, remote: str | None, as_json: bool) -> None:
    """Create a labelspec workspace: git, DVC, layout, an example guideline, one commit.

    Uses the enclosing git repository when DIRECTORY is inside one. Refuses to touch an existing
    workspace.

    \b
    Example:
      labelspec init my-labels --template detection
    """
    from labelspec.init import init

    result = init(directory, template=template, remote=remote)
    if as_json:
        write_json(result.to_dict())
        return
    click.echo(f"Created a {template} workspace in {result.root}")
    click.echo(f"  guideline  guidelines/{result.guideline}/spec.yaml")
    click.echo(f"  dataset    {result.dataset} (register items with `labelspec items add`)")
    click.echo(f"  remote     {result.remote_url}")
    click.echo(
        f"  commit     {result.commit[:10]}{' (new git repository)' if result.created_git else ''}"
    )
    note("Next: `labelspec check` to validate the guideline.")
