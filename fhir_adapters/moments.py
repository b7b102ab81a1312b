"""FHIR date, dateTime, instant and partial-date values as moments: the one parser of FHIR time.

`read` turns a value as the R4B models hold it into an `engine.clock.Moment` with its
precision: a dateTime or instant is an instant (UTC when it states no offset); a date is a
day, `2018-08` a month and `2018` a year (the models keep these two as text), each from its
midnight UTC. `read_text` does the same for JSON text, before (or instead of) validation.
The rest are views of that moment: `instant` its start, `last_instant` the last moment it
covers (a Period's `end: 2026-02-27` includes that whole day), `partial_period` a month's or
a year's precision, `is_date_only` no time and so no offset, and `latest_moment` the last
moment it may stand for anywhere on Earth (`Moment.latest`).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from engine.clock import Moment

__all__ = [
    "instant",
    "is_date_only",
    "last_instant",
    "latest_moment",
    "partial_period",
    "read",
    "read_text",
]

_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{2}))?$")


def read(value: object) -> Moment | None:
    """The moment a FHIR date/dateTime/instant value stands for, with its precision; None if
    it is not one."""
    if isinstance(value, datetime):
        return Moment(value if value.tzinfo is not None else value.replace(tzinfo=UTC))
    if isinstance(value, date):
        return Moment(datetime(value.year, value.month, value.day, tzinfo=UTC), "day")
    if isinstance(value, str):
        match = _PARTIAL.match(value)
        if match:
            try:
                start = datetime(int(match[1]), int(match[2] or 1), 1, tzinfo=UTC)
            except ValueError:
                return None
            return Moment(start, "month" if match[2] else "year")
    return None


def read_text(text: object) -> Moment | None:
    """The moment the JSON value `text` stands for; None when it is not a FHIR date, dateTime
    or instant."""
    if not isinstance(text, str):
        return None
    value: object = text  # a month or a year stays text, as the R4B models keep it
    try:
        if "T" in text:
            value = datetime.fromisoformat(text)
        elif len(text) == len("2024-05-01"):
            value = date.fromisoformat(text)
    except ValueError:
        return None
    return read(value)


def instant(value: object) -> datetime | None:
    """The first moment a FHIR value stands for (a date's midnight UTC), or None."""
    found = read(value)
    return found.start if found is not None else None


def last_instant(value: object) -> datetime | None:
    """The last moment a FHIR value covers: itself for a dateTime, the end of the day, month or
    year for a date or a partial date (a microsecond before the next one)."""
    found = read(value)
    return found.last if found is not None else None


def partial_period(value: object) -> str | None:
    """ "year" or "month" when a FHIR value gives only that much of a date, else None."""
    found = read(value)
    if found is None or found.precision not in ("year", "month"):
        return None
    return found.precision


def is_date_only(value: object) -> bool:
    """A date or partial date: no time, so no offset either."""
    found = read(value)
    return found is not None and not found.is_precise


def latest_moment(text: object) -> datetime | None:
    """The last moment the JSON value `text` may stand for anywhere on Earth; None when it is
    not a FHIR date, dateTime or instant."""
    found = read_text(text)
    return found.latest if found is not None else None
