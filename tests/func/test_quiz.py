"""`labeler quiz` (a self-contained page + answer key) and `labeler grade` on real workspaces."""

from __future__ import annotations

import base64
import csv
import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from labelspec.guideline.releases import spec_at
from labelspec.workspace import Workspace
from tests.helpers import edit, jsonl, state

SPEC = "guidelines/digits/spec.yaml"
EXAMPLES = "guidelines/digits/examples"
TRAINING = "labelers/training.jsonl"
TAG = "guideline/digits/v1.0.0"


def git(root: Path, *args: str, text: bool = True):
    done = subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=text)
    return done.stdout


def dvc(root: Path, *args: str) -> None:
    env = {**os.environ, "DVC_TEST": "1", "DVC_NO_ANALYTICS": "1"}
    subprocess.run([sys.executable, "-m", "dvc", *args], cwd=root, env=env, check=True)


def release_patch(run, root: Path, summary: str) -> str:
    entry = f"  - version: unreleased\n    summary: {summary}\n    affects: []\n    relabel: none\n"
    edit(root, ("\n\nquality:", f"\n{entry}\nquality:"))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", summary)
    out = run("guideline", "release", "digits", "--bump", "patch", "--json", cwd=root).stdout
    return json.loads(out)["version"]


def key_file(out: Path) -> Path:
    return out.with_name(out.name + ".key.json")


def make_quiz(run, root: Path, out: Path, *args: str) -> tuple[dict, dict, str]:
    result = json.loads(
        run("labeler", "quiz", "digits", "--out", str(out), "--json", *args, cwd=root).stdout
    )
    key = json.loads(key_file(out).read_text())
    return result, key, (out / "quiz.html").read_text()


def expected_answer(spec, source: str) -> tuple[str, object]:
    """The answer a question's source example implies, and the example itself."""
    class_id, kind, index = re.fullmatch(r"(\w+)\.(\w+)\[(\d+)\]", source).groups()
    example = getattr(spec.get_class(class_id).examples, kind)[int(index)]
    if kind == "positive":
        return class_id, example
    if kind == "counter":
        return example.label or "none", example
    return example.decision, example


def page_images(page: str) -> list[bytes]:
    return [
        base64.b64decode(d) for d in re.findall(r'<img src="data:image/png;base64,([^"]+)"', page)
    ]


def answers(key: dict, wrong: int = 0, missing: int = 0) -> dict[str, str]:
    given = {q["id"]: q["answer"] for q in key["questions"]}
    for q in key["questions"][:wrong]:
        given[q["id"]] = next(o for o in key["options"] if o != q["answer"])
    for q in key["questions"][wrong : wrong + missing]:
        del given[q["id"]]
    return given


def write_answers(path: Path, key: dict, given: dict[str, str], quiz: str | None = None) -> Path:
    path.write_text(json.dumps({"quiz": quiz or key["quiz"], "answers": given}))
    return path


def records(root: Path) -> list[dict]:
    return jsonl(root / TRAINING)


# -- building quizzes ------------------------------------------------------------------------------
def test_a_quiz_is_mostly_hard_cases_with_answers_from_the_spec(workspace: Path, tmp_path, run):
    result, key, _ = make_quiz(run, workspace, tmp_path / "quiz")
    assert result["questions"] == 20 and result["hard"] == 15
    assert result["page"] == str(tmp_path / "quiz" / "quiz.html")
    kinds = [q["kind"] for q in key["questions"]]
    assert sum(k != "positive" for k in kinds) == 15 and "positive" in kinds
    assert [q["id"] for q in key["questions"]] == [f"q{i:02d}" for i in range(1, 21)]
    assert len({q["source"] for q in key["questions"]}) == 20

    spec = spec_at(Workspace(workspace), "digits", "1.0.0")
    assert key["guideline"] == "digits" and key["version"] == "1.0.0"
    assert key["options"] == spec.class_ids
    for question in key["questions"]:
        answer, _ = expected_answer(spec, question["source"])
        assert question["answer"] == answer, question
        assert question["kind"] == question["source"].split(".")[1].split("[")[0]

    small, small_key, _ = make_quiz(run, workspace, tmp_path / "small", "--n", "8")
    assert small["questions"] == 8 and small["hard"] == 6
    assert sum(q["kind"] != "positive" for q in small_key["questions"]) == 6
    assert git(workspace, "status", "--porcelain") == ""


