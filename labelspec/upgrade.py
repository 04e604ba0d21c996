"""``labelspec upgrade``: move a workspace from layout 1 to layout 2 in one commit, and give every
registered item file that does not travel a home in DVC.

Layout 1 kept one ``labels.dvc`` over each labels folder, a ``snapshots.yaml`` manifest that
every write rewrote, ``items.parquet`` and ``golden.yaml`` likewise, YAML roster and training
files, and ``snap-N`` tags from a counter: two clones that wrote at once could not merge.
Layout 2 gives every batch, item manifest and golden version its own ``.dvc`` file carrying its
record, and the labelers' records one JSON line each (``merge=union``). The data files keep
their bytes and names; old ``snap-N`` tags keep naming their commits, whose trees labelspec
still reads. The store is checked before (every batch matches its sha256) and verified after.

Item files: ``items add`` of a manifest once registered items whose files went neither to git
nor to DVC. Upgrade tracks the ones present (as ``items add`` does now: ``store.itemfiles``) and
lists those missing, those a record holds but that are not pulled, and those whose bytes
changed since they were registered. An item whose file is copied is registered again, same id
and sha256, with the copy's path (the items reader takes the newest path of the same content).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from labelspec import nesting, yamlio
from labelspec.errors import InputError, NotFoundError
from labelspec.labelers.events import dumps
from labelspec.labelers.roster import ROSTER
from labelspec.labelers.training import TRAINING
from labelspec.labels.verify import verify
from labelspec.lineage.closings import UNION_LINE as CLOSINGS_UNION_LINE
from labelspec.repo import LAYOUT, Repo
from labelspec.store.datasets import declared
from labelspec.store.engine import database
from labelspec.store.filemeta import describe_files
from labelspec.store.itemfiles import FILES_IGNORE, Placed, Tracking, classify, place, plan_files
from labelspec.store.items import item_files, items_sql, manifest_table, new_add_id, write_manifest
from labelspec.store.schema import ITEM_BASE_COLUMNS
from labelspec.transaction import transaction
from labelspec.vcs import DvcCache, hash_file, parse_dvc_file
from labelspec.yamlio import fast_load

STATIC_IGNORES = [
    "/datasets/*/labels/*.parquet",
    "/datasets/*/manifests/*.parquet",
    "/datasets/*/golden/*/*.parquet",
    "/datasets/*/items/?*/",  # not */: dulwich, which DVC asks, would match items/ itself
    FILES_IGNORE,  # item files copied to be tracked, one folder per add
    "/datasets/*/deliveries/?*",  # the raw exports, kept beside their batches
    "!/datasets/*/deliveries/?*.dvc",
]
UNION_LINE = "labelers/*.jsonl merge=union"


@dataclass
class UpgradeResult:
    datasets: dict[str, dict[str, int]] = field(default_factory=dict)
    labelers: int = 0
    training_records: int = 0
    commit: str | None = None
    verify: dict[str, Any] | None = None
    item_files: dict[str, ItemFiles] = field(default_factory=dict)
    up_to_date: bool = False  # nothing to do: no commit (exit 0, so `upgrade && verify` runs)

    def to_json(self) -> dict[str, Any]:
        return {
            **self.__dict__,
            "item_files": {name: r.to_json() for name, r in self.item_files.items()},
        }


@dataclass
class ItemFiles:
    """What upgrade did with one dataset's item files, and what it could not do."""

    files: Placed = field(default_factory=Placed)
    reregistered: int = 0
    missing: list[str] = field(default_factory=list)  # item ids: no file anywhere
    not_pulled: list[str] = field(default_factory=list)  # a record holds them; `labelspec pull`
    changed: list[str] = field(default_factory=list)  # here, with other bytes than registered

    @property
    def tracked(self) -> int:
        return sum(self.files.in_place.values()) + self.files.moved + self.files.copied

    @property
    def anything(self) -> bool:
        return bool(self.tracked or self.missing or self.not_pulled or self.changed)

    def to_json(self) -> dict[str, Any]:
        return {
            "tracked": self.tracked,
            "files": self.files.to_json(),
            "reregistered": self.reregistered,
            "missing": self.missing,
            "not_pulled": self.not_pulled,
            "changed": self.changed,
        }


