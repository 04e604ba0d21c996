"""One labeler id added in two clones for different vendors: `verify` reports the clash, and
`labeler settle` (an appended roster event, so the roster stays append-only) clears it in every
clone and a fresh clone (QA 36 M3)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import git, jsonl
from tests.store.test_team import clone, make_team

ROSTER = "labelers/roster.jsonl"


def roster(run, root: Path) -> dict[str, str]:
    listed = json.loads(run("labeler", "list", "--json", cwd=root).stdout)
    return {lab["id"]: lab["vendor"] for lab in listed}


def test_a_clash_from_two_clones_is_settled_by_an_appended_event(digits_ws, run, tmp_path):
    (tmp_path / "storage").mkdir()
    remote = {"url": str(tmp_path / "storage")}
    origin, a, b = make_team(digits_ws, tmp_path, remote, run)
    # b adds nD-01 for vendor-x and pushes; a, later, adds nD-01 for vendor-y
    run("labeler", "add", "nD-01", "--vendor", "vendor-x", cwd=b)
    run("push", cwd=b)
    run("labeler", "add", "nD-01", "--vendor", "vendor-y", cwd=a)
    git(a, "pull", "-q", "--no-rebase", "--no-edit", "origin", "main")  # plain git, no conflict

    # roster lines: vA-01, vB-01, then a's own add (line 3, vendor-y) before b's (line 4)
    advice = (
        "labeler nD-01 was added twice, for vendor-x and for vendor-y (labelers/roster.jsonl:3); "
        "the add for vendor-x counts until you say which vendor nD-01 works for: `labelspec labeler "
        "settle nD-01 --vendor vendor-x` (or --vendor vendor-y), then add the other person under "
        "a new id (`labelspec labeler add NEW-ID --vendor VENDOR`) and map their deliveries to "
        "it with --labeler-map"
    )
    assert json.loads(run("verify", "--json", cwd=a, expect=5).stdout)["problems"] == [advice]
    assert "verify found 1 problem(s) after the pull" in run("pull", cwd=a, expect=5).stderr

    # the advice, followed: nD-01 is vendor-x's; vendor-y's person gets nD-02
    out = run("labeler", "settle", "nD-01", "--vendor", "vendor-x", cwd=a).stdout
    assert out == "Settled labeler nD-01: works for vendor-x\n"
    run("labeler", "add", "nD-02", "--vendor", "vendor-y", cwd=a)
    assert json.loads(run("verify", "--json", cwd=a).stdout)["problems"] == []
    run("push", cwd=a)

    run("pull", cwd=b)  # verifies after the pull: exit 0
    fresh = clone(tmp_path, origin, "fresh", remote)
    run("pull", cwd=fresh)
    expected = {"vA-01": "vendor-a", "vB-01": "vendor-b", "nD-01": "vendor-x", "nD-02": "vendor-y"}
    for root in (a, b, fresh):
        assert json.loads(run("verify", "--json", cwd=root).stdout)["problems"] == []
        assert roster(run, root) == expected
    # append-only: both adds stay, the settle names the vendor and the one it overrules
    events = [(e["event"], e["id"], e.get("vendor"), e.get("over")) for e in jsonl(b / ROSTER)]
    assert events[2:] == [
        ("add", "nD-01", "vendor-y", None),
        ("add", "nD-01", "vendor-x", None),
        ("settle", "nD-01", "vendor-x", ["vendor-y"]),
        ("add", "nD-02", "vendor-y", None),
    ]
