"""``guideline release``: stamp, check, commit and tag the pending changelog entry.

The write side of guideline releases; reading them is ``labelspec.guideline.releases``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from labelspec import names, yamlio
from labelspec.dates import refuse_future
from labelspec.errors import ConflictError, ReleaseError
from labelspec.guideline.check import check_guideline
from labelspec.guideline.diff import BUMP_RANK, SpecDiff
from labelspec.guideline.releases import (
    diff,
    digest_files,
    releases,
    spec_at,
    tag_name,
    working_digest,
)
from labelspec.guideline.spec import NEVER_RELEASED, UNRELEASED, Spec
from labelspec.repo import Repo
from labelspec.semver import BUMPS, Version
from labelspec.transaction import transaction
from labelspec.vcs import Git

FIRST_VERSION = "1.0.0"  # what a release without --bump makes of a never-released 0.0.0
# What `guideline new` writes where the author has a text to write; a release says which are left.
PLACEHOLDER = "TODO"


@dataclass
class ReleaseResult:
    guideline: str
    version: str
    previous: str | None
    tag: str
    commit: str
    digest: str
    diff: SpecDiff | None
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "guideline": self.guideline,
            "version": self.version,
            "previous": self.previous,
            "tag": self.tag,
            "commit": self.commit,
            "digest": self.digest,
            "diff": self.diff.to_json() if self.diff else None,
            "warnings": self.warnings,
        }


def _release_record(spec: Spec, version: str, digest: str) -> dict[str, Any]:
    entry = next((e for e in spec.changelog if e.version == version), None)
    return {
        "guideline": spec.guideline,
        "version": version,
        "date": str(entry.date) if entry and entry.date else None,
        "digest": digest,
        "summary": entry.summary if entry else "",
        "affects": list(entry.affects) if entry else [],
        "relabel": entry.relabel if entry else "none",
    }


def _tag_message(record: dict[str, Any], message: str | None) -> str:
    head = f"guideline {record['guideline']} v{record['version']}: {record['summary']}"
    body = f"\n\n{message}" if message else ""
    return f"{head}{body}\n\n{json.dumps(record, sort_keys=True)}\n"


def _refuse_if_not_releasable(ws: Repo, name: str, git: Git) -> Spec:

    report = check_guideline(ws, name)
    if report.errors:
        listing = "\n".join(f"  {p}" for p in report.errors[:20])
        raise ReleaseError(
            f"{report.spec_file} has {len(report.errors)} error(s); fix them first:\n{listing}"
        )
    dirty = git.dirty_files(ws.guideline_dir(name))
    if dirty:
        raise ReleaseError(
            f"guidelines/{name} has uncommitted changes ({', '.join(dirty[:5])}); "
            "commit them first (git commit), then release"
        )
    return report.spec


def tag_current(ws: Repo, name: str, message: str | None = None) -> ReleaseResult:
    """Tag the version spec.yaml already declares as released (a new workspace, an adopted spec)."""
    if message:
        names.note(message, "--message")

    with transaction(ws, f"tag guideline {name}") as tx:
        spec = _refuse_if_not_releasable(ws, name, tx.git)
        if spec.pending and spec.version == NEVER_RELEASED:
            raise ReleaseError(
                f"{name} has never been released, so there is no version to tag: make its first "
                f"release, {FIRST_VERSION}, with `labelspec guideline release {name}`"
            )
        if spec.pending:
            # The working tree is no longer what that version said; release it as the next one
            # (release works without a tag for the declared version, see `release`).
            raise ReleaseError(
                f"{name} has a pending `{UNRELEASED}` entry, so the files are no longer "
                f"{spec.version}; release them as a new version: "
                f"`labelspec guideline release {name} --bump major|minor|patch`"
            )
        if spec.version == NEVER_RELEASED:
            raise ReleaseError(
                f"{name} has never been released; add a `{UNRELEASED}` entry at the end of the "
                f"changelog, then `labelspec guideline release {name}` (its first release, "
                f"{FIRST_VERSION})"
            )
        result = _tag_declared(ws, name, spec, tx, message)
    result.commit = tx.commit or ""
    result.warnings += _placeholder_warnings(spec)
    return result


def tag_written(ws: Repo, name: str, tx) -> ReleaseResult:
    """Tag the version a guideline written inside the caller's transaction declares (``init``'s
    template): the tag lands with that transaction's one commit."""

    report = check_guideline(ws, name)
    if report.errors:
        raise ReleaseError(f"{report.spec_file}: {report.errors[0]} (please report this)")
    # git tracks none of the new files before the commit: the digest is of those the
    # transaction writes there
    prefix = ws.relpath(ws.guideline_dir(name)) + "/"
    written = {
        entry["path"].removeprefix(prefix): (ws.root / entry["path"]).read_bytes()
        for entry in tx.journal.paths
        if entry["path"].startswith(prefix) and entry["commit"]
    }
    return _tag_declared(ws, name, report.spec, tx, None, digest_files(written))


