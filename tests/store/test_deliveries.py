"""Cumulative deliveries: re-exports add nothing, later exports add only what is new, an
annotation edited in the tool supersedes its earlier version, and the raw export is kept."""

from __future__ import annotations

import json
from pathlib import Path

import labelspec
from labelspec.store.query import current_labels
from labelspec.workspace import Workspace
from tests.helpers import git, head, state
from tests.store.conftest import digit_class, digit_rows, item_id, write_jsonl

USERS = '{"7": "vA-01"}'


def ls_task(task: int, index: int, annotation: int, cls: str | None = None, **extra) -> dict:
    """One Label Studio task for digit item ``index`` with one annotation by user 7."""
    result = [
        {
            "id": f"r{task}",
            "type": "choices",
            "from_name": "label",
            "to_name": "image",
            "value": {"choices": [cls or digit_class(index)]},
        }
    ]
    return {
        "id": task,
        "data": {"image": f"/data/upload/1/{item_id(index)}"},
        "annotations": [
            {
                "id": annotation,
                "completed_by": 7,
                "result": result,
                "created_at": "2026-02-01T10:00:00Z",
                "lead_time": 4.0,
                **extra,
            }
        ],
    }


def export(path: Path, tasks: list[dict]) -> Path:
    path.write_text(json.dumps(tasks))
    return path


def import_ls(run, root: Path, path: Path, *extra: str, expect: int = 0) -> dict:
    users = root.parent / "users.json"
    users.write_text(USERS)
    args = ["labels", "import", "digits", str(path), "--format", "labelstudio"]
    args += ["--guideline", "digits@1.0.0", "--source", "vendor-a", "--labeler-map", str(users)]
    result = run(*args, *extra, "--json", cwd=root, expect=expect)
    return json.loads(result.stdout) if expect == 0 else result


def show(run, root: Path) -> dict:
    return json.loads(run("labels", "show", "digits", "--json", cwd=root).stdout)


def test_a_re_exported_delivery_adds_nothing(digits_ws, run, tmp_path):
    first = export(tmp_path / "export.json", [ls_task(n, n, 100 + n) for n in range(5)])
    import_ls(run, digits_ws, first)
    before = head(digits_ws)

    again = import_ls(run, digits_ws, first)

    assert (again["new"], again["updated"], again["unchanged"]) == (0, 0, 5)
    assert again["batch"] == "" and head(digits_ws) == before  # no batch, no commit
    human = run(
        "labels", "import", "digits", str(first), "--format", "labelstudio",
        "--guideline", "digits@1.0.0", "--source", "vendor-a",
        "--labeler-map", str(digits_ws.parent / "users.json"), cwd=digits_ws,
    ).stdout  # fmt: skip
    assert human.strip() == (
        "Nothing new to import: 0 new, 0 updated, 5 unchanged annotation(s) in export.json (no commit)"
    )
    assert show(run, digits_ws)["labels"] == 5


def test_a_later_cumulative_export_adds_only_the_new_and_the_edited(digits_ws, run, tmp_path):
    import_ls(
        run, digits_ws, export(tmp_path / "1.json", [ls_task(n, n, 100 + n) for n in range(5)])
    )
    # the tool exports everything again: two more annotations, and d01's answer edited
    tasks = [ls_task(n, n, 100 + n) for n in range(7)]
    tasks[1] = ls_task(1, 1, 101, cls="seven", updated_at="2026-02-02T09:00:00Z")
    later = export(tmp_path / "2.json", tasks)
    before = state(digits_ws)

    dry = import_ls(run, digits_ws, later, "--dry-run")

    assert (dry["new"], dry["updated"], dry["unchanged"], dry["dry_run"]) == (2, 1, 4, True)
    assert state(digits_ws) == before
    done = import_ls(run, digits_ws, later)
    assert (done["new"], done["updated"], done["unchanged"], done["labels"]) == (2, 1, 4, 3)
    shown = show(run, digits_ws)
    assert (shown["labels"], shown["superseded_labels"]) == (7, 1)
    lineage = json.loads(
        run("trace", "item", "digits", item_id(1), "--json", cwd=digits_ws).stdout
    )["annotations"]
    old, new = lineage
    assert (old["labels"][0]["class"], old["current"]) == (digit_class(1), False)
    assert (new["labels"][0]["class"], new["current"], new["supersedes"]) == (
        "seven",
        True,
        [old["annotation_id"]],
    )


