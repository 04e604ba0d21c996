"""How ``items add`` puts a file's bytes into DVC's cache: a reflink when ``cache.type`` allows
one and the filesystem makes it, else a copy of the bytes already read; a text item read once."""

from __future__ import annotations

import hashlib
import os

import pytest

import labelspec.vcs.cache as cache_module
from labelspec.store.filemeta import describe_file
from labelspec.vcs import DvcCache


@pytest.fixture
def calls(monkeypatch):
    """Every FICLONE asked for; the filesystem refuses them (as ext4 does)."""
    asked = []

    def refuse(target, op, source):
        asked.append(op)
        raise OSError(95, "Operation not supported")

    monkeypatch.setattr(cache_module.fcntl, "ioctl", refuse)
    return asked


def store(root, cache, name: str, data: bytes) -> str:
    path = root / name
    path.write_bytes(data)
    md5 = hashlib.md5(data).hexdigest()
    fd = os.open(path, os.O_RDONLY)
    try:
        cache.store_bytes(data, md5, fd)
    finally:
        os.close(fd)
    return md5


def test_a_refused_reflink_is_asked_once_then_the_bytes_are_copied(tmp_path, calls):
    (tmp_path / ".dvc").mkdir()
    cache = DvcCache(tmp_path)
    assert cache.reflinks  # DVC's default cache.type: reflink,copy

    md5s = [store(tmp_path, cache, f"f{i}", f"file {i}".encode()) for i in range(3)]

    assert calls == [cache_module.FICLONE]
    assert not cache.reflinks
    for i, md5 in enumerate(md5s):
        assert cache.object_path(md5).read_bytes() == f"file {i}".encode()


def test_no_reflink_is_tried_when_cache_type_does_not_allow_one(tmp_path, calls):
    (tmp_path / ".dvc").mkdir()
    (tmp_path / ".dvc/config").write_text("[cache]\n    type = hardlink,copy\n")
    cache = DvcCache(tmp_path)

    md5 = store(tmp_path, cache, "f", b"bytes")

    assert (calls, cache.reflinks) == ([], False)
    assert cache.object_path(md5).read_bytes() == b"bytes"


def test_a_made_reflink_is_the_object_and_no_bytes_are_written_after_it(tmp_path, monkeypatch):
    def clone(target, op, source):  # what FICLONE leaves: the target holds the source's bytes
        os.write(target, os.pread(source, 1 << 20, 0))

    monkeypatch.setattr(cache_module.fcntl, "ioctl", clone)
    (tmp_path / ".dvc").mkdir()
    cache = DvcCache(tmp_path)

    md5 = store(tmp_path, cache, "f", b"cloned")

    assert cache.object_path(md5).read_bytes() == b"cloned"
    assert cache.reflinks


def test_a_text_item_is_decoded_from_the_same_read_with_universal_newlines(tmp_path):
    raw = b"one\r\ntwo\rthree\n"
    path = tmp_path / "t.txt"
    path.write_bytes(raw)

    info = describe_file(path, text=True)

    assert info["text"] == "one\ntwo\nthree\n" == path.read_text(encoding="utf-8")
    assert (info["sha256"], info["bytes"]) == (hashlib.sha256(raw).hexdigest(), 5 + 4 + 6)
