"""A hand-built label history whose suspect labels are known, for the trace and relabel tests.

Built once per session with the library, then copied for every test (with its own DVC remote):

- 20 digit items d00..d19 (the first 20 UCI test digits: zero..nine twice), registered from a CSV
  manifest with a ``split`` column (``test`` for the items in TEST, else ``train``);
- releases: 1.0.0 (from init); 1.1.0 changes ``seven``'s definition and declares
  ``affects: [one, seven]`` (``seven`` is confusable with ``one`` and ``two``); 1.1.1 is a patch
  that only rewords a positive example of ``zero``;
- labelers: vA-01 (vendor-a, trained on 1.0.0 and 1.1.0), vB-01 (vendor-b, 1.0.0 only),
  vC-01 (vendor-c, never trained), vC-02 (vendor-c, 1.0.0 only); ``policies.training: warn``;
- imports (see SNAPSHOTS), each tagged ``snap-N`` by the builder: snap-1 vA-01 under 1.0.0 on d00..d09; snap-2 vB-01 under 1.0.0 on
  d10..d14; snap-3 vA-01 under 1.1.0 on d15..d18 and 1.1.1 on d19; snap-4 vendor-c under 1.1.0
  (vC-01 on d07 and d17, vC-02 on d18) and 1.0.0 (vC-01 on d03, vC-02 on d08).

Against 1.1.1 the suspect current labels are therefore (SUSPECT): d01 one, d07 seven, d11 one
(class changed); d02 two, d12 two (confusable with seven); d03, d07, d17 by vC-01 and d18 by vC-02
(training did not cover the version they worked under).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from labelspec.demo import digits
from tests.helpers import git
from tests.store.conftest import set_training_policy, write_jsonl

ITEMS = 20
TEST = {2, 7, 12, 15}  # item indices in the test split
SPEC = "guidelines/digits/spec.yaml"
SEVEN_OLD = "definition: A horizontal top bar joined to a diagonal stroke."
SEVEN_NEW = "definition: A top bar at least half the digit's width, joined to a diagonal stroke."
ZERO_WHY_OLD = 'why: "A clean closed oval."'
ZERO_WHY_NEW = 'why: "A clean closed oval, drawn in one stroke."'
LABELERS = {"vA-01": "vendor-a", "vB-01": "vendor-b", "vC-01": "vendor-c", "vC-02": "vendor-c"}

# (source, default version, [(item index, labeler, version or None, created_at)])
SNAPSHOTS = [
    ("vendor-a", "1.0.0", [(i, "vA-01", None, f"2026-01-20T10:{i:02d}:00Z") for i in range(10)]),
    (
        "vendor-b",
        "1.0.0",
        [(i, "vB-01", None, f"2026-01-25T10:{i:02d}:00Z") for i in range(10, 15)],
    ),
    (
        "vendor-a",
        "1.1.0",
        [(i, "vA-01", None, f"2026-02-10T10:{i:02d}:00Z") for i in range(15, 19)]
        + [(19, "vA-01", "1.1.1", "2026-02-12T10:00:00Z")],
    ),
    (
        "vendor-c",
        "1.1.0",
        [
            (7, "vC-01", None, "2026-02-15T09:00:00Z"),
            (17, "vC-01", None, "2026-02-15T09:05:00Z"),
            (18, "vC-02", None, "2026-02-15T09:10:00Z"),
            (3, "vC-01", "1.0.0", "2026-01-18T09:00:00Z"),
            (8, "vC-02", "1.0.0", "2026-01-30T09:00:00Z"),
        ],
    ),
]

# (item, labeler, source, version, class, reason) of every suspect current label against 1.1.1
SUSPECT = [
    ("d01.png", "vA-01", "vendor-a", "1.0.0", "one", "affected"),
    ("d07.png", "vA-01", "vendor-a", "1.0.0", "seven", "affected"),
    ("d11.png", "vB-01", "vendor-b", "1.0.0", "one", "affected"),
    ("d02.png", "vA-01", "vendor-a", "1.0.0", "two", "confusable"),
    ("d12.png", "vB-01", "vendor-b", "1.0.0", "two", "confusable"),
    ("d03.png", "vC-01", "vendor-c", "1.0.0", "three", "untrained"),
    ("d07.png", "vC-01", "vendor-c", "1.1.0", "seven", "untrained"),
    ("d17.png", "vC-01", "vendor-c", "1.1.0", "seven", "untrained"),
    ("d18.png", "vC-02", "vendor-c", "1.1.0", "eight", "untrained"),
]
SUSPECT_ITEMS = sorted({s[0] for s in SUSPECT})  # 8 items: d07 has two suspect labels
TOTAL_LABELS = sum(len(rows) for _, _, rows in SNAPSHOTS)  # 25


def item_id(index: int) -> str:
    return f"d{index:02d}.png"


def digit_class(index: int) -> str:
    return digits.CLASS_IDS[int(digits.load()[1][index])]


def split_of(item: str) -> str:
    return "test" if int(item[1:3]) in TEST else "train"


def label_rows(rows: list[tuple[int, str, str | None, str]]) -> list[dict]:
    out = []
    for index, labeler, version, created in rows:
        row = {
            "item_id": item_id(index),
            "labeler": labeler,
            "class": digit_class(index),
            "created_at": created,
        }
        if version:
            row["guideline_version"] = version
        out.append(row)
    return out


def edit(root: Path, old: str, new: str) -> None:
    path = root / SPEC
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))


def add_pending(root: Path, summary: str, affects: list[str], relabel: str) -> None:
    entry = (
        f"  - version: unreleased\n    summary: {summary}\n"
        f"    affects: [{', '.join(affects)}]\n    relabel: {relabel}\n"
    )
    edit(root, "\n\nquality:", f"\n{entry}\nquality:")


def _build(root: Path) -> None:
    import datetime as dt

    from labelspec.guideline.release import release
    from labelspec.labelers.roster import add_labeler
    from labelspec.labelers.training import record_training
    from labelspec.labels.ingest import import_labels
    from labelspec.store.items import add_items
    from labelspec.workspace import Workspace

    folder = root / "datasets/digits/items"
    for i in range(ITEMS):
        digits.save_png(i, folder / item_id(i))
    manifest = root.parent / "items.csv"
    manifest.write_text(
        "item_id,path,split\n"
        + "".join(
            f"{item_id(i)},ws/datasets/digits/items/{item_id(i)},{split_of(item_id(i))}\n"
            for i in range(ITEMS)
        )
    )
    git(root, "add", "datasets/digits/items")
    git(root, "commit", "-q", "-m", "digit images")
    add_items(Workspace(root), "digits", manifest)  # committed files stay where they are
    for labeler, vendor in LABELERS.items():
        add_labeler(Workspace(root), labeler, vendor)
    for labeler in ("vA-01", "vB-01", "vC-02"):
        record_training(
            Workspace(root), labeler, "digits", "1.0.0", "session", 0.9, True, dt.date(2026, 1, 16)
        )

    edit(root, SEVEN_OLD, SEVEN_NEW)
    add_pending(root, "Tell sevens by the length of the top bar", ["one", "seven"], "required")
    git(root, "commit", "-q", "-am", "digits: sevens by the top bar")
    release(Workspace(root), "digits", "minor", date=dt.date(2026, 2, 1))
    record_training(
        Workspace(root), "vA-01", "digits", "1.1.0", "quiz", 0.95, True, dt.date(2026, 2, 3)
    )
    edit(root, ZERO_WHY_OLD, ZERO_WHY_NEW)
    add_pending(root, "Reword a zero example", [], "none")
    git(root, "commit", "-q", "-am", "digits: reword an example")
    release(Workspace(root), "digits", "patch", date=dt.date(2026, 2, 8))

    set_training_policy(root, "warn")
    for n, (source, version, rows) in enumerate(SNAPSHOTS, 1):
        path = write_jsonl(root.parent / f"snap{n}.jsonl", label_rows(rows))
        import_labels(Workspace(root), "digits", path, "jsonl", f"digits@{version}", source)
        git(root, "tag", f"snap-{n}")  # a snapshot is a commit; tags give the tests names


@pytest.fixture(scope="session")
def history_template(pristine, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("trace-history") / "ws"
    shutil.copytree(pristine("classification"), root, symlinks=True)
    _build(root)
    assert git(root, "status", "--porcelain") == ""
    return root


@pytest.fixture
def make_history(tmp_path: Path, history_template: Path) -> Callable[..., Path]:
    def make(name: str = "ws") -> Path:
        root = tmp_path / name
        shutil.copytree(history_template, root, symlinks=True)
        remote = tmp_path / f"{name}.dvc-storage"
        remote.mkdir(exist_ok=True)
        (root / ".dvc" / "config.local").write_text(f"['remote \"storage\"']\n    url = {remote}\n")
        return root

    return make


@pytest.fixture
def history(make_history) -> Path:
    """A copy of the hand-built history (see the module docstring)."""
    return make_history()


def as_json(run, root: Path, *args: str, expect: int | None = 0):
    result = run(*args, "--json", cwd=root, expect=expect)
    return json.loads(result.stdout) if result.exit_code == 0 else result


# -- relabel helpers ------------------------------------------------------------------------------
USERS = {"vA-01": 100, "vB-01": 101, "vC-01": 102, "vC-02": 103}  # Label Studio user ids


def labeler_map(path: Path) -> Path:
    path.write_text("".join(f"{uid},{labeler}\n" for labeler, uid in USERS.items()))
    return path


def make_plan(run, root: Path, out: Path, *args: str) -> dict:
    """Run `relabel plan` and return the plan.json it wrote into ``out``."""
    run("relabel", "plan", "digits", "--guideline", "digits", *args, "--out", str(out), cwd=root)
    return json.loads((out / "plan.json").read_text())


def retrain(run, root: Path, labeler: str, version: str = "1.1.1") -> None:
    run(
        "labeler",
        "train",
        labeler,
        "--guideline",
        "digits",
        "--version",
        version,
        "--method",
        "quiz",
        "--score",
        "0.92",
        "--passed",
        "--date",
        "2026-03-01",  # before the relabel answers (2026-03-02)
        cwd=root,
    )


def labelstudio_export(
    tasks: list[dict], answers: dict[str, list[tuple[str, str]]], path: Path
) -> Path:
    """A Label Studio JSON export of the plan's tasks: ``answers`` maps an item to
    (labeler, class) pairs, one annotation each, ``completed_by`` the labeler's user id. Tasks
    without an answer are left out (still open); the pre-annotations stay as predictions."""
    exported = []
    for n, task in enumerate(tasks, 1):
        given = answers.get(task["data"]["item_id"])
        if not given:
            continue
        annotations = [
            {
                "id": 5000 + 10 * n + k,
                "completed_by": USERS[labeler],
                "result": [
                    {
                        "id": f"r{n}-{k}",
                        "type": "choices",
                        "from_name": "label",
                        "to_name": "image",
                        "value": {"choices": [cls]},
                    }
                ],
                "was_cancelled": False,
                "ground_truth": False,
                "created_at": f"2026-03-02T10:{n:02d}:{k:02d}Z",
                "lead_time": 6.5,
            }
            for k, (labeler, cls) in enumerate(given, 1)
        ]
        exported.append(
            {
                "id": 900 + n,
                "data": task["data"],
                "annotations": annotations,
                "predictions": task.get("predictions", []),
            }
        )
    path.write_text(json.dumps(exported, indent=1))
    return path
