"""Durations and windows of clinical time: the one home of calendar arithmetic.

A `Duration` keeps the unit it was written in, because months and years are calendar units
(15 months before 7 December is 7 September of the year before), while hours, days and weeks
are fixed lengths. Calendar dates ("today", an age, a date-only value) are read in the ruleset's
own time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

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

    def before(self, moment: datetime) -> datetime:
        """`moment` minus this duration (calendar units on `moment`'s own calendar)."""
        fixed = self.fixed
        if fixed is not None:
            return moment - fixed
        months = self.amount * (12 if self.unit == "years" else 1)
        year, month = divmod(moment.month - 1 - months, 12)
        year += moment.year
        day = min(moment.day, _days_in(year, month + 1))
        return moment.replace(year=year, month=month + 1, day=day)


def _days_in(year: int, month: int) -> int:
    if month == 12:
        return 31
    return (datetime(year, month + 1, 1) - datetime(year, month, 1)).days
