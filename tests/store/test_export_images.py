"""`labels export --format labelstudio` says where the server finds each task's image, as
`relabel plan` does: a URL template, or Label Studio's local-files root (the workspace, or a
folder above it)."""

from __future__ import annotations

import json


def test_labels_export_writes_task_image_urls_the_server_can_load(labeled_ws, run, tmp_path):
    out = tmp_path / "tasks.json"
    args = ["labels", "export", "digits", "--format", "labelstudio", "--out", str(out)]

    run(*args, "--image-url", "https://files.example.com/{path}", cwd=labeled_ws)
    by_url = json.loads(out.read_text())
    run(*args, "--labelstudio-local-files", cwd=labeled_ws)
    by_root = json.loads(out.read_text())
    run(*args, "--labelstudio-local-files", str(labeled_ws.parent), cwd=labeled_ws)
    above = json.loads(out.read_text())
    refused = run("labels", "export", "digits", "--format", "jsonl", "--out", str(tmp_path / "x.jsonl"),
                  "--image-url", "https://x/{path}", cwd=labeled_ws, expect=1)  # fmt: skip

    path = by_url[0]["data"]["item_id"]
    item = next(t for t in by_root if t["data"]["item_id"] == path)
    rel = next(t for t in above if t["data"]["item_id"] == path)
    assert by_url[0]["data"]["image"].startswith("https://files.example.com/")
    assert item["data"]["image"].startswith("/data/local-files/?d=")
    # the same image under a document root one level up carries the workspace's folder name
    assert rel["data"]["image"] == item["data"]["image"].replace("?d=", f"?d={labeled_ws.name}/", 1)
    assert "are for --format labelstudio" in refused.stderr
    assert not (tmp_path / "x.jsonl").exists()
