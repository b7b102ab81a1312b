"""Test helpers: a hand-built ruleset and evaluator, test patients, loopback servers."""

from __future__ import annotations

import functools
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from engine import load_ruleset
from engine.codes import Code
from engine.evaluation import Evaluation, RedFlagCheck, RulesetIdentity, Suggestion
from engine.model import Citation, Concept, Referral, Ruleset
from fhir_adapters.cds_hooks.config import ServiceConfig
from fhir_adapters.cds_hooks.prefetch import prefetch_templates
from fhir_adapters.cds_hooks.storage import SqliteStore
from tests.prefetch_search import codes_of, matches

LOINC, SCT = "http://loinc.org", "http://snomed.info/sct"
ISS = "https://ehr.example.org"
EC = ECKey.generate_key("P-384", parameters={"kid": "ec-1"})
RSA = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
URGENT = Referral(Code(SCT, "183561008", "Referral to general practitioner"), "urgent")
CITATION = Citation("triggers", "Calf twitching article", "https://example.org/a#t", "Triggers")


@functools.cache
def packaged(ruleset_id: str) -> Ruleset:
    """A packaged ruleset, loaded once for the whole run: tests build a prefetch from it for
    every call they make, and loading it is far dearer than the call."""
    return load_ruleset(ruleset_id)


def ruleset(rid: str = "calf-fasciculation", status: str = "active") -> Ruleset:
    """A stand-in for the real ruleset: the parts the service reads."""
    return Ruleset(
        id=rid,
        version="1.0.0",
        status=status,
        title="Calf fasciculation",
        description="Escalation of calf muscle twitching",
        content_hash="0123456789abcdef",
        concepts={
            "potassium": Concept(
                "potassium", (Code(LOINC, "2823-3"), Code(LOINC, "6298-4")), "mmol/L"
            ),
            "fasciculation": Concept("fasciculation", (Code(SCT, "82470000"),)),
        },
        sites={},
        parameters={},
        rules=(),
    )


def fake_evaluate(
    rs: Ruleset, patient: str, resources: Sequence[dict[str, Any]]
) -> Evaluation | None:
    """Potassium < 2.5 with a fasciculation -> urgent; a fasciculation alone -> self-care."""
    mine = [r for r in resources if _subject(r) == patient]
    if not mine:
        return None
    twitch = [r for r in mine if codes_of(r) & {(SCT, "82470000")}]
    low_k = [
        r
        for r in mine
        if r["resourceType"] == "Observation"
        and codes_of(r) & {(LOINC, "2823-3"), (LOINC, "6298-4")}
        and r.get("valueQuantity", {}).get("value", 99) < 2.5
    ]
    refs = tuple(sorted(f"{r['resourceType']}/{r['id']}" for r in [*twitch, *low_k]))
    suggestions: tuple[Suggestion, ...] = ()
    escalation = "none"
    if twitch and low_k:
        escalation = "urgent"
        suggestions = (
            Suggestion(
                "severe-hypokalemia",
                "urgent",
                "Potassium below 2.5 mmol/L",
                "Same-day assessment.",
                refs,
                (CITATION,),
                URGENT,
            ),
        )
    elif twitch:
        escalation = "self-care"
        suggestions = (
            Suggestion(
                "benign-twitching",
                "self-care",
                "Benign twitching",
                "Advice.",
                refs,
                (CITATION,),
                None,
                ("Cut caffeine.",),
            ),
        )
    return Evaluation(
        ruleset=RulesetIdentity(rs.id, rs.version, rs.content_hash, rs.title),
        as_of=datetime(2024, 6, 1, tzinfo=UTC),
        escalation=escalation,
        suggestions=suggestions,
        findings=(),
        trace=(),
        warnings=(),
        red_flags=(RedFlagCheck("Muscle weakness", "not recorded"),),
    )


def _subject(resource: dict[str, Any]) -> str | None:
    ref = (resource.get("subject") or resource.get("patient") or {}).get("reference")
    return (
        "Patient/" + ref.rsplit("Patient/", 1)[1]
        if isinstance(ref, str) and "Patient/" in ref
        else None
    )


# --- test patients ----------------------------------------------------------------------------


def observation(
    oid: str, patient: str, code: tuple[str, str], day: int, value: float | None = None
) -> dict[str, Any]:
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": code[0], "code": code[1]}]},
        "subject": {"reference": f"Patient/{patient}"},
        "effectiveDateTime": f"2024-05-{day:02d}T09:00:00Z",
    }
    if value is not None:
        obs["valueQuantity"] = {
            "value": value,
            "unit": "mmol/L",
            "system": "http://unitsofmeasure.org",
            "code": "mmol/L",
        }
    else:
        obs["valueBoolean"] = True
    return obs


