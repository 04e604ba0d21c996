"""`labeler add/list/deactivate/train/status` on real workspaces."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tests.helpers import edit, git, jsonl, state

SPEC = "guidelines/digits/spec.yaml"
ROSTER = "labelers/roster.jsonl"
TRAINING = "labelers/training.jsonl"


def release(run, root: Path, bump: str, summary: str, affects: tuple[str, ...] = ()) -> str:
    entry = (
        f"  - version: unreleased\n    summary: {summary}\n"
        f"    affects: [{', '.join(affects)}]\n    relabel: none\n"
    )
    edit(root, ("\n\nquality:", f"\n{entry}\nquality:"))
    git(root, "commit", "-q", "-am", summary)
    args = ("--bump", bump, "--date", "2026-01-15", "--json")  # before the trainings
    out = run("guideline", "release", "digits", *args, cwd=root).stdout
    return json.loads(out)["version"]


def touch_docs(root: Path) -> None:
    faq = root / "guidelines/digits/docs/faq.md"
    faq.write_text(faq.read_text() + "\nA clearer sentence.\n")


def clarify_seven(root: Path) -> None:
    edit(
        root,
        (
            "definition: A horizontal top bar joined to a diagonal stroke.",
            "definition: A top bar joined to a diagonal stroke, crossed or not.",
        ),
    )


def add(run, root: Path, labeler: str, vendor: str = "vendor-a", *extra: str) -> None:
    run("labeler", "add", labeler, "--vendor", vendor, *extra, cwd=root)


def train(run, root: Path, labeler: str, version: str, *, passed: bool = True, score="0.95"):
    args = ["--guideline", "digits", "--version", version, "--method", "session"]
    args += ["--score", score, "--passed" if passed else "--failed", "--date", "2026-02-01"]
    return json.loads(run("labeler", "train", labeler, *args, "--json", cwd=root).stdout)


def status(run, root: Path) -> dict[str, dict]:
    out = run("labeler", "status", "--guideline", "digits", "--json", cwd=root).stdout
    return {row["labeler"]: row for row in json.loads(out)}


# -- roster ----------------------------------------------------------------------------------------
def test_add_list_and_deactivate_are_stored_and_committed(workspace: Path, run):
    out = run("labeler", "add", "va-017", "--vendor", "vendor-a", cwd=workspace).stdout
    assert out.strip() == "Added labeler va-017 (vendor-a)"
    assert git(workspace, "log", "-1", "--format=%s").strip() == (
        "labelspec: add labeler va-017 (vendor-a)"
    )
    add(run, workspace, "vb-001", "vendor-b", "--team", "night")
    assert git(workspace, "status", "--porcelain") == ""

    # an append-only log of events, one JSON line each (merge=union)
    stored = jsonl(workspace / ROSTER)
    assert [(x["event"], x["id"], x["vendor"], x.get("team")) for x in stored] == [
        ("add", "va-017", "vendor-a", None),
        ("add", "vb-001", "vendor-b", "night"),
    ]

    listed = json.loads(run("labeler", "list", "--json", cwd=workspace).stdout)
    assert [(x["id"], x["vendor"], x["team"], x["active"]) for x in listed] == [
        ("va-017", "vendor-a", None, True),
        ("vb-001", "vendor-b", "night", True),
    ]
    assert all(x["added"] for x in listed)

    out = run("labeler", "deactivate", "va-017", cwd=workspace).stdout
    assert out.strip() == "Deactivated labeler va-017"
    assert git(workspace, "status", "--porcelain") == ""
    assert [(x["event"], x["id"]) for x in jsonl(workspace / ROSTER)][-1] == (
        "deactivate",
        "va-017",
    )
    listed = json.loads(run("labeler", "list", "--json", cwd=workspace).stdout)
    assert [(x["id"], x["active"]) for x in listed] == [("va-017", False), ("vb-001", True)]
    active = json.loads(run("labeler", "list", "--active", "--json", cwd=workspace).stdout)
    assert [x["id"] for x in active] == ["vb-001"]
    table = run("labeler", "list", cwd=workspace).stdout
    assert "va-017" in table and "night" in table
    run("labeler", "activate", "va-017", cwd=workspace)
    listed = json.loads(run("labeler", "list", "--json", cwd=workspace).stdout)
    assert [(x["id"], x["active"]) for x in listed] == [("va-017", True), ("vb-001", True)]


ADD_REFUSALS = {
    "e-mail": (["jane.doe@vendor-a.com"], "looks like an e-mail address"),
    "space": (["jane doe"], "contains spaces"),
    "slash": (["team/017"], "use letters, digits, '.', '_' and '-'"),
    "duplicate": (["va-017"], "labeler 'va-017' already exists"),
    "empty vendor": (["vc-001", "--vendor", " "], "--vendor must not be empty"),
}


@pytest.mark.parametrize("case", list(ADD_REFUSALS))
def test_add_refuses_bad_ids_and_changes_nothing(workspace: Path, run, case):
    add(run, workspace, "va-017")
    args, message = ADD_REFUSALS[case]
    if "--vendor" not in args:
        args = [*args, "--vendor", "vendor-a"]
    before = state(workspace)
    # a taken id is a conflict (exit 4); a bad one, bad input (exit 1)
    result = run("labeler", "add", *args, cwd=workspace, expect=4 if case == "duplicate" else 1)
    assert result.stderr.startswith("Error: ") and message in result.stderr
    assert state(workspace) == before


def test_deactivate_refuses_unknown_and_inactive_labelers(workspace: Path, run):
    add(run, workspace, "va-017")
    run("labeler", "deactivate", "va-017", cwd=workspace)
    before = state(workspace)
    again = run("labeler", "deactivate", "va-017", cwd=workspace, expect=4)
    assert "labeler 'va-017' is already inactive" in again.stderr
    unknown = run("labeler", "deactivate", "nobody", cwd=workspace, expect=3)
    assert "no labeler 'nobody' in labelers/roster.jsonl" in unknown.stderr
    assert state(workspace) == before


# -- training records ------------------------------------------------------------------------------
def test_training_records_are_committed_with_ids_no_two_clones_share(make_workspace, run):
    ids = []
    for name in ("one", "two"):
        root = make_workspace(name=name)
        add(run, root, "va-017")
        first = train(run, root, "va-017", "v1.0.0", passed=False, score="0.5")
        second = train(run, root, "va-017", "1.0.0")
        ids.append((first["id"], second["id"]))
        assert git(root, "status", "--porcelain") == ""
        assert git(root, "log", "-1", "--format=%s").strip() == (
            "labelspec: va-017 passed digits v1.0.0 (session 95%)"
        )
        stored = jsonl(root / TRAINING)
        assert [r["id"] for r in stored] == [first["id"], second["id"]]
        assert stored[1] == {
            "id": second["id"],
            "labeler": "va-017",
            "guideline": "digits",
            "version": "1.0.0",
            "date": str(dt.date(2026, 2, 1)),
            "method": "session",
            "score": 0.95,
            "passed": True,
            "quiz": None,
        }
    (first, second), again = ids
    assert first != second and first.startswith("tr-")
    # the same trainings recorded in two clones are two records: their union must not collide
    assert not set(again) & {first, second}


def test_train_prints_the_record(workspace: Path, run):
    add(run, workspace, "va-017")
    args = ("--guideline", "digits", "--version", "1.0.0", "--method", "quiz", "--score", "0.9")
    out = run("labeler", "train", "va-017", *args, "--passed", cwd=workspace).stdout
    record_id = jsonl(workspace / TRAINING)[0]["id"]
    assert out.strip() == f"Recorded {record_id}: va-017 passed digits v1.0.0 (90%)"


TRAIN_REFUSALS = {
    "unknown labeler": (["nobody", "--version", "1.0.0", "--passed"], "no labeler 'nobody'"),
    "inactive labeler": (["gone-01", "--version", "1.0.0", "--passed"], "'gone-01' is inactive"),
    "unreleased version": (
        ["va-017", "--version", "1.1.0", "--passed"],
        "guideline 'digits' has no release 1.1.0 (released: 1.0.0)",
    ),
    "score as percent": (
        ["va-017", "--version", "1.0.0", "--passed", "--score", "92"],
        "92 % is 0.92",
    ),
    "no outcome": (["va-017", "--version", "1.0.0"], "--passed or --failed"),
    "a date past tomorrow": (
        ["va-017", "--version", "1.0.0", "--passed", "--date", "2099-01-01"],
        "--date 2099-01-01 is in the future",
    ),
    # QA 36 L3: digits 1.0.0 is dated 2026-01-15 in the template's changelog
    "a date long before the release": (
        ["va-017", "--version", "1.0.0", "--passed", "--date", "0001-01-01"],
        "--date 0001-01-01 is before digits 1.0.0 was released (2026-01-15): a training on "
        "1.0.0 happens on or after its release; give the day it happened (labelers trained "
        "before a guideline was adopted: date its release when you make it, `guideline release "
        "--date`",
    ),
}


# not found (3), the labeler's state forbids it (4); the rest is bad input (1)
TRAIN_EXITS = {"unknown labeler": 3, "inactive labeler": 4, "unreleased version": 3}


@pytest.mark.parametrize("case", list(TRAIN_REFUSALS))
def test_train_refusals_change_nothing(workspace: Path, run, case):
    add(run, workspace, "va-017")
    add(run, workspace, "gone-01")
    run("labeler", "deactivate", "gone-01", cwd=workspace)
    args, message = TRAIN_REFUSALS[case]
    if "--score" not in args:
        args = [*args, "--score", "0.9"]
    before = state(workspace)
    args = [*args, "--guideline", "digits", "--method", "session"]
    result = run("labeler", "train", *args, cwd=workspace, expect=TRAIN_EXITS.get(case, 1))
    assert result.stderr.startswith("Error: ") and message in result.stderr, result.stderr
    assert state(workspace) == before


# -- status ----------------------------------------------------------------------------------------
def team(run, root: Path) -> None:
    """certified passed 1.0.0; failed failed it; fresh has no record; gone passed but left."""
    for labeler in ("certified", "failed", "fresh", "gone"):
        add(run, root, labeler)
    train(run, root, "certified", "1.0.0")
    train(run, root, "failed", "1.0.0", passed=False, score="0.4")
    train(run, root, "gone", "1.0.0")
    run("labeler", "deactivate", "gone", cwd=root)


def test_status_on_the_first_release(workspace: Path, run):
    team(run, workspace)
    rows = status(run, workspace)
    assert list(rows) == ["certified", "failed", "fresh"], "inactive labelers are not listed"
    assert rows["certified"] == {
        "labeler": "certified",
        "vendor": "vendor-a",
        "guideline": "digits",
        "current": "1.0.0",
        "certified": "1.0.0",
        "record": rows["certified"]["record"],
        "covered": True,
        "changed_since": [],
        "changed_within": {},
        "action": "ok",
    }
    assert rows["certified"]["record"].startswith("tr-")
    for name in ("failed", "fresh"):
        assert rows[name]["certified"] is None and rows[name]["covered"] is False
        assert rows[name]["action"] == "train"


def test_status_after_a_release_that_changes_a_class(workspace: Path, run):
    team(run, workspace)
    clarify_seven(workspace)
    assert release(run, workspace, "minor", "Clarify the seven") == "1.1.0"
    rows = status(run, workspace)
    certified = rows["certified"]
    assert (certified["certified"], certified["current"]) == ("1.0.0", "1.1.0")
    assert certified["covered"] is False and certified["changed_since"] == ["seven"]
    assert certified["action"] == "retrain"
    assert rows["fresh"]["action"] == "train"

    table = run("labeler", "status", cwd=workspace).stdout
    assert "retrain" in table and "seven" in table

    train(run, workspace, "certified", "1.1.0")
    again = status(run, workspace)["certified"]
    assert again["certified"] == "1.1.0" and again["covered"] is True
    assert again["changed_since"] == [] and again["action"] == "ok"


def test_status_after_a_release_that_changes_no_class(workspace: Path, run):
    team(run, workspace)
    touch_docs(workspace)
    assert release(run, workspace, "patch", "Wording of the FAQ") == "1.0.1"
    certified = status(run, workspace)["certified"]
    assert (certified["certified"], certified["current"]) == ("1.0.0", "1.0.1")
    assert certified["covered"] is True and certified["changed_since"] == []
    assert certified["action"] == "ok"


def test_status_honours_classes_the_changelog_declares(workspace: Path, run):
    team(run, workspace)
    touch_docs(workspace)
    assert release(run, workspace, "patch", "Fours need a closer look", ("four",)) == "1.0.1"
    certified = status(run, workspace)["certified"]
    assert certified["covered"] is False and certified["changed_since"] == ["four"]
    assert certified["action"] == "retrain"


def test_a_pass_covers_later_releases_until_one_changes_a_class(workspace: Path, run):
    add(run, workspace, "early")
    add(run, workspace, "middle")
    touch_docs(workspace)
    assert release(run, workspace, "patch", "FAQ wording") == "1.0.1"
    train(run, workspace, "early", "1.0.1")
    clarify_seven(workspace)
    assert release(run, workspace, "minor", "Clarify the seven") == "1.1.0"
    train(run, workspace, "middle", "1.1.0")
    touch_docs(workspace)
    assert release(run, workspace, "patch", "More FAQ wording") == "1.1.1"

    rows = status(run, workspace)
    assert rows["early"]["certified"] == "1.0.1" and rows["early"]["current"] == "1.1.1"
    assert rows["early"]["changed_since"] == ["seven"] and rows["early"]["action"] == "retrain"
    assert rows["middle"]["certified"] == "1.1.0" and rows["middle"]["covered"] is True
    assert rows["middle"]["changed_since"] == [] and rows["middle"]["action"] == "ok"


def test_status_of_an_unknown_guideline_says_which_exist(workspace: Path, run):
    result = run("labeler", "status", "--guideline", "cats", cwd=workspace, expect=3)
    assert "no guideline 'cats'" in result.stderr and "known: digits" in result.stderr


def test_train_help_states_the_score_range(workspace: Path, run):
    out = run("labeler", "train", "--help", cwd=workspace).stdout
    assert "0<=x<=1" in out and "None" not in out


def test_train_takes_tomorrow_not_the_day_after(workspace: Path, run):
    # a day's grace for a trainer east of UTC; two days ahead is a typo
    add(run, workspace, "va-017")
    args = ("--guideline", "digits", "--version", "1.0.0", "--method", "quiz", "--score", "0.9")
    today = dt.date.today()
    for days, code in ((1, 0), (2, 1)):
        when = (today + dt.timedelta(days=days)).isoformat()
        run(
            "labeler",
            "train",
            "va-017",
            *args,
            "--passed",
            "--date",
            when,
            cwd=workspace,
            expect=code,
        )
    assert [r["date"] for r in jsonl(workspace / TRAINING)] == [
        (today + dt.timedelta(days=1)).isoformat()
    ]


# -- a clash of adds from two clones, settled --------------------------------------------------------
def merged_add(root: Path, labeler: str, vendor: str, at: str, team: str | None = None) -> None:
    """The add a teammate's clone made, as a plain `git pull` (union merge) appends it."""
    event = {"event": "add", "id": labeler, "vendor": vendor, "team": team, "at": at}
    with (root / ROSTER).open("a") as handle:
        handle.write(json.dumps(event, sort_keys=True) + "\n")
    git(root, "commit", "-q", "-am", f"merge: {labeler} for {vendor}")


