"""The relabel loop against a real Label Studio 1.23 server: plan, push, two annotators answer
through the API (one cancels), pull and merge, pull again for nothing new, then trace and verify."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pyarrow.parquet as pq

from tests.helpers import git
from tests.trace.conftest import SUSPECT, as_json, make_plan, retrain

PNG = b"\x89PNG\r\n\x1a\n"


def answer(server, task: dict, user: int, cls: str | None, cancelled: bool = False) -> dict:
    result = (
        []
        if cancelled
        else [
            {
                "from_name": "label",
                "to_name": "image",
                "type": "choices",
                "value": {"choices": [cls]},
            }
        ]
    )
    return server.api(
        "POST",
        f"/api/tasks/{task['id']}/annotations/",
        {"result": result, "completed_by": user, "was_cancelled": cancelled, "lead_time": 4.5},
    )


def test_push_annotate_pull_merge_pull_again(label_studio, history, run, tmp_path, monkeypatch):
    server = label_studio
    monkeypatch.setenv("LABELSPEC_LABEL_STUDIO_TOKEN", server.token)
    retrain(run, history, "vA-01")
    retrain(run, history, "vB-01")
    out = tmp_path / "queue"
    plan = make_plan(run, history, out, "--labelstudio-local-files", str(server.document_root))
    assert plan["predictions"] == "none"
    assert plan["images"]["mode"] == "labelstudio-local-files"
    items = sorted({suspect[0] for suspect in SUSPECT})
    assert sorted(e["item_id"] for e in plan["items"]) == items

    pushed = as_json(run, history, "relabel", "push", str(out), "--labelstudio", server.url)
    assert pushed["created"] is True
    assert pushed["tasks_added"] == len(items)
    project = pushed["project"]
    # the project is recorded in the committed plan, without any token
    record = (history / f"datasets/digits/relabel/{plan['plan']}.json").read_text()
    assert json.loads(record)["labelstudio"] == {"url": server.url, "project": project}
    assert server.token not in git(history, "log", "-p", "--all")
    assert git(history, "status", "--porcelain") == ""

    # pushing again updates the project and adds no task twice
    again = as_json(run, history, "relabel", "push", str(out), "--labelstudio", server.url)
    assert (again["created"], again["project"], again["tasks_added"]) == (False, project, 0)

    config = server.api("GET", f"/api/projects/{project}")
    assert '<Text name="relabel_reason" value="$relabel_reason"/>' in config["label_config"]
    assert "<h2>" in config["expert_instruction"] and config["show_instruction"] is True
    tasks = server.api(
        "GET", f"/api/projects/{project}/export?exportType=JSON&download_all_tasks=true"
    )
    assert len(tasks) == len(items)
    by_item = {t["data"]["item_id"]: t for t in tasks}
    assert all(t["data"]["relabel_reason"] for t in tasks)
    assert all(t["total_predictions"] == 0 for t in tasks)  # --predictions none: nothing pre-filled
    # the image of a task loads from Label Studio's local files
    status, body = server.get_bytes(by_item["d07.png"]["data"]["image"])
    assert status == 200 and body.startswith(PNG)

    # two annotators, created through the API
    ann1 = server.api(
        "POST", "/api/users/", {"email": "ann1@labelspec.invalid", "username": "ann1"}
    )
    ann2 = server.api(
        "POST", "/api/users/", {"email": "ann2@labelspec.invalid", "username": "ann2"}
    )
    users = tmp_path / "users.csv"
    users.write_text(f"{ann1['id']},vA-01\n{ann2['id']},vB-01\n")
    answer(server, by_item["d01.png"], ann1["id"], "one")
    answer(server, by_item["d07.png"], ann1["id"], "seven")
    answer(server, by_item["d07.png"], ann2["id"], "one")
    d12 = answer(server, by_item["d12.png"], ann2["id"], "two")
    answer(server, by_item["d18.png"], ann2["id"], None, cancelled=True)  # skipped

    pulled = as_json(run, history, "relabel", "pull", plan["plan"], "--labeler-map", str(users))
    assert (pulled["annotations"], pulled["cancelled"]) == (5, 1)
    assert (pulled["new"], pulled["updated"], pulled["unchanged"]) == (4, 0, 0)
    assert pulled["labels"] == 4 and pulled["items"] == 3
    assert pulled["by_labeler"] == {"vA-01": 2, "vB-01": 2}
    assert pulled["open"] == len(items) - 3

    second = as_json(run, history, "relabel", "pull", plan["plan"], "--labeler-map", str(users))
    assert (second["new"], second["updated"], second["unchanged"]) == (0, 0, 4)
    assert second["batch"] is None

    # an answer edited in Label Studio supersedes its earlier version on the next pull
    edited = [{**d12["result"][0], "value": {"choices": ["seven"]}}]
    server.api("PATCH", f"/api/annotations/{d12['id']}", {"result": edited})
    before = git(history, "rev-parse", "HEAD")
    dry = as_json(
        run, history, "relabel", "pull", plan["plan"], "--labeler-map", str(users), "--dry-run"
    )
    assert (dry["new"], dry["updated"], dry["unchanged"]) == (0, 1, 3)
    assert git(history, "rev-parse", "HEAD") == before  # a dry run writes nothing
    third = as_json(run, history, "relabel", "pull", plan["plan"], "--labeler-map", str(users))
    assert (third["new"], third["updated"], third["unchanged"], third["labels"]) == (0, 1, 3, 1)
    d12_now = as_json(run, history, "trace", "item", "digits", "d12.png")
    assert [a["labels"][0]["class"] for a in d12_now["annotations"] if a["current"]] == ["seven"]

    traced = as_json(run, history, "trace", "item", "digits", "d07.png")
    current = [a for a in traced["annotations"] if a["current"]]
    assert sorted((a["labeler"], a["labels"][0]["class"]) for a in current) == [
        ("vA-01", "seven"),
        ("vB-01", "one"),
    ]
    for found in current:
        assert found["source"] == "relabel" and found["guideline_version"] == plan["version"]
        assert found["delivery"].endswith(f"labelstudio-project-{project}.json")
        assert found["source_ids"]["ls_task"] == by_item["d07.png"]["id"]
        # the plan's old annotations of the item are superseded, not deleted
        assert set(found["supersedes"]) >= set(
            next(e for e in plan["items"] if e["item_id"] == "d07.png")["annotations"]
        )
    assert any(not a["current"] for a in traced["annotations"])
    run("verify", cwd=history)


def test_labels_export_imports_into_label_studio_and_comes_back_the_same(
    label_studio, history, run, tmp_path
):
    """`labels export --format labelstudio` -> a Label Studio project -> its JSON export -> the
    same labels: items, classes, labelers (completed_by through the labeler map) and dates."""
    from labelspec.formats import labelstudio
    from labelspec.store.query import current_labels
    from labelspec.workspace import Workspace

    server = label_studio
    labelers = ("vA-01", "vB-01", "vC-01", "vC-02")
    ids = {
        labeler: server.api(
            "POST", "/api/users/", {"email": f"x-{labeler}@labelspec.invalid", "username": labeler}
        )["id"]
        for labeler in labelers
    }
    users = tmp_path / "users.csv"
    users.write_text("".join(f"{uid},{labeler}\n" for labeler, uid in ids.items()))
    out = tmp_path / "digits.labelstudio.json"
    exported = as_json(
        run, history, "labels", "export", "digits", "--format", "labelstudio",
        "--labeler-map", str(users), "--out", str(out),
        "--labelstudio-local-files", str(server.document_root),
    )  # fmt: skip
    config = tmp_path / "digits.labelstudio.labeling-config.xml"
    assert exported["files"] == [str(out), str(config)]

    project = server.api(
        "POST", "/api/projects", {"title": "digits export", "label_config": config.read_text()}
    )
    tasks = json.loads(out.read_text())
    # as in the tool: Settings -> Cloud Storage -> Local files, the items' folder
    items = str(history / "datasets/digits/items")
    server.api("POST", "/api/storages/localfiles", {"project": project["id"], "path": items})
    done = server.api("POST", f"/api/projects/{project['id']}/import", tasks)
    assert (done["task_count"], done["annotation_count"]) == (
        len(tasks),
        sum(len(t["annotations"]) for t in tasks),
    )
    # the exported tasks' images load from the server (local files under its document root)
    status, body = server.get_bytes(tasks[0]["data"]["image"])
    assert tasks[0]["data"]["image"].startswith("/data/local-files/?d=")
    assert status == 200 and body.startswith(PNG)
    back = tmp_path / "from-label-studio.json"
    back.write_text(
        json.dumps(server.api("GET", f"/api/projects/{project['id']}/export?exportType=JSON"))
    )

    staged = labelstudio.read(back)
    assert staged.problems == []
    by_user = {str(uid): labeler for labeler, uid in ids.items()}
    got = sorted(
        (r["item_ref"], r["class"], by_user[r["labeler_ref"]], r["created_at"])
        for r in staged.table.to_pylist()
    )
    labels = current_labels(Workspace(history), "digits").to_pylist()
    want = sorted((r["item_id"], r["class"], r["labeler_id"], r["created_at"]) for r in labels)
    assert got == want
    # each label keeps the guideline version it was made under (1.0.0, 1.1.0 and 1.1.1 here)
    versions = sorted(
        (r["item_ref"], by_user[r["labeler_ref"]], r["guideline_version"])
        for r in staged.table.to_pylist()
    )
    made = sorted((r["item_id"], r["labeler_id"], r["guideline_version"]) for r in labels)
    assert versions == made and {v for *_, v in made} == {"1.0.0", "1.1.0", "1.1.1"}
    # and it imports, every row valid
    run(
        "labels", "import", "digits", str(back), "--format", "labelstudio",
        "--guideline", "digits@1.1.1", "--source", "label-studio", "--labeler-map", str(users),
        "--dry-run", cwd=history,
    )  # fmt: skip


def test_a_personal_access_token_is_exchanged_for_an_access_token(label_studio):
    from labelspec.formats.labelstudio_api import Client

    server = label_studio
    pat = server.api("POST", "/api/token/", {})["token"]  # a JWT refresh token
    client = Client(server.url, pat)
    assert client.request("GET", "/api/current-user/whoami")["email"] == "admin@labelspec.invalid"
    assert client._auth.startswith("Bearer ")


def test_pushed_pre_annotations_are_the_projects_model_version(
    label_studio, history, run, tmp_path, monkeypatch
):
    server = label_studio
    monkeypatch.setenv("LABELSPEC_LABEL_STUDIO_TOKEN", server.token)
    out = tmp_path / "current"
    make_plan(
        run, history, out, "--predictions", "current", "--image-url", "http://files.invalid/{path}"
    )
    # files.invalid is for the labelers' machines alone: no image check from here
    pushed = as_json(
        run, history, "relabel", "push", str(out), "--labelstudio", server.url, "--no-image-check"
    )
    project = server.api("GET", f"/api/projects/{pushed['project']}")
    assert project["model_version"].startswith("labelspec current labels, ")
    assert project["show_collab_predictions"] is True
    tasks = server.api(
        "GET", f"/api/projects/{pushed['project']}/export?exportType=JSON&download_all_tasks=true"
    )
    assert all(t["total_predictions"] >= 1 for t in tasks)
    assert all(
        t["data"]["image"].startswith("http://files.invalid/datasets/digits/items/") for t in tasks
    )
    assert pushed["warnings"] == [] and pushed["local_storage"] is None
    # from this machine those images do not load: `tool check` says so, with the fix
    broken = run("tool", "check", str(out), cwd=history, expect=6)
    assert "cannot load the task image http://files.invalid/" in broken.stderr
    assert "check --image-url" in broken.stderr


def test_a_push_whose_images_do_not_load_fails_with_the_fix(
    label_studio, history, run, tmp_path, monkeypatch
):
    """The workspace is one level below the server's document root: a plan that names the
    workspace as the root builds links the server answers 404 to. The push says so, before
    any task goes in, and leaves no project behind."""
    server = label_studio
    monkeypatch.setenv("LABELSPEC_LABEL_STUDIO_TOKEN", server.token)
    out = tmp_path / "plan"
    first = make_plan(run, history, out, "--labelstudio-local-files", str(history))
    before = server.api("GET", "/api/projects")["count"]

    failed = run("relabel", "push", str(out), "--labelstudio", server.url, cwd=history, expect=6)

    assert "cannot load the task image /data/local-files/?d=" in failed.stderr
    assert "(HTTP 404)" in failed.stderr
    assert f"LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT={history}" in failed.stderr
    assert server.api("GET", "/api/projects")["count"] == before
    assert f"close this plan (`labelspec relabel close digits {first['plan']}`)" in failed.stderr
    # the first plan closed, planned again with the server's root: the same push goes through
    run("relabel", "close", "digits", first["plan"], cwd=history)
    make_plan(run, history, out, "--labelstudio-local-files", str(server.document_root))
    pushed = as_json(run, history, "relabel", "push", str(out), "--labelstudio", server.url)
    assert pushed["tasks_added"] == len({suspect[0] for suspect in SUSPECT})
    # and `tool check` sees the project as its labelers will
    checked = as_json(run, history, "tool", "check", str(out))
    assert (checked["project"], checked["tasks"]) == (pushed["project"], pushed["tasks_added"])
    assert checked["image"].startswith("/data/local-files/?d=")


def test_the_labeling_screen_shows_the_class_controls_without_scrolling(
    label_studio, history, run, tmp_path, monkeypatch
):
    """A relabel task in the real labeling screen at 1280x800, as a labeler opens it: the image
    bounded, every class button inside the window beside it, the reason and the guideline links
    above; the data manager's guideline column is a plain address, not HTML."""
    from playwright.sync_api import sync_playwright

    from tests.site.conftest import CHROMIUM, SCREENSHOTS

    assert CHROMIUM, "Debian's chromium is needed (apt-get install chromium; .ci/run does it)"
    server = label_studio
    monkeypatch.setenv("LABELSPEC_LABEL_STUDIO_TOKEN", server.token)
    config = history / "mkdocs.yml"
    config.write_text("site_url: https://guides.example.org/\n" + config.read_text())
    git(history, "commit", "-qam", "publish the guideline at guides.example.org")
    out = tmp_path / "plan"
    make_plan(run, history, out, "--labelstudio-local-files", str(server.document_root))
    pushed = as_json(run, history, "relabel", "push", str(out), "--labelstudio", server.url)
    tasks = server.api(
        "GET", f"/api/projects/{pushed['project']}/export?exportType=JSON&download_all_tasks=true"
    )
    task = tasks[0]
    assert task["data"]["guideline"] == "https://guides.example.org/digits/1.1.1/"
    classes = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{server.url}/user/login/")
            page.fill('input[name="email"]', "admin@labelspec.invalid")
            page.fill('input[name="password"]', "labelspec-admin-pw")
            page.click('button[type="submit"]')
            page.wait_for_url(lambda url: "/user/login" not in url, timeout=60_000)
            page.goto(f"{server.url}/projects/{pushed['project']}/data?task={task['id']}")
            # a choice reads "nine[0]": its hotkey follows the class
            choice = {c: page.get_by_text(re.compile(rf"^{c}(\[\d+\])?$")).first for c in classes}
            choice["nine"].wait_for(timeout=60_000)
            page.wait_for_timeout(1_000)  # the image settles into its bounded size
            page.screenshot(path=str(SCREENSHOTS / "labelstudio-relabel-task.png"))
            boxes = {c: found.bounding_box() for c, found in choice.items()}
            links = page.locator('a[href="https://guides.example.org/digits/1.1.1/classes/seven/"]')
            link_count = links.count()
            reason = page.get_by_text(task["data"]["relabel_reason"], exact=True).first.is_visible()
        finally:
            browser.close()
    below = {c: b for c, b in boxes.items() if b is None or b["y"] + b["height"] > 800}
    assert below == {}, f"class controls outside the 1280x800 window: {below}"
    assert all(b["x"] + b["width"] <= 1280 for b in boxes.values())
    assert link_count == 1 and reason


