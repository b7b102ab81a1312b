"""Observations and Conditions as engine Records, row by row of clinical-spec.md."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engine.codes import LOCAL_SYSTEM
from engine.model import Ruleset
from engine.records import Quantity, Record
from fhir_adapters.normalise import records_for
from fhir_adapters.reading import RawResource
from fhir_adapters.validation import validate

SCT = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
CALF = f"{SCT}#53840002"
WHEN = "2024-03-01T09:00:00Z"
AT = datetime(2024, 3, 1, 9, tzinfo=UTC)


def coded(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def observation(code: dict[str, Any], **fields: Any) -> dict[str, Any]:
    resource = {
        "resourceType": "Observation",
        "id": "o1",
        "status": "final",
        "code": code,
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": WHEN,
    }
    resource.update(fields)
    return {k: v for k, v in resource.items() if v is not None}


def finding(**fields: Any) -> dict[str, Any]:
    return observation(coded(SCT, "82470000"), **fields)  # fasciculation


def lab(value: dict[str, Any] | None, code: str = "2823-3", **fields: Any) -> dict[str, Any]:
    return observation(coded(LOINC, code), valueQuantity=value, **fields)


def condition(**fields: Any) -> dict[str, Any]:
    resource = {
        "resourceType": "Condition",
        "id": "c1",
        "code": coded(SCT, "82470000"),
        "subject": {"reference": "Patient/p1"},
        "clinicalStatus": coded(
            "http://terminology.hl7.org/CodeSystem/condition-clinical", "active"
        ),
        "onsetDateTime": "2024-02-01",
    }
    resource.update(fields)
    return {k: v for k, v in resource.items() if v is not None}


def status(code: str, kind: str = "clinical") -> dict[str, Any]:
    system = {"clinical": "condition-clinical", "verification": "condition-ver-status"}[kind]
    return coded(f"http://terminology.hl7.org/CodeSystem/{system}", code)


def read(resource: dict[str, Any], ruleset: Ruleset) -> tuple[list[Record], list[str]]:
    validated, warnings = validate(RawResource(resource, "test"))
    assert validated is not None, warnings
    records, more = records_for(validated, ruleset)
    return records, [w.message for w in [*warnings, *more]]


def one(resource: dict[str, Any], ruleset: Ruleset) -> Record:
    records, warnings = read(resource, ruleset)
    assert warnings == []
    [record] = records
    return record


# Presence and absence of findings

NEG = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
            "code": "NEG",
        }
    ]
}


@pytest.mark.parametrize(
    ("fields", "present"),
    [
        ({}, True),
        ({"valueBoolean": True}, True),
        ({"valueBoolean": False}, False),
        ({"valueCodeableConcept": coded(SCT, "52101004")}, True),
        ({"valueCodeableConcept": coded(SCT, "2667000")}, False),
        ({"interpretation": [NEG]}, False),
        ({"valueBoolean": False, "interpretation": [NEG]}, False),
    ],
)
def test_finding_presence(fhir_ruleset: Ruleset, fields: dict[str, Any], present: bool) -> None:
    record = one(finding(**fields), fhir_ruleset)
    assert (record.concept, record.present, record.value) == ("fasciculation", present, None)
    assert (record.source, record.time, record.preliminary) == ("Observation/o1", AT, False)


def test_present_value_matched_on_code_not_display(fhir_ruleset: Ruleset) -> None:
    value = {"coding": [{"system": SCT, "code": "999", "display": "Present"}], "text": "Present"}
    records, warnings = read(finding(valueCodeableConcept=value), fhir_ruleset)
    assert records == []
    assert warnings == [
        "coded value is neither SNOMED 52101004 Present nor 2667000 Absent: left out"
    ]


def test_true_value_with_negative_interpretation_is_left_out(fhir_ruleset: Ruleset) -> None:
    records, warnings = read(finding(valueBoolean=True, interpretation=[NEG]), fhir_ruleset)
    assert records == []
    assert warnings == ["valueBoolean true contradicts interpretation NEG: left out"]


def test_present_value_with_negative_interpretation_is_a_contradiction(
    fhir_ruleset: Ruleset,
) -> None:
    present = coded(SCT, "52101004")
    records, warnings = read(
        finding(valueCodeableConcept=present, interpretation=[NEG]), fhir_ruleset
    )
    assert records == []
    assert warnings == [
        "coded value SNOMED 52101004 Present contradicts interpretation NEG: left out"
    ]


def test_codes_not_display_choose_the_concept(fhir_ruleset: Ruleset) -> None:
    code = {"coding": [{"system": SCT, "code": "1", "display": "Muscle fasciculation"}]}
    assert read(observation(code), fhir_ruleset) == ([], [])


def test_codings_of_two_concepts_contradict_each_other(fhir_ruleset: Ruleset) -> None:
    code = {"coding": [{"system": LOINC, "code": "2823-3"}, {"system": LOINC, "code": "2601-3"}]}
    value = {"value": 0.6, "system": UCUM, "code": "mmol/L"}
    assert read(observation(code, valueQuantity=value), fhir_ruleset) == (
        [],
        ["code has codings of different concepts (potassium, magnesium): left out"],
    )


def test_codings_of_one_concept_give_one_record(fhir_ruleset: Ruleset) -> None:
    code = {
        "coding": [
            {"system": LOINC, "code": "2823-3"},
            {"system": SCT, "code": "59573005"},  # a potassium measurement the ruleset lacks
            {"system": LOINC, "code": "6298-4"},
        ]
    }
    value = {"value": 3.1, "system": UCUM, "code": "mmol/L"}
    record = one(observation(code, valueQuantity=value), fhir_ruleset)
    assert (record.concept, record.value) == ("potassium", Quantity(3.1, "mmol/L"))


def test_body_site_is_system_and_code(fhir_ruleset: Ruleset) -> None:
    site = {
        "coding": [
            {"system": "http://example.org/local", "code": "LC"},
            {"system": SCT, "code": "53840002"},
        ]
    }
    assert one(finding(bodySite=site), fhir_ruleset).site == CALF  # the coding the ruleset names
    assert one(finding(bodySite=coded(SCT, "12345")), fhir_ruleset).site == f"{SCT}#12345"


# Status


@pytest.mark.parametrize("code", ["final", "amended", "corrected"])
def test_counted_statuses(fhir_ruleset: Ruleset, code: str) -> None:
    assert one(finding(status=code), fhir_ruleset).preliminary is False


def test_preliminary_finding_counts_flagged(fhir_ruleset: Ruleset) -> None:
    assert one(finding(status="preliminary"), fhir_ruleset).preliminary is True


def test_preliminary_lab_result_is_left_out(fhir_ruleset: Ruleset) -> None:
    records, warnings = read(
        lab({"value": 2.1, "system": UCUM, "code": "mmol/L"}, status="preliminary"), fhir_ruleset
    )
    assert records == []
    assert warnings == ["status 'preliminary': a preliminary potassium result does not count"]


@pytest.mark.parametrize("code", ["entered-in-error", "cancelled", "registered"])
def test_ignored_statuses_warn(fhir_ruleset: Ruleset, code: str) -> None:
    assert read(finding(status=code), fhir_ruleset) == ([], [f"status {code!r}: ignored"])


def test_unknown_status_is_ignored_with_a_warning(fhir_ruleset: Ruleset) -> None:
    records, warnings = read(finding(status="unknown"), fhir_ruleset)
    assert records == []
    assert warnings == ["status 'unknown' is not final, amended, corrected or preliminary: ignored"]


# Quantities and units


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            {"value": 3.1, "system": UCUM, "code": "mmol/L", "unit": "mmol/L"},
            Quantity(3.1, "mmol/L"),
        ),
        ({"value": 3.1, "unit": "mmol/L"}, Quantity(3.1, "mmol/L")),  # no code: the unit text
        ({"value": 3.1, "unit": "mmol/l"}, Quantity(3.1, "mmol/L")),
        ({"value": 3100, "unit": "µmol/L"}, Quantity(3100, "umol/L")),  # the micro sign
        ({"value": 3100, "unit": "μmol/L"}, Quantity(3100, "umol/L")),  # the Greek mu
        ({"value": 3.1, "system": UCUM, "code": "mEq/L"}, Quantity(3.1, "meq/L")),
        (
            {"value": 3.1, "system": "http://x", "code": "MMOL", "unit": "mmol/L"},
            Quantity(3.1, "mmol/L"),
        ),
    ],
)
def test_lab_units(fhir_ruleset: Ruleset, value: dict[str, Any], expected: Quantity) -> None:
    record = one(lab(value), fhir_ruleset)
    assert (record.concept, record.value, record.present) == ("potassium", expected, True)


@pytest.mark.parametrize(
    ("value", "warning"),
    [
        (
            {"value": 3.1, "system": UCUM, "code": "mmol/kg"},
            "mmol/kg (substance content) cannot be converted to mmol/L for potassium:"
            " value left out",
        ),
        (
            {"value": 3.1, "system": UCUM, "code": "mmol/furlong"},
            "unit 'mmol/furlong' is not one Vigil can read: value left out",
        ),
        (
            {"value": 3.1, "unit": "millimoles"},
            "unit 'millimoles' is not one Vigil can read: value left out",
        ),
        (
            {"value": 3.1, "system": "http://x", "code": "MMOL"},
            "unit code 'MMOL' of http://x is not a UCUM unit: value left out",
        ),
        ({"value": 3.1}, "value has no unit (mmol/L expected): left out"),
        ({"unit": "mmol/L"}, "value has no number: value left out"),
        (
            {"value": 2.0, "comparator": "<", "unit": "mmol/L"},
            "value is a bound (<2.0), not a result: value left out",
        ),
        (
            {"value": 3.1, "system": UCUM, "code": "h"},
            "h (duration) cannot be converted to mmol/L for potassium: value left out",
        ),
    ],
)
def test_units_that_cannot_be_used_leave_the_value_out(
    fhir_ruleset: Ruleset, value: dict[str, Any], warning: str
) -> None:
    assert read(lab(value), fhir_ruleset) == ([], [warning])


def test_ucum_code_decides_over_a_disagreeing_unit_with_a_warning(fhir_ruleset: Ruleset) -> None:
    value = {"value": 3.0, "unit": "mmol/L", "system": UCUM, "code": "umol/L"}
    records, warnings = read(lab(value), fhir_ruleset)
    assert [r.value for r in records] == [Quantity(3.0, "umol/L")]
    assert warnings == [
        "value unit 'mmol/L' disagrees with its UCUM code 'umol/L': the code is trusted (umol/L)"
    ]


@pytest.mark.parametrize("text", ["mmol/l", "MMOL/L", "millimoles per litre", " "])
def test_a_spelling_or_free_text_unit_does_not_disagree_with_the_code(
    fhir_ruleset: Ruleset, text: str
) -> None:
    value = {"value": 3.0, "unit": text, "system": UCUM, "code": "mmol/L"}
    assert one(lab(value), fhir_ruleset).value == Quantity(3.0, "mmol/L")


def test_a_code_without_system_is_read_as_ucum_unless_the_unit_names_another(
    fhir_ruleset: Ruleset,
) -> None:
    # FHIR wants a system beside a code, but a clear 2.1 mmol/L must not be lost for it
    for value in (
        {"value": 2.1, "code": "mmol/L"},
        {"value": 2.1, "unit": "mmol/L", "code": "mmol/L"},
    ):
        assert one(lab(value), fhir_ruleset).value == Quantity(2.1, "mmol/L"), value
    free_text = {"value": 2.1, "unit": "millimoles per litre", "code": "mmol/L"}
    records, _ = read(lab(free_text), fhir_ruleset)  # with a warning: see the test below
    assert [r.value for r in records] == [Quantity(2.1, "mmol/L")]
    disagreeing = {"value": 3.0, "unit": "mmol/L", "code": "umol/L"}
    assert read(lab(disagreeing), fhir_ruleset) == (
        [],
        [
            "unit 'mmol/L' and unit code 'umol/L' (without a system) name different units:"
            " value left out"
        ],
    )
    unreadable = {"value": 3.0, "code": "mmol/kg/hour"}
    assert read(lab(unreadable), fhir_ruleset) == (
        [],
        ["unit code 'mmol/kg/hour' (without a system) is not one Vigil can read: value left out"],
    )


def test_a_code_of_another_system_that_disagrees_with_the_unit_warns(
    fhir_ruleset: Ruleset,
) -> None:
    value = {"value": 3.0, "unit": "mmol/L", "system": "http://x", "code": "umol/L"}
    records, warnings = read(lab(value), fhir_ruleset)
    assert [r.value for r in records] == [Quantity(3.0, "mmol/L")]
    assert warnings == [
        "value unit 'mmol/L' disagrees with its code 'umol/L' (of http://x, so not known to be "
        "UCUM): the unit is used (mmol/L)"
    ]


def test_reference_range_and_component_unit_disagreements_warn(fhir_ruleset: Ruleset) -> None:
    low = {"value": 3.5, "unit": "umol/L", "system": UCUM, "code": "mmol/L"}
    ranges = [{"low": low}]
    records, warnings = read(
        lab({"value": 3.4, "unit": "mmol/L"}, referenceRange=ranges), fhir_ruleset
    )
    assert [r.reference_low for r in records] == [Quantity(3.5, "mmol/L")]  # the code
    assert warnings == [
        "referenceRange.low unit 'umol/L' disagrees with its UCUM code 'mmol/L': "
        "the code is trusted (mmol/L)"
    ]
    duration = {"value": 15, "unit": "h", "system": UCUM, "code": "min"}
    records, warnings = read(
        cramp(component=[{"code": coded(LOINC, "103335-7"), "valueQuantity": duration}]),
        fhir_ruleset,
    )
    assert [r.value for r in records] == [Quantity(15, "min")]
    assert warnings == [
        "component value unit 'h' disagrees with its UCUM code 'min': the code is trusted (min)"
    ]


def test_mass_loinc_code_with_molar_unit_trusts_the_unit(fhir_ruleset: Ruleset) -> None:
    records, warnings = read(
        lab({"value": 0.8, "system": UCUM, "code": "mmol/L"}, "19123-9"), fhir_ruleset
    )
    assert [r.value for r in records] == [Quantity(0.8, "mmol/L")]
    assert warnings == [
        "LOINC 19123-9 is a mass concentration but the value is in mmol/L "
        "(substance concentration); the unit is trusted"
    ]


def test_mass_code_in_mass_unit_and_equivalents_for_molar_code_do_not_warn(
    fhir_ruleset: Ruleset,
) -> None:
    assert one(
        lab({"value": 1.7, "system": UCUM, "code": "mg/dL"}, "19123-9"), fhir_ruleset
    ).value == Quantity(1.7, "mg/dL")
    assert one(lab({"value": 3.4, "unit": "mEq/L"}, "2823-3"), fhir_ruleset).value == Quantity(
        3.4, "meq/L"
    )


def test_reference_range_low_in_the_values_unit(fhir_ruleset: Ruleset) -> None:
    ranges = [
        {"low": {"value": 3.0, "unit": "mmol/L"}, "appliesTo": [coded(SCT, "248153007")]},
        {
            "low": {"value": 3.5, "system": UCUM, "code": "mmol/L"},
            "high": {"value": 5.0, "unit": "mmol/L"},
        },
    ]
    record = one(lab({"value": 3.4, "unit": "mEq/L"}, referenceRange=ranges), fhir_ruleset)
    assert record.reference_low == Quantity(3.5, "meq/L")


def test_reference_range_with_unreadable_unit_is_ignored(fhir_ruleset: Ruleset) -> None:
    ranges = [{"low": {"value": 3.5, "unit": "mmol per litre"}}]
    records, warnings = read(
        lab({"value": 3.4, "unit": "mmol/L"}, referenceRange=ranges), fhir_ruleset
    )
    assert [r.reference_low for r in records] == [None]
    assert warnings == ["unit 'mmol per litre' is not one Vigil can read: reference range ignored"]


def test_lab_without_value(fhir_ruleset: Ruleset) -> None:
    absent = coded("http://terminology.hl7.org/CodeSystem/data-absent-reason", "error")
    assert read(lab(None, dataAbsentReason=absent), fhir_ruleset) == (
        [],
        ["no value (dataAbsentReason error): left out"],
    )
    assert read(lab(None), fhir_ruleset) == ([], ["a potassium result without a value: left out"])


def test_string_value_is_not_read(fhir_ruleset: Ruleset) -> None:
    assert read(lab(None, valueString="3.1 mmol/L"), fhir_ruleset) == (
        [],
        ["a value of type String is not read for potassium: left out"],
    )


def test_lab_result_needs_a_quantity(fhir_ruleset: Ruleset) -> None:
    positive = lab(None, valueCodeableConcept=coded(SCT, "52101004"))
    assert read(positive, fhir_ruleset) == (
        [],
        ["a value of type CodeableConcept is not read for potassium: left out"],
    )
    assert read(lab(None, valueBoolean=True), fhir_ruleset)[0] == []


def test_finding_with_a_string_value_or_no_data_is_left_out(fhir_ruleset: Ruleset) -> None:
    assert read(finding(valueString="yes"), fhir_ruleset) == (
        [],
        ["a value of type String is not read for fasciculation: left out"],
    )
    unknown = coded("http://terminology.hl7.org/CodeSystem/data-absent-reason", "asked-unknown")
    assert read(finding(dataAbsentReason=unknown), fhir_ruleset) == (
        [],
        ["no value (dataAbsentReason asked-unknown): left out"],
    )


def test_scores_and_grades(fhir_ruleset: Ruleset) -> None:
    grade = observation(coded(LOCAL_SYSTEM, "mrc-grade"), valueInteger=4)
    assert one(grade, fhir_ruleset).value == 4
    gad7 = observation(
        coded(LOINC, "70274-6"), valueQuantity={"value": 12, "system": UCUM, "code": "{score}"}
    )
    assert one(gad7, fhir_ruleset).value == 12.0
    wrong = observation(coded(LOINC, "70274-6"), valueQuantity={"value": 12, "unit": "mmol/L"})
    assert read(wrong, fhir_ruleset) == (
        [],
        ["gad7 is a number but the value is in mmol/L: left out"],
    )


@pytest.mark.parametrize("unit", ["%", "10*3", "[ppm]"])
def test_a_score_in_a_fraction_of_one_is_left_out_not_guessed(
    fhir_ruleset: Ruleset, unit: str
) -> None:
    # 12 % is neither the score 12 nor one to read as 0.12
    gad7 = observation(
        coded(LOINC, "70274-6"), valueQuantity={"value": 12, "system": UCUM, "code": unit}
    )
    assert read(gad7, fhir_ruleset) == (
        [],
        [f"gad7 is a number but the value is in {unit}: left out"],
    )


@pytest.mark.parametrize(
    ("code", "warning"),
    [
        ("umol/mL", None),
        ("kPa", "kPa (pressure) cannot be converted to mmol/L for potassium: value left out"),
        (
            "10*9/L",
            "10*9/L (number concentration) cannot be converted to mmol/L for potassium:"
            " value left out",
        ),
    ],
)
def test_any_ucum_unit_is_read_and_converted_only_within_its_dimension(
    fhir_ruleset: Ruleset, code: str, warning: str | None
) -> None:
    records, warnings = read(lab({"value": 3.1, "system": UCUM, "code": code}), fhir_ruleset)
    if warning is None:
        assert ([r.value for r in records], warnings) == ([Quantity(3.1, code)], [])
    else:
        assert (records, warnings) == ([], [warning])


def weakness(**fields: Any) -> dict[str, Any]:
    return observation(coded(SCT, "26544005"), **fields)


@pytest.mark.parametrize(
    ("fields", "kind"),
    [
        ({"valueInteger": 0}, "Integer"),
        ({"valueInteger": 1}, "Integer"),
        ({"valueInteger": 0, "interpretation": [NEG]}, "Integer"),
        ({"valueQuantity": {"value": 0}}, "Quantity"),
        ({"valueQuantity": {"value": 2, "system": UCUM, "code": "{score}"}}, "Quantity"),
    ],
)
def test_a_number_for_a_presence_finding_is_left_out(
    fhir_ruleset: Ruleset, fields: dict[str, Any], kind: str
) -> None:
    assert read(weakness(**fields), fhir_ruleset) == (
        [],
        [f"a value{kind} does not say whether weakness is present or absent: left out"],
    )


def test_a_grade_or_score_is_a_number_only_where_a_rule_compares_it(
    fhir_ruleset: Ruleset,
) -> None:
    grade = observation(coded(LOCAL_SYSTEM, "mrc-grade"), valueInteger=5)
    assert one(grade, fhir_ruleset).value == 5
    uncompared = dataclasses.replace(fhir_ruleset, rules=())
    assert read(grade, uncompared) == (
        [],
        ["a valueInteger does not say whether mrc grade is present or absent: left out"],
    )


def test_caffeine_integer_without_unit_is_left_out(fhir_ruleset: Ruleset) -> None:
    caffeine = observation(coded(LOCAL_SYSTEM, "caffeine-intake"), valueInteger=500)
    assert read(caffeine, fhir_ruleset) == (
        [],
        ["an integer value for caffeine has no unit (mg/d expected)"],
    )


# Cramps: presence with a duration


def cramp(**fields: Any) -> dict[str, Any]:
    return observation(coded(SCT, "449918009"), **fields)


def test_cramp_duration_as_value_quantity_is_present(fhir_ruleset: Ruleset) -> None:
    record = one(cramp(valueQuantity={"value": 15, "system": UCUM, "code": "min"}), fhir_ruleset)
    assert (record.concept, record.present, record.value) == ("cramp", True, Quantity(15, "min"))


def test_cramp_duration_as_a_component(fhir_ruleset: Ruleset) -> None:
    components = [
        {
            "code": coded(SCT, "272391002"),
            "valueQuantity": {"value": 7, "system": UCUM, "code": "{score}"},
        },
        {"code": coded(LOINC, "103335-7"), "valueQuantity": {"value": 0.25, "unit": "hours"}},
    ]
    record = one(cramp(component=components), fhir_ruleset)
    assert (record.present, record.value) == (True, Quantity(0.25, "h"))
    assert one(cramp(valueBoolean=True, component=components), fhir_ruleset).value == Quantity(
        0.25, "h"
    )


def test_two_duration_components_are_ambiguous(fhir_ruleset: Ruleset) -> None:
    durations = [{"code": {"text": t}, "valueQuantity": {"value": 5, "unit": "min"}} for t in "ab"]
    records, warnings = read(cramp(component=durations), fhir_ruleset)
    assert [(r.present, r.value) for r in records] == [(True, None)]
    assert warnings == ["2 components could be the cramp value; none used"]


# Times


@pytest.mark.parametrize(
    ("fields", "time", "end"),
    [
        ({"effectiveDateTime": "2024-03-01"}, datetime(2024, 3, 1, tzinfo=UTC), None),
        ({"effectiveDateTime": "2024-03-01T10:00:00+01:00"}, AT, None),
        ({"effectiveInstant": "2024-03-01T09:00:00Z"}, AT, None),
        (
            {"effectivePeriod": {"start": WHEN, "end": "2024-03-02T09:00:00Z"}},
            AT,
            datetime(2024, 3, 2, 9, tzinfo=UTC),
        ),
    ],
)
def test_effective_times(
    fhir_ruleset: Ruleset, fields: dict[str, Any], time: datetime, end: datetime | None
) -> None:
    record = one(finding(**{"effectiveDateTime": None, **fields}), fhir_ruleset)
    assert (record.time, record.end) == (time, end)
    assert record.time is not None and record.time.tzinfo is not None


@pytest.mark.parametrize(
    ("fields", "time", "expected"),
    [
        (
            {"effectiveDateTime": "2024-03"},
            datetime(2024, 3, 1, tzinfo=UTC),
            "effectiveDateTime '2024-03' gives only a month: read as its start, 2024-03-01, "
            "so whether it is current is uncertain",
        ),
        (
            {"effectivePeriod": {"start": "2024"}},
            datetime(2024, 1, 1, tzinfo=UTC),
            "effectivePeriod.start '2024' gives only a year: read as its start, 2024-01-01, "
            "so whether it is current is uncertain",
        ),
    ],
)
def test_a_partial_date_is_read_as_its_start_with_a_warning(
    fhir_ruleset: Ruleset, fields: dict[str, Any], time: datetime, expected: str
) -> None:
    records, warnings = read(finding(**{"effectiveDateTime": None, **fields}), fhir_ruleset)
    assert [r.time for r in records] == [time]
    assert warnings == [expected]


def test_missing_effective_time_warns(fhir_ruleset: Ruleset) -> None:
    records, warnings = read(finding(effectiveDateTime=None), fhir_ruleset)
    assert [r.time for r in records] == [None]
    assert warnings == ["no effective[x]: time unknown"]


# Conditions


def test_active_condition_is_present_and_ongoing(fhir_ruleset: Ruleset) -> None:
    record = one(condition(bodySite=[coded(SCT, "53840002")]), fhir_ruleset)
    assert (record.concept, record.source, record.present, record.ongoing) == (
        "fasciculation",
        "Condition/c1",
        True,
        True,
    )
    assert (record.time, record.end, record.site) == (datetime(2024, 2, 1, tzinfo=UTC), None, CALF)


@pytest.mark.parametrize("code", ["active", "recurrence", "relapse"])
def test_abated_active_condition_is_not_ongoing(fhir_ruleset: Ruleset, code: str) -> None:
    record = one(
        condition(clinicalStatus=status(code), abatementDateTime="2024-02-20"), fhir_ruleset
    )
    # a date-only abatement, like a Period's end, covers its whole day
    assert (record.present, record.ongoing, record.end) == (
        True,
        False,
        datetime(2024, 2, 21, tzinfo=UTC) - timedelta(microseconds=1),
    )


@pytest.mark.parametrize("code", ["resolved", "inactive", "remission"])
def test_a_condition_that_is_over_is_not_a_present_finding(
    fhir_ruleset: Ruleset, code: str
) -> None:
    # clinical-spec.md: Conditions count with clinicalStatus active, recurrence or relapse only
    resolved = condition(clinicalStatus=status(code), abatementPeriod={"start": "2024-02-20"})
    assert read(resolved, fhir_ruleset) == (
        [],
        [f"clinicalStatus {code!r}: a condition that is over is not a present finding"],
    )


def test_verification_status(fhir_ruleset: Ruleset) -> None:
    refuted = one(
        condition(clinicalStatus=None, verificationStatus=status("refuted", "verification")),
        fhir_ruleset,
    )
    assert (refuted.present, refuted.ongoing) == (False, False)
    provisional = one(
        condition(verificationStatus=status("provisional", "verification")), fhir_ruleset
    )
    assert (provisional.present, provisional.preliminary) == (True, True)
    erroneous = condition(
        clinicalStatus=None, verificationStatus=status("entered-in-error", "verification")
    )
    assert read(erroneous, fhir_ruleset) == ([], ["verificationStatus 'entered-in-error': ignored"])


def test_condition_onset_forms(fhir_ruleset: Ruleset) -> None:
    period = one(condition(onsetDateTime=None, onsetPeriod={"start": "2024-01-01"}), fhir_ruleset)
    assert period.time == datetime(2024, 1, 1, tzinfo=UTC)
    records, warnings = read(condition(onsetDateTime=None, onsetString="last winter"), fhir_ruleset)
    assert [r.time for r in records] == [None]
    assert warnings == ["onsetString is not read: onset unknown"]


def test_a_condition_coded_as_two_concepts_is_left_out(fhir_ruleset: Ruleset) -> None:
    code = {"coding": [{"system": SCT, "code": "82470000"}, {"system": SCT, "code": "55300003"}]}
    assert read(condition(code=code), fhir_ruleset) == (
        [],
        ["code has codings of different concepts (fasciculation, cramp): left out"],
    )


def test_a_condition_whose_onset_period_ends_before_it_starts_is_left_out(
    fhir_ruleset: Ruleset,
) -> None:
    onset = {"start": "2024-02-01", "end": "2024-01-01"}
    assert read(condition(onsetDateTime=None, onsetPeriod=onset), fhir_ruleset) == (
        [],
        ["onsetPeriod ends (2024-01-01) before it starts (2024-02-01): left out"],
    )


def test_condition_at_two_body_sites_gives_a_record_per_site(fhir_ruleset: Ruleset) -> None:
    sites = [coded(SCT, "53840002"), coded(SCT, "21974007"), coded(SCT, "53840002")]
    records, _ = read(condition(bodySite=sites), fhir_ruleset)
    assert [r.site for r in records] == [CALF, f"{SCT}#21974007"]


# Periods read at both ends (found by a review of the day's fixes)


def test_a_period_with_only_an_end_is_placed_at_the_end_s_first_moment(
    fhir_ruleset: Ruleset,
) -> None:
    period = {"end": "2026-02-27"}
    record = one(
        lab(
            {"value": 2.1, "system": UCUM, "code": "mmol/L"},
            effectiveDateTime=None,
            effectivePeriod=period,
        ),
        fhir_ruleset,
    )
    assert record.time == datetime(2026, 2, 27, tzinfo=UTC)
    assert record.end == datetime(2026, 2, 27, 23, 59, 59, 999999, tzinfo=UTC)


@pytest.mark.parametrize("end", ["9999-12-31", "9999", "9999-12"])
def test_an_open_end_written_as_year_9999_is_read(fhir_ruleset: Ruleset, end: str) -> None:
    period = {"start": "2026-02-26", "end": end}
    records, _ = read(
        lab(
            {"value": 2.1, "system": UCUM, "code": "mmol/L"},
            effectiveDateTime=None,
            effectivePeriod=period,
        ),
        fhir_ruleset,
    )
    assert [r.end for r in records] == [datetime.max.replace(tzinfo=UTC)]


def test_two_dates_that_contradict_each_other_get_no_offset_slack(fhir_ruleset: Ruleset) -> None:
    period = {"start": "2024-02-01", "end": "2024-01-31"}
    assert read(
        lab(
            {"value": 2.1, "system": UCUM, "code": "mmol/L"},
            effectiveDateTime=None,
            effectivePeriod=period,
        ),
        fhir_ruleset,
    ) == (
        [],
        ["effectivePeriod ends (2024-01-31) before it starts (2024-02-01): left out"],
    )


def test_a_component_whose_unit_text_and_code_disagree_is_left_out_with_a_warning(
    fhir_ruleset: Ruleset,
) -> None:
    duration = {"value": 15, "unit": "hours", "code": "min"}  # no system
    records, warnings = read(
        cramp(component=[{"code": coded(LOINC, "103335-7"), "valueQuantity": duration}]),
        fhir_ruleset,
    )
    assert [r.value for r in records] == [None]
    assert warnings == [
        "unit 'hours' and unit code 'min' (without a system) name different units:"
        " component value left out"
    ]


@pytest.mark.parametrize("text", [" ", "{total}"])
def test_blank_or_annotation_unit_text_claims_no_unit(fhir_ruleset: Ruleset, text: str) -> None:
    assert one(lab({"value": 2.1, "unit": text, "code": "mmol/L"}), fhir_ruleset).value == (
        Quantity(2.1, "mmol/L")
    )


def test_an_open_end_against_a_date_time_start_is_read(fhir_ruleset: Ruleset) -> None:
    period = {"start": "2026-02-26T10:00:00Z", "end": "9999-12-31"}
    value = {"value": 2.1, "system": UCUM, "code": "mmol/L"}
    records, _ = read(lab(value, effectiveDateTime=None, effectivePeriod=period), fhir_ruleset)
    assert [r.end for r in records] == [datetime.max.replace(tzinfo=UTC)]


def test_a_code_without_system_beside_unit_text_vigil_cannot_read_is_read_with_a_warning(
    fhir_ruleset: Ruleset,
) -> None:
    records, warnings = read(lab({"value": 2.1, "unit": "mM", "code": "mmol/L"}), fhir_ruleset)
    assert [r.value for r in records] == [Quantity(2.1, "mmol/L")]
    assert warnings == [
        "value unit 'mM' is not one Vigil reads; its unit code 'mmol/L' (without a system) is"
        " read as UCUM (mmol/L)"
    ]


def test_an_annotation_unit_text_beside_a_ucum_code_is_no_disagreement(
    fhir_ruleset: Ruleset,
) -> None:
    value = {"value": 2.1, "unit": "{total}", "system": UCUM, "code": "mmol/L"}
    assert one(lab(value), fhir_ruleset).value == Quantity(2.1, "mmol/L")


@pytest.mark.parametrize(
    "period",
    [
        {"start": "0001-01-01", "end": "2026-02-28T10:00:00Z"},
        {"start": "0001-01-01T00:00:00Z", "end": "2026-02-28"},
        {"start": "2026-02-26T10:00:00Z", "end": "9999-12-31"},
    ],
)
def test_periods_at_the_ends_of_the_calendar_are_read(
    fhir_ruleset: Ruleset, period: dict[str, str]
) -> None:
    value = {"value": 2.1, "system": UCUM, "code": "mmol/L"}
    records, _ = read(lab(value, effectiveDateTime=None, effectivePeriod=period), fhir_ruleset)
    assert len(records) == 1


@pytest.mark.parametrize(
    ("fields", "date_only"),
    [
        ({"effectiveDateTime": "2026-02-27"}, True),
        ({"effectiveDateTime": "2026-02"}, True),
        ({"effectiveDateTime": "2026-02-27T10:00:00+11:00"}, False),
        ({"effectiveInstant": "2026-02-27T10:00:00Z"}, False),
        ({"effectivePeriod": {"start": "2026-02-27", "end": "2026-02-28T10:00:00Z"}}, True),
        ({"effectivePeriod": {"start": "2026-02-27T10:00:00Z", "end": "2026-02-28"}}, False),
        ({"effectivePeriod": {"end": "2026-02-28"}}, True),
    ],
)
def test_a_time_read_from_a_date_says_so(
    fhir_ruleset: Ruleset, fields: dict[str, Any], date_only: bool
) -> None:
    # a date states no offset: the engine allows for it against the evaluation time
    records, _ = read(finding(**{"effectiveDateTime": None, **fields}), fhir_ruleset)
    assert [r.date_only for r in records] == [date_only]


@pytest.mark.parametrize(
    ("fields", "date_only"),
    [
        ({"onsetDateTime": "2026-02-27"}, True),
        ({"onsetDateTime": "2026-02-27T10:00:00Z"}, False),
        ({"onsetDateTime": None, "onsetPeriod": {"start": "2026-02-27"}}, True),
    ],
)
def test_a_condition_onset_read_from_a_date_says_so(
    fhir_ruleset: Ruleset, fields: dict[str, Any], date_only: bool
) -> None:
    assert one(condition(**fields), fhir_ruleset).date_only is date_only


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"onsetDateTime": "2024-02-20", "abatementDateTime": "2024-01-01"},
            "abatementDateTime (2024-01-01) is before onsetDateTime (2024-02-20): left out",
        ),
        (
            {
                "onsetDateTime": "2024-02-20T10:00:00Z",
                "abatementPeriod": {"start": "2024-02-19T09:00:00+01:00"},
            },
            "abatementPeriod.start (2024-02-19T09:00:00+01:00) is before onsetDateTime"
            " (2024-02-20T10:00:00+00:00): left out",
        ),
        (
            {"onsetDateTime": None, "onsetPeriod": {"end": "2024-03"}, "abatementDateTime": "2023"},
            "abatementDateTime (2023) is before onsetPeriod.end (2024-03): left out",
        ),
        (  # 2024-02-20 has ended everywhere by 12:00 UTC the next day (-12:00 is the westmost)
            {"onsetDateTime": "2024-02-21T13:00:00Z", "abatementDateTime": "2024-02-20"},
            "abatementDateTime (2024-02-20) is before onsetDateTime (2024-02-21T13:00:00+00:00):"
            " left out",
        ),
    ],
)
def test_a_condition_that_abated_before_its_onset_is_left_out(
    fhir_ruleset: Ruleset, fields: dict[str, Any], expected: str
) -> None:
    # as a Period that ends before it starts: the condition cannot be placed in time
    records, warnings = read(condition(**fields), fhir_ruleset)
    assert records == []
    assert expected in warnings


@pytest.mark.parametrize(
    "fields",
    [
        {"onsetDateTime": "2024-02-20", "abatementDateTime": "2024-02-20"},
        {"onsetDateTime": "2024-02-20T23:00:00-12:00", "abatementDateTime": "2024-02-20"},
        {"onsetDateTime": "2024-02-20", "abatementDateTime": "2024-02-19T12:00:00Z"},
        {"onsetDateTime": "0001-01-01T00:00:00Z", "abatementDateTime": "9999-12-31"},
    ],
)
def test_an_abatement_a_date_s_offset_may_place_after_the_onset_is_read(
    fhir_ruleset: Ruleset, fields: dict[str, Any]
) -> None:
    assert len(read(condition(**fields), fhir_ruleset)[0]) == 1


def test_a_period_that_starts_after_its_end_date_has_ended_everywhere_is_left_out(
    fhir_ruleset: Ruleset,
) -> None:
    # a date ends at most 12 hours after its last moment UTC: -12:00 is the westmost offset
    period = {"start": "2024-02-21T13:00:00Z", "end": "2024-02-20"}
    records, warnings = read(finding(effectiveDateTime=None, effectivePeriod=period), fhir_ruleset)
    assert records == []
    assert warnings == [
        "effectivePeriod ends (2024-02-20) before it starts (2024-02-21T13:00:00+00:00): left out"
    ]
