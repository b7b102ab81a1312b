"""Clinical time in the engine: imprecise moments, calendar dates and ages."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from engine.clock import (
    Duration,
    Moment,
    completed_years,
    end_of_day,
    is_after,
    may_coincide,
    zone_of,
)
from engine.records import Record

DAY = Moment(datetime(2026, 3, 1, tzinfo=UTC), "day")


def test_a_date_is_uncertain_by_the_widest_offsets() -> None:
    assert not DAY.is_precise
    assert DAY.earliest == datetime(2026, 2, 28, 10, tzinfo=UTC)  # began at +14:00
    assert DAY.latest == datetime(2026, 3, 2, 11, 59, 59, 999999, tzinfo=UTC)  # ended at -12:00


def test_an_instant_is_its_own_interval() -> None:
    moment = Moment(datetime(2026, 3, 1, 9, tzinfo=UTC))
    assert moment.is_precise
    assert moment.earliest == moment.latest == moment.start


def test_a_record_has_the_precision_of_its_date_only_flag() -> None:
    time = datetime(2026, 3, 1, tzinfo=UTC)
    assert Record("k", "Observation/a", time=time, date_only=True).moment == DAY
    assert Record("k", "Observation/a", time=time).moment == Moment(time)
    assert Record("k", "Observation/a").moment is None


@pytest.mark.parametrize(
    "timed, coincide",
    [
        (datetime(2026, 2, 28, 10, tzinfo=UTC), True),  # the date's first moment at +14:00
        (datetime(2026, 2, 28, 9, 59, tzinfo=UTC), False),
        (datetime(2026, 3, 2, 11, 59, tzinfo=UTC), True),  # its last at -12:00
        (datetime(2026, 3, 2, 12, tzinfo=UTC), False),
    ],
)
def test_a_date_may_coincide_with_a_time_it_holds_somewhere(
    timed: datetime, coincide: bool
) -> None:
    assert may_coincide(DAY, Moment(timed)) is coincide
    assert may_coincide(Moment(timed), DAY) is coincide


def test_moments_of_one_precision_coincide_only_when_equal() -> None:
    assert may_coincide(DAY, DAY)
    assert not may_coincide(DAY, Moment(DAY.start + timedelta(days=1), "day"))
    assert not may_coincide(Moment(DAY.start), Moment(DAY.start + timedelta(seconds=1)))


def test_a_date_is_after_now_only_once_it_has_begun_nowhere() -> None:
    now = datetime(2026, 2, 28, 10, tzinfo=UTC)  # already 1 March at +14:00
    assert not is_after(DAY, now)
    assert is_after(DAY, now - timedelta(seconds=1))
    assert is_after(Moment(DAY.start), now)


def test_the_end_of_a_local_day() -> None:
    london = zone_of("Europe/London")
    end = end_of_day(datetime(2026, 7, 1, 23, 30, tzinfo=UTC), london)  # 2 July, 00:30 BST
    assert end == datetime(2026, 7, 2, 23, 59, 59, tzinfo=london)


@pytest.mark.parametrize(
    "born, on, years",
    [
        (date(1956, 3, 1), date(2026, 2, 28), 69),
        (date(1956, 3, 1), date(2026, 3, 1), 70),
        (date(1956, 2, 29), date(2026, 2, 28), 69),  # a leap-day birthday counts from 1 March
        (date(1956, 2, 29), date(2026, 3, 1), 70),
    ],
)
def test_an_age_counts_completed_years(born: date, on: date, years: int) -> None:
    assert completed_years(born, on) == years


@pytest.mark.parametrize("length", [Duration(30, "days"), Duration(12, "months")])
def test_a_shift_past_the_calendars_first_day_stops_inside_it(length: Duration) -> None:
    early = datetime(1, 1, 5, tzinfo=UTC)
    start = length.before(early, zone_of("America/New_York"))
    assert start <= early
    assert start.astimezone(zone_of("America/New_York")).year == 1
    late = datetime(9999, 12, 28, tzinfo=UTC)
    assert length.after(late) >= late
