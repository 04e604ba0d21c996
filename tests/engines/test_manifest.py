"""`labels manifest`: a revision's batches, rule, schema and URLs, from the records alone."""

from __future__ import annotations

import json
from pathlib import Path

from labelspec.store.manifest import manifest
from labelspec.store.schema import LABEL_SCHEMA
from labelspec.workspace import Workspace
from tests.helpers import git


def test_lists_every_batch_with_rows_supersedes_and_source(history):
    found = manifest(Workspace(history), "digits")

    assert [(b.rows, b.supersedes, b.source) for b in found.batches] == [
        (40, 0, "vendor-a"),  # vA-01 and vA-02 on 20 items (the old-schema batch)
        (30, 0, "vendor-b"),  # vB-01 on 20 items, vB-02 on 10
        (3, 11, "relabel"),  # d01, d02, d07 answered; their 11 suspect annotations superseded
    ]
    assert found.rows == 73
    assert found.superseding == 11
    assert found.commit == git(history, "rev-parse", "HEAD").strip()
    assert found.batches[2].plan is not None


def test_urls_name_the_cache_object_and_the_remote_object_after_push(history, run):
    found = manifest(Workspace(history), "digits")
    remote = (history / ".dvc/config.local").read_text().split("url = ")[1].strip()

    run("push", cwd=history)

    for batch in found.batches:
        urls = found.urls(batch)
        assert urls["cache"] == str(
            history / ".dvc/cache/files/md5" / batch.md5[:2] / batch.md5[2:]
        )
        assert urls["storage"] == f"{remote}/files/md5/{batch.md5[:2]}/{batch.md5[2:]}"
        for url in urls.values():  # DVC's own objects, byte for byte
            assert Path(url).read_bytes() == (history / batch.file).read_bytes()


def test_opens_no_data(history):
    """Every batch file and cache object gone: the manifest is the same."""
    ws = Workspace(history)
    before = manifest(ws, "digits").to_json()
    for path in [
        *history.glob("datasets/digits/labels/*.parquet"),
        *history.glob(".dvc/cache/**/*"),
    ]:
        if path.is_file():
            path.chmod(0o644)
            path.unlink()

    assert manifest(ws, "digits").to_json() == before


def test_the_digest_follows_the_batches_not_the_commit(history):
    ws = Workspace(history)
    head = manifest(ws, "digits")
    (history / "notes.txt").write_text("a commit that adds no batch\n")
    git(history, "add", "notes.txt")
    git(history, "commit", "-q", "-m", "notes")

    later = manifest(ws, "digits")
    before_relabel = manifest(ws, "digits", "HEAD~4")  # golden, training, notes, merge

    assert later.commit != head.commit
    assert later.digest == head.digest
    assert [b.source for b in before_relabel.batches] == ["vendor-a", "vendor-b"]
    assert before_relabel.digest != head.digest


def test_schema_is_the_canonical_one_and_says_what_older_batches_lack(history):
    schema = manifest(Workspace(history), "digits").to_json()["schema"]

    assert [f["name"] for f in schema["fields"]] == LABEL_SCHEMA.names
    assert {f["name"]: f["nullable"] for f in schema["fields"]}["class"] is True  # empty answers
    assert [c["lacks"] for c in schema["older_batches"]] == ["tool_fields", "annotation_key"]


def test_cli_json_is_the_library_manifest(history, run):
    shown = json.loads(run("labels", "manifest", "digits", "--json", cwd=history).stdout)

    assert shown == json.loads(
        json.dumps(manifest(Workspace(history), "digits").to_json(), default=str)
    )
    assert shown["rule_sql"].startswith("select * from labels_all anti join")
    assert [r["name"] for r in shown["remotes"]] == ["storage"]
    assert shown["compacted"] is None


def test_cli_human_output_names_counts_rule_and_remote(history, run):
    lines = run("labels", "manifest", "digits", "--snapshot", "HEAD", cwd=history).stdout
    first = lines.splitlines()[0]

    assert first.startswith("digits HEAD (commit ")
    assert first.endswith(
        f"3 batches, 73 labels, 11 superseded annotation(s); digest "
        f"{manifest(Workspace(history), 'digits').digest[:16]}"
    )
    assert "  remote storage (default): " in lines
    assert "older batches lack tool_fields and annotation_key, read as NULL" in lines


def test_the_python_api_gives_the_manifest(history):
    from labelspec import open_workspace

    found = open_workspace(history).manifest("digits", "HEAD~1")

    assert [b.source for b in found.batches] == ["vendor-a", "vendor-b", "relabel"]


def test_an_unknown_revision_is_one_clear_error(history, run):
    result = run("labels", "manifest", "digits", "--snapshot", "nope", cwd=history, expect=3)

    assert result.stderr.startswith("Error: 'nope' is not a revision of this repository")