def test_the_same_seed_gives_the_same_quiz(workspace: Path, tmp_path, run):
    _, first, _ = make_quiz(run, workspace, tmp_path / "a", "--n", "6")
    _, again, _ = make_quiz(run, workspace, tmp_path / "b", "--n", "6")
    _, other, _ = make_quiz(run, workspace, tmp_path / "c", "--n", "6", "--seed", "7")
    assert first == again
    assert other["quiz"] != first["quiz"]


def test_the_page_is_self_contained_and_holds_no_answers(workspace: Path, tmp_path, run):
    _, key, page = make_quiz(run, workspace, tmp_path / "quiz", "--n", "12")
    assert page.startswith("<!doctype html>")
    assert not re.search(r"https?://", page), "the page must work offline"
    assert not re.search(r"<link|@import|url\(|<iframe", page)
    assert re.findall(r'(?:src|href)="([^":]*):', page) == ["data"] * 12
    assert "<script src" not in page
    assert f'data-quiz="{key["quiz"]}"' in page

    spec = spec_at(Workspace(workspace), "digits", "1.0.0")
    images = page_images(page)
    assert len(images) == 12
    for question, image in zip(key["questions"], images, strict=True):
        _, example = expected_answer(spec, question["source"])
        released = git(workspace, "show", f"{TAG}:guidelines/digits/{example.image}", text=False)
        assert image == released, question
        assert f'<fieldset class="q" id="{question["id"]}">' in page
        for option in key["options"]:
            assert f'name="{question["id"]}" value="{option}"' in page
        assert question["source"] not in page
        assert example.why not in page
        assert example.image not in page and Path(example.image).stem not in page
    assert "checked" not in page.replace(":checked", "")
    assert '"answer"' not in page and "digest" not in page


def test_a_quiz_of_an_older_version_shows_that_versions_examples(workspace: Path, tmp_path, run):
    examples = workspace / EXAMPLES
    original = (examples / "seven_like_one.png").read_bytes()
    replacement = (examples / "seven_typical_1.png").read_bytes()
    (examples / "seven_like_one.png").write_bytes(replacement)
    assert release_patch(run, workspace, "A clearer counterexample") == "1.0.1"

    for args, version, expected in (
        (("--version", "1.0.0"), "1.0.0", original),
        ((), "1.0.1", replacement),
    ):
        _, key, page = make_quiz(run, workspace, tmp_path / version, "--n", "40", *args)
        assert key["version"] == version
        [index] = [i for i, q in enumerate(key["questions"]) if q["source"] == "one.counter[0]"]
        assert page_images(page)[index] == expected


def test_quiz_refusals_say_what_is_wrong(workspace: Path, tmp_path, run):
    out = tmp_path / "quiz"
    few = run("labeler", "quiz", "digits", "--n", "0", "--out", str(out), cwd=workspace, expect=1)
    assert "--n must be at least 1" in few.stderr
    args = ("--version", "9.9.9", "--out", str(out))
    unknown = run("labeler", "quiz", "digits", *args, cwd=workspace, expect=3)
    assert "has no release 9.9.9 (released: 1.0.0)" in unknown.stderr
    nothing = run("labeler", "quiz", "cats", "--out", str(out), cwd=workspace, expect=3)
    assert "cats" in nothing.stderr and nothing.stderr.startswith("Error: ")
    assert not out.exists()


def _examples_in_dvc(root: Path, run) -> str:
    git(root, "rm", "-r", "-q", "--cached", EXAMPLES)
    dvc(root, "add", "-q", EXAMPLES)
    return release_patch(run, root, "Examples tracked by DVC")


def test_a_quiz_in_a_clone_without_dvc_data_says_to_pull_it(workspace: Path, tmp_path, run):
    assert _examples_in_dvc(workspace, run) == "1.0.1"
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(workspace), str(clone))
    args = ("labeler", "quiz", "digits", "--n", "4", "--out", str(tmp_path / "quiz"))
    result = run(*args, cwd=clone, expect=3)
    assert result.stderr.startswith("Error: ") and "pull" in result.stderr


