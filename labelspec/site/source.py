"""Where a site's content comes from: the working tree (``site build``, ``mkdocs serve``) or a
release tag (``site publish``), read from git without touching the working tree."""

from __future__ import annotations

import itertools
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

from labelspec.errors import LabelspecError
from labelspec.site.pages import GuidelineSite, Release
from labelspec.workspace import Workspace

_HEADING = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.MULTILINE)


@dataclass
class SiteSource:
    name: str
    site: GuidelineSite
    files: dict[str, Path | bytes] = field(
        default_factory=dict
    )  # uri (inside the guideline) -> content
    watch: list[Path] = field(default_factory=list)


def _releases(ws: Workspace, name: str, spec, upto: str | None) -> tuple[list[Release], dict]:
    from labelspec.guideline.releases import diff, releases
    from labelspec.semver import Version

    tagged = {r.version: r for r in releases(ws, name)}
    chosen = [
        e
        for e in spec.changelog
        if e.released and (upto is None or Version.parse(e.version) <= Version.parse(upto))
    ]
    out = [
        Release(
            e.version,
            str(e.date) if e.date else None,
            e.summary,
            e.relabel,
            list(e.affects),
            tagged[e.version].digest if e.version in tagged else None,
        )
        for e in chosen
    ]
    diffs = {}
    for previous, current in itertools.pairwise(chosen):
        if previous.version in tagged and current.version in tagged:
            diffs[current.version] = diff(ws, name, previous.version, current.version)
    return out, diffs


def _guide(rel: str, content: bytes) -> tuple[str, str, str]:
    text = content.decode("utf-8")
    match = _HEADING.search(text)
    slug = rel.removeprefix("docs/").removesuffix(".md")
    title = match.group(1) if match else slug.replace("-", " ").replace("_", " ").capitalize()
    return slug, title, text


def _image_uri(guideline: str, image: str) -> str:
    normalised = posixpath.normpath(image)
    if normalised.startswith("../") or normalised.startswith("/"):
        raise LabelspecError(
            f"guideline {guideline}: example {image} is outside the guideline folder; move it inside for the site"
        )
    return normalised


def working_tree(ws: Workspace, name: str) -> SiteSource:
    from labelspec.guideline.check import check_guideline
    from labelspec.errors import ProblemsError

    # Existence is what a build needs; opening every image is `labelspec check`'s job.
    report = check_guideline(ws, name, inspect_images=False)
    if report.errors:
        raise ProblemsError(
            f"guideline {name} has {len(report.errors)} error(s); the site is not built",
            report.errors[:50],
            len(report.errors),
        )
    spec = report.spec
    folder = ws.guideline_dir(name)
    releases, diffs = _releases(ws, name, spec, None)
    site = GuidelineSite(spec=spec, releases=releases, diffs=diffs)
    source = SiteSource(name=name, site=site, watch=[folder])
    for path in sorted((folder / "docs").rglob("*.md")) if (folder / "docs").is_dir() else []:
        rel = path.relative_to(folder).as_posix()
        site.guides.append(_guide(rel, path.read_bytes()))
    for cls in spec.classes:
        for _kind, _i, example in cls.examples.all():
            if example.image is not None:
                uri = _image_uri(name, example.image)
                site.images[example.image] = uri
                source.files[uri] = (folder / example.image).resolve()
    return source


def at_release(ws: Workspace, name: str, version: str) -> SiteSource:
    """The guideline as released at ``version``: spec, prose and images from the tag."""
    from labelspec.guideline.releases import get_release, spec_at
    from labelspec.vcs import Git, read_at

    release = get_release(ws, name, version)
    spec = spec_at(ws, name, version)
    folder = ws.guideline_dir(name)
    releases, diffs = _releases(ws, name, spec, version)
    site = GuidelineSite(spec=spec, releases=releases, diffs=diffs)
    source = SiteSource(name=name, site=site)
    with Git(ws.root) as git:
        tree = git.read_tree(release.commit, folder)
    for rel in sorted(tree):
        if rel.startswith("docs/") and rel.endswith(".md"):
            site.guides.append(_guide(rel, tree[rel]))
    for cls in spec.classes:
        for _kind, _i, example in cls.examples.all():
            if example.image is not None:
                uri = _image_uri(name, example.image)
                site.images[example.image] = uri
                source.files[uri] = tree.get(posixpath.normpath(example.image)) or read_at(
                    ws.root, release.commit, folder / example.image
                )
    return source
