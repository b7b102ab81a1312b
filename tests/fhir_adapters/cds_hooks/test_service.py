"""The service over HTTP on loopback: discovery, patient-view, prefetch paths, errors, feedback."""

from __future__ import annotations

import asyncio
import base64
import re
import sqlite3
import time
from contextlib import closing
from typing import Any

import httpx
import pytest
from fhir.resources.R4B.servicerequest import ServiceRequest
from starlette.requests import Request

import fhir_adapters.cds_hooks.app as cds_app
from engine import load_ruleset
from engine.errors import FactError
from fhir_adapters.cds_hooks.config import FhirClientConfig
from fhir_adapters.cds_hooks.models import CardResponse, DiscoveryResponse
from fhir_adapters.cds_hooks.storage import ReplayUnavailable

from .support import (
    ACCESS,
    RSA,
    LiveServer,
    ServerFactory,
    fhir_server,
    free_port,
    hook_request,
    prefetch_for,
    searchset,
    token,
)

SERVICE = "/cds-services/calf-fasciculation"
FAILED = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "timeout"}]}


def post(server: LiveServer, body: Any, path: str = SERVICE, **kw: Any) -> httpx.Response:
    headers = kw.pop("headers", None) or server.auth(path)
    return httpx.post(server.url + path, json=body, headers=headers, timeout=20, **kw)


