"""`guideline new` and `guideline remove` on real git + DVC workspaces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labelspec import yamlio
from tests.helpers import git, head, state

NEW = ("guideline", "new", "school-buses", "--task", "detection")
CLASSES = ("--classes", "school_bus,pickup_truck")


def new(run, root: Path, *args: str) -> dict:
    return json.loads(run(*(args or (*NEW, *CLASSES)), "--json", cwd=root).stdout)


def committed(root: Path, rev: str = "HEAD") -> list[str]:
    return git(root, "show", "--name-only", "--format=", rev).split()


# -- new ---------------------------------------------------------------------------------------
def test_new_writes_a_spec_check_passes_with_slots_and_a_pending_first_release(
    workspace: Path, run
):
    before = head(workspace)
    result = new(run, workspace)

    folder = "guidelines/school-buses"
    files = [f"{folder}/docs/index.md", f"{folder}/examples/README.md", f"{folder}/spec.yaml"]
    assert result["files"] == files and result["commit"] == head(workspace)
    assert git(workspace, "rev-parse", "HEAD~1").strip() == before
    assert sorted(committed(workspace)) == files
    assert git(workspace, "log", "-1", "--format=%s").strip() == (
        "guideline new: school-buses (detection: school_bus, pickup_truck)"
    )
    assert git(workspace, "status", "--porcelain") == ""
    spec = yamlio.load_plain(workspace / folder / "spec.yaml")
    assert (spec["guideline"], spec["title"], spec["version"], spec["task"]) == (
        "school-buses", "School buses", "0.0.0", "detection",
    )  # fmt: skip
    assert [(c["id"], c["name"]) for c in spec["classes"]] == [
        ("school_bus", "School bus"),
        ("pickup_truck", "Pickup truck"),
    ]
    for cls in spec["classes"]:
        assert cls["examples"] == {"positive": [], "counter": [], "borderline": []}
    assert [dict(e) for e in spec["changelog"]] == [
        {"version": "unreleased", "summary": "First release", "affects": [], "relabel": "none"}
    ]
    assert result["placeholders"] == [
        "description",
        "rules[0].text",
        "classes[0].definition",
        "classes[1].definition",
    ]
    checked = json.loads(run("check", "guidelines/school-buses", "--json", cwd=workspace).stdout)
    assert checked["errors"] == []
    assert [w["message"] for w in checked["warnings"]] == [
        "class 'school_bus' has no counter or borderline example",
        "class 'pickup_truck' has no counter or borderline example",
    ]
    assert result["warnings"] == [
        f"guidelines/school-buses/spec.yaml:{w['line']}:{w['col']}: {w['path']}: {w['message']}"
        for w in checked["warnings"]
    ]


def test_the_spec_shows_how_an_example_of_its_task_is_written(tmp_path: Path, run):
    run("init", "ws", "--empty", cwd=tmp_path)
    root = tmp_path / "ws"
    new(run, root, "guideline", "new", "people", "--task", "ner", "--classes", "person,place")
    text = (root / "guidelines/people/spec.yaml").read_text()
    assert '{text: "...", spans: [{start: 0, end: 4, label: CLASS}], why: ...}' in text
    assert "# min_span_chars: 2" in text and "min_box_px" not in text
    assert not (root / "guidelines/people/examples").exists(), "ner examples live in spec.yaml"
    new(run, root, "guideline", "new", "topics", "--task", "multilabel", "--classes", "sport")
    topics = (root / "guidelines/topics/spec.yaml").read_text()
    assert "{image: examples/<file>.png, why: ...}" in topics and "min_box_px" not in topics
    run("check", cwd=root)


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (
            ("guideline", "new", "School Buses", "--task", "detection", "--classes", "bus"),
            ["guideline name 'School Buses': use lower-case letters, digits, '-' and '_'"],
        ),
        (
            ("guideline", "new", "pets", "--task", "classification", "--classes", "Cat,,dog,dog"),
            [
                "--classes Cat,dog,dog: 'Cat' is not a class id; dog given twice; a "
                "classification guideline needs at least 2 classes",
                "--classes school_bus,pickup_truck",
            ],
        ),
        (
            ("guideline", "new", "digits", "--task", "classification", "--classes", "a,b"),
            ["guidelines/digits exists; choose another name", "guideline remove digits"],
        ),
    ],
    ids=["name", "classes", "exists"],
)
def test_new_refuses_bad_input_in_one_message_and_writes_nothing(
    workspace: Path, run, args, fragments
):
    before = state(workspace)
    taken = "exists; choose another name" in fragments[0]
    result = run(*args, cwd=workspace, expect=4 if taken else 1)
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert state(workspace) == before


def test_a_task_is_one_of_four(workspace: Path, run):
    result = run(*NEW[:4], "boxes", *CLASSES, cwd=workspace, expect=2)
    assert "'boxes' is not one of 'detection', 'classification', 'multilabel', 'ner'" in (
        result.stderr
    )


def test_a_released_name_is_never_reused(workspace: Path, run):
    git(workspace, "tag", "-a", "guideline/school-buses/v1.0.0", "-m", "made elsewhere")
    before = state(workspace)
    result = run(*NEW, *CLASSES, cwd=workspace, expect=1)
    assert "guideline 'school-buses' was released before (guideline/school-buses/v1.0.0)" in (
        result.stderr
    )
    assert "git checkout guideline/school-buses/v1.0.0 -- guidelines/school-buses" in result.stderr
    assert state(workspace) == before


# -- the first release ------------------------------------------------------------------------------
def test_a_new_guideline_is_released_as_1_0_0_without_a_bump(workspace: Path, run):
    new(run, workspace)
    out = run("guideline", "release", "school-buses", "--date", "2026-03-01", "--json",
              cwd=workspace)  # fmt: skip
    result = json.loads(out.stdout)
    assert (result["version"], result["previous"], result["tag"]) == (
        "1.0.0", None, "guideline/school-buses/v1.0.0",
    )  # fmt: skip
    assert result["warnings"] == [
        "4 field(s) still say TODO: description, rules[0].text, classes[0].definition, "
        "classes[1].definition; labelers read them on the site: write them and release again "
        "(--bump patch)"
    ]
    spec = yamlio.load_plain(workspace / "guidelines/school-buses/spec.yaml")
    assert spec["version"] == "1.0.0"
    entry = spec["changelog"][0]
    assert (entry["version"], str(entry["date"]), entry["digest"]) == (
        "1.0.0", "2026-03-01", result["digest"],
    )  # fmt: skip
    assert git(workspace, "rev-list", "-n1", result["tag"]).strip() == head(workspace)
    run("check", cwd=workspace)


def test_written_placeholders_end_the_warning(workspace: Path, run):
    new(run, workspace)
    path = workspace / "guidelines/school-buses/spec.yaml"
    text = path.read_text()
    for line in [x for x in text.splitlines() if '"TODO:' in x]:
        key = line.split(":", 1)[0]
        text = text.replace(line, f'{key}: "Written."')
    path.write_text(text)
    git(workspace, "commit", "-qam", "written")
    result = json.loads(run("guideline", "release", "school-buses", "--json", cwd=workspace).stdout)
    assert result["version"] == "1.0.0" and result["warnings"] == []


# -- remove ---------------------------------------------------------------------------------------
def test_the_template_goes_in_two_commands_and_its_name_can_be_used_again(tmp_path: Path, run):
    run("init", "ws", cwd=tmp_path)
    root = tmp_path / "ws"
    assert git(root, "tag", "-l").split() == ["guideline/digits/v1.0.0"]

    out = run("dataset", "remove", "digits", cwd=root).stdout
    assert out.startswith("Removed dataset digits: datasets/digits/dataset.yaml, ")
    result = json.loads(run("guideline", "remove", "digits", "--json", cwd=root).stdout)

    assert result["deleted_tags"] == ["guideline/digits/v1.0.0"]
    assert len(result["files"]) == 43 and "guidelines/digits/spec.yaml" in result["files"]
    assert result["commit"] == head(root)
    assert git(root, "log", "--format=%s", "-2").splitlines() == [
        "guideline remove: digits",
        "dataset remove: digits",
    ]
    assert git(root, "tag", "-l") == "" and git(root, "status", "--porcelain") == ""
    assert not (root / "guidelines/digits").exists() and not (root / "datasets/digits").exists()
    assert "in 0 guideline(s)" in run("check", cwd=root).stdout
    new(run, root, "guideline", "new", "digits", "--task", "classification", "--classes", "a,b")
    assert run("guideline", "release", "digits", cwd=root).stdout.startswith(
        "Released digits v1.0.0\n"
    )


def test_remove_is_refused_while_a_dataset_is_labeled_under_it(workspace: Path, run):
    before = state(workspace)
    result = run("guideline", "remove", "digits", cwd=workspace, expect=1)
    assert result.stderr.strip() == (
        "Error: guideline 'digits' is not removed (nothing was changed): dataset(s) digits are "
        "labeled under it: remove them first (`labelspec dataset remove digits`; refused in turn "
        "while they hold items or labels)"
    )
    assert state(workspace) == before


def test_remove_is_refused_while_training_records_name_it(workspace: Path, run):
    run("dataset", "remove", "digits", cwd=workspace)
    run("labeler", "add", "vA-01", "--vendor", "vendor-a", cwd=workspace)
    run("labeler", "train", "vA-01", "--guideline", "digits", "--version", "1.0.0", "--method",
        "session", "--score", "0.9", "--passed", cwd=workspace)  # fmt: skip
    before = state(workspace)
    result = run("guideline", "remove", "digits", cwd=workspace, expect=1)
    assert "training records of 1 labeler(s) (vA-01) name its releases" in result.stderr
    assert "Instead, leave it (the site and `labeler status` list it)" in result.stderr
    assert state(workspace) == before


def test_remove_is_refused_once_a_release_has_left_the_clone(workspace: Path, run, tmp_path):
    run("dataset", "remove", "digits", cwd=workspace)
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    git(workspace, "remote", "add", "origin", str(origin))
    git(workspace, "push", "-q", "origin", "main", "--tags")
    before = state(workspace)
    result = run("guideline", "remove", "digits", cwd=workspace, expect=1)
    assert "its releases have left this clone (1.0.0 on origin/main)" in result.stderr
    assert state(workspace) == before


def test_remove_keeps_uncommitted_work(workspace: Path, run):
    run("dataset", "remove", "digits", cwd=workspace)
    faq = workspace / "guidelines/digits/docs/faq.md"
    faq.write_text(faq.read_text() + "\nNot committed.\n")
    before = state(workspace)
    result = run("guideline", "remove", "digits", cwd=workspace, expect=1)
    assert "guidelines/digits has uncommitted changes (guidelines/digits/docs/faq.md)" in (
        result.stderr
    )
    assert state(workspace) == before
