"""``labels retract``: take a batch out of the current labels, with the reason on record.

The batch's ``.dvc`` record leaves the tree in one commit that also appends the retraction
(``store.retractions``); the record stays in git history and the bytes in the DVC cache, so
``labels log --snapshot`` at an older revision still shows it. A batch already gone from the
tree (a plain ``git revert`` of its import) gets only the record, which is what ``verify``
asks for.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from labelspec.errors import ConflictError, InputError, NotFoundError, VcsError
from labelspec.labelers.events import dumps
from labelspec.repo import Repo
from labelspec.store.datasets import declared
from labelspec.store.query import connect
from labelspec.store.records import RECORD_SUFFIX
from labelspec.store.retractions import UNION_LINE, retractions, retractions_path
from labelspec.store.snapshots import labels_dir
from labelspec.transaction import transaction
from labelspec.vcs import parse_dvc_file

MAX_REASON = 500


@dataclass
class Retraction:
    dataset: str
    batch: str
    labels: int
    source: str
    reason: str
    in_tree: bool  # its record was in HEAD's tree (False: a revert had taken it out)
    commit: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _check_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise InputError("--reason is empty: say why the batch leaves the current labels")
    if any(not ch.isprintable() for ch in reason):
        raise InputError("--reason holds a control character (a newline?): give one line of text")
    if len(reason) > MAX_REASON:
        raise InputError(f"--reason is {len(reason)} characters; keep it under {MAX_REASON}")
    return reason


def _find(ws: Repo, git, batch: str, dataset: str | None) -> tuple[str, str]:
    """(dataset, commit that added the batch) of ``batch`` in HEAD's history."""

    known = declared(ws)
    if dataset and dataset not in known:
        raise NotFoundError(f"no dataset {dataset!r} (known: {', '.join(sorted(known)) or 'none'})")
    for name in [dataset] if dataset else sorted(known):
        added = git.commits_adding(labels_dir(ws, name), RECORD_SUFFIX).get(batch + RECORD_SUFFIX)
        if added:
            return name, added[0]
    raise NotFoundError(
        f"no batch {batch} in the history of {dataset or 'any dataset'} (see `labelspec labels log`)"
    )


def retract(ws: Repo, batch: str, reason: str, dataset: str | None = None) -> Retraction:
    """Append the retraction of ``batch`` and take its record out of the tree (one commit)."""

    reason = _check_reason(reason)
    git = ws.git
    dataset, added = _find(ws, git, batch, dataset)
    done = retractions(ws, dataset).get(batch)
    if done is not None:
        raise ConflictError(
            f"batch {batch} was retracted already ({done.get('date')}: {done.get('reason')}); "
            "nothing was changed"
        )
    record = labels_dir(ws, dataset) / (batch + RECORD_SUFFIX)
    try:
        _md5, _size, meta = parse_dvc_file(
            git.read_file(added, record).decode("utf-8"), ws.relpath(record)
        )
    except VcsError as exc:
        raise NotFoundError(f"batch {batch}: its record is not readable at {added[:10]}") from exc
    in_tree = record.is_file()
    if in_tree:
        _refuse_superseded(ws, dataset, batch)
    result = Retraction(
        dataset, batch, int(meta.get("rows", 0)), str(meta.get("source", "")), reason, in_tree
    )
    message = (
        f"labels retract: {dataset} {batch} ({result.labels} labels from {result.source}): {reason}"
    )
    with transaction(ws, message) as tx:
        line = {
            "batch": batch,
            "reason": reason,
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "labels": result.labels,
            "source": result.source,
            "added_in": added,
        }
        tx.append_line(retractions_path(ws, dataset), dumps(line))
        _ensure_union(ws, tx)
        if in_tree:
            tx.remove(record)
            # DVC data, not in the commit; its bytes stay in the DVC cache
            tx.remove_after_commit(record.with_name(record.name.removesuffix(".dvc")))
    result.commit = tx.commit
    return result


def _refuse_superseded(ws: Repo, dataset: str, batch: str) -> None:
    """Refuse a batch that supersedes annotations and whose own annotations a later batch
    supersedes: taking it out would bring back the annotations it replaced beside the later
    batch's (two current answers by one labeler). Retracting the later batch first undoes the
    chain in order; history stays append-only and no batch's counts change."""

    con = connect(ws, dataset)
    back, later = con.execute(
        """
        with mine as (select distinct annotation_id from labels_all where batch_id = $batch),
             others as (select batch_id, unnest(supersedes) as annotation_id from labels_all
                        where batch_id <> $batch and supersedes is not null),
             back as (select distinct unnest(supersedes) as annotation_id from labels_all
                      where batch_id = $batch and supersedes is not null)
        select (select count(*) from back
                where annotation_id in (select annotation_id from labels_all)
                  and annotation_id not in (select annotation_id from others)),
               (select list(distinct batch_id order by batch_id) from others
                where annotation_id in (select annotation_id from mine))
        """,
        {"batch": batch},
    ).fetchone()
    if back and later:
        first = later[-1]
        raise ConflictError(
            f"batch {batch}: later batch(es) {', '.join(later)} supersede its annotations; "
            f"retracting it alone would make the {back} annotation(s) it superseded current "
            "again beside theirs (two current answers by one labeler). Retract the later "
            f"batch(es) first (`labelspec labels retract {first} --reason ...`), then {batch}; "
            "nothing was changed"
        )


def _ensure_union(ws: Repo, tx) -> None:
    """``.gitattributes`` merges retraction files line by line (workspaces made before them)."""

    path = ws.root / ".gitattributes"
    text = path.read_text() if path.is_file() else ""
    if UNION_LINE not in text.splitlines():
        head = text if not text or text.endswith("\n") else text + "\n"
        tx.write_text(path, head + UNION_LINE + "\n")
