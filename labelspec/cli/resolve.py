"""``labelspec labels resolve``: one label per item, with confidence and lineage."""

from __future__ import annotations

from pathlib import Path

import click

from labelspec.cli.options import FRACTION, FiniteFloat, current_repo, snapshot_option
from labelspec.cli.output import json_option, note, table, write_json

METHODS = ("majority", "dawid-skene", "latest", "golden-first")  # labelspec.resolve.METHODS
SHOWN = 20  # low-confidence items listed for people; --json lists all


def resolution_options(command):
    """The options ``labels resolve`` and ``trainset create`` share."""
    for option in reversed(
        [
            click.option(
                "--method", type=click.Choice(METHODS), default="majority", show_default=True,
                help="How several labels become one.",
            ),
            snapshot_option,
            click.option(
                "--min-confidence", type=FRACTION, default=0.0, show_default=True,
                help="Items below this (or tied) are listed for relabeling, and kept out.",
            ),
            click.option(
                "--golden", "golden", metavar="SET[@vN]",
                help="Golden set for golden-first [default: the only one].",
            ),
            click.option(
                "--fallback", type=click.Choice(METHODS[:3]), default="majority", show_default=True,
                help="golden-first: how items without golden labels are resolved.",
            ),
            click.option(
                "--iou", type=FiniteFloat(0, 1, low_open=True, high_open=True), default=0.55,
                show_default=True, help="Detection: boxes overlapping more are one object.",
            ),
        ]
    ):  # fmt: skip
        command = option(command)
    return command


@click.command("resolve")
@click.argument("dataset")
@resolution_options
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write every decision (resolved, tie, rejected) here: .parquet, or .jsonl.",
)
@json_option
def resolve_command(dataset, method, snapshot, min_confidence, golden, fallback, iou, out, as_json):
    """Resolve the labels of DATASET to one per item (one set of boxes or spans per item).

    Each resolved label carries its confidence, the method, the labels it came from and
    whether the item is suspect under the newest guideline release. Ties are reported, never
    guessed. Methods: majority, dawid-skene (labeler confusion matrices by EM), latest (the
    newest annotation), golden-first (golden labels win; --fallback for the rest).

    \b
    Example:
      labelspec labels resolve digits --method dawid-skene --min-confidence 0.8 --out resolved.parquet
      labelspec labels resolve digits --method golden-first --golden expert --json
    """
    from labelspec.resolve.resolution import resolve  # lazy: loaded when it runs
    from labelspec.resolve.result import write_table  # lazy: loaded when it runs

    resolved = resolve(
        current_repo(), dataset, method, snapshot, min_confidence, golden, fallback, iou
    )
    if out is not None:
        written = write_table(resolved.table, out)
        note(f"Wrote {resolved.table.num_rows} decision(s) to {out} ({written})")
    summary = resolved.to_json()
    if as_json:
        write_json(summary)
        return
    render(summary)


def render(summary: dict) -> None:
    click.echo(
        f"{summary['dataset']} {summary['snapshot']} by {summary['method']}: "
        f"{summary['labels']} label(s) on {summary['resolved_items']} of {summary['items']} item(s); "
        f"{summary['ties']} tie(s), {summary['low_confidence']} low-confidence, "
        f"{summary['suspect_items']} suspect"
    )
    if summary["by_class"]:
        table(None, ["class", "labels"], summary["by_class"].items())
    if summary["labeler_quality"]:
        table(None, ["labeler", "estimated accuracy"], summary["labeler_quality"].items())
    low = summary["low_confidence_items"]
    if low:
        shown = ", ".join(low[:SHOWN]) + (
            f" ... and {len(low) - SHOWN} more" if len(low) > SHOWN else ""
        )
        click.echo(f"To relabel (tie or below {summary['min_confidence']}): {shown}")
