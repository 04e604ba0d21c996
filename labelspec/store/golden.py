"""Golden sets: expert labels kept beside the dataset's labels, never mixed into them.

Each ``golden add`` writes one immutable Parquet file, ``datasets/<name>/golden/<set>/<batch>.parquet``
with its ``.dvc`` record (labels, items, guideline version, who), so two clones adding versions
add different files. Versions are numbered by creation time within the revision (``SET@v2``);
the batch id (``SET@b-...``) names one for good. Bake-offs read the newest unless told.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from labelspec import names
from labelspec.errors import InputError, NotFoundError
from labelspec.formats import read
from labelspec.guideline.releases import parse_ref, resolve_ref
from labelspec.labels.validate import ImportRequest, refuse_problems, validate
from labelspec.repo import Repo
from labelspec.store.batches import new_batch_id, write_batch
from labelspec.store.datasets import dataset_guideline
from labelspec.store.items import read_items
from labelspec.store.records import DATA_SUFFIX, Locator, Record, records_at
from labelspec.store.schema import NO_OBJECTS
from labelspec.transaction import transaction

SET_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass
class GoldenVersion:
    version: int  # position by creation time, 1-based
    batch: str
    file: str  # relative to the workspace root
    sha256: str
    labels: int
    items: int
    guideline_version: str
    source: str
    created: str
    md5: str = ""


@dataclass
class GoldenSet:
    name: str
    versions: list[GoldenVersion] = field(default_factory=list)


def golden_dir(ws: Repo, dataset: str) -> Path:
    return ws.dataset_dir(dataset) / "golden"


def load_sets(ws: Repo, dataset: str, git=None, rev: str | None = None) -> dict[str, GoldenSet]:
    """Every golden set at ``rev`` (HEAD), its versions oldest first."""

    if git is None:
        own = ws.git
        return load_sets(ws, dataset, own, rev)
    commit = git.rev_parse(rev or "HEAD")
    records = records_at(ws, git, commit, golden_dir(ws, dataset)) if commit else []
    sets: dict[str, GoldenSet] = {}
    for record in sorted(records, key=lambda r: (r.meta.get("created", ""), r.id)):
        name = record.meta.get("set") or Path(record.rel).parent.name
        entry = sets.setdefault(name, GoldenSet(name))
        entry.versions.append(
            GoldenVersion(
                version=len(entry.versions) + 1,
                batch=record.id,
                file=record.rel,
                sha256=record.meta.get("sha256", ""),
                labels=record.meta.get("labels", 0),
                items=record.meta.get("items", 0),
                guideline_version=record.meta.get("guideline_version", ""),
                source=record.meta.get("source", ""),
                created=record.meta.get("created", ""),
                md5=record.md5,
            )
        )
    return dict(sorted(sets.items()))


def resolve(ws: Repo, dataset: str, ref: str) -> tuple[GoldenSet, GoldenVersion]:
    """``NAME`` (newest version), ``NAME@vN`` or ``NAME@<batch id>``."""
    name, _, version = ref.partition("@")
    sets = load_sets(ws, dataset)
    if name not in sets:
        known = ", ".join(sorted(sets)) or "none"
        raise NotFoundError(
            f"dataset {dataset!r} has no golden set {name!r} (sets: {known}; add one with `labelspec golden add`)"
        )
    chosen = sets[name]
    if not version:
        return chosen, chosen.versions[-1]
    number = version.removeprefix("v")
    found = next(
        (v for v in chosen.versions if str(v.version) == number or v.batch == version), None
    )
    if found is None:
        listing = ", ".join(f"v{v.version} ({v.batch})" for v in chosen.versions)
        raise NotFoundError(f"golden set {name!r} has no version {version} (versions: {listing})")
    return chosen, found


def golden_labels(ws: Repo, dataset: str, ref: str) -> tuple[pa.Table, GoldenVersion]:

    _, version = resolve(ws, dataset, ref)
    path = Locator(ws).path(Record(version.file, version.md5, 0, {}))
    if path is None:
        raise NotFoundError(f"{version.file} is not in the workspace; run `labelspec pull`")
    return pq.read_table(path), version


def add_golden(
    ws: Repo,
    dataset: str,
    file: Path | str,
    fmt: str,
    name: str = "golden",
    guideline: str | None = None,
    labeler: str = "expert",
    images_were: str | None = None,
) -> dict[str, Any]:
    """Validate expert labels like an import (spec, items), then store them as a golden version.
    An expert's "no objects here" (an empty answer) makes the item a golden negative."""

    names.one_line(labeler, "--labeler")
    if not SET_NAME.fullmatch(name):
        raise InputError(f"golden set name {name!r}: use lower-case letters, digits, '-' and '_'")
    bound = dataset_guideline(ws, dataset)
    if parse_ref(guideline or bound)[0] != bound:
        raise InputError(
            f"dataset {dataset!r} is labeled under guideline {bound!r}, not {parse_ref(guideline)[0]!r}"
        )
    # the experts' version defaults to the newest release, and the record says which it was
    gname, version = resolve_ref(ws, guideline or f"{bound}@latest", "the experts followed")
    path = Path(file)
    staged = read(fmt, path, images_were)
    request = ImportRequest(
        dataset=dataset,
        guideline=gname,
        version=version,
        source=f"golden:{name}",
        file=str(file),
        labeler=labeler,
        training_policy="off",
        check_roster=False,
    )
    batch_id = new_batch_id()
    checked = validate(ws, request, staged, batch_id, read_items(ws, dataset))
    refuse_problems(path.name, staged, checked, "the golden set was not stored")
    table = checked.table
    if table.num_rows == 0:
        raise InputError(f"{path.name}: no labels in the file")
    sets = load_sets(ws, dataset)
    number = len(sets[name].versions) + 1 if name in sets else 1
    message = (
        f"golden {name}@v{number} of {dataset}: {table.num_rows} expert labels on "
        f"{len(table.column('item_id').unique())} items"
    )
    with transaction(ws, message) as tx:
        target = tx.new_file(golden_dir(ws, dataset) / name / f"{batch_id}{DATA_SUFFIX}")
        write_batch(
            table, target, {"labelspec.golden": f"{name}@{batch_id}", "labelspec.dataset": dataset}
        )
        meta = tx.track(
            target,
            {
                "kind": "golden",
                "set": name,
                "dataset": dataset,
                "labels": table.num_rows,
                "items": len(table.column("item_id").unique()),
                "guideline_version": version,
                "source": labeler,
                "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            },
        )
    record = GoldenVersion(
        version=number,
        batch=batch_id,
        file=ws.relpath(target),
        sha256=meta["sha256"],
        labels=meta["labels"],
        items=meta["items"],
        guideline_version=version,
        source=labeler,
        created=meta["created"],
        md5=meta["md5"],
    )
    return {"dataset": dataset, "name": name, **asdict(record), "commit": tx.commit}


def list_golden(ws: Repo, dataset: str) -> list[dict[str, Any]]:

    rows = []
    locator = Locator(ws)
    for golden in load_sets(ws, dataset).values():
        newest = golden.versions[-1]
        path = locator.path(Record(newest.file, newest.md5, 0, {}))
        classes: dict[str, int] = {}
        if path is not None:
            counts = pq.read_table(path, columns=["class"]).column("class").value_counts()
            classes = {
                c["values"].as_py() or NO_OBJECTS: c["counts"].as_py() for c in counts
            }  # an expert's "no objects here" (a golden negative) under its own name
        rows.append(
            {
                "name": golden.name,
                "versions": [v.version for v in golden.versions],
                "batches": [v.batch for v in golden.versions],
                "latest": newest.version,
                "labels": newest.labels,
                "items": newest.items,
                "guideline_version": newest.guideline_version,
                "created": newest.created,
                "by_class": dict(sorted(classes.items())),
            }
        )
    return rows
