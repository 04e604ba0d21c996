from __future__ import annotations

from pathlib import Path

import click

from labelspec.cli.options import (
    COUNT,
    FRACTION,
    IOU,
    SEED,
    BoundedInt,
    current_repo,
    snapshot_option,
)
from labelspec.cli.output import json_option, note, table, write_json


@click.group("qa")
def qa_group() -> None:
    """Trust but verify: vendor bake-offs, agreement, disagreements, samples, guideline gaps.

    \b
    Example:
      labelspec qa bakeoff digits --golden expert --report reports/qa
      labelspec qa gaps digits --golden expert
    """


def _f(value, digits: int = 3) -> str:
    return (
        "-"
        if value is None
        else (f"{value:.{digits}f}" if isinstance(value, float) else str(value))
    )


def _sig(value, digits: int = 3) -> str:
    """A figure as people read it: 3 significant digits (labels/h 567, not 566.995)."""
    from labelspec.qa.report import sig  # lazy: loaded when it runs

    if value is None:
        return "-"
    if isinstance(value, float):
        return sig(value, digits)
    return str(value)


def _sig2(value) -> str:
    return _sig(value, 2)


def _about(result) -> str:
    """Which snapshot, golden set and guideline versions a report judged, and when."""
    snap = result.get("snapshot") or {}
    golden = result.get("golden") or {}
    guideline = result.get("guideline") or {}
    name, commit = str(snap.get("name")), str(snap.get("commit") or "")
    named = name if commit.startswith(name) else f"{name} ({commit[:10]})"
    parts = [f"snapshot {named} of {snap.get('date')}"]
    if golden:
        parts.append(
            f"golden {golden['name']} v{golden['version']} ({golden['items']} items, made under "
            f"{golden['guideline_version']})"
        )
    if guideline:
        parts.append(f"labels under {guideline['name']} {', '.join(guideline['versions'])}")
    return "; ".join(parts)


