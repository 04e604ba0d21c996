from __future__ import annotations

import click

from labelspec.cli.output import json_option, write_json
from labelspec.errors import InputError


@click.command("check")
@click.argument("path", default=".", type=click.Path(exists=True))
@json_option
def check_command(path: str, as_json: bool) -> None:
    """Validate every guideline of the workspace and list all problems at once.

    PATH may be the workspace, a guideline folder or a file inside it. Each problem is printed as
    file:line:col: key.path: message. Exits 1 when there are errors; warnings alone exit 0.

    \b
    Example:
      labelspec check
      labelspec check guidelines/digits --json
    """
    from labelspec.guideline.check import check  # lazy: loaded when it runs

    report = check(path)
    if as_json:
        write_json(report.to_json())
    else:
        for problem in report.errors:
            click.echo(str(problem))
        for problem in report.warnings:
            click.echo(f"warning: {problem}")
    summary = (
        f"{len(report.errors)} error(s), {len(report.warnings)} warning(s) "
        f"in {len(report.guidelines)} guideline(s)"
    )
    if not report.ok:
        raise InputError(f"check failed: {summary}")
    if not as_json:
        click.echo(f"ok: {summary}")
