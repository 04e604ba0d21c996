"""The roster: pseudonymous labeler ids (never names or e-mail addresses) and their vendor.

``labelers/roster.jsonl`` is a log of events, one per line: ``add`` (id, vendor, team),
``deactivate`` and ``activate``. The roster is the events folded in time order, so two clones
that each add labelers merge with ``git pull``. Adding an id twice with the same vendor is one
labeler; with different vendors the first add wins and ``verify`` reports the clash.
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
    for number, event in sorted(events, key=lambda e: (str(e[1].get("at", "")), e[0])):
        kind, labeler_id = event.get("event"), event.get("id")
        if not labeler_id or kind not in ("add", "deactivate", "activate"):
            raise InputError(f"{ROSTER}:{number}: not a roster event: {dumps(event)}")
        known = roster.labelers.get(labeler_id)
        if kind == "add":
            if known is None:
                roster.labelers[labeler_id] = Labeler(
                    id=labeler_id,
                    vendor=event["vendor"],
                    team=event.get("team"),
                    added=str(event.get("at", ""))[:10] or None,
                )
            elif known.vendor != event["vendor"]:
                roster.clashes.append(
                    f"labeler {labeler_id} was added twice, for {known.vendor} and for "
                    f"{event['vendor']} ({ROSTER}:{number}); the first add counts. Give the other "
                    "labeler a new id and fix the labels' --labeler-map"
                )
        elif known is not None:
            known.active = kind == "activate"
    return roster


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
