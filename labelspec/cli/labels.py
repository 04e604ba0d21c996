from __future__ import annotations

from pathlib import Path

import click

from labelspec.cli.options import (
    COST,
    FRACTION,
    current_repo,
    image_options,
    images_were_option,
    labelers_per_item_option,
    snapshot_option,
)
from labelspec.cli.output import json_option, table, write_json
from labelspec.cli.resolve import METHODS as RESOLVE_METHODS
from labelspec.cli.resolve import resolve_command
from labelspec.formats import EXPORT_FORMATS, FORMATS


@click.group("labels")
def labels_group() -> None:
    """Import labels with lineage; browse, diff and export snapshots.

    \b
    Example:
      labelspec labels import digits export.json --format labelstudio --guideline digits@1.0.0 --source vendor-a
      labelspec labels show digits
    """


@labels_group.command("import")
@click.argument("dataset")
@click.argument("file", type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True, help="Format of FILE.")
@click.option(
    "--guideline",
    "guideline_ref",
    required=True,
    metavar="NAME@VERSION",
    help="Guideline version the labels were made under (NAME@latest: the newest release).",
)
@click.option("--source", required=True, help="Vendor or tool the labels came from.")
@click.option(
    "--labeler-map",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON object or 2-column CSV: tool user id -> labeler id.",
)
@click.option(
    "--labeler", help="Attribute every label to this labeler (for formats without annotators)."
)
@click.option(
    "--cost-per-label",
    type=COST,
    help="Cost of each label the export gives none for (the vendor's rate).",
)
@click.option(
    "--dry-run", is_flag=True, help="Validate and count new / updated / unchanged; write nothing."
)
@click.option(
    "--class-map",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON object or 2-column CSV: the tool's class names (Seven) -> class ids (seven).",
)
@click.option(
    "--attribute-map",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON object or 2-column CSV: the tool's attribute names (choices) -> attribute ids (uncertain).",
)
@labelers_per_item_option
@images_were_option
@click.option(
    "--history",
    is_flag=True,
    help="Adopt labels made before their labeler's first training (or by a labeler never trained) as untrained, instead of refusing them.",
)
@json_option
def import_command(
    dataset, file, fmt, guideline_ref, source, labeler_map, labeler, cost_per_label, dry_run,
    class_map, attribute_map, labelers_per_item, images_were, history, as_json,
) -> None:  # fmt: skip
    """Validate every label in FILE, then store them as one batch and a new snapshot.

    Each label is checked against the spec as released at its version, the item manifest,
    the roster and the training records. All problems are listed (file, record or line,
    field, message) and NOTHING is written if there is any.

    A labeler's explicit "no objects here" (detection, ner, multilabel) is kept as an empty
    answer, distinct from an item nobody labeled and from a cancelled task: Label Studio's
    submitted empty result, CVAT's image without shapes, YOLO's empty label file, a JSONL line
    {"item_id": ..., "labeler": ..., "empty": true}, or a COCO image without annotations when
    --images-were all says the vendor was given every image of the file.

    A team adopting labelspec mid-project imports its earlier deliveries with --history: labels
    made before their labeler's first training record are stored untrained ("before
    adoption"), never refused and never given an invented training.

    \b
    Example:
      labelspec labels import digits export.json --format labelstudio \\
        --guideline digits@1.0.0 --source vendor-a --labeler-map users.csv
      labelspec labels import digits coco.json --format coco --guideline digits@1.0.0 \\
        --source vendor-b --labeler vB-01
      labelspec labels import shapes yolo-export/ --format yolo --guideline shapes@1.0.0 \\
        --source vendor-c --labeler vC-01
    """
    from labelspec.labels.ingest import import_labels  # lazy: loaded when it runs

    result = import_labels(
        current_repo(),
        dataset,
        file,
        fmt,
        guideline_ref,
        source,
        labeler_map,
        labeler,
        cost_per_label,
        dry_run,
        class_map,
        images_were,
        attribute_map,
        history,
        labelers_per_item,
    )
    if as_json:
        write_json(result.to_json())
        return
    counts = (
        f"{result.new} new, {result.updated} updated, {result.unchanged} unchanged annotation(s)"
    )
    if result.dry_run or not result.batch_id:
        verb = "Would import" if result.dry_run else "Nothing new to import"
        click.echo(f"{verb}: {counts} in {file.name}" + ("" if result.dry_run else " (no commit)"))
        return
    click.echo(
        f"Imported {result.labels} label(s) in {result.annotations} annotation(s) on {result.items} item(s) "
        f"from {source} -> batch {result.batch_id}, commit {result.commit[:10]}"
    )
    click.echo("  by class:   " + ", ".join(f"{k} {v}" for k, v in result.by_class.items()))
    if result.empty_answers:
        click.echo(f"  empty:      {result.empty_answers} annotation(s) with no objects")
    click.echo("  by labeler: " + ", ".join(f"{k} {v}" for k, v in result.by_labeler.items()))
    click.echo(f"  annotations: {counts.removesuffix(' annotation(s)')}")
    if result.skipped:
        click.echo("  skipped:    " + ", ".join(f"{v} {k}" for k, v in result.skipped.items()))
    for warning in result.warnings:
        click.echo(f"  warning: {warning}", err=True)


