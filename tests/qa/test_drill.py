"""Drill-down pages beyond the bake-off report: `qa gaps --html` with pictures of the golden
items labeled wrong and of the items labelers disagree on, and the human output of
`qa agreement --by`; plus the global --quiet flag."""

from __future__ import annotations

import re


def test_gaps_as_html_show_the_items_behind_each_pair(graded, run, tmp_path):
    out = tmp_path / "gaps.html"
    run("qa", "gaps", "digits", "--html", str(out), cwd=graded.root)
    page = out.read_text()
    first = page.split('<section class="pair">')[1]
    assert "<h2>one / seven</h2>" in first
    # golden ones labeled seven: d01 by lab-b1; sevens labeled one: d04 by lab-b1 and lab-c1, d09 by lab-c1
    wrong = first.split("<h3>Golden items labeled wrong</h3>")[1].split("<h3>")[0]
    assert sorted(set(re.findall(r"<dd>(d\d\d\.png)</dd>", wrong))) == [
        "d01.png",
        "d04.png",
        "d09.png",
    ]
    assert wrong.count('<img src="data:image/png;base64,') == 4
    split = first.split("<h3>Items labelers disagree on</h3>")[1]
    assert "seven (lab-b1)" in split and "one (lab-a1)" in split
    assert "http://" not in page and "https://" not in page and "<script" not in page


def test_agreement_by_prints_the_breakdown(graded, run):
    human = run("qa", "agreement", "digits", "--by", "labeler", cwd=graded.root).stdout
    assert "by labeler" in human
    assert all(name in human for name in ("lab-a1", "lab-a2", "lab-b1", "lab-c1"))
    human = run("qa", "agreement", "digits", "--by", "source", cwd=graded.root).stdout
    assert "Cohen's kappa between sources" in human and "vendor-c" in human


def test_quiet_is_a_global_flag_and_progress_stays_off_stdout(graded, run):
    from labelspec import progress

    quiet = run("--quiet", "qa", "bakeoff", "digits", "--json", cwd=graded.root)
    assert quiet.stdout.lstrip().startswith("{") and quiet.stderr == ""
    assert progress.enabled() is False
    progress.set_quiet(False)


def test_the_bakeoff_at_an_old_snapshot_names_it(graded, run):
    import json

    old = json.loads(
        run("qa", "bakeoff", "digits", "--snapshot", "snap-3", "--json", cwd=graded.root).stdout
    )
    # snap-3: lab-a1, lab-a2 (vendor-a) and lab-b1 (vendor-b); lab-c1 came with snap-4
    assert sorted(old["sources"]) == ["vendor-a", "vendor-b"]
    assert old["snapshot"]["name"] == "snap-3" and old["snapshot"]["date"]
    assert old["golden"]["guideline_version"] == "1.0.0"
    human = run("qa", "bakeoff", "digits", "--snapshot", "snap-3", cwd=graded.root).stdout
    assert "snapshot snap-3 (" in human and "golden golden v1 (10 items, made under 1.0.0)" in human