def test_each_relabeler_answers_a_copy_of_their_own(
    label_studio, history, run, tmp_path, monkeypatch
):
    """--relabelers: one copy of each task per relabeler, each relabeler's copies in a tab of
    their own (so no one opens a task holding another's answer); both answers merge back."""
    server = label_studio
    monkeypatch.setenv("LABELSPEC_LABEL_STUDIO_TOKEN", server.token)
    retrain(run, history, "vA-01")
    retrain(run, history, "vB-01")
    out = tmp_path / "copies"
    plan = make_plan(run, history, out, "--labelstudio-local-files", str(server.document_root))
    items = len(plan["items"])
    refused = run(
        *("relabel", "push", str(out), "--labelstudio", server.url, "--relabelers", "vA-01,vB-1"),
        cwd=history,
        expect=3,
    )
    assert "did you mean vB-01" in refused.stderr

    push = ("relabel", "push", str(out), "--labelstudio", server.url, "--relabelers")
    pushed = as_json(run, history, *push, "vA-01,vB-01")
    assert (pushed["tasks_added"], pushed["relabelers"]) == (2 * items, ["vA-01", "vB-01"])
    again = as_json(run, history, *push, "vA-01,vB-01")
    assert (again["tasks_added"], again["tasks_present"]) == (0, 2 * items)
    project = pushed["project"]
    tasks = server.api(
        "GET", f"/api/projects/{project}/export?exportType=JSON&download_all_tasks=true"
    )
    copies = sorted((t["data"]["item_id"], t["data"]["relabeler"]) for t in tasks)
    assert copies == sorted((e["item_id"], r) for e in plan["items"] for r in ("vA-01", "vB-01"))
    views = server.api("GET", f"/api/dm/views/?project={project}")
    tabs = {v["data"]["title"]: v["data"]["filters"]["items"] for v in views}
    assert tabs["vB-01"] == [
        {
            "filter": "filter:tasks:data.relabeler",
            "operator": "equal",
            "type": "String",
            "value": "vB-01",
        }
    ]
    assert len([t for t in tabs if t in ("vA-01", "vB-01")]) == 2  # one tab each, not one per push

    a = server.api("POST", "/api/users/", {"email": "copy-a@labelspec.invalid", "username": "ca"})
    b = server.api("POST", "/api/users/", {"email": "copy-b@labelspec.invalid", "username": "cb"})
    users = tmp_path / "users.csv"
    users.write_text(f"{a['id']},vA-01\n{b['id']},vB-01\n")
    copy = {(t["data"]["item_id"], t["data"]["relabeler"]): t for t in tasks}
    answer(server, copy["d07.png", "vA-01"], a["id"], "seven")
    answer(server, copy["d07.png", "vB-01"], b["id"], "one")
    pulled = as_json(run, history, "relabel", "pull", plan["plan"], "--labeler-map", str(users))
    assert (pulled["new"], pulled["items"], pulled["by_labeler"]) == (
        2,
        1,
        {"vA-01": 1, "vB-01": 1},
    )
    traced = as_json(run, history, "trace", "item", "digits", "d07.png")
    current = sorted(
        (x["labeler"], x["labels"][0]["class"]) for x in traced["annotations"] if x["current"]
    )
    assert current == [("vA-01", "seven"), ("vB-01", "one")]