@qa_group.command("bakeoff")
@click.argument("dataset")
@click.option("--golden", default="golden", show_default=True, help="Golden set (NAME or NAME@vN).")
@click.option(
    "--sources",
    help="Comma-separated sources (vendors) [default: every source that delivered labels on golden items].",
)
@click.option("--weights", help="Ranking weights, e.g. accuracy=0.6,cost=0.2,speed=0.2.")
@click.option(
    "--iou", type=IOU, default=0.5, show_default=True, help="IoU threshold for box matches."
)
@click.option(
    "--labels",
    type=click.Choice(["delivered", "current"]),
    default="delivered",
    show_default=True,
    help="Judge each source on the labels it delivered, or on the snapshot's current labels "
    "(after a relabel, the superseded ones are gone).",
)
@click.option(
    "--boot",
    type=BoundedInt(0, 100_000),
    default=2000,
    show_default=True,
    help="Bootstrap resamples for the intervals (0: no intervals).",
)
@snapshot_option
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write metrics.json, report.md, report.html, drill-down pages and plots here.",
)
@json_option
def bakeoff_command(
    dataset, golden, sources, weights, iou, labels, boot, snapshot, report_dir, as_json
) -> None:
    """Compare sources (vendors) on a golden set: quality with 95 % CIs, kappa, speed, cost,
    a ranking with its bootstrap interval, and a verdict in plain words.

    \b
    Example:
      labelspec qa bakeoff digits --golden expert --weights accuracy=0.6,cost=0.2,speed=0.2 --report reports/qa
      labelspec qa bakeoff digits --golden expert --labels current --snapshot delivered-1.0.0
    """
    from labelspec.qa.bakeoff import bakeoff, parse_weights  # lazy: loaded when it runs
    from labelspec.qa.report import bakeoff_report, boxes_sentence  # lazy: loaded when it runs
    from labelspec.qa.scoring import BACKGROUND  # lazy: loaded when it runs

    ws = current_repo()
    result = bakeoff(
        ws,
        dataset,
        golden,
        sources.split(",") if sources else None,
        parse_weights(weights),
        iou,
        snapshot,
        boot=boot,
        labels=labels,
    )
    if report_dir:
        result["report"] = bakeoff_report(ws, dataset, result, report_dir)
    if as_json:
        write_json(result)
        return
    key = result["quality"]
    golden_info = result["golden"]
    click.echo(
        f"{dataset}: bake-off on golden set {golden_info['name']} v{golden_info['version']} "
        f"({golden_info['items']} items), {labels} labels"
    )
    click.echo(f"  {_about(result)}")
    src = result["sources"]
    rows = []
    for e in result["ranking"]:
        r = src[e["source"]]
        ci = r.get(f"{key}_ci")
        rows.append(
            (
                e["rank"],
                e["source"],
                _sig(e["score"]),
                "-" if not e.get("score_ci") else "{}-{}".format(*map(_sig2, e["score_ci"])),
                r["items"],
                _sig(r.get(key)),
                "-" if not ci else "{}-{}".format(*map(_sig2, ci)),
                _sig(r.get("kappa")),
                _sig(r.get("cost_per_label")),
                _sig(r.get("cost_per_correct_label")),
                _sig(r.get("lead_time_median_s")),
                _sig(r.get("labels_per_labeler_hour")),
            )
        )
    columns = ["rank", "source", "score", "CI", "items", key, "CI", "kappa", "$/label"]
    columns += ["$/correct", "median s", "labels/h"]
    table(None, columns, rows)
    rejected = [
        f"{s} {r['rejected']}/{r['reviewed']} ({_sig(r['review_error_rate'])})"
        for s, r in src.items()
        if r.get("reviewed")
    ]
    if rejected:
        click.echo("Rejected in review (of the labels reviewed): " + ", ".join(rejected))
    click.echo(f"Verdict: {result['verdict']['score']}.")
    click.echo(f"  on {key} alone: {result['verdict']['quality']}.")
    for source, r in src.items():
        confusion = r.get("confusion") or {"labels": [], "matrix": []}
        names, matrix = confusion["labels"], confusion["matrix"]
        worst = sorted(
            (
                (matrix[i][j], names[i], names[j])
                for i in range(len(names))
                for j in range(len(names))
                # misses and extra boxes (the background) are told in words below
                if i != j and matrix[i][j] and BACKGROUND not in (names[i], names[j])
            ),
            reverse=True,
        )[:3]
        if worst:
            click.echo(
                f"  {source} most confused: "
                + ", ".join(f"golden {a} labeled {b} x{n}" for n, a, b in worst)
            )
        if boxes_sentence(r):
            click.echo(f"  {source}: {boxes_sentence(r)}")
    for source, r in src.items():
        if r.get("split"):
            parts = [
                f"{part} classes ({', '.join(v['classes'])}) {_sig(v.get(key))} on {v['n']}"
                for part, v in r["split"].items()
            ]
            click.echo(f"  {source} split: " + "; ".join(parts))
    for text in result["notes"]:
        note(f"Note: {text}")
    for text in result["warnings"]:
        note(f"Warning: {text}")
    if report_dir:
        note(
            f"Report written to {result['report']['html']} (with report.md, metrics.json, drill-down pages)"
        )


