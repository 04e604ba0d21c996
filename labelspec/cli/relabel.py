from __future__ import annotations

from pathlib import Path

import click

from labelspec.cli.options import (
    COUNT,
    FRACTION,
    SEED,
    current_repo,
    image_options,
    images_were_option,
    labelers_per_item_option,
    version_option,
)
from labelspec.cli.output import json_option, note, table, write_json
from labelspec.cli.resolve import METHODS as RESOLVE_METHODS
from labelspec.errors import InputError
from labelspec.formats import FORMATS


@click.group("relabel")
def relabel_group() -> None:
    """Plan relabeling after a guideline change, and merge the results back.

    \b
    Example:
      labelspec relabel plan digits --guideline digits --out relabel/1.1.0
      labelspec relabel merge digits rp-... results.json --format labelstudio
    """


def _segments(values: tuple[str, ...]) -> dict[str, str]:

    out = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not key:
            raise InputError(f"--segment {value!r}: use KEY=VALUE, e.g. --segment class=seven")
        out[key] = val
    return out


@relabel_group.command("plan")
@click.argument("dataset")
@click.option("--guideline", required=True)
@version_option("--to", help="Version to relabel under [default: the newest release].")
@click.option(
    "--segment",
    "segment",
    multiple=True,
    metavar="KEY=VALUE",
    help="Only this segment (repeatable).",
)
@click.option("--limit", type=COUNT, help="At most N items.")
@click.option(
    "--priority",
    type=click.Choice(["model", "oldest", "random"]),
    default="oldest",
    show_default=True,
)
@click.option(
    "--predictions",
    type=click.Choice(["none", "current", "model"]),
    default="none",
    show_default=True,
    help="Pre-fill the tasks with nothing (no anchoring), the current labels, or the model's top class.",
)
@click.option(
    "--model-predictions",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Model class probabilities per item (for --priority model and --predictions model); "
    "for a detection guideline a detector's boxes (JSONL, or COCO results with --coco-images).",
)
@click.option(
    "--coco-images",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The COCO file naming the image_id and category_id of COCO results in --model-predictions.",
)
@image_options
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed for --priority random.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for the plan and the tool's task files.",
)
@click.option(
    "--from-resolve",
    type=click.Choice(RESOLVE_METHODS),
    help="Relabel the items this resolution method cannot decide (ties, low confidence).",
)
@click.option(
    "--min-confidence",
    type=FRACTION,
    default=0.0,
    help="With --from-resolve: items resolved below this confidence are relabeled too.",
)
@click.option(
    "--from-review",
    metavar="REVIEW|all",
    help="Relabel the current labels a recorded review rejected (`labelspec qa review list`).",
)
@click.option(
    "--planned",
    type=click.Choice(["refuse", "skip", "include"]),
    default="refuse",
    show_default=True,
    help="Items still open in another plan: refuse this plan, leave them out, or plan them again.",
)
@json_option
def plan_command(
    dataset, guideline, to, segment, limit, priority, predictions, model_predictions, coco_images,
    image_url, local_files, seed, out, from_resolve, min_confidence, from_review, planned,
    as_json,
) -> None:  # fmt: skip
    """Plan a relabel queue from the suspect labels, as Label Studio tasks and CSV.

    Suspect as in `trace impact`: a changed or confusable class, or no covering training (a
    record's date, not when it was recorded, decides which labels it covers).

    The tasks carry the reason and rank of each item, and no pre-annotation unless asked
    (--predictions current: the current labels; model: the model's top class). With --priority
    model, items whose labels a model disagrees with most come first: by 1 - p(current class),
    or for boxes by the item's label quality score against a detector (lowest first; the kind
    of its worst box, missing, extra, wrong class or badly placed, in the reasons).

    An item still open in another plan (not closed, not answered) refuses the plan, naming
    them; --planned skip leaves them out, --planned include plans them again (an answer then
    supersedes its labeler's answer from the other plan).

    \b
    Example:
      labelspec relabel plan digits --guideline digits --segment source=vendor-b --limit 200 \\
        --priority model --model-predictions preds.jsonl --out relabel/vendor-b \\
        --labelstudio-local-files
      labelspec relabel plan digits --guideline digits --from-resolve dawid-skene \\
        --min-confidence 0.8 --out relabel/undecided
      labelspec relabel plan digits --guideline digits --from-review all --out relabel/reviewed
    """
    from labelspec.lineage.relabel import plan  # lazy: loaded when it runs

    result = plan(
        current_repo(), dataset, guideline, out, to, _segments(segment), limit, priority, model_predictions,
        seed, from_resolve, min_confidence, predictions=predictions, image_url=image_url,
        local_files=local_files, from_review=from_review, coco_images=coco_images,
        planned=planned,
    )  # fmt: skip
    if as_json:
        write_json(result.to_json())
        return
    click.echo(
        f"Plan {result.plan_id}: {result.items} item(s) to relabel under {guideline} {result.version}"
    )
    click.echo(f"  recorded in {result.plan_file}")
    for name in result.files:
        click.echo(f"  {out / name}")
    note(
        f"Send it to Label Studio with `labelspec relabel push {out} --labelstudio URL` and merge the answers "
        f"with `labelspec relabel pull {result.plan_id}` (or import tasks.labelstudio.json with "
        "labeling-config.xml by hand and `labelspec relabel merge` the export)."
    )


