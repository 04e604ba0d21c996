"""Guideline releases, the read side: content digests, tags, and the specs as released.

Making a release is ``labelspec.guideline.release`` (above ``check``, which reads these).

A release is an annotated git tag ``guideline/<name>/v<version>`` on the commit that stamped the
version into spec.yaml. The tag message carries the release record as JSON on its last line
(version, date, digest, summary, affects, relabel), so a fresh clone has everything.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from labelspec import nesting, yamlio
from labelspec.errors import NotFoundError, ReleaseError, SpecError
from labelspec.formats.text import decode_utf8
from labelspec.guideline.diff import SpecDiff, diff_specs, strongest_relabel
from labelspec.guideline.spec import Spec
from labelspec.repo import Repo
from labelspec.semver import Version

TAG_PREFIX = "guideline"


def tag_name(name: str, version: str) -> str:
    return f"{TAG_PREFIX}/{name}/v{version}"


# -- digests ------------------------------------------------------------------------------------
def _canonical_spec(content: bytes) -> bytes:
    """The spec's meaning, not its formatting: stamped digests dropped, keys sorted."""
    data = yamlio.fast_load(content.decode("utf-8"), "spec.yaml")
    for entry in data.get("changelog") or []:
        if isinstance(entry, dict):
            entry.pop("digest", None)
    return json.dumps(data, sort_keys=True, default=str, ensure_ascii=False).encode()


def digest_files(files: dict[str, bytes]) -> str:
    """sha256 over a guideline folder: each file's path and hash in path order.

    spec.yaml counts by meaning (comments and stamped digests do not change it); a folder tracked
    by DVC counts by the md5 its ``.dvc`` file records, so images need not be downloaded.
    """
    dvc_outs: dict[str, str] = {}
    for rel, content in files.items():
        if rel.endswith(".dvc"):
            record = yamlio.to_plain(yamlio.parse(content.decode("utf-8"), rel)) or {}
            outs = record.get("outs") or [{}]
            dvc_outs[rel.removesuffix(".dvc")] = str(outs[0].get("md5", ""))
    lines = []
    for rel in sorted(files):
        if rel.endswith(".dvc") and rel.removesuffix(".dvc") in dvc_outs:
            lines.append(
                f"{rel.removesuffix('.dvc')}\tdvc-md5:{dvc_outs[rel.removesuffix('.dvc')]}"
            )
            continue
        content = _canonical_spec(files[rel]) if rel == "spec.yaml" else files[rel]
        lines.append(f"{rel}\tsha256:{hashlib.sha256(content).hexdigest()}")
    return "sha256:" + hashlib.sha256("\n".join(lines).encode()).hexdigest()


def working_digest(ws: Repo, name: str) -> str:
    """The digest of the guideline as it is on disk (files git tracks there)."""
    folder = ws.guideline_dir(name)
    git = ws.git
    rels = git.tracked_files(folder)
    return digest_files(
        {rel: (folder / rel).read_bytes() for rel in rels if (folder / rel).is_file()}
    )


def digest_at(ws: Repo, name: str, rev: str) -> str:
    """The digest of the guideline as committed at ``rev`` (a tag or commit)."""
    git = ws.git
    return digest_files(git.read_tree(rev, ws.guideline_dir(name)))


# -- reading released versions -------------------------------------------------------------------
@dataclass(frozen=True)
class Release:
    guideline: str
    version: str
    tag: str
    commit: str
    record: dict[str, Any]

    @property
    def digest(self) -> str | None:
        return self.record.get("digest")

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "tag": self.tag, "commit": self.commit, **self.record}


def _parse_record(message: str) -> dict[str, Any]:
    for line in reversed(message.strip().splitlines()):
        if line.startswith("{"):
            try:
                return nesting.loads(line, "a release tag's message")
            except json.JSONDecodeError:
                break
    return {}


def releases(ws: Repo, name: str) -> list[Release]:
    """Every tagged release of a guideline, oldest first. The tags' annotations are read once
    per Repo while the tag refs (listed from disk, no git process) stay the same."""
    refs = ws.git.tag_refs(f"{TAG_PREFIX}/")
    everything = ws.memo(("tags", refs), lambda: ws.git.tags(f"{TAG_PREFIX}/"))
    prefix = f"{TAG_PREFIX}/{name}/v"
    return ws.memo(("releases", name, refs), lambda: _releases(everything, name, prefix))


def _releases(everything: dict, name: str, prefix: str) -> list[Release]:
    tags = {k: v for k, v in everything.items() if k.startswith(prefix)}
    found = []
    for tag in tags.values():
        version = tag.name.removeprefix(prefix)
        if Version.is_valid(version):
            found.append(Release(name, version, tag.name, tag.commit, _parse_record(tag.message)))
    return sorted(found, key=lambda r: Version.parse(r.version))


