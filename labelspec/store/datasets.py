"""Datasets: each binds a folder under ``datasets/`` to the guideline it is labeled under.

A dataset is declared by files of its own folder: ``datasets/<name>/dataset.yaml``
(``guideline: NAME``), ``dvc.yaml`` (its quality stage) and ``README.md`` (what it is, how to
fill it). So two clones that each add a dataset add different files, and a ``git pull`` merges
them; one shared ``dvc.yaml`` (or a list in ``labelspec.yaml``) would make both clones rewrite
the same lines. Datasets listed under ``datasets:`` in ``labelspec.yaml`` (where earlier
versions of ``labelspec init`` declared the template's dataset) count too.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from importlib import resources
from string import Template
from typing import Any

from pydantic import ValidationError

from labelspec import yamlio
from labelspec.errors import ConflictError, InputError, NotFoundError, WorkspaceError
from labelspec.repo import DatasetConfig, Repo
from labelspec.transaction import transaction

DATASET_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
DECLARATION = "dataset.yaml"
STAGES = "dvc.yaml"
README = "README.md"
# what `dataset add` writes, the lock `dvc repro` writes beside the stage, and DVC's ignore file
OWN_FILES = (DECLARATION, STAGES, README, "dvc.lock", ".gitignore")
# what else a dataset folder holds, by subfolder, as a person would count it
DEPENDENTS = {
    "labels": "label batch(es)",
    "golden": "golden-set version(s)",
    "manifests": "item manifest(s)",
    "items": "tracked item folder(s)",
    "files": "tracked item folder(s)",
    "deliveries": "raw delivery file(s)",
    "relabel": "relabel plan(s)",
    "reviews": "review(s)",
}


def declared(ws: Repo) -> dict[str, DatasetConfig]:
    """Every declared dataset: labelspec.yaml's, then one per ``datasets/*/dataset.yaml`` (read
    once per Repo)."""
    files = sorted(ws.datasets_dir.glob(f"*/{DECLARATION}")) if ws.datasets_dir.is_dir() else []
    key = ("datasets", ws.stamp(ws.config_path, *files), tuple(files))
    return ws.memo(key, lambda: _declared(ws))


def _declared(ws: Repo) -> dict[str, DatasetConfig]:

    found = dict(ws.config.datasets)
    if ws.datasets_dir.is_dir():
        for path in sorted(ws.datasets_dir.glob(f"*/{DECLARATION}")):
            try:
                found.setdefault(
                    path.parent.name,
                    DatasetConfig.model_validate(yamlio.fast_load(path.read_text())),
                )
            except ValidationError as exc:
                raise InputError(
                    f"{ws.relpath(path)}: {exc.errors()[0]['msg']} (it holds `guideline: NAME`)"
                ) from exc
    return found


def dataset_guideline(ws: Repo, dataset: str) -> str:
    """The guideline a declared dataset is labeled under."""
    known = declared(ws)
    if dataset not in known:
        raise _unknown(dataset, known)
    return known[dataset].guideline


def _unknown(dataset: str, known: dict[str, DatasetConfig]) -> NotFoundError:
    close = difflib.get_close_matches(dataset, list(known), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return NotFoundError(
        f"no dataset {dataset!r} ({hint}known: {', '.join(sorted(known)) or 'none'}; "
        "`labelspec dataset add NAME --guideline GUIDELINE` declares one)"
    )


def declaration_files(
    dataset: str, guideline: str, description: str | None = None
) -> dict[str, str]:
    """The files that declare a dataset (path relative to the workspace -> text): the same for
    ``dataset add``, ``items add`` of a new dataset and ``init``'s template dataset."""
    folder = resources.files("labelspec") / "templates" / "dataset"
    values = {
        "dataset": dataset,
        "guideline": guideline,
        "description": f"{description.strip()}\n\n" if description else "",
    }
    text = (
        "# Declared by labelspec: the guideline this dataset is labeled under.\n"
        f"guideline: {guideline}\n"
    )
    if description:
        text += f"description: {json.dumps(description.strip(), ensure_ascii=False)}\n"
    out = {f"datasets/{dataset}/{DECLARATION}": text}
    for name in (STAGES, README):
        out[f"datasets/{dataset}/{name}"] = Template(
            (folder / name).read_text(encoding="utf-8")
        ).substitute(values)
    return out