def test_a_quiz_uses_the_released_dvc_tracked_examples(workspace: Path, tmp_path, run):
    assert _examples_in_dvc(workspace, run) == "1.0.1"
    examples = workspace / EXAMPLES
    released = (examples / "seven_like_one.png").read_bytes()
    changed = (examples / "seven_typical_1.png").read_bytes()
    (examples / "seven_like_one.png").write_bytes(changed)
    dvc(workspace, "add", "-q", EXAMPLES)
    git(workspace, "commit", "-q", "-am", "a new counterexample image, not released yet")

    _, key, page = make_quiz(run, workspace, tmp_path / "quiz", "--n", "40", "--version", "1.0.1")
    [index] = [i for i, q in enumerate(key["questions"]) if q["source"] == "one.counter[0]"]
    shown = page_images(page)[index]
    assert shown != changed, "the 1.0.1 quiz shows the image as edited after the 1.0.1 release"
    assert shown == released


# -- grading ---------------------------------------------------------------------------------------
@pytest.fixture
def quiz(workspace: Path, tmp_path: Path, run) -> tuple[Path, dict]:
    run("labeler", "add", "va-017", "--vendor", "vendor-a", cwd=workspace)
    _, key, _ = make_quiz(run, workspace, tmp_path / "quiz", "--n", "10")
    return tmp_path / "quiz", key


def test_grade_all_correct_passes_and_records_the_training(workspace, quiz, tmp_path, run):
    folder, key = quiz
    saved = write_answers(tmp_path / f"answers-{key['quiz']}.json", key, answers(key))
    out = run("labeler", "grade", str(folder), str(saved), "--labeler", "va-017", cwd=workspace)
    [record] = records(workspace)
    assert out.stdout.strip() == (
        f"va-017: 10/10 = 100% (pass mark 80%) PASSED; record {record['id']}"
    )
    assert record["labeler"] == "va-017" and record["quiz"] == key["quiz"]
    assert (record["guideline"], record["version"], record["method"]) == ("digits", "1.0.0", "quiz")
    assert record["score"] == 1.0 and record["passed"] is True
    assert git(workspace, "status", "--porcelain") == ""
    assert "va-017 passed digits v1.0.0" in git(workspace, "log", "-1", "--format=%s")

    status = json.loads(run("labeler", "status", "--json", cwd=workspace).stdout)
    assert [(r["labeler"], r["action"], r["record"]) for r in status] == [
        ("va-017", "ok", record["id"])
    ]


def test_the_same_answers_graded_again_record_nothing_unless_a_retake(
    workspace, quiz, tmp_path, run
):
    """Grading one answers file twice the same day is one training, not two; a second attempt
    with the same result is recorded with --retake; another result is another record."""
    folder, key = quiz
    saved = write_answers(tmp_path / "answers.json", key, answers(key, wrong=1))
    args = ("labeler", "grade", str(folder), str(saved), "--labeler", "va-017")
    run(*args, cwd=workspace)
    [first] = records(workspace)
    head = git(workspace, "rev-parse", "HEAD")

    again = run(*args, cwd=workspace)
    assert again.stdout.splitlines()[0] == (
        f"va-017: 9/10 = 90% (pass mark 80%) PASSED; already on record today as {first['id']}, "
        "nothing recorded (a second attempt with the same result: --retake)"
    )
    assert json.loads(run(*args, "--json", cwd=workspace).stdout)["recorded"] is False
    assert records(workspace) == [first] and git(workspace, "rev-parse", "HEAD") == head

    assert json.loads(run(*args, "--retake", "--json", cwd=workspace).stdout)["recorded"] is True
    worse = write_answers(tmp_path / "worse.json", key, answers(key, wrong=3))
    run("labeler", "grade", str(folder), str(worse), "--labeler", "va-017", cwd=workspace)
    assert [(r["score"], r["passed"]) for r in records(workspace)] == [
        (0.9, True),
        (0.9, True),
        (0.7, False),
    ]


