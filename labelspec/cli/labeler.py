from __future__ import annotations

from pathlib import Path

import click

from labelspec.cli.options import (
    COUNT,
    SEED,
    FiniteFloat,
    current_repo,
    snapshot_option,
    version_option,
)
from labelspec.cli.output import json_option, note, table, write_json
from labelspec.errors import InputError


@click.group("labeler")
def labeler_group() -> None:
    """Labelers, their training records, quizzes, and who must be retrained.

    \b
    Example:
      labelspec labeler add vendA-01 --vendor vendor-a
      labelspec labeler status
    """


@labeler_group.command("add")
@click.argument("labeler_id", metavar="ID")
@click.option("--vendor", required=True, help="Vendor or in-house team the labeler works for.")
@click.option("--team", help="Team within the vendor.")
@json_option
def add_command(labeler_id, vendor, team, as_json) -> None:
    """Add a labeler with a pseudonymous ID (no names, no e-mail addresses).

    \b
    Example:
      labelspec labeler add vendA-01 --vendor vendor-a --team night-shift
    """
    from labelspec.labelers.roster import add_labeler  # lazy: loaded when it runs

    labeler = add_labeler(current_repo(), labeler_id, vendor, team)
    if as_json:
        write_json(labeler.model_dump(mode="json"))
    else:
        click.echo(f"Added labeler {labeler.id} ({labeler.vendor})")


@labeler_group.command("list")
@click.option("--active", "active_only", is_flag=True, help="Only active labelers.")
@json_option
def list_command(active_only, as_json) -> None:
    """List labelers.

    \b
    Example:
      labelspec labeler list --json
    """
    from labelspec.labelers.roster import list_labelers  # lazy: loaded when it runs

    labelers = list_labelers(current_repo(), include_inactive=not active_only)
    if as_json:
        write_json([lab.model_dump(mode="json") for lab in labelers])
        return
    table(
        None,
        ["id", "vendor", "team", "active", "added"],
        [
            (lab.id, lab.vendor, lab.team or "-", "yes" if lab.active else "no", lab.added)
            for lab in labelers
        ],
    )


@labeler_group.command("deactivate")
@click.argument("labeler_id", metavar="ID")
def deactivate_command(labeler_id) -> None:
    """Mark a labeler inactive (their records and labels stay).

    \b
    Example:
      labelspec labeler deactivate vendA-01
    """
    from labelspec.labelers.roster import deactivate_labeler  # lazy: loaded when it runs

    deactivate_labeler(current_repo(), labeler_id)
    click.echo(f"Deactivated labeler {labeler_id}")


@labeler_group.command("activate")
@click.argument("labeler_id", metavar="ID")
def activate_command(labeler_id) -> None:
    """Mark an inactive labeler active again.

    \b
    Example:
      labelspec labeler activate vendA-01
    """
    from labelspec.labelers.roster import set_active  # lazy: loaded when it runs

    set_active(current_repo(), labeler_id, True)
    click.echo(f"Activated labeler {labeler_id}")


@labeler_group.command("settle")
@click.argument("labeler_id", metavar="ID")
@click.option(
    "--vendor", required=True, help="The vendor ID works for: one of those it was added for."
)
def settle_command(labeler_id, vendor) -> None:
    """Say which vendor ID works for, after two clones added ID for different vendors.

    Appends a settle event to the roster (both adds stay in the history) and `verify` no
    longer reports the clash. Give the other vendor's labeler a new id with `labeler add`
    and map their deliveries to it with --labeler-map.

    \b
    Example:
      labelspec labeler settle vendA-01 --vendor vendor-a
      labelspec labeler add vendB-07 --vendor vendor-b
    """
    from labelspec.labelers.roster import settle_labeler  # lazy: loaded when it runs

    labeler = settle_labeler(current_repo(), labeler_id, vendor)
    click.echo(f"Settled labeler {labeler.id}: works for {labeler.vendor}")