def problems(run, root: Path, expect: int) -> list[str]:
    return json.loads(run("verify", "--json", cwd=root, expect=expect).stdout)["problems"]


def test_settling_on_the_later_vendor_takes_its_team_and_clears_verify(workspace: Path, run):
    add(run, workspace, "nD-01", "vendor-x", "--team", "day")
    merged_add(workspace, "nD-01", "vendor-y", "2999-01-01T00:00:00+00:00", team="night")
    assert len(problems(run, workspace, 5)) == 1
    assert [row[:3] for row in listed(run, workspace)] == [("nD-01", "vendor-x", "day")]

    out = run("labeler", "settle", "nD-01", "--vendor", "vendor-y", cwd=workspace).stdout
    assert out == "Settled labeler nD-01: works for vendor-y\n"
    assert problems(run, workspace, 0) == []
    assert [row[:3] for row in listed(run, workspace)] == [("nD-01", "vendor-y", "night")]
    assert git(workspace, "status", "--porcelain") == ""
    # a third vendor's add reaching the roster later is a new clash: the settle did not decide it
    merged_add(workspace, "nD-01", "vendor-z", "2999-01-02T00:00:00+00:00")
    [clash] = problems(run, workspace, 5)
    assert clash.startswith("labeler nD-01 was added twice, for vendor-y and for vendor-z ")