def test_grade_below_the_pass_mark_fails_and_lists_the_wrong_answers(
    workspace, quiz, tmp_path, run
):
    folder, key = quiz
    given = answers(key, wrong=2, missing=1)
    saved = write_answers(tmp_path / "answers.json", key, given)
    args = ("labeler", "grade", str(folder), str(saved), "--labeler", "va-017", "--incomplete")
    out = run(*args, cwd=workspace)
    lines = out.stdout.splitlines()
    assert lines[0].startswith(
        "va-017: 7/10 = 70% (pass mark 80%, INCOMPLETE: 1 unanswered) FAILED; record tr-"
    )
    q1, q2, q3 = key["questions"][:3]
    assert lines[1:] == [
        f"  q01: expected {q1['answer']}, answered {given['q01']}",
        f"  q02: expected {q2['answer']}, answered {given['q02']}",
        f"  q03: expected {q3['answer']}, answered -",
    ]
    [record] = records(workspace)
    assert record["passed"] is False and record["score"] == 0.7


def test_grade_json_and_the_pass_mark_is_inclusive(workspace, quiz, tmp_path, run):
    folder, key = quiz
    saved = write_answers(tmp_path / "answers.json", key, answers(key, wrong=2))
    args = ("labeler", "grade", str(key_file(folder)), str(saved), "--labeler", "va-017")
    result = json.loads(run(*args, "--json", cwd=workspace).stdout)
    assert (result["correct"], result["total"], result["score"]) == (8, 10, 0.8)
    assert result["pass_mark"] == 0.8 and result["passed"] is True
    assert [w["question"] for w in result["wrong"]] == ["q01", "q02"]
    assert result["record"]["id"] == records(workspace)[0]["id"]


def test_the_pass_mark_comes_from_the_quizzed_versions_spec(workspace, quiz, tmp_path, run):
    folder, key = quiz
    edit(workspace, ("pass_accuracy: 0.8", "pass_accuracy: 0.6"))
    assert release_patch(run, workspace, "Lower pass mark") == "1.0.1"
    _, new_key, _ = make_quiz(run, workspace, tmp_path / "new", "--n", "10")
    grade = ("labeler", "grade")

    old = write_answers(tmp_path / "old.json", key, answers(key, wrong=4))
    args = (str(folder), str(old), "--labeler", "va-017", "--json")
    result = json.loads(run(*grade, *args, cwd=workspace).stdout)
    assert (result["pass_mark"], result["passed"]) == (0.8, False)

    new = write_answers(tmp_path / "new.json", new_key, answers(new_key, wrong=4))
    args = (str(tmp_path / "new"), str(new), "--labeler", "va-017", "--json")
    result = json.loads(run(*grade, *args, cwd=workspace).stdout)
    assert (result["pass_mark"], result["passed"]) == (0.6, True)
    assert result["record"]["version"] == "1.0.1"


def test_grade_reads_csv_answers(workspace, quiz, tmp_path, run):
    folder, key = quiz
    path = tmp_path / "answers.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["question", "answer"])
        writer.writerows(answers(key, wrong=1).items())
    args = ("labeler", "grade", str(folder), str(path), "--labeler", "va-017", "--json")
    result = json.loads(run(*args, cwd=workspace).stdout)
    assert (result["correct"], result["passed"]) == (9, True)
    assert records(workspace)[0]["quiz"] == key["quiz"]


def test_a_csv_row_shorter_than_its_header_is_an_unanswered_question(
    workspace, quiz, tmp_path, run
):
    folder, key = quiz
    given = answers(key)
    first = next(iter(given))
    path = tmp_path / "answers.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["question", "answer"])
        writer.writerow([first])  # no answer cell at all
        writer.writerows((q, a) for q, a in given.items() if q != first)
    args = ("labeler", "grade", str(folder), str(path), "--labeler", "va-017")
    refused = run(*args, cwd=workspace, expect=1)
    assert first in refused.stderr and "Traceback" not in refused.stderr
    result = json.loads(run(*args, "--incomplete", "--json", cwd=workspace).stdout)
    assert result["correct"] == len(given) - 1