def without_uuids(cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`cards` without what differs between two calls for the same patient: card uuids, and
    the time of day of an order due "now" (each call's own evaluation time)."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"end"} and isinstance(value["end"], str):  # occurrencePeriod
                return {"end": value["end"][:10]}
            return {k: strip(v) for k, v in value.items() if k != "uuid"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return [strip(c) for c in cards]


def checked(response: httpx.Response) -> list[dict[str, Any]]:
    """A 200 card response whose cards and ServiceRequests validate."""
    assert response.status_code == 200, response.text
    body = response.json()
    CardResponse.model_validate(body)
    for card in body["cards"]:
        for suggestion in card.get("suggestions", []):
            for action in suggestion["actions"]:
                ServiceRequest.model_validate(action["resource"])
    cards: list[dict[str, Any]] = body["cards"]
    return cards


def is_outcome(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    message: str = body["issue"][0]["diagnostics"]
    return message


def test_discovery_lists_active_rulesets_with_prefetch_templates(serve: ServerFactory) -> None:
    server = serve()
    body = httpx.get(server.url + "/cds-services").json()
    DiscoveryResponse.model_validate(body)
    [service] = body["services"]
    assert service["id"] == "calf-fasciculation" and service["hook"] == "patient-view"
    assert service["title"] == "Calf fasciculation"
    obs, cond = service["prefetch"]["observations"], service["prefetch"]["conditions"]
    assert obs.startswith("Observation?patient={{context.patientId}}&combo-code=")
    assert "http://loinc.org|2823-3" in obs and "_sort=-date" in obs and "_count=100" in obs
    assert "82470000" in cond and "2823-3" not in cond


def test_patient_view_with_full_prefetch(serve: ServerFactory) -> None:
    server = serve()
    [card] = checked(post(server, hook_request("pk", prefetch=prefetch_for("pk"))))
    assert card["indicator"] == "critical"
    resource = card["suggestions"][0]["actions"][0]["resource"]
    assert resource["subject"] == {"reference": "Patient/pk"}
    assert {"reference": "Observation/pk-k20"} in resource["reasonReference"]
    [record] = server.store.query()
    assert record.status == 200 and record.patient == "Patient/pk"
    assert record.data_source == "prefetch" and record.escalation == "urgent"
    assert record.ruleset_hash == "0123456789abcdef" and record.issuer
    assert record.cards[0].rules == ("severe-hypokalemia",)


def test_nothing_relevant_gives_no_cards(serve: ServerFactory) -> None:
    server = serve()
    assert checked(post(server, hook_request("pn", prefetch=prefetch_for("pn")))) == []


def test_null_prefetch_means_no_data(serve: ServerFactory) -> None:
    server = serve()
    body = hook_request("pk", prefetch={"observations": None, "conditions": None})
    assert checked(post(server, body)) == []
    assert server.store.query()[0].data_source == "prefetch"


def test_absent_prefetch_is_fetched_from_the_fhir_server(serve: ServerFactory, sekmet: str) -> None:
    server = serve()
    for patient in ("pk", "ps", "pn"):
        fetched = checked(post(server, hook_request(patient, **fhir_server(sekmet))))
        given = checked(post(server, hook_request(patient, prefetch=prefetch_for(patient))))
        assert without_uuids(fetched) == without_uuids(given), patient
    assert server.store.query()[1].data_source == "fhirServer"


def test_prefetch_pages_are_followed_through_next_links(serve: ServerFactory, sekmet: str) -> None:
    server = serve()
    first = httpx.get(
        f"{sekmet}/Observation",
        params={
            "patient": "pk",
            "_sort": "-date",
            "_count": "2",
            "code": "http://loinc.org|2823-3",
        },
    ).json()
    assert any(link["relation"] == "next" for link in first["link"])
    prefetch = {"observations": first, "conditions": prefetch_for("pk")["conditions"]}
    # the newest potassium (6298-4) is only reachable on page 1 of another search: use both codes
    first = httpx.get(
        f"{sekmet}/Observation",
        params={
            "patient": "pk",
            "_sort": "date",
            "_count": "2",
            "code": "http://loinc.org|2823-3,http://loinc.org|6298-4",
        },
    ).json()
    prefetch["observations"] = first  # oldest first: the low value is on the last page
    [card] = checked(post(server, hook_request("pk", prefetch=prefetch, **fhir_server(sekmet))))
    assert card["indicator"] == "critical"


def test_failed_prefetch_falls_back_to_the_fhir_server(serve: ServerFactory, sekmet: str) -> None:
    server = serve()
    failed = FAILED
    body = hook_request(
        "pk", **fhir_server(sekmet), prefetch={"observations": failed, "conditions": failed}
    )
    [card] = checked(post(server, body))
    assert card["indicator"] == "critical"


def test_failed_prefetch_without_a_server_is_412(serve: ServerFactory) -> None:
    server = serve()
    failed = FAILED
    bundle = searchset([failed])
    for value in (failed, bundle):
        body = hook_request("pk", prefetch={"observations": value, "conditions": None})
        message = is_outcome(post(server, body), 412)
        assert "observations" in message and "fhirServer" in message


def test_neither_prefetch_nor_server_is_412(serve: ServerFactory) -> None:
    server = serve()
    message = is_outcome(post(server, hook_request("pk")), 412)
    assert message == "prefetch 'observations' is absent and the request names no fhirServer"


def test_fhir_server_down_is_412_quickly(serve: ServerFactory) -> None:
    server = serve()
    down = f"http://127.0.0.1:{free_port()}/fhir"
    started = time.monotonic()
    message = is_outcome(post(server, hook_request("pk", **fhir_server(down))), 412)
    assert time.monotonic() - started < 5
    assert "unreachable" in message


@pytest.mark.parametrize("access_token", ["tök", "two words", "line\nbreak", "nul\x00"])
def test_an_access_token_no_header_can_carry_is_400_naming_it(
    serve: ServerFactory, access_token: str
) -> None:
    server = serve()
    authorization = {**ACCESS, "access_token": access_token}
    body = hook_request("pk", fhirServer=server.url, fhirAuthorization=authorization)
    said = is_outcome(post(server, body), 400)
    assert said.startswith("fhirAuthorization.access_token: ")
    assert "visible ASCII only" in said


def test_fhir_server_is_not_read_without_fhir_authorization(
    serve: ServerFactory, sekmet: str
) -> None:
    # CDS Hooks 2.0: the service may use fhirServer when the client gives it fhirAuthorization
    server = serve()
    message = is_outcome(post(server, hook_request("pk", fhirServer=sekmet)), 412)
    assert message == (
        "prefetch 'observations' is absent and the request gives no fhirAuthorization to read"
        " fhirServer with"
    )


def test_the_access_token_is_not_sent_over_plain_http_to_another_machine(
    serve: ServerFactory,
) -> None:
    server = serve()
    body = hook_request("pk", **fhir_server("http://ehr.example.org/fhir"))
    message = is_outcome(post(server, body), 412)
    assert message.endswith("fhirServer is not https (the access token is sent over https only)")


def test_a_search_longer_than_the_page_limit_is_412_not_a_partial_answer(
    serve: ServerFactory, sekmet: str
) -> None:
    server = serve(fhir=FhirClientConfig(page_size=1, max_pages=2))
    message = is_outcome(post(server, hook_request("pk", **fhir_server(sekmet))), 412)
    assert "goes on past 2 pages on /Observation" in message


def test_next_link_outside_the_fhir_server_is_not_followed(
    serve: ServerFactory, sekmet: str
) -> None:
    server = serve()
    page = searchset([])
    page["link"] = [{"relation": "next", "url": "http://127.0.0.1:9/elsewhere?page=2"}]
    body = hook_request("pk", **fhir_server(sekmet), prefetch={"observations": page})
    # the prefetch counts as failed, so the key is read from fhirServer instead
    [card] = checked(post(server, body))
    assert card["indicator"] == "critical"


MALFORMED: list[tuple[str, Any, str]] = [
    ("not JSON", b"{not json", "not JSON"),
    ("empty", b"", "empty"),
    ("an array", b"[]", "JSON list, not an object"),
    ("no hookInstance", {"hook": "patient-view", "context": {}}, "hookInstance: Field required"),
    ("wrong hook", {**hook_request("pk"), "hook": "order-select"}, "hook 'order-select'"),
    ("no patientId", {**hook_request("pk"), "context": {"userId": "u"}}, "context.patientId"),
    ("bad patientId", hook_request("../x"), "context.patientId: not a FHIR id"),
    (
        "prefetch not an object",
        {**hook_request("pk"), "prefetch": {"observations": 3}},
        "prefetch.observations",
    ),
    (
        "a resource for a search",
        {**hook_request("pk"), "prefetch": {"observations": {"resourceType": "Observation"}}},
        "prefetch 'observations': an Observation, not a Bundle (its template is a search)",
    ),
    (
        "entry not a list",
        {
            **hook_request("pk"),
            "prefetch": {"observations": {"resourceType": "Bundle", "entry": 5}},
        },
        "prefetch 'observations': Bundle.entry is not a list",
    ),
    (
        "link entries not objects",
        {
            **hook_request("pk"),
            "prefetch": {"observations": {"resourceType": "Bundle", "link": ["x"]}},
        },
        "prefetch 'observations': Bundle.link[0] is not an object",
    ),
    (
        "token for another patient",
        hook_request("pk", fhirServer="https://ehr", fhirAuthorization={**ACCESS, "patient": "x"}),
        "fhirAuthorization.patient is not context.patientId",
    ),
    (
        "authorization without server",
        {
            **hook_request("pk"),
            "fhirAuthorization": {
                "access_token": "t",
                "token_type": "Bearer",
                "expires_in": 1,
                "scope": "s",
                "subject": "x",
            },
        },
        "fhirServer is missing",
    ),
]


@pytest.mark.parametrize(("case", "body", "expected"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_requests_are_400_naming_the_problem(
    serve: ServerFactory, case: str, body: Any, expected: str
) -> None:
    server = serve()
    headers = server.auth(SERVICE)
    if isinstance(body, bytes):
        response = httpx.post(server.url + SERVICE, content=body, headers=headers)
    else:
        response = httpx.post(server.url + SERVICE, json=body, headers=headers)
    assert expected in is_outcome(response, 400)


def test_unknown_and_retired_services_are_404(serve: ServerFactory) -> None:
    server = serve()
    for path in ("/cds-services/nope", "/cds-services/retired-one", "/cds-services/nope/feedback"):
        assert "no CDS service" in is_outcome(post(server, hook_request("pk"), path=path), 404)


def test_missing_or_bad_token_is_401_without_detail(serve: ServerFactory) -> None:
    server = serve()
    body = hook_request("pk", prefetch=prefetch_for("pk"))
    for headers in ({}, {"Authorization": "Bearer nonsense"}, server.auth("/cds-services/other")):
        response = httpx.post(server.url + SERVICE, json=body, headers=headers)
        assert is_outcome(response, 401) == "unauthorized"
        assert response.headers["www-authenticate"] == "Bearer"
    assert [r.status for r in server.store.query()] == [401, 401, 401]


def test_a_token_whose_payload_is_nested_too_deep_is_401_not_500(serve: ServerFactory) -> None:
    server = serve()
    header = base64.urlsafe_b64encode(b'{"alg":"ES384","typ":"JWT","kid":"k"}').rstrip(b"=")
    payload = base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).rstrip(b"=")
    headers = {"Authorization": f"Bearer {header.decode()}.{payload.decode()}.c2ln"}
    response = httpx.post(server.url + SERVICE, json=hook_request("pk"), headers=headers)
    assert is_outcome(response, 401) == "unauthorized"
    [refused] = server.store.query()
    assert refused.reason == "not a JWS: RecursionError"


def test_the_audience_is_the_listening_address_not_the_host_header(serve: ServerFactory) -> None:
    # a token the EHR signed for another CDS service with the same service id must not pass
    # here because its caller claims to be calling that service's host
    server = serve()
    body = hook_request("pk", prefetch=prefetch_for("pk"))
    elsewhere = "http://other-cds.example" + SERVICE  # what the Host header makes it look like
    headers = {"Authorization": f"Bearer {token(elsewhere)}", "Host": "other-cds.example"}
    assert is_outcome(httpx.post(server.url + SERVICE, json=body, headers=headers), 401)
    spoofed = {**server.auth(SERVICE), "Host": "other-cds.example"}
    checked(httpx.post(server.url + SERVICE, json=body, headers=spoofed))


def test_rs384_token_and_replay_over_http(serve: ServerFactory) -> None:
    server = serve()
    body = hook_request("ps", prefetch=prefetch_for("ps"))
    token = server.token(SERVICE, key=RSA, alg="RS384")
    headers = {"Authorization": f"Bearer {token}"}
    [card] = checked(httpx.post(server.url + SERVICE, json=body, headers=headers))
    assert card["indicator"] == "info"
    assert is_outcome(httpx.post(server.url + SERVICE, json=body, headers=headers), 401)


class UnavailableReplayCache:
    async def claim(self, issuer: str, jti: str, expires_at: float) -> bool:
        raise ReplayUnavailable("the supervisor is gone")


def test_a_token_that_cannot_be_checked_for_replay_is_a_503(serve: ServerFactory) -> None:
    server = serve(replay=UnavailableReplayCache())
    body = hook_request("ps", prefetch=prefetch_for("ps"))
    response = httpx.post(server.url + SERVICE, json=body, headers=server.auth(SERVICE))
    assert "try again" in is_outcome(response, 503)
    assert [r.status for r in server.store.query()] == [503]


def test_insecure_dev_needs_no_token(serve: ServerFactory) -> None:
    server = serve(insecure_dev=True)
    body = hook_request("ps", prefetch=prefetch_for("ps"))
    response = httpx.post(server.url + SERVICE, json=body)
    assert len(checked(response)) == 1


def test_feedback_is_stored_and_reported_per_rule(serve: ServerFactory) -> None:
    server = serve()
    [card] = checked(post(server, hook_request("pk", prefetch=prefetch_for("pk"))))
    path = SERVICE + "/feedback"
    feedback = {
        "feedback": [
            {
                "card": card["uuid"],
                "outcome": "overridden",
                "overrideReason": {
                    "reason": {"system": "s", "code": "already-addressed", "display": "Done"},
                    "userComment": "seen today",
                },
                "outcomeTimestamp": "2024-06-01T10:00:00Z",
            },
            {
                "card": card["uuid"],
                "outcome": "accepted",
                "acceptedSuggestions": [{"id": card["suggestions"][0]["uuid"]}],
                "outcomeTimestamp": "2024-06-01T10:01:00Z",
            },
        ]
    }
    response = post(server, feedback, path=path)
    assert response.status_code == 200, response.text
    [rule] = server.store.feedback_report()
    assert (rule.rule, rule.accepted, rule.overridden, rule.reasons) == (
        "severe-hypokalemia",
        1,
        1,
        {"Done": 1},
    )
    bad = {"feedback": [{"card": "x", "outcome": "maybe", "outcomeTimestamp": "now"}]}
    assert "feedback.0.outcome" in is_outcome(post(server, bad, path=path), 400)
    assert is_outcome(httpx.post(server.url + path, json=feedback), 401) == "unauthorized"
    kinds = [(r.kind, r.status) for r in server.store.query()]
    assert kinds == [("feedback", 401), ("feedback", 400), ("feedback", 200), ("service", 200)]


def overridden(**changes: Any) -> dict[str, Any]:
    item = {"card": "c1", "outcome": "overridden", "outcomeTimestamp": "2024-06-01T10:00:00Z"}
    return {"feedback": [{**item, **changes}]}


BAD_FEEDBACK: list[tuple[str, dict[str, Any], str]] = [
    ("accepted, nothing accepted", overridden(outcome="accepted"), "acceptedSuggestions is req"),
    ("Unix time", overridden(outcomeTimestamp=1717236000), "RFC 3339"),
    ("a date alone", overridden(outcomeTimestamp="2024-06-01"), "RFC 3339"),
    ("no offset", overridden(outcomeTimestamp="2024-06-01T10:00:00"), "RFC 3339"),
]


@pytest.mark.parametrize(
    ("case", "body", "expected"), BAD_FEEDBACK, ids=[b[0] for b in BAD_FEEDBACK]
)
def test_feedback_the_spec_does_not_allow_is_400(
    serve: ServerFactory, case: str, body: dict[str, Any], expected: str
) -> None:
    server = serve()
    message = is_outcome(post(server, body, path=SERVICE + "/feedback"), 400)
    assert message.startswith("feedback.0") and expected in message
    assert server.store.feedback_report() == []


def test_feedback_times_with_an_offset_are_kept_in_utc(serve: ServerFactory) -> None:
    server = serve()
    body = overridden(outcomeTimestamp="2024-06-01T12:00:00+02:00")
    assert post(server, body, path=SERVICE + "/feedback").status_code == 200
    with closing(sqlite3.connect(server.config.database)) as db:
        [(when,)] = db.execute("SELECT outcome_time FROM feedback").fetchall()
    assert when == "2024-06-01T10:00:00+00:00"


def test_unknown_paths_and_methods_are_operation_outcomes(serve: ServerFactory) -> None:
    server = serve()
    assert "Not Found" in is_outcome(httpx.get(server.url + "/nowhere"), 404)
    response = httpx.delete(server.url + SERVICE)
    assert "Method Not Allowed" in is_outcome(response, 405)
    assert response.headers["allow"] == "POST"


def test_a_chunked_body_over_the_limit_is_413(
    serve: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cds_app, "MAX_BODY_BYTES", 4096)
    server = serve()
    chunks = (b" " * 1024 for _ in range(8))  # no Content-Length: sent chunked
    response = httpx.post(server.url + SERVICE, content=chunks, headers=server.auth(SERVICE))
    assert "over 4096 bytes" in is_outcome(response, 413)


def test_a_body_is_refused_as_soon_as_it_passes_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cds_app, "MAX_BODY_BYTES", 4096)
    pulled = 0

    async def endless() -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b" " * 1024, "more_body": True}

    request = Request({"type": "http", "method": "POST", "headers": []}, endless)
    with pytest.raises(cds_app.Problem, match="over 4096 bytes"):
        asyncio.run(cds_app._json_body(request))
    assert pulled == 5  # read until the limit was passed, not to the end


def test_cors_allows_only_configured_origins(serve: ServerFactory) -> None:
    server = serve(cors_origins=("https://sandbox.cds-hooks.org",))
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    ok = httpx.options(
        server.url + SERVICE, headers={"Origin": "https://sandbox.cds-hooks.org", **preflight}
    )
    assert ok.headers["access-control-allow-origin"] == "https://sandbox.cds-hooks.org"
    refused = httpx.options(server.url + SERVICE, headers={"Origin": "https://evil", **preflight})
    assert "access-control-allow-origin" not in refused.headers


def test_logs_carry_no_token_and_no_patient_data(
    serve: ServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    server = serve()
    headers = server.auth(SERVICE)
    token = headers["Authorization"].split()[1]
    post(server, hook_request("pk", prefetch=prefetch_for("pk")), headers=headers)
    post(server, hook_request("pk"), headers=headers)  # replayed: 401
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "calf-fasciculation" in text  # the service is logged
    text = re.sub(r"\d+(\.\d+)? ms\b", "(duration)", text)  # "2.2 ms" is a time, not a value
    for secret in (token, "Patient/pk", "pk-k20", "2.2"):
        assert secret not in text


def test_a_path_cannot_forge_a_log_line(
    serve: ServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    server = serve()
    forged = "/cds-services/x%0Aservice%20calf-fasciculation%20200%201.0%20ms"
    is_outcome(post(server, hook_request("pk"), path=forged), 404)
    lines = [r.getMessage() for r in caplog.records if r.name == "vigil.cds_hooks"]
    assert lines == ["service (unknown service) 404 " + lines[0].split(" 404 ")[1]]


def test_evaluation_failure_is_500_without_detail(serve: ServerFactory) -> None:
    def broken(*_: Any) -> None:
        raise RuntimeError("potassium 2.2 of Patient/pk")

    server = serve(evaluate=broken)
    response = post(server, hook_request("pk", prefetch=prefetch_for("pk")))
    assert is_outcome(response, 500) == "the evaluation failed"


def test_unreadable_data_is_400(serve: ServerFactory) -> None:
    def refuse(*_: Any) -> None:
        raise FactError("Observation/x: not FHIR")

    server = serve(evaluate=refuse)
    response = post(server, hook_request("pk", prefetch=prefetch_for("pk")))
    message = is_outcome(response, 400)
    assert message == "the patient's data cannot be used: Observation/x: not FHIR"


def test_real_engine_gives_the_same_cards_from_prefetch_and_fhir_server(
    serve: ServerFactory, sekmet: str
) -> None:
    from fhir_adapters.cds_hooks.evaluation import evaluate_with_library

    calf = load_ruleset("calf-fasciculation")
    server = serve(evaluate=evaluate_with_library, rulesets=[calf])
    discovery = httpx.get(server.url + "/cds-services").json()
    assert [s["id"] for s in discovery["services"]] == ["calf-fasciculation"]
    given = checked(post(server, hook_request("pr", prefetch=prefetch_for("pr", calf))))
    fetched = checked(post(server, hook_request("pr", **fhir_server(sekmet))))
    assert without_uuids(given) == without_uuids(fetched)
    [card] = given
    assert card["indicator"] == "critical"
    resource = card["suggestions"][0]["actions"][0]["resource"]
    assert resource["priority"] == "stat" and resource["subject"] == {"reference": "Patient/pr"}
    assert {"reference": "Observation/pr-k1"} in resource["reasonReference"]
    assert "Red flags checked" in card["detail"]
