"""A staged record's number is its place in the file: problems name lines by it. DuckDB reads a
large file on several threads, so these files are large enough to be split between them, and
the memory limit small (128MB)."""

from __future__ import annotations

import json

import pytest

from labelspec.formats.jsonl import read_csv, read_jsonl

ROWS = 500_000  # about 38 MB of JSONL: more than one of DuckDB's 32 MB read buffers


@pytest.fixture(autouse=True)
def _small_memory(monkeypatch):
    monkeypatch.setenv("LABELSPEC_IMPORT_MEMORY_LIMIT", "128MB")


def _mismatches(staged) -> tuple[int, int]:
    """(rows, rows whose item is not named after their record number)."""
    return staged.con.execute(
        f"select count(*), count(*) filter (where item_ref <> 'it-' || rec) from {staged.relation}"
    ).fetchall()[0]


def _line(n: int, bad: bool) -> str:
    row = {"item_id": f"it-{n}", "labeler": "vA-01", "class": "three", "cost": 0.02}
    if bad:
        row["cost"] = "cheap"  # a string where a number belongs: the precise (slow) reader
    return json.dumps(row)


@pytest.mark.parametrize("bad_line", [None, ROWS - 7], ids=["fast-path", "slow-path"])
def test_jsonl_records_are_numbered_in_file_order(tmp_path, bad_line):
    path = tmp_path / "labels.jsonl"
    path.write_text("\n".join(_line(n, n == bad_line) for n in range(1, ROWS + 1)) + "\n")

    staged = read_jsonl(path)

    assert _mismatches(staged) == (ROWS, 0)
    if bad_line is None:
        assert staged.problems == []
    else:
        assert [(p.line, p.path) for p in staged.problems] == [(ROWS - 7, "cost")]


def test_a_blank_line_shifts_the_line_a_problem_names_but_not_the_record(tmp_path):
    path = tmp_path / "labels.jsonl"
    lines = [_line(n, n == ROWS) for n in range(1, ROWS + 1)]
    lines.insert(1000, "")  # after record 1000: every later record is one line further down
    path.write_text("\n".join(lines) + "\n")

    staged = read_jsonl(path)

    assert _mismatches(staged) == (ROWS, 0)
    assert [(p.line, p.path) for p in staged.problems] == [(ROWS + 1, "cost")]


def test_csv_records_are_numbered_in_file_order(tmp_path):
    path = tmp_path / "labels.csv"
    body = "".join(f"it-{n},vA-01,three\n" for n in range(1, ROWS + 1))
    path.write_text("item_id,labeler,class\n" + body)

    staged = read_csv(path)

    assert _mismatches(staged) == (ROWS, 0)
    assert staged.line_of(ROWS) == ROWS + 1  # the header is line 1


def test_a_span_past_64_bits_is_a_problem_of_its_line_not_a_crash(tmp_path):
    path = tmp_path / "spans.jsonl"
    rows = [
        {"item_id": "t1", "labeler": "vA-01", "class": "PER", "span": [0, 5]},
        {"item_id": "t1", "labeler": "vA-01", "class": "ORG", "span": [18446744073709551615, 2]},
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))

    staged = read_jsonl(path)

    assert [(p.line, p.path) for p in staged.problems] == [(2, "span")]
    assert "two integers" in staged.problems[0].message
