"""What every QA report starts from: a snapshot's current labels, and the spec they were made under.

``open_current`` returns a DuckDB connection with the ``labels`` and ``items`` views of
``labelspec.store.query.connect`` plus a ``classes`` table ``(class, code)``: the spec's class ids
in spec order, then any class the labels use that the spec no longer has (sorted), so reports can
turn classes into the integer codes ``labelspec.qa.metrics`` expects.

Every QA report attributes a label to the source its batch record names (``labels log``): a
relabel merge is the work of source ``relabel``, even in histories whose merged rows still carry
the relabelers' vendors (``attribute_sources``). ``open_scored`` adds the ``scored`` view a
report judges: each source's labels as it delivered them (``delivered``), or the current ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from labelspec.errors import InputError, NotFoundError
from labelspec.guideline.releases import spec_at
from labelspec.guideline.spec import Spec
from labelspec.repo import Repo
from labelspec.semver import Version
from labelspec.store.datasets import dataset_guideline
from labelspec.store.golden import load_sets, resolve
from labelspec.store.query import connect
from labelspec.store.records import Locator, Record
from labelspec.store.snapshots import snapshot as snapshot_at


@dataclass
class Current:
    con: duckdb.DuckDBPyConnection
    dataset: str
    snapshot: str  # the revision as asked for, or its short commit
    guideline: str
    spec: Spec  # as released at the newest guideline version the current labels use
    class_ids: list[str]  # code -> class id
    commit: str = ""  # the snapshot's full commit
    versions: list[str] = field(default_factory=list)  # the releases the labels were made under

    @property
    def task(self) -> str:
        return self.spec.task


def open_current(ws: Repo, dataset: str, snapshot: str | int | None = None) -> Current:
    """The current labels of ``snapshot`` (the latest when None); refuses a snapshot without labels."""

    guideline = dataset_guideline(ws, dataset)
    chosen = snapshot_at(ws, dataset, snapshot)
    con = connect(ws, dataset, chosen)
    attribute_sources(con, chosen.batches)
    versions = [
        r[0] for r in con.execute("select distinct guideline_version from labels").fetchall()
    ]
    if not versions:
        raise InputError(
            f"dataset {dataset!r} has no current labels in {chosen.name} (import labels first)"
        )
    spec = spec_at(ws, guideline, str(max(Version.parse(v) for v in versions)))
    used = [
        r[0]
        for r in con.execute(
            'select distinct "class" from labels where "class" is not null order by 1'
        ).fetchall()
    ]
    class_ids = spec.class_ids + [c for c in used if c not in spec.class_ids]
    con.register(
        "classes_arrow",
        pa.table({"class": class_ids, "code": list(range(len(class_ids)))}),
    )
    con.execute("create temp table classes as select * from classes_arrow")
    con.unregister("classes_arrow")
    made_under = sorted(versions, key=Version.parse)
    return Current(con, dataset, chosen.name, guideline, spec, class_ids, chosen.commit, made_under)


LABEL_SETS = ("delivered", "current")


def attribute_sources(con: duckdb.DuckDBPyConnection, batches: list) -> None:
    """Give every label the source of its batch record, in the ``labels_all`` and ``labels``
    views of ``con``. Only relabel merges made before labelspec kept their source stored the
    relabelers' vendors in their rows; without a merge in the snapshot nothing changes."""
    if not any(b.plan for b in batches):
        return
    con.register(
        "batch_sources_arrow",
        pa.table(
            {"batch_id": [b.id for b in batches], "batch_source": [b.source for b in batches]},
            schema=pa.schema([("batch_id", pa.string()), ("batch_source", pa.string())]),
        ),
    )
    con.execute("create temp table batch_sources as select * from batch_sources_arrow")
    con.unregister("batch_sources_arrow")
    # ``labels`` reads ``labels_all`` by name, so it sees the attributed rows too.
    con.execute(
        """
        alter view labels_all rename to labels_as_stored;
        create view labels_all as
          select l.* replace (coalesce(b.batch_source, l.source) as source)
          from labels_as_stored l left join batch_sources b using (batch_id);
        """
    )


def scored_view(con: duckdb.DuckDBPyConnection, labels: str) -> None:
    """The ``scored`` view: what a report judges each source on.

    ``delivered``: every label of a source's batches that no batch of the *same* source
    supersedes (an edited re-export replaces its earlier version; another source's relabel does
    not erase what this one delivered). ``current``: the snapshot's current labels."""
    if labels not in LABEL_SETS:
        raise InputError(f"labels must be one of {', '.join(LABEL_SETS)}, not {labels!r}")
    if labels == "current":
        con.execute("create or replace temp view scored as select * from labels")
        return
    con.execute(
        """
        create or replace temp view scored as
        with own as (select distinct source, unnest(supersedes) as annotation_id
                     from labels_all where supersedes is not null)
        select l.* from labels_all l
        anti join own o on o.source = l.source and o.annotation_id = l.annotation_id
        """
    )


@dataclass
class Scored:
    """A snapshot's labels as a report judges them (see ``open_scored``)."""

    con: duckdb.DuckDBPyConnection
    snapshot: Any  # labelspec.store.snapshots.Snapshot
    labels: str  # delivered | current
    date: str  # the snapshot commit's date


def open_scored(
    ws: Repo, dataset: str, snapshot: str | int | None = None, labels: str = "delivered"
) -> Scored:
    """``labels_all``, ``labels`` and ``items`` of ``snapshot`` with sources attributed by batch,
    and the ``scored`` view (``scored_view``)."""

    git = ws.git
    chosen = snapshot_at(ws, dataset, snapshot, git)
    date = git.commit_info(chosen.commit)[1]
    con = connect(ws, dataset, chosen)
    attribute_sources(con, chosen.batches)
    scored_view(con, labels)
    return Scored(con, chosen, labels, date)


def number(value: Any) -> float | None:
    """A float for JSON: None for nan (an undefined coefficient), else the value."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def share(part: float, whole: float) -> float | None:
    """part / whole, or None when there is nothing to divide by."""
    return float(part) / float(whole) if whole else None


def golden_at(ws: Repo, dataset: str, ref: str, commit: str) -> tuple[pa.Table, Any]:
    """Golden set ``ref`` (``NAME``, ``NAME@vN``, ``NAME@<batch>``) as the snapshot's commit
    had it, so a report at an old snapshot uses the expert answers of that time; a set added
    after the snapshot is read as HEAD has it (golden versions are append-only)."""

    name, _, wanted = ref.partition("@")
    sets = load_sets(ws, dataset, rev=commit)
    if name not in sets:
        _, version = resolve(ws, dataset, ref)  # HEAD's, or the error naming the known sets
    elif not wanted:
        version = sets[name].versions[-1]
    else:
        number = wanted.removeprefix("v")
        found = [v for v in sets[name].versions if str(v.version) == number or v.batch == wanted]
        version = found[0] if found else resolve(ws, dataset, ref)[1]
    path = Locator(ws).path(Record(version.file, version.md5, 0, {}))
    if path is None:
        raise NotFoundError(f"{version.file} is not in the workspace; run `labelspec pull`")
    return pq.read_table(path), version
