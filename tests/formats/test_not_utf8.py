"""A delivery with a byte that is not UTF-8 is refused naming the byte and its line, however far
into the file it is: DuckDB finds it while reading, and only then is the file scanned for it."""

from __future__ import annotations

import pytest

from labelspec.errors import ProblemsError
from labelspec.formats.jsonl import read_csv, read_jsonl

GOOD = b'{"item_id": "a.png", "labeler": "vA-01", "class": "three"}\n'  # 59 bytes


def test_a_bad_byte_deep_in_a_jsonl_file_is_named_with_its_line(tmp_path):
    path = tmp_path / "labels.jsonl"
    bad = GOOD.replace(b"vA-01", b"vA-0\xe9")  # latin-1 for e-acute
    path.write_bytes(GOOD * 999 + bad + GOOD)

    with pytest.raises(ProblemsError) as caught:
        read_jsonl(path)

    (problem,) = caught.value.problems
    assert problem.line == 1000
    # 999 good lines, then the byte after {"item_id": "a.png", "labeler": "vA-0 (37 bytes)
    assert "byte 58978 (line 1000) is not UTF-8" in problem.message
    assert len(GOOD) * 999 + 37 == 58978
    assert "re-export the file from your tool as UTF-8" in problem.message


def test_a_bad_byte_in_a_csv_file_is_named_with_its_line(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_bytes(
        b"item_id,labeler,class\n" + b"a.png,vA-01,three\n" * 50 + b"b.png,vA-0\xe9,three\n"
    )

    with pytest.raises(ProblemsError) as caught:
        read_csv(path)

    (problem,) = caught.value.problems
    assert problem.line == 52
    assert f"byte {22 + 18 * 50 + 10} (line 52) is not UTF-8" in problem.message


def test_a_utf8_file_with_accents_is_read_as_is(tmp_path):
    path = tmp_path / "labels.jsonl"
    path.write_bytes(GOOD.replace(b"vA-01", "vA-0\u00e9".encode()) * 3)

    staged = read_jsonl(path)

    assert staged.problems == []
    rows = staged.con.execute(f"select labeler_ref from {staged.relation}").fetchall()
    assert rows == [("vA-0\u00e9",)] * 3


@pytest.mark.parametrize(
    "body",
    [
        b"exported by caf\xe9 tool\nitem_id,labeler,class\na.png,vA-01,three\n",  # a preamble
        b"item_id,labeler,class\na.png,vA-01,three\n# caf\xe9\nb.png,vA-01,two\n",  # a comment
    ],
    ids=["preamble", "comment"],
)
def test_a_bad_byte_on_a_line_duckdb_would_skip_is_still_refused(tmp_path, body):
    path = tmp_path / "labels.csv"
    path.write_bytes(body)

    with pytest.raises(ProblemsError) as caught:
        read_csv(path)

    (problem,) = caught.value.problems
    assert "is not UTF-8: re-export the file from your tool as UTF-8" in problem.message