def get_release(ws: Repo, name: str, version: str) -> Release:
    released = releases(ws, name)
    for release in released:
        if release.version == version:
            return release
    if not released:
        ws.spec_path(name)  # an unknown name: "did you mean", the known ones
    Version.parse(version)  # "1.0" is not a version rather than not released
    known = ", ".join(r.version for r in released) or "none"
    raise NotFoundError(f"guideline {name!r} has no release {version} (released: {known})")


def spec_text_at(ws: Repo, name: str, version: str) -> str:
    release = get_release(ws, name, version)
    return ws.memo(
        ("spec_text", name, version, release.commit),
        lambda: ws.git.read_file(release.commit, ws.guideline_dir(name) / "spec.yaml").decode(
            "utf-8"
        ),
    )


@lru_cache(maxsize=256)
def _parse_spec(text: str, source: str, strict: bool = False) -> Spec:
    """``strict``: the working tree's, where a key given twice is refused (see fast_load)."""
    try:
        return Spec.model_validate(yamlio.fast_load(text, source, strict))
    except ValidationError as exc:
        raise SpecError(f"{source} does not validate: {exc.errors()[0]['msg']}") from exc


def spec_at(ws: Repo, name: str, version: str | None) -> Spec:
    """The spec as released at ``version``, or the working tree's when ``version`` is None."""
    if version is None:
        path = ws.spec_path(name)
        text = decode_utf8(path.read_bytes(), ws.relpath(path))
        return _parse_spec(text, ws.relpath(path), strict=True)
    return _parse_spec(spec_text_at(ws, name, version), f"{tag_name(name, version)}:spec.yaml")


def parse_ref(ref: str) -> tuple[str, str | None]:
    """``NAME@VERSION`` -> (name, version); ``NAME`` -> (name, None); ``NAME@latest`` keeps
    ``latest`` for the caller to resolve. A version that is not one is refused here."""
    name, _, version = ref.partition("@")
    version = version.removeprefix("v") or None
    if version is not None and version != "latest":
        Version.parse(version)  # a VersionError that says how to write one
    return name, version


def resolve_ref(ws: Repo, ref: str, what: str = "the labels were made under") -> tuple[str, str]:
    """``NAME@X.Y.Z`` or ``NAME@latest`` -> (name, version): lineage is never guessed, so a
    bare name is refused with the versions to choose from."""
    name, version = parse_ref(ref)
    released = releases(ws, name)
    if not released:
        ws.spec_path(name)  # an unknown name: "did you mean", the known ones
        raise NotFoundError(f"guideline {name!r} has no release yet; release it first")
    if version is None:
        raise ReleaseError(
            f"--guideline {ref}: say which version {what}: {name}@{released[-1].version} "
            f"(released: {', '.join(r.version for r in released)}), or {name}@latest for the newest"
        )
    if version == "latest":
        return name, released[-1].version
    if version not in {r.version for r in released}:
        raise NotFoundError(
            f"guideline {name!r} has no release {version} (released: {', '.join(r.version for r in released)})"
        )
    return name, version


# -- diffs and what a range of releases affects ---------------------------------------------------
def diff(ws: Repo, name: str, a: str, b: str | None = None) -> SpecDiff:
    """The diff from release ``a`` to release ``b`` (the working tree when ``b`` is None)."""
    old = spec_at(ws, name, a)
    new = spec_at(ws, name, b)
    lo, hi = Version.parse(old.version), Version.parse(new.version)
    entries = [
        e
        for e in new.changelog
        if (not e.released and b is None) or (e.released and lo < Version.parse(e.version) <= hi)
    ]
    declared = [c for e in entries for c in e.affects]
    result = diff_specs(old, new, declared, strongest_relabel([e.relabel for e in entries]))
    result.to_version = b or "working tree"
    return result


def affected_between(ws: Repo, name: str, a: str, b: str) -> list[str]:
    """Classes whose labelling changed anywhere between two released versions (either order)."""
    if a == b:
        return []
    lo, hi = sorted((a, b), key=Version.parse)
    return diff(ws, name, lo, hi).affects


# -- the release flow ----------------------------------------------------------------------------
def log(ws: Repo, name: str) -> list[dict[str, Any]]:
    """Every changelog entry with its release tag and digest, newest first."""
    spec = spec_at(ws, name, None)
    tagged = {r.version: r for r in releases(ws, name)}
    rows = []
    for entry in reversed(spec.changelog):
        release_ = tagged.get(entry.version)
        rows.append(
            {
                "version": entry.version,
                "date": str(entry.date) if entry.date else None,
                "summary": entry.summary,
                "affects": list(entry.affects),
                "relabel": entry.relabel,
                "digest": release_.digest if release_ else None,
                "tag": release_.tag if release_ else None,
                "commit": release_.commit if release_ else None,
            }
        )
    return rows
