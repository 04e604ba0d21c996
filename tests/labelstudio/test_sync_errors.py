"""`relabel push` / `pull` refusals that need no server: each says what to run instead."""

from __future__ import annotations

import json

from tests.helpers import git, state
from tests.trace.conftest import make_plan


def test_push_needs_the_plan_folder_and_pull_needs_a_push(history, run, tmp_path, monkeypatch):
    monkeypatch.setenv("LABELSPEC_LABEL_STUDIO_TOKEN", "unused")
    plan = make_plan(run, history, tmp_path / "q")

    by_id = run(
        "relabel",
        "push",
        plan["plan"],
        "--labelstudio",
        "http://127.0.0.1:9",
        cwd=history,
        expect=1,
    )
    assert "give the --out folder of `relabel plan`" in by_id.stderr

    unknown = run("relabel", "pull", "rp-nope", cwd=history, expect=3)
    assert "no relabel plan 'rp-nope'" in unknown.stderr

    never = run("relabel", "pull", plan["plan"], cwd=history, expect=1)
    assert "has no Label Studio project: run `labelspec relabel push` first" in never.stderr

    down = run(
        "relabel",
        "push",
        str(tmp_path / "q"),
        "--labelstudio",
        "http://127.0.0.1:9",
        cwd=history,
        expect=6,
    )
    assert "cannot reach Label Studio at http://127.0.0.1:9" in down.stderr
    # the warning about images comes only after a push that worked; nothing was recorded
    assert (
        "labelstudio" not in (history / f"datasets/digits/relabel/{plan['plan']}.json").read_text()
    )


def test_a_closed_plan_is_neither_pushed_nor_pulled_and_no_server_is_asked(
    history, run, tmp_path, monkeypatch
):
    # port 9 (discard) answers nothing: a push or pull that asked it would fail with exit 6
    monkeypatch.setenv("LABELSPEC_LABEL_STUDIO_TOKEN", "unused")
    plan = make_plan(run, history, tmp_path / "q")
    record = history / f"datasets/digits/relabel/{plan['plan']}.json"
    pushed = {**plan, "labelstudio": {"url": "http://127.0.0.1:9", "project": 1}}
    record.write_text(json.dumps(pushed, indent=1) + "\n")
    git(history, "commit", "-q", "-am", f"relabel push {plan['plan']}: project 1")
    closed = json.loads(
        run("relabel", "close", "digits", plan["plan"], "--json", cwd=history).stdout
    )
    before = state(history)

    push = run(
        "relabel", "push", str(tmp_path / "q"), "--labelstudio", "http://127.0.0.1:9",
        cwd=history, expect=4,
    )  # fmt: skip
    pull = run("relabel", "pull", plan["plan"], cwd=history, expect=4)

    assert f"relabel plan {plan['plan']} was closed on {closed['closed']}: it is not pushed" in (
        push.stderr
    )
    assert f"was closed on {closed['closed']}: its answers are not pulled" in pull.stderr
    assert "cannot reach" not in push.stderr + pull.stderr
    assert state(history) == before
