"""The everyday read commands import no more than they run: as whole processes (the way a user
runs them), none of them loads DVC, MkDocs, matplotlib, pandas or Pillow, and `labels show`,
`trace item` and `labeler status` not pyarrow, numpy or GitPython either (DuckDB reads the
Parquet files, plain git the history). Each of these costs 0.05-1 s of a command that otherwise
takes well under a second (benchmarks/README.md). `items add` loads no pandas."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from labelspec.demo import digits
from labelspec.store.items import read_items
from labelspec.workspace import Workspace
from tests.conftest import REPO_ROOT

HEAVY = {"dvc", "mkdocs", "matplotlib", "pandas", "PIL"}
# what DuckDB and plain git make unnecessary on the everyday read paths
ARROW_AND_GITPYTHON = {"pyarrow", "numpy", "git", "gitdb"}

# the command's top-level modules, printed however the command exits
CHILD = """
import json, sys
from labelspec.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def loaded(root, *args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, *args],
        cwd=root, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )  # fmt: skip
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["code"] in (0, None), done.stderr
    return set(result["modules"])


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("labels", "show", "digits"),
        ("labels", "show", "digits", "--json"),
        ("trace", "item", "digits", "d03.png"),
        ("labeler", "status"),
    ],
    ids=lambda args: " ".join(args),
)
def test_a_read_command_loads_none_of_the_heavy_packages(labeled_ws, args):
    assert loaded(labeled_ws, *args) & (HEAVY | ARROW_AND_GITPYTHON) == set()


def test_trace_item_builds_its_item_index_without_pyarrow(labeled_ws):
    # the first trace of a clone writes the index segment (DuckDB, with its batches metadata);
    # the second reads it
    folder = labeled_ws / ".labelspec" / "item-labels" / "digits"
    if folder.exists():
        for segment in folder.iterdir():
            segment.unlink()
    for _ in range(2):
        assert (
            loaded(labeled_ws, "trace", "item", "digits", "d03.png") & ARROW_AND_GITPYTHON == set()
        )
        assert len(list(folder.glob("seg-*.parquet"))) == 1


def test_items_add_loads_no_pandas(labeled_ws):
    # a folder of new files; then a manifest of one new item and one registered already (the ids
    # matched against the registered ones in DuckDB)
    items = labeled_ws / "datasets" / "digits" / "items"
    for i in (40, 41):
        digits.save_png(i, items / "more" / f"m{i}.png")
    digits.save_png(42, items / "other" / "m42.png")
    (labeled_ws / "more.csv").write_text(
        "item_id,path,camera\n"
        "d03.png,datasets/digits/items/d03.png,south\n"
        "c1,datasets/digits/items/other/m42.png,north\n"
    )
    assert "pandas" not in loaded(
        labeled_ws, "items", "add", "digits", "datasets/digits/items/more"
    )
    assert "pandas" not in loaded(labeled_ws, "items", "add", "digits", "more.csv")
    ids = read_items(Workspace(labeled_ws), "digits").column("item_id").to_pylist()
    assert len(ids) == 20 + 3 and {"m40.png", "m41.png", "c1", "d03.png"} <= set(ids)


def test_labels_import_loads_no_pandas(labeled_ws, tmp_path):
    # its lookup tables (roster, maps, versions, classes, attributes, coverage) are built by
    # DuckDB from lists, so no Python value becomes Arrow
    delivery = tmp_path / "more.jsonl"
    delivery.write_text('{"item_id": "d03.png", "labeler": "vA-01", "class": "eight"}\n')
    args = ("labels", "import", "digits", str(delivery), "--format", "jsonl")
    modules = loaded(labeled_ws, *args, "--guideline", "digits@1.0.0", "--source", "vendor-a")
    assert "pandas" not in modules
    log = subprocess.run(
        ["git", "log", "-1", "--format=%s"], cwd=labeled_ws, capture_output=True, text=True
    )
    assert "1 updated" in log.stdout  # the import ran to its commit


def test_verify_loads_none_of_the_heavy_packages(labeled_ws):
    # verify builds its small tables (item file states, problem counts) in DuckDB: pyarrow
    # imports pandas itself when it turns Python values into Arrow (0.3-0.7 s)
    assert loaded(labeled_ws, "verify") & HEAVY == set()
