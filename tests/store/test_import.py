"""`labelspec labels import`: happy paths, and every bad input reported with nothing written."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from labelspec.guideline.releases import get_release
from labelspec.workspace import Workspace
from tests.helpers import git, head, state, training_id
from tests.store.conftest import digit_class, digit_rows, item_id, set_training_policy, write_jsonl

DIGITS_AT = "digits@1.0.0"


def import_args(dataset: str, path: Path, guideline: str, fmt: str = "jsonl") -> list[str]:
    return ["labels", "import", dataset, str(path), "--format", fmt, "--guideline", guideline]


def digits_import(path: Path, fmt: str = "jsonl", source: str = "vendor-a") -> list[str]:
    return [*import_args("digits", path, DIGITS_AT, fmt), "--source", source]


def batch_files(root: Path, dataset: str = "digits") -> list[Path]:
    folder = root / "datasets" / dataset / "labels"
    return sorted(folder.glob("*.parquet")) if folder.is_dir() else []


# -- happy paths ------------------------------------------------------------------------------------
def test_jsonl_import_writes_one_sorted_zstd_batch_and_its_record_in_one_commit(
    digits_ws, run, tmp_path
):
    source = write_jsonl(tmp_path / "labels.jsonl", list(reversed(digit_rows())))

    result = run(*digits_import(source), cwd=digits_ws)

    lines = result.stdout.splitlines()
    assert re.fullmatch(
        r"Imported 20 label\(s\) in 20 annotation\(s\) on 20 item\(s\) from vendor-a -> "
        r"batch (b-\d{8}T\d{6}Z-[0-9a-f]{8}), commit [0-9a-f]{10}",
        lines[0],
    )
    batch_id = lines[0].split("batch ", 1)[1].split(",")[0]
    assert lines[0].endswith(head(digits_ws)[:10])
    assert lines[1] == (
        "  by class:   eight 2, five 2, four 2, nine 2, one 2, seven 2, six 2, three 2, two 2, zero 2"
    )
    assert lines[2] == "  by labeler: vA-01 20"
    assert git(digits_ws, "tag", "--list", "dataset/*") == ""  # no counters to collide
    assert git(digits_ws, "status", "--porcelain") == ""

    [batch] = batch_files(digits_ws)
    assert batch.name == f"{batch_id}.parquet"
    parquet = pq.ParquetFile(batch)
    group = parquet.metadata.row_group(0)
    assert {group.column(i).compression for i in range(group.num_columns)} == {"ZSTD"}
    assert parquet.schema_arrow.metadata[b"labelspec.batch_id"] == batch_id.encode()
    labels = parquet.read().to_pylist()
    assert [r["item_id"] for r in labels] == [item_id(i) for i in range(20)]  # sorted on write
    assert {r["class"] for r in labels if r["item_id"] == "d03.png"} == {digit_class(3)}
    digest = get_release(Workspace(digits_ws), "digits", "1.0.0").digest
    trained = training_id(digits_ws, "vA-01")
    for label in labels:
        assert label["training_id"] == trained
        assert label["guideline_digest"] == digest
        assert label["batch_id"] == batch_id
        assert label["label_id"].startswith(batch_id)
        assert (label["source"], label["format"]) == ("vendor-a", "jsonl")
    # the batch and the raw delivery are in DVC, not git: the commit adds their records only
    added = git(digits_ws, "show", "--name-status", "--format=", "HEAD").split("\n")
    assert added == [
        f"A\tdatasets/digits/deliveries/{batch_id}-labels.jsonl.dvc",
        f"A\tdatasets/digits/labels/{batch_id}.parquet.dvc",
        "",
    ]
    raw = digits_ws / f"datasets/digits/deliveries/{batch_id}-labels.jsonl"
    assert raw.read_bytes() == source.read_bytes()
    record = (batch.parent / f"{batch.name}.dvc").read_text()
    assert f"path: {batch.name}" in record and '"rows": 20' in record
    assert '"source": "vendor-a"' in record and '"versions": ["1.0.0"]' in record


def test_csv_import_with_attributes_and_numbers(digits_ws, run, tmp_path):
    source = tmp_path / "labels.csv"
    source.write_text(
        "item_id,labeler,class,attributes,created_at,lead_time_s,cost\n"
        'd01.png,vA-01,one,"{""legible"": true}",2026-02-01T10:00:00Z,3.5,0.02\n'
        "d00.png,vA-01,zero,,2026-02-01T10:01:00Z,4,\n"
        'd07.png,vA-01,seven,"{""legible"": ""no"", ""crossbar"": true}",,,\n'
    )

    out = run(*digits_import(source, fmt="csv"), "--json", cwd=digits_ws).stdout

    result = json.loads(out)
    assert (result["labels"], result["commit"]) == (3, head(digits_ws))
    labels = {r["item_id"]: r for r in pq.read_table(batch_files(digits_ws)[0]).to_pylist()}
    assert labels["d01.png"]["attributes"] == '{"legible":true}'
    assert labels["d01.png"]["lead_time_s"] == 3.5
    assert labels["d01.png"]["created_at"].isoformat() == "2026-02-01T10:00:00+00:00"
    assert labels["d00.png"]["attributes"] == "{}"
    assert (labels["d00.png"]["lead_time_s"], labels["d00.png"]["cost"]) == (4.0, None)
    # keys sorted, "no" stored as a boolean
    assert labels["d07.png"]["attributes"] == '{"crossbar":true,"legible":false}'
    assert labels["d07.png"]["format"] == "csv"


def test_detection_and_ner_imports_store_boxes_and_spans(make_store, run, tmp_path):
    shapes = make_store("shapes", "shapes")
    news = make_store("news", "news")
    boxes = write_jsonl(
        tmp_path / "boxes.jsonl",
        [
            {
                "item_id": "circle_big.png",
                "labeler": "vA-01",
                "class": "circle",
                "bbox": [24, 24, 80.5, 80],
                "attributes": {"occluded": False},
            }
        ],
    )
    spans = write_jsonl(
        tmp_path / "spans.jsonl",
        [{"item_id": "n01.txt", "labeler": "vA-01", "class": "person", "span": [0, 12]}],
    )

    run(*import_args("shapes", boxes, "shapes@1.0.0"), "--source", "vendor-a", cwd=shapes)
    run(*import_args("news", spans, "entities@1.0.0"), "--source", "vendor-a", cwd=news)

    [box] = pq.read_table(batch_files(shapes, "shapes")[0]).to_pylist()
    assert box["bbox"] == {"x": 24.0, "y": 24.0, "w": 80.5, "h": 80.0}
    assert box["attributes"] == '{"occluded":false}'
    [span] = pq.read_table(batch_files(news, "news")[0]).to_pylist()
    assert span["span"] == {"start": 0, "end": 12}
    assert span["bbox"] is None


def test_a_second_import_adds_a_second_batch(labeled_ws, run, tmp_path):
    source = write_jsonl(tmp_path / "more.jsonl", digit_rows(range(5)))

    out = run(*digits_import(source, source="vendor-c"), "--json", cwd=labeled_ws).stdout

    assert json.loads(out)["commit"] == head(labeled_ws)
    assert len(batch_files(labeled_ws)) == 2
    shown = json.loads(run("labels", "show", "digits", "--json", cwd=labeled_ws).stdout)
    assert shown["labels"] == 25
    assert shown["by_source"] == {"vendor-a": 20, "vendor-c": 5}


# -- bad input: every problem listed, nothing written ------------------------------------------------
def assert_refused(run, root: Path, args: list[str], summary: str, problems: list[str]) -> None:
    before = state(root)
    result = run(*args, cwd=root, expect=1)
    assert result.stderr.splitlines() == [f"Error: {summary}", *(f"  {p}" for p in problems)]
    assert result.stdout == ""
    assert state(root) == before


def one_digit(**changes) -> list[dict]:
    """Two good labels, then a label of d01.png (class one, attribute legible) with ``changes``."""
    row = digit_rows([1])[0]
    row.update(changes)
    return [*digit_rows([0, 2]), {k: v for k, v in row.items() if v is not None}]


CLASSES = "zero, one, two, three, four, five, six, seven, eight, nine"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"class": "ten"}, "class", f"unknown class ten in digits 1.0.0 (known: {CLASSES})"),
        (
            {"attributes": {"legible": True, "color": "red"}},
            "attributes",
            "unknown attribute(s) color for class 'one' (allowed: legible)",
        ),
        (
            {"attributes": {"legible": "maybe"}},
            "attributes",
            "attribute 'legible' must be true or false, got 'maybe'",
        ),
        (
            {"labeler": "vZ-99"},
            "labeler",
            "unknown labeler vZ-99 (add it with `labelspec labeler add vZ-99 --vendor vendor-a`)",
        ),
        (
            {"labeler": "vB-01"},
            "training",
            "labeler vB-01 holds no passing training record that covers digits 1.0.0 (train them: "
            "`labelspec labeler quiz` / `labeler train`, or set policies.training in labelspec.yaml)",
        ),
        (
            {"item_id": "d99.png"},
            "item",
            "item d99.png is not registered in dataset digits (register it with `labelspec items add`)",
        ),
        (
            {"guideline_version": "2.0.0"},
            "guideline_version",
            "version 2.0.0 is not a release of digits (released: 1.0.0)",
        ),
        (
            {"labeler": None},
            "labeler",
            "no labeler: the file names none; pass --labeler ID, --labeler-map FILE or --labelers-per-item FILE",
        ),
        ({"bbox": [1, 2, 3]}, "bbox", "must be [x, y, w, h]: four numbers in pixels"),
        (
            {"bbox": [1, 2, 3, 4]},
            "bbox",
            "a box was given but digits is a classification guideline",
        ),
        ({"lead_time_s": -1}, "lead_time_s", "must not be negative"),
        (
            {"created_at": "yesterday"},
            "created_at",
            "must be an ISO 8601 time such as 2026-01-31T12:00:00Z",
        ),
    ],
    ids=[
        "unknown-class",
        "attribute-not-allowed",
        "attribute-not-boolean",
        "unknown-labeler",
        "untrained-labeler",
        "unregistered-item",
        "unreleased-version",
        "no-labeler",
        "bbox-not-four-numbers",
        "bbox-on-classification",
        "negative-lead-time",
        "bad-created-at",
    ],
)
def test_bad_label_is_reported_with_its_line_and_nothing_is_written(
    labeled_ws, run, tmp_path, changes, field, message
):
    source = write_jsonl(tmp_path / "bad.jsonl", one_digit(**changes))

    assert_refused(
        run,
        labeled_ws,
        digits_import(source),
        f"bad.jsonl: 1 problem(s) (1 {field}); nothing was imported",
        [f"{source}:3: {field}: {message}"],
    )


def test_all_problems_of_a_file_are_listed_together(labeled_ws, run, tmp_path):
    rows = digit_rows(range(6))
    rows[1]["class"] = "ten"
    rows[3]["item_id"] = "nope.png"
    rows[3]["labeler"] = "vZ-99"
    rows[5]["cost"] = "free"
    source = write_jsonl(tmp_path / "bad.jsonl", rows)

    assert_refused(
        run,
        labeled_ws,
        digits_import(source),
        "bad.jsonl: 4 problem(s) (1 class, 1 cost, 1 item, 1 labeler); nothing was imported",
        [
            f"{source}:2: class: unknown class ten in digits 1.0.0 (known: {CLASSES})",
            f"{source}:4: item: item nope.png is not registered in dataset digits "
            "(register it with `labelspec items add`)",
            f"{source}:4: labeler: unknown labeler vZ-99 "
            "(add it with `labelspec labeler add vZ-99 --vendor vendor-a`)",
            f"{source}:6: cost: must be a number",
        ],
    )


def test_csv_problems_name_the_csv_line(labeled_ws, run, tmp_path):
    source = tmp_path / "bad.csv"
    source.write_text(
        "item_id,labeler,class,lead_time_s\n"
        "d00.png,vA-01,zero,1.5\n"
        "d01.png,vA-01,ten,2\n"
        "d02.png,vA-01,two,slow\n"
    )

    assert_refused(
        run,
        labeled_ws,
        digits_import(source, fmt="csv"),
        "bad.csv: 2 problem(s) (1 class, 1 lead_time_s); nothing was imported",
        [
            f"{source}:3: class: unknown class ten in digits 1.0.0 (known: {CLASSES})",
            f"{source}:4: lead_time_s: must be a number of seconds",
        ],
    )


def test_csv_without_a_class_column_is_refused(labeled_ws, run, tmp_path):
    source = tmp_path / "bad.csv"
    source.write_text("item_id,labeler\nd00.png,vA-01\n")

    assert_refused(
        run,
        labeled_ws,
        digits_import(source, fmt="csv"),
        f"{source}: missing column(s) class",
        [
            f"{source}:1: the header needs item_id, labeler, class, bbox, span, attributes, "
            "created_at, lead_time_s, cost, guideline_version, empty (item_id and class required; "
            "an `empty` column marks rows that say 'no objects here' and need no class)"
        ],
    )


def test_two_classes_for_one_item_by_one_labeler_are_refused(labeled_ws, run, tmp_path):
    rows = digit_rows([0, 1])
    rows.append(dict(rows[0], **{"class": "six"}))
    source = write_jsonl(tmp_path / "twice.jsonl", rows)

    message = "one annotation has 2 labels of 2 classes; digits is single-label classification"
    assert_refused(
        run,
        labeled_ws,
        digits_import(source),
        "twice.jsonl: 2 problem(s) (2 class); nothing was imported",
        [f"{source}:1 [2 rows, lines 1, 3]: class: {message}"],  # one line per distinct problem
    )


def test_problem_list_is_capped_with_the_total(labeled_ws, run, tmp_path):
    rows = [dict(row, item_id=f"x{i:03d}.png") for i, row in enumerate(digit_rows([0] * 120))]
    source = write_jsonl(tmp_path / "many.jsonl", rows)
    before = state(labeled_ws)

    result = run(*digits_import(source), cwd=labeled_ws, expect=1)

    lines = result.stderr.splitlines()
    assert lines[0] == "Error: many.jsonl: 120 problem(s) (120 item); nothing was imported"
    assert len(lines) == 1 + 50 + 1
    assert lines[1] == (
        f"  {source}:1: item: item x000.png is not registered in dataset digits "
        "(register it with `labelspec items add`)"
    )
    assert lines[50].startswith(f"  {source}:50: item: item x049.png is not registered")
    assert lines[-1] == "  ... and 70 more"
    assert state(labeled_ws) == before


def test_truncated_jsonl_lists_the_bad_line(labeled_ws, run, tmp_path):
    source = write_jsonl(tmp_path / "cut.jsonl", digit_rows(range(4)))
    text = source.read_text()
    source.write_text(text[: len(text) - 30])  # the download stopped in the middle of line 4

    assert_refused(
        run,
        labeled_ws,
        digits_import(source),
        f"{source}: 1 malformed line(s); nothing was imported",
        [
            f"{source}:4: invalid JSON (Unterminated string starting at); is the file truncated?",
        ],
    )


def test_a_line_that_is_not_an_object_is_reported(labeled_ws, run, tmp_path):
    source = write_jsonl(tmp_path / "odd.jsonl", digit_rows(range(2)))
    source.write_text(source.read_text() + "[1, 2]\n")

    assert_refused(
        run,
        labeled_ws,
        digits_import(source),
        f"{source}: 1 malformed line(s); nothing was imported",
        [f"{source}:3: each line must be a JSON object {{...}}"],
    )


def box(item: str, bbox, cls: str = "circle", attributes=None) -> dict:
    return {
        "item_id": item,
        "labeler": "vA-01",
        "class": cls,
        "bbox": bbox,
        "attributes": {"occluded": False} if attributes is None else attributes,
    }


@pytest.mark.parametrize(
    ("label", "field", "message"),
    [
        (
            box("circle_big.png", [24, 24, 80, 80], attributes={}),
            "attributes",
            "attribute 'occluded' is required for class 'circle'",
        ),
        (
            box(
                "square_big.png",
                [30, 30, 70, 70],
                "square",
                {"occluded": False, "rotation": "upside"},
            ),
            "attributes",
            "attribute 'rotation' must be one of none, slight, diagonal, got 'upside'",
        ),
        (
            box("circle_big.png", [100, 100, 50, 50]),
            "bbox",
            "box [100.0, 100.0, 50.0, 50.0] is outside the 128x128 image",
        ),
        (
            box("circle_small.png", [70, 20, 30, 4]),
            "bbox",
            "box is 30.0x4.0 px, smaller than the 8 px minimum for circle",
        ),
        (
            box("circle_big.png", None),
            "bbox",
            "a box [x, y, w, h] is required: shapes is a detection guideline",
        ),
    ],
    ids=["required-attribute", "ordinal-value", "out-of-bounds", "too-small", "no-box"],
)
def test_bad_box_label_is_refused(make_store, run, tmp_path, label, field, message):
    root = make_store("shapes")
    good = box("triangle_up.png", [24, 20, 80, 80], "triangle")
    source = write_jsonl(
        tmp_path / "boxes.jsonl", [good, {k: v for k, v in label.items() if v is not None}]
    )

    assert_refused(
        run,
        root,
        [*import_args("shapes", source, "shapes@1.0.0"), "--source", "vendor-a"],
        f"boxes.jsonl: 1 problem(s) (1 {field}); nothing was imported",
        [f"{source}:2: {field}: {message}"],
    )


@pytest.mark.parametrize(
    "bbox", [[24, 24, 80], [24, 24, "80", 80], {"x": 24}], ids=["three", "a-string", "an-object"]
)
def test_a_box_that_is_not_four_numbers_is_refused(make_store, run, tmp_path, bbox):
    root = make_store("shapes")
    source = write_jsonl(tmp_path / "boxes.jsonl", [box("circle_big.png", bbox)])
    before = state(root)

    result = run(
        *import_args("shapes", source, "shapes@1.0.0"), "--source", "vendor-a", cwd=root, expect=1
    )

    assert (
        f"  {source}:1: bbox: must be [x, y, w, h]: four numbers in pixels"
        in result.stderr.splitlines()
    )
    assert state(root) == before


def test_span_outside_the_text_is_refused(make_store, run, tmp_path):
    root = make_store("news")
    text_len = len("Ada Lovelace met Charles Babbage in London.")
    rows = [
        {"item_id": "n01.txt", "labeler": "vA-01", "class": "person", "span": [0, 12]},
        {"item_id": "n01.txt", "labeler": "vA-01", "class": "location", "span": [36, 60]},
        {"item_id": "n02.txt", "labeler": "vA-01", "class": "organization", "span": [9, 4]},
    ]
    source = write_jsonl(tmp_path / "spans.jsonl", rows)

    assert_refused(
        run,
        root,
        [*import_args("news", source, "entities@1.0.0"), "--source", "vendor-a"],
        "spans.jsonl: 2 problem(s) (2 span); nothing was imported",
        [
            f"{source}:2: span: span [36, 60] is outside the item's text ({text_len} characters)",
            f"{source}:3: span: span [9, 4] ends before it starts: give [start, end] with start < end",
        ],
    )


# -- the training policy ----------------------------------------------------------------------------
def test_policy_warn_imports_untrained_labels_with_a_warning(labeled_ws, run, tmp_path):
    set_training_policy(labeled_ws, "warn")
    source = write_jsonl(tmp_path / "b.jsonl", digit_rows(range(4), labeler="vB-01"))
    earlier = set(batch_files(labeled_ws))

    result = run(*digits_import(source, source="vendor-b"), cwd=labeled_ws)

    assert f"commit {head(labeled_ws)[:10]}" in result.stdout
    assert result.stderr.splitlines() == [
        "  warning: 4 label(s) by labelers without a covering training record (vB-01)"
    ]
    [new] = set(batch_files(labeled_ws)) - earlier
    labels = pq.read_table(new).to_pylist()
    assert [label["training_id"] for label in labels] == [None] * 4
    assert {label["labeler_id"] for label in labels} == {"vB-01"}


def test_policy_off_imports_untrained_labels_silently(labeled_ws, run, tmp_path):
    set_training_policy(labeled_ws, "off")
    source = write_jsonl(tmp_path / "b.jsonl", digit_rows(range(4), labeler="vB-01"))

    result = run(*digits_import(source, source="vendor-b"), cwd=labeled_ws)

    assert f"commit {head(labeled_ws)[:10]}" in result.stdout
    assert result.stderr == ""
    shown = json.loads(run("labels", "show", "digits", "--json", cwd=labeled_ws).stdout)
    assert shown["by_labeler"] == {"vA-01": 20, "vB-01": 4}


def test_policy_warn_still_refuses_unknown_labelers(labeled_ws, run, tmp_path):
    set_training_policy(labeled_ws, "warn")
    source = write_jsonl(tmp_path / "z.jsonl", digit_rows(range(1), labeler="vZ-99"))

    assert_refused(
        run,
        labeled_ws,
        digits_import(source),
        "z.jsonl: 1 problem(s) (1 labeler); nothing was imported",
        [
            f"{source}:1: labeler: unknown labeler vZ-99 "
            "(add it with `labelspec labeler add vZ-99 --vendor vendor-a`)"
        ],
    )


def test_identical_problems_are_one_counted_line_and_a_class_map_fixes_them(
    digits_ws, run, tmp_path
):
    # the tool exported display names: 20 rows, 10 distinct names, each wrong the same way twice
    rows = [{**row, "class": row["class"].capitalize()} for row in digit_rows()]
    source = write_jsonl(tmp_path / "display.jsonl", rows)
    before = state(digits_ws)

    refused = run(*digits_import(source), cwd=digits_ws, expect=1)

    assert "display.jsonl: 20 problem(s) (20 class); nothing was imported" in refused.stderr
    seven = [line for line in refused.stderr.splitlines() if "class Seven " in line]
    assert len(seven) == 1, refused.stderr  # two rows, one line
    assert "[2 rows, lines 8, 18]" in seven[0] and "did you mean seven?" in seven[0]
    assert "--class-map" in seven[0]
    assert state(digits_ws) == before

    names = tmp_path / "classes.csv"
    names.write_text("".join(f"{r['class']},{r['class'].lower()}\n" for r in rows))
    imported = run(*digits_import(source), "--class-map", str(names), "--json", cwd=digits_ws)
    result = json.loads(imported.stdout)
    assert result["labels"] == 20
    assert result["by_class"]["seven"] == 2
