"""``labelspec trainset``: pinned training sets (create, show, list, diff)."""

from __future__ import annotations

import click

from labelspec.cli.output import json_option, table, write_json
from labelspec.cli.resolve import resolution_options


@click.group("trainset")
def trainset_group() -> None:
    """Pinned training sets: resolved labels under a name a model card can cite.

    \b
    Example:
      labelspec trainset create digits-v1 --dataset digits --method dawid-skene
      labelspec trainset show digits-v1
    """


def _ws():
    from labelspec.workspace import open_workspace

    return open_workspace()


@trainset_group.command("create")
@click.argument("name")
@click.option("--dataset", required=True, help="The dataset whose labels are resolved.")
@resolution_options
@click.option("-m", "--message", help="A note for the commit (what the set is for).")
@json_option
def create_command(
    name, dataset, method, snapshot, min_confidence, golden, fallback, iou, message, as_json
) -> None:
    """Resolve DATASET and pin the result as training set NAME (one file, one commit, a tag).

    The record (revision, method, parameters, the file's sha256, counts) goes into the file's
    .dvc record and into the tag trainset/NAME. A name is never reused.

    \b
    Example:
      labelspec trainset create digits-v1 --dataset digits --method dawid-skene --min-confidence 0.8
    """
    from labelspec.store.trainsets import create_trainset

    made = create_trainset(
        _ws(), name, dataset, method, snapshot, min_confidence, golden, fallback, iou, message
    )
    if as_json:
        write_json(made.to_dict())
        return
    click.echo(
        f"Pinned training set {made.name}: {made.rows} label(s) on {made.items} item(s) of "
        f"{made.dataset} at {made.snapshot}, by {made.method} -> tag trainset/{made.name}, "
        f"commit {(made.commit or '')[:10]}"
    )
    if made.low_confidence:
        click.echo(f"  left out: {made.low_confidence} low-confidence item(s) ({made.ties} tie(s))")


@trainset_group.command("show")
@click.argument("name")
@json_option
def show_command(name, as_json) -> None:
    """The record of training set NAME: revision, method, parameters, sha256, counts.

    \b
    Example:
      labelspec trainset show digits-v1 --json
    """
    from labelspec.store.trainsets import get_trainset

    found = get_trainset(_ws(), name)
    if as_json:
        write_json(found.to_dict())
        return
    rows = [
        ("dataset", found.dataset),
        ("revision", f"{found.revision} (asked: {found.snapshot})"),
        ("method", found.method),
        ("parameters", ", ".join(f"{k}={v}" for k, v in found.parameters.items()) or "-"),
        ("min confidence", found.min_confidence),
        ("labels", f"{found.rows} on {found.items} items"),
        ("left out", f"{found.low_confidence} low-confidence items ({found.ties} ties)"),
        ("suspect items", found.suspect_items),
        ("file", f"{found.file} (sha256 {found.sha256})"),
        (
            "created",
            f"{found.created}, tag trainset/{name}" + ("" if found.tagged else " (not fetched)"),
        ),
    ]
    table(f"training set {name}", ["", ""], rows)
    table(None, ["class", "labels"], found.by_class.items())


@trainset_group.command("list")
@click.option("--dataset", help="Only the training sets of this dataset.")
@json_option
def list_command(dataset, as_json) -> None:
    """List the training sets, oldest first.

    \b
    Example:
      labelspec trainset list --dataset digits
    """
    from labelspec.store.trainsets import list_trainsets

    found = list_trainsets(_ws(), dataset)
    if as_json:
        write_json([t.to_dict() for t in found])
        return
    table(
        None,
        ["name", "dataset", "method", "revision", "labels", "items", "left out", "created"],
        [
            (
                t.name,
                t.dataset,
                t.method,
                t.revision[:10],
                t.rows,
                t.items,
                t.low_confidence,
                t.created,
            )
            for t in found
        ],
    )


@trainset_group.command("diff")
@click.argument("a")
@click.argument("b")
@json_option
def diff_command(a, b, as_json) -> None:
    """Which items training sets A and B label differently.

    \b
    Example:
      labelspec trainset diff digits-v1 digits-v2
    """
    from labelspec.store.trainsets import diff_trainsets

    result = diff_trainsets(_ws(), a, b)
    if as_json:
        write_json(result)
        return
    click.echo(
        f"{a} ({result['a']['method']}) -> {b} ({result['b']['method']}): {result['same']} item(s) "
        f"the same, {result['changed']} changed, {result['only_a']} only in {a}, "
        f"{result['only_b']} only in {b}"
    )
    if result["class_changes"]:
        table(None, ["change", "items"], result["class_changes"].items())
    if result["changed_examples"]:
        click.echo("  e.g. " + ", ".join(result["changed_examples"]))
