"""`relabel close` in a team: closings are lines of relabel/closed.jsonl (merge=union), so two
clones that close, or close and push, the same plan merge with a plain `git pull`."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import git, head
from tests.trace.conftest import as_json, make_plan

UNION = "datasets/*/relabel/closed.jsonl merge=union"


def closed_lines(root: Path) -> list[dict]:
    text = (root / "datasets/digits/relabel/closed.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines()]


def plan_file(root: Path, plan_id: str) -> Path:
    return root / f"datasets/digits/relabel/{plan_id}.json"


def team(run, history: Path, tmp_path: Path) -> tuple[dict, dict, Path, Path]:
    """Two plans (vendor-a's suspects, then vendor-c's without the shared d07) in a workspace
    made before closed.jsonl (no union line), pushed to a bare origin; two clones of it."""
    first = make_plan(run, history, tmp_path / "qa", "--segment", "source=vendor-a")
    second = make_plan(
        run, history, tmp_path / "qc", "--segment", "source=vendor-c", "--planned", "skip"
    )
    attributes = history / ".gitattributes"
    kept = [line for line in attributes.read_text().splitlines() if line != UNION]
    attributes.write_text("\n".join(kept) + "\n")
    git(history, "commit", "-q", "-am", "a workspace from before closed.jsonl")
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    git(history, "remote", "add", "origin", str(origin))
    run("push", cwd=history)
    clones = []
    for name in ("a", "b"):
        git(tmp_path, "clone", "-q", str(origin), str(tmp_path / name))
        config = history / ".dvc/config.local"
        (tmp_path / name / ".dvc/config.local").write_text(config.read_text())
        for key, value in (("user.name", name), ("user.email", f"{name}@example.org")):
            git(tmp_path / name, "config", key, value)
        run("pull", cwd=tmp_path / name)
        clones.append(tmp_path / name)
    return first, second, clones[0], clones[1]


def test_two_clones_closing_and_pushing_one_plan_merge_without_conflict(history, run, tmp_path):
    first, second, a, b = team(run, history, tmp_path)
    plan = first["plan"]

    in_a = as_json(run, a, "relabel", "close", "digits", plan)
    assert (in_a["released"], in_a["already"], in_a["commit"]) == (3, False, head(a))
    assert closed_lines(a) == [{"plan": plan, "closed": in_a["closed"]}]
    assert UNION in (a / ".gitattributes").read_text().splitlines()  # added by the close
    # the plan's file is never rewritten by a close
    changed = git(a, "show", "--name-only", "--format=", "HEAD").split()
    assert sorted(changed) == [".gitattributes", "datasets/digits/relabel/closed.jsonl"]
    assert json.loads(plan_file(a, plan).read_text()) == first
    git(a, "push", "-q", "origin", "HEAD")

    # b records a Label Studio project in the same plan file (as `relabel push` does), closes
    # the other plan, then the same plan: each clone's closed.jsonl is new, with other lines
    pushed = {**first, "labelstudio": {"url": "http://127.0.0.1:8080", "project": 7}}
    plan_file(b, plan).write_text(json.dumps(pushed, indent=1) + "\n")
    git(b, "commit", "-q", "-am", f"relabel push {plan}: Label Studio project 7")
    in_b_second = as_json(run, b, "relabel", "close", "digits", second["plan"])
    in_b = as_json(run, b, "relabel", "close", "digits", plan)
    assert in_b["already"] is False

    git(b, "pull", "-q", "--no-rebase", "--no-edit", "origin", "HEAD")

    assert git(b, "status", "--porcelain") == ""
    assert json.loads(plan_file(b, plan).read_text()) == pushed  # the push's record, no closed
    lines = closed_lines(b)
    assert {"plan": plan, "closed": in_a["closed"]} in lines
    assert {"plan": second["plan"], "closed": in_b_second["closed"]} in lines
    git(b, "push", "-q", "origin", "HEAD")
    git(a, "pull", "-q", "--no-rebase", "--no-edit", "origin", "HEAD")
    earliest = min(in_a["closed"], in_b["closed"])
    for clone in (a, b):
        status = {r["plan"]: r for r in as_json(run, clone, "relabel", "status", "digits")}
        assert status[plan]["closed"] == earliest
        assert status[second["plan"]]["closed"] == in_b_second["closed"]
        shown = run("relabel", "status", "digits", cwd=clone).stdout
        assert shown.count("(closed)") == 2
        assert run("verify", cwd=clone).stdout.startswith("ok: digits:")

    # closing again: nothing to do, no commit, exit 0
    before = head(a)
    again = run("relabel", "close", "digits", plan, cwd=a)
    assert again.stdout.strip() == f"Plan {plan} was closed already, on {earliest}: nothing to do"
    assert head(a) == before and git(a, "status", "--porcelain") == ""


def test_a_line_a_merge_brought_twice_counts_once_and_the_earliest_date_wins(
    history, run, tmp_path
):
    first = make_plan(run, history, tmp_path / "qa", "--segment", "source=vendor-a")
    plan = first["plan"]
    closed = history / "datasets/digits/relabel/closed.jsonl"
    lines = [
        {"closed": "2026-03-02T10:00:00+00:00", "plan": plan},
        {"closed": "2026-03-02T09:30:00+00:00", "plan": plan},
        {"closed": "2026-03-02T10:00:00+00:00", "plan": plan},
    ]
    closed.write_text("".join(json.dumps(line) + "\n" for line in lines))
    git(history, "add", str(closed))
    git(history, "commit", "-q", "-m", "closings from three merges")

    status = as_json(run, history, "relabel", "status", "digits")
    assert [(r["plan"], r["closed"]) for r in status] == [(plan, "2026-03-02T09:30:00+00:00")]
    again = as_json(run, history, "relabel", "close", "digits", plan)
    assert (again["already"], again["closed"], again["commit"]) == (
        True, "2026-03-02T09:30:00+00:00", None,
    )  # fmt: skip
    # released: a vendor-c plan may take d07, open in the closed plan only
    later = make_plan(run, history, tmp_path / "qc", "--segment", "source=vendor-c")
    assert [e["item_id"] for e in later["items"]] == ["d03.png", "d07.png", "d17.png", "d18.png"]


def test_a_broken_closing_line_is_named(history, run, tmp_path):
    make_plan(run, history, tmp_path / "qa", "--segment", "source=vendor-a")
    closed = history / "datasets/digits/relabel/closed.jsonl"
    closed.write_text('{"plan": "rp-x", "closed": "yesterday"}\n')

    refused = run("relabel", "status", "digits", cwd=history, expect=1)

    assert "datasets/digits/relabel/closed.jsonl:1: not a closing" in refused.stderr
    assert "closed 'yesterday'" in refused.stderr


def test_a_rewritten_closing_line_is_caught_by_verify(history, run, tmp_path):
    """closed.jsonl is append-only like the retractions: a line edited in place (a closing
    moved later) is named by `verify`, with the commit to revert."""
    plan = make_plan(run, history, tmp_path / "q", "--segment", "source=vendor-a")["plan"]
    run("relabel", "close", "digits", plan, cwd=history)
    path = history / "datasets/digits/relabel/closed.jsonl"
    [line] = closed_lines(history)
    path.write_text(json.dumps({**line, "closed": "2030-01-01T00:00:00+00:00"}) + "\n")
    git(history, "commit", "-q", "-am", "move the closing")
    sha = head(history)[:10]

    result = run("verify", cwd=history, expect=5)
    assert (
        f"commit {sha} ('move the closing') rewrote datasets/digits/relabel/closed.jsonl, an "
        "append-only file:" in result.stdout + result.stderr
    )


def test_a_dataset_with_a_closed_plan_counts_one_plan_when_removal_is_refused(
    history, run, tmp_path
):
    plan = make_plan(run, history, tmp_path / "q", "--segment", "source=vendor-a")["plan"]
    run("relabel", "close", "digits", plan, cwd=history)

    refused = run("dataset", "remove", "digits", cwd=history, expect=None)
    assert refused.exit_code != 0
    assert "1 relabel plan(s)" in refused.stderr  # not 2: closed.jsonl is no plan
