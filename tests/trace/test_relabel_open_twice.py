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


def warning(plans: list[str], items: str, alone: dict[str, int], n: int | None = None) -> str:
    """The warning for ``items`` (``n`` of them) open in ``plans``, as verify words it;
    ``alone``: per plan, the items it alone waits on (counted by hand in each test)."""
    plans = sorted(plans)
    n = len(items.split(", ")) if n is None else n
    both, others = ("both", "the other") if len(plans) == 2 else ("them all", "the others")
    free = [p for p in plans if not alone.get(p)]
    if free:
        fix = (
            f"close {free[-1]} (`labelspec relabel close digits {free[-1]}`: every item it waits "
            f"on waits in another plan too), or merge one plan's answers and then close {others}"
        )
    else:
        dropped = ", ".join(f"{p}: {alone[p]}" for p in plans)
        fix = (
            f"merge one plan's answers and then close {others} (closing a plan now also stops "
            f"the items only it waits on: {dropped}; plan them again after)"
        )
    return (
        f"digits: {n} item(s) are open in {len(plans)} relabel plans at once, "
        f"{' and '.join(plans)}: {items} (two clones each planned them, or `relabel plan "
        f"--planned include`); each plan asks for an answer, so merging {both} brings "
        f"{len(plans)} answers to one question. Keep one plan per item: {fix}"
    )


def warnings(alone: dict[str, int], *groups: tuple[list[str], str]) -> list[str]:
    """One warning per group of plans, in the order of their sorted plan ids."""
    ordered = sorted(groups, key=lambda g: sorted(g[0]))
    return [warning(plans, items, alone) for plans, items in ordered]


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
    # closing either would also stop the items only it waits on: a's d01 d02, b's d03 d17 d18
    expected = warning(plans, "d07.png", {in_a["plan"]: 2, in_b["plan"]: 3})
    assert "(closing a plan now also stops the items only it waits on: " in expected
    assert open_twice(report) == [expected]
    shown = run("verify", cwd=a)
    assert f"warning: {expected}\n" in shown.stdout
    assert "\nok: digits: " in shown.stdout

    run("relabel", "close", "digits", in_b["plan"], cwd=a)  # after merging one, say
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
    # p alone waits on d11 d12; every item of a and of c waits in p too: closing a or c is free
    assert open_twice(report) == warnings(
        {p: 2, a: 0, c: 0},
        ([p, a], "d01.png, d02.png"),
        ([p, a, c], "d07.png"),
        ([p, c], "d03.png, d17.png, d18.png"),
    )

    # p answered on d07: p no longer waits on it, a and c still do
    merge(run, history, p,
          labelstudio_export(tasks, {"d07.png": [("vB-01", "seven")]}, tmp_path / "p.json"),
          users)  # fmt: skip
    assert open_twice(as_json(run, history, "verify")) == warnings(
        {p: 2, a: 0, c: 0},
        ([p, a], "d01.png, d02.png"),
        ([p, c], "d03.png, d17.png, d18.png"),
        ([a, c], "d07.png"),
    )

    # a closed plan waits on nothing
    run("relabel", "close", "digits", p, cwd=history)
    # a alone waits on d01 d02 now, c on d03 d17 d18: no free plan
    assert open_twice(as_json(run, history, "verify")) == [warning([a, c], "d07.png", {a: 2, c: 3})]


def test_more_than_five_items_are_counted_and_the_first_five_named(history, run, tmp_path):
    first = make_plan(run, history, tmp_path / "1")["plan"]
    second = make_plan(run, history, tmp_path / "2", "--planned", "include")["plan"]

    # the 8 suspect items, by id: d01 d02 d03 d07 d11 | d12 d17 d18
    assert open_twice(as_json(run, history, "verify")) == [
        warning(
            [first, second],
            "d01.png, d02.png, d03.png, d07.png, d11.png and 3 more",
            {first: 0, second: 0},
            8,
        )
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
