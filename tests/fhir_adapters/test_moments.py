"""The last moment a FHIR JSON time may stand for."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fhir_adapters.moments import latest_moment


@pytest.mark.parametrize(
    "text, last",
    [
        ("2024-05-01T09:00:00Z", datetime(2024, 5, 1, 9, tzinfo=UTC)),
        ("2024-05-01T09:00:00+02:00", datetime(2024, 5, 1, 7, tzinfo=UTC)),
        ("2024-05-01T09:00:00", datetime(2024, 5, 1, 9, tzinfo=UTC)),  # no offset: UTC
        ("2024-05-01", datetime(2024, 5, 2, 11, 59, 59, 999999, tzinfo=UTC)),  # -12:00 ends last
        ("2024-05", datetime(2024, 6, 1, 11, 59, 59, 999999, tzinfo=UTC)),
        ("2024", datetime(2025, 1, 1, 11, 59, 59, 999999, tzinfo=UTC)),
        ("9999-12-31", datetime.max.replace(tzinfo=UTC)),
    ],
)
def test_the_last_moment_of_each_kind_of_time(text: str, last: datetime) -> None:
    assert latest_moment(text) == last


@pytest.mark.parametrize("value", [None, 3, "", "yesterday", "2024-13-01", "2024-02-30T00:00:00Z"])
def test_what_is_not_a_time_has_none(value: object) -> None:
    assert latest_moment(value) is None
