"""The raw delivery is hashed on a thread while the batch is written. A write that fails (a
full disk, Ctrl-C) stops the hashing, and the workspace is left as it was."""

from __future__ import annotations

import hashlib
import threading

import pytest

import labelspec.labels.ingest as ingest
from labelspec.labels.ingest import import_labels
from labelspec.vcs.cache import HashingStopped, hash_file
from labelspec.workspace import Workspace
from tests.helpers import state
from tests.store.conftest import digit_rows, write_jsonl


def test_hash_file_gives_both_digests_and_stops_when_told(tmp_path):
    path = tmp_path / "delivery.jsonl"
    path.write_bytes(b"x" * (3 << 20))  # three 1 MB reads

    assert hash_file(path, threading.Event()) == (
        hashlib.sha256(b"x" * (3 << 20)).hexdigest(),
        hashlib.md5(b"x" * (3 << 20)).hexdigest(),
        3 << 20,
    )
    stopped = threading.Event()
    stopped.set()
    with pytest.raises(HashingStopped):
        hash_file(path, stopped)


def test_a_write_that_fails_stops_the_hashing_and_changes_nothing(digits_ws, tmp_path, monkeypatch):
    delivery = write_jsonl(tmp_path / "labels.jsonl", digit_rows(range(4)))
    cancelled = []
    original_cancel = ingest.KeptDelivery.cancel

    def cancel(self):
        cancelled.append(self.target.name)
        original_cancel(self)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(ingest.KeptDelivery, "cancel", cancel)
    monkeypatch.setattr(ingest, "write_batch_rows", interrupted)
    before = state(digits_ws)

    with pytest.raises(KeyboardInterrupt):
        import_labels(Workspace(digits_ws), "digits", delivery, "jsonl", "digits@1.0.0", "vendor-a")

    assert len(cancelled) == 1 and cancelled[0].endswith("-labels.jsonl")
    assert state(digits_ws) == before
