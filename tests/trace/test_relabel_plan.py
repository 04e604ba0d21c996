"""`labelspec relabel plan`: the manifest, the Label Studio tasks and CSV, priorities and segments."""

from __future__ import annotations

import csv
import json
import re

import pytest

from tests.helpers import commit_of, git
from tests.trace.conftest import SUSPECT, SUSPECT_ITEMS, make_plan

# the oldest suspect label of each item (d03's by vC-01 is dated 2026-01-18)
OLDEST_FIRST = [
    "d03.png",
    "d01.png",
    "d02.png",
    "d07.png",
    "d11.png",
    "d12.png",
    "d17.png",
    "d18.png",
]
# p(current class) from a model; disagreement is 1 - p
PROBS = {
    "d01.png": ("one", 0.9),
    "d02.png": ("two", 0.2),
    "d03.png": ("three", 0.6),
    "d07.png": ("seven", 0.3),
    "d11.png": ("one", 0.05),
    "d12.png": ("two", 0.5),
    "d17.png": ("seven", 0.99),
    "d18.png": ("eight", 0.75),
}
MOST_DISAGREED_FIRST = [
    "d11.png",
    "d02.png",
    "d07.png",
    "d12.png",
    "d03.png",
    "d18.png",
    "d01.png",
    "d17.png",
]


def items(plan: dict) -> list[str]:
    return [e["item_id"] for e in plan["items"]]


def test_plan_records_a_manifest_and_commits_it(history, run, tmp_path):
    head = git(history, "rev-parse", "HEAD")

    result = run(
        "relabel",
        "plan",
        "digits",
        "--guideline",
        "digits",
        "--out",
        str(tmp_path / "q"),
        "--json",
        cwd=history,
    )

    made = json.loads(result.stdout)
    plan = json.loads((tmp_path / "q" / "plan.json").read_text())
    assert re.fullmatch(r"rp-\d{8}T\d{6}Z-[0-9a-f]{6}", plan["plan"])
    assert made["plan"] == plan["plan"]
    assert (made["version"], made["items"]) == ("1.1.1", 8)
    assert sorted(made["files"]) == sorted(
        ["plan.json", "tasks.labelstudio.json", "tasks.csv", "labeling-config.xml",
         "instructions.html", "cvat-guide.md"]
    )  # fmt: skip
    assert "Seven" in (tmp_path / "q" / "instructions.html").read_text()
    assert made["plan_file"] == f"datasets/digits/relabel/{plan['plan']}.json"
    assert json.loads((history / made["plan_file"]).read_text()) == plan
    assert git(history, "rev-parse", "HEAD^").strip() == head.strip()
    assert made["commit"] == git(history, "rev-parse", "HEAD").strip()
    assert git(history, "status", "--porcelain") == ""
    assert (plan["dataset"], plan["guideline"], plan["version"]) == ("digits", "digits", "1.1.1")
    assert (plan["snapshot"], plan["priority"], plan["segments"]) == (
        commit_of(history, "snap-4"),
        "oldest",
        {},
    )
    assert items(plan) == OLDEST_FIRST
    assert sorted(items(plan)) == SUSPECT_ITEMS
    assert [e["rank"] for e in plan["items"]] == list(range(1, 9))
    d07 = next(e for e in plan["items"] if e["item_id"] == "d07.png")
    assert d07["reasons"] == [
        "class seven changed since 1.0.0",
        "labeler vC-01 was not trained on 1.1.0",
    ]
    assert sorted((c["labeler"], c["version"], c["class"]) for c in d07["current"]) == [
        ("vA-01", "1.0.0", "seven"),
        ("vC-01", "1.1.0", "seven"),
    ]
    assert len(d07["annotations"]) == 2
    d12 = next(e for e in plan["items"] if e["item_id"] == "d12.png")
    assert d12["reasons"] == ["class two is confusable with a changed class"]
    human = run(
        "relabel",
        "plan",
        "digits",
        "--guideline",
        "digits",
        "--out",
        str(tmp_path / "r"),
        "--planned",
        "include",
        cwd=history,
    ).stdout
    assert re.match(r"Plan rp-\S+: 8 item\(s\) to relabel under digits 1\.1\.1", human)


