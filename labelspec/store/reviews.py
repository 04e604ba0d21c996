"""Label reviews: who accepted or rejected which label, with the right class, and when.

The sample gallery (``labelspec qa sample``) saves a review file (JSON, ``FORMAT`` below);
``import_review`` checks it against the history and stores it as one immutable record,
``datasets/<name>/reviews/<review id>.parquet`` with its ``.dvc`` file, in one commit. The id is
a function of the file (its save time and sha256), so importing a file twice, or in two clones,
adds the same record once and histories merge with a plain ``git pull``.

A label's verdict is its newest review (by review time, then review id): a second reviewer's
accept overrides a first reviewer's reject. ``rejected_labels`` lists the current labels whose
verdict is a reject, for ``relabel plan --from-review``.

    {"kind": "labelspec-review", "dataset": "digits", "snapshot": "<commit>",
     "reviewer": "rev-01", "saved": "2026-03-01T10:00:00Z",
     "verdicts": [{"label_id": "l-...", "verdict": "reject", "correct_class": "one",
                   "note": "flag shorter than half the width"}, ...]}
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from labelspec.errors import LabelspecError, NotFoundError, Problem, ProblemsError
from labelspec.workspace import Workspace

KIND = "labelspec-review"
VERDICTS = ("accept", "reject")
IGNORE = "/datasets/*/reviews/*.parquet"  # the records' data: DVC keeps it, git the .dvc files
SCHEMA = pa.schema(
    [
        pa.field("review_id", pa.string(), nullable=False),
        pa.field("label_id", pa.string(), nullable=False),
        pa.field("annotation_id", pa.string(), nullable=False),
        pa.field("item_id", pa.string(), nullable=False),
        pa.field("reviewer", pa.string(), nullable=False),
        pa.field("verdict", pa.string(), nullable=False),
        pa.field("correct_class", pa.string()),  # what the label should have said (a reject)
        pa.field("note", pa.string()),
        pa.field("reviewed_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("snapshot", pa.string()),  # the commit the reviewer looked at
    ]
)
SHOWN = 50  # problems listed


def reviews_dir(ws: Workspace, dataset: str) -> Path:
    return ws.dataset_dir(dataset) / "reviews"


@dataclass
class ReviewResult:
    dataset: str
    review: str
    reviewer: str
    labels: int
    accepted: int
    rejected: int
    corrected: int  # rejects that name the right class
    file: str
    commit: str | None
    already: bool = False  # the same file was imported before: nothing written

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


# -- reading the file --------------------------------------------------------------------------------
def _load(path: Path) -> tuple[dict[str, Any], bytes]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise NotFoundError(f"{path}: no such review file") from exc
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise LabelspecError(
            f"{path}: not UTF-8 text; give the JSON file the gallery saved"
        ) from exc
    except json.JSONDecodeError as exc:
        raise LabelspecError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from exc
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise LabelspecError(
            f'{path}: not a review file (it needs "kind": "{KIND}"); save one from the page '
            "`labelspec qa sample` writes"
        )
    return data, raw


def _time(value: Any, where: str, problems: list[Problem], file: str) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        problems.append(Problem(f"{value!r} is not an ISO 8601 time", file, path=where))
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    if parsed > dt.datetime.now(dt.UTC) + dt.timedelta(days=1):
        problems.append(Problem(f"{value} is in the future", file, path=where))
    return parsed.astimezone(dt.UTC)


def _reviewer(data: dict[str, Any], given: str | None, path: Path) -> str:
    from labelspec.labelers.roster import validate_labeler_id

    saved = data.get("reviewer")
    if given and saved and given != saved:
        raise LabelspecError(
            f"{path} was saved by reviewer {saved}, not {given}; leave out --reviewer"
        )
    reviewer = str(given or saved or "").strip()
    if not reviewer:
        raise LabelspecError(
            f"{path} does not say who reviewed; give --reviewer ID (files the gallery saves carry it)"
        )
    validate_labeler_id(reviewer)  # pseudonymous, like labelers
    return reviewer


# -- import --------------------------------------------------------------------------------------------
def import_review(
    ws: Workspace, dataset: str | None, file: Path | str, reviewer: str | None = None
) -> ReviewResult:
    """Check a review file against the dataset's history, then record it (one commit).
    ``dataset`` None: the one the file names."""
    from labelspec.store.query import connect
    from labelspec.vcs import Git

    path = Path(file)
    data, raw = _load(path)
    if dataset is None:
        dataset = str(data.get("dataset") or "")
        if (
            not dataset
            or "/" in dataset
            or dataset.startswith(".")
            or not ws.dataset_dir(dataset).is_dir()
        ):
            raise NotFoundError(
                f"{path} reviews dataset {dataset!r}, which this workspace does not have"
            )
    if data.get("dataset") != dataset:
        raise LabelspecError(f"{path} reviews dataset {data.get('dataset')!r}, not {dataset!r}")
    who = _reviewer(data, reviewer, path)
    problems: list[Problem] = []
    saved = _time(data.get("saved"), "saved", problems, path.name)
    verdicts = data.get("verdicts")
    if not isinstance(verdicts, list) or not verdicts:
        raise LabelspecError(f"{path}: no verdicts; accept or reject some labels, then save")
    con = connect(ws, dataset)
    rows = _checked(ws, con, verdicts, path.name, problems)
    if problems:
        raise ProblemsError(
            f"{path.name}: {len(problems)} problem(s); no review was recorded",
            problems[:SHOWN],
            len(problems),
        )
    sha = hashlib.sha256(raw).hexdigest()
    review_id = f"rv-{saved:%Y%m%dT%H%M%SZ}-{sha[:8]}"
    for row in rows:
        row.update(
            review_id=review_id,
            reviewer=who,
            reviewed_at=row.pop("at") or saved,
            snapshot=str(data.get("snapshot") or "") or None,
        )
    table = pa.Table.from_pylist(rows, schema=SCHEMA).sort_by([("label_id", "ascending")])
    rejected = sum(1 for r in rows if r["verdict"] == "reject")
    corrected = sum(1 for r in rows if r["verdict"] == "reject" and r["correct_class"])
    result = ReviewResult(
        dataset, review_id, who, len(rows), len(rows) - rejected, rejected, corrected, "", None
    )
    target = reviews_dir(ws, dataset) / f"{review_id}.parquet"
    result.file = ws.relpath(target)
    with Git(ws.root) as git:
        if git.is_tracked(target.with_name(target.name + ".dvc")):
            result.already, result.commit = True, git.head()
            return result
    result.commit = _write(ws, dataset, table, target, result, data, sha, path.name)
    return result


def _checked(ws: Workspace, con, verdicts: list, file: str, problems: list[Problem]) -> list[dict]:
    """One row per verdict, or a problem per bad field (every one, not only the first)."""
    from labelspec.guideline.releases import spec_at

    ids = [v.get("label_id") for v in verdicts if isinstance(v, dict)]
    con.register("wanted", pa.table({"label_id": pa.array([str(i) for i in ids], pa.string())}))
    known = {
        r[0]: r[1:]
        for r in con.execute(
            """select label_id, annotation_id, item_id, "class", guideline, guideline_version
               from labels_all semi join wanted using (label_id)"""
        ).fetchall()
    }
    specs: dict[tuple[str, str], set[str]] = {}
    seen: set[str] = set()
    rows = []
    for n, entry in enumerate(verdicts, 1):
        where = f"verdicts[{n - 1}]"
        if not isinstance(entry, dict):
            problems.append(
                Problem("a verdict is an object with label_id and verdict", file, path=where)
            )
            continue
        label = str(entry.get("label_id") or "")
        if label in seen:
            problems.append(
                Problem(f"label {label} is reviewed twice in one file", file, path=where)
            )
        seen.add(label)
        if label not in known:
            problems.append(
                Problem(f"no label {label!r} in the dataset's history", file, path=where)
            )
            continue
        annotation, item, cls, guideline, version = known[label]
        verdict = entry.get("verdict")
        if verdict not in VERDICTS:
            problems.append(
                Problem(f"verdict {verdict!r}: use accept or reject", file, path=f"{where}.verdict")
            )
        right = entry.get("correct_class") or None
        if right is not None:
            classes = specs.get((guideline, version))
            if classes is None:
                classes = specs[(guideline, version)] = set(
                    spec_at(ws, guideline, version).class_ids
                )
            if right not in classes:
                problems.append(
                    Problem(
                        f"class {right!r} is not in {guideline} {version} (classes: {', '.join(sorted(classes))})",
                        file,
                        path=f"{where}.correct_class",
                    )
                )
            elif verdict == "accept" and right != cls:
                problems.append(
                    Problem(
                        f"accepted as {cls} but corrected to {right}: reject it, or drop the class",
                        file,
                        path=where,
                    )
                )
            elif verdict == "reject" and right == cls:
                problems.append(
                    Problem(
                        f"rejected, yet the right class is the label's own ({cls}): accept it, or pick another class",
                        file,
                        path=where,
                    )
                )
        at = entry.get("at")
        rows.append(
            {
                "label_id": label,
                "annotation_id": annotation,
                "item_id": item,
                "verdict": verdict,
                "correct_class": right if verdict == "reject" else None,
                "note": str(entry["note"]) if entry.get("note") else None,
                "at": _time(at, f"{where}.at", problems, file) if at else None,
            }
        )
    return rows


def _write(ws, dataset, table, target, result, data, sha, name) -> str | None:
    from labelspec.store.batches import write_parquet_hashed
    from labelspec.transaction import transaction

    message = (
        f"review {result.review} of {dataset} by {result.reviewer}: {result.labels} label(s), "
        f"{result.rejected} rejected"
    )
    with transaction(ws, message) as tx:
        path = tx.new_file(target)
        hashes = write_parquet_hashed(table, path, {"labelspec.review": result.review})
        ignore = ws.root / ".gitignore"
        if IGNORE not in (ignore.read_text().splitlines() if ignore.is_file() else []):
            tx.append_line(ignore, IGNORE)  # workspaces made before reviews were recorded
        tx.track(
            path,
            {
                "kind": "review",
                "dataset": dataset,
                "reviewer": result.reviewer,
                "labels": result.labels,
                "accepted": result.accepted,
                "rejected": result.rejected,
                "corrected": result.corrected,
                "saved": str(data.get("saved")),
                "snapshot": data.get("snapshot"),
                "file": name,
                "file_sha256": sha,
                "imported": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            },
            hashes,
        )
    return tx.commit


# -- reading the records ---------------------------------------------------------------------------------
def reviews_at(ws: Workspace, dataset: str, commit: str | None = None, git=None) -> pa.Table:
    """Every review recorded at ``commit`` (HEAD), one row per reviewed label (``SCHEMA``)."""
    import pyarrow.parquet as pq

    from labelspec.store.records import Locator, records_at
    from labelspec.vcs import Git

    if git is None:
        with Git(ws.root) as own:
            return reviews_at(ws, dataset, commit, own)
    rev = git.rev_parse(commit or "HEAD")
    records = records_at(ws, git, rev, reviews_dir(ws, dataset)) if rev else []
    if not records:
        return SCHEMA.empty_table()
    paths = Locator(ws).paths(records, "review")
    return pa.concat_tables([pq.read_table(p, schema=SCHEMA) for p in paths])


def verdicts_sql(reviews: str = "reviews") -> str:
    """SQL for each label's verdict: its newest review (review time, then review id)."""
    return f"""select * from {reviews}
               qualify row_number() over (partition by label_id
                                          order by reviewed_at desc, review_id desc) = 1"""


