"""A lone surrogate (`\\udcff`, a JSON escape that is no character) anywhere in a request:
never a 5xx. In a resource it is what the CLI makes of it: a warning naming the resource, which
is left out, and cards for the rest."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jws

from fhir_adapters.cds_hooks.evaluation import evaluate_with_library

from .support import (
    EC,
    ISS,
    LOINC,
    SCT,
    LiveServer,
    ServerFactory,
    hook_request,
    no_data,
    packaged,
    recent,
    searchset,
)

ROOT = Path(__file__).parents[3]
SERVICE = "/cds-services/calf-fasciculation"
LONE = "\udcff"


def post(server: LiveServer, body: Any) -> httpx.Response:
    # json.dumps writes the surrogate as the escape `\udcff`, as a careless EHR would send it
    headers = {**server.auth(SERVICE), "Content-Type": "application/json"}
    return httpx.post(server.url + SERVICE, content=json.dumps(body), headers=headers, timeout=20)


def vigil_evaluate(path: Path) -> str:
    command = [sys.executable, "-m", "vigil", "evaluate", str(path), "--format", "json"]
    done = subprocess.run(
        command, capture_output=True, text=True, cwd=ROOT, timeout=120, check=True
    )
    return done.stdout


def chart() -> dict[str, Any]:
    """Twitching two days ago and potassium 2.2 yesterday: urgent."""
    observations = [
        recent("t1", "p", (SCT, "82470000"), 2),
        recent("k1", "p", (LOINC, "2823-3"), 1, 2.2),
    ]
    return hook_request("p", prefetch={**no_data(), "observations": searchset(observations)})


@pytest.fixture
def server(serve: ServerFactory) -> LiveServer:
    return serve(evaluate=evaluate_with_library, rulesets=[packaged("calf-fasciculation")])


def test_a_lone_surrogate_in_an_observation_id_is_a_warning_not_a_500(
    server: LiveServer, tmp_path: Path
) -> None:
    body = chart()
    body["prefetch"]["observations"]["entry"][1]["resource"]["id"] = f"k{LONE}"
    path = tmp_path / "observations.json"
    path.write_text(json.dumps(body["prefetch"]["observations"]))
    again = copy.deepcopy(body)
    again["hookInstance"] += "-again"

    for sent in (body, again):  # the second time, through the resource cache
        response = post(server, sent)
        assert response.status_code == 200, response.text
        [card] = response.json()["cards"]
        assert card["indicator"] == "info"  # the potassium is left out: twitching alone
        assert "- Observation/k\\\\udcff: not valid FHIR R4, left out" in card["detail"]

    [result] = json.loads(vigil_evaluate(path))["results"]
    assert result["escalation"] == "self-care"
    [warning] = result["warnings"]
    assert warning["source"] == f"Observation/k{LONE}"
    assert f"- Observation/k\\\\udcff: {warning['message']}" in card["detail"].splitlines()


@pytest.mark.parametrize(
    "where",
    ["code", "unit", "subject", "resourceType", "meta", "key", "patientId", "hookInstance"],
)
def test_a_lone_surrogate_anywhere_in_a_request_is_no_5xx(server: LiveServer, where: str) -> None:
    body = chart()
    potassium = body["prefetch"]["observations"]["entry"][1]["resource"]
    if where == "code":
        potassium["code"]["coding"][0]["code"] = f"2823-3{LONE}"
    elif where == "unit":
        potassium["valueQuantity"]["unit"] = LONE
    elif where == "subject":
        potassium["subject"]["reference"] = f"Patient/p{LONE}"
    elif where == "resourceType":
        body["prefetch"]["observations"] = {"resourceType": LONE}
    elif where == "meta":
        potassium["meta"] = {"versionId": LONE, "lastUpdated": LONE}
    elif where == "key":
        body["prefetch"][LONE] = 1
    elif where == "patientId":
        body["context"]["patientId"] = LONE
    else:
        body["hookInstance"] = LONE

    response = post(server, body)

    assert response.status_code in (200, 400), response.text
    json.dumps(response.json(), ensure_ascii=False).encode()  # no surrogate left in it
    if response.status_code == 200 and where != "code":  # another code is not the ruleset's
        [card] = response.json()["cards"]
        assert "Observation/k1: not valid FHIR R4, left out" in card["detail"], where


def test_a_signed_token_whose_jti_holds_a_lone_surrogate_is_401_not_500(
    server: LiveServer,
) -> None:
    now = int(time.time())
    claims = {"iss": ISS, "aud": server.url + SERVICE, "iat": now, "exp": now + 300, "jti": LONE}
    header = {"alg": "ES384", "typ": "JWT", "kid": EC.kid}
    # signed as sent: the claims' JSON holds the escape `\udcff`
    signed = jws.serialize_compact(header, json.dumps(claims).encode(), EC, algorithms=["ES384"])
    headers = {"Authorization": f"Bearer {signed}", "Content-Type": "application/json"}

    response = httpx.post(server.url + SERVICE, content=json.dumps(chart()), headers=headers)

    assert response.status_code == 401, response.text
