"""``labelspec trainset``: pinned training sets (create, show, list, diff, export, card)."""

from __future__ import annotations

from pathlib import Path

import click

from labelspec.cli.options import SEED, current_repo
from labelspec.cli.output import json_option, note, table, write_json
from labelspec.cli.resolve import resolution_options

LEFT_OUT = {
    "low_confidence": "low confidence (a tie, or below --min-confidence)",
    "suspect": "suspect under the newest release",
    "not_suspect": "not suspect (--suspect only)",
    "golden_duplicate": "the same content as a golden item of the eval split",
}


@click.group("trainset")
def trainset_group() -> None:
    """Pinned training sets: resolved labels under a name a model card can cite.

    \b
    Example:
      labelspec trainset create digits-v1 --dataset digits --method dawid-skene
      labelspec trainset show digits-v1
    """


@trainset_group.command("create")
@click.argument("name")
@click.option("--dataset", required=True, help="The dataset whose labels are resolved.")
@resolution_options
@click.option(
    "--split", "split", metavar="NAME=SHARE,...",
    help="Split by a hash of the item id, e.g. train=0.8,val=0.1,test=0.1 (stable as items "
    "arrive). [default: every item in train]",
)  # fmt: skip
@click.option("--seed", type=SEED, default=0, show_default=True, help="The seed of --split.")
@click.option("--split-by", metavar="COLUMN", help="Split by an item segment column instead.")
@click.option(
    "--golden-into", type=click.Choice(["eval", "train"]), default="eval", show_default=True,
    help="Golden items: the eval split (never trained on), or resolved and split like the rest.",
)  # fmt: skip
@click.option(
    "--suspect", type=click.Choice(["exclude", "include", "only"]), default="exclude",
    show_default=True, help="Items suspect under the newest guideline release.",
)  # fmt: skip
@click.option("-m", "--message", help="A note for the commit (what the set is for).")
@json_option
def create_command(
    name, dataset, method, snapshot, min_confidence, golden, fallback, iou, split, seed, split_by,
    golden_into, suspect, message, as_json,
) -> None:  # fmt: skip
    """Resolve DATASET and pin the result as training set NAME (one file, one commit, a tag).

    Golden items become the eval split; items that are tied, below --min-confidence or suspect
    under the newest release stay out and are counted; the rest are split by --split or
    --split-by. The record (revision, method, parameters, split, what was left out, the file's
    sha256, counts) goes into the file's .dvc record and into the tag trainset/NAME. A name is
    never reused.

    \b
    Example:
      labelspec trainset create streets-v1 --dataset streets --method dawid-skene \\
          --min-confidence 0.8 --split train=0.8,val=0.1,test=0.1 --seed 7
      labelspec trainset create streets-v2 --dataset streets --split-by split
    """
    from labelspec.resolve.pin import create_trainset  # lazy: loaded when it runs

    made = create_trainset(
        current_repo(), name, dataset, method, snapshot, min_confidence, golden, fallback, iou, message,
        split=split, seed=seed, split_by=split_by, golden_into=golden_into, suspect=suspect,
    )  # fmt: skip
    if as_json:
        write_json(made.to_json())
        return
    click.echo(
        f"Pinned training set {made.name}: {made.rows} label(s) on {made.items} item(s) of "
        f"{made.dataset} at {made.snapshot}, by {made.method} -> tag trainset/{made.name}, "
        f"commit {(made.commit or '')[:10]}"
    )
    click.echo(
        "  splits: "
        + ", ".join(f"{name} {entry['items']}" for name, entry in made.ordered_splits())
        + " item(s)"
    )
    for line in _left_out_lines(made):
        click.echo(f"  left out: {line}")
    if made.duplicate_items:
        click.echo(f"  duplicates: {_duplicates_text(made)}")


def _duplicates_text(made) -> str:
    return f"{made.duplicate_items} item(s) with the content of a smaller id follow its split"


def _left_out_lines(made) -> list[str]:
    lines = []
    for reason, count in made.left_out.items():
        if count:
            text = LEFT_OUT.get(reason, reason)
            if reason == "low_confidence":
                text += f", {made.ties} tie(s)"
            if reason in ("suspect", "not_suspect") and made.suspect_release:
                text = text.replace("the newest release", made.suspect_release)
            lines.append(f"{count} item(s): {text}")
    if not made.left_out and made.low_confidence:  # sets pinned before splits
        lines.append(f"{made.low_confidence} low-confidence item(s) ({made.ties} tie(s))")
    return lines


