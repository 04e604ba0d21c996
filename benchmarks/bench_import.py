"""Import benchmarks (the streaming-import issue), each beside its floor measured in the same run:

- a whole-process import of 1M and of 5M labels (JSONL; the raw delivery kept) vs the floor,
  then the same delivery again (a cumulative re-export: every annotation known, nothing written):
  DuckDB's JSON -> zstd Parquet copy of the same file, plus a plain ``dvc add`` + ``git commit``
  of the raw file in a bare git + DVC repository (target <= 1.5x; peak RSS < 1 GB);
- ``items add`` of 100,000 small images (whole CLI process) vs ``sha256sum`` over the same
  files (target <= 1.5x);
- ``trace item`` as a whole CLI process on the 10M-label workspace of ``bench_store`` (< 1 s).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import duckdb

from benchmarks.common import (
    OUT,
    Measure,
    add_items,
    add_labelers,
    fresh_workspace,
    run_child,
    save,
    scaled,
    write_jsonl,
)
from labelspec.store.engine import import_memory_limit

N_ITEMS = scaled(200_000, 100)  # 5M labels = 25 distinct labelers per item (one annotation each)


def _timed_shell(script: str, cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(["bash", "-ec", script], cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def floor(jsonl: Path) -> dict:
    """DuckDB's copy to zstd Parquet, and versioning the raw file with DVC alone."""
    out = OUT / "floor.parquet"
    copy = run_child(
        "import duckdb; duckdb.connect().execute("
        f"\"copy (select * from read_json('{jsonl}')) to '{out}' (format parquet, compression zstd)\")"
    )
    repo = OUT / "floor-repo"
    shutil.rmtree(repo, ignore_errors=True)
    repo.mkdir()
    dvc = shutil.which("dvc") or str(Path(os.sys.executable).with_name("dvc"))
    subprocess.run(
        ["bash", "-ec", f"git init -q && {dvc} init -q && git commit -qm init"],
        cwd=repo,
        check=True,
        capture_output=True,
    )
    shutil.copyfile(jsonl, repo / jsonl.name)
    versioned = _timed_shell(
        f"{dvc} add -q {jsonl.name} && git add {jsonl.name}.dvc .gitignore && git commit -qm raw",
        repo,
    )
    out.unlink(missing_ok=True)
    return {"duckdb_copy_s": round(copy.seconds, 2), "dvc_add_commit_s": round(versioned, 2),
            "floor_s": round(copy.seconds + versioned, 2), "duckdb_rss_mb": round(copy.peak_rss_mb)}  # fmt: skip


# The least an import that keeps labelspec's promises must compute: the labelspec JSONL
# resolved against the item manifest, every label's id and its annotation's id by the id
# formula (labels.validate: md5 of namespace, key, item, labeler and content), rows in item
# order (what ``trace item`` and the incremental split read), zstd level 1; parsed into a
# table first, which numbers the records on every core, as the import does. No checks, no
# lineage, no counts: a lower bound for the same output.
_SAME_OUTPUT = """
create temp table t as select * from read_json('{jsonl}');
copy (
  with s as (select rowid + 1 as rec, * from t),
  k as (
    select s.*, 'item:' || md5(to_json([s.item_id, s.labeler])) as k,
           md5(to_json({{'c': s."class", 'x': NULL::DOUBLE, 'y': NULL::DOUBLE, 'w': NULL::DOUBLE,
                         'h': NULL::DOUBLE, 's': NULL::BIGINT, 'e': NULL::BIGINT,
                         'a': to_json(s.attributes)::VARCHAR, 'v': '1.0.0',
                         't': s.created_at::TIMESTAMPTZ}})::VARCHAR) as said
    from s semi join read_parquet('{manifests}') i on i.item_id = s.item_id)
  select 'b-floor-' || lpad(rec::VARCHAR, 8, '0') as label_id, item_id,
         'a-' || left(md5('bench|' || k || '|' || item_id || '|' || labeler || '|' || said), 16)
           as annotation_id,
         labeler as labeler_id, "class", attributes, created_at, lead_time_s, cost,
         'bench:' || k as annotation_key
  from k order by item_id, annotation_id, label_id
) to '{out}' (format parquet, compression zstd, compression_level 1, row_group_size 65536)
"""


def same_output_floor(jsonl: Path, base: Path, memory_limit: str | None = None) -> dict:
    """``_SAME_OUTPUT`` as a child process (its time; the caller adds ``floor``'s DVC add and
    commit). ``memory_limit``: DuckDB's, spilling past it as the import does (the import's
    bound is part of its target), else none."""
    out = OUT / "same-output.parquet"
    manifests = base / "datasets/digits/manifests/*.parquet"
    sql = _SAME_OUTPUT.format(jsonl=jsonl, manifests=manifests, out=out)
    bound = ""
    if memory_limit:
        spill = OUT / "same-output-spill"
        bound = f"con.execute(\"set memory_limit = '{memory_limit}'; set temp_directory = '{spill}'\"); "
    made = run_child(f"import duckdb; con = duckdb.connect(); {bound}con.execute({sql!r})")
    return {"seconds": round(made.seconds, 2), "rss_mb": round(made.peak_rss_mb)}