def condition(cid: str, patient: str) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": cid,
        "code": {"coding": [{"system": SCT, "code": "82470000"}]},
        "subject": {"reference": f"Patient/{patient}"},
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active",
                }
            ]
        },
        "recordedDate": "2024-05-02",
    }


def recent(
    oid: str, patient: str, code: tuple[str, str], days_ago: int, value: float | None = None
) -> dict[str, Any]:
    """An observation dated relative to now, for the real engine (lab lookbacks are relative)."""
    obs = observation(oid, patient, code, 1, value)
    when = datetime.now(UTC) - timedelta(days=days_ago)
    obs["effectiveDateTime"] = when.replace(microsecond=0).isoformat()
    return obs


PATIENTS: dict[str, list[dict[str, Any]]] = {
    # for the real engine: calf twitching and potassium 2.2 mmol/L yesterday -> urgent
    "pr": [
        recent("pr-f1", "pr", (SCT, "82470000"), 2),
        recent("pr-k1", "pr", (LOINC, "2823-3"), 1, 2.2),
        recent("pr-k0", "pr", (LOINC, "2823-3"), 20, 4.1),
    ],
    # urgent: fasciculation (Condition) plus potassium 2.2, among several older normal values
    "pk": [condition("pk-c1", "pk")]
    + [observation(f"pk-k{d}", "pk", (LOINC, "2823-3"), d, 4.0) for d in range(1, 8)]
    + [observation("pk-k20", "pk", (LOINC, "6298-4"), 20, 2.2)],
    # self-care: a fasciculation Observation only
    "ps": [observation("ps-f1", "ps", (SCT, "82470000"), 3)],
    # nothing relevant
    "pn": [observation("pn-k1", "pn", (LOINC, "2823-3"), 3, 4.2)],
}


def searchset(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [{"resource": r} for r in resources],
    }


def prefetch_for(patient: str, rs: Ruleset | None = None) -> dict[str, Any]:
    """The patient's resources as the EHR prefetches them for `rs`'s templates (the stand-in
    ruleset's by default): each template's matches, all on one page."""
    return {
        key: searchset([r for r in PATIENTS[patient] if matches(template, r)])
        for key, template in prefetch_templates(rs or ruleset()).items()
    }


def no_data(rs: Ruleset | None = None) -> dict[str, None]:
    """A prefetch saying the patient has nothing any of `rs`'s templates find (by default the
    packaged calf-fasciculation ruleset's)."""
    return dict.fromkeys(prefetch_templates(rs or packaged("calf-fasciculation")))


ACCESS = {
    "access_token": "secret-access-token",
    "token_type": "Bearer",
    "expires_in": 300,
    "scope": "patient/*.read",
    "subject": "vigil",
}


def fhir_server(url: str) -> dict[str, Any]:
    """The request members that let the service read `url`: fhirServer and fhirAuthorization."""
    return {"fhirServer": url, "fhirAuthorization": ACCESS}


def hook_request(patient: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/u1", "patientId": patient},
    }
    body.update(extra)
    return body


# --- servers ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    store: SqliteStore
    config: ServiceConfig

    def token(self, path: str, key: ECKey | RSAKey = EC, alg: str = "ES384", **claims: Any) -> str:
        return token(self.url + path, key, alg, **claims)

    def auth(self, path: str, **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(path, **claims)}"}


def token(audience: str, key: ECKey | RSAKey = EC, alg: str = "ES384", **claims: Any) -> str:
    """A token of the test issuer for `audience` (the endpoint URL), with a jti of its own."""
    now = int(time.time())
    body = {
        "iss": ISS,
        "sub": "ehr",
        "aud": audience,
        "iat": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
        **claims,
    }
    return jwt.encode({"alg": alg, "typ": "JWT", "kid": key.kid}, body, key, algorithms=[alg])


def run_in_thread(app: FastAPI) -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ws="none",
        http="h11",
        loop="asyncio",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the service did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


ServerFactory = Callable[..., LiveServer]


def wait_until_serving(
    url: str, process: subprocess.Popen[bytes], log: Path | None = None, timeout: float = 60
) -> None:
    """Wait until `url` answers 200; raise, with the end of `log`, if the process stops first
    or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        with suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code == 200:
                return
        if process.poll() is not None or time.monotonic() > deadline:
            said = log.read_text()[-2000:] if log is not None else ""
            state = "stopped" if process.poll() is not None else "did not start"
            raise RuntimeError(f"the server {state}: {said}")
        time.sleep(0.2)


def stop(process: subprocess.Popen[bytes], timeout: float) -> None:
    """Ask a server process to stop; kill it if it has not within `timeout` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
