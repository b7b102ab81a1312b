"""Property: no request body or service id makes the live service answer 5xx."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fhir_adapters.cds_hooks.app import create_app
from fhir_adapters.cds_hooks.config import IssuerConfig, ServiceConfig

from .support import EC, ISS, fake_evaluate, hook_request, prefetch_for, ruleset, run_in_thread

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
FIELDS = ("hook", "hookInstance", "context", "fhirServer", "fhirAuthorization", "prefetch")


@st.composite
def mutated_requests(draw: st.DrawFn) -> Any:
    """A valid request with some fields replaced by arbitrary JSON or removed."""
    body: dict[str, Any] = hook_request(draw(st.sampled_from(["pk", "ps", "pn"])))
    body["prefetch"] = prefetch_for(draw(st.sampled_from(["pk", "ps", "pn"])))
    for field in draw(st.lists(st.sampled_from(FIELDS), max_size=3, unique=True)):
        if draw(st.booleans()):
            body.pop(field, None)
        else:
            body[field] = draw(json_values)
    if draw(st.booleans()):
        body["context"] = {"patientId": draw(st.text(max_size=70)), "userId": "u"}
    if draw(st.booleans()):
        key = draw(st.sampled_from(["observations", "conditions", "other"]))
        body["prefetch"] = {key: draw(json_values)}
    return body


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with tempfile.TemporaryDirectory() as folder:
        jwks = Path(folder) / "jwks.json"
        jwks.write_text(json.dumps({"keys": [EC.as_dict(private=False)]}))
        config = ServiceConfig(
            database=Path(folder) / "vigil.sqlite3",
            issuers=(IssuerConfig(iss=ISS, jwks_file=jwks),),
            insecure_dev=True,
        )
        # no request may leave the machine, whatever fhirServer the examples name
        offline = httpx.MockTransport(lambda request: httpx.Response(503))
        app = create_app(
            config, rulesets=[ruleset()], evaluate=fake_evaluate, fhir_transport=offline
        )
        for url in run_in_thread(app):
            with httpx.Client(base_url=url, timeout=20) as http:
                yield http


SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(body=mutated_requests() | json_values)
def test_service_call_never_5xx(client: httpx.Client, body: Any) -> None:
    response = client.post("/cds-services/calf-fasciculation", json=body)
    assert response.status_code < 500, response.text
    if response.status_code != 200:
        assert response.json()["resourceType"] == "OperationOutcome"


@SETTINGS
@given(body=st.binary(max_size=200), service=st.text(min_size=1, max_size=30))
def test_raw_bytes_and_service_ids_never_5xx(
    client: httpx.Client, body: bytes, service: str
) -> None:
    path = "/cds-services/" + quote(service, safe="")
    for url in (path, path + "/feedback"):
        response = client.post(url, content=body)
        assert response.status_code < 500, response.text


@SETTINGS
@given(body=json_values)
def test_feedback_never_5xx(client: httpx.Client, body: Any) -> None:
    response = client.post("/cds-services/calf-fasciculation/feedback", json=body)
    assert response.status_code < 500, response.text
