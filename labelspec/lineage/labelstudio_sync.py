"""``relabel push`` and ``relabel pull``: a relabel plan's project in a Label Studio server.

``push`` creates the project (labeling config, instructions from the spec, the plan's tasks) or,
when the plan already names one on that server, updates its config and instructions and adds
only the tasks it lacks. The project's URL and id are recorded in the plan (committed; no
token). ``pull`` downloads the project's JSON export and merges it (``lineage.merge``), so a
second pull adds nothing. The token comes from ``labelstudio_api.token_for``, never from git.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from labelspec import nesting
from labelspec.errors import InputError, NotFoundError, ToolError
from labelspec.formats.labelstudio_api import Client, token_for
from labelspec.formats.labelstudio_config import RELABELER
from labelspec.labelers.roster import get_labeler
from labelspec.lineage.merge import merge
from labelspec.lineage.plans import load_plan, plans_dir, read_plan_file, refuse_closed
from labelspec.repo import Repo
from labelspec.store.items import read_items
from labelspec.transaction import transaction
from labelspec.yamlio import atomic_write_text

TASK_FILES = ("tasks.labelstudio.json", "labeling-config.xml", "instructions.html")


def find_plan(ws: Repo, ref: str | Path) -> tuple[dict[str, Any], Path | None]:
    """A plan (its committed record) and its ``--out`` folder when ``ref`` is that folder or its
    plan.json; ``ref`` may also be a plan id, in any dataset."""

    path = Path(ref)
    folder = path if path.is_dir() else (path.parent if path.is_file() else None)
    if folder is not None:
        written = folder / "plan.json"
        if not written.is_file():
            raise NotFoundError(f"{folder}: no plan.json (give the --out folder of `relabel plan`)")
        record = read_plan_file(written)
        return load_plan(ws, record["dataset"], record["plan"]), folder
    found = sorted(ws.datasets_dir.glob(f"*/relabel/{ref}.json"))
    if not found:
        raise NotFoundError(
            f"no relabel plan {ref!r} (give its id, or the --out folder of `relabel plan`; see `labelspec relabel status DATASET`)"
        )
    return load_plan(ws, found[0].parent.parent.name, found[0]), None


def _client(url: str):

    return Client(url, token_for(url))


def push(
    ws: Repo,
    plan_ref: str | Path,
    url: str,
    title: str | None = None,
    check_image: bool = True,
    relabelers: list[str] | None = None,
) -> dict[str, Any]:
    """Create or update the plan's Label Studio project; record it in the plan. ``check_image``:
    fetch one task's image first and refuse the push when it does not load.

    ``relabelers``: one copy of each task per relabeler (``data.relabeler``), one annotation
    each, and a data manager tab per relabeler holding only their copies: Label Studio's
    community edition shows every annotation of a task to whoever opens it, so copies are how
    a relabeler answers without seeing another's answer."""
    record, folder = find_plan(ws, plan_ref)
    refuse_closed(record, "it is not pushed")  # before the server is asked anything
    for who in relabelers or []:
        get_labeler(ws, who)  # a copy for someone off the roster could never be merged
    if relabelers and len(set(relabelers)) != len(relabelers):
        raise InputError(f"--relabelers names a labeler twice: {','.join(relabelers)}")
    if folder is None:
        raise InputError(
            "relabel push needs the plan's task files: give the --out folder of `relabel plan` (or its plan.json)"
        )
    missing = [name for name in TASK_FILES if not (folder / name).is_file()]
    if missing:
        raise NotFoundError(
            f"{folder}: missing {', '.join(missing)} (run `labelspec relabel plan` again)"
        )
    tasks_file = folder / "tasks.labelstudio.json"
    tasks = _copies(_read_tasks(tasks_file), relabelers)
    config = (folder / "labeling-config.xml").read_text(encoding="utf-8")
    instructions = (folder / "instructions.html").read_text(encoding="utf-8")
    client = _client(url)
    known = record.get("labelstudio") or {}
    project = None
    if known.get("url", "").rstrip("/") == client.url and known.get("project") is not None:
        project = client.project(known["project"])
    fields = {
        "label_config": config,
        "expert_instruction": instructions,
        "show_instruction": True,
        "description": f"labelspec relabel plan {record['plan']}: {record['dataset']} under "
        f"{record['guideline']} {record['version']}",
    }
    created = project is None
    if created:
        name = title or f"{record['dataset']} relabel {record['plan']}"
        project = client.create_project(title=_title(name), **fields)
        present: set[str] = set()
    else:
        client.update_project(project["id"], **fields)
        present = {_task_key(t) for t in client.export(project["id"], all_tasks=True)}
    fresh = [t for t in tasks if _task_key(t) not in present]
    storage = _local_storage(client, project["id"], record, ws)
    try:
        if check_image:
            _check_image(client, record, fresh or tasks)
    except ToolError:
        if created:  # leave no empty project behind: the next push makes it again
            client.delete_project(project["id"])
        raise
    if fresh:
        client.import_tasks(project["id"], fresh)
    if relabelers:
        _relabeler_views(client, project["id"], relabelers)
    versions = sorted({p.get("model_version") for t in tasks for p in t.get("predictions") or []})
    if versions:
        # pre-annotations show only for the project's model version (set once they exist)
        client.update_project(
            project["id"], model_version=versions[0], show_collab_predictions=True
        )
    link = {"url": client.url, "project": project["id"]}
    if known != link:
        _record_project(ws, record, folder, link)
    return {
        "plan": record["plan"],
        "url": client.url,
        "project": project["id"],
        "project_url": f"{client.url}/projects/{project['id']}/data",
        "created": created,
        "tasks_added": len(fresh),
        "tasks_present": len(present),
        "local_storage": storage,
        "relabelers": relabelers or [],
        "warnings": _warnings(record),
    }