class _NothingToDo(Exception):
    """The workspace uses the current layout and every item file travels."""


def upgrade(ws: Repo) -> UpgradeResult:

    legacy = ws.config.workspace < LAYOUT
    result = UpgradeResult()
    message = (
        f"labelspec upgrade: layout {LAYOUT} (a record file per batch)"
        if legacy
        else "labelspec upgrade: track the item files"
    )
    try:
        return _upgrade(ws, legacy, message, result)
    except _NothingToDo:  # raised inside the transaction: whatever it touched is rolled back
        result.up_to_date = True
        return result


def _upgrade(ws: Repo, legacy: bool, message: str, result: UpgradeResult) -> UpgradeResult:
    with transaction(ws, message, upgrading=True) as tx:
        cache = DvcCache(ws.root)
        tracking = Tracking(ws, tx.git, cache)
        upgraded: dict[str, list[Path]] = {}  # dataset -> its items manifest from layout 1
        if legacy:
            for dataset in sorted(declared(ws)):
                result.datasets[dataset] = _upgrade_dataset(ws, tx, dataset, upgraded)
            _upgrade_workspace(ws, tx, result, yamlio)
        for dataset in sorted(declared(ws)):
            done = _track_item_files(ws, tx, dataset, upgraded.get(dataset, []), tracking)
            if done.anything:
                result.item_files[dataset] = done
        if not legacy and not result.item_files:
            raise _NothingToDo
        if not legacy:
            tracked = sum(r.tracked for r in result.item_files.values())
            tx.journal.message = f"labelspec upgrade: track {tracked} item file(s)"
    result.commit = tx.commit
    result.verify = verify(ws).to_json()
    return result


def _upgrade_workspace(ws: Repo, tx, result: UpgradeResult, yamlio) -> None:
    """Layout 1 -> 2 outside the datasets: labelers, static ignores, union merges, dvc.yaml."""
    result.labelers, result.training_records = _upgrade_labelers(ws, tx)
    _ensure_lines(tx, ws.root / ".gitignore", STATIC_IGNORES)
    _ensure_lines(tx, ws.root / ".gitattributes", [UNION_LINE, CLOSINGS_UNION_LINE])
    dvc_yaml = ws.root / "dvc.yaml"
    if dvc_yaml.is_file():
        text = dvc_yaml.read_text()
        fixed = text.replace("/snapshots.yaml", "/labels").replace("/golden.yaml", "/golden")
        if fixed != text:
            tx.write_text(dvc_yaml, fixed)
    doc = yamlio.Document.load(ws.config_path)
    doc.data["workspace"] = LAYOUT
    tx.write_text(ws.config_path, doc.dumps())


def _track_item_files(
    ws: Repo, tx, dataset: str, upgraded: list[Path], tracking: Tracking
) -> ItemFiles:
    """Give the registered files present but in no record a home (``itemfiles.place``), and
    register again, with the copy's path, the items whose file was copied."""

    done = ItemFiles()
    manifests = item_files(ws, dataset, tx.git) + upgraded
    if not manifests:
        return done
    items = database().sql(items_sql(manifests)).to_arrow_table()
    states = classify(ws, tracking, items)

    def ids(state: str) -> list[str]:
        return states.filter(pc.equal(states.column("state"), state)).column("item_id").to_pylist()

    done.missing, done.not_pulled = ids("gone"), ids("pull")
    homeless = items.filter(
        pc.is_in(items.column("item_id"), value_set=pa.array(ids("untracked"), pa.string()))
    )
    if not homeless.num_rows:
        return done
    rows = homeless.to_pylist()
    paths = sorted({r["path"] for r in rows})
    described = dict(
        zip(paths, describe_files([ws.root / p for p in paths], tracking.cache), strict=True)
    )
    good = []
    for row in rows:
        info = described[row["path"]]
        if isinstance(info, str) or info["sha256"] != row["sha256"]:
            done.changed.append(row["item_id"])
        else:
            good.append(row)
    files = {r["path"]: (described[r["path"]]["_md5"], described[r["path"]]["bytes"]) for r in good}
    if not files:
        return done
    add_id = new_add_id()
    plan = plan_files(tracking, dataset, files)
    done.files = place(ws, tx, dataset, add_id, plan, files, tracking.cache)
    moved = done.files.new_paths
    again = [{**r, "path": moved[r["path"]]} for r in good if r["path"] in moved]
    if again:
        table = manifest_table(again)
        meta = sorted(set(table.column_names) - set(ITEM_BASE_COLUMNS))
        record = {"items": 0, "columns": meta, "source": "upgrade", "reregistered": len(again)}
        write_manifest(ws, tx, dataset, add_id, table, record)
        done.reregistered = len(again)
    return done


