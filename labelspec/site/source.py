"""Where a site's content comes from: the working tree (``site build``, ``mkdocs serve``) or a
release tag (``site publish``), read from git without touching the working tree."""

from __future__ import annotations

import itertools
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

from labelspec.errors import InputError, Problem
from labelspec.formats.text import decode_utf8
from labelspec.site import drawing
from labelspec.site.pages import GuidelineSite, Release
from labelspec.repo import Repo
from labelspec.guideline.changes import Pictures, compare
from labelspec.guideline.releases import diff, releases, spec_at
from labelspec.semver import Version
from labelspec.vcs import Git
from labelspec.site.safe import markdown_without_html, remote_picture_message, remote_pictures
from labelspec.guideline.releases import releases, working_digest
from labelspec.errors import ProblemsError
from labelspec.guideline.check import check_guideline
from labelspec.guideline.releases import get_release, spec_at
from labelspec.vcs import Git, read_at
from labelspec.guideline.changes import verdict

_HEADING = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.MULTILINE)


@dataclass
class SiteSource:
    name: str
    site: GuidelineSite
    files: dict[str, Path | bytes] = field(
        default_factory=dict
    )  # uri (inside the guideline) -> content
    watch: list[Path] = field(default_factory=list)


def _releases(ws: Repo, name: str, spec, upto: str | None, source: SiteSource) -> None:
    """The releases up to ``upto``, and for each one after a tagged one what changed, with the
    pictures of both sides (added to the site under ``changes/<version>/before|after/``)."""

    site = source.site
    tagged = {r.version: r for r in releases(ws, name)}
    chosen = [
        e
        for e in spec.changelog
        if e.released and (upto is None or Version.parse(e.version) <= Version.parse(upto))
    ]
    site.releases = [
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
    git = ws.git
    for previous, current in itertools.pairwise(chosen):
        if previous.version not in tagged or current.version not in tagged:
            continue
        version = current.version
        site.diffs[version] = diff(ws, name, previous.version, version)
        site.changes[version] = compare(
            spec_at(ws, name, previous.version),
            spec_at(ws, name, version),
            Pictures(ws, name, tagged[previous.version].commit, git),
            Pictures(ws, name, tagged[version].commit, git),
        )
        for change in site.changes[version].examples:
            for side_name, side in (("before", change.before), ("after", change.after)):
                if side is not None and side.data is not None and side.image is not None:
                    side.asset = f"changes/{version}/{side_name}/{_image_uri(name, side.image)}"
                    source.files[side.asset] = side.data
                    _add_side_drawing(source, side)


def _guide(rel: str, content: bytes) -> tuple[str, str, str]:
    """(slug, title, markdown) of a guide; the title is plain text (the nav escapes it)."""

    text = decode_utf8(content, rel)
    match = _HEADING.search(text)
    slug = rel.removeprefix("docs/").removesuffix(".md")
    title = match.group(1) if match else slug.replace("-", " ").replace("_", " ").capitalize()
    return slug, title, markdown_without_html(text)


def _image_uri(guideline: str, image: str) -> str:
    normalised = posixpath.normpath(image)
    if normalised.startswith("../") or normalised.startswith("/"):
        raise InputError(
            f"guideline {guideline}: example {image} is outside the guideline folder; move it inside for the site"
        )
    return normalised


def _draft(ws: Repo, name: str, spec) -> str | None:
    """Why the working tree is not a release (None when it is exactly the declared release)."""

    released = releases(ws, name)  # oldest first
    tagged = {r.version: r for r in released}
    newest = released[-1].version if released else None
    if spec.version not in tagged:
        since = f"; the newest release is {newest}" if newest else ""
        return f"Version {spec.version} of this guideline is not released yet{since}. Labelers work from a published release."
    if spec.pending is not None:
        return (
            f"These pages show unreleased changes after {spec.version} ({spec.pending.summary}). "
            "Labelers work from the published release."
        )
    if working_digest(ws, name) != tagged[spec.version].digest:
        return (
            f"These pages show edits made after release {spec.version} that no changelog entry "
            "describes yet. Labelers work from the published release."
        )
    return None


def working_tree(ws: Repo, name: str) -> SiteSource:

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
    site = GuidelineSite(spec=spec, draft=_draft(ws, name, spec))
    source = SiteSource(name=name, site=site, watch=[folder])
    _releases(ws, name, spec, None, source)
    pictures: list[Problem] = []
    for path in sorted((folder / "docs").rglob("*.md")) if (folder / "docs").is_dir() else []:
        rel = path.relative_to(folder).as_posix()
        content = path.read_bytes()
        site.guides.append(_guide(rel, content))  # refuses a page that is not UTF-8, by name
        pictures += [
            Problem(
                remote_picture_message(url),
                file=ws.relpath(path),
                line=line,
            )
            for line, url in remote_pictures(content.decode("utf-8-sig"))
        ]
    if pictures:
        raise ProblemsError(
            f"guideline {name} has {len(pictures)} remote picture(s); the site is not built",
            pictures,
            len(pictures),
        )
    for cls in spec.classes:
        for kind, i, example in cls.examples.all():
            if example.image is not None:
                uri = _image_uri(name, example.image)
                site.images[example.image] = uri
                source.files[uri] = (folder / example.image).resolve()
                if drawing.drawn(example):
                    data = (folder / example.image).read_bytes()
                    _add_drawing(source, cls, (kind, i), example, data)
    return source


def at_release(ws: Repo, name: str, version: str) -> SiteSource:
    """The guideline as released at ``version``: spec, prose and images from the tag."""

    release = get_release(ws, name, version)
    spec = spec_at(ws, name, version)
    folder = ws.guideline_dir(name)
    site = GuidelineSite(spec=spec)
    source = SiteSource(name=name, site=site)
    _releases(ws, name, spec, version, source)
    git = ws.git
    tree = git.read_tree(release.commit, folder)
    for rel in sorted(tree):
        if rel.startswith("docs/") and rel.endswith(".md"):
            site.guides.append(_guide(rel, tree[rel]))
    for cls in spec.classes:
        for kind, i, example in cls.examples.all():
            if example.image is not None:
                uri = _image_uri(name, example.image)
                site.images[example.image] = uri
                source.files[uri] = tree.get(posixpath.normpath(example.image)) or read_at(
                    ws.root, release.commit, folder / example.image, ws.git
                )
                if drawing.drawn(example):
                    _add_drawing(source, cls, (kind, i), example, source.files[uri])
    return source


def _add_side_drawing(source: SiteSource, side) -> None:
    """The standalone drawing of one side of a changed example, beside its picture."""
    size = drawing.size_of(side.data) if side.drawn is not None else None
    if size is None:
        return
    found = drawing.recorded_marks(side.drawn)
    svg = drawing.standalone(found, side.data, drawing.mime(side.image), *size, side.verdict)
    side.drawing_asset = f"{side.asset}.svg"
    source.files[side.drawing_asset] = svg.encode("utf-8")


def _add_drawing(source: SiteSource, cls, where: tuple[str, int], example, data: bytes) -> None:
    """The standalone drawing of an example (picture and boxes) the lightbox shows."""

    size = drawing.size_of(data)
    if size is None:
        return  # `check` reports a picture Pillow cannot read
    kind, i = where
    uri = f"drawn/{cls.id}/{kind}-{i}.svg"
    found = drawing.marks(example)
    label = verdict(example, cls.name, source.site.names)
    svg = drawing.standalone(found, data, drawing.mime(example.image), *size, label)
    source.files[uri] = svg.encode("utf-8")
    source.site.drawings[(cls.id, kind, i)] = (uri, *size)
