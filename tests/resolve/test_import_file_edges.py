"""Deliveries that used to show a Python traceback or blame the wrong line (QA 6, 7), imported at
the command line into the street scenes workspace (tests/resolve/conftest.py): each is refused
with the file, the line and what to do, and leaves the workspace as it was."""

from __future__ import annotations

import codecs

import pytest

from tests.helpers import state

GUIDELINE = "school-buses@1.1.0"
# a class the guideline does not have: `Bus`, not `school_bus` (60 + 40 = ... see below)
LINE = '{"item_id":"n04.png","labeler":"sB-01","class":"Bus","bbox":[10,10,100,50]}\n'


def import_args(path, fmt: str) -> list[str]:
    return ["labels", "import", "streets", str(path), "--format", fmt,
            "--guideline", GUIDELINE, "--source", "qa"]  # fmt: skip


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        ("utf-8", codecs.BOM_UTF8),
        ("utf-16-le", codecs.BOM_UTF16_LE),
        ("utf-16-be", codecs.BOM_UTF16_BE),
    ],
)
def test_a_jsonl_file_with_a_bom_names_its_problem_line_and_file(
    streets, run, tmp_path, encoding, bom
):
    path = tmp_path / "bom.jsonl"
    good = LINE.replace('"Bus"', '"school_bus"')
    # line 1 good, line 2 blank, line 3 the unknown class
    path.write_bytes(bom + (good + "\n" + LINE).encode(encoding))
    before = state(streets.root)
    result = run(*import_args(path, "jsonl"), cwd=streets.root, expect=1)
    assert "Traceback" not in result.output and "labelspec-utf8-" not in result.output
    assert f"{path}:3" in result.stderr
    assert "unknown class Bus in school-buses 1.1.0" in result.stderr
    assert state(streets.root) == before


def test_a_csv_file_in_utf16_names_its_problem_line_and_file(streets, run, tmp_path):
    path = tmp_path / "labels.csv"
    text = 'item_id,labeler,class,bbox\nn04.png,sB-01,Bus,"[10,10,100,50]"\n'
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    result = run(*import_args(path, "csv"), cwd=streets.root, expect=1)
    assert "labelspec-utf8-" not in result.output
    assert f"{path}:2" in result.stderr and "unknown class Bus" in result.stderr


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "labelstudio", "coco", "cvat"])
def test_a_folder_given_as_the_file_is_refused_cleanly(streets, run, tmp_path, fmt):
    folder = tmp_path / "qa-r"
    folder.mkdir()
    before = state(streets.root)
    result = run(*import_args(folder, fmt), cwd=streets.root, expect=1)
    assert result.stderr == (
        f"Error: {folder} is a folder: give the export file in it "
        "(only --format yolo reads a folder)\n"
    )
    assert state(streets.root) == before


HEADER = "item_id,labeler,class,bbox_x,bbox_y,bbox_w,bbox_h\n"
ROW = "n04.png,sB-01,school_bus,10,10,100,50\n"


@pytest.mark.parametrize(
    ("ragged", "fields"),
    [("n05.png,sB-01,school_bus,10,10,100,50,oops\n", 8), ("n05.png,sB-01,school_bus,10,10\n", 5)],
)
def test_a_ragged_csv_row_names_its_line_and_field_count(streets, run, tmp_path, ragged, fields):
    path = tmp_path / "ragged.csv"
    path.write_text(HEADER + ROW + ragged + ROW.replace("n04", "n08"))
    before = state(streets.root)
    result = run(*import_args(path, "csv"), cwd=streets.root, expect=1)
    # the header has 7 fields; line 3 has `fields`
    assert f"{path}:3" in result.stderr
    assert f"line 3 has {fields} fields, the header 7" in result.stderr
    assert "missing column" not in result.stderr and "the header needs" not in result.stderr
    assert state(streets.root) == before