def _tag_declared(
    ws: Repo, name: str, spec: Spec, tx, message: str | None, digest: str | None = None
) -> ReleaseResult:
    """Tag ``spec.version`` as it is in the working tree (inside the caller's transaction)."""
    tag = tag_name(name, spec.version)
    if tx.git.tag_exists(tag):
        raise ReleaseError(
            f"tag {tag} already exists: {name} {spec.version} is released; to release new "
            f"edits, add a `{UNRELEASED}` entry and `labelspec guideline release {name} --bump ...`"
        )
    digest = digest or working_digest(ws, name)
    tx.tag(tag, _tag_message(_release_record(spec, spec.version, digest), message))
    return ReleaseResult(name, spec.version, None, tag, "", digest, None)


def placeholders(spec: Spec) -> list[str]:
    """The fields of ``spec`` that still hold a ``guideline new`` placeholder, as key paths."""
    found: list[str] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, str) and value.startswith(PLACEHOLDER):
            found.append(path)
        elif isinstance(value, dict):
            for key, child in value.items():
                walk(child, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list):
            for i, child in enumerate(value):
                walk(child, f"{path}[{i}]")

    walk(spec.model_dump(mode="json", exclude_defaults=True), "")
    return found


def _placeholder_warnings(spec: Spec) -> list[str]:
    left = placeholders(spec)
    if not left:
        return []
    shown = ", ".join(left[:5]) + (f" and {len(left) - 5} more" if len(left) > 5 else "")
    return [
        f"{len(left)} field(s) still say {PLACEHOLDER}: {shown}; labelers read them on the site: "
        "write them and release again (--bump patch)"
    ]


def release(
    ws: Repo,
    name: str,
    bump: str | None = None,
    message: str | None = None,
    date: dt.date | None = None,
) -> ReleaseResult:
    """Release the pending changelog entry as the next version: stamp, digest, commit, tag.

    ``bump`` may be left out while the guideline has no release: a pending entry then becomes
    1.0.0 (``guideline new`` writes version 0.0.0 and that entry), and without one the version
    the spec declares is tagged as it is (a spec written by hand). Once a release exists, every
    release names its bump, and the bump is checked against the change.

    Releases are global names, made on the main branch after review: off it, a warning is
    returned (two branches releasing one version is what ``verify`` then reports)."""

    if bump is not None and bump not in BUMPS:
        raise ReleaseError(f"--bump must be one of {', '.join(BUMPS)}")
    if message:
        names.note(message, "--message")
    if date is not None:
        refuse_future(date, "a release is dated the day its version took effect; release it then")
    with transaction(ws, f"Release guideline {name}") as tx:
        spec = _refuse_if_not_releasable(ws, name, tx.git)
        declared = None if spec.version == NEVER_RELEASED else spec.version
        untagged = declared is not None and not tx.git.tag_exists(tag_name(name, declared))
        released = releases(ws, name)
        if spec.pending is None:
            _refuse_without_pending(name, declared, untagged, bump, released)
            result = _tag_declared(ws, name, spec, tx, message)
        else:
            bump = bump or _first_bump(ws, name, declared, released)
            result = _release_pending(ws, name, spec, bump, message, date, tx, untagged)
        branch = tx.git.branch()
    result.commit = tx.commit or ""
    result.warnings += _placeholder_warnings(spec)
    main = ws.config.release_branch
    if branch != main:
        result.warnings.append(
            f"released on {branch or 'a detached HEAD'}, not on {main}: releases are global "
            f"names, made on {main} after review; if {main} releases {result.version} too, "
            "`labelspec verify` reports two releases of one version"
        )
    return result


def _refuse_without_pending(name: str, declared, untagged: bool, bump, released) -> None:
    """Without a pending entry only one release is possible: a first release of the version a
    hand-written spec declares (tagged as it is, so it takes no bump)."""
    if not untagged:
        raise ReleaseError(
            f"{name} has no pending changelog entry: add one at the end of the changelog with "
            f"`version: {UNRELEASED}`, a `summary`, the class ids it `affects` and a `relabel` policy"
        )
    if bump is not None or released:
        command = f"labelspec guideline release {name}" + (" --tag-current" if released else "")
        raise ReleaseError(
            f"{name} declares version {declared}, which was never tagged, and has no pending "
            f"changelog entry: tag it as it is with `{command}`"
        )


def _first_bump(ws: Repo, name: str, declared: str | None, released: list) -> str:
    """The bump of a release made without ``--bump``: only a first release may leave it out."""
    if declared is None and not released:
        return "major"  # 0.0.0 -> 1.0.0
    if released:
        needed, why = diff(ws, name, released[-1].version, None).required_bump()
        raise ReleaseError(
            f"give --bump major|minor|patch: {name} {released[-1].version} is released, and "
            f"this change needs at least --bump {needed} ({why})"
        )
    raise ReleaseError(
        f"give --bump major|minor|patch: {name} declares {declared}, never tagged, and has a "
        f"pending entry, so this release is {declared} bumped: "
        f"`labelspec guideline release {name} --bump major|minor|patch`"
    )