def _unknown_question(key: dict, tmp_path: Path) -> Path:
    return write_answers(tmp_path / "a.json", key, {**answers(key), "q99": "one", "q42": "two"})


def _other_quiz(key: dict, tmp_path: Path) -> Path:
    return write_answers(tmp_path / "a.json", key, answers(key), quiz="quiz-0000000000")


def _csv_without_columns(key: dict, tmp_path: Path) -> Path:
    path = tmp_path / "a.csv"
    path.write_text("id,label\nq01,one\n")
    return path


GRADE_REFUSALS = {
    "unknown question ids": (_unknown_question, "va-017", "questions not in quiz {quiz}: q42, q99"),
    "another quiz": (
        _other_quiz,
        "va-017",
        "answers quiz quiz-0000000000, but the key is for {quiz}",
    ),
    "csv columns": (_csv_without_columns, "va-017", "needs the columns question,answer"),
    "unknown labeler": (
        lambda key, tmp_path: write_answers(tmp_path / "a.json", key, answers(key)),
        "nobody",
        "no labeler 'nobody' in labelers/roster.jsonl",
    ),
}


@pytest.mark.parametrize("case", list(GRADE_REFUSALS))
def test_grade_refusals_record_nothing(workspace, quiz, tmp_path, run, case):
    folder, key = quiz
    make_answers, labeler, message = GRADE_REFUSALS[case]
    path = make_answers(key, tmp_path)
    before = state(workspace)
    args = ("labeler", "grade", str(folder), str(path), "--labeler", labeler)
    result = run(*args, cwd=workspace, expect=3 if case == "unknown labeler" else 1)
    assert result.stderr.startswith("Error: ")
    assert message.format(quiz=key["quiz"]) in result.stderr, result.stderr
    assert state(workspace) == before
    assert records(workspace) == []


def test_grade_without_an_answer_key_says_where_to_point(workspace, quiz, tmp_path, run):
    _, key = quiz
    saved = write_answers(tmp_path / "answers.json", key, answers(key))
    empty = tmp_path / "empty"
    empty.mkdir()
    args = ("labeler", "grade", str(empty), str(saved), "--labeler", "va-017")
    result = run(*args, cwd=workspace, expect=3)
    assert (
        "no answer key for this quiz folder (looked for empty.key.json beside it)" in result.stderr
    )


# -- what is sent, who answered, incomplete answers, feedback -------------------------------------
def test_the_folder_sent_to_labelers_holds_only_the_page(workspace: Path, tmp_path, run):
    result, key, page = make_quiz(run, workspace, tmp_path / "send", "--n", "6")
    assert [p.name for p in (tmp_path / "send").iterdir()] == ["quiz.html"]
    assert result["key"] == str(key_file(tmp_path / "send")) and key["quiz"] == result["quiz"]
    assert page.count("<fieldset") == 6 and page.count("<legend>Question ") == 6
    assert '<label for="labeler">Your labeler id</label><input id="labeler"' in page
    assert all(f'name="{q["id"]}"' in page for q in key["questions"])
    inside = tmp_path / "send2"
    refused = run("labeler", "quiz", "digits", "--out", str(inside), "--key", str(inside / "k.json"),
                  cwd=workspace, expect=1)  # fmt: skip
    assert "is inside" in refused.stderr and "put the answer key elsewhere" in refused.stderr


def test_the_answers_file_says_who_answered(workspace, quiz, tmp_path, run):
    folder, key = quiz
    saved = tmp_path / "answers.json"
    saved.write_text(
        json.dumps({"quiz": key["quiz"], "labeler": "va-017", "answers": answers(key)})
    )
    result = json.loads(
        run("labeler", "grade", str(folder), str(saved), "--json", cwd=workspace).stdout
    )
    assert result["labeler"] == "va-017" and records(workspace)[0]["labeler"] == "va-017"
    run("labeler", "add", "vb-002", "--vendor", "vendor-b", cwd=workspace)
    other = run(
        "labeler", "grade", str(folder), str(saved), "--labeler", "vb-002", cwd=workspace, expect=1
    )
    assert "was saved by va-017, not vb-002" in other.stderr
    anonymous = write_answers(tmp_path / "anonymous.json", key, answers(key))
    nobody = run("labeler", "grade", str(folder), str(anonymous), cwd=workspace, expect=1)
    assert "does not say who answered; give --labeler ID" in nobody.stderr


