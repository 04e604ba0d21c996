from __future__ import annotations

import click

from labelspec.cli.output import json_option, note, write_json


@click.command("init")
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option(
    "--template",
    type=click.Choice(["classification", "detection", "ner"]),
    help="Which example guideline (and dataset) to start from [default: classification].",
)
@click.option(
    "--empty",
    is_flag=True,
    help="No example guideline, dataset or sample: start your own with `guideline new`.",
)
@click.option(
    "--remote",
    metavar="URL",
    help="DVC remote for label batches, without a password (it is committed) [default: "
    "DIRECTORY.dvc-storage, or REPO-SUBFOLDER.dvc-storage beside an enclosing repository].",
)
@json_option
def init_command(
    directory: str, template: str | None, empty: bool, remote: str | None, as_json: bool
) -> None:
    """Create a labelspec workspace: git, DVC, layout, an example guideline, one commit.

    Uses the enclosing git repository when DIRECTORY is inside one. Refuses to touch an existing
    workspace or to make one inside another. With --empty, the workspace has no guideline and no
    dataset yet.

    \b
    Example:
      labelspec init my-labels --template detection
      labelspec init buses --empty && cd buses
      labelspec guideline new school-buses --task detection --classes school_bus,pickup_truck
    """
    from labelspec.init import init  # lazy: loaded when it runs

    if empty and template:
        raise click.UsageError("give --template NAME or --empty, not both")
    result = init(
        directory, template=None if empty else template or "classification", remote=remote
    )
    if as_json:
        write_json(result.to_json())
        return
    click.echo(f"Created {_article(result.template)} {result.template} workspace in {result.root}")
    if result.guideline:
        click.echo(f"  guideline  guidelines/{result.guideline}/spec.yaml")
        click.echo(f"  dataset    {result.dataset} (register items with `labelspec items add`)")
    click.echo(f"  remote     {result.remote_url}")
    click.echo(
        f"  commit     {result.commit[:10]}{' (new git repository)' if result.created_git else ''}"
    )
    if result.guideline:
        note("Next: `labelspec check` to validate the guideline.")
    else:
        note(
            "Next: `labelspec guideline new NAME --task detection|classification|multilabel|ner "
            "--classes a,b`, then `labelspec dataset add NAME --guideline GUIDELINE`."
        )


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"
