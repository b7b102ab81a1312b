"""What each scenario entry becomes: a FHIR R4 resource that validates, shaped as written."""

from __future__ import annotations

import contextlib
import functools
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from fhir.resources.R4B import get_fhir_model_class
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from fhir_adapters.scenario_data import KEYS
from fhir_adapters.scenarios import Scenario, ScenarioError, load_scenario, run_scenario

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"


@functools.cache
def calf() -> engine.Ruleset:
    """The packaged ruleset, loaded once: the fuzz test runs a scenario for every example."""
    return engine.load_ruleset("calf-fasciculation")


EVERYTHING = """\
scenario: Every kind of entry
now: 2026-03-31T09:00:00Z
patient: {birth-date: 1956-12-07, sex: female}
data:
  - observation: loinc#85354-9
    components:  # block style: a flow mapping {...} cannot hold mm[Hg] unquoted
      loinc#8480-6: 84 mm[Hg]
      loinc#8462-4: 50 mm[Hg]
  - observation: loinc#8601-7
    coded: sct#251259000
  - observation: loinc#2823-3
    id: potassium
    value: 6.8 mmol/L
    at: -2 hours
    specimen: {condition: v2-0493#HEM}
    note: Haemolysed sample - repeat advised
    interpretation: vigil#haemolysed-sample
    reference-high: 5.3 mmol/L
    reference-low: 3.5 mmol/L
  - medication-request: rxnorm#35296
    intent: order
    at: -200 days
    validity-end: +20 days
    expected-supply: 28 days
  - medication-statement: atc#C09AA05
    status: stopped
    at: -3 years
    end: -10 days
    asserted: -2 years
  - medication: dmd#318906001
    id: ramipril-caps
    ingredients: [rxnorm#35296]
  - medication-request: null
    medication-reference: ramipril-caps
    status: on-hold
  - procedure: sct#302497006
    at: -2 days
  - procedure: sct#302497006
    period: {start: -30 days, end: -29 days}
    status: in-progress
  - service-request: loinc#24362-6
    at: -1 hour
  - encounter: sct#11429006
    at: -30 days
  - encounter: null
    service-type: sct#394591006
    period: {start: -6 months, end: -6 months}
expect:
  escalation: none
"""


def scenario(tmp_path: Path, text: str) -> Scenario:
    path = tmp_path / "case.yaml"
    path.write_text(text)
    return load_scenario(path)


def resources(case: Scenario) -> list[dict[str, Any]]:
    return [e["resource"] for e in case.bundle["entry"]]


def by_id(case: Scenario) -> dict[str, dict[str, Any]]:
    return {f"{r['resourceType']}/{r['id']}": r for r in resources(case)}


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        scenario(tmp_path, text)
    return [f"{p.line}:{p.column}: {p.message}" for p in caught.value.problems]


def test_every_entry_is_an_r4_resource_that_validates(tmp_path: Path) -> None:
    case = scenario(tmp_path, EVERYTHING)
    for resource in resources(case):
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    get_fhir_model_class("Bundle").model_validate(case.bundle)
    assert sorted(by_id(case)) == [
        "Encounter/enc1",
        "Encounter/enc2",
        "Medication/ramipril-caps",
        "MedicationRequest/mr1",
        "MedicationRequest/mr2",
        "MedicationStatement/ms1",
        "Observation/o1",
        "Observation/o2",
        "Observation/potassium",
        "Patient/scenario-patient",
        "Procedure/proc1",
        "Procedure/proc2",
        "ServiceRequest/sr1",
        "Specimen/spec1",
    ]


def test_the_patient_has_a_birth_date_and_a_sex(tmp_path: Path) -> None:
    patient = by_id(scenario(tmp_path, EVERYTHING))["Patient/scenario-patient"]
    assert (patient["birthDate"], patient["gender"]) == ("1956-12-07", "female")


@pytest.mark.parametrize(("written", "read"), [("1956", "1956"), ("1956-12", "1956-12")])
def test_a_partial_birth_date_is_kept_as_written(tmp_path: Path, written: str, read: str) -> None:
    case = scenario(
        tmp_path,
        EVERYTHING.replace("birth-date: 1956-12-07", f"birth-date: {written}, id: mrs-k"),
    )
    patient = by_id(case)["Patient/mrs-k"]
    assert patient["birthDate"] == read
    get_fhir_model_class("Patient").model_validate(patient)
    assert case.patient == "mrs-k"


