"""``verify`` and ``verify --since`` on a 1,000-commit history (issue 27).

``ws-verify``: 1,000 label batches of 1,000 labels (1M labels) over 10,000 items, each batch in
its own commit (what 1,000 imports leave), a training record appended every 10th commit, and
one side branch of 50 batches merged with ``git merge``. Measured as whole CLI processes beside
the floor of the history walk: the one ``git log --raw -m`` over the store's record paths and a
``git cat-file --batch`` of every blob it names, run in the same session.

    python -m benchmarks.run verify

On ``ws-big`` (10M labels in 1,000 batches, built by ``bench_store``; skipped when it is not
there): ``verify`` as a whole process beside its floor, ``sha256sum`` of the same batch files
(each batch read and hashed once), and ``trace item`` as a whole process, its first call in a
clone (which indexes the item rows) and then warm. Wall and CPU time (user + system) from GNU
time: on a shared machine CPU is the steadier figure.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.common import (
    OUT,
    add_items,
    add_labelers,
    best_of,
    fresh_workspace,
    label_batch,
    repeats,
    run_child,
    save,
    scaled,
)

# 1,000 commits of 1,000 labels, a 50-commit side branch merged (HEAD~10 must stay on main)
COMMITS, ROWS = scaled(1000, 24), scaled(1000, 10)
ITEMS, SIDE = scaled(10_000, 100), scaled(50, 4)


def _git(ws, *args: str, **kwargs) -> str:
    done = subprocess.run(["git", *args], cwd=ws, check=True, capture_output=True, **kwargs)
    return done.stdout.decode() if isinstance(done.stdout, bytes) else done.stdout


def _commit_batch(ws, cache, n: int, training, digest, rng) -> None:
    from labelspec.store.batches import write_batch
    from labelspec.vcs import dvc_file_text

    batch_id = f"b-20260201T{n // 3600:02d}{n // 60 % 60:02d}{n % 60:02d}Z-{n:08x}"
    folder = ws / "datasets/digits/labels"
    file = folder / f"{batch_id}.parquet"
    table = label_batch(batch_id, ROWS, ITEMS, training, digest, rng)
    sha256, md5, size = write_batch(table, file, {"labelspec.batch_id": batch_id})
    cache.store(file, md5)
    meta = {
        "kind": "labels", "dataset": "digits", "rows": ROWS, "annotations": ROWS, "items": ROWS,
        "source": "bench", "format": "jsonl", "versions": ["1.0.0"], "supersedes": 0,
        "superseded_labels": 0, "plan": None, "created": batch_id.split("-")[1],
        "message": "bench", "sha256": sha256,
    }  # fmt: skip
    (folder / f"{batch_id}.parquet.dvc").write_text(dvc_file_text(file.name, md5, size, meta))
    paths = [f"datasets/digits/labels/{batch_id}.parquet.dvc"]
    if n % 10 == 0:
        record = {
            "id": f"tr-verify{n:06d}", "labeler": "vA-00", "guideline": "digits",
            "version": "1.0.0", "date": "2026-01-03", "method": "session", "score": 1.0,
            "passed": True, "quiz": None,
        }  # fmt: skip
        with (ws / "labelers/training.jsonl").open("a") as handle:
            handle.write(json.dumps(record, sort_keys=True) + "\n")
        paths.append("labelers/training.jsonl")
    _git(ws, "add", "--", *paths)
    _git(ws, "commit", "-q", "-m", f"labels import: digits {batch_id}")


def build() -> tuple:
    from labelspec.guideline.releases import releases
    from labelspec.vcs import DvcCache
    from labelspec.workspace import Workspace

    ws = OUT / "ws-verify"
    if (ws / "done").is_file():
        return ws, 0.0
    start = time.perf_counter()
    fresh_workspace(ws)
    training = add_labelers(ws)
    add_items(ws, ITEMS)
    digest = next(r.digest for r in releases(Workspace(ws), "digits") if r.version == "1.0.0")
    cache, rng = DvcCache(ws), np.random.default_rng(5)
    for n in range(1, COMMITS - SIDE + 1):
        _commit_batch(ws, cache, n, training, digest, rng)
        if n == COMMITS // 2:
            _git(ws, "branch", "side")
    _git(ws, "checkout", "-q", "side")
    for n in range(COMMITS - SIDE + 1, COMMITS + 1):
        _commit_batch(ws, cache, n, training, digest, rng)
    _git(ws, "checkout", "-q", "main")
    _git(ws, "merge", "-q", "--no-edit", "side")
    _git(ws, "tag", "-f", "bench-verify-since", "HEAD~10")
    (ws / "done").write_text("")
    return ws, time.perf_counter() - start


def _floor(ws) -> None:
    from labelspec.labels.verify_history import STORE_FOLDERS

    specs = STORE_FOLDERS
    log = _git(
        ws, "log", "--topo-order", "--full-history", "-m", "--raw", "--no-abbrev",
        "--no-renames", "--format=%x00%H", "HEAD", "--", *specs,
    )  # fmt: skip
    shas = {s for line in log.splitlines() if line.startswith(":") for s in line.split()[2:4]}
    shas.discard("0" * 40)
    subprocess.run(
        ["git", "cat-file", "--batch"], cwd=ws, input="\n".join(sorted(shas)).encode(),
        check=True, capture_output=True,
    )  # fmt: skip


def _walk(ws) -> None:
    """The history rules alone (read_history + history_problems), in process."""
    from labelspec.labels.verify_history import history_problems, read_history
    from labelspec.workspace import Workspace

    repo = Workspace(ws)
    assert history_problems(repo, read_history(repo, repo.git)) == []


def run() -> dict:
    ws, built = build()
    code = "from labelspec.cli import main; main(['verify'{extra}])"
    # the first run hashes the item files' digests and reads every record: warm once
    subprocess.run([sys.executable, "-m", "labelspec", "verify"], cwd=ws, capture_output=True)
    full = min(
        (run_child(code.format(extra=""), cwd=ws) for _ in range(3)), key=lambda m: m.seconds
    )
    since = min(
        (run_child(code.format(extra=", '--since', 'bench-verify-since'"), cwd=ws) for _ in range(3)),
        key=lambda m: m.seconds,
    )  # fmt: skip
    floor = best_of(lambda: _floor(ws))
    walk = best_of(lambda: _walk(ws))
    result = {
        "workspace": str(ws),
        "build_seconds": round(built, 1),
        "commits": int(_git(ws, "rev-list", "--count", "HEAD").strip()),
        "batches": COMMITS,
        "labels": COMMITS * ROWS,
        "verify_seconds": round(full.seconds, 2),
        "verify_peak_rss_mb": round(full.peak_rss_mb),
        "verify_since_10_commits_seconds": round(since.seconds, 2),
        "verify_since_peak_rss_mb": round(since.peak_rss_mb),
        "history_walk_in_process_seconds": round(walk, 2),
        "floor_git_log_and_cat_file_seconds": round(floor, 2),
    }
    result["ws_big"] = big()
    save("verify", result)
    return result


def _timed(command: list[str], cwd: Path) -> dict:
    """Wall and CPU seconds (user + system, children included) and peak RSS of one process;
    wall time only where GNU time is missing."""
    timer = shutil.which("time") or "/usr/bin/time"
    gnu = Path(timer).exists()
    start = time.perf_counter()
    done = subprocess.run(
        [timer, "-f", "%e %U %S %M", *command] if gnu else command,
        cwd=cwd, capture_output=True, text=True,
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    if done.returncode:
        raise RuntimeError(f"benchmark child failed:\n{done.stderr[-3000:]}")
    if not gnu:
        return {"wall_s": round(elapsed, 2), "cpu_s": None, "peak_rss_mb": None}
    wall, user, system, rss = done.stderr.strip().splitlines()[-1].split()
    return {
        "wall_s": round(float(wall), 2),
        "cpu_s": round(float(user) + float(system), 2),
        "peak_rss_mb": round(int(rss) / 1024),
    }


def _best(runs: list[dict]) -> dict:
    return min(runs, key=lambda r: r["wall_s"])


def big() -> dict | None:
    """``verify`` and ``trace item`` on ws-big, each beside its baseline in the same run."""
    from labelspec.store.snapshots import batch_paths, snapshot
    from labelspec.workspace import Workspace

    root = OUT / "ws-big"
    if not (root / ".labelspec").is_dir():
        return None
    ws = Workspace(root)
    files = [str(p) for p in batch_paths(ws, snapshot(ws, "digits", None))]
    labelspec = [sys.executable, "-m", "labelspec"]
    # the first verify in a clone reads every batch's rows (its facts are then remembered)
    shutil.rmtree(ws.state_dir / "cache", ignore_errors=True)
    first = _timed([*labelspec, "verify"], root)
    floor, ours = [], []
    for _ in range(repeats(3)):  # interleaved: the load on a shared machine hits both alike
        floor.append(_timed(["sha256sum", *files], root))
        ours.append(_timed([*labelspec, "verify"], root))
    best, base = _best(ours), _best(floor)
    # trace item: the first call indexes the item rows of every batch, later calls read them
    item = [*labelspec, "trace", "item", "digits", "item-0000042", "--json"]
    shutil.rmtree(ws.state_dir / "item-labels", ignore_errors=True)
    indexing = _timed(item, root)
    traced = _best([_timed(item, root) for _ in range(repeats(3))])
    imports = _best(
        [_timed([sys.executable, "-c", "import labelspec.cli.trace, labelspec.lineage.trace"], root)
         for _ in range(repeats(3))]
    )  # fmt: skip
    return {
        "batches": len(files),
        "batch_bytes": sum(Path(f).stat().st_size for f in files),
        "verify_first_in_clone": first,
        "verify": best,
        "floor_sha256sum": base,
        "ratio_wall": round(best["wall_s"] / max(base["wall_s"], 0.01), 2),
        "ratio_cpu": round(best["cpu_s"] / max(base["cpu_s"], 0.01), 2) if base["cpu_s"] else None,
        "target_ratio": 2.0,
        "trace_item_first_in_clone": indexing,
        "trace_item": traced,
        "trace_item_target_s": 1.0,
        "python_and_trace_imports": imports,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
