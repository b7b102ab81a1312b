"""Codes, units and small FHIR element builders shared by the benchmarks' generated Bundles."""

from __future__ import annotations

from typing import Any

LOINC, SCT, UCUM = "http://loinc.org", "http://snomed.info/sct", "http://unitsofmeasure.org"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
RANGE_MEANING = "http://terminology.hl7.org/CodeSystem/referencerange-meaning"

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


def coding(system: str, code: str, display: str) -> dict[str, Any]:
    """A CodeableConcept with one coding and its text."""
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def quantity(value: float, unit: str) -> dict[str, Any]:
    """A UCUM valueQuantity, with the unit written as labs print it."""
    return {"value": value, "unit": UNIT_TEXT.get(unit, unit), "system": UCUM, "code": unit}


def add_lab_result(
    obs: dict[str, Any], lab: tuple[str, str, str, float, float, float], mmol: float
) -> dict[str, Any]:
    """Fill a lab Observation's value (given in mmol/L, written in the lab's unit), its
    interpretation, reference range and specimen."""
    _, _, unit, factor, low, high = lab
    obs["valueQuantity"] = quantity(round(mmol * factor, 2), unit)
    flag = ("L", "Low") if mmol < low else ("N", "Normal")
    obs["interpretation"] = [coding(INTERPRETATION, *flag)]
    obs["referenceRange"] = [
        {
            "low": quantity(round(low * factor, 2), unit),
            "high": quantity(round(high * factor, 2), unit),
            "type": coding(RANGE_MEANING, "normal", "Normal Range"),
        }
    ]
    obs["specimen"] = {"reference": "Specimen/bench-serum", "display": "Serum specimen"}
    return obs
