"""``verify``: registered item files still have the bytes recorded when they were added.

Each item manifest row carries the file's sha256 at registration. Every item file present in
the working tree is hashed, once: digests are kept per (path, size, mtime) in the workspace's
state folder, so a later ``verify`` reads only the files that changed on disk.
"""

from __future__ import annotations

import json

from labelspec.labels.verify_history import named_commit
from labelspec.repo import Repo
from labelspec.store.itemfiles import Tracking, git_blob_id
from labelspec.vcs import hash_file

EXAMPLES = 5


def _digests(ws: Repo, paths: list[str]) -> dict[str, tuple[str, str]]:
    """path -> (sha256, md5) of each file, hashed only when its size or mtime changed."""

    store = ws.state_dir / "cache" / "item-digests.json"
    try:
        known = json.loads(store.read_text()) if store.is_file() else {}
    except ValueError:
        known = {}
    found, changed = {}, False
    for rel in paths:
        stat = (ws.root / rel).stat()
        stamp = [stat.st_size, stat.st_mtime_ns]
        entry = known.get(rel)
        if entry is None or entry[:2] != stamp:
            sha256, md5, _size = hash_file(ws.root / rel)
            entry = known[rel] = [*stamp, sha256, md5]
            changed = True
        found[rel] = (entry[2], entry[3])
    if changed:
        store.parent.mkdir(parents=True, exist_ok=True)
        tmp = store.with_suffix(".tmp")
        tmp.write_text(json.dumps(known))
        tmp.replace(store)
    return found


def item_digest_problems(ws: Repo, git, dataset: str, hashed, tracking: Tracking) -> list[str]:
    """One line per item file whose bytes are not those registered (``hashed``: (item_id,
    path, sha256) of each item whose file was hashed at registration), naming the commit that
    recorded the change if one did."""

    rows = [(item_id, path, sha) for item_id, path, sha in hashed if (ws.root / path).is_file()]
    digests = _digests(ws, [path for _, path, _ in rows])
    changed = [(i, p) for i, p, sha in rows if digests[p][0] != sha]
    by_commit: dict[str, list[tuple[str, str]]] = {}
    commits = {}
    for item_id, path in changed:
        if path in tracking.blobs:  # committed to git: is this content the committed one?
            committed = git_blob_id(ws.root / path) == tracking.blobs[path]
        else:  # listed by a DVC record: does the record list this content?
            committed = tracking.listed(path) == digests[path][1]
        owner = path if path in tracking.blobs else tracking.owner(path)
        record = None if owner is None or path in tracking.blobs else owner + ".dvc"
        change = git.last_change([record or path]) if committed else None
        key = change.commit if change else ""
        commits[key] = (change, record or path)
        by_commit.setdefault(key, []).append((item_id, path))
    found = []
    for key, entries in by_commit.items():
        change, where = commits[key]
        ids = ", ".join(i for i, _ in entries[:EXAMPLES])
        more = f" and {len(entries) - EXAMPLES} more" if len(entries) > EXAMPLES else ""
        head = (
            f"{dataset}: {len(entries)} item file(s) no longer have the sha256 recorded when they "
            f"were registered (items {ids}{more}, e.g. {entries[0][1]})"
        )
        if change is None:
            found.append(
                f"{head}: changed in the working tree; restore them: `dvc checkout` (DVC-tracked) "
                "or `git checkout -- <file>`"
            )
        elif len(change.parents) > 1:
            found.append(
                f"{head}: {named_commit(change)} recorded the changed bytes in {where}; restore "
                f"{where} from before it and commit, then `dvc checkout`"
            )
        else:
            found.append(
                f"{head}: {named_commit(change)} recorded the changed bytes in {where}; revert that "
                f"commit: `git revert {change.commit[:10]}`, then `dvc checkout`"
            )
    return found
