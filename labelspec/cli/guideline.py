from __future__ import annotations

from pathlib import Path

import click

from labelspec.cli.options import current_repo
from labelspec.cli.output import json_option, note, table, write_json
from labelspec.errors import InputError, NotFoundError


@click.group("guideline")
def guideline_group() -> None:
    """Start, release, review, diff and browse guidelines.

    \b
    Example:
      labelspec guideline new school-buses --task detection --classes school_bus,pickup_truck
      labelspec guideline review digits --out review       # on a branch, before the PR
      labelspec guideline release digits --bump minor -m "Clarify 1 vs 7"
      labelspec guideline diff digits 1.0.0 1.1.0
    """


@guideline_group.command("new")
@click.argument("name")
@click.option(
    "--task",
    type=click.Choice(["detection", "classification", "multilabel", "ner"]),
    required=True,
    help="What labelers do: draw boxes, choose one class, choose every class that applies, "
    "or mark spans of text.",
)
@click.option("--classes", required=True, metavar="A,B,...", help="The class ids, comma-separated.")
@click.option("--title", help="The title labelers see [default: NAME in words].")
@json_option
def new_command(name, task, classes, title, as_json) -> None:
    """Start guideline NAME: a spec that `labelspec check` passes, a docs page, example slots.

    Writes guidelines/NAME/spec.yaml (version 0.0.0, each class with a placeholder definition and
    empty example lists, a rule R1, a pending first-release entry), docs/index.md and examples/,
    and commits them. Replace every TODO, add example pictures, commit; then `labelspec guideline
    release NAME` makes 1.0.0 (it warns while a TODO is left).

    \b
    Example:
      labelspec guideline new school-buses --task detection --classes school_bus,pickup_truck
      labelspec guideline new reviews --task multilabel --classes price,quality,delivery
    """
    from labelspec.guideline.scaffold import new_guideline  # lazy: loaded when it runs

    result = new_guideline(current_repo(), name, task, classes, title)
    if as_json:
        write_json(result.to_json())
        return
    click.echo(f"Created guideline {name} ({task}: {', '.join(result.classes)})")
    for path in result.files:
        click.echo(f"  {path}")
    click.echo(f"  commit  {(result.commit or '')[:10]}")
    note(
        f"Next: replace the {len(result.placeholders)} TODO(s) in guidelines/{name}/spec.yaml and "
        f"docs/index.md, add examples, `labelspec check`, commit, then "
        f"`labelspec guideline release {name}` (1.0.0); "
        f"`labelspec dataset add DATASET --guideline {name}` for its items and labels."
    )


@guideline_group.command("remove")
@click.argument("name")
@json_option
def remove_command(name, as_json) -> None:
    """Remove guideline NAME (the template `init` made, a false start) in one commit.

    Refused while a dataset is labeled under it, a training record names it, or one of its
    releases has left this clone (pushed or fetched): those name its releases, which are global.
    Release tags only this clone has are deleted with the folder, so the name can be used again.

    \b
    Example:
      labelspec dataset remove digits && labelspec guideline remove digits
    """
    from labelspec.guideline.scaffold import remove_guideline  # lazy: loaded when it runs

    result = remove_guideline(current_repo(), name)
    if as_json:
        write_json(result.to_json())
        return
    tags = f"; deleted tag(s) {', '.join(result.tags)}" if result.tags else ""
    click.echo(
        f"Removed guideline {name}: {len(result.files)} file(s){tags}; "
        f"commit {(result.commit or '')[:10]}"
    )


