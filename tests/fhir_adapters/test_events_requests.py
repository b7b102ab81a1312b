"""A ServiceRequest as an event: a proposal is no order, and the occurrence dates a request
without `authoredOn` (through the library path, `patient_records`)."""

from __future__ import annotations

import pytest

from .shapes import bundle, read
from .test_events import AT, WHEN, service_request


@pytest.mark.parametrize("intent", ["proposal", "option"])
def test_a_proposed_service_request_does_not_count(intent: str) -> None:
    records, warnings = read(bundle(service_request(intent=intent)))
    assert records == []
    assert warnings == [
        f"ServiceRequest/sr: intent {intent!r} (not an order) does not count for renal order: "
        "left out"
    ]


def test_a_service_request_without_authored_on_is_dated_by_its_occurrence() -> None:
    records, warnings = read(bundle(service_request(authoredOn=None, occurrenceDateTime=WHEN)))
    assert warnings == []
    assert [r.time for r in records] == [AT]


def test_a_service_request_is_dated_by_its_occurrence_period_start() -> None:
    period = {"start": WHEN, "end": "2026-03-01T10:00:00Z"}
    records, warnings = read(bundle(service_request(authoredOn=None, occurrencePeriod=period)))
    assert warnings == []
    assert [r.time for r in records] == [AT]