def _legacy_files(ws: Repo, dataset: str) -> dict[str, str]:
    """file name -> md5 of the layout 1 labels folder, from labels.dvc's directory listing."""

    record = ws.dataset_dir(dataset) / "labels.dvc"
    if not record.is_file():
        return {}
    dir_md5, _size, _meta = parse_dvc_file(record.read_text(), str(record))
    listing = DvcCache(ws.root).object_path(dir_md5)
    if not listing.is_file():
        raise NotFoundError(
            f"{ws.relpath(record)}: its listing is not in the DVC cache; run `labelspec pull` first"
        )
    return {e["relpath"]: e["md5"] for e in nesting.loads(listing.read_text(), str(listing))}


def _upgrade_dataset(ws: Repo, tx, dataset: str, upgraded: dict[str, list[Path]]) -> dict[str, int]:

    folder = ws.dataset_dir(dataset)
    cache = DvcCache(ws.root)
    counts = {"batches": 0, "items": 0, "golden_versions": 0}
    manifest = folder / "snapshots.yaml"
    if manifest.is_file():
        body = "\n".join(x for x in manifest.read_text().splitlines() if not x.startswith("#"))
        data = nesting.loads(body, str(manifest)) if body.strip() else {}
        files = _legacy_files(ws, dataset)
        current, message_of, superseded_of = 0, {}, {}
        for snap in data.get("snapshots") or []:
            for batch_id in snap["added"]:
                message_of[batch_id] = snap["message"]
            added = sum(b["rows"] for b in data["batches"] if b["id"] in snap["added"])
            if len(snap["added"]) == 1:
                superseded_of[snap["added"][0]] = current + added - snap["current"]
            current = snap["current"]
        for entry in data.get("batches") or []:
            path = folder / entry["file"]
            name = path.name
            md5 = files.get(name)
            if path.is_file():
                sha256, md5_here, size = hash_file(path)
                if sha256 != entry["sha256"]:
                    raise InputError(
                        f"{ws.relpath(path)} does not match its sha256 in snapshots.yaml; restore it "
                        "(`dvc checkout`) before upgrading"
                    )
                md5 = md5_here
            elif md5 is None or not cache.object_path(md5).is_file():
                raise NotFoundError(f"{ws.relpath(path)} is missing; run `labelspec pull` first")
            else:
                size = cache.object_path(md5).stat().st_size
            meta = {
                "kind": "labels",
                "dataset": dataset,
                **{
                    k: entry.get(k)
                    for k in (
                        "rows",
                        "annotations",
                        "items",
                        "source",
                        "format",
                        "versions",
                        "sha256",
                    )
                },
                "supersedes": entry.get("supersedes", 0),
                "superseded_labels": superseded_of.get(entry["id"], 0),
                "plan": entry.get("plan"),
                "created": entry.get("created") or entry["id"].split("-")[1],
                "message": message_of.get(entry["id"], ""),
            }
            tx.record(path, md5, size, meta)
            counts["batches"] += 1
        tx.remove(manifest)
        tx.remove(folder / "labels.dvc")
        _drop_ignore(tx, folder / ".gitignore", "/labels")
    items = folder / "items.parquet"
    record = folder / "items.parquet.dvc"
    if record.is_file():
        md5, size, _ = parse_dvc_file(record.read_text(), str(record))
        source = items if items.is_file() else cache.object_path(md5)

        rows = pq.ParquetFile(source).metadata.num_rows
        target = folder / "manifests" / f"i-upgrade-{md5[:8]}.parquet"
        tx.new_file(target)
        upgraded[dataset] = [target]
        target.write_bytes(source.read_bytes())
        sha256, _md5, _size = hash_file(target)
        tx.record(
            target,
            md5,
            size,
            {
                "kind": "items",
                "dataset": dataset,
                "items": rows,
                "columns": [],
                "source": "upgrade",
                "created": "",
                "sha256": sha256,
            },
        )
        tx.remove(record)
        if items.is_file():  # DVC data, not in the commit: removed once the commit landed
            tx.remove_after_commit(items)
        # its .gitignore line stays: killed after the commit, the old file is there until recover
        counts["items"] = rows
    golden = folder / "golden.yaml"
    if golden.is_file():
        sets = (fast_load(golden.read_text()) or {}).get("sets") or {}
        for name, entry in sets.items():
            for v in entry.get("versions") or []:
                path = folder / v["file"]
                listing = _golden_listing(ws, folder)
                md5 = listing.get(Path(v["file"]).relative_to("golden").as_posix())
                if path.is_file():
                    _sha, md5, size = hash_file(path)
                elif md5 and cache.object_path(md5).is_file():
                    size = cache.object_path(md5).stat().st_size
                else:
                    raise NotFoundError(
                        f"{ws.relpath(path)} is missing; run `labelspec pull` first"
                    )
                meta = {
                    "kind": "golden",
                    "set": name,
                    "batch": v["batch"],
                    "dataset": dataset,
                    **{
                        k: v[k]
                        for k in (
                            "labels",
                            "items",
                            "guideline_version",
                            "source",
                            "created",
                            "sha256",
                        )
                    },
                }
                tx.record(path, md5, size, meta)
                counts["golden_versions"] += 1
        tx.remove(golden)
        if (folder / "golden.dvc").is_file():
            tx.remove(folder / "golden.dvc")
        _drop_ignore(tx, folder / ".gitignore", "/golden")
    return counts


