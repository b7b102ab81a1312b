"""Reading from fhirServer: bounded pages, the token only sent to fhirServer, clear failures."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

import fhir_adapters.cds_hooks as cds_hooks
from fhir_adapters.cds_hooks.config import FhirClientConfig
from fhir_adapters.cds_hooks.fhir_client import FetchError, FhirClient, FhirServer
from fhir_adapters.cds_hooks.models import HookRequest
from fhir_adapters.cds_hooks.prefetch import PrefetchUnavailable, fill, gather

BASE = "https://ehr.example/fhir"
SERVER = FhirServer(BASE, "access-token")


def page(n: int, next_url: str | None) -> dict[str, Any]:
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": {"resourceType": "Observation", "id": f"o{n}"}}],
    }
    if next_url:
        bundle["link"] = [{"relation": "next", "url": next_url}]
    return bundle


class Endless:
    """A server whose every page has a next page; records what it was sent."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        n = len(self.requests)
        return httpx.Response(200, json=page(n, f"{BASE}/Observation?page={n + 1}"))


def search(handler: Any, query: str = "Observation?patient=p", pages: int = 3) -> Any:
    async def go() -> Any:
        client = FhirClient(
            FhirClientConfig(max_pages=pages), transport=httpx.MockTransport(handler)
        )
        try:
            return await client.search(SERVER, query)
        finally:
            await client.aclose()

    return asyncio.run(go())


class Pages(Endless):
    """A server with `count` pages."""

    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = count

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        n = len(self.requests)
        more = f"{BASE}/Observation?page={n + 1}" if n < self.count else None
        return httpx.Response(200, json=page(n, more))


def test_every_page_is_read_with_the_token() -> None:
    server = Pages(3)
    resources = search(server, pages=3)
    assert [r["id"] for r in resources] == ["o1", "o2", "o3"]
    assert all(r.headers["authorization"] == "Bearer access-token" for r in server.requests)


def test_a_search_longer_than_the_page_limit_fails_instead_of_being_cut_short() -> None:
    # the pages left unread could hold the value that escalates
    server = Endless()
    with pytest.raises(FetchError, match="goes on past 3 pages on /Observation"):
        search(server, pages=3)
    assert len(server.requests) == 3


def test_a_next_link_elsewhere_is_refused_before_any_request() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=page(1, "https://evil.example/fhir/Observation?p=2"))

    with pytest.raises(FetchError, match="outside fhirServer"):
        search(handler)
    assert [str(r.url.host) for r in sent] == ["ehr.example"]


def test_a_look_alike_host_is_not_fhir_server() -> None:
    assert not SERVER.owns("https://ehr.example/fhirevil/Observation")
    assert SERVER.owns(f"{BASE}/Observation?x=1")


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (httpx.Response(401), "answered 401 on /Observation"),
        (httpx.Response(200, content=b"<html>"), "not JSON"),
        (httpx.Response(200, json={"resourceType": "Patient"}), "sent Patient, not a Bundle"),
        (
            httpx.Response(
                200,
                json={
                    "resourceType": "Bundle",
                    "entry": [{"resource": {"resourceType": "OperationOutcome"}}],
                },
            ),
            "OperationOutcome",
        ),
    ],
)
def test_failures_are_fetch_errors(response: httpx.Response, message: str) -> None:
    with pytest.raises(FetchError, match=message):
        search(lambda request: response)


@pytest.mark.parametrize(
    ("bundle", "message"),
    [
        ({"entry": 5}, "Bundle.entry is not a list"),
        ({"entry": ["x"]}, r"Bundle.entry\[0\] is not an object"),
        ({"entry": [{"resource": "x"}]}, r"Bundle.entry\[0\].resource is not an object"),
        ({"link": 5}, "Bundle.link is not a list"),
        ({"link": ["x"]}, r"Bundle.link\[0\] is not an object"),
        ({"link": [{"relation": "next"}]}, r"Bundle.link\[0\] is a next link without a url"),
    ],
)
def test_a_malformed_page_is_a_fetch_error(bundle: dict[str, Any], message: str) -> None:
    response = httpx.Response(200, json={"resourceType": "Bundle", **bundle})
    with pytest.raises(FetchError, match="malformed Bundle on /Observation: " + message):
        search(lambda request: response)


def test_timeouts_are_fetch_errors() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(FetchError, match="timed out"):
        search(slow)


def test_fill_encodes_context_values() -> None:
    assert fill("Observation?patient={{context.patientId}}", {"patientId": "a&b"}) == (
        "Observation?patient=a%26b"
    )
    with pytest.raises(PrefetchUnavailable, match=r"context\.encounterId"):
        fill("Encounter/{{ context.encounterId }}", {})


def test_resources_found_under_two_keys_are_all_handed_on() -> None:
    """Copies are chosen among by `fhir_adapters.patients`, as for the CLI, not by gather."""
    obs = {"resourceType": "Observation", "id": "o1"}
    request = HookRequest.model_validate(
        {
            "hook": "patient-view",
            "hookInstance": "h",
            "context": {"patientId": "p", "userId": "u"},
            "prefetch": {"a": obs, "b": {"resourceType": "Bundle", "entry": [{"resource": obs}]}},
        }
    )

    async def go() -> Any:
        client = FhirClient(FhirClientConfig())
        try:
            return await gather(request, {"a": "Observation/o1", "b": "Observation?x=y"}, client)
        finally:
            await client.aclose()

    data = asyncio.run(go())
    assert data.resources == (obs, obs) and data.source == "prefetch"


def test_public_names_are_pinned() -> None:
    assert sorted(cds_hooks.__all__) == [
        "Card",
        "CardResponse",
        "DiscoveryResponse",
        "FeedbackRequest",
        "HookRequest",
        "Service",
    ]


def test_a_failing_page_is_named_by_its_path_however_its_link_spells_the_base() -> None:
    # the host in capitals and the default port written out: still under fhirServer
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("page") == "2":
            return httpx.Response(500)
        return httpx.Response(200, json=page(1, "https://EHR.example:443/fhir/Observation?page=2"))

    with pytest.raises(FetchError, match=r"^fhirServer answered 500 on /Observation$"):
        search(handler)
