"""Helpers shared by the tests: git, a snapshot of everything a user could see, spec edits."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

SPEC = "guidelines/digits/spec.yaml"


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True)
    return done.stdout


def state(root: Path, cache: bool = True) -> dict:
    """Everything a refused command must leave alone: HEAD, tags, git status, every file's bytes.

    ``cache=False`` leaves out the DVC cache: an interrupted write may leave an object there
    (content-addressed, so harmless), and rolling back need not remove it."""
    skip = (".git/", ".labelspec/", ".dvc/tmp/", *(() if cache else (".dvc/cache/",)))
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


def jsonl(path: Path) -> list[dict]:
    """The records of a JSON-lines file (the roster, training records)."""
    import json

    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def training_id(root: Path, labeler: str) -> str:
    """The id of the labeler's first training record."""
    return next(r["id"] for r in jsonl(root / "labelers/training.jsonl") if r["labeler"] == labeler)


def head(root: Path) -> str:
    return git(root, "rev-parse", "HEAD").strip()


def commit_of(root: Path, ref: str) -> str:
    return git(root, "rev-parse", f"{ref}^{{commit}}").strip()
