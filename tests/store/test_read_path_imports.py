"""The everyday read commands import no more than they run: as whole processes (the way a user
runs them), none of them loads DVC, MkDocs, matplotlib, pandas or Pillow. Each of these costs
0.05-1 s of a command that otherwise takes well under a second (benchmarks/README.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

HEAVY = {"dvc", "mkdocs", "matplotlib", "pandas", "PIL"}

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
    assert loaded(labeled_ws, *args) & HEAVY == set()


def test_verify_loads_neither_dvc_nor_mkdocs_nor_matplotlib(labeled_ws):
    # pandas: pyarrow imports it itself, the first time it turns Python objects into Arrow
    # (or when pyarrow.dataset is imported); verify builds Arrow tables from its record listings
    assert loaded(labeled_ws, "verify") & (HEAVY - {"pandas"}) == set()


def test_verify_loads_no_pandas(labeled_ws):
    # verify builds its small tables (item file states, problem counts) in DuckDB: pyarrow
    # imports pandas itself when it turns Python values into Arrow (0.3-0.7 s)
    assert "pandas" not in loaded(labeled_ws, "verify")
