"""CDS Hooks `patient-view` requests for the calf-fasciculation service (bench/cds_hooks_bench.py).

One patient, `size` prefetched Observations of the kinds the ruleset reads, as an EHR would send
them from the advertised templates (searchset Bundles, newest first):
- twitching (sct#82470000, valueBoolean) with a `bodySite` (calf, thigh, hand);
- potassium, magnesium and calcium labs (LOINC) with UCUM `valueQuantity` in mmol/L, mEq/L or
  mg/dL, an interpretation and a `referenceRange`;
- muscle weakness (sct#26544005) present.
Times fall in the 40 days before `now`, so labs are inside the ruleset's 30-day lookback; the
potassium values reach below 3.5 mmol/L with weakness, so the answer is a card with a draft
ServiceRequest (the card building and ServiceRequest validation are part of what is measured).
Each advertised prefetch key gets the Observations its template finds; `conditions` is `null` (no
such data), so nothing is fetched from a FHIR server.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from bench.fhir_vocabulary import (
    CATEGORY,
    INTERPRETATION,
    LABS,
    LOINC,
    SCT,
    SITES,
    add_lab_result,
    coding,
)
from engine import load_ruleset
from fhir_adapters.cds_hooks.prefetch import prefetch_templates
from tests.prefetch_search import matches

PATIENT_ID = "bench-cds-1"
SERVICE = "calf-fasciculation"
HOOK_INSTANCE_PLACEHOLDER = "00000000-0000-4000-8000-00000000beef"


def _stamp(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _observation(
    index: int, moment: datetime, category: str, code: dict[str, Any]
) -> dict[str, Any]:
    when = _stamp(moment)
    return {
        "resourceType": "Observation",
        "id": f"cds-bench-{index}",
        "meta": {"versionId": "1", "lastUpdated": when},
        "status": "final",
        "category": [coding(CATEGORY, category, category.title())],
        "code": code,
        "subject": {"reference": "Patient/" + PATIENT_ID},
        "effectiveDateTime": when,
        "issued": when,
        "performer": [{"reference": "Practitioner/bench-gp", "display": "Dr Bench"}],
    }


def _lab(index: int, moment: datetime, rng: random.Random) -> dict[str, Any]:
    lab = LABS[index % len(LABS)]
    code, display, _, _, low, high = lab
    obs = _observation(index, moment, "laboratory", coding(LOINC, code, display))
    return add_lab_result(obs, lab, rng.uniform(low * 0.7, high))


def _twitching(index: int, moment: datetime, rng: random.Random) -> dict[str, Any]:
    obs = _observation(index, moment, "exam", coding(SCT, "82470000", "Fasciculation"))
    obs["valueBoolean"] = True
    obs["bodySite"] = coding(SCT, *rng.choice(SITES))
    return obs


def _weakness(index: int, moment: datetime, rng: random.Random) -> dict[str, Any]:
    obs = _observation(index, moment, "exam", coding(SCT, "26544005", "Muscle weakness"))
    obs["valueCodeableConcept"] = coding(SCT, "52101004", "Present")
    return obs


def observations(
    size: int = 50, now: datetime | None = None, seed: int = 11
) -> list[dict[str, Any]]:
    """`size` Observations of one patient, newest first: about half labs, 35% twitching, 15%
    weakness; the newest potassium is low (2.9 mmol/L), so the patient escalates."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    makers = [_lab, _twitching, _weakness]
    out = []
    for index in range(size):
        make = rng.choices(makers, weights=[50, 35, 15])[0]
        moment = now - timedelta(hours=2 + rng.randrange(0, 24 * 40))
        out.append(make(index, moment, rng))
    out.sort(key=lambda o: o["effectiveDateTime"], reverse=True)
    newest_potassium = next((o for o in out if o["code"]["coding"][0]["code"] == "2823-3"), None)
    if newest_potassium is not None:
        newest_potassium["valueQuantity"]["value"] = 2.9
        newest_potassium["interpretation"] = [coding(INTERPRETATION, "L", "Low")]
    return out


def prefetch_bundle(
    size: int = 50, now: datetime | None = None, patient: int = 1
) -> dict[str, Any]:
    """The `observations` prefetch: a searchset Bundle with full URLs and search modes.
    `patient` > 1 gives another patient (own id, resource ids and values): use several to keep
    any cache keyed on content from flattering the figures."""
    resources = observations(size, now, seed=10 + patient)
    if patient != 1:
        text = json.dumps(resources).replace(PATIENT_ID, f"bench-cds-{patient}")
        resources = json.loads(text.replace('"cds-bench-', f'"cds-bench-p{patient}-'))
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "link": [{"relation": "self", "url": "Observation?patient=" + PATIENT_ID + "&_sort=-date"}],
        "entry": [
            {
                "fullUrl": f"https://ehr.example.org/fhir/Observation/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in resources
        ],
    }


def patient_id(prefetch: dict[str, Any]) -> str:
    """The patient id of a prefetch Bundle made by `prefetch_bundle`."""
    reference: str = prefetch["entry"][0]["resource"]["subject"]["reference"]
    return reference.removeprefix("Patient/")


def hook_request(
    prefetch: dict[str, Any], hook_instance: str = HOOK_INSTANCE_PLACEHOLDER
) -> dict[str, Any]:
    return {
        "hook": "patient-view",
        "hookInstance": hook_instance,
        "context": {"userId": "Practitioner/bench-gp", "patientId": patient_id(prefetch)},
        "prefetch": by_template(prefetch),
    }


def by_template(bundle: dict[str, Any]) -> dict[str, Any]:
    """The Bundle's entries as the service's prefetch templates ask for them: under each key, a
    searchset of the entries its codes find (`null` for a key that finds none)."""
    out: dict[str, Any] = {}
    for key, template in _templates().items():
        entries = [e for e in bundle["entry"] if matches(template, e["resource"])]
        out[key] = {**bundle, "total": len(entries), "entry": entries} if entries else None
    return out


@cache
def _templates() -> dict[str, str]:
    return prefetch_templates(load_ruleset(SERVICE))


def request_template(prefetch: dict[str, Any]) -> tuple[bytes, bytes]:
    """The request body as bytes, split at the hookInstance so each request gets its own id
    without re-encoding 50 Observations on the client."""
    body = json.dumps(hook_request(prefetch), separators=(",", ":")).encode()
    head, _, tail = body.partition(HOOK_INSTANCE_PLACEHOLDER.encode())
    return head, tail
