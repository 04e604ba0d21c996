"""A page written outside the transaction that records it: staged first, put in place after.

``labeler grade`` commits a training record and writes a feedback page, often outside the
workspace. The page goes to a temporary file beside its destination before the record is
committed, so a destination that cannot be written (a file where a folder should be, a
read-only share) refuses the grade with nothing recorded; only the final rename comes after.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from labelspec.errors import InputError
from labelspec.yamlio import default_mode


@contextmanager
def staged_page(path: Path, text: str) -> Iterator[None]:
    """Write ``text`` beside ``path``, run the body, then move it to ``path``. A body that
    raises leaves no page and no folder this made."""
    if path.is_dir():
        raise InputError(f"{path} is a folder; give the feedback page a file name (--feedback)")
    made = _missing_parents(path.parent)
    tmp = None
    try:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
            os.chmod(tmp, default_mode())  # mkstemp makes files private; ours are ordinary files
        except OSError as exc:
            raise InputError(
                f"cannot write the feedback page {path}: {exc.strerror or exc}; give a writable "
                "place with --feedback"
            ) from exc
        yield
        os.replace(tmp, path)
        tmp = None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
            for folder in made:  # deepest first
                _remove_if_empty(folder)


def _missing_parents(folder: Path) -> list[Path]:
    """The folders of ``folder``'s chain that do not exist yet, deepest first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    if not folder.is_dir():
        raise InputError(
            f"{folder} is a file, so the feedback page cannot go under it; give another place "
            "with --feedback"
        )
    return missing


def _remove_if_empty(folder: Path) -> None:
    with suppress(OSError):  # not empty or already gone: not ours to remove
        folder.rmdir()
