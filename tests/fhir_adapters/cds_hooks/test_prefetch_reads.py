"""A read template (`Patient/{{context.patientId}}`): prefetched as the resource, or read from
fhirServer as one resource, not as a search Bundle; anything else is refused, naming the key."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from fhir_adapters.cds_hooks.config import FhirClientConfig
from fhir_adapters.cds_hooks.fhir_client import FetchError, FhirClient, FhirServer
from fhir_adapters.cds_hooks.models import HookRequest
from fhir_adapters.cds_hooks.prefetch import PrefetchInvalid, PrefetchUnavailable, gather

from .support import fhir_server, hook_request

BASE = "https://ehr.example/fhir"
TEMPLATES = {"patient": "Patient/{{context.patientId}}"}
PATIENT = {"resourceType": "Patient", "id": "p1", "birthDate": "1950-01-01"}


def served(body: dict[str, Any], seen: list[str]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json=body)

    return httpx.MockTransport(handler)


def gathered(request: dict[str, Any], transport: httpx.MockTransport) -> Any:
    async def go() -> Any:
        client = FhirClient(FhirClientConfig(), transport=transport)
        try:
            return await gather(HookRequest.model_validate(request), TEMPLATES, client)
        finally:
            await client.aclose()

    return asyncio.run(go())


def test_an_absent_patient_key_is_read_from_fhir_server_as_the_patient() -> None:
    seen: list[str] = []
    data = gathered(hook_request("p1", **fhir_server(BASE)), served(PATIENT, seen))
    assert data.resources == (PATIENT,) and data.source == "fhirServer"
    assert seen == ["/fhir/Patient/p1"]


def test_a_read_answered_with_another_type_is_412_naming_it() -> None:
    outcome = {"resourceType": "OperationOutcome", "issue": []}
    with pytest.raises(PrefetchUnavailable, match="sent OperationOutcome, not a Patient"):
        gathered(hook_request("p1", **fhir_server(BASE)), served(outcome, []))


def test_the_client_reads_one_resource_of_the_type_named() -> None:
    async def go() -> Any:
        client = FhirClient(FhirClientConfig(), transport=served(PATIENT, []))
        try:
            return await client.read(FhirServer(BASE, "t"), "Patient/p1")
        finally:
            await client.aclose()

    assert asyncio.run(go()) == [PATIENT]


def test_a_prefetched_patient_is_used_as_it_is() -> None:
    data = gathered(hook_request("p1", prefetch={"patient": PATIENT}), served(PATIENT, []))
    assert data.resources == (PATIENT,) and data.source == "prefetch"


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ({"resourceType": "Observation", "id": "o1"}, "an Observation, not the Patient read"),
        ({"resourceType": "Bundle", "type": "searchset"}, "a Bundle, not the Patient read"),
    ],
)
def test_a_prefetched_patient_of_another_type_is_400_naming_the_key(
    value: dict[str, Any], said: str
) -> None:
    with pytest.raises(PrefetchInvalid, match=f"prefetch 'patient': {said}"):
        gathered(hook_request("p1", prefetch={"patient": value}), served(PATIENT, []))


def test_fetch_error_is_what_a_failed_read_raises() -> None:
    async def go() -> Any:
        client = FhirClient(FhirClientConfig(), transport=served({"resourceType": "Bundle"}, []))
        try:
            return await client.read(FhirServer(BASE, "t"), "Patient/p1")
        finally:
            await client.aclose()

    with pytest.raises(FetchError, match="sent Bundle, not a Patient, on /Patient/p1"):
        asyncio.run(go())