@labels_group.command("log")
@click.argument("dataset")
@snapshot_option
@json_option
def log_command(dataset, snapshot, as_json) -> None:
    """List the batches of DATASET at a revision, newest first, with the commit of each.

    Retractions (`labels retract`) are listed in their place by date: the batch, its labels
    taken out (-N), who retracted it (the commit's author) and why.

    Every commit is a snapshot: pass a commit, branch or tag (or a batch id) as --snapshot
    to show, diff, export, trace or QA the labels as they were there.

    \b
    Example:
      labelspec labels log digits
      labelspec labels show digits --snapshot HEAD~2
    """
    from labelspec.labels.history import log  # lazy: loaded when it runs

    rows = log(current_repo(), dataset, snapshot)
    if as_json:
        write_json(rows)
        return
    columns = ["commit", "date", "batch", "source", "format", "labels", "empty", "supersedes"]
    columns.append("plan")
    retractions = any(r["event"] == "retraction" for r in rows)
    extra = ["retracted"] if retractions else []
    table(None, columns + extra, [_log_row(r)[: len(columns) + len(extra)] for r in rows])


def _log_row(r: dict) -> tuple:
    """A `labels log` line; a retraction shows the labels it took out and who retracted why."""
    commit = (r["commit"] or "?")[:10] + (f" ({r['snapshot_tag']})" if r["snapshot_tag"] else "")
    head = (commit, (r["date"] or "")[:16].replace("T", " "), r["batch"], r["source"])
    if r["event"] == "retraction":
        return (*head, "retracted", f"-{r['labels']}", "", "", "", f"by {r['by']}: {r['reason']}")
    if r["empty"] is None:  # recorded before they were counted, and not pulled: at most the rows
        labels, empty = f"<={r['rows']}", "?"
    else:
        labels, empty = r["labels"], r["empty"]
    return (*head, r["format"], labels, empty, r["supersedes"] or "", r["plan"] or "", "")


@labels_group.command("retract")
@click.argument("batch")
@click.option(
    "--reason", required=True, help="Why the batch leaves the current labels (on record)."
)
@click.option("--dataset", help="The dataset of BATCH (found from the history when omitted).")
@json_option
def retract_command(batch, reason, dataset, as_json) -> None:
    """Take BATCH out of the current labels, recording why (one commit).

    The retraction is appended to datasets/<name>/retractions.jsonl and the batch's record
    leaves the tree; it stays in git history (`--snapshot` at an earlier revision shows it) and
    its bytes in the DVC cache. Batches are never changed or deleted otherwise: `verify`
    reports a batch removed without a retraction (a plain `git revert` of an import) and
    running this command for it records the retraction.

    \b
    Example:
      labelspec labels retract b-20260201T100000Z-3e7c2d1a --reason "vendor used v0.9 boxes"
    """
    from labelspec.labels.retract import retract  # lazy: loaded when it runs

    done = retract(current_repo(), batch, reason, dataset)
    if as_json:
        write_json(done.to_json())
        return
    gone = "left the current labels" if done.in_tree else "was already out of the tree"
    click.echo(
        f"{done.dataset}: batch {done.batch} ({done.labels} labels from {done.source}) retracted; "
        f"it {gone}; commit {(done.commit or '')[:10]}"
    )


