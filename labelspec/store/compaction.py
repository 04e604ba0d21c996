"""Compaction: one revision's current labels in a few large files, for engines that pay per file.

A team's history is many small batches (a 10,000-label delivery is ~0.2 MB), and "current labels"
is an anti join against the superseded set. ``compact`` writes the current labels of a revision
once, sorted by (item_id, annotation_id, label_id) and cut into parts of about ``PART_ROWS``
labels that each hold whole items, as DVC-tracked files under ``datasets/<name>/compacted/``:
``<digest>-<part>.parquet`` with a committed ``.dvc`` record (so ``labelspec push`` sends them
to the remote with the commit that records them). Each record carries the manifest digest it was
made for, the revision, its row count and its first and last item.

It is derived data, never a source of truth: readers (``engines``) use it only when its digest
is the manifest's (the same batches, so the same current labels), and ``verify`` checks it
against the batches it came from. Deleting the files and records loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labelspec.errors import InputError, LabelspecError, NotFoundError
from labelspec.repo import Repo
from labelspec.store.batches import write_batch_rows
from labelspec.store.engine import Rows, database
from labelspec.store.manifest import (
    KIND,
    RULE_SQL,
    Entry,
    Manifest,
    compacted_dir,
    compacted_records,
    manifest,
)
from labelspec.store.query import _sql_list
from labelspec.store.records import Record
from labelspec.store.schema import LABEL_SCHEMA
from labelspec.transaction import transaction

PART_ROWS = 16 * 1024 * 1024  # labels per part: ~0.5-0.6 GB at the measured 29-36 bytes per label
COLUMNS = ", ".join(f'"{f.name}"' for f in LABEL_SCHEMA)


@dataclass
class CompactResult:
    dataset: str
    snapshot: str  # the revision compacted
    digest: str
    batches: int
    rows: int
    parts: list[str] = field(default_factory=list)  # the files, relative to the root
    bytes: int = 0
    written: bool = True  # False: this revision's batches were compacted already
    commit: str | None = None  # the commit recording the compaction

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def compact(
    ws: Repo, dataset: str, snapshot: str | None = None, part_rows: int = PART_ROWS
) -> CompactResult:
    """Write the compacted copy of ``dataset``'s current labels at ``snapshot`` (HEAD)."""
    from labelspec.engines.arrow import (
        batches_dataset,
        local_paths,
    )  # lazy: pyarrow.dataset imports pandas (0.25 s)

    if part_rows < 1:
        raise InputError(f"part rows {part_rows}: give a positive number of labels per part")
    git = ws.git
    found = manifest(ws, dataset, snapshot, git)
    name = found.ref or found.commit[:10]
    if not found.batches:
        raise InputError(f"{dataset} has no label batches at {name}: nothing to compact")
    if found.compacted is not None:
        return _result(found, name, found.compacted.parts, written=False)
    local_paths(found, found.batches)  # every batch is here, or one error naming `pull`
    con = database()
    con.register("labels_all", batches_dataset(found))
    source = RULE_SQL if found.superseding else "select * from labels_all"
    con.execute(f"create temp table cur as select {COLUMNS} from ({source})")
    # parts of whole items: an item's labels start a new part once the part holds part_rows
    con.execute(
        f"""create temp table cuts as
            select item_id, (coalesce(sum(n) over (order by item_id rows between unbounded
                             preceding and 1 preceding), 0) // {int(part_rows)})::BIGINT as part
            from (select item_id, count(*) as n from cur group by 1)"""
    )
    numbers = [r[0] for r in con.execute("select distinct part from cuts order by 1").fetchall()]
    current = con.execute("select count(*) from cur").fetchone()[0]
    folder = compacted_dir(ws, dataset)
    written: list[Entry] = []
    message = (
        f"labels compact {dataset} {name}: {current} current labels of {len(found.batches)} batches"
    )
    with transaction(ws, message) as tx:
        ignore = folder / ".gitignore"
        if not ignore.exists():  # the parts are DVC data: git keeps only their records
            tx.write_text(ignore, "/*.parquet\n")
        for index, number in enumerate(numbers):
            con.execute(
                f"""create or replace temp view part_rows as
                    select c.* from cur c semi join (select item_id from cuts where part = {number})
                    using (item_id)"""
            )
            rows = Rows(con, "part_rows")
            first, last = con.execute("select min(item_id), max(item_id) from part_rows").fetchone()
            target = tx.new_file(folder / f"{found.digest[:16]}-{index:04d}.parquet")
            hashes = write_batch_rows(rows, target, {"labelspec.compacted": found.digest})
            meta = {
                "kind": KIND,
                "dataset": dataset,
                "digest": found.digest,
                "commit": found.commit,
                "batches": len(found.batches),
                "part": index,
                "parts": len(numbers),
                "rows": rows.num_rows,
                "first_item": first,
                "last_item": last,
                "sort": "item_id, annotation_id, label_id",
            }
            record = tx.track(target, meta, hashes)
            written.append(
                Entry(
                    id=target.name.removesuffix(".parquet"),
                    file=ws.relpath(target),
                    md5=record["md5"],
                    sha256=record["sha256"],
                    rows=rows.num_rows,
                    bytes=record["size"],
                )
            )
    result = _result(found, name, written, written=True)
    result.commit = tx.commit
    return result


