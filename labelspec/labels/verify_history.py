"""What ``verify`` proves across commits: records are immutable, record files append-only.

One ``git log`` over the store's record paths (each merge diffed against every parent) gives
every version any commit wrote; each blob is read once (``git cat-file --batch``). Then, for
HEAD's history (or the commits after ``--since``):

- a DVC record of a batch, item manifest, golden version or review is at HEAD exactly as the
  commit that added it wrote it (md5, size, sha256, source, counts: every field), so its bytes,
  which ``verify`` checks against HEAD's record, are the bytes first recorded;
- a batch record leaves the tree only with a retraction in ``retractions.jsonl``
  (``labels retract``); no other record ever leaves;
- every line an append-only file (``labelers/*.jsonl``, ``retractions.jsonl``, a dataset's
  ``relabel/closed.jsonl``) gained without
  dropping another is still there at HEAD: a merge is the union of its parents.

A problem names the commit that made HEAD differ (short sha and subject), the file, what
changed, and the repair. Reverting the offending commit restores the first version, which
passes: what is judged is HEAD against everything its history recorded.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass

from labelspec.errors import VcsError
from labelspec.lineage.closings import CLOSED
from labelspec.repo import Repo
from labelspec.store.records import RECORD_SUFFIX
from labelspec.store.retractions import RETRACTIONS
from labelspec.vcs import FileChange, parse_dvc_file

RECORDS = {  # folder under datasets/<name>/ -> what its records are
    "labels": "batch",
    "manifests": "item manifest",
    "golden": "golden version",
    "reviews": "review",
}
STORE_FOLDERS = ["datasets", "labelers"]  # what the one ``git log`` reads
UPGRADE = "labelspec upgrade: layout "  # the subject of the commit moving to layout 2
SHOWN = 4  # changed fields or records a problem names


def is_record(path: str) -> bool:
    """``datasets/<name>/<labels|manifests|golden|reviews>/.../<id>.parquet.dvc``"""
    parts = path.split("/")
    return (
        len(parts) >= 4
        and parts[0] == "datasets"
        and parts[2] in RECORDS
        and path.endswith(RECORD_SUFFIX)
    )


def is_append_only(path: str) -> bool:
    """``labelers/<name>.jsonl``, ``datasets/<name>/retractions.jsonl`` and
    ``datasets/<name>/relabel/closed.jsonl``"""
    parts = path.split("/")
    if parts[0] == "labelers":
        return len(parts) == 2 and path.endswith(".jsonl")
    if parts[0] != "datasets":
        return False
    return (len(parts) == 3 and parts[2] == RETRACTIONS) or parts[2:] == ["relabel", CLOSED]


@dataclass
class History:
    """The store's changes after ``since`` (all of HEAD's history when None)."""

    changes: list[FileChange]
    tree: dict[str, str]  # HEAD: path relative to the workspace -> blob sha
    blobs: dict[str, bytes]
    since_tree: dict[str, str] | None = None  # the same at ``since``

    def text(self, sha: str | None) -> str:
        return self.blobs[sha].decode("utf-8", "replace") if sha else ""

    def changed_paths(self) -> set[str]:
        """Files whose HEAD version is not the one at ``since`` (what the range added)."""
        before = self.since_tree or {}
        return {path for path, sha in self.tree.items() if before.get(path) != sha}


def read_history(ws: Repo, git, since: str | None = None) -> History:
    """The changes after ``since`` and after the newest layout upgrade (which wrote the records
    of a layout 1 history anew, from ``snapshots.yaml``: the rules start there)."""

    after = [since] if since else []
    upgrades = [c for c in git.commits_with_subject(UPGRADE) if git.is_ancestor(c)]
    logged = git.file_changes(STORE_FOLDERS, after + upgrades[:1])
    changes = [c for c in logged if is_record(c.path) or is_append_only(c.path)]
    head = git.head()
    tree = dict(git.ls_tree(head, ws.root)) if head else {}
    wanted = {s for c in changes for s in (c.old, c.new) if s}
    wanted |= {sha for path, sha in tree.items() if path.endswith(RETRACTIONS)}
    wanted |= {tree[c.path] for c in changes if c.path in tree}
    before = dict(git.ls_tree(since, ws.root)) if since else None
    return History(changes, tree, git.blobs(sorted(wanted)), before)


def history_problems(ws: Repo, history: History, dataset: str | None = None) -> list[str]:
    """One line per record or append-only file whose HEAD version breaks the rules."""

    def wanted(path: str) -> bool:
        return dataset is None or not path.startswith("datasets/") or _dataset(path) == dataset

    changes = [c for c in history.changes if wanted(c.path)]
    records = [c for c in changes if is_record(c.path)]
    lines = [c for c in changes if is_append_only(c.path)]
    return _record_problems(history, records) + _line_problems(history, lines)


# -- immutable records ---------------------------------------------------------------------------
def _record_problems(history: History, changes: list[FileChange]) -> list[str]:

    first: dict[str, tuple[str, FileChange | None]] = {}  # path -> first blob, the commit adding it
    made: dict[tuple[str, str], FileChange] = {}  # (path, blob) -> first commit writing it
    latest: dict[tuple[str, str], FileChange] = {}  # (path, blob) -> last commit writing it
    removed: dict[str, FileChange] = {}  # path -> last commit deleting it
    for change in changes:
        if change.path not in first:
            first[change.path] = (change.new, change) if change.old is None else (change.old, None)
        if change.new is not None:
            made.setdefault((change.path, change.new), change)
            latest[(change.path, change.new)] = change
        else:
            removed[change.path] = change
    retracted = _retracted(history)
    found = []
    for path, (blob, added) in first.items():
        now = history.tree.get(path)
        dataset, kind = _dataset(path), RECORDS.get(path.split("/")[2], "record")
        batch = path.rsplit("/", 1)[-1].removesuffix(RECORD_SUFFIX)
        if kind == "batch" and batch in retracted.get(dataset, {}):
            if now is not None:
                back = latest.get((path, now))
                found.append(
                    f"{dataset}: batch {batch} is retracted ({retracted[dataset][batch]}) but "
                    f"{named_commit(back)} put its record {path} back in the tree; take it out: "
                    f"`git rm {path}` and commit"
                )
            continue
        if now == blob:
            continue
        if now is None:
            found.append(_removed(history, dataset, kind, batch, path, blob, removed[path], added))
            continue
        change = made.get((path, now))
        since = f"commit {added.commit[:10]} added it" if added else "the revision --since names"
        found.append(
            f"{dataset}: {named_commit(change)} changed the {kind} record {path} after {since}: "
            f"{_field_changes(history, path, blob, now)}; records never change: "
            + _repair(change, path, added)
        )
    return found


def _removed(history, dataset, kind, batch, path, blob, change: FileChange, added) -> str:
    if kind != "batch":
        return (
            f"{dataset}: {named_commit(change)} removed the {kind} record {path}; records never "
            f"leave the history: {_repair(change, path, added)}"
        )
    _md5, _size, meta = _parse(history, path, blob)
    return (
        f"{dataset}: {named_commit(change)} took batch {batch} ({meta.get('rows', '?')} labels from "
        f"{meta.get('source', '?')}) out of the current labels without a retraction (a plain "
        f"`git revert` of its import?); record why: `labelspec labels retract {batch} --reason "
        f'"<why>"`, or bring it back: {_repair(change, path, added)}'
    )


def _retracted(history: History) -> dict[str, dict[str, str]]:
    """dataset -> batch -> 'date: reason' of HEAD's retraction records."""

    found: dict[str, dict[str, str]] = defaultdict(dict)
    for path, sha in history.tree.items():
        if path.startswith("datasets/") and path.endswith("/" + RETRACTIONS):
            for record in _records(history.text(sha)):
                found[_dataset(path)][str(record.get("batch"))] = (
                    f"{str(record.get('date', ''))[:10]}: {record.get('reason', '')}"
                )
    return found