@labels_group.command("show")
@click.argument("dataset")
@snapshot_option
@json_option
def show_command(dataset, snapshot, as_json) -> None:
    """Counts of the current labels by class, labeler, guideline version and source.

    \b
    Example:
      labelspec labels show digits --snapshot HEAD~1
    """
    from labelspec.labels.history import show  # lazy: loaded when it runs

    result = show(current_repo(), dataset, snapshot)
    if as_json:
        write_json(result)
        return
    empty = (
        f", {result['empty_answers']} of them empty (no objects)" if result["empty_answers"] else ""
    )
    click.echo(
        f"{dataset} {result['snapshot']}: {result['labels']} current labels in {result['annotations']} annotations{empty} "
        f"on {result['items']} items by {result['labelers']} labelers ({result['superseded_labels']} superseded)"
    )
    for key in ("by_class", "by_labeler", "by_guideline_version", "by_source"):
        table(key.replace("_", " "), ["value", "labels"], result[key].items())


@labels_group.command("diff")
@click.argument("dataset")
@click.argument("a")
@click.argument("b")
@json_option
def diff_command(dataset, a, b, as_json) -> None:
    """What changed in the current labels between revisions A and B, by class.

    A and B are any git revisions (commits, branches, tags, batch ids), on one line of history
    or two. A label that replaced another (through any chain of relabels, whichever side
    replaced the other) is one change, so "added - removed" is the change in current labels,
    also across a git revert. Pairs are as many as possible; among candidates the same class
    wins, then the nearest box. "diff B A" is the mirror of "diff A B".

    \b
    Example:
      labelspec labels diff digits HEAD~3 HEAD
      labelspec labels diff digits main vendor-b-delivery
    """
    from labelspec.labels.history import diff  # lazy: loaded when it runs

    result = diff(current_repo(), dataset, a, b)
    if as_json:
        write_json(result)
        return
    click.echo(
        f"{dataset} {result['from']} -> {result['to']}: +{result['added']} added, -{result['removed']} removed, "
        f"{result['changed_class']} changed class, {result['moved_boxes']} moved boxes, "
        f"{result['relabeled_same']} relabeled unchanged"
    )
    rows = [
        (
            cls,
            c.get("added", 0),
            c.get("removed", 0),
            c.get("changed_from", 0),
            c.get("changed_to", 0),
            c.get("moved_boxes", 0),
        )
        for cls, c in result["by_class"].items()
    ]
    if rows:
        table(
            None, ["class", "added", "removed", "changed from", "changed to", "moved boxes"], rows
        )
    for change, n in sorted(result["class_changes"].items(), key=lambda kv: -kv[1]):
        click.echo(f"  {change}: {n}")


@labels_group.command("export")
@click.argument("dataset")
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), required=True)
@snapshot_option
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Output file (a folder for yolo).",
)
@click.option(
    "--resolve",
    "resolve_method",
    type=click.Choice(RESOLVE_METHODS),
    help="Export one resolved label per item (see `labels resolve`) instead of every label.",
)
@click.option(
    "--min-confidence",
    type=FRACTION,
    default=0.0,
    help="With --resolve: leave out items below this confidence (or tied).",
)
@click.option(
    "--labeler-map",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Label Studio: the import's labeler map (tool user id -> labeler), reversed for completed_by.",
)
@image_options
@json_option
def export_command(
    dataset,
    fmt,
    snapshot,
    out,
    resolve_method,
    min_confidence,
    labeler_map,
    image_url,
    local_files,
    as_json,
) -> None:
    """Export the current labels of a snapshot (COCO, Label Studio, YOLO, JSONL, Parquet).

    Label Studio gets its labeling config beside --out (<stem>.labeling-config.xml), each
    annotation's labeler as completed_by (with --labeler-map), and dates and versions in the
    task's meta.

    \b
    Example:
      labelspec labels export digits --format coco --out digits.coco.json
      labelspec labels export digits --format jsonl --resolve dawid-skene --out train.jsonl
      labelspec labels export digits --format labelstudio --labeler-map users.csv --out ls.json
      labelspec labels export digits --format labelstudio --labelstudio-local-files --out ls.json
    """
    from labelspec.labels.export import export  # lazy: loaded when it runs

    result = export(
        current_repo(),
        dataset,
        fmt,
        out,
        snapshot,
        resolve_method,
        min_confidence,
        labeler_map,
        image_url=image_url,
        local_files=local_files,
    )
    if as_json:
        write_json(result)
    else:
        click.echo(
            f"Wrote {result['labels']} label(s) of {dataset} {result['snapshot']} to {out} ({fmt})"
        )


