"""What ``items add`` learns from one read of an item file: sha256 (the item's identity), md5 (its
DVC object id), size, and an image's width and height from its header, or a text's text. With a
DVC cache given, the same bytes become the file's cache object, so a file is read once.

Image sizes come from the header bytes already read (PNG, GIF, BMP, WebP, JPEG); other formats
ask Pillow, which also reads only the header.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
import struct
from pathlib import Path
from typing import Any

from labelspec.progress import progress

WHOLE_READ = 8 << 20  # files up to this size are hashed (and cached) from one read into memory
TEXT_SUFFIXES = {".txt"}
WORKERS = min(4, os.cpu_count() or 2)  # threads hashing and caching (benchmarks/README.md)
CHUNK = 256  # files per task of the pool; one chunk: no pool


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        # SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
    return None


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from an image's first bytes, or None when the header is not one of ours."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        return struct.unpack(">II", data[16:24])
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return struct.unpack("<HH", data[6:10])
    if data[:2] == b"BM" and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return width, abs(height)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        kind = data[12:16]
        if kind == b"VP8X":
            return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(
                data[27:30], "little"
            )
        if kind == b"VP8 " and len(data) >= 30:
            width, height = struct.unpack("<HH", data[26:30])
            return width & 0x3FFF, height & 0x3FFF
        if kind == b"VP8L" and len(data) >= 25:
            bits = int.from_bytes(data[21:25], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if data[:2] == b"\xff\xd8":
        return _jpeg_size(data)
    return None


def describe_file(path: Path | str, text: bool, cache=None) -> dict[str, Any]:
    """sha256, size, media and width / height or text of one file, and ``_md5``; with ``cache``
    (a ``vcs.DvcCache``) the file is also stored as its DVC object. A small file costs one open,
    one fstat and one read (``items add`` runs this for every item file)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        size = os.fstat(fd).st_size
        if size > WHOLE_READ:  # large files stream; the cache copies them itself
            sha, md5 = hashlib.sha256(), hashlib.md5()
            data = head = os.read(fd, 1 << 16)
            size = 0
            while head:
                sha.update(head)
                md5.update(head)
                size += len(head)
                head = os.read(fd, 1 << 20)
            if cache is not None:
                cache.store(path, md5.hexdigest(), fd)
        else:
            data = _read_all(fd, size)
            size = len(data)
            sha, md5 = hashlib.sha256(data), hashlib.md5(data)
            if cache is not None:
                cache.store_bytes(data, md5.hexdigest(), fd)
    finally:
        os.close(fd)
    info: dict[str, Any] = {"sha256": sha.hexdigest(), "bytes": size, "_md5": md5.hexdigest()}
    if text:  # decoded as ``read_text`` would (universal newlines), as spans count characters
        decoded = data.decode("utf-8") if size <= WHOLE_READ else Path(path).read_text("utf-8")
        info.update(media="text", text=decoded.replace("\r\n", "\n").replace("\r", "\n"))
        return info
    found = image_size(data)
    if found is None:  # a format image_size does not parse
        from PIL import Image  # lazy: read paths (labels show, trace item) import this module

        with Image.open(path) as image:  # reads the header only
            found = image.size
    info.update(media="image", width=found[0], height=found[1])
    return info


def _read_all(fd: int, size: int) -> bytes:
    """The whole file: one read of one byte more than ``size`` both reads it and sees its end;
    a file that grew since its fstat is read to its end."""
    data = os.read(fd, size + 1)
    if len(data) <= size:
        return data
    parts = [data]
    while chunk := os.read(fd, 1 << 20):
        parts.append(chunk)
    return b"".join(parts)


def describe_files(
    paths: list[Path] | list[str], cache=None, store: list[bool] | None = None
) -> list[dict[str, Any] | str]:
    """``describe_file`` over many files: a description, or why a file could not be read. With
    ``cache`` (a ``vcs.DvcCache``), the files whose ``store`` flag is set (all when ``store`` is
    None) become cache objects from the same read.

    The work is system calls (open, read, create, rename), which release the GIL: a few threads
    keep both cores and the disk busy (benchmarks/README.md, "items add").
    """

    flags = store if store is not None else [True] * len(paths)

    def one(pair: tuple[Path | str, bool]) -> dict[str, Any] | str:
        path, keep = pair
        text = os.path.splitext(path)[1].lower() in TEXT_SUFFIXES
        try:
            return describe_file(path, text, cache if keep else None)
        except (OSError, UnicodeDecodeError, ValueError, struct.error) as exc:
            return str(exc) or type(exc).__name__

    pairs = list(zip(paths, flags, strict=True))
    # chunks, not files, are the pool's tasks: a future per file costs as much as its syscalls
    chunks = [pairs[i : i + CHUNK] for i in range(0, len(pairs), CHUNK)]
    out: list[dict[str, Any] | str] = []
    with progress("hashing items", total=len(pairs)) as advance:
        if len(chunks) <= 1:
            return [one(pair) for pair in pairs]
        with concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS) as pool:
            for done in pool.map(lambda chunk: [one(pair) for pair in chunk], chunks):
                out += done
                advance(len(done))
    return out
