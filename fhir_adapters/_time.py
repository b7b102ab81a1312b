"""FHIR date and dateTime values as timezone-aware datetimes.

A date without a time is midnight UTC; a time without an offset is UTC; a partial date
(`2018`, `2018-08`, which the R4B models keep as text) is the start of the year or month;
`partial_period` tells one apart, so that callers warn that the time is only an interval.
`last_instant` is the other end of such an interval: a Period's `end: 2026-02-27` includes that
whole day, as FHIR reads it. A date has no offset, so against a dateTime it is uncertain by
`engine.clock.DATE_OFFSET_SLACK` at its start and `DATE_END_SLACK` at its end (`is_date_only`).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

__all__ = ["instant", "is_date_only", "last_instant", "partial_period"]

_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{2}))?$")


def instant(value: object) -> datetime | None:
    """The moment a FHIR date/dateTime/instant value stands for, or None if it is not one."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        match = _PARTIAL.match(value)
        if match:
            try:
                return datetime(int(match[1]), int(match[2] or 1), 1, tzinfo=UTC)
            except ValueError:
                return None
    return None


def partial_period(value: object) -> str | None:
    """ "year" or "month" when a FHIR value gives only that much of a date, else None."""
    if not isinstance(value, str):
        return None
    match = _PARTIAL.match(value)
    if not match:
        return None
    return "month" if match[2] else "year"


def last_instant(value: object) -> datetime | None:
    """The last moment a FHIR date/dateTime value covers: itself for a dateTime, the end of the
    day, month or year for a date or a partial date (a microsecond before the next one)."""
    start = instant(value)
    if start is None or isinstance(value, datetime):
        return start
    kind = partial_period(value)
    try:
        if kind == "year":
            following = start.replace(year=start.year + 1)
        elif kind == "month":
            following = (start + timedelta(days=32)).replace(day=1)
        else:
            following = start + timedelta(days=1)
    except (OverflowError, ValueError):  # 9999-12-31, an open end's usual stand-in
        return datetime.max.replace(tzinfo=UTC)
    return following - timedelta(microseconds=1)


def is_date_only(value: object) -> bool:
    """A date or partial date: no time, so no offset either."""
    return (isinstance(value, date) and not isinstance(value, datetime)) or (
        partial_period(value) is not None
    )