@guideline_group.command("release")
@click.argument("name")
@click.option(
    "--bump",
    type=click.Choice(["major", "minor", "patch"]),
    help="Which part of the version to bump (every release after the first names one).",
)
@click.option("-m", "--message", help="Extra release notes for the commit and the tag.")
@click.option(
    "--date",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Release date [default: today]; not in the future, nor before the previous release's.",
)
@click.option(
    "--tag-current", is_flag=True, help="Tag the version spec.yaml already declares (no bump)."
)
@json_option
def release_command(name, bump, message, date, tag_current, as_json) -> None:
    """Release the pending changelog entry of guideline NAME as a new version.

    Write the entry first, at the end of the changelog, with `version: unreleased`, a summary, the
    class ids it `affects` and a `relabel` policy; commit; then release. Release checks the spec,
    refuses a bump too small for the change (removed or renamed classes need major; changed
    definitions or rules need minor), stamps version and date, records the content digest,
    commits and tags guideline/NAME/vX.Y.Z.

    The first release needs no --bump: a guideline made by `guideline new` (version 0.0.0 and a
    pending entry) becomes 1.0.0, and a hand-written spec is tagged at the version it declares.

    \b
    Example:
      labelspec guideline release school-buses             # the first release: 1.0.0
      labelspec guideline release digits --bump minor -m "Clarify 1 vs 7"
    """
    from labelspec.guideline.release import release  # lazy: loaded when it runs
    from labelspec.guideline.release import tag_current as tag_current_version  # lazy: ditto

    ws = current_repo()
    if tag_current and date is not None:
        raise click.UsageError(
            "--date dates a new release; --tag-current tags the version spec.yaml declares, "
            "dated by its changelog entry: set that entry's `date:` (and commit) instead"
        )
    if tag_current:
        result = tag_current_version(ws, name, message)
    else:
        result = release(ws, name, bump, message, date.date() if date else None)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if as_json:
        write_json(result.to_json())
        return
    previous = f" (from {result.previous})" if result.previous else ""
    click.echo(f"Released {name} v{result.version}{previous}")
    click.echo(f"  tag     {result.tag}")
    click.echo(f"  commit  {result.commit[:10]}")
    click.echo(f"  digest  {result.digest}")
    if result.diff is not None:
        click.echo(
            f"  affects {', '.join(result.diff.affects) or '-'}; relabel: {result.diff.relabel}"
        )


@guideline_group.command("diff")
@click.argument("name")
@click.argument("a")
@click.argument("b", required=False)
@json_option
def diff_command(name, a, b, as_json) -> None:
    """Show what changed in guideline NAME from version A to version B (or the working tree).

    \b
    Example:
      labelspec guideline diff digits 1.0.0 1.1.0
      labelspec guideline diff digits 1.1.0 --json     # against your uncommitted edits
    """
    from labelspec.guideline.releases import diff  # lazy: loaded when it runs

    result = diff(current_repo(), name, a.removeprefix("v"), b.removeprefix("v") if b else None)
    if as_json:
        write_json(result.to_json())
        return
    click.echo(f"{name}: {result.from_version} -> {result.to_version}")
    if result.empty:
        click.echo("  no changes to classes, rules or the decision tree")
    for label, ids in (("added", result.added), ("removed", result.removed)):
        if ids:
            click.echo(f"  classes {label}: {', '.join(ids)}")
    for pair in result.renamed:
        click.echo(f"  class renamed: {pair['from']} -> {pair['to']}")
    for class_id, changes in result.changed.items():
        click.echo(f"  class {class_id}:")
        for change in changes:
            click.echo(f"    {describe_change(change)}")
    for kind in ("added", "removed"):
        if result.rules[kind]:
            click.echo(f"  rules {kind}: {', '.join(result.rules[kind])}")
    for rule_id, change in result.rules["changed"].items():
        click.echo(f"  rule {rule_id}: {', '.join(change['fields'])} changed")
    if result.decision_tree_changed:
        click.echo("  decision tree changed")
    click.echo(
        f"  affects: {', '.join(result.affects) or '-'} (declared: {', '.join(result.declared_affects) or '-'})"
    )
    click.echo(f"  relabel: {result.relabel}; smallest allowed bump: {result.required_bump()[0]}")