def _golden_listing(ws: Repo, folder: Path) -> dict[str, str]:

    record = folder / "golden.dvc"
    if not record.is_file():
        return {}
    dir_md5, _size, _meta = parse_dvc_file(record.read_text(), str(record))
    listing = DvcCache(ws.root).object_path(dir_md5)
    return (
        {e["relpath"]: e["md5"] for e in nesting.loads(listing.read_text(), str(listing))}
        if listing.is_file()
        else {}
    )


def _drop_ignore(tx, path: Path, entry: str) -> None:
    """Remove the line DVC appended for a folder it no longer tracks as a whole."""
    if not path.is_file():
        return
    lines = path.read_text().splitlines()
    kept = [line for line in lines if line.strip() != entry]
    if kept != lines:
        if kept:
            tx.write_text(path, "\n".join(kept) + "\n")
        else:
            tx.remove(path)


def _ensure_lines(tx, path: Path, wanted: list[str]) -> None:
    text = path.read_text() if path.is_file() else ""
    missing = [line for line in wanted if line not in text.splitlines()]
    if missing:
        head = text if not text or text.endswith("\n") else text + "\n"
        tx.write_text(path, head + "\n".join(missing) + "\n")


def _upgrade_labelers(ws: Repo, tx) -> tuple[int, int]:

    roster_yaml, training_yaml = (
        ws.root / "labelers/roster.yaml",
        ws.root / "labelers/training.yaml",
    )
    lines, records = [], []
    if roster_yaml.is_file():
        for lab in (fast_load(roster_yaml.read_text()) or {}).get("labelers") or []:
            at = f"{lab.get('added') or '1970-01-01'}T00:00:00+00:00"
            lines.append(
                dumps(
                    {
                        "event": "add",
                        "id": lab["id"],
                        "vendor": lab["vendor"],
                        "team": lab.get("team"),
                        "at": at,
                    }
                )
            )
            if lab.get("active") is False:
                lines.append(dumps({"event": "deactivate", "id": lab["id"], "at": at}))
        tx.remove(roster_yaml)
    if training_yaml.is_file():
        for rec in (fast_load(training_yaml.read_text()) or {}).get("records") or []:
            rec["date"] = str(rec["date"])
            records.append(dumps(rec))
        tx.remove(training_yaml)
    for path, new in ((ws.root / ROSTER, lines), (ws.root / TRAINING, records)):
        existing = path.read_text() if path.is_file() else ""
        tx.write_text(path, existing + "".join(line + "\n" for line in new))
    return sum(1 for line in lines if '"add"' in line), len(records)