def test_re_importing_jsonl_coco_and_cvat_adds_zero_labels(labeled_ws, run, tmp_path):
    rows = digit_rows(range(3), labeler="vA-01", created_at="2026-02-05T10:00:00Z")
    jsonl = write_jsonl(tmp_path / "d.jsonl", rows)
    coco = tmp_path / "d.json"
    coco.write_text(
        json.dumps(
            {
                "images": [{"id": n, "file_name": item_id(n)} for n in range(3)],
                "annotations": [
                    {"id": n, "image_id": n, "category_id": n + 1, "image_level": True}
                    for n in range(3)
                ],
                "categories": [{"id": n + 1, "name": digit_class(n)} for n in range(3)],
            }
        )
    )
    cvat = tmp_path / "d.xml"
    cvat.write_text(
        "<annotations><version>1.1</version>"
        + "".join(
            f'<image id="{n}" name="{item_id(n)}"><tag label="{digit_class(n)}"/></image>'
            for n in range(3)
        )
        + "</annotations>"
    )
    for path, fmt, who in ((jsonl, "jsonl", []), (coco, "coco", ["--labeler", "vA-01"]),
                           (cvat, "cvat", ["--labeler", "vA-01"])):  # fmt: skip
        args = ["labels", "import", "digits", str(path), "--format", fmt, "--guideline"]
        args += ["digits@1.0.0", "--source", f"vendor-{fmt}", *who, "--json"]
        first = json.loads(run(*args, cwd=labeled_ws).stdout)
        again = json.loads(run(*args, cwd=labeled_ws).stdout)
        assert first["new"] == 3, fmt
        assert (again["new"], again["updated"], again["unchanged"]) == (0, 0, 3), fmt
    assert show(run, labeled_ws)["labels"] == 20 + 9


def test_the_raw_delivery_is_kept_beside_its_batch(digits_ws, run, tmp_path):
    source = export(tmp_path / "vendor export.json", [ls_task(n, n, 100 + n) for n in range(2)])

    result = import_ls(run, digits_ws, source)

    kept = digits_ws / result["delivery"]
    assert kept.name == f"{result['batch']}-vendor_export.json"
    assert kept.read_bytes() == source.read_bytes()
    record = kept.with_name(kept.name + ".dvc").read_text()
    assert '"kind": "delivery"' in record and '"name": "vendor export.json"' in record
    assert git(digits_ws, "status", "--porcelain") == ""
    lineage = json.loads(
        run("trace", "item", "digits", item_id(0), "--json", cwd=digits_ws).stdout
    )["annotations"]
    assert lineage[0]["delivery"] == result["delivery"]
    assert lineage[0]["source_ids"] == {"ls_annotation": 100, "ls_result": "r0", "ls_task": 0}


def test_tool_fields_are_kept_not_refused(make_store, run, tmp_path):
    """Datumaro writes occluded on every COCO annotation (and repeats annotation ids); CVAT
    writes occluded, z_order and source on every shape: kept as tool_fields, never refused."""
    digits = make_store("digits", "digits")
    coco = tmp_path / "datumaro.json"
    coco.write_text(
        json.dumps(
            {
                "images": [{"id": n, "file_name": item_id(n)} for n in range(2)],
                "annotations": [
                    {"id": 1, "image_id": n, "category_id": n + 1, "image_level": True,
                     "attributes": {"occluded": False}, "iscrowd": 0}
                    for n in range(2)
                ],
                "categories": [{"id": n + 1, "name": digit_class(n)} for n in range(2)],
            }
        )
    )  # fmt: skip
    args = ["labels", "import", "digits", str(coco), "--format", "coco", "--guideline"]
    args += ["digits@1.0.0", "--source", "vendor-d", "--labeler", "vA-01"]
    run(*args, cwd=digits)
    shapes = make_store("shapes", "shapes")
    cvat = tmp_path / "cvat.xml"
    cvat.write_text(
        '<annotations><version>1.1</version><image id="0" name="circle_big.png" width="128" '
        'height="128"><box label="circle" source="manual" occluded="1" xtl="24" ytl="24" '
        'xbr="104" ybr="104" z_order="2"></box></image></annotations>'
    )
    args = ["labels", "import", "shapes", str(cvat), "--format", "cvat", "--guideline"]
    run(*args, "shapes@1.0.0", "--source", "vendor-c", "--labeler", "vA-01", cwd=shapes)

    con = labelspec.open_workspace(digits).query("digits")
    stored = con.sql(
        "select attributes, tool_fields from labels where source = 'vendor-d'"
    ).fetchall()
    assert stored == [("{}", '{"iscrowd": 0, "occluded": false}')] * 2
    con = labelspec.open_workspace(shapes).query("shapes")
    [(attributes, tool)] = con.sql("select attributes, tool_fields from labels").fetchall()
    # the shapes guideline defines `occluded`: it is also the label's attribute
    assert attributes == '{"occluded":true}'
    assert json.loads(tool) == {"occluded": "1", "source": "manual", "z_order": "2"}