def _read_tasks(path: Path) -> list[dict]:
    """The plan's Label Studio tasks (a JSON list of objects, each with ``data``)."""
    again = "run `labelspec relabel plan` again to write it"
    tasks = nesting.read_json_file(path, again)
    if not isinstance(tasks, list):
        raise InputError(f"{path}: not a list of Label Studio tasks ({again})")
    for n, task in enumerate(tasks):
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            raise InputError(f"{path}: task {n}: not an object with `data` ({again})")
    return tasks


def _copies(tasks: list[dict], relabelers: list[str] | None) -> list[dict]:
    if not relabelers:
        return tasks
    return [
        {**task, "data": {**task.get("data", {}), RELABELER: who}}
        for who in relabelers
        for task in tasks
    ]


def _task_key(task: dict) -> tuple[str, str | None]:
    data = task.get("data", {})
    return str(data.get("item_id")), data.get(RELABELER)


def _relabeler_views(client, project_id: int, relabelers: list[str]) -> None:
    """One tab per relabeler, filtered to their copies (made once: a second push keeps them)."""
    titles = {(v.get("data") or {}).get("title") for v in client.views(project_id)}
    for who in relabelers:
        if who in titles:
            continue
        only = {
            "filter": f"filter:tasks:data.{RELABELER}",
            "operator": "equal",
            "type": "String",
            "value": who,
        }
        client.create_view(project_id, who, {"conjunction": "and", "items": [only]})


def check(ws: Repo, plan_ref: str | Path, url: str | None = None) -> dict[str, Any]:
    """A pushed plan's project as its labelers will meet it: the server answers and takes the
    token, the project is there with its tasks, and one task's image loads."""
    record, _folder = find_plan(ws, plan_ref)
    link = record.get("labelstudio") or {}
    if not link:
        raise InputError(
            f"plan {record['plan']} has no Label Studio project: run `labelspec relabel push` first"
        )
    client = _client(url or link["url"])
    if client.project(link["project"]) is None:
        raise NotFoundError(
            f"Label Studio project {link['project']} of plan {record['plan']} is not on "
            f"{client.url}: push the plan again (`labelspec relabel push`)"
        )
    tasks = client.export(link["project"], all_tasks=True)
    image = _check_image(client, record, tasks)
    return {
        "plan": record["plan"],
        "url": client.url,
        "project": link["project"],
        "tasks": len(tasks),
        "image": image,
        "warnings": _warnings(record),
    }


def _check_image(client, record: dict, tasks: list[dict]) -> str | None:
    """Fetch one task's image as the labeling screen would, before the tasks go in: a wrong
    document root or a server that does not serve local files fails here, with the fix.
    Returns the URL that loaded (None when there is nothing a server could load)."""
    images = record.get("images") or {}
    mode = images.get("mode", "path")
    url = next((t["data"].get("image") for t in tasks if t.get("data", {}).get("image")), None)
    if mode == "path" or not url:
        return None  # workspace paths never load: _warnings says so
    status, reason = client.image_status(url)
    if status == 200:
        return url
    got = f"HTTP {status}" if status is not None else reason
    if mode == "labelstudio-local-files":
        fix = (
            f"start Label Studio with LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED=true and "
            f"LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT={images.get('document_root')} (the folder "
            "the plan gave --labelstudio-local-files), or close this plan (`labelspec relabel "
            f"close {record['dataset']} {record['plan']}`) and plan again with the server's "
            "document root: --labelstudio-local-files ROOT"
        )
    else:
        fix = "check --image-url: the server that holds the images must answer that URL"
    raise ToolError(f"Label Studio cannot load the task image {url} ({got}): {fix}", status)


