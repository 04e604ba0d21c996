"""``labelspec verify``: prove the label store is what its history says it is.

Checks, per dataset: every batch's sha256 matches the snapshot manifest; the DVC cache holds
every batch; every label's guideline version is a released tag whose content still has the
digest the label carries; every training id exists; every snapshot has its tag. An interrupted
write (left uncommitted) is reported as a warning: the last snapshot is still intact.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from labelspec.errors import LabelspecError
from labelspec.store.engine import database
from labelspec.workspace import Workspace


@dataclass
class VerifyReport:
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    checked: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "problems": self.problems,
            "warnings": self.warnings,
            "checked": self.checked,
        }


def _interrupted(ws: Workspace, dataset: str, manifest) -> list[str]:
    from labelspec.store.snapshots import labels_dir, manifest_path
    from labelspec.vcs import Git

    found = []
    with Git(ws.root) as git:
        for path in (manifest_path(ws, dataset), ws.dataset_dir(dataset) / "labels.dvc"):
            if path.exists() and (not git.is_tracked(path) or git.is_dirty(path)):
                found.append(f"{ws.relpath(path)} has uncommitted changes")
    known = {b.file.removeprefix("labels/") for b in manifest.batches.values()}
    folder = labels_dir(ws, dataset)
    if folder.is_dir():
        found += [
            f"{ws.relpath(p)} is in no snapshot" for p in folder.iterdir() if p.name not in known
        ]
    if found:
        return [
            f"{dataset}: an interrupted write left {'; '.join(found)} (the next write rolls it back)"
        ]
    return []


def _verify_dataset(
    ws: Workspace, dataset: str, report: VerifyReport, training_ids: set[str]
) -> None:

    from labelspec.guideline.releases import digest_at, releases
    from labelspec.store.batches import file_sha256
    from labelspec.store.query import _sql_list
    from labelspec.store.snapshots import load_manifest
    from labelspec.vcs import Dvc, Git

    manifest = load_manifest(ws, dataset)
    if not manifest.snapshots:
        return
    report.warnings += _interrupted(ws, dataset, manifest)
    folder = ws.dataset_dir(dataset)
    # 1. the DVC cache holds every batch committed in labels.dvc
    cached: dict[str, str] = {}
    with Git(ws.root) as git, Dvc(ws.root) as dvc:
        from labelspec import yamlio

        record = yamlio.to_plain(
            yamlio.parse(git.read_file("HEAD", folder / "labels.dvc").decode())
        )
        listing_path = dvc.cache_path(record["outs"][0]["md5"])
        if listing_path.is_file():
            for entry in json.loads(listing_path.read_text()):
                cached[entry["relpath"]] = entry["md5"]
                if not dvc.cache_path(entry["md5"]).is_file():
                    report.problems.append(
                        f"{dataset}: the DVC cache lacks labels/{entry['relpath']}; run `labelspec pull`"
                    )
        else:
            report.problems.append(
                f"{dataset}: the DVC cache lacks the listing of labels/; run `labelspec pull`"
            )
        # 2. every batch matches its manifest sha256
        paths = []
        for batch in manifest.batches.values():
            path = folder / batch.file
            name = batch.file.removeprefix("labels/")
            if not path.is_file() and name in cached:
                path = dvc.cache_path(cached[name])
            if not path.is_file():
                report.problems.append(
                    f"{dataset}: batch {batch.id} is missing ({batch.file}); run `labelspec pull`"
                )
                continue
            if file_sha256(path) != batch.sha256:
                report.problems.append(
                    f"{dataset}: batch {batch.id} ({batch.file}) does not match its sha256 in snapshots.yaml: "
                    "it was modified after it was written; restore it with `dvc checkout` or `labelspec pull`"
                )
                continue
            paths.append(path)
        # 3. snapshot tags
        tags = git.tags(f"dataset/{dataset}/")
        for snapshot in manifest.snapshots:
            if snapshot.tag in tags:
                continue
            if snapshot is manifest.latest():  # killed between commit and tag
                report.warnings.append(
                    f"{dataset}: {snapshot.name} has no tag {snapshot.tag} yet: an interrupted "
                    "write (the next write tags it)"
                )
            else:
                report.problems.append(f"{dataset}: {snapshot.name} has no tag {snapshot.tag}")
    labels = 0
    if paths:
        con = database()
        con.execute(f"create view l as select * from read_parquet({_sql_list(paths)})")
        labels = con.execute("select count(*) from l").fetchall()[0][0]
        # 4. guideline versions: released, and the label's digest is the release's digest
        for guideline, version, digest, n in con.execute(
            "select guideline, guideline_version, guideline_digest, count(*) from l group by all order by all"
        ).fetchall():
            release = next((r for r in releases(ws, guideline) if r.version == version), None)
            if release is None:
                report.problems.append(
                    f"{dataset}: {n} label(s) name {guideline} {version}, which is not a released tag"
                )
            elif release.digest != digest:
                report.problems.append(
                    f"{dataset}: {n} label(s) of {guideline} {version} carry digest {digest}, the release records {release.digest}"
                )
            elif digest_at(ws, guideline, release.tag) != release.digest:
                report.problems.append(
                    f"{dataset}: the content of tag {release.tag} no longer has its recorded digest (was the tag moved?)"
                )
        # 5. training ids exist
        for training_id, n in con.execute(
            "select training_id, count(*) from l where training_id is not null group by 1"
        ).fetchall():
            if training_id not in training_ids:
                report.problems.append(
                    f"{dataset}: {n} label(s) cite training record {training_id}, which is not in labelers/training.yaml"
                )
    report.checked[dataset] = {
        "batches": len(manifest.batches),
        "snapshots": len(manifest.snapshots),
        "labels": labels,
    }


def verify(ws: Workspace, dataset: str | None = None) -> VerifyReport:
    from labelspec.labelers.records import training_records

    names = [dataset] if dataset else sorted(ws.config.datasets)
    if dataset and dataset not in ws.config.datasets:
        raise LabelspecError(f"no dataset {dataset!r} in labelspec.yaml")
    training_ids = {r.id for r in training_records(ws)}
    report = VerifyReport()
    for name in names:
        _verify_dataset(ws, name, report, training_ids)
    return report
