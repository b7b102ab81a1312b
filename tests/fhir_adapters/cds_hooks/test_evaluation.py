"""The service reads a patient's resources as `vigil evaluate` reads the same resources in a
file: copies of a resource (in one prefetch, over pages, from prefetch and fhirServer) are
chosen among by the same rules, with the same warnings, so the answer is the same."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import load_ruleset
from engine.evaluation import DataWarning
from fhir_adapters import evaluate_bundle
from fhir_adapters.cds_hooks.app import create_app
from fhir_adapters.cds_hooks.config import FhirClientConfig, ServiceConfig
from fhir_adapters.cds_hooks.evaluation import ORIGIN, evaluate_with_library
from fhir_adapters.cds_hooks.fhir_client import FhirClient
from fhir_adapters.cds_hooks.models import HookRequest
from fhir_adapters.cds_hooks.prefetch import gather, prefetch_templates

from .support import (
    LOINC,
    SCT,
    LiveServer,
    ServerFactory,
    fhir_server,
    hook_request,
    no_data,
    recent,
    run_in_thread,
    searchset,
)

ROOT = Path(__file__).parents[3]
SERVICE = "/cds-services/calf-fasciculation"
RULESET = load_ruleset("calf-fasciculation")
TWITCHING = recent("t1", "p", (SCT, "82470000"), 2)


def potassium(value: float, version: str | None = None, updated: str | None = None) -> Any:
    """A copy of Observation/k1, yesterday, with its meta.versionId and meta.lastUpdated."""
    copy = recent("k1", "p", (LOINC, "2823-3"), 1, value)
    meta = {"versionId": version, "lastUpdated": updated}
    if any(meta.values()):
        copy["meta"] = {k: v for k, v in meta.items() if v is not None}
    return copy


# The case: version 1 (4.5) then version 2 (2.2), both yesterday, with twitching.
VERSIONS = [potassium(4.5, "1"), potassium(2.2, "2"), TWITCHING]


def post(server: LiveServer, body: Any) -> httpx.Response:
    return httpx.post(server.url + SERVICE, json=body, headers=server.auth(SERVICE), timeout=20)


def cli(path: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "vigil", "evaluate", str(path), "--format", "json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def markdown(text: str) -> str:
    """Text as a card's detail shows data (fhir_adapters.cards escapes markdown)."""
    return re.sub(r"([\\`*_{}\[\]()<>#+!|~-])", r"\\\1", text)


def test_the_service_reads_the_copy_the_cli_reads_with_its_warning(
    serve: ServerFactory, tmp_path: Path
) -> None:
    server = serve(evaluate=evaluate_with_library, rulesets=[RULESET])
    prefetch = {**no_data(), "observations": searchset(VERSIONS)}
    path = tmp_path / "observations.json"
    path.write_text(json.dumps(prefetch["observations"]))

    response = post(server, hook_request("p", prefetch=prefetch))
    printed = cli(path)

    assert response.status_code == 200, response.text
    [card] = response.json()["cards"]
    [result] = printed["results"]
    assert (card["indicator"], result["escalation"]) == ("critical", "urgent")
    warnings = [*result["warnings"], *printed["warnings"]]
    assert [w["source"] for w in warnings] == ["Observation/k1"]
    for warning in warnings:
        message = warning["message"].replace(str(path), ORIGIN)
        assert message.endswith("entry 1 is used (a newer version)")
        shown = f"- {markdown(warning['source'])}: {markdown(message)}"
        assert shown in card["detail"].splitlines()


def test_a_copy_on_the_fhir_servers_next_page_is_chosen_among_too(tmp_path: Path) -> None:
    older, newer = potassium(4.5, "1"), potassium(2.2, "2")
    base = "http://127.0.0.1:9/fhir"  # answered by the transport below: nothing is sent

    def fhir(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=searchset([newer]))

    first = searchset([older, TWITCHING])
    first["link"] = [{"relation": "next", "url": f"{base}/Observation?page=2"}]
    config = ServiceConfig(database=tmp_path / "vigil.sqlite3", insecure_dev=True)
    app = create_app(
        config,
        rulesets=[RULESET],
        evaluate=evaluate_with_library,
        fhir_transport=httpx.MockTransport(fhir),
    )
    body = hook_request("p", prefetch={**no_data(), "observations": first}, **fhir_server(base))
    for url in run_in_thread(app):
        response = httpx.post(url + SERVICE, json=body, timeout=20)
        assert response.status_code == 200, response.text
        [card] = response.json()["cards"]
        assert card["indicator"] == "critical"
        message = f"read twice with different content; the copy at {ORIGIN} entry 2 is used"
        shown = f"- Observation/k1: {markdown(message + ' (a newer version)')}"
        assert shown in card["detail"].splitlines()


# --- the property: any set of copies, in any order, gives the service the CLI's answer --------

VALUES = st.sampled_from([2.2, 3.1, 4.5])
VERSION_IDS = st.none() | st.sampled_from(["1", "2", "3"])
UPDATED = st.none() | st.sampled_from(
    ["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "2026-01-02T01:00:00+01:00"]
)


@st.composite
def copies(draw: st.DrawFn) -> tuple[list[dict[str, Any]], int]:
    """Copies of Observation/k1 and a twitching, shuffled, and how many of them the prefetch
    holds (the rest are on the fhirServer's next page)."""
    found = [
        potassium(draw(VALUES), draw(VERSION_IDS), draw(UPDATED))
        for _ in range(draw(st.integers(2, 4)))
    ]
    observations = draw(st.permutations([*found, TWITCHING]))
    return observations, draw(st.integers(1, len(observations)))


def through_the_service(
    observations: list[dict[str, Any]], prefetched: int
) -> tuple[str, list[DataWarning]]:
    """What the service does with a prefetch (its first page, the rest on fhirServer): gather
    it, then evaluate through the seam."""
    base = "http://127.0.0.1:9/fhir"  # answered by the transport below: nothing is sent
    first = searchset(observations[:prefetched])
    if prefetched < len(observations):
        first["link"] = [{"relation": "next", "url": f"{base}/Observation?page=2"}]
    request = HookRequest.model_validate(
        hook_request("p", prefetch={**no_data(), "observations": first}, **fhir_server(base))
    )

    def page_two(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=searchset(observations[prefetched:]))

    async def gathered() -> tuple[dict[str, Any], ...]:
        client = FhirClient(FhirClientConfig(), transport=httpx.MockTransport(page_two))
        try:
            return (await gather(request, prefetch_templates(RULESET), client)).resources
        finally:
            await client.aclose()

    evaluation = evaluate_with_library(RULESET, "Patient/p", asyncio.run(gathered()))
    assert evaluation is not None
    return evaluation.escalation, list(evaluation.warnings)


def through_the_cli(observations: list[dict[str, Any]], path: Path) -> tuple[str, list[Any]]:
    """What `vigil evaluate` does with the same resources in a file (its library call)."""
    path.write_text(json.dumps(searchset(observations)))
    results = evaluate_bundle(path, RULESET)
    [result] = results
    warnings = [*result.evaluation.warnings, *results.warnings]
    return result.escalation, [
        DataWarning(w.message.replace(str(path), ORIGIN), w.source) for w in warnings
    ]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("copies")


@settings(max_examples=40, deadline=None)
@given(chart=copies())
def test_the_service_and_the_cli_agree_on_any_copies(
    chart: tuple[list[dict[str, Any]], int], folder: Path
) -> None:
    observations, prefetched = chart
    assert through_the_service(observations, prefetched) == through_the_cli(
        observations, folder / "copies.json"
    )
