"""Where ``site build --out`` may write: mkdocs empties its site folder before building, so a
folder the workspace owns (or any folder that is not a previous site build) is refused first."""

from __future__ import annotations

from pathlib import Path

from labelspec.errors import InputError
from labelspec.repo import Repo
from labelspec.vcs import git_root

MARKER = ".labelspec-site"  # written into every built site; hidden, so mkdocs' clean keeps it
# folders of the workspace that hold its records, data or tooling (data under datasets/ is
# ignored by git, so "holds tracked files" alone would not protect it)
OWNED = (".git", ".dvc", ".labelspec", ".github", "datasets", "guidelines", "labelers")
# what any mkdocs build leaves: a site built before the marker existed is still ours
MKDOCS_OUTPUT = ("404.html", "sitemap.xml", "search/search_index.json")


def check_out_folder(ws: Repo, target: Path, force: bool = False) -> None:
    """Refuse ``target`` (resolved) when building into it would delete what is not a site."""
    # a previous build may be committed (GitHub Pages from /docs): git restores tracked files,
    # and a build of ours replaces only a build of ours; other tracked folders stay refused
    check_not_workspace_folder(
        ws,
        target,
        "--out",
        "the build empties its --out folder first",
        tracked_ok=target.is_dir() and is_site_build(target),
    )
    if target.is_dir() and not force and not is_site_build(target):
        # mkdocs' clean spares hidden entries: only what it would delete counts
        if any(not p.name.startswith(".") for p in target.iterdir()):
            raise InputError(
                f"--out {target}: the folder is not empty and is not a previous site build; "
                "the build empties it first. Choose an empty or new folder, or pass --force to "
                "replace what it holds"
            )


def check_not_workspace_folder(
    ws: Repo, target: Path, option: str, why: str, tracked_ok: bool = False
) -> None:
    """Refuse ``target`` when it is, holds or lies in a folder of the workspace (its records,
    data, tooling, or, unless ``tracked_ok``, files git tracks): a site written there would
    replace or dirty them. (A publish folder a team commits holds tracked files of its own.)"""
    root = ws.root.resolve()
    top = git_root(root) or root
    for owner in (root, top):
        if owner == target or owner.is_relative_to(target):
            raise InputError(
                f"{option} {target}: it holds the workspace {root} and {why}; choose a folder "
                "of its own, e.g. site or build/site"
            )
    for folder in [top / ".git", *(root / name for name in OWNED)]:
        if target == folder or target.is_relative_to(folder):
            raise InputError(
                f"{option} {target}: {folder.name}/ belongs to the workspace and {why}; choose "
                "a folder of its own, e.g. site or build/site"
            )
    if not tracked_ok and target.is_relative_to(top) and target.is_dir():
        tracked = ws.git.tracked_files(target)
        if tracked:
            raise InputError(
                f"{option} {target}: it holds {len(tracked)} file(s) tracked by git (e.g. "
                f"{tracked[0]}) and is not a previous site build, and {why}; choose another "
                "folder (--force does not lift this)"
            )


def is_site_build(folder: Path) -> bool:
    """Whether ``folder`` holds a site built before (by labelspec, or by plain mkdocs)."""
    return (folder / MARKER).is_file() or all((folder / p).is_file() for p in MKDOCS_OUTPUT)


def mark_site_build(folder: Path) -> None:
    (folder / MARKER).write_text("a site built by `labelspec site build`; rebuilt in place\n")