def test_plan_tasks_point_at_the_items_with_current_labels_as_predictions(history, run, tmp_path):
    plan = make_plan(run, history, tmp_path / "q", "--predictions", "current")
    assert plan["predictions"] == "current"

    tasks = json.loads((tmp_path / "q" / "tasks.labelstudio.json").read_text())

    assert [t["data"]["item_id"] for t in tasks] == items(plan)
    for rank, task in enumerate(tasks, 1):
        item = task["data"]["item_id"]
        assert task["data"]["image"] == f"datasets/digits/items/{item}"
        assert task["data"]["relabel_plan"] == plan["plan"]
        assert task["data"]["priority"] == rank
        assert "annotations" not in task
        assert {p["model_version"] for p in task["predictions"]} == {
            f"labelspec current labels, {commit_of(history, 'snap-4')[:10]}"
        }
        assert all("score" not in p for p in task["predictions"])  # no made-up confidence
    by_item = {t["data"]["item_id"]: t for t in tasks}
    # d07: both current annotations (vA-01 under 1.0.0, vC-01 under 1.1.0) as pre-annotations
    d07 = by_item["d07.png"]
    assert [p["result"][0]["value"]["choices"] for p in d07["predictions"]] == [
        ["seven"],
        ["seven"],
    ]
    assert sorted(m["labeler_id"] for m in d07["meta"]["labelspec"]) == ["vA-01", "vC-01"]
    # d03: vA-01's label is not suspect, but it is a current label of the item, so it is shown too
    assert sorted(m["labeler_id"] for m in by_item["d03.png"]["meta"]["labelspec"]) == [
        "vA-01",
        "vC-01",
    ]
    assert by_item["d12.png"]["data"]["relabel_reason"] == (
        "class two is confusable with a changed class"
    )
    config = (tmp_path / "q" / "labeling-config.xml").read_text()
    assert '<Choice value="seven"' in config
    assert "half the digit" in config  # the 1.1.1 definition of seven, as a hint


