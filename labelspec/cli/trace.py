from __future__ import annotations

import json

import click

from labelspec.cli.options import current_repo, snapshot_option, version_option
from labelspec.cli.output import json_option, table, write_json


@click.group("trace")
def trace_group() -> None:
    """Lineage of labels, and the impact of a guideline change.

    \b
    Example:
      labelspec trace impact digits --guideline digits
      labelspec trace item digits digit-0001.png
    """


@trace_group.command("item")
@click.argument("dataset")
@click.argument("item_id")
@snapshot_option
@json_option
def item_command(dataset, item_id, snapshot, as_json) -> None:
    """Every annotation ITEM_ID has had: batch, commit, labeler, training, guideline version.

    \b
    Example:
      labelspec trace item digits digit-0001.png
    """
    from labelspec.lineage.trace import trace_item  # lazy: loaded when it runs
    from labelspec.store.schema import NO_OBJECTS  # lazy: loaded when it runs

    result = trace_item(current_repo(), dataset, item_id, snapshot)
    if as_json:
        write_json(result)
        return
    item = result["item"]
    click.echo(f"{dataset} / {item_id}  ({item.get('path') or item.get('uri') or ''})")
    for a in result["annotations"]:
        state = "current" if a["current"] else f"superseded by {a['superseded_by']}"
        classes = ", ".join(label["class"] or NO_OBJECTS for label in a["labels"])
        click.echo(f"  {a['annotation_id']}  {classes:<12} {state}")
        training = a["training"]
        trained = (
            f"{training['id']} ({training['method']} {training['score']:.0%}, {training['date']})"
            if training
            else ("none (before adoption)" if a.get("before_adoption") else "NO covering training")
        )
        if a["covered_by"] and a["covered_by"] != (training or {}).get("id"):
            trained += f" at import; covered now by {a['covered_by']}"
        click.echo(
            f"      batch {a['batch']} (commit {(a['commit'] or 'uncommitted')[:10]}) from {a['source']} ({a['format']}"
            + (f", {a['delivery']}" if a.get("delivery") else "")
            + (f" {json.dumps(a['source_ids'], sort_keys=True)}" if a.get("source_ids") else "")
            + f"); labeler {a['labeler']}, "
            f"training {trained}"
        )
        # an empty answer has no class page: the release's home page instead
        pages = [label["page"] for label in a["labels"] if label["page"]]
        page = pages[0] if pages else f"{a['guideline']}/{a['guideline_version']}/"
        click.echo(
            f"      guideline {a['guideline']} {a['guideline_version']} {a['guideline_digest'][:19]}; "
            f"page {page}"
            + (f"; supersedes {', '.join(a['supersedes'])}" if a["supersedes"] else "")
        )


@trace_group.command("impact")
@click.argument("dataset")
@click.option("--guideline", required=True, help="Guideline name.")
@version_option("--from", "from_", help="Only labels made under this version or later.")
@version_option("--to", help="Judge against this release [default: the newest].")
@click.option(
    "--by", "by", multiple=True, help="Also segment by this item metadata column (repeatable)."
)
@click.option(
    "--preview", is_flag=True, help="Judge against the working tree: what would an edit cost?"
)
@snapshot_option
@json_option
def impact_command(dataset, guideline, from_, to, by, preview, snapshot, as_json) -> None:
    """Current labels made suspect by guideline changes, grouped into segments.

    A label is suspect when it was made under a version older than the target and its class, or
    a class it is confusable with, changed since; or when no passing training record covers it:
    one on a version covering the label's, dated on or before the label. Every record present
    at the revision read counts; its date, not when it was recorded, decides.

    \b
    Example:
      labelspec trace impact digits --guideline digits --by split
      labelspec trace impact digits --guideline digits --preview    # before releasing an edit
    """
    from labelspec.lineage.trace import impact  # lazy: loaded when it runs

    result = impact(current_repo(), dataset, guideline, from_, to, list(by), preview, snapshot)
    if as_json:
        write_json(result.to_json())
        return
    share = result.affected_labels / result.total_labels if result.total_labels else 0
    click.echo(
        f"{guideline} -> {result.to_version}: {result.affected_labels} of {result.total_labels} current labels "
        f"({share:.1%}) on {result.affected_items} items are suspect"
    )
    for version, classes in result.affected_classes.items():
        click.echo(f"  made under {version}: classes {', '.join(classes)}")
    reasons = result.by_reason
    click.echo(
        f"  reasons: {reasons['affected']} changed class, {reasons['confusable']} confusable class, {reasons['untrained']} untrained labeler"
    )
    if result.segments:
        keys = list(result.segments[0]["key"])
        table(
            "segments",
            [*keys, "labels", "items", "why"],
            [
                (
                    *s["key"].values(),
                    s["labels"],
                    s["items"],
                    ", ".join(f"{k} {v}" for k, v in s["reasons"].items()),
                )
                for s in result.segments
            ],
        )


@trace_group.command("labeler")
@click.argument("dataset")
@click.argument("labeler_id", metavar="ID")
@snapshot_option
@json_option
def labeler_command(dataset, labeler_id, snapshot, as_json) -> None:
    """A labeler's current labels, split by whether their training covered the version used.

    Covered: a passing record present at the revision read, on a version covering the label's
    and dated on or before the label (its date decides, not when it was recorded).

    \b
    Example:
      labelspec trace labeler digits vB-01
    """
    from labelspec.lineage.trace import trace_labeler  # lazy: loaded when it runs

    result = trace_labeler(current_repo(), dataset, labeler_id, snapshot)
    if as_json:
        write_json(result)
        return
    covered, uncovered = result["covered"], result["uncovered"]
    empty = covered["empty"] + uncovered["empty"]
    click.echo(
        f"{labeler_id} in {dataset}: {covered['labels']} labels covered by training, "
        f"{uncovered['labels']} not covered"
        + (f"; {empty} empty answer(s) (no objects)" if empty else "")
    )
    table(
        None,
        ["guideline", "version", "covered", "training", "labels", "by class"],
        [
            (
                e["guideline"],
                e["version"],
                "yes" if e["covered"] else "NO",
                ", ".join(e["training_ids"]) or "-",
                e["labels"],
                ", ".join(f"{k} {v}" for k, v in sorted(e["by_class"].items())),
            )
            for e in result["by_version"]
        ],
    )