def test_a_cvat_video_track_imports_as_boxes_per_frame(make_store, run, tmp_path):
    shapes = make_store("shapes", "shapes")
    frames = tmp_path / "frames.csv"
    frames.write_text(
        "item_id,uri,width,height\n"
        + "".join(f"frame_{n:06d}.png,s3://v/frame_{n:06d}.png,128,128\n" for n in range(3))
    )
    run("items", "add", "shapes", str(frames), cwd=shapes)
    video = tmp_path / "video.xml"
    video.write_text(
        '<annotations><version>1.1</version><track id="4" label="square" source="manual">'
        '<box frame="0" keyframe="1" outside="0" occluded="0" xtl="10" ytl="10" xbr="50" ybr="50" z_order="0"/>'
        '<box frame="1" keyframe="0" outside="0" occluded="1" xtl="12" ytl="10" xbr="52" ybr="50" z_order="0"/>'
        '<box frame="2" keyframe="1" outside="1" occluded="0" xtl="12" ytl="10" xbr="52" ybr="50" z_order="0"/>'
        "</track></annotations>"
    )
    args = ["labels", "import", "shapes", str(video), "--format", "cvat", "--guideline"]
    out = run(
        *args, "shapes@1.0.0", "--source", "vendor-c", "--labeler", "vA-01", "--json", cwd=shapes
    )

    result = json.loads(out.stdout)
    assert (result["labels"], result["skipped"]) == (2, {"outside": 1})
    con = labelspec.open_workspace(shapes).query("shapes")
    rows = con.sql(
        "select item_id, bbox.x, json_extract_string(tool_fields, '$.track_id') from labels order by 1"
    ).fetchall()
    assert rows == [("frame_000000.png", 10.0, "4"), ("frame_000001.png", 12.0, "4")]


def test_an_attribute_map_renames_the_tools_attributes(digits_ws, run, tmp_path):
    """The tool calls it `clear`, the spec `legible` (class one): mapped, the labels import
    with the spec's name; unmapped, the import is refused naming the allowed attributes."""
    ones = [dict(r, attributes={"clear": True}) for r in digit_rows() if r["class"] == "one"]
    assert ones
    path = write_jsonl(tmp_path / "ones.jsonl", ones)
    args = ["labels", "import", "digits", str(path), "--format", "jsonl",
            "--guideline", "digits@1.0.0", "--source", "vendor-a"]  # fmt: skip

    refused = run(*args, cwd=digits_ws, expect=1)
    mapping = tmp_path / "attributes.csv"
    mapping.write_text("attribute,attribute_id\nclear,legible\n")
    run(*args, "--attribute-map", str(mapping), cwd=digits_ws)

    assert "unknown attribute(s) clear for class 'one' (allowed: legible)" in refused.stderr
    labels = current_labels(Workspace(digits_ws), "digits").to_pylist()
    assert {r["attributes"] for r in labels} == {'{"legible":true}'}


def test_history_adopts_labels_made_before_training_as_untrained(digits_ws, run, tmp_path):
    """A year of deliveries from before labelspec: vA-01 trained on 2026-01-15, vB-01 never.
    Refused as they are; with --history they land untrained, say so in `trace item`, and count
    as untrained in `trace impact`."""
    old = "2025-02-01T10:00:00Z"
    rows = digit_rows(range(4), created_at=old) + digit_rows(range(4, 8), "vB-01", created_at=old)
    path = write_jsonl(tmp_path / "2025.jsonl", rows)
    args = ["labels", "import", "digits", str(path), "--format", "jsonl",
            "--guideline", "digits@1.0.0", "--source", "vendor-a"]  # fmt: skip

    refused = run(*args, cwd=digits_ws, expect=1)
    adopted = json.loads(run(*args, "--history", "--json", cwd=digits_ws).stdout)

    assert (
        "training: labeler vA-01 was trained on digits 1.0.0 only on 2026-01-15" in refused.stderr
    )
    assert "vB-01 holds no passing training record" in refused.stderr
    assert adopted["labels"] == 8
    traced = run("trace", "item", "digits", item_id(0), cwd=digits_ws).stdout
    assert "training none (before adoption)" in traced
    labels = current_labels(Workspace(digits_ws), "digits").to_pylist()
    assert {r["training_id"] for r in labels} == {None}
    impact = json.loads(
        run("trace", "impact", "digits", "--guideline", "digits", "--json", cwd=digits_ws).stdout
    )
    assert (impact["total_labels"], impact["affected_labels"]) == (8, 8)
    assert impact["by_reason"] == {"affected": 0, "confusable": 0, "untrained": 8}
