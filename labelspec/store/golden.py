"""Golden sets: expert labels kept beside the dataset's labels, never mixed into them.

Each ``golden add`` writes one immutable Parquet batch under ``datasets/<name>/golden/<set>/``
(tracked by DVC with the rest of the folder) and a new version of the set in
``datasets/<name>/golden.yaml``; bake-offs read the newest version unless told ``SET@vN``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from ruamel.yaml import YAML

from labelspec.errors import LabelspecError, NotFoundError, ProblemsError
from labelspec.workspace import Workspace

MANIFEST = "golden.yaml"
SET_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass
class GoldenVersion:
    version: int
    batch: str
    file: str  # relative to the dataset folder
    sha256: str
    labels: int
    items: int
    guideline_version: str
    source: str
    created: str


@dataclass
class GoldenSet:
    name: str
    versions: list[GoldenVersion] = field(default_factory=list)


def _yaml() -> YAML:
    yaml = YAML(typ="safe", pure=False)
    yaml.default_flow_style = None
    return yaml


def _manifest_path(ws: Workspace, dataset: str) -> Path:
    return ws.dataset_dir(dataset) / MANIFEST


def load_sets(ws: Workspace, dataset: str) -> dict[str, GoldenSet]:
    path = _manifest_path(ws, dataset)
    if not path.is_file():
        return {}
    data = _yaml().load(path.read_text()) or {}
    return {
        name: GoldenSet(name, [GoldenVersion(**v) for v in entry.get("versions", [])])
        for name, entry in (data.get("sets") or {}).items()
    }


def _dump(sets: dict[str, GoldenSet]) -> str:
    import io

    out = io.StringIO()
    out.write(
        "# Written by labelspec: expert golden sets, one immutable batch per version. Do not edit.\n"
    )
    _yaml().dump(
        {"sets": {n: {"versions": [asdict(v) for v in s.versions]} for n, s in sets.items()}}, out
    )
    return out.getvalue()


def resolve(ws: Workspace, dataset: str, ref: str) -> tuple[GoldenSet, GoldenVersion]:
    """``NAME`` (newest version) or ``NAME@vN``."""
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
    found = next((v for v in chosen.versions if str(v.version) == number), None)
    if found is None:
        raise NotFoundError(
            f"golden set {name!r} has no version {version} (versions: {', '.join(f'v{v.version}' for v in chosen.versions)})"
        )
    return chosen, found


def golden_labels(ws: Workspace, dataset: str, ref: str) -> tuple[pa.Table, GoldenVersion]:
    import pyarrow.parquet as pq

    _, version = resolve(ws, dataset, ref)
    path = ws.dataset_dir(dataset) / version.file
    if not path.is_file():
        raise NotFoundError(f"{ws.relpath(path)} is not in the workspace; run `labelspec pull`")
    return pq.read_table(path), version


def add_golden(
    ws: Workspace,
    dataset: str,
    file: Path | str,
    fmt: str,
    name: str = "golden",
    guideline: str | None = None,
    labeler: str = "expert",
) -> dict[str, Any]:
    """Validate expert labels like an import (spec, items), then store them as a golden version."""
    from labelspec.formats import reader
    from labelspec.guideline.releases import parse_ref, releases
    from labelspec.labels.validate import ImportRequest, validate
    from labelspec.store.batches import new_batch_id, write_batch
    from labelspec.store.datasets import dataset_guideline
    from labelspec.store.items import read_items
    from labelspec.vcs import Dvc, Git
    from labelspec.yamlio import atomic_write_text

    if not SET_NAME.match(name):
        raise LabelspecError(
            f"golden set name {name!r}: use lower-case letters, digits, '-' and '_'"
        )
    bound = dataset_guideline(ws, dataset)
    gname, version = parse_ref(guideline or bound)
    if gname != bound:
        raise LabelspecError(
            f"dataset {dataset!r} is labeled under guideline {bound!r}, not {gname!r}"
        )
    if version is None:
        released = releases(ws, gname)
        if not released:
            raise NotFoundError(f"guideline {gname!r} has no release yet")
        version = released[-1].version
    path = Path(file)
    staged = reader(fmt)(path)
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
    total = len(staged.problems) + checked.total_problems
    if total:
        raise ProblemsError(
            f"{path.name}: {total} problem(s); the golden set was not stored",
            (staged.problems + checked.problems)[:50],
            total,
        )
    table = checked.table
    if table.num_rows == 0:
        raise LabelspecError(f"{path.name}: no labels in the file")
    with ws.lock(), Git(ws.root) as git:
        sets = load_sets(ws, dataset)
        entry = sets.setdefault(name, GoldenSet(name))
        number = (entry.versions[-1].version + 1) if entry.versions else 1
        folder = ws.dataset_dir(dataset) / "golden"
        target = folder / name / f"v{number}-{batch_id}.parquet"
        try:
            sha = write_batch(
                table,
                target,
                {"labelspec.golden": f"{name}@v{number}", "labelspec.dataset": dataset},
            )
            record = GoldenVersion(
                version=number,
                batch=batch_id,
                file=target.relative_to(ws.dataset_dir(dataset)).as_posix(),
                sha256=sha,
                labels=table.num_rows,
                items=len(table.column("item_id").unique()),
                guideline_version=version,
                source=labeler,
                created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            )
            entry.versions.append(record)
            with Dvc(ws.root) as dvc:
                dvc.add([folder])
            atomic_write_text(_manifest_path(ws, dataset), _dump(sets))
            commit = git.commit(
                f"golden {name}@v{number} of {dataset}: {record.labels} expert labels on {record.items} items",
                paths=[
                    folder.with_name("golden.dvc"),
                    ws.dataset_dir(dataset) / ".gitignore",
                    _manifest_path(ws, dataset),
                ],
            )
        except BaseException:
            target.unlink(missing_ok=True)
            for tracked in (folder.with_name("golden.dvc"), _manifest_path(ws, dataset)):
                if git.is_tracked(tracked) and git.is_dirty(tracked):
                    git.restore([tracked])
                elif tracked.exists() and not git.is_tracked(tracked):
                    tracked.unlink()
            raise
        git.tag(
            f"golden/{dataset}/{name}/v{number}",
            f"golden set {name} v{number} of {dataset}",
            ref=commit,
        )
    return {"dataset": dataset, "name": name, **asdict(record), "commit": commit}


def list_golden(ws: Workspace, dataset: str) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    rows = []
    for golden in load_sets(ws, dataset).values():
        newest = golden.versions[-1]
        path = ws.dataset_dir(dataset) / newest.file
        classes: dict[str, int] = {}
        if path.is_file():
            counts = pq.read_table(path, columns=["class"]).column("class").value_counts()
            classes = {c["values"].as_py(): c["counts"].as_py() for c in counts}
        rows.append(
            {
                "name": golden.name,
                "versions": [v.version for v in golden.versions],
                "latest": newest.version,
                "labels": newest.labels,
                "items": newest.items,
                "guideline_version": newest.guideline_version,
                "created": newest.created,
                "by_class": dict(sorted(classes.items())),
            }
        )
    return rows
