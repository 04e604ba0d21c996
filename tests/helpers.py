"""Helpers shared by the tests: git, a snapshot of everything a user could see, spec edits."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

SPEC = "guidelines/digits/spec.yaml"


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True)
    return done.stdout


def state(root: Path) -> dict:
    """Everything a refused command must leave alone: HEAD, tags, git status, every file's bytes."""
    skip = (".git/", ".labelspec/", ".dvc/tmp/")
    files = {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.relative_to(root).as_posix().startswith(skip)
    }
    return {
        "head": git(root, "rev-parse", "HEAD"),
        "tags": git(root, "for-each-ref", "--format=%(refname) %(objectname)", "refs/tags"),
        "status": git(root, "status", "--porcelain", "--untracked-files=all"),
        "files": files,
    }


def edit(root: Path, *pairs: tuple[str, str], spec: str = SPEC) -> None:
    """Replace each ``old`` text of the digits spec with ``new`` (each must be there)."""
    path = root / spec
    text = path.read_text()
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    path.write_text(text)
