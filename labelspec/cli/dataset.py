from __future__ import annotations

import click

from labelspec.cli.options import current_repo
from labelspec.cli.output import json_option, note, write_json


@click.group("dataset")
def dataset_group() -> None:
    """Declare the datasets of the workspace, each labeled under one guideline.

    \b
    Example:
      labelspec dataset add streets --guideline school-buses
      labelspec dataset remove digits       # the template's, before anything is added to it
    """


@dataset_group.command("add")
@click.argument("name")
@click.option(
    "--guideline", help="The guideline its labels follow [default: the only one in the workspace]."
)
@click.option("--description", help="One line on what the dataset is, for its README.")
@json_option
def add_command(name, guideline, description, as_json) -> None:
    """Declare dataset NAME in one commit: datasets/NAME/dataset.yaml (its guideline), dvc.yaml
    (its quality stage, the bake-off on its golden set) and README.md.

    Each dataset has its own dvc.yaml, so two clones that add datasets never edit one file:
    `dvc repro --all-pipelines` runs every stage and `dvc metrics show` reads every report.

    \b
    Example:
      labelspec dataset add streets --guideline school-buses --description "Street scenes"
    """
    from labelspec.store.datasets import add_dataset  # lazy: loaded when it runs

    result = add_dataset(current_repo(), name, guideline, description)
    if as_json:
        write_json(result.to_json())
        return
    click.echo(f"Added dataset {name}, labeled under {result.guideline}")
    for path in result.files:
        click.echo(f"  {path}")
    click.echo(f"  commit  {(result.commit or '')[:10]}")
    note(
        f"Next: copy items to datasets/{name}/items/<folder>/ and "
        f"`labelspec items add {name} datasets/{name}/items/<folder>`."
    )


@dataset_group.command("remove")
@click.argument("name")
@json_option
def remove_command(name, as_json) -> None:
    """Remove dataset NAME's declaration (the template's, a false start) in one commit.

    Refused while the dataset holds anything but its declaration (items, labels, golden sets,
    relabel plans, reviews): those are lineage and stay. Also takes its entry out of
    labelspec.yaml and its stages out of the top dvc.yaml, where older workspaces kept them.

    \b
    Example:
      labelspec dataset remove digits && labelspec guideline remove digits
    """
    from labelspec.store.datasets import remove_dataset  # lazy: loaded when it runs

    result = remove_dataset(current_repo(), name)
    if as_json:
        write_json(result.to_json())
        return
    click.echo(
        f"Removed dataset {name}: {', '.join(result.files)}; commit {(result.commit or '')[:10]}"
    )
    if result.kept:
        note(f"  left in datasets/{name}/ (never committed): {', '.join(result.kept)}")
