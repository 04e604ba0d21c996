from __future__ import annotations

import click

from labelspec.cli.items import files_lines
from labelspec.cli.options import current_repo
from labelspec.cli.output import json_option, write_json
from labelspec.errors import VerifyError


@click.command("verify")
@click.option("--dataset", help="Only this dataset.")
@click.option(
    "--since",
    metavar="REV",
    help="Only the commits after REV, and the batches and items they added (CI on each push).",
)
@json_option
def verify_command(dataset, since, as_json) -> None:
    """Check that the store at HEAD matches its history; exit 5 with every problem otherwise.

    Every batch, item manifest and golden version matches its record (md5 and sha256, in the
    working copy and the DVC cache); every registered item file is committed to git or listed
    by a DVC record whose bytes are here (`labelspec pull` fetches them, `labelspec upgrade`
    tracks files left untracked); every label's guideline version is a released tag with a
    matching digest; every training id exists. Works the same on merged histories.

    Across the history: a batch, item manifest, golden or review record never changes after
    the commit that added it; a batch leaves the current labels only through `labels retract`;
    labelers/*.jsonl and retractions.jsonl only gain lines (a merge keeps both parents' lines);
    item files have the sha256 recorded when they were registered. Each problem names the
    commit, the file, what changed and the repair.

    Warnings (exit 0, the history is intact): a labeler with two current answers on one item
    from relabel merges; an item open in two open relabel plans (two clones each planned it).

    \b
    Example:
      labelspec verify
      labelspec verify --since origin/main
    """
    from labelspec.labels.verify import verify  # lazy: loaded when it runs

    report = verify(current_repo(), dataset, since)
    if as_json:
        write_json(report.to_json())
    else:
        render(report)
    if not report.ok:
        raise VerifyError(f"verify found {len(report.problems)} problem(s)")


def render(report) -> None:
    for problem in report.problems:
        click.echo(f"problem: {problem}")
    for warning in report.warnings:
        click.echo(f"warning: {warning}")
    checked = ", ".join(
        f"{d}: {c['batches']} batches, {c['labels']} labels"
        + (f" and {c['empty_answers']} empty answer(s)" if c["empty_answers"] else "")
        for d, c in report.checked.items()
        if c["batches"]
    )
    if report.ok:
        click.echo(f"ok: {checked or 'no labels yet'}")


@click.command("recover")
@json_option
def recover_command(as_json) -> None:
    """Finish or undo a write that a killed labelspec process left half done.

    Every write does this first anyway; run it when `verify` reports an interrupted write.

    \b
    Example:
      labelspec recover
    """
    from labelspec.transaction import recover  # lazy: loaded when it runs

    done = recover(current_repo())
    if as_json:
        write_json({"repaired": done})
    else:
        click.echo("\n".join(done) if done else "nothing to recover")


@click.command("upgrade")
@json_option
def upgrade_command(as_json) -> None:
    """Move a workspace to the current store layout and track its item files, in one commit
    (verified after).

    Layout 2 gives every label batch, item manifest and golden version its own .dvc record
    and the labelers' records one line each, so clones that write at once merge with git.
    Registered item files present in the workspace but neither in git nor in a DVC record are
    tracked as `items add` tracks them now; missing ones are listed.

    \b
    Example:
      labelspec upgrade && labelspec verify
    """
    from labelspec.upgrade import upgrade  # lazy: loaded when it runs

    ws = current_repo()
    result = upgrade(ws)
    if as_json:
        write_json(result.to_json())
    elif result.up_to_date:
        click.echo(
            f"already up to date: {ws.root} uses the current layout and every item file "
            "travels; nothing to do"
        )
        return
    else:
        for name, counts in result.datasets.items():
            click.echo(
                f"{name}: {counts['batches']} batches, {counts['items']} items, "
                f"{counts['golden_versions']} golden versions"
            )
        if result.datasets:
            click.echo(f"labelers: {result.labelers}, training records: {result.training_records}")
        for name, done in result.item_files.items():
            for line in files_lines(done.files):
                click.echo(f"{name}: item files: {line}")
            if done.reregistered:
                click.echo(f"{name}: {done.reregistered} item(s) registered again at their copy")
            for ids, what in (
                (done.missing, "missing (re-add the files)"),
                (done.not_pulled, "not pulled (`labelspec pull`)"),
                (done.changed, "changed since registered (restore them, or register them anew)"),
            ):
                if ids:
                    shown = ", ".join(ids[:10]) + (", ..." if len(ids) > 10 else "")
                    click.echo(f"{name}: {len(ids)} item file(s) {what}: {shown}")
        click.echo(f"commit {(result.commit or '')[:10]}")
    if result.verify is not None and not result.verify["ok"]:
        raise VerifyError(
            "upgraded, but verify found problems: " + "; ".join(result.verify["problems"])
        )
