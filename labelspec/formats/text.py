"""Reading delivery files safely: text that is UTF-8 (or says otherwise with a BOM), JSON without
NaN or absurd nesting, and a clear word when the file is something else (a zip, a CSV export).
Every failure is a ``ProblemsError`` naming the file and what to do; nothing here raises a
third-party exception.
"""

from __future__ import annotations

import codecs
import json
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from labelspec.errors import InputError, Problem, ProblemsError, SpecError
from labelspec.nesting import MAX_DEPTH, json_too_deep

BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]


def refuse(path: Path, summary: str, message: str, line: int | None = None) -> ProblemsError:
    return ProblemsError(
        f"{path}: {summary}; nothing was imported",
        [Problem(message=message, file=str(path), line=line)],
    )


def unreadable(path: Path, exc: OSError) -> InputError:
    if isinstance(exc, IsADirectoryError):
        return InputError(
            f"{path} is a folder: give the export file in it (only --format yolo reads a folder)"
        )
    return InputError(f"cannot read {path}: {exc.strerror}")


def _kind(head: bytes) -> str | None:
    if head.startswith(b"PK\x03\x04"):
        return "a zip archive"
    if head.startswith(b"\x1f\x8b"):
        return "a gzip file"
    if head.startswith(b"\x89PNG") or head.startswith(b"\xff\xd8\xff"):
        return "an image"
    return None


def encoding_of(path: Path, head: bytes) -> str:
    for bom, name in BOMS:
        if head.startswith(bom):
            return name
    return "utf-8"


def read_text(path: Path, tool: str, raw: bytes | None = None) -> tuple[str, str | None]:
    """The file's text and a note when it was not plain UTF-8 (a BOM said UTF-16, say).
    ``raw``: the bytes already read (a member of an archive ``path`` names)."""
    if raw is None:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise unreadable(path, exc) from None
    kind = _kind(raw[:4])
    if kind:
        raise refuse(
            path,
            f"{kind}, not text",
            f"this is {kind}: extract the export inside it (or use a format that reads archives: coco, cvat, yolo)",
        )
    encoding = encoding_of(path, raw[:4])
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise refuse(
            path,
            "not UTF-8 text",
            f"byte {exc.start} (line {line}) is not {encoding.upper()}: re-export the file "
            f"from {tool} as UTF-8",
            line,
        ) from None
    text = text.removeprefix("\ufeff")
    note = None if encoding == "utf-8" else f"{path.name} was read as {encoding} (from its BOM)"
    return text, note


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def load_json(path: Path, tool: str, raw: bytes | None = None) -> Any:
    """The parsed document, or a ProblemsError that points at the line and column."""
    text, _note = read_text(path, tool, raw)
    if text.lstrip()[:1] not in ("{", "["):
        first = text.lstrip().splitlines()[0][:80] if text.strip() else ""
        hint = (
            "it looks like CSV: export as JSON"
            if "," in first and not first.startswith(("{", "["))
            else "a JSON document starts with { or ["
        )
        raise refuse(
            path, "not JSON", f"not a JSON document ({hint}; re-export the file from {tool})", 1
        )
    if json_too_deep(text):
        raise refuse(
            path,
            "not a labeling export",
            f"JSON nested deeper than {MAX_DEPTH} levels: not an export of {tool}",
        )
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        message = f"truncated or invalid JSON at line {exc.lineno} col {exc.colno}: {exc.msg} (re-export the file from {tool})"
        problem = Problem(message=message, file=str(path), line=exc.lineno, col=exc.colno)
        raise ProblemsError(f"{path}: not valid JSON; nothing was imported", [problem]) from None
    except ValueError as exc:  # NaN / Infinity
        raise refuse(path, "not valid JSON", f"{exc}: numbers must be finite") from None


def utf8_copy(path: Path, tool: str) -> tuple[Path, str | None, tempfile.TemporaryDirectory | None]:
    """``path`` itself when it is UTF-8 (by its first bytes), else a UTF-8 copy in a temporary
    folder (for readers that hand the file to DuckDB). The folder goes when the returned handle
    is cleaned. DuckDB refuses bytes that are not UTF-8 as it reads; the readers then call
    ``require_utf8`` for the byte and line (a scan a good file need not pay: 0.2 s per 150 MB)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
    except OSError as exc:
        raise unreadable(path, exc) from None
    if encoding_of(path, head) == "utf-8" and not _kind(head):
        return path, None, None
    text, note = read_text(path, tool)
    folder = tempfile.TemporaryDirectory(prefix="labelspec-utf8-")
    copy = Path(folder.name) / path.name
    copy.write_text(text, encoding="utf-8")
    return copy, note, folder


def first_non_utf8(chunks: Iterable[bytes]) -> tuple[int, int, int] | None:
    """(offset, line, value) of the first byte of ``chunks`` (a file read in pieces) that is
    not UTF-8, or None."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    lines = 1
    for chunk in chunks:
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            return offset + exc.start, lines + chunk[: exc.start].count(b"\n"), chunk[exc.start]
        offset += len(chunk)
        lines += chunk.count(b"\n")
    pending = decoder.getstate()[0]  # the text ends inside a character: where it starts
    return (offset - len(pending), lines, pending[0]) if pending else None


def require_utf8(path: Path, tool: str) -> None:
    """Refuse ``path`` naming its first byte that is not UTF-8 (its offset and line)."""
    with path.open("rb") as handle:
        found = first_non_utf8(iter(lambda: handle.read(1 << 22), b""))
    if found is not None:
        offset, line, _ = found
        raise refuse(
            path,
            "not UTF-8 text",
            f"byte {offset} (line {line}) is not UTF-8: re-export the file from {tool} as UTF-8",
            line,
        )


def decode_utf8(raw: bytes, source: str) -> str:
    """The text of a file labelspec's users write (a spec, a guide page, a config): UTF-8, a
    UTF-8 byte order mark dropped. Anything else is a ``SpecError`` "source:line: ..." naming
    the encoding a byte order mark gives, or the first byte that is not UTF-8: git, the diff,
    the review and the site all read these files as UTF-8, so it is refused rather than guessed."""
    for bom, name in BOMS:
        if raw.startswith(bom) and name != "utf-8-sig":
            notepad = " (Windows Notepad's 'Unicode')" if name == "utf-16" else ""
            raise SpecError(
                f"{source}:1: not UTF-8: it is {name.upper()} text{notepad}, by the byte order "
                "mark it starts with; save it as UTF-8"
            )
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        offset, line, value = first_non_utf8([raw]) or (0, 1, raw[0])
        raise SpecError(
            f"{source}:{line}: not UTF-8: byte {offset} (0x{value:02X}) is not UTF-8 (a Latin-1 "
            "or Windows-1252 character?); save it as UTF-8"
        ) from None


def read_utf8(path: Path) -> str:
    """``decode_utf8`` of a file (``FileNotFoundError`` passes through)."""
    return decode_utf8(path.read_bytes(), str(path))
