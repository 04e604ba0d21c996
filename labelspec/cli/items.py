from __future__ import annotations

from pathlib import Path

import click

from labelspec.cli.options import BoundedInt, current_repo
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
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--guideline", help="Guideline of a new dataset [default: the only one].")
@json_option
def add_command(dataset, sources, guideline, as_json) -> None:
    """Register items from a folder of images or .txt files, a CSV / JSONL manifest, or item files.

    item_id defaults to the path relative to the folder (the files' common folder for item
    files; the manifest's item_id column); extra manifest columns become segment metadata
    (source, camera, region, split ...). Paths may not leave the workspace.

    A manifest's paths are relative to the manifest's own folder (as in a web page or a
    Markdown file), not to the workspace or the current folder: manifests/day1.csv names
    datasets/street/items/day1/a.jpg as ../datasets/street/items/day1/a.jpg. Absolute paths
    work too.

    Every item file travels with the workspace: files committed to git or listed by a DVC
    record stay; an untracked folder under datasets/DATASET/items/ is tracked in place; other
    files are copied (moved, from inside datasets/DATASET/items/) to
    datasets/DATASET/files/<add-id>/, tracked by DVC, and registered there. Remote items (uri
    only) are not stored in the workspace.

    \b
    Example:
      labelspec items add digits datasets/digits/items/delivery-1
      labelspec items add street manifests/street.csv --guideline shapes
      labelspec items add digits scans/a.png scans/b.png
    """
    from labelspec.store.items import add_items  # lazy: loaded when it runs

    result = add_items(current_repo(), dataset, list(sources), guideline)
    if as_json:
        write_json(result.to_json())
        return
    click.echo(
        f"{dataset}: {result.added} new item(s), {result.unchanged} unchanged, {result.total} in all"
    )
    if result.metadata_columns:
        click.echo(f"  segment columns: {', '.join(result.metadata_columns)}")
    if result.tracked:
        click.echo(f"  tracked by DVC: {', '.join(result.tracked)}")
    for line in files_lines(result.files):
        click.echo(f"  item files: {line}")
    if result.reregistered:
        click.echo(f"  {result.reregistered} registered item(s) now point at their tracked copy")
    if result.remote:
        more = ", ..." if result.remote > len(result.remote_examples) else ""
        click.echo(
            f"  {result.remote} remote item(s) (uri only) not stored in the workspace: "
            f"{', '.join(result.remote_examples)}{more}"
        )


def files_lines(files) -> list[str]:
    """What happened to the item files (an add's or an upgrade's ``Placed``), one line each."""
    lines = [f"{n} tracked in place by {record}" for record, n in files.in_place.items()]
    if files.copied or files.moved:
        done = ", ".join(
            f"{n} {verb}" for n, verb in ((files.copied, "copied"), (files.moved, "moved")) if n
        )
        lines.append(f"{done} to {files.folder}/ (tracked by {files.record})")
    stayed = ", ".join(
        f"{n} {where}"
        for n, where in ((files.in_git, "in git"), (files.in_dvc, "in DVC records"))
        if n
    )
    if stayed:
        lines.append(f"already travelling: {stayed}")
    return lines


@items_group.command("list")
@click.argument("dataset")
@click.option("--limit", type=BoundedInt(0), default=20, show_default=True)
@json_option
def list_command(dataset, limit, as_json) -> None:
    """Show registered items.

    \b
    Example:
      labelspec items list digits --limit 5
    """
    from labelspec.store.items import read_items  # lazy: loaded when it runs

    items = read_items(current_repo(), dataset)
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
