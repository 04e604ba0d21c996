"""`verify` warns of an item open in two open relabel plans: two clones that each plan it merge
with a plain `git pull` (each `relabel plan` saw no other open plan), and `--planned include` does
it on purpose. Only open plans count, and only the items a plan still waits on. Real git + DVC."""

from __future__ import annotations

import json
import shutil

from tests.helpers import git
from tests.trace.conftest import as_json, labeler_map, labelstudio_export, make_plan
from tests.trace.test_relabel_merge import merge, planned

OPEN_TWICE = "relabel plans at once"


def open_twice(report: dict) -> list[str]:
    return [w for w in report["warnings"] if OPEN_TWICE in w]


def warning(plans: list[str], items: str, n: int | None = None) -> str:
    """The warning for ``items`` (``n`` of them) open in ``plans``, as verify words it."""
    plans = sorted(plans)
    n = len(items.split(", ")) if n is None else n
    both, others = ("both", "the other") if len(plans) == 2 else ("them all", "the others")
    return (
        f"digits: {n} item(s) are open in {len(plans)} relabel plans at once, "
        f"{' and '.join(plans)}: {items} (two clones each planned them, or `relabel plan "
        f"--planned include`); each plan asks for an answer, so merging {both} brings "
        f"{len(plans)} answers to one question. Keep one plan per item: close {others} "
        f"(`labelspec relabel close digits {plans[-1]}`), or merge one plan's answers and then "
        f"close {others}"
    )


def warnings(*groups: tuple[list[str], str]) -> list[str]:
    """One warning per group of plans, in the order of their sorted plan ids."""
    return [warning(plans, items) for plans, items in sorted(groups, key=lambda g: sorted(g[0]))]


def test_two_clones_planning_one_item_and_a_plain_pull_are_named_by_verify(history, run, tmp_path):
    a = history
    b = tmp_path / "b"
    shutil.copytree(a, b, symlinks=True)  # a second clone of the same commits
    # vendor-a's suspects: d01, d02, d07; vendor-c's: d03, d07, d17, d18; each clone sees no
    # other open plan, so neither is refused
    in_a = make_plan(run, a, tmp_path / "qa", "--segment", "source=vendor-a")
    in_b = make_plan(run, b, tmp_path / "qc", "--segment", "source=vendor-c")
    assert open_twice(as_json(run, a, "verify")) == []

    git(a, "pull", "-q", "--no-rebase", "--no-edit", str(b), "HEAD")  # plain git: no conflict
    assert git(a, "diff", "--name-only", "--diff-filter=U") == ""

    report = as_json(run, a, "verify")
    assert report["ok"] is True  # a warning: the history is intact
    plans = [in_a["plan"], in_b["plan"]]
    assert open_twice(report) == [warning(plans, "d07.png")]
    shown = run("verify", cwd=a)
    assert f"warning: {warning(plans, 'd07.png')}\n" in shown.stdout
    assert "\nok: digits: " in shown.stdout

    run("relabel", "close", "digits", in_b["plan"], cwd=a)  # the way out the warning gives
    assert open_twice(as_json(run, a, "verify")) == []


def test_only_the_items_open_plans_still_wait_on_are_counted(history, run, tmp_path):
    users = labeler_map(tmp_path / "users.csv")
    every, tasks = planned(run, history, tmp_path)  # d01 d02 d03 d07 d11 d12 d17 d18
    a = make_plan(run, history, tmp_path / "a", "--segment", "source=vendor-a",
                  "--planned", "include")["plan"]  # fmt: skip  # d01 d02 d07
    c = make_plan(run, history, tmp_path / "c", "--segment", "source=vendor-c",
                  "--planned", "include")["plan"]  # fmt: skip  # d03 d07 d17 d18
    p = every["plan"]

    # grouped by the plans an item waits in: d01 d02 in p and a; d07 in all three; the rest
    # of vendor-c's in p and c; d11, d12 in p alone (no warning)
    report = as_json(run, history, "verify")
    assert report["ok"] is True
    assert open_twice(report) == warnings(
        ([p, a], "d01.png, d02.png"),
        ([p, a, c], "d07.png"),
        ([p, c], "d03.png, d17.png, d18.png"),
    )

    # p answered on d07: p no longer waits on it, a and c still do
    merge(run, history, p,
          labelstudio_export(tasks, {"d07.png": [("vB-01", "seven")]}, tmp_path / "p.json"),
          users)  # fmt: skip
    assert open_twice(as_json(run, history, "verify")) == warnings(
        ([p, a], "d01.png, d02.png"),
        ([p, c], "d03.png, d17.png, d18.png"),
        ([a, c], "d07.png"),
    )

    # a closed plan waits on nothing
    run("relabel", "close", "digits", p, cwd=history)
    assert open_twice(as_json(run, history, "verify")) == [warning([a, c], "d07.png")]


def test_more_than_five_items_are_counted_and_the_first_five_named(history, run, tmp_path):
    first = make_plan(run, history, tmp_path / "1")["plan"]
    second = make_plan(run, history, tmp_path / "2", "--planned", "include")["plan"]

    # the 8 suspect items, by id: d01 d02 d03 d07 d11 | d12 d17 d18
    assert open_twice(as_json(run, history, "verify")) == [
        warning([first, second], "d01.png, d02.png, d03.png, d07.png, d11.png and 3 more", 8)
    ]


def test_a_plan_file_verify_cannot_read_is_a_problem(history, run, tmp_path):
    plan = make_plan(run, history, tmp_path / "q", "--segment", "source=vendor-a")["plan"]
    path = history / f"datasets/digits/relabel/{plan}.json"
    record = json.loads(path.read_text())
    del record["items"]
    path.write_text(json.dumps(record))
    git(history, "commit", "-q", "-am", "a broken plan")

    result = run("verify", cwd=history, expect=5)

    assert f"problem: digits: {path}: not a usable relabel plan: missing field `items`" in (
        result.stdout
    )