def test_an_observation_carries_components_coded_answers_specimen_notes_and_ranges(
    tmp_path: Path,
) -> None:
    found = by_id(scenario(tmp_path, EVERYTHING))
    panel = found["Observation/o1"]
    assert [
        (c["code"]["coding"][0]["code"], c["valueQuantity"]["value"], c["valueQuantity"]["code"])
        for c in panel["component"]
    ] == [("8480-6", 84.0, "mm[Hg]"), ("8462-4", 50.0, "mm[Hg]")]
    assert found["Observation/o2"]["valueCodeableConcept"] == {
        "coding": [{"system": "http://snomed.info/sct", "code": "251259000"}]
    }
    potassium = found["Observation/potassium"]
    assert potassium["specimen"] == {"reference": "Specimen/spec1"}
    assert found["Specimen/spec1"]["condition"] == [
        {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0493", "code": "HEM"}]}
    ]
    assert potassium["note"] == [{"text": "Haemolysed sample - repeat advised"}]
    assert potassium["interpretation"] == [
        {
            "coding": [
                {
                    "system": "https://vigil-cds.org/fhir/CodeSystem/vigil",
                    "code": "haemolysed-sample",
                }
            ]
        }
    ]
    assert potassium["referenceRange"] == [
        {
            "low": {"value": 3.5, "unit": "mmol/L", "system": UCUM, "code": "mmol/L"},
            "high": {"value": 5.3, "unit": "mmol/L", "system": UCUM, "code": "mmol/L"},
        }
    ]
    assert potassium["effectiveDateTime"] == "2026-03-31T07:00:00+00:00"


def test_lists_of_codes_notes_and_interpretations(tmp_path: Path) -> None:
    case = scenario(
        tmp_path,
        EVERYTHING.replace(
            "    note: Haemolysed sample - repeat advised\n"
            "    interpretation: vigil#haemolysed-sample\n",
            "    note: [Haemolysed, Repeat advised]\n"
            "    interpretation: [H, vigil#haemolysed-sample]\n"
            "    coded: [sct#1, sct#2]\n",
        )
        .replace("    value: 6.8 mmol/L\n", "")
        .replace(
            "specimen: {condition: v2-0493#HEM}",
            "specimen: {condition: [v2-0493#HEM, v2-0493#CLOT], contained: true}",
        ),
    )
    potassium = by_id(case)["Observation/potassium"]
    get_fhir_model_class("Observation").model_validate(potassium)
    assert potassium["note"] == [{"text": "Haemolysed"}, {"text": "Repeat advised"}]
    assert [i["coding"][0]["code"] for i in potassium["interpretation"]] == [
        "H",
        "haemolysed-sample",
    ]
    assert potassium["interpretation"][0]["coding"][0]["system"].endswith(
        "v3-ObservationInterpretation"
    )
    assert [c["code"] for c in potassium["valueCodeableConcept"]["coding"]] == ["1", "2"]
    assert potassium["specimen"] == {"reference": "#spec1"}
    assert [c["coding"][0]["code"] for c in potassium["contained"][0]["condition"]] == [
        "HEM",
        "CLOT",
    ]
    assert "Specimen/spec1" not in by_id(case)


def test_medication_requests_and_statements(tmp_path: Path) -> None:
    found = by_id(scenario(tmp_path, EVERYTHING))
    request = found["MedicationRequest/mr1"]
    assert request["medicationCodeableConcept"] == {"coding": [{"system": RXNORM, "code": "35296"}]}
    assert (request["status"], request["intent"]) == ("active", "order")
    assert request["authoredOn"] == "2025-09-12T09:00:00+00:00"
    assert request["dispenseRequest"] == {
        "validityPeriod": {"end": "2026-04-20T09:00:00+00:00"},
        "expectedSupplyDuration": {"value": 28.0, "unit": "days", "system": UCUM, "code": "d"},
    }
    statement = found["MedicationStatement/ms1"]
    assert statement["medicationCodeableConcept"]["coding"] == [
        {"system": "http://www.whocc.no/atc", "code": "C09AA05"}
    ]
    assert statement["status"] == "stopped"
    assert statement["effectivePeriod"] == {
        "start": "2023-03-31T09:00:00+00:00",
        "end": "2026-03-21T09:00:00+00:00",
    }
    assert statement["dateAsserted"] == "2024-03-31T09:00:00+00:00"


def test_a_medication_named_by_reference(tmp_path: Path) -> None:
    found = by_id(scenario(tmp_path, EVERYTHING))
    assert found["MedicationRequest/mr2"]["medicationReference"] == {
        "reference": "Medication/ramipril-caps"
    }
    assert "medicationCodeableConcept" not in found["MedicationRequest/mr2"]
    medication = found["Medication/ramipril-caps"]
    assert medication["code"]["coding"] == [{"system": "https://dmd.nhs.uk", "code": "318906001"}]
    assert medication["ingredient"] == [
        {"itemCodeableConcept": {"coding": [{"system": RXNORM, "code": "35296"}]}}
    ]


def test_a_reference_written_out_is_kept_to_test_resolution(tmp_path: Path) -> None:
    case = scenario(
        tmp_path,
        "scenario: x\nnow: 2026-03-01\ndata:\n"
        "  - medication-statement: null\n    medication-reference: Medication/nowhere\n"
        "  - medication-request: null\n    medication-reference: '#inside'\n"
        "    fhir: {contained: [{resourceType: Medication, id: inside}]}\n"
        "expect: {}\n",
    )
    found = by_id(case)
    assert found["MedicationStatement/ms1"]["medicationReference"] == {
        "reference": "Medication/nowhere"
    }
    assert found["MedicationRequest/mr1"]["medicationReference"] == {"reference": "#inside"}
    for resource in found.values():
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def test_procedures_service_requests_and_encounters(tmp_path: Path) -> None:
    found = by_id(scenario(tmp_path, EVERYTHING))
    assert found["Procedure/proc1"]["performedDateTime"] == "2026-03-29T09:00:00+00:00"
    assert found["Procedure/proc1"]["status"] == "completed"
    assert found["Procedure/proc2"]["performedPeriod"] == {
        "start": "2026-03-01T09:00:00+00:00",
        "end": "2026-03-02T09:00:00+00:00",
    }
    request = found["ServiceRequest/sr1"]
    assert (request["status"], request["intent"], request["authoredOn"]) == (
        "active",
        "order",
        "2026-03-31T08:00:00+00:00",
    )
    assert found["Encounter/enc1"]["type"][0]["coding"][0]["code"] == "11429006"
    assert found["Encounter/enc1"]["period"] == {"start": "2026-03-01T09:00:00+00:00"}
    assert found["Encounter/enc1"]["status"] == "finished"
    assert found["Encounter/enc2"]["serviceType"]["coding"][0]["code"] == "394591006"
    # six months before 31 March is 30 September: months are calendar months
    assert found["Encounter/enc2"]["period"]["start"] == "2025-09-30T09:00:00+00:00"


@pytest.mark.parametrize(
    ("now", "at", "expected"),
    [
        ("2026-03-31T09:00:00Z", "-1 month", "2026-02-28T09:00:00+00:00"),
        ("2024-02-29T09:00:00Z", "-1 year", "2023-02-28T09:00:00+00:00"),
        ("2026-01-31T09:00:00Z", "+1 month", "2026-02-28T09:00:00+00:00"),
        ("2026-03-01T09:00:00Z", "-15 months", "2024-12-01T09:00:00+00:00"),
        ("2026-03-01T09:00:00Z", "+20 days", "2026-03-21T09:00:00+00:00"),
        ("2026-03-01T09:00:00Z", "-2 hours", "2026-03-01T07:00:00+00:00"),
        ("2026-03-01T09:00:00Z", "2025-06-01T10:30:00+01:00", "2025-06-01T10:30:00+01:00"),
        ("2026-03-01T09:00:00Z", "2025-06-01T10:30:00", "2025-06-01T10:30:00+00:00"),
        ("2026-03-01T09:00:00Z", "2025-06-01", "2025-06-01"),  # a date stays date-only
        ("2026-03-01T09:00:00Z", "2025-06", "2025-06"),
        ("2026-03-01T09:00:00Z", "2025", "2025"),
    ],
)
def test_relative_times_count_months_and_years_on_the_calendar(
    tmp_path: Path, now: str, at: str, expected: str
) -> None:
    case = scenario(
        tmp_path,
        f"scenario: x\nnow: {now}\ndata:\n  - procedure: sct#1\n    at: {at}\nexpect: {{}}\n",
    )
    assert by_id(case)["Procedure/proc1"]["performedDateTime"] == expected


def test_a_time_left_out_on_purpose(tmp_path: Path) -> None:
    case = scenario(
        tmp_path,
        "scenario: x\nnow: 2026-03-01\ndata:\n  - procedure: sct#1\n    at: null\nexpect: {}\n",
    )
    assert "performedDateTime" not in by_id(case)["Procedure/proc1"]


def test_mistakes_in_the_new_entries_are_reported_at_their_lines(tmp_path: Path) -> None:
    text = (
        "scenario: x\n"
        "now: 2026-03-01\n"
        "patient: {birth-date: 12/07/1956, sex: f, weight: 70}\n"
        "data:\n"
        "  - medication-request: rxnorm#35296\n"
        "    status: activ\n"
        "    dose: 5 mg\n"
        "    expected-supply: 28 mmol/L\n"
        "  - medication-statement: rxnorm#1\n"
        "    at: -1.5 months\n"
        "  - procedure: sct#1\n"
        "    encounter: sct#2\n"
        "  - observation: loinc#85354-9\n"
        "    components: [loinc#8480-6]\n"
        "    value: 3 mmol/L\n"
        "    coded: sct#1\n"
        "  - encounter: sct#1\n"
        "    period: {start: -1 day, stop: now}\n"
        "  - service-request: sct#1\n"
        "    intent: maybe\n"
        "expect: {}\n"
    )
    assert problems(tmp_path, text) == [
        "3:23: birth-date: is a date, 1956-12-07, or partial, 1956-12 or 1956; got '12/07/1956'",
        "3:40: sex: is one of male, female, other, unknown; got 'f'",
        "3:43: unknown key 'weight' in patient",
        "6:13: status: is one of active, on-hold, cancelled, completed, entered-in-error, "
        "stopped, draft, unknown; got 'activ'",
        "7:5: unknown key 'dose' in a medication-request entry",
        "8:22: '28 mmol/L' is not a duration such as '28 days'",
        "10:9: months and years are whole numbers; got '-1.5 months'",
        "11:5: a data entry is one resource; it names procedure and encounter",
        "14:17: components: maps each code to its value, one a line: loinc#8480-6: 84 mm[Hg]",
        "16:12: an observation has one value: value: or coded:",
        "18:13: period: is a mapping with start: and end:",
        "20:13: intent: is one of order, proposal, plan, directive, original-order, "
        "reflex-order, filler-order, instance-order, option; got 'maybe'",
    ]


values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
KINDS = sorted(KEYS)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_no_entry_makes_a_traceback(data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(KINDS))
    key = data.draw(st.sampled_from(sorted(KEYS[kind] | {kind})))
    entry: dict[str, object] = {kind: "sct#1", key: data.draw(values)}
    case: dict[str, object] = {"scenario": "x", "now": "2026-03-01", "data": [entry], "expect": {}}
    if data.draw(st.booleans()):
        case["patient"] = data.draw(values)
    path = Path(tempfile.gettempdir()) / "vigil-fuzz-scenario-data.yaml"
    path.write_text(yaml.safe_dump(case))
    try:
        loaded = load_scenario(path)
    except ScenarioError as error:
        assert error.problems
        return
    with contextlib.suppress(engine.VigilError):
        run_scenario(loaded, calf())


def test_a_scenario_with_every_kind_of_entry_runs_through_the_fhir_path(tmp_path: Path) -> None:
    outcome = run_scenario(scenario(tmp_path, EVERYTHING), calf())
    assert outcome.failures == ()
    assert outcome.result is not None
    assert outcome.result.patient == "Patient/scenario-patient"
