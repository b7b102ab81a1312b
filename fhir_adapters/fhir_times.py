"""A resource's dates and Periods read for a record, with a warning for what is uncertain.

Every reader places a resource in time through here; values are parsed by `moments.read`.
`moment` reads one value (a Period's end, with `last`, as the last moment it covers); a
partial date (`2026`, `2026-03`) is read as one end of its year or month, with a warning.
`period` reads a Period; one that ends before it starts raises `ContradictoryTime`, and the
resource is then left out. A date states no offset: against a dateTime it is uncertain by
`DATE_OFFSET_SLACK` at its start and `DATE_END_SLACK` at its end (`in_order`, which is
`engine.clock.may_precede`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fhir.resources.R4B.period import Period

from engine.clock import may_precede

from .moments import instant, is_date_only, read

__all__ = [
    "ContradictoryTime",
    "Warn",
    "date_only",
    "in_order",
    "moment",
    "period",
    "shown",
    "time_value",
]

Warn = Callable[[str], None]


class ContradictoryTime(Exception):
    """A time that contradicts itself (a Period ending before it starts): the resource cannot
    be placed in time, so it is left out."""


def moment(value: object, where: str, warn: Warn, *, last: bool = False) -> datetime | None:
    """The moment `value` stands for; with `last`, the last one it covers (a Period's end)."""
    read_as = read(value)
    if read_as is None:
        warn(f"{where} {value!r} is not a date: time unknown")
        return None
    found = read_as.last if last else read_as.start
    if read_as.precision in ("year", "month"):
        # A month or a year is an interval, not an instant: read as one end of it, the record
        # may count as known or current when it was not (or the reverse), so the reader must know.
        side = "end" if last else "start"
        warn(
            f"{where} {value!r} gives only a {read_as.precision}: read as its {side}, "
            f"{found.date().isoformat()}, so whether it is current is uncertain"
        )
    return found


def period(value: Period, where: str, warn: Warn) -> tuple[datetime | None, datetime | None]:
    """(start, end) of a Period; known only to have ended, it is placed at its end's start."""
    start = moment(value.start, f"{where}.start", warn) if value.start is not None else None
    end = moment(value.end, f"{where}.end", warn, last=True) if value.end is not None else None
    if start is None and end is None:
        warn(f"{where} has neither start nor end: time unknown")
    if start is not None and end is not None and not in_order(value.start, value.end):
        raise ContradictoryTime(
            f"{where} ends ({shown(value.end)}) before it starts ({shown(value.start)}): left out"
        )
    if start is None and end is not None:
        start = instant(value.end)
    return start, end


def in_order(start: object, end: object) -> bool:
    """Whether a time from FHIR value `start` may have ended at `end` (all of it, for a date)."""
    first, last = read(start), read(end)
    return first is None or last is None or may_precede(first, last)


def shown(value: object) -> str:
    found = instant(value)
    return found.isoformat() if found is not None and not is_date_only(value) else str(value)


def time_value(resource: object, prefix: str) -> tuple[str, object] | None:
    """The FHIR value a record's time is read from (`effective`, `onset`, `performed`), with
    its name: the dateTime, else the Period's start, else its end."""
    value = getattr(resource, f"{prefix}DateTime", None)
    if value is not None:
        return f"{prefix}DateTime", value
    found: Period | None = getattr(resource, f"{prefix}Period", None)
    if found is not None and found.start is not None:
        return f"{prefix}Period.start", found.start
    if found is not None and found.end is not None:
        return f"{prefix}Period.end", found.end
    return None


def date_only(resource: object, prefix: str) -> bool:
    """Whether a record's time is read from a date, which states no offset."""
    found = time_value(resource, prefix)
    return found is not None and is_date_only(found[1])
