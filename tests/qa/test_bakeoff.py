"""Golden sets, vendor bake-offs, gap reports, reports for DVC, and labeler stats, on a workspace
whose every label is known (``builders.VOTES``): vendor-a is always right, vendor-b mixes up one
and seven and calls a four a nine, vendor-c calls two sevens ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sklearn.metrics import cohen_kappa_score

from labelspec.qa.bakeoff import _notes
from labelspec.workspace import Workspace
from tests.helpers import git, state
from tests.qa.builders import DIGIT_ITEMS, TRUTH, VOTES
from tests.store.conftest import write_jsonl

CLASSES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def test_golden_sets_are_versioned_and_never_mixed_into_labels(graded: Workspace, run):
    def shown() -> dict:
        out = json.loads(run("labels", "show", "digits", "--json", cwd=graded.root).stdout)
        return {k: v for k, v in out.items() if k not in ("snapshot", "commit")}

    before = shown()
    listing = json.loads(run("golden", "list", "digits", "--json", cwd=graded.root).stdout)
    assert (
        listing[0]["name"] == "golden"
        and listing[0]["versions"] == [1]
        and listing[0]["items"] == 10
    )
    assert listing[0]["by_class"] == {"four": 2, "one": 4, "seven": 4}
    assert git(graded.root, "tag", "--list", "golden/*") == ""  # no counters to collide
    [record] = (graded.root / "datasets/digits/golden/golden").glob("*.parquet.dvc")
    assert '"set": "golden"' in record.read_text() and '"labels": 10' in record.read_text()
    rows = [{"item_id": DIGIT_ITEMS[0], "class": "one"}]
    run(
        "golden",
        "add",
        "digits",
        str(write_jsonl(graded.root.parent / "g2.jsonl", rows)),
        "--format",
        "jsonl",
        cwd=graded.root,
    )
    assert json.loads(run("golden", "list", "digits", "--json", cwd=graded.root).stdout)[0][
        "versions"
    ] == [1, 2]
    assert shown() == before
    assert git(graded.root, "status", "--porcelain") == ""


def test_a_bad_golden_file_is_refused_and_nothing_changes(graded: Workspace, run):
    before = state(graded.root)
    bad = write_jsonl(
        graded.root.parent / "bad.jsonl",
        [{"item_id": "d00.png", "class": "uno"}, {"item_id": "nope.png", "class": "one"}],
    )
    result = run(
        "golden", "add", "digits", str(bad), "--format", "jsonl", cwd=graded.root, expect=1
    )
    assert (
        "unknown class uno" in result.stderr and "item nope.png is not registered" in result.stderr
    )
    assert state(graded.root) == before


def test_bakeoff_scores_each_vendor_against_golden(graded: Workspace, run):
    result = json.loads(run("qa", "bakeoff", "digits", "--json", cwd=graded.root).stdout)
    sources = result["sources"]
    assert {k: v for k, v in result["golden"].items() if k not in ("batch", "created")} == {
        "name": "golden",
        "version": 1,
        "items": 10,
        "labels": 10,
        "guideline_version": "1.0.0",
    }
    assert result["labels"] == "delivered" and result["snapshot"]["date"]
    assert {s: (r["n"], r["correct"]) for s, r in sources.items()} == {
        "vendor-a": (18, 18),
        "vendor-b": (10, 7),
        "vendor-c": (8, 6),
    }
    assert sources["vendor-b"]["accuracy"] == pytest.approx(0.7)
    truth_b = TRUTH
    given_b = [VOTES["lab-b1"][1][i] for i in range(10)]
    assert sources["vendor-b"]["kappa"] == pytest.approx(
        cohen_kappa_score(truth_b, given_b, labels=CLASSES)
    )
    low, high = sources["vendor-b"]["accuracy_ci"]
    assert 0.3 <= low < 0.7 < high <= 1.0
    matrix = dict(
        zip(
            sources["vendor-b"]["confusion"]["labels"],
            sources["vendor-b"]["confusion"]["matrix"],
            strict=True,
        )
    )
    assert matrix["one"][CLASSES.index("seven")] == 1 and matrix["seven"][CLASSES.index("one")] == 1
    assert matrix["four"][CLASSES.index("nine")] == 1
    assert sources["vendor-c"]["per_class"]["seven"]["recall"] == pytest.approx(2 / 4)
    assert [r["source"] for r in result["ranking"]] == ["vendor-a", "vendor-c", "vendor-b"]
    assert result["ranking"][0]["components"]["accuracy"] == 1.0


def test_bakeoff_weights_speed_and_cost(graded: Workspace, run, tmp_path: Path):
    fast = [
        {"item_id": item, "labeler": "lab-b1", "class": cls, "lead_time_s": 2.0, "cost": 0.01}
        for item, cls in zip(DIGIT_ITEMS, TRUTH, strict=True)
    ]
    run("labeler", "add", "lab-d1", "--vendor", "vendor-d", cwd=graded.root)
    for row in fast:
        row["labeler"] = "lab-d1"
    run(
        "labels",
        "import",
        "digits",
        str(write_jsonl(tmp_path / "d.jsonl", fast)),
        "--format",
        "jsonl",
        "--guideline",
        "digits@1.0.0",
        "--source",
        "vendor-d",
        cwd=graded.root,
    )
    result = json.loads(
        run(
            "qa",
            "bakeoff",
            "digits",
            "--sources",
            "vendor-a,vendor-d",
            "--weights",
            "accuracy=0,cost=1,speed=0",
            "--json",
            cwd=graded.root,
        ).stdout
    )
    d = result["sources"]["vendor-d"]
    assert (
        d["cost_total"],
        d["cost_per_label"],
        d["lead_time_median_s"],
        d["labels_per_labeler_hour"],
    ) == pytest.approx((0.1, 0.01, 2.0, 1800.0))
    assert d["cost_per_correct_label"] == pytest.approx(0.01)
    assert result["ranking"][0]["source"] == "vendor-d"  # vendor-a has no cost: it scores 0 there
    bad = run("qa", "bakeoff", "digits", "--weights", "quality=1", cwd=graded.root, expect=1)
    assert "--weights" in bad.stderr


def test_gaps_point_at_one_versus_seven(graded: Workspace, run):
    result = json.loads(run("qa", "gaps", "digits", "--json", cwd=graded.root).stdout)
    first = result["pairs"][0]
    assert first["classes"] == ["one", "seven"]
    assert first["golden_confusions"]["seven->one"]["vendor-c"] == {"count": 2, "of": 4}
    assert first["guideline"]["deciding_rules"] == []
    assert (
        "add a rule (with borderline examples) that decides between `one` and `seven`"
        in first["suggestions"]
    )
    human = run("qa", "gaps", "digits", cwd=graded.root).stdout
    assert "one / seven" in human and "-> add a rule" in human


def test_the_report_folder_has_metrics_plots_and_escaped_html(
    graded: Workspace, run, tmp_path: Path
):
    out = tmp_path / "report"
    run("qa", "bakeoff", "digits", "--report", str(out), cwd=graded.root)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["vendor-b"]["accuracy"] == pytest.approx(0.7)
    assert "krippendorff_alpha" in metrics["agreement"]
    for name in ("quality_vs_cost.png", "confusion_vendor-b.png", "agreement_by_class.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    page = (out / "report.html").read_text()
    assert "http://" not in page and "https://" not in page and 'src="quality_vs_cost.png"' in page
    assert "| 1 | vendor-a |" in (out / "report.md").read_text()


def test_dvc_repro_runs_the_qa_stage_and_dvc_metrics_show_reads_it(graded: Workspace):
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "NO_MKDOCS_2_WARNING": "1",
    }
    done = subprocess.run(
        [str(bin_dir / "dvc"), "repro", "datasets/digits/dvc.yaml:qa"],  # a dvc.yaml per dataset
        cwd=graded.root,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    shown = subprocess.run(
        [str(bin_dir / "dvc"), "metrics", "show", "--json"],
        cwd=graded.root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    metrics = json.loads(shown.stdout)
    data = next(iter(metrics.values()))["data"]["reports/qa/digits/metrics.json"]["data"]
    assert data["vendor-a"]["accuracy"] == 1.0


def test_labeler_stats(graded: Workspace, run):
    rows = {
        r["labeler"]: r
        for r in json.loads(run("labeler", "stats", "digits", "--json", cwd=graded.root).stdout)
    }
    b1 = rows["lab-b1"]
    assert (b1["labels"], b1["golden_labels"], b1["golden_accuracy"]) == (
        10,
        10,
        pytest.approx(0.7),
    )
    # others' majority: items 1 (one), 4 (seven), 6 (four) disagree; item 9 is a tie (no consensus)
    assert (b1["consensus_labels"], b1["consensus_agreement"]) == (9, pytest.approx(6 / 9))
    assert rows["lab-a1"]["golden_accuracy"] == 1.0
    assert "lab-c1" in run("labeler", "stats", "digits", cwd=graded.root).stdout


def test_each_unranked_source_gets_its_own_reason(graded, run):
    """vendor-a and vendor-c delivered but were left out by --sources; a relabel is no delivery."""
    result = json.loads(
        run("qa", "bakeoff", "digits", "--sources", "vendor-b", "--json", cwd=graded.root).stdout
    )
    # 10 golden items: lab-a1 10 + lab-a2 8 labels; lab-c1 8
    assert [n for n in result["notes"] if "not ranked" in n] == [
        "vendor-a: 18 label(s) on 10 golden item(s) are not ranked (left out by --sources); "
        "name it in --sources to score it",
        "vendor-c: 8 label(s) on 8 golden item(s) are not ranked (left out by --sources); "
        "name it in --sources to score it",
    ]
    present = {"relabel": {"labels": 2, "items": 2}, "vendor-a": {"labels": 7, "items": 6},
               "vendor-b": {"labels": 7, "items": 6}}  # fmt: skip
    notes = _notes("delivered", present, ["vendor-b"], {"vendor-b": {"empty_answers": 0}}, 6,
                   {"vendor-a", "vendor-b"})  # fmt: skip
    assert notes[1:] == [
        "relabel: 2 label(s) on 2 golden item(s) are not ranked (a second pass over chosen "
        "items is no delivery to compare); name it in --sources to score it",
        "vendor-a: 7 label(s) on 6 golden item(s) are not ranked (left out by --sources); "
        "name it in --sources to score it",
    ]
