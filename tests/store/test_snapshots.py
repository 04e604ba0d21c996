"""`labels log/show/diff/export`, and reading past snapshots without touching the working tree."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

from tests.helpers import git, head, state
from tests.store.conftest import DIGITS, digit_class, digit_rows, item_id, write_jsonl

LINEAGE = (
    "item_id",
    "labeler_id",
    "class",
    "attributes",
    "created_at",
    "lead_time_s",
    "cost",
    "guideline_version",
    "guideline_digest",
    "training_id",
)


def import_jsonl(run, root: Path, path: Path, source: str = "vendor-a") -> dict:
    args = ["labels", "import", "digits", str(path), "--format", "jsonl"]
    out = run(*args, "--guideline", "digits@1.0.0", "--source", source, "--json", cwd=root).stdout
    return json.loads(out)


def show(run, root: Path, *args: str) -> dict:
    return json.loads(run("labels", "show", "digits", *args, "--json", cwd=root).stdout)


def second_snapshot(run, root: Path, tmp_path: Path) -> dict:
    """A second commit: five more labels (items d00..d04) from vendor-c."""
    return import_jsonl(
        run, root, write_jsonl(tmp_path / "more.jsonl", digit_rows(range(5))), "vendor-c"
    )


def test_log_lists_batches_newest_first_with_the_commits_that_added_them(labeled_ws, run, tmp_path):
    first = head(labeled_ws)
    second = second_snapshot(run, labeled_ws, tmp_path)

    rows = json.loads(run("labels", "log", "digits", "--json", cwd=labeled_ws).stdout)

    assert [r["commit"] for r in rows] == [second["commit"], first]
    assert rows[0]["batch"] == second["batch"]
    assert [(r["labels"], r["source"], r["format"]) for r in rows] == [
        (5, "vendor-c", "jsonl"),
        (20, "vendor-a", "jsonl"),
    ]
    assert rows[0]["message"] == (
        "import 5 labels into digits from vendor-c (jsonl, more.jsonl): 5 new, 0 updated, 0 unchanged"
    )
    human = run("labels", "log", "digits", cwd=labeled_ws).stdout
    assert human.index(second["commit"][:10]) < human.index(first[:10])
    # the log at an older revision lists what was there
    older = json.loads(
        run("labels", "log", "digits", "--snapshot", first, "--json", cwd=labeled_ws).stdout
    )
    assert [r["commit"] for r in older] == [first]


def test_show_counts_by_class_labeler_version_and_source(labeled_ws, run):
    shown = show(run, labeled_ws)

    assert (shown["commit"], shown["labels"], shown["annotations"], shown["items"]) == (
        head(labeled_ws),
        DIGITS,
        DIGITS,
        DIGITS,
    )
    assert shown["snapshot"] == head(labeled_ws)[:10]
    assert shown["by_class"] == dict.fromkeys(sorted({digit_class(i) for i in range(DIGITS)}), 2)
    assert shown["by_labeler"] == {"vA-01": 20}
    assert shown["by_guideline_version"] == {"1.0.0": 20}
    assert shown["by_source"] == {"vendor-a": 20}
    human = run("labels", "show", "digits", cwd=labeled_ws).stdout
    assert human.startswith(
        f"digits {head(labeled_ws)[:10]}: 20 current labels in 20 annotations on 20 items by 1 "
        "labelers (0 superseded)"
    )


def test_show_before_any_import_counts_nothing(digits_ws, run):
    shown = show(run, digits_ws)

    assert (shown["labels"], shown["batches"], shown["by_class"]) == (0, 0, {})


def test_any_revision_names_a_snapshot(labeled_ws, run, tmp_path):
    first = head(labeled_ws)
    second = second_snapshot(run, labeled_ws, tmp_path)
    git(labeled_ws, "tag", "reviewed-1", first)
    git(labeled_ws, "branch", "before-vendor-c", first)

    for ref in (first, first[:8], "HEAD~1", "reviewed-1", "before-vendor-c"):
        assert show(run, labeled_ws, "--snapshot", ref)["labels"] == 20, ref
    for ref in ("HEAD", "main", second["batch"]):
        assert show(run, labeled_ws, "--snapshot", ref)["labels"] == 25, ref
    # a batch id names the commit that added the batch
    assert show(run, labeled_ws, "--snapshot", second["batch"])["commit"] == second["commit"]


def test_diff_counts_added_labels_by_class(labeled_ws, run, tmp_path):
    second_snapshot(run, labeled_ws, tmp_path)

    result = json.loads(
        run("labels", "diff", "digits", "HEAD~1", "HEAD", "--json", cwd=labeled_ws).stdout
    )

    assert (result["from"], result["to"], result["added"], result["removed"]) == (
        "HEAD~1",
        "HEAD",
        5,
        0,
    )
    assert result["by_class"] == {digit_class(i): {"added": 1} for i in range(5)}
    assert result["changed_class"] == 0
    backwards = json.loads(
        run("labels", "diff", "digits", "HEAD", "HEAD~1", "--json", cwd=labeled_ws).stdout
    )
    assert (backwards["added"], backwards["removed"]) == (0, 5)


def test_unknown_revisions_are_refused_with_what_names_one(labeled_ws, run):
    result = run("labels", "show", "digits", "--snapshot", "nope", cwd=labeled_ws, expect=3)

    assert result.stderr.strip() == (
        "Error: 'nope' is not a revision of this repository: give a commit, branch or tag, a "
        "batch id (b-...) or an old snap-N (see `labelspec labels log`)"
    )
    old = run("labels", "show", "digits", "--snapshot", "snap-7", cwd=labeled_ws, expect=3)
    assert "no snapshot tag dataset/digits/snap-7" in old.stderr


def test_jsonl_export_re_imports_to_the_same_labels(make_store, run, tmp_path):
    first = make_store("digits", "first")
    rows = digit_rows()
    rows[1]["attributes"] = {"legible": False}  # d01 is a one
    rows[7]["attributes"] = {"crossbar": True, "legible": True}  # d07 is a seven
    rows[2]["created_at"] = "2026-02-01T10:00:00.123456Z"
    rows[3].pop("cost")
    import_jsonl(run, first, write_jsonl(tmp_path / "in.jsonl", rows))
    exported = tmp_path / "out.jsonl"

    out = run("labels", "export", "digits", "--format", "jsonl", "--out", str(exported), cwd=first)

    assert out.stdout.strip() == (
        f"Wrote 20 label(s) of digits {head(first)[:10]} to {exported} (jsonl)"
    )
    second = make_store("digits", "second")
    import_jsonl(run, second, exported)
    original = pq.read_table(next((first / "datasets/digits/labels").glob("*.parquet")))
    again = pq.read_table(next((second / "datasets/digits/labels").glob("*.parquet")))
    assert again.select(LINEAGE).to_pylist() == original.select(LINEAGE).to_pylist()
    by_item = {r["item_id"]: r for r in again.to_pylist()}
    assert by_item["d07.png"]["attributes"] == '{"crossbar":true,"legible":true}'
    assert by_item["d02.png"]["created_at"].microsecond == 123456
    assert by_item["d03.png"]["cost"] is None


def test_parquet_export_holds_the_current_labels(labeled_ws, run, tmp_path):
    out = tmp_path / "labels.parquet"

    result = json.loads(
        run(
            "labels",
            "export",
            "digits",
            "--format",
            "parquet",
            "--out",
            str(out),
            "--json",
            cwd=labeled_ws,
        ).stdout
    )

    assert (result["labels"], result["written"], result["snapshot"]) == (
        20,
        20,
        head(labeled_ws)[:10],
    )
    exported = pq.read_table(out)
    [batch] = (labeled_ws / "datasets/digits/labels").glob("*.parquet")
    assert exported.to_pylist() == pq.read_table(batch).to_pylist()
    assert [r["item_id"] for r in exported.to_pylist()] == [item_id(i) for i in range(DIGITS)]


def test_reading_an_older_revision_leaves_the_working_tree_alone(labeled_ws, run, tmp_path):
    second_snapshot(run, labeled_ws, tmp_path)
    before = state(labeled_ws)

    assert show(run, labeled_ws, "--snapshot", "HEAD~1")["labels"] == 20
    assert show(run, labeled_ws, "--snapshot", "HEAD")["labels"] == 25
    out = tmp_path / "snap1.parquet"
    run(
        "labels",
        "export",
        "digits",
        "--format",
        "parquet",
        "--snapshot",
        "HEAD~1",
        "--out",
        str(out),
        cwd=labeled_ws,
    )
    assert pq.read_table(out).num_rows == 20

    assert state(labeled_ws) == before


def test_past_snapshots_are_read_from_the_dvc_cache_when_the_files_are_gone(
    labeled_ws, run, tmp_path
):
    second_snapshot(run, labeled_ws, tmp_path)
    for batch in (labeled_ws / "datasets/digits/labels").glob("*.parquet"):
        batch.unlink()
    before = state(labeled_ws)

    assert show(run, labeled_ws, "--snapshot", "HEAD~1")["labels"] == 20
    assert show(run, labeled_ws)["by_source"] == {"vendor-a": 20, "vendor-c": 5}
    diffed = json.loads(
        run("labels", "diff", "digits", "HEAD~1", "HEAD", "--json", cwd=labeled_ws).stdout
    )
    assert diffed["added"] == 5

    assert state(labeled_ws) == before
    assert not list((labeled_ws / "datasets/digits/labels").glob("*.parquet"))