@qa_group.command("agreement")
@click.argument("dataset")
@snapshot_option
@click.option(
    "--by", type=click.Choice(["class", "labeler", "source"]), help="Break the figures down."
)
@json_option
def agreement_command(dataset, snapshot, by, as_json) -> None:
    """Inter-annotator agreement over items labeled by two or more labelers.

    Krippendorff's alpha, Fleiss' kappa, pairwise Cohen's kappa, per-class specific agreement;
    IoU-matched agreement for boxes, span F1 for ner.

    \b
    Example:
      labelspec qa agreement digits --by labeler
    """
    from labelspec.qa.agreement import agreement  # lazy: loaded when it runs

    result = agreement(current_repo(), dataset, snapshot, by)
    if as_json:
        write_json(result)
        return
    click.echo(
        f"{dataset} at snapshot {result['snapshot']}, labels under {result['guideline']} "
        f"{', '.join(result['versions'])}: "
        f"{result.get('items')} items with 2+ labelers, {len(result.get('labelers') or [])} labelers; "
        f"Krippendorff's alpha {_f(result.get('krippendorff_alpha'))}, Fleiss' kappa {_f(result.get('fleiss_kappa'))}"
    )
    for key in ("boxes", "spans"):
        if result.get(key):
            found = result[key]
            scalars = {k: v for k, v in found.items() if not isinstance(v, dict | list)}
            click.echo(f"  {key}: " + ", ".join(f"{k} {_f(v)}" for k, v in scalars.items()))
            for pair in found.get("confusions") or []:
                a, b = pair["classes"]
                click.echo(
                    f"  objects boxed as {a} by one labeler and {b} by another: {pair['objects']}"
                )
    per_class = result.get("per_class") or {}
    if per_class:
        table(
            "per class",
            ["class", "specific agreement", "pairs"],
            [(c, _f(v.get("specific_agreement")), v.get("pairs")) for c, v in per_class.items()],
        )
    breakdown = result.get("by") or {}
    if by == "labeler":
        groups = breakdown.get("groups") or {}
        table(
            "by labeler",
            ["labeler", "items", "pairs", "agrees with others", "mean kappa"],
            [
                (k, v.get("items"), v.get("pairs"), _sig(v.get("agreement_with_others")),
                 _sig(v.get("mean_kappa")))
                for k, v in groups.items()
            ],
        )  # fmt: skip
    elif by == "source":
        note_text = breakdown.get("note")
        click.echo(
            f"by source ({note_text}): {breakdown.get('items')} items; Krippendorff's alpha "
            f"{_sig(breakdown.get('krippendorff_alpha'))}, Fleiss' kappa {_sig(breakdown.get('fleiss_kappa'))}"
        )
        pairwise = breakdown.get("pairwise_cohen_kappa") or {}
        names, matrix = pairwise.get("sources") or [], pairwise.get("matrix") or []
        if names:
            table(
                "Cohen's kappa between sources",
                ["source", *names],
                [(a, *(_sig(v) for v in row)) for a, row in zip(names, matrix, strict=True)],
            )
    elif by == "class" and not per_class:
        groups = breakdown.get("groups") or {}
        if groups:
            first = next(iter(groups.values()))
            table(
                "by class",
                ["class", *first],
                [(k, *(_sig(x) for x in v.values())) for k, v in groups.items()],
            )


@qa_group.command("disagreements")
@click.argument("dataset")
@click.option(
    "--predictions",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="Class probabilities per item (JSONL, CSV, Parquet), or for a detection dataset a "
    "detector's boxes: JSONL (item_id, class, bbox, score; optional probs) or COCO results.",
)
@click.option(
    "--coco-images",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The COCO file that names the image_id and category_id of COCO results (e.g. what "
    "`labels export --format coco` writes).",
)
@click.option(
    "--min-score",
    type=FRACTION,
    default=0.5,
    show_default=True,
    help="Detection: predicted boxes at least this confident can raise an issue.",
)
@click.option("--top", type=COUNT, default=20, show_default=True)
@snapshot_option
@click.option(
    "--html",
    "html_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the top labels (detection: items, boxes drawn) as an offline page.",
)
@json_option
def disagreements_command(
    dataset, predictions, coco_images, min_score, top, snapshot, html_out, as_json
) -> None:
    """Rank current labels by how strongly a model disagrees with them: class labels by
    self-confidence and margin; boxes by missing, extra, wrong-class and badly placed boxes
    against a detector's predictions (lower score = more likely wrong).

    \b
    Example:
      labelspec qa disagreements digits --predictions preds.jsonl --top 30 --html reports/suspicious.html
      labelspec qa disagreements shapes --predictions detections.jsonl --html reports/boxes.html
      labelspec qa disagreements shapes --predictions results.json --coco-images export.coco.json
    """
    from labelspec.qa.disagreements import (  # lazy: loaded when it runs
        disagreements,
        disagreements_html,
    )
    from labelspec.yamlio import atomic_write_text  # lazy: loaded when it runs

    ws = current_repo()
    result = disagreements(
        ws, dataset, predictions, top=top, snapshot=snapshot, coco_images=coco_images,
        min_score=min_score,
    )  # fmt: skip
    if html_out:
        html_out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(html_out, disagreements_html(ws, result))
        note(f"Wrote {html_out}")
    if as_json:
        write_json(result)
        return
    if result["task"] == "detection":
        _box_disagreements(result, top)
        return
    click.echo(
        f"{dataset}: {result['labels_scored']} labels scored ({result['labels_without_prediction']} without a prediction)"
    )
    table(
        f"top {top} suspicious labels",
        ["item", "class", "model says", "p(class)", "margin", "labeler", "source"],
        [
            (
                r["item_id"],
                r["class"],
                r["predicted"],
                _f(r["p_label"]),
                _f(r["margin"]),
                r["labeler"],
                r["source"],
            )
            for r in result["top"]
        ],
    )
    table(
        "by labeler",
        ["labeler", "labels", "suspicious", "mean p(class)"],
        [
            (k, v["labels"], v["suspicious"], _f(v["mean_self_confidence"]))
            for k, v in result["by_labeler"].items()
        ],
    )


def _box_disagreements(result, top: int) -> None:
    kinds = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in result["by_kind"].items())
    click.echo(
        f"{result['dataset']}: {result['boxes_scored']} labeled boxes on {result['items_scored']} "
        f"items scored against {result['confident_predictions']} confident predicted boxes "
        f"({result['items_without_prediction']} labeled items not predicted on); "
        f"{result['issues']} issues below {result['issue_below']}: {kinds}"
    )

    def box(value) -> str:
        return "-" if value is None else "[" + ", ".join(f"{v:g}" for v in value) + "]"

    table(
        f"top {top} box issues (lower score = more likely wrong)",
        ["item", "kind", "score", "labeled", "box", "model says", "model box", "labeler"],
        [
            (
                r["item_id"],
                r["kind"].replace("_", " "),
                _f(r["score"]),
                r["class"] or "-",
                box(r["bbox"]),
                "-" if r["predicted_class"] is None
                else f"{r['predicted_class']} {r['predicted_score']:.2f}",
                box(r["predicted_bbox"]),
                r["labeler"],
            )
            for r in result["top"]
        ],
    )  # fmt: skip
    headers = ["issues", "missing", "extra", "wrong class", "badly placed"]
    for name, groups in (("by labeler", result["by_labeler"]), ("by class", result["by_class"])):
        table(
            name,
            [name.removeprefix("by "), "boxes", *headers],
            [
                (k, v["boxes"], v["issues"], *(v[kind] for kind in result["by_kind"]))
                for k, v in groups.items()
            ],
        )