@trainset_group.command("show")
@click.argument("name")
@json_option
def show_command(name, as_json) -> None:
    """The record of training set NAME: revision, method, splits, what was left out and why.

    \b
    Example:
      labelspec trainset show digits-v1 --json
    """
    from labelspec.store.trainsets import EMPTY_ITEMS, get_trainset  # lazy: loaded when it runs

    found = get_trainset(current_repo(), name)
    if as_json:
        write_json(found.to_json())
        return
    golden = (
        f"{found.golden_items} item(s) of {found.golden_set} in eval (--golden-into eval)"
        if found.golden_set
        else f"--golden-into {found.golden_into}"
    )
    rows = [
        ("dataset", found.dataset),
        ("revision", f"{found.revision} (asked: {found.snapshot})"),
        ("method", found.method),
        ("parameters", ", ".join(f"{k}={v}" for k, v in found.parameters.items()) or "-"),
        ("min confidence", found.min_confidence),
        ("labels", f"{found.rows} on {found.items} items"),
        ("split", _split_text(found.split)),
        ("golden", golden),
        ("left out", "; ".join(_left_out_lines(found)) or "nothing"),
        ("duplicates", _duplicates_text(found) if found.duplicate_items else "none"),
        (
            "suspect items",
            f"{found.suspect_items} under {found.suspect_release or '-'}, "
            f"{found.suspect_kept} kept (--suspect {found.suspect_policy})",
        ),
        ("file", f"{found.file} (sha256 {found.sha256})"),
        (
            "created",
            f"{found.created}, tag trainset/{name}" + ("" if found.tagged else " (not fetched)"),
        ),
    ]
    table(f"training set {name}", ["", ""], rows)
    if found.splits:
        classes = found.classes or sorted(found.by_class)
        empty = EMPTY_ITEMS.get(found.task)
        table(
            None,
            ["split", "items", *([empty] if empty else []), "labels", *classes],
            [
                (split, s["items"], *([s.get("background", 0)] if empty else []), s["labels"],
                 *(s["by_class"].get(c, 0) for c in classes))
                for split, s in found.ordered_splits()
            ],
        )  # fmt: skip
    else:
        table(None, ["class", "labels"], found.by_class.items())


def _split_text(split: dict) -> str:
    if split.get("by") == "ratio":
        shares = ",".join(f"{k}={v:g}" for k, v in split["ratios"])
        return f"--split {shares} --seed {split['seed']}"
    if split.get("by") == "column":
        return f"--split-by {split['column']}"
    return "none (every item in train)"


@trainset_group.command("list")
@click.option("--dataset", help="Only the training sets of this dataset.")
@json_option
def list_command(dataset, as_json) -> None:
    """List the training sets, oldest first.

    \b
    Example:
      labelspec trainset list --dataset digits
    """
    from labelspec.store.trainsets import list_trainsets  # lazy: loaded when it runs

    found = list_trainsets(current_repo(), dataset)
    if as_json:
        write_json([t.to_json() for t in found])
        return
    table(
        None,
        ["name", "dataset", "method", "revision", "labels", "items", "splits", "left out",
         "created"],
        [
            (
                t.name, t.dataset, t.method, t.revision[:10], t.rows, t.items,
                " ".join(f"{k}:{v['items']}" for k, v in t.ordered_splits()) or "-",
                sum(t.left_out.values()) if t.left_out else t.low_confidence, t.created,
            )
            for t in found
        ],
    )  # fmt: skip


@trainset_group.command("diff")
@click.argument("a")
@click.argument("b")
@json_option
def diff_command(a, b, as_json) -> None:
    """Which items training sets A and B label differently, and which moved split.

    \b
    Example:
      labelspec trainset diff digits-v1 digits-v2
    """
    from labelspec.store.trainsets import diff_trainsets  # lazy: loaded when it runs

    result = diff_trainsets(current_repo(), a, b)
    if as_json:
        write_json(result)
        return
    click.echo(
        f"{a} ({result['a']['method']}) -> {b} ({result['b']['method']}): {result['same']} item(s) "
        f"the same, {result['changed']} changed, {result['only_a']} only in {a}, "
        f"{result['only_b']} only in {b}; {result['moved_split']} moved split"
    )
    if result["class_changes"]:
        table(None, ["change", "items"], result["class_changes"].items())
    if result["changed_examples"]:
        click.echo("  e.g. " + ", ".join(result["changed_examples"]))
    if result["split_changes"]:
        table(None, ["split change", "items"], result["split_changes"].items())
        click.echo("  moved, e.g. " + ", ".join(result["moved_examples"]))


@trainset_group.command("export")
@click.argument("name")
@click.option(
    "--format", "fmt", type=click.Choice(["coco", "yolo", "jsonl"]), required=True,
    help="coco: <split>.json each; yolo: data.yaml with a list per split; jsonl: <split>.jsonl.",
)  # fmt: skip
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), required=True,
    help="The folder to write into.",
)  # fmt: skip
@json_option
def export_command(name, fmt, out, as_json) -> None:
    """Write training set NAME for a training job, one file (or image list) per split.

    Background images (items resolved as "no objects") are kept: in COCO as images with an
    empty answer, in YOLO as empty label files.

    \b
    Example:
      labelspec trainset export streets-v1 --format yolo --out build/streets-v1
    """
    from labelspec.resolve.export import write_exports  # lazy: loaded when it runs

    result = write_exports(current_repo(), name, fmt, out)
    if as_json:
        write_json(result)
        return
    click.echo(f"Wrote {name} as {fmt} to {out}: " + ", ".join(
        f"{split} {c['items']} item(s), {c['labels']} label(s)"
        for split, c in result["splits"].items()
    ))  # fmt: skip


@trainset_group.command("card")
@click.argument("name")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path),
    help="Write the card here [default: standard output].",
)  # fmt: skip
def card_command(name, out) -> None:
    """A Markdown model card of training set NAME: revision, method, splits per class, guideline
    versions, labelers and vendors, what was left out and why, the vendors' bake-off figures.

    \b
    Example:
      labelspec trainset card streets-v1 --out cards/streets-v1.md
    """
    from labelspec.resolve.card import trainset_card  # lazy: loaded when it runs

    text = trainset_card(current_repo(), name, out)
    if out is None:
        click.echo(text, nl=False)
    else:
        note(f"Wrote the card of {name} to {out}")
