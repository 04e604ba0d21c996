from __future__ import annotations

import click

from labelspec.cli.options import current_repo
from labelspec.cli.output import json_option, note, write_json


@click.group("tool")
def tool_group() -> None:
    """The labeling tool's side: is a pushed project ready for its labelers?

    \b
    Example:
      labelspec tool check relabel/1.1.0
    """


@tool_group.command("check")
@click.argument("plan_ref", metavar="PLAN")
@click.option(
    "--labelstudio", "url", metavar="URL", help="The server [default: the one pushed to]."
)
@json_option
def check_command(plan_ref, url, as_json) -> None:
    """Check PLAN's Label Studio project as its labelers will meet it.

    The server answers and takes the token, the project is there with its tasks, and one task's
    image loads (a wrong document root, local files serving off or an unreachable image URL
    fails with the fix). PLAN is a plan id or the --out folder of `relabel plan`.

    \b
    Example:
      labelspec tool check relabel/1.1.0
      labelspec tool check rp-20261128T101500Z-1a2b3c --labelstudio http://localhost:8080
    """
    from labelspec.lineage.labelstudio_sync import check  # lazy: loaded when it runs

    result = check(current_repo(), plan_ref, url)
    if as_json:
        write_json(result)
        return
    image = f"; image loads: {result['image']}" if result["image"] else ""
    click.echo(
        f"ok: Label Studio project {result['project']} of plan {result['plan']} at "
        f"{result['url']}: {result['tasks']} task(s){image}"
    )
    for warning in result["warnings"]:
        note(f"Warning: {warning}")
