"""What ``items add`` learns from one read of an item file: sha256 (the item's identity), md5 (its
DVC object id), size, and an image's width and height from its header, or a text's text. With a
DVC cache given, the same bytes become the file's cache object, so a file is read once.

Image sizes come from the header bytes already read (PNG, GIF, BMP, WebP, JPEG); other formats
ask Pillow, which also reads only the header.
"""

from __future__ import annotations

import hashlib
import os
import struct
from pathlib import Path
from typing import Any

from labelspec.progress import track

WHOLE_READ = 8 << 20  # files up to this size are hashed (and cached) from one read into memory
TEXT_SUFFIXES = {".txt"}


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


def describe_file(path: Path, text: bool, cache=None) -> dict[str, Any]:
    """sha256, size, media and width / height or text of one file, and ``_md5``; with ``cache``
    (a ``vcs.DvcCache``) the file is also stored as its DVC object."""
    size = os.stat(path).st_size
    if size > WHOLE_READ:  # large files stream; the cache copies them itself
        sha, md5 = hashlib.sha256(), hashlib.md5()
        with open(path, "rb") as handle:
            head = handle.read(1 << 16)
            for chunk in (head, *iter(lambda: handle.read(1 << 20), b"")):
                sha.update(chunk)
                md5.update(chunk)
        data = head
        if cache is not None:
            cache.store(path, md5.hexdigest())
    else:
        with open(path, "rb") as handle:
            data = handle.read()
        sha, md5 = hashlib.sha256(data), hashlib.md5(data)
        if cache is not None:
            cache.store_bytes(data, md5.hexdigest())
    info: dict[str, Any] = {"sha256": sha.hexdigest(), "bytes": size, "_md5": md5.hexdigest()}
    if text:  # read as text (universal newlines), as spans count characters of it
        info.update(media="text", text=path.read_text(encoding="utf-8"))
        return info
    found = image_size(data)
    if found is None:  # a format image_size does not parse
        from PIL import Image  # lazy: read paths (labels show, trace item) import this module

        with Image.open(path) as image:  # reads the header only
            found = image.size
    info.update(media="image", width=found[0], height=found[1])
    return info


def describe_files(
    paths: list[Path], cache=None, store: list[bool] | None = None
) -> list[dict[str, Any] | str]:
    """``describe_file`` over many files: a description, or why a file could not be read. With
    ``cache`` (a ``vcs.DvcCache``), the files whose ``store`` flag is set (all when ``store`` is
    None) become cache objects from the same read.

    One file after the other: the work is system calls (read, write, rename into the cache),
    which neither threads nor processes sped up on this project's machines (benchmarks/README.md).
    """

    flags = store if store is not None else [True] * len(paths)
    out: list[dict[str, Any] | str] = []
    pairs = zip(paths, flags, strict=True)
    for path, keep in track(pairs, "hashing items", total=len(paths)):
        try:
            out.append(
                describe_file(path, path.suffix.lower() in TEXT_SUFFIXES, cache if keep else None)
            )
        except (OSError, UnicodeDecodeError, ValueError, struct.error) as exc:
            out.append(str(exc) or type(exc).__name__)
    return out
