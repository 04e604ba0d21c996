from __future__ import annotations

import click

from labelspec.cli.output import json_option, write_json


@click.command("push")
@json_option
def push_command(as_json) -> None:
    """Upload label batches and items to the workspace's DVC remote (then `git push`).

    \b
    Example:
      labelspec push && git push --follow-tags
    """
    from labelspec.store.remotes import push
    from labelspec.workspace import open_workspace

    result = push(open_workspace())
    if as_json:
        write_json(result)
    else:
        click.echo(f"Pushed {result['pushed']} file(s) to DVC remote {result['remote']}")


@click.command("pull")
@json_option
def pull_command(as_json) -> None:
    """Download label batches and items from the DVC remote (after `git clone` or `git pull`).

    \b
    Example:
      git clone repo labels && cd labels && labelspec pull
    """
    from labelspec.store.remotes import pull
    from labelspec.workspace import open_workspace

    result = pull(open_workspace())
    if as_json:
        write_json(result)
    else:
        click.echo(f"Pulled {result['pulled']} file(s) from DVC remote {result['remote']}")
