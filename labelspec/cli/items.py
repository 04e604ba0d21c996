from __future__ import annotations

from pathlib import Path

import click

from labelspec.cli.output import json_option, table, write_json


@click.group("items")
def items_group() -> None:
    """Register the items (images, texts) of a dataset.

    \b
    Example:
      labelspec items add digits datasets/digits/items
    """


@items_group.command("add")
@click.argument("dataset")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("--guideline", help="Guideline of a new dataset [default: the only one].")
@json_option
def add_command(dataset, source, guideline, as_json) -> None:
    """Register items from a folder of images or .txt files, or a CSV / JSONL manifest.

    item_id defaults to the path relative to the folder (or the manifest's item_id column);
    extra manifest columns become segment metadata (source, camera, region, split ...).
    Paths may not leave the workspace. Items under datasets/DATASET/items/ are tracked by DVC.

    \b
    Example:
      labelspec items add digits datasets/digits/items
      labelspec items add street manifests/street.csv --guideline shapes
    """
    from labelspec.store.items import add_items
    from labelspec.workspace import open_workspace

    result = add_items(open_workspace(), dataset, source, guideline)
    if as_json:
        write_json(result.to_dict())
        return
    click.echo(
        f"{dataset}: {result.added} new item(s), {result.unchanged} unchanged, {result.total} in all"
    )
    if result.metadata_columns:
        click.echo(f"  segment columns: {', '.join(result.metadata_columns)}")
    if result.tracked:
        click.echo(f"  tracked by DVC: {', '.join(result.tracked)}")


@items_group.command("list")
@click.argument("dataset")
@click.option("--limit", type=int, default=20, show_default=True)
@json_option
def list_command(dataset, limit, as_json) -> None:
    """Show registered items.

    \b
    Example:
      labelspec items list digits --limit 5
    """
    from labelspec.store.items import read_items
    from labelspec.workspace import open_workspace

    items = read_items(open_workspace(), dataset)
    rows = (
        items.slice(0, limit)
        .drop_columns([c for c in ("text",) if c in items.column_names])
        .to_pylist()
    )
    if as_json:
        write_json({"total": items.num_rows, "items": rows})
        return
    if rows:
        table(f"{dataset}: {items.num_rows} items", list(rows[0]), [list(r.values()) for r in rows])
    else:
        click.echo(f"{dataset}: no items")