def _same_output(jsonl: Path, base: Path, versioned_s: float) -> dict:
    """The same-output floor without a memory limit and within the import's default one, each
    with the DVC add and commit (``versioned_s``) of ``floor``."""
    free = same_output_floor(jsonl, base)
    bounded = same_output_floor(jsonl, base, import_memory_limit())
    return {
        "same_output_s": free["seconds"],
        "same_output_rss_mb": free["rss_mb"],
        "same_output_floor_s": round(free["seconds"] + versioned_s, 2),
        "import_memory_limit": import_memory_limit(),
        "same_output_bounded_s": bounded["seconds"],
        "same_output_bounded_rss_mb": bounded["rss_mb"],
        "same_output_bounded_floor_s": round(bounded["seconds"] + versioned_s, 2),
    }


def same_ids(imported: Path) -> bool:
    """Whether the floor made the import's annotation ids, label for label (by item and
    labeler: one annotation each), so it cannot drift into a cheaper computation."""
    out = OUT / "same-output.parquet"
    labels = imported / "datasets/digits/labels/*.parquet"
    (differ,) = duckdb.sql(
        f"""select count(*) from read_parquet('{out}') f full join read_parquet('{labels}') l
            on f.item_id = l.item_id and f.labeler_id = l.labeler_id
            where f.annotation_id is distinct from l.annotation_id"""
    ).fetchall()[0]
    out.unlink()
    return differ == 0


def one_import(base: Path, jsonl: Path, n: int) -> Measure:
    ws = OUT / "ws-import-run"
    shutil.rmtree(ws, ignore_errors=True)
    shutil.rmtree(ws.with_name(ws.name + ".dvc-storage"), ignore_errors=True)
    shutil.copytree(base, ws, symlinks=True)
    code = (
        "from labelspec.labels.ingest import import_labels; from labelspec.workspace import Workspace; "
        f"r = import_labels(Workspace({str(ws)!r}), 'digits', {str(jsonl)!r}, 'jsonl', 'digits@1.0.0', 'bench'); "
        f"assert r.labels == {n}, r.labels"
    )
    return run_child(code)


def re_export(jsonl: Path, n: int) -> Measure:
    """The same delivery again into the workspace ``one_import`` left: a tool's cumulative
    re-export, every annotation already in the history (nothing written)."""
    code = (
        "from labelspec.labels.ingest import import_labels; from labelspec.workspace import Workspace; "
        f"r = import_labels(Workspace({str(OUT / 'ws-import-run')!r}), 'digits', {str(jsonl)!r}, 'jsonl', 'digits@1.0.0', 'bench'); "
        f"assert (r.labels, r.unchanged) == (0, {n}), (r.labels, r.unchanged)"
    )
    return run_child(code)


def items_add(n: int) -> dict:
    """``labelspec items add`` of ``n`` small PNGs vs ``sha256sum`` over them."""
    from PIL import Image

    ws = fresh_workspace(OUT / "ws-items")
    folder = ws / "datasets/digits/items/batch-1"
    folder.mkdir(parents=True)
    import numpy as np

    rng = np.random.default_rng(0)
    for i in range(n):
        pixels = rng.integers(0, 255, (16, 16), dtype=np.uint8)
        Image.fromarray(pixels, "L").save(folder / f"img-{i:06d}.png")
    hashed = _timed_shell(f"find {folder} -type f -print0 | xargs -0 sha256sum > /dev/null", ws)
    ours = run_child(
        "from labelspec.cli import main\n"
        "try:\n    main(['--quiet', 'items', 'add', 'digits', 'datasets/digits/items/batch-1'])\n"
        "except SystemExit as e:\n    assert not e.code, e.code",
        cwd=ws,
    )
    return {"items": n, "labelspec_s": round(ours.seconds, 2), "sha256sum_s": round(hashed, 2),
            "ratio": round(ours.seconds / hashed, 2), "target_ratio": 1.5,
            "peak_rss_mb": round(ours.peak_rss_mb)}  # fmt: skip


def run() -> dict:
    results: dict = {}
    base = fresh_workspace(OUT / "ws-import")
    add_labelers(base)
    add_items(base, N_ITEMS)
    for n in (scaled(1_000_000), scaled(5_000_000)):
        jsonl = write_jsonl(OUT / f"labels-{n}.jsonl", n, N_ITEMS, seed=7)
        low = floor(jsonl)
        same = _same_output(jsonl, base, low["dvc_add_commit_s"])
        ours = one_import(base, jsonl, n)
        same["same_ids"] = same_ids(OUT / "ws-import-run")
        again = re_export(jsonl, n)
        results[f"import_{n}"] = {
            "labels": n,
            "file_mb": round(jsonl.stat().st_size / 2**20),
            **low,
            "labelspec_s": round(ours.seconds, 2),
            "ratio": round(ours.seconds / low["floor_s"], 2),
            "target_ratio": 1.5,
            **same,
            "ratio_to_same_output": round(ours.seconds / same["same_output_floor_s"], 2),
            "ratio_to_same_output_bounded": round(
                ours.seconds / same["same_output_bounded_floor_s"], 2
            ),
            "labelspec_rss_mb": round(ours.peak_rss_mb),
            "target_rss_mb": 1024,
            "re_export_s": round(again.seconds, 2),
            "re_export_rss_mb": round(again.peak_rss_mb),
        }
        jsonl.unlink()
    results["items_add"] = items_add(scaled(100_000))
    big = OUT / "ws-big"
    if big.exists():  # built by bench_store
        cli = run_child(
            "from labelspec.cli import main\n"
            "try:\n    main(['trace', 'item', 'digits', 'item-0000042', '--json'])\n"
            "except SystemExit:\n    pass",
            cwd=big,
        )
        results["trace_item_process"] = {"seconds": round(cli.seconds, 2), "target_s": 1.0}
    save("import", results)
    return results


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
