"""Box questions in `labeler quiz` on a detection guideline (school-buses, whose examples carry
their answers drawn), graded like class questions; `--changed-since` asks about the examples of
changed rules and the changed examples.

school-buses 1.0.0 draws three examples, each with one box of its answer and one "not this":
the bus (80, 118, 150, 56) against a loose (64, 100, 190, 90); the cut-off bus (0, 118, 80, 56)
against one stopping short, (14, 118, 66, 56); the pickup (120, 112, 84, 40) against the same
box called a school bus. So each asks "which drawn box is right?".
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from labelspec.demo import school_buses
from tests.conftest import copy_workspace

SPEC = f"guidelines/{school_buses.NAME}/spec.yaml"
R2_OLD = "text: A bus cut by the image border is boxed up to the border."
R2_NEW = "text: A bus cut by the image border is boxed only when a third of it is visible."
RIGHT = {
    "school_bus.positive[0]": {"class": "school_bus", "x": 80.0, "y": 118.0, "w": 150.0, "h": 56.0},
    "school_bus.borderline[0]": {"class": "school_bus", "x": 0.0, "y": 118.0, "w": 80.0, "h": 56.0},
    "pickup_truck.positive[0]": {"class": "pickup_truck", "x": 120.0, "y": 112.0, "w": 84.0, "h": 40.0},
}  # fmt: skip
WRONG = {
    "school_bus.positive[0]": {"class": "school_bus", "x": 64.0, "y": 100.0, "w": 190.0, "h": 90.0},
    "school_bus.borderline[0]": {"class": "school_bus", "x": 14.0, "y": 118.0, "w": 66.0, "h": 56.0},
    "pickup_truck.positive[0]": {"class": "school_bus", "x": 120.0, "y": 112.0, "w": 84.0, "h": 40.0},
}  # fmt: skip


@pytest.fixture(scope="module")
def buses(tmp_path_factory, pristine) -> Path:
    from labelspec.guideline.release import tag_current
    from labelspec.labelers.roster import add_labeler
    from labelspec.workspace import Workspace

    root = copy_workspace(pristine("detection"), tmp_path_factory.mktemp("box-quiz") / "ws")
    school_buses.write(root / "guidelines" / school_buses.NAME)
    subprocess.run(["git", "add", "guidelines"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-qm", "school-buses"], cwd=root, check=True)
    tag_current(Workspace(root), school_buses.NAME)
    add_labeler(Workspace(root), "sB-01", "southbound")
    return root


@pytest.fixture
def ws(buses: Path, tmp_path: Path) -> Path:
    return copy_workspace(buses, tmp_path / "ws")


def quiz(run, root: Path, out: Path, *args: str) -> tuple[dict, dict, str]:
    result = run("labeler", "quiz", school_buses.NAME, "--out", str(out), "--json", *args, cwd=root)
    key = json.loads(out.with_name(out.name + ".key.json").read_text())
    return json.loads(result.stdout), key, (out / "quiz.html").read_text()


def release(run, root: Path, summary: str, *pairs: tuple[str, str], bump: str = "minor") -> None:
    spec = root / SPEC
    text = spec.read_text()
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    spec.write_text(
        text + f"  - version: unreleased\n    summary: {summary}\n    affects: []\n"
        "    relabel: none\n"
    )
    subprocess.run(["git", "commit", "-qam", summary], cwd=root, check=True)
    run("guideline", "release", school_buses.NAME, "--bump", bump, cwd=root)


def grade(run, root: Path, out: Path, given: dict, tmp_path: Path, expect: int = 0):
    answers = tmp_path / "answers.json"
    key = json.loads(out.with_name(out.name + ".key.json").read_text())
    answers.write_text(json.dumps({"quiz": key["quiz"], "labeler": "sB-01", "answers": given}))
    done = run("labeler", "grade", str(out), str(answers), "--json", cwd=root, expect=expect)
    return json.loads(done.stdout), answers.with_name("answers.feedback.html")


def test_each_drawn_example_asks_which_box_is_right(ws, run, tmp_path):
    result, key, page = quiz(run, ws, tmp_path / "send", "--n", "3")

    assert (result["questions"], result["box_questions"]) == (3, 3)
    assert {q["source"] for q in key["questions"]} == set(RIGHT)
    for q in key["questions"]:
        assert q["type"] == "pick"
        drawn = {c["number"]: (c["box"], c["right"]) for c in q["candidates"]}
        boxes = [{k: box[k] for k in ("class", "x", "y", "w", "h")} for box, _ in drawn.values()]
        assert sorted(boxes, key=str) == sorted([RIGHT[q["source"]], WRONG[q["source"]]], key=str)
        right = next(n for n, (_, ok) in drawn.items() if ok)
        assert drawn[right][0]["x"] == RIGHT[q["source"]]["x"]
        assert q["answer"] == f"b{right}"
        assert q["options"] == [f"b{n}" for n in sorted(drawn)] + ["none"]
    # the page draws every candidate alike and says nothing of which is right
    assert page.count('class="ls-mark ls-mark-candidate"') == 6
    assert 'class="ls-right"' not in page and 'class="ls-wrong"' not in page
    assert "Not this" not in page and "Box it like this" not in page
    assert page.count('type="radio"') == 3 * 3
    assert "Which drawn box is right" in page


def test_the_numbering_is_shuffled_by_the_seed_and_the_same_for_a_seed(ws, run, tmp_path):
    numbers = {}
    for seed in range(6):
        _, key, _ = quiz(run, ws, tmp_path / f"s{seed}", "--n", "3", "--seed", str(seed))
        numbers[seed] = {q["source"]: q["answer"] for q in key["questions"]}
    _, again, _ = quiz(run, ws, tmp_path / "again", "--n", "3", "--seed", "0")
    assert {q["source"]: q["answer"] for q in again["questions"]} == numbers[0]
    assert {a for found in numbers.values() for a in found.values()} == {"b1", "b2"}


def test_box_answers_are_graded_like_class_answers(ws, run, tmp_path):
    out = tmp_path / "send"
    _, key, _ = quiz(run, ws, out, "--n", "3")
    given = {q["id"]: q["answer"] for q in key["questions"]}
    first = key["questions"][0]
    given[first["id"]] = next(o for o in first["options"] if o not in (first["answer"], "none"))

    graded, feedback = grade(run, ws, out, given, tmp_path)

    assert (graded["correct"], graded["total"], graded["passed"]) == (2, 3, False)
    assert graded["wrong"] == [
        {"question": first["id"], "expected": first["answer"], "given": given[first["id"]]}
    ]
    page = feedback.read_text()
    # the feedback shows the answer: its box solid, the mistake dashed, in words too
    assert page.count('class="ls-mark ls-mark-right"') == 3
    assert page.count('class="ls-mark ls-mark-wrong"') == 3
    number = first["answer"][1:]
    assert f"The answer is <strong>Box {number} (" in page


def test_an_example_with_several_boxes_asks_whether_one_is_right(ws, run, tmp_path):
    two = (
        "      counter:\n"
        "        - image: examples/pickup.png\n"
        "          label: pickup_truck\n"
        "          why: A pickup, not a bus.\n"
        "          boxes: [{class: pickup_truck, x: 120, y: 112, w: 84, h: 40}]\n"
    )
    release(run, ws, "A counterexample", ("      borderline:\n", two + "      borderline:\n"))

    _, key, _ = quiz(run, ws, tmp_path / "send", "--n", "4")

    (judged,) = [q for q in key["questions"] if q["source"] == "school_bus.counter[0]"]
    assert (judged["type"], judged["options"], judged["answer"]) == ("judge", ["yes", "no"], "yes")
    assert [c["right"] for c in judged["candidates"]] == [True]


def test_changed_since_asks_about_the_examples_of_a_changed_rule(ws, run, tmp_path):
    """R2 (boxes at the border) reworded: the cut-off bus cites it and is boxed at the border;
    no class changed as a whole, so nothing else is asked."""
    release(run, ws, "A third of a bus", (R2_OLD, R2_NEW))

    result, key, _ = quiz(run, ws, tmp_path / "send", "--changed-since", "1.0.0", "--n", "5")

    assert (result["classes"], result["examples"]) == ([], ["school_bus.borderline[0]"])
    assert [q["source"] for q in key["questions"]] == ["school_bus.borderline[0]"]


def test_changed_since_asks_about_a_changed_example(ws, run, tmp_path):
    why = 'why: "A cab and an open bed: a pickup, even when yellow."'
    release(
        run,
        ws,
        "Reword",
        (why, 'why: "A cab and an open bed: a pickup, whatever its colour."'),
        bump="patch",
    )

    result, key, _ = quiz(run, ws, tmp_path / "send", "--changed-since", "1.0.0")

    assert result["examples"] == ["pickup_truck.positive[0]"]
    assert [q["source"] for q in key["questions"]] == ["pickup_truck.positive[0]"]
