"""A CSV row with another number of fields than the header is named by its line (QA 7), whether
DuckDB's sniffer meets it (and gives up on the header) or its reader does, far past the sample."""

from __future__ import annotations

import pytest

from labelspec.errors import ProblemsError
from labelspec.formats.jsonl import read_csv

HEADER = "item_id,labeler,class,bbox_x,bbox_y,bbox_w,bbox_h\n"  # 7 fields
ROW = "a.png,vA-01,bus,10,10,100,50\n"


@pytest.mark.parametrize("good_before", [1, 30_000])
def test_a_ragged_row_is_named_by_its_line_and_field_count(tmp_path, good_before):
    path = tmp_path / "ragged.csv"
    path.write_text(HEADER + ROW * good_before + "b.png,vA-01,bus,10,10,100,50,oops\n" + ROW)
    with pytest.raises(ProblemsError) as caught:
        read_csv(path)
    (problem,) = caught.value.problems
    line = 1 + good_before + 1  # the header, the good rows, then the ragged one
    assert problem.line == line
    assert problem.message.startswith(f"line {line} has 8 fields, the header 7")
    assert str(caught.value) == (
        f"{path}: 1 row(s) with another number of fields than the header; nothing was imported"
    )


def test_a_quoted_comma_is_no_extra_field(tmp_path):
    path = tmp_path / "quoted.csv"
    path.write_text(
        HEADER.replace("\n", ",attributes\n") + ROW.replace("\n", ',"{""a"": 1, ""b"": 2}"\n')
    )
    assert read_csv(path).problems == []