def _attach_resolve() -> None:

    labels_group.add_command(resolve_command)


_attach_resolve()


MANIFEST_SHOWN = 20  # batches listed by the human output (--json lists all)


@labels_group.command("manifest")
@click.argument("dataset")
@snapshot_option
@json_option
def manifest_command(dataset, snapshot, as_json) -> None:
    """What any engine needs to read a revision's labels, without opening them.

    The commit, the rule that defines the current labels, the canonical schema (columns that
    older batches lack read as NULL), and per batch its md5, rows, supersedes count and URLs:
    the DVC cache object and the object in each configured DVC remote (local or s3://). With
    --json, for Spark, Daft, Ray, DuckDB or a script; see docs/scale.md.

    \b
    Example:
      labelspec labels manifest digits --json > manifest.json
      labelspec labels manifest digits --snapshot HEAD~3
    """
    from labelspec.store.manifest import ADDED_COLUMNS, RULE, manifest  # lazy: loaded when it runs
    from labelspec.store.schema import LABEL_SCHEMA  # lazy: loaded when it runs

    found = manifest(current_repo(), dataset, snapshot)
    if as_json:
        write_json(found.to_json())
        return
    click.echo(
        f"{dataset} {found.ref or found.commit[:10]} (commit {found.commit[:10]}): "
        f"{len(found.batches)} batches, {found.rows} labels, {found.superseding} superseded "
        f"annotation(s); digest {found.digest[:16]}"
    )
    click.echo(f"  rule: {RULE}")
    click.echo(
        f"  schema: labelspec.store.schema.LABEL_SCHEMA ({len(LABEL_SCHEMA)} columns; older "
        f"batches lack {' and '.join(ADDED_COLUMNS)}, read as NULL)"
    )
    for remote in found.remotes:
        click.echo(f"  remote {remote.name}{' (default)' if remote.default else ''}: {remote.url}")
    if found.compacted is not None:
        click.echo(
            f"  compacted: {found.compacted.rows} current labels in "
            f"{len(found.compacted.parts)} part(s), made from {found.compacted.commit[:10]}"
        )
    table(
        None,
        ["batch", "rows", "supersedes", "source", "md5"],
        [
            (b.id, b.rows, b.supersedes or "", b.source, b.md5)
            for b in found.batches[:MANIFEST_SHOWN]
        ],
    )
    if len(found.batches) > MANIFEST_SHOWN:
        click.echo(f"  ... and {len(found.batches) - MANIFEST_SHOWN} more (--json lists all)")


@labels_group.command("compact")
@click.argument("dataset")
@snapshot_option
@json_option
def compact_command(dataset, snapshot, as_json) -> None:
    """Write a revision's current labels as a few large files sorted by item, for engines.

    Many small batches cost a cluster one read each and an anti join; the compacted copy is
    read instead while the batches stay what they are. It is keyed by the revision's manifest
    digest (used only while the batches are the same), tracked by DVC and committed as a record,
    so `labelspec push` sends it to the remote; `labelspec verify` checks it against the
    batches it came from. Compacting the same batches again does nothing.

    \b
    Example:
      labelspec labels compact digits --snapshot HEAD && labelspec push
    """
    from labelspec.store.compaction import compact  # lazy: loaded when it runs

    result = compact(current_repo(), dataset, snapshot)
    if as_json:
        write_json(result.to_json())
        return
    if not result.written:
        click.echo(
            f"{dataset} {result.snapshot}: already compacted ({result.rows} current labels, "
            f"digest {result.digest[:16]})"
        )
        return
    click.echo(
        f"Compacted {dataset} {result.snapshot}: {result.rows} current labels of "
        f"{result.batches} batches -> {len(result.parts)} part(s), {result.bytes} bytes, "
        f"commit {(result.commit or '')[:10]}"
    )
    click.echo("  `labelspec push` sends it to the DVC remote")
