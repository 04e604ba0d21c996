"""The folders ``labelspec demo DIR`` replaces: only ones a previous demo made (DIR carries a
marker), so ``labelspec demo .`` in a projects folder deletes nothing of the user's."""

from __future__ import annotations

import shutil
from pathlib import Path

from labelspec.errors import InputError

MARKER = ".labelspec-demo"


# what the demo appends to its workspace's .gitignore: a demo from before the marker existed
DEMO_IGNORES = "/deliveries/\n/exports/\n"


def _older_demo(workspace: Path) -> bool:
    ignores = workspace / ".gitignore"
    return (
        (workspace / "labelspec.yaml").is_file()
        and ignores.is_file()
        and (DEMO_IGNORES in ignores.read_text(errors="replace"))
    )


def replace(out: Path, folders: tuple[str, ...]) -> None:
    """Remove ``out/<folder>`` for every one of ``folders`` that exists, once sure a demo made
    them: ``out`` has the marker, or ``folders[0]`` is an older demo's workspace. Otherwise
    refuse, removing nothing."""

    existing = [out / name for name in folders if (out / name).exists()]
    if existing and not (out / MARKER).is_file() and not _older_demo(out / folders[0]):
        names = ", ".join(p.name for p in existing)
        raise InputError(
            f"{out} already holds {names}, which no labelspec demo made (no {MARKER} in {out}); "
            "the demo replaces these folders: give another DIRECTORY (the default is build/demo), "
            "or move them away first"
        )
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text(
        "made by `labelspec demo`: its folders here are replaced on a rerun\n"
    )
    for path in existing:
        shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
