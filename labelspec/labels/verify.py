"""``labelspec verify``: prove the workspace is what its history says it is.

At HEAD (a merge commit as much as a linear one), per dataset: every label batch, item manifest
and golden version has its bytes (working copy or DVC cache) and they match both the md5 DVC
recorded and the sha256 in labelspec's record, with the row count and batch id it records;
every registered item's file is committed to git or listed by a DVC record whose bytes are here
(names, listings and the DVC cache are compared; no image is read again);
every label's guideline version is a released tag whose content still has the digest the label
carries (two divergent releases of one version are named with both commits); every training id
exists; no item id was registered twice with different content; the roster has no clashing
adds; a compacted copy of a revision's labels (``labels compact``) has the digest of that
revision's batches and the same rows as their current labels. A labeler with two current
answers on one item from relabel merges, or an item open in two open relabel plans, is a
warning (``verify_answers``). A write that was interrupted is
reported with the command that finishes or undoes it.

Across HEAD's history (``verify_history``): every record is as the commit that added it wrote
it, a batch leaves the tree only through a retraction, append-only record files only gain
lines (a merge is the union of its parents); and registered item files present here still have
the sha256 recorded at registration (``verify_items``).
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labelspec import nesting
from labelspec.errors import InputError, NotFoundError, VcsError
from labelspec.guideline.check import committed_change
from labelspec.guideline.releases import digest_at, releases
from labelspec.labelers.roster import load_roster
from labelspec.labelers.training import training_records
from labelspec.labels.verify_answers import duplicate_answers, items_in_several_plans
from labelspec.labels.verify_batches import batch_facts, cited_counts
from labelspec.labels.verify_history import history_problems, read_history
from labelspec.labels.verify_items import item_digest_problems
from labelspec.repo import LAYOUT, Repo
from labelspec.store import compaction
from labelspec.store.datasets import declared
from labelspec.store.engine import database
from labelspec.store.golden import golden_dir
from labelspec.store.itemfiles import Tracking, classify
from labelspec.store.items import item_records, items_sql
from labelspec.store.query import _sql_list
from labelspec.store.records import Locator, Record, records_at
from labelspec.store.snapshots import snapshot
from labelspec.transaction import JOURNAL

EXAMPLES = 5  # item ids a grouped problem names
# one line per kind of item-file problem, with the repair
ITEM_FILE_PROBLEMS = {
    "pull": "{n} item file(s) are in DVC records but neither in the working tree nor in the DVC "
    "cache ({ids}); run `labelspec pull`",
    "untracked": "{n} item file(s) are in the workspace but neither committed to git nor in a "
    "DVC record, so `labelspec push` does not share them ({ids}); run `labelspec upgrade`",
    "gone": "{n} item file(s) are gone: not in the workspace, git or a DVC record ({ids}); "
    "re-add the file(s) (`labelspec items add`)",
}


@dataclass
class VerifyReport:
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    checked: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "problems": self.problems,
            "warnings": self.warnings,
            "checked": self.checked,
        }


def _check_file(ws: Repo, locator, record, what: str, report: VerifyReport) -> Path | None:
    """The file of ``record`` if its bytes are whole (working copy and cache copy both checked)."""

    local, cached = ws.root / record.rel, locator.cache.object_path(record.md5)
    copies = [p for p in (local, cached) if p.is_file()]
    if not copies:
        report.problems.append(
            f"{what} {record.rel} is neither in the workspace nor in the DVC cache; run `labelspec pull`"
        )
        return None
    if not cached.is_file():
        report.problems.append(
            f"{what} {record.rel} is not in the DVC cache, so `labelspec push` cannot share it; "
            "restore the cache (`dvc commit` the file) or pull it again"
        )
    good = None
    for path, whole in zip(copies, _whole(record, copies), strict=True):
        where = "its DVC cache copy" if path == cached else "the working copy"
        if not whole:
            fix = (
                "`labelspec pull` fetches it again"
                if path == cached
                else "`dvc checkout` restores it"
            )
            report.problems.append(
                f"{what} {record.rel}: {where} does not match its record (md5/sha256): it was "
                f"changed after it was written; {fix}"
            )
        else:
            good = good or path
    return good


CHUNK = 1 << 20


def _whole(record, copies: list[Path]) -> list[bool]:
    """Whether each copy (the working copy, the cache copy, or one of them) holds the bytes of
    ``record``, each file read once: the first is hashed, a second is compared with it chunk by
    chunk as both are read (hashed only when neither matches). The sha256 labelspec records
    names the bytes it wrote; the md5 is hashed only for a record without one (a changed md5
    in a record is the history walk's finding, and names another cache object)."""

    first, *rest = copies
    second = rest[0] if rest and not os.path.samefile(first, rest[0]) else None
    sha256 = record.meta.get("sha256")
    digest = hashlib.sha256() if sha256 else hashlib.md5()
    same = second is not None
    with open(first, "rb") as one, open(second or os.devnull, "rb") as other:
        while chunk := one.read(CHUNK):
            digest.update(chunk)
            same = same and other.read(len(chunk)) == chunk
        same = same and not other.read(1)
    whole = digest.hexdigest() == (sha256 or record.md5)
    if not rest:
        return [whole]
    if second is None:  # one file under two names (a link)
        return [whole, whole]
    if same or whole:
        return [whole, same and whole]
    return [False, _whole(record, [second])[0]]


def _verify_labels(ws, dataset, snap, locator, report, training_ids, git, only) -> tuple[int, int]:
    """Check the batches; (rows, empty answers) of those checked."""

    verified, records = {}, {}
    for batch in snap.batches:
        if only is not None and batch.file + ".dvc" not in only:
            continue
        meta = {"sha256": batch.sha256, "rows": batch.rows}
        record = Record(
            batch.file,
            batch.md5 or "",
            0,
            meta | ({} if batch.empty is None else {"empty": batch.empty}),
        )
        path = _check_file(ws, locator, record, f"{dataset}: batch", report)
        if path is not None:  # its bytes have the digest _whole checked
            verified[path] = f"sha256:{batch.sha256}" if batch.sha256 else f"md5:{batch.md5}"
            records[path] = record
    labels, empty, cited = 0, 0, {}
    releases_of: Counter[tuple[str, str, str]] = Counter()
    for path, facts in batch_facts(ws, verified).items():
        record = records[path]
        if facts.batch_id and facts.batch_id != record.id:
            report.problems.append(
                f"batch {record.rel} holds batch {facts.batch_id}: a batch file was copied under "
                "another name"
            )
        if facts.rows != record.meta.get("rows", facts.rows):
            report.problems.append(
                f"batch {record.rel}: its record says {record.meta['rows']} rows, the file has "
                f"{facts.rows}"
            )
        if facts.empty != record.meta.get("empty", facts.empty):
            report.problems.append(
                f"batch {record.rel}: its record says {record.meta['empty']} empty answers, the "
                f"file has {facts.empty}"
            )
        labels += facts.rows
        empty += facts.empty
        for guideline, version, digest, n in facts.releases:
            releases_of[guideline, version, digest] += n
        for training_id in facts.training_ids:
            if training_id not in training_ids:
                cited.setdefault(path, []).append(training_id)
    for (guideline, version, digest), n in sorted(releases_of.items()):
        report.problems += _release_problems(ws, git, dataset, guideline, version, digest, n)
    if cited:  # unknown training ids: counted in the batches that cite them
        unknown = sorted({t for ids in cited.values() for t in ids})
        for training_id, n in cited_counts(list(cited), unknown):
            report.problems.append(
                f"{dataset}: {n} label(s) cite training record {training_id}, which is not in "
                "labelers/training.jsonl"
            )
    return labels, empty


def _release_problems(ws, git, dataset, guideline, version, digest, n) -> list[str]:
    """What is wrong with ``n`` labels of ``guideline`` ``version`` carrying ``digest``."""

    release = next((r for r in releases(ws, guideline) if r.version == version), None)
    if release is None:
        return [f"{dataset}: {n} label(s) name {guideline} {version}, which is not a released tag"]
    if release.digest != digest:
        others = _release_commits(git, guideline, version, release.commit)
        return [
            f"{dataset}: {n} label(s) of {guideline} {version} carry digest {digest}, but tag "
            f"{release.tag} (commit {release.commit[:10]}) records {release.digest}: two "
            f"different releases of {version} exist"
            + (f" (the other: commit {', '.join(c[:10] for c in others)})" if others else "")
            + "; keep one, release the other's changes as the next version, and re-import "
            "its labels under that version"
        ]
    if digest_at(ws, guideline, release.tag) != release.digest:
        return [
            f"{dataset}: the content of tag {release.tag} no longer has its recorded digest (was the tag moved?)"
        ]
    return []


def _release_commits(git, guideline: str, version: str, tagged: str) -> list[str]:
    """Release commits of ``guideline`` ``version`` other than the tagged one, on any branch."""

    found = git.commits_with_subject(f"Release guideline {guideline} v{version}:")
    return [c for c in found if c != tagged]


def _verify_items(ws, dataset, locator, report, git, tracking: Tracking, only) -> int:
    records = item_records(ws, dataset, git)
    paths = [p for r in records if (p := _check_file(ws, locator, r, f"{dataset}: items", report))]
    count = sum(r.meta.get("items", 0) for r in records)
    if not paths:
        return count
    con = database()
    if len(paths) == len(records):  # every manifest is here: the items are known
        items = con.sql(f"select item_id, path, sha256 from ({items_sql(paths)})").to_arrow_table()
        count = items.num_rows
        report.problems += item_file_problems(ws, dataset, tracking, items)
        if only is not None:  # --since: the items of the manifests added in the range
            fresh = [p for r, p in zip(records, paths, strict=True) if r.rel + ".dvc" in only]
            items = (
                con.sql(f"select item_id, path, sha256 from ({items_sql(fresh)})").to_arrow_table()
                if fresh
                else items.slice(0, 0)
            )
        con.register("checked", items)
        # the items whose file was hashed at registration (remote items have no path)
        hashed = con.execute(
            "select item_id, path, sha256 from checked where path is not null and sha256 is not null"
        ).fetchall()
        report.problems += item_digest_problems(ws, git, dataset, hashed, tracking)
    if len(paths) < 2:
        return count

    clashes = con.execute(
        f"""select item_id, count(distinct sha256) from read_parquet({_sql_list(paths)}, union_by_name = true)
            group by 1 having count(distinct sha256) > 1 order by 1 limit 20"""
    ).fetchall()
    for item_id, _n in clashes:
        report.problems.append(
            f"{dataset}: item {item_id!r} was registered twice with different content (two clones "
            "added it at once?); register one of the files under a new item id"
        )
    return count


def item_file_problems(ws: Repo, dataset: str, tracking: Tracking, items) -> list[str]:
    """One line per kind of item file that does not travel, counted, naming the first ids."""

    con = database()
    con.register("states", classify(ws, tracking, items))
    counted = {
        state: (n, first)
        for state, n, first in con.execute(
            f"""select state, count(*), list(item_id order by item_id)[1:{EXAMPLES}]
                from states group by 1"""
        ).fetchall()
    }
    found = []
    for state, text in ITEM_FILE_PROBLEMS.items():
        if state in counted:
            n, first = counted[state]
            found.append(f"{dataset}: " + text.format(n=n, ids=examples(first, n)))
    return found


def examples(first: list[str], n: int) -> str:
    shown = ", ".join(first[:EXAMPLES])
    return f"items {shown}" + (f" and {n - EXAMPLES} more" if n > EXAMPLES else "")


def _verify_golden(ws, dataset, locator, report, git) -> int:

    records = records_at(ws, git, git.head(), golden_dir(ws, dataset))
    for record in records:
        _check_file(ws, locator, record, f"{dataset}: golden", report)
    return len(records)


def _verify_dataset(ws, dataset, report, training_ids, git, locator, tracking, only) -> None:

    snap = snapshot(ws, dataset, None, git)
    if snap.layout == 1:
        report.problems.append(
            f"{dataset}: the workspace uses the old layout (one labels.dvc, snapshots.yaml) that "
            "cannot merge across clones; run `labelspec upgrade` (one commit)"
        )
        return
    before = len(report.problems)
    rows, empty = _verify_labels(ws, dataset, snap, locator, report, training_ids, git, only)
    readable = len(report.problems) == before  # every batch's bytes are here and whole
    items = _verify_items(ws, dataset, locator, report, git, tracking, only)
    golden = _verify_golden(ws, dataset, locator, report, git)
    checked = [b for b in snap.batches if only is None or b.file + ".dvc" in only]
    report.checked[dataset] = {
        "batches": len(checked),
        "labels": rows - empty,  # as `labels import` and `labels show` count them
        "empty_answers": empty,
        "items": items,
        "golden_versions": golden,
    }
    # a compacted copy is derived data: it must equal the current labels of its batches
    compacted, found = compaction.problems(
        ws, git, dataset, lambda record, what: _check_file(ws, locator, record, what, report)
    )
    report.problems += found
    if readable:  # a missing or damaged batch is a problem already; its rows cannot be read
        report.warnings += duplicate_answers(ws, dataset, snap)
        try:
            report.warnings += items_in_several_plans(ws, dataset)
        except InputError as error:  # a plan file or closing no relabel command can read
            report.problems.append(f"{dataset}: {error}")
    if compacted:
        report.checked[dataset]["compacted"] = compacted


def verify(ws: Repo, dataset: str | None = None, since: str | None = None) -> VerifyReport:
    """Every check above at HEAD, and the history rules of ``verify_history``. ``since``: only
    the commits after that revision, and at HEAD only the batches and item manifests they
    added (CI on each push)."""

    known = declared(ws)
    names = [dataset] if dataset else sorted(known)
    if dataset and dataset not in known:
        raise NotFoundError(f"no dataset {dataset!r} (known: {', '.join(sorted(known)) or 'none'})")
    report = VerifyReport()
    journal = ws.root / ".labelspec" / JOURNAL
    if journal.exists():
        report.problems.append(
            "an interrupted write left its journal (.labelspec/journal.json): the last commit is "
            "intact; run `labelspec recover` (or any write) to finish or undo it"
        )
    git = ws.git
    start = _since(git, since)
    if start is not None and not git.is_ancestor(start):
        report.problems.append(
            f"--since {since}: commit {start[:10]} is not in HEAD's history, so the history was "
            "rewritten after it (a rebase or force-push?); find where they diverge (`git log "
            f"{start[:10]}...HEAD`) and restore the verified commits"
        )
    history = read_history(ws, git, start)
    if ws.config.workspace >= LAYOUT:  # a layout 1 history has no records to compare yet
        report.problems += history_problems(ws, history, dataset)
    only = history.changed_paths() if since else None
    training_ids = {r.id for r in training_records(ws)}
    report.problems += load_roster(ws).clashes
    locator = Locator(ws)
    tracking = Tracking(ws, git, locator.cache)
    for name in names:
        _verify_dataset(ws, name, report, training_ids, git, locator, tracking, only)
        report.problems += _legacy_tags(ws, name, git)
    if not dataset:
        report.problems += _guideline_drift(ws, git)
    return report


def _since(git, since: str | None) -> str | None:
    if since is None:
        return None
    commit = git.rev_parse(since)
    if commit is None:
        raise NotFoundError(f"--since {since!r} is not a revision of this repository")
    return commit


def _legacy_tags(ws: Repo, dataset: str, git) -> list[str]:
    """A ``dataset/<name>/snap-N`` tag (layout 1) must still name the commit of snapshot N:
    the manifest committed there ends with that snapshot."""

    found = []
    manifest = ws.dataset_dir(dataset) / "snapshots.yaml"
    for name, tag in git.tags(f"dataset/{dataset}/snap-").items():
        number = name.rsplit("-", 1)[-1]
        try:
            text = git.read_file(tag.commit, manifest).decode("utf-8")
            body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
            last = (nesting.loads(body, str(manifest)).get("snapshots") or [{}])[-1].get("id")
        except (VcsError, ValueError, AttributeError):
            last = None
        if str(last) != number:
            found.append(
                f"{dataset}: tag {name} points at commit {tag.commit[:10]}, which is not snapshot "
                f"{number} (was the tag moved?); put it back with `git tag -f {name} <commit>`"
            )
    return found


def _guideline_drift(ws: Repo, git) -> list[str]:
    """Released content changed at HEAD without a pending changelog entry."""

    found = []
    for name in ws.guideline_names():
        problem = committed_change(ws, name)
        if problem is not None:
            found.append(f"guideline {name}: {problem.message}")
    return found