def _check_name(dataset: str) -> None:
    if not DATASET_NAME.fullmatch(dataset):
        raise InputError(
            f"dataset name {dataset!r}: use lower-case letters, digits, '-' and '_' "
            "(at most 64, starting with a letter or digit)"
        )


def _choose_guideline(ws: Repo, dataset: str, guideline: str | None) -> str:
    names = ws.guideline_names()
    if guideline is None:
        if len(names) != 1:
            known = ", ".join(names) or "none yet: `labelspec guideline new NAME` makes one"
            raise InputError(
                f"say which guideline dataset {dataset!r} is labeled under: --guideline NAME "
                f"(guidelines: {known})"
            )
        return names[0]
    ws.spec_path(guideline)  # an unknown name: "did you mean", the known ones
    return guideline


def ensure_dataset(ws: Repo, dataset: str, guideline: str | None, tx) -> str:
    """Declare ``dataset`` (inside the caller's transaction) if needed; returns its guideline."""
    _check_name(dataset)
    known = declared(ws)
    if dataset in known:
        bound = known[dataset].guideline
        if guideline and guideline != bound:
            raise InputError(
                f"dataset {dataset!r} is labeled under guideline {bound!r}, not {guideline!r}"
            )
        return bound
    guideline = _choose_guideline(ws, dataset, guideline)
    for rel, text in declaration_files(dataset, guideline).items():
        if not (ws.root / rel).exists():  # a README or stage the team wrote first stays
            tx.write_text(ws.root / rel, text)
    return guideline


# -- dataset add / remove ------------------------------------------------------------------------
@dataclass
class DatasetChange:
    """What ``dataset add`` or ``dataset remove`` did: one commit."""

    dataset: str
    guideline: str
    files: list[str] = field(default_factory=list)  # paths written or removed
    commit: str | None = None
    kept: list[str] = field(default_factory=list)  # untracked files left in the folder

    def to_json(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "guideline": self.guideline,
            "files": self.files,
            "commit": self.commit,
            "kept": self.kept,
        }


def add_dataset(
    ws: Repo, dataset: str, guideline: str | None = None, description: str | None = None
) -> DatasetChange:
    """Declare a new dataset: ``dataset.yaml``, its ``dvc.yaml`` quality stage and its
    ``README.md``, in one commit. Items and labels come later (``items add``, ``labels import``)."""

    _check_name(dataset)
    with transaction(ws, f"dataset add: {dataset}") as tx:
        if dataset in declared(ws):
            raise ConflictError(
                f"dataset {dataset!r} exists (labeled under {dataset_guideline(ws, dataset)!r}); "
                "choose another name"
            )
        guideline = _choose_guideline(ws, dataset, guideline)
        files = declaration_files(dataset, guideline, description)
        taken = sorted(rel for rel in files if (ws.root / rel).exists())
        if taken:
            raise ConflictError(
                f"{', '.join(taken)} exist(s) but declare no dataset; move them away first"
            )
        for rel, text in files.items():
            tx.write_text(ws.root / rel, text)
        tx.journal.message = f"dataset add: {dataset}, labeled under {guideline}"
    return DatasetChange(dataset, guideline, sorted(files), tx.commit)


def dependents(ws: Repo, git, dataset: str) -> dict[str, list[str]]:
    """What a dataset folder holds besides its declaration, as committed: kind -> paths."""
    folder = ws.dataset_dir(dataset)
    found: dict[str, list[str]] = {}
    for rel in git.tracked_files(folder) if folder.is_dir() else []:
        if rel in OWN_FILES:
            continue
        top = rel.split("/", 1)[0].removesuffix(".dvc")  # items.dvc: a whole folder tracked
        found.setdefault(DEPENDENTS.get(top, "other file(s)"), []).append(
            f"{ws.relpath(folder)}/{rel}"
        )
    order = [*dict.fromkeys(DEPENDENTS.values()), "other file(s)"]
    return {kind: found[kind] for kind in order if kind in found}


