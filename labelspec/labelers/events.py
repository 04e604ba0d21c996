"""Append-only record files: one JSON object per line, git-merged with ``merge=union``.

Two clones that each append a line merge into a file holding both lines, in either order, so
readers never depend on line order beyond ties; every record carries a unique id or a timestamp.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from labelspec import nesting
from labelspec.errors import WorkspaceError


def read_lines(path: Path, rel: str) -> list[tuple[int, dict[str, Any]]]:
    """(line number, record) of every non-empty line; a broken line is an error naming it."""
    if not path.is_file():
        return []
    return parse_lines(path.read_text(encoding="utf-8"), rel)


def parse_lines(text: str, rel: str) -> list[tuple[int, dict[str, Any]]]:
    """(line number, record) of every non-empty line of ``text`` (a file as read at some
    revision), as ``read_lines``."""
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = nesting.loads(line, f"{rel}:{number}")
        except json.JSONDecodeError as exc:
            raise WorkspaceError(
                f"{rel}:{number}: not a JSON record ({exc.msg}); each line is one JSON object "
                "(a merge conflict marker? resolve it, keeping both sides' lines)"
            ) from exc
        if not isinstance(record, dict):
            raise WorkspaceError(f"{rel}:{number}: each line must be a JSON object")
        out.append((number, record))
    return out


def dumps(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, ensure_ascii=False, default=str)