def listed(run, root: Path) -> list[tuple]:
    out = json.loads(run("labeler", "list", "--json", cwd=root).stdout)
    return [(lab["id"], lab["vendor"], lab["team"], lab["active"]) for lab in out]


SETTLE_REFUSALS = {
    "a vendor it was not added for": (
        ["nD-01", "--vendor", "vendor-q"],
        "labeler 'nD-01' was added for vendor-x and vendor-y, not 'vendor-q': settle it on one "
        "of those",
        1,
    ),
    "no clash": (
        ["va-017", "--vendor", "vendor-a"],
        "labeler 'va-017' was added for vendor-a only: nothing to settle",
        4,
    ),
    "unknown labeler": (["nD-99", "--vendor", "vendor-x"], "no labeler 'nD-99'", 3),
}


@pytest.mark.parametrize("case", [*SETTLE_REFUSALS, "already settled"])
def test_settle_refusals_change_nothing(workspace: Path, run, case):
    add(run, workspace, "va-017")
    add(run, workspace, "nD-01", "vendor-x")
    merged_add(workspace, "nD-01", "vendor-y", "2999-01-01T00:00:00+00:00")
    if case == "already settled":
        run("labeler", "settle", "nD-01", "--vendor", "vendor-x", cwd=workspace)
        args, message, code = (
            ["nD-01", "--vendor", "vendor-x"],
            "labeler 'nD-01' is already settled on vendor-x",
            4,
        )
    else:
        args, message, code = SETTLE_REFUSALS[case]
    before = state(workspace)
    result = run("labeler", "settle", *args, cwd=workspace, expect=code)
    assert result.stderr.startswith("Error: ") and message in result.stderr, result.stderr
    assert state(workspace) == before


def test_train_takes_the_day_before_the_release_not_two(workspace: Path, run):
    # a day's grace: the release date is UTC, a trainer west of it may still be on the day before
    add(run, workspace, "va-017")
    args = ("--guideline", "digits", "--version", "1.0.0", "--method", "quiz", "--score", "0.9")
    for when, code in (("2026-01-13", 1), ("2026-01-14", 0)):
        run(
            "labeler",
            "train",
            "va-017",
            *args,
            "--passed",
            "--date",
            when,
            cwd=workspace,
            expect=code,
        )
    assert [r["date"] for r in jsonl(workspace / TRAINING)] == ["2026-01-14"]