@qa_group.command("sample")
@click.argument("dataset")
@click.option("--n", "count", type=COUNT, default=50, show_default=True)
@click.option(
    "--by", type=click.Choice(["labeler", "class", "source"]), help="Stratify the sample."
)
@click.option("--seed", type=SEED, default=0, show_default=True)
@snapshot_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The HTML file to write.",
)
@json_option
def sample_command(dataset, count, by, seed, snapshot, out, as_json) -> None:
    """A static, filterable HTML gallery of sampled labels drawn on their items, where a
    reviewer accepts or rejects each label and saves a review file (`qa review import` records
    it).

    \b
    Example:
      labelspec qa sample digits --n 60 --by labeler --out reports/sample.html
    """
    from labelspec.qa.sample import sample  # lazy: loaded when it runs

    result = sample(current_repo(), dataset, out, n=count, by=by, seed=seed, snapshot=snapshot)
    if as_json:
        write_json(result)
    else:
        click.echo(f"Wrote {result['annotations']} sampled annotation(s) to {out}")


@qa_group.command("gaps")
@click.argument("dataset")
@click.option("--golden", default="golden", show_default=True)
@click.option(
    "--top", type=COUNT, default=5, show_default=True, help="How many confused class pairs."
)
@snapshot_option
@click.option(
    "--html",
    "html_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the gaps as an offline HTML page with pictures of the items.",
)
@json_option
def gaps_command(dataset, golden, top, snapshot, html_out, as_json) -> None:
    """The most confused class pairs held against the guideline, with what to add to it.

    \b
    Example:
      labelspec qa gaps digits --golden expert --html reports/gaps.html
    """
    from labelspec.qa.gaps import gaps, gaps_html  # lazy: loaded when it runs
    from labelspec.yamlio import atomic_write_text  # lazy: loaded when it runs

    ws = current_repo()
    result = gaps(ws, dataset, golden, top, snapshot)
    if html_out:
        html_out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(html_out, gaps_html(ws, result))
        note(f"Wrote {html_out}")
    if as_json:
        write_json(result)
        return
    golden_info, snap = result["golden"], result["snapshot"]
    click.echo(
        f"{dataset}: most confused class pairs, against guideline {result['guideline']} "
        f"{result['version']}; golden {golden_info['name']} v{golden_info['version']} (made under "
        f"{golden_info['guideline_version']}); snapshot {snap['name']} of {snap['date']}"
    )
    for pair in result["pairs"]:
        a, b = pair["classes"]
        golden_text = "; ".join(
            f"{direction}: " + ", ".join(f"{s} {v['count']}/{v['of']}" for s, v in per.items())
            for direction, per in pair["golden_confusions"].items()
        )
        click.echo(
            f"  {a} / {b}: {golden_text or 'no golden confusions'}; {pair['labeler_disagreements']} labeler disagreement(s)"
        )
        state = pair["guideline"]
        click.echo(f"    deciding rules: {', '.join(state['deciding_rules']) or 'none'}")
        for suggestion in pair["suggestions"]:
            click.echo(f"    -> {suggestion}")
    if not result["suggestions"]:
        click.echo("  no gaps found: the guideline covers the confused pairs")


