from __future__ import annotations

import click

from labelspec.cli.options import current_repo
from labelspec.cli.output import json_option, write_json
from labelspec.cli.verify import render
from labelspec.errors import VerifyError


@click.command("push")
@click.option("--remote", help="git remote [default: origin, or the only one].")
@json_option
def push_command(remote, as_json) -> None:
    """Upload the data to the DVC remote, then push the branch and tags to the git remote.

    Data goes first, so the git remote never holds a commit whose data is missing. A push the
    git remote rejects says to `labelspec pull` first.

    \b
    Example:
      labelspec push
    """
    from labelspec.store.remotes import push  # lazy: loaded when it runs

    result = push(current_repo(), remote)
    if as_json:
        write_json(result)
        return
    click.echo(f"Pushed {result.pushed} file(s) to DVC remote {result.remote}")
    if result.git_pushed:
        click.echo(f"Pushed {result.branch} and tags to git remote {result.git_remote}")
    else:
        click.echo("No git remote (or a detached HEAD): commits were not pushed", err=True)


@click.command("pull")
@click.option("--remote", help="git remote [default: origin, or the only one].")
@click.option("--no-git", is_flag=True, help="Only fetch the data of the current commit.")
@json_option
def pull_command(remote, no_git, as_json) -> None:
    """`git pull` (merge), then download the data of HEAD, then verify.

    \b
    Example:
      git clone URL labels && cd labels && labelspec pull
    """
    from labelspec.store.remotes import pull  # lazy: loaded when it runs

    result = pull(current_repo(), remote, git=not no_git)
    if as_json:
        write_json(result)
    else:
        for line in result.git:
            click.echo(f"git: {line}")
        click.echo(f"Pulled {result.pulled} file(s) from DVC remote {result.remote}")
        render(result.verify)
    if result.verify.problems:
        raise VerifyError(f"verify found {len(result.verify.problems)} problem(s) after the pull")
