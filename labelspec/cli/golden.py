from __future__ import annotations

from pathlib import Path

import click

from labelspec.cli.options import current_repo, images_were_option
from labelspec.cli.output import json_option, table, write_json
from labelspec.formats import FORMATS


@click.group("golden")
def golden_group() -> None:
    """Expert golden sets, kept beside the labels and never mixed into them.

    \b
    Example:
      labelspec golden add digits expert.jsonl --format jsonl --name expert
      labelspec golden list digits
    """


@golden_group.command("add")
@click.argument("dataset")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True)
@click.option(
    "--name",
    default="golden",
    show_default=True,
    help="Golden set name; adding again makes a new version.",
)
@click.option(
    "--guideline",
    "guideline_ref",
    metavar="NAME@VERSION",
    help="Version the experts followed [default: the newest release].",
)
@click.option(
    "--labeler",
    default="expert",
    show_default=True,
    help="Who made the labels (need not be in the roster).",
)
@images_were_option
@json_option
def add_command(dataset, file, fmt, name, guideline_ref, labeler, images_were, as_json) -> None:
    """Validate expert labels like an import and store them as a new golden-set version.

    An expert's "no objects here" (an empty answer: see `labels import --help`) makes the item a
    golden negative: every box a vendor draws on it is an extra box.

    \b
    Example:
      labelspec golden add digits expert.jsonl --format jsonl --name expert
      labelspec golden add street expert.coco.json --format coco --images-were all
    """
    from labelspec.store.golden import add_golden  # lazy: loaded when it runs

    result = add_golden(
        current_repo(), dataset, file, fmt, name, guideline_ref, labeler, images_were
    )
    if as_json:
        write_json(result)
    else:
        click.echo(
            f"Stored golden set {name} v{result['version']} ({result['batch']}): {result['labels']} labels "
            f"on {result['items']} items ({dataset})"
        )


@golden_group.command("list")
@click.argument("dataset")
@json_option
def list_command(dataset, as_json) -> None:
    """List the golden sets of DATASET.

    \b
    Example:
      labelspec golden list digits --json
    """
    from labelspec.store.golden import list_golden  # lazy: loaded when it runs

    rows = list_golden(current_repo(), dataset)
    if as_json:
        write_json(rows)
        return
    table(
        None,
        ["set", "versions", "items", "labels", "guideline", "created"],
        [
            (
                r["name"],
                ", ".join(f"v{v}" for v in r["versions"]),
                r["items"],
                r["labels"],
                r["guideline_version"],
                r["created"],
            )
            for r in rows
        ],
    )
