"""`labelspec verify` over the history: committed rewrites of records and append-only files are
caught, naming the commit and the repair; honest histories (merges, relabels, retractions) pass.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.helpers import git, jsonl
from tests.store.conftest import digit_rows, set_training_policy, write_jsonl
from tests.store.test_lineage_rules import merge, relabel_plan, release, train

LABELS = "datasets/digits/labels"


def short(root: Path, rev: str = "HEAD") -> str:
    return git(root, "rev-parse", "--short=10", rev).strip()


def problems(run, root: Path, *args: str) -> list[str]:
    result = run("verify", "--json", *args, cwd=root, expect=5)
    return json.loads(result.stdout)["problems"]


def ok(run, root: Path, *args: str) -> str:
    return run("verify", *args, cwd=root).stdout.strip()


def records(root: Path) -> list[Path]:
    return sorted((root / LABELS).glob("*.parquet.dvc"))


def batch_id(record: Path) -> str:
    return record.name.removesuffix(".parquet.dvc")


def import_batch(run, root: Path, rows: list[dict], source: str, name: str) -> str:
    path = write_jsonl(root.parent / f"{name}.jsonl", rows)
    args = ["labels", "import", "digits", str(path), "--format", "jsonl"]
    run(*args, "--guideline", "digits@1.0.0", "--source", source, cwd=root)
    return json.loads(run("labels", "log", "digits", "--json", cwd=root).stdout)[0]["batch"]


def show(run, root: Path) -> dict:
    return json.loads(run("labels", "show", "digits", "--json", cwd=root).stdout)


def commit_all(root: Path, message: str) -> str:
    git(root, "commit", "-q", "-am", message)
    return short(root)


# -- a batch leaves the current labels only through a retraction --------------------------------
def test_a_batch_record_removed_in_a_commit_is_reported_with_the_retraction_to_record(
    labeled_ws, run
):
    [record] = records(labeled_ws)
    batch = batch_id(record)
    git(labeled_ws, "rm", "-q", str(record))
    sha = commit_all(labeled_ws, "drop a batch")

    assert problems(run, labeled_ws) == [
        f"digits: commit {sha} ('drop a batch') took batch {batch} (20 labels from vendor-a) out "
        "of the current labels without a retraction (a plain `git revert` of its import?); "
        f'record why: `labelspec labels retract {batch} --reason "<why>"`, or bring it back: '
        f"revert that commit: `git revert {sha}`"
    ]

    out = run("labels", "retract", batch, "--reason", "wrong guideline", cwd=labeled_ws).stdout
    assert out.startswith(
        f"digits: batch {batch} (20 labels from vendor-a) retracted; it was already out of the tree"
    )
    assert ok(run, labeled_ws) == "ok: no labels yet"
    [line] = jsonl(labeled_ws / "datasets/digits/retractions.jsonl")
    assert (line["batch"], line["reason"], line["labels"]) == (batch, "wrong guideline", 20)


def test_a_plain_git_revert_of_an_import_is_reported_and_retract_records_it(labeled_ws, run):
    added = import_batch(run, labeled_ws, digit_rows(range(5)), "vendor-c", "five")
    imported = short(labeled_ws)
    git(labeled_ws, "revert", "--no-edit", "HEAD")
    sha = short(labeled_ws)
    subject = git(labeled_ws, "log", "-1", "--format=%s").strip()

    assert problems(run, labeled_ws) == [
        f"digits: commit {sha} ({subject!r}) took batch {added} (5 labels from vendor-c) out of "
        "the current labels without a retraction (a plain `git revert` of its import?); record "
        f'why: `labelspec labels retract {added} --reason "<why>"`, or bring it back: revert '
        f"that commit: `git revert {sha}`"
    ]

    run("labels", "retract", added, "--reason", "delivered twice", cwd=labeled_ws)
    assert ok(run, labeled_ws) == "ok: digits: 1 batches, 20 labels"
    assert show(run, labeled_ws)["labels"] == 20
    # the batch stays in the history: the import's revision still has it
    old = run("labels", "show", "digits", "--snapshot", imported, "--json", cwd=labeled_ws)
    assert json.loads(old.stdout)["labels"] == 25


def test_retract_takes_a_batch_out_of_the_current_labels_in_one_commit(labeled_ws, run):
    added = import_batch(run, labeled_ws, digit_rows(range(5)), "vendor-c", "five")
    assert show(run, labeled_ws)["labels"] == 25
    before = short(labeled_ws)

    run("labels", "retract", added, "--reason", "vendor-c used v0.9", cwd=labeled_ws)

    assert show(run, labeled_ws)["labels"] == 20
    assert not (labeled_ws / LABELS / f"{added}.parquet.dvc").exists()
    assert git(labeled_ws, "status", "--porcelain") == ""
    assert git(labeled_ws, "log", "-1", "--format=%s").strip() == (
        f"labels retract: digits {added} (5 labels from vendor-c): vendor-c used v0.9"
    )
    assert short(labeled_ws, "HEAD~1") == before  # one commit
    assert ok(run, labeled_ws) == "ok: digits: 1 batches, 20 labels"
    diff = json.loads(
        run("labels", "diff", "digits", before, "HEAD", "--json", cwd=labeled_ws).stdout
    )
    assert (diff["added"], diff["removed"]) == (0, 5)
    # again: refused (conflict), nothing changed; an unknown batch: not found
    again = run("labels", "retract", added, "--reason", "x", cwd=labeled_ws, expect=4)
    assert "was retracted already" in again.stderr
    run(
        "labels",
        "retract",
        "b-20990101T000000Z-00000000",
        "--reason",
        "x",
        cwd=labeled_ws,
        expect=3,
    )
    run("labels", "retract", added, "--reason", "two\nlines", cwd=labeled_ws, expect=1)


def test_a_retracted_batch_put_back_in_the_tree_is_caught(labeled_ws, run):
    added = import_batch(run, labeled_ws, digit_rows(range(5)), "vendor-c", "five")
    run("labels", "retract", added, "--reason", "duplicate", cwd=labeled_ws)
    git(labeled_ws, "checkout", "HEAD~1", "--", f"{LABELS}/{added}.parquet.dvc")
    sha = commit_all(labeled_ws, "bring it back")

    [problem] = problems(run, labeled_ws)
    assert problem.startswith(f"digits: batch {added} is retracted (")
    assert problem.endswith(
        f"duplicate) but commit {sha} ('bring it back') put its record "
        f"{LABELS}/{added}.parquet.dvc back in the tree; take it out: "
        f"`git rm {LABELS}/{added}.parquet.dvc` and commit"
    )


# -- records never change ------------------------------------------------------------------------
def test_an_edited_source_is_caught_and_reverting_the_commit_repairs_it(labeled_ws, run):
    [record] = records(labeled_ws)
    added = short(labeled_ws)
    record.write_text(record.read_text().replace('"source": "vendor-a"', '"source": "vendor-c"'))
    sha = commit_all(labeled_ws, "fix the vendor")

    assert problems(run, labeled_ws) == [
        f"digits: commit {sha} ('fix the vendor') changed the batch record {LABELS}/{record.name} "
        f'after commit {added} added it: source "vendor-a" -> "vendor-c"; records never change: '
        f"revert that commit: `git revert {sha}`"
    ]
    git(labeled_ws, "revert", "--no-edit", "HEAD")
    assert ok(run, labeled_ws) == "ok: digits: 1 batches, 20 labels"


def test_a_batch_replaced_whole_with_recomputed_digests_is_caught(labeled_ws, run):
    from labelspec.vcs import dvc_file_text, hash_file, parse_dvc_file

    [record] = records(labeled_ws)
    added = short(labeled_ws)
    data = record.with_name(record.name.removesuffix(".dvc"))
    old_md5, old_size, meta = parse_dvc_file(record.read_text(), record.name)
    table = pq.read_table(data)
    classes = table.column("class").to_pylist()
    classes[0] = "nine" if classes[0] != "nine" else "eight"
    table = table.set_column(table.schema.get_field_index("class"), "class", [classes])
    data.chmod(0o644)
    pq.write_table(table, data)
    sha256, md5, size = hash_file(data)
    cached = labeled_ws / ".dvc/cache/files/md5" / md5[:2] / md5[2:]
    cached.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(data, cached)
    record.write_text(dvc_file_text(data.name, md5, size, {**meta, "sha256": sha256}))
    sha = commit_all(labeled_ws, "fix a class")

    changed = [f'md5 "{old_md5}" -> "{md5}"']
    changed += [f"size {old_size} -> {size}"] if size != old_size else []
    changed += [f'sha256 "{meta["sha256"]}" -> "{sha256}"']
    assert problems(run, labeled_ws) == [
        f"digits: commit {sha} ('fix a class') changed the batch record {LABELS}/{record.name} "
        f"after commit {added} added it: {', '.join(changed)}; records never change: revert "
        f"that commit: `git revert {sha}`"
    ]


def test_an_edited_label_count_of_a_golden_version_is_caught(labeled_ws, run):
    path = write_jsonl(labeled_ws.parent / "golden.jsonl", digit_rows(range(4), labeler="expert"))
    run("golden", "add", "digits", str(path), "--format", "jsonl", cwd=labeled_ws)
    added = short(labeled_ws)
    [record] = sorted((labeled_ws / "datasets/digits/golden").rglob("*.parquet.dvc"))
    text = record.read_text()
    assert '"labels": 4' in text
    record.write_text(text.replace('"labels": 4', '"labels": 40'))
    sha = commit_all(labeled_ws, "more golden labels")
    rel = record.relative_to(labeled_ws).as_posix()

    assert problems(run, labeled_ws) == [
        f"digits: commit {sha} ('more golden labels') changed the golden version record {rel} "
        f"after commit {added} added it: labels 4 -> 40; records never change: revert that "
        f"commit: `git revert {sha}`"
    ]


# -- append-only files only gain lines -------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "new"),
    [("passed", False), ("date", "2026-03-01"), ("labeler", "vB-01")],
)
def test_a_rewritten_training_record_is_caught(labeled_ws, run, field, new):
    path = labeled_ws / "labelers/training.jsonl"
    [record] = jsonl(path)
    old = record[field]
    record[field] = new
    path.write_text(json.dumps(record, sort_keys=True) + "\n")
    sha = commit_all(labeled_ws, "rewrite training")

    assert problems(run, labeled_ws) == [
        f"commit {sha} ('rewrite training') rewrote labelers/training.jsonl, an append-only "
        f'file: record "{record["id"]}": {field} {json.dumps(old)} -> {json.dumps(new)}; '
        f"records are only ever appended: revert that commit: `git revert {sha}`"
    ]
    git(labeled_ws, "revert", "--no-edit", "HEAD")
    assert ok(run, labeled_ws) == "ok: digits: 1 batches, 20 labels"


def test_a_rewritten_roster_vendor_is_caught(labeled_ws, run):
    path = labeled_ws / "labelers/roster.jsonl"
    events = jsonl(path)
    assert [e["vendor"] for e in events if e["id"] == "vA-01"] == ["vendor-a"]
    path.write_text(
        "".join(
            json.dumps({**e, "vendor": "vendor-c"} if e["id"] == "vA-01" else e, sort_keys=True)
            + "\n"
            for e in events
        )
    )
    sha = commit_all(labeled_ws, "move vA-01")

    assert problems(run, labeled_ws) == [
        f"commit {sha} ('move vA-01') rewrote labelers/roster.jsonl, an append-only file: "
        'record "vA-01" (add event): vendor "vendor-a" -> "vendor-c"; records are only ever '
        f"appended: revert that commit: `git revert {sha}`"
    ]


# -- item files keep their registered bytes ---------------------------------------------------------
def flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.chmod(0o644)
    path.unlink()  # a DVC checkout may link the file to the cache
    path.write_bytes(bytes(data))


def test_a_flipped_byte_in_an_item_image_is_caught(digits_ws, run):
    image = digits_ws / "datasets/digits/items/d03.png"
    assert (digits_ws / "datasets/digits/items.dvc").is_file()
    flip(image)
    head = (
        "digits: 1 item file(s) no longer have the sha256 recorded when they were registered "
        "(items d03.png, e.g. datasets/digits/items/d03.png)"
    )
    assert problems(run, digits_ws) == [
        f"{head}: changed in the working tree; restore them: `dvc checkout` (DVC-tracked) or "
        "`git checkout -- <file>`"
    ]
    # committed: the folder's DVC record made again over the changed bytes
    subprocess.run(
        [sys.executable, "-m", "dvc", "add", "-q", "datasets/digits/items"],
        cwd=digits_ws,
        check=True,
    )
    sha = commit_all(digits_ws, "re-add items")
    assert problems(run, digits_ws) == [
        f"{head}: commit {sha} ('re-add items') recorded the changed bytes in "
        f"datasets/digits/items.dvc; revert that commit: `git revert {sha}`, then `dvc checkout`"
    ]


# -- honest histories pass ------------------------------------------------------------------------
def two_branches(run, root: Path) -> tuple[str, str]:
    """main and side each import a batch and record a training; returns both batch ids."""
    git(root, "checkout", "-q", "-b", "side")
    side = import_batch(run, root, digit_rows(range(3)), "vendor-b", "side")
    train(run, root, "vA-01", "1.0.0", "2026-01-20")
    git(root, "checkout", "-q", "main")
    main = import_batch(run, root, digit_rows(range(4)), "vendor-c", "main")
    train(run, root, "vA-01", "1.0.0", "2026-01-21")
    return main, side


def test_two_branches_merged_with_git_merge_verify(labeled_ws, run):
    two_branches(run, labeled_ws)
    git(labeled_ws, "merge", "-q", "--no-edit", "side")

    assert ok(run, labeled_ws) == "ok: digits: 3 batches, 27 labels"
    assert len(jsonl(labeled_ws / "labelers/training.jsonl")) == 3


def test_a_merge_that_drops_one_parents_lines_is_caught(labeled_ws, run):
    two_branches(run, labeled_ws)
    [dropped] = [
        r for r in jsonl(labeled_ws / "labelers/training.jsonl") if r["date"] == "2026-01-21"
    ]
    git(labeled_ws, "merge", "-q", "--no-commit", "side")
    git(labeled_ws, "checkout", "side", "--", "labelers/training.jsonl")
    git(labeled_ws, "commit", "-q", "-m", "merge side")
    sha = short(labeled_ws)

    assert problems(run, labeled_ws) == [
        f"merge commit {sha} ('merge side') rewrote labelers/training.jsonl, an append-only "
        f'file: record "{dropped["id"]}" dropped; records are only ever appended: put the '
        "dropped line(s) back into labelers/training.jsonl (a merge keeps both parents' lines) "
        "and commit"
    ]


def test_relabels_and_retractions_verify(digits_ws, run, tmp_path):
    set_training_policy(digits_ws, "warn")
    first = import_batch(run, digits_ws, digit_rows([7]), "vendor-a", "seven")
    import_batch(run, digits_ws, digit_rows([3, 4]), "vendor-b", "more")
    release(
        run,
        digits_ws,
        "Sevens",
        (
            "definition: A horizontal top bar joined to a diagonal stroke.",
            "definition: A horizontal top bar joined to a long diagonal stroke.",
        ),
    )
    train(run, digits_ws, "vA-01", "1.1.0", "2026-01-20")
    plan = relabel_plan(run, digits_ws, tmp_path)
    merge(run, digits_ws, plan, tmp_path / "m1.jsonl", [("d07.png", "one")])
    run("labels", "retract", first, "--reason", "superseded vendor", cwd=digits_ws)

    # left: d03 and d04 (vendor-b) and the relabel answer for d07, whose batch stays current
    # though the batch of the label it replaced was retracted
    assert ok(run, digits_ws) == "ok: digits: 2 batches, 3 labels"
    assert show(run, digits_ws)["labels"] == 3


# -- --since: only the commits after REV --------------------------------------------------------------
def test_since_checks_only_the_commits_after_the_revision(labeled_ws, run):
    [record] = records(labeled_ws)
    record.write_text(record.read_text().replace('"source": "vendor-a"', '"source": "vendor-c"'))
    sha = commit_all(labeled_ws, "fix the vendor")
    import_batch(run, labeled_ws, digit_rows(range(2)), "vendor-b", "two")

    # the import after it is checked (1 batch, 2 labels), the edit before it is not
    assert ok(run, labeled_ws, "--since", sha) == "ok: digits: 1 batches, 2 labels"
    [problem] = problems(run, labeled_ws, "--since", f"{sha}~1")
    assert problem.startswith(f"digits: commit {sha} ('fix the vendor') changed the batch record")
    assert "after the revision --since names" in problem
    assert len(problems(run, labeled_ws)) == 1
    run("verify", "--since", "no-such-rev", cwd=labeled_ws, expect=3)


def test_since_a_commit_no_longer_in_the_history_is_reported(labeled_ws, run):
    import_batch(run, labeled_ws, digit_rows(range(2)), "vendor-b", "two")
    verified = short(labeled_ws)
    git(labeled_ws, "reset", "-q", "--hard", "HEAD~1")  # the history rewritten under it

    assert problems(run, labeled_ws, "--since", verified) == [
        f"--since {verified}: commit {verified} is not in HEAD's history, so the history was "
        f"rewritten after it (a rebase or force-push?); find where they diverge (`git log "
        f"{verified}...HEAD`) and restore the verified commits"
    ]


def test_a_changed_item_file_committed_to_git_names_its_commit(digits_ws, run):
    folder = digits_ws / "notes"
    folder.mkdir()
    (folder / "n1.txt").write_text("a registered note\n")
    git(digits_ws, "add", "notes")
    git(digits_ws, "commit", "-q", "-m", "notes")
    run("items", "add", "digits", "notes", cwd=digits_ws)
    assert git(digits_ws, "ls-files", "notes") == "notes/n1.txt\n"  # it stayed in git
    (folder / "n1.txt").write_text("a rewritten note\n")
    head = (
        "digits: 1 item file(s) no longer have the sha256 recorded when they were registered "
        "(items n1.txt, e.g. notes/n1.txt)"
    )
    assert problems(run, digits_ws) == [
        f"{head}: changed in the working tree; restore them: `dvc checkout` (DVC-tracked) or "
        "`git checkout -- <file>`"
    ]
    sha = commit_all(digits_ws, "edit a note")
    assert problems(run, digits_ws) == [
        f"{head}: commit {sha} ('edit a note') recorded the changed bytes in notes/n1.txt; "
        f"revert that commit: `git revert {sha}`, then `dvc checkout`"
    ]


def test_a_merge_that_drops_one_parents_batch_is_caught(labeled_ws, run):
    _main, side = two_branches(run, labeled_ws)
    added = short(labeled_ws, "side~1")  # side: the import, then a training record
    record = f"{LABELS}/{side}.parquet.dvc"
    git(labeled_ws, "merge", "-q", "--no-commit", "side")
    git(labeled_ws, "rm", "-q", "-f", record)
    git(labeled_ws, "commit", "-q", "-m", "merge side")
    sha = short(labeled_ws)

    assert problems(run, labeled_ws) == [
        f"digits: merge commit {sha} ('merge side') took batch {side} (3 labels from vendor-b) "
        "out of the current labels without a retraction (a plain `git revert` of its import?); "
        f'record why: `labelspec labels retract {side} --reason "<why>"`, or bring it back: '
        f"restore it as first written: `git checkout {added} -- {record}` and commit"
    ]
    git(labeled_ws, "checkout", added, "--", record)
    git(labeled_ws, "commit", "-q", "-m", "restore")
    assert ok(run, labeled_ws) == "ok: digits: 3 batches, 27 labels"