def test_plan_csv_has_one_row_per_item_in_rank_order(history, run, tmp_path):
    make_plan(run, history, tmp_path / "q")

    with (tmp_path / "q" / "tasks.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))

    assert list(rows[0]) == [
        "rank",
        "item_id",
        "path",
        "current_classes",
        "labelers",
        "score",
        "reasons",
    ]
    assert [r["item_id"] for r in rows] == OLDEST_FIRST
    assert [r["rank"] for r in rows] == [str(n) for n in range(1, 9)]
    d07 = next(r for r in rows if r["item_id"] == "d07.png")
    assert d07 == {
        "rank": "4",
        "item_id": "d07.png",
        "path": "datasets/digits/items/d07.png",
        "current_classes": "seven",
        "labelers": "vA-01 vC-01",
        "score": "",
        "reasons": "class seven changed since 1.0.0; labeler vC-01 was not trained on 1.1.0",
    }


def test_limit_keeps_the_first_items_by_priority(history, run, tmp_path):
    plan = make_plan(run, history, tmp_path / "q", "--limit", "3")

    assert items(plan) == OLDEST_FIRST[:3]
    tasks = json.loads((tmp_path / "q" / "tasks.labelstudio.json").read_text())
    assert [t["data"]["item_id"] for t in tasks] == OLDEST_FIRST[:3]


def test_random_priority_is_seeded_and_deterministic(history, run, tmp_path):
    first = make_plan(run, history, tmp_path / "a", "--priority", "random", "--seed", "7")
    # the same items again, on purpose: --planned include
    again = make_plan(run, history, tmp_path / "b", "--priority", "random", "--seed", "7",
                      "--planned", "include")  # fmt: skip
    other = make_plan(run, history, tmp_path / "c", "--priority", "random", "--seed", "8",
                      "--planned", "include")  # fmt: skip

    assert first["plan"] != again["plan"]
    assert items(first) == items(again)
    assert sorted(items(first)) == sorted(items(other)) == SUSPECT_ITEMS
    assert items(first) != items(other)
    assert first["priority"] == "random"


def test_model_priority_orders_by_disagreement_with_the_current_label(history, run, tmp_path):
    predictions = tmp_path / "preds.jsonl"
    lines = [
        {"item_id": item, "probs": {cls: p, "zero": round(1 - p, 4)}}
        for item, (cls, p) in PROBS.items()
        if item != "d12.png"  # the model never saw d12
    ]
    lines.append({"item_id": "d00.png", "probs": {"zero": 0.01}})  # not in the plan
    predictions.write_text("".join(json.dumps(line) + "\n" for line in lines))

    plan = make_plan(
        run, history, tmp_path / "q", "--priority", "model", "--model-predictions", str(predictions)
    )

    # items without a prediction cannot be ranked by it: they come last
    assert items(plan) == [i for i in MOST_DISAGREED_FIRST if i != "d12.png"] + ["d12.png"]
    scores = {e["item_id"]: e["score"] for e in plan["items"]}
    assert round(scores["d11.png"], 6) == 0.95
    assert round(scores["d17.png"], 6) == 0.01
    assert scores["d12.png"] is None


def test_model_priority_refuses_predictions_with_typos_and_plans_nothing(history, run, tmp_path):
    """A class misspelled in `probs` would read as p = 0 for the right class (the label ranked
    as the model's worst disagreement); an unknown item would rank nothing: both are refused,
    with their lines, before anything is written."""
    predictions = tmp_path / "preds.jsonl"
    lines = [
        {"item_id": "d11.png", "probs": {"oen": 0.9, "zero": 0.1}},
        {"item_id": "d99.png", "probs": {"one": 0.9, "zero": 0.1}},
    ]
    predictions.write_text("".join(json.dumps(line) + "\n" for line in lines))
    head = git(history, "rev-parse", "HEAD")

    result = run(
        "relabel", "plan", "digits", "--guideline", "digits", "--out", str(tmp_path / "q"),
        "--priority", "model", "--model-predictions", str(predictions), cwd=history, expect=1,
    )  # fmt: skip

    assert result.stderr.splitlines() == [
        f"Error: {predictions}: 2 problem(s) (1 probs, 1 item_id); nothing was planned",
        f"  {predictions}:1: probs: probs name class oen, which digits does not have (known: "
        "zero, one, two, three, four, five, six, seven, eight, nine); did you mean one?",
        f"  {predictions}:2: item_id: unknown item d99.png (not an item of the dataset: register "
        "it with `labelspec items add`, or fix the id)",
    ]
    assert git(history, "rev-parse", "HEAD") == head and not (tmp_path / "q").exists()


def test_model_priority_reads_one_probability_column_per_class(history, run, tmp_path):
    predictions = tmp_path / "preds.csv"
    header = ["item_id", "zero", "one", "two", "three", "seven", "eight"]
    rows = []
    for item, (cls, p) in PROBS.items():
        row = dict.fromkeys(header[1:], "0")
        row[cls] = str(p)
        rows.append([item, *row.values()])
    predictions.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n")

    plan = make_plan(
        run,
        history,
        tmp_path / "q",
        "--priority",
        "model",
        "--model-predictions",
        str(predictions),
        "--limit",
        "4",
    )

    assert items(plan) == MOST_DISAGREED_FIRST[:4]
    with (tmp_path / "q" / "tasks.csv").open(newline="") as handle:
        assert [r["score"] for r in csv.DictReader(handle)] == [
            "0.9500",
            "0.8000",
            "0.7000",
            "0.5000",
        ]


def test_model_priority_needs_predictions(history, run, tmp_path):
    result = run(
        "relabel",
        "plan",
        "digits",
        "--guideline",
        "digits",
        "--priority",
        "model",
        "--out",
        str(tmp_path / "q"),
        cwd=history,
        expect=1,
    )

    assert "--model-predictions" in result.stderr
    assert not (tmp_path / "q").exists()


def test_segments_filter_the_plan(history, run, tmp_path):
    vendor_b = make_plan(run, history, tmp_path / "b", "--segment", "source=vendor-b")
    sevens_c = make_plan(
        run, history, tmp_path / "c", "--segment", "class=seven", "--segment", "source=vendor-c"
    )
    # d12 and d07 are open in the plans above: planned again on purpose
    test_split = make_plan(
        run, history, tmp_path / "t", "--segment", "split=test", "--planned", "include"
    )

    assert items(vendor_b) == ["d11.png", "d12.png"]
    assert vendor_b["segments"] == {"source": "vendor-b"}
    assert items(sevens_c) == ["d07.png", "d17.png"]
    # only vC-01's annotation of d07 is in that segment, not vA-01's
    d07 = next(e for e in sevens_c["items"] if e["item_id"] == "d07.png")
    assert [c["labeler"] for c in d07["current"]] == ["vC-01"]
    assert sorted(items(test_split)) == sorted(
        {s[0] for s in SUSPECT if s[0] in ("d02.png", "d07.png", "d12.png")}
    )
    assert test_split["segments"] == {"split": "test"}


def test_a_bad_segment_is_refused_and_nothing_is_recorded(history, run, tmp_path):
    head = git(history, "rev-parse", "HEAD")

    bad_key = run(
        "relabel",
        "plan",
        "digits",
        "--guideline",
        "digits",
        "--segment",
        "camera=left",
        "--out",
        str(tmp_path / "q"),
        cwd=history,
        expect=1,
    )
    no_match = run(
        "relabel",
        "plan",
        "digits",
        "--guideline",
        "digits",
        "--segment",
        "class=zero",
        "--out",
        str(tmp_path / "q"),
        cwd=history,
        expect=1,
    )
    no_equals = run(
        "relabel",
        "plan",
        "digits",
        "--guideline",
        "digits",
        "--segment",
        "class",
        "--out",
        str(tmp_path / "q"),
        cwd=history,
        expect=1,
    )

    assert "--segment camera" in bad_key.stderr
    assert "split" in bad_key.stderr and "source" in bad_key.stderr
    assert "nothing to relabel: no suspect labels in segment class=zero" in no_match.stderr
    assert "KEY=VALUE" in no_equals.stderr
    assert git(history, "rev-parse", "HEAD") == head
    assert not (history / "datasets/digits/relabel").exists()
    assert not (tmp_path / "q").exists()


def test_plan_pre_fills_nothing_by_default_or_the_models_top_class(history, run, tmp_path):
    plan = make_plan(run, history, tmp_path / "none")
    tasks = json.loads((tmp_path / "none" / "tasks.labelstudio.json").read_text())
    assert plan["predictions"] == "none" and plan["images"] == {"mode": "path"}
    assert all("predictions" not in t and "annotations" not in t for t in tasks)
    assert all(t["meta"]["labelspec"] for t in tasks)  # the current labels stay as provenance

    predictions = tmp_path / "preds.jsonl"
    lines = [
        {"item_id": item, "probs": {cls: p, "zero": round(1 - p, 4)}}
        for item, (cls, p) in PROBS.items()
    ]
    predictions.write_text("".join(json.dumps(line) + "\n" for line in lines))
    plan = make_plan(
        run, history, tmp_path / "model", "--predictions", "model", "--model-predictions", str(predictions),
        "--image-url", "https://files.example.com/{path}", "--planned", "include",
    )  # fmt: skip
    assert plan["predictions"] == "model"
    assert plan["model_predictions"]["file"] == "preds.jsonl"
    assert plan["images"] == {"mode": "url", "template": "https://files.example.com/{path}"}
    tasks = {
        t["data"]["item_id"]: t
        for t in json.loads((tmp_path / "model" / "tasks.labelstudio.json").read_text())
    }
    task = tasks["d11.png"]
    assert task["data"]["image"] == "https://files.example.com/datasets/digits/items/d11.png"
    (prediction,) = task["predictions"]
    cls, p = PROBS["d11.png"]
    top = (cls, p) if p >= 0.5 else ("zero", round(1 - p, 4))
    assert prediction["result"][0]["value"]["choices"] == [top[0]]
    assert prediction["score"] == pytest.approx(top[1])
    assert prediction["model_version"] == "preds.jsonl"
    config = (tmp_path / "model" / "labeling-config.xml").read_text()
    assert '<Text name="relabel_reason" value="$relabel_reason"/>' in config


def test_a_plan_whose_commit_fails_leaves_no_task_files(history, run, tmp_path):
    busy = history / ".git" / "index.lock"  # another git is committing: ours fails
    busy.write_text("")
    head = git(history, "rev-parse", "HEAD")
    out = tmp_path / "plan"

    failed = run("relabel", "plan", "digits", "--guideline", "digits", "--out", str(out),
                 cwd=history, expect=6)  # fmt: skip

    assert "index.lock" in failed.stderr
    assert git(history, "rev-parse", "HEAD") == head
    assert list(out.iterdir()) == []  # nor the staging folder: the tool gets no orphan tasks
    busy.unlink(missing_ok=True)
    make_plan(run, history, out)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["plan.json", "tasks.labelstudio.json", "tasks.csv", "labeling-config.xml",
         "instructions.html", "cvat-guide.md"]
    )  # fmt: skip


