"""The roster: pseudonymous labeler ids (never names or e-mail addresses) and their vendor.

``labelers/roster.jsonl`` is a log of events, one per line: ``add`` (id, vendor, team),
``deactivate``, ``activate`` and ``settle``. The roster is the events folded in time order, so
two clones that each add labelers merge with ``git pull``. Adding an id twice with the same
vendor is one labeler; with different vendors (two clones) the first add wins and ``verify``
reports the clash until a ``settle`` event (``labeler settle``) names the vendor the id belongs
to and the vendors it does not: the file stays append-only and the history keeps both adds.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict

from labelspec import names
from labelspec.errors import ConflictError, InputError, NotFoundError
from labelspec.labelers.events import dumps, read_lines
from labelspec.repo import Repo
from labelspec.transaction import transaction

LABELER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
ROSTER = "labelers/roster.jsonl"
EVENTS = ("add", "deactivate", "activate", "settle")


class Labeler(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    vendor: str
    team: str | None = None
    active: bool = True
    added: dt.date | None = None


@dataclass
class Roster:
    labelers: dict[str, Labeler] = field(default_factory=dict)
    clashes: list[str] = field(default_factory=list)  # for verify
    unsettled: set[str] = field(default_factory=set)  # ids whose clash no settle decided


def validate_labeler_id(labeler_id: str) -> None:
    if "@" in labeler_id:
        raise InputError(
            f"{labeler_id!r} looks like an e-mail address; labeler ids are pseudonymous "
            "(for example vendor-a-017): keep personal data out of the repository"
        )
    if any(ch.isspace() for ch in labeler_id):
        raise InputError(
            f"{labeler_id!r} contains spaces; use a pseudonymous id such as vendor-a-017"
        )
    if not LABELER_ID.fullmatch(labeler_id):
        raise InputError(
            f"{labeler_id!r} is not a valid labeler id: use letters, digits, '.', '_' and '-' (at most 64)"
        )


def load_roster(ws: Repo) -> Roster:
    """The roster, read once per Repo (a write empties the Repo's memo)."""
    return ws.memo(("roster", ws.stamp(ws.root / ROSTER)), lambda: _load_roster(ws))


def _load_roster(ws: Repo) -> Roster:
    events = read_lines(ws.root / ROSTER, ROSTER)
    roster = Roster()
    adds: dict[str, list[tuple[int, dict]]] = {}
    settles: dict[str, list[dict]] = {}
    for number, event in sorted(events, key=lambda e: (str(e[1].get("at", "")), e[0])):
        kind, labeler_id = event.get("event"), event.get("id")
        if not labeler_id or kind not in EVENTS:
            raise InputError(f"{ROSTER}:{number}: not a roster event: {dumps(event)}")
        known = roster.labelers.get(labeler_id)
        if kind == "add":
            adds.setdefault(labeler_id, []).append((number, event))
            if known is None:
                roster.labelers[labeler_id] = _labeler(event)
        elif kind == "settle":
            settles.setdefault(labeler_id, []).append(event)
        elif known is not None:
            known.active = kind == "activate"
    for labeler_id, added in adds.items():
        labeler = roster.labelers[labeler_id]
        settled = _settle(labeler, added, settles.get(labeler_id, []))
        for number, event in added:
            if event["vendor"] not in settled and event["vendor"] != labeler.vendor:
                roster.clashes.append(_clash_message(labeler, event["vendor"], number))
                roster.unsettled.add(labeler_id)
    return roster


def _labeler(add: dict) -> Labeler:
    return Labeler(
        id=add["id"],
        vendor=add["vendor"],
        team=add.get("team"),
        added=str(add.get("at", ""))[:10] or None,
    )


def _settle(labeler: Labeler, added: list[tuple[int, dict]], settles: list[dict]) -> set[str]:
    """Apply the newest ``settle`` event of the id (its vendor's add gives the vendor and
    team) and return every vendor the settles decided on, for or against."""
    if not settles:
        return set()
    newest = settles[-1]
    chosen = next((event for _n, event in added if event["vendor"] == newest["vendor"]), None)
    if chosen is not None:
        settled = _labeler(chosen)
        labeler.vendor, labeler.team, labeler.added = settled.vendor, settled.team, settled.added
    return {vendor for event in settles for vendor in (event["vendor"], *event.get("over", []))}


def _clash_message(labeler: Labeler, other: str, number: int) -> str:
    return (
        f"labeler {labeler.id} was added twice, for {labeler.vendor} and for {other} "
        f"({ROSTER}:{number}); the add for {labeler.vendor} counts until you say which vendor {labeler.id} "
        f"works for: `labelspec labeler settle {labeler.id} --vendor {labeler.vendor}` (or "
        f"--vendor {other}), then add the other person under a new id (`labelspec labeler add "
        "NEW-ID --vendor VENDOR`) and map their deliveries to it with --labeler-map"
    )


def list_labelers(ws: Repo, include_inactive: bool = True) -> list[Labeler]:
    return [lab for lab in load_roster(ws).labelers.values() if include_inactive or lab.active]


def get_labeler(ws: Repo, labeler_id: str) -> Labeler:
    labelers = load_roster(ws).labelers
    if labeler_id in labelers:
        return labelers[labeler_id]
    close = difflib.get_close_matches(labeler_id, list(labelers), n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise NotFoundError(
        f"no labeler {labeler_id!r} in {ROSTER}{hint}; add it with `labelspec labeler add {labeler_id} --vendor VENDOR`"
    )


def _event(kind: str, labeler_id: str, **fields) -> str:
    at = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
    return dumps({"event": kind, "id": labeler_id, "at": at, **fields})


def add_labeler(ws: Repo, labeler_id: str, vendor: str, team: str | None = None) -> Labeler:

    validate_labeler_id(labeler_id)
    if not vendor.strip():
        raise InputError("--vendor must not be empty")
    names.one_line(vendor, "--vendor")
    if team is not None:
        names.one_line(team, "--team")
    with transaction(ws, f"labelspec: add labeler {labeler_id} ({vendor})") as tx:
        if labeler_id in load_roster(ws).labelers:
            raise ConflictError(f"labeler {labeler_id!r} already exists in {ROSTER}")
        tx.append_line(ws.root / ROSTER, _event("add", labeler_id, vendor=vendor, team=team))
    return Labeler(id=labeler_id, vendor=vendor, team=team, active=True, added=dt.date.today())


def set_active(ws: Repo, labeler_id: str, active: bool) -> Labeler:

    verb = "activate" if active else "deactivate"
    with transaction(ws, f"labelspec: {verb} labeler {labeler_id}") as tx:
        labeler = get_labeler(ws, labeler_id)
        if labeler.active == active:
            raise ConflictError(
                f"labeler {labeler_id!r} is already {'active' if active else 'inactive'}"
            )
        tx.append_line(ws.root / ROSTER, _event(verb, labeler_id))
    return labeler.model_copy(update={"active": active})


def deactivate_labeler(ws: Repo, labeler_id: str) -> Labeler:
    return set_active(ws, labeler_id, False)


def settle_labeler(ws: Repo, labeler_id: str, vendor: str) -> Labeler:
    """Record that ``labeler_id`` works for ``vendor``, one of the vendors it was added for,
    which settles the clash of adds for different vendors."""

    names.one_line(vendor, "--vendor")
    with transaction(ws, f"labelspec: settle labeler {labeler_id} ({vendor})") as tx:
        labeler = get_labeler(ws, labeler_id)
        vendors = sorted({e["vendor"] for _n, e in _adds(ws, labeler_id)})
        if len(vendors) < 2:
            raise ConflictError(
                f"labeler {labeler_id!r} was added for {labeler.vendor} only: nothing to settle"
            )
        if vendor not in vendors:
            raise InputError(
                f"labeler {labeler_id!r} was added for {' and '.join(vendors)}, not {vendor!r}: "
                "settle it on one of those"
            )
        if labeler.vendor == vendor and labeler_id not in load_roster(ws).unsettled:
            raise ConflictError(f"labeler {labeler_id!r} is already settled on {vendor}")
        over = [v for v in vendors if v != vendor]
        tx.append_line(ws.root / ROSTER, _event("settle", labeler_id, vendor=vendor, over=over))
    return get_labeler(ws, labeler_id)


def _adds(ws: Repo, labeler_id: str) -> list[tuple[int, dict]]:
    return [
        (number, event)
        for number, event in read_lines(ws.root / ROSTER, ROSTER)
        if event.get("event") == "add" and event.get("id") == labeler_id
    ]
