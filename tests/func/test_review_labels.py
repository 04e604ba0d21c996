"""`guideline review` counts the labels the team has: a branch cut before the latest imports is
reviewed against the base's labels, says which revision it counted, and warns that it is behind.

The story, by hand: 20 digit items d00..d19 (zero..nine twice). On main, vA-01 (trained on
digits 1.0.0) labels d00..d09 under 1.0.0 (batch 1). The branch `clarify-eight` is cut and
rewrites eight's definition (pending entry: affects eight). Then main imports vA-01's labels of
d10..d19 (batch 2). The change affects eight, and three is confusable with it (the pair is listed
on both sides), so the suspect labels are the eights and threes:

- on the branch's own tree (batch 1): d03 three, d08 eight -> 2 of 10;
- on main (batches 1 and 2): d03, d13 three (confusable), d08, d18 eight (affected) -> 4 of 20,
  on 4 items, at 0.02 and 2.5 s per label: 0.08 and 10 s of labeling.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labelspec.guideline.review_labels import base_tip
from labelspec.vcs import Git
from labelspec.workspace import Workspace
from tests.helpers import git, head
from tests.store.conftest import built, digit_rows, make_store, write_jsonl  # noqa: F401

SPEC = "guidelines/digits/spec.yaml"
EIGHT = "definition: Two closed loops stacked, touching in the middle."
NEW_EIGHT = "definition: Two closed loops stacked, touching or crossing in the middle."
PENDING = (
    "  - version: unreleased\n    summary: Eights may cross\n"
    "    affects: [eight]\n    relabel: required\n"
)


def import_rows(run, root: Path, indices, name: str) -> None:
    path = write_jsonl(root.parent / f"{name}.jsonl", digit_rows(indices))
    run("labels", "import", "digits", str(path), "--format", "jsonl", "--guideline",
        "digits@1.0.0", "--source", "vendor-a", cwd=root)  # fmt: skip


def clarify_eight(root: Path) -> None:
    git(root, "checkout", "-q", "-b", "clarify-eight")
    text = (root / SPEC).read_text()
    assert text.count(EIGHT) == 1
    text = text.replace(EIGHT, NEW_EIGHT).replace("\n\nquality:", f"\n{PENDING}\nquality:")
    (root / SPEC).write_text(text)
    git(root, "commit", "-qam", "digits: eights may cross")


def review(run, root: Path, *args: str) -> dict:
    return json.loads(run("guideline", "review", "digits", *args, "--json", cwd=root).stdout)


@pytest.fixture
def stale(make_store, run) -> Path:  # noqa: F811 (the fixture imported above)
    """main: batch 1; the branch cut; main: batch 2; checked out on the branch."""
    root = make_store("digits")
    import_rows(run, root, range(10), "batch1")
    clarify_eight(root)
    git(root, "checkout", "-q", "main")
    import_rows(run, root, range(10, 20), "batch2")
    git(root, "checkout", "-q", "clarify-eight")
    return root


def test_a_stale_branch_is_reviewed_against_the_base_labels(stale: Path, run):
    data = review(run, stale)

    [found] = data["impacts"]
    impact = found["impact"]
    assert (impact["total_labels"], impact["affected_labels"], impact["affected_items"]) == (
        20,
        4,
        4,
    )
    assert impact["by_reason"] == {"affected": 2, "confusable": 2, "untrained": 0}
    assert (
        found["labels_at"] == "main"
        and found["labels_commit"] == git(stale, "rev-parse", "main").strip()
    )
    assert found["cost"] == pytest.approx(4 * 0.02)
    assert found["hours"] == pytest.approx(4 * 2.5 / 3600)
    [behind] = data["warnings"]
    assert behind.startswith(
        "clarify-eight (HEAD) is behind main's label history: 1 batch(es) of digits "
        "(10 label row(s)) were imported on main after this branch was cut"
    )


def test_the_branch_alone_would_have_shown_half(stale: Path, run):
    """The same change, judged on the branch's own labels: what the review used to report."""
    own = json.loads(
        run("trace", "impact", "digits", "--guideline", "digits", "--preview", "--snapshot",
            "HEAD", "--json", cwd=stale).stdout
    )  # fmt: skip
    assert (own["total_labels"], own["affected_labels"]) == (10, 2)
    based = json.loads(
        run("trace", "impact", "digits", "--guideline", "digits", "--preview", "--snapshot",
            "main", "--json", cwd=stale).stdout
    )  # fmt: skip
    assert review(run, stale)["impacts"][0]["impact"] == based


