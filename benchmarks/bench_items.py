"""``items add`` of many small images (whole CLI process) beside its two baselines, measured in
the same run, each repetition interleaved so the machine's load falls on all three alike:

- the floor: ``sha256sum`` of the files plus ``cp -r`` of the folder into a scratch folder (one
  read of every file and one new file each: what hashing them into a cache costs at least);
- the peer: ``dvc add`` of the same folder in a scratch git + DVC repository.

Each repetition copies the images for all three first (so every file is in the page cache),
flushes and waits ``SETTLE_S`` (see ``settle``), then times the three one after the other. Wall
time is the best of the repetitions; CPU time (user + system, with children) beside it.
Target: labelspec <= 2x the floor and faster than ``dvc add``.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.common import OUT, SCALE, fresh_workspace, repeats, save, scaled

N_FILES = scaled(100_000, 10)
REPEAT = repeats(3)
SETTLE_S = 35 if SCALE >= 1 else 0  # below reference scale the harness only checks it runs
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "DVC_NO_ANALYTICS": "1"}
DVC = shutil.which("dvc") or str(Path(sys.executable).with_name("dvc"))


def make_images(folder: Path, n: int) -> Path:
    """``n`` 16x16 grey PNGs of random pixels (340 bytes each), made once per size."""
    done = folder / ".complete"
    if done.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (16, 16), dtype=np.uint8), "L").save(
            folder / f"img-{i:06d}.png"
        )
    done.touch()
    return folder


def timed(command: list[str], cwd: Path, env: dict | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env or ENV, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise RuntimeError(f"{command[:4]} failed:\n{done.stderr[-3000:]}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu


def copy_images(images: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cp", "-r", str(images), str(target)], check=True)
    (target / ".complete").unlink(missing_ok=True)


def prepare(images: Path, template: Path, tree: str | None) -> dict[str, Path]:
    """Every scratch folder of one repetition, made before anything is timed: the images for
    the floor, a bare git + DVC repository holding them (DVC's default cache.type), and
    workspaces holding them under ``datasets/digits/items/batch-1``."""
    places = {
        "floor": OUT / "items-floor",
        "dvc_add": OUT / "items-dvc",
        "labelspec": OUT / "ws-items-run",
        **({"labelspec_before": OUT / "ws-items-before"} if tree else {}),
    }
    for place in places.values():
        shutil.rmtree(place, ignore_errors=True)
    places["floor"].mkdir(parents=True)
    copy_images(images, places["floor"] / "src")
    places["dvc_add"].mkdir(parents=True)
    subprocess.run(
        ["bash", "-ec", f"git init -q && {DVC} init -q && git commit -qm init"],
        cwd=places["dvc_add"],
        env=ENV,
        check=True,
        capture_output=True,
    )
    copy_images(images, places["dvc_add"] / "batch-1")
    for name in ("labelspec", "labelspec_before"):
        if name in places:
            subprocess.run(["cp", "-a", str(template), str(places[name])], check=True)
            copy_images(images, places[name] / "datasets/digits/items/batch-1")
    return places


def settle() -> None:
    """Flush, then wait out ext4's window for recently deleted inodes: on a filesystem without
    a journal (this machine's), creating files within 30 s of deleting many scans past every
    freed inode, which would charge the clean-up of scratch folders to whoever runs next."""
    subprocess.run(["sync"], check=True)
    time.sleep(SETTLE_S)


def measure(places: dict[str, Path], tree: str | None) -> dict[str, tuple[float, float]]:
    """The floor, the peer, labelspec (and the ``tree`` checkout's labelspec) in turn."""
    script = "find src -type f -print0 | xargs -0 sha256sum > /dev/null && cp -r src cache"
    add = ["labelspec", "--quiet", "items", "add", "digits", "datasets/digits/items/batch-1"]
    found = {
        "floor": timed(["bash", "-ec", script], places["floor"]),
        "dvc_add": timed([DVC, "add", "-q", "batch-1"], places["dvc_add"]),
        "labelspec": timed([sys.executable, "-m", *add], places["labelspec"]),
    }
    if tree:
        env = {**ENV, "PYTHONPATH": tree}
        found["labelspec_before"] = timed(
            [sys.executable, "-m", *add], places["labelspec_before"], env
        )
    return found


def run(scale: float = 1.0, repeat: int = REPEAT) -> dict:
    """``$LABELSPEC_BENCH_BEFORE``: another checkout's labelspec, measured the same way."""
    n = max(10, int(N_FILES * scale))  # N_FILES is already at LABELSPEC_BENCH_SCALE
    images = make_images(OUT / f"items-png-{n}", n)
    template = fresh_workspace(OUT / "ws-items-template")
    before = os.environ.get("LABELSPEC_BENCH_BEFORE")
    rows: dict[str, list[tuple[float, float]]] = {}
    for _ in range(repeat):
        places = prepare(images, template, before)
        settle()
        for name, measured in measure(places, before).items():
            rows.setdefault(name, []).append(measured)
        for place in places.values():
            shutil.rmtree(place, ignore_errors=True)
    best = {k: min(w for w, _ in v) for k, v in rows.items()}
    result: dict = {"files": n, "repeat": repeat, "load_average": round(os.getloadavg()[0], 1)}
    for name, measured in rows.items():
        result[name] = {
            "best_s": round(best[name], 2),
            "median_s": round(statistics.median(w for w, _ in measured), 2),
            "cpu_s_best": round(min(c for _, c in measured), 2),
        }
    result["ratio_to_floor"] = round(best["labelspec"] / best["floor"], 2)
    result["ratio_to_dvc_add"] = round(best["labelspec"] / best["dvc_add"], 2)
    result["target"] = "<= 2x the floor, < 1x dvc add"
    save("items", result)
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(run(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0), indent=2))
