"""Validation with the R4B models: what is repaired, what is left out, what is never validated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.observation import Observation
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.model import Ruleset
from fhir_adapters import patients
from fhir_adapters.reading import RawResource, load_resources
from fhir_adapters.validation import is_used, validate

LOINC = "http://loinc.org"


def raw(**fields: Any) -> RawResource:
    data: dict[str, Any] = {
        "resourceType": "Observation",
        "id": "o1",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "2823-3"}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-03-01T09:00:00Z",
        "valueQuantity": {"value": 3.1, "unit": "mmol/L"},
    }
    data.update(fields)
    return RawResource({k: v for k, v in data.items() if v is not None}, "test")


def messages(warnings: list[Any]) -> list[str]:
    return [str(w) for w in warnings]


def test_valid_observation_validates_without_warnings() -> None:
    validated, warnings = validate(raw())
    assert validated is not None and isinstance(validated.model, Observation)
    assert validated.reference == "Observation/o1"
    assert warnings == []


def test_element_r4_does_not_define_is_dropped_with_a_warning() -> None:
    validated, warnings = validate(raw(context={"reference": "Encounter/e1"}))
    assert validated is not None
    assert messages(warnings) == [
        "Observation/o1: element 'context' is not defined in FHIR R4; ignored"
    ]


def test_nested_unknown_element_is_named_by_its_path() -> None:
    component = {"code": {"text": "duration"}, "valueQuantity": {"value": 5}, "colour": "red"}
    validated, warnings = validate(raw(component=[component]))
    assert validated is not None
    assert messages(warnings) == [
        "Observation/o1: element 'component[0].colour' is not defined in FHIR R4; ignored"
    ]


def test_datetime_without_timezone_is_read_as_utc_with_a_warning() -> None:
    validated, warnings = validate(raw(effectiveDateTime="2024-03-01T09:00:00"))
    assert validated is not None
    assert validated.model.effectiveDateTime.isoformat() == "2024-03-01T09:00:00+00:00"  # type: ignore[union-attr]
    assert messages(warnings) == [
        "Observation/o1: effectiveDateTime '2024-03-01T09:00:00' has no timezone; read as UTC"
    ]


def test_raw_input_is_not_modified_by_repairs() -> None:
    resource = raw(context={"reference": "Encounter/e1"})
    validate(resource)
    assert "context" in resource.data


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        (
            {"valueQuantity": {"value": "low", "unit": "mmol/L"}},
            "valueQuantity.value: Decimal value string does not match spec regex.",
        ),
        ({"status": None}, "status: Value for the field 'status' is required."),
        ({"subject": "Patient/p1"}, "subject: Invalid JSON"),
        ({"code": {"coding": [None]}}, "code.coding: None is not allowed as an element of coding"),
    ],
)
def test_invalid_resource_is_left_out_with_a_warning(fields: dict[str, Any], problem: str) -> None:
    validated, warnings = validate(raw(**fields))
    assert validated is None
    [warning] = warnings
    assert warning.source == "Observation/o1"
    assert warning.message.startswith("not valid FHIR R4, left out: ")
    assert problem in warning.message
    assert "\n" not in warning.message


def test_an_invalid_field_alongside_an_unknown_one_still_leaves_it_out() -> None:
    validated, warnings = validate(raw(context={}, valueQuantity={"value": True}))
    assert validated is None
    assert "valueQuantity.value" in messages(warnings)[-1]


def test_other_resource_types_are_not_read() -> None:
    resource = RawResource({"resourceType": "Claim", "id": "e"}, "test")
    validated, warnings = validate(resource)
    assert validated is None
    assert messages(warnings) == ["Claim/e: Claim resources are not read"]


def test_only_resources_the_ruleset_maps_are_used(fhir_ruleset: Ruleset) -> None:
    sodium = {"coding": [{"system": LOINC, "code": "2951-2"}]}
    display_only = {"coding": [{"display": "Potassium"}], "text": "Potassium"}
    assert is_used(raw(), fhir_ruleset)
    assert not is_used(raw(code=sodium), fhir_ruleset)
    assert not is_used(raw(code=display_only), fhir_ruleset)
    assert is_used(RawResource({"resourceType": "Patient", "id": "p"}, "t"), fhir_ruleset)
    assert not is_used(RawResource({"resourceType": "Encounter", "id": "e"}, "t"), fhir_ruleset)


def test_unused_resources_are_never_validated(
    fhir_ruleset: Ruleset, fhir_samples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = next((fhir_samples / "synthea-r4").glob("Cameron_Greenfelder_*.json"))
    loaded = load_resources(path)
    validated: list[str] = []

    def counting(resource: RawResource, *args: Any) -> Any:
        validated.append(resource.reference)
        return validate(resource, *args)

    monkeypatch.setattr(patients, "validate", counting)
    patients.patient_records(loaded, fhir_ruleset)
    used = [r.reference for r in loaded.resources if is_used(r, fhir_ruleset)]
    # every resource rules read is validated; the Patient only names the patient
    assert validated == [ref for ref in used if not ref.startswith("Patient/")]
    assert len(used) < len(loaded.resources) / 10  # one Patient and its potassium results


junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["code", "status", "subject", "valueQuantity", "component", "context"]),
        junk,
    )
)
def test_validation_never_raises(fields: dict[str, Any]) -> None:
    validated, warnings = validate(raw(**fields))
    assert validated is not None or warnings