def describe_change(change: dict) -> str:
    field = change["field"]
    if "from" in change:
        return f"{field}: {change['from']!r} -> {change['to']!r}"
    parts = []
    if change.get("added"):
        parts.append("+ " + ", ".join(map(str, change["added"])))
    if change.get("removed"):
        parts.append("- " + ", ".join(map(str, change["removed"])))
    if change.get("changed"):
        edited = change["changed"]
        parts.append("~ " + ", ".join(edited if isinstance(edited, list) else edited.keys()))
    return f"{field}: {'; '.join(parts)}"


@guideline_group.command("review")
@click.argument("name")
@click.option(
    "--base",
    metavar="REV",
    help="Compare with this revision or released version [default: the merge base with the "
    "release branch when on another branch, else the newest release].",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "html"]),
    default="md",
    show_default=True,
    help="Markdown (a pull-request comment) or HTML (with the pictures).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write OUT/review.md|html and copy the example pictures to OUT/images/ "
    "[default: print the Markdown].",
)
@json_option
def review_command(name, base, fmt, out, as_json) -> None:
    """Review the working tree's changes to guideline NAME, as a pull request needs them.

    Shows the changed classes with word diffs, added, removed and changed examples before and
    after, rule and decision-tree changes, the bump the release will need, the labels the change
    makes suspect in every dataset labeled under NAME (the numbers of `trace impact --preview`)
    with relabel cost and labeler hours from each source's recorded cost per label and lead
    time, and the labelers who will need retraining.

    \b
    Example:
      labelspec guideline review digits --base main --out review
      labelspec guideline review digits --base 1.0.0 --format html --out review
    """
    from labelspec.guideline.review import review  # lazy: loaded when it runs
    from labelspec.guideline.review_report import write  # lazy: loaded when it runs

    if fmt == "html" and out is None:
        raise InputError("--format html needs --out DIR: the page refers to pictures beside it")
    result = review(current_repo(), name, base)
    written = write(result, out, fmt)
    if as_json:
        write_json({**result.to_json(), "written": written.to_json()})
    elif written.path is None:
        click.echo(written.text, nl=False)
    else:
        click.echo(f"Wrote {written.path} ({written.images} picture(s) beside it)")


@guideline_group.command("log")
@click.argument("name")
@json_option
def log_command(name, as_json) -> None:
    """List the versions of guideline NAME: dates, summaries, digests, relabel policy.

    \b
    Example:
      labelspec guideline log digits
    """
    from labelspec.guideline.releases import log  # lazy: loaded when it runs

    rows = log(current_repo(), name)
    if as_json:
        write_json(rows)
        return
    table(
        f"guideline {name}",
        ["version", "date", "relabel", "affects", "digest", "summary"],
        [
            (
                r["version"],
                r["date"] or "-",
                r["relabel"],
                ", ".join(r["affects"]) or "-",
                (r["digest"] or "untagged")[:19],
                r["summary"],
            )
            for r in rows
        ],
    )


@guideline_group.command("show")
@click.argument("ref", metavar="NAME@VERSION")
@json_option
def show_command(ref, as_json) -> None:
    """Print the spec of a guideline as released at VERSION (read from its git tag).

    The working tree is not touched. Without @VERSION, the newest release is shown.

    \b
    Example:
      labelspec guideline show digits@1.0.0
    """
    from labelspec.guideline.releases import (  # lazy: loaded when it runs
        parse_ref,
        releases,
        spec_at,
        spec_text_at,
    )

    ws = current_repo()
    name, version = parse_ref(ref)
    if version is None:
        released = releases(ws, name)
        if not released:
            ws.spec_path(name)  # an unknown name: "did you mean", the known ones
            raise NotFoundError(f"guideline {name!r} has no release yet")
        version = released[-1].version
    if as_json:
        write_json(spec_at(ws, name, version).model_dump(mode="json"))
    else:
        click.echo(spec_text_at(ws, name, version), nl=False)