def _parse(history: History, path: str, blob: str):
    try:
        return parse_dvc_file(history.text(blob), path)
    except (VcsError, ValueError):
        return None, None, {}


def _field_changes(history: History, path: str, before: str, after: str) -> str:
    old_md5, old_size, old_meta = _parse(history, path, before)
    new_md5, new_size, new_meta = _parse(history, path, after)
    old = {"md5": old_md5, "size": old_size, **old_meta}
    new = {"md5": new_md5, "size": new_size, **new_meta}
    diffs = [f"{key} {_show(old.get(key))} -> {_show(new.get(key))}" for key in _keys(old, new)]
    if not diffs:
        return "its text was rewritten"
    more = f" and {len(diffs) - SHOWN} more" if len(diffs) > SHOWN else ""
    return ", ".join(diffs[:SHOWN]) + more


def _keys(old: dict, new: dict) -> list[str]:
    order = ["source", "rows", "labels", "items", "annotations", "md5", "size", "sha256"]
    keys = [k for k in old.keys() | new.keys() if old.get(k) != new.get(k)]
    return sorted(keys, key=lambda k: (order.index(k) if k in order else len(order), k))


# -- append-only files ---------------------------------------------------------------------------
def _line_problems(history: History, changes: list[FileChange]) -> list[str]:

    required: dict[str, set[str]] = defaultdict(set)
    dropped: dict[tuple[str, str], tuple[FileChange, set[str]]] = {}
    for change in changes:
        old, new = _lines(history.text(change.old)), _lines(history.text(change.new))
        if change.path not in required:
            required[change.path] |= old  # what the file held before the range
        gone, added = old - new, new - old
        if not gone:
            required[change.path] |= added
        for line in gone:
            dropped[(change.path, line)] = (change, added)
    by_commit: dict[tuple[str, str], list[str]] = defaultdict(list)
    culprits: dict[tuple[str, str], tuple[FileChange, set[str]]] = {}
    for path, lines in required.items():
        now = _lines(history.text(history.tree.get(path)))
        for line in sorted(lines - now):
            change, added = dropped[(path, line)]
            by_commit[(change.commit, path)].append(line)
            culprits[(change.commit, path)] = (change, added)
    found = []
    for key, lines in by_commit.items():
        change, added = culprits[key]
        path = key[1]
        found.append(
            f"{named_commit(change)} rewrote {path}, an append-only file: {_line_changes(lines, added)}; "
            f"records are only ever appended: {_repair(change, path)}"
        )
    return found