def test_an_unknown_segment_value_is_named_with_the_known_ones(history, run, tmp_path):
    head = git(history, "rev-parse", "HEAD")
    plan = ["relabel", "plan", "digits", "--guideline", "digits", "--out", str(tmp_path / "q")]

    typo = run(*plan, "--segment", "class=sevn", cwd=history, expect=1)
    vendor = run(*plan, "--segment", "source=vendor-x", "--segment", "split=tset", cwd=history,
                 expect=1)  # fmt: skip

    assert "unknown class 'sevn' (did you mean seven? known: eight, five," in typo.stderr
    assert "nothing to relabel" not in typo.stderr and "{" not in typo.stderr
    assert "unknown source 'vendor-x' (" in vendor.stderr
    assert "known: vendor-a, vendor-b, vendor-c)" in vendor.stderr
    assert "unknown split 'tset' (did you mean test? known: test, train)" in vendor.stderr
    assert git(history, "rev-parse", "HEAD") == head
    assert not (tmp_path / "q").exists()


def test_out_holding_an_open_plan_is_not_overwritten(history, run, tmp_path):
    out = tmp_path / "q"
    first = make_plan(run, history, out, "--segment", "source=vendor-b")  # d11, d12
    written = {p.name: p.read_bytes() for p in out.iterdir()}
    head = git(history, "rev-parse", "HEAD")

    refused = run(
        "relabel", "plan", "digits", "--guideline", "digits", "--segment", "source=vendor-c",
        "--out", str(out), cwd=history, expect=4,
    )  # fmt: skip

    assert (
        f"--out {out} holds relabel plan {first['plan']}, 2 item(s) still open: give another "
        f"--out, or close that plan first (`labelspec relabel close digits {first['plan']}`)"
    ) in refused.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == written
    assert git(history, "rev-parse", "HEAD") == head
    run("relabel", "close", "digits", first["plan"], cwd=history)
    again = make_plan(run, history, out, "--segment", "source=vendor-c")
    assert again["plan"] != first["plan"]
