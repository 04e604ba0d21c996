"""``verify``: what each label batch holds (rows, batch id, guideline releases, training ids).

A batch's facts are a function of its bytes, so they are remembered in the workspace's state
folder by the digest those bytes were just verified to have (the sha256 of labelspec's record,
or the md5 of an older one): ``verify`` hashes every batch each time, and reads the rows only of
batches it has not seen. The guideline release of a batch comes from its footer's column
statistics when every row group names one; the training ids from one DuckDB pass over the new
batches.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow.parquet as pq

from labelspec.repo import Repo
from labelspec.store.engine import database
from labelspec.store.query import _sql_list

VERSION = 2  # of the stored facts: a change of what is stored starts afresh (2: empty answers)
RELEASE_COLUMNS = ("guideline", "guideline_version", "guideline_digest")


@dataclass
class BatchFacts:
    rows: int
    batch_id: str  # from the footer ("" when it names none)
    releases: list[list]  # [guideline, version, digest, labels]
    training_ids: list[str]
    empty: int = 0  # rows without a class: "no objects here" answers, not labels


def batch_facts(ws: Repo, verified: dict[Path, str]) -> dict[Path, BatchFacts]:
    """The facts of each batch file of ``verified`` (path -> the digest its bytes have)."""

    store = ws.state_dir / "cache" / "batch-facts.json"
    try:
        known = json.loads(store.read_text()) if store.is_file() else {}
    except ValueError:
        known = {}
    if known.get("version") != VERSION:
        known = {"version": VERSION, "batches": {}}
    batches = known["batches"]
    new = {path: key for path, key in verified.items() if key not in batches}
    if new:
        for path, facts in _read(list(new)).items():
            batches[new[path]] = asdict(facts)
        store.parent.mkdir(parents=True, exist_ok=True)
        tmp = store.with_name(f"{store.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(known))
        tmp.replace(store)
    return {path: BatchFacts(**batches[key]) for path, key in verified.items()}


def _read(paths: list[Path]) -> dict[Path, BatchFacts]:
    facts, mixed = {}, []
    for path in paths:
        meta = pq.read_metadata(path)
        batch_id = (meta.metadata or {}).get(b"labelspec.batch_id", b"").decode()
        release = _single_release(meta)
        if release is None:
            mixed.append(path)
        releases = [[*release, meta.num_rows]] if release and meta.num_rows else []
        facts[path] = BatchFacts(meta.num_rows, batch_id, releases, [], _empty_answers(meta))
    con = database()
    by_name = {str(p): p for p in paths}
    if mixed:  # footers that do not name one release: the rows are read
        for name, guideline, version, digest, n in con.execute(
            f"""select filename, guideline, guideline_version, guideline_digest, count(*)
                from read_parquet({_sql_list(mixed)}, filename = true, union_by_name = true)
                group by all order by all"""
        ).fetchall():
            facts[by_name[name]].releases.append([guideline, version, digest, n])
    for name, training_id in con.execute(
        f"""select filename, training_id
            from read_parquet({_sql_list(paths)}, filename = true, union_by_name = true)
            where training_id is not null group by all order by all"""
    ).fetchall():
        facts[by_name[name]].training_ids.append(training_id)
    return facts


def _empty_answers(meta) -> int:
    """Rows without a class, from the footer's null counts (every writer of batches keeps
    statistics; a batch without them counts none)."""
    total = 0
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        for i in range(group.num_columns):
            column = group.column(i)
            if column.path_in_schema == "class" and column.statistics is not None:
                total += column.statistics.null_count or 0
    return total


def _single_release(meta) -> tuple[str, str, str] | None:
    """The one (guideline, version, digest) of every row of a batch, from its footer's column
    statistics (min = max, no nulls, in every row group); None when they do not say."""

    if not meta.num_row_groups:
        return None
    first = meta.row_group(0)
    leaves = [first.column(i).path_in_schema for i in range(first.num_columns)]
    if not all(c in leaves for c in RELEASE_COLUMNS):
        return None
    index = [leaves.index(c) for c in RELEASE_COLUMNS]
    found = None
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        values = []
        for i in index:
            stats = group.column(i).statistics
            if (
                stats is None
                or not stats.has_min_max
                or stats.null_count
                or stats.min != stats.max
                or not getattr(stats, "is_min_value_exact", True)
            ):
                return None
            values.append(stats.min)
        if found is not None and tuple(values) != found:
            return None
        found = tuple(values)
    return found


def cited_counts(paths: list[Path], training_ids: list[str]) -> list[tuple[str, int]]:
    """How many labels of the batches ``paths`` cite each of ``training_ids``."""

    return (
        database()
        .execute(
            f"""select training_id, count(*) from read_parquet({_sql_list(paths)}, union_by_name = true)
            where list_contains($1, training_id) group by 1 order by 1""",
            [training_ids],
        )
        .fetchall()
    )
