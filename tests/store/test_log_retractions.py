"""`labels log` lists each retraction in its place in the history: date, batch, reason, and who
(the author of the commit that recorded it), in the human table and in --json."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import git
from tests.store.conftest import digit_rows, write_jsonl


def imported(run, root: Path, indices, source: str) -> str:
    path = write_jsonl(root.parent / f"{source}.jsonl", digit_rows(indices))
    run("labels", "import", "digits", str(path), "--format", "jsonl",
        "--guideline", "digits@1.0.0", "--source", source, cwd=root)  # fmt: skip
    return json.loads(run("labels", "log", "digits", "--json", cwd=root).stdout)[0]["batch"]


def log(run, root: Path, *args: str) -> list[dict]:
    return json.loads(run("labels", "log", "digits", "--json", *args, cwd=root).stdout)


def test_log_shows_a_retraction_between_the_imports_around_it(labeled_ws, run, monkeypatch):
    [first] = [r["batch"] for r in log(run, labeled_ws)]  # snap-1: 20 labels from vendor-a
    five = imported(run, labeled_ws, range(5), "vendor-c")
    before = git(labeled_ws, "rev-parse", "HEAD").strip()
    git(labeled_ws, "config", "user.name", "Rita Reviewer")
    run("labels", "retract", five, "--reason", "vendor-c used v0.9", cwd=labeled_ws)
    retracted_in = git(labeled_ws, "rev-parse", "HEAD").strip()
    git(labeled_ws, "config", "user.name", "Sam Importer")
    two = imported(run, labeled_ws, range(2), "vendor-b")

    rows = log(run, labeled_ws)
    # newest first: the later import, the retraction, the first import; the retracted batch
    # itself is no longer among HEAD's batches (`--snapshot` before the retraction shows it)
    assert [(r["event"], r["batch"]) for r in rows] == [
        ("batch", two),
        ("retraction", five),
        ("batch", first),
    ]
    retraction = rows[1]
    [line] = (labeled_ws / "datasets/digits/retractions.jsonl").read_text().splitlines()
    assert retraction["date"] == json.loads(line)["date"]
    assert (
        retraction["commit"],
        retraction["by"],
        retraction["reason"],
        retraction["labels"],
        retraction["source"],
    ) == (retracted_in, "Rita Reviewer", "vendor-c used v0.9", 5, "vendor-c")
    assert [r["labels"] for r in rows if r["event"] == "batch"] == [2, 20]

    assert [(r["event"], r["batch"]) for r in log(run, labeled_ws, "--snapshot", before)] == [
        ("batch", five),
        ("batch", first),
    ]

    monkeypatch.setenv("COLUMNS", "250")  # one line per row
    lines = run("labels", "log", "digits", cwd=labeled_ws).stdout.splitlines()
    lines = [[word for word in line.split() if word not in ("┃", "│")] for line in lines]
    header = lines[0]
    assert header == ["commit", "date", "batch", "source", "format", "labels", "empty",
                      "supersedes", "plan", "retracted"]  # fmt: skip
    body = lines[2:]
    assert [row[3] for row in body] == [two, five, first]  # commit, date (2 words), batch
    assert body[1][:1] == [retracted_in[:10]]
    assert body[1][4:] == ["vendor-c", "retracted", "-5", "by", "Rita", "Reviewer:", "vendor-c",
                           "used", "v0.9"]  # fmt: skip
    assert body[0][4:] == ["vendor-b", "jsonl", "2", "0"]  # 2 labels, no empty answer


def test_log_without_retractions_has_no_retracted_column(labeled_ws, run):
    out = run("labels", "log", "digits", cwd=labeled_ws).stdout
    assert "retracted" not in out
    assert [r["event"] for r in log(run, labeled_ws)] == ["batch"]