def _result(found: Manifest, name: str, parts: list[Entry], written: bool) -> CompactResult:
    return CompactResult(
        dataset=found.dataset,
        snapshot=name,
        digest=found.digest,
        batches=len(found.batches),
        rows=sum(p.rows for p in parts),
        parts=[p.file for p in parts],
        bytes=sum(p.bytes for p in parts),
        written=written,
    )


def differences(found: Manifest, part_paths: list[Path]) -> int:
    """Rows in the compacted parts or in the batches' current labels but not in both (a
    multiset difference both ways over every column)."""
    from labelspec.engines.arrow import (
        batches_dataset,
    )  # lazy: pyarrow.dataset imports pandas (0.25 s)

    con = database()
    con.register("labels_all", batches_dataset(found))
    source = RULE_SQL if found.superseding else "select * from labels_all"
    con.execute(f"create temp view fresh as select {COLUMNS} from ({source})")
    con.execute(
        f"create temp view kept as select {COLUMNS} from read_parquet({_sql_list(part_paths)})"
    )
    return con.execute(
        """select (select count(*) from (select * from kept except all select * from fresh))
                + (select count(*) from (select * from fresh except all select * from kept))"""
    ).fetchone()[0]


def commit_of(record: Record) -> str:
    return str(record.meta.get("commit") or "")


def problems(ws: Repo, git, dataset: str, check_file) -> tuple[int, list[str]]:
    """``verify``'s check of every compaction HEAD records: made for the batches of its revision
    (same digest), whole files (``check_file(record, what)`` -> path or None), and the same rows
    as the current labels of those batches. (compactions checked, problems)"""

    found: list[str] = []
    made = compacted_records(ws, git, dataset)
    for digest, parts in sorted(made.items()):
        what = f"{dataset}: compacted copy {digest[:16]}"
        folder = Path(parts[0].rel).parent.as_posix()
        fix = (
            f"delete it (`git rm {folder}/{digest[:16]}-*.parquet.dvc`) and run "
            f"`labelspec labels compact {dataset} --snapshot {commit_of(parts[0])[:10]}` again"
        )
        commit = commit_of(parts[0])
        try:
            origin = manifest(ws, dataset, commit, git)
        except (NotFoundError, LabelspecError):
            found.append(f"{what} names revision {commit[:10]}, which this history lacks; {fix}")
            continue
        if origin.digest != digest:
            found.append(
                f"{what} was made for other batches than revision {commit[:10]} holds "
                f"(digest {digest[:16]}, the revision's {origin.digest[:16]}); {fix}"
            )
            continue
        expected = list(range(int(parts[0].meta.get("parts", len(parts)))))
        if [int(p.meta.get("part", -1)) for p in parts] != expected:
            found.append(
                f"{what}: parts are missing ({len(parts)} of {len(expected)} recorded); {fix}"
            )
            continue
        paths = [check_file(p, what) for p in parts]
        if any(p is None for p in paths):
            continue  # check_file reported it
        try:
            differ = differences(origin, [p for p in paths if p is not None])
        except NotFoundError:
            continue  # the batches are missing: verify names them
        if differ:
            found.append(
                f"{what}: {differ} row(s) differ from the current labels of the batches of "
                f"revision {commit[:10]} it was made from; {fix}"
            )
    return len(made), found