@labeler_group.command("train")
@click.argument("labeler_id", metavar="ID")
@click.option("--guideline", required=True, help="Guideline name.")
@version_option("--version", required=True, help="Released version the training covered.")
@click.option("--method", type=click.Choice(["quiz", "session"]), required=True)
@click.option(
    "--score",
    type=FiniteFloat(0, 1, hint="; 92 % is 0.92"),
    required=True,
    help="Fraction correct, 0..1.",
)
@click.option("--passed/--failed", default=None, help="The outcome.")
@click.option(
    "--date",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Training date [default: today]: the record covers labels made on or after it, even "
    "labels imported before it was recorded; not before the version's release date.",
)
@json_option
def train_command(labeler_id, guideline, version, method, score, passed, date, as_json) -> None:
    """Record one training of labeler ID on a released guideline version.

    \b
    Example:
      labelspec labeler train vendA-01 --guideline digits --version 1.1.0 --method session --score 0.95 --passed
    """
    from labelspec.labelers.training import record_training  # lazy: loaded when it runs

    if passed is None:
        raise InputError("say whether the labeler --passed or --failed")
    record = record_training(
        current_repo(),
        labeler_id,
        guideline,
        version.removeprefix("v"),
        method,
        score,
        passed,
        date.date() if date else None,
    )
    if as_json:
        write_json(record.model_dump(mode="json"))
    else:
        verdict = "passed" if record.passed else "failed"
        click.echo(
            f"Recorded {record.id}: {labeler_id} {verdict} {guideline} v{record.version} ({record.score:.0%})"
        )


@labeler_group.command("quiz")
@click.argument("name")
@version_option("--version", help="Released version [default: the newest].")
@version_option(
    "--changed-since",
    help="A retraining quiz: only questions on what changed since this release (each changed class "
    "asked, then the examples of changed rules and the changed examples).",
)
@click.option(
    "--n", "count", type=COUNT, default=20, show_default=True, help="Number of questions."
)
@click.option(
    "--seed", type=SEED, default=0, show_default=True, help="Random seed for the choice and order."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="The folder to send to labelers.",
)
@click.option(
    "--key",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where the answer key goes [default: OUT.key.json, beside the folder].",
)
@json_option
def quiz_command(name, version, changed_since, count, seed, out, key, as_json) -> None:
    """Build a quiz from guideline NAME's examples, mostly the hard counter and borderline ones.

    On a detection guideline, an example with its answer drawn asks about boxes: which drawn
    box is right, or whether the one drawn is. Writes OUT/quiz.html (self-contained: send the folder to labelers; each types their id and
    saves their own answers file) and the answer key OUT.key.json beside it (keep it).

    \b
    Example:
      labelspec labeler quiz digits --n 12 --out quizzes/digits-1.1.0
      labelspec labeler quiz digits --changed-since 1.0.0 --n 8 --out quizzes/retrain-1.1.0
    """
    from labelspec.labelers.quiz import build_quiz  # lazy: loaded when it runs

    result = build_quiz(current_repo(), name, out, version, count, seed, changed_since, key)
    if as_json:
        write_json(result.to_json())
        return
    drawn = f", on {', '.join(result.classes)}" if result.classes else ""
    if result.examples:
        drawn += f", {len(result.examples)} example(s) of changed rules or changed themselves"
    boxes = f", {result.boxes} about boxes" if result.boxes else ""
    click.echo(
        f"Quiz {result.quiz_id}: {result.questions} questions ({result.hard} hard{boxes}{drawn}) "
        f"on {name} v{result.version}"
    )
    click.echo(f"  send  {result.page.parent}/")
    click.echo(f"  keep  {result.key}")
    note(
        "Labelers open quiz.html, type their id and save their answers; grade each file with "
        "`labelspec labeler grade`."
    )


