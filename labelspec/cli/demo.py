from __future__ import annotations

import click

TASKS = ("all", "classification", "detection")


@click.command("demo")
@click.argument("directory", default="build/demo", type=click.Path(file_okay=False))
@click.option(
    "--task",
    type=click.Choice(TASKS),
    default="all",
    show_default=True,
    help="classification: the digits story; detection: the school-bus story; all: both.",
)
def demo_command(directory: str, task: str) -> None:
    """Build demo workspaces in DIRECTORY and run the main flows end to end.

    The digits story (DIRECTORY/workspace) and the school-bus detection story
    (DIRECTORY/streets), with a bare origin and clones beside them. A rerun replaces these
    folders, but only in a DIRECTORY a demo made (it holds .labelspec-demo); otherwise the demo
    refuses and removes nothing. Everything runs locally: git, a DVC remote in a folder beside
    each workspace, no servers.

    \b
    Example:
      labelspec demo build/demo
      labelspec demo build/demo --task detection
    """
    from labelspec.demo.detection import run_detection  # lazy: loaded when it runs
    from labelspec.demo.story import run_demo  # lazy: loaded when it runs

    if task in ("all", "classification"):
        run_demo(directory)
    if task in ("all", "detection"):
        run_detection(directory)
