"""FHIR quantities a unit cannot have (`ImpossibleValue`): left out, each with a warning, in
the value, the reference range and a component alike."""

from __future__ import annotations

from engine.model import Ruleset
from engine.records import Quantity

from .test_normalise import LOINC, SCT, UCUM, coded, cramp, lab, read


def test_a_negative_concentration_is_left_out_with_a_warning(fhir_ruleset: Ruleset) -> None:
    records, warnings = read(lab({"value": -2.2, "system": UCUM, "code": "mmol/L"}), fhir_ruleset)
    assert all(r.value is None for r in records)
    assert warnings == [
        "value -2.2 mmol/L is negative, which a substance concentration cannot be: value left out"
    ]


def test_a_negative_reference_limit_is_ignored_with_a_warning(fhir_ruleset: Ruleset) -> None:
    low = {"value": -0.0, "system": UCUM, "code": "mmol/L"}
    value = {"value": 3.1, "system": UCUM, "code": "mmol/L"}
    records, warnings = read(lab(value, referenceRange=[{"low": low}]), fhir_ruleset)
    assert [(r.value, r.reference_low) for r in records] == [(Quantity(3.1, "mmol/L"), None)]
    assert warnings == [
        "referenceRange.low -0 mmol/L is negative, which a substance concentration cannot be:"
        " reference range ignored"
    ]


def test_a_negative_duration_component_is_left_out_with_a_warning(fhir_ruleset: Ruleset) -> None:
    score = {"value": -2, "system": UCUM, "code": "{score}"}  # a score may run below zero
    components = [
        {"code": coded(SCT, "272391002"), "valueQuantity": score},
        {"code": coded(LOINC, "103335-7"), "valueQuantity": {"value": -15, "unit": "min"}},
    ]
    records, warnings = read(cramp(component=components), fhir_ruleset)
    assert [(r.present, r.value) for r in records] == [(True, None)]
    assert warnings == [
        "component value -15 min is negative, which a duration cannot be: component value left out"
    ]
