"""A prefetch sent as its first page only, as the CDS Hooks sandbox sends it: a `next` link and
no fhirAuthorization. Enough for a concept whose lookback the page reaches back past; otherwise
a 412 that says what happened."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx

from engine.codes import Code
from engine.model import Concept, Ruleset
from fhir_adapters.cds_hooks.evaluation import evaluate_with_library
from fhir_adapters.cds_hooks.prefetch import fill

from .support import (
    ACCESS,
    LOINC,
    SCT,
    ServerFactory,
    free_port,
    hook_request,
    packaged,
    recent,
    ruleset,
    searchset,
)
from .test_service import checked, is_outcome, post, without_uuids

PATIENT = "p150"
POTASSIUM = [(LOINC, "2823-3"), (LOINC, "6298-4")]


def chart() -> list[dict[str, Any]]:
    """Potassium 2.3 yesterday, 149 normal values before it (one a day), and calf twitching
    two months ago: 150 potassium Observations and the twitching the rules need with them."""
    newest = recent(f"{PATIENT}-k1", PATIENT, POTASSIUM[0], 1, 2.3)
    older = [
        recent(f"{PATIENT}-k{day}", PATIENT, POTASSIUM[day % 2], day, 4.1) for day in range(2, 151)
    ]
    twitching = recent(f"{PATIENT}-f1", PATIENT, (SCT, "82470000"), 60)
    return [newest, *older, twitching]


def load(base: str, resources: list[dict[str, Any]]) -> None:
    entries = [
        {"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
        for r in [{"resourceType": "Patient", "id": PATIENT}, *resources]
    ]
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": entries}
    response = httpx.post(base, json=bundle, timeout=60)
    assert response.status_code == 200, response.text[:500]


def pages(base: str, template: str) -> list[dict[str, Any]]:
    """Every page the advertised query gives on the FHIR server, first page first."""
    found = [httpx.get(f"{base}/{fill(template, {'patientId': PATIENT})}", timeout=30).json()]
    while (url := next_url(found[-1])) is not None:
        found.append(httpx.get(url, timeout=30).json())
    return found


def next_url(page: dict[str, Any]) -> str | None:
    return next((k["url"] for k in page.get("link", []) if k["relation"] == "next"), None)


def test_first_pages_of_the_advertised_queries_give_the_cards_all_pages_give(
    serve: ServerFactory, sekmet: str
) -> None:
    load(sekmet, chart())
    server = serve(evaluate=evaluate_with_library, rulesets=[packaged("calf-fasciculation")])
    [service] = httpx.get(server.url + "/cds-services").json()["services"]
    results = {key: pages(sekmet, template) for key, template in service["prefetch"].items()}
    # the chart is longer than a page: at least one first page stops at 100 with a next link
    assert any(next_url(found[0]) and len(found[0]["entry"]) == 100 for found in results.values())
    first_pages = {key: found[0] for key, found in results.items()}
    everything = {
        key: searchset([e["resource"] for page in found for e in page.get("entry", [])])
        for key, found in results.items()
    }
    given_all = checked(post(server, hook_request(PATIENT, prefetch=everything)))
    given_first = checked(post(server, hook_request(PATIENT, prefetch=first_pages)))
    assert without_uuids(given_first) == without_uuids(given_all)
    [card] = given_first
    assert card["indicator"] == "critical"
    assert "2.3" in card["summary"]


def first_page(resources: list[dict[str, Any]]) -> dict[str, Any]:
    page = searchset(resources)
    page["link"] = [{"relation": "next", "url": "https://ehr.example.org/fhir/Observation?p=2"}]
    return page


def with_lookback() -> Ruleset:
    """The stand-in ruleset, its potassium read over the last 30 days."""
    stand_in = ruleset()
    codes = tuple(Code(*c) for c in POTASSIUM)
    potassium = Concept("potassium", codes, "mmol/L", lookback=timedelta(days=30))
    return replace(stand_in, concepts={**stand_in.concepts, "potassium": potassium})


NO_AUTHORIZATION = "the request gives no fhirAuthorization to read fhirServer with"


def test_a_first_page_inside_the_lookback_is_412_saying_so(serve: ServerFactory) -> None:
    server = serve(rulesets=[with_lookback()])
    today = [recent(f"pq-k{n}", "pq", POTASSIUM[0], 0, 4.1) for n in range(3)]
    body = hook_request(
        "pq",
        fhirServer="https://ehr.example.org/fhir",
        prefetch={"observations": None, "potassium": first_page(today), "conditions": None},
    )
    assert is_outcome(post(server, body), 412) == (
        "prefetch 'potassium' has more pages than the first (a next link), the first does not"
        f" reach back past the 30 days the rules read, and {NO_AUTHORIZATION}"
    )


def test_a_first_page_that_is_enough_is_used_when_fhir_server_cannot_be_read(
    serve: ServerFactory,
) -> None:
    # the same first page, sent with fhirAuthorization for a fhirServer that is down, is no
    # less enough than sent without it
    server = serve(rulesets=[with_lookback()])
    down = f"http://127.0.0.1:{free_port()}/fhir"
    potassium = [recent(f"pq-k{d}", "pq", POTASSIUM[0], d, 2.2 if d == 1 else 4.1) for d in (1, 40)]
    page = searchset(potassium)
    page["link"] = [{"relation": "next", "url": down + "/Observation?page=2"}]
    twitching = searchset([recent("pq-f1", "pq", (SCT, "82470000"), 3)])
    prefetch = {"observations": twitching, "potassium": page, "conditions": None}
    without = checked(post(server, hook_request("pq", fhirServer=down, prefetch=prefetch)))
    body = hook_request("pq", fhirServer=down, fhirAuthorization=ACCESS, prefetch=prefetch)
    assert without_uuids(checked(post(server, body))) == without_uuids(without)
    assert without[0]["indicator"] == "critical"


def test_a_first_page_sorted_oldest_first_is_412_not_read_as_enough(serve: ServerFactory) -> None:
    # a server that sorted by date ascending, whatever `_sort=-date` asked: the page is the
    # oldest potassium values, a day apart, and a low one from yesterday is on a later page
    server = serve(rulesets=[with_lookback()])
    oldest = [recent(f"pq-k{d}", "pq", POTASSIUM[0], d, 4.1) for d in range(100, 95, -1)]
    body = hook_request(
        "pq",
        fhirServer="https://ehr.example.org/fhir",
        prefetch={"observations": None, "potassium": first_page(oldest), "conditions": None},
    )
    assert is_outcome(post(server, body), 412) == (
        "prefetch 'potassium' has more pages than the first (a next link), the first does not"
        f" reach back past the 30 days the rules read, and {NO_AUTHORIZATION}"
    )


def test_a_first_page_of_what_the_rules_read_over_all_time_is_412_saying_so(
    serve: ServerFactory,
) -> None:
    server = serve()
    old = [recent("pq-f1", "pq", (SCT, "82470000"), 400)]
    body = hook_request(
        "pq", fhirServer="https://ehr.example.org/fhir", prefetch={"observations": first_page(old)}
    )
    assert is_outcome(post(server, body), 412) == (
        "prefetch 'observations' has more pages than the first (a next link), the rules read all"
        f" of them, and {NO_AUTHORIZATION}"
    )


def test_the_discovery_advertises_one_query_per_concept_with_a_lookback(
    serve: ServerFactory,
) -> None:
    server = serve(rulesets=[with_lookback()])
    [service] = httpx.get(server.url + "/cds-services").json()["services"]
    prefetch = service["prefetch"]
    assert list(prefetch) == ["observations", "potassium", "conditions"]
    assert prefetch["potassium"] == (
        "Observation?patient={{context.patientId}}&combo-code=http://loinc.org|2823-3,"
        "http://loinc.org|6298-4&_sort=-date&_count=100"
    )
    assert "82470000" in prefetch["observations"] and "2823-3" not in prefetch["observations"]
