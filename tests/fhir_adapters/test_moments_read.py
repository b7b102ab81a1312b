"""FHIR time values read as moments with their precision, by the one parser every reader uses."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from engine.clock import Moment, may_coincide, may_precede
from fhir_adapters.moments import read, read_text


@pytest.mark.parametrize(
    "value, start, precision",
    [
        (datetime(2024, 5, 1, 9, tzinfo=UTC), datetime(2024, 5, 1, 9, tzinfo=UTC), "instant"),
        (datetime(2024, 5, 1, 9), datetime(2024, 5, 1, 9, tzinfo=UTC), "instant"),  # no offset
        (date(2024, 5, 1), datetime(2024, 5, 1, tzinfo=UTC), "day"),
        ("2024-05", datetime(2024, 5, 1, tzinfo=UTC), "month"),
        ("2024", datetime(2024, 1, 1, tzinfo=UTC), "year"),
    ],
)
def test_each_kind_of_time_keeps_its_precision(
    value: object, start: datetime, precision: str
) -> None:
    assert read(value) == Moment(start, precision)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [None, 3, "", "yesterday", "2024-13", "2024-05-01"])
def test_what_the_models_do_not_hold_as_a_time_is_none(value: object) -> None:
    assert read(value) is None  # a full date arrives as a date, never as text


def test_json_text_reads_as_the_models_would() -> None:
    assert read_text("2024-05-01") == read(date(2024, 5, 1))
    assert read_text("2024-05-01T09:00:00+02:00") == Moment(datetime(2024, 5, 1, 7, tzinfo=UTC))
    assert read_text("2024-02") == read("2024-02")
    assert read_text("2024-02-30") is None


@pytest.mark.parametrize(
    "value, last",
    [
        (date(2024, 2, 29), datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC)),
        ("2024-02", datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC)),
        ("2024", datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
        (date(9999, 12, 31), datetime.max.replace(tzinfo=UTC)),
    ],
)
def test_a_date_covers_all_of_its_day_month_or_year(value: object, last: datetime) -> None:
    found = read(value)
    assert found is not None and found.last == last


def test_a_day_of_a_month_may_coincide_with_it() -> None:
    month, day = read("2024-02"), read(date(2024, 2, 29))
    assert month is not None and day is not None
    assert may_coincide(month, day) and may_coincide(day, month)
    other = read(date(2024, 3, 1))
    assert other is not None and not may_coincide(month, other)


@pytest.mark.parametrize(
    "start, end, in_order",
    [
        (date(2024, 5, 2), datetime(2024, 5, 1, 10, tzinfo=UTC), True),  # began at +14:00
        (date(2024, 5, 2), datetime(2024, 5, 1, 9, 59, tzinfo=UTC), False),
        (datetime(2024, 5, 2, 11, 59, tzinfo=UTC), date(2024, 5, 1), True),  # ended at -12:00
        (datetime(2024, 5, 2, 12, 1, tzinfo=UTC), date(2024, 5, 1), False),
        (date(2024, 5, 2), date(2024, 5, 1), False),
    ],
)
def test_a_start_may_precede_an_end_by_the_offsets_a_date_leaves_open(
    start: object, end: object, in_order: bool
) -> None:
    first, last = read(start), read(end)
    assert first is not None and last is not None
    assert may_precede(first, last) is in_order