def test_the_report_names_the_labels_it_counted_and_warns(stale: Path, run, tmp_path: Path):
    main = git(stale, "rev-parse", "main").strip()
    text = run("guideline", "review", "digits", cwd=stale).stdout
    assert "| digits | 4 of 20 (20.0%) | 4 | 2 | 2 | 0 |" in text
    assert f"Labels counted in `digits`: those at **main** (`{main[:10]}`)" in text
    assert "> clarify-eight (HEAD) is behind main's label history" in text
    run("guideline", "review", "digits", "--format", "html", "--out", str(tmp_path), cwd=stale)
    page = (tmp_path / "review.html").read_text()
    assert f"those at <strong>main</strong> (<code>{main[:10]}</code>)" in page
    assert "clarify-eight (HEAD) is behind main&#x27;s label history" in page


def test_a_branch_that_imported_more_is_reviewed_on_its_own_labels(make_store, run):  # noqa: F811
    root = make_store("digits")
    import_rows(run, root, range(10), "batch1")
    clarify_eight(root)
    import_rows(run, root, range(10, 20), "batch2")  # on the branch this time

    data = review(run, root)

    [found] = data["impacts"]
    assert found["labels_at"] == "clarify-eight (HEAD)" and found["labels_commit"] == head(root)
    assert found["labels_why"] == "this branch holds main's label history and 1 batch(es) more"
    assert (found["impact"]["total_labels"], found["impact"]["affected_labels"]) == (20, 4)
    assert data["warnings"] == []


def test_branch_and_base_that_both_imported_count_the_base_and_say_so(make_store, run):  # noqa: F811
    root = make_store("digits")
    import_rows(run, root, range(10), "batch1")
    clarify_eight(root)
    import_rows(run, root, range(10, 15), "on-branch")  # d13 three: not counted
    git(root, "checkout", "-q", "main")
    import_rows(run, root, range(15, 20), "on-main")  # d18 eight: counted
    git(root, "checkout", "-q", "clarify-eight")

    data = review(run, root)

    [found] = data["impacts"]
    assert found["labels_at"] == "main"
    # batch 1 (d03, d08) and main's d15..d19 (d18): 3 of 15
    assert (found["impact"]["total_labels"], found["impact"]["affected_labels"]) == (15, 3)
    assert data["warnings"][0].startswith(
        "clarify-eight (HEAD) is behind main's label history: 1 batch(es) of digits (5 label row(s))"
    )
    assert data["warnings"][1].startswith(
        "clarify-eight (HEAD) holds 1 batch(es) of digits that main does not (imported on this "
        "branch); the impact counts main's labels only"
    )


def test_on_main_the_labels_are_main_s_own(make_store, run):  # noqa: F811
    root = make_store("digits")
    import_rows(run, root, range(20), "all")
    text = (root / SPEC).read_text().replace(EIGHT, NEW_EIGHT)
    (root / SPEC).write_text(text)

    data = review(run, root)

    [found] = data["impacts"]
    assert (found["labels_at"], found["labels_why"]) == ("main (HEAD)", "the labels on this branch")
    assert found["impact"]["affected_labels"] == 4 and data["warnings"] == []


def test_what_only_the_base_has_is_named(stale: Path, run):
    """A training record and a dataset added on main after the branch was cut."""
    git(stale, "checkout", "-q", "main")
    run("labeler", "train", "vA-01", "--guideline", "digits", "--version", "1.0.0", "--method",
        "quiz", "--score", "1", "--passed", "--date", "2026-02-02", cwd=stale)  # fmt: skip
    run("dataset", "add", "letters", "--guideline", "digits", cwd=stale)
    git(stale, "checkout", "-q", "clarify-eight")

    warnings = review(run, stale)["warnings"]

    assert warnings[1:] == [
        "dataset(s) letters are labeled under digits on main but not declared on this branch, so "
        "their impact is not shown: merge main to see it",
        "1 training record(s) on main are not on this branch: labels of those trainings count as "
        "untrained in this estimate; merge main for the exact figure",
    ]


def test_a_fetched_base_ahead_of_the_local_one_is_the_newest(stale: Path, tmp_path: Path):
    """A clone that fetched the team's main but did not merge it: origin/main is the base."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(stale), str(origin))
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    git(clone, "checkout", "-q", "-b", "edit", "origin/main~1")
    git(clone, "branch", "-q", "-f", "main", "origin/main~1")  # local main is behind
    ws = Workspace(clone)
    with Git(clone) as repo:
        tip = base_tip(ws, repo, None, [])
    assert (tip.name, tip.commit) == ("origin/main", git(clone, "rev-parse", "origin/main").strip())