def test_a_detection_projects_json_min_coco_and_yolo_exports_import_the_same_boxes(
    label_studio,
    make_store,
    run,
    tmp_path,
):
    """A detection project in the real server, boxes drawn through the API: its JSON-MIN, COCO
    (a zip) and YOLO (a zip with classes.txt and no data.yaml) downloads each import, and all
    three give the boxes that were drawn, in pixels of the 128 x 128 images."""
    from labelspec.formats import labelstudio_config
    from labelspec.guideline.releases import spec_at
    from labelspec.workspace import Workspace
    from tests.formats.test_yolo import _occlusion_optional

    server = label_studio
    root = make_store("shapes")
    _occlusion_optional(root)  # shapes 1.1.0: no required attribute (COCO and YOLO carry none)
    spec = spec_at(Workspace(root), "shapes", "1.1.0")
    project = server.api(
        "POST",
        "/api/projects",
        {"title": "shapes boxes", "label_config": labelstudio_config.labeling_config(spec)},
    )["id"]
    items = root / "datasets/shapes/items"
    server.api("POST", "/api/storages/localfiles", {"project": project, "path": str(items)})
    drawn = {  # image -> (class, x, y, w, h) in pixels
        "circle_big.png": ("circle", 24, 24, 80, 80),
        "square_big.png": ("square", 30, 30, 70, 70),
    }
    names = [*drawn, "ellipse_wide.png"]  # the ellipse: "no objects here", an empty result
    relative = items.resolve().relative_to(server.document_root)
    tasks = [
        {"data": {"image": f"/data/local-files/?d={relative}/{name}", "item_id": name}}
        for name in names
    ]
    server.api("POST", f"/api/projects/{project}/import", tasks)
    created = server.api(
        "GET", f"/api/projects/{project}/export?exportType=JSON&download_all_tasks=true"
    )
    for task in created:
        name = task["data"]["item_id"]
        result = []
        if name in drawn:
            cls, x, y, w, h = drawn[name]
            box = {"x": x / 1.28, "y": y / 1.28, "width": w / 1.28, "height": h / 1.28}
            result = [
                {
                    "from_name": "label",
                    "to_name": "image",
                    "type": "rectanglelabels",
                    "original_width": 128,
                    "original_height": 128,
                    "image_rotation": 0,
                    "value": {**box, "rotation": 0, "rectanglelabels": [cls]},
                }
            ]
        server.api(
            "POST",
            f"/api/tasks/{task['id']}/annotations/",
            {"result": result, "completed_by": 1, "lead_time": 3.0},
        )

    def download(kind: str, suffix: str) -> Path:
        status, body = server.get_bytes(
            f"/api/projects/{project}/export?exportType={kind}&download_resources=false"
        )
        assert status == 200, body[:300]
        path = tmp_path / f"shapes-{kind.lower()}{suffix}"
        path.write_bytes(body)
        return path

    exports = {
        "json-min": (download("JSON_MIN", ".json"), "labelstudio"),
        "coco": (download("COCO", ".zip"), "coco"),
        "yolo": (download("YOLO", ".zip"), "yolo"),
    }
    assert zipfile.is_zipfile(exports["coco"][0]) and zipfile.is_zipfile(exports["yolo"][0])
    with zipfile.ZipFile(exports["yolo"][0]) as archive:
        assert "classes.txt" in archive.namelist() and "data.yaml" not in archive.namelist()

    got = {}
    for kind, (path, fmt) in exports.items():
        ws = make_store("shapes", name=f"ws-{kind}")
        _occlusion_optional(ws)
        imported = as_json(
            run, ws, "labels", "import", "shapes", str(path), "--format", fmt,
            "--guideline", "shapes@1.1.0", "--source", f"ls-{kind}", "--labeler", "vA-01",
        )  # fmt: skip
        (batch,) = (ws / "datasets/shapes/labels").glob(f"{imported['batch']}*.parquet")
        got[kind] = sorted(
            (r["item_id"], r["class"], *(round(v, 3) for v in (r["bbox"] or {}).values()))
            for r in pq.read_table(batch).to_pylist()
        )
    want = sorted(
        [
            (name, cls, float(x), float(y), float(w), float(h))
            for name, (cls, x, y, w, h) in drawn.items()
        ]
        + [("ellipse_wide.png", None)]
    )
    # every format gives the drawn boxes; the ellipse's empty result is YOLO's empty label file,
    # while COCO lists the image without saying it was answered (--images-were all would)
    assert got["json-min"] == got["yolo"] == want
    assert got["coco"] == [w for w in want if w[1]]