def _line_changes(gone: list[str], added: set[str]) -> str:
    """Each dropped record paired with the line that replaced it (same id), fields compared."""

    replacements = {_key(r): r for r in _records("\n".join(sorted(added)))}
    described = []
    for line in gone:
        record = _record(line)
        other = replacements.get(_key(record)) if record else None
        if record and other is not None:
            fields = [
                f"{k} {_show(record.get(k))} -> {_show(other.get(k))}"
                for k in sorted(record.keys() | other.keys())
                if record.get(k) != other.get(k)
            ]
            described.append(f"record {_name(record)}: {', '.join(fields)}")
        elif record:
            described.append(f"record {_name(record)} dropped")
        else:
            described.append(f"line dropped: {line[:120]}")
    more = f" and {len(described) - SHOWN} more" if len(described) > SHOWN else ""
    return "; ".join(described[:SHOWN]) + more


def _key(record: dict) -> tuple[str, str]:
    return (str(record.get("event", "")), str(record.get("id") or record.get("batch") or ""))


def _name(record: dict) -> str:
    event, key = _key(record)
    return _show(key) + (f" ({event} event)" if event else "")


def _record(line: str) -> dict | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _records(text: str) -> list[dict]:
    return [r for line in _lines(text) if (r := _record(line)) is not None]


def _lines(text: str) -> set[str]:
    return {line.strip() for line in text.splitlines() if line.strip()}


# -- naming ----------------------------------------------------------------------------------------
def _dataset(path: str) -> str:
    return path.split("/")[1] if path.startswith("datasets/") else ""


def named_commit(change: FileChange | None) -> str:
    if change is None:
        return "a commit"
    merge = "merge " if len(change.parents) > 1 else ""
    return f"{merge}commit {change.commit[:10]} ({change.subject!r})"


def _repair(change: FileChange | None, path: str, added: FileChange | None = None) -> str:
    if change is not None and len(change.parents) == 1:
        return f"revert that commit: `git revert {change.commit[:10]}`"
    if path.endswith(RECORD_SUFFIX):
        source = added.commit[:10] if added else "its first commit"
        return f"restore it as first written: `git checkout {source} -- {path}` and commit"
    return (
        f"put the dropped line(s) back into {path} (a merge keeps both parents' lines) and commit"
    )


def _show(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=str) if value is not None else "none"
