"""Workspaces in store layout 1, as labelspec before layout 2 wrote them, for the upgrade tests.

Layout 1: one ``labels.dvc`` over each labels folder (a real ``dvc add`` of the folder, which
also appends ``/labels`` to the dataset's .gitignore), ``snapshots.yaml`` (JSON written as
YAML: every batch and every snapshot), ``items.parquet`` (+ ``.dvc``), YAML roster and training
files, ``workspace: 1`` and a ``dataset/<name>/snap-N`` tag per snapshot.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tests.helpers import git, jsonl


def _dump_manifest(dataset: str, batches: list[dict], snapshots: list[dict]) -> str:
    def lines(entries: list[dict]) -> str:
        return ",\n".join("    " + json.dumps(e, ensure_ascii=False) for e in entries)

    return (
        "# Written by labelspec: every label batch (immutable) and every snapshot. Do not edit.\n"
        f'{{"dataset": {json.dumps(dataset)},\n'
        f' "batches": [\n{lines(batches)}\n ],\n'
        f' "snapshots": [\n{lines(snapshots)}\n ]}}\n'
    )


def to_layout_1(root: Path, dataset: str = "digits") -> None:
    """Rewrite a layout 2 workspace with plain imports (no relabels) as layout 1, one commit per
    snapshot, each tagged ``dataset/<dataset>/snap-N`` as layout 1 did."""
    from labelspec.vcs import parse_dvc_file

    folder = root / "datasets" / dataset
    records = sorted((folder / "labels").glob("*.parquet.dvc"))
    metas = [parse_dvc_file(r.read_text(), r.name) for r in records]
    git(root, "rm", "-q", *[str(r) for r in records])
    # items.parquet from the manifests, tracked by its own .dvc
    parts = sorted((folder / "manifests").glob("*.parquet"))
    items = pa.concat_tables([pq.read_table(p) for p in parts], promote_options="default")
    pq.write_table(items.sort_by("item_id"), folder / "items.parquet")
    git(root, "rm", "-q", *[str(p.with_name(p.name + ".dvc")) for p in parts])
    for part in parts:
        part.unlink()
    # labelers as YAML
    roster = jsonl(root / "labelers/roster.jsonl")
    git(root, "rm", "-q", "labelers/roster.jsonl")
    (root / "labelers/roster.yaml").write_text(
        "# Pseudonymous labeler ids only: no names, no e-mail addresses.\nlabelers:\n"
        + "".join(
            f"  - {{id: {e['id']}, vendor: {e['vendor']}, active: true, added: {e['at'][:10]}}}\n"
            for e in roster
            if e["event"] == "add"
        )
    )
    training = jsonl(root / "labelers/training.jsonl")
    git(root, "rm", "-q", "labelers/training.jsonl")
    (root / "labelers/training.yaml").write_text(
        "# Training records, one per quiz or session.\nrecords:\n"
        + "".join(
            "  - {" + ", ".join(f"{k}: {v}" for k, v in r.items() if v is not None) + "}\n"
            for r in training
        )
    )
    config = root / "labelspec.yaml"
    config.write_text(config.read_text().replace("workspace: 2", "workspace: 1"))
    (root / ".gitignore").write_text("# labelspec\n/.labelspec/\n/site/\n")
    git(root, "rm", "-q", ".gitattributes")
    dvc_add(root, folder / "items.parquet")
    git(root, "add", "-A", "--", ".", f":!datasets/{dataset}/labels")
    git(root, "commit", "-q", "-m", "layout 1: items and labelers")
    # one snapshot per batch, oldest first, each a commit with labels.dvc and the manifest
    batches, snapshots, total = [], [], 0
    for n, (_md5, _size, meta) in enumerate(metas, 1):
        batch_id = records[n - 1].name.removesuffix(".parquet.dvc")
        batches.append(
            {
                "id": batch_id,
                "file": f"labels/{batch_id}.parquet",
                "sha256": meta["sha256"],
                "rows": meta["rows"],
                "annotations": meta["annotations"],
                "items": meta["items"],
                "source": meta["source"],
                "format": meta["format"],
                "versions": meta["versions"],
                "supersedes": 0,
                "created": meta["created"],
                "plan": None,
            }
        )
        total += meta["rows"]
        snapshots.append(
            {
                "id": n,
                "tag": f"dataset/{dataset}/snap-{n}",
                "created": "2026-01-01T00:00:00+00:00",
                "message": meta["message"],
                "added": [batch_id],
                "labels": total,
                "current": total,
            }
        )
        aside = root.parent / f"{root.name}.later"
        aside.mkdir(exist_ok=True)
        known = {b["id"] for b in batches}
        hidden = [p for p in (folder / "labels").glob("*.parquet") if p.stem not in known]
        for path in hidden:  # later batches join in later snapshots
            path.rename(aside / path.name)
        dvc_add(root, folder / "labels")
        (folder / "snapshots.yaml").write_text(_dump_manifest(dataset, batches, snapshots))
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", f"snapshot snap-{n} of {dataset}: {meta['message']}")
        git(root, "tag", "-a", f"dataset/{dataset}/snap-{n}", "-m", f"snap-{n} of {dataset}")
        for path in hidden:
            (aside / path.name).rename(path)


def dvc_add(root: Path, path: Path) -> None:
    """`dvc add`, as a layout-1 workspace tracked its files (labelspec no longer calls it)."""
    dvc = Path(sys.executable).with_name("dvc")
    subprocess.run([str(dvc), "add", "-q", str(path)], cwd=root, check=True)
