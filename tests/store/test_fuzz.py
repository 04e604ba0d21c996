"""Bad deliveries never get in and never crash: a fuzz test over every import format.

Each example takes a valid delivery for the shapes workspace (detection: boxes, a required
attribute), mutates it (a value replaced by NaN, Infinity, a huge number, a string, a list, an
object, null; a key dropped; deep nesting, up to 50,000 levels; truncation; another text
encoding; XML entities) and imports it through the CLI. Either the import is refused with one `Error:` message, exit 1 and
the workspace exactly as it was, or every stored number is finite and in range and every box is
four finite numbers with a positive size.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import copy_workspace
from tests.helpers import state

BOX = {"x": 24, "y": 24, "w": 80, "h": 80}
SEEDS = {
    "jsonl": json.dumps(
        {"item_id": "circle_big.png", "labeler": "vA-01", "class": "circle", "bbox": [24, 24, 80, 80],
         "attributes": {"occluded": False}, "created_at": "2026-02-01T10:00:00Z",
         "lead_time_s": 3.5, "cost": 0.02}
    ) + "\n",
    "csv": "item_id,labeler,class,bbox,attributes,created_at,lead_time_s,cost\n"
    'circle_big.png,vA-01,circle,"[24, 24, 80, 80]","{""occluded"": false}",2026-02-01T10:00:00Z,3.5,0.02\n',
    "coco": json.dumps(
        {"images": [{"id": 1, "file_name": "circle_big.png", "width": 128, "height": 128}],
         "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [24, 24, 80, 80],
                          "attributes": {"occluded": False}}],
         "categories": [{"id": 1, "name": "circle"}]}
    ),
    "labelstudio": json.dumps(
        [{"id": 1, "data": {"image": "/data/upload/1/circle_big.png"},
          "annotations": [{"id": 10, "completed_by": 7, "created_at": "2026-02-01T10:00:00Z",
                           "lead_time": 3.5, "result": [
              {"id": "r1", "type": "rectanglelabels", "from_name": "label", "to_name": "image",
               "original_width": 128, "original_height": 128,
               "value": {"x": 18.75, "y": 18.75, "width": 62.5, "height": 62.5,
                         "rectanglelabels": ["circle"]}},
              {"id": "r1", "type": "choices", "from_name": "occluded", "to_name": "image",
               "value": {"choices": ["false"]}}]}]}]
    ),
    "cvat": '<?xml version="1.0" encoding="utf-8"?>\n<annotations><version>1.1</version>'
    '<image id="0" name="circle_big.png" width="128" height="128">'
    '<box label="circle" xtl="24" ytl="24" xbr="104" ybr="104">'
    '<attribute name="occluded">false</attribute></box></image></annotations>\n',
}  # fmt: skip
SUFFIX = {"jsonl": ".jsonl", "csv": ".csv", "coco": ".json", "labelstudio": ".json", "cvat": ".xml"}
ODD = [
    float("nan"), float("inf"), -float("inf"), 1e30, -5, 0, "", "x", "NaN", [], {}, None, True,
    [1, 2, 3], ["1", "2", "3", "4"], "\udcff".encode("utf-8", "surrogatepass").decode("latin-1"),
]  # fmt: skip


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _paths(child, (*prefix, i))


def _replace(value, path, new):
    if not path:
        return new
    head, *rest = path
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = _replace(value[head], rest, new)
    return copy


def _drop(value, path):
    head, *rest = path
    copy = dict(value) if isinstance(value, dict) else list(value)
    if rest:
        copy[head] = _drop(value[head], rest)
    else:
        del copy[head]
    return copy


@st.composite
def deliveries(draw, fmt: str) -> bytes:
    text = SEEDS[fmt]
    how = draw(st.sampled_from(["value", "drop", "nest", "truncate", "encode", "raw"]))
    if fmt in ("jsonl", "coco", "labelstudio") and how in ("value", "drop", "nest"):
        data = json.loads(text)
        paths = [p for p in _paths(data) if p]
        path = draw(st.sampled_from(paths))
        if how == "value":
            data = _replace(data, path, draw(st.sampled_from(ODD)))
        elif how == "drop":
            data = _drop(data, path)
        else:
            data = _replace(data, path, "__DEEP__")
        depth = draw(st.sampled_from([50, 5000, 50_000])) if how == "nest" else 0
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a": ', "}")]))
        body = json.dumps(data).replace('"__DEEP__"', opener * depth + "1" + closer * depth)
        return (body + "\n" if fmt == "jsonl" else body).encode()
    if how == "truncate":
        raw = text.encode()
        return raw[: draw(st.integers(0, len(raw) - 1))]
    if how == "encode":
        codec = draw(st.sampled_from(["utf-16", "utf-8-sig", "latin-1-bad"]))
        if codec == "latin-1-bad":
            return text.encode().replace(b"circle", b"circl\xe9", 1)
        return text.encode(codec)
    if fmt == "cvat" and how != "raw":
        swap = draw(
            st.sampled_from(['xtl="24"', 'xbr="104"', "false", 'width="128"', 'label="circle"'])
        )
        odd = draw(st.sampled_from(['"nan"', '"inf"', '"-5"', '"1e30"', '""', '"&lt;x&gt;"']))
        key = swap.split("=")[0]
        new = f"{key}={odd}" if "=" in swap else odd.strip('"')
        return text.replace(swap, new, 1).encode()
    if fmt == "csv" and how != "raw":
        cells = ["3.5", "0.02", '"[24, 24, 80, 80]"', "2026-02-01T10:00:00Z", "circle"]
        swap = draw(st.sampled_from(cells))
        odd = draw(st.sampled_from(["nan", "inf", "-1", "1e30", "x", '"[1, 2]"', '"{}"', '"[]"']))
        return text.replace(swap, odd, 1).encode()
    extra = draw(st.sampled_from(["<!DOCTYPE a [<!ENTITY e 'x'>]>", "\x00", "{", "]", "\ufeff"]))
    return (extra + text).encode("utf-8", "surrogatepass")


def _check_stored(root: Path, before_batches: set[Path]) -> None:
    [batch] = set((root / "datasets/shapes/labels").glob("*.parquet")) - before_batches
    for row in pq.read_table(batch).to_pylist():
        for key in ("lead_time_s", "cost"):
            value = row[key]
            assert value is None or (math.isfinite(value) and 0 <= value < 1e7), (key, value)
        box = row["bbox"]
        if row["class"] is None:  # an explicit "no objects here" (an empty result) has no box
            assert box is None, row
            continue
        assert box is not None and all(math.isfinite(box[k]) for k in "xywh"), box
        assert box["w"] > 0 and box["h"] > 0, box
        assert isinstance(json.loads(row["attributes"]), dict)


def _fuzz(built, run, fmt: str, delivery: bytes, tmp: Path, must_land: bool = False) -> None:
    root = copy_workspace(built("shapes"), tmp / "ws")
    (tmp / "users.json").write_text('{"7": "vA-01"}')
    path = tmp / f"delivery{SUFFIX[fmt]}"
    path.write_bytes(delivery)
    who = ["--labeler-map", str(tmp / "users.json")] if fmt == "labelstudio" else []
    if fmt in ("coco", "cvat"):
        who = ["--labeler", "vA-01"]
    before, batches = state(root), set((root / "datasets/shapes/labels").glob("*.parquet"))
    args = ["labels", "import", "shapes", str(path), "--format", fmt]
    result = run(
        *args, "--guideline", "shapes@1.0.0", "--source", "vendor-a", *who, cwd=root, expect=None
    )
    assert result.exit_code in ((0,) if must_land else (0, 1)), (result.exit_code, result.stderr)
    if result.exit_code == 1:
        assert result.stderr.startswith("Error: "), result.stderr
        assert "Traceback" not in result.stderr
        assert state(root) == before
    else:
        _check_stored(root, batches)
    shutil.rmtree(tmp)


SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def test_seeds_import(built, run, tmp_path):
    for fmt, text in SEEDS.items():
        _fuzz(built, run, fmt, text.encode(), tmp_path / fmt, must_land=True)


@SETTINGS
@given(data=st.data())
def test_bad_deliveries_are_refused_cleanly(built, run, tmp_path_factory, data):
    fmt = data.draw(st.sampled_from(sorted(SEEDS)))
    delivery = data.draw(deliveries(fmt))
    _fuzz(built, run, fmt, delivery, tmp_path_factory.mktemp("fuzz"))


def _coco(bbox) -> bytes:
    doc = json.loads(SEEDS["coco"])
    doc["annotations"][0]["bbox"] = bbox
    return json.dumps(doc).encode()


def _jsonl(**changes) -> bytes:
    row = json.loads(SEEDS["jsonl"])
    row.update(changes)
    return (json.dumps(row) + "\n").encode()


def _labelstudio_class(value) -> bytes:
    """A classification answer (one task-level choices result) whose ``value`` is ``value``."""
    doc = json.loads(SEEDS["labelstudio"])
    result = {"id": "c1", "type": "choices", "from_name": "label", "to_name": "image"}
    doc[0]["annotations"][0]["result"] = [{**result, "value": value}]
    return json.dumps(doc).encode()


# (format, delivery, a fragment of the one message the user must read)
CASES = {
    "coco box as strings": ("coco", _coco(["24", "24", "80", "80"]), "bbox"),
    "coco box of 3 numbers": ("coco", _coco([24, 24, 80]), "bbox"),
    "coco negative size": ("coco", _coco([24, 24, -80, 80]), "positive"),
    "utf-16 jsonl, decoded from its BOM": ("jsonl", SEEDS["jsonl"].encode("utf-16"), None),
    "latin-1 bytes": (
        "jsonl",
        SEEDS["jsonl"].replace("vA-01", "vA-0\xe9").encode("latin-1"),
        "not UTF-8",
    ),
    "cost as a string": ("jsonl", _jsonl(cost="0.02"), "cost"),
    "NaN lead time": ("jsonl", SEEDS["jsonl"].replace("3.5", "NaN").encode(), "lead_time_s"),
    "a huge cost": ("jsonl", _jsonl(cost=1e30), "cents or a total"),
    "attributes a list": ("jsonl", _jsonl(attributes=[1]), "JSON object"),
    "attributes a string in csv": (
        "csv",
        SEEDS["csv"].replace('"{""occluded"": false}"', "occluded").encode(),
        "attributes",
    ),
    "a version that is no version": ("jsonl", _jsonl(guideline_version="1.0"), "guideline_version"),
    "deep nesting": (
        "coco",
        SEEDS["coco"]
        .replace('"bbox": [24, 24, 80, 80]', '"bbox": ' + "[" * 5000 + "]" * 5000)
        .encode(),
        "nested deeper",
    ),
    "attributes nested 50,000 objects deep": (
        "jsonl",
        _jsonl(attributes="__DEEP__")
        .decode()
        .replace('"__DEEP__"', '{"a": ' * 50_000 + "1" + "}" * 50_000)
        .encode(),
        "attributes nested deeper than 64 levels",
    ),
    "a label studio class result whose value is a string": (
        "labelstudio",
        _labelstudio_class("circle"),
        "task 1 (id 1), annotation 1 (id 10), result 1]: value: must be an object",
    ),
    "a zip given as json": ("coco", b"PK\x03\x04rest", "zip"),
    "csv given as label studio": (
        "labelstudio",
        b"id,image,label\n1,a.png,circle\n",
        "export as JSON",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_known_bad_input_gets_one_clear_error(built, run, tmp_path, case):
    fmt, delivery, fragment = CASES[case]
    root = copy_workspace(built("shapes"), tmp_path / "ws")
    path = tmp_path / f"delivery{SUFFIX[fmt]}"
    path.write_bytes(delivery)
    (tmp_path / "users.json").write_text('{"7": "vA-01"}')
    who = ["--labeler", "vA-01"] if fmt in ("coco", "cvat") else []
    if fmt == "labelstudio":
        who = ["--labeler-map", str(tmp_path / "users.json")]
    before = state(root)
    args = ["labels", "import", "shapes", str(path), "--format", fmt, "--guideline", "shapes@1.0.0"]
    result = run(*args, "--source", "vendor-a", *who, cwd=root, expect=None)
    if fragment is None:  # readable after all: it lands, decoded
        assert result.exit_code == 0, result.stderr
        return
    assert result.exit_code == 1, result.stdout
    assert result.stderr.startswith("Error: ") and fragment in result.stderr, result.stderr
    assert state(root) == before


def _shapes(built, tmp: Path) -> tuple[Path, dict]:
    root = copy_workspace(built("shapes"), tmp / "ws")
    return root, state(root)


def _import_jsonl(run, root: Path, tmp: Path, *options: str):
    path = tmp / "delivery.jsonl"
    path.write_text(SEEDS["jsonl"])
    args = ["labels", "import", "shapes", str(path), "--format", "jsonl"]
    return run(*args, "--guideline", "shapes@1.0.0", *options, cwd=root, expect=None)


def test_a_yolo_data_yaml_with_20000_nested_brackets_is_refused_naming_it(built, run, tmp_path):
    root, before = _shapes(built, tmp_path)
    folder = tmp_path / "yolo"
    shutil.copytree(Path(__file__).parents[1] / "fixtures/formats/yolo/ultralytics", folder)
    (folder / "data.yaml").write_text("names: " + "[" * 20_000 + "]" * 20_000 + "\n")
    args = ["labels", "import", "shapes", str(folder), "--format", "yolo", "--labeler", "vA-01"]

    result = run(*args, "--guideline", "shapes@1.0.0", "--source", "vendor-a", cwd=root, expect=1)

    assert result.stderr.startswith("Error: ") and "Traceback" not in result.stderr
    assert "data.yaml: YAML nested deeper than 64 levels" in result.stderr
    assert state(root) == before


# every numeric option is checked like the same field in a file: a cost is finite, 0..10,000
@pytest.mark.parametrize(
    ("cost", "fragment"),
    [
        ("nan", "not a finite number"),
        ("inf", "not a finite number"),
        ("1e400", "not a finite number"),  # overflows to infinity
        ("1e9", "must be at most 10,000 (got 1e9) (a price per label above 10,000 is cents"),
        ("-0.5", "must be at least 0 (got -0.5)"),
        ("cheap", "'cheap': not a number"),
    ],
)
def test_cost_per_label_out_of_range_is_refused(built, run, tmp_path, cost, fragment):
    root, before = _shapes(built, tmp_path)

    result = _import_jsonl(run, root, tmp_path, "--source", "vendor-a", "--cost-per-label", cost)

    assert result.exit_code == 1, result.stdout
    assert result.stderr.startswith("Error: --cost-per-label") and fragment in result.stderr
    assert state(root) == before


def test_a_cost_per_label_in_range_fills_the_costs_the_export_lacks(built, run, tmp_path):
    root, _ = _shapes(built, tmp_path)
    row = json.loads(SEEDS["jsonl"])
    del row["cost"]
    (tmp_path / "no-cost.jsonl").write_text(json.dumps(row) + "\n")
    args = ["labels", "import", "shapes", str(tmp_path / "no-cost.jsonl"), "--format", "jsonl"]
    run(*args, "--guideline", "shapes@1.0.0", "--source", "vendor-a", "--cost-per-label",
        "10000", cwd=root)  # fmt: skip

    [batch] = (root / "datasets/shapes/labels").glob("*.parquet")
    assert [r["cost"] for r in pq.read_table(batch).to_pylist()] == [10_000.0]


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        ("vendor-a\nInjected: subject", "a line break, \\n"),
        ("vendor-a\r", "a carriage return, \\r"),
        ("vendor\x1b[31m-a", "U+001B"),
        ("vendor\x85-a", "U+0085"),  # a C1 control (NEL) breaks lines in some viewers
    ],
)
def test_a_source_with_a_control_character_is_refused(built, run, tmp_path, source, shown):
    root, before = _shapes(built, tmp_path)

    result = _import_jsonl(run, root, tmp_path, "--source", source)

    assert result.exit_code == 1, result.stdout
    assert result.stderr.startswith(f"Error: --source {source!r} contains a control character")
    assert shown in result.stderr
    assert state(root) == before
