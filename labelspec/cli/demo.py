from __future__ import annotations

import click


@click.command("demo")
@click.argument("directory", default="build/demo", type=click.Path(file_okay=False))
def demo_command(directory: str) -> None:
    """Build a demo workspace in DIRECTORY and run the main flows end to end.

    Replaces DIRECTORY/workspace if it exists. Everything runs locally: git, a DVC remote in a
    folder beside the workspace, no servers.

    \b
    Example:
      labelspec demo build/demo
    """
    from labelspec.demo.story import run_demo

    run_demo(directory)