def _counted(kind: str, paths: list[str]) -> str:
    if kind == "golden-set version(s)":
        sets = sorted({p.split("/golden/", 1)[1].split("/", 1)[0] for p in paths})
        return f"golden set(s) {', '.join(sets)}"
    if kind == "label batch(es)":
        paths = [p for p in paths if p.endswith(".parquet.dvc")] or paths
    if kind == "relabel plan(s)":  # a plan is one JSON file (relabel/closed.jsonl records closings)
        paths = [p for p in paths if p.endswith(".json")] or paths
    if kind == "other file(s)":
        return (
            f"{len(paths)} other file(s) ({', '.join(paths[:3])}{' ...' if len(paths) > 3 else ''})"
        )
    return f"{len(paths)} {kind}"


def remove_dataset(ws: Repo, dataset: str) -> DatasetChange:
    """Take back what ``dataset add`` (or ``init``'s template) declared, in one commit; refused
    while the dataset holds anything else (items, labels, golden sets, plans, reviews)."""

    known = declared(ws)
    if dataset not in known:
        raise _unknown(dataset, known)
    guideline = known[dataset].guideline
    with transaction(ws, f"dataset remove: {dataset}") as tx:
        found = dependents(ws, tx.git, dataset)
        if found:
            held = "; ".join(_counted(kind, paths) for kind, paths in found.items())
            raise WorkspaceError(
                f"dataset {dataset!r} is not removed: {held} depend on it, and they are the "
                "lineage of its labels and items, so it stays (nothing was changed). Instead: "
                "leave it, which costs nothing, and label new work in another dataset "
                f"(`labelspec dataset add NEW --guideline {guideline}`); if it was filled by "
                f"mistake and never pushed, undo those commits (`git log -- {ws.relpath(ws.dataset_dir(dataset))}`)"
            )
        changed = _remove_declaration(ws, tx, dataset)
        tx.journal.message = f"dataset remove: {dataset}"
    folder = ws.dataset_dir(dataset)
    kept = (
        sorted(ws.relpath(p) for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []
    )
    if folder.is_dir() and not kept:
        for sub in sorted(folder.rglob("*"), reverse=True):
            sub.rmdir()
        folder.rmdir()
    return DatasetChange(dataset, guideline, changed, tx.commit, kept)


def _remove_declaration(ws: Repo, tx, dataset: str) -> list[str]:
    """Delete the dataset's own files, its entry in labelspec.yaml and, in a workspace made
    before datasets had their own ``dvc.yaml``, its stages in the top ``dvc.yaml``."""
    changed = []
    folder = ws.dataset_dir(dataset)
    for name in OWN_FILES:
        path = folder / name
        if path.exists() and tx.git.is_tracked(path):
            tx.remove(path)
            changed.append(ws.relpath(path))
    config = yamlio.Document.load(ws.config_path)
    listed = config.data.get("datasets") or {}
    if dataset in listed:
        del listed[dataset]
        if not listed:
            del config.data["datasets"]
        tx.write_text(ws.config_path, config.dumps())
        changed.append(ws.relpath(ws.config_path))
    top = ws.root / STAGES
    if top.is_file():
        pipeline = yamlio.Document.load(top)
        stages = pipeline.data.get("stages") or {}
        mine = [name for name, stage in stages.items() if _stage_of(stage, dataset)]
        for name in mine:
            del stages[name]
        if mine:
            tx.write_text(top, pipeline.dumps())
            changed.append(ws.relpath(top))
    return changed


def _stage_of(stage: Any, dataset: str) -> bool:
    """Whether a stage of the top dvc.yaml works on ``dataset`` (reads from its folder)."""
    prefix = f"datasets/{dataset}"
    deps = (stage.get("deps") or []) if isinstance(stage, dict) else []
    return any(str(dep) == prefix or str(dep).startswith(prefix + "/") for dep in deps)
