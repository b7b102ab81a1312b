"""Summaries relative to the evaluation time: what counts as known at `as_of`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import engine
from engine import Quantity, Record
from tests.engine.frozen import CALF_1

# 09:00 on 1 March in Sydney (+11:00): there, 2026-03-01 is today
NOW = datetime(2026, 2, 28, 22, tzinfo=UTC)


def evaluate(*records: Record) -> engine.Evaluation:
    evaluator = engine.Evaluator(engine.load_ruleset(CALF_1))
    return evaluator.evaluate(records, now=NOW)


def potassium(time: datetime, *, date_only: bool) -> Record:
    return Record(
        "potassium", "Observation/k", time, value=Quantity(2.1, "mmol/L"), date_only=date_only
    )


TWITCHING = Record("fasciculation", "Observation/t", NOW - timedelta(days=2))


def test_a_date_that_has_begun_somewhere_by_now_is_not_after_now() -> None:
    # a date states no offset: 2026-03-01 (midnight UTC) is already today east of UTC
    today_in_sydney = potassium(datetime(2026, 3, 1, tzinfo=UTC), date_only=True)
    result = evaluate(TWITCHING, today_in_sydney)
    assert [w.message for w in result.warnings] == []
    assert result.escalation == "urgent"


@pytest.mark.parametrize(
    "record",
    [
        potassium(datetime(2026, 3, 2, tzinfo=UTC), date_only=True),  # begun nowhere yet
        potassium(NOW + timedelta(seconds=1), date_only=False),  # a time: no slack
    ],
)
def test_a_time_after_now_is_still_left_out_with_a_warning(record: Record) -> None:
    result = evaluate(TWITCHING, record)
    assert [w.message for w in result.warnings] == [
        f"potassium is dated {record.time.isoformat() if record.time else ''}, after now: left out"
    ]
    assert result.escalation == "self-care"


def at(time: datetime, value: float, source: str, *, date_only: bool = False) -> Record:
    return Record("potassium", source, time, value=Quantity(value, "mmol/L"), date_only=date_only)


def latest_warnings(*records: Record) -> list[str]:
    result = evaluate(TWITCHING, *records)
    return [w.message for w in result.warnings if "disagree" in w.message]


def test_a_date_and_a_time_on_that_day_that_disagree_are_a_warning() -> None:
    # the date gives no time of day: which result is the latest is the data's ambiguity
    day = datetime(2026, 2, 27, tzinfo=UTC)
    records = (
        at(day, 2.1, "Observation/dated", date_only=True),
        at(day + timedelta(hours=8), 4.1, "Observation/timed"),
    )
    assert latest_warnings(*records) == [
        "potassium: results that may be at the same time (a date gives no time of day) disagree"
        " (2.1 mmol/L (Observation/dated), 4.1 mmol/L (Observation/timed));"
        " Observation/timed is read as the latest"
    ]


@pytest.mark.parametrize(
    "records",
    [
        (  # two dates: no offset slack, and the later date is the latest
            at(datetime(2026, 2, 26, tzinfo=UTC), 2.1, "Observation/a", date_only=True),
            at(datetime(2026, 2, 27, tzinfo=UTC), 4.1, "Observation/b", date_only=True),
        ),
        (  # a time that is before the date began anywhere
            at(datetime(2026, 2, 26, 9, tzinfo=UTC), 2.1, "Observation/a"),
            at(datetime(2026, 2, 27, tzinfo=UTC), 4.1, "Observation/b", date_only=True),
        ),
        (  # a time after the date has ended everywhere (-12:00 is the westmost offset)
            at(datetime(2026, 2, 26, tzinfo=UTC), 2.1, "Observation/a", date_only=True),
            at(datetime(2026, 2, 27, 13, tzinfo=UTC), 4.1, "Observation/b"),
        ),
        (  # the same value
            at(datetime(2026, 2, 27, tzinfo=UTC), 4.1, "Observation/a", date_only=True),
            at(datetime(2026, 2, 27, 8, tzinfo=UTC), 4.1, "Observation/b"),
        ),
    ],
)
def test_results_in_a_known_order_are_no_warning(records: tuple[Record, ...]) -> None:
    assert latest_warnings(*records) == []


def test_a_date_begun_somewhere_but_after_now_in_utc_spans_no_negative_time() -> None:
    ruleset = engine.load_ruleset(CALF_1)
    today_in_sydney = Record(
        "fasciculation", "Observation/t", datetime(2026, 3, 1, tzinfo=UTC), date_only=True
    )
    summaries, _ = engine.summary.summarise([today_in_sydney], ruleset, NOW)
    assert summaries["fasciculation"].span_days == 0.0