def _release_pending(
    ws: Repo,
    name: str,
    spec: Spec,
    bump: str,
    message: str | None,
    date: dt.date | None,
    tx,
    untagged: bool,
) -> ReleaseResult:
    """Stamp the pending entry as the next version and tag it (inside the caller's transaction)."""
    declared = None if spec.version == NEVER_RELEASED else spec.version
    # Judge the bump against the newest tagged release below the declared version: the
    # declared one itself when it is tagged, an older one (or none) for a hand-written spec.
    previous = _newest_tagged_below(ws, name, declared) if untagged else declared
    new_version = str(Version.parse(spec.version).bump(bump))
    tag = tag_name(name, new_version)
    if tx.git.tag_exists(tag):
        _refuse_taken_tag(tx.git, tag, name, new_version)
    if date is not None and previous:
        _refuse_before(ws, name, previous, date)
    change = diff(ws, name, previous, None) if previous else None
    if change is not None:
        needed, why = change.required_bump()
        if BUMP_RANK[bump] < BUMP_RANK[needed]:
            raise ReleaseError(
                f"--bump {bump} is too small: {why}; this release needs --bump {needed}"
            )
    spec_path = ws.spec_path(name)
    doc = yamlio.Document.load(spec_path)
    doc.data["version"] = new_version
    entry = doc.data["changelog"][-1]
    entry["version"] = new_version
    # Right after `version`, so a blank line or comment that ends the entry stays at its end.
    _set_at(entry, 1, "date", date or dt.datetime.now(dt.UTC).date())
    tx.write_text(spec_path, doc.dumps())
    digest = working_digest(ws, name)
    _set_at(entry, 2, "digest", digest)
    tx.write_text(spec_path, doc.dumps())
    tx.journal.message = f"Release guideline {name} v{new_version}: {spec.pending.summary}" + (
        f"\n\n{message}" if message else ""
    )
    stamped = spec_at(ws, name, None)
    tx.tag(tag, _tag_message(_release_record(stamped, new_version, digest), message))
    if change is not None:
        change.to_version = new_version
    result = ReleaseResult(name, new_version, previous, tag, "", digest, change)
    if change is not None and (warning := change.global_rule_warning()):
        result.warnings.append(warning)
    if untagged:
        checked = f"checked against {previous}" if previous else "not checked against any release"
        result.warnings.append(
            f"version {declared} was never tagged, so labels and training cannot name it; "
            f"{new_version} is released from it (the bump {checked})"
        )
    return result


def _refuse_taken_tag(git: Git, tag: str, name: str, version: str) -> None:
    """The next version's tag exists. On a commit a branch holds but this one lacks, it is a
    release made elsewhere (a teammate's, fetched): bumping past it would release a spec
    without its changes, deleting it would drop a release; the way on is to merge it first."""
    commit = git.rev_parse(f"{tag}^{{commit}}")
    if commit is not None and not git.is_ancestor(commit):
        held = git.remote_branches_containing(commit) or git.local_branches_containing(commit)
        if held:
            upstream = f"origin/{git.branch()}"
            fix = (
                "`labelspec pull` (or `git pull`)"
                if upstream in held
                else f"merge it (`git merge {held[0]}`)"
            )
            raise ConflictError(
                f"{name} {version} was already released on {', '.join(held)} (tag {tag}): "
                f"{fix}, then release your edits as the next version"
            )
        raise ReleaseError(  # a release undone (reset) or abandoned: no branch holds it
            f"tag {tag} points at commit {commit[:10]}, which no branch holds: delete the tag if "
            f"it was a mistake (`git tag -d {tag}`), or bump further"
        )
    raise ReleaseError(
        f"tag {tag} already exists; bump further or delete the tag if it was a mistake"
    )


def _newest_tagged_below(ws: Repo, name: str, version: str) -> str | None:
    below = [
        r.version for r in releases(ws, name) if Version.parse(r.version) < Version.parse(version)
    ]
    return below[-1] if below else None


def _set_at(mapping, position: int, key: str, value: Any) -> None:
    if key in mapping:
        mapping[key] = value
    else:
        mapping.insert(position, key, value)


# -- log --------------------------------------------------------------------------------------------


def _refuse_before(ws: Repo, name: str, previous: str, date: dt.date) -> None:
    """Versions are dated in order: a release dated before the one it follows would make
    that older version look newer to whoever reads dates (training records, the site)."""
    before = next((r for r in releases(ws, name) if r.version == previous), None)
    dated = before.record.get("date") if before else None
    if dated and date < dt.date.fromisoformat(str(dated)):
        raise ReleaseError(
            f"--date {date} is before {name} {previous} was released ({dated}); date the "
            "release on or after it"
        )
