"""Git processes and wall time per command (issue 23): labelspec at HEAD beside a baseline
revision of labelspec, each running the same commands on copies of the same demo workspace.

Git processes are counted from ``GIT_TRACE2_EVENT`` (one ``start`` event per git process that
GitPython, DVC or labelspec itself starts). The baseline revision (``BASELINE``, the commit
before the one-Repo restructure, or ``LABELSPEC_GITCALLS_BASELINE``) is exported with
``git archive`` and imported through ``PYTHONPATH``, so both run in this venv.

    python -m benchmarks.bench_gitcalls
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from benchmarks.common import OUT, ROOT, repeats, save

REPO = ROOT.parent
BASELINE = os.environ.get("LABELSPEC_GITCALLS_BASELINE", "")
RUNS = int(os.environ.get("LABELSPEC_GITCALLS_RUNS", repeats(3)))  # wall time: the best of these
# the commands of issue 23 with their figures on the demo workspace before the restructure
COMMANDS = {
    "guideline review": ["guideline", "review", "digits", "--base", "1.0.0"],
    # the demo leaves a plan open: planning its items again is asked for (--planned include)
    "relabel plan": [
        "relabel",
        "plan",
        "digits",
        "--guideline",
        "digits",
        "--out",
        "{tmp}/plan",
        "--planned",
        "include",
    ],
    "site build": ["site", "build", "--out", "{tmp}/site"],
    "trace impact": ["trace", "impact", "digits", "--guideline", "digits"],
    "verify": ["verify"],
    "qa bakeoff": ["qa", "bakeoff", "digits", "--golden", "expert", "--boot", "200"],
    "labeler status": ["labeler", "status"],
}
ISSUE_FIGURES = {
    "guideline review": 63,
    "relabel plan": 43,
    "site build": 39,
    "trace impact": 30,
    "verify": 21,
    "qa bakeoff": 17,
    "labeler status": 14,
}


def _demo_workspace() -> Path:
    """The digits demo's workspace, built once (``labelspec demo --task classification``), or
    ``LABELSPEC_BENCH_DEMO``: a workspace with the demo's ``digits`` history and ``expert`` golden set."""
    if os.environ.get("LABELSPEC_BENCH_DEMO"):
        return Path(os.environ["LABELSPEC_BENCH_DEMO"])
    out = OUT / "gitcalls-demo"
    ws = out / "workspace"
    if not (ws / "labelspec.yaml").is_file():
        subprocess.run(
            [sys.executable, "-m", "labelspec", "demo", str(out), "--task", "classification"],
            check=True,
            capture_output=True,
        )
    return ws


def _export(revision: str, dest: Path) -> Path:
    """The labelspec package as of ``revision``, for PYTHONPATH."""
    archive = subprocess.run(
        ["git", "archive", revision, "labelspec"], cwd=REPO, check=True, capture_output=True
    ).stdout
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    return dest


# options newer than the baseline, left out when it runs: (option, how many values it takes)
NEWER_OPTIONS = {"--planned": 1}


def _for_baseline(args: list[str]) -> list[str]:
    out, skip = [], 0
    for arg in args:
        if skip:
            skip -= 1
        elif arg in NEWER_OPTIONS:
            skip = NEWER_OPTIONS[arg]
        else:
            out.append(arg)
    return out


def _best(ws: Path, args: list[str], pythonpath: Path | None, tmp: Path) -> dict:
    """Git processes (the same every run) and the best wall time of ``RUNS`` runs."""
    args = _for_baseline(args) if pythonpath else args
    runs = [_run(ws, args, pythonpath, tmp) for _ in range(RUNS)]
    return {"git_processes": runs[0]["git_processes"], "seconds": min(r["seconds"] for r in runs)}


def _run(ws: Path, args: list[str], pythonpath: Path | None, tmp: Path) -> dict:
    copy = tmp / "ws"
    if copy.exists():
        shutil.rmtree(copy)
    shutil.copytree(ws, copy, symlinks=True)
    trace = tmp / "trace.json"
    trace.unlink(missing_ok=True)
    env = {**os.environ, "GIT_TRACE2_EVENT": str(trace), "NO_MKDOCS_2_WARNING": "1"}
    if pythonpath:
        env["PYTHONPATH"] = str(pythonpath)
    command = [sys.executable, "-m", "labelspec", *(a.format(tmp=tmp) for a in args)]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-2000:]}")
    events = [json.loads(line) for line in trace.read_text().splitlines()] if trace.exists() else []
    starts = sum(1 for e in events if e.get("event") == "start")
    return {"git_processes": starts, "seconds": round(seconds, 2)}


def run() -> dict:
    ws = _demo_workspace()
    result: dict = {"workspace": str(ws), "baseline": BASELINE or None, "commands": {}}
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        old = _export(BASELINE, tmp / "baseline") if BASELINE else None
        for name, args in COMMANDS.items():
            row = {"issue_23_figure": ISSUE_FIGURES[name], **_best(ws, args, None, tmp)}
            if old:
                before = _best(ws, args, old, tmp)
                row["baseline_git_processes"] = before["git_processes"]
                row["baseline_seconds"] = before["seconds"]
            row["target"] = ISSUE_FIGURES[name] // 3
            result["commands"][name] = row
            print(name, row, flush=True)
    save("gitcalls", result)
    return result


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
