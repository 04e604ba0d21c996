"""Dates people give (``--date``) for what has happened: a training, a release.

Both allow one day's grace around today and around a release's date, which is a UTC date,
while people give their local date: a trainer east of UTC may already be on tomorrow, one
west of it still on the day before a release made just after midnight UTC.
"""

from __future__ import annotations

import datetime as dt

from labelspec.errors import InputError

GRACE = dt.timedelta(days=1)


def refuse_future(date: dt.date, why: str) -> None:
    """Refuse a ``--date`` after tomorrow; ``why`` says what the date is for."""
    today = dt.date.today()
    if date > today + GRACE:
        raise InputError(f"--date {date} is in the future (today is {today}): {why}")
