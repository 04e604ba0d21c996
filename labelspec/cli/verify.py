from __future__ import annotations

import click

from labelspec.cli.output import json_option, write_json


@click.command("verify")
@click.option("--dataset", help="Only this dataset.")
@json_option
def verify_command(dataset, as_json) -> None:
    """Check that the label store matches its history; exit 1 with every problem otherwise.

    Every batch matches its sha256 in the snapshot manifest and is in the DVC cache; every
    label's guideline version is a released tag with a matching digest; every training id exists.

    \b
    Example:
      labelspec verify
    """
    from labelspec.errors import LabelspecError
    from labelspec.labels.verify import verify
    from labelspec.workspace import open_workspace

    report = verify(open_workspace(), dataset)
    if as_json:
        write_json(report.to_dict())
    else:
        for problem in report.problems:
            click.echo(f"problem: {problem}")
        for warning in report.warnings:
            click.echo(f"warning: {warning}")
        checked = ", ".join(
            f"{d}: {c['batches']} batches, {c['labels']} labels" for d, c in report.checked.items()
        )
        if report.ok:
            click.echo(f"ok: {checked or 'no labels yet'}")
    if not report.ok:
        raise LabelspecError(f"verify found {len(report.problems)} problem(s)")
