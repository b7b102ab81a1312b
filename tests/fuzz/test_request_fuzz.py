"""CDS Hooks request bodies with mutated real FHIR in their prefetch, through the service
in-process with the real engine (authentication off, no FHIR server reachable): a 2xx, or a 4xx
whose body is an OperationOutcome; never a 5xx. The same request gives the same cards, whatever
the order of the prefetched entries."""

from __future__ import annotations

import asyncio
import json
import random
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import engine
from fhir_adapters.cds_hooks.app import create_app
from fhir_adapters.cds_hooks.config import ServiceConfig

from .mutations import has_lone_surrogate, mutated, mutated_bundles, odd_values

SERVICE = "/cds-services/calf-fasciculation"
SETTINGS = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class Client:
    """The app called in-process through httpx's ASGI transport, on one event loop."""

    def __init__(self, app: Any) -> None:
        self.loop = asyncio.new_event_loop()
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self.http = httpx.AsyncClient(transport=transport, base_url="http://vigil.test")

    def post(self, path: str, content: bytes, headers: dict[str, str]) -> httpx.Response:
        return self.loop.run_until_complete(self.http.post(path, content=content, headers=headers))

    def close(self) -> None:
        self.loop.run_until_complete(self.http.aclose())
        self.loop.close()


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with tempfile.TemporaryDirectory() as folder:
        config = ServiceConfig(database=Path(folder) / "vigil.sqlite3", insecure_dev=True)
        offline = httpx.MockTransport(lambda request: httpx.Response(503))
        app = create_app(
            config, rulesets=[engine.load_ruleset("calf-fasciculation")], fhir_transport=offline
        )
        http = Client(app)
        try:
            yield http
        finally:
            http.close()


def request_for(bundle: dict[str, Any], patient: str = "dana") -> dict[str, Any]:
    return {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/u1", "patientId": patient},
        "prefetch": {"observations": bundle, "conditions": None},
    }


def searchset(bundle: dict[str, Any]) -> dict[str, Any]:
    return {**bundle, "type": "searchset"}


@st.composite
def mutated_requests(draw: st.DrawFn) -> Any:
    bundle = searchset(draw(mutated_bundles()))
    body = request_for(bundle, draw(st.sampled_from(["dana", "ben", "p1"])))
    if draw(st.integers(0, 3)) == 0:  # the request's own fields too, now and then
        body = draw(mutated(body, most=2))
    if draw(st.integers(0, 5)) == 0:
        body["prefetch"] = {"observations": draw(odd_values)}
    return body


def post(client: Client, body: Any) -> httpx.Response:
    response = client.post(
        SERVICE,
        content=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code < 500, response.text
    if response.status_code >= 300:
        outcome = response.json()
        assert outcome["resourceType"] == "OperationOutcome", response.text
        assert all("\n" not in issue.get("diagnostics", "") for issue in outcome["issue"])
    return response


@SETTINGS
@given(mutated_requests())
def test_a_mutated_request_is_answered_2xx_or_4xx_with_an_outcome(
    client: Client, body: Any
) -> None:
    # Issue 12, defect 8 (a lone surrogate in the prefetch answers 500) is being fixed in the
    # service: such bodies are left to its regression test.
    assume(not has_lone_surrogate(body))
    post(client, body)


def _cards(response: httpx.Response) -> object:
    if response.status_code != 200:
        return response.status_code, response.json()["issue"][0].get("code")
    cards = response.json()["cards"]
    return sorted(
        (c["indicator"], c["summary"], json.dumps(c.get("suggestions", [{}])[0].get("label")))
        for c in cards
    )


@SETTINGS
@given(mutated_bundles(), st.randoms(use_true_random=False))
def test_the_same_request_gets_the_same_cards_in_any_entry_order(
    client: Client, bundle: dict[str, Any], rnd: random.Random
) -> None:
    assume(not has_lone_surrogate(bundle))  # defect 8, as above
    entries = bundle.get("entry")
    assume(isinstance(entries, list))
    # Only distinct resources: copies are being unified across paths (issue 12, defect 1).
    keys = [
        json.dumps([e["resource"].get("resourceType"), e["resource"].get("id")])
        for e in entries
        if isinstance(e, dict) and isinstance(e.get("resource"), dict)
    ]
    assume(len(keys) == len(set(keys)))
    first = _cards(post(client, request_for(searchset(bundle))))
    assert _cards(post(client, request_for(searchset(bundle)))) == first
    shuffled = {**searchset(bundle), "entry": rnd.sample(entries, len(entries))}
    assert _cards(post(client, request_for(shuffled))) == first