@labeler_group.command("grade")
@click.argument("quiz", type=click.Path(exists=True, path_type=Path))
@click.argument("answers", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--labeler",
    "labeler_id",
    help="The labeler who answered [default: the id saved in ANSWERS].",
)
@click.option(
    "--incomplete",
    is_flag=True,
    help="Grade answers with unanswered questions (they count as wrong) instead of refusing.",
)
@click.option(
    "--feedback",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The feedback page for the labeler [default: ANSWERS.feedback.html beside it].",
)
@click.option(
    "--retake",
    is_flag=True,
    help="A second attempt today with the same result: record it too (the same answers graded "
    "again record nothing).",
)
@json_option
def grade_command(quiz, answers, labeler_id, incomplete, feedback, retake, as_json) -> None:
    """Grade ANSWERS against QUIZ's answer key, record the training, write the feedback page.

    QUIZ is the quiz folder (its key OUT.key.json sits beside it) or the key file; ANSWERS is
    the JSON the quiz page saves (it carries the labeler id), or a CSV with columns
    question,answer and --labeler. The pass mark is the spec's quality.training.pass_accuracy.
    The feedback page gives every question's right answer and the example's why.

    \b
    Example:
      labelspec labeler grade quizzes/digits-1.1.0 answers-quiz-3f2a1b0c9d-vendA-01.json
    """
    from labelspec.labelers.quiz import grade  # lazy: loaded when it runs

    result = grade(current_repo(), quiz, answers, labeler_id, incomplete, feedback, retake)
    if as_json:
        write_json(result.to_json())
        return
    verdict = "PASSED" if result.record.passed else "FAILED"
    missing = f", INCOMPLETE: {len(result.unanswered)} unanswered" if result.unanswered else ""
    recorded = (
        f"record {result.record.id}"
        if result.recorded
        else f"already on record today as {result.record.id}, nothing recorded (a second "
        "attempt with the same result: --retake)"
    )
    click.echo(
        f"{result.labeler}: {result.correct}/{result.total} = {result.score:.0%} "
        f"(pass mark {result.pass_mark:.0%}{missing}) {verdict}; {recorded}"
    )
    for miss in result.wrong:
        click.echo(
            f"  {miss['question']}: expected {miss['expected']}, answered {miss['given'] or '-'}"
        )
    note(f"Feedback for {result.labeler}: {result.feedback}")


@labeler_group.command("status")
@click.option("--guideline", help="Only this guideline.")
@json_option
def status_command(guideline, as_json) -> None:
    """Who is certified on which version, and who must be retrained after a release.

    A pass on version X still covers a later release when no release in between changed any
    class; otherwise the labeler must be retrained. Every record counts, recorded late or not;
    a record covers the labels made on or after its date.

    \b
    Example:
      labelspec labeler status --guideline digits
    """
    from labelspec.labelers.coverage import status  # lazy: loaded when it runs

    rows = status(current_repo(), guideline)
    if as_json:
        write_json([row.to_json() for row in rows])
        return
    table(
        None,
        ["labeler", "vendor", "guideline", "certified", "current", "changed since", "action"],
        [
            (
                r.labeler,
                r.vendor,
                r.guideline,
                r.certified or "-",
                r.current or "-",
                ", ".join(r.changed_since) or "-",
                r.action,
            )
            for r in rows
        ],
    )


@labeler_group.command("stats")
@click.argument("dataset")
@click.option("--golden", help="Golden set for accuracy [default: the only one, if one].")
@snapshot_option
@json_option
def stats_command(dataset, golden, snapshot, as_json) -> None:
    """Per labeler: throughput, quality on golden items, agreement with the others, training.

    Golden quality is accuracy (classification) or box / span F1 (detection, ner), each labeler
    judged on the labels they delivered exactly as `qa bakeoff` judges vendors. Labels per
    hour count an explicit empty answer ("no objects here") as one label, as the bake-off does.

    \b
    Example:
      labelspec labeler stats digits --golden expert
    """
    from labelspec.qa.scoring import EMPTY_ANSWERS_PER_HOUR  # lazy: loaded when it runs
    from labelspec.qa.stats import labeler_stats  # lazy: loaded when it runs

    rows = labeler_stats(current_repo(), dataset, golden, snapshot)
    if as_json:
        write_json(rows)
        return

    def pct(value):
        return "-" if value is None else f"{value:.1%}"

    regions = any("golden_f1" in r for r in rows)  # boxes and spans: F1, as the bake-off
    table(
        None,
        [
            "labeler",
            "source",
            "labels",
            "labels/h",
            "golden F1" if regions else "golden acc.",
            "agrees with others",
            "review errors",
            "certified",
            "current",
        ],
        [
            (
                r["labeler"],
                r["source"],
                f"{r['labels']} + {r['empty_answers']} empty"
                if r["empty_answers"]
                else r["labels"],
                r["labels_per_hour"] or "-",
                f"{r['golden_f1']:.3f}"
                if r.get("golden_f1") is not None
                else pct(r["golden_accuracy"]),
                pct(r["consensus_agreement"]),
                f"{pct(r['review_error_rate'])} of {r['reviewed']}" if r.get("reviewed") else "-",
                r["certified"] or "-",
                "yes" if r["training_current"] else "NO",
            )
            for r in rows
        ],
    )
    if any(r["empty_answers"] for r in rows):
        note(f"Note: {EMPTY_ANSWERS_PER_HOUR}")
