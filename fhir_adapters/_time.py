"""FHIR date and dateTime values as timezone-aware datetimes.

A date without a time is midnight UTC; a time without an offset is UTC; a partial date
(`2018`, `2018-08`, which the R4B models keep as text) is the start of the year or month;
`partial_period` tells one apart, so that callers warn that the time is only an interval.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

__all__ = ["instant", "partial_period"]

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
