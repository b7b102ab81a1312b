"""Helpers for the Observation-shape and event tests: a hand-built ruleset of the new concept
kinds, FHIR resources of one patient, and reading a Bundle through `patient_records`."""

from __future__ import annotations

import dataclasses
from typing import Any

from engine.clock import Duration
from engine.codes import Code, parse_code
from engine.conditions import Presence, Window
from engine.model import Action, Concept, Marker, Rule, Ruleset
from engine.records import Record
from fhir_adapters.patients import patient_records

from .conftest import concept, make_ruleset

LOINC = "http://loinc.org"
SCT = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
V2_0493 = "http://terminology.hl7.org/CodeSystem/v2-0493"
WHEN = "2026-02-28T10:00:00Z"

SYSTEMS = {
    "loinc": LOINC,
    "sct": SCT,
    "ucum": UCUM,
    "vigil": "https://vigil-cds.org/fhir/CodeSystem/vigil",
    "v2-0493": V2_0493,
}

HAEMOLYSED = Marker(
    "haemolysed",
    specimen_conditions=(Code(V2_0493, "HEM"),),
    interpretations=(parse_code("vigil#haemolysed-sample"),),
    # the clinical spec's `\bhae?moly[sz]` needs the "a": it misses "hemolyzed"
    note=r"\bh(a)?emoly[sz]",
    negation=r"\b(no|not|non|none|nil|without|normal|negligible|absent)\b|n't\b",
)

SHAPE_CONCEPTS = (
    concept("systolic_bp", "loinc#8480-6", unit="mm[Hg]", kind="quantity"),
    concept(
        "ecg_change",
        "sct#251259000",
        "sct#991002",
        kind="finding",
        answers_of=(parse_code("loinc#8601-7"), parse_code("loinc#18844-1")),
    ),
    concept("ecg_rhythm", "loinc#8884-9", kind="coded"),
    concept(
        "potassium",
        "loinc#2823-3",
        "loinc#6298-4",
        unit="mmol/L",
        kind="quantity",
        molar_mass=39.098,
        valence=1,
        markers=(HAEMOLYSED,),
    ),
    concept(
        "creatinine",
        "loinc#2160-0",
        "loinc#14682-9",
        unit="umol/L",
        kind="quantity",
        molar_mass=113.12,
    ),
    concept("news2", "sct#1104051000000101", kind="score"),
    concept("aki_coded", "sct#14669001", kind="finding"),
    concept("weakness", "sct#26544005", kind="finding"),
    concept(
        "dialysis",
        "sct#302497006",
        "sct#108241001",
        kind="event",
        resource="Procedure",
    ),
    concept("renal_order", "loinc#24362-6", kind="event", resource="ServiceRequest"),
    concept("neurology_visit", "sct#394591006", kind="event", resource="Encounter"),
    concept(
        "ecg_done",
        "sct#268400002",
        kind="event",
        resource="Procedure",
        statuses=("completed",),
    ),
)


def _windowed(name: str) -> Rule:
    window = Window("within", Duration(30, "days"), None, "within 30 days")
    text = f"{name} present within 30 days"
    return Rule(text, text, Presence(name, "present", None, text, (), window), Action())


def shapes_ruleset() -> Ruleset:
    """Concepts of every kind the readers know; `aki_coded` is read within a window."""
    return dataclasses.replace(
        make_ruleset(),
        concepts={c.name: c for c in SHAPE_CONCEPTS},
        rules=(_windowed("aki_coded"),),
        code_systems=SYSTEMS,
    )


def coded(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def observation(oid: str, system: str, code: str, **fields: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": coded(system, code),
        "subject": {"reference": "Patient/p"},
        "effectiveDateTime": WHEN,
    }
    resource.update(fields)
    return resource


def quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def bundle(*resources: dict[str, Any], urls: dict[str, str] | None = None) -> dict[str, Any]:
    """A Bundle of Patient/p and the resources; `urls` gives some (by id) a fullUrl."""
    entries: list[dict[str, Any]] = [{"resource": {"resourceType": "Patient", "id": "p"}}]
    for resource in resources:
        entry: dict[str, Any] = {"resource": resource}
        url = (urls or {}).get(str(resource.get("id")))
        if url is not None:
            entry["fullUrl"] = url
        entries.append(entry)
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def read(data: Any, ruleset: Ruleset | None = None) -> tuple[list[Record], list[str]]:
    """Patient/p's records and warnings (`source: message`), and the batch's, together."""
    batch = patient_records(data, ruleset or shapes_ruleset())
    found = batch.get("Patient/p")
    assert found is not None
    warnings = [*found.warnings, *batch.warnings]
    return list(found.records), [f"{w.source}: {w.message}" for w in warnings]


__all__ = [
    "LOINC",
    "SCT",
    "UCUM",
    "V2_0493",
    "Concept",
    "bundle",
    "coded",
    "observation",
    "quantity",
    "read",
    "shapes_ruleset",
]
