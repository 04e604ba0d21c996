"""``labels import``: stage an export with its format's reader, validate every row against the
workspace, then write one immutable batch and its record in one transaction (one commit)."""

from __future__ import annotations

import csv
import json
import re
import shutil
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labelspec import names, nesting
from labelspec.errors import InputError, NotFoundError, Problem
from labelspec.formats import delivery_of, read
from labelspec.guideline.releases import parse_ref, resolve_ref, spec_at
from labelspec.labels.batch_counts import BatchCounts
from labelspec.labels.incremental import against_history
from labelspec.labels.validate import ImportRequest, refuse_problems, validate
from labelspec.progress import progress
from labelspec.repo import Repo
from labelspec.semver import Version
from labelspec.store.batches import new_batch_id, write_batch, write_batch_rows
from labelspec.store.datasets import dataset_guideline
from labelspec.store.engine import Rows, database, names_out_of_memory
from labelspec.store.items import read_items
from labelspec.store.records import DATA_SUFFIX, Record
from labelspec.store.schema import NO_OBJECTS
from labelspec.store.snapshots import Batch, labels_dir
from labelspec.transaction import transaction
from labelspec.vcs import hash_file


@dataclass
class ImportResult:
    dataset: str
    batch_id: str
    commit: str
    labels: int
    annotations: int
    items: int
    by_class: dict[str, int]
    by_labeler: dict[str, int]
    skipped: dict[str, int] = field(default_factory=dict)
    empty_answers: int = 0  # annotations that say "no objects here" (not in by_class)
    warnings: list[str] = field(default_factory=list)
    new: int = 0  # annotations
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False
    delivery: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "batch": self.batch_id,
            "snapshot": self.commit[:10],
            "commit": self.commit,
            "labels": self.labels,
            "annotations": self.annotations,
            "items": self.items,
            "by_class": self.by_class,
            "by_labeler": self.by_labeler,
            "empty_answers": self.empty_answers,
            "skipped": self.skipped,
            "warnings": self.warnings,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "dry_run": self.dry_run,
            "delivery": self.delivery,
        }


def load_class_map(path: Path) -> dict[str, str]:
    """A JSON object or a two-column CSV: the tool's class name -> class id."""
    return load_labeler_map(path, "class map", ("class", "class_id"), "tool class name, class id")


def load_attribute_map(path: Path) -> dict[str, str]:
    """A JSON object or a two-column CSV: the tool's attribute name -> attribute id."""
    return load_labeler_map(
        path, "attribute map", ("attribute", "attribute_id"), "tool attribute name, attribute id"
    )


def load_item_labelers(path: Path) -> dict[str, str]:
    """A JSON object or a two-column CSV: the item (as the delivery names it, or its item id)
    -> the labeler id who answered it, for formats that carry no annotator (COCO, CVAT, YOLO)."""
    return load_labeler_map(
        path,
        "labelers-per-item file",
        ("labeler", "labeler_id"),
        "item (file name in the delivery or item id), labeler id",
    )


def item_labelers_of(
    labelers_per_item: Path | str | None, labeler: str | None, labeler_map: Path | str | None
) -> dict[str, str] | None:
    """``--labelers-per-item``, read, for ``labels import`` and ``relabel merge``: it names
    each item's labeler, so it excludes --labeler and --labeler-map."""
    if not labelers_per_item:
        return None
    if labeler or labeler_map:
        raise InputError(
            "--labelers-per-item names each item's labeler: give it without --labeler and --labeler-map"
        )
    return load_item_labelers(Path(labelers_per_item))


