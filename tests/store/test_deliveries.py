"""Cumulative deliveries: re-exports add nothing, later exports add only what is new, an
annotation edited in the tool supersedes its earlier version, and the raw export is kept."""

from __future__ import annotations

import json
from pathlib import Path

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
