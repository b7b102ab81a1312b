"""The service on values that cannot be trusted: keys repeated in the request body or in what
fhirServer sends, and quantities that cannot be (a negative concentration)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from fhir_adapters.cds_hooks.config import FhirClientConfig
from fhir_adapters.cds_hooks.evaluation import evaluate_with_library
from fhir_adapters.cds_hooks.fhir_client import FetchError, FhirClient, FhirServer
from fhir_adapters.cds_hooks.prefetch import prefetch_templates

from .support import PATIENTS, LiveServer, ServerFactory, hook_request, matches, packaged, searchset

SERVICE = "/cds-services/calf-fasciculation"


def post_text(server: LiveServer, text: str) -> httpx.Response:
    headers = {**server.auth(SERVICE), "Content-Type": "application/json"}
    return httpx.post(server.url + SERVICE, content=text.encode(), headers=headers, timeout=20)


def prefetched(patient: str) -> dict[str, Any]:
    """`patient`'s resources as an EHR prefetches them for the real ruleset: each advertised
    search's matches, by resource type and code."""
    found: dict[str, Any] = {}
    for key, template in prefetch_templates(packaged("calf-fasciculation")).items():
        found[key] = searchset([r for r in PATIENTS[patient] if matches(template, r)])
    return found


def body_with_potassium(value: str) -> str:
    """A call for patient `pr` (twitching, potassium 2.2 yesterday, 4.1 twenty days ago) whose
    potassium of yesterday is written as `"value": <value>`."""
    text = json.dumps(hook_request("pr", prefetch=prefetched("pr")))
    assert text.count('"value": 2.2') == 1
    return text.replace('"value": 2.2', f'"value": {value}')


def real_service(serve: ServerFactory) -> LiveServer:
    return serve(evaluate=evaluate_with_library, rulesets=[packaged("calf-fasciculation")])


def cards_of(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    cards: list[dict[str, Any]] = response.json()["cards"]
    return cards


def test_the_real_engine_reads_the_potassium_the_others_change(serve: ServerFactory) -> None:
    server = real_service(serve)
    [card] = cards_of(post_text(server, body_with_potassium("2.2")))
    assert card["indicator"] == "critical"


@pytest.mark.parametrize("values", ['2.2, "value": 4.5', '4.5, "value": 2.2'])
def test_a_value_given_twice_in_the_prefetch_is_left_out_with_a_warning(
    serve: ServerFactory, values: str
) -> None:
    server = real_service(serve)

    cards = cards_of(post_text(server, body_with_potassium(values)))

    assert all(card["indicator"] != "critical" for card in cards)  # 4.1 is the latest read
    details = " ".join(card.get("detail", "") for card in cards).replace("\\", "")  # markdown
    assert "Observation/pr-k1: valueQuantity.value appears twice" in details


def test_a_key_repeated_in_the_request_itself_is_400(serve: ServerFactory) -> None:
    server = real_service(serve)
    text = body_with_potassium("2.2").replace(
        '"hook": "patient-view"', '"hook": "patient-view", "hook": "order-sign"'
    )

    response = post_text(server, text)

    assert response.status_code == 400
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["diagnostics"] == (
        "the request body repeats a key, line 1: key 'hook' appears twice: which value is meant"
        " cannot be told"
    )


def fetch(text: str) -> Any:
    async def go() -> Any:
        def handler(_: httpx.Request) -> httpx.Response:
            return httpx.Response(200, content=text.encode())

        client = FhirClient(FhirClientConfig(), transport=httpx.MockTransport(handler))
        try:
            return await client.search(FhirServer("https://ehr.example/fhir", "t"), "Observation")
        finally:
            await client.aclose()

    return asyncio.run(go())


def test_fhir_server_repeating_a_bundle_key_is_a_fetch_error_naming_it() -> None:
    text = '{"resourceType": "Bundle", "type": "searchset", "entry": [], "entry": []}'
    with pytest.raises(FetchError, match="repeats a key on /Observation, line 1: key 'entry'"):
        fetch(text)


def test_fhir_server_repeating_a_key_in_a_resource_leaves_that_resource_marked() -> None:
    from fhir_adapters.jsontext import RepeatedKeys

    text = (
        '{"resourceType": "Bundle", "type": "searchset", "entry": [{"resource":'
        ' {"resourceType": "Observation", "id": "k", "id": "j"}}]}'
    )
    [resource] = fetch(text)
    assert isinstance(resource, RepeatedKeys) and resource.problems == ("id appears twice",)


@pytest.mark.parametrize("value", ["-2.2", "-0.0"])
def test_a_negative_potassium_in_the_prefetch_is_left_out_with_a_warning(
    serve: ServerFactory, value: str
) -> None:
    server = real_service(serve)

    cards = cards_of(post_text(server, body_with_potassium(value)))

    assert all(card["indicator"] != "critical" for card in cards)
    assert all("Potassium -" not in card["summary"] for card in cards)
    details = " ".join(card.get("detail", "") for card in cards).replace("\\", "")
    shown = value.removesuffix(".0")
    assert (
        f"Observation/pr-k1: value {shown} mmol/L is negative, which a substance concentration"
        " cannot be" in details
    )
