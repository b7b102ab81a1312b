"""Durations and windows of clinical time: the one home of calendar arithmetic.

A `Duration` keeps the unit it was written in, because months and years are calendar units
(15 months before 7 December is 7 September of the year before), while hours, days and weeks
are fixed lengths. Calendar dates ("today", an age, a date-only value) are read in the ruleset's
own time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo

DurationUnit = Literal["hours", "days", "weeks", "months", "years"]
UNITS: tuple[DurationUnit, ...] = ("hours", "days", "weeks", "months", "years")


@dataclass(frozen=True, slots=True)
class Duration:
    """An amount of time as written: `24 hours`, `90 days`, `15 months`."""

    amount: int
    unit: DurationUnit

    def __str__(self) -> str:
        unit = self.unit[:-1] if self.amount == 1 else self.unit
        return f"{self.amount} {unit}"

    @property
    def fixed(self) -> timedelta | None:
        """The length of an hours, days or weeks duration; None for calendar units."""
        if self.unit == "hours":
            return timedelta(hours=self.amount)
        if self.unit == "days":
            return timedelta(days=self.amount)
        if self.unit == "weeks":
            return timedelta(weeks=self.amount)
        return None

    def before(self, moment: datetime, zone: tzinfo | None = None) -> datetime:
        """`moment` minus this duration (calendar units on the calendar of `zone`, else of
        `moment`'s own; the day of month is kept, or the month's last day when it has none)."""
        return self._shift(moment, -1, zone)

    def after(self, moment: datetime, zone: tzinfo | None = None) -> datetime:
        """`moment` plus this duration, as `before` reads it."""
        return self._shift(moment, 1, zone)

    def _shift(self, moment: datetime, sign: int, zone: tzinfo | None) -> datetime:
        fixed = self.fixed
        if fixed is not None:
            return moment + sign * fixed
        local = moment.astimezone(zone) if zone is not None and moment.tzinfo else moment
        months = sign * self.amount * (12 if self.unit == "years" else 1)
        year, month = divmod(local.month - 1 + months, 12)
        year += local.year
        day = min(local.day, _days_in(year, month + 1))
        shifted = local.replace(year=year, month=month + 1, day=day)
        return shifted.astimezone(moment.tzinfo) if moment.tzinfo is not None else shifted


# a parameter's UCUM time unit -> the unit a Duration is written in
_UCUM_UNITS: dict[str, DurationUnit] = {
    "h": "hours",
    "d": "days",
    "wk": "weeks",
    "mo": "months",
    "a": "years",
}


def from_ucum(value: float, unit: str) -> Duration:
    """A duration parameter (`24 hours` read as 24 `h`) as a Duration; raises ValueError for a
    unit that is no duration unit or an amount that is not a whole number of it."""
    written = _UCUM_UNITS.get(unit)
    if written is None:
        raise ValueError(f"{unit!r} is not a unit of time (hours, days, weeks, months, years)")
    if value != int(value) or value < 0:
        raise ValueError(f"{value:g} {written} is not a whole number of {written}")
    return Duration(int(value), written)


def zone_of(name: str) -> tzinfo:
    """The IANA time zone `name` (`Europe/London`, `UTC`)."""
    return ZoneInfo(name)


def local_date(moment: datetime, zone: tzinfo) -> date:
    """The calendar date of `moment` in `zone` (a naive moment is taken as already local)."""
    return moment.astimezone(zone).date() if moment.tzinfo is not None else moment.date()


def _days_in(year: int, month: int) -> int:
    if month == 12:
        return 31
    return (datetime(year, month + 1, 1) - datetime(year, month, 1)).days


def calendar_date(moment: datetime, zone: tzinfo, date_only: bool = False) -> date:
    """The calendar date a value stands for: a date-only value written as midnight UTC is its
    own date; anything else is read in `zone`."""
    if date_only and moment.tzinfo is not None:
        utc = moment.astimezone(UTC)
        if utc.time() == time(0):
            return utc.date()
    return local_date(moment, zone)