@qa_group.group("review")
def review_group() -> None:
    """Reviews of labels: import the file the sample gallery saves, list the recorded ones.

    \b
    Example:
      labelspec qa sample digits --n 40 --out reports/sample.html   # judge each label, save
      labelspec qa review import ~/Downloads/review-digits-rev-01-20260301T100000Z.json
      labelspec relabel plan digits --guideline digits --from-review all --out relabel/reviewed
    """


@review_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dataset", help="The dataset reviewed [default: the one the file names].")
@click.option("--reviewer", help="Who reviewed, when the file does not say.")
@json_option
def review_import_command(file, dataset, reviewer, as_json) -> None:
    """Record a review file (each label accepted, or its wrong class, misplaced box, box that
    should not be there; objects missing from an annotation; who, when) in the history, one
    commit; importing the same file again adds nothing.

    \b
    Example:
      labelspec qa review import review-digits-rev-01.json
    """
    from labelspec.store.datasets import dataset_guideline  # lazy: loaded when it runs
    from labelspec.store.reviews import import_review  # lazy: loaded when it runs

    ws = current_repo()
    result = import_review(ws, dataset, file, reviewer)
    if as_json:
        write_json(result.to_json())
        return
    if result.already:
        click.echo(f"Review {result.review} is recorded already: nothing changed")
        return
    kinds = [
        f"{result.corrected} with the right class",
        *([f"{result.misplaced} misplaced"] if result.misplaced else []),
        *([f"{result.not_an_object} should not be there"] if result.not_an_object else []),
    ]
    missing = f"; {result.missing_objects} missing object(s)" if result.missing_objects else ""
    click.echo(
        f"Recorded review {result.review} of {result.dataset} by {result.reviewer}: "
        f"{result.labels} label(s), {result.accepted} accepted, {result.rejected} rejected "
        f"({', '.join(kinds)}){missing}"
    )
    if result.rejected or result.missing_objects:
        note(
            f"Relabel what it found: labelspec relabel plan {result.dataset} --guideline "
            f"{dataset_guideline(ws, result.dataset)} --from-review {result.review} "
            f"--out relabel/{result.review}"
        )


@review_group.command("list")
@click.argument("dataset")
@snapshot_option
@json_option
def review_list_command(dataset, snapshot, as_json) -> None:
    """The reviews recorded for a dataset, oldest first: labels judged, accepted and rejected
    (of those, with the right class, misplaced, should not be there) and missing objects.

    \b
    Example:
      labelspec qa review list digits
    """
    from labelspec.store.reviews import list_reviews  # lazy: loaded when it runs

    rows = list_reviews(current_repo(), dataset, snapshot)
    if as_json:
        write_json(rows)
        return
    columns = {"review": "review", "reviewer": "reviewer", "labels": "labels"}
    columns |= {"accepted": "accepted", "rejected": "rejected", "corrected": "corrected"}
    columns |= {"misplaced": "misplaced", "not_an_object": "not there"}
    columns |= {"missing_objects": "missing", "saved": "saved"}
    table(
        f"{dataset}: {len(rows)} review(s)",
        list(columns.values()),
        [tuple(r[key] for key in columns) for r in rows],
    )