def load_labeler_map(
    path: Path,
    what: str = "labeler map",
    header: tuple[str, ...] = ("labeler", "labeler_id"),
    columns: str = "tool user id, labeler id",
) -> dict[str, str]:
    """A JSON object or a two-column CSV: the tool's user id -> labeler id."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise NotFoundError(f"{path}: {what} not found") from exc
    if path.suffix.lower() == ".json":
        try:
            data = nesting.loads(text, str(path))
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from exc
        if not isinstance(data, dict):
            raise InputError(f"{path}: a {what} is a JSON object {{{columns}}}")
        return {str(k): str(v) for k, v in data.items()}
    rows = [r for r in csv.reader(text.splitlines()) if r and any(c.strip() for c in r)]
    if (
        rows
        and len(rows[0]) == 2
        and not rows[0][0].strip().isdigit()
        and rows[0][1].strip() in header
    ):
        rows = rows[1:]  # a header row
    bad = [i for i, r in enumerate(rows, 1) if len(r) != 2]
    if bad:
        raise InputError(f"{path}: line {bad[0]}: a {what} CSV has two columns: {columns}")
    return {r[0].strip(): r[1].strip() for r in rows}


def _summary_counts(con) -> tuple[int, int, int, dict[str, int], dict[str, int]]:
    totals = con.execute(
        "select count(*), count(distinct annotation_id), count(distinct item_id) from batch"
    ).fetchall()[0]
    by_class = dict(
        con.execute(
            'select coalesce("class", $empty), count(*) from batch group by 1 order by 1',
            {"empty": NO_OBJECTS},
        ).fetchall()
    )
    by_labeler = dict(  # labels: an empty answer counts apart (by_class's NO_OBJECTS)
        con.execute('select labeler_id, count("class") from batch group by 1 order by 1').fetchall()
    )
    return (*totals, by_class, by_labeler)


@dataclass
class Written:
    """One batch written by ``write_labels``: its record and the counts shown to the user."""

    batch: Any  # labelspec.store.snapshots.Batch
    by_class: dict[str, int]
    by_labeler: dict[str, int]


def write_labels(
    tx,
    ws: Repo,
    dataset: str,
    table,
    source: str,
    fmt: str,
    superseded: int = 0,
    superseded_labels: int = 0,
    plan: str | None = None,
    presorted: bool = False,
    delivery: Path | None = None,
    history: bool = False,
    describe: Callable[[int, int, int], str] | None = None,
) -> Written:
    """Write one batch and its record inside the caller's transaction (which commits it), with
    the raw ``delivery`` it came from kept beside it under DVC. ``describe(labels, empty
    answers, annotations)``: the commit's message, from what was written."""

    counted = None
    if isinstance(table, Rows):  # held by DuckDB: streamed to the file, counted on the way
        con = table.con
        con.execute(f"create or replace temp view batch as select * from {table.name}")
        counted = BatchCounts()
        known = table.constants or {}
    else:
        con = database()
        con.register("batch", table)
        rows, annotations, items, by_class, by_labeler = _summary_counts(con)
        known = {}
    batch_id = known.get("batch_id")
    if batch_id is None:
        (batch_id,) = con.execute("select any_value(batch_id) from batch").fetchall()[0]
    if known.get("guideline_version") is not None:  # one release for every row
        versions = [known["guideline_version"]]
    elif isinstance(table, Rows) and table.versions is not None:  # a view: not computed twice
        versions = sorted(table.versions, key=Version.parse)
    else:
        query = "select distinct guideline_version from batch"
        versions = sorted((r[0] for r in con.execute(query).fetchall()), key=Version.parse)
    path = tx.new_file(labels_dir(ws, dataset) / f"{batch_id}{DATA_SUFFIX}")
    metadata = {
        "labelspec.batch_id": batch_id,
        "labelspec.dataset": dataset,
        "labelspec.source": source,
    }
    kept = keep_delivery(tx, ws, dataset, batch_id, delivery) if delivery is not None else None
    try:
        if isinstance(table, Rows):
            hashes = write_batch_rows(table, path, metadata, table.constants, counted.add)
            rows, annotations, items = counted.rows, counted.annotations, counted.items
            by_class, by_labeler = counted.by_class, counted.by_labeler
        else:
            hashes = write_batch(table, path, metadata, presorted=presorted)
    except BaseException:  # Ctrl-C, a full disk: the transaction undoes the copy; stop hashing it
        if kept is not None:
            kept.cancel()
        raise
    raw = kept.record() if kept is not None else None
    empty = by_class.get(NO_OBJECTS, 0)
    if describe is not None:
        tx.journal.message = describe(rows - empty, empty, annotations)
    meta = tx.track(
        path,
        {
            "kind": "labels",
            "delivery": raw,
            "dataset": dataset,
            "rows": rows,
            "empty": empty,  # of the rows, "no objects here" answers: no labels
            "annotations": annotations,
            "items": items,
            "source": source,
            "format": fmt,
            "versions": versions,
            "supersedes": superseded,
            "superseded_labels": superseded_labels,
            "plan": plan,
            **({"history": True} if history else {}),  # labels before adoption: untrained
            "created": batch_id.split("-")[1],
            "message": tx.journal.message,
        },
        hashes,
    )
    batch = Batch.from_record(Record(ws.relpath(path), meta.pop("md5"), meta.pop("size"), meta))
    return Written(batch, by_class, by_labeler)


