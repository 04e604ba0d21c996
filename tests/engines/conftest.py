"""A label history every engine must read alike, and one Spark session for all the Spark tests.

Built once per session with the library, copied for every test (with its own DVC remote):

- 20 digit items d00..d19; digits 1.0.0 (init) and 1.1.0 (``seven`` redefined; the changelog
  declares ``affects: [one, seven]``; ``seven`` is confusable with ``one`` and ``two``);
- labelers vA-01, vA-02 (vendor-a), vB-01, vB-02 (vendor-b); all but vB-02 trained on 1.0.0;
- batch 1, vendor-a, **old schema** (written before ``tool_fields`` and ``annotation_key``: 21
  columns): vA-01 right on every item, vA-02 wrong on d00..d04;
- batch 2, an import from vendor-b: vB-01 on every item, wrong on d05 and d10; vB-02 on
  d00..d09 (untrained), wrong on d03 and d04 as vA-02 is (so those items are 2-2 ties);
- batch 3, a relabel merge of a plan made against 1.1.0 (suspect: labels of ``one``, ``seven``,
  ``two`` and vB-02's): vA-01 answers d01, d02 and d07, which supersedes those items' earlier
  annotations, in the old-schema batch as in the import;
- a golden set of the true classes of d00..d09.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from labelspec.demo import digits
from tests.conftest import copy_workspace
from tests.helpers import git

ITEMS = 20
SEVEN_OLD = "definition: A horizontal top bar joined to a diagonal stroke."
SEVEN_NEW = "definition: A top bar at least half the digit's width, joined to a diagonal stroke."
LABELERS = {"vA-01": "vendor-a", "vA-02": "vendor-a", "vB-01": "vendor-b", "vB-02": "vendor-b"}
RELABELED = (1, 2, 7)  # items the relabel answers


def item_id(index: int) -> str:
    return f"d{index:02d}.png"


def true_class(index: int) -> str:
    return digits.CLASS_IDS[int(digits.load()[1][index])]


def wrong_class(index: int) -> str:
    return digits.CLASS_IDS[(int(digits.load()[1][index]) + 1) % 10]


def rows(labeler: str, indices, wrong=(), day: str = "2026-01-20") -> list[dict]:
    return [
        {
            "item_id": item_id(i),
            "labeler": labeler,
            "class": wrong_class(i) if i in wrong else true_class(i),
            "created_at": f"{day}T10:{i:02d}:00Z",
            "lead_time_s": 3.0,
            "cost": 0.02,
        }
        for i in indices
    ]


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def strip_delivery_fields(root: Path, batch_id: str) -> None:
    """Rewrite batch ``batch_id`` as labelspec wrote batches before ``tool_fields`` and
    ``annotation_key`` existed (same rows, 21 columns), its record and cache object with it."""
    import pyarrow.parquet as pq

    from labelspec.store.batches import write_parquet_hashed
    from labelspec.vcs import DvcCache, dvc_file_text, parse_dvc_file

    data = root / "datasets/digits/labels" / f"{batch_id}.parquet"
    record = data.with_name(data.name + ".dvc")
    _md5, _size, meta = parse_dvc_file(record.read_text(), record.name)
    old = pq.read_table(data).drop_columns(["tool_fields", "annotation_key"])
    data.chmod(0o644)
    sha256, md5, size = write_parquet_hashed(old, data)
    DvcCache(root).store(data, md5)
    record.write_text(dvc_file_text(data.name, md5, size, {**meta, "sha256": sha256}))
    git(root, "commit", "-q", "--amend", "--no-edit", "--", str(record))


def _build(root: Path, scratch: Path) -> None:
    from labelspec.guideline.release import release
    from labelspec.labelers.roster import add_labeler
    from labelspec.labelers.training import record_training
    from labelspec.labels.ingest import import_labels
    from labelspec.lineage.merge import merge
    from labelspec.lineage.relabel import plan
    from labelspec.store.golden import add_golden
    from labelspec.store.items import add_items
    from labelspec.workspace import Workspace

    ws = Workspace(root)
    folder = root / "datasets/digits/items"
    for i in range(ITEMS):
        digits.save_png(i, folder / item_id(i))
    add_items(ws, "digits", folder)
    for labeler, vendor in LABELERS.items():
        add_labeler(ws, labeler, vendor)
    for labeler in ("vA-01", "vA-02", "vB-01"):
        record_training(ws, labeler, "digits", "1.0.0", "session", 0.9, True, dt.date(2026, 1, 16))
    config = root / "labelspec.yaml"
    config.write_text(config.read_text().replace("training: error", "training: warn"))
    git(root, "commit", "-q", "-m", "training policy warn", "--", "labelspec.yaml")

    old = write_jsonl(
        scratch / "vendor-a.jsonl", rows("vA-01", range(20)) + rows("vA-02", range(20), range(5))
    )
    first = import_labels(ws, "digits", old, "jsonl", "digits@1.0.0", "vendor-a")
    strip_delivery_fields(root, first.batch_id)
    new = write_jsonl(
        scratch / "vendor-b.jsonl",
        rows("vB-01", range(20), (5, 10), "2026-01-25")
        + rows("vB-02", range(10), (3, 4), "2026-01-25"),
    )
    import_labels(ws, "digits", new, "jsonl", "digits@1.0.0", "vendor-b")

    spec = root / "guidelines/digits/spec.yaml"
    text = spec.read_text()
    assert text.count(SEVEN_OLD) == 1
    entry = (
        "  - version: unreleased\n    summary: sevens by the top bar\n"
        "    affects: [one, seven]\n    relabel: required\n"
    )
    spec.write_text(
        text.replace(SEVEN_OLD, SEVEN_NEW).replace("\n\nquality:", f"\n{entry}\nquality:", 1)
    )
    git(root, "commit", "-q", "-am", "digits: sevens by the top bar")
    release(ws, "digits", "minor", date=dt.date(2026, 2, 1))

    made = plan(ws, "digits", "digits", scratch / "queue")
    record_training(ws, "vA-01", "digits", "1.1.0", "quiz", 0.95, True, dt.date(2026, 2, 3))
    answers = write_jsonl(scratch / "answers.jsonl", rows("vA-01", RELABELED, (), "2026-02-10"))
    merge(ws, "digits", made.plan_id, answers, "jsonl")

    golden = write_jsonl(
        scratch / "golden.jsonl",
        [{"item_id": item_id(i), "class": true_class(i)} for i in range(10)],
    )
    add_golden(ws, "digits", golden, "jsonl")


@pytest.fixture(scope="session")
def engines_template(pristine, tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("engines")
    root = base / "ws"
    shutil.copytree(pristine("classification"), root, symlinks=True)
    _build(root, base)
    assert git(root, "status", "--porcelain") == ""
    return root


@pytest.fixture
def history(engines_template: Path, tmp_path: Path) -> Path:
    """A copy of the engines' history with its own (local folder) DVC remote."""
    return copy_workspace(engines_template, tmp_path / "ws")


@pytest.fixture(scope="session")
def spark():
    """One Spark session (local[2]) for every Spark test, stopped after the last. The Spark
    tests are the proof that a cluster gets labelspec's answers: without pyspark or Java they
    fail, saying what to install, rather than skip."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        pytest.fail("pyspark is missing: it is a test-only dependency (pip install -e '.[dev]')")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.fail("Java 17 is missing: scripts/ensure-test-tools installs it (make test runs it)")

    saved = os.environ.get("PYSPARK_PYTHON")
    os.environ["PYSPARK_PYTHON"] = sys.executable  # workers need this venv's pyarrow
    session = (
        SparkSession.builder.master("local[2]")
        .appName("labelspec-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    if saved is None:
        os.environ.pop("PYSPARK_PYTHON", None)
    else:
        os.environ["PYSPARK_PYTHON"] = saved
