"""A damaged relabel plan file (datasets/NAME/relabel/<plan>.json, or the plan.json of `relabel
plan --out`) is refused by every command that reads it, naming the file and the field, with the
fix; no command needs a server to get that far."""

from __future__ import annotations

import json

import pytest

from tests.helpers import git
from tests.trace.conftest import make_plan

URL = "http://127.0.0.1:9"  # never reached: the plan is refused first


@pytest.fixture
def damaged(history, run, tmp_path, monkeypatch):
    """Rewrite the committed plan file; returns (plan id, its path, the --out folder)."""
    monkeypatch.setenv("LABELSPEC_LABEL_STUDIO_TOKEN", "unused")
    plan = make_plan(run, history, tmp_path / "q")
    path = history / f"datasets/digits/relabel/{plan['plan']}.json"

    def damage(change=None, text: str | None = None) -> tuple[str, object]:
        if text is None:
            record = json.loads(path.read_text())
            change(record)
            text = json.dumps(record)
        path.write_text(text)
        return plan["plan"], path

    return damage


@pytest.mark.parametrize("field", ["dataset", "plan", "guideline", "version", "items"])
def test_pull_of_a_plan_without_a_field_names_the_file_and_the_field(damaged, run, history, field):
    plan_id, path = damaged(lambda record: record.pop(field))
    refused = run("relabel", "pull", plan_id, cwd=history, expect=1)
    assert f"{path}: not a usable relabel plan: missing field `{field}`" in refused.stderr
    assert f"git checkout -- {path}" in refused.stderr


def test_push_of_an_out_folder_whose_plan_json_lacks_the_dataset_is_refused(
    history, run, tmp_path, monkeypatch
):
    monkeypatch.setenv("LABELSPEC_LABEL_STUDIO_TOKEN", "unused")
    make_plan(run, history, tmp_path / "q")
    written = tmp_path / "q" / "plan.json"
    record = json.loads(written.read_text())
    del record["dataset"]
    written.write_text(json.dumps(record))
    refused = run(
        "relabel", "push", str(tmp_path / "q"), "--labelstudio", URL, cwd=history, expect=1
    )
    assert f"{written}: not a usable relabel plan: missing field `dataset`" in refused.stderr


def test_fields_of_the_wrong_type_are_each_named(damaged, run, history):
    def change(record):
        record["plan"] = 7
        record["items"][0].pop("annotations")
        record["items"][1] = "d01.png"
        record["labelstudio"] = {"url": "http://ls", "project": "12"}

    plan_id, path = damaged(change)
    refused = run("relabel", "pull", plan_id, cwd=history, expect=1)
    assert (
        f"{path}: not a usable relabel plan: field `plan` is an integer, not a string; "
        "missing field `items[0].annotations`; `items[1]` is not an object; "
        "field `labelstudio.project` is a string, not an integer" in refused.stderr
    )


def test_a_plan_that_is_not_json_names_the_line(damaged, run, history):
    plan_id, path = damaged(text='{\n "plan": "x",\n oops\n}\n')
    refused = run("relabel", "pull", plan_id, cwd=history, expect=1)
    assert f"{path}:3: not a valid plan file: Expecting property name" in refused.stderr


def test_a_plan_that_is_a_list_is_refused(damaged, run, history):
    plan_id, path = damaged(text="[]")
    refused = run("relabel", "pull", plan_id, cwd=history, expect=1)
    assert f"{path}: not a relabel plan: a JSON object with `items`" in refused.stderr


def test_merge_and_status_refuse_the_damaged_plan_too(damaged, run, history, tmp_path):
    plan_id, path = damaged(lambda record: record["items"][0].pop("item_id"))
    results = tmp_path / "answers.jsonl"
    results.write_text('{"item_id": "d01.png", "labeler": "vA-01", "class": "one"}\n')
    merged = run("relabel", "merge", "digits", plan_id, str(results), "--format", "jsonl",
                 cwd=history, expect=1)  # fmt: skip
    assert f"{path}: not a usable relabel plan: missing field `items[0].item_id`" in merged.stderr
    status = run("relabel", "status", "digits", cwd=history, expect=1)
    assert "missing field `items[0].item_id`" in status.stderr


def test_a_plan_whose_id_is_not_its_file_name_is_refused(damaged, run, history):
    plan_id, path = damaged(lambda record: record.update(plan="rp-other"))
    refused = run("relabel", "pull", plan_id, cwd=history, expect=1)
    assert f"{path}: field `plan` is 'rp-other', not the file's name {plan_id!r}" in refused.stderr


def test_push_refuses_a_tasks_file_that_is_not_a_list_of_tasks(history, run, tmp_path, monkeypatch):
    monkeypatch.setenv("LABELSPEC_LABEL_STUDIO_TOKEN", "unused")
    make_plan(run, history, tmp_path / "q")
    tasks = tmp_path / "q" / "tasks.labelstudio.json"
    tasks.write_text('{"data": {}}')
    refused = run(
        "relabel", "push", str(tmp_path / "q"), "--labelstudio", URL, cwd=history, expect=1
    )
    assert f"{tasks}: not a list of Label Studio tasks" in refused.stderr
    assert git(history, "status", "--porcelain") == ""