def test_incomplete_answers_are_refused_unless_graded_as_incomplete(workspace, quiz, tmp_path, run):
    folder, key = quiz
    one = {key["questions"][0]["id"]: key["questions"][0]["answer"]}
    saved = write_answers(tmp_path / "one.json", key, one)
    before = state(workspace)
    refused = run(
        "labeler", "grade", str(folder), str(saved), "--labeler", "va-017", cwd=workspace, expect=1
    )
    assert "answers 1 of 10 questions (unanswered: q02, q03" in refused.stderr
    assert (
        "have va-017 finish the quiz, or grade it as incomplete with --incomplete" in refused.stderr
    )
    assert state(workspace) == before and records(workspace) == []
    args = (
        "labeler",
        "grade",
        str(folder),
        str(saved),
        "--labeler",
        "va-017",
        "--incomplete",
        "--json",
    )
    result = json.loads(run(*args, cwd=workspace).stdout)
    assert result["incomplete"] is True and len(result["unanswered"]) == 9
    assert (result["correct"], result["passed"]) == (1, False)


def test_grading_writes_a_feedback_page_with_the_answers_and_why(workspace, quiz, tmp_path, run):
    folder, key = quiz
    saved = write_answers(tmp_path / "answers-va-017.json", key, answers(key, wrong=1))
    out = run("labeler", "grade", str(folder), str(saved), "--labeler", "va-017", cwd=workspace)
    page_path = tmp_path / "answers-va-017.feedback.html"
    assert f"Feedback for va-017: {page_path}" in out.stderr
    page = page_path.read_text()
    spec = spec_at(Workspace(workspace), "digits", "1.0.0")
    assert (
        page.count("<fieldset") == 10
        and page.count("Not quite.") == 1
        and page.count("Right.") == 9
    )
    for question in key["questions"]:
        _, example = expected_answer(spec, question["source"])
        assert html.escape(example.why) in page
    assert "va-017: 9 of 10 right, 90%; the pass mark is 80%, so you passed." in page
    assert len(page_images(page)) == 10 and not re.search(r"https?://", page)


def test_a_retraining_quiz_asks_about_every_changed_class(workspace: Path, tmp_path, run):
    edit(workspace, ("definition: A horizontal top bar joined to a diagonal stroke.",
                     "definition: A top bar at least half the digit's width, joined to a diagonal stroke."))  # fmt: skip
    entry = "  - version: unreleased\n    summary: Sevens\n    affects: [one, seven]\n    relabel: required\n"
    edit(workspace, ("\n\nquality:", f"\n{entry}\nquality:"))
    git(workspace, "commit", "-qam", "sevens")
    run("guideline", "release", "digits", "--bump", "minor", cwd=workspace)
    for seed in range(5):
        result, key, _ = make_quiz(run, workspace, tmp_path / f"r{seed}", "--changed-since", "1.0.0",
                                   "--n", "4", "--seed", str(seed))  # fmt: skip
        assert result["classes"] == ["one", "seven"] and key["changed_since"] == "1.0.0"
        about = [(q["source"].split(".")[0], q["answer"]) for q in key["questions"]]
        assert all({"one", "seven"} & set(pair) for pair in about), about
        assert all(any(c in pair for pair in about) for c in ("one", "seven")), about
    release_patch(run, workspace, "Nothing that changes labels")
    same = run("labeler", "quiz", "digits", "--changed-since", "1.1.0", "--out", str(tmp_path / "x"),
               cwd=workspace, expect=1)  # fmt: skip
    assert "no class, rule or example of digits changed between 1.1.0 and 1.1.1" in same.stderr


