"""Clinical time in the engine: durations, calendar dates and imprecise moments, in one home.

A `Duration` keeps the unit it was written in, because months and years are calendar units
(15 months before 7 December is 7 September of the year before), while hours, days and weeks
are fixed lengths. Calendar dates ("today", an age, a date-only value) are read in the ruleset's
own time zone (`local_date`, `calendar_date`, `end_of_day`, `completed_years`).
A `Moment` knows its precision (an instant, or a day, month or year, which covers up to its
`last`). A date states no offset: it is uncertain by `DATE_OFFSET_SLACK` at its start and
`DATE_END_SLACK` at its end (its `earliest` and `latest`); `may_coincide`, `may_precede` and
`is_after` compare such moments with timed ones. FHIR values become moments in
`fhir_adapters.moments`.
"""

from __future__ import annotations

from calendar import isleap
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo

# The widest UTC offsets are +14:00 and -12:00: a date, which states none, began up to 14 hours
# before its midnight UTC somewhere on Earth, and ended up to 12 hours after its end UTC.
DATE_OFFSET_SLACK = timedelta(hours=14)
DATE_END_SLACK = timedelta(hours=12)

Precision = Literal["year", "month", "day", "instant"]

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
        # a shift past the calendar's first or last days stops there (a window from year 1),
        # a day inside them so that the time still reads in any zone
        try:
            return self._shifted(moment, sign, zone)
        except (OverflowError, ValueError):
            end = datetime.min + _EDGE if sign < 0 else datetime.max - _EDGE
            return end.replace(tzinfo=UTC) if moment.tzinfo is not None else end

    def _shifted(self, moment: datetime, sign: int, zone: tzinfo | None) -> datetime:
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


_EDGE = timedelta(days=2)  # how far inside the calendar's ends a clamped shift stops

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


def end_of_day(moment: datetime, zone: tzinfo) -> datetime:
    """23:59:59 of `moment`'s calendar date in `zone` ("today", as a due time)."""
    local = moment.astimezone(zone)
    return datetime.combine(local.date(), time(23, 59, 59), tzinfo=local.tzinfo)


def completed_years(born: date, on: date) -> int:
    """Whole years from `born` to `on` (an age: a birthday counts from its day)."""
    return on.year - born.year - (1 if (on.month, on.day) < (born.month, born.day) else 0)


@dataclass(frozen=True, slots=True)
class Moment:
    """A time as precise as it was recorded: an instant, or a day, month or year (written as
    its first midnight UTC).

    A day states no offset, so the moment it stands for lies anywhere from `earliest` to
    `latest` (its uncertainty interval); an instant is its own interval.
    """

    start: datetime
    precision: Precision = "instant"

    @classmethod
    def of(cls, start: datetime, date_only: bool) -> Moment:
        """The moment a record's `time` and `date_only` flag stand for."""
        return cls(start, "day" if date_only else "instant")

    @property
    def is_precise(self) -> bool:
        return self.precision == "instant"

    @property
    def span(self) -> timedelta:
        """How long the day, month or year lasts on the UTC calendar (nothing for an instant)."""
        if self.precision == "day":
            return timedelta(days=1)
        if self.precision == "month":
            return timedelta(days=_days_in(self.start.year, self.start.month))
        if self.precision == "year":
            return timedelta(days=366 if isleap(self.start.year) else 365)
        return timedelta(0)

    @property
    def last(self) -> datetime:
        """The last moment it covers on the UTC calendar (a microsecond before the next day,
        month or year); the calendar's last for one that ends past it."""
        if self.is_precise:
            return self.start
        return _shifted(self.start, self.span - timedelta(microseconds=1))

    @property
    def earliest(self) -> datetime:
        """The first moment it may be (a date began up to `DATE_OFFSET_SLACK` early)."""
        if self.is_precise:
            return self.start
        return _shifted(self.start, -DATE_OFFSET_SLACK)

    @property
    def latest(self) -> datetime:
        """The last moment it may be (a date ends up to `DATE_END_SLACK` late)."""
        return self.last if self.is_precise else _shifted(self.last, DATE_END_SLACK)


def _shifted(moment: datetime, by: timedelta) -> datetime:
    try:
        return moment + by
    except OverflowError:  # 9999-12-31, an open end's usual stand-in, or year 1
        return (datetime.max if by > timedelta(0) else datetime.min).replace(tzinfo=UTC)


def may_coincide(one: Moment, other: Moment) -> bool:
    """Whether two moments may be the same: equal, or one a date (which states no time of day
    nor offset) whose day, in some timezone, holds the other's time."""
    if one.precision == other.precision:
        return one.start == other.start
    if not one.is_precise and not other.is_precise:  # a day of a month, a month of a year
        return one.start - other.start < other.span and other.start - one.start < one.span
    day, instant = (one, other) if not one.is_precise else (other, one)
    # as differences, so that no bound of the calendar can overflow them
    return -DATE_OFFSET_SLACK <= instant.start - day.start < day.span + DATE_END_SLACK


def may_precede(start: Moment, end: Moment) -> bool:
    """Whether a time that began at `start` may have ended at `end` (all of it, for a date):
    against a dateTime, a start date may have begun up to `DATE_OFFSET_SLACK` before its
    midnight UTC, and an end date lasted up to `DATE_END_SLACK` past its last moment UTC."""
    slack = timedelta(0)
    if start.is_precise != end.is_precise:
        slack = DATE_END_SLACK if start.is_precise else DATE_OFFSET_SLACK
    # as a difference: no bound of the calendar (year 1, 9999) can overflow it
    return start.start - end.last <= slack


def is_after(moment: Moment, as_of: datetime) -> bool:
    """Whether `moment` began after `as_of` everywhere on Earth: a date east of UTC begins
    before its midnight UTC, so today's date there is not after now."""
    # as a difference, so that no bound of the calendar (year 1) can overflow it
    slack = timedelta(0) if moment.is_precise else DATE_OFFSET_SLACK
    return moment.start - as_of > slack
