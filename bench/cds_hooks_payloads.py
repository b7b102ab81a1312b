"""CDS Hooks `patient-view` requests for the calf-fasciculation service (bench/cds_hooks_bench.py).

One patient, `size` prefetched Observations of the kinds the ruleset reads, as an EHR would send
them from the advertised `observations` template (a searchset Bundle, newest first):
- twitching (sct#82470000, valueBoolean) with a `bodySite` (calf, thigh, hand);
- potassium, magnesium and calcium labs (LOINC) with UCUM `valueQuantity` in mmol/L, mEq/L or
  mg/dL, an interpretation and a `referenceRange`;
- muscle weakness (sct#26544005) present.
Times fall in the 40 days before `now`, so labs are inside the ruleset's 30-day lookback; the
potassium values reach below 3.5 mmol/L with weakness, so the answer is a card with a draft
ServiceRequest (the card building and ServiceRequest validation are part of what is measured).
`conditions` is prefetched as `null` (no such data), so nothing is fetched from a FHIR server.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

LOINC, SCT, UCUM = "http://loinc.org", "http://snomed.info/sct", "http://unitsofmeasure.org"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
RANGE_MEANING = "http://terminology.hl7.org/CodeSystem/referencerange-meaning"
PATIENT_ID = "bench-cds-1"
SERVICE = "calf-fasciculation"
HOOK_INSTANCE_PLACEHOLDER = "00000000-0000-4000-8000-00000000beef"

# (LOINC, display, UCUM code, mmol/L -> unit factor, normal low and high in mmol/L)
LABS = [
    ("2823-3", "Potassium [Moles/volume] in Serum or Plasma", "mmol/L", 1.0, 3.5, 5.1),
    ("6298-4", "Potassium [Moles/volume] in Blood", "meq/L", 1.0, 3.5, 5.1),
    ("2601-3", "Magnesium [Moles/volume] in Serum or Plasma", "mmol/L", 1.0, 0.7, 1.0),
    ("19123-9", "Magnesium [Mass/volume] in Serum or Plasma", "mg/dL", 2.4305, 0.7, 1.0),
    ("2000-8", "Calcium [Moles/volume] in Serum or Plasma", "mmol/L", 1.0, 2.2, 2.6),
    ("17861-6", "Calcium [Mass/volume] in Serum or Plasma", "mg/dL", 4.0078, 2.2, 2.6),
]
UNIT_TEXT = {"mmol/L": "mmol/L", "meq/L": "mEq/L", "mg/dL": "mg/dL"}
SITES = [("53840002", "Calf structure"), ("68367000", "Thigh structure"), ("85562004", "Hand")]


def _concept(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def _quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": UNIT_TEXT.get(unit, unit), "system": UCUM, "code": unit}


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
        "category": [_concept(CATEGORY, category, category.title())],
        "code": code,
        "subject": {"reference": "Patient/" + PATIENT_ID},
        "effectiveDateTime": when,
        "issued": when,
        "performer": [{"reference": "Practitioner/bench-gp", "display": "Dr Bench"}],
    }


def _lab(index: int, moment: datetime, rng: random.Random) -> dict[str, Any]:
    code, display, unit, factor, low, high = LABS[index % len(LABS)]
    mmol = rng.uniform(low * 0.7, high)
    obs = _observation(index, moment, "laboratory", _concept(LOINC, code, display))
    obs["valueQuantity"] = _quantity(round(mmol * factor, 2), unit)
    flag = ("L", "Low") if mmol < low else ("N", "Normal")
    obs["interpretation"] = [_concept(INTERPRETATION, *flag)]
    obs["referenceRange"] = [
        {
            "low": _quantity(round(low * factor, 2), unit),
            "high": _quantity(round(high * factor, 2), unit),
            "type": _concept(RANGE_MEANING, "normal", "Normal Range"),
        }
    ]
    obs["specimen"] = {"reference": "Specimen/bench-serum", "display": "Serum specimen"}
    return obs


def _twitching(index: int, moment: datetime, rng: random.Random) -> dict[str, Any]:
    obs = _observation(index, moment, "exam", _concept(SCT, "82470000", "Fasciculation"))
    obs["valueBoolean"] = True
    obs["bodySite"] = _concept(SCT, *rng.choice(SITES))
    return obs


def _weakness(index: int, moment: datetime, rng: random.Random) -> dict[str, Any]:
    obs = _observation(index, moment, "exam", _concept(SCT, "26544005", "Muscle weakness"))
    obs["valueCodeableConcept"] = _concept(SCT, "52101004", "Present")
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
        newest_potassium["interpretation"] = [_concept(INTERPRETATION, "L", "Low")]
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
        "prefetch": {"observations": prefetch, "conditions": None},
    }


def request_template(prefetch: dict[str, Any]) -> tuple[bytes, bytes]:
    """The request body as bytes, split at the hookInstance so each request gets its own id
    without re-encoding 50 Observations on the client."""
    body = json.dumps(hook_request(prefetch), separators=(",", ":")).encode()
    head, _, tail = body.partition(HOOK_INSTANCE_PLACEHOLDER.encode())
    return head, tail