@names_out_of_memory
def import_labels(
    ws: Repo,
    dataset: str,
    file: Path | str,
    fmt: str,
    guideline: str,
    source: str,
    labeler_map: Path | str | None = None,
    labeler: str | None = None,
    cost_per_label: float | None = None,
    dry_run: bool = False,
    class_map: Path | str | None = None,
    images_were: str | None = None,
    attribute_map: Path | str | None = None,
    history: bool = False,
    labelers_per_item: Path | str | None = None,
) -> ImportResult:
    """Validate every label of an export, then write what it adds to the history (new and
    updated annotations) as one batch in one commit; ``dry_run`` only counts.

    ``cost_per_label`` fills the cost of labels whose export carries none (most tools don't:
    vendors bill per label by contract). The delivery stays in DuckDB from parse to batch file
    (``store.engine.Rows``): memory is bounded by ``LABELSPEC_IMPORT_MEMORY_LIMIT``."""

    path = Path(file)
    if not path.exists():
        raise NotFoundError(f"{path}: no such file or folder")
    bound = dataset_guideline(ws, dataset)
    if parse_ref(guideline)[0] != bound:
        raise InputError(
            f"dataset {dataset!r} is labeled under guideline {bound!r}, not {parse_ref(guideline)[0]!r}"
        )
    name, version = resolve_ref(ws, guideline)
    if not source.strip():
        raise InputError("--source (the vendor or tool the labels came from) must not be empty")
    names.one_line(source, "--source")
    names.one_line(path.name, "the delivery's file name")
    items = read_items(ws, dataset)
    if items.num_rows == 0:
        raise InputError(
            f"dataset {dataset!r} has no items yet; register them with `labelspec items add {dataset} FOLDER`"
        )
    mapping = load_labeler_map(Path(labeler_map)) if labeler_map else None
    item_labelers = item_labelers_of(labelers_per_item, labeler, labeler_map)
    with progress(f"reading {path.name}"):
        staged = read(fmt, path, images_were, [c.id for c in spec_at(ws, name, version).classes])
    request = ImportRequest(
        dataset=dataset,
        guideline=name,
        version=version,
        source=source,
        file=str(file),
        labeler=labeler,
        labeler_map=mapping,
        labeler_map_file=str(labeler_map) if labeler_map else None,
        training_policy=ws.config.policies.training,
        class_map=load_class_map(Path(class_map)) if class_map else None,
        attribute_map=load_attribute_map(Path(attribute_map)) if attribute_map else None,
        history=history,
        item_labelers=item_labelers,
        item_labelers_file=str(labelers_per_item) if labelers_per_item else None,
        cost_per_label=None if cost_per_label is None else float(cost_per_label),
    )
    if cost_per_label is not None and cost_per_label < 0:
        raise InputError("--cost-per-label must not be negative")
    batch_id = new_batch_id()
    with progress(f"validating {path.name}"):
        checked = validate(ws, request, staged, batch_id, items)
    refuse_problems(path.name, staged, checked, "nothing was imported")
    if checked.rows.num_rows == 0:
        skipped = ", ".join(f"{n} {why}" for why, n in staged.skipped.items()) or "none"
        raise InputError(f"{path.name}: no labels to import (skipped: {skipped})")
    result = ImportResult(
        dataset=dataset,
        batch_id="",
        commit="",
        labels=0,
        annotations=0,
        items=0,
        by_class={},
        by_labeler={},
        skipped=staged.skipped,
        warnings=checked.warnings,
        dry_run=dry_run,
    )
    if dry_run:
        git = ws.git
        fresh = against_history(ws, dataset, checked.rows, git)
        return _counted(result, fresh)
    message = f"import into {dataset} from {source} ({fmt}, {path.name})"
    with transaction(ws, message) as tx:
        with progress("comparing with the history"):
            # a first delivery's annotations are all new: counted as the batch is written
            fresh = against_history(ws, dataset, checked.rows, tx.git, count_new=False)
        _counted(result, fresh)
        if fresh.rows.num_rows == 0:
            return result  # a re-export of what is stored: nothing to write, no commit

        def describe(labels: int, empty: int, annotations: int) -> str:
            if result.new is None:
                result.new = annotations
            # counted as `labels import` prints them: an empty answer is no label
            what = rows_word(labels) + (f" and {empty} empty answer(s)" if empty else "")
            return (
                f"import {what} into {dataset} from {source} ({fmt}, {path.name}): "
                f"{result.new} new, {fresh.updated} updated, {fresh.unchanged} unchanged"
            )

        written = write_labels(
            tx,
            ws,
            dataset,
            fresh.rows,
            source,
            fmt,
            superseded=fresh.superseded,
            superseded_labels=fresh.superseded_labels,
            delivery=delivery_of(fmt, path),
            history=history,
            describe=describe,
        )
    batch = written.batch
    result.batch_id, result.commit = batch.id, tx.commit or ""
    result.empty_answers = written.by_class.pop(NO_OBJECTS, 0)
    result.labels = batch.rows - result.empty_answers  # an empty answer is no label
    result.annotations, result.items = batch.annotations, batch.items
    result.by_class, result.by_labeler = written.by_class, written.by_labeler
    result.delivery = (batch.extra.get("delivery") or {}).get("file")
    return result


