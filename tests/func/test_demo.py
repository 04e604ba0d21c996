"""The demo end to end (`labelspec demo DIR`): it asserts its own story (after the relabel merge
the bake-off still ranks vendor-b last on all 150 golden items, the report has its verdict and
drill-down pages, a review saved as the gallery saves it feeds a relabel plan) and fails if any
step does not do what it says. Checked here from the outside too."""

from __future__ import annotations

import json

from labelspec.qa.bakeoff import bakeoff
from labelspec.workspace import Workspace


def test_the_demo_tells_its_story(tmp_path, run, monkeypatch):
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    run("demo", str(tmp_path / "demo"), cwd=tmp_path)
    ws = Workspace(tmp_path / "demo" / "workspace")
    result = bakeoff(ws, "digits", "expert", boot=200)
    ranking = [e["source"] for e in result["ranking"]]
    assert ranking == ["vendor-a", "vendor-c", "vendor-b"]
    assert {s: r["items"] for s, r in result["sources"].items()} == dict.fromkeys(ranking, 150)
    assert all(
        r["cost_per_correct_label"] >= r["cost_per_label"] for r in result["sources"].values()
    )
    assert "relabel" in result["not_ranked"]
    report = ws.root / "reports/qa-after-relabel"
    page = (report / "report.html").read_text()
    assert 'id="verdict"' in page and "95 %" in page
    vendor_b = [p.name for p in (report / "drill").glob("*vendor-b*.html")]
    assert vendor_b, "no drill-down pages for vendor-b"
    plan = json.loads((ws.root / "relabel/review/plan.json").read_text())
    assert plan["items"] and all(
        r.endswith("rejected in review") for i in plan["items"] for r in i["reasons"]
    )
    assert (ws.root / "reports/gaps.html").read_text().count("data:image/png;base64,") > 0
    # 16d: the roster clash of two clones, settled by an appended event in every clone
    for clone in ("teammate-a", "teammate-b", "fresh-clone"):
        listed = json.loads(run("labeler", "list", "--json", cwd=tmp_path / "demo" / clone).stdout)
        vendors = {lab["id"]: lab["vendor"] for lab in listed}
        assert (vendors["vC-03"], vendors["vB-03"]) == ("vendor-c", "vendor-b")
