"""Names and notes that reach commit messages and records: printable text only.

A newline in ``--source`` would split an import's commit subject (and `recover` matches a
killed write's commit by its subject); a carriage return, an escape or another C0 / C1 control
character garbles every terminal that shows the log. Names are refused at the input boundary
with the option that carried them; notes (``-m``) may span lines and hold tabs, nothing else.
"""

from __future__ import annotations

import re

from labelspec.errors import InputError

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_NOTE_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # a note keeps \t and \n
_KNOWN = {"\n": "a line break, \\n", "\r": "a carriage return, \\r", "\t": "a tab, \\t"}


def _refuse(value: str, what: str, found: str, allowed: str) -> InputError:
    shown = _KNOWN.get(found, f"U+{ord(found):04X}")
    return InputError(
        f"{what} {value!r} contains a control character ({shown}); {allowed} (it goes into "
        "the commit message and the records)"
    )


def one_line(value: str, what: str) -> str:
    """``value`` when it is one line of printable text; an ``InputError`` naming ``what``
    (``--source``, ``file name``) otherwise."""
    found = _CONTROL.search(value)
    if found:
        raise _refuse(value, what, found.group(), "give one line of printable text")
    return value


def note_control(value: str) -> str | None:
    """How to name the first character a note may not hold (see ``note``), or None."""
    found = _NOTE_CONTROL.search(value)
    return _KNOWN.get(found.group(), f"U+{ord(found.group()):04X}") if found else None


def note(value: str, what: str) -> str:
    """``value`` when it is printable text that may span lines (a commit body)."""
    found = _NOTE_CONTROL.search(value)
    if found:
        raise _refuse(value, what, found.group(), "only line breaks and tabs may shape a note")
    return value


def commit_message(message: str) -> str:
    """The last guard before a commit: a message labelspec built from checked names holds no
    control character but the line breaks and tabs of a note."""
    return note(message, "the commit message")
