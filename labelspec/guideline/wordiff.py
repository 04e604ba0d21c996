"""Word diffs of guideline text: what a reviewer reads to see how a definition changed.

``word_diff`` splits both texts into words, spaces and punctuation and aligns them; the pieces
are ``(op, text)`` with op ``=`` (kept), ``-`` (removed) or ``+`` (added). The renderers escape
every piece (the text comes from a spec, not from us) and mark changes with ``<del>``/``<ins>``.
"""

from __future__ import annotations

import difflib
import re

from labelspec.site.safe import lit, md_text

_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")
Piece = tuple[str, str]


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def word_diff(before: str | None, after: str | None) -> list[Piece]:
    """The pieces that turn ``before`` into ``after`` (either may be None: added or removed).

    Within a run of changes all removals come first, then all additions; a space kept between
    two changes joins them, so "a b" -> "c d" reads ``~~a b~~ **c d**``, not word by word."""
    old, new = _tokens(before or ""), _tokens(after or "")
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    raw: list[Piece] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            raw.append(("=", "".join(old[i1:i2])))
            continue
        if op in ("delete", "replace"):
            raw.append(("-", "".join(old[i1:i2])))
        if op in ("insert", "replace"):
            raw.append(("+", "".join(new[j1:j2])))
    pieces: list[Piece] = []
    run = {"-": "", "+": ""}

    def flush() -> None:
        for side in ("-", "+"):
            if run[side].strip():
                pieces.append((side, run[side]))
            run[side] = ""

    for i, (op, text) in enumerate(raw):
        joins = op == "=" and not text.strip() and 0 < i < len(raw) - 1 and raw[i + 1][0] != "="
        if op == "=" and not joins:
            flush()
            pieces.append(("=", text))
        elif joins:
            run["-"] += text
            run["+"] += text
        else:
            run[op] += text
    flush()
    return pieces


def changed(pieces: list[Piece]) -> bool:
    return any(op != "=" for op, _ in pieces)


_TAGS = {"-": "del", "+": "ins"}


def _render(pieces: list[Piece], escape) -> str:
    out = []
    for op, text in pieces:
        escaped = escape(text)
        out.append(f"<{_TAGS[op]}>{escaped}</{_TAGS[op]}>" if op in _TAGS else escaped)
    return "".join(out)


def to_html(pieces: list[Piece]) -> str:
    """HTML with ``<del>`` and ``<ins>`` around the changes; every piece escaped, Markdown
    punctuation included, so the same HTML can sit in a Markdown page and read as written."""

    return _render(pieces, lit)


def to_markdown(pieces: list[Piece]) -> str:
    """Markdown on one line, every piece escaped. Changes are ``<del>``/``<ins>`` tags, which
    GitHub renders, rather than ``~~``/``**``, whose flanking rules fail next to punctuation."""

    return _render(pieces, md_text)
