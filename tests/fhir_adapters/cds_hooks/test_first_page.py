"""When a first page sorted newest first holds all that the rules read of a concept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from fhir_adapters.cds_hooks.first_page import MARGIN, reaches_back

NOW = datetime(2024, 6, 1, 12, tzinfo=UTC)
LOOKBACK = timedelta(days=30)


def obs(**effective: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "status": "final", **effective}


def at(moment: datetime) -> dict[str, Any]:
    return obs(effectiveDateTime=moment.isoformat())


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def test_a_page_whose_oldest_entry_ended_before_the_lookback_and_margin_is_enough() -> None:
    page = [at(days_ago(d)) for d in (1, 10, 40)]
    assert reaches_back(page, LOOKBACK, NOW)


@pytest.mark.parametrize(
    "oldest",
    [
        at(days_ago(29)),  # inside the lookback
        at(NOW - LOOKBACK - MARGIN + timedelta(seconds=1)),  # a date beyond it could still count
        obs(effectiveDateTime=(NOW - LOOKBACK - timedelta(days=1)).date().isoformat()),
    ],
    ids=["inside", "within the margin", "a date a day before"],
)
def test_a_page_that_may_not_reach_back_is_not_enough(oldest: dict[str, Any]) -> None:
    assert not reaches_back([at(days_ago(1)), oldest], LOOKBACK, NOW)


def test_a_page_that_is_not_newest_first_is_not_enough() -> None:
    page = [at(days_ago(40)), at(days_ago(1)), at(days_ago(50))]  # _sort ignored by the server
    assert not reaches_back(page, LOOKBACK, NOW)


def test_a_page_sorted_oldest_first_in_small_steps_is_not_enough() -> None:
    # each entry a day after the one before it: within the margin of its neighbour, but the
    # later pages of a search sorted this way hold what is newer, the lookback's values too
    page = [at(days_ago(d)) for d in range(100, 90, -1)]
    assert not reaches_back(page, LOOKBACK, NOW)
    assert reaches_back(page[::-1], LOOKBACK, NOW)


def test_entries_without_a_time_the_rules_read_do_not_count_as_reaching_back() -> None:
    undated = [obs(), obs(effectiveTiming={}), obs(effectivePeriod={"start": "2020-01-01"})]
    assert not reaches_back(undated, LOOKBACK, NOW)
    assert reaches_back([at(days_ago(1)), *undated, at(days_ago(40))], LOOKBACK, NOW)


def test_a_period_counts_by_its_end_and_other_resources_by_nothing() -> None:
    ended = obs(effectivePeriod={"start": "2024-01-01", "end": days_ago(40).isoformat()})
    assert reaches_back([ended], LOOKBACK, NOW)
    ongoing = obs(effectivePeriod={"start": "2024-01-01", "end": days_ago(3).isoformat()})
    assert not reaches_back([ongoing], LOOKBACK, NOW)
    condition = {"resourceType": "Condition", "recordedDate": "2020-01-01"}
    assert not reaches_back([condition], LOOKBACK, NOW)


def test_an_end_at_the_calendars_edges_does_not_overflow() -> None:
    page = [obs(effectiveDateTime="9999-12-31"), obs(effectiveDateTime="0001-01-01")]
    assert reaches_back(page, LOOKBACK, NOW)  # newest first, and year 1 is long before
    assert not reaches_back(page[:1], LOOKBACK, NOW)
