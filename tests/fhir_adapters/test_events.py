"""Procedures, Encounters and ServiceRequests as records of event concepts, read through the
library path (`patient_records`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from .shapes import LOINC, SCT, bundle, coded, read

WHEN = "2026-02-20T10:00:00Z"
AT = datetime(2026, 2, 20, 10, tzinfo=UTC)


def procedure(pid: str = "d", code: str = "302497006", **fields: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Procedure",
        "id": pid,
        "status": "completed",
        "code": coded(SCT, code),
        "subject": {"reference": "Patient/p"},
        "performedDateTime": WHEN,
    }
    resource.update(fields)
    return {k: v for k, v in resource.items() if v is not None}


def service_request(**fields: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": "sr",
        "status": "active",
        "intent": "order",
        "code": coded(LOINC, "24362-6"),
        "subject": {"reference": "Patient/p"},
        "authoredOn": WHEN,
    }
    resource.update(fields)
    return {k: v for k, v in resource.items() if v is not None}


def encounter(**fields: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": "e",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": {"reference": "Patient/p"},
        "period": {"start": WHEN, "end": "2026-02-20T11:00:00Z"},
    }
    resource.update(fields)
    return {k: v for k, v in resource.items() if v is not None}


def test_a_procedure_is_an_event_at_its_performed_time() -> None:
    records, warnings = read(bundle(procedure()))
    assert warnings == []
    [record] = records
    assert (record.concept, record.time, record.status) == ("dialysis", AT, "completed")
    assert (record.source, record.code) == ("Procedure/d", "sct#302497006")


def test_a_procedure_in_progress_over_a_period_is_ongoing() -> None:
    period = {"start": WHEN}
    records, warnings = read(
        bundle(procedure(status="in-progress", performedDateTime=None, performedPeriod=period))
    )
    assert warnings == []
    [record] = records
    assert (record.time, record.end, record.ongoing) == (AT, None, True)


def test_a_procedure_without_a_date_is_left_out_and_named() -> None:
    records, warnings = read(bundle(procedure(performedDateTime=None)))
    assert records == []
    assert warnings == [
        "Procedure/d: no date: dialysis cannot be placed in time, so it is left out"
    ]


@pytest.mark.parametrize("status", ["not-done", "preparation", "stopped", "entered-in-error"])
def test_a_procedure_in_a_status_that_does_not_count_is_named(status: str) -> None:
    records, warnings = read(bundle(procedure(status=status)))
    assert records == []
    assert warnings == [f"Procedure/d: status {status!r} does not count for dialysis: left out"]


def test_a_concepts_own_statuses_replace_the_defaults() -> None:
    # ecg_done counts completed procedures only
    records, warnings = read(bundle(procedure(code="268400002", status="in-progress")))
    assert records == []
    assert warnings == ["Procedure/d: status 'in-progress' does not count for ecg done: left out"]


def test_a_service_request_is_an_event_at_its_authored_time() -> None:
    records, warnings = read(bundle(service_request()))
    assert warnings == []
    [record] = records
    assert (record.concept, record.time, record.status) == ("renal_order", AT, "active")
    assert not record.ongoing


def test_a_revoked_service_request_does_not_count() -> None:
    records, warnings = read(bundle(service_request(status="revoked")))
    assert records == []
    assert warnings == [
        "ServiceRequest/sr: status 'revoked' does not count for renal order: left out"
    ]


def test_a_service_request_without_authored_on_is_named() -> None:
    records, warnings = read(bundle(service_request(authoredOn=None)))
    assert records == []
    assert warnings == [
        "ServiceRequest/sr: no date: renal order cannot be placed in time, so it is left out"
    ]


@pytest.mark.parametrize(
    "codes",
    [{"type": [coded(SCT, "394591006")]}, {"serviceType": coded(SCT, "394591006")}],
)
def test_an_encounter_is_read_by_its_type_or_its_service(codes: dict[str, Any]) -> None:
    records, warnings = read(bundle(encounter(**codes)))
    assert warnings == []
    [record] = records
    assert (record.concept, record.time) == ("neurology_visit", AT)
    assert record.end == datetime(2026, 2, 20, 11, tzinfo=UTC)


def test_an_event_concept_reads_only_its_own_resource_type() -> None:
    # the dialysis code as a ServiceRequest is not a dialysis Procedure
    records, warnings = read(bundle(service_request(code=coded(SCT, "302497006"))))
    assert (records, warnings) == ([], [])


def test_an_event_code_on_an_observation_is_not_the_event() -> None:
    observation = {
        "resourceType": "Observation",
        "id": "o",
        "status": "final",
        "code": coded(SCT, "302497006"),
        "subject": {"reference": "Patient/p"},
        "effectiveDateTime": WHEN,
    }
    records, warnings = read(bundle(observation))
    assert (records, warnings) == ([], [])
