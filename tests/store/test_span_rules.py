"""What a span must be, at import: whole character offsets, at least the guideline's minimum
length, in order and not empty, and (from Label Studio) over the characters the labeler marked,
also in a text registered with CRLF line breaks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import state
from tests.store.conftest import write_jsonl

N01 = "Ada Lovelace met Charles Babbage in London."  # the news store's n01.txt
PARTY = "🎉 Party at Google on Friday."
CRLF_BYTES = b"Line one.\r\nAngela Merkel spoke."


def jsonl_import(run, root: Path, source: Path, fmt: str = "jsonl", expect: int = 0):
    return run(
        "labels", "import", "news", str(source), "--format", fmt,
        "--guideline", "entities@1.0.0", "--source", "vendor-a", cwd=root, expect=expect,
    )  # fmt: skip


def ls_import(run, root: Path, source: Path, expect: int = 0):
    users = root.parent / "users.json"
    users.write_text('{"7": "vA-01"}')
    return run(
        "labels", "import", "news", str(source), "--format", "labelstudio",
        "--guideline", "entities@1.0.0", "--source", "vendor-a", "--labeler-map", str(users),
        cwd=root, expect=expect,
    )  # fmt: skip


def refused(run, root: Path, source: Path, importer=jsonl_import, **kw) -> list[str]:
    """The problem lines of a refused import, after checking it changed nothing."""
    before = state(root)
    result = importer(run, root, source, expect=1, **kw)
    assert state(root) == before
    return [line.strip() for line in result.stderr.splitlines()[1:]]


def person(span) -> dict:
    return {"item_id": "n01.txt", "labeler": "vA-01", "class": "person", "span": span}


def stored_spans(run, root: Path) -> list[tuple[str, int, int]]:
    out = root.parent / "labels.jsonl"
    run("labels", "export", "news", "--format", "jsonl", "--out", str(out), cwd=root)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    return sorted((r["item_id"], *r["span"]) for r in rows)


def add_text(run, root: Path, name: str, data: bytes) -> None:
    folder = root / "incoming"
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(data)
    run("items", "add", "news", str(folder / name), cwd=root)


def ls_export(path: Path, text: str, regions: list[tuple[int, int, str | None]]) -> Path:
    """A Label Studio export of one text task (matched by its text) with one annotation by
    user 7: a ``person`` region per (start, end, the span's text or None)."""
    result = [
        {
            "id": f"r{n}",
            "type": "labels",
            "from_name": "label",
            "to_name": "text",
            "value": {
                "start": start,
                "end": end,
                "labels": ["person"],
                **({"text": said} if said is not None else {}),
            },
        }
        for n, (start, end, said) in enumerate(regions, 1)
    ]
    annotation = {"id": 31, "completed_by": 7, "created_at": "2026-02-01T10:00:00Z"}
    task = {"id": 5, "data": {"text": text}, "annotations": [{**annotation, "result": result}]}
    path.write_text(json.dumps([task], ensure_ascii=False))
    return path


# -- the guideline's minimum length ---------------------------------------------------------------
def test_a_span_one_character_short_of_the_minimum_is_refused_and_the_minimum_accepted(
    make_store, run, tmp_path
):
    """The ner template's R1 sets min_span_chars: 2. [0, 1] is "A" (1 character); [0, 2],
    "Ad", is 2: the minimum itself."""
    root = make_store("news")
    short = write_jsonl(tmp_path / "short.jsonl", [person([0, 1])])
    at_minimum = write_jsonl(tmp_path / "two.jsonl", [person([0, 2])])

    assert refused(run, root, short) == [
        f"{short}:1: span: span [0, 1] is 1 character(s) long, shorter than the 2-character "
        "minimum for person (rule R1)"
    ]
    jsonl_import(run, root, at_minimum)
    assert stored_spans(run, root) == [("n01.txt", 0, 2)]


# -- whole character offsets --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("span", "shown"),
    [([0.5, 12.7], "[0.5,12.7]"), (["0", "12"], '["0","12"]'), ([0, 12.0], "[0,12.0]")],
    ids=["fractions", "strings", "a-whole-float"],
)
def test_a_jsonl_span_that_is_not_two_integers_is_refused_naming_its_line(
    make_store, run, tmp_path, span, shown
):
    """Rounded, [0.5, 12.7] was stored as [1, 13]; read, ["0", "12"] as [0, 12]. The first line
    is well formed: the file is read by the precise reader, which names the second."""
    root = make_store("news")
    source = write_jsonl(tmp_path / "spans.jsonl", [person([0, 12]), person(span)])

    assert refused(run, root, source) == [
        f"{source}:2: span: must be [start, end]: two integers (character offsets), got {shown}"
    ]


def test_a_csv_span_that_is_not_two_integers_is_refused_naming_its_line(make_store, run, tmp_path):
    root = make_store("news")
    source = tmp_path / "spans.csv"
    source.write_text(
        "item_id,labeler,class,span\n"
        'n01.txt,vA-01,person,"[0,12]"\n'
        'n01.txt,vA-01,person,"[0.5,12.7]"\n'
        'n01.txt,vA-01,person,"[""0"",""12""]"\n'
    )

    assert refused(run, root, source, fmt="csv") == [
        f"{source}:3: span: must be [start, end]: two integers (character offsets), got [0.5,12.7]",
        f'{source}:4: span: must be [start, end]: two integers (character offsets), got ["0","12"]',
    ]