def _warnings(record: dict) -> list[str]:
    images = (record.get("images") or {}).get("mode", "path")
    if images == "path" and record.get("items"):
        return [
            "task images are workspace paths, which Label Studio cannot load: plan with "
            "--labelstudio-local-files or --image-url TEMPLATE (see README, Label Studio)"
        ]
    return []


def _title(name: str) -> str:
    """Label Studio titles are 3 to 50 characters."""
    name = " ".join(name.split())
    return (name if len(name) <= 50 else name[:49] + "…").ljust(3, "_")


def _local_storage(client, project_id: int, record: dict, ws: Repo) -> str | None:
    """For local-files tasks, the project's Local Files storage that lets Label Studio serve
    them (the items' folder); added once."""
    images = record.get("images") or {}
    if images.get("mode") != "labelstudio-local-files":
        return None

    wanted = {e["item_id"] for e in record["items"]}
    items = [r for r in read_items(ws, record["dataset"]).to_pylist() if r["item_id"] in wanted]
    folders = {str((ws.root / r["path"]).resolve().parent) for r in items if r.get("path")}
    if not folders:
        return None

    path = os.path.commonpath(sorted(folders))
    existing = client.request("GET", "/api/storages/localfiles", query={"project": project_id})
    if not any(s.get("path") == path for s in existing or []):
        client.request(
            "POST",
            "/api/storages/localfiles",
            {
                "project": project_id,
                "path": path,
                "title": "labelspec items",
                "use_blob_urls": False,
            },
        )
    return path


def _record_project(ws: Repo, record: dict, folder: Path, link: dict) -> None:

    record = {**record, "labelstudio": link}
    text = json.dumps(record, indent=1, default=str) + "\n"
    message = (
        f"relabel push {record['plan']}: Label Studio project {link['project']} at {link['url']}"
    )
    with transaction(ws, message) as tx:
        tx.write_text(plans_dir(ws, record["dataset"]) / f"{record['plan']}.json", text)
    atomic_write_text(folder / "plan.json", text)


def pull(
    ws: Repo,
    plan_ref: str | Path,
    labeler_map: Path | str | None = None,
    labeler: str | None = None,
    dry_run: bool = False,
    url: str | None = None,
    keep: Path | str | None = None,
) -> dict[str, Any]:
    """Export the plan's project and merge it (incrementally: a second pull adds nothing).

    The export is what Label Studio's Export -> JSON gives; merge keeps it as the raw delivery.
    ``keep``: also write it to this file."""

    record, _folder = find_plan(ws, plan_ref)
    refuse_closed(record, "its answers are not pulled")  # before the export is downloaded
    link = record.get("labelstudio") or {}
    if not link.get("project"):
        raise InputError(
            f"plan {record['plan']} has no Label Studio project: run `labelspec relabel push` first"
        )
    client = _client(url or link["url"])
    tasks = client.export(link["project"])
    annotations = [a for t in tasks for a in t.get("annotations") or []]
    cancelled = sum(1 for a in annotations if a.get("was_cancelled"))
    summary = {
        "url": client.url,
        "project": link["project"],
        "tasks": len(tasks),
        "annotations": len(annotations),
        "cancelled": cancelled,
    }
    if not annotations:
        return {
            "plan": record["plan"],
            **summary,
            "new": 0,
            "updated": 0,
            "unchanged": 0,
            "batch": None,
            **({"dry_run": True, "warnings": []} if dry_run else {}),  # the merge's keys
        }
    text = json.dumps(tasks, ensure_ascii=False, indent=1) + "\n"
    if keep:
        Path(keep).write_text(text, encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="labelspec-pull-") as tmp:
        export = Path(tmp) / f"labelstudio-project-{link['project']}.json"
        export.write_text(text, encoding="utf-8")
        merged = merge(
            ws,
            record["dataset"],
            record["plan"],
            export,
            "labelstudio",
            labeler_map,
            labeler,
            dry_run,
        )
    return {**merged, **summary}