def _counted(result: ImportResult, fresh) -> ImportResult:
    result.new, result.updated, result.unchanged = fresh.new, fresh.updated, fresh.unchanged
    return result


def rows_word(n: int) -> str:
    return f"{n} label{'s' if n != 1 else ''}"


def problems_as_dicts(problems: list[Problem]) -> list[dict[str, Any]]:
    return [p.to_json() for p in problems]


# ?* and not *: dulwich (which DVC asks) would match deliveries/ itself and skip the folder
DELIVERY_IGNORES = ("/datasets/*/deliveries/?*", "!/datasets/*/deliveries/?*.dvc")


def keep_delivery(tx, ws: Repo, dataset: str, batch_id: str, source: Path) -> KeptDelivery:
    """Store the raw export beside its batch (``deliveries/<batch>-<name>``, under DVC), so a
    label can be traced to the bytes it came from. A folder is kept as a deterministic zip.

    The copy is made now and hashed on a thread while the caller writes the batch (hashing a
    large delivery is most of this step's time); ``record()`` then puts it under DVC."""

    folder = ws.dataset_dir(dataset) / "deliveries"
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", source.name)[-80:] or "delivery"
    target = tx.new_file(folder / f"{batch_id}-{safe}{'.zip' if source.is_dir() else ''}")
    if source.is_dir():
        _zip_folder(source, target)
    else:
        shutil.copyfile(source, target)
    return KeptDelivery(tx, ws, dataset, batch_id, source.name, target)


class KeptDelivery:
    """A delivery's copy being hashed on a daemon thread (a Ctrl-C'd import does not wait for
    it): ``record()`` waits and tracks it, ``cancel()`` stops the hashing."""

    def __init__(self, tx, ws: Repo, dataset: str, batch_id: str, name: str, target: Path):
        self.tx, self.ws, self.target = tx, ws, target
        self.meta = {"kind": "delivery", "dataset": dataset, "batch": batch_id, "name": name}
        self._stop = threading.Event()
        self._result: list = []  # (hashes, error)
        self._thread = threading.Thread(target=self._hash, name="labelspec-hash", daemon=True)
        self._thread.start()

    def _hash(self) -> None:
        try:
            self._result.append((hash_file(self.target, self._stop), None))
        except BaseException as exc:  # raised by record(), in the caller's thread
            self._result.append((None, exc))

    def cancel(self) -> None:
        self._stop.set()

    def record(self) -> dict[str, str]:
        self._thread.join()
        hashes, error = self._result[0]
        if error is not None:
            raise error
        ignore = self.ws.root / ".gitignore"
        present = ignore.read_text().splitlines() if ignore.is_file() else []
        for line in DELIVERY_IGNORES:  # workspaces made before raw deliveries were kept
            if line not in present:
                self.tx.append_line(ignore, line)
        tracked = self.tx.track(self.target, self.meta, hashes)
        return {
            "file": self.ws.relpath(self.target),
            "name": self.meta["name"],
            "sha256": tracked["sha256"],
        }


def _zip_folder(folder: Path, target: Path) -> None:

    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(
                path.relative_to(folder).as_posix(), date_time=(2000, 1, 1, 0, 0, 0)
            )
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