# -- reversed and empty spans -------------------------------------------------------------------
def test_reversed_and_empty_spans_are_refused_as_such_not_as_outside_the_text(
    make_store, run, tmp_path
):
    """[21, 11] and [5, 5] both lie inside the 43-character text."""
    root = make_store("news")
    source = write_jsonl(tmp_path / "odd.jsonl", [person([21, 11]), person([5, 5])])

    assert refused(run, root, source) == [
        f"{source}:1: span: span [21, 11] ends before it starts: give [start, end] with start < end",
        f"{source}:2: span: span [5, 5] is empty (start = end): a span covers at least one "
        "character",
    ]


# -- Label Studio's text of a span --------------------------------------------------------------
def test_a_label_studio_span_whose_text_is_not_the_items_text_there_is_refused(
    make_store, run, tmp_path
):
    """Offsets count code points, as Python's str does and Label Studio's do: in PARTY,
    "Google" is [11, 17] (the emoji is one character; two UTF-16 units would make it [12, 18]).
    [0, 4] reads "🎉 Pa", not the "Google" the labeler marked."""
    root = make_store("news")
    add_text(run, root, "party.txt", PARTY.encode())
    assert PARTY[11:17] == "Google"
    wrong = ls_export(tmp_path / "wrong.json", PARTY, [(0, 4, "Google")])
    right = ls_export(tmp_path / "right.json", PARTY, [(11, 17, "Google")])

    assert refused(run, root, wrong, importer=ls_import) == [
        f"{wrong} [task 1 (id 5), annotation 1 (id 31), result 1]: span: span [0, 4] covers "
        '"🎉 Pa" in the item\'s text, but the tool says it covers "Google": the offsets point '
        "at other characters than the labeler marked (was the task's text edited after "
        "labeling, or are they UTF-16 offsets from an old Label Studio, which counts an emoji "
        "as two?)"  # the emoji: a possible cause only where one is read
    ]
    ls_import(run, root, right)
    assert stored_spans(run, root) == [("party.txt", 11, 17)]


def test_a_label_studio_span_text_differing_only_in_whitespace_is_accepted(
    make_store, run, tmp_path
):
    """Label Studio collapses runs of spaces in a span's text unless the text is shown
    pre-wrapped; its offsets still count every space."""
    root = make_store("news")
    spaced = "Seen: Ada  Lovelace."
    add_text(run, root, "spaced.txt", spaced.encode())
    source = ls_export(tmp_path / "ls.json", spaced, [(6, 19, "Ada Lovelace")])
    assert spaced[6:19] == "Ada  Lovelace"

    ls_import(run, root, source)

    assert stored_spans(run, root) == [("spaced.txt", 6, 19)]


# -- CRLF texts ---------------------------------------------------------------------------------
def test_a_crlf_task_text_has_its_offsets_mapped_to_the_stored_lf_text(make_store, run, tmp_path):
    """items add stores 'Line one.\\r\\nAngela Merkel spoke.' as LF text. Label Studio counts CR
    and LF as two characters: "Angela Merkel" is [11, 24] in the task's raw text, [10, 23] in
    the stored one, and the Label Studio export labelspec writes shows it there."""
    root = make_store("news")
    add_text(run, root, "b.txt", CRLF_BYTES)
    raw = CRLF_BYTES.decode()
    assert raw[11:24] == "Angela Merkel"
    source = ls_export(tmp_path / "ls.json", raw, [(11, 24, "Angela Merkel")])

    ls_import(run, root, source)

    assert stored_spans(run, root) == [("b.txt", 10, 23)]
    out = tmp_path / "tasks.json"
    run("labels", "export", "news", "--format", "labelstudio", "--out", str(out), cwd=root)
    [task] = [t for t in json.loads(out.read_text()) if t["data"]["item_id"] == "b.txt"]
    [result] = task["annotations"][0]["result"]
    assert task["data"]["text"] == "Line one.\nAngela Merkel spoke."
    assert (result["value"]["start"], result["value"]["end"]) == (10, 23)
    assert result["value"]["text"] == "Angela Merkel"


def test_a_crlf_task_whose_offsets_skip_the_cr_is_refused_not_stored_shifted(
    make_store, run, tmp_path
):
    """Offsets counted as if the task's text had LF breaks, [10, 23], map to [10, 22] of the
    stored text ("Angela Merke"): the span's own text shows it, and nothing is stored."""
    root = make_store("news")
    add_text(run, root, "b.txt", CRLF_BYTES)
    source = ls_export(tmp_path / "ls.json", CRLF_BYTES.decode(), [(10, 23, "Angela Merkel")])

    assert refused(run, root, source, importer=ls_import) == [
        f"{source} [task 1 (id 5), annotation 1 (id 31), result 1, span [10, 23] in the task's "
        "CRLF text]: span: span [10, 22] covers "
        '"Angela Merke" in the item\'s text, but the tool says it covers "Angela Merkel": the '
        "offsets point at other characters than the labeler marked (was the task's text "
        "edited after labeling?)"
    ]


def test_a_crlf_text_kept_as_given_by_a_manifest_keeps_its_offsets(make_store, run, tmp_path):
    """A manifest's text is stored as given, CRs and all: the task's offsets count in it as
    they are ([11, 24] is "Angela Merkel" there), and nothing is mapped."""
    root = make_store("news")
    raw = CRLF_BYTES.decode()
    manifest = root / "texts.jsonl"
    manifest.write_text(json.dumps({"item_id": "m1", "text": raw}) + "\n")
    run("items", "add", "news", str(manifest), cwd=root)
    source = ls_export(tmp_path / "ls.json", raw, [(11, 24, "Angela Merkel")])

    ls_import(run, root, source)

    assert stored_spans(run, root) == [("m1", 11, 24)]