def test_a_ner_quiz_marks_the_span_it_asks_about(make_workspace, run):
    # QA 36 M6: "Ada Lovelace visited <Paris>." holds a person and a place; the question on the
    # person example marks "Ada Lovelace" (0-12), not "Paris" (22-27), and escapes the rest.
    root = make_workspace("ner")
    spec = "guidelines/entities/spec.yaml"
    edit(
        root,
        (
            "- text: Ada Lovelace wrote the first program.\n"
            "          spans: [{start: 0, end: 12, label: person}]",
            '- text: "Ada Lovelace visited <Paris>."\n'
            "          spans: [{start: 0, end: 12, label: person}, {start: 22, end: 27, label: location}]",
        ),
        ("    relabel: none\n", "    relabel: none\n  - version: unreleased\n    summary: two\n"),
        spec=spec,
    )
    git(root, "commit", "-qam", "two entities")
    run("guideline", "release", "entities", "--bump", "minor", cwd=root)
    out = root.parent / "nq"
    run("labeler", "quiz", "entities", "--n", "6", "--out", str(out), cwd=root)
    key = json.loads(key_file(out).read_text())
    page = (out / "quiz.html").read_text()
    expected = {
        "person.positive[0]": "<mark>Ada Lovelace</mark> visited &lt;Paris&gt;.",
        "person.counter[0]": "<mark>Ford</mark> recalled 10,000 cars.",
        "organization.positive[0]": "The <mark>United Nations</mark> met on Monday.",
        "organization.borderline[0]": "<mark>Paris Saint-Germain</mark> won again.",
        "location.positive[0]": "She moved from <mark>Lagos</mark> to Oslo.",
        "location.counter[0]": "<mark>Chelsea</mark> signed a new striker.",
    }
    shown = re.findall(r'<blockquote class="text">(.*?)</blockquote>', page)
    assert shown == [expected[q["source"]] for q in key["questions"]]
    assert page.count("Which class should the marked words be labeled as?") == 6
    assert "Which class should it be labeled as?" not in page


def test_a_feedback_page_that_cannot_be_written_records_nothing(workspace, quiz, tmp_path, run):
    # QA 36 M1: the record was committed, then the page write failed with a traceback
    folder, key = quiz
    saved = write_answers(tmp_path / "answers-va-017.json", key, answers(key))
    a_file = tmp_path / "afile"
    a_file.write_text("not a folder\n")
    before = state(workspace)
    grade = ("labeler", "grade", str(folder), str(saved), "--labeler", "va-017", "--feedback")
    under_file = run(*grade, str(a_file / "deeper" / "fb.html"), cwd=workspace, expect=1)
    assert under_file.stderr == (
        f"Error: {a_file} is a file, so the feedback page cannot go under it; give another "
        "place with --feedback\n"
    )
    assert state(workspace) == before and records(workspace) == []
    assert a_file.read_text() == "not a folder\n"


def test_a_refused_grade_leaves_no_feedback_page_nor_its_folders(workspace, quiz, tmp_path, run):
    folder, key = quiz
    saved = write_answers(tmp_path / "answers.json", key, answers(key))
    run("labeler", "deactivate", "va-017", cwd=workspace)
    before = state(workspace)
    page = tmp_path / "new" / "deeper" / "fb.html"
    args = ("labeler", "grade", str(folder), str(saved), "--labeler", "va-017")
    refused = run(*args, "--feedback", str(page), cwd=workspace, expect=4)
    assert "'va-017' is inactive" in refused.stderr
    assert state(workspace) == before and records(workspace) == []
    assert not (tmp_path / "new").exists()  # the folders made for the page are gone too


def test_a_retraining_quiz_needs_changed_since_before_the_version(workspace: Path, tmp_path, run):
    # QA 36 L6: --changed-since 1.0.1 --version 1.0.0 made a backwards "retraining" quiz
    release_patch(run, workspace, "Clearer words")  # 1.0.1
    out = tmp_path / "q"
    for since, version in (("1.0.1", "1.0.0"), ("1.0.0", "1.0.0")):
        args = ("--changed-since", since, "--version", version, "--out", str(out))
        refused = run("labeler", "quiz", "digits", *args, cwd=workspace, expect=1)
        assert refused.stderr == (
            f"Error: --changed-since {since} is not before {version}, the version quizzed: a "
            "retraining quiz asks what changed since an older release of digits\n"
        )
    assert not out.exists() and not key_file(out).exists()