@relabel_group.command("merge")
@click.argument("dataset")
@click.argument("plan_ref", metavar="PLAN")
@click.argument("results", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True)
@click.option("--labeler-map", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--labeler", help="Attribute every label to this labeler.")
@click.option(
    "--class-map",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON object or 2-column CSV: the tool's class names (Seven) -> class ids (seven).",
)
@labelers_per_item_option
@images_were_option
@click.option(
    "--dry-run",
    is_flag=True,
    help="Validate, count new / updated / unchanged and warn as the merge would; write nothing.",
)
@json_option
def merge_command(
    dataset, plan_ref, results, fmt, labeler_map, labeler, class_map, labelers_per_item,
    images_were, dry_run, as_json,
) -> None:  # fmt: skip
    """Merge relabel RESULTS for PLAN: validate, supersede the old annotations, new snapshot.

    The same checks as `labels import`, and the labelers must be trained on the plan's version.
    Plan items without a result stay open. A cumulative export merges incrementally: answers
    already merged are left out; one edited in the tool supersedes its earlier version. The
    answers' source is `relabel`, not the relabelers' vendors (a bake-off judges each vendor on
    what it delivered). A COCO file says "no objects here" with an image without annotations
    and --images-were all, as in `labels import`; --labelers-per-item names each item's
    relabeler for files without annotators.

    \b
    Example:
      labelspec relabel merge digits rp-20261128T101500Z-1a2b3c export.json --format labelstudio \\
        --labeler-map users.csv
      labelspec relabel merge shapes rp-20261128T101500Z-1a2b3c answers.coco.json --format coco \\
        --images-were all --labeler vA-01
    """
    from labelspec.lineage.merge import merge  # lazy: loaded when it runs

    result = merge(
        current_repo(), dataset, plan_ref, results, fmt, labeler_map, labeler, dry_run, class_map,
        images_were, labelers_per_item,
    )  # fmt: skip
    if as_json:
        write_json(result)
        return
    _echo_merge(result, dry_run)


@relabel_group.command("push")
@click.argument("plan_ref", metavar="PLAN")
@click.option("--labelstudio", "url", required=True, metavar="URL", help="The Label Studio server.")
@click.option("--title", help="Project title [default: DATASET relabel PLAN-ID].")
@click.option(
    "--no-image-check",
    is_flag=True,
    help="Do not fetch a task's image first (images only the labelers' machines can reach).",
)
@click.option(
    "--relabelers",
    metavar="ID,ID",
    help="One copy of each task per relabeler, each in its own data manager tab, so no one "
    "sees another's answer (Label Studio's community edition shows a task's every annotation).",
)
@json_option
def push_command(plan_ref, url, title, no_image_check, relabelers, as_json) -> None:
    """Create or update PLAN's Label Studio project: config, instructions, tasks.

    PLAN is the --out folder of `relabel plan` (or its plan.json). A second push updates the
    config and instructions and adds only missing tasks. The token comes from
    LABELSPEC_LABEL_STUDIO_TOKEN (or LABEL_STUDIO_TOKEN), else ~/.config/labelspec/config.toml;
    the project's URL and id are recorded in the plan (no token). Before any task goes in, one
    task's image is fetched as the labeling screen would; a push whose images do not load fails
    with the fix (the server's document root, local files serving, the URL).

    \b
    Example:
      export LABELSPEC_LABEL_STUDIO_TOKEN=...   # Account & Settings -> Access Token
      labelspec relabel push relabel/1.1.0 --labelstudio http://localhost:8080
    """
    from labelspec.lineage.labelstudio_sync import push  # lazy: loaded when it runs

    who = [r.strip() for r in relabelers.split(",") if r.strip()] if relabelers else None
    result = push(current_repo(), plan_ref, url, title, not no_image_check, who)
    if as_json:
        write_json(result)
        return
    verb = "Created" if result["created"] else "Updated"
    click.echo(
        f"{verb} Label Studio project {result['project']} for plan {result['plan']}: "
        f"{result['tasks_added']} task(s) added, {result['tasks_present']} already there"
    )
    click.echo(f"  {result['project_url']}")
    if result["local_storage"]:
        click.echo(f"  local files storage: {result['local_storage']}")
    if result["relabelers"]:
        click.echo(f"  one copy per relabeler, a tab each: {', '.join(result['relabelers'])}")
    for warning in result["warnings"]:
        note(f"Warning: {warning}")


@relabel_group.command("pull")
@click.argument("plan_ref", metavar="PLAN")
@click.option("--labeler-map", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--labeler", help="Attribute every label to this labeler.")
@click.option("--labelstudio", "url", metavar="URL", help="Server [default: the one pushed to].")
@click.option(
    "--keep",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the downloaded export to this file.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Validate, count new / updated / unchanged and warn as the merge would; write nothing.",
)
@json_option
def pull_command(plan_ref, labeler_map, labeler, url, keep, dry_run, as_json) -> None:
    """Export PLAN's Label Studio project and merge the answers (as `relabel merge` does).

    Incremental: answers already merged are left out, so pulling again adds nothing; cancelled
    (skipped) annotations are counted, never merged. PLAN is a plan id or its --out folder.

    \b
    Example:
      labelspec relabel pull rp-20261128T101500Z-1a2b3c --labeler-map users.csv
    """
    from labelspec.lineage.labelstudio_sync import pull  # lazy: loaded when it runs

    result = pull(current_repo(), plan_ref, labeler_map, labeler, dry_run, url, keep)
    if as_json:
        write_json(result)
        return
    click.echo(
        f"Project {result['project']}: {result['tasks']} task(s), {result['annotations']} "
        f"annotation(s), {result['cancelled']} cancelled"
    )
    _echo_merge(result, dry_run)


@relabel_group.command("close")
@click.argument("dataset")
@click.argument("plan_ref", metavar="PLAN")
@json_option
def close_command(dataset, plan_ref, as_json) -> None:
    """Close PLAN: release its open items to a new plan; answers to it are no longer merged.

    The closing is a line of datasets/DATASET/relabel/closed.jsonl (git merges it line by line,
    so clones that close or push the same plan merge with a plain `git pull`). Closing a closed
    plan changes nothing and says so.

    \b
    Example:
      labelspec relabel close digits rp-20261128T101500Z-1a2b3c
    """
    from labelspec.lineage.plans import close  # lazy: loaded when it runs

    result = close(current_repo(), dataset, plan_ref)
    if as_json:
        write_json(result)
        return
    if result["already"]:
        click.echo(
            f"Plan {result['plan']} was closed already, on {result['closed']}: nothing to do"
        )
        return
    click.echo(
        f"Closed plan {result['plan']}: {result['released']} open item(s) released, "
        f"commit {result['commit'][:10]}"
    )


@relabel_group.command("status")
@click.argument("dataset")
@json_option
def status_command(dataset, as_json) -> None:
    """Per relabel plan: items done and open, and who did them.

    \b
    Example:
      labelspec relabel status digits
    """
    from labelspec.lineage.plans import status  # lazy: loaded when it runs

    rows = status(current_repo(), dataset)
    if as_json:
        write_json(rows)
        return
    table(
        None,
        ["plan", "version", "items", "done", "open", "by labeler"],
        [
            (
                r["plan"],
                r["version"],
                r["items"],
                r["done"],
                f"{r['open']} (closed)" if r.get("closed") else r["open"],
                ", ".join(f"{k} {v}" for k, v in r["by_labeler"].items()) or "-",
            )
            for r in rows
        ],
    )


def _echo_merge(result: dict, dry_run: bool) -> None:
    """What a merge (or a pull, which merges) did, in one line, and its warnings (a dry run
    prints those the merge would)."""
    counts = f"{result['new']} new, {result['updated']} updated, {result['unchanged']} unchanged answer(s)"
    if dry_run or not result.get("batch"):
        verb = "Would merge" if dry_run else "Nothing new to merge"
        click.echo(f"{verb}: {counts} for plan {result['plan']}")
    else:
        click.echo(
            f"Merged {result['labels']} label(s)"
            + (f" and {result['empty_answers']} empty answer(s)" if result["empty_answers"] else "")
            + f" on {result['items']} item(s) of plan {result['plan']} -> batch {result['batch']}, commit {result['snapshot']}; "
            f"{result['superseded_annotations']} old annotation(s) superseded; {result['open']} item(s) still open"
        )
        click.echo(f"  {counts}")
    for warning in result.get("warnings", []):
        note(f"Warning: {warning}")