def rejected_labels(
    ws: Workspace, dataset: str, snapshot: str | None = None, review: str | None = None
) -> pa.Table:
    """The current labels of ``snapshot`` whose verdict is a reject (only ``review``'s, if
    given): item_id, annotation_id, label_id, class, correct_class, labeler_id,
    guideline_version, created_at, reviewer, review_id, reviewed_at, note; by item."""
    from labelspec.store.query import connect
    from labelspec.store.snapshots import snapshot as snapshot_at
    from labelspec.vcs import Git

    with Git(ws.root) as git:
        snap = snapshot_at(ws, dataset, snapshot, git)
        table = reviews_at(ws, dataset, snap.commit, git)
    if review is not None and review not in set(table.column("review_id").to_pylist()):
        raise NotFoundError(
            f"no review {review!r} of dataset {dataset!r} in {snap.name} (see `labelspec qa review list {dataset}`)"
        )
    con = connect(ws, dataset, snap)
    con.register("reviews", table)
    only = "and v.review_id = $review" if review else ""
    return con.sql(
        f"""select l.item_id, l.annotation_id, l.label_id, l."class", v.correct_class,
                   l.labeler_id, l.guideline_version, l.created_at, v.reviewer, v.review_id,
                   v.reviewed_at, v.note
            from ({verdicts_sql()}) v join labels l using (label_id)
            where v.verdict = 'reject' {only}
            order by l.item_id, l.annotation_id, l.label_id""",
        params={"review": review} if review else None,
    ).to_arrow_table()


def list_reviews(ws: Workspace, dataset: str, snapshot: str | None = None) -> list[dict[str, Any]]:
    """The reviews recorded at ``snapshot`` (HEAD), oldest first, with their counts."""
    from labelspec.store.records import records_at
    from labelspec.store.snapshots import resolve
    from labelspec.vcs import Git

    with Git(ws.root) as git:
        commit = resolve(ws, git, dataset, snapshot)
        records = records_at(ws, git, commit, reviews_dir(ws, dataset))
    keys = ("reviewer", "labels", "accepted", "rejected", "corrected", "saved", "file")
    return [{"review": r.id, **{k: r.meta.get(k) for k in keys}} for r in records]
