"""`relabel push` / `pull` refusals that need no server: each says what to run instead."""

from __future__ import annotations

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
